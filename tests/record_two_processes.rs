//! Two `dualrec record` processes on loopback (typed address, WAV inputs, `--yes`): each
//! recording verifies against the other device's evidence; a tampered copy is caught.

mod common;

use std::time::{Duration, Instant};

use common::{dualrec, session_files, spawn_pair, tone, verify_json};

#[test]
fn two_recorders_witness_each_other_and_each_recording_verifies_against_the_other_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 5);
    tone(&d.join("b.wav"), 330.0, 5);
    let (a, b) = spawn_pair(d, "4s");
    let started = Instant::now();
    let (oa, ob) = (a.wait_with_output().expect("A"), b.wait_with_output().expect("B"));
    let (ta, tb) = (String::from_utf8_lossy(&oa.stdout), String::from_utf8_lossy(&ob.stdout));
    assert!(oa.status.success(), "A failed:\n{ta}\n{}", String::from_utf8_lossy(&oa.stderr));
    assert!(ob.status.success(), "B failed:\n{tb}\n{}", String::from_utf8_lossy(&ob.stderr));
    assert!(started.elapsed() < Duration::from_secs(60));
    for t in [&ta, &tb] {
        assert!(t.contains("the code was NOT checked by a person"), "--yes says so:\n{t}");
        assert!(t.contains("end signed by both devices"), "{t}");
    }

    let (id_a, rec_a, log_a) = session_files(&d.join("out-A"));
    let (id_b, rec_b, log_b) = session_files(&d.join("out-B"));
    // Each folder names the other person and the same session.
    assert!(id_a.contains(" with B (") && id_b.contains(" with A ("), "{id_a} / {id_b}");
    let session = |id: &str| id.rsplit_once('(').map(|(_, s)| s.to_owned());
    assert_eq!(session(&id_a), session(&id_b), "both devices name the same session");
    // Recordings and evidence are their owner's alone.
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        for f in [&rec_a, &log_a, &rec_b, &log_b] {
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
        assert_eq!(mode(rec_a.parent().expect("dir")), 0o700);
    }
    // Each recording against the other device's log alone, its own log alone, and both:
    // intact every time, and every report gives the same account of the meeting.
    let mut accounts = Vec::new();
    for rec in [&rec_a, &rec_b] {
        let (la, lb) = (log_a.as_path(), log_b.as_path());
        for logs in [vec![la], vec![lb], vec![la, lb]] {
            let (code, v) = verify_json(rec, &logs);
            assert_eq!(code, Some(0), "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            assert_eq!(v["verdict"], "intact");
            assert_eq!(v["schema"], dualrec_proof::REPORT_SCHEMA);
            assert_eq!(v["axes"]["completeness"]["state"], "complete");
            assert!(v["totals"]["witnessed_live"].as_u64().unwrap_or(0) >= 4);
            let ends = v["session"]["ends"].as_array().cloned().unwrap_or_default();
            assert!(!ends.is_empty() && ends.iter().all(|e| e["one_sided"] == false), "{ends:?}");
            let mut reasons: Vec<String> = ends.iter().map(|e| e["reason"].to_string()).collect();
            reasons.sort();
            reasons.dedup();
            accounts.push((
                v["session"]["ended_by"].clone(),
                reasons,
                v["session"]["started_at_ms"].clone(),
            ));
        }
    }
    assert!(accounts.windows(2).all(|w| w[0] == w[1]), "{accounts:?}");

    // A's recording with one second cut out, checked against B's evidence.
    let f = dualrec_media::read_recording(&std::fs::read(&rec_a).expect("read")).expect("parse");
    let bad = d.join("edited.opus");
    let mut w = dualrec_media::RecordingWriter::create(&bad, f.head, &f.tags, 1).expect("writer");
    for p in f.packets.iter().enumerate().filter(|(i, _)| !(50..100).contains(i)).map(|(_, p)| p) {
        w.write_packet(&p.data).expect("packet");
    }
    w.finish(f.playable_samples() - 48_000).expect("finish");
    let out =
        dualrec().arg("verify").arg(&bad).arg("--evidence").arg(&log_b).output().expect("verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("00:01.0-00:02.0  REMOVED"), "{text}");
}

#[test]
fn durations_people_type() {
    // Through the binary, so the parser the user meets is the one tested.
    let out = dualrec().args(["record", "--duration", "soon"]).output().expect("run");
    assert_eq!(out.status.code(), Some(64), "a usage error has its own code");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
}

#[test]
fn connect_keeps_trying_until_the_other_device_is_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 5);
    tone(&d.join("b.wav"), 330.0, 5);
    let addr = common::free_addr();
    // B is started first, with nothing listening at the address yet.
    let b = common::spawn_recorder(
        d,
        "B",
        "3s",
        &["--connect", &addr, "--listen", "/ip4/127.0.0.1/tcp/0"],
    );
    std::thread::sleep(Duration::from_secs(3));
    let a = common::spawn_recorder(d, "A", "3s", &["--listen", &addr]);
    let (oa, ob) = (a.wait_with_output().expect("A"), b.wait_with_output().expect("B"));
    let tb = String::from_utf8_lossy(&ob.stdout);
    assert!(oa.status.success(), "A: {}", String::from_utf8_lossy(&oa.stderr));
    assert!(ob.status.success(), "B: {tb}\n{}", String::from_utf8_lossy(&ob.stderr));
    assert!(tb.contains("trying again every second"), "{tb}");
    assert!(tb.contains("end signed by both devices"), "{tb}");
    assert!(!tb.contains("to type on the other one"), "no loopback address offered: {tb}");
}

