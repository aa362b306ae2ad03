//! The verifier (SPEC §9, rules version 3): a recording's packets against any number of
//! evidence logs, judged on three axes — integrity, witnessing, completeness — each
//! resting only on signatures that can support it. The rule throughout: a claim in a
//! party's favour never rests on that party's own signatures.

mod align;
mod ends;
mod judge;
mod run;
mod screen;
mod timeline;
mod witness;

use serde::Serialize;

use crate::hash::Digest;
use crate::keys::PublicKey;
use crate::records::{AudioParams, EndReason, SessionId};

pub use run::Verifier;

/// Version of the report's structure (the `schema` field of its JSON).
pub const REPORT_SCHEMA: u32 = 3;

/// One Opus packet of the recording and the sample position (48 kHz) where it starts.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Packet {
    pub position: u64,
    pub data: Vec<u8>,
}

/// What the recording's container tells a player (RFC 7845 `OpusHead` and the last
/// page): the fields that change what a listener hears.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Playback {
    pub channels: u8,
    pub pre_skip: u16,
    /// Q7.8 dB, as in `OpusHead`.
    pub output_gain: i16,
    /// Granule position of the end-of-stream page; `None` when the file has no end of
    /// stream (cut off by a crash).
    pub final_granule: Option<u64>,
    /// Sample position just after the last packet (where decoding ends).
    pub audio_end: u64,
}

/// What is being verified: one party's recording, as packets.
#[derive(Clone, Debug)]
pub struct Recording<'a> {
    pub packets: &'a [Packet],
    /// The party that made the recording (from its OpusTags).
    pub producer: PublicKey,
    /// The session the recording names (from its OpusTags), if known.
    pub session: Option<SessionId>,
    /// SHA-256 of the whole recording file, if the caller has the file.
    pub file_sha256: Option<Digest>,
    /// The container's playback fields, if the caller read them.
    pub playback: Option<Playback>,
    /// Stretches of the recording the container could not give (pages whose checksum
    /// fails): their packets are not in `packets`.
    pub damaged: &'a [Damage],
    /// For an excerpt, where it lies in the recording it was cut from (SPEC §11.5).
    pub excerpt: Option<&'a ExcerptPlace>,
}

/// A packet an excerpt leaves out of a chunk it holds in part: its duration and its
/// `h(p)` (SPEC §6.2, §11.5).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct OmittedPacket {
    pub samples: u32,
    pub hash: Digest,
}

/// An excerpt's place in the recording it was cut from, as its tags state it (SPEC
/// §11.5). Nothing here is trusted: the verifier places chunks by their signatures.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct ExcerptPlace {
    /// Index in the recording of the excerpt's first packet.
    pub first_packet: u64,
    /// That packet's position in the recording (48 kHz samples).
    pub first_sample: u64,
    /// The packets of the first chunk before the excerpt's first packet.
    pub head: Vec<OmittedPacket>,
    /// The packets of the last chunk after the excerpt's last packet.
    pub tail: Vec<OmittedPacket>,
}

impl ExcerptPlace {
    /// The place of an excerpt holding `keep` of a recording's `packets`, whose chunks
    /// are the packet ranges `chunks` (in order); `samples` gives a packet's duration.
    /// The omitted packets are those of the chunks holding the excerpt's first and last
    /// packets that lie outside it (SPEC §11.5).
    pub fn cut(
        packets: &[Packet],
        chunks: &[std::ops::Range<usize>],
        keep: std::ops::Range<usize>,
        samples: impl Fn(&Packet) -> u32,
    ) -> ExcerptPlace {
        let chunk_of = |k: usize| chunks.iter().find(|c| c.contains(&k)).cloned();
        let omitted = |r: std::ops::Range<usize>| -> Vec<OmittedPacket> {
            packets
                .get(r)
                .unwrap_or_default()
                .iter()
                .map(|p| OmittedPacket {
                    samples: samples(p),
                    hash: crate::chain::packet_hash(&p.data),
                })
                .collect()
        };
        let head = chunk_of(keep.start).map_or(0..0, |c| c.start..keep.start);
        let tail = keep
            .end
            .checked_sub(1)
            .filter(|_| !keep.is_empty())
            .and_then(chunk_of)
            .map_or(0..0, |c| keep.end..c.end);
        ExcerptPlace {
            first_packet: keep.start as u64,
            first_sample: packets.get(keep.start).map_or(0, |p| p.position),
            head: omitted(head),
            tail: omitted(tail),
        }
    }
}

