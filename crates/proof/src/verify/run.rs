//! The verification itself: screen, align, classify, witness, account, judge.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use super::align::{self, AnyDigest, ChainTarget, Packets, Piece, Segment, Shapes};
use super::ends::{self, Ends};
use super::screen::{Screened, Screener};
use super::timeline::Timeline;
use super::witness::{self, Impossible};
use super::*;
use crate::chain::ChainState;
use crate::error::VerifyError;
use crate::log::LogContents;
use crate::records::{Checkpoint, Signed, StartRecord};

/// Verifies recordings against a set of evidence logs.
#[derive(Debug, Default)]
pub struct Verifier {
    logs: Vec<(String, LogContents)>,
    options: VerifyOptions,
}

/// Where a chunk stands, before witnessing is looked at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Place {
    Found,
    Altered,
    Removed,
    Moved(u64),
    NotCovered,
    Damaged,
    Outside,
}

/// One chunk index as the verifier sees it.
#[derive(Clone, Debug)]
pub(super) struct Row {
    pub(super) first_sample: u64,
    pub(super) samples: u32,
    pub(super) found_at: Option<u64>,
    pub(super) place: Place,
    /// Its checkpoint's hash, when a log holds it.
    pub(super) hash: Option<Digest>,
    /// Its chain value (signed, or reconstructed from the audio when proven).
    pub(super) chain: Digest,
    pub(super) proven: bool,
    /// The chain links this chunk to the previous index.
    pub(super) linked: bool,
}

/// Everything gathered while classifying, before the verdict.
pub(super) struct Work<'a> {
    pub(super) start: &'a StartRecord,
    pub(super) producer: PublicKey,
    pub(super) rows: BTreeMap<u64, Row>,
    pub(super) regions: Vec<FileRegion>,
    pub(super) findings: Vec<Finding>,
    /// Where each packet of the recording ends ([`packet_ends`]).
    pub(super) ends: Vec<u64>,
    /// Packets of the file itself among those aligned (SPEC §9.5, excerpt mode).
    pub(super) real: Range<usize>,
}

impl Verifier {
    pub fn new(options: VerifyOptions) -> Verifier {
        Verifier { logs: Vec::new(), options }
    }

    /// Adds one parsed evidence log; `name` is how findings refer to it (e.g. its path).
    pub fn add_log(&mut self, name: impl Into<String>, contents: LogContents) {
        self.logs.push((name.into(), contents));
    }

    /// Produces the report for `recording`. Errors only when no report is possible
    /// (no session in the evidence, or the producer is not one of its parties).
    pub fn verify(&self, file: &Recording<'_>) -> Result<Report, VerifyError> {
        let mut s = Screener { logs: &self.logs, findings: Vec::new(), checked: 0 };
        s.torn_tails();
        let start = s.session(file.session)?;
        let producer = file.producer;
        if !start.is_party(&producer) {
            return Err(VerifyError::ProducerNotParty(producer.to_hex()));
        }
        let timeline = Timeline::new(file)?;
        let recording = &timeline.recording(file);
        let excerpt = self.options.excerpt || timeline.placed;
        let ev = s.screen(start, producer);
        let mut w = Work {
            start: &ev.start,
            producer,
            rows: BTreeMap::new(),
            regions: Vec::new(),
            findings: s.findings,
            ends: packet_ends(recording),
            real: timeline.real.clone(),
        };
        expectations(&ev.start, &self.options.expect, &mut w.findings);
        let primary = primary_versions(&ev, producer, &mut w.findings);
        let ends = ends::sort_out(&ev.start, producer, &ev.ends, &mut w.findings);
        let at = Placing { hashes: &timeline.hashes, base: timeline.base, excerpt };
        w.place_chunks(&primary, &ev, &at, recording, &ends);
        if timeline.placed {
            w.check_place(&primary, recording, timeline.base);
        }
        w.check_lengths(recording, &primary);
        w.mark_damaged(recording);
        let mut impossible = Impossible::default();
        let witnessed = w.witness(&ev, &mut impossible);
        w.findings.extend(impossible.into_findings());
        w.capture_gaps(&ev, self.options.live_threshold_ms);
        let ours: HashMap<Digest, &Signed<Checkpoint>> =
            ev.versions.values().flat_map(|v| v.iter().map(|(h, c)| (*h, *c))).collect();
        let mut checked = ev.checked;
        let clock_offsets = witness::clock_offsets(
            ev.start.parties.iter().map(|p| p.key).filter(|k| *k != producer),
            &ours,
            &ev.receipts,
            &ev.peer_checkpoints,
            &ev.producer_receipts,
            &mut checked,
        );
        w.playback(file);
        let completeness = w.completeness(&ends, &witnessed, excerpt);
        if !excerpt {
            w.file_hash(recording, &ends);
        }
        let facts = excerpt.then(|| w.excerpt_facts(recording, timeline.placed));
        let mut report = w.report(
            &ends,
            witnessed,
            completeness,
            clock_offsets,
            checked,
            self.options.live_threshold_ms,
        );
        report.excerpt = facts;
        Ok(report)
    }
}