#[test]
fn ctrl_c_before_the_meeting_begins_ends_the_program_and_records_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 3);
    let addr = common::free_addr();
    let mut a = common::spawn_recorder(d, "A", "60s", &["--listen", &addr]);
    std::thread::sleep(Duration::from_millis(1500));
    let st = std::process::Command::new("kill").args(["-INT", &a.id().to_string()]).status();
    assert!(st.expect("kill").success());
    let started = Instant::now();
    let status = loop {
        if let Some(st) = a.try_wait().expect("wait") {
            break st;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "Ctrl-C did not end the program");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = a.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Stopped before the meeting began. Nothing was recorded."), "{text}");
    let sessions = std::fs::read_dir(d.join("out-A")).map_or(0, |r| r.count());
    assert_eq!(sessions, 0, "no session folder");
}

/// Pre-flight: a folder that cannot take a recording, or an input that gives nothing, is
/// said before anyone is contacted, in one sentence with the next step, and nothing is
/// left behind.
#[test]
fn a_broken_folder_or_input_is_found_before_anyone_is_contacted() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 2);
    std::fs::write(d.join("a-file"), b"not a folder").expect("file");
    let addr = common::free_addr();
    let run = |extra: &[&str], input: &str| {
        dualrec()
            .arg("--data-dir")
            .arg(d.join("data"))
            .args(["record", "--name", "A", "--yes", "--listen", &addr, "--input-file"])
            .arg(d.join(input))
            .args(extra)
            .output()
            .expect("run")
    };
    let out_in_file = d.join("a-file").join("recordings");
    let bad_folder = run(&["--out", &out_in_file.to_string_lossy()], "a.wav");
    let no_input = run(&["--out", &d.join("out").to_string_lossy()], "missing.wav");
    for (out, want) in
        [(&bad_folder, "Choose another folder with --out"), (&no_input, "missing.wav")]
    {
        let (stdout, stderr) =
            (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
        assert!(stderr.contains(want), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one sentence, once: {stderr}");
        assert!(!stdout.contains("listening") && !stdout.contains("address"), "{stdout}");
    }
    // Nothing recorded: no session folder.
    let sessions = std::fs::read_dir(d.join("out")).map(|r| r.count()).unwrap_or(0);
    assert_eq!(sessions, 0);
}
