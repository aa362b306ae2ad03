//! The wire protocol (SPEC §12): `/dualrec/1`, one request and one response per stream;
//! and `/dualrec/live/1`, one long-lived stream each way carrying checkpoints and
//! receipts in compact form. Canonical bincode (SPEC §2), at most 64 KiB a message.

use bincode::{Decode, Encode};
use dualrec_proof::{
    CaptureGap, Checkpoint, DecodeError, Digest, EndRecord, PartySignature, Receipt, Signature,
    Signed, StartRecord, Timestamp, decode_exact, encode,
};

/// The libp2p protocol name.
pub const PROTOCOL: &str = "/dualrec/1";
/// The live stream's protocol name.
pub const LIVE_PROTOCOL: &str = "/dualrec/live/1";
/// Version carried in `Hello`.
pub const WIRE_VERSION: u16 = 1;

/// What one device asks the other. The variant index is the message type of SPEC §12.2.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
#[non_exhaustive]
pub enum Request {
    /// First message on a new link: versions and the display name.
    Hello { version: u16, name: String },
    /// Pairing step 1: the initiator's commitment to its nonce.
    PairCommit { commitment: Digest },
    /// Pairing step 3: the initiator reveals its nonce.
    PairReveal { nonce: [u8; 32] },
    /// Pairing step 4: the person's answer to "do the codes match?".
    PairConfirm { accepted: bool },
    /// A session proposal, signed by the proposer.
    Propose { start: StartRecord, signature: PartySignature },
    /// A checkpoint to witness.
    Checkpoint(Signed<Checkpoint>),
    /// The end of the session, signed by the side that stops.
    Stop { end: EndRecord, signature: PartySignature },
    /// Liveness, every second.
    Ping { nonce: u64 },
}

/// The answer to a [`Request`].
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
#[non_exhaustive]
pub enum Response {
    Hello {
        version: u16,
        name: String,
    },
    /// Pairing step 2: the responder's nonce.
    PairNonce {
        nonce: [u8; 32],
    },
    /// The reveal matched the commitment; both sides now show the code.
    PairRevealed,
    PairConfirm {
        accepted: bool,
    },
    /// Consent to a proposal: the responder's signature over the same start record.
    Consent {
        signature: PartySignature,
    },
    /// The witness's signed receipt.
    Receipt(Signed<Receipt>),
    /// The end record, co-signed.
    StopAck {
        signature: PartySignature,
    },
    Pong {
        nonce: u64,
    },
    /// The request was refused; `reason` is for logs and people, not for machines.
    Refused {
        reason: String,
    },
}

impl Request {
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a request: size-capped, no trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Request, DecodeError> {
        decode_exact(bytes)
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Response, DecodeError> {
        decode_exact(bytes)
    }
}

/// A signed checkpoint without the fields its receiver already knows (SPEC §12.4): the
/// session, the signer (the peer), the positions and the chain value follow from the
/// receiver's view of the producer's chain ([`dualrec_proof::PeerChain::next_body`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct CompactCheckpoint {
    /// Chunk index (`u32`: 136 years of one-second chunks).
    pub index: u32,
    pub packet_count: u32,
    pub samples: u32,
    pub digest: Digest,
    pub time: Timestamp,
    pub signature: Signature,
}

/// A signed receipt without the signer (the peer) and the checkpoint hash (the producer
/// holds its checkpoint `index`) (SPEC §12.4).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct CompactReceipt {
    pub index: u32,
    pub time: Timestamp,
    pub signature: Signature,
}

/// A signed capture gap (SPEC §7.3) without the session and the signer (the peer).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct CompactGap {
    pub first_sample: u64,
    pub samples: u64,
    pub time: Timestamp,
    pub signature: Signature,
}

/// One message on the live stream. The variant index is its type (SPEC §12.4).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
#[non_exhaustive]
pub enum LiveFrame {
    Checkpoint(CompactCheckpoint),
    Receipt(CompactReceipt),
    Gap(CompactGap),
}

impl CompactGap {
    pub fn of(g: &Signed<CaptureGap>) -> CompactGap {
        CompactGap {
            first_sample: g.body.first_sample,
            samples: g.body.samples,
            time: g.body.time,
            signature: g.signature,
        }
    }
}

impl CompactCheckpoint {
    pub fn of(cp: &Signed<Checkpoint>) -> CompactCheckpoint {
        CompactCheckpoint {
            index: compact_index(cp.body.index),
            packet_count: cp.body.packet_count,
            samples: cp.body.samples,
            digest: cp.body.digest,
            time: cp.body.time,
            signature: cp.signature,
        }
    }
}

impl CompactReceipt {
    pub fn of(index: u64, r: &Signed<Receipt>) -> CompactReceipt {
        CompactReceipt { index: compact_index(index), time: r.body.time, signature: r.signature }
    }
}

/// An index past `u32` (never reached) becomes one the peer refuses as out of order.
fn compact_index(index: u64) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl LiveFrame {
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a frame: size-capped, no trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<LiveFrame, DecodeError> {
        decode_exact(bytes)
    }
}
