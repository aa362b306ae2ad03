//! `recover` on session folders built by the real writers: what a crash between a page
//! and its checkpoint leaves, a recording that disagrees with its log, a log still in use.

use std::path::{Path, PathBuf};

use dualrec_media::{OpusHead, OpusTags, RecordingWriter, read_recording};
use dualrec_proof::sim::{sim_identity, sim_packets};
use dualrec_proof::{
    AudioParams, ChainState, ChunkDigester, CoSigned, EvidenceLog, Identity, LogError, LogRecord,
    Party, SessionId, StartRecord, Timestamp, read_log,
};
use dualrec_session::{Recovery, SessionError, recover, unfinished_sessions};

struct Crashed {
    dir: PathBuf,
    me: Identity,
    peer: Identity,
}

fn write_chunked(path: &Path, head: OpusHead, tags: &OpusTags, packets: &[Vec<u8>]) {
    let mut w = RecordingWriter::create(path, head, tags, 7).expect("rec");
    for (i, p) in packets.iter().enumerate() {
        w.write_packet(p).expect("packet");
        if (i + 1) % 50 == 0 {
            w.end_chunk().expect("chunk");
        }
    }
    // The process dies here: no end page.
}

/// A session of `chunks` whole chunks (and part of one more) on disk, of which the log
/// committed `logged`, and no end record.
fn crashed_session(root: &Path, chunks: usize, logged: usize) -> Crashed {
    let (me, peer) = (sim_identity(9, 0), sim_identity(9, 1));
    let start = StartRecord {
        version: StartRecord::VERSION,
        session: SessionId([7; 16]),
        parties: vec![
            Party { key: me.public(), name: "me".into() },
            Party { key: peer.public(), name: "peer".into() },
        ],
        audio: AudioParams::default_voice(),
        started_at_ms: 1_790_071_200_000,
    };
    let dir = root.join(start.session.to_hex());
    std::fs::create_dir_all(&dir).expect("mkdir");
    let co =
        CoSigned { signatures: vec![start.sign(&me), start.sign(&peer)], record: start.clone() };
    let mut log = EvidenceLog::create(&dir.join("evidence.log")).expect("log");
    log.append_synced(&[LogRecord::Start(co)]).expect("start");
    let head = OpusHead { channels: 1, pre_skip: 312, input_sample_rate: 48_000, output_gain: 0 };
    let tags = OpusTags::for_session("test", start.session, me.public());
    let packets: Vec<Vec<u8>> = sim_packets(3, chunks * 50 + 20, 80)
        .into_iter()
        .map(|mut p| {
            p[0] = 0xF8; // a 20 ms Opus frame
            p
        })
        .collect();
    write_chunked(&dir.join("recording.opus"), head, &tags, &packets);
    let mut chain = ChainState::new(&start, &me.public());
    let mut digester = ChunkDigester::new();
    for (i, p) in packets.iter().enumerate().take(logged * 50) {
        digester.push(p, 960);
        if (i + 1) % 50 == 0 {
            let t =
                Timestamp { wall_ms: 1_790_071_200_000 + i as u64 * 20, mono_ms: i as u64 * 20 };
            let cp = chain.commit(&mut digester, t).sign(&me);
            log.append_synced(&[LogRecord::Checkpoint(cp)]).expect("checkpoint");
        }
    }
    Crashed { dir, me, peer }
}

