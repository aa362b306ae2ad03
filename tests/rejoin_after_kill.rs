//! A device whose program is killed (-9) in the middle of a meeting, twice, rejoins it each
//! time it is started again: the same session goes on, its recording continues with silence for the
//! time away (a signed capture gap), both devices sign the end together, and each
//! recording verifies against the other's evidence alone.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{free_addr, session_files, spawn_recorder, tone, verify_json};

#[test]
fn a_recorder_killed_mid_meeting_rejoins_it_when_started_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 40);
    tone(&d.join("b.wav"), 330.0, 40);
    let addr = free_addr();
    let a = spawn_recorder(d, "A", "22s", &["--listen", &addr]);
    std::thread::sleep(Duration::from_millis(500));
    let b = spawn_recorder(d, "B", "22s", &["--connect", &addr]);
    std::thread::sleep(Duration::from_secs(7));
    let kill = |a: std::process::Child| {
        let killed = Command::new("kill").arg("-9").arg(a.id().to_string()).status();
        assert!(killed.is_ok_and(|s| s.success()));
        let _ = a.wait_with_output();
        std::thread::sleep(Duration::from_secs(2));
    };
    kill(a);
    // Started again as before: it finds the meeting it left and rejoins it (--yes); then
    // it is killed once more, and started again.
    let a = spawn_recorder(d, "A", "22s", &["--listen", &addr]);
    std::thread::sleep(Duration::from_secs(6));
    kill(a);
    let a = spawn_recorder(d, "A", "22s", &["--listen", &addr]);
    let (oa, ob) = (a.wait_with_output().expect("A"), b.wait_with_output().expect("B"));
    let (ta, tb) = (String::from_utf8_lossy(&oa.stdout), String::from_utf8_lossy(&ob.stdout));
    assert!(oa.status.success(), "A:\n{ta}\n{}", String::from_utf8_lossy(&oa.stderr));
    assert!(ob.status.success(), "B:\n{tb}\n{}", String::from_utf8_lossy(&ob.stderr));
    assert!(ta.contains("stopped in the middle of meeting"), "{ta}");
    for t in [&ta, &tb] {
        assert!(t.contains("end signed by both devices"), "{t}");
    }

    // One session on each device; A's recording is one file, continued after the kill.
    let (id_a, rec_a, log_a) = session_files(&d.join("out-A"));
    let (id_b, rec_b, log_b) = session_files(&d.join("out-B"));
    // Each folder names the other person and the same session.
    let session = |id: &str| id.rsplit_once('(').map(|(_, s)| s.to_owned());
    assert!(id_a.contains(" with B (") && id_b.contains(" with A ("), "{id_a} / {id_b}");
    assert_eq!(session(&id_a), session(&id_b));
    for part in ["recording.interrupted.opus", "recording.interrupted-2.opus"] {
        assert!(rec_a.with_file_name(part).is_file(), "{part} kept as it was");
    }
    let (code, v) = verify_json(&rec_a, &[&log_b]);
    assert_eq!(v["axes"]["integrity"]["state"], "exact", "{v}");
    assert_eq!(v["axes"]["completeness"]["state"], "complete", "{v}");
    assert_eq!(v["totals"]["signed_only"], 0, "{v}");
    assert_eq!(v["totals"]["not_covered"], 0, "{v}");
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    let gaps = findings.iter().filter(|f| f["kind"] == "capture_gap").count();
    assert_eq!(gaps, 2, "each time away is said: {v}");
    assert!(code == Some(0) || code == Some(1), "{v}");
    // B's recording against A's evidence alone: whole, every second witnessed.
    let (_, v) = verify_json(&rec_b, &[&log_a]);
    assert_eq!(v["axes"]["integrity"]["state"], "exact", "{v}");
    assert_eq!(v["axes"]["completeness"]["state"], "complete", "{v}");
    assert_eq!(v["totals"]["not_covered"], 0, "{v}");
}
