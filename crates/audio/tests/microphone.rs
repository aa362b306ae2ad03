//! A real capture through cpal and ALSA from a virtual microphone: a private PulseAudio
//! daemon with a null sink, fed with espeak-ng speech by `paplay`, whose monitor is the
//! default input (recipe in shared/MACHINE-NOTES.md). Each test starts its own daemon and
//! runs the capture in a child process that sees the daemon's environment.

#![allow(clippy::print_stdout)] // the capture child reports to its parent on stdout

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::pulse::Pulse;
use common::{record_to_file, speech_wav, tool, wav_samples};
use dualrec_audio::{AudioError, EncoderConfig, Recorder};

const CHILD_OUT: &str = "DUALREC_MIC_CHILD_OUT";
const CHILD_SECONDS: &str = "DUALREC_MIC_CHILD_SECONDS";
const CHILD_STALL: &str = "DUALREC_MIC_CHILD_STALL";

/// Capture half: runs only in the child process started by the tests below.
#[test]
fn capture_child_process() {
    let Ok(out) = std::env::var(CHILD_OUT) else { return };
    let seconds: f64 = std::env::var(CHILD_SECONDS).expect("seconds").parse().expect("number");
    let devices = dualrec_audio::list_input_devices().expect("list inputs");
    let listed: Vec<String> = devices
        .iter()
        .filter(|d| d.default_format.is_some())
        .map(|d| format!("{}{}", d.id, if d.is_default { "*" } else { "" }))
        .collect();
    println!("\nDEVICES {}", listed.join("|"));
    let stall: u64 = std::env::var(CHILD_STALL).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    // With a stall, the events are not read for a while: a one-slot channel blocks the
    // encoder, the ring buffer fills, and the callback must account for what it drops.
    let config = if stall > 0 {
        EncoderConfig { channel_capacity: 1, ..EncoderConfig::default() }
    } else {
        EncoderConfig::default()
    };
    let rec = Recorder::microphone(None, config).expect("open the default microphone");
    println!("SOURCE {}", rec.description());
    if stall > 0 {
        let _first = rec.recv(Duration::from_secs(10)).expect("first event");
        println!("READY");
        std::thread::sleep(Duration::from_secs(stall));
    }
    let ready = || {
        use std::io::Write as _;
        println!("READY");
        let _ = std::io::stdout().flush();
    };
    let r = record_to_file(&rec, Path::new(&out), Some(Duration::from_secs_f64(seconds)), &ready);
    let peak = r.peaks.iter().copied().fold(0.0f32, f32::max);
    let failure = match &r.failure {
        None => "none".to_owned(),
        Some(AudioError::DeviceLost { .. }) => "device_lost".to_owned(),
        Some(e) => format!("other:{e}"),
    };
    let gap_samples: u64 = r.gaps.iter().map(|g| g.1).sum();
    let first_gap = r.gaps.first().map_or(0, |g| g.0);
    println!(
        "RESULT failure={failure} gaps={} lost={gap_samples} first_gap_at={first_gap} input={} peak={peak}",
        r.gaps.len(),
        r.input_samples
    );
}

struct Capture {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// What the child printed before it was ready.
    early: Vec<String>,
}

/// Starts the capture child and waits until it has its first packet.
fn spawn_capture(pulse: &Pulse, out: &Path, seconds: f64, stall: u64) -> Capture {
    let mut child = pulse
        .cmd(std::env::current_exe().expect("test binary").to_str().expect("utf8"))
        .args(["--exact", "capture_child_process", "--nocapture", "--test-threads=1"])
        .env(CHILD_OUT, out)
        .env(CHILD_SECONDS, seconds.to_string())
        .env(CHILD_STALL, stall.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn capture");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut early = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) if l == "READY" => break,
            Ok(l) => early.push(l),
            Err(_) => panic!("the capture child never got audio: {}", pulse.log()),
        }
    }
    Capture { child, lines, early }
}

fn child_result(c: Capture) -> String {
    let out = c.child.wait_with_output().expect("capture child");
    // Every line, up to the end of the child's output (its reader thread ends there): a
    // non-blocking read here could miss the last line, still on its way.
    let text: Vec<String> = c.lines.iter().collect();
    assert!(
        out.status.success(),
        "capture child failed:\n{text:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.into_iter()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("no result"))
        .to_owned()
}

/// 20 ms RMS envelope.
fn envelope(s: &[i16]) -> Vec<f64> {
    s.chunks(960)
        .map(|c| (c.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / c.len() as f64).sqrt())
        .collect()
}

/// Best normalised correlation of `small` inside `big`, and its lag in frames.
fn best_alignment(big: &[f64], small: &[f64]) -> (f64, usize) {
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-9);
    let ns = norm(small);
    (0..=big.len().saturating_sub(small.len()))
        .map(|lag| {
            let w = &big[lag..lag + small.len()];
            (w.iter().zip(small).map(|(a, b)| a * b).sum::<f64>() / (norm(w) * ns), lag)
        })
        .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a })
}

fn resample_48k(src: &Path, dst: &Path) {
    let (ok, out) = tool(
        "sox",
        &[src.to_str().expect("utf8"), "-r", "48000", "-b", "16", dst.to_str().expect("utf8")],
    );
    assert!(ok, "sox: {out}");
}

