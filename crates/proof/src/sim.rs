//! Synthetic sessions: deterministic parties, packets, logs, for tests, test vectors,
//! benchmarks and the demo. Nothing here is used to record real meetings.

use crate::chain::{ChainState, ChunkDigester};
use crate::keys::Identity;
use crate::log::LogRecord;
use crate::records::{
    AudioParams, Checkpoint, CoSigned, EndReason, EndRecord, Party, PartyFinal, SessionId, Signed,
    StartRecord, Timestamp,
};
use crate::verify::{Packet, Recording};

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Number of one-second chunks each party records.
    pub chunks: u64,
    /// Average Opus packet size in bytes (80 ≈ 32 kbit/s at 20 ms).
    pub packet_bytes: usize,
    /// Varies keys, session id and audio.
    pub seed: u8,
    /// One-way network delay, ms.
    pub latency_ms: u64,
    /// Party 1's wall clock minus party 0's, ms.
    pub clock_skew_ms: i64,
    /// Chunks during which the link is down: their receipts arrive when it is back.
    pub outage: Option<std::ops::Range<u64>>,
    /// Whether both parties sign an end record.
    pub end: bool,
    /// Chunks during which both recordings hold digital silence: the same packets, so
    /// the same digest, second after second.
    pub silence: Option<std::ops::Range<u64>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            chunks: 30,
            packet_bytes: 80,
            seed: 1,
            latency_ms: 3,
            clock_skew_ms: 0,
            outage: None,
            end: true,
            silence: None,
        }
    }
}

/// A simulated two-party session.
#[derive(Debug)]
pub struct SimSession {
    pub start: CoSigned<StartRecord>,
    pub identities: Vec<Identity>,
    /// Each party's recording, as packets.
    pub recordings: Vec<Vec<Packet>>,
    /// Each party's evidence log, as records in the order they were appended.
    pub logs: Vec<Vec<LogRecord>>,
}

impl SimSession {
    /// `packets` as party `party`'s recording of this session, for the verifier (no file
    /// hash, no container fields, nothing damaged).
    pub fn recording<'a>(&self, party: usize, packets: &'a [Packet]) -> Recording<'a> {
        Recording {
            packets,
            producer: self.identities[party].public(),
            session: Some(self.start.record.session),
            file_sha256: None,
            playback: None,
            damaged: &[],
            excerpt: None,
        }
    }

    /// The checkpoints party `party` signed for its own recording, in order (from its log).
    pub fn own_checkpoints(&self, party: usize) -> Vec<Signed<Checkpoint>> {
        let key = self.identities[party].public();
        self.logs[party]
            .iter()
            .filter_map(|r| match r {
                LogRecord::Checkpoint(c) if c.signer == key => Some(*c),
                _ => None,
            })
            .collect()
    }
}

/// An Opus packet of 20 ms of digital silence (CELT, one frame).
pub const SILENT_PACKET: [u8; 3] = [0xf8, 0xff, 0xfe];

/// Base wall clock of simulated sessions: 2026-09-21T10:00:00Z.
pub const SIM_EPOCH_MS: u64 = 1_790_071_200_000;

/// A deterministic identity: seed bytes `[tag; 32]` with the index mixed in.
pub fn sim_identity(seed: u8, index: u8) -> Identity {
    let mut s = [seed; 32];
    s[0] = index;
    s[31] = 0xd2;
    Identity::from_seed(&s)
}

/// Deterministic pseudo-random packet bytes (xorshift), ~`avg` bytes long.
pub fn sim_packets(seed: u64, count: usize, avg: usize) -> Vec<Vec<u8>> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..count)
        .map(|_| {
            let spread = (avg / 4).max(1);
            let len = avg - spread / 2 + (next() as usize % spread).max(1);
            (0..len).map(|_| next() as u8).collect()
        })
        .collect()
}

