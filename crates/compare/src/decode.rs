//! Decoding a recording to 16 kHz mono, placed by its packets' signed sample positions.

use dualrec_media::RecordingFile;

use crate::{CompareError, RATE};

/// Samples per 20 ms packet at [`RATE`].
const PACKET: usize = 320;
/// The recording's 48 kHz positions over ours.
const DOWN: u64 = 48_000 / RATE as u64;
/// The longest recording decoded: 12 hours (a bound on memory, about 2.8 GB of samples
/// would follow from a forged position otherwise).
const MAX_SAMPLES: u64 = 12 * 3600 * RATE as u64;

/// A recording as sound on the session's timeline.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// 16 kHz mono; sample 0 is the session's first sample.
    pub(crate) samples: Vec<f32>,
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
    let mut samples = vec![0.0f32; usize::try_from(end).unwrap_or(0)];
    let mut missing = vec![true; samples.len() / PACKET + 1];
    let mut buf = vec![0.0f32; 2 * 5760];
    for p in &file.packets {
        let Ok(n) = decoder.decode_float(&p.data, &mut buf, false) else { continue };
        // Samples before the pre-skip are the encoder's warm-up, not sound.
        let first = i64::try_from(p.position / DOWN).unwrap_or(i64::MAX);
        let start = first - i64::try_from(pre_skip / DOWN).unwrap_or(0);
        for i in 0..n {
            let Ok(at) = usize::try_from(start + i as i64) else { continue };
            let s = if stereo { 0.5 * (buf[2 * i] + buf[2 * i + 1]) } else { buf[i] };
            if let Some(slot) = samples.get_mut(at) {
                *slot = s;
                if let Some(m) = missing.get_mut(at / PACKET) {
                    *m = false;
                }
            }
        }
    }
    Ok(Decoded { samples, missing })
}
