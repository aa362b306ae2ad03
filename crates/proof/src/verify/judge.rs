//! SPEC §9.6–§9.9: witnessing, capture gaps, playback, completeness and the verdict.

use std::collections::BTreeSet;

use super::ends::Ends;
use super::run::{Place, Work, audio_end};
use super::screen::Screened;
use super::witness::{self, Impossible, samples_ms};
use super::*;

/// The end of a chunk's audio on the recording's timeline, ms.
fn end_ms(first_sample: u64, samples: u32) -> u64 {
    samples_ms(first_sample.saturating_add(u64::from(samples)))
}

/// dualrec's encoder look-ahead is 312 samples; a pre-skip above one 20 ms packet hides
/// audio a player would otherwise play.
const MAX_PRE_SKIP: u16 = 960;

impl Work<'_> {
    /// SPEC §9.6: per chunk, the earliest believable receipt by another party of its own
    /// checkpoint or of a later one the chain links it to, measured on that party's clock.
    pub(super) fn witness(
        &mut self,
        ev: &Screened<'_>,
        impossible: &mut Impossible,
    ) -> std::collections::BTreeMap<u64, Witnessed> {
        let mut out = std::collections::BTreeMap::new();
        // Later receipts carried down: (receipt ms, witness, via index).
        let mut carry: Option<(u64, PublicKey, u64)> = None;
        let mut next_linked = false;
        let mut next_index: Option<u64> = None;
        for (index, row) in self.rows.iter().rev() {
            if !(next_linked && next_index == index.checked_add(1)) {
                carry = None;
            }
            let own_end = end_ms(row.first_sample, row.samples);
            let direct = row
                .hash
                .and_then(|h| ev.receipts.get(&h))
                .and_then(|rs| witness::earliest(rs, *index, own_end, impossible));
            if let Some(d) = direct {
                let ms = (i128::from(own_end) + i128::from(d.delay_ms)) as u64;
                if carry.is_none_or(|(c, _, _)| ms <= c) {
                    carry = Some((ms, d.witness, *index));
                }
            }
            if row.place == Place::NotCovered {
                carry = None;
            }
            if let Some((ms, witness, via_index)) = carry {
                let delay = (i128::from(ms) - i128::from(own_end))
                    .clamp(i128::from(i64::MIN), i128::from(i64::MAX))
                    as i64;
                out.insert(*index, Witnessed { witness, delay_ms: delay, via_index });
            }
            next_linked = row.linked;
            next_index = Some(*index);
        }
        out
    }

    /// SPEC §9.7: the producer's statements of lost input.
    pub(super) fn capture_gaps(&mut self, ev: &Screened<'_>, threshold_ms: u64) {
        let mut gaps: Vec<Finding> = ev
            .gaps
            .iter()
            .map(|g| {
                let b = &g.body;
                let gap_end = samples_ms(b.first_sample.saturating_add(b.samples));
                Finding::CaptureGap {
                    first_sample: b.first_sample,
                    samples: b.samples,
                    stated_at_ms: b.time.mono_ms,
                    late: b.time.mono_ms > gap_end.saturating_add(threshold_ms),
                }
            })
            .collect();
        gaps.sort_by_key(|f| match f {
            Finding::CaptureGap { first_sample, samples, stated_at_ms, .. } => {
                (*first_sample, *samples, *stated_at_ms)
            }
            _ => (0, 0, 0),
        });
        gaps.dedup_by_key(|f| match f {
            Finding::CaptureGap { first_sample, samples, .. } => (*first_sample, *samples),
            _ => (0, 0),
        });
        self.findings.extend(gaps);
    }

    /// SPEC §9.8: the container fields that change what a listener hears.
    pub(super) fn playback(&mut self, recording: &Recording<'_>) {
        let Some(pb) = recording.playback else { return };
        let mut altered = |field: &str, committed: i64, found: i64| {
            self.findings.push(Finding::PlaybackAltered { field: field.into(), committed, found });
        };
        let channels = self.start.audio.channels;
        if pb.channels != channels {
            altered("channels", channels.into(), pb.channels.into());
        }
        if pb.output_gain != 0 {
            altered("output_gain", 0, pb.output_gain.into());
        }
        if pb.pre_skip > MAX_PRE_SKIP {
            altered("pre_skip", MAX_PRE_SKIP.into(), pb.pre_skip.into());
        }
        if let Some(g) = pb.final_granule {
            let end = audio_end(recording);
            let frame = u64::from(self.start.audio.frame_samples);
            let trimmed = i128::from(end) - i128::from(g);
            if g < u64::from(pb.pre_skip) || !(0..i128::from(frame)).contains(&trimmed) {
                let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                altered("final_granule", clamp(end), clamp(g));
            }
        }
    }

    /// SPEC §9.3: the file's hash against the one the producer signed at the end.
    pub(super) fn file_hash(&mut self, recording: &Recording<'_>, ends: &Ends) {
        let (Some(actual), Some(f)) = (recording.file_sha256, ends.own.as_ref()) else { return };
        let Some(signed) = f.recording_sha256 else { return };
        if signed == actual {
            return;
        }
        let mut signers = vec![self.producer];
        if let Some((_, others)) = &ends.cosigned {
            signers.extend(others.iter().copied());
        }
        let audio_exact = self.regions.is_empty()
            && self.rows.values().all(|r| r.place == Place::Found)
            && !self.findings.iter().any(|f| matches!(f, Finding::PlaybackAltered { .. }));
        self.findings.push(if audio_exact {
            Finding::ContainerRewritten { signed, actual, signers }
        } else {
            Finding::FileHashMismatch { signed, actual, signers }
        });
    }

    /// SPEC §9.9 (completeness): rests on another party's co-signed end or receipts.
    pub(super) fn completeness(
        &mut self,
        ends: &Ends,
        witnessed: &std::collections::BTreeMap<u64, Witnessed>,
        excerpt: bool,
    ) -> Axis {
        let through = witnessed.keys().next_back().copied();
        let axis =
            |state, holds, rests_on| Axis { holds, state, rests_on, witnessed_through: through };
        if excerpt {
            return axis(AxisState::NotEstablished, true, Vec::new());
        }
        if ends.disputed {
            return axis(AxisState::Disputed, false, Vec::new());
        }
        // A chunk whose committed audio is not in the file (cut, or replaced).
        let removed_upto = |n: u64| {
            self.rows.range(..n).any(|(_, r)| matches!(r.place, Place::Removed | Place::Altered))
        };
        let Some((f, others)) = &ends.cosigned else {
            let witnesses: BTreeSet<PublicKey> = witnessed.values().map(|w| w.witness).collect();
            let cut = through.is_some_and(|t| removed_upto(t.saturating_add(1)));
            let state = if cut { AxisState::Incomplete } else { AxisState::NotEstablished };
            return axis(state, false, witnesses.into_iter().collect());
        };
        let n = f.chunks;
        let last_known = self.rows.keys().next_back().copied();
        let mut detail = None;
        if last_known.is_some_and(|l| l >= n) {
            detail = Some(format!(
                "the end counts {n} chunks; checkpoints exist up to chunk {}",
                last_known.unwrap_or(0)
            ));
        } else if last_known.map_or(0, |l| l.saturating_add(1)) < n {
            detail = Some(format!(
                "the end counts {n} chunks; the file and the evidence hold {}",
                last_known.map_or(0, |l| l.saturating_add(1))
            ));
        } else if let Some(last) = n.checked_sub(1)
            && self.rows.get(&last).is_some_and(|r| r.chain != f.last_chain)
        {
            detail = Some("the end's last chain value is not the last chunk's".into());
        }
        let all_present = (0..n).all(|i| {
            self.rows.get(&i).is_some_and(|r| matches!(r.place, Place::Found | Place::Moved(_)))
        });
        let mut signers = vec![self.producer];
        signers.extend(others.iter().copied());
        let incomplete = detail.is_some() || removed_upto(n);
        if let Some(detail) = detail {
            self.findings.push(Finding::EndMismatch { detail, signers: signers.clone() });
        }
        let state = if incomplete {
            AxisState::Incomplete
        } else if all_present {
            AxisState::Complete
        } else {
            AxisState::NotEstablished
        };
        axis(state, state == AxisState::Complete, others.clone())
    }

    pub(super) fn report(
        mut self,
        ends: &Ends,
        witnessed: std::collections::BTreeMap<u64, Witnessed>,
        completeness: Axis,
        clock_offsets: Vec<ClockOffset>,
        checked: u64,
        threshold_ms: u64,
    ) -> Report {
        let mut chunks = Vec::with_capacity(self.rows.len());
        let mut totals = Totals { signatures_checked: checked, ..Totals::default() };
        for (index, row) in &self.rows {
            let status = match row.place {
                Place::Found => match witnessed.get(index) {
                    Some(w) if w.delay_ms <= i64::try_from(threshold_ms).unwrap_or(i64::MAX) => {
                        ChunkStatus::WitnessedLive(*w)
                    }
                    Some(w) => ChunkStatus::WitnessedLate(*w),
                    None => ChunkStatus::SignedOnly,
                },
                Place::Altered => ChunkStatus::Altered,
                Place::Removed => ChunkStatus::Removed,
                Place::Moved(at) => ChunkStatus::Moved { found_at_packet: self.local(at) },
                Place::NotCovered => ChunkStatus::NotCovered,
                Place::Damaged => ChunkStatus::Damaged,
                Place::Outside => ChunkStatus::OutsideExcerpt,
            };
            count(&mut totals, &status, row.proven);
            chunks.push(ChunkReport {
                index: *index,
                first_sample: row.first_sample,
                samples: row.samples,
                found_at_packet: row.found_at.map(|at| self.local(at)),
                proven_by_chain: row.proven,
                status,
            });
        }
        self.regions.sort_by_key(|r| r.first_packet);
        totals.regions = self.regions.len() as u64;
        let axes = Axes {
            integrity: self.integrity(&chunks),
            witnessing: witnessing(&chunks, &self.findings),
            completeness,
        };
        let clean = axes.integrity.holds
            && axes.witnessing.holds
            && axes.completeness.holds
            && !self.findings.iter().any(Finding::is_problem);
        let start = self.start;
        let session = SessionFacts {
            session: start.session,
            parties: start
                .parties
                .iter()
                .map(|p| PartyFacts {
                    key: p.key,
                    fingerprint: p.key.fingerprint().to_string(),
                    name: p.name.clone(),
                })
                .collect(),
            producer: self.producer,
            audio: start.audio,
            started_at_ms: start.started_at_ms,
            ends: ends.facts.clone(),
            ended_by: ends.ended_by,
            clock_offsets,
        };
        Report {
            schema: REPORT_SCHEMA,
            verdict: if clean { Verdict::Intact } else { Verdict::Problems },
            axes,
            session,
            chunks,
            regions: self.regions,
            findings: self.findings,
            totals,
            excerpt: None,
        }
    }

    /// A timeline packet index as the file's own (SPEC §9.5: 0 for one in HEAD).
    fn local(&self, at: u64) -> u64 {
        at.saturating_sub(self.real.start as u64)
    }

    fn integrity(&self, chunks: &[ChunkReport]) -> Axis {
        let conflicting = self.findings.iter().any(|f| {
            matches!(
                f,
                Finding::Equivocation { .. }
                    | Finding::ChainBroken { .. }
                    | Finding::SampleCountMismatch { .. }
                    | Finding::ExcerptMisplaced { .. }
            )
        });
        let edited = conflicting
            || chunks.iter().any(|c| {
                matches!(
                    c.status,
                    ChunkStatus::Altered | ChunkStatus::Removed | ChunkStatus::Moved { .. }
                )
            })
            || self
                .regions
                .iter()
                .any(|r| !matches!(r.kind, RegionKind::NotCovered { .. } | RegionKind::Edge));
        let uncovered = chunks.is_empty()
            || chunks.iter().any(|c| c.status == ChunkStatus::NotCovered)
            || self
                .regions
                .iter()
                .any(|r| matches!(r.kind, RegionKind::NotCovered { .. } | RegionKind::Edge));
        let playback = self.findings.iter().any(|f| matches!(f, Finding::PlaybackAltered { .. }));
        let damaged = chunks.iter().any(|c| c.status == ChunkStatus::Damaged);
        let remux = self.findings.iter().any(|f| matches!(f, Finding::ContainerRewritten { .. }));
        let state = if edited {
            AxisState::Altered
        } else if damaged {
            AxisState::Damaged
        } else if playback {
            AxisState::PlaybackAltered
        } else if uncovered {
            AxisState::PartlyUncovered
        } else if remux {
            AxisState::ContainerRewritten
        } else {
            AxisState::Exact
        };
        let holds = matches!(state, AxisState::Exact | AxisState::ContainerRewritten);
        Axis { holds, state, rests_on: vec![self.producer], witnessed_through: None }
    }
}

