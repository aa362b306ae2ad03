//! Writing a recording as it is captured (RFC 7845, MACHINE-NOTES "Ogg Opus pitfalls").

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use dualrec_proof::Digest;
use ogg::{PacketWriteEndInfo, PacketWriter};

use crate::{MediaError, OpusHead, OpusTags, RecordingFile, packet_samples};

/// What a finished recording is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishedRecording {
    pub path: PathBuf,
    /// SHA-256 of the whole file, as the signed end record holds it.
    pub sha256: Digest,
    pub bytes: u64,
    pub packets: u64,
    /// Samples (48 kHz) a player outputs: the final granule minus the pre-skip.
    pub samples: u64,
}

/// Writes one Ogg Opus recording. Packets go in as they are encoded; each
/// [`RecordingWriter::end_chunk`] closes a page and syncs it to disk.
pub struct RecordingWriter {
    path: PathBuf,
    ogg: PacketWriter<'static, File>,
    serial: u32,
    pre_skip: u16,
    /// The newest packet is held back until the next arrives, so that whichever packet
    /// turns out to be the last can carry the end-of-page or end-of-stream flag.
    held: Option<(Vec<u8>, u64)>,
    granule: u64,
    packets: u64,
    /// Offset where the last flushed page group started (for the end-of-stream patch).
    last_flush_at: u64,
}

impl std::fmt::Debug for RecordingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingWriter")
            .field("path", &self.path)
            .field("packets", &self.packets)
            .field("granule", &self.granule)
            .finish()
    }
}

impl RecordingWriter {
    /// Creates the file (never replacing one) and writes both header pages, synced.
    pub fn create(
        path: &Path,
        head: OpusHead,
        tags: &OpusTags,
        serial: u32,
    ) -> Result<RecordingWriter, MediaError> {
        let io = |source| MediaError::Io { path: path.to_owned(), source };
        let file = dualrec_proof::private_file()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    MediaError::Exists { path: path.to_owned() }
                } else {
                    io(e)
                }
            })?;
        let mut ogg = PacketWriter::new(file);
        // RFC 7845 §3: OpusHead alone on the first page, OpusTags finishing the second.
        ogg.write_packet(head.to_bytes(), serial, PacketWriteEndInfo::EndPage, 0).map_err(io)?;
        ogg.write_packet(tags.to_bytes(), serial, PacketWriteEndInfo::EndPage, 0).map_err(io)?;
        ogg.inner_mut().sync_all().map_err(io)?;
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(RecordingWriter {
            path: path.to_owned(),
            ogg,
            serial,
            pre_skip: head.pre_skip,
            held: None,
            granule: 0,
            packets: 0,
            last_flush_at: 0,
        })
    }

    fn io(&self) -> impl Fn(std::io::Error) -> MediaError + '_ {
        move |source| MediaError::Io { path: self.path.clone(), source }
    }

    /// Adds one Opus packet. Its duration is read from its TOC byte.
    pub fn write_packet(&mut self, packet: &[u8]) -> Result<(), MediaError> {
        let samples = packet_samples(packet).map_err(|e| match e {
            MediaError::BadPacket { detail, .. } => {
                MediaError::BadPacket { packet: self.packets, detail }
            }
            other => other,
        })?;
        if let Some((data, granule)) = self.held.take() {
            let r =
                self.ogg.write_packet(data, self.serial, PacketWriteEndInfo::NormalPacket, granule);
            r.map_err(self.io())?;
        }
        self.granule += u64::from(samples);
        self.held = Some((packet.to_vec(), self.granule));
        self.packets += 1;
        Ok(())
    }

    /// Closes the current page at a chunk boundary and waits until it is on disk.
    pub fn end_chunk(&mut self) -> Result<(), MediaError> {
        if let Some((data, granule)) = self.held.take() {
            self.last_flush_at = self.ogg.inner_mut().stream_position().map_err(self.io())?;
            let r = self.ogg.write_packet(data, self.serial, PacketWriteEndInfo::EndPage, granule);
            r.map_err(self.io())?;
        }
        self.ogg.inner_mut().sync_data().map_err(self.io())
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Samples (48 kHz, including the pre-skip) decoded by the end of the packets so far.
    pub fn granule(&self) -> u64 {
        self.granule
    }

    /// Ends the stream. `input_samples` is how many samples of real input the encoder
    /// was given; the final granule `pre_skip + input_samples` tells players to drop the
    /// padding that flushed the encoder.
    pub fn finish(mut self, input_samples: u64) -> Result<FinishedRecording, MediaError> {
        let final_granule = (u64::from(self.pre_skip) + input_samples).min(self.granule);
        match self.held.take() {
            Some((data, _)) => {
                let r = self.ogg.write_packet(
                    data,
                    self.serial,
                    PacketWriteEndInfo::EndStream,
                    final_granule,
                );
                r.map_err(self.io())?;
            }
            None if self.packets == 0 => return Err(MediaError::NothingToEnd),
            None => {
                // The last chunk was already closed: mark its page as the end instead.
                let at = self.last_flush_at;
                mark_last_page_end(self.ogg.inner_mut(), at, final_granule).map_err(self.io())?;
            }
        }
        let path = self.path.clone();
        let io = |source| MediaError::Io { path: path.clone(), source };
        let mut file = self.ogg.into_inner();
        file.sync_all().map_err(io)?;
        // Hash the file as it is on disk, in blocks: memory stays flat for any length.
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut hasher = dualrec_proof::Sha256Stream::new();
        let mut block = vec![0u8; 64 * 1024];
        let mut bytes = 0u64;
        loop {
            let n = file.read(&mut block).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&block[..n]);
            bytes += n as u64;
        }
        Ok(FinishedRecording {
            path: path.clone(),
            sha256: hasher.finish(),
            bytes,
            packets: self.packets,
            samples: final_granule - u64::from(self.pre_skip),
        })
    }
}

