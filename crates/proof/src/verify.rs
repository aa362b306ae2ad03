//! The verifier (SPEC §9): a recording's packets against any number of evidence logs.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::chain::{ChainState, chunk_digest, packet_hash};
use crate::error::VerifyError;
use crate::hash::Digest;
use crate::keys::PublicKey;
use crate::log::{LogContents, LogRecord};
use crate::records::{
    AudioParams, CaptureGap, Checkpoint, CoSigned, EndReason, EndRecord, PartyFinal, Receipt,
    SessionId, Signed, SignedBody, StartRecord,
};

/// One Opus packet of the recording and the sample position (48 kHz) where it starts.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Packet {
    pub position: u64,
    pub data: Vec<u8>,
}

/// What is being verified: one party's recording, as packets.
#[derive(Clone, Debug)]
pub struct Recording<'a> {
    pub packets: &'a [Packet],
    /// The party that made the recording (from its OpusTags).
    pub producer: PublicKey,
    /// The session the recording names (from its OpusTags), if known.
    pub session: Option<SessionId>,
    /// SHA-256 of the whole recording file, if the caller has the file.
    pub file_sha256: Option<Digest>,
}

/// Knobs of the verification.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    /// A chunk receipted within this delay (after correcting for the clock offset) was
    /// witnessed live; later it was witnessed late. Default 10 s.
    pub live_threshold_ms: u64,
    /// The recording is an excerpt: chunks before its first and after its last matching
    /// chunk are outside it rather than missing.
    pub excerpt: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { live_threshold_ms: 10_000, excerpt: false }
    }
}

/// What the verifier concluded about one signed chunk.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChunkStatus {
    /// Intact, and another party receipted it within the threshold.
    WitnessedLive { delay_ms: i64, witness: PublicKey },
    /// Intact, receipted by another party, but later than the threshold.
    WitnessedLate { delay_ms: i64, witness: PublicKey },
    /// Intact and signed by its producer, but no other party receipted it.
    SignedOnly,
    /// The recording holds different audio where this chunk should be.
    Altered,
    /// The chunk is signed but its audio is not in the recording.
    Missing,
    /// The chunk's audio is in the recording, intact, but at the wrong place.
    Reordered { found_at_packet: u64 },
    /// Excerpt mode: the chunk lies outside the excerpt.
    OutsideExcerpt,
}

impl ChunkStatus {
    /// Intact and witnessed live.
    pub fn is_clean(&self) -> bool {
        matches!(self, ChunkStatus::WitnessedLive { .. } | ChunkStatus::OutsideExcerpt)
    }
}

/// One signed chunk and its verdict.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ChunkReport {
    pub index: u64,
    /// Where the chunk belongs in the session's time (samples, from its checkpoint).
    pub first_sample: u64,
    pub samples: u32,
    /// Where its audio was found in the recording (packet index), if it was.
    pub found_at_packet: Option<u64>,
    #[serde(flatten)]
    pub status: ChunkStatus,
}

/// Audio in the recording that no signed chunk of this producer accounts for.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct FileRegion {
    pub first_packet: u64,
    pub packets: u64,
    /// Sample positions in the recording (from the packets' positions).
    pub start_sample: u64,
    pub end_sample: u64,
    /// The signed chunks this audio stands in place of (empty: pure insertion).
    pub replaces: Vec<u64>,
    /// The region repeats this signed chunk, which is also found elsewhere.
    pub duplicate_of: Option<u64>,
}

/// Something the evidence shows besides the per-chunk verdicts.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// A log ended in a torn record (an interrupted write), which was not used.
    LogTornTail { log: String, record: u64, offset: u64, bytes: u64 },
    /// A record's signature does not verify; the record was ignored.
    BadSignature { log: String, record: u64, offset: u64, what: String },
    /// A record is signed by a key that is not a party of the session; ignored.
    NonPartySigner { log: String, record: u64, offset: u64, signer: PublicKey },
    /// A record belongs to another session (a replay); ignored.
    ForeignSession { log: String, record: u64, offset: u64, session: SessionId },
    /// A start record that is not validly co-signed by all its parties; ignored.
    BadStart { log: String, record: u64, offset: u64, detail: String },
    /// An end record that does not verify against the session; ignored.
    BadEnd { log: String, record: u64, offset: u64, detail: String },
    /// Two different start records, both co-signed, for the same session.
    ConflictingStart,
    /// Two different valid end records.
    ConflictingEnd,
    /// The producer signed two different checkpoints for one chunk.
    Equivocation { index: u64, versions: usize },
    /// A checkpoint's chain value does not follow from the previous one.
    ChainBroken { index: u64 },
    /// No log holds checkpoints for these chunk indices.
    EvidenceGap { first: u64, last: u64 },
    /// No valid end record: the session did not end cleanly (crash, lost link).
    NoEnd,
    /// The end was signed by only some of the parties.
    OneSidedEnd { signed_by: Vec<PublicKey> },
    /// The end record's account of the producer does not match the checkpoints.
    EndMismatch { detail: String },
    /// The recording file is not the one whose hash the end record holds.
    FileHashMismatch { signed: Digest, actual: Digest },
    /// The producer signed that its input was lost here and silence was recorded in its
    /// place (a disclosed fact, not an edit): `samples` at 48 kHz from `first_sample`.
    CaptureGap { first_sample: u64, samples: u64 },
}

