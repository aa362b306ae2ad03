//! Session records, checkpoints and receipts (SPEC §5, §7).

use bincode::{Decode, Encode};

use crate::codec::encode;
use crate::error::RecordError;
use crate::hash::{Digest, tag, tagged};
use crate::keys::{Identity, PublicKey, Signature};

/// Random 128-bit session identifier.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Encode, Decode)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    pub fn random() -> SessionId {
        use rand_core::RngCore as _;
        let mut b = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut b);
        SessionId(b)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<SessionId> {
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(SessionId(out))
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionId({})", self.to_hex())
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl serde::Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// A device's clock reading: wall clock (Unix epoch, ms) and its monotonic clock
/// (ms since that device's session started), so a wall-clock jump is visible.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Encode, Decode, serde::Serialize)]
pub struct Timestamp {
    pub wall_ms: u64,
    pub mono_ms: u64,
}

impl Timestamp {
    /// The session clock at wall clock `wall_ms`, continued from this reading by the wall
    /// clock: for a program that ended, whose monotonic clock died with it (SPEC §12.6,
    /// §12.7).
    pub fn continued_to(self, wall_ms: u64) -> u64 {
        self.mono_ms.saturating_add(wall_ms.saturating_sub(self.wall_ms))
    }
}

/// How the audio is encoded and cut into chunks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Encode, Decode, serde::Serialize)]
pub struct AudioParams {
    /// 1 = Opus (the only codec of format version 1).
    pub codec: u8,
    pub sample_rate: u32,
    pub channels: u8,
    /// Samples per Opus packet (960 = 20 ms at 48 kHz).
    pub frame_samples: u32,
    /// Samples per chunk (48000 = 1 s at 48 kHz).
    pub chunk_samples: u32,
    /// Target bitrate, bits per second (informative).
    pub bitrate: u32,
}

impl AudioParams {
    pub const OPUS: u8 = 1;

    /// 48 kHz mono Opus, 20 ms packets, 1 s chunks, 32 kbit/s.
    pub const fn default_voice() -> AudioParams {
        AudioParams {
            codec: Self::OPUS,
            sample_rate: 48_000,
            channels: 1,
            frame_samples: 960,
            chunk_samples: 48_000,
            bitrate: 32_000,
        }
    }

    /// Packets in a full chunk.
    pub fn packets_per_chunk(&self) -> u32 {
        self.chunk_samples / self.frame_samples.max(1)
    }

    fn validate(&self) -> Result<(), RecordError> {
        if self.codec != Self::OPUS {
            return Err(RecordError::Audio("codec must be 1 (Opus)"));
        }
        if self.sample_rate != 48_000 {
            return Err(RecordError::Audio("sample rate must be 48000"));
        }
        if !(1..=2).contains(&self.channels) {
            return Err(RecordError::Audio("channels must be 1 or 2"));
        }
        if ![120, 240, 480, 960, 1920, 2880].contains(&self.frame_samples) {
            return Err(RecordError::Audio("frame size is not an Opus frame size"));
        }
        if self.chunk_samples == 0
            || !self.chunk_samples.is_multiple_of(self.frame_samples)
            || self.chunk_samples > 60 * 48_000
        {
            return Err(RecordError::Audio(
                "chunk length must be a whole number of frames, at most 60 s",
            ));
        }
        Ok(())
    }
}

/// One participant: key and the display name the others saw when consenting.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct Party {
    pub key: PublicKey,
    pub name: String,
}

/// What everyone agreed to record (SPEC §5.1).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct StartRecord {
    /// Format version, 1.
    pub version: u16,
    pub session: SessionId,
    /// Two or more parties, in the order their signatures follow.
    pub parties: Vec<Party>,
    pub audio: AudioParams,
    /// Proposer's wall clock when the session was proposed (Unix ms).
    pub started_at_ms: u64,
}

impl StartRecord {
    pub const VERSION: u16 = 1;
    pub const MAX_PARTIES: usize = 16;
    pub const MAX_NAME_BYTES: usize = 64;

    /// Checks every range rule of SPEC §5.1.
    pub fn validate(&self) -> Result<(), RecordError> {
        if self.version != Self::VERSION {
            return Err(RecordError::Version(self.version));
        }
        let n = self.parties.len();
        if !(2..=Self::MAX_PARTIES).contains(&n) {
            return Err(RecordError::PartyCount { got: n, max: Self::MAX_PARTIES });
        }
        for (i, p) in self.parties.iter().enumerate() {
            if p.name.is_empty() || p.name.len() > Self::MAX_NAME_BYTES {
                return Err(RecordError::PartyName { index: i, max: Self::MAX_NAME_BYTES });
            }
            if !p.key.is_valid() {
                return Err(RecordError::BadPartyKey(p.key.to_hex()));
            }
            if self.parties[..i].iter().any(|q| q.key == p.key) {
                return Err(RecordError::DuplicateParty(p.key.to_hex()));
            }
        }
        self.audio.validate()
    }

