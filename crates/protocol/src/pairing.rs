//! Pairing by people (SPEC §13): commit, exchange, reveal, then both screens show the same
//! six digits, or a man in the middle is exposed.
//!
//! The keys are the ones the transport authenticated (the Noise handshake proves each
//! side holds its key), so a relay that substitutes its own key changes what each side
//! hashes, and the two codes differ. The initiator commits to its nonce before it sees the
//! responder's, so neither side can search for nonces that make a chosen code: an attacker
//! gets one guess in a million per attempt, and every attempt is a visible failed pairing.

use dualrec_proof::{Digest, PublicKey, tagged_hash};
use rand_core::RngCore as _;

const COMMIT_TAG: &str = "dualrec/pair-commit/v1";
const CODE_TAG: &str = "dualrec/pair-code/v1";

/// The six digits both people compare.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PairingCode(pub u32);

/// Why a pairing step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PairingError {
    /// The initiator's reveal does not match its commitment: someone may be interfering.
    #[error("the other device's reveal does not match its commitment")]
    CommitmentMismatch,
    /// A reveal came before any commitment.
    #[error("a reveal came before the commitment")]
    RevealBeforeCommitment,
}

impl std::fmt::Display for PairingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:03} {:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// `H("dualrec/pair-commit/v1", initiator, nonce)`.
pub fn pairing_commitment(initiator: &PublicKey, nonce: &[u8; 32]) -> Digest {
    tagged_hash(COMMIT_TAG, &[&initiator.0, nonce])
}

fn code(initiator: &PublicKey, responder: &PublicKey, ni: &[u8; 32], nr: &[u8; 32]) -> PairingCode {
    let d = tagged_hash(CODE_TAG, &[&initiator.0, &responder.0, ni, nr]);
    PairingCode(u32::from_le_bytes([d.0[0], d.0[1], d.0[2], d.0[3]]) % 1_000_000)
}

fn fresh_nonce() -> [u8; 32] {
    let mut n = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut n);
    n
}

/// The side that starts pairing.
#[derive(Debug)]
pub struct PairingInitiator {
    own: PublicKey,
    peer: PublicKey,
    nonce: [u8; 32],
}

impl PairingInitiator {
    /// `own` is this device's key; `peer` the key the transport authenticated.
    pub fn new(own: PublicKey, peer: PublicKey) -> PairingInitiator {
        Self::with_nonce(own, peer, fresh_nonce())
    }

    /// With a chosen nonce (test vectors).
    pub fn with_nonce(own: PublicKey, peer: PublicKey, nonce: [u8; 32]) -> PairingInitiator {
        PairingInitiator { own, peer, nonce }
    }

    /// Step 1: what to send first.
    pub fn commitment(&self) -> Digest {
        pairing_commitment(&self.own, &self.nonce)
    }

    /// Step 3: given the responder's nonce, the nonce to reveal and the code to show.
    pub fn reveal(&self, responder_nonce: &[u8; 32]) -> ([u8; 32], PairingCode) {
        (self.nonce, code(&self.own, &self.peer, &self.nonce, responder_nonce))
    }
}

/// The side that answers a pairing.
#[derive(Debug)]
pub struct PairingResponder {
    own: PublicKey,
    peer: PublicKey,
    nonce: [u8; 32],
    commitment: Option<Digest>,
}

impl PairingResponder {
    pub fn new(own: PublicKey, peer: PublicKey) -> PairingResponder {
        Self::with_nonce(own, peer, fresh_nonce())
    }

    pub fn with_nonce(own: PublicKey, peer: PublicKey, nonce: [u8; 32]) -> PairingResponder {
        PairingResponder { own, peer, nonce, commitment: None }
    }

    /// Step 2: store the commitment, answer with our nonce.
    pub fn on_commit(&mut self, commitment: Digest) -> [u8; 32] {
        self.commitment = Some(commitment);
        self.nonce
    }

    /// Step 3: check the reveal against the commitment; the code to show.
    pub fn on_reveal(&self, initiator_nonce: &[u8; 32]) -> Result<PairingCode, PairingError> {
        let c = self.commitment.ok_or(PairingError::RevealBeforeCommitment)?;
        if pairing_commitment(&self.peer, initiator_nonce) != c {
            return Err(PairingError::CommitmentMismatch);
        }
        Ok(code(&self.peer, &self.own, initiator_nonce, &self.nonce))
    }
}
