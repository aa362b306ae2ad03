//! Rejoining a meeting this device's program left without its end (a crash, a power cut;
//! SPEC §12.7): what is on disk is checked and set aside, the other device is waited for,
//! and the meeting goes on in the same session, the time away a signed capture gap. Each
//! recording a crash leaves is kept unchanged as a part (`recording.interrupted.opus`,
//! then `-2`, …); the continued recording holds them all.

use std::path::Path;
use std::time::Duration;

use dualrec_media::read_recording;
use dualrec_net::{NodeEvent, NodeHandle};
use dualrec_proof::{EvidenceLog, Identity, PublicKey};
use tokio::sync::mpsc;

use crate::SessionError;
use crate::executor::Rejoin;
use crate::recover::{not_a_session, own_part};

/// How long a restarted device waits for the other one to come back to the meeting.
pub(crate) const REJOIN_WAIT: Duration = Duration::from_secs(30);

/// Opens the meeting in `dir` for rejoining: its log (locked, a torn tail cut) and its
/// recording as the program left it (read, not yet moved); the other party.
pub(crate) fn open(dir: &Path, identity: &Identity) -> Result<(Rejoin, PublicKey), SessionError> {
    let me = identity.public();
    let (log, contents) = EvidenceLog::open_append(&dir.join("evidence.log"))?;
    let entries = contents.entries;
    let part = own_part(dir, identity, entries.iter().map(|e| e.value.clone()))?;
    let start = part.start;
    let others: Vec<PublicKey> =
        start.record.parties.iter().map(|p| p.key).filter(|k| *k != me).collect();
    if part.ended || others.len() != 1 {
        return Err(not_a_session(dir, "not an unfinished two-party meeting of this device"));
    }
    let source = dir.join("recording.opus");
    let bytes = std::fs::read(&source)
        .map_err(|e| not_a_session(dir, format!("cannot read {}: {e}", source.display())))?;
    let file = read_recording(&bytes)?;
    if file.tags.session() != Some(start.record.session) || file.tags.producer() != Some(me) {
        return Err(not_a_session(dir, "the recording is not this device's of this meeting"));
    }
    Ok((Rejoin { log, entries, start, file }, others[0]))
}

/// Waits until the other party is connected (it redials this device, or this device finds
/// it); `None` when it is not back in time or the person stops waiting.
pub(crate) async fn wait_for(
    peer: PublicKey,
    node: &NodeHandle,
    events: &mut mpsc::Receiver<NodeEvent>,
    stop: &mut mpsc::Receiver<()>,
) -> Result<bool, SessionError> {
    node.set_busy(Some(peer)).await?;
    let until = tokio::time::Instant::now() + REJOIN_WAIT;
    loop {
        tokio::select! {
            ev = events.recv() => match ev.ok_or(SessionError::NetworkStopped)? {
                NodeEvent::Connected { peer: p, .. } if p == peer => return Ok(true),
                _ => {}
            },
            _ = tokio::time::sleep_until(until) => return Ok(false),
            Some(()) = stop.recv() => return Ok(false),
        }
    }
}

/// Sets the recording as the program left it aside, unchanged, once the other device is
/// back: the continued recording takes its name.
pub(crate) fn set_aside(dir: &Path) -> Result<(), SessionError> {
    std::fs::rename(dir.join("recording.opus"), crate::recover::next_part(dir))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
