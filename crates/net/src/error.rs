//! Typed errors.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    #[error("not an address: {0:?} (expected host:port or a multiaddr)")]
    Address(String),
    #[error("network: {0}")]
    Transport(String),
    #[error("this device has not been paired")]
    NotPaired,
    #[error("the network node has stopped")]
    Stopped,
    #[error("trusted-devices file {path}: {detail}")]
    TrustStore { path: PathBuf, detail: String },
}
