//! Rooms for the acoustic cross-check: a conversation of two voices (espeak-ng, different
//! voices and speeds, pauses) rendered to two microphones with different gain, colour,
//! distance, echo, noise and clock drift (sox), and encoded by dualrec's own encoder.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use dualrec_audio::{AudioEvent, EncoderConfig, Pacing, Recorder};
use dualrec_compare::{Class, Comparison, compare};
use dualrec_media::{OpusHead, OpusTags, RecordingWriter, read_recording};
use dualrec_proof::{PublicKey, SessionId};

pub(crate) const LINES: [(&str, &str); 8] = [
    ("en-us+m3", "Good morning. Thank you for meeting me today about the children's plan."),
    ("en+f2", "Of course. I want to understand what happens next with the contact visits."),
    (
        "en-us+m3",
        "We will review the arrangements at the end of the month, as we agreed last time.",
    ),
    ("en+f2", "And will the children return home after the review, or stay where they are?"),
    ("en-us+m3", "That depends on the assessment. I cannot promise anything today, I am sorry."),
    ("en+f2", "I understand. Can I see the assessment before the meeting with the court?"),
    ("en-us+m3", "Yes, you will get a copy a week before. Your solicitor will get one as well."),
    ("en+f2", "Thank you. I will bring my notes and the school reports to the next meeting."),
];

/// The voices rooms are made of: each its own (a test holds it to that; espeak-ng 1.51
/// ignores a variant after `en-gb`, so `en-gb+f2` is the plain British voice: British
/// voices are named `en+…`).
pub(crate) const VOICES: [&str; 8] =
    ["en-us+m3", "en+f2", "en-us+f3", "en+m1", "en-us+m7", "en-gb-x-rp+f4", "en-us+m1", "en+f5"];

/// The three people talking in the background of the evaluation's rooms.
pub(crate) const BABBLE: [&str; 3] = ["en-us+m2", "en+f3", "en-us+f1"];

pub(crate) fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (.ci/setup installs sox and espeak-ng)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// sox in its repeatable mode: its noise and dither are seeded the same every run, so a
/// room is the same room every time (without `-R` the evaluation's numbers drift).
fn sox_command() -> Command {
    let mut c = Command::new("sox");
    c.arg("-R");
    c
}

pub(crate) fn sox(args: &[&dyn AsRef<std::ffi::OsStr>]) {
    let mut c = sox_command();
    for a in args {
        c.arg(a);
    }
    run(&mut c);
}

/// A spoken line, 48 kHz mono.
pub(crate) fn speak(d: &Path, name: &str, voice: &str, text: &str, speed: u32) -> PathBuf {
    let raw = d.join(format!("{name}-raw.wav"));
    run(Command::new("espeak-ng")
        .args(["-v", voice, "-s", &speed.to_string(), "-w"])
        .arg(&raw)
        .arg(text));
    let out = d.join(format!("{name}.wav"));
    sox(&[&raw, &"-r", &"48000", &out]);
    out
}

/// The conversation: the lines in turn with pauses, about 45 s; `voices` overrides the
/// voice of a line (same words, another voice, stretched to the same length). Returns the
/// file and when each line starts and ends.
pub(crate) fn conversation_of(
    d: &Path,
    name: &str,
    lines: &[(&str, &str)],
    voices: &[(usize, &str)],
) -> (PathBuf, Vec<(f64, f64)>) {
    conversation_placed(d, name, lines, voices, &|_| 0.0)
}

