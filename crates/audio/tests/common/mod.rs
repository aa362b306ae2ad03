//! Shared by the audio tests: record a source into a real Ogg Opus file, and run the
//! outside tools that judge it.

#![allow(dead_code)]

pub(crate) mod pulse;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dualrec_audio::{AudioEvent, Recorder};
use dualrec_media::{FinishedRecording, OpusHead, OpusTags, RecordingWriter};
use dualrec_proof::{PublicKey, SessionId};

pub(crate) struct Recorded {
    pub(crate) finished: FinishedRecording,
    pub(crate) input_samples: u64,
    pub(crate) gaps: Vec<(u64, u64)>,
    pub(crate) peaks: Vec<f32>,
    pub(crate) failure: Option<dualrec_audio::AudioError>,
}

/// Drains `rec` into `path`, closing a page every 50 packets (one chunk).
pub(crate) fn record_to_file(
    rec: &Recorder,
    path: &Path,
    stop_after: Option<Duration>,
    on_first_packet: &dyn Fn(),
) -> Recorded {
    let head = OpusHead {
        channels: 1,
        pre_skip: rec.pre_skip(),
        input_sample_rate: 48_000,
        output_gain: 0,
    };
    let tags = OpusTags::for_session("dualrec test", SessionId([7; 16]), PublicKey([9; 32]));
    let mut w = RecordingWriter::create(path, head, &tags, 0x6475_616c).expect("create recording");
    // Time runs from the first packet: opening a device can take a second.
    let mut started: Option<std::time::Instant> = None;
    let (mut gaps, mut peaks) = (Vec::new(), Vec::new());
    let mut stopped = false;
    loop {
        if let Some(limit) = stop_after
            && !stopped
            && started.is_some_and(|t| t.elapsed() >= limit)
        {
            rec.stop();
            stopped = true;
        }
        let Some(ev) = rec.recv(Duration::from_secs(10)) else { panic!("the recorder went quiet") };
        match ev {
            AudioEvent::Packet(p) => {
                if started.is_none() {
                    started = Some(std::time::Instant::now());
                    on_first_packet();
                }
                peaks.push(p.peak);
                w.write_packet(&p.data).expect("write packet");
                if w.packets().is_multiple_of(50) {
                    w.end_chunk().expect("end chunk");
                }
            }
            AudioEvent::Gap { position, samples } => gaps.push((position, samples)),
            AudioEvent::Finished { input_samples } => {
                let finished = w.finish(input_samples).expect("finish");
                return Recorded { finished, input_samples, gaps, peaks, failure: None };
            }
            AudioEvent::Failed { error, input_samples } => {
                let finished = w.finish(input_samples).expect("finish");
                return Recorded { finished, input_samples, gaps, peaks, failure: Some(error) };
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
}

pub(crate) fn tool(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} must be installed (.ci/setup installs it): {e}"));
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

/// Samples in a decoded 48 kHz mono 16-bit WAV.
pub(crate) fn wav_samples(path: &Path) -> (u64, Vec<i16>) {
    let mut r = hound::WavReader::open(path).expect("decoded wav");
    let s: Vec<i16> = r.samples::<i16>().map(|x| x.expect("sample")).collect();
    (s.len() as u64, s)
}

/// Speech from espeak-ng as a WAV file (22050 Hz mono 16-bit).
pub(crate) fn speech_wav(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("speech.wav");
    let (ok, out) = tool("espeak-ng", &["-v", "en-us", "-w", p.to_str().expect("utf8"), text]);
    assert!(ok, "espeak-ng failed: {out}");
    p
}
