//! SPEC §9.4: where each committed chunk is in the recording. Chunks found at the packet
//! their checkpoint names are anchors; between anchors the chunks are walked in order,
//! sliding to where the next in-order chunk reappears after an edit.

use std::collections::HashMap;
use std::ops::Range;

use rayon::prelude::*;

use crate::chain::{ChainState, chunk_digest};
use crate::hash::Digest;
use crate::records::Checkpoint;

/// At most this many distinct packet counts are tried at every position of a damaged
/// stretch (the most frequent first): a hostile log with thousands of odd lengths cannot
/// make the scan quadratic. Chunks of other lengths are still found at their signed
/// position or in order after the previous match (SPEC §9.4).
pub(super) const SCAN_LENGTHS: usize = 4;

/// A stretch of the alignment between the recording and the expected chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// Expected chunk (position in the expected list) found at packet `at`.
    Match { k: usize, at: usize },
    /// Expected chunks with no audio, and packets with no expected chunk, between matches.
    Gap { chunks: Range<usize>, packets: Range<usize> },
}

pub(super) fn window(hashes: &[Digest], at: usize, len: u32) -> Option<Digest> {
    let end = at.checked_add(len as usize)?;
    hashes.get(at..end).map(chunk_digest)
}

fn fits(hashes: &[Digest], at: usize, cp: &Checkpoint, end: usize) -> bool {
    let n = cp.packet_count as usize;
    n > 0 && at + n <= end && window(hashes, at, cp.packet_count) == Some(cp.digest)
}

/// The most frequent packet counts, at most [`SCAN_LENGTHS`].
pub(super) fn frequent_lengths(counts: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut freq: HashMap<u32, usize> = HashMap::new();
    for n in counts.filter(|&n| n > 0) {
        *freq.entry(n).or_default() += 1;
    }
    let mut v: Vec<(u32, usize)> = freq.into_iter().collect();
    v.sort_by_key(|&(n, c)| (std::cmp::Reverse(c), n));
    v.into_iter().take(SCAN_LENGTHS).map(|(n, _)| n).collect()
}

/// Aligns the packets with the expected chunks (index order).
pub(super) fn align(hashes: &[Digest], expected: &[&Checkpoint]) -> Vec<Segment> {
    let in_place: Vec<bool> = expected
        .par_iter()
        .map(|cp| {
            usize::try_from(cp.first_packet).is_ok_and(|at| fits(hashes, at, cp, hashes.len()))
        })
        .collect();
    let mut out = Vec::new();
    let (mut p, mut k0) = (0usize, 0usize);
    for (k, cp) in expected.iter().enumerate() {
        let at = cp.first_packet as usize;
        if !in_place[k] || at < p {
            continue;
        }
        walk(hashes, expected, k0..k, p..at, &mut out);
        out.push(Segment::Match { k, at });
        p = at + cp.packet_count as usize;
        k0 = k + 1;
    }
    walk(hashes, expected, k0..expected.len(), p..hashes.len(), &mut out);
    out
}

/// In-order walk of `chunks` over `packets` (no anchor inside).
fn walk(
    hashes: &[Digest],
    expected: &[&Checkpoint],
    chunks: Range<usize>,
    packets: Range<usize>,
    out: &mut Vec<Segment>,
) {
    let lens = frequent_lengths(expected[chunks.clone()].iter().map(|cp| cp.packet_count));
    let mut by_digest: HashMap<(Digest, u32), Vec<usize>> = HashMap::new();
    for k in chunks.clone() {
        by_digest.entry((expected[k].digest, expected[k].packet_count)).or_default().push(k);
    }
    let (mut p, mut i) = (packets.start, chunks.start);
    while i < chunks.end {
        if fits(hashes, p, expected[i], packets.end) {
            out.push(Segment::Match { k: i, at: p });
            p += expected[i].packet_count as usize;
            i += 1;
            continue;
        }
        match slide(hashes, &lens, &by_digest, p..packets.end, i) {
            Some((q, k)) => {
                out.push(Segment::Gap { chunks: i..k, packets: p..q });
                out.push(Segment::Match { k, at: q });
                p = q + expected[k].packet_count as usize;
                i = k + 1;
            }
            None => {
                out.push(Segment::Gap { chunks: i..chunks.end, packets: p..packets.end });
                return;
            }
        }
    }
    if p < packets.end {
        out.push(Segment::Gap { chunks: chunks.end..chunks.end, packets: p..packets.end });
    }
}

