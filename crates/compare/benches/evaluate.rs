//! The acoustic cross-check's evaluation (issue #11): honest rooms (false alarms per hour)
//! and doctored rooms (caught / missed / false alarms per case), printed as a table.
//!
//! `cargo bench -p dualrec-compare --bench evaluate` (ROOMS=20 by default; rooms of 24,
//! 48, 72 and 120 lines in turn, about 2, 4, 6 and 10 minutes; LINES=16 makes every room 16
//! lines, for a quick run; ONLY=2,8 runs just those rooms; DUMP=1 prints the seconds
//! around each doctored stretch; KEEP=DIR leaves each room's files in a folder of DIR).
//! Each honest room has each speaker nearer one device (4 to 10 dB louder there), under the
//! babble of three other people talking; each room is also heard with people talking at
//! once (every 6th line talked over).

#![allow(clippy::print_stdout)]

#[path = "../tests/common/rooms.rs"]
#[allow(unreachable_pub, clippy::unwrap_used)]
mod rooms;

use std::path::{Path, PathBuf};

use dualrec_compare::{Class, Comparison, Second, compare};
use rooms::{
    BABBLE, LINES, VOICES, conversation_of, conversation_placed, microphone, record, sox, speak,
    splice, talked_over,
};

/// A small deterministic generator: the same rooms every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

/// Room `n`: two voices of its own, `lines` lines; `elsewhere` gives another room (other
/// voices, the lines in another order).
fn room(d: &Path, n: usize, lines: usize, elsewhere: bool) -> (PathBuf, Vec<(f64, f64)>) {
    if !elsewhere {
        return conversation_of(d, &format!("room{n}"), &script_of(n, lines), &[]);
    }
    let (v1, v2) = (VOICES[(n + 3) % VOICES.len()], VOICES[(n * 3 + 4) % VOICES.len()]);
    let script: Vec<(&str, &str)> = (0..lines)
        .map(|i| {
            (if i % 2 == 0 { v1 } else { v2 }, LINES[((lines - 1 - i) * 5 + n) % LINES.len()].1)
        })
        .collect();
    conversation_of(d, &format!("elsewhere{n}"), &script, &[])
}

/// Room `n`'s script (as [`room`] speaks it).
fn script_of(n: usize, lines: usize) -> Vec<(&'static str, &'static str)> {
    let (v1, v2) = (VOICES[n % VOICES.len()], VOICES[(n * 3 + 1) % VOICES.len()]);
    (0..lines)
        .map(|i| (if i % 2 == 0 { v1 } else { v2 }, LINES[(i * 3 + n) % LINES.len()].1))
        .collect()
}

/// The room as two microphones hear it, with this room's own differences, encoded;
/// `mute_b`: device B's input is muted for 3 s from this second (digital silence).
fn mics(
    d: &Path,
    a_src: &Path,
    b_src: &Path,
    case: &str,
    rng: &mut Lcg,
    mute_b: Option<f64>,
) -> Comparison {
    let lp = format!("{:.0}", rng.range(3000.0, 6500.0));
    let rev = format!("{:.0}", rng.range(10.0, 80.0));
    let gain = format!("{:.1}", rng.range(-15.0, -3.0));
    let pad = format!("{:.3}", rng.range(0.005, 0.09));
    let noise = format!("{:.4}", rng.range(0.002, 0.015));
    let speed = format!("{:.6}", 1.0 + rng.range(-50e-6, 50e-6));
    let a = microphone(
        d,
        a_src,
        &format!("{case}-micA"),
        &["highpass", "100", "reverb", "15"],
        "0.003",
        "1.0",
    );
    let b = microphone(
        d,
        b_src,
        &format!("{case}-micB"),
        &["pad", &pad, "lowpass", &lp, "reverb", &rev, "gain", &gain],
        &noise,
        &speed,
    );
    let b = match mute_b {
        Some(at) => splice(d, &b, at, at + 3.0, Some(&silence(d, 3.0)), &format!("{case}-muted")),
        None => b,
    };
    let ra = record(&a, &d.join(format!("{case}-a.opus")), [7; 16]);
    let rb = record(&b, &d.join(format!("{case}-b.opus")), [7; 16]);
    compare(&ra, &rb).expect("compare")
}

