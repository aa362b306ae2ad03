//! Finishing a session that a crash or power loss interrupted (SPEC §11.4).
//!
//! What a crash leaves: a recording without its end-of-stream page (perhaps with half a
//! page at its end) and an evidence log without this device's end record (perhaps with
//! half a record at its end). Everything before those tails was synced chunk by chunk.
//! Recovery keeps the interrupted file unchanged beside the finished one, checks that the
//! recording and the log tell the same story chunk by chunk, commits (late, and so never
//! "witnessed live") any whole chunk whose checkpoint the crash kept out of the log, and
//! signs this device's end with the reason "recovered".

use std::path::{Path, PathBuf};

use dualrec_media::{finish_interrupted, packet_samples, read_recording};
use dualrec_proof::{
    ChainState, Checkpoint, ChunkDigester, CoSigned, EndReason, EndRecord, EvidenceLog, Identity,
    LogRecord, PartyFinal, SessionId, StartRecord, Timestamp, log_in_use, read_log,
};

use crate::SessionError;

/// The finished recording of a session dir.
const RECORDING: &str = "recording.opus";
/// The recording as a crash left it, kept unchanged by recovery.
const INTERRUPTED: &str = "recording.interrupted.opus";
pub(crate) const EVIDENCE: &str = "evidence.log";

/// What recovery found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// The session had ended cleanly; nothing was changed.
    AlreadyFinished { session: SessionId },
    /// The session is finished now.
    Finished(Recovered),
}

/// A session finished by [`recover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub session: SessionId,
    pub recording: PathBuf,
    pub evidence: PathBuf,
    /// The recording exactly as the crash left it (absent if its end page was written).
    pub interrupted: Option<PathBuf>,
    /// Chunks in the finished recording, all committed in the log now.
    pub chunks: u64,
    /// Of those, chunks whose checkpoint was already in the log before the crash.
    pub committed_before: u64,
    /// Bytes of a half-written page the crash left at the end of the recording.
    pub recording_torn_bytes: u64,
    /// Bytes of a half-written record the crash left at the end of the log.
    pub log_torn_bytes: u64,
}

/// The name for the next part a crash leaves: `recording.interrupted.opus`, then
/// `recording.interrupted-2.opus`, … (a meeting rejoined and interrupted again).
pub(crate) fn next_part(dir: &Path) -> PathBuf {
    std::iter::once(dir.join(INTERRUPTED))
        .chain((2..).map(|n| dir.join(format!("recording.interrupted-{n}.opus"))))
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(INTERRUPTED))
}

/// The newest part a crash left, if any.
fn newest_part(dir: &Path) -> Option<PathBuf> {
    let first = dir.join(INTERRUPTED);
    if !first.is_file() {
        return None;
    }
    let later = (2..).map(|n| dir.join(format!("recording.interrupted-{n}.opus")));
    Some(later.take_while(|p| p.is_file()).last().unwrap_or(first))
}