/// [`conversation_of`] as heard from one place in the room: line `i` is `gain(i)` dB
/// louder or quieter (its speaker nearer or farther).
pub(crate) fn conversation_placed(
    d: &Path,
    name: &str,
    lines: &[(&str, &str)],
    voices: &[(usize, &str)],
    gain: &dyn Fn(usize) -> f64,
) -> (PathBuf, Vec<(f64, f64)>) {
    let mut parts: Vec<PathBuf> = Vec::new();
    let mut spans = Vec::new();
    let mut at = 0.0;
    for (i, (voice, text)) in lines.iter().enumerate() {
        let speed = 150 + 15 * (i as u32 % 3);
        let mut line = speak(d, &format!("{name}-line{i}"), voice, text, speed);
        let len = |p: &Path| hound::WavReader::open(p).expect("wav").duration() as f64 / 48_000.0;
        if let Some((_, other)) = voices.iter().find(|(n, _)| *n == i) {
            let alt = speak(d, &format!("{name}-alt{i}"), other, text, speed);
            let fitted = d.join(format!("{name}-alt{i}-fit.wav"));
            sox(&[&alt, &fitted, &"tempo", &format!("{:.4}", len(&alt) / len(&line))]);
            line = fitted;
        }
        let pause = 0.4 + 0.1 * (i % 5) as f64;
        spans.push((at, at + len(&line)));
        at += len(&line) + pause;
        let padded = d.join(format!("{name}-line{i}-pad.wav"));
        let db = format!("{:.1}", gain(i));
        sox(&[&line, &padded, &"gain", &db, &"pad", &"0", &format!("{pause}")]);
        parts.push(padded);
    }
    let out = d.join(format!("{name}.wav"));
    let mut c = sox_command();
    c.args(&parts).arg(&out);
    run(&mut c);
    (out, spans)
}

/// Lines: (voice, words).
pub(crate) type Script<'a> = [(&'a str, &'a str)];

/// One side's conversation `placed` with people talking at once: into each line of
/// `interrupted`, the next line's speaker breaks 1 s after it starts and says their line
/// over it, as loud as this side hears them (`near` dB quieter unless they sit nearer
/// this side, as `conversation_placed` placed them: even lines nearer side 0).
pub(crate) fn talked_over(
    d: &Path,
    placed: &Path,
    (spans, script): (&[(f64, f64)], &Script<'_>),
    (side, near): (usize, f64),
    (interrupted, name): (&[usize], &str),
) -> PathBuf {
    let mut args: Vec<std::ffi::OsString> =
        ["-m", "-v", "1"].iter().map(Into::into).chain([placed.as_os_str().to_owned()]).collect();
    for &i in interrupted {
        let (voice, text) = script[i + 1];
        let words = speak(d, &format!("{name}-over{i}"), voice, text, 170);
        let db = if (i + 1) % 2 == side { 0.0 } else { -near };
        let out = d.join(format!("{name}-over{i}-placed.wav"));
        let (db, at) = (format!("{db:.1}"), format!("{:.3}", spans[i].0 + 1.0));
        sox(&[&words, &out, &"gain", &db, &"pad", &at, &"0"]);
        args.extend(["-v".into(), "1".into(), out.into_os_string()]);
    }
    let out = d.join(format!("{name}-talked-over.wav"));
    args.push(out.clone().into_os_string());
    let refs: Vec<&dyn AsRef<std::ffi::OsStr>> =
        args.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>).collect();
    sox(&refs);
    out
}

pub(crate) fn conversation(d: &Path) -> PathBuf {
    conversation_of(d, "conversation", &LINES, &[]).0
}

/// `source` as one microphone hears it: its own colour, echo, level, distance, noise and
/// clock.
pub(crate) fn microphone(
    d: &Path,
    source: &Path,
    name: &str,
    effects: &[&str],
    noise: &str,
    speed: &str,
) -> PathBuf {
    let clean = d.join(format!("{name}-clean.wav"));
    let mut c = sox_command();
    c.arg(source).arg(&clean).args(effects).args(["speed", speed, "rate", "48000"]);
    run(&mut c);
    let seconds = hound::WavReader::open(&clean).expect("wav").duration() as f64 / 48_000.0;
    let hiss = d.join(format!("{name}-noise.wav"));
    sox(&[
        &"-n",
        &"-r",
        &"48000",
        &"-c",
        &"1",
        &hiss,
        &"synth",
        &format!("{seconds:.3}"),
        &"pinknoise",
        &"vol",
        &noise,
    ]);
    let out = d.join(format!("{name}.wav"));
    sox(&[&"-m", &clean, &hiss, &out]);
    out
}

