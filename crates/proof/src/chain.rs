//! Chunk digests and the hash chain (SPEC §6).

use crate::hash::{Digest, tag, tagged};
use crate::keys::PublicKey;
use crate::records::{Checkpoint, SessionId, StartRecord, Timestamp};

/// `h(p) = H("dualrec/packet/v1" || 0 || u32le(len) || p)`.
pub fn packet_hash(packet: &[u8]) -> Digest {
    // Opus packets are at most 1275 bytes per frame and 120 ms; anything near u32::MAX
    // cannot occur, and saturating keeps the function total.
    let len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
    tagged(tag::PACKET, &[&len.to_le_bytes(), packet])
}

/// `d = H("dualrec/chunk/v1" || 0 || u32le(n) || h(p_1) || ... || h(p_n))`.
///
/// The digest depends on the packets alone: the signed checkpoint binds the session and
/// the index, and a content-only digest lets a verifier find a chunk wherever an edit
/// has moved it (SPEC §9.3).
pub fn chunk_digest(packet_hashes: &[Digest]) -> Digest {
    let n = u32::try_from(packet_hashes.len()).unwrap_or(u32::MAX);
    let mut h = sha2::Sha256::new();
    use sha2::Digest as _;
    h.update(tag::CHUNK.as_bytes());
    h.update([0u8]);
    h.update(n.to_le_bytes());
    for ph in packet_hashes {
        h.update(ph.0);
    }
    Digest(h.finalize().into())
}

/// Accumulates one chunk's packets on the producer side.
#[derive(Debug, Default, Clone)]
pub struct ChunkDigester {
    hashes: Vec<Digest>,
    samples: u32,
}

impl ChunkDigester {
    pub fn new() -> ChunkDigester {
        ChunkDigester::default()
    }

    /// Adds one packet that decodes to `samples` samples.
    pub fn push(&mut self, packet: &[u8], samples: u32) {
        self.hashes.push(packet_hash(packet));
        self.samples = self.samples.saturating_add(samples);
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn packet_count(&self) -> usize {
        self.hashes.len()
    }

    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// The digest of what was pushed, and the digester emptied for the next chunk.
    pub fn finish(&mut self) -> (Digest, u32, u32) {
        let d = chunk_digest(&self.hashes);
        let n = u32::try_from(self.hashes.len()).unwrap_or(u32::MAX);
        let s = self.samples;
        self.hashes.clear();
        self.samples = 0;
        (d, n, s)
    }
}

/// One producer's position in its chain: the next index and the last chain value.
#[derive(Debug, Clone)]
pub struct ChainState {
    session: SessionId,
    prev: Digest,
    next_index: u64,
    next_packet: u64,
    next_sample: u64,
}

impl ChainState {
    /// `c_{-1} = H("dualrec/chain-genesis/v1" || 0 || start_hash || producer_key)`.
    pub fn genesis(start: &StartRecord, producer: &PublicKey) -> Digest {
        tagged(tag::GENESIS, &[&start.hash().0, &producer.0])
    }

    /// `c_i = H("dualrec/chain/v1" || 0 || c_{i-1} || d_i)`.
    pub fn step(prev: &Digest, digest: &Digest) -> Digest {
        tagged(tag::CHAIN, &[&prev.0, &digest.0])
    }

    pub fn new(start: &StartRecord, producer: &PublicKey) -> ChainState {
        ChainState {
            session: start.session,
            prev: Self::genesis(start, producer),
            next_index: 0,
            next_packet: 0,
            next_sample: 0,
        }
    }

    /// Resumes after chunk `last` (crash recovery): the next chunk is `last.index + 1`.
    pub fn resume(last: &Checkpoint) -> ChainState {
        ChainState {
            session: last.session,
            prev: last.chain,
            next_index: last.index + 1,
            next_packet: last.first_packet + u64::from(last.packet_count),
            next_sample: last.first_sample + u64::from(last.samples),
        }
    }

    /// Number of chunks committed so far.
    pub fn chunks(&self) -> u64 {
        self.next_index
    }

    /// Chain value after the last committed chunk (genesis before the first).
    pub fn last_chain(&self) -> Digest {
        self.prev
    }

    /// Sample position where the next chunk starts.
    pub fn next_sample(&self) -> u64 {
        self.next_sample
    }

    /// Records a gap in capture (e.g. an overrun): the next chunk starts `samples` later.
    pub fn skip_samples(&mut self, samples: u64) {
        self.next_sample += samples;
    }