/// A recording continued after a rejoin and interrupted again (no end page) is the newest
/// part: it is set aside, unchanged, like the first.
fn set_aside_continued(dir: &Path, rec: &Path) -> Result<(), SessionError> {
    if !rec.is_file() || newest_part(dir).is_none() {
        return Ok(());
    }
    let ended =
        std::fs::read(rec).ok().and_then(|b| read_recording(&b).ok()).is_some_and(|f| f.ended);
    if !ended {
        std::fs::rename(rec, next_part(dir))?;
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

pub(crate) fn not_a_session(dir: &Path, detail: impl Into<String>) -> SessionError {
    SessionError::NotASession { dir: dir.to_owned(), detail: detail.into() }
}

/// This device's part of a session log: the start it is a party of, its checkpoints, and
/// whether it has signed an end.
pub(crate) struct OwnPart {
    pub(crate) start: CoSigned<StartRecord>,
    checkpoints: Vec<Checkpoint>,
    pub(crate) ended: bool,
}

pub(crate) fn own_part(
    dir: &Path,
    identity: &Identity,
    records: impl Iterator<Item = LogRecord>,
) -> Result<OwnPart, SessionError> {
    let me = identity.public();
    let mut start: Option<CoSigned<StartRecord>> = None;
    let mut checkpoints = Vec::new();
    let mut ended = false;
    for record in records {
        match record {
            LogRecord::Start(s) if start.is_none() => {
                s.verify().map_err(|e| not_a_session(dir, format!("its start record: {e}")))?;
                start = Some(s);
            }
            LogRecord::Checkpoint(c) if c.signer == me => checkpoints.push(c.body),
            LogRecord::End(e)
                if e.record.finals.iter().any(|f| f.party == me)
                    && e.signatures.iter().any(|s| s.signer == me) =>
            {
                ended = true
            }
            _ => {}
        }
    }
    let start = start.ok_or_else(|| not_a_session(dir, "its evidence log has no start record"))?;
    if !start.record.is_party(&me) {
        return Err(not_a_session(
            dir,
            format!(
                "this device ({}) is not a party of session {}; recover it on the device that recorded it",
                me.fingerprint(),
                start.record.session
            ),
        ));
    }
    checkpoints.retain(|c| c.session == start.record.session);
    Ok(OwnPart { start, checkpoints, ended })
}

/// Whether the recording (finished or interrupted) in `dir` names `identity` as its
/// producer; only its first pages are read.
fn recording_made_by(dir: &Path, identity: &Identity) -> bool {
    use std::io::Read as _;
    [RECORDING, INTERRUPTED].iter().any(|name| {
        let mut head = Vec::new();
        std::fs::File::open(dir.join(name))
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
            .is_ok_and(|_| {
                read_recording(&head).is_ok_and(|f| f.tags.producer() == Some(identity.public()))
            })
    })
}

/// Sessions under `out_dir` that this device started and never ended, and that no
/// running program is writing: candidates for [`recover`].
pub fn unfinished_sessions(out_dir: &Path, identity: &Identity) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(out_dir) else { return Vec::new() };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|dir| {
            let log = dir.join(EVIDENCE);
            if !log.is_file() || log_in_use(&log).unwrap_or(true) {
                return false;
            }
            // Only sessions whose recording this device made (its tags say so).
            if !recording_made_by(dir, identity) {
                return false;
            }
            let Ok(bytes) = std::fs::read(&log) else { return false };
            let Ok(contents) = read_log(&bytes) else { return false };
            own_part(dir, identity, contents.entries.into_iter().map(|e| e.value))
                .is_ok_and(|p| !p.ended)
        })
        .collect();
    found.sort();
    found
}

/// Finishes the interrupted session in `dir` (`OUT/<session-id>`), signed by `identity`,
/// the device that recorded it. Safe to run again if it is itself interrupted; never
/// changes or removes a byte that was recorded.
pub fn recover(dir: &Path, identity: &Identity) -> Result<Recovery, SessionError> {
    let log_path = dir.join(EVIDENCE);
    if !log_path.is_file() {
        return Err(not_a_session(dir, format!("there is no {EVIDENCE} in it")));
    }
    // Opening for append takes the log's lock (a running session holds it) and cuts a
    // torn tail, which holds no complete record.
    let (mut log, contents) = EvidenceLog::open_append(&log_path)?;
    let log_torn_bytes = contents.torn_tail.map_or(0, |t| t.bytes);
    let part = own_part(dir, identity, contents.entries.into_iter().map(|e| e.value))?;
    let session = part.start.record.session;
    if part.ended {
        return Ok(Recovery::AlreadyFinished { session });
    }
    let rec_path = dir.join(RECORDING);
    set_aside_continued(dir, &rec_path)?;
    let kept_path = newest_part(dir).unwrap_or_else(|| dir.join(INTERRUPTED));
    // The source of truth is the interrupted file, once it has been set aside.
    let source = if kept_path.is_file() { kept_path.clone() } else { rec_path.clone() };
    let bytes = std::fs::read(&source).map_err(|e| {
        not_a_session(dir, format!("cannot read the recording {}: {e}", source.display()))
    })?;
    let file = read_recording(&bytes)?;
    if file.tags.session() != Some(session) || file.tags.producer() != Some(identity.public()) {
        return Err(not_a_session(
            dir,
            "the recording does not belong to this session and device (its tags say otherwise)",
        ));
    }
    let now = crate::now();
    let (chain, fresh) = replay(dir, identity, &part, &file, now)?;
    let interrupted = (!((file.ended || file.packets.is_empty()) && source == rec_path))
        .then(|| kept_path.clone());
    let finished_sha256 = finish_file(dir, &bytes, &file, &source, (&rec_path, &kept_path))?;

    let me = identity.public();
    let mut records: Vec<LogRecord> =
        fresh.into_iter().map(|cp| LogRecord::Checkpoint(cp.sign(identity))).collect();
    let end = EndRecord {
        session,
        ended_by: me,
        reason: EndReason::Recovered,
        ended_at_ms: now,
        finals: vec![PartyFinal {
            party: me,
            chunks: chain.chunks(),
            last_chain: chain.last_chain(),
            recording_sha256: Some(finished_sha256),
        }],
    };
    records.push(LogRecord::End(CoSigned { signatures: vec![end.sign(identity)], record: end }));
    log.append_synced(&records)?;
    Ok(Recovery::Finished(Recovered {
        session,
        recording: rec_path,
        evidence: log_path,
        interrupted,
        chunks: chain.chunks(),
        committed_before: part.checkpoints.len() as u64,
        recording_torn_bytes: file.truncated.map_or(0, |t| t.bytes),
        log_torn_bytes,
    }))
}

