//! `dualrec excerpt` and `verify` of excerpts (SPEC §11.5), on recordings made by two
//! real `dualrec record` processes: cut at and inside seconds, at the start, the middle
//! and the end, each verifies on its own against the other device's log; an excerpt with
//! a changed packet, one whose tags move it elsewhere, and one checked against another
//! session's evidence are each caught and named.

mod common;

use std::path::Path;
use std::process::Output;

use common::{dualrec, meeting, rewrite, verify_json};
use dualrec_media::read_recording;

fn excerpt(rec: &Path, from: &str, to: &str, out: &Path, extra: &[&str]) -> Output {
    dualrec()
        .arg("excerpt")
        .arg(rec)
        .args(["--from", from, "--to", to, "-o"])
        .arg(out)
        .args(extra)
        .output()
        .expect("dualrec excerpt")
}

/// Seconds of audio `opusdec` (opus-tools, outside our code) decodes from `path`.
fn decoded_seconds(path: &Path, dir: &Path) -> f64 {
    let wav = dir.join("decoded.wav");
    let out = std::process::Command::new("opusdec")
        .args(["--quiet", "--rate", "48000"])
        .arg(path)
        .arg(&wav)
        .output()
        .expect("opusdec must be installed (.ci/setup installs opus-tools)");
    assert!(out.status.success(), "opusdec: {}", String::from_utf8_lossy(&out.stderr));
    let r = hound::WavReader::open(&wav).expect("decoded wav");
    r.duration() as f64 / 48_000.0
}

#[test]
fn excerpts_cut_anywhere_verify_on_their_own_and_edits_are_caught() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let other_dir = d.join("other");
    std::fs::create_dir(&other_dir).expect("mkdir");
    // Two meetings at once: the second only lends its evidence to the last check.
    let other = std::thread::spawn({
        let o = other_dir.clone();
        move || meeting(&o, 3)
    });
    let (rec, _, log_b) = meeting(d, 6);
    let length =
        read_recording(&std::fs::read(&rec).expect("read")).expect("parse").playback().audio_end;

    // (from, to, the packets' span it should hold in 48 kHz samples, whole seconds touched)
    let cases = [
        ("1", "3", (48_000, 144_000), 2),
        ("1.3", "3.7", (62_400, 177_600), 3),
        ("0", "0.7", (0, 33_600), 1),
        ("2.2", "2.6", (105_600, 124_800), 1),
        ("4.5", "", (216_000, length), 0),
    ];
    for (i, (from, to, (first, end), seconds)) in cases.into_iter().enumerate() {
        let to =
            if to.is_empty() { format!("{}", length as f64 / 48_000.0) } else { to.to_owned() };
        let out = d.join(format!("ex{i}.opus"));
        let made = excerpt(&rec, from, &to, &out, &[]);
        assert!(made.status.success(), "{from}-{to}: {}", String::from_utf8_lossy(&made.stderr));
        let (code, v) = verify_json(&out, &[&log_b]);
        assert_eq!(
            code,
            Some(0),
            "{from}-{to}: {}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
        assert_eq!(v["verdict"], "intact");
        assert_eq!(v["excerpt"]["placed"], true);
        assert_eq!(v["excerpt"]["first_sample"], first, "{from}-{to}");
        assert_eq!(v["excerpt"]["end_sample"], end, "{from}-{to}");
        let held = v["totals"]["witnessed_live"].as_u64().expect("live");
        if seconds > 0 {
            assert_eq!(held, seconds, "{from}-{to}");
        }
        assert_eq!(
            held + v["totals"]["outside_excerpt"].as_u64().expect("outside"),
            v["totals"]["chunks"].as_u64().expect("chunks")
        );
        // A standard file: an outside decoder plays it, about as long as was asked.
        let played = decoded_seconds(&out, d);
        let asked = (end - first) as f64 / 48_000.0;
        assert!(
            (played - asked).abs() < 0.03,
            "{from}-{to}: opusdec played {played} s of {asked} s"
        );
    }
    // The text names the excerpt's place and the partial seconds.
    let text = dualrec()
        .arg("verify")
        .arg(d.join("ex1.opus"))
        .arg("--evidence")
        .arg(&log_b)
        .output()
        .expect("verify");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("This file is an excerpt: 00:01.3 to 00:03.7 of the recording"),
        "{text}"
    );
    assert!(text.contains("It begins or ends inside a second"), "{text}");

    // The excerpt cut inside seconds, edited in each way a dishonest party might.
    let (_, _, other_log) = other.join().expect("other meeting");
    edits_are_caught(d, &d.join("ex1.opus"), &log_b, &other_log);
}

