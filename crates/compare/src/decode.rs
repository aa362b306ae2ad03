//! Decoding a recording to 16 kHz mono, placed by its packets' signed sample positions.

use dualrec_media::RecordingFile;

use crate::features::{Analyser, Frames};
use crate::{CompareError, RATE};

/// Samples per 20 ms packet at [`RATE`].
const PACKET: usize = 320;
/// The recording's 48 kHz positions over ours.
const DOWN: u64 = 48_000 / RATE as u64;
/// The longest recording decoded: 12 hours (a bound on memory, about 2.8 GB of samples
/// would follow from a forged position otherwise).
const MAX_SAMPLES: u64 = 12 * 3600 * RATE as u64;

/// A recording's sound on the session's timeline, as frames.
pub(crate) struct Decoded {
    pub(crate) frames: Frames,
    /// Samples (16 kHz) from the session's first sample to the recording's end.
    pub(crate) samples: u64,
    /// 20 ms steps (by packet) with no audio: damaged pages, or packets that do not decode.
    pub(crate) missing: Vec<bool>,
}

/// Decodes every packet at its position; stretches with no packet stay silent and are
/// marked missing.
pub(crate) fn decode(file: &RecordingFile, which: &'static str) -> Result<Decoded, CompareError> {
    let channels = match file.head.channels {
        1 => opus::Channels::Mono,
        2 => opus::Channels::Stereo,
        n => return Err(CompareError::Channels { which, channels: n }),
    };
    let stereo = channels == opus::Channels::Stereo;
    let mut decoder = opus::Decoder::new(RATE as u32, channels)
        .map_err(|e| CompareError::Decode { which, detail: e.to_string() })?;
    let pre_skip = u64::from(file.head.pre_skip);
    let end = file.packets.last().map_or(0, |p| p.position.saturating_sub(pre_skip) / DOWN);
    let end = end.saturating_add(PACKET as u64);
    if end > MAX_SAMPLES {
        return Err(CompareError::TooLong { which });
    }
    let mut analyser = Analyser::new();
    // Samples given to the analyser so far; a packet further on leaves silence before it.
    let mut done: u64 = 0;
    let mut missing = vec![true; usize::try_from(end).unwrap_or(0) / PACKET + 1];
    let mut buf = vec![0.0f32; 2 * 5760];
    let mut mono = Vec::with_capacity(5760);
    for p in &file.packets {
        let Ok(n) = decoder.decode_float(&p.data, &mut buf, false) else { continue };
        mono.clear();
        mono.extend(
            (0..n).map(|i| if stereo { 0.5 * (buf[2 * i] + buf[2 * i + 1]) } else { buf[i] }),
        );
        // Samples before the pre-skip are the encoder's warm-up, not sound.
        let first = (p.position / DOWN) as i64 - (pre_skip / DOWN) as i64;
        let skip = usize::try_from(-first).unwrap_or(0).min(n);
        let start = first.max(0) as u64;
        if start + (n - skip) as u64 <= done {
            continue; // overlaps what was given already: a forged or repeated position
        }
        if start > done {
            analyser.push(&vec![0.0; (start - done) as usize]);
            done = start;
        }
        let from = skip + (done - start) as usize;
        analyser.push(&mono[from..]);
        let upto = start + (n - skip) as u64;
        for step in (done as usize / PACKET)..(upto as usize).div_ceil(PACKET) {
            if let Some(m) = missing.get_mut(step) {
                *m = false;
            }
        }
        done = upto;
    }
    let frames = analyser.finish();
    let samples = done;
    Ok(Decoded { frames, samples, missing })
}