/// Runs a whole session between two simulated devices.
pub fn simulate(cfg: &SimConfig) -> SimSession {
    let identities = vec![sim_identity(cfg.seed, 0), sim_identity(cfg.seed, 1)];
    let audio = AudioParams::default_voice();
    let record = StartRecord {
        version: StartRecord::VERSION,
        session: SessionId([cfg.seed; 16]),
        parties: vec![
            Party { key: identities[0].public(), name: "Parent".into() },
            Party { key: identities[1].public(), name: "Social worker".into() },
        ],
        audio,
        started_at_ms: SIM_EPOCH_MS,
    };
    let signatures = identities.iter().map(|id| record.sign(id)).collect();
    let start = CoSigned { record, signatures };

    let per_chunk = audio.packets_per_chunk() as usize;
    let skew = [0i64, cfg.clock_skew_ms];
    let clock = |party: usize, a_ms: u64| Timestamp {
        wall_ms: (SIM_EPOCH_MS as i64 + a_ms as i64 + skew[party]) as u64,
        mono_ms: a_ms,
    };
    let mut recordings = vec![Vec::new(), Vec::new()];
    let mut logs: Vec<Vec<LogRecord>> = vec![vec![LogRecord::Start(start.clone())]; 2];
    let mut chains: Vec<ChainState> =
        identities.iter().map(|id| ChainState::new(&start.record, &id.public())).collect();
    let mut digesters = [ChunkDigester::new(), ChunkDigester::new()];

    for i in 0..cfg.chunks {
        let close_ms = (i + 1) * 1000;
        let deliver_ms = match &cfg.outage {
            Some(o) if o.contains(&i) => o.end * 1000 + 500 + cfg.latency_ms,
            _ => close_ms + cfg.latency_ms,
        };
        let mut cps: Vec<Signed<crate::records::Checkpoint>> = Vec::new();
        for party in 0..2 {
            let seed = (u64::from(cfg.seed) << 40) ^ ((party as u64) << 32) ^ i;
            let packets = match &cfg.silence {
                Some(s) if s.contains(&i) => vec![SILENT_PACKET.to_vec(); per_chunk],
                _ => sim_packets(seed, per_chunk, cfg.packet_bytes),
            };
            for data in packets {
                let position = recordings[party].len() as u64 * u64::from(audio.frame_samples);
                digesters[party].push(&data, audio.frame_samples);
                recordings[party].push(Packet { position, data });
            }
            let cp =
                chains[party].commit(&mut digesters[party], clock(party, close_ms + party as u64));
            cps.push(cp.sign(&identities[party]));
        }
        for party in 0..2 {
            let peer = 1 - party;
            let receipt =
                cps[party].receipt(&identities[peer], clock(peer, deliver_ms + party as u64));
            // The producer logs its checkpoint and, once back, the peer's receipt; the
            // receiver logs the checkpoint and its own receipt.
            logs[party].push(LogRecord::Checkpoint(cps[party]));
            logs[party].push(LogRecord::Receipt(receipt));
            logs[peer].push(LogRecord::Checkpoint(cps[party]));
            logs[peer].push(LogRecord::Receipt(receipt));
        }
    }
    if cfg.end {
        let end = EndRecord {
            session: start.record.session,
            ended_by: identities[0].public(),
            reason: EndReason::Stopped,
            ended_at_ms: SIM_EPOCH_MS + cfg.chunks * 1000 + 200,
            finals: chains
                .iter()
                .zip(&identities)
                .map(|(c, id)| PartyFinal {
                    party: id.public(),
                    chunks: c.chunks(),
                    last_chain: c.last_chain(),
                    recording_sha256: None,
                })
                .collect(),
        };
        let signatures = identities.iter().map(|id| end.sign(id)).collect();
        let end = CoSigned { record: end, signatures };
        for log in &mut logs {
            log.push(LogRecord::End(end.clone()));
        }
    }
    SimSession { start, identities, recordings, logs }
}

/// A log file's bytes holding `records`, exactly as [`crate::EvidenceLog`] writes them.
pub fn log_bytes(records: &[LogRecord]) -> Vec<u8> {
    let mut out = crate::log::header().to_vec();
    for r in records {
        out.extend_from_slice(&crate::log::frame(&r.to_bytes()));
    }
    out
}