impl Finding {
    /// True for findings that undermine the recording or the evidence; false for facts
    /// that a clean session can have (a torn log tail, a one-sided end after a drop-out).
    pub fn is_problem(&self) -> bool {
        !matches!(
            self,
            Finding::LogTornTail { .. } | Finding::OneSidedEnd { .. } | Finding::CaptureGap { .. }
        )
    }
}

/// A session party as the report shows it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PartyFacts {
    pub key: PublicKey,
    pub fingerprint: String,
    pub name: String,
}

/// How the session ended, from the best valid end record.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct EndFacts {
    pub ended_by: PublicKey,
    pub reason: EndReason,
    pub ended_at_ms: u64,
    pub signed_by: Vec<PublicKey>,
    pub one_sided: bool,
}

/// Offset of another party's wall clock relative to the producer's.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ClockOffset {
    pub peer: PublicKey,
    /// Peer clock minus producer clock, ms.
    pub offset_ms: i64,
    /// `two_way` when both directions' receipts were available (NTP-style estimate),
    /// `one_way` when only the producer's checkpoints were receipted (assumes the
    /// fastest receipt took no time).
    pub method: &'static str,
}

/// The facts of the session.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SessionFacts {
    pub session: SessionId,
    pub parties: Vec<PartyFacts>,
    pub producer: PublicKey,
    pub audio: AudioParams,
    pub started_at_ms: u64,
    pub end: Option<EndFacts>,
    pub clock_offsets: Vec<ClockOffset>,
}

/// Counts of chunks by verdict.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct Totals {
    pub chunks: u64,
    pub witnessed_live: u64,
    pub witnessed_late: u64,
    pub signed_only: u64,
    pub altered: u64,
    pub missing: u64,
    pub reordered: u64,
    pub outside_excerpt: u64,
    /// Regions of unsigned audio in the recording.
    pub inserted_regions: u64,
    pub inserted_samples: u64,
    pub signatures_checked: u64,
}

/// Overall verdict.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every chunk intact and witnessed live, nothing inserted, no problem found.
    Intact,
    /// Something is altered, inserted, missing, unwitnessed, or the evidence is doubtful.
    Problems,
}

/// The verifier's full answer.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub session: SessionFacts,
    pub chunks: Vec<ChunkReport>,
    /// Audio in the recording not accounted for by a signed chunk in place.
    pub inserted: Vec<FileRegion>,
    pub findings: Vec<Finding>,
    pub totals: Totals,
}

/// Verifies recordings against a set of evidence logs.
#[derive(Debug, Default)]
pub struct Verifier {
    logs: Vec<(String, LogContents)>,
    options: VerifyOptions,
}

/// A record and where it came from.
#[derive(Clone, Copy)]
struct Origin {
    log: usize,
    record: u64,
    offset: u64,
}

impl Verifier {
    pub fn new(options: VerifyOptions) -> Verifier {
        Verifier { logs: Vec::new(), options }
    }

    /// Adds one parsed evidence log; `name` is how findings refer to it (e.g. its path).
    pub fn add_log(&mut self, name: impl Into<String>, contents: LogContents) {
        self.logs.push((name.into(), contents));
    }

    fn origin_fields(&self, o: Origin) -> (String, u64, u64) {
        (self.logs[o.log].0.clone(), o.record, o.offset)
    }

    fn entries(&self) -> impl Iterator<Item = (Origin, &LogRecord)> {
        self.logs.iter().enumerate().flat_map(|(li, (_, c))| {
            c.entries
                .iter()
                .map(move |e| (Origin { log: li, record: e.record, offset: e.offset }, &e.value))
        })
    }