/// `seconds` of digital silence.
fn silence(d: &Path, seconds: f64) -> PathBuf {
    let out = d.join(format!("silence-{seconds}.wav"));
    let len = format!("{seconds}");
    sox(&[&"-n", &"-r", &"48000", &"-c", &"1", &out, &"trim", &"0", &len]);
    out
}

/// Babble: three other people talking at once in the background, about 13 minutes.
fn babble(d: &Path) -> PathBuf {
    let mut voices = Vec::new();
    for (k, voice) in BABBLE.iter().enumerate() {
        let script: Vec<(&str, &str)> =
            (0..8).map(|i| (*voice, LINES[(i * 5 + k * 3) % LINES.len()].1)).collect();
        let (one, _) = conversation_of(d, &format!("babble{k}"), &script, &[]);
        let long = d.join(format!("babble{k}-long.wav"));
        sox(&[&one, &long, &"repeat", &"20"]);
        voices.push(long);
    }
    let out = d.join("babble.wav");
    sox(&[&"-m", &voices[0], &voices[1], &voices[2], &out]);
    out
}

/// `src` with the room's babble under it (both microphones hear it).
fn in_babble(d: &Path, src: &Path, babble: &Path, name: &str) -> PathBuf {
    let seconds = hound::WavReader::open(src).expect("wav").duration() as f64 / 48_000.0;
    let out = d.join(format!("{name}-babble.wav"));
    sox(&[
        &"-m",
        &"-v",
        &"1",
        &src,
        &"-v",
        &"0.2",
        &babble,
        &out,
        &"trim",
        &"0",
        &format!("{seconds:.3}"),
    ]);
    out
}

/// (caught, the false alarms: the different seconds away from it) for a doctored span
/// `from..=to` (±1 s).
fn judge(c: &Comparison, from: u64, to: u64) -> (bool, Vec<&Second>) {
    let near = |i: u64| i + 1 >= from && i <= to + 1;
    let (caught, away): (Vec<&Second>, Vec<&Second>) =
        different(c).into_iter().partition(|s| near(s.index));
    (!caught.is_empty(), away)
}

/// The seconds found different.
fn different(c: &Comparison) -> Vec<&Second> {
    c.seconds.iter().filter(|s| s.class == Class::Different).collect()
}

/// Seconds as the evaluation prints them: second, why, score.
fn described(seconds: &[&Second]) -> String {
    let each: Vec<String> =
        seconds.iter().map(|x| format!("{} {:?} {:?}", x.index, x.why, x.score)).collect();
    each.join("; ")
}

#[derive(Default)]
struct Row {
    tried: usize,
    caught: usize,
    false_alarms: usize,
}

/// Room `n`'s doctored copy for case `k` (from its clean source), and the seconds the
/// doctoring spans.
fn doctor(
    d: &Path,
    (n, k, lines): (usize, usize, usize),
    clean: &Path,
    spans: &[(f64, f64)],
) -> (PathBuf, u64, u64) {
    // Placed at a line (speech, not a pause).
    let (start, end) = spans[spans.len() / 2];
    let at = start.floor();
    match k {
        0 => {
            let other = speak(
                d,
                &format!("other{n}"),
                VOICES[(n + 5) % 8],
                "they will not return home at all",
                165,
            );
            let fit = d.join(format!("other{n}-3.wav"));
            sox(&[&other, &fit, &"pad", &"0", &"3", &"trim", &"0", &"3"]);
            (
                splice(d, clean, at, at + 3.0, Some(&fit), &format!("replaced{n}")),
                at as u64,
                at as u64 + 2,
            )
        }
        1 => {
            // The middle line said by someone else (a stand-in for a cloned voice).
            let line = spans.len() / 2;
            let shifted = VOICES[(n + 2) % VOICES.len()];
            let (f, _) =
                conversation_of(d, &format!("voice{n}"), &script_of(n, lines), &[(line, shifted)]);
            (f, start as u64, end as u64)
        }
        2 => {
            // The voice taken out, the room's babble kept (it is added after).
            let quiet = silence(d, 3.0);
            (
                splice(d, clean, at, at + 3.0, Some(&quiet), &format!("removed{n}")),
                at as u64,
                at as u64 + 2,
            )
        }
        // The device's input muted: see `mics`.
        6 => (clean.to_path_buf(), at as u64, at as u64 + 2),
        3 => (splice(d, clean, at, at + 2.0, None, &format!("cut{n}")), at as u64, at as u64 + 2),
        4 => {
            let part = d.join(format!("part{n}.wav"));
            sox(&[&clean, &part, &"trim", &format!("{at}"), &"10"]);
            let faster = d.join(format!("faster{n}.wav"));
            sox(&[&part, &faster, &"tempo", &"1.05"]);
            (
                splice(d, clean, at, at + 10.0, Some(&faster), &format!("stretched{n}")),
                at as u64 + 1,
                at as u64 + 10,
            )
        }
        _ => {
            let (other, _) = room(d, n, lines, true);
            (other, 0, u64::MAX / 2)
        }
    }
}

