//! The evidence log file (SPEC §8): append-only, framed, checksummed, synced per chunk.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use bincode::{Decode, Encode};

use crate::codec::{MAX_RECORD_BYTES, decode_exact, encode};
use crate::error::LogError;
use crate::records::{CaptureGap, Checkpoint, CoSigned, EndRecord, Receipt, Signed, StartRecord};

/// First 8 bytes of every evidence log.
pub const LOG_MAGIC: [u8; 8] = *b"DUALRECL";
/// Magic, u16le version, 6 reserved zero bytes.
pub const LOG_HEADER_LEN: usize = 16;
const LOG_VERSION: u16 = 1;
const FRAME_HEADER_LEN: usize = 8;
/// A log above this size is refused rather than read into memory (≈ 40 days of records).
const MAX_LOG_BYTES: u64 = 2 << 30;

/// One record of the log. The variant index is the record type of SPEC §8.2.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub enum LogRecord {
    Start(CoSigned<StartRecord>),
    Checkpoint(Signed<Checkpoint>),
    Receipt(Signed<Receipt>),
    End(CoSigned<EndRecord>),
    /// The producer's input was lost for a while (SPEC §7.3).
    Gap(Signed<CaptureGap>),
}

impl LogRecord {
    /// The record's canonical payload bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Bytes the record takes in a log file: its frame header and payload.
    pub fn framed_len(&self) -> u64 {
        (FRAME_HEADER_LEN + encode(self).len()) as u64
    }
}

/// The records of the log at `path` from byte `from` (a record boundary, as
/// [`LogEntry::offset`] or a log's length) to its end: the tail a running session reads
/// back, without reading what came before. A torn tail is left out.
pub fn read_log_tail(path: &Path, from: u64) -> Result<Vec<LogRecord>, LogError> {
    let io = |source| LogError::Io { path: path.to_owned(), source };
    let mut file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > MAX_LOG_BYTES {
        return Err(LogError::TooLarge { len: size, max: MAX_LOG_BYTES });
    }
    let mut bytes = vec![0u8; LOG_HEADER_LEN];
    file.read_exact(&mut bytes).map_err(io)?;
    file.seek(SeekFrom::Start(from.max(LOG_HEADER_LEN as u64))).map_err(io)?;
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(read_log(&bytes)?.entries.into_iter().map(|e| e.value).collect())
}

/// A record and where it stands in its file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LogEntry {
    /// 0-based record number.
    pub record: u64,
    /// Byte offset of the record's frame header.
    pub offset: u64,
    pub value: LogRecord,
}

/// The end of a log that an interrupted append left behind (SPEC §8.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TornTail {
    /// Number the torn record would have had (0-based).
    pub record: u64,
    /// Where the valid part of the log ends and the torn bytes start.
    pub offset: u64,
    /// How many bytes were torn.
    pub bytes: u64,
}

/// Everything a log holds.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct LogContents {
    pub entries: Vec<LogEntry>,
    pub torn_tail: Option<TornTail>,
}

pub(crate) fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

pub(crate) fn header() -> [u8; LOG_HEADER_LEN] {
    let mut h = [0u8; LOG_HEADER_LEN];
    h[..8].copy_from_slice(&LOG_MAGIC);
    h[8..10].copy_from_slice(&LOG_VERSION.to_le_bytes());
    h
}

