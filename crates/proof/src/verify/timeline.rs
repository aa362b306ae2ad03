//! SPEC §9.5 (excerpt mode): the packets the verifier aligns. For an excerpt with a place
//! (§11.5) they are the excerpt's own packets moved to the recording's timeline, with the
//! packets it omits from the chunks it holds in part standing around them as hashes.

use std::borrow::Cow;
use std::ops::Range;

use rayon::prelude::*;

use std::collections::BTreeMap;

use super::run::{Place, Row, Work, audio_end};
use super::*;
use crate::chain::packet_hash;
use crate::error::VerifyError;
use crate::records::{Checkpoint, Signed};

/// The shortest and the longest Opus packet, in 48 kHz samples (RFC 6716 §3.1).
const PACKET_SAMPLES: std::ops::RangeInclusive<u32> = 120..=5760;

/// Positions stay below this, so that every sum the verifier makes fits.
const MAX_POSITION: u64 = i64::MAX as u64;

/// The packets to align, with their hashes.
pub(super) struct Timeline<'a> {
    packets: Cow<'a, [Packet]>,
    pub(super) hashes: Vec<Digest>,
    damaged: Cow<'a, [Damage]>,
    /// Where the timeline's audio ends (only `audio_end` of it is used: §9.8 is checked
    /// on the file's own fields).
    playback: Option<Playback>,
    /// Timeline indices of the file's own packets.
    pub(super) real: Range<usize>,
    /// The recording's packet index of timeline packet 0.
    pub(super) base: u64,
    /// The timeline comes from an excerpt's place.
    pub(super) placed: bool,
}

impl<'a> Timeline<'a> {
    /// The recording's own packets, or for an excerpt with a place, its timeline.
    pub(super) fn new(recording: &Recording<'a>) -> Result<Timeline<'a>, VerifyError> {
        let own: Vec<Digest> = recording.packets.par_iter().map(|p| packet_hash(&p.data)).collect();
        let Some(place) = recording.excerpt else {
            return Ok(Timeline {
                packets: Cow::Borrowed(recording.packets),
                hashes: own,
                damaged: Cow::Borrowed(recording.damaged),
                playback: recording.playback,
                real: 0..recording.packets.len(),
                base: 0,
                placed: false,
            });
        };
        let bad = VerifyError::BadExcerpt;
        let m = place.head.len();
        let base = place
            .first_packet
            .checked_sub(m as u64)
            .ok_or(bad("it omits more packets before its first than the recording has"))?;
        if place.head.iter().chain(&place.tail).any(|o| !PACKET_SAMPLES.contains(&o.samples)) {
            return Err(bad("an omitted packet's duration is not an Opus packet's"));
        }
        let head_samples: u64 = place.head.iter().map(|o| u64::from(o.samples)).sum();
        let first = place
            .first_sample
            .checked_sub(head_samples)
            .ok_or(bad("the packets it omits before its first begin before the recording"))?;
        let own_end = place.first_sample.checked_add(audio_end(recording));
        let tail_samples: u64 = place.tail.iter().map(|o| u64::from(o.samples)).sum();
        let end = own_end.and_then(|e| e.checked_add(tail_samples)).filter(|&e| e <= MAX_POSITION);
        let (Some(own_end), Some(end)) = (own_end, end) else {
            return Err(bad("it would end beyond any recording"));
        };
        let mut packets = Vec::with_capacity(m + recording.packets.len() + place.tail.len());
        omitted(&mut packets, first, &place.head);
        packets.extend(recording.packets.iter().map(|p| Packet {
            position: place.first_sample.saturating_add(p.position),
            data: p.data.clone(),
        }));
        omitted(&mut packets, own_end, &place.tail);
        let hashes = (place.head.iter().map(|o| o.hash))
            .chain(own)
            .chain(place.tail.iter().map(|o| o.hash))
            .collect();
        let damaged = recording
            .damaged
            .iter()
            .map(|d| Damage {
                first_sample: d.first_sample.saturating_add(place.first_sample),
                ..*d
            })
            .collect();
        let playback = Playback {
            channels: 0,
            pre_skip: 0,
            output_gain: 0,
            final_granule: None,
            audio_end: end,
        };
        Ok(Timeline {
            real: m..m + recording.packets.len(),
            packets: Cow::Owned(packets),
            hashes,
            damaged: Cow::Owned(damaged),
            playback: Some(playback),
            base,
            placed: true,
        })
    }

    /// The recording as the verifier aligns it.
    pub(super) fn recording<'b>(&'b self, of: &Recording<'_>) -> Recording<'b> {
        Recording {
            packets: &self.packets,
            producer: of.producer,
            session: of.session,
            file_sha256: of.file_sha256,
            playback: self.playback,
            damaged: &self.damaged,
            excerpt: None,
        }
    }
}

/// Packets known by hash and duration only, one after another from `at`.
fn omitted(packets: &mut Vec<Packet>, mut at: u64, list: &[OmittedPacket]) {
    for o in list {
        packets.push(Packet { position: at, data: Vec::new() });
        at += u64::from(o.samples);
    }
}

impl Work<'_> {
    /// The first chunk in file order found at its place or in order (not moved, not
    /// proven by the chain): its index, row and timeline packet.
    fn first_found(&self) -> Option<(u64, &Row, usize)> {
        self.rows
            .iter()
            .filter(|(_, r)| r.place == Place::Found && !r.proven)
            .filter_map(|(i, r)| Some((*i, r, usize::try_from(r.found_at?).ok()?)))
            .min_by_key(|(_, _, at)| *at)
    }

    /// SPEC §9.5 (place): the excerpt's tags against the signed checkpoint of the first
    /// chunk found in it.
    pub(super) fn check_place(
        &mut self,
        primary: &BTreeMap<u64, (Digest, &Signed<Checkpoint>)>,
        recording: &Recording<'_>,
        base: u64,
    ) {
        let Some((index, row, q)) = self.first_found() else { return };
        let Some((_, cp)) = primary.get(&index) else { return };
        let stated_packet = base.saturating_add(q as u64);
        let stated_sample = recording.packets.get(q).map_or(0, |p| p.position);
        if stated_packet != cp.body.first_packet || stated_sample != row.first_sample {
            self.findings.push(Finding::ExcerptMisplaced {
                index,
                stated_packet,
                signed_packet: cp.body.first_packet,
                stated_sample,
                signed_sample: row.first_sample,
            });
        }
    }

    /// Where the excerpt's audio lies, by the signed checkpoint of the first chunk found
    /// in it.
    pub(super) fn excerpt_facts(&self, recording: &Recording<'_>, placed: bool) -> ExcerptFacts {
        let position = |q: usize| recording.packets.get(q).map_or(0, |p| i128::from(p.position));
        let span = self.first_found().filter(|_| !self.real.is_empty()).map(|(_, row, q)| {
            let offset = i128::from(row.first_sample) - position(q);
            let end = self.ends.get(self.real.end - 1).copied().unwrap_or(0);
            let at = |x: i128| u64::try_from(x + offset).unwrap_or(0);
            (at(position(self.real.start)), at(i128::from(end)))
        });
        ExcerptFacts {
            placed,
            first_sample: span.map(|s| s.0),
            end_sample: span.map(|s| s.1),
            head_packets: self.real.start as u64,
            tail_packets: (recording.packets.len() - self.real.end) as u64,
        }
    }
}
