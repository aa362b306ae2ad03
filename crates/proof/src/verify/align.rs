//! SPEC §9.4: where each committed chunk is in the recording. Chunks found at the packet
//! their checkpoint names are anchors; between anchors the chunks are walked in order,
//! sliding to where the next in-order chunk reappears after an edit.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use rayon::prelude::*;

use crate::chain::{ChainState, chunk_digest};
use crate::hash::Digest;
use crate::records::Checkpoint;

/// At most this many distinct packet counts are tried at every position of a damaged
/// stretch (the most frequent first). Chunks of other lengths are still found at their
/// signed position or in order after the previous match (SPEC §9.5).
pub(super) const SCAN_LENGTHS: usize = 4;

/// The shortest Opus packet (2.5 ms): no honest chunk holds more packets than its
/// samples divided by this.
pub(super) const MIN_PACKET_SAMPLES: u32 = 120;

/// A stretch of the alignment between the recording and the expected chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// Expected chunk (position in the expected list) found at packet `at`.
    Match { k: usize, at: usize },
    /// Expected chunks with no audio, and packets with no expected chunk, between matches.
    Gap { chunks: Range<usize>, packets: Range<usize> },
}

/// The recording's packets as the alignment sees them: hashes and where each starts.
pub(super) struct Packets<'a> {
    pub(super) hashes: &'a [Digest],
    /// Where each packet starts and ends (SPEC §9.5).
    pub(super) starts: Vec<u64>,
    pub(super) ends: Vec<u64>,
}

impl Packets<'_> {
    pub(super) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Samples spanned by packets `q..q+n` (when they exist).
    fn span(&self, q: usize, n: u32) -> Option<u64> {
        let last = q.checked_add(n as usize)?.checked_sub(1)?;
        Some(self.ends.get(last)?.saturating_sub(self.starts[q]))
    }

    pub(super) fn window(&self, at: usize, len: u32) -> Option<Digest> {
        window(self.hashes, at, len)
    }
}

pub(super) fn window(hashes: &[Digest], at: usize, len: u32) -> Option<Digest> {
    let end = at.checked_add(len as usize)?;
    hashes.get(at..end).map(chunk_digest)
}

fn fits(pk: &Packets<'_>, at: usize, cp: &Checkpoint, end: usize) -> bool {
    let n = cp.packet_count as usize;
    n > 0
        && at.checked_add(n).is_some_and(|e| e <= end)
        && pk.window(at, cp.packet_count) == Some(cp.digest)
}

/// The chunk shapes worth scanning for at every position of a damaged stretch: packet
/// counts (the most frequent, at most [`SCAN_LENGTHS`]) and, for each, the lengths in
/// samples signed with it. A window is hashed only where the packets span one of those
/// lengths, so a hostile log's odd shapes cost a comparison, not a hash (SPEC §9.5).
pub(super) struct Shapes {
    lens: Vec<u32>,
    spans: HashMap<u32, HashSet<u64>>,
}

impl Shapes {
    /// From (packet count, samples) pairs; shapes no honest chunk of `chunk_samples`
    /// could have are left out.
    pub(super) fn new(shapes: impl Iterator<Item = (u32, u32)>, chunk_samples: u32) -> Shapes {
        let max_len = chunk_samples / MIN_PACKET_SAMPLES;
        let mut freq: HashMap<u32, usize> = HashMap::new();
        let mut spans: HashMap<u32, HashSet<u64>> = HashMap::new();
        for (n, samples) in shapes {
            if n == 0 || n > max_len || samples > chunk_samples {
                continue;
            }
            *freq.entry(n).or_default() += 1;
            spans.entry(n).or_default().insert(u64::from(samples));
        }
        let mut v: Vec<(u32, usize)> = freq.into_iter().collect();
        v.sort_by_key(|&(n, c)| (std::cmp::Reverse(c), n));
        Shapes { lens: v.into_iter().take(SCAN_LENGTHS).map(|(n, _)| n).collect(), spans }
    }

    /// The digest of the first shape (in frequency order) that packets at `q` have, ending
    /// by `end`, for which `accept` holds.
    fn find<T>(
        &self,
        pk: &Packets<'_>,
        q: usize,
        end: usize,
        mut accept: impl FnMut(Digest, u32) -> Option<T>,
    ) -> Option<T> {
        self.lens.iter().find_map(|&n| {
            if q + n as usize > end || !pk.span(q, n).is_some_and(|s| self.spans[&n].contains(&s)) {
                return None;
            }
            accept(pk.window(q, n)?, n)
        })
    }
}

/// Aligns the packets with the expected chunks (index order).
pub(super) fn align(
    pk: &Packets<'_>,
    expected: &[&Checkpoint],
    chunk_samples: u32,
) -> Vec<Segment> {
    let in_place: Vec<bool> = expected
        .par_iter()
        .map(|cp| usize::try_from(cp.first_packet).is_ok_and(|at| fits(pk, at, cp, pk.len())))
        .collect();
    let mut out = Vec::new();
    let (mut p, mut k0) = (0usize, 0usize);
    for (k, cp) in expected.iter().enumerate() {
        let at = cp.first_packet as usize;
        if !in_place[k] || at < p {
            continue;
        }
        walk(pk, expected, k0..k, p..at, chunk_samples, &mut out);
        out.push(Segment::Match { k, at });
        p = at + cp.packet_count as usize;
        k0 = k + 1;
    }
    walk(pk, expected, k0..expected.len(), p..pk.len(), chunk_samples, &mut out);
    out
}

/// In-order walk of `chunks` over `packets` (no anchor inside).
fn walk(
    pk: &Packets<'_>,
    expected: &[&Checkpoint],
    chunks: Range<usize>,
    packets: Range<usize>,
    chunk_samples: u32,
    out: &mut Vec<Segment>,
) {
    let shapes = Shapes::new(
        expected[chunks.clone()].iter().map(|cp| (cp.packet_count, cp.samples)),
        chunk_samples,
    );
    let mut by_digest: HashMap<(Digest, u32), Vec<usize>> = HashMap::new();
    for k in chunks.clone() {
        by_digest.entry((expected[k].digest, expected[k].packet_count)).or_default().push(k);
    }
    let (mut p, mut i) = (packets.start, chunks.start);
    while i < chunks.end {
        if fits(pk, p, expected[i], packets.end) {
            out.push(Segment::Match { k: i, at: p });
            p += expected[i].packet_count as usize;
            i += 1;
            continue;
        }
        // Slide: the first packet q where an expected chunk k >= i begins (the smallest
        // such k at that q).
        let found = (p..packets.end).find_map(|q| {
            shapes.find(pk, q, packets.end, |d, n| {
                by_digest.get(&(d, n))?.iter().copied().find(|&k| k >= i).map(|k| (q, k))
            })
        });
        match found {
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
pub(super) fn scan_known(
    pk: &Packets<'_>,
    packets: Range<usize>,
    any: &AnyDigest,
    shapes: &Shapes,
) -> Vec<Piece> {
    let mut out = Vec::new();
    let (mut unknown_from, mut q) = (packets.start, packets.start);
    while q < packets.end {
        match shapes.find(pk, q, packets.end, |d, n| Some((any.get(&(d, n))?, n as usize))) {
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
    let runs = split(packets, count, per_chunk)?;
    let mut out = Vec::with_capacity(runs.len());
    for r in runs {
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