#[test]
fn records_the_speech_played_into_the_virtual_microphone() {
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let speech = speech_wav(
        dir.path(),
        "Good morning. We are meeting today to talk about the plan for the children. Everyone here agrees to this recording.",
    );
    let reference = dir.path().join("ref48.wav");
    resample_48k(&speech, &reference);
    let (ref_len, ref_samples) = wav_samples(&reference);
    let seconds = ref_len as f64 / 48_000.0 + 2.5;
    let out = dir.path().join("mic.opus");
    let child = spawn_capture(&pulse, &out, seconds, 0);
    std::thread::sleep(Duration::from_millis(800));
    let played = pulse.cmd("paplay").arg(&speech).status().expect("paplay");
    assert!(played.success(), "paplay failed: {}", pulse.log());
    let result = child_result(child);
    assert!(result.contains("failure=none") && result.contains("gaps=0"), "{result}");

    let p = out.to_str().expect("utf8");
    let (ok, info) = tool("opusinfo", &[p]);
    assert!(ok, "opusinfo: {info}");
    let decoded = dir.path().join("decoded.wav");
    let (ok, dec) =
        tool("opusdec", &["--quiet", "--rate", "48000", p, decoded.to_str().expect("utf8")]);
    assert!(ok, "opusdec: {dec}");
    let (n, got) = wav_samples(&decoded);
    let captured = Some(field(&result, "input"));
    assert_eq!(Some(n), captured, "the file holds exactly what was captured");

    // Speech, not silence, and the speech that was played: its envelope is found in the
    // recording at a plausible delay and at a similar level.
    let (env_got, env_ref) = (envelope(&got), envelope(&ref_samples));
    let (corr, lag) = best_alignment(&env_got, &env_ref);
    assert!(corr > 0.8, "recording does not match the speech played (correlation {corr:.2})");
    let lag_s = lag as f64 * 0.02;
    assert!((0.3..2.5).contains(&lag_s), "speech found at {lag_s:.2} s, played at about 0.8 s");
    let rms = |v: &[f64]| (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
    let level = rms(&env_got[lag..lag + env_ref.len()]) / rms(&env_ref);
    assert!((0.5..2.0).contains(&level), "level ratio {level:.2}");
    let silence = rms(&env_got[..lag.saturating_sub(10).max(1)]);
    assert!(silence < rms(&env_ref) / 20.0, "before the speech the input is quiet ({silence:.1})");
}

#[test]
fn a_microphone_that_disappears_ends_capture_and_keeps_what_was_recorded() {
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let speech = speech_wav(dir.path(), "One two three four five six seven eight nine ten.");
    let out = dir.path().join("mic.opus");
    let child = spawn_capture(&pulse, &out, 60.0, 0);
    std::thread::sleep(Duration::from_millis(500));
    let mut player = pulse.cmd("paplay").arg(&speech).spawn().expect("paplay");
    std::thread::sleep(Duration::from_millis(2000));
    let killed_at = Instant::now();
    pulse.kill(); // the sound server (and with it the device) vanishes
    let _ = player.wait();
    let result = child_result(child);
    assert!(result.contains("failure=device_lost"), "{result}");
    assert!(killed_at.elapsed() < Duration::from_secs(15), "noticed too late");
    let f = dualrec_media::read_recording(&std::fs::read(&out).expect("read"))
        .expect("the recording is intact");
    assert!(f.ended, "the file was finished properly");
    assert!(
        f.playable_samples() >= 48_000 * 2,
        "what was captured before the loss is kept: {}",
        f.playable_samples()
    );
    let (ok, info) = tool("opusinfo", &[out.to_str().expect("utf8")]);
    assert!(ok, "opusinfo: {info}");
}

fn field(result: &str, name: &str) -> u64 {
    result
        .split(&format!("{name}="))
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {result}"))
}

#[test]
fn a_pipeline_that_falls_behind_records_a_gap_and_keeps_the_timeline_true() {
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("mic.opus");
    // The child stops reading events for 4 s; its ring buffer holds 2 s.
    let started = Instant::now();
    let capture = spawn_capture(&pulse, &out, 6.0, 4);
    let result = child_result(capture);
    let wall = started.elapsed().as_secs_f64();
    assert!(result.contains("failure=none"), "{result}");
    assert!(field(&result, "gaps") >= 1, "the overrun must surface as a gap: {result}");
    let gap = field(&result, "lost");
    assert!(
        (24_000..=48_000 * 3).contains(&gap),
        "about 1-2 s were lost, not {gap} samples: {result}"
    );
    assert!(
        field(&result, "first_gap_at") >= 48_000,
        "the gap comes after the buffered audio: {result}"
    );
    // Silence stands in for the lost input, so the recording is as long as the capture ran.
    let samples = field(&result, "input") as f64 / 48_000.0;
    assert!(samples > wall - 4.0 && samples < wall + 0.5, "{samples:.2} s recorded in {wall:.2} s");
}

#[test]
fn input_devices_are_listed_with_their_formats() {
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let capture = spawn_capture(&pulse, &dir.path().join("m.opus"), 0.5, 0);
    let out = capture.child.wait_with_output().expect("child");
    let text: Vec<String> = capture.lines.iter().collect();
    assert!(out.status.success());
    let devices = capture
        .early
        .iter()
        .chain(&text)
        .find(|l| l.starts_with("DEVICES "))
        .unwrap_or_else(|| panic!("no device list in {:?} {text:?}", capture.early));
    assert!(devices.contains('*'), "the default input is marked: {devices}");
    assert!(devices.split('|').count() >= 1);
}
