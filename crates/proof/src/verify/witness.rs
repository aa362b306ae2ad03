//! SPEC §9.6–§9.7: when another party witnessed each chunk, on that party's own clock,
//! and the clock offsets (information only).

use std::collections::HashMap;

use super::{Finding, Witnessed};
use crate::hash::Digest;
use crate::keys::PublicKey;
use crate::records::{Checkpoint, Receipt, Signed};

/// A receipt earlier than this before the chunk's audio ended cannot be true (the two
/// devices' session clocks start within a round trip of each other; this leaves room
/// for slow starts and clock rates).
pub(super) const EARLY_TOLERANCE_MS: i64 = 2_000;

/// Receipt times above this (about ten years of session) are absurd.
pub(super) const MAX_PLAUSIBLE_MS: u64 = 10 * 365 * 24 * 3_600_000;

/// Milliseconds at 48 kHz of `samples`, rounded down.
pub(super) fn samples_ms(samples: u64) -> u64 {
    (u128::from(samples) * 1000 / 48_000) as u64
}

fn delay(receipt_ms: u64, audio_end_ms: u64) -> i64 {
    let d = i128::from(receipt_ms) - i128::from(audio_end_ms);
    d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Collects impossible receipt times per witness into one finding each.
#[derive(Default)]
pub(super) struct Impossible {
    by_witness: HashMap<PublicKey, (u64, u64, u64, u64)>,
}

impl Impossible {
    pub(super) fn into_findings(self) -> Vec<Finding> {
        let mut v: Vec<Finding> = self
            .by_witness
            .into_iter()
            .map(|(witness, (first_index, count, receipt_ms, audio_end_ms))| {
                Finding::ImpossibleReceiptTime {
                    witness,
                    first_index,
                    count,
                    receipt_ms,
                    audio_end_ms,
                }
            })
            .collect();
        v.sort_by_key(|f| match f {
            Finding::ImpossibleReceiptTime { witness, .. } => witness.0,
            _ => [0; 32],
        });
        v
    }
}

/// The earliest believable receipt of one checkpoint (chunk `index`, audio ending at
/// `audio_end_ms` on the recording's timeline).
pub(super) fn earliest(
    receipts: &[&Signed<Receipt>],
    index: u64,
    audio_end_ms: u64,
    impossible: &mut Impossible,
) -> Option<Witnessed> {
    let mut best: Option<Witnessed> = None;
    for r in receipts {
        let ms = r.body.time.mono_ms;
        let d = delay(ms, audio_end_ms);
        if d < -EARLY_TOLERANCE_MS || ms > MAX_PLAUSIBLE_MS {
            let e = impossible.by_witness.entry(r.signer).or_insert((index, 0, ms, audio_end_ms));
            if index < e.0 {
                *e = (index, e.1, ms, audio_end_ms);
            }
            e.1 += 1;
            continue;
        }
        // Earliest first; between equal times, the smaller key, so the answer does not
        // depend on the order the logs were given in.
        if best.is_none_or(|b| (d, r.signer.0) < (b.delay_ms, b.witness.0)) {
            best = Some(Witnessed { witness: r.signer, delay_ms: d, via_index: index });
        }
    }
    best
}

/// Each other party's wall-clock offset from the producer, from the fastest receipts
/// each way (NTP-style). Information for the reader; no verdict rests on it.
pub(super) fn clock_offsets(
    parties: impl Iterator<Item = PublicKey>,
    ours: &HashMap<Digest, &Signed<Checkpoint>>,
    witness_receipts: &HashMap<Digest, Vec<&Signed<Receipt>>>,
    peer_checkpoints: &[&Signed<Checkpoint>],
    producer_receipts: &[&Signed<Receipt>],
    checked: &mut u64,
) -> Vec<super::ClockOffset> {
    let wall = |a: u64, b: u64| delay(a, b);
    let mut out = Vec::new();
    for peer in parties {
        let forward = witness_receipts
            .iter()
            .flat_map(|(h, rs)| rs.iter().map(move |r| (h, r)))
            .filter(|(_, r)| r.signer == peer)
            .filter_map(|(h, r)| Some(wall(r.body.time.wall_ms, ours.get(h)?.body.time.wall_ms)))
            .min();
        let Some(forward) = forward else { continue };
        let mut theirs: Vec<&Signed<Checkpoint>> =
            peer_checkpoints.iter().filter(|cp| cp.signer == peer).copied().collect();
        theirs.sort_unstable_by_key(|cp| (cp.body.index, cp.signature.0));
        theirs.dedup();
        let by_hash: HashMap<Digest, &Signed<Checkpoint>> =
            theirs.iter().map(|cp| (cp.hash(), *cp)).collect();
        let mut backward: Vec<(i64, &Signed<Checkpoint>, &Signed<Receipt>)> = producer_receipts
            .iter()
            .filter_map(|r| {
                let cp = by_hash.get(&r.body.checkpoint)?;
                Some((wall(r.body.time.wall_ms, cp.body.time.wall_ms), *cp, *r))
            })
            .collect();
        backward.sort_by_key(|(d, _, _)| *d);
        let back = backward.into_iter().find_map(|(d, cp, r)| {
            *checked += 2;
            (cp.verify() && r.verify()).then_some(d)
        });
        out.push(match back {
            Some(b) => super::ClockOffset {
                peer,
                offset_ms: ((i128::from(forward) - i128::from(b)) / 2) as i64,
                method: "two_way",
            },
            None => super::ClockOffset { peer, offset_ms: forward, method: "one_way" },
        });
    }
    out
}
