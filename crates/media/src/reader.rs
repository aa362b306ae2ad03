//! Reading a recording back as packets (SPEC §6.1, §11), including one cut off by a crash.

use dualrec_proof::Packet;
use ogg::reading::{BasePacketReader, PageParser};

use crate::{MediaError, OpusHead, OpusTags, packet_samples};

/// A recording's bytes stop partway through a page (a crash while writing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Offset where the incomplete page starts; everything before it was read.
    pub offset: u64,
    /// Bytes of the incomplete page that were ignored.
    pub bytes: u64,
}

/// A recording as read from its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingFile {
    pub head: OpusHead,
    pub tags: OpusTags,
    /// The audio packets with their positions: the sample (48 kHz, pre-skip included)
    /// where each starts, as the chain and the verifier count them.
    pub packets: Vec<Packet>,
    /// Whether the end-of-stream page was found (a cleanly finished recording).
    pub ended: bool,
    /// The granule of the last complete page.
    pub last_granule: u64,
    /// Set when the file was cut off mid-page.
    pub truncated: Option<Truncation>,
    /// Pages in the middle of the file whose checksum fails: skipped, with where their
    /// audio would have been (from the next good page's granule position).
    pub damaged: Vec<dualrec_proof::Damage>,
}

impl RecordingFile {
    /// The container fields that change what a listener hears, for the verifier
    /// (SPEC §9.8).
    pub fn playback(&self) -> dualrec_proof::Playback {
        let audio_end = self.packets.last().map_or(0, |p| {
            p.position.saturating_add(u64::from(packet_samples(&p.data).unwrap_or(0)))
        });
        dualrec_proof::Playback {
            channels: self.head.channels,
            pre_skip: self.head.pre_skip,
            output_gain: self.head.output_gain,
            final_granule: self.ended.then_some(self.last_granule),
            audio_end,
        }
    }

    /// Samples a player outputs: last granule minus pre-skip.
    pub fn playable_samples(&self) -> u64 {
        self.last_granule.saturating_sub(u64::from(self.head.pre_skip))
    }
}

const MAX_RECORDING_BYTES: u64 = 4 << 30;

/// Parses a whole Ogg Opus file held in memory.
pub fn read_recording(bytes: &[u8]) -> Result<RecordingFile, MediaError> {
    if bytes.len() as u64 > MAX_RECORDING_BYTES {
        return Err(MediaError::TooLarge { len: bytes.len() as u64, max: MAX_RECORDING_BYTES });
    }
    if !bytes.starts_with(b"OggS") {
        return Err(MediaError::NotOgg { offset: 0 });
    }
    let mut base = BasePacketReader::new();
    let mut pos = 0usize;
    let mut page_no = 0u64;
    let mut serial = None;
    let mut r = Read::default();
    let mut last_granule = 0u64;
    let mut truncated = None;
    let mut damaged: Vec<dualrec_proof::Damage> = Vec::new();
    // After a damaged page: the next good page's granule tells where its packets start.
    let mut resync_from: Option<(u64, u64)> = None; // (first sample of the damage, offset)
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let corrupt =
            |detail: String| MediaError::CorruptPage { page: page_no, offset: pos as u64, detail };
        if r.ended {
            return Err(corrupt("data after the end-of-stream page".into()));
        }
        if rest.len() < 27 {
            truncated = Some(Truncation { offset: pos as u64, bytes: rest.len() as u64 });
            break;
        }
        // A page that does not parse, with a later page after it, is damage in the
        // middle of the file: skip to that page and say where (SPEC §11.3). With no page
        // after it, it is the torn end a crash leaves.
        let parsed = match parse_page(rest) {
            Ok(Some(ok)) => Ok(ok),
            Ok(None) => Err(None),
            Err(fault) => Err(Some(fault)),
        };
        let (page, end) = match parsed {
            Ok(ok) => ok,
            Err(fault) => {
                let next =
                    bytes[pos + 1..].windows(4).position(|w| w == b"OggS").map(|i| pos + 1 + i);
                let can_skip =
                    r.head.is_some() && r.tags.is_some() && damaged.len() < MAX_DAMAGED_PAGES;
                match (next, fault) {
                    (Some(next), _) if can_skip => {
                        resync_from.get_or_insert((r.position, pos as u64));
                        pos = next;
                        page_no += 1;
                        continue;
                    }
                    (_, None) | (None, Some(PageFault::Checksum)) => {
                        truncated =
                            Some(Truncation { offset: pos as u64, bytes: rest.len() as u64 });
                        break;
                    }
                    (_, Some(f)) => return Err(corrupt(f.to_string())),
                }
            }
        };
        let page_serial = u32::from_le_bytes([rest[14], rest[15], rest[16], rest[17]]);
        if *serial.get_or_insert(page_serial) != page_serial {
            return Err(MediaError::NotOpus {
                detail: format!("a second logical stream starts at offset {pos}"),
            });
        }
        let granule =
            u64::from_le_bytes(rest[6..14].try_into().map_err(|_| corrupt("granule".into()))?);
        base.push_page(page).map_err(|e| corrupt(e.to_string()))?;
        let first_on_page = r.packets.len();
        r.take_packets(&mut base)?;
        if let Some((first_sample, offset)) = resync_from.take() {
            resync(&mut r.packets[first_on_page..], granule, &mut r.position);
            let samples = r.packets.get(first_on_page).map_or(r.position, |p| p.position);
            let samples = samples.saturating_sub(first_sample);
            damaged.push(dualrec_proof::Damage { first_sample, samples, offset });
        }
        if granule != u64::MAX && r.head.is_some() && r.tags.is_some() {
            last_granule = granule;
        }
        pos += end;
        page_no += 1;
    }
    let head = r.head.ok_or(MediaError::NotOpus { detail: "no OpusHead packet".into() })?;
    let tags =
        r.tags.ok_or(MediaError::BadHeader { header: "OpusTags", detail: "missing".into() })?;
    if let Some((first_sample, offset)) = resync_from {
        // Damage that runs to the end of the file: nothing after it to place it by.
        damaged.push(dualrec_proof::Damage { first_sample, samples: 0, offset });
    }
    let (packets, ended) = (r.packets, r.ended);
    Ok(RecordingFile { head, tags, packets, ended, last_granule, truncated, damaged })
}