/// What the report says of an excerpt (SPEC §9.5, excerpt mode).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ExcerptFacts {
    /// The excerpt named its place (§11.5); otherwise it was verified as an excerpt on
    /// request.
    pub placed: bool,
    /// Where the excerpt's audio lies on the recording's timeline, from the signed
    /// checkpoints of the first chunk found in it; `None` when no chunk was found.
    pub first_sample: Option<u64>,
    pub end_sample: Option<u64>,
    /// Packets of chunks held in part that the excerpt gives as hashes only.
    pub head_packets: u64,
    pub tail_packets: u64,
}

/// A stretch of a recording that could not be read (a damaged page), on the recording's
/// timeline.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Damage {
    pub first_sample: u64,
    pub samples: u64,
    /// Byte offset of the damaged page in the file.
    pub offset: u64,
}

/// A party the person running the verification expects, by fingerprint.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ExpectedParty {
    /// How the person calls this party (their words, shown back to them).
    pub label: String,
    /// 20 hex digits, with or without dashes (SPEC §4.2).
    pub fingerprint: String,
}

/// Knobs of the verification.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// A chunk whose commitment the witness receipted within this time after the chunk's
    /// audio ended (on the witness's own clock) was witnessed live. Default 10 s.
    pub live_threshold_ms: u64,
    /// The recording is an excerpt: chunks before its first and after its last matching
    /// chunk are outside it rather than removed.
    pub excerpt: bool,
    /// Keys the session must have; a party with another key is a problem.
    pub expect: Vec<ExpectedParty>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { live_threshold_ms: 10_000, excerpt: false, expect: Vec::new() }
    }
}

/// How a chunk's commitment reached a witness.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Witnessed {
    /// The party whose receipt this rests on.
    pub witness: PublicKey,
    /// Receipt time on the witness's session clock minus the end of the chunk's audio
    /// on the recording's timeline, ms.
    pub delay_ms: i64,
    /// The chunk index whose receipt it is: this chunk's own, or a later one whose
    /// chain value commits to it (SPEC §9.6).
    pub via_index: u64,
}

/// What the verifier concluded about one chunk of the producer's recording.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChunkStatus {
    /// In place, and another party receipted it within the threshold.
    WitnessedLive(Witnessed),
    /// In place, receipted by another party, but later than the threshold.
    WitnessedLate(Witnessed),
    /// In place and committed by its producer, but no other party's receipt covers it.
    SignedOnly,
    /// The recording holds different audio where this chunk should be.
    Altered,
    /// The chunk was committed but its audio is not in the recording.
    Removed,
    /// The chunk's audio is in the recording, intact, but at another place.
    Moved { found_at_packet: u64 },
    /// No evidence given holds or proves this chunk's commitment.
    NotCovered,
    /// The chunk's audio lies in a part of the file that cannot be read (a damaged page).
    Damaged,
    /// Excerpt mode: the chunk lies outside the excerpt.
    OutsideExcerpt,
}

/// One chunk and its verdict.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ChunkReport {
    pub index: u64,
    /// Where the chunk belongs on the recording's timeline (samples at 48 kHz).
    pub first_sample: u64,
    pub samples: u32,
    /// Where its audio was found in the recording (packet index), if it was.
    pub found_at_packet: Option<u64>,
    /// The chunk's own checkpoint is in no log given; the checkpoints on either side
    /// prove its audio through the chain.
    pub proven_by_chain: bool,
    #[serde(flatten)]
    pub status: ChunkStatus,
}

/// What a stretch of the recording's audio is, when it is not a chunk in its place.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RegionKind {
    /// Audio between two consecutive committed chunks (or before the first, or after
    /// the last the producer itself signed as its end): no one committed it.
    Inserted,
    /// Audio standing where these committed chunks should be.
    Replaces { chunks: Vec<u64> },
    /// A second copy of a committed chunk that is also found elsewhere.
    Duplicate { of: u64 },
    /// A version of a chunk that only its producer signed, differing from the version
    /// the other party witnessed (a re-signed chunk).
    Resigned { of: u64 },
    /// Audio where no evidence given holds the commitments (chunks `from..=to`, or
    /// after the last known chunk when `to` is `None`); the logs named in the report
    /// would settle it.
    NotCovered { from: u64, to: Option<u64> },
    /// Excerpt mode: audio at the excerpt's start or end, shorter than a chunk, belonging
    /// to a chunk the excerpt holds in part, that nothing proves (no hashes of the rest of
    /// that chunk were given, or wrong ones). Not proven, not blamed.
    Edge,
}

/// Audio in the recording not accounted for by a committed chunk in its place.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct FileRegion {
    pub first_packet: u64,
    pub packets: u64,
    /// Sample positions in the recording file (from the packets' positions).
    pub start_sample: u64,
    pub end_sample: u64,
    #[serde(flatten)]
    pub kind: RegionKind,
}