    /// `H("dualrec/start-hash/v1" || 0 || enc(start))`: what the chain starts from.
    pub fn hash(&self) -> Digest {
        tagged(tag::START_HASH, &[&encode(self)])
    }

    pub fn party(&self, key: &PublicKey) -> Option<&Party> {
        self.parties.iter().find(|p| p.key == *key)
    }

    pub fn is_party(&self, key: &PublicKey) -> bool {
        self.party(key).is_some()
    }

    /// This party's signature over the record.
    pub fn sign(&self, identity: &Identity) -> PartySignature {
        PartySignature {
            signer: identity.public(),
            signature: identity.sign_tagged(tag::START_SIG, &encode(self)),
        }
    }

    /// Whether `sig` is a valid signature over this record by its signer.
    pub fn verify_signature(&self, sig: &PartySignature) -> bool {
        sig.signer.verify_tagged(tag::START_SIG, &encode(self), &sig.signature)
    }
}

/// Why a session ended.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Encode, Decode, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// A person pressed stop (the `ended_by` party).
    Stopped,
    /// The agreed duration was reached.
    DurationReached,
    /// The other device stopped answering; this side ended alone.
    PeerGone,
    /// The microphone failed or disappeared.
    CaptureFailed,
    /// The disk filled up or could not be written.
    StorageFailed,
    /// Finalised after a crash by `dualrec recover`.
    Recovered,
}

/// One party's final state, which everyone who signs the end record vouches for.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct PartyFinal {
    pub party: PublicKey,
    /// Number of chunks this party produced (indices `0..chunks`).
    pub chunks: u64,
    /// Chain value after the last chunk (the genesis value if `chunks == 0`).
    pub last_chain: Digest,
    /// SHA-256 of the party's whole recording file, if it was known when signing.
    pub recording_sha256: Option<Digest>,
}

/// How the session ended (SPEC §5.2). Signed by every party that took part in the end;
/// a one-sided end carries one signature.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct EndRecord {
    pub session: SessionId,
    pub ended_by: PublicKey,
    pub reason: EndReason,
    pub ended_at_ms: u64,
    pub finals: Vec<PartyFinal>,
}

impl EndRecord {
    pub fn sign(&self, identity: &Identity) -> PartySignature {
        PartySignature {
            signer: identity.public(),
            signature: identity.sign_tagged(tag::END_SIG, &encode(self)),
        }
    }

    /// Whether `sig` is a valid signature over this record by its signer.
    pub fn verify_signature(&self, sig: &PartySignature) -> bool {
        sig.signer.verify_tagged(tag::END_SIG, &encode(self), &sig.signature)
    }
}

/// A signature together with who made it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct PartySignature {
    pub signer: PublicKey,
    pub signature: Signature,
}

/// A record with one or more parties' signatures (start and end records).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct CoSigned<T> {
    pub record: T,
    pub signatures: Vec<PartySignature>,
}

impl CoSigned<StartRecord> {
    /// Checks the ranges and that every party signed, in party order.
    pub fn verify(&self) -> Result<(), RecordError> {
        self.record.validate()?;
        let parties = &self.record.parties;
        if self.signatures.len() != parties.len() {
            return Err(RecordError::SignatureCount {
                got: self.signatures.len(),
                parties: parties.len(),
            });
        }
        let body = encode(&self.record);
        for (i, (sig, party)) in self.signatures.iter().zip(parties).enumerate() {
            if sig.signer != party.key {
                return Err(RecordError::SignerOrder {
                    index: i,
                    signer: sig.signer.to_hex(),
                    expected: party.key.to_hex(),
                });
            }
            if !sig.signer.verify_tagged(tag::START_SIG, &body, &sig.signature) {
                return Err(RecordError::BadSignature { index: i, signer: sig.signer.to_hex() });
            }
        }
        Ok(())
    }
}

impl CoSigned<EndRecord> {
    /// Checks the end record against its session: one or more signatures, each by a
    /// distinct party, each valid; finals only for parties, at most one each.
    pub fn verify(&self, start: &StartRecord) -> Result<(), RecordError> {
        let r = &self.record;
        if r.finals.is_empty() || r.finals.len() > start.parties.len() {
            return Err(RecordError::Finals("between one and one per party"));
        }
        for (i, f) in r.finals.iter().enumerate() {
            if !start.is_party(&f.party) {
                return Err(RecordError::NotAParty(f.party.to_hex()));
            }
            if r.finals[..i].iter().any(|g| g.party == f.party) {
                return Err(RecordError::Finals("a party appears twice"));
            }
        }
        if !start.is_party(&r.ended_by) {
            return Err(RecordError::NotAParty(r.ended_by.to_hex()));
        }
        // Too many signatures means a non-party or a repeated signer, named below.
        if self.signatures.is_empty() {
            return Err(RecordError::SignatureCount {
                got: self.signatures.len(),
                parties: start.parties.len(),
            });
        }
        let body = encode(r);
        for (i, sig) in self.signatures.iter().enumerate() {
            if !start.is_party(&sig.signer) {
                return Err(RecordError::NotAParty(sig.signer.to_hex()));
            }
            if self.signatures[..i].iter().any(|s| s.signer == sig.signer) {
                return Err(RecordError::DuplicateParty(sig.signer.to_hex()));
            }
            if !sig.signer.verify_tagged(tag::END_SIG, &body, &sig.signature) {
                return Err(RecordError::BadSignature { index: i, signer: sig.signer.to_hex() });
            }
        }
        Ok(())
    }
}

