//! Checks made before anyone is contacted: the folder the recordings go to can be written
//! and has room, and the input opens and delivers sound. A meeting is never agreed with
//! the other person on a device that would fail a moment later.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use dualrec_audio::{AudioEvent, EncoderConfig, Pacing, Recorder};

use crate::{BYTES_PER_MINUTE, Input, SessionError, free_bytes};

/// How long the input may take to deliver its first sound.
const FIRST_SOUND_WITHIN: Duration = Duration::from_secs(3);

/// Bytes a recording of `expected` length needs, with a margin; at least three minutes'
/// worth when the length is not known.
fn room_needed(expected: Option<Duration>) -> u64 {
    let minutes = expected.map_or(3, |d| d.as_secs().div_ceil(60) + 1).max(3);
    minutes.saturating_mul(BYTES_PER_MINUTE).saturating_mul(5) / 4
}

/// The folder `dir` can take a recording of `expected` length (or a few minutes): it
/// exists (or is made), a file can be written and synced in it, and it has the room.
pub(crate) fn check_folder(dir: &Path, expected: Option<Duration>) -> Result<(), SessionError> {
    let unwritable = |source| SessionError::OutputFolder { dir: dir.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(unwritable)?;
    let probe = dir.join(format!(".dualrec-write-check-{}", std::process::id()));
    let written = dualrec_proof::private_file()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| f.write_all(b"dualrec").and_then(|()| f.sync_all()));
    let _ = std::fs::remove_file(&probe);
    written.map_err(unwritable)?;
    match free_bytes(dir) {
        Some(free) if free < room_needed(expected) => Err(SessionError::NoSpace {
            dir: dir.to_owned(),
            free_kib: free / 1024,
            per_minute_kib: BYTES_PER_MINUTE / 1024,
        }),
        _ => Ok(()),
    }
}

/// Opens the input and waits for its first packet; what it heard is dropped at once.
/// Returns the input's description.
pub(crate) async fn check_input(input: &Input) -> Result<String, SessionError> {
    let input = input.clone();
    tokio::task::spawn_blocking(move || {
        let enc = EncoderConfig::default();
        let recorder = match &input {
            Input::Microphone(dev) => Recorder::microphone(dev.as_deref(), enc)?,
            Input::Wav(p) | Input::WavFullSpeed(p) => {
                Recorder::wav(p, Pacing::AsFastAsPossible, enc)?
            }
        };
        let source = recorder.description().to_owned();
        match recorder.recv(FIRST_SOUND_WITHIN) {
            Some(AudioEvent::Packet(_)) => Ok(source),
            Some(AudioEvent::Failed { error, .. }) => Err(error.into()),
            _ => Err(SessionError::InputSilent { input: source }),
        }
    })
    .await
    .map_err(|_| SessionError::InputSilent { input: "the input".into() })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_asked_for_follows_the_agreed_length() {
        assert_eq!(room_needed(None), 3 * BYTES_PER_MINUTE * 5 / 4);
        assert_eq!(room_needed(Some(Duration::from_secs(30))), room_needed(None));
        // Two hours: 121 minutes and a quarter more.
        let two_hours = room_needed(Some(Duration::from_secs(7200)));
        assert_eq!(two_hours, 121 * BYTES_PER_MINUTE * 5 / 4);
        assert!(room_needed(Some(Duration::MAX)) > two_hours, "no overflow");
    }
}