/// What a finding bears on.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A fact a clean session can have.
    Fact,
    /// About a log file or a record that was set aside; the verdict does not rest on it.
    Ignored,
    /// Undermines the recording or the evidence of it.
    Problem,
}

/// Something the evidence shows besides the per-chunk verdicts. Findings about signed
/// records name the key that signed them (`signer`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// A log ended in a torn record (an interrupted write), which was not used.
    LogTornTail { log: String, record: u64, offset: u64, bytes: u64 },
    /// A record's signature does not verify; the record was set aside.
    BadSignature { log: String, record: u64, offset: u64, what: String, claimed_signer: PublicKey },
    /// A record signed by a key that is not a party of the session; set aside.
    NonPartySigner { log: String, record: u64, offset: u64, signer: PublicKey },
    /// A record of another session; set aside.
    ForeignSession { log: String, record: u64, offset: u64, session: SessionId },
    /// A start record that is not validly co-signed by all its parties; set aside.
    BadStart { log: String, record: u64, offset: u64, detail: String },
    /// An end record that does not verify against the session; set aside.
    BadEnd { log: String, record: u64, offset: u64, detail: String },
    /// Two different start records, both co-signed, for the same session.
    ConflictingStart,
    /// Ends signed by the producer and another party give different accounts of the
    /// producer's recording.
    ConflictingEnd { signers: Vec<PublicKey> },
    /// The producer signed two or more different checkpoints for one chunk.
    Equivocation { index: u64, versions: usize, signer: PublicKey },
    /// A checkpoint's chain value or position does not follow from the previous one.
    ChainBroken { index: u64, signer: PublicKey },
    /// No log given holds the producer's checkpoints for these chunks; `proven` when the
    /// chain through the recording's audio proves them anyway.
    EvidenceGap { first: u64, last: u64, proven: bool },
    /// No valid end record for the session.
    NoEnd,
    /// An end signed by only some of the parties.
    OneSidedEnd { signed_by: Vec<PublicKey> },
    /// An end the producer signed gives an account of its recording (chunks, last chain
    /// value) that contradicts its checkpoints.
    EndMismatch { detail: String, signers: Vec<PublicKey> },
    /// A party other than the producer signed, alone, an account of the producer's
    /// recording: that party's claim, not a fact; not used.
    PeerClaim { signer: PublicKey, chunks: u64 },
    /// The file's SHA-256 differs from the one signed at the end while its audio packets
    /// are exactly the committed ones: the container was rewritten (remux, tags).
    ContainerRewritten { signed: Digest, actual: Digest, signers: Vec<PublicKey> },
    /// The file's SHA-256 differs from the one signed at the end, and its audio differs too.
    FileHashMismatch { signed: Digest, actual: Digest, signers: Vec<PublicKey> },
    /// A container field that changes what a listener hears differs from what the
    /// session committed to (SPEC §9.8).
    PlaybackAltered { field: String, committed: i64, found: i64 },
    /// A chunk's signed length differs from the length of its audio packets.
    SampleCountMismatch { index: u64, signed: u64, actual: u64, signer: PublicKey },
    /// The producer stated, signed at `stated_at_ms` on its own session clock, that its
    /// input was lost here and silence recorded in its place. `late` when it was stated
    /// more than the live threshold after the gap: an afterthought, not a live record.
    CaptureGap { first_sample: u64, samples: u64, stated_at_ms: u64, late: bool },
    /// A witness's receipts give times that cannot be true: before the chunk's audio had
    /// ended on the recording's own timeline, or absurd. `count` receipts, the first for
    /// chunk `first_index`; they were not used.
    ImpossibleReceiptTime {
        witness: PublicKey,
        first_index: u64,
        count: u64,
        receipt_ms: u64,
        audio_end_ms: u64,
    },
    /// No party of the session has the fingerprint the verifier was told to expect.
    UnexpectedParty { label: String, expected: String },
    /// Part of the file cannot be read (a page whose checksum fails), at this offset.
    DamagedFile { first_sample: u64, samples: u64, offset: u64 },
    /// An excerpt's tags put it elsewhere than the signed checkpoint of the first chunk
    /// found in it (`index`).
    ExcerptMisplaced {
        index: u64,
        stated_packet: u64,
        signed_packet: u64,
        stated_sample: u64,
        signed_sample: u64,
    },
}

impl Finding {
    /// How much the finding bears on the verdict.
    pub fn severity(&self) -> Severity {
        match self {
            Finding::LogTornTail { .. }
            | Finding::NoEnd
            | Finding::OneSidedEnd { .. }
            | Finding::CaptureGap { .. }
            | Finding::ContainerRewritten { .. }
            | Finding::EvidenceGap { .. } => Severity::Fact,
            Finding::BadSignature { .. }
            | Finding::NonPartySigner { .. }
            | Finding::ForeignSession { .. }
            | Finding::BadStart { .. }
            | Finding::BadEnd { .. }
            | Finding::PeerClaim { .. } => Severity::Ignored,
            _ => Severity::Problem,
        }
    }