/// Encodes `wav` with dualrec's encoder into a recording of session `session`.
pub(crate) fn record(wav: &Path, out: &Path, session: [u8; 16]) -> dualrec_media::RecordingFile {
    let rec = Recorder::wav(wav, Pacing::AsFastAsPossible, EncoderConfig::default()).expect("wav");
    let head = OpusHead {
        channels: 1,
        pre_skip: rec.pre_skip(),
        input_sample_rate: 48_000,
        output_gain: 0,
    };
    let tags = OpusTags::for_session("dualrec test", SessionId(session), PublicKey([9; 32]));
    let mut w = RecordingWriter::create(out, head, &tags, 1).expect("writer");
    loop {
        match rec.recv(std::time::Duration::from_secs(30)).expect("the encoder went quiet") {
            AudioEvent::Packet(p) => w.write_packet(&p.data).expect("packet"),
            AudioEvent::Finished { input_samples } => {
                w.finish(input_samples).expect("finish");
                break;
            }
            AudioEvent::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    read_recording(&std::fs::read(out).expect("read")).expect("parse")
}

/// Mic A: near, bright, a little echo. Mic B: across the table, duller, more echo, quieter,
/// noisier, its clock 50 ppm fast. The two microphones' WAV files.
pub(crate) fn microphones(d: &Path, room_a: &Path, room_b: &Path) -> (PathBuf, PathBuf) {
    let a = microphone(
        d,
        room_a,
        "micA",
        &["highpass", "120", "reverb", "20", "gain", "-3"],
        "0.004",
        "1.0",
    );
    let b = microphone(
        d,
        room_b,
        "micB",
        &["pad", "0.035", "lowpass", "3800", "reverb", "55", "gain", "-9"],
        "0.008",
        "1.00005",
    );
    (a, b)
}

/// The two microphones' recordings, compared.
pub(crate) fn pair(d: &Path, room_a: &Path, room_b: &Path) -> Comparison {
    let case = room_b.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let (a, b) = microphones(d, room_a, room_b);
    let ra = record(&a, &d.join(format!("{case}-a.opus")), [7; 16]);
    let rb = record(&b, &d.join(format!("{case}-b.opus")), [7; 16]);
    compare(&ra, &rb).expect("compare")
}

pub(crate) fn show(c: &Comparison) -> String {
    c.seconds
        .iter()
        .map(|s| {
            format!(
                "{:>3} {:?} {:?} {:?} {}ms",
                s.index,
                s.class,
                s.why,
                s.score.map(|x| (x * 100.0).round() / 100.0),
                s.lag_ms
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every "different" second lies within 1 s of `from..=to`, and some second there is
/// "different".
pub(crate) fn caught_at(c: &Comparison, from: u64, to: u64) {
    let different = c.stretches(Class::Different);
    assert!(
        different.iter().any(|(a, b)| *a <= to + 1 && *b + 1 >= from),
        "nothing caught at {from}..={to}:\n{}",
        show(c)
    );
    for (a, b) in &different {
        assert!(
            *a + 1 >= from && *b <= to + 1,
            "a false alarm at {a}..={b} (doctored {from}..={to}):\n{}",
            show(c)
        );
    }
}

/// `source` with `replacement` in place of `from..to` seconds.
pub(crate) fn splice(
    d: &Path,
    source: &Path,
    from: f64,
    to: f64,
    replacement: Option<&Path>,
    name: &str,
) -> PathBuf {
    let head = d.join(format!("{name}-head.wav"));
    let tail = d.join(format!("{name}-tail.wav"));
    sox(&[&source, &head, &"trim", &"0", &format!("{from}")]);
    sox(&[&source, &tail, &"trim", &format!("{to}")]);
    let out = d.join(format!("{name}.wav"));
    match replacement {
        Some(r) => sox(&[&head, &r, &tail, &out]),
        None => sox(&[&head, &tail, &out]),
    }
    out
}