#[test]
fn a_chunk_on_disk_but_not_in_the_log_is_committed_late_and_the_end_signed() {
    let root = tempfile::tempdir().expect("tmp");
    let s = crashed_session(root.path(), 3, 2);
    assert_eq!(unfinished_sessions(root.path(), &s.me), vec![s.dir.clone()]);
    assert!(unfinished_sessions(root.path(), &s.peer).is_empty(), "the peer has no part here");
    let crashed = std::fs::read(s.dir.join("recording.opus")).expect("read");

    let Recovery::Finished(r) = recover(&s.dir, &s.me).expect("recover") else {
        panic!("the session was unfinished")
    };
    assert_eq!((r.chunks, r.committed_before), (3, 2));
    assert_eq!(std::fs::read(s.dir.join("recording.interrupted.opus")).expect("kept"), crashed);
    let finished = read_recording(&std::fs::read(&r.recording).expect("read")).expect("parse");
    assert!(finished.ended);
    assert_eq!(finished.packets.len(), 150, "the unfinished chunk never reached the disk");

    let log = read_log(&std::fs::read(&r.evidence).expect("log")).expect("parse");
    let values: Vec<_> = log.entries.into_iter().map(|e| e.value).collect();
    assert_eq!(values.len(), 5, "start, two checkpoints, the late one, the end");
    let LogRecord::Checkpoint(late) = &values[3] else { panic!("{values:?}") };
    assert_eq!(late.body.index, 2);
    assert!(late.verify());
    assert!(late.body.time.wall_ms > 1_790_071_200_000 + 3_000, "stamped when recovered");
    let LogRecord::End(end) = &values[4] else { panic!("{values:?}") };
    assert_eq!(end.record.reason, dualrec_proof::EndReason::Recovered);
    assert_eq!(end.signatures.len(), 1);
    assert_eq!(end.record.finals[0].chunks, 3);
    assert_eq!(end.record.finals[0].last_chain, late.body.chain);
    assert_eq!(
        end.record.finals[0].recording_sha256,
        Some(dualrec_proof::sha256(&std::fs::read(&r.recording).expect("read")))
    );
    assert!(unfinished_sessions(root.path(), &s.me).is_empty());
    assert!(matches!(recover(&s.dir, &s.me), Ok(Recovery::AlreadyFinished { .. })));
}

#[test]
fn a_recovery_interrupted_after_setting_the_file_aside_is_finished_by_the_next() {
    let root = tempfile::tempdir().expect("tmp");
    let s = crashed_session(root.path(), 2, 2);
    std::fs::rename(s.dir.join("recording.opus"), s.dir.join("recording.interrupted.opus"))
        .expect("rename");
    let Recovery::Finished(r) = recover(&s.dir, &s.me).expect("recover") else {
        panic!("unfinished")
    };
    assert_eq!((r.chunks, r.committed_before), (2, 2));
    assert!(read_recording(&std::fs::read(&r.recording).expect("read")).expect("parse").ended);
}

#[test]
fn a_recording_that_disagrees_with_its_log_is_left_alone() {
    let root = tempfile::tempdir().expect("tmp");
    let s = crashed_session(root.path(), 3, 3);
    let path = s.dir.join("recording.opus");
    // Rewrite the recording with one byte of chunk 1 changed.
    let file = read_recording(&std::fs::read(&path).expect("read")).expect("parse");
    let mut packets: Vec<Vec<u8>> = file.packets.into_iter().map(|p| p.data).collect();
    packets[60][5] ^= 1;
    std::fs::remove_file(&path).expect("rm");
    write_chunked(&path, file.head, &file.tags, &packets);
    let bytes = std::fs::read(&path).expect("read");
    let log_before = std::fs::read(s.dir.join("evidence.log")).expect("log");
    match recover(&s.dir, &s.me) {
        Err(SessionError::NotASession { detail, .. }) => {
            assert!(detail.contains("chunk 1 "), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).expect("read"), bytes, "recording untouched");
    assert_eq!(std::fs::read(s.dir.join("evidence.log")).expect("log"), log_before);
    assert!(!s.dir.join("recording.interrupted.opus").exists());
}

#[test]
fn a_session_still_recording_cannot_be_recovered() {
    let root = tempfile::tempdir().expect("tmp");
    let s = crashed_session(root.path(), 1, 1);
    let (_held, _) = EvidenceLog::open_append(&s.dir.join("evidence.log")).expect("open");
    assert!(unfinished_sessions(root.path(), &s.me).is_empty(), "a live session is not offered");
    assert!(matches!(recover(&s.dir, &s.me), Err(SessionError::Log(LogError::InUse { .. }))));
}

#[test]
fn another_devices_key_or_a_folder_without_a_session_is_refused() {
    let root = tempfile::tempdir().expect("tmp");
    let s = crashed_session(root.path(), 1, 1);
    let stranger = sim_identity(10, 0);
    assert!(matches!(recover(&s.dir, &stranger), Err(SessionError::NotASession { .. })));
    // The peer is a party, but the recording is not its own.
    assert!(matches!(recover(&s.dir, &s.peer), Err(SessionError::NotASession { .. })));
    assert!(matches!(recover(root.path(), &s.me), Err(SessionError::NotASession { .. })));
}
