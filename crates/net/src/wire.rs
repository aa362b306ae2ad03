//! The wire protocol `/dualrec/1` (SPEC §12): one request, one response, canonical
//! bincode (SPEC §2), at most 64 KiB each.

use bincode::{Decode, Encode};
use dualrec_proof::{
    Checkpoint, Digest, EndRecord, PartySignature, Receipt, Signed, StartRecord, decode_exact,
    encode,
};

use crate::NetError;

/// The libp2p protocol name.
pub const PROTOCOL: &str = "/dualrec/1";
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
    pub fn from_bytes(bytes: &[u8]) -> Result<Request, NetError> {
        Ok(decode_exact(bytes)?)
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Response, NetError> {
        Ok(decode_exact(bytes)?)
    }
}
