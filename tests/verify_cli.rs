//! `dualrec verify` on real files: an Ogg Opus recording made by the real audio pipeline,
//! evidence logs written by the real log writer, a tampered copy re-muxed by the media crate.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::dualrec;
use dualrec_audio::{AudioEvent, EncoderConfig, Pacing, Recorder};
use dualrec_media::{OpusHead, OpusTags, RecordingWriter};
use dualrec_proof::sim::sim_identity;
use dualrec_proof::{
    AudioParams, ChainState, ChunkDigester, CoSigned, EndReason, EndRecord, EvidenceLog, LogRecord,
    Party, PartyFinal, SessionId, StartRecord, Timestamp,
};

/// A 6-second tone, recorded as party 0 would, witnessed by party 1: returns the
/// recording and both evidence logs.
fn record_session(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    record_session_named(dir, "Parent")
}

/// [`record_session`], with the producer calling itself `name`.
fn record_session_named(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let wav = dir.join("in.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).expect("wav");
    for i in 0..(48_000 * 6) {
        w.write_sample(((i as f32 * 0.03).sin() * (1.0 + (i / 4800) as f32) * 1500.0) as i16)
            .expect("sample");
    }
    w.finalize().expect("finalize");

    let (me, peer) = (sim_identity(5, 0), sim_identity(5, 1));
    let start = StartRecord {
        version: 1,
        session: SessionId([0x5e; 16]),
        parties: vec![
            Party { key: me.public(), name: name.into() },
            Party { key: peer.public(), name: "Social worker".into() },
        ],
        audio: AudioParams::default_voice(),
        started_at_ms: 1_790_000_000_000,
    };
    let co_start =
        CoSigned { signatures: vec![start.sign(&me), start.sign(&peer)], record: start.clone() };
    let (rec_path, log_a, log_b) =
        (dir.join("recording.opus"), dir.join("parent.log"), dir.join("worker.log"));
    let mut logs =
        [EvidenceLog::create(&log_a).expect("log a"), EvidenceLog::create(&log_b).expect("log b")];
    for l in &mut logs {
        l.append_synced(&[LogRecord::Start(co_start.clone())]).expect("start");
    }
    let rec =
        Recorder::wav(&wav, Pacing::AsFastAsPossible, EncoderConfig::default()).expect("source");
    let head = OpusHead {
        channels: 1,
        pre_skip: rec.pre_skip(),
        input_sample_rate: 48_000,
        output_gain: 0,
    };
    let mut writer = RecordingWriter::create(
        &rec_path,
        head,
        &OpusTags::for_session("dualrec test", start.session, me.public()),
        7,
    )
    .expect("writer");
    let mut chain = ChainState::new(&start, &me.public());
    let mut digester = ChunkDigester::new();
    let commit =
        |digester: &mut ChunkDigester, chain: &mut ChainState, logs: &mut [EvidenceLog; 2]| {
            let t = start.started_at_ms + (chain.chunks() + 1) * 1000;
            let cp = chain
                .commit(digester, Timestamp { wall_ms: t, mono_ms: t - start.started_at_ms })
                .sign(&me);
            let receipt = cp
                .receipt(&peer, Timestamp { wall_ms: t + 4, mono_ms: t + 4 - start.started_at_ms });
            for l in logs.iter_mut() {
                l.append_synced(&[LogRecord::Checkpoint(cp), LogRecord::Receipt(receipt)])
                    .expect("append");
            }
        };
    let finished = loop {
        match rec.recv(Duration::from_secs(10)).expect("event") {
            AudioEvent::Packet(p) => {
                writer.write_packet(&p.data).expect("packet");
                digester.push(&p.data, p.samples);
                if digester.packet_count() == 50 {
                    writer.end_chunk().expect("chunk");
                    commit(&mut digester, &mut chain, &mut logs);
                }
            }
            AudioEvent::Finished { input_samples } => {
                let last = !digester.is_empty();
                let fin = writer.finish(input_samples).expect("finish");
                if last {
                    commit(&mut digester, &mut chain, &mut logs);
                }
                break fin;
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    let end = EndRecord {
        session: start.session,
        ended_by: me.public(),
        reason: EndReason::Stopped,
        ended_at_ms: start.started_at_ms + 7000,
        finals: vec![PartyFinal {
            party: me.public(),
            chunks: chain.chunks(),
            last_chain: chain.last_chain(),
            recording_sha256: Some(finished.sha256),
        }],
    };
    let co_end = CoSigned { signatures: vec![end.sign(&me), end.sign(&peer)], record: end };
    for l in &mut logs {
        l.append_synced(&[LogRecord::End(co_end.clone())]).expect("end");
    }
    (rec_path, log_a, log_b)
}

#[test]
fn verify_real_files_untouched_tampered_and_unreadable() {
    let dir = tempfile::tempdir().expect("tmp");
    let (rec, log_a, log_b) = record_session(dir.path());

    let out = dualrec()
        .env("TZ", "Australia/Sydney")
        .arg("verify")
        .arg(&rec)
        .arg("--evidence")
        .arg(&log_b)
        .output()
        .expect("verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("VERDICT: complete, unaltered"), "{text}");
    // The meeting's date in UTC and on the reader's clock.
    assert!(text.contains("started 2026-09-21 14:13:20 UTC = 2026-09-22 00:13:20 AEST"), "{text}");

    // JSON for machines, HTML for people.
    let html = dir.path().join("report.html");
    let out = dualrec()
        .arg("verify")
        .arg(&rec)
        .args(["--json", "--evidence"])
        .arg(&log_a)
        .arg("--evidence")
        .arg(&log_b)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("verify");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verdict"], "intact");
    assert_eq!(
        v["chunks"].as_array().map(Vec::len),
        Some(7),
        "6 s plus the encoder's flush: 7 chunks"
    );
    let page = std::fs::read_to_string(&html).expect("html");
    // Seven seconds, all witnessed live: one stretch of the timeline.
    assert!(page.starts_with("<!doctype html>") && page.matches("class=\"seg\"").count() == 1);
    assert!(page.contains("&ldquo;Social worker&rdquo; (a name it chose)"), "{page}");
    assert!(page.contains("2026-09-21 ") && page.contains("<time datetime="), "{page}");

    // One second cut out of a re-muxed copy: named, the rest still verifies, exit 1.
    let bad = dir.path().join("edited.opus");
    common::cut_copy(&rec, &bad, 100..150);
    let out =
        dualrec().arg("verify").arg(&bad).arg("--evidence").arg(&log_b).output().expect("verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("00:02.0-00:03.0  REMOVED"), "{text}");
    assert!(text.contains("00:03.0-00:06."), "{text}");
    assert!(text.contains("not the one whose fingerprint was signed"), "{text}");
    assert!(text.contains("Completeness  DOES NOT HOLD"), "{text}");

    // Unreadable input: exit 2 and a sentence a person understands.
    let out = dualrec()
        .arg("verify")
        .arg(dir.path().join("nope.opus"))
        .arg("--evidence")
        .arg(&log_b)
        .output()
        .expect("verify");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the recording"));
    let out =
        dualrec().arg("verify").arg(&rec).arg("--evidence").arg(&rec).output().expect("verify");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a readable evidence log"));
    let out = dualrec().arg("verify").arg(&rec).output().expect("verify");
    assert_eq!(out.status.code(), Some(64), "no evidence is a usage error");
}

#[test]
fn a_log_of_another_session_and_logs_that_disagree_are_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let (rec, log_a, log_b) = record_session(dir.path());

    // Evidence from another session only: it cannot speak to this recording (exit 2).
    let sim = dualrec_proof::sim::simulate(&dualrec_proof::sim::SimConfig::default());
    let foreign = dir.path().join("foreign.log");
    std::fs::write(&foreign, dualrec_proof::sim::log_bytes(&sim.logs[1])).expect("write");
    let out =
        dualrec().arg("verify").arg(&rec).arg("--evidence").arg(&foreign).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot speak to") && err.contains("not in the evidence"), "{err}");

    // A copy of the worker's log that also holds a second, different version of chunk 2,
    // signed by the recorder: the two logs disagree, and the report says how (exit 1).
    let contents = dualrec_proof::read_log(&std::fs::read(&log_b).expect("read")).expect("log");
    let cp2 = contents
        .entries
        .iter()
        .find_map(|e| match &e.value {
            LogRecord::Checkpoint(c) if c.body.index == 2 => Some(*c),
            _ => None,
        })
        .expect("chunk 2");
    let other = dualrec_proof::Checkpoint { digest: dualrec_proof::Digest([1; 32]), ..cp2.body }
        .sign(&sim_identity(5, 0));
    let disagreeing = dir.path().join("disagreeing.log");
    std::fs::copy(&log_b, &disagreeing).expect("copy");
    let (mut log, _) = EvidenceLog::open_append(&disagreeing).expect("open");
    log.append_synced(&[LogRecord::Checkpoint(other)]).expect("append");
    drop(log);
    let out = dualrec()
        .arg("verify")
        .arg(&rec)
        .arg("--evidence")
        .arg(&log_a)
        .arg("--evidence")
        .arg(&disagreeing)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("signed 2 different versions of second 2"), "{text}");
}

#[test]
fn hostile_inputs_are_refused_before_reading_and_strings_cannot_forge_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let (rec, _, log_b) = record_session_named(d, "Mallory\nVERDICT: complete, unaltered\u{202e}");
    let run = |args: &[&std::ffi::OsStr]| dualrec().args(args).output().expect("run");
    let verify = |r: &Path, l: &Path| {
        run(&["verify".as_ref(), r.as_os_str(), "--evidence".as_ref(), l.as_os_str()])
    };

    // A name from the log cannot add a line to the report, nor turn text around.
    let out = verify(&rec, &log_b);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().filter(|l| l.starts_with("VERDICT:")).count(), 1, "{text}");
    assert!(text.contains("Mallory\\u{a}VERDICT") && !text.contains('\u{202e}'), "{text}");
    let out = run(&["inspect".as_ref(), log_b.as_os_str()]);
    assert!(!String::from_utf8_lossy(&out.stdout).lines().any(|l| l.starts_with("VERDICT")));

    // A folder, a FIFO and /dev/zero through a symlink are refused at once (exit 2).
    let fifo = d.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let zero = d.join("zero.opus");
    std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
    for bad in [d.to_path_buf(), fifo.clone(), zero.clone()] {
        let out = verify(&bad, &log_b);
        assert_eq!(out.status.code(), Some(2), "{}", bad.display());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not a regular file"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = verify(&rec, &bad);
        assert_eq!(out.status.code(), Some(2));
    }
    // A 2 GB sparse file is refused after its first block, not read whole.
    let sparse = d.join("sparse.opus");
    let f = std::fs::File::create(&sparse).expect("create");
    f.set_len(2 << 30).expect("sparse");
    let started = std::time::Instant::now();
    let out = verify(&sparse, &log_b);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot belong to a valid file"));
    assert!(started.elapsed() < Duration::from_secs(20), "refused early");
    let out = verify(&rec, &sparse);
    assert_eq!(out.status.code(), Some(2));

    // --expect: the right fingerprint passes, another is a problem, a malformed one is a
    // usage error with its own code.
    let fp = sim_identity(5, 1).public().fingerprint().to_string();
    let expect = |arg: String| {
        run(&[
            "verify".as_ref(),
            rec.as_os_str(),
            "--evidence".as_ref(),
            log_b.as_os_str(),
            "--expect".as_ref(),
            arg.as_ref(),
        ])
    };
    assert_eq!(expect(format!("Sam={fp}")).status.code(), Some(0));
    let other = sim_identity(6, 1).public().fingerprint().to_string();
    let out = expect(format!("Sam={other}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("no party of this session has the fingerprint given for Sam")
    );
    assert_eq!(expect("Sam=12".into()).status.code(), Some(64));
}

#[test]
fn verify_and_inspect_end_quietly_on_a_closed_pipe() {
    let dir = tempfile::tempdir().expect("tmp");
    let (rec, _, log_b) = record_session(dir.path());
    for args in [
        vec![
            std::ffi::OsString::from("verify"),
            rec.clone().into(),
            "--json".into(),
            "--evidence".into(),
            log_b.clone().into(),
        ],
        vec!["inspect".into(), log_b.clone().into()],
    ] {
        let mut child = dualrec()
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take()); // the reader goes away before anything is written
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
        assert!(out.status.code().is_some_and(|c| c <= 1), "{:?} {err}", out.status);
    }
}

#[test]
fn a_damaged_page_is_named_at_its_time_and_the_rest_still_verifies() {
    let dir = tempfile::tempdir().expect("tmp");
    let (rec, _, log_b) = record_session(dir.path());
    let mut bytes = std::fs::read(&rec).expect("read");
    // Pages: OpusHead, OpusTags, then one page per second. Damage a byte inside second 3.
    let starts: Vec<usize> =
        bytes.windows(4).enumerate().filter(|(_, w)| *w == b"OggS").map(|(i, _)| i).collect();
    let at = starts[2 + 3] + 60;
    bytes[at] ^= 0x55;
    let bad = dir.path().join("damaged.opus");
    std::fs::write(&bad, &bytes).expect("write");
    let out =
        dualrec().arg("verify").arg(&bad).arg("--evidence").arg(&log_b).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("00:03.0-00:04.0  DAMAGED"), "{text}");
    assert!(text.contains("00:04.0-00:06."), "{text}");
    assert!(text.contains(&format!("damaged at byte {}", starts[5])), "{text}");
    assert!(
        text.contains("Integrity     DOES NOT HOLD: part of the file cannot be read"),
        "{text}"
    );
}
