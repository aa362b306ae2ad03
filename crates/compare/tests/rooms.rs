//! Rooms, not toys: a conversation of two voices (espeak-ng, different voices and speeds,
//! pauses) rendered to two microphones with different gain, colour, distance, echo, noise
//! and clock drift (sox), each encoded by dualrec's own encoder; honest pairs must show no
//! "different sound", doctored pairs must be caught at the right seconds (within 1 s).

use std::path::{Path, PathBuf};
use std::process::Command;

use dualrec_audio::{AudioEvent, EncoderConfig, Pacing, Recorder};
use dualrec_compare::{Class, Comparison, compare};
use dualrec_media::{OpusHead, OpusTags, RecordingWriter, read_recording};
use dualrec_proof::{PublicKey, SessionId};

const LINES: [(&str, &str); 8] = [
    ("en-us+m3", "Good morning. Thank you for meeting me today about the children's plan."),
    ("en-gb+f2", "Of course. I want to understand what happens next with the contact visits."),
    (
        "en-us+m3",
        "We will review the arrangements at the end of the month, as we agreed last time.",
    ),
    ("en-gb+f2", "And will the children return home after the review, or stay where they are?"),
    ("en-us+m3", "That depends on the assessment. I cannot promise anything today, I am sorry."),
    ("en-gb+f2", "I understand. Can I see the assessment before the meeting with the court?"),
    ("en-us+m3", "Yes, you will get a copy a week before. Your solicitor will get one as well."),
    ("en-gb+f2", "Thank you. I will bring my notes and the school reports to the next meeting."),
];

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (.ci/setup installs sox and espeak-ng)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn sox(args: &[&dyn AsRef<std::ffi::OsStr>]) {
    let mut c = Command::new("sox");
    for a in args {
        c.arg(a);
    }
    run(&mut c);
}

/// A spoken line, 48 kHz mono.
fn speak(d: &Path, name: &str, voice: &str, text: &str, speed: u32) -> PathBuf {
    let raw = d.join(format!("{name}-raw.wav"));
    run(Command::new("espeak-ng")
        .args(["-v", voice, "-s", &speed.to_string(), "-w"])
        .arg(&raw)
        .arg(text));
    let out = d.join(format!("{name}.wav"));
    sox(&[&raw, &"-r", &"48000", &out]);
    out
}

/// The conversation: the lines in turn with pauses, about 45 s.
fn conversation(d: &Path) -> PathBuf {
    let mut parts: Vec<PathBuf> = Vec::new();
    for (i, (voice, text)) in LINES.iter().enumerate() {
        let line = speak(d, &format!("line{i}"), voice, text, 150 + 15 * (i as u32 % 3));
        let padded = d.join(format!("line{i}-pad.wav"));
        sox(&[&line, &padded, &"pad", &"0", &format!("0.{}", 4 + i % 5)]);
        parts.push(padded);
    }
    let out = d.join("conversation.wav");
    let mut c = Command::new("sox");
    c.args(&parts).arg(&out);
    run(&mut c);
    out
}

/// `source` as one microphone hears it: its own colour, echo, level, distance, noise and
/// clock.
fn microphone(
    d: &Path,
    source: &Path,
    name: &str,
    effects: &[&str],
    noise: &str,
    speed: &str,
) -> PathBuf {
    let clean = d.join(format!("{name}-clean.wav"));
    let mut c = Command::new("sox");
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
fn record(wav: &Path, out: &Path, session: [u8; 16]) -> dualrec_media::RecordingFile {
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
/// noisier, its clock 50 ppm fast.
fn pair(d: &Path, room_a: &Path, room_b: &Path) -> Comparison {
    let case = room_b.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
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
    let ra = record(&a, &d.join(format!("{case}-a.opus")), [7; 16]);
    let rb = record(&b, &d.join(format!("{case}-b.opus")), [7; 16]);
    compare(&ra, &rb).expect("compare")
}

fn show(c: &Comparison) -> String {
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
fn caught_at(c: &Comparison, from: u64, to: u64) {
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
fn splice(
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

#[test]
fn an_honest_room_has_no_different_second() {
    let dir = tempfile::tempdir().expect("tmp");
    let room = conversation(dir.path());
    let c = pair(dir.path(), &room, &room);
    assert_eq!(c.count(Class::Different), 0, "false alarms:\n{}", show(&c));
    let same = c.count(Class::Same);
    assert!(
        same * 10 >= c.seconds.len() * 6,
        "too little is found the same ({same} of {}):\n{}",
        c.seconds.len(),
        show(&c)
    );
}

#[test]
fn doctored_rooms_are_caught_at_the_right_seconds() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let room = conversation(d);

    // A phrase replaced with other words, 3 s long, at 20 s.
    let other = speak(d, "other", "en-gb+f2", "they will not return home at all", 170);
    let other3 = d.join("other3.wav");
    sox(&[&other, &other3, &"pad", &"0", &"3", &"trim", &"0", &"3"]);
    let replaced = splice(d, &room, 20.0, 23.0, Some(&other3), "replaced");
    caught_at(&pair(d, &room, &replaced), 20, 22);

    // 3 s muted at 12 s.
    let silence = d.join("silence3.wav");
    sox(&[&"-n", &"-r", &"48000", &"-c", &"1", &silence, &"trim", &"0", &"3"]);
    let muted = splice(d, &room, 12.0, 15.0, Some(&silence), "muted");
    caught_at(&pair(d, &room, &muted), 12, 14);

    // Words removed and the gap closed: A's 25 s to 27 s are not in B; B goes on with what
    // A has from 27 s, 2 s early.
    let cut = splice(d, &room, 25.0, 27.0, None, "cut");
    let c = pair(d, &room, &cut);
    caught_at(&c, 25, 27);
    let jump = c.jumps.iter().find(|j| (26..=28).contains(&j.second));
    let jump = jump.unwrap_or_else(|| panic!("no jump at the cut: {:?}\n{}", c.jumps, show(&c)));
    assert!((jump.from_ms - jump.to_ms - 2000).abs() <= 40, "a 2 s jump: {jump:?}");
}

#[test]
fn recordings_of_different_meetings_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let tone = d.join("tone.wav");
    sox(&[&"-n", &"-r", &"48000", &"-c", &"1", &tone, &"synth", &"3", &"sine", &"440"]);
    let a = record(&tone, &d.join("a.opus"), [1; 16]);
    let b = record(&tone, &d.join("b.opus"), [2; 16]);
    let e = compare(&a, &b).expect_err("different sessions");
    let text = e.to_string();
    assert!(
        text.contains(&SessionId([1; 16]).to_string())
            && text.contains(&SessionId([2; 16]).to_string()),
        "{text}"
    );
}
