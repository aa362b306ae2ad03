//! The acoustic cross-check of two recordings of one dualrec meeting (issue #11).
//!
//! The evidence proves that a recording is what its device encoded, second by second. It
//! cannot show that what the device encoded was the room: a party may play doctored sound
//! into its own recorder. Two devices in one room hear the same sound, each through its
//! own microphone, so this crate compares the two recordings second by second and says,
//! for each, **same sound**, **different sound** or **cannot tell**, and where the timing
//! between them jumps (sound cut, inserted or stretched on one side). It compares what can
//! be heard, not the evidence: `dualrec-proof` stays the judge of that, and stays free of a
//! sound stack, which lives here (an Opus decoder and an FFT).
//!
//! It compares each one-third-octave band's energy over time, as ambient-sound co-presence
//! checks do (Sound-Proof, USENIX Security 2015): a band's rise and fall follows what is
//! said, not the microphone's gain or colour, its distance or the room's echo.
//! Where both hear someone speak, it also compares the voice's pitch, frame by frame: two
//! microphones hear one voice at one pitch, a stand-in speaking the same words does not.

#![forbid(unsafe_code)]

mod classify;
mod decode;
mod features;

use dualrec_media::RecordingFile;
use dualrec_proof::SessionId;
use serde::Serialize;

/// Sound is compared at 16 kHz (speech's range; a third of the work of 48 kHz).
const RATE: usize = 16_000;

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// The two recordings name different sessions: they are not of one meeting.
    #[error("the recordings are of different meetings: A is of session {a}, B of session {b}")]
    DifferentSessions { a: SessionId, b: SessionId },
    #[error("recording {which} has {channels} channels; only mono and stereo are compared")]
    Channels { which: &'static str, channels: u8 },
    #[error("recording {which} cannot be decoded: {detail}")]
    Decode { which: &'static str, detail: String },
    #[error("recording {which} is longer than 12 hours; it is not compared")]
    TooLong { which: &'static str },
}

/// What a second is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Class {
    /// Both recordings hold the same sound here.
    Same,
    /// The recordings disagree here.
    Different,
    /// Silence, sound too quiet on one side, or damage: nothing can be said.
    CannotTell,
}

/// Why a second is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Why {
    /// The band energies rise and fall together.
    Matches,
    /// Both hold sound, and it is not the same sound.
    Differs,
    /// Recording `A` or `B` is silent, far below its own room noise, while the other holds
    /// sound: muted or cut out.
    SilentIn { side: &'static str },
    /// The same sound, but shifted against the rest of the meeting: sound was cut,
    /// inserted or stretched on one side here.
    Shifted { from_ms: i64, to_ms: i64 },
    /// The same sounds at the same moments, in voices of different pitch: someone else
    /// speaking the words, or a changed voice.
    OtherVoice,
    /// Neither side has enough sound to compare.
    Quiet,
    /// One side's audio is missing or damaged here.
    Damaged,
    /// The sound is neither clearly the same nor clearly different.
    Uncertain,
}

/// One second of the meeting (session time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Second {
    pub index: u64,
    pub class: Class,
    pub why: Why,
    /// How alike the two are, -1 to 1 (mean band correlation), when compared.
    pub score: Option<f32>,
    /// How much later the sound is in B than in A, in ms.
    pub lag_ms: i64,
}

/// Where the lag between the recordings jumped and held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jump {
    pub second: u64,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Comparison {
    /// The session both recordings name (`None` when neither names one).
    pub session: Option<SessionId>,
    /// Seconds of sound in each recording.
    pub seconds_a: u64,
    pub seconds_b: u64,
    /// Every second both recordings hold.
    pub seconds: Vec<Second>,
    pub jumps: Vec<Jump>,
}

impl Comparison {
    /// Stretches of consecutive seconds of `class`, as (first, last) seconds.
    pub fn stretches(&self, class: Class) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for s in self.seconds.iter().filter(|s| s.class == class) {
            match out.last_mut() {
                Some((_, last)) if *last + 1 == s.index => *last = s.index,
                _ => out.push((s.index, s.index)),
            }
        }
        out
    }

    /// How many seconds are of `class`.
    pub fn count(&self, class: Class) -> usize {
        self.seconds.iter().filter(|s| s.class == class).count()
    }
}

/// Compares recording A with recording B, second by second.
pub fn compare(a: &RecordingFile, b: &RecordingFile) -> Result<Comparison, CompareError> {
    let session = match (a.tags.session(), b.tags.session()) {
        (Some(x), Some(y)) if x != y => return Err(CompareError::DifferentSessions { a: x, b: y }),
        (x, y) => x.or(y),
    };
    // Each recording is decoded and analysed on its own thread: the two are independent.
    let side = |file: &RecordingFile, which| decode::decode(file, which);
    let (ra, rb) = std::thread::scope(|scope| {
        let b_side = scope.spawn(|| side(b, "B"));
        let a_side = side(a, "A");
        (a_side, b_side.join())
    });
    let da = ra?;
    let db = rb.unwrap_or_else(|p| std::panic::resume_unwind(p))?;
    let (fa, fb) = (&da.frames, &db.frames);
    let per_second =
        |m: &[bool]| -> Vec<bool> { m.chunks(50).map(|c| c.iter().any(|x| *x)).collect() };
    let pair = classify::Pair {
        a: fa,
        b: fb,
        floor_a: classify::noise_floor(fa),
        floor_b: classify::noise_floor(fb),
        missing_a: per_second(&da.missing),
        missing_b: per_second(&db.missing),
    };
    let seconds_a = da.samples / RATE as u64;
    let seconds_b = db.samples / RATE as u64;
    let overlap = seconds_a.min(seconds_b) as usize;
    let (seconds, jumps) = classify::classify(&pair, overlap);
    Ok(Comparison { session, seconds_a, seconds_b, seconds, jumps })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason a second can have is written to JSON (`compare --json` once failed
    /// on a second "silent in" one recording).
    #[test]
    fn every_second_serializes() {
        let whys = [
            Why::Matches,
            Why::Differs,
            Why::SilentIn { side: "A" },
            Why::Shifted { from_ms: 0, to_ms: 40 },
            Why::OtherVoice,
            Why::Quiet,
            Why::Damaged,
            Why::Uncertain,
        ];
        let seconds = whys
            .iter()
            .enumerate()
            .map(|(i, why)| Second {
                index: i as u64,
                class: Class::Different,
                why: *why,
                score: None,
                lag_ms: 0,
            })
            .collect();
        let c =
            Comparison { session: None, seconds_a: 8, seconds_b: 8, seconds, jumps: Vec::new() };
        let json = serde_json::to_value(&c).expect("serializes");
        assert_eq!(
            json["seconds"][2]["why"],
            serde_json::json!({"kind": "silent_in", "side": "A"})
        );
    }
}
