//! dualrec's recording container: standard Ogg Opus files (RFC 7845).
//!
//! This crate owns writing and reading the recording: the OpusHead and OpusTags headers
//! (the tags name the session and the producer's key, so a file names its own evidence),
//! granule positions, a page flushed and synced at every chunk boundary so a crash loses
//! at most the chunk in progress, the end-of-stream page whose granule trims the encoder's
//! padding, and reading a file back as the packet sequence of `proto/SPEC.md` §6.1 —
//! including a file cut off mid-page by a crash, up to its last whole page (SPEC §11) —
//! and excerpts, a stretch of a recording as a file of its own that states its place
//! (§11.5).
//!
//! It needs neither a sound stack nor libopus: packet durations come from the Opus TOC
//! byte (RFC 6716 §3.1), so a court's expert can read recordings anywhere.

#![forbid(unsafe_code)]

mod error;
mod excerpt;
mod opus_toc;
mod reader;
mod tags;
mod writer;

pub use error::MediaError;
pub use excerpt::{
    TAG_EXCERPT_HEAD, TAG_EXCERPT_PACKET, TAG_EXCERPT_SAMPLE, TAG_EXCERPT_TAIL, write_excerpt,
};
pub use opus_toc::{SILENT_PACKET, packet_samples};
pub use reader::{RecordingFile, Truncation, chunk_ranges, read_recording};
pub use tags::{OpusHead, OpusTags, TAG_FORMAT, TAG_PRODUCER, TAG_SESSION};
pub use writer::{FinishedRecording, RecordingWriter, finish_interrupted};