/// What the pages read so far gave.
#[derive(Default)]
struct Read {
    head: Option<OpusHead>,
    tags: Option<OpusTags>,
    packets: Vec<Packet>,
    /// Where the next audio packet starts (48 kHz samples, pre-skip included).
    position: u64,
    ended: bool,
}

impl Read {
    /// The packets a page completed: `OpusHead` (alone on its page), `OpusTags`, then
    /// audio packets with their positions.
    fn take_packets(&mut self, base: &mut BasePacketReader) -> Result<(), MediaError> {
        while let Some(p) = base.read_packet() {
            if self.head.is_none() {
                self.head = Some(OpusHead::parse(&p.data)?);
                if !p.last_in_page() {
                    return Err(MediaError::BadHeader {
                        header: "OpusHead",
                        detail: "not alone on the first page".into(),
                    });
                }
                continue;
            }
            if self.tags.is_none() {
                self.tags = Some(OpusTags::parse(&p.data)?);
                continue;
            }
            let packet = self.packets.len() as u64;
            let samples = packet_samples(&p.data).map_err(|e| match e {
                MediaError::BadPacket { detail, .. } => MediaError::BadPacket { packet, detail },
                other => other,
            })?;
            self.ended |= p.last_in_stream();
            self.packets.push(Packet { position: self.position, data: p.data });
            self.position = self.position.saturating_add(u64::from(samples));
        }
        Ok(())
    }
}

/// Why a page could not be read.
#[derive(Debug)]
enum PageFault {
    NoCapture,
    Header(String),
    Checksum,
}

impl std::fmt::Display for PageFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageFault::NoCapture => f.write_str("no page capture pattern"),
            PageFault::Header(e) => write!(f, "bad page header: {e}"),
            PageFault::Checksum => f.write_str("the page's checksum fails"),
        }
    }
}

/// One page at the start of `rest` and its length; `Ok(None)` when `rest` ends before
/// the page does.
fn parse_page(rest: &[u8]) -> Result<Option<(ogg::reading::OggPage, usize)>, PageFault> {
    if rest.len() < 27 {
        return Ok(None);
    }
    if &rest[..4] != b"OggS" {
        return Err(PageFault::NoCapture);
    }
    let mut header = [0u8; 27];
    header.copy_from_slice(&rest[..27]);
    let (mut parser, nseg) =
        PageParser::new(header).map_err(|e| PageFault::Header(e.to_string()))?;
    let seg_end = 27 + nseg;
    if rest.len() < seg_end {
        return Ok(None);
    }
    let body_len = parser.parse_segments(rest[27..seg_end].to_vec());
    let end = seg_end + body_len;
    if rest.len() < end {
        return Ok(None);
    }
    let page =
        parser.parse_packet_data(rest[seg_end..end].to_vec()).map_err(|_| PageFault::Checksum)?;
    Ok(Some((page, end)))
}

/// At most this many damaged pages are skipped; more is not a damaged recording but
/// something else, and reading stops with an error.
const MAX_DAMAGED_PAGES: usize = 1024;

/// Places the packets of the first good page after damage by its granule position: the
/// page ends `granule` samples in, so its packets start that much before, in order. An
/// unusable granule (none, or smaller than the packets) leaves them where they are.
fn resync(page_packets: &mut [Packet], granule: u64, position: &mut u64) {
    let mut durations = Vec::with_capacity(page_packets.len());
    for p in page_packets.iter() {
        durations.push(u64::from(packet_samples(&p.data).unwrap_or(0)));
    }
    let total: u64 = durations.iter().sum();
    let Some(mut at) = granule.checked_sub(total).filter(|_| granule != u64::MAX) else { return };
    // Where counting put this page's packets: placing them earlier than that would move
    // the timeline backwards.
    if at < position.saturating_sub(total) {
        return;
    }
    for (p, d) in page_packets.iter_mut().zip(durations) {
        p.position = at;
        at = at.saturating_add(d);
    }
    *position = at;
}

/// How the packets of a dualrec recording fall into chunks (SPEC §11.3): runs of
/// `packets_per_chunk` packets from the first audio packet; the last may be shorter.
pub fn chunk_ranges(packet_count: usize, packets_per_chunk: usize) -> Vec<std::ops::Range<usize>> {
    let per = packets_per_chunk.max(1);
    (0..packet_count).step_by(per).map(|s| s..(s + per).min(packet_count)).collect()
}
