//! Excerpts (SPEC §11.5): a stretch of a recording as a standard Ogg Opus file of its
//! own, whose tags state its place in the recording.

use std::ops::Range;
use std::path::Path;

use dualrec_proof::{Digest, ExcerptPlace, OmittedPacket};

use crate::tags::value_of;
use crate::{
    FinishedRecording, MediaError, OpusTags, RecordingFile, RecordingWriter, packet_samples,
};

/// The recording's packet index of the excerpt's first packet.
pub const TAG_EXCERPT_PACKET: &str = "DUALREC_EXCERPT_PACKET";
/// The recording's sample position of the excerpt's first packet.
pub const TAG_EXCERPT_SAMPLE: &str = "DUALREC_EXCERPT_SAMPLE";
/// The packets of the first chunk before the excerpt, as `samples:hash` entries.
pub const TAG_EXCERPT_HEAD: &str = "DUALREC_EXCERPT_HEAD";
/// The packets of the last chunk after the excerpt, as `samples:hash` entries.
pub const TAG_EXCERPT_TAIL: &str = "DUALREC_EXCERPT_TAIL";

const PLACE_KEYS: [&str; 4] =
    [TAG_EXCERPT_PACKET, TAG_EXCERPT_SAMPLE, TAG_EXCERPT_HEAD, TAG_EXCERPT_TAIL];

fn bad(key: &'static str, detail: impl Into<String>) -> MediaError {
    MediaError::BadExcerptTag { key, detail: detail.into() }
}

/// A decimal number as §11.5 writes them: digits only, no leading zero, below 2^63.
fn number(key: &'static str, v: &str) -> Result<u64, MediaError> {
    let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    let canonical = v == "0" || !v.starts_with('0');
    match v.parse::<u64>() {
        Ok(n) if digits && canonical && n <= i64::MAX as u64 => Ok(n),
        _ => Err(bad(key, format!("{v:?} is not a number as SPEC §11.5 writes them"))),
    }
}

fn omitted(key: &'static str, v: &str) -> Result<Vec<OmittedPacket>, MediaError> {
    if v.is_empty() {
        return Ok(Vec::new());
    }
    v.split(',')
        .enumerate()
        .map(|(i, entry)| {
            let entry_bad = |what: &str| bad(key, format!("entry {i}: {what}"));
            let (samples, hash) = entry.split_once(':').ok_or_else(|| entry_bad("no ':'"))?;
            let samples = number(key, samples)?;
            if !(120..=5760).contains(&samples) {
                return Err(entry_bad("a duration no Opus packet has"));
            }
            let hash = Some(hash)
                .filter(|h| h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                .and_then(Digest::from_hex)
                .ok_or_else(|| entry_bad("the hash is not 64 lower-case hex digits"))?;
            Ok(OmittedPacket { samples: samples as u32, hash })
        })
        .collect()
}

impl OpusTags {
    /// The place an excerpt's tags state (SPEC §11.5); `None` for a whole recording.
    pub fn excerpt_place(&self) -> Result<Option<ExcerptPlace>, MediaError> {
        for key in PLACE_KEYS {
            let n = self.comments.iter().filter(|c| value_of(c, key).is_some()).count();
            if n > 1 {
                return Err(bad(key, "given more than once"));
            }
        }
        let Some(packet) = self.get(TAG_EXCERPT_PACKET) else { return Ok(None) };
        let first_packet = number(TAG_EXCERPT_PACKET, packet)?;
        let sample =
            self.get(TAG_EXCERPT_SAMPLE).ok_or_else(|| bad(TAG_EXCERPT_SAMPLE, "missing"))?;
        let place = ExcerptPlace {
            first_packet,
            first_sample: number(TAG_EXCERPT_SAMPLE, sample)?,
            head: omitted(TAG_EXCERPT_HEAD, self.get(TAG_EXCERPT_HEAD).unwrap_or(""))?,
            tail: omitted(TAG_EXCERPT_TAIL, self.get(TAG_EXCERPT_TAIL).unwrap_or(""))?,
        };
        if place.head.len() as u64 > first_packet {
            return Err(bad(TAG_EXCERPT_HEAD, "more packets than lie before the excerpt"));
        }
        Ok(Some(place))
    }

    /// The recording's tags with an excerpt's place instead of its title.
    fn for_excerpt(&self, place: &ExcerptPlace) -> OpusTags {
        let list = |l: &[OmittedPacket]| {
            l.iter().map(|o| format!("{}:{}", o.samples, o.hash)).collect::<Vec<_>>().join(",")
        };
        let mut comments: Vec<String> =
            self.comments.iter().filter(|c| value_of(c, "TITLE").is_none()).cloned().collect();
        comments.extend([
            format!("{TAG_EXCERPT_PACKET}={}", place.first_packet),
            format!("{TAG_EXCERPT_SAMPLE}={}", place.first_sample),
            format!("{TAG_EXCERPT_HEAD}={}", list(&place.head)),
            format!("{TAG_EXCERPT_TAIL}={}", list(&place.tail)),
            "TITLE=dualrec excerpt".to_owned(),
        ]);
        OpusTags { vendor: self.vendor.clone(), comments }
    }
}

/// Writes the packets `keep` of `source` (a whole recording, whose chunks are the packet
/// ranges `chunks`) as an excerpt at `path` (SPEC §11.5). The file appears whole or not
/// at all; an existing `path` is replaced only when `replace` is set.
pub fn write_excerpt(
    source: &RecordingFile,
    chunks: &[Range<usize>],
    keep: Range<usize>,
    path: &Path,
    replace: bool,
) -> Result<FinishedRecording, MediaError> {
    if source.tags.excerpt_place()?.is_some() {
        return Err(MediaError::AlreadyExcerpt);
    }
    let packets = source
        .packets
        .get(keep.clone())
        .filter(|p| !p.is_empty())
        .ok_or(MediaError::NothingToEnd)?;
    if !replace && path.exists() {
        return Err(MediaError::Exists { path: path.to_owned() });
    }
    let samples = |p: &dualrec_proof::Packet| packet_samples(&p.data).unwrap_or(0);
    let place = ExcerptPlace::cut(&source.packets, chunks, keep.clone(), samples);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.partial"));
    let _ = std::fs::remove_file(&partial);
    let serial =
        u32::from_le_bytes(place.first_sample.to_le_bytes()[..4].try_into().unwrap_or([0; 4]));
    let mut writer =
        RecordingWriter::create(&partial, source.head, &source.tags.for_excerpt(&place), serial)?;
    for p in packets {
        writer.write_packet(&p.data)?;
    }
    // A player plays all of it, unless it ends where the recording ends: then the
    // recording's trimming of the encoder's padding carries over.
    let pre_skip = u64::from(source.head.pre_skip);
    let input = if keep.end == source.packets.len() && source.ended {
        source.last_granule.saturating_sub(place.first_sample).saturating_sub(pre_skip)
    } else {
        writer.granule()
    };
    let mut done = writer.finish(input)?;
    std::fs::rename(&partial, path)
        .map_err(|source| MediaError::Io { path: path.to_owned(), source })?;
    done.path = path.to_owned();
    Ok(done)
}
