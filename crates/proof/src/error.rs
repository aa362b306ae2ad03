//! Typed errors, comparable in tests.

use std::path::PathBuf;

/// A canonical decoding failed (SPEC §2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is larger than any valid object.
    #[error("object of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// The bytes do not decode as the expected object.
    #[error("malformed: {detail}")]
    Malformed { detail: String },
    /// The object decoded but bytes were left over.
    #[error("{} trailing bytes after a {used}-byte object", len - used)]
    TrailingBytes { used: usize, len: usize },
}

/// A decoded record breaks a rule of SPEC §5–§7 (a value out of range).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("unsupported format version {0}")]
    Version(u16),
    #[error("a session needs 2 to {max} parties, this one has {got}")]
    PartyCount { got: usize, max: usize },
    #[error("party {index} has an empty name or one longer than {max} bytes")]
    PartyName { index: usize, max: usize },
    #[error("party key {0} appears twice")]
    DuplicateParty(String),
    #[error("party key {0} is not a valid ed25519 public key")]
    BadPartyKey(String),
    #[error("audio parameters not supported: {0}")]
    Audio(&'static str),
    #[error("{got} signatures for {parties} parties")]
    SignatureCount { got: usize, parties: usize },
    #[error("signature {index} is by {signer}, expected {expected}")]
    SignerOrder { index: usize, signer: String, expected: String },
    #[error("signature {index} by {signer} does not verify")]
    BadSignature { index: usize, signer: String },
    #[error("signer {0} is not a party of the session")]
    NotAParty(String),
    #[error("end record finals: {0}")]
    Finals(&'static str),
}

/// Loading or saving a device identity failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("cannot read or write key file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "key file {path} is readable by other users (mode {mode:o}); \
         run `chmod 600 {path}` if this is your key"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("key file {path} is not a dualrec identity ({detail})")]
    Format { path: PathBuf, detail: &'static str },
    #[error("key file {path} already exists; refusing to overwrite an identity")]
    Exists { path: PathBuf },
}

/// Reading or appending to an evidence log failed (SPEC §8).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    #[error("evidence log {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("not an evidence log: bad magic at offset 0")]
    BadMagic,
    #[error("evidence log version {0} is not supported (this program reads version 1)")]
    Version(u16),
    #[error("evidence log is {len} bytes, larger than the {max}-byte limit")]
    TooLarge { len: u64, max: u64 },
    #[error("record {record} at offset {offset}: {detail}")]
    Corrupt { record: u64, offset: u64, detail: String },
    #[error("record {record} at offset {offset}: {source}")]
    Malformed { record: u64, offset: u64, source: DecodeError },
    #[error("record of {len} bytes exceeds the {max}-byte limit")]
    RecordTooLarge { len: usize, max: usize },
    #[error(
        "evidence log {path} is open for writing by another program (a session still recording?)"
    )]
    InUse { path: PathBuf },
}

/// The verifier could not produce a report at all (as opposed to findings in a report).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("no evidence log holds a start record co-signed by all its parties")]
    NoSession,
    #[error("the evidence holds {0} different sessions; say which one the recording belongs to")]
    AmbiguousSession(usize),
    #[error("session {0} is not in the evidence")]
    SessionNotFound(String),
    #[error("the recording's producer {0} is not a party of the session")]
    ProducerNotParty(String),
    #[error("the excerpt's place cannot be right: {0}")]
    BadExcerpt(&'static str),
}