    /// Produces the report for `recording`. Errors only when no report is possible
    /// (no session in the evidence, or the producer is not one of its parties).
    pub fn verify(&self, recording: &Recording<'_>) -> Result<Report, VerifyError> {
        let mut findings = Vec::new();
        let mut checked = 0u64;
        for (name, c) in &self.logs {
            if let Some(t) = c.torn_tail {
                findings.push(Finding::LogTornTail {
                    log: name.clone(),
                    record: t.record,
                    offset: t.offset,
                    bytes: t.bytes,
                });
            }
        }

        let start = self.pick_session(recording.session, &mut findings, &mut checked)?;
        let session = start.session;
        let producer = recording.producer;
        if !start.is_party(&producer) {
            return Err(VerifyError::ProducerNotParty(producer.to_hex()));
        }

        // Checkpoints: screen cheaply, then check signatures of the producer's, once each.
        let mut ours: Vec<(Origin, &Signed<Checkpoint>)> = Vec::new();
        let mut others: Vec<(Origin, &Signed<Checkpoint>)> = Vec::new();
        let mut receipts: Vec<(Origin, &Signed<Receipt>)> = Vec::new();
        let mut ends: Vec<(Origin, &CoSigned<EndRecord>)> = Vec::new();
        let mut gaps: Vec<(Origin, &Signed<CaptureGap>)> = Vec::new();
        for (o, rec) in self.entries() {
            let (log, record, offset) = self.origin_fields(o);
            match rec {
                LogRecord::Start(_) => {}
                LogRecord::Checkpoint(cp) => {
                    if cp.body.session != session {
                        findings.push(Finding::ForeignSession {
                            log,
                            record,
                            offset,
                            session: cp.body.session,
                        });
                    } else if !start.is_party(&cp.signer) {
                        findings.push(Finding::NonPartySigner {
                            log,
                            record,
                            offset,
                            signer: cp.signer,
                        });
                    } else if cp.signer == producer {
                        ours.push((o, cp));
                    } else {
                        others.push((o, cp));
                    }
                }
                LogRecord::Receipt(r) => {
                    if !start.is_party(&r.signer) {
                        findings.push(Finding::NonPartySigner {
                            log,
                            record,
                            offset,
                            signer: r.signer,
                        });
                    } else {
                        receipts.push((o, r));
                    }
                }
                LogRecord::End(e) => {
                    if e.record.session != session {
                        findings.push(Finding::ForeignSession {
                            log,
                            record,
                            offset,
                            session: e.record.session,
                        });
                    } else {
                        ends.push((o, e));
                    }
                }
                // Only the producer can say its own input was lost.
                LogRecord::Gap(g) if g.body.session == session && g.signer == producer => {
                    gaps.push((o, g));
                }
                LogRecord::Gap(_) => {}
            }
        }
        let mut gap_findings: Vec<Finding> = self
            .check_signatures(gaps, "capture gap", &mut findings, &mut checked)
            .into_iter()
            .map(|g| Finding::CaptureGap {
                first_sample: g.body.first_sample,
                samples: g.body.samples,
            })
            .collect();
        gap_findings.sort_by_key(|f| match *f {
            Finding::CaptureGap { first_sample, .. } => first_sample,
            _ => 0,
        });
        gap_findings.dedup();
        findings.extend(gap_findings);

        let ours = self.check_signatures(ours, "checkpoint", &mut findings, &mut checked);
        // index -> distinct valid checkpoints (hash, checkpoint)
        let mut by_index: BTreeMap<u64, Vec<(Digest, Signed<Checkpoint>)>> = BTreeMap::new();
        let ours_hashed: Vec<(Digest, &Signed<Checkpoint>)> =
            ours.par_iter().map(|cp| (cp.hash(), *cp)).collect();
        for (h, cp) in ours_hashed {
            let v = by_index.entry(cp.body.index).or_default();
            if !v.iter().any(|(vh, _)| *vh == h) {
                v.push((h, *cp));
            }
        }
        let hash_to_index: HashMap<Digest, u64> =
            by_index.iter().flat_map(|(i, v)| v.iter().map(move |(h, _)| (*h, *i))).collect();

        // Receipts of other parties for the producer's checkpoints.
        let relevant: Vec<(Origin, &Signed<Receipt>)> = receipts
            .iter()
            .filter(|(_, r)| r.signer != producer && hash_to_index.contains_key(&r.body.checkpoint))
            .copied()
            .collect();
        let relevant = self.check_signatures(relevant, "receipt", &mut findings, &mut checked);

        let clock_offsets = self.clock_offsets(
            &start,
            producer,
            &by_index,
            &relevant,
            &others,
            &receipts,
            &mut checked,
        );

        // Earliest receipt per (checkpoint hash) and witness, corrected for clock offsets.
        let offset_of: HashMap<PublicKey, i64> =
            clock_offsets.iter().map(|c| (c.peer, c.offset_ms)).collect();
        let mut witnessed: HashMap<Digest, (i64, PublicKey)> = HashMap::new();
        for r in &relevant {
            let Some(&index) = hash_to_index.get(&r.body.checkpoint) else { continue };
            let Some(cp) =
                by_index.get(&index).and_then(|v| v.iter().find(|(h, _)| *h == r.body.checkpoint))
            else {
                continue;
            };
            let raw = r.body.time.wall_ms as i64 - cp.1.body.time.wall_ms as i64;
            let delay = raw - offset_of.get(&r.signer).copied().unwrap_or(0);
            let e = witnessed.entry(r.body.checkpoint).or_insert((delay, r.signer));
            if delay < e.0 {
                *e = (delay, r.signer);
            }
        }

        // The primary checkpoint per index: a witnessed one if there is one.
        let mut primary: BTreeMap<u64, Signed<Checkpoint>> = BTreeMap::new();
        for (index, v) in &by_index {
            if v.len() > 1 {
                findings.push(Finding::Equivocation { index: *index, versions: v.len() });
            }
            let pick = v.iter().find(|(h, _)| witnessed.contains_key(h)).unwrap_or(&v[0]);
            primary.insert(*index, pick.1);
        }

        chain_findings(&start, producer, &primary, &mut findings);
        let end = self.end_facts(
            &start,
            producer,
            &primary,
            recording,
            ends,
            &mut findings,
            &mut checked,
        );

        // Align the recording with the signed chunks.
        let hashes: Vec<Digest> =
            recording.packets.par_iter().map(|p| packet_hash(&p.data)).collect();
        let expected: Vec<&Signed<Checkpoint>> = primary.values().collect();
        let mut any_digest: HashMap<(Digest, u32), Vec<u64>> = HashMap::new();
        for v in by_index.values() {
            for (_, cp) in v {
                any_digest
                    .entry((cp.body.digest, cp.body.packet_count))
                    .or_default()
                    .push(cp.body.index);
            }
        }
        let segments = align(&hashes, &expected, &any_digest);

        let mut statuses: BTreeMap<u64, (ChunkStatus, Option<u64>)> = BTreeMap::new();
        let mut inserted = Vec::new();
        let matched: HashSet<u64> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Match { index, .. } => Some(*index),
                Segment::Gap { .. } => None,
            })
            .collect();
        // Signed chunks found intact inside each gap's packets, and the unknown audio.
        let gap_pieces: Vec<Vec<Piece>> = segments
            .iter()
            .map(|s| match s {
                Segment::Gap { packets, .. } => scan_known(&hashes, packets.clone(), &any_digest),
                Segment::Match { .. } => Vec::new(),
            })
            .collect();
        let first_match = segments.iter().position(|s| matches!(s, Segment::Match { .. }));
        let last_match = segments.iter().rposition(|s| matches!(s, Segment::Match { .. }));
        for (si, seg) in segments.iter().enumerate() {
            match seg {
                Segment::Match { index, at } => {
                    let cp = &primary[index];
                    let status = match witnessed.get(&cp.hash()) {
                        Some(&(delay_ms, witness))
                            if delay_ms <= self.options.live_threshold_ms as i64 =>
                        {
                            ChunkStatus::WitnessedLive { delay_ms, witness }
                        }
                        Some(&(delay_ms, witness)) => {
                            ChunkStatus::WitnessedLate { delay_ms, witness }
                        }
                        None => ChunkStatus::SignedOnly,
                    };
                    statuses.insert(*index, (status, Some(*at)));
                }
                Segment::Gap { chunks, .. } => {
                    let outside = self.options.excerpt
                        && (first_match.is_none_or(|f| si < f)
                            || last_match.is_none_or(|l| si > l));
                    let mut leftover: Vec<std::ops::Range<usize>> = Vec::new();
                    for piece in &gap_pieces[si] {
                        match *piece {
                            Piece::Known { index, at, len } => {
                                if matched.contains(&index) || statuses.contains_key(&index) {
                                    inserted.push(region(
                                        recording,
                                        at..at + len,
                                        Vec::new(),
                                        Some(index),
                                    ));
                                } else {
                                    statuses.insert(
                                        index,
                                        (
                                            ChunkStatus::Reordered { found_at_packet: at as u64 },
                                            Some(at as u64),
                                        ),
                                    );
                                }
                            }
                            Piece::Unknown(ref r) => leftover.push(r.clone()),
                        }
                    }
                    let missing: Vec<u64> =
                        expected[chunks.clone()].iter().map(|cp| cp.body.index).collect();
                    let replaced = !leftover.is_empty() && !missing.is_empty() && !outside;
                    for &index in &missing {
                        let status = if outside {
                            ChunkStatus::OutsideExcerpt
                        } else if replaced {
                            ChunkStatus::Altered
                        } else {
                            ChunkStatus::Missing
                        };
                        statuses.entry(index).or_insert((status, None));
                    }
                    for r in leftover {
                        let replaces = if replaced { missing.clone() } else { Vec::new() };
                        inserted.push(region(recording, r, replaces, None));
                    }
                }
            }
        }
        // A chunk first marked missing may have turned up later as reordered.
        for pieces in &gap_pieces {
            for piece in pieces {
                if let Piece::Known { index, at, .. } = *piece
                    && matches!(statuses.get(&index), Some((ChunkStatus::Missing, _)))
                {
                    statuses.insert(
                        index,
                        (ChunkStatus::Reordered { found_at_packet: at as u64 }, Some(at as u64)),
                    );
                    inserted.retain(|r| {
                        !(r.first_packet == at as u64 && r.duplicate_of == Some(index))
                    });
                }
            }
        }
        inserted.sort_by_key(|r| r.first_packet);

        let chunks: Vec<ChunkReport> = primary
            .values()
            .map(|cp| {
                let (status, found) =
                    statuses.get(&cp.body.index).copied().unwrap_or((ChunkStatus::Missing, None));
                ChunkReport {
                    index: cp.body.index,
                    first_sample: cp.body.first_sample,
                    samples: cp.body.samples,
                    found_at_packet: found,
                    status,
                }
            })
            .collect();

        let mut totals = Totals {
            chunks: chunks.len() as u64,
            signatures_checked: checked,
            ..Totals::default()
        };
        for c in &chunks {
            match c.status {
                ChunkStatus::WitnessedLive { .. } => totals.witnessed_live += 1,
                ChunkStatus::WitnessedLate { .. } => totals.witnessed_late += 1,
                ChunkStatus::SignedOnly => totals.signed_only += 1,
                ChunkStatus::Altered => totals.altered += 1,
                ChunkStatus::Missing => totals.missing += 1,
                ChunkStatus::Reordered { .. } => totals.reordered += 1,
                ChunkStatus::OutsideExcerpt => totals.outside_excerpt += 1,
            }
        }
        totals.inserted_regions = inserted.len() as u64;
        totals.inserted_samples = inserted.iter().map(|r| r.end_sample - r.start_sample).sum();

        let clean = !chunks.is_empty()
            && chunks.iter().all(|c| c.status.is_clean())
            && inserted.is_empty()
            && !findings.iter().any(Finding::is_problem);
        let facts = SessionFacts {
            session,
            parties: start
                .parties
                .iter()
                .map(|p| PartyFacts {
                    key: p.key,
                    fingerprint: p.key.fingerprint().to_string(),
                    name: p.name.clone(),
                })
                .collect(),
            producer,
            audio: start.audio,
            started_at_ms: start.started_at_ms,
            end,
            clock_offsets,
        };
        Ok(Report {
            verdict: if clean { Verdict::Intact } else { Verdict::Problems },
            session: facts,
            chunks,
            inserted,
            findings,
            totals,
        })
    }

    /// The session: the validly co-signed start records, grouped by session id.
    fn pick_session(
        &self,
        wanted: Option<SessionId>,
        findings: &mut Vec<Finding>,
        checked: &mut u64,
    ) -> Result<StartRecord, VerifyError> {
        let mut seen: HashMap<Vec<u8>, bool> = HashMap::new();
        let mut valid: BTreeMap<SessionId, Vec<StartRecord>> = BTreeMap::new();
        for (o, rec) in self.entries() {
            let LogRecord::Start(s) = rec else { continue };
            let key = crate::codec::encode(s);
            if seen.contains_key(&key) {
                continue;
            }
            *checked += s.signatures.len() as u64;
            let result = s.verify();
            seen.insert(key, result.is_ok());
            match result {
                Ok(()) => {
                    let v = valid.entry(s.record.session).or_default();
                    if !v.contains(&s.record) {
                        v.push(s.record.clone());
                    }
                }
                Err(e) => {
                    let (log, record, offset) = self.origin_fields(o);
                    findings.push(Finding::BadStart { log, record, offset, detail: e.to_string() });
                }
            }
        }
        let chosen = match wanted {
            Some(id) => valid.remove(&id).ok_or(VerifyError::SessionNotFound(id.to_hex()))?,
            None => {
                if valid.len() > 1 {
                    return Err(VerifyError::AmbiguousSession(valid.len()));
                }
                valid.into_values().next().ok_or(VerifyError::NoSession)?
            }
        };
        if chosen.len() > 1 {
            findings.push(Finding::ConflictingStart);
        }
        chosen.into_iter().next().ok_or(VerifyError::NoSession)
    }

    /// Checks signatures of distinct records on both cores; reports the bad ones.
    fn check_signatures<'a, T: SignedBody + PartialEq>(
        &self,
        items: Vec<(Origin, &'a Signed<T>)>,
        what: &str,
        findings: &mut Vec<Finding>,
        checked: &mut u64,
    ) -> Vec<&'a Signed<T>> {
        // The same record is often in both parties' logs: check it once.
        let mut unique: Vec<(Origin, &'a Signed<T>)> = Vec::with_capacity(items.len());
        let mut seen: HashMap<[u8; 64], usize> = HashMap::with_capacity(items.len());
        for (o, s) in items {
            match seen.get(&s.signature.0) {
                Some(&i) if unique[i].1 == s => {}
                _ => {
                    seen.insert(s.signature.0, unique.len());
                    unique.push((o, s));
                }
            }
        }
        *checked += unique.len() as u64;
        let ok = Signed::verify_refs(&unique.iter().map(|(_, s)| *s).collect::<Vec<_>>());
        let mut good = Vec::with_capacity(unique.len());
        for ((o, s), ok) in unique.into_iter().zip(ok) {
            if ok {
                good.push(s);
            } else {
                let (log, record, offset) = self.origin_fields(o);
                findings.push(Finding::BadSignature {
                    log,
                    record,
                    offset,
                    what: format!("{what} claiming signer {}", s.signer.fingerprint()),
                });
            }
        }
        good
    }

    /// Estimates each other party's clock offset from the fastest receipts each way.
    #[allow(clippy::too_many_arguments)]
    fn clock_offsets(
        &self,
        start: &StartRecord,
        producer: PublicKey,
        by_index: &BTreeMap<u64, Vec<(Digest, Signed<Checkpoint>)>>,
        receipts_for_ours: &[&Signed<Receipt>],
        others: &[(Origin, &Signed<Checkpoint>)],
        all_receipts: &[(Origin, &Signed<Receipt>)],
        checked: &mut u64,
    ) -> Vec<ClockOffset> {
        let our_time: HashMap<Digest, u64> = by_index
            .values()
            .flat_map(|v| v.iter().map(|(h, cp)| (*h, cp.body.time.wall_ms)))
            .collect();
        let mut out = Vec::new();
        for peer in start.parties.iter().map(|p| p.key).filter(|k| *k != producer) {
            // Producer -> peer: all these receipts are already verified.
            let forward = receipts_for_ours
                .iter()
                .filter(|r| r.signer == peer)
                .filter_map(|r| {
                    Some(r.body.time.wall_ms as i64 - *our_time.get(&r.body.checkpoint)? as i64)
                })
                .min();
            let Some(forward) = forward else { continue };
            // Peer -> producer: candidates by delay, verified lazily until one holds.
            // Both logs usually hold the same checkpoints: hash each once.
            let mut distinct: Vec<&Signed<Checkpoint>> =
                others.iter().filter(|(_, cp)| cp.signer == peer).map(|(_, cp)| *cp).collect();
            distinct.sort_unstable_by_key(|cp| (cp.body.index, cp.signature.0));
            distinct.dedup();
            let theirs: HashMap<Digest, &Signed<Checkpoint>> =
                distinct.par_iter().map(|cp| (cp.hash(), *cp)).collect();
            let mut backward: Vec<(i64, &Signed<Checkpoint>, &Signed<Receipt>)> = all_receipts
                .iter()
                .filter(|(_, r)| r.signer == producer)
                .filter_map(|(_, r)| {
                    let cp = theirs.get(&r.body.checkpoint)?;
                    Some((r.body.time.wall_ms as i64 - cp.body.time.wall_ms as i64, *cp, *r))
                })
                .collect();
            backward.sort_by_key(|(d, _, _)| *d);
            let mut back = None;
            for (d, cp, r) in backward {
                *checked += 2;
                if cp.verify() && r.verify() {
                    back = Some(d);
                    break;
                }
            }
            out.push(match back {
                Some(back) => {
                    ClockOffset { peer, offset_ms: (forward - back) / 2, method: "two_way" }
                }
                None => ClockOffset { peer, offset_ms: forward, method: "one_way" },
            });
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn end_facts(
        &self,
        start: &StartRecord,
        producer: PublicKey,
        primary: &BTreeMap<u64, Signed<Checkpoint>>,
        recording: &Recording<'_>,
        ends: Vec<(Origin, &CoSigned<EndRecord>)>,
        findings: &mut Vec<Finding>,
        checked: &mut u64,
    ) -> Option<EndFacts> {
        let mut valid: Vec<&CoSigned<EndRecord>> = Vec::new();
        for (o, e) in ends {
            if valid.contains(&e) {
                continue;
            }
            *checked += e.signatures.len() as u64;
            match e.verify(start) {
                Ok(()) => valid.push(e),
                Err(err) => {
                    let (log, record, offset) = self.origin_fields(o);
                    findings.push(Finding::BadEnd { log, record, offset, detail: err.to_string() });
                }
            }
        }
        if valid.is_empty() {
            findings.push(Finding::NoEnd);
            return None;
        }
        // Each party may sign an end giving its own account (its `PartyFinal`). Use the one
        // that accounts for this recording's producer, signed by the most parties; two
        // different accounts of the producer are a disagreement.
        let accounts =
            |e: &CoSigned<EndRecord>| e.record.finals.iter().any(|f| f.party == producer);
        valid.sort_by_key(|e| {
            (std::cmp::Reverse(accounts(e)), std::cmp::Reverse(e.signatures.len()))
        });
        let best = valid[0];
        let producer_final =
            |e: &CoSigned<EndRecord>| e.record.finals.iter().find(|f| f.party == producer).cloned();
        let mine = producer_final(best);
        if valid.iter().any(|e| producer_final(e).is_some_and(|f| Some(&f) != mine.as_ref())) {
            findings.push(Finding::ConflictingEnd);
        }
        let signed_by: Vec<PublicKey> = best.signatures.iter().map(|s| s.signer).collect();
        let one_sided = signed_by.len() < start.parties.len();
        if one_sided {
            findings.push(Finding::OneSidedEnd { signed_by: signed_by.clone() });
        }
        if let Some(f) = best.record.finals.iter().find(|f| f.party == producer) {
            end_matches(start, producer, f, primary, recording, findings);
        }
        Some(EndFacts {
            ended_by: best.record.ended_by,
            reason: best.record.reason,
            ended_at_ms: best.record.ended_at_ms,
            signed_by,
            one_sided,
        })
    }
}

fn end_matches(
    start: &StartRecord,
    producer: PublicKey,
    f: &PartyFinal,
    primary: &BTreeMap<u64, Signed<Checkpoint>>,
    recording: &Recording<'_>,
    findings: &mut Vec<Finding>,
) {
    let last_known = primary.keys().next_back().map_or(0, |i| i + 1);
    if f.chunks != last_known {
        findings.push(Finding::EndMismatch {
            detail: format!(
                "the end record says {} chunks, the evidence holds checkpoints up to {}",
                f.chunks, last_known
            ),
        });
    } else {
        let chain = match f.chunks.checked_sub(1) {
            None => Some(ChainState::genesis(start, &producer)),
            Some(last) => primary.get(&last).map(|cp| cp.body.chain),
        };
        if chain.is_some_and(|c| c != f.last_chain) {
            findings.push(Finding::EndMismatch {
                detail: "the end record's last chain value differs from the last checkpoint's"
                    .into(),
            });
        }
    }
    if let (Some(signed), Some(actual)) = (f.recording_sha256, recording.file_sha256)
        && signed != actual
    {
        findings.push(Finding::FileHashMismatch { signed, actual });
    }
}

/// Chain continuity between consecutive checkpoints, and indices no log holds.
fn chain_findings(
    start: &StartRecord,
    producer: PublicKey,
    primary: &BTreeMap<u64, Signed<Checkpoint>>,
    findings: &mut Vec<Finding>,
) {
    let mut prev: Option<(u64, Digest)> = Some((u64::MAX, ChainState::genesis(start, &producer)));
    let mut expect_next = 0u64;
    for (index, cp) in primary {
        if *index > expect_next {
            findings.push(Finding::EvidenceGap { first: expect_next, last: index - 1 });
        }
        if let Some((p, c)) = prev {
            let follows = p.wrapping_add(1) == *index;
            if follows && ChainState::step(&c, &cp.body.digest) != cp.body.chain {
                findings.push(Finding::ChainBroken { index: *index });
            }
        }
        prev = Some((*index, cp.body.chain));
        expect_next = index + 1;
    }
}

/// A stretch of the alignment between the recording and the signed chunks.
#[derive(Debug)]
enum Segment {
    /// Signed chunk `index` found at packet `at`.
    Match { index: u64, at: u64 },
    /// Signed chunks (positions in the expected list) with no audio, and packets with no
    /// signed chunk, between two matches.
    Gap { chunks: std::ops::Range<usize>, packets: std::ops::Range<usize> },
}

fn window(hashes: &[Digest], at: usize, len: u32) -> Option<Digest> {
    let end = at.checked_add(len as usize)?;
    hashes.get(at..end).map(chunk_digest)
}

/// Walks the recording in order, matching each expected chunk where it should be and,
/// after a mismatch, sliding one packet at a time to where a later chunk reappears.
fn align(
    hashes: &[Digest],
    expected: &[&Signed<Checkpoint>],
    any_digest: &HashMap<(Digest, u32), Vec<u64>>,
) -> Vec<Segment> {
    let pos_of: HashMap<u64, usize> =
        expected.iter().enumerate().map(|(k, cp)| (cp.body.index, k)).collect();
    let mut lens: Vec<u32> =
        expected.iter().map(|cp| cp.body.packet_count).filter(|&n| n > 0).collect();
    lens.sort_unstable();
    lens.dedup();
    // Where nothing was edited each chunk sits where its checkpoint says: hash those
    // windows on all cores up front.
    let at_claim: Vec<Option<Digest>> = expected
        .par_iter()
        .map(|cp| {
            let at = usize::try_from(cp.body.first_packet).ok()?;
            window(hashes, at, cp.body.packet_count)
        })
        .collect();
    let mut out = Vec::new();
    let (mut p, mut i) = (0usize, 0usize);
    while i < expected.len() {
        let cp = &expected[i].body;
        let here = if p as u64 == cp.first_packet {
            at_claim[i]
        } else {
            window(hashes, p, cp.packet_count)
        };
        if here == Some(cp.digest) {
            out.push(Segment::Match { index: cp.index, at: p as u64 });
            p += cp.packet_count as usize;
            i += 1;
            continue;
        }
        // Slide: the first packet q >= p where some expected chunk k >= i begins.
        let mut found = None;
        'scan: for q in p..hashes.len() {
            for &n in &lens {
                let Some(d) = window(hashes, q, n) else { continue };
                let candidate = any_digest.get(&(d, n)).and_then(|indices| {
                    indices
                        .iter()
                        .filter_map(|ix| pos_of.get(ix).copied())
                        .filter(|&k| k >= i && expected[k].body.digest == d)
                        .min()
                });
                if let Some(k) = candidate {
                    found = Some((q, k));
                    break 'scan;
                }
            }
        }
        match found {
            Some((q, k)) => {
                out.push(Segment::Gap { chunks: i..k, packets: p..q });
                out.push(Segment::Match { index: expected[k].body.index, at: q as u64 });
                p = q + expected[k].body.packet_count as usize;
                i = k + 1;
            }
            None => {
                out.push(Segment::Gap { chunks: i..expected.len(), packets: p..hashes.len() });
                p = hashes.len();
                i = expected.len();
            }
        }
    }
    if p < hashes.len() {
        out.push(Segment::Gap { chunks: expected.len()..expected.len(), packets: p..hashes.len() });
    }
    out
}

