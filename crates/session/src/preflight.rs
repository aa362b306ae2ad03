//! Checks made before anyone is contacted: the folder the recordings go to can be written
//! and has room, and the input opens and delivers sound. A meeting is never agreed with
//! the other person on a device that would fail a moment later.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use dualrec_audio::{AudioEvent, EncoderConfig, Pacing, Recorder};

use crate::progress::update;
use crate::{BYTES_PER_MINUTE, Input, Progress, SessionError, Status, free_bytes};

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
    dualrec_proof::create_private_dir_all(dir).map_err(unwritable)?;
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

/// How long a microphone is listened to before the meeting, at most.
const SOUND_CHECK: Duration = Duration::from_secs(3);
/// A peak this loud (-40 dBFS) is someone speaking, not the room's hiss: the sound check
/// can end early.
const SPEECH_PEAK: f32 = 0.01;

/// Opens the input and waits for its first packet. A microphone is then listened to for
/// up to [`SOUND_CHECK`] while the person says something, its level reported as
/// [`Progress::Level`]; what it heard is dropped. Returns the input's description and, for
/// a microphone, the loudest peak heard.
pub(crate) async fn check_input(
    input: &Input,
    status: &Status,
) -> Result<(String, Option<f32>), SessionError> {
    let input = input.clone();
    let status = status.clone();
    tokio::task::spawn_blocking(move || {
        let enc = EncoderConfig::default();
        let recorder = match &input {
            Input::Microphone(dev) => Recorder::microphone(dev.as_deref(), enc)?,
            Input::Wav(p) | Input::WavFullSpeed(p) => {
                Recorder::wav(p, Pacing::AsFastAsPossible, enc)?
            }
        };
        let source = recorder.description().to_owned();
        let first = match recorder.recv(FIRST_SOUND_WITHIN) {
            Some(AudioEvent::Packet(p)) => p.peak,
            Some(AudioEvent::Failed { error, .. }) => return Err(error.into()),
            _ => return Err(SessionError::InputSilent { input: source }),
        };
        if !matches!(input, Input::Microphone(_)) {
            return Ok((source, None));
        }
        update(&status, Progress::SoundCheck { source: source.clone() });
        Ok((source, Some(sound_check(&recorder, first, &status))))
    })
    .await
    .map_err(|_| SessionError::InputSilent { input: "the input".into() })?
}

/// Listens until someone speaks (after a second at least) or [`SOUND_CHECK`] ends,
/// reporting the level ten times a second; the loudest peak heard.
fn sound_check(recorder: &Recorder, first: f32, status: &Status) -> f32 {
    let started = Instant::now();
    let (mut loudest, mut recent, mut packets) = (first, first, 1u32);
    while started.elapsed() < SOUND_CHECK {
        if loudest >= SPEECH_PEAK && started.elapsed() >= Duration::from_secs(1) {
            break;
        }
        let Some(AudioEvent::Packet(p)) = recorder.recv(Duration::from_millis(200)) else {
            continue;
        };
        loudest = loudest.max(p.peak);
        recent = recent.max(p.peak);
        packets += 1;
        // A packet is 20 ms: one level per five.
        if packets.is_multiple_of(5) {
            update(status, Progress::Level(recent));
            recent = 0.0;
        }
    }
    loudest
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
