//! A WAV file that behaves like a microphone.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::encode::FrameEncoder;
use crate::pipeline::{Step, run_pipeline};
use crate::{AudioError, EncoderConfig, Recorder};

/// How fast a file source delivers its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// As a microphone would: one second of audio per second.
    Realtime,
    /// As fast as the encoder goes (tests, benchmarks).
    AsFastAsPossible,
}

type Reader = hound::WavReader<std::io::BufReader<std::fs::File>>;

/// Opens a WAV file this program can read; whether its samples are float.
fn open(path: &Path) -> Result<(Reader, bool), AudioError> {
    let fmt_err = |detail: String| AudioError::WavFormat { path: path.to_owned(), detail };
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(io) => {
            AudioError::Wav { path: path.to_owned(), detail: io.to_string() }
        }
        other => fmt_err(format!("not a WAV file this program can read ({other})")),
    })?;
    let spec = reader.spec();
    if !(8_000..=192_000).contains(&spec.sample_rate) {
        return Err(fmt_err(format!(
            "sample rate {} Hz is outside 8000..=192000",
            spec.sample_rate
        )));
    }
    if spec.channels == 0 {
        return Err(fmt_err("no channels".into()));
    }
    let float = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => true,
        (hound::SampleFormat::Int, 8 | 16 | 24 | 32) => false,
        (f, b) => return Err(fmt_err(format!("{b}-bit {f:?} samples are not supported"))),
    };
    Ok((reader, float))
}

/// Reads up to `wanted` interleaved samples and appends their mono mix to `buf`.
fn downmix<S: hound::Sample>(
    reader: &mut Reader,
    wanted: usize,
    channels: usize,
    buf: &mut Vec<f32>,
    to_f32: impl Fn(S) -> f32,
) -> Result<(), hound::Error> {
    let (mut got, mut acc) = (0usize, 0.0f32);
    reader.samples::<S>().take(wanted).try_for_each(|s| {
        acc += to_f32(s?);
        got += 1;
        if got.is_multiple_of(channels) {
            buf.push(acc / channels as f32);
            acc = 0.0;
        }
        Ok(())
    })
}

pub(crate) fn start(
    path: &Path,
    pacing: Pacing,
    config: EncoderConfig,
    sink: crate::Output,
) -> Result<Recorder, AudioError> {
    let (reader, float) = open(path)?;
    let spec = reader.spec();
    let encoder = FrameEncoder::new(spec.sample_rate, config)?;
    let pre_skip = encoder.pre_skip();
    let description = format!(
        "{}: {} ch {}-bit {} at {} Hz",
        path.display(),
        spec.channels,
        spec.bits_per_sample,
        if float { "float" } else { "int" },
        spec.sample_rate
    );
    let (tx, events) = sink.split(config.channel_capacity);
    let stop = Arc::new(AtomicBool::new(false));
    let path_owned = path.to_owned();
    let stop_thread = stop.clone();
    let thread = std::thread::Builder::new()
        .name("dualrec-wav".into())
        .spawn(move || {
            let channels = usize::from(spec.channels);
            let rate = u64::from(spec.sample_rate);
            let block = (spec.sample_rate as usize / 50).max(1); // 20 ms
            let scale = if float { 1.0 } else { 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32 };
            let mut reader = reader;
            let mut frames_sent = 0u64;
            let started = Instant::now();
            run_pipeline(encoder, tx, move |buf| {
                if stop_thread.load(Ordering::SeqCst) {
                    return Step::End;
                }
                if pacing == Pacing::Realtime {
                    let due = Duration::from_micros(frames_sent * 1_000_000 / rate);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait.min(Duration::from_millis(20)));
                        if due > started.elapsed() {
                            return Step::Idle;
                        }
                    }
                }
                // One iterator per 20 ms block; samples are interleaved.
                let wanted = block * channels;
                let read = if float {
                    // NaN is the pipeline's loss marker: a NaN sample is silence.
                    let clean = |x: f32| if x.is_nan() { 0.0 } else { x };
                    downmix(&mut reader, wanted, channels, buf, clean)
                } else {
                    downmix(&mut reader, wanted, channels, buf, |x: i32| x as f32 * scale)
                };
                if let Err(e) = read {
                    return Step::Fail(AudioError::Wav {
                        path: path_owned.clone(),
                        detail: e.to_string(),
                    });
                }
                if buf.is_empty() {
                    return Step::End;
                }
                frames_sent += buf.len() as u64;
                Step::Data
            });
        })
        .map_err(|e| AudioError::Encoder(e.to_string()))?;
    Ok(Recorder { events, stop, threads: vec![thread], pre_skip, description })
}