enum Piece {
    Known { index: u64, at: usize, len: usize },
    Unknown(std::ops::Range<usize>),
}

/// Splits unmatched packets into signed chunks found out of place and unknown audio.
fn scan_known(
    hashes: &[Digest],
    packets: std::ops::Range<usize>,
    any_digest: &HashMap<(Digest, u32), Vec<u64>>,
) -> Vec<Piece> {
    let mut lens: Vec<u32> = any_digest.keys().map(|(_, n)| *n).filter(|&n| n > 0).collect();
    lens.sort_unstable();
    lens.dedup();
    let mut out = Vec::new();
    let mut unknown_from = packets.start;
    let mut q = packets.start;
    while q < packets.end {
        let hit = lens.iter().find_map(|&n| {
            if q + n as usize > packets.end {
                return None;
            }
            let d = window(hashes, q, n)?;
            any_digest.get(&(d, n)).and_then(|v| v.first().map(|&ix| (ix, n as usize)))
        });
        match hit {
            Some((index, len)) => {
                if unknown_from < q {
                    out.push(Piece::Unknown(unknown_from..q));
                }
                out.push(Piece::Known { index, at: q, len });
                q += len;
                unknown_from = q;
            }
            None => q += 1,
        }
    }
    if unknown_from < packets.end {
        out.push(Piece::Unknown(unknown_from..packets.end));
    }
    out
}

fn region(
    recording: &Recording<'_>,
    r: std::ops::Range<usize>,
    replaces: Vec<u64>,
    duplicate_of: Option<u64>,
) -> FileRegion {
    let p = recording.packets;
    let start_sample = p.get(r.start).map_or(0, |x| x.position);
    // The end is where the next packet starts; for the last packet, one frame later.
    let end_sample = match p.get(r.end) {
        Some(next) => next.position,
        None => p.last().map_or(start_sample, |last| {
            let frame = if p.len() > 1 { last.position - p[p.len() - 2].position } else { 960 };
            last.position + frame
        }),
    };
    FileRegion {
        first_packet: r.start as u64,
        packets: (r.end - r.start) as u64,
        start_sample,
        end_sample: end_sample.max(start_sample),
        replaces,
        duplicate_of,
    }
}