/// The first packet `q` in `range` where an expected chunk `k >= i` begins (the smallest
/// such `k` at that `q`).
fn slide(
    hashes: &[Digest],
    lens: &[u32],
    by_digest: &HashMap<(Digest, u32), Vec<usize>>,
    range: Range<usize>,
    i: usize,
) -> Option<(usize, usize)> {
    for q in range.clone() {
        for &n in lens {
            if q + n as usize > range.end {
                continue;
            }
            let Some(d) = window(hashes, q, n) else { continue };
            if let Some(k) =
                by_digest.get(&(d, n)).and_then(|v| v.iter().copied().find(|&k| k >= i))
            {
                return Some((q, k));
            }
        }
    }
    None
}

/// A piece of a gap's packets: a committed chunk found there, or audio nothing explains.
#[derive(Debug)]
pub(super) enum Piece {
    /// Packets `at..at+len` hash to a committed digest of these chunk indices.
    Known {
        indices: Vec<u64>,
        primary: bool,
        at: usize,
        len: usize,
    },
    Unknown(Range<usize>),
}

/// Every digest the producer committed, whichever version: (digest, packet count) ->
/// (chunk index, whether it is the version used for alignment).
pub(super) type AnyDigest = HashMap<(Digest, u32), Vec<(u64, bool)>>;

/// Splits a gap's packets into committed chunks found out of place and unknown audio.
pub(super) fn scan_known(hashes: &[Digest], packets: Range<usize>, any: &AnyDigest) -> Vec<Piece> {
    let lens = frequent_lengths(any.iter().flat_map(|((_, n), v)| v.iter().map(move |_| *n)));
    let mut out = Vec::new();
    let (mut unknown_from, mut q) = (packets.start, packets.start);
    while q < packets.end {
        let hit = lens.iter().find_map(|&n| {
            if q + n as usize > packets.end {
                return None;
            }
            let v = any.get(&(window(hashes, q, n)?, n))?;
            Some((v, n as usize))
        });
        match hit {
            Some((v, len)) => {
                if unknown_from < q {
                    out.push(Piece::Unknown(unknown_from..q));
                }
                let primary = v.iter().any(|(_, p)| *p);
                let indices = v.iter().filter(|(_, p)| *p == primary).map(|(i, _)| *i).collect();
                out.push(Piece::Known { indices, primary, at: q, len });
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

/// What a reconstructed run of chunks must lead to.
pub(super) enum ChainTarget {
    /// The next known checkpoint: its digest and chain value.
    Next { digest: Digest, chain: Digest },
    /// The last chain value an end record gives.
    Last(Digest),
}

/// SPEC §9.5: chunks whose checkpoints no log holds, proven by the chain. Splits
/// `packets` into `count` chunks of `per_chunk` packets (the last may be shorter),
/// steps the chain from `from` and checks it reaches `target`. The chunks' packet
/// ranges and chain values when it does.
pub(super) fn prove_run(
    hashes: &[Digest],
    packets: Range<usize>,
    from: Digest,
    count: usize,
    per_chunk: usize,
    target: &ChainTarget,
) -> Option<Vec<(Range<usize>, Digest)>> {
    let mut chain = from;
    let mut out = Vec::with_capacity(count);
    for r in split(packets, count, per_chunk)? {
        chain = ChainState::step(&chain, &chunk_digest(&hashes[r.clone()]));
        out.push((r, chain));
    }
    let ok = match target {
        ChainTarget::Next { digest, chain: next } => ChainState::step(&chain, digest) == *next,
        ChainTarget::Last(last) => chain == *last,
    };
    ok.then_some(out)
}

/// `packets` as `count` chunks of `per_chunk` packets, the last one possibly shorter;
/// `None` when they do not split so.
pub(super) fn split(
    packets: Range<usize>,
    count: usize,
    per_chunk: usize,
) -> Option<Vec<Range<usize>>> {
    let len = packets.len();
    if count == 0
        || per_chunk == 0
        || len <= (count - 1).checked_mul(per_chunk)?
        || len > count.checked_mul(per_chunk)?
    {
        return None;
    }
    Some(
        (0..count)
            .map(|c| {
                let a = packets.start + c * per_chunk;
                a..(a + per_chunk).min(packets.end)
            })
            .collect(),
    )
}
