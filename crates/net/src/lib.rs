//! dualrec's link between two devices.
//!
//! This crate carries `dualrec-protocol`'s messages (`proto/SPEC.md` §12) between devices:
//! the libp2p node (TCP, Noise, Yamux, mDNS discovery, identify, raw streams) with
//! liveness pings and redial, pairing by people with a short authentication string
//! (SPEC §13), and the list of devices a person has confirmed. What a message means during
//! a meeting is the protocol crate's business, not this one's.
//!
//! Every message from the network is hostile until checked: decoding caps sizes and
//! rejects trailing bytes, and nothing is handed on for storage before its signature and
//! session are checked.

#![forbid(unsafe_code)]

mod error;
mod node;
mod trust;

pub use error::NetError;
pub use node::{
    DEFAULT_PORT, NodeConfig, NodeEvent, NodeHandle, PairingFailure, ip_port, parse_address, start,
    typeable,
};
pub use trust::{TrustedDevice, TrustedDevices};
