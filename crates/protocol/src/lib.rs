//! dualrec's sans-I/O core: everything two (or more) devices say to each other during a
//! meeting, and what each does about it, with no clock, no files and no network.
//!
//! - the wire messages and live frames (`proto/SPEC.md` §12.1–12.2, §12.4);
//! - the live exchange with one party: its checkpoints checked against its chain before
//!   anything is stored, this device's checkpoints kept until receipted (§12.4–12.5);
//! - starting and ending in step (§12.3);
//! - the [`Meeting`]: inputs (packets, frames, link changes, time, the person's stop) in,
//!   actions (write, append, send, events) out, for any number of parties;
//! - [`Catchup`]: finishing the witnessing of an earlier meeting the next time the devices
//!   meet (§12.6);
//! - pairing by people: the commit-then-reveal short code (§13), as two small state
//!   machines ([`PairingInitiator`], [`PairingResponder`]).
//!
//! The executor (`dualrec-session`) runs it on real audio, files and sockets; the
//! simulator in `tests/` runs it on simulated ones, deterministically.

#![forbid(unsafe_code)]

mod catchup;
mod exchange;
mod handshake;
mod meeting;
mod pairing;
mod wire;

pub use catchup::{Catchup, CatchupError};
pub use exchange::{Exchange, ExchangeError, Handled};
pub use handshake::{HandshakeError, Proposal, acknowledge_stop, consent, end_countersigned};
pub use meeting::{
    Action, Event, Input, Meeting, MeetingConfig, PartyState, Refusal, RequestId, Summary,
};
pub use pairing::{
    PairingCode, PairingError, PairingInitiator, PairingResponder, pairing_commitment,
};
pub use wire::{
    CompactCheckpoint, CompactGap, CompactReceipt, LIVE_PROTOCOL, LiveFrame, PROTOCOL, Request,
    Response, WIRE_VERSION,
};
