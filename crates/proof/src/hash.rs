//! SHA-256 with domain separation (SPEC §3.1).

use bincode::{Decode, Encode};
use sha2::{Digest as _, Sha256};

/// A SHA-256 output.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Encode, Decode)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// All-zero digest, used nowhere in the chain; handy as a placeholder in tests.
    pub const ZERO: Digest = Digest([0; 32]);

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Digest> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Digest(out))
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// Plain SHA-256 of `data` (no domain tag), e.g. of a whole recording file.
pub fn sha256(data: &[u8]) -> Digest {
    Digest(Sha256::digest(data).into())
}

/// Plain SHA-256 over data that arrives in pieces (a whole recording file).
#[derive(Clone, Default)]
pub struct Sha256Stream(Sha256);

impl std::fmt::Debug for Sha256Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha256Stream")
    }
}

impl Sha256Stream {
    pub fn new() -> Sha256Stream {
        Sha256Stream::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> Digest {
        Digest(self.0.finalize().into())
    }
}

/// `H(tag, parts...) = SHA-256(tag || 0x00 || parts...)` (SPEC §3.1): every hash in the
/// protocol goes through here.
pub fn tagged(tag: &str, parts: &[&[u8]]) -> Digest {
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    h.update([0u8]);
    for p in parts {
        h.update(p);
    }
    Digest(h.finalize().into())
}

/// Domain tags, one per hashed or signed object (SPEC §3.2).
pub(crate) mod tag {
    pub(crate) const START_SIG: &str = "dualrec/start/v1";
    pub(crate) const END_SIG: &str = "dualrec/end/v1";
    pub(crate) const CHECKPOINT_SIG: &str = "dualrec/checkpoint/v1";
    pub(crate) const RECEIPT_SIG: &str = "dualrec/receipt/v1";
    pub(crate) const GAP_SIG: &str = "dualrec/gap/v1";
    pub(crate) const START_HASH: &str = "dualrec/start-hash/v1";
    pub(crate) const GENESIS: &str = "dualrec/chain-genesis/v1";
    pub(crate) const CHAIN: &str = "dualrec/chain/v1";
    pub(crate) const PACKET: &str = "dualrec/packet/v1";
    pub(crate) const CHUNK: &str = "dualrec/chunk/v1";
    pub(crate) const CHECKPOINT_HASH: &str = "dualrec/checkpoint-hash/v1";
    pub(crate) const FINGERPRINT: &str = "dualrec/fingerprint/v1";
}
