//! dualrec's link between two devices.
//!
//! This crate owns what crosses the network: the wire messages (`proto/SPEC.md` §12),
//! pairing by people with a short authentication string (SPEC §13), and the list of
//! devices a person has confirmed. Transport (libp2p: discovery, TCP, Noise) is built on
//! top of these pieces.
//!
//! Every message from the network is hostile until checked: decoding caps sizes and
//! rejects trailing bytes, and nothing is handed on for storage before its signature and
//! session are checked.

#![forbid(unsafe_code)]

mod error;
mod pairing;
mod trust;
mod wire;

pub use error::NetError;
pub use pairing::{PairingCode, PairingInitiator, PairingResponder, pairing_commitment};
pub use trust::{TrustedDevice, TrustedDevices};
pub use wire::{PROTOCOL, Request, Response, WIRE_VERSION};
