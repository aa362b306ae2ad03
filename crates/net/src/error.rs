//! Typed errors.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    #[error("message rejected: {0}")]
    Decode(#[from] dualrec_proof::DecodeError),
    #[error("pairing failed: the other device's reveal does not match its commitment")]
    CommitmentMismatch,
    #[error("pairing failed: {0}")]
    Pairing(&'static str),
    #[error("trusted-devices file {path}: {detail}")]
    TrustStore { path: PathBuf, detail: String },
}
