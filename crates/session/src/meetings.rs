//! The meetings kept in a recordings folder: how a meeting's folder is named, how it is
//! found again by its session, and what a list of past meetings shows.
//!
//! A folder is named for people ("2026-11-27 14.05 with Sam (3fa2b1c0)"); the session it
//! holds is always read from its evidence log, never trusted from the name. Folders named
//! by the bare session id (earlier versions) are found the same way.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use dualrec_proof::{CoSigned, Identity, LogRecord, PublicKey, SessionId, StartRecord};

use crate::Device;
use crate::recover::EVIDENCE;

/// Longest part of a folder name taken from another party's chosen name, in characters.
const NAME_CHARS: usize = 32;
/// A start record is at most a few KiB (SPEC §5.1): this much of a log always holds it.
const HEAD_BYTES: u64 = 64 * 1024;

/// The folder name for a meeting: its local date and time, the other parties' names (made
/// safe for every file system), and the session id's first 8 hex digits, which keep two
/// meetings in the same minute apart.
pub fn folder_name(start: &StartRecord, me: &PublicKey) -> String {
    let when = jiff::Timestamp::from_millisecond(i64::try_from(start.started_at_ms).unwrap_or(0))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H.%M")
        .to_string();
    let others: Vec<String> = start
        .parties
        .iter()
        .filter(|p| p.key != *me)
        .map(|p| safe_file_name(&p.name))
        .filter(|n| !n.is_empty())
        .collect();
    let hex = start.session.to_hex();
    let short = hex.get(..8).unwrap_or(&hex);
    if others.is_empty() {
        format!("{when} ({short})")
    } else {
        format!("{when} with {} ({short})", others.join(", "))
    }
}

/// `name` with only letters, digits, spaces, `-`, `_`, `.`, `,` and `'` (others become `_`),
/// trimmed, at most [`NAME_CHARS`] characters, never starting with a dot.
fn safe_file_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | ',' | '\'') {
                c
            } else {
                '_'
            }
        })
        .take(NAME_CHARS)
        .collect();
    kept.trim().trim_start_matches('.').trim_end_matches('.').trim().to_owned()
}

/// The co-signed start of the meeting in `dir`, read from the head of its evidence log.
fn read_start(dir: &Path) -> Option<CoSigned<StartRecord>> {
    let mut head = Vec::new();
    std::fs::File::open(dir.join(EVIDENCE))
        .and_then(|f| f.take(HEAD_BYTES).read_to_end(&mut head))
        .ok()?;
    let contents = dualrec_proof::read_log(&head).ok()?;
    match contents.entries.into_iter().next()?.value {
        LogRecord::Start(s) if s.verify().is_ok() => Some(s),
        _ => None,
    }
}

/// Every meeting folder under `out_dir` with the start its log holds.
fn folders(out_dir: &Path) -> Vec<(PathBuf, CoSigned<StartRecord>)> {
    let Ok(entries) = std::fs::read_dir(out_dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|dir| read_start(&dir).map(|s| (dir, s)))
        .collect()
}

/// Every session under `out_dir` that has `peer` as a party, by its folder.
pub(crate) fn with_peer(out_dir: &Path, peer: &PublicKey) -> Vec<(SessionId, PathBuf)> {
    folders(out_dir)
        .into_iter()
        .filter(|(_, s)| s.record.is_party(peer))
        .map(|(d, s)| (s.record.session, d))
        .collect()
}

/// Where a past meeting stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MeetingState {
    /// This device signed its end: the recording is complete and can be checked.
    Finished,
    /// It stopped without an end (a crash, power loss): `recover` or the next meeting
    /// with the same device finishes it.
    Interrupted,
    /// A running program is recording it now.
    Recording,
}

/// One meeting in a recordings folder, as this device recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PastMeeting {
    pub dir: PathBuf,
    pub session: SessionId,
    /// The proposer's wall clock at the start (Unix ms, as signed).
    pub started_at_ms: u64,
    /// The other parties, as the start names them (their names are untrusted text).
    pub others: Vec<Device>,
    /// Seconds of audio this device's checkpoints cover.
    pub seconds: u64,
    pub state: MeetingState,
}

/// The meetings under `out_dir` that `identity` is a party of, oldest first.
pub fn past_meetings(out_dir: &Path, identity: &Identity) -> Vec<PastMeeting> {
    let me = identity.public();
    let mut found: Vec<PastMeeting> = folders(out_dir)
        .into_iter()
        .filter(|(_, s)| s.record.is_party(&me))
        .map(|(dir, start)| summarise(dir, &start.record, &me))
        .collect();
    found.sort_by(|a, b| (a.started_at_ms, &a.dir).cmp(&(b.started_at_ms, &b.dir)));
    found
}

fn summarise(dir: PathBuf, start: &StartRecord, me: &PublicKey) -> PastMeeting {
    let log = dir.join(EVIDENCE);
    let in_use = dualrec_proof::log_in_use(&log).unwrap_or(false);
    let records = std::fs::read(&log)
        .ok()
        .and_then(|b| dualrec_proof::read_log(&b).ok())
        .map(|c| c.entries.into_iter().map(|e| e.value).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut samples = 0u64;
    let mut ended = false;
    for record in &records {
        match record {
            LogRecord::Checkpoint(c) if c.signer == *me && c.body.session == start.session => {
                samples = samples.max(c.body.first_sample + u64::from(c.body.samples));
            }
            LogRecord::End(e) if e.signatures.iter().any(|s| s.signer == *me) => ended = true,
            _ => {}
        }
    }
    let state = match (in_use, ended) {
        (true, _) => MeetingState::Recording,
        (false, true) => MeetingState::Finished,
        (false, false) => MeetingState::Interrupted,
    };
    PastMeeting {
        session: start.session,
        started_at_ms: start.started_at_ms,
        others: start
            .parties
            .iter()
            .filter(|p| p.key != *me)
            .map(|p| Device::new(&p.key, &p.name))
            .collect(),
        seconds: samples / u64::from(start.audio.sample_rate.max(1)),
        state,
        dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_on_every_file_system() {
        assert_eq!(safe_file_name("Sam Jones"), "Sam Jones");
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("a:b*c?\"<>|\\/"), "a_b_c_______");
        assert_eq!(safe_file_name("..hidden"), "hidden");
        assert_eq!(safe_file_name("\u{202e}evil\n"), "_evil_");
        assert_eq!(safe_file_name("Zoë Müller"), "Zoë Müller");
        assert_eq!(safe_file_name("Sam, O'Neill"), "Sam, O'Neill");
        assert_eq!(safe_file_name(&"x".repeat(100)).chars().count(), NAME_CHARS);
    }
}