/// Parses a whole log held in memory.
///
/// A torn tail is reported in [`LogContents::torn_tail`], not as an error. A bad frame
/// that is followed by more data is corruption and an error naming the record and offset.
pub fn read_log(bytes: &[u8]) -> Result<LogContents, LogError> {
    if bytes.len() as u64 > MAX_LOG_BYTES {
        return Err(LogError::TooLarge { len: bytes.len() as u64, max: MAX_LOG_BYTES });
    }
    if bytes.len() < LOG_HEADER_LEN {
        // A log too short for its header is an interrupted create only if what is there
        // is a prefix of a valid header.
        if header().starts_with(bytes) {
            return Ok(LogContents {
                entries: Vec::new(),
                torn_tail: Some(TornTail { record: 0, offset: 0, bytes: bytes.len() as u64 }),
            });
        }
        return Err(LogError::BadMagic);
    }
    if bytes[..8] != LOG_MAGIC {
        return Err(LogError::BadMagic);
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != LOG_VERSION {
        return Err(LogError::Version(version));
    }
    if bytes[10..16].iter().any(|&b| b != 0) {
        return Err(LogError::Corrupt {
            record: 0,
            offset: 10,
            detail: "reserved header bytes are not zero".into(),
        });
    }
    let mut out = LogContents::default();
    let mut pos = LOG_HEADER_LEN;
    let mut record = 0u64;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let torn = |out: &mut LogContents| {
            out.torn_tail = Some(TornTail { record, offset: pos as u64, bytes: rest.len() as u64 });
        };
        // Zeros to the end are blocks the file system allocated for a write that never
        // landed: a torn tail, whatever their length.
        if rest.len() < FRAME_HEADER_LEN || rest.iter().all(|&b| b == 0) {
            torn(&mut out);
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        let corrupt = |detail: String| LogError::Corrupt { record, offset: pos as u64, detail };
        if len == 0 || len > MAX_RECORD_BYTES {
            return Err(corrupt(format!("record length {len} is outside 1..={MAX_RECORD_BYTES}")));
        }
        let end = FRAME_HEADER_LEN + len;
        if end > rest.len() {
            torn(&mut out);
            break;
        }
        let payload = &rest[FRAME_HEADER_LEN..end];
        if crc32fast::hash(payload) != crc {
            if end == rest.len() {
                // The last frame, complete in length but not in content.
                torn(&mut out);
                break;
            }
            return Err(corrupt("checksum mismatch (the record was changed or damaged)".into()));
        }
        let value = decode_exact::<LogRecord>(payload).map_err(|source| LogError::Malformed {
            record,
            offset: pos as u64,
            source,
        })?;
        out.entries.push(LogEntry { record, offset: pos as u64, value });
        record += 1;
        pos += end;
    }
    Ok(out)
}

/// An evidence log open for appending. It holds an exclusive lock on the file while open.
#[derive(Debug)]
pub struct EvidenceLog {
    path: PathBuf,
    file: File,
    len: u64,
    records: u64,
    pending: Vec<u8>,
}

impl EvidenceLog {
    /// Creates a new log; refuses to replace an existing file.
    pub fn create(path: &Path) -> Result<EvidenceLog, LogError> {
        let io = |source| LogError::Io { path: path.to_owned(), source };
        let mut file = crate::private_file().write(true).create_new(true).open(path).map_err(io)?;
        lock(&file, path)?;
        file.write_all(&header()).map_err(io)?;
        file.sync_all().map_err(io)?;
        sync_parent(path).map_err(io)?;
        Ok(EvidenceLog {
            path: path.to_owned(),
            file,
            len: LOG_HEADER_LEN as u64,
            records: 0,
            pending: Vec::new(),
        })
    }

    /// Opens an existing log to append to it, after checking all of it. A torn tail is cut
    /// off (and returned, so the caller can say so); any other damage is an error and the
    /// file is left untouched.
    pub fn open_append(path: &Path) -> Result<(EvidenceLog, LogContents), LogError> {
        let io = |source| LogError::Io { path: path.to_owned(), source };
        let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(io)?;
        lock(&file, path)?;
        let size = file.metadata().map_err(io)?.len();
        if size > MAX_LOG_BYTES {
            return Err(LogError::TooLarge { len: size, max: MAX_LOG_BYTES });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes).map_err(io)?;
        let contents = read_log(&bytes)?;
        let mut len = bytes.len() as u64;
        if let Some(t) = contents.torn_tail {
            len = t.offset.max(LOG_HEADER_LEN as u64);
            if t.offset < LOG_HEADER_LEN as u64 {
                // Torn inside the header: rewrite the header.
                file.set_len(0).map_err(io)?;
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                file.write_all(&header()).map_err(io)?;
            } else {
                file.set_len(len).map_err(io)?;
            }
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::Start(len)).map_err(io)?;
        let records = contents.entries.len() as u64;
        Ok((
            EvidenceLog { path: path.to_owned(), file, len, records, pending: Vec::new() },
            contents,
        ))
    }

    /// Buffers one record; it reaches the disk at the next [`EvidenceLog::sync`].
    pub fn append(&mut self, record: &LogRecord) -> Result<(), LogError> {
        let payload = encode(record);
        if payload.is_empty() || payload.len() > MAX_RECORD_BYTES {
            return Err(LogError::RecordTooLarge { len: payload.len(), max: MAX_RECORD_BYTES });
        }
        self.pending.extend_from_slice(&frame(&payload));
        self.records += 1;
        Ok(())
    }

    /// Writes the buffered records and waits until they are on disk. Called once per
    /// chunk, so a crash loses at most the chunk in progress.
    pub fn sync(&mut self) -> Result<(), LogError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let io = |source| LogError::Io { path: self.path.clone(), source };
        self.file.write_all(&self.pending).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.len += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Appends and syncs in one step.
    pub fn append_synced(&mut self, records: &[LogRecord]) -> Result<(), LogError> {
        for r in records {
            self.append(r)?;
        }
        self.sync()
    }

    /// Bytes on disk (synced).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Records appended, including any not yet synced.
    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One writer per log: the lock is held while the log is open and dies with the process
/// (an advisory `flock`), so a crashed session's log can be recovered but a live one
/// cannot be appended to by anyone else.
fn lock(file: &File, path: &Path) -> Result<(), LogError> {
    file.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => LogError::InUse { path: path.to_owned() },
        std::fs::TryLockError::Error(source) => LogError::Io { path: path.to_owned(), source },
    })
}

/// Whether another program holds the log open for writing (see [`EvidenceLog`]).
pub fn log_in_use(path: &Path) -> Result<bool, LogError> {
    let file = File::open(path).map_err(|source| LogError::Io { path: path.to_owned(), source })?;
    match lock(&file, path) {
        Ok(()) => Ok(false),
        Err(LogError::InUse { .. }) => Ok(true),
        Err(e) => Err(e),
    }
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