fn main() {
    let rooms_n: usize = std::env::var("ROOMS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let fixed_lines: Option<usize> = std::env::var("LINES").ok().and_then(|v| v.parse().ok());
    let dir = tempfile::tempdir().expect("tmp");
    // KEEP=DIR: make the rooms there and leave them (to compare again by hand).
    let kept = std::env::var_os("KEEP").map(PathBuf::from);
    let root = kept.unwrap_or_else(|| dir.path().to_path_buf());
    let d = root.as_path();
    let mut rng = Lcg(0x0064_7561_6c72_6563);
    let background = babble(d);
    let (mut honest_seconds, mut honest_alarms, mut same, mut cannot) =
        (0u64, 0usize, 0usize, 0usize);
    let cases = [
        "replaced phrase",
        "other voice",
        "a voice removed for 3 s, the babble kept",
        "2 s cut",
        "5 % stretch",
        "another room",
        "3 s muted (the device's input)",
    ];
    let mut rows: Vec<Row> = cases.iter().map(|_| Row::default()).collect();
    // Per room size (each speaker 4, 6, 8, 10 dB nearer one device): seconds, different.
    let mut overlap = [(0u64, 0usize); 4];
    // ONLY=2,8: just those rooms (the others' random draws are still taken, so each room
    // is the same room as in a full run).
    let only: Option<Vec<usize>> = std::env::var("ONLY")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    for n in 0..rooms_n {
        if only.as_ref().is_some_and(|o| !o.contains(&n)) {
            for _ in 0..12 {
                rng.next();
            }
            continue;
        }
        // Each room's sound in its own folder, removed after it (a 10-minute room's WAV
        // files take about 2 GB); the babble is shared.
        let room_dir = tempfile::tempdir_in(&root).expect("room dir");
        let d = room_dir.path();
        // About 2, 4, 6 and 10 minutes.
        let lines = fixed_lines.unwrap_or([24, 48, 72, 120][n % 4]);
        let (clean, spans) = room(d, n, lines, false);
        let src = in_babble(d, &clean, &background, &format!("room{n}"));
        // The honest pair: each speaker nearer one device (4 to 10 dB louder there).
        let near = 4.0 + 2.0 * (n % 4) as f64;
        let script = script_of(n, lines);
        let sides: Vec<(PathBuf, Vec<(f64, f64)>)> = (0..2)
            .map(|side| {
                let gain = move |i: usize| if i % 2 == side { 0.0 } else { -near };
                conversation_placed(d, &format!("room{n}-{side}"), &script, &[], &gain)
            })
            .collect();
        let heard = |side: usize, f: &Path, tag: &str| {
            in_babble(d, f, &background, &format!("room{n}-{side}{tag}"))
        };
        let c = mics(
            d,
            &heard(0, &sides[0].0, ""),
            &heard(1, &sides[1].0, ""),
            &format!("honest{n}"),
            &mut rng,
            None,
        );
        let alarms = different(&c);
        if !alarms.is_empty() {
            eprintln!("room {n}: honest pair, different: {}", described(&alarms));
        }
        honest_seconds += c.seconds.len() as u64;
        honest_alarms += c.count(Class::Different);
        same += c.count(Class::Same);
        cannot += c.count(Class::CannotTell);
        // The same room with people talking at once (its own microphones' draws, so the
        // other pairs stay the rooms they were).
        let over = |side: usize| {
            let (f, spans) = &sides[side];
            let every_sixth: Vec<usize> = (0..script.len() - 1).step_by(6).collect();
            let name = format!("room{n}-{side}");
            talked_over(d, f, (spans, &script), (side, near), (&every_sixth, &name))
        };
        let c = mics(
            d,
            &heard(0, &over(0), "-over"),
            &heard(1, &over(1), "-over"),
            &format!("overlap{n}"),
            &mut Lcg(0x6f76_6572 + n as u64),
            None,
        );
        let alarms = different(&c);
        if !alarms.is_empty() {
            eprintln!("room {n}: talked over ({near} dB), different: {}", described(&alarms));
        }
        let row = &mut overlap[n % 4];
        row.0 += c.seconds.len() as u64;
        row.1 += alarms.len();
        // One doctored case per room, in turn.
        let k = n % cases.len();
        // A cut or a stretch takes the room's babble with the words (it is made from the
        // device's own sound); other doctoring puts new or no speech under the babble
        // that goes on.
        let whole_sound = k == 3 || k == 4;
        let doctored = doctor(d, (n, k, lines), if whole_sound { &src } else { &clean }, &spans);
        let (file, from, to) = doctored;
        let file =
            if whole_sound { file } else { in_babble(d, &file, &background, &format!("case{n}")) };
        let mute = (k == 6).then_some(from as f64);
        let c = mics(d, &src, &file, &format!("case{n}"), &mut rng, mute);
        let (caught, away) = if k == 5 {
            let diff = c.count(Class::Different);
            (diff * 2 >= c.seconds.len() && c.count(Class::Same) == 0, Vec::new())
        } else {
            judge(&c, from, to)
        };
        let alarms = away.len();
        if alarms > 0 {
            eprintln!(
                "room {n}: doctored pair, different away from the doctoring: {}",
                described(&away)
            );
        }
        if std::env::var_os("DUMP").is_some() && k != 5 {
            // The seconds around the doctored span, to see how each was judged.
            for x in c.seconds.iter().filter(|x| x.index + 3 >= from && x.index <= to + 3) {
                eprintln!(
                    "    {:>4} {:?} {:?} {:?} lag {} ms",
                    x.index, x.class, x.why, x.score, x.lag_ms
                );
            }
        }
        rows[k].tried += 1;
        rows[k].caught += usize::from(caught);
        rows[k].false_alarms += alarms;
        if std::env::var_os("KEEP").is_some() {
            let _ = room_dir.keep();
        }
        eprintln!(
            "room {n}: doctored pair {} different of {} s; {} caught={caught} alarms={alarms}",
            c.count(Class::Different),
            c.seconds.len(),
            cases[k]
        );
    }
    let hours = honest_seconds as f64 / 3600.0;
    println!(
        "Honest rooms: {rooms_n}, {:.2} hours: {honest_alarms} seconds reported different ({:.1} per hour); {:.0} % same, {:.0} % cannot tell",
        hours,
        honest_alarms as f64 / hours,
        100.0 * same as f64 / honest_seconds as f64,
        100.0 * cannot as f64 / honest_seconds as f64
    );
    for (k, (seconds, alarms)) in overlap.iter().enumerate() {
        println!(
            "Honest rooms with people talking at once (every 6th line talked over), each speaker {} dB nearer one device: {:.2} hours, {alarms} seconds reported different",
            4 + 2 * k,
            *seconds as f64 / 3600.0
        );
    }
    println!("| case | tried | caught | missed | false-alarm seconds |");
    println!("|---|---|---|---|---|");
    for (case, r) in cases.iter().zip(&rows) {
        println!(
            "| {case} | {} | {} | {} | {} |",
            r.tried,
            r.caught,
            r.tried - r.caught,
            r.false_alarms
        );
    }
}