fn count(t: &mut Totals, status: &ChunkStatus, proven: bool) {
    t.chunks += 1;
    t.proven_by_chain += u64::from(proven);
    match status {
        ChunkStatus::WitnessedLive(_) => t.witnessed_live += 1,
        ChunkStatus::WitnessedLate(_) => t.witnessed_late += 1,
        ChunkStatus::SignedOnly => t.signed_only += 1,
        ChunkStatus::Altered => t.altered += 1,
        ChunkStatus::Removed => t.removed += 1,
        ChunkStatus::Moved { .. } => t.moved += 1,
        ChunkStatus::NotCovered => t.not_covered += 1,
        ChunkStatus::Damaged => t.damaged += 1,
        ChunkStatus::OutsideExcerpt => t.outside_excerpt += 1,
    }
}

/// Witnessing rests on the other parties' receipts alone.
fn witnessing(chunks: &[ChunkReport], findings: &[Finding]) -> Axis {
    let mut rests_on: BTreeSet<PublicKey> = BTreeSet::new();
    let (mut late, mut none) = (false, chunks.is_empty());
    for c in chunks {
        match c.status {
            ChunkStatus::WitnessedLive(w) => {
                rests_on.insert(w.witness);
            }
            ChunkStatus::WitnessedLate(w) => {
                rests_on.insert(w.witness);
                late = true;
            }
            ChunkStatus::SignedOnly | ChunkStatus::NotCovered => none = true,
            _ => {}
        }
    }
    let impossible = findings.iter().any(|f| matches!(f, Finding::ImpossibleReceiptTime { .. }));
    let state = if none {
        AxisState::SomeUnwitnessed
    } else if late {
        AxisState::SomeLate
    } else {
        AxisState::AllLive
    };
    Axis {
        holds: state == AxisState::AllLive && !impossible,
        state,
        rests_on: rests_on.into_iter().collect(),
        witnessed_through: None,
    }
}
