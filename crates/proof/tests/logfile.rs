//! The evidence log on a real disk: append, sync, reopen, torn tails, kill -9.

use std::process::Command;
use std::time::{Duration, Instant};

use dualrec_proof::sim::{SimConfig, simulate};
use dualrec_proof::{EvidenceLog, LogError, read_log};

const CHILD_ENV: &str = "DUALREC_TEST_LOG_WRITER";

#[test]
fn append_sync_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("evidence.log");
    let sim = simulate(&SimConfig { chunks: 5, ..SimConfig::default() });
    let mut log = EvidenceLog::create(&path).expect("create");
    for rec in &sim.logs[0] {
        log.append_synced(std::slice::from_ref(rec)).expect("append");
    }
    assert_eq!(log.records(), sim.logs[0].len() as u64);
    let c = read_log(&std::fs::read(&path).expect("read")).expect("parse");
    assert!(c.torn_tail.is_none());
    let values: Vec<_> = c.entries.into_iter().map(|e| e.value).collect();
    assert_eq!(values, sim.logs[0]);
    assert!(matches!(EvidenceLog::create(&path), Err(LogError::Io { .. })), "never overwrite");
}

#[test]
fn one_writer_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("evidence.log");
    let log = EvidenceLog::create(&path).expect("create");
    assert!(dualrec_proof::log_in_use(&path).expect("check"));
    match EvidenceLog::open_append(&path) {
        Err(LogError::InUse { path: p }) => assert_eq!(p, path),
        other => panic!("a second writer must be refused, got {other:?}"),
    }
    drop(log);
    assert!(!dualrec_proof::log_in_use(&path).expect("check"));
    let (_again, _) = EvidenceLog::open_append(&path).expect("free once the first is closed");
}

#[test]
fn reopening_a_torn_log_cuts_the_tail_and_appends_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("evidence.log");
    let sim = simulate(&SimConfig { chunks: 3, ..SimConfig::default() });
    let mut log = EvidenceLog::create(&path).expect("create");
    log.append_synced(&sim.logs[0][..5]).expect("append");
    let good_len = log.len();
    drop(log);
    // A crash in the middle of the next append: half a frame on disk.
    let mut bytes = std::fs::read(&path).expect("read");
    let next = sim.logs[0][5].to_bytes();
    bytes.extend_from_slice(&(next.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    bytes.extend_from_slice(&next[..next.len() / 2]);
    std::fs::write(&path, &bytes).expect("write");

    let (mut log, contents) = EvidenceLog::open_append(&path).expect("reopen");
    let torn = contents.torn_tail.expect("torn tail reported");
    assert_eq!(torn.record, 5);
    assert_eq!(torn.offset, good_len);
    assert_eq!(torn.bytes, bytes.len() as u64 - good_len);
    assert_eq!(std::fs::metadata(&path).expect("meta").len(), good_len, "tail cut off");
    log.append_synced(&sim.logs[0][5..]).expect("append the rest");
    let c = read_log(&std::fs::read(&path).expect("read")).expect("parse");
    assert!(c.torn_tail.is_none());
    assert_eq!(c.entries.len(), sim.logs[0].len());
}

#[test]
fn a_corrupt_middle_record_is_an_error_and_the_file_is_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("evidence.log");
    let sim = simulate(&SimConfig { chunks: 3, ..SimConfig::default() });
    let mut log = EvidenceLog::create(&path).expect("create");
    log.append_synced(&sim.logs[0]).expect("append");
    drop(log);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[16 + 8 + 40] ^= 0x55; // inside record 0's payload
    std::fs::write(&path, &bytes).expect("write");
    match EvidenceLog::open_append(&path) {
        Err(LogError::Corrupt { record: 0, offset: 16, .. }) => {}
        other => panic!("expected corruption at record 0, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).expect("read"), bytes, "a damaged log is never modified");
}

#[test]
fn not_a_log_is_refused_by_magic() {
    assert!(matches!(
        read_log(b"OggS\x00\x02 this is a recording, not a log"),
        Err(LogError::BadMagic)
    ));
    let mut v2 = b"DUALRECL\x02\x00\x00\x00\x00\x00\x00\x00".to_vec();
    v2.extend_from_slice(&[0; 4]);
    assert!(matches!(read_log(&v2), Err(LogError::Version(2))));
}

/// Writer half of the kill -9 test: runs only as the child process the test starts.
#[test]
fn log_writer_child_process() {
    let Ok(path) = std::env::var(CHILD_ENV) else { return };
    let sim = simulate(&SimConfig { chunks: 400, ..SimConfig::default() });
    let mut log = EvidenceLog::create(std::path::Path::new(&path)).expect("create");
    let deadline = Instant::now() + Duration::from_secs(60);
    for chunk in sim.logs[0].chunks(4) {
        // One chunk's records, then one sync, as the recorder does.
        log.append_synced(chunk).expect("append");
        if Instant::now() > deadline {
            break;
        }
    }
    // Keep writing the same records until killed, so the kill lands mid-append.
    loop {
        log.append_synced(&sim.logs[0][1..5]).expect("append");
        if Instant::now() > deadline {
            break;
        }
    }
}

#[test]
fn kill_minus_nine_mid_append_loses_at_most_the_last_chunk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("evidence.log");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "log_writer_child_process", "--test-threads=1", "--nocapture"])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn writer");
    // Let it write a few hundred records, then kill it without warning.
    let start = Instant::now();
    while std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) < 100_000 {
        assert!(start.elapsed() < Duration::from_secs(30), "writer made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SIGKILL: no destructors, no flush.
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let bytes = std::fs::read(&path).expect("read");
    let c = read_log(&bytes).expect("a killed writer leaves a readable log");
    assert!(c.entries.len() >= 300, "{} records survived", c.entries.len());
    let (_, reopened) = EvidenceLog::open_append(&path).expect("reopen after the crash");
    assert_eq!(reopened.entries.len(), c.entries.len());
    let verified = c
        .entries
        .iter()
        .filter(|e| match &e.value {
            dualrec_proof::LogRecord::Checkpoint(cp) => cp.verify(),
            dualrec_proof::LogRecord::Receipt(r) => r.verify(),
            _ => true,
        })
        .count();
    assert_eq!(verified, c.entries.len(), "every surviving record still verifies");
}

/// A running session reads back only the tail of its log, from an offset it kept: the
/// records from there on, whatever came before, and nothing of a torn record.
#[test]
fn the_tail_from_a_record_boundary_holds_exactly_the_records_written_since() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("evidence.log");
    let sim = dualrec_proof::sim::simulate(&dualrec_proof::sim::SimConfig {
        chunks: 6,
        ..Default::default()
    });
    let records = &sim.logs[0];
    let mut log = dualrec_proof::EvidenceLog::create(&path).expect("create");
    let mut offsets = Vec::new();
    for r in records {
        offsets.push(log.len());
        log.append_synced(std::slice::from_ref(r)).expect("append");
        assert_eq!(log.len(), offsets[offsets.len() - 1] + r.framed_len(), "framed_len is exact");
    }
    for (i, &at) in offsets.iter().enumerate() {
        let tail = dualrec_proof::read_log_tail(&path, at).expect("tail");
        assert_eq!(tail, records[i..].to_vec(), "from record {i}");
    }
    // Half a record at the end (a crash mid-append) is not part of the tail.
    drop(log);
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    std::io::Write::write_all(&mut f, &[9, 0, 0, 0, 1, 2]).expect("torn");
    let last = offsets[offsets.len() - 1];
    assert_eq!(
        dualrec_proof::read_log_tail(&path, last).expect("tail"),
        records[records.len() - 1..]
    );
}
