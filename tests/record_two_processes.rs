//! Two `dualrec record` processes on loopback (typed address, WAV inputs, `--yes`): each
//! recording verifies against the other device's evidence; a tampered copy is caught.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn dualrec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dualrec"))
}

fn tone(path: &Path, freq: f32, seconds: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..48_000 * seconds {
        let t = i as f32 / 48_000.0;
        let s = (t * freq * std::f32::consts::TAU).sin() * (0.3 + 0.2 * (t * 1.7).sin()) * 12_000.0;
        w.write_sample(s as i16).expect("sample");
    }
    w.finalize().expect("finalize");
}

fn session_files(out: &Path) -> (String, PathBuf, PathBuf) {
    let dirs: Vec<_> =
        std::fs::read_dir(out).expect("out dir").map(|e| e.expect("entry").path()).collect();
    assert_eq!(dirs.len(), 1, "one session directory in {}", out.display());
    let id = dirs[0].file_name().expect("name").to_string_lossy().to_string();
    (id, dirs[0].join("recording.opus"), dirs[0].join("evidence.log"))
}

#[test]
fn two_recorders_witness_each_other_and_each_recording_verifies_against_the_other_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 5);
    tone(&d.join("b.wav"), 330.0, 5);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let spawn = |who: &str, extra: &[&str]| {
        dualrec()
            .arg("--data-dir")
            .arg(d.join(format!("data-{who}")))
            .args(["record", "--name", who, "--duration", "4s", "--yes", "--out"])
            .arg(d.join(format!("out-{who}")))
            .arg("--input-file")
            .arg(d.join(format!("{}.wav", who.to_lowercase())))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dualrec record")
    };
    let a = spawn("A", &["--listen", &addr]);
    std::thread::sleep(Duration::from_millis(500));
    let b = spawn("B", &["--connect", &addr]);
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
    assert_eq!(id_a, id_b, "both devices name the same session");
    for (rec, log) in [(&rec_a, &log_b), (&rec_b, &log_a)] {
        let out = dualrec()
            .arg("verify")
            .arg(rec)
            .arg("--json")
            .arg("--evidence")
            .arg(log)
            .output()
            .expect("verify");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
        assert_eq!(v["verdict"], "intact");
        assert!(v["totals"]["witnessed_live"].as_u64().unwrap_or(0) >= 4);
        assert_eq!(v["session"]["end"]["one_sided"], false);
    }

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
    assert!(text.contains("00:01-00:02  MISSING"), "{text}");
}

#[test]
fn durations_people_type() {
    // Through the binary, so the parser the user meets is the one tested.
    let out = dualrec().args(["record", "--duration", "soon"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
}
