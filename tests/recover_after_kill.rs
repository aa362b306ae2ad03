//! A recorder killed with SIGKILL mid-session, then `dualrec recover`: the recovered
//! recording is a valid Ogg Opus file and verifies against the other device's evidence up
//! to within one chunk of the kill; the file as the crash left it is kept; a later
//! `dualrec record` offers to finish an unfinished session.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{dualrec, free_addr, spawn_pair, tone, verify_json};
use dualrec_proof::{LogRecord, PublicKey, read_log};

/// The session folder a recorder has created under `out`, once it exists.
fn session_dir(out: &Path, deadline: Instant) -> PathBuf {
    loop {
        if let Some(d) = std::fs::read_dir(out).ok().and_then(|mut r| r.next()) {
            return d.expect("entry").path();
        }
        assert!(Instant::now() < deadline, "no session started in {}", out.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The checkpoints of `producer` (the recording device) in a log; `None` for the log's
/// other records.
fn own_checkpoints(log: &Path) -> (u64, Option<PublicKey>) {
    let Ok(bytes) = std::fs::read(log) else { return (0, None) };
    let Ok(c) = read_log(&bytes) else { return (0, None) };
    let producer = dualrec_media::read_recording(
        &std::fs::read(log.with_file_name("recording.opus")).unwrap_or_default(),
    )
    .ok()
    .and_then(|f| f.tags.producer());
    let n = c
        .entries
        .iter()
        .filter(|e| matches!(&e.value, LogRecord::Checkpoint(cp) if Some(cp.signer) == producer))
        .count();
    (n as u64, producer)
}

/// A's session folder and log, once A has committed `chunks` chunks of its own.
fn await_chunks(d: &Path, chunks: u64, deadline: Instant) -> (PathBuf, PathBuf) {
    let a_dir = session_dir(&d.join("out-A"), deadline);
    let a_log = a_dir.join("evidence.log");
    while own_checkpoints(&a_log).0 < chunks {
        assert!(Instant::now() < deadline, "A never committed {chunks} chunks");
        std::thread::sleep(Duration::from_millis(20));
    }
    (a_dir, a_log)
}

fn run(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = dualrec().args(args).output().expect("run dualrec");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

#[test]
fn a_recorder_killed_mid_session_is_recovered_and_verifies_up_to_the_kill() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 10);
    tone(&d.join("b.wav"), 330.0, 10);
    let (mut a, b) = spawn_pair(d, "8s");

    // Kill A once it has committed four chunks.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (a_dir, a_log) = await_chunks(d, 4, deadline);
    a.kill().expect("SIGKILL A");
    a.wait().expect("reap A");
    let (at_kill, producer) = own_checkpoints(&a_log);
    let producer = producer.expect("A's recording names its producer");
    assert!(at_kill >= 4);
    assert!(!a_dir.join("recording.interrupted.opus").exists());

    // B records on alone, then ends by itself and says so.
    let ob = b.wait_with_output().expect("B");
    let tb = String::from_utf8_lossy(&ob.stdout);
    assert!(ob.status.success(), "B: {tb}{}", String::from_utf8_lossy(&ob.stderr));
    assert!(tb.contains("end signed by this device only"), "{tb}");
    let b_log = session_dir(&d.join("out-B"), deadline).join("evidence.log");

    // A second copy of A's crashed session, for `record`'s offer below.
    let spare_out = d.join("out-A-spare");
    copy_dir(&a_dir, &spare_out.join(a_dir.file_name().expect("name")));

    // `list` shows it interrupted, with the command that finishes it.
    let data_a = d.join("data-A");
    let out_a = d.join("out-A");
    let list = |what: &str| {
        let (code, text) = run(&[
            "--data-dir".as_ref(),
            data_a.as_os_str(),
            "list".as_ref(),
            "--out".as_ref(),
            out_a.as_os_str(),
        ]);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("with \"B\" ("), "{what}: {text}");
        text
    };
    let before = list("before recover");
    assert!(before.contains("  interrupted\n"), "{before}");
    assert!(before.contains(&format!("dualrec recover \"{}\"", a_dir.display())), "{before}");

    // Recover.
    let crashed = std::fs::read(a_dir.join("recording.opus")).expect("crashed recording");
    let (code, text) =
        run(&["--data-dir".as_ref(), data_a.as_os_str(), "recover".as_ref(), a_dir.as_os_str()]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("is finished now"), "{text}");
    let kept = a_dir.join("recording.interrupted.opus");
    assert_eq!(std::fs::read(&kept).expect("kept"), crashed, "the crashed file is kept unchanged");
    let recording = a_dir.join("recording.opus");
    let after = list("after recover");
    assert!(after.contains("  finished\n") && !after.contains("dualrec recover"), "{after}");

    // Outside tools accept the finished file.
    let info = std::process::Command::new("opusinfo")
        .arg(&recording)
        .output()
        .expect("opusinfo must be installed (.ci/setup installs it)");
    let info_text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success(), "opusinfo: {info_text}");
    assert!(!info_text.contains("WARNING"), "opusinfo warns: {info_text}");

    // Verify against both devices' evidence.
    let (code, v) = verify_json(&recording, &[&b_log, &a_log]);
    let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
    let chunks = v["chunks"].as_array().expect("chunks");
    let total = chunks.len() as u64;
    assert!(
        total == at_kill || total == at_kill + 1,
        "{total} chunks, {at_kill} committed at the kill"
    );
    let live = chunks.iter().take_while(|c| c["status"] == "witnessed_live").count() as u64;
    assert!(live + 1 >= total, "witnessed live up to within one chunk of the kill:\n{pretty}");
    for c in &chunks[live as usize..] {
        assert_eq!(c["status"], "signed_only", "the rest was never seen by B:\n{pretty}");
    }
    assert_eq!(v["session"]["producer"], serde_json::json!(producer), "{pretty}");
    // B's own end (its peer was gone) and A's recovered end, each signed alone.
    let ends = v["session"]["ends"].as_array().cloned().unwrap_or_default();
    let end = ends.iter().find(|e| e["accounts_for"][0] == serde_json::json!(producer));
    let end = end.unwrap_or_else(|| panic!("A's end:\n{pretty}"));
    assert_eq!(end["reason"], "recovered", "{pretty}");
    assert_eq!(end["one_sided"], true, "{pretty}");
    assert_eq!(v["totals"]["regions"], 0, "{pretty}");
    // The end was signed by the recovering device alone: that nothing came after the
    // last second B witnessed is its word only, so completeness is not established.
    assert_eq!(v["axes"]["completeness"]["state"], "not_established", "{pretty}");
    assert_eq!(v["axes"]["integrity"]["state"], "exact", "{pretty}");
    let problems: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            !matches!(
                f["kind"].as_str(),
                Some("one_sided_end" | "log_torn_tail" | "capture_gap" | "evidence_gap")
            )
        })
        .collect();
    assert!(problems.is_empty(), "{pretty}");
    assert_eq!(code, Some(1), "{pretty}");

    // Again: nothing to do, nothing changed.
    let before = std::fs::read(&a_log).expect("log");
    let (code, text) =
        run(&["--data-dir".as_ref(), data_a.as_os_str(), "recover".as_ref(), a_dir.as_os_str()]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nothing to do"), "{text}");
    assert_eq!(std::fs::read(&a_log).expect("log"), before);

    // Another device's key cannot finish A's session.
    let (code, text) = run(&[
        "--data-dir".as_ref(),
        d.join("data-B").as_os_str(),
        "recover".as_ref(),
        spare_out.join(a_dir.file_name().expect("name")).as_os_str(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("not a party") || text.contains("does not belong"), "{text}");

    // `record` finds the spare copy unfinished and, with --yes, finishes it first.
    let mut rec = dualrec()
        .arg("--data-dir")
        .arg(&data_a)
        .args(["record", "--yes", "--duration", "2s", "--connect", &free_addr(), "--out"])
        .arg(&spare_out)
        .arg("--input-file")
        .arg(d.join("a.wav"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("record");
    let stdout = rec.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = String::new();
    while !seen.contains("is finished now") {
        // A rejoin is tried first: the other device is gone, so it waits 30 s for it.
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => seen.push_str(&(line + "\n")),
            Err(_) => break,
        }
    }
    let _ = rec.kill();
    let _ = rec.wait();
    assert!(seen.contains("stopped in the middle of a meeting"), "{seen}");
    assert!(seen.contains("is finished now"), "{seen}");
    let spare_dir = spare_out.join(a_dir.file_name().expect("name"));
    assert!(spare_dir.join("recording.interrupted.opus").is_file());
    assert!(
        read_log(&std::fs::read(spare_dir.join("evidence.log")).expect("log"))
            .expect("log reads")
            .entries
            .iter()
            .any(|e| matches!(&e.value, LogRecord::End(end) if end.record.ended_by == producer))
    );
}

/// A small real file system (tmpfs), unmounted when dropped. Needs root, as CI has.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).expect("mkdir");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(at.to_owned())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes to `path` until the file system says it is full.
fn fill(path: &Path) {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).expect("filler");
    let block = vec![0x55u8; 16 * 1024];
    while f.write_all(&block).and_then(|()| f.sync_data()).is_ok() {}
}

#[test]
fn a_full_disk_stops_the_recording_keeps_it_and_recover_finishes_it_once_there_is_room() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 10);
    tone(&d.join("b.wav"), 330.0, 10);
    let disk = SmallDisk::mount(&d.join("disk"), "4m");
    std::fs::create_dir_all(disk.0.join("out-A")).expect("mkdir");
    std::os::unix::fs::symlink(disk.0.join("out-A"), d.join("out-A")).expect("symlink");

    let (a, b) = spawn_pair(d, "8s");
    let deadline = Instant::now() + Duration::from_secs(60);
    let (a_dir, a_log) = await_chunks(d, 3, deadline);
    // Another program fills the disk.
    let filler = disk.0.join("filler");
    fill(&filler);
    let committed = own_checkpoints(&a_log).0;

    let oa = a.wait_with_output().expect("A");
    let ta = String::from_utf8_lossy(&oa.stderr);
    assert_eq!(oa.status.code(), Some(2), "A: {ta}");
    assert!(ta.contains("the disk is full or failing"), "{ta}");
    assert!(ta.contains(&format!("dualrec recover {}", a_dir.display())), "{ta}");
    let ob = b.wait_with_output().expect("B");
    assert!(ob.status.success(), "B: {}", String::from_utf8_lossy(&ob.stderr));
    let b_log = session_dir(&d.join("out-B"), deadline).join("evidence.log");

    // Room again: finish it where it is.
    std::fs::remove_file(&filler).expect("rm filler");
    let (code, text) = run(&[
        "--data-dir".as_ref(),
        d.join("data-A").as_os_str(),
        "recover".as_ref(),
        a_dir.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    let (_, v) = verify_json(&a_dir.join("recording.opus"), &[&b_log, &a_log]);
    let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
    let chunks = v["chunks"].as_array().expect("chunks");
    assert!(chunks.len() as u64 >= committed, "{committed} committed:\n{pretty}");
    let live = chunks.iter().take_while(|c| c["status"] == "witnessed_live").count();
    assert!(live + 1 >= chunks.len(), "{pretty}");
    assert!(live >= 3, "{pretty}");
    let ends = v["session"]["ends"].as_array().cloned().unwrap_or_default();
    assert!(ends.iter().any(|e| e["reason"] == "recovered"), "{pretty}");
    assert_eq!(v["totals"]["regions"], 0, "{pretty}");
    drop(disk);
}
