//! Typed errors that say what and where.

use std::path::PathBuf;

/// Writing or reading a recording failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error("recording {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("recording {path} already exists; refusing to overwrite it")]
    Exists { path: PathBuf },
    #[error("not an Ogg file: no page starts at offset {offset}")]
    NotOgg { offset: u64 },
    #[error("an Ogg file, but not Opus: {detail}")]
    NotOpus { detail: String },
    #[error("page {page} at offset {offset} is damaged: {detail}")]
    CorruptPage { page: u64, offset: u64, detail: String },
    #[error("bad {header} header: {detail}")]
    BadHeader { header: &'static str, detail: String },
    #[error("packet {packet}: {detail}")]
    BadPacket { packet: u64, detail: String },
    #[error("recording of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: u64, max: u64 },
    #[error("the recording has no audio packet to end the stream with")]
    NothingToEnd,
    #[error("the excerpt's {key} tag cannot be read: {detail}")]
    BadExcerptTag { key: &'static str, detail: String },
    #[error("this file is already an excerpt; cut excerpts from the whole recording")]
    AlreadyExcerpt,
}
