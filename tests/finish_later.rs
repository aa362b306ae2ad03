//! Witnessing cut short at the end of a meeting is finished the next time the same two
//! devices meet: two real `dualrec record` processes, one frozen (SIGSTOP) near the end so
//! the other ends alone, then a second meeting between them; the first meeting's
//! recordings then verify as witnessed to the end (the last seconds late) and complete.

mod common;

use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use common::{spawn_pair, tone, verify_json};

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -{sig}");
}

/// Presses Ctrl-C every 2 s until the program has finished (the first may come while it
/// is still stopping), then returns what it printed.
fn interrupt_until_done(mut child: Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the recorder did not finish");
        signal(&child, "INT");
        std::thread::sleep(Duration::from_secs(2));
    }
    child.wait_with_output().expect("output")
}

fn sessions(out: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> =
        std::fs::read_dir(out).expect("out").map(|e| e.expect("entry").path()).collect();
    dirs.sort_by_key(|d| std::fs::metadata(d).and_then(|m| m.modified()).expect("mtime"));
    dirs
}

#[test]
fn witnessing_cut_short_at_the_end_is_finished_at_the_next_meeting() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 40);
    tone(&d.join("b.wav"), 330.0, 40);

    // The first meeting: B freezes a few seconds in; A reaches its end alone.
    let (a, b) = spawn_pair(d, "9s");
    std::thread::sleep(Duration::from_secs(7));
    signal(&b, "STOP");
    std::thread::sleep(Duration::from_secs(8));
    let oa = interrupt_until_done(a);
    signal(&b, "CONT");
    let ob = interrupt_until_done(b);
    let say = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    for o in [&oa, &ob] {
        assert!(say(o).contains("end signed by this device only"), "{}", say(o));
    }

    let first_a = sessions(&d.join("out-A")).remove(0);
    let first_b = sessions(&d.join("out-B")).remove(0);
    let (rec_a, log_b) = (first_a.join("recording.opus"), first_b.join("evidence.log"));
    let (_, before) = verify_json(&rec_a, &[&log_b]);
    assert_ne!(before["axes"]["completeness"]["state"], "complete", "{before}");

    // The second meeting, remembered devices: the first one's witnessing is finished.
    let (a, b) = spawn_pair(d, "4s");
    let (oa2, ob2) = (a.wait_with_output().expect("A"), b.wait_with_output().expect("B"));
    assert!(oa2.status.success() && ob2.status.success(), "{}\n{}", say(&oa2), say(&ob2));
    let told = format!("{}{}", say(&oa2), say(&ob2));
    assert!(told.contains("confirmed the rest of the earlier meeting"), "{told}");

    // Each first recording against the other device's first log, alone.
    let (rec_b, log_a) = (first_b.join("recording.opus"), first_a.join("evidence.log"));
    for (rec, log) in [(&rec_a, &log_b), (&rec_b, &log_a)] {
        let (_, v) = verify_json(rec, &[log]);
        let totals = &v["totals"];
        assert_eq!(v["axes"]["completeness"]["state"], "complete", "{v}");
        assert_eq!(v["axes"]["integrity"]["state"], "exact", "{v}");
        assert_eq!(totals["signed_only"], 0, "{v}");
        assert_eq!(totals["not_covered"], 0, "{v}");
        assert!(totals["witnessed_late"].as_u64().unwrap_or(0) >= 1, "{v}");
    }
}
