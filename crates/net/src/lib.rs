//! dualrec's link between two devices.
//!
//! This crate owns what crosses the network: the wire messages (`proto/SPEC.md` §12),
//! the live stream of compact checkpoints and receipts and its delivery rules ([`Exchange`],
//! SPEC §12.4–12.5), pairing by people with a short authentication string (SPEC §13), and
//! the list of devices a person has confirmed; and the libp2p node that carries them (TCP,
//! Noise, Yamux, mDNS discovery, identify, raw streams), with liveness pings and redial.
//!
//! Every message from the network is hostile until checked: decoding caps sizes and
//! rejects trailing bytes, and nothing is handed on for storage before its signature and
//! session are checked.

#![forbid(unsafe_code)]

mod error;
mod exchange;
mod node;
mod pairing;
mod session_msgs;
mod trust;
mod wire;

pub use error::NetError;
pub use exchange::{Exchange, ExchangeError, Handled};
pub use node::{
    DEFAULT_PORT, InboundId, NodeConfig, NodeEvent, NodeHandle, ip_port, parse_address, start,
    typeable,
};
pub use pairing::{PairingCode, PairingInitiator, PairingResponder, pairing_commitment};
pub use session_msgs::{acknowledge_stop, consent, propose, stop};
pub use trust::{TrustedDevice, TrustedDevices};
pub use wire::{
    CompactCheckpoint, CompactGap, CompactReceipt, LIVE_PROTOCOL, LiveFrame, PROTOCOL, Request,
    Response, WIRE_VERSION,
};
