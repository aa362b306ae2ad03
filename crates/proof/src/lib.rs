//! dualrec's evidence core.
//!
//! This crate owns everything a court's expert needs to check a dualrec recording
//! without trusting the dualrec app: device identity keys, the co-signed session start
//! and end records, the per-chunk digest and hash chain, signed checkpoints and receipts,
//! the append-only evidence log file, and the verifier with its report.
//!
//! It implements `proto/SPEC.md`: §2 (canonical encoding), §3 (hashes and signatures), §4
//! (identity), §5 (session records), §6 (chunks and the chain), §7 (checkpoints, receipts
//! and capture gaps), §8 (the evidence log) and §9 (verification rules). It works on Opus
//! packets with their sample positions, never on files or devices, and has no async
//! runtime, so it builds and runs where there is no sound stack and no network.

#![forbid(unsafe_code)]

mod chain;
mod codec;
mod error;
mod hash;
mod keys;
mod log;
mod records;
pub mod sim;
mod verify;

pub use chain::{ChainState, CheckpointError, ChunkDigester, PeerChain, chunk_digest, packet_hash};
pub use codec::{MAX_RECORD_BYTES, decode_exact, encode};
pub use error::{DecodeError, KeyError, LogError, RecordError, VerifyError};
pub use hash::{Digest, Sha256Stream, sha256, tagged as tagged_hash};
pub use keys::{Fingerprint, Identity, PublicKey, Signature};
pub use log::{
    EvidenceLog, LOG_HEADER_LEN, LOG_MAGIC, LogContents, LogEntry, LogRecord, TornTail, log_in_use,
    read_log, read_log_tail,
};
pub use records::{
    AudioParams, CaptureGap, Checkpoint, CoSigned, EndReason, EndRecord, Party, PartyFinal,
    PartySignature, Receipt, SessionId, Signed, StartRecord, Timestamp,
};
/// Options for opening a file that only its owner may read or write (mode 0600 on Unix,
/// applied when the file is created): keys, recordings and evidence logs.
pub fn private_file() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut opts = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    opts
}

/// Creates `path` and any missing parents as folders only the owner can open (0700 on
/// Unix); folders that exist are left as they are.
pub fn create_private_dir_all(path: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

pub use verify::{
    Axes, Axis, AxisState, ChunkReport, ChunkStatus, ClockOffset, Damage, EndFacts, ExcerptFacts,
    ExcerptPlace, ExpectedParty, FileRegion, Finding, OmittedPacket, Packet, PartyFacts, Playback,
    REPORT_SCHEMA, Recording, RegionKind, Report, SessionFacts, Severity, Totals, Verdict,
    Verifier, VerifyOptions, Witnessed,
};