/// `--expect`: every expected fingerprint must be a party's.
fn expectations(start: &StartRecord, expect: &[ExpectedParty], findings: &mut Vec<Finding>) {
    let norm = |s: &str| {
        s.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_lowercase()
    };
    for e in expect {
        let want = norm(&e.fingerprint);
        if !start.parties.iter().any(|p| norm(&p.key.fingerprint().to_string()) == want) {
            findings.push(Finding::UnexpectedParty {
                label: e.label.clone(),
                expected: e.fingerprint.clone(),
            });
        }
    }
}

/// Per index, the version alignment uses: one another party's receipt covers (directly
/// or through the chain of a later receipted version), else the first by hash.
fn primary_versions<'a>(
    ev: &Screened<'a>,
    producer: PublicKey,
    findings: &mut Vec<Finding>,
) -> BTreeMap<u64, (Digest, &'a Signed<Checkpoint>)> {
    let mut out: BTreeMap<u64, (Digest, &Signed<Checkpoint>)> = BTreeMap::new();
    let mut covered_next: Option<(u64, Digest, Digest)> = None; // (index, digest, chain)
    for (index, versions) in ev.versions.iter().rev() {
        if versions.len() > 1 {
            findings.push(Finding::Equivocation {
                index: *index,
                versions: versions.len(),
                signer: producer,
            });
        }
        let receipted = |h: &Digest| ev.receipts.contains_key(h);
        let implied = |cp: &Signed<Checkpoint>| {
            covered_next.is_some_and(|(i, d, c)| {
                Some(i) == index.checked_add(1) && ChainState::step(&cp.body.chain, &d) == c
            })
        };
        let pick = versions
            .iter()
            .find(|(h, _)| receipted(h))
            .or_else(|| versions.iter().find(|(_, cp)| implied(cp)))
            .unwrap_or(&versions[0]);
        covered_next = (receipted(&pick.0) || implied(pick.1)).then_some((
            *index,
            pick.1.body.digest,
            pick.1.body.chain,
        ));
        out.insert(*index, *pick);
    }
    out
}

/// Where each packet ends: the next packet's start or the end of the audio, unless a
/// damaged stretch of the file begins between them (SPEC §9.5).
pub(super) fn packet_ends(recording: &Recording<'_>) -> Vec<u64> {
    let p = recording.packets;
    let mut ends: Vec<u64> = p.iter().skip(1).map(|x| x.position).collect();
    if !p.is_empty() {
        ends.push(audio_end(recording));
    }
    for d in recording.damaged {
        // The packet before the damage ends where it begins.
        let k = p.partition_point(|x| x.position < d.first_sample);
        if let Some(k) = k.checked_sub(1)
            && d.first_sample < ends[k]
        {
            ends[k] = d.first_sample;
        }
    }
    ends
}

/// Where the packets `r` end (for an empty range, where the next one starts).
pub(super) fn end_of(r: &Range<usize>, recording: &Recording<'_>, ends: &[u64]) -> u64 {
    match r.end.checked_sub(1).filter(|_| !r.is_empty()) {
        Some(last) => ends.get(last).copied().unwrap_or(0),
        None => recording.packets.get(r.start).map_or_else(|| audio_end(recording), |p| p.position),
    }
}

