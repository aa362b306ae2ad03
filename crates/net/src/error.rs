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
    #[error("not an address: {0:?} (expected host:port or a multiaddr)")]
    Address(String),
    #[error("network: {0}")]
    Transport(String),
    #[error("this device has not been paired")]
    NotPaired,
    #[error("the other device refused: {0}")]
    Refused(String),
    #[error("session: {0}")]
    Session(String),
    #[error("the network node has stopped")]
    Stopped,
    #[error("trusted-devices file {path}: {detail}")]
    TrustStore { path: PathBuf, detail: String },
}