/// The producer's signed statement about one chunk of its recording (SPEC §7.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct Checkpoint {
    pub session: SessionId,
    /// Chunk index, from 0.
    pub index: u64,
    /// Index of the chunk's first packet in the recording's packet sequence.
    pub first_packet: u64,
    pub packet_count: u32,
    /// Sample position (48 kHz) of the chunk's first sample in the recording.
    pub first_sample: u64,
    pub samples: u32,
    /// Chunk digest `d_i` (SPEC §6.2).
    pub digest: Digest,
    /// Chain value `c_i` (SPEC §6.3).
    pub chain: Digest,
    /// Producer's clock when the chunk was closed.
    pub time: Timestamp,
}

impl Checkpoint {
    pub fn sign(self, identity: &Identity) -> Signed<Checkpoint> {
        let signature = identity.sign_tagged(tag::CHECKPOINT_SIG, &encode(&self));
        Signed { body: self, signer: identity.public(), signature }
    }
}

/// A receiver's signed statement that it held a checkpoint at its clock's time (SPEC §7.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct Receipt {
    /// [`Signed::<Checkpoint>::hash`] of the checkpoint received.
    pub checkpoint: Digest,
    /// Receiver's clock when it had checked and stored the checkpoint.
    pub time: Timestamp,
}

impl Receipt {
    pub fn sign(self, identity: &Identity) -> Signed<Receipt> {
        let signature = identity.sign_tagged(tag::RECEIPT_SIG, &encode(&self));
        Signed { body: self, signer: identity.public(), signature }
    }
}

/// The producer's signed statement that its input was lost for a while and silence was
/// encoded in its place (SPEC §7.3): the audio there is real bytes, but no sound.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct CaptureGap {
    pub session: SessionId,
    /// Sample position (48 kHz) in the recording where the silence starts.
    pub first_sample: u64,
    /// How many samples of silence stand in for lost input.
    pub samples: u64,
    /// Producer's clock when the loss was noticed.
    pub time: Timestamp,
}

impl CaptureGap {
    pub fn sign(self, identity: &Identity) -> Signed<CaptureGap> {
        let signature = identity.sign_tagged(tag::GAP_SIG, &encode(&self));
        Signed { body: self, signer: identity.public(), signature }
    }
}

/// A body with one signature and the signer's key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Encode, Decode)]
pub struct Signed<T> {
    pub body: T,
    pub signer: PublicKey,
    pub signature: Signature,
}

/// Bodies that are signed alone ([`Signed`]), each with its own tag.
pub(crate) trait SignedBody: Encode + Sync {
    const TAG: &'static str;
}

impl SignedBody for Checkpoint {
    const TAG: &'static str = tag::CHECKPOINT_SIG;
}

impl SignedBody for Receipt {
    const TAG: &'static str = tag::RECEIPT_SIG;
}

impl SignedBody for CaptureGap {
    const TAG: &'static str = tag::GAP_SIG;
}

#[allow(private_bounds)]
impl<T: SignedBody> Signed<T> {
    /// Strict signature check (SPEC §3.3) by the named signer.
    pub fn verify(&self) -> bool {
        self.signer.verify_tagged(T::TAG, &encode(&self.body), &self.signature)
    }

    /// Checks many at once, in batches on all cores; the same answers as
    /// [`Signed::verify`] on each, several times faster.
    pub fn verify_all(items: &[Signed<T>]) -> Vec<bool> {
        Self::verify_refs(&items.iter().collect::<Vec<_>>())
    }

    /// [`Signed::verify_all`] over borrowed items.
    pub(crate) fn verify_refs(items: &[&Signed<T>]) -> Vec<bool> {
        use rayon::prelude::*;
        let triples: Vec<_> =
            items.par_iter().map(|s| (s.signer, s.signed_message(), s.signature)).collect();
        crate::keys::verify_many(&triples)
    }

    /// The exact bytes the signature covers: `tag || 0x00 || enc(body)`.
    pub(crate) fn signed_message(&self) -> Vec<u8> {
        crate::keys::tagged_message(T::TAG, &encode(&self.body))
    }
}

impl Signed<Checkpoint> {
    /// `H("dualrec/checkpoint-hash/v1" || 0 || enc(signed checkpoint))`: what receipts name.
    pub fn hash(&self) -> Digest {
        tagged(tag::CHECKPOINT_HASH, &[&encode(self)])
    }

    /// A receipt for this checkpoint, signed by `receiver`.
    pub fn receipt(&self, receiver: &Identity, time: Timestamp) -> Signed<Receipt> {
        Receipt { checkpoint: self.hash(), time }.sign(receiver)
    }
}