/// Samples the packets `r` of the recording last.
fn span(recording: &Recording<'_>, ends: &[u64], r: &Range<usize>) -> u32 {
    let start = recording.packets.get(r.start).map_or(0, |p| p.position);
    let samples = end_of(r, recording, ends).saturating_sub(start);
    u32::try_from(samples).unwrap_or(u32::MAX)
}

pub(super) fn audio_end(recording: &Recording<'_>) -> u64 {
    recording.playback.map(|p| p.audio_end).unwrap_or_else(|| {
        let p = recording.packets;
        match p {
            [] => 0,
            [only] => only.position.saturating_add(960),
            [.., a, b] => b.position.saturating_add(b.position.saturating_sub(a.position)),
        }
    })
}

impl Work<'_> {
    /// A region of the file's own packets among `r` (SPEC §9.5: in excerpt mode, cut to
    /// them); an `edge` a chunk long or more is `inserted`.
    fn region(&mut self, recording: &Recording<'_>, r: Range<usize>, kind: RegionKind) {
        let r = r.start.max(self.real.start)..r.end.min(self.real.end);
        if r.is_empty() {
            return;
        }
        let start_sample = recording.packets.get(r.start).map_or(0, |p| p.position);
        let end_sample = end_of(&r, recording, &self.ends).max(start_sample);
        let long = end_sample - start_sample >= u64::from(self.start.audio.chunk_samples);
        let kind = if kind == RegionKind::Edge && long { RegionKind::Inserted } else { kind };
        self.regions.push(FileRegion {
            first_packet: (r.start - self.real.start) as u64,
            packets: r.len() as u64,
            start_sample,
            end_sample,
            kind,
        });
    }

    fn row_of(cp: &Checkpoint, hash: Digest, found_at: Option<u64>, place: Place) -> Row {
        Row {
            first_sample: cp.first_sample,
            samples: cp.samples,
            found_at,
            place,
            hash: Some(hash),
            chain: cp.chain,
            proven: false,
            linked: false,
        }
    }

    /// SPEC §9.4–§9.5: aligns and classifies every chunk and every stretch of audio.
    fn place_chunks(
        &mut self,
        primary: &BTreeMap<u64, (Digest, &Signed<Checkpoint>)>,
        ev: &Screened<'_>,
        at: &Placing<'_>,
        recording: &Recording<'_>,
        ends: &Ends,
    ) {
        let Placing { hashes, base, excerpt } = *at;
        // On an excerpt's timeline, packet `j` is the recording's `base + j` (SPEC §9.5).
        let translated: Vec<Checkpoint> = primary
            .values()
            .map(|(_, cp)| Checkpoint {
                first_packet: cp.body.first_packet.checked_sub(base).unwrap_or(u64::MAX),
                ..cp.body
            })
            .collect();
        let expected: Vec<&Checkpoint> = translated.iter().collect();
        let keys: Vec<u64> = primary.keys().copied().collect();
        let chunk_samples = self.start.audio.chunk_samples;
        let starts: Vec<u64> = recording.packets.iter().map(|p| p.position).collect();
        let pk = Packets { hashes, starts, ends: self.ends.clone() };
        let segments = align::align(&pk, &expected, chunk_samples);
        let mut any: AnyDigest = HashMap::new();
        for (index, versions) in &ev.versions {
            for (h, cp) in versions {
                let is_primary = primary.get(index).is_some_and(|(ph, _)| ph == h);
                any.entry((cp.body.digest, cp.body.packet_count))
                    .or_default()
                    .push((*index, is_primary));
            }
        }
        for v in any.values_mut() {
            v.sort_unstable();
        }
        let shapes = Shapes::new(
            ev.versions.values().flatten().map(|(_, cp)| (cp.body.packet_count, cp.body.samples)),
            chunk_samples,
        );
        for s in &segments {
            if let Segment::Match { k, at } = *s {
                let (h, cp) = primary[&keys[k]];
                self.rows.insert(keys[k], Self::row_of(&cp.body, h, Some(at as u64), Place::Found));
            }
        }
        let first_match = segments.iter().position(|s| matches!(s, Segment::Match { .. }));
        let last_match = segments.iter().rposition(|s| matches!(s, Segment::Match { .. }));
        let neighbours = |si: usize| {
            let before = segments[..si].iter().rev().find_map(|s| match s {
                Segment::Match { k, .. } => Some(keys[*k]),
                Segment::Gap { .. } => None,
            });
            let after = segments[si + 1..].iter().find_map(|s| match s {
                Segment::Match { k, .. } => Some(keys[*k]),
                Segment::Gap { .. } => None,
            });
            (before, after)
        };
        let own_end = ends.own.as_ref().map(|f| f.chunks);
        // First every committed chunk found out of place, in any gap; then what is left.
        // Audio where the evidence holds no chunk at all, though the chain has indices
        // there, may be exactly those chunks (silence repeats): it is not scanned.
        let leftovers: Vec<(Vec<Range<usize>>, bool)> = segments
            .iter()
            .enumerate()
            .map(|(si, seg)| match seg {
                Segment::Gap { chunks, packets }
                    if chunks.is_empty() && uncovered_indices(neighbours(si), own_end) =>
                {
                    (vec![packets.clone()], false)
                }
                Segment::Gap { packets, .. } => {
                    self.found_elsewhere(primary, &pk, recording, packets.clone(), &any, &shapes)
                }
                Segment::Match { .. } => (Vec::new(), false),
            })
            .collect();
        for (si, seg) in segments.iter().enumerate() {
            let Segment::Gap { chunks, packets } = seg else { continue };
            let outside = excerpt
                && (first_match.is_none_or(|f| si < f) || last_match.is_none_or(|l| si > l));
            let (before, after) = neighbours(si);
            let ctx =
                GapCtx { primary, keys: &keys, hashes, recording, ends, before, after, outside };
            self.gap(&ctx, chunks.clone(), packets.clone(), leftovers[si].clone());
        }
        // Known chunks never placed (their audio is nowhere): removed, unless moved.
        for (index, (h, cp)) in primary {
            self.rows
                .entry(*index)
                .or_insert_with(|| Self::row_of(&cp.body, *h, None, Place::Removed));
        }
        self.link(primary, ev);
    }

    /// Committed chunks in a gap's packets: moved, duplicated or re-signed. Returns the
    /// stretches nothing explains.
    fn found_elsewhere(
        &mut self,
        primary: &BTreeMap<u64, (Digest, &Signed<Checkpoint>)>,
        pk: &Packets<'_>,
        recording: &Recording<'_>,
        packets: Range<usize>,
        any: &AnyDigest,
        shapes: &Shapes,
    ) -> (Vec<Range<usize>>, bool) {
        let (mut leftover, mut resigned) = (Vec::new(), false);
        for piece in align::scan_known(pk, packets, any, shapes) {
            match piece {
                Piece::Unknown(r) => leftover.push(r),
                Piece::Known { indices, primary: false, at, len } => {
                    resigned = true;
                    self.region(recording, at..at + len, RegionKind::Resigned { of: indices[0] });
                }
                Piece::Known { indices, at, len, .. } => {
                    match indices.iter().copied().find(|i| !self.rows.contains_key(i)) {
                        Some(index) => {
                            let (h, cp) = primary[&index];
                            let row =
                                Self::row_of(&cp.body, h, Some(at as u64), Place::Moved(at as u64));
                            self.rows.insert(index, row);
                        }
                        None => self.region(
                            recording,
                            at..at + len,
                            RegionKind::Duplicate { of: indices[0] },
                        ),
                    }
                }
            }
        }
        (leftover, resigned)
    }

    fn gap(
        &mut self,
        c: &GapCtx<'_, '_>,
        chunks: Range<usize>,
        packets: Range<usize>,
        (leftover, resigned): (Vec<Range<usize>>, bool),
    ) {
        let missing: Vec<u64> =
            c.keys[chunks].iter().copied().filter(|i| !self.rows.contains_key(i)).collect();
        if c.outside {
            for &index in &missing {
                let (h, cp) = c.primary[&index];
                self.rows.insert(index, Self::row_of(&cp.body, h, None, Place::Outside));
            }
            for r in leftover {
                self.region(c.recording, r, RegionKind::Edge);
            }
            return;
        }
        if !missing.is_empty() {
            let place =
                if leftover.is_empty() && !resigned { Place::Removed } else { Place::Altered };
            for &index in &missing {
                let (h, cp) = c.primary[&index];
                self.rows.insert(index, Self::row_of(&cp.body, h, None, place));
            }
            for r in leftover {
                self.region(c.recording, r, RegionKind::Replaces { chunks: missing.clone() });
            }
            return;
        }
        match leftover.as_slice() {
            [] => {}
            [only] if *only == packets => self.unclaimed(c, packets),
            _ => {
                for r in leftover {
                    self.region(c.recording, r, RegionKind::Inserted);
                }
            }
        }
    }

    /// Audio between two known chunks with nothing known found in it: inserted when the
    /// chunks are consecutive; otherwise proven by the chain, or not covered.
    fn unclaimed(&mut self, c: &GapCtx<'_, '_>, packets: Range<usize>) {
        let lower = c.before.map_or(0, |b| b.saturating_add(1));
        let own_end = c.ends.own.as_ref().map(|f| f.chunks);
        let upper = match (c.after, own_end) {
            (Some(a), _) => a.checked_sub(1),
            (None, Some(n)) => n.checked_sub(1),
            (None, None) => {
                self.region(c.recording, packets, RegionKind::NotCovered { from: lower, to: None });
                return;
            }
        };
        let Some(upper) = upper.filter(|u| *u >= lower) else {
            self.region(c.recording, packets, RegionKind::Inserted);
            return;
        };
        let from = match c.before {
            Some(b) => self.rows[&b].chain,
            None => ChainState::genesis(self.start, &self.producer),
        };
        let target = match c.after {
            Some(a) => {
                let cp = &c.primary[&a].1.body;
                ChainTarget::Next { digest: cp.digest, chain: cp.chain }
            }
            None => ChainTarget::Last(c.ends.own.as_ref().map_or(from, |f| f.last_chain)),
        };
        let count = usize::try_from((upper - lower).saturating_add(1)).unwrap_or(usize::MAX);
        let per_chunk = self.start.audio.packets_per_chunk() as usize;
        let proven = align::prove_run(c.hashes, packets.clone(), from, count, per_chunk, &target);
        self.findings.push(Finding::EvidenceGap {
            first: lower,
            last: upper,
            proven: proven.is_some(),
        });
        let Some(run) = proven else {
            // Rows for the chunks no evidence covers, where the audio splits into them.
            let split = align::split(packets.clone(), count, per_chunk).unwrap_or_default();
            let mut first_sample = self.end_of_row(c.before);
            for (offset, r) in split.into_iter().enumerate() {
                let samples = span(c.recording, &self.ends, &r);
                self.rows.insert(
                    lower.saturating_add(offset as u64),
                    Row {
                        first_sample,
                        samples,
                        found_at: Some(r.start as u64),
                        place: Place::NotCovered,
                        hash: None,
                        chain: from,
                        proven: false,
                        linked: false,
                    },
                );
                first_sample = first_sample.saturating_add(u64::from(samples));
            }
            self.region(
                c.recording,
                packets,
                RegionKind::NotCovered { from: lower, to: Some(upper) },
            );
            return;
        };
        let mut first_sample = self.end_of_row(c.before);
        for (offset, (r, chain)) in run.into_iter().enumerate() {
            let samples = span(c.recording, &self.ends, &r);
            let row = Row {
                first_sample,
                samples,
                found_at: Some(r.start as u64),
                place: Place::Found,
                hash: None,
                chain,
                proven: true,
                linked: true,
            };
            self.rows.insert(lower.saturating_add(offset as u64), row);
            first_sample = first_sample.saturating_add(u64::from(samples));
        }
    }

    /// Where the chunk `index` ends on the recording's timeline (0 for none).
    fn end_of_row(&self, index: Option<u64>) -> u64 {
        index
            .and_then(|i| self.rows.get(&i))
            .map_or(0, |r| r.first_sample.saturating_add(u64::from(r.samples)))
    }

    /// SPEC §9.3: chain continuity and positions between consecutive known checkpoints.
    fn link(&mut self, primary: &BTreeMap<u64, (Digest, &Signed<Checkpoint>)>, _ev: &Screened<'_>) {
        let genesis = ChainState::genesis(self.start, &self.producer);
        for (index, (_, cp)) in primary {
            let b = &cp.body;
            let prev = match index.checked_sub(1) {
                None => Some((genesis, 0u64, 0u64)),
                Some(p) => primary.get(&p).map(|(_, q)| {
                    let q = &q.body;
                    (
                        q.chain,
                        q.first_packet.saturating_add(u64::from(q.packet_count)),
                        q.first_sample.saturating_add(u64::from(q.samples)),
                    )
                }),
            };
            let Some((chain, packet, sample)) = prev else { continue };
            let ok = ChainState::step(&chain, &b.digest) == b.chain
                && b.first_packet == packet
                && b.first_sample == sample;
            if ok {
                if let Some(r) = self.rows.get_mut(index) {
                    r.linked = true;
                }
            } else {
                self.findings.push(Finding::ChainBroken { index: *index, signer: self.producer });
            }
        }
        // A proven run links the known chunk after it.
        let proven: Vec<u64> = self
            .rows
            .iter()
            .filter(|(_, r)| r.proven)
            .filter_map(|(i, _)| i.checked_add(1))
            .collect();
        for i in proven {
            if let Some(r) = self.rows.get_mut(&i) {
                r.linked = true;
            }
        }
    }

    /// SPEC §9.5: a chunk whose audio is missing where the file could not be read is
    /// damaged, not removed or altered.
    fn mark_damaged(&mut self, recording: &Recording<'_>) {
        for d in recording.damaged {
            self.findings.push(Finding::DamagedFile {
                first_sample: d.first_sample,
                samples: d.samples,
                offset: d.offset,
            });
            let end = d.first_sample.saturating_add(d.samples);
            for row in self.rows.values_mut() {
                let row_end = row.first_sample.saturating_add(u64::from(row.samples));
                let overlaps = row.first_sample < end && d.first_sample < row_end;
                if overlaps && matches!(row.place, Place::Removed | Place::Altered) {
                    row.place = Place::Damaged;
                }
            }
        }
    }

    /// A chunk in place whose signed length is not its audio's.
    fn check_lengths(
        &mut self,
        recording: &Recording<'_>,
        primary: &BTreeMap<u64, (Digest, &Signed<Checkpoint>)>,
    ) {
        for (index, row) in &self.rows {
            let (Place::Found | Place::Moved(_), Some(at), false) =
                (row.place, row.found_at, row.proven)
            else {
                continue;
            };
            let Some((_, cp)) = primary.get(index) else { continue };
            let at = at as usize;
            let r = at..at + cp.body.packet_count as usize;
            let actual =
                end_of(&r, recording, &self.ends).saturating_sub(recording.packets[at].position);
            if actual != u64::from(cp.body.samples) {
                self.findings.push(Finding::SampleCountMismatch {
                    index: *index,
                    signed: u64::from(cp.body.samples),
                    actual,
                    signer: self.producer,
                });
            }
        }
    }
}

/// What the alignment works on: the timeline's packet hashes, the recording's index of
/// its first packet, and whether the file is an excerpt.
struct Placing<'a> {
    hashes: &'a [Digest],
    base: u64,
    excerpt: bool,
}

struct GapCtx<'p, 'a> {
    primary: &'p BTreeMap<u64, (Digest, &'a Signed<Checkpoint>)>,
    keys: &'p [u64],
    hashes: &'p [Digest],
    recording: &'p Recording<'p>,
    ends: &'p Ends,
    before: Option<u64>,
    after: Option<u64>,
    outside: bool,
}

/// Whether indices lie between the found chunks `before` and `after` (or after `before`
/// up to the producer's own end account, or without bound when there is none): chunks no
/// evidence given holds (SPEC §9.5).
fn uncovered_indices((before, after): (Option<u64>, Option<u64>), own_end: Option<u64>) -> bool {
    let lower = before.map_or(0, |b| b.saturating_add(1));
    match (after, own_end) {
        (Some(a), _) | (None, Some(a)) => a.checked_sub(1).is_some_and(|upper| upper >= lower),
        (None, None) => true,
    }
}