/// `ex`, a placed excerpt of the meeting `log_b` witnessed, edited: a changed packet, a
/// place a second later, a garbled tag, and checked against `other_log` of another session.
fn edits_are_caught(d: &Path, ex: &Path, log_b: &Path, other_log: &Path) {
    // One packet changed: the second holding it is altered, the rest still verify.
    let changed = d.join("changed.opus");
    rewrite(ex, &changed, |packets, _| packets[60][5] ^= 0x10);
    let (code, v) = verify_json(&changed, &[log_b]);
    assert_eq!(code, Some(1));
    assert_eq!(v["totals"]["altered"], 1, "{}", v["chunks"]);
    assert_eq!(v["totals"]["witnessed_live"], 2);

    // Tags that put it a second later than it was recorded.
    let moved = d.join("moved.opus");
    rewrite(ex, &moved, |_, tags| {
        for t in tags.iter_mut() {
            if let Some(v) = t.strip_prefix("DUALREC_EXCERPT_SAMPLE=") {
                *t = format!("DUALREC_EXCERPT_SAMPLE={}", v.parse::<u64>().expect("n") + 48_000);
            } else if let Some(v) = t.strip_prefix("DUALREC_EXCERPT_PACKET=") {
                *t = format!("DUALREC_EXCERPT_PACKET={}", v.parse::<u64>().expect("n") + 50);
            }
        }
    });
    let (code, v) = verify_json(&moved, &[log_b]);
    assert_eq!(code, Some(1));
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"excerpt_misplaced"), "{kinds:?}");
    // Unreadable place tags: an error naming the tag, exit 2.
    let garbled = d.join("garbled.opus");
    rewrite(ex, &garbled, |_, tags| tags.push("DUALREC_EXCERPT_SAMPLE=07".into()));
    let out = dualrec()
        .arg("verify")
        .arg(&garbled)
        .arg("--evidence")
        .arg(log_b)
        .output()
        .expect("verify");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DUALREC_EXCERPT_SAMPLE"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Another session's evidence: refused, naming the session.
    let out =
        dualrec().arg("verify").arg(ex).arg("--evidence").arg(other_log).output().expect("verify");
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    let session = read_recording(&std::fs::read(ex).expect("read"))
        .expect("parse")
        .tags
        .session()
        .expect("session");
    assert!(said.contains(&session.to_string()), "{said}");
}

#[test]
fn an_excerpt_range_that_cannot_be_cut_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let (rec, _, _) = meeting(d, 3);
    let out = d.join("ex.opus");
    for (from, to, says) in [
        ("2", "1", "empty or reversed"),
        ("1", "1", "empty or reversed"),
        ("1", "9", "long: an excerpt from 00:01.0 to 00:09.0 runs past its end"),
        ("1:75", "2", "not a time"),
    ] {
        let o = excerpt(&rec, from, to, &out, &[]);
        assert_ne!(o.status.code(), Some(0), "{from}-{to}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{from}-{to}: {err}");
        assert!(!out.exists(), "{from}-{to} wrote a file");
    }
    // An existing file is kept unless --force.
    std::fs::write(&out, b"keep me").expect("write");
    let o = excerpt(&rec, "0.5", "1", &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    assert_eq!(std::fs::read(&out).expect("read"), b"keep me");
    assert!(excerpt(&rec, "0.5", "1", &out, &["--force"]).status.success());
    assert!(read_recording(&std::fs::read(&out).expect("read")).is_ok());
    // An excerpt of an excerpt would lose its place: refused.
    let o = excerpt(&out, "0", "0.2", &d.join("ex2.opus"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already an excerpt"));
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
}
