//! `dualrec record` from a real (virtual) microphone through cpal, with the other device
//! recording a file: the sound check before the meeting hears the person speak, and the
//! meeting's recording verifies against the other device's evidence.

mod common;
#[path = "../crates/audio/tests/common/pulse.rs"]
mod pulse;

use std::process::Stdio;
use std::time::Duration;

use common::{free_addr, spawn_recorder, tone};

/// `dualrec record` for device A from the virtual microphone, dialling `addr`.
fn record_from_microphone(
    pulse: &pulse::Pulse,
    d: &std::path::Path,
    duration: &str,
    addr: &str,
) -> std::process::Command {
    let mut a = pulse.cmd(env!("CARGO_BIN_EXE_dualrec"));
    a.arg("--data-dir")
        .arg(d.join("data-A"))
        .args(["record", "--name", "A", "--duration", duration, "--yes", "--out"])
        .arg(d.join("out-A"))
        .args(["--connect", addr]);
    a
}

#[test]
fn the_sound_check_hears_the_person_and_the_meeting_records_the_microphone() {
    let pulse = pulse::Pulse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("b.wav"), 330.0, 30);
    let speech = d.join("speech.wav");
    common::speak(
        &speech,
        "Hello, this is the parent. Can the microphone hear me? One, two, three.",
    );

    let addr = free_addr();
    let b = spawn_recorder(d, "B", "8s", &["--listen", &addr]);
    std::thread::sleep(Duration::from_millis(500));
    // The person speaks while the microphone is checked, and on into the meeting.
    let mut speaker = pulse.cmd("sh");
    speaker
        .arg("-c")
        .arg(format!("sleep 0.3; for i in 1 2 3 4 5 6; do paplay '{}'; done", speech.display()));
    let mut speaker = speaker.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("paplay");
    let a = record_from_microphone(&pulse, d, "8s", &addr).output().expect("run A");
    let _ = speaker.kill();
    let _ = speaker.wait();
    let text = String::from_utf8_lossy(&a.stdout);
    let err = String::from_utf8_lossy(&a.stderr);
    assert!(a.status.success(), "A: {text}{err}\n{}", pulse.log());
    assert!(text.contains("checking the microphone ("), "{text}");
    let ready = text
        .lines()
        .find(|l| l.contains("ready: the microphone"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(ready.contains("works and hears you ("), "{ready}");
    assert!(!text.contains("heard almost nothing"), "{text}");
    assert!(err.trim().is_empty(), "nothing on stderr (no ALSA noise): {err}");
    let ob = b.wait_with_output().expect("B");
    assert!(ob.status.success(), "B: {}", String::from_utf8_lossy(&ob.stdout));

    let (_, rec_a, _) = common::session_files(&d.join("out-A"));
    let (_, _, log_b) = common::session_files(&d.join("out-B"));
    let (code, v) = common::verify_json(&rec_a, &[&log_b]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["verdict"], "intact", "{v}");
    assert_eq!(v["axes"]["witnessing"]["state"], "all_live", "{v}");
    assert!(v["totals"]["chunks"].as_u64() >= Some(7), "{v}");
}

/// A recorder whose whole program is frozen for a few seconds (as a laptop that sleeps, or
/// a debugger) goes on recording when it wakes: the time away is lost input, not the end
/// of the meeting.
#[test]
fn a_recorder_frozen_for_a_while_goes_on_recording() {
    let pulse = pulse::Pulse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("b.wav"), 330.0, 30);
    let speech = d.join("speech.wav");
    common::speak(&speech, "We are still talking while the laptop sleeps for a moment.");
    let addr = free_addr();
    let b = spawn_recorder(d, "B", "16s", &["--listen", &addr]);
    std::thread::sleep(Duration::from_millis(500));
    let mut speaker = pulse.cmd("sh");
    speaker.arg("-c").arg(format!("while true; do paplay '{}'; done", speech.display()));
    let mut speaker = speaker.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("paplay");
    let a = record_from_microphone(&pulse, d, "16s", &addr)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("A");
    // Once A records, freeze it for 5 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(d.join("out-A")).map_or(0, |r| r.count()) == 0 {
        assert!(std::time::Instant::now() < deadline, "A never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let pid = a.id().to_string();
    let signal = |sig: &str| {
        assert!(
            std::process::Command::new("kill").args([sig, &pid]).status().expect("kill").success()
        );
    };
    signal("-STOP");
    std::thread::sleep(Duration::from_secs(5));
    signal("-CONT");
    let out = a.wait_with_output().expect("A");
    let _ = speaker.kill();
    let _ = speaker.wait();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "A: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("disappeared"), "the microphone did not go away: {text}");
    assert!(text.contains("end signed by both devices"), "{text}");
    let ob = b.wait_with_output().expect("B");
    assert!(ob.status.success(), "B: {}", String::from_utf8_lossy(&ob.stdout));
    let (_, rec_a, _) = common::session_files(&d.join("out-A"));
    let (_, _, log_b) = common::session_files(&d.join("out-B"));
    let (_, v) = common::verify_json(&rec_a, &[&log_b]);
    assert_eq!(v["axes"]["integrity"]["state"], "exact", "{v}");
    assert!(v["totals"]["chunks"].as_u64() >= Some(14), "the meeting went on to its end: {v}");
}