/// The CRC of Ogg pages: polynomial 0x04c11db7, not reflected, initial value 0.
pub(crate) fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04c1_1db7 } else { crc << 1 };
        }
    }
    crc
}

/// Sets the end-of-stream flag and the granule of the last page at or after `from`,
/// and fixes its CRC.
fn mark_last_page_end(file: &mut File, from: u64, granule: u64) -> std::io::Result<()> {
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(from))?;
    file.read_to_end(&mut tail)?;
    let (start, len) = mark_last_page_end_in(&mut tail, granule)?;
    file.seek(SeekFrom::Start(from + start as u64))?;
    file.write_all(&tail[start..start + len])?;
    file.seek(SeekFrom::End(0))?;
    Ok(())
}

/// Patches the last whole page of `pages` (which start at a page boundary) into the
/// end-of-stream page; returns where that page is.
fn mark_last_page_end_in(pages: &mut [u8], granule: u64) -> std::io::Result<(usize, usize)> {
    let mut at = 0usize;
    let mut last = None;
    while at + 27 <= pages.len() && &pages[at..at + 4] == b"OggS" {
        let nseg = usize::from(pages[at + 26]);
        let body: usize = pages
            .get(at + 27..at + 27 + nseg)
            .map_or(0, |l| l.iter().map(|&x| usize::from(x)).sum());
        if at + 27 + nseg + body > pages.len() {
            break;
        }
        last = Some((at, 27 + nseg + body));
        at += 27 + nseg + body;
    }
    let Some((start, len)) = last else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "no page to mark as the end",
        ));
    };
    let page = &mut pages[start..start + len];
    page[5] |= 0x04;
    page[6..14].copy_from_slice(&granule.to_le_bytes());
    page[22..26].fill(0);
    let crc = ogg_crc(page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    Ok((start, len))
}

/// Finishes a recording that was interrupted by a crash or power loss (SPEC §11):
/// `interrupted` holds its bytes and `file` what [`crate::read_recording`] read from them.
/// Writes to `dst` the whole pages, with the last one marked as the end of the stream;
/// bytes of a page the crash cut off are left out. Refuses to replace an existing `dst`.
pub fn finish_interrupted(
    interrupted: &[u8],
    file: &RecordingFile,
    dst: &Path,
) -> Result<FinishedRecording, MediaError> {
    let io_dst = |source| MediaError::Io { path: dst.to_owned(), source };
    if dst.exists() {
        return Err(MediaError::Exists { path: dst.to_owned() });
    }
    if file.packets.is_empty() {
        return Err(MediaError::NothingToEnd);
    }
    let keep = file.truncated.map_or(interrupted.len(), |t| t.offset as usize);
    let mut bytes = interrupted.get(..keep).unwrap_or(interrupted).to_vec();
    if !file.ended {
        mark_last_page_end_in(&mut bytes, file.last_granule).map_err(io_dst)?;
    }
    // Written aside, then linked into place: `dst` appears whole or not at all, and an
    // existing file is never replaced.
    let partial = dst.with_extension("opus.partial");
    let mut out = dualrec_proof::private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&partial)
        .map_err(io_dst)?;
    out.write_all(&bytes).and_then(|()| out.sync_all()).map_err(io_dst)?;
    std::fs::hard_link(&partial, dst).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            MediaError::Exists { path: dst.to_owned() }
        } else {
            io_dst(e)
        }
    })?;
    std::fs::remove_file(&partial).map_err(io_dst)?;
    if let Some(dir) = dst.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        File::open(dir).and_then(|d| d.sync_all()).map_err(io_dst)?;
    }
    Ok(FinishedRecording {
        path: dst.to_owned(),
        sha256: dualrec_proof::sha256(&bytes),
        bytes: bytes.len() as u64,
        packets: file.packets.len() as u64,
        samples: file.last_granule.saturating_sub(u64::from(file.head.pre_skip)),
    })
}