    /// Commits the chunk held by `digester` and returns its (unsigned) checkpoint.
    pub fn commit(&mut self, digester: &mut ChunkDigester, time: Timestamp) -> Checkpoint {
        let (digest, packet_count, samples) = digester.finish();
        let cp = self.next_body(packet_count, samples, digest, time);
        self.advance(&cp);
        cp
    }

    /// The checkpoint of the next chunk, if it has these contents: session, index,
    /// positions and chain value follow from this state.
    pub fn next_body(
        &self,
        packet_count: u32,
        samples: u32,
        digest: Digest,
        time: Timestamp,
    ) -> Checkpoint {
        Checkpoint {
            session: self.session,
            index: self.next_index,
            first_packet: self.next_packet,
            packet_count,
            first_sample: self.next_sample,
            samples,
            digest,
            chain: Self::step(&self.prev, &digest),
            time,
        }
    }

    /// Moves past `cp`, the next chunk's checkpoint.
    fn advance(&mut self, cp: &Checkpoint) {
        self.prev = cp.chain;
        self.next_index = cp.index + 1;
        self.next_packet = cp.first_packet + u64::from(cp.packet_count);
        self.next_sample = cp.first_sample + u64::from(cp.samples);
    }
}

/// Why a received checkpoint was refused (SPEC §7.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    #[error("checkpoint of another session ({0})")]
    WrongSession(SessionId),
    #[error("checkpoint signed by {0}, who is not the expected producer")]
    WrongSigner(PublicKey),
    #[error("checkpoint signature does not verify")]
    BadSignature,
    #[error("checkpoint {got} arrived, expected {expected}")]
    OutOfOrder { expected: u64, got: u64 },
    #[error("checkpoint {0} does not continue the producer's chain")]
    ChainBroken(u64),
    #[error("checkpoint {0} differs from the one already accepted for that chunk")]
    Equivocation(u64),
}

/// The receiver's view of one producer's chain: accepts each checkpoint only after its
/// signature, session, index and chain link check out.
#[derive(Debug, Clone)]
pub struct PeerChain {
    producer: PublicKey,
    /// Where the producer's chain stands after the last accepted checkpoint.
    state: ChainState,
    /// Hash of every accepted checkpoint, by index (32 bytes a second: ~1 MB for 8 h).
    accepted: Vec<Digest>,
}

impl PeerChain {
    pub fn new(start: &StartRecord, producer: PublicKey) -> PeerChain {
        PeerChain { producer, state: ChainState::new(start, &producer), accepted: Vec::new() }
    }

    /// The checkpoint body the producer signed if its next chunk has these contents:
    /// the fields a receiver already knows (session, index, positions, chain value) are
    /// filled in from this chain (SPEC §12.4).
    pub fn next_body(
        &self,
        packet_count: u32,
        samples: u32,
        digest: Digest,
        time: Timestamp,
    ) -> Checkpoint {
        self.state.next_body(packet_count, samples, digest, time)
    }

    /// The producer whose chain this is.
    pub fn producer(&self) -> PublicKey {
        self.producer
    }

    /// Hash of the checkpoint accepted for chunk `index`, if any.
    pub fn accepted_hash(&self, index: u64) -> Option<Digest> {
        self.accepted.get(usize::try_from(index).ok()?).copied()
    }

    /// Checks `cp` and, if it is the next link, advances. A checkpoint already accepted
    /// (a retransmission after a reconnect) is `Ok(false)`: receipt it again, store nothing.
    pub fn accept(
        &mut self,
        cp: &crate::records::Signed<Checkpoint>,
    ) -> Result<bool, CheckpointError> {
        if cp.body.session != self.state.session {
            return Err(CheckpointError::WrongSession(cp.body.session));
        }
        if cp.signer != self.producer {
            return Err(CheckpointError::WrongSigner(cp.signer));
        }
        if !cp.verify() {
            return Err(CheckpointError::BadSignature);
        }
        if cp.body.index < self.state.next_index {
            return match self.accepted.get(cp.body.index as usize) {
                Some(h) if *h == cp.hash() => Ok(false),
                _ => Err(CheckpointError::Equivocation(cp.body.index)),
            };
        }
        if cp.body.index != self.state.next_index {
            return Err(CheckpointError::OutOfOrder {
                expected: self.state.next_index,
                got: cp.body.index,
            });
        }
        if ChainState::step(&self.state.prev, &cp.body.digest) != cp.body.chain {
            return Err(CheckpointError::ChainBroken(cp.body.index));
        }
        self.state.advance(&cp.body);
        self.accepted.push(cp.hash());
        Ok(true)
    }

    /// Checkpoints accepted so far.
    pub fn accepted(&self) -> u64 {
        self.state.next_index
    }
}