/// Replays the chain over the recording: it must agree with every logged checkpoint.
/// Returns the chain and the checkpoints of whole chunks the crash kept out of the log,
/// committed now (late: their time continues the session clock by the wall clock).
fn replay(
    dir: &Path,
    identity: &Identity,
    part: &OwnPart,
    file: &dualrec_media::RecordingFile,
    now: u64,
) -> Result<(ChainState, Vec<Checkpoint>), SessionError> {
    let per_chunk = part.start.record.audio.packets_per_chunk() as usize;
    let mut chain = ChainState::new(&part.start.record, &identity.public());
    let mut digester = ChunkDigester::new();
    let last_time = part.checkpoints.last().map(|c| c.time);
    let late = Timestamp {
        wall_ms: now,
        // The monotonic clock died with the process: continue it by the wall clock.
        mono_ms: last_time.map_or(0, |t| t.continued_to(now)),
    };
    let mut fresh = Vec::new();
    for range in dualrec_media::chunk_ranges(file.packets.len(), per_chunk) {
        for p in &file.packets[range] {
            digester.push(&p.data, packet_samples(&p.data)?);
        }
        let cp = chain.commit(&mut digester, late);
        match part.checkpoints.get(cp.index as usize) {
            Some(logged) if Checkpoint { time: logged.time, ..cp } == *logged => {}
            Some(_) => {
                let detail = format!(
                    "chunk {} of the recording differs from its signed checkpoint; nothing was changed",
                    cp.index
                );
                return Err(not_a_session(dir, detail));
            }
            None => fresh.push(cp),
        }
    }
    let committed_before = part.checkpoints.len() as u64;
    if committed_before > chain.chunks() {
        let detail = format!(
            "the log commits {committed_before} chunks but the recording holds only {}; nothing was changed",
            chain.chunks()
        );
        return Err(not_a_session(dir, detail));
    }
    Ok((chain, fresh))
}

/// The finished recording's SHA-256: the interrupted file is set aside, kept as it is,
/// and the finished one written beside it. A recording whose end page was written (or
/// that holds nothing but its headers) needs nothing.
fn finish_file(
    dir: &Path,
    bytes: &[u8],
    file: &dualrec_media::RecordingFile,
    source: &Path,
    (rec_path, kept_path): (&Path, &Path),
) -> Result<dualrec_proof::Digest, SessionError> {
    if (file.ended || file.packets.is_empty()) && source == rec_path {
        return Ok(dualrec_proof::sha256(bytes));
    }
    if source == rec_path {
        std::fs::rename(rec_path, kept_path)?;
        std::fs::File::open(dir)?.sync_all()?;
    }
    if !rec_path.exists() {
        return Ok(finish_interrupted(bytes, file, rec_path)?.sha256);
    }
    // A recovery that stopped after writing the finished file: it is derived from the
    // kept one, so check it rather than trust it.
    let again = std::fs::read(rec_path)?;
    let finished = read_recording(&again)?;
    if !finished.ended || finished.packets != file.packets {
        let detail = format!(
            "{} exists but is not the finished form of {}; move it away and run recover again",
            rec_path.display(),
            kept_path.display()
        );
        return Err(not_a_session(dir, detail));
    }
    Ok(dualrec_proof::sha256(&again))
}