    /// True for findings that undermine the recording or the evidence of it.
    pub fn is_problem(&self) -> bool {
        self.severity() == Severity::Problem
    }
}

/// A session party as the report shows it. The name is the party's own choice; the
/// fingerprint identifies its device.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PartyFacts {
    pub key: PublicKey,
    pub fingerprint: String,
    pub name: String,
}

/// One valid end record of the session.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct EndFacts {
    pub ended_by: PublicKey,
    pub reason: EndReason,
    pub ended_at_ms: u64,
    pub signed_by: Vec<PublicKey>,
    /// The parties whose recordings this end gives an account of.
    pub accounts_for: Vec<PublicKey>,
    pub one_sided: bool,
}

/// Offset of another party's wall clock relative to the producer's: information only,
/// no verdict rests on it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ClockOffset {
    pub peer: PublicKey,
    /// Peer clock minus producer clock, ms.
    pub offset_ms: i64,
    /// `two_way` when both directions' receipts were available, `one_way` otherwise.
    pub method: &'static str,
}

/// The facts of the session.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SessionFacts {
    pub session: SessionId,
    pub parties: Vec<PartyFacts>,
    pub producer: PublicKey,
    pub audio: AudioParams,
    /// The proposer's wall clock when it proposed the session (Unix ms), as co-signed.
    pub started_at_ms: u64,
    /// Every valid end record, those signed by the most parties first.
    pub ends: Vec<EndFacts>,
    /// Who ended the session, when every co-signed end agrees.
    pub ended_by: Option<PublicKey>,
    pub clock_offsets: Vec<ClockOffset>,
}

/// The state of one axis of the verdict.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AxisState {
    /// Integrity: every packet is exactly the committed audio, in place.
    Exact,
    /// Integrity: the audio packets are exactly the committed ones; the file around them
    /// was rewritten (a remux, tags).
    ContainerRewritten,
    /// Integrity: audio altered, removed, inserted or moved, or the commitments conflict.
    Altered,
    /// Integrity: the audio is as committed but the container changes how it plays.
    PlaybackAltered,
    /// Integrity: part of the audio is covered by no evidence given.
    PartlyUncovered,
    /// Integrity: part of the file cannot be read; the rest is as committed.
    Damaged,
    /// Witnessing: every chunk witnessed live by another party.
    AllLive,
    /// Witnessing: some chunks witnessed only late.
    SomeLate,
    /// Witnessing: some chunks not witnessed by another party at all.
    SomeUnwitnessed,
    /// Completeness: an end co-signed by another party accounts for the recording, and
    /// it holds every chunk that end counts.
    Complete,
    /// Completeness: chunks another party witnessed or co-signed are not in the file.
    Incomplete,
    /// Completeness: no end co-signed by another party; what came after the last chunk
    /// it witnessed is unknown.
    NotEstablished,
    /// Completeness: co-signed ends disagree.
    Disputed,
}

/// One axis of the verdict and the keys whose signatures it rests on.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Axis {
    pub holds: bool,
    pub state: AxisState,
    pub rests_on: Vec<PublicKey>,
    /// Completeness only: the last chunk another party's receipts cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnessed_through: Option<u64>,
}

/// The three axes.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Axes {
    pub integrity: Axis,
    pub witnessing: Axis,
    pub completeness: Axis,
}

/// Counts of chunks by verdict.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct Totals {
    pub chunks: u64,
    pub witnessed_live: u64,
    pub witnessed_late: u64,
    pub signed_only: u64,
    pub altered: u64,
    pub removed: u64,
    pub moved: u64,
    pub not_covered: u64,
    pub damaged: u64,
    pub outside_excerpt: u64,
    pub proven_by_chain: u64,
    /// Regions of audio not accounted for in place.
    pub regions: u64,
    pub signatures_checked: u64,
}

/// Overall verdict.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// All three axes hold and no problem was found.
    Intact,
    /// At least one axis does not hold, or a problem was found.
    Problems,
}

/// The verifier's full answer.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Report {
    pub schema: u32,
    pub verdict: Verdict,
    pub axes: Axes,
    pub session: SessionFacts,
    pub chunks: Vec<ChunkReport>,
    /// Audio in the recording not accounted for by a committed chunk in place.
    pub regions: Vec<FileRegion>,
    pub findings: Vec<Finding>,
    pub totals: Totals,
    /// Set in excerpt mode.
    pub excerpt: Option<ExcerptFacts>,
}
