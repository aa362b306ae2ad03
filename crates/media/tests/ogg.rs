//! Writing and reading Ogg Opus recordings on real files: golden bytes, round trips,
//! crash truncation, damage.

use dualrec_media::{
    MediaError, OpusHead, OpusTags, RecordingWriter, chunk_ranges, finish_interrupted,
    packet_samples, read_recording,
};
use dualrec_proof::{PublicKey, SessionId};
use proptest::prelude::*;

const HEAD: OpusHead =
    OpusHead { channels: 1, pre_skip: 312, input_sample_rate: 48_000, output_gain: 0 };

/// A syntactically valid 20 ms CELT packet (TOC 0xF8: config 31, one frame) of `len` bytes.
fn packet(i: u64, len: usize) -> Vec<u8> {
    let mut p = vec![0xF8];
    p.extend((0..len - 1).map(|k| (i as usize * 31 + k * 7) as u8));
    p
}

fn tags() -> OpusTags {
    OpusTags::for_session("dualrec test", SessionId([1; 16]), PublicKey([2; 32]))
}

/// Writes `n` packets in chunks of 50 and finishes with `input` samples.
fn write(
    path: &std::path::Path,
    n: u64,
    input: u64,
    end_last_chunk: bool,
) -> dualrec_media::FinishedRecording {
    let mut w = RecordingWriter::create(path, HEAD, &tags(), 42).expect("create");
    for i in 0..n {
        w.write_packet(&packet(i, 60 + (i % 40) as usize)).expect("packet");
        if (i + 1) % 50 == 0 && (end_last_chunk || i + 1 < n) {
            w.end_chunk().expect("chunk");
        }
    }
    w.finish(input).expect("finish")
}

#[test]
fn opus_head_golden_bytes() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("r.opus");
    write(&p, 3, 2000, false);
    let bytes = std::fs::read(&p).expect("read");
    // First page: "OggS", version 0, BOS flag, granule 0, serial 42, seq 0, CRC, 1 segment of 19.
    assert_eq!(&bytes[..6], b"OggS\x00\x02");
    assert_eq!(&bytes[14..18], &42u32.to_le_bytes());
    assert_eq!(bytes[26], 1);
    assert_eq!(bytes[27], 19);
    assert_eq!(
        hex::encode(&bytes[28..47]),
        "4f707573486561640101380180bb0000000000" // OpusHead v1, 1 ch, pre-skip 312, 48000 Hz, gain 0, family 0
    );
}

#[test]
fn round_trip_with_positions_tags_and_exact_end() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("r.opus");
    let fin = write(&p, 123, 123 * 960 - 500, false);
    assert_eq!(fin.packets, 123);
    assert_eq!(fin.samples, 123 * 960 - 500);
    let f = read_recording(&std::fs::read(&p).expect("read")).expect("parse");
    assert_eq!(f.head, HEAD);
    assert_eq!(f.tags, tags());
    assert_eq!(f.tags.session(), Some(SessionId([1; 16])));
    assert_eq!(f.tags.producer(), Some(PublicKey([2; 32])));
    assert!(f.ended);
    assert_eq!(f.truncated, None);
    assert_eq!(f.packets.len(), 123);
    for (i, pk) in f.packets.iter().enumerate() {
        assert_eq!(pk.position, i as u64 * 960);
        assert_eq!(pk.data, packet(i as u64, 60 + i % 40));
    }
    assert_eq!(f.last_granule, 312 + 123 * 960 - 500);
    assert_eq!(fin.sha256, dualrec_proof::sha256(&std::fs::read(&p).expect("read")));
}

#[test]
fn finishing_after_a_closed_chunk_marks_that_page_as_the_end() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("r.opus");
    write(&p, 100, 100 * 960 - 400, true);
    let f = read_recording(&std::fs::read(&p).expect("read"))
        .expect("CRC of the patched page is valid");
    assert!(f.ended);
    assert_eq!(f.packets.len(), 100);
    assert_eq!(f.last_granule, 312 + 100 * 960 - 400);
}

#[test]
fn every_chunk_boundary_is_a_page_boundary() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("r.opus");
    write(&p, 160, 160 * 960, false);
    let bytes = std::fs::read(&p).expect("read");
    // Walk the pages: after the two header pages, each page holds one chunk.
    let mut at = 0;
    let mut per_page = Vec::new();
    while at < bytes.len() {
        let nseg = bytes[at + 26] as usize;
        let lacing = &bytes[at + 27..at + 27 + nseg];
        per_page.push(lacing.iter().filter(|&&l| l < 255).count());
        at += 27 + nseg + lacing.iter().map(|&l| l as usize).sum::<usize>();
    }
    assert_eq!(per_page, vec![1, 1, 50, 50, 50, 10]);
}

#[test]
fn a_file_cut_anywhere_reads_up_to_its_last_whole_page() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("r.opus");
    write(&p, 200, 200 * 960, false);
    let bytes = std::fs::read(&p).expect("read");
    let full = read_recording(&bytes).expect("full");
    let header_end = {
        let mut at = 0;
        for _ in 0..2 {
            let nseg = bytes[at + 26] as usize;
            at += 27
                + nseg
                + bytes[at + 27..at + 27 + nseg].iter().map(|&l| l as usize).sum::<usize>();
        }
        at
    };
    for cut in (header_end + 1..bytes.len()).step_by(97) {
        let f = read_recording(&bytes[..cut]).expect("a cut file is still readable");
        let t = f.truncated.expect("the cut is reported");
        assert_eq!(t.offset + t.bytes, cut as u64);
        assert!(!f.ended);
        assert_eq!(f.packets.len() % 50, 0, "whole chunks only (cut at {cut})");
        assert_eq!(&f.packets[..], &full.packets[..f.packets.len()]);
    }
}

#[test]
fn an_interrupted_recording_is_finished_from_its_whole_pages() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("interrupted.opus");
    // A writer that never finishes: the process died with chunk 4 in progress.
    let mut w = RecordingWriter::create(&src, HEAD, &tags(), 42).expect("create");
    for i in 0..170u64 {
        w.write_packet(&packet(i, 60 + (i % 40) as usize)).expect("packet");
        if (i + 1) % 50 == 0 {
            w.end_chunk().expect("chunk");
        }
    }
    drop(w);
    let mut bytes = std::fs::read(&src).expect("read");
    // ...and half of a page header had reached the disk.
    bytes.extend_from_slice(b"OggS\0\0\x05");
    std::fs::write(&src, &bytes).expect("write");

    let dst = dir.path().join("recording.opus");
    let read = read_recording(&bytes).expect("the interrupted file reads");
    let done = finish_interrupted(&bytes, &read, &dst).expect("finish");
    assert_eq!(std::fs::read(&src).expect("src"), bytes, "the interrupted file is not touched");
    let out = std::fs::read(&dst).expect("dst");
    let f = read_recording(&out).expect("the finished file reads");
    assert!(f.ended, "the last page is now the end of the stream");
    assert_eq!(f.truncated, None);
    assert_eq!(f.packets.len(), 150, "three whole chunks");
    assert_eq!(&f.packets[..], &read_recording(&bytes).expect("src").packets[..]);
    assert_eq!(done.packets, 150);
    assert_eq!(done.samples, 150 * 960 - u64::from(HEAD.pre_skip));
    assert_eq!(done.sha256, dualrec_proof::sha256(&out));
    assert_eq!(out.len(), bytes.len() - 7, "only the torn bytes are left out");
    // Never replaces a file.
    assert!(matches!(finish_interrupted(&bytes, &read, &dst), Err(MediaError::Exists { .. })));
    // A header-only file has nothing to end.
    let empty = dir.path().join("empty.opus");
    drop(RecordingWriter::create(&empty, HEAD, &tags(), 42).expect("create"));
    let empty_bytes = std::fs::read(&empty).expect("read");
    let empty_read = read_recording(&empty_bytes).expect("headers read");
    assert!(matches!(
        finish_interrupted(&empty_bytes, &empty_read, &dir.path().join("e2.opus")),
        Err(MediaError::NothingToEnd)
    ));
}

#[test]
fn damage_and_foreign_files_are_typed_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("r.opus");
    write(&p, 120, 120 * 960, false);
    let bytes = std::fs::read(&p).expect("read");
    let clean = read_recording(&bytes).expect("clean");
    let mut damaged = bytes.clone();
    let mid = bytes.len() / 2;
    damaged[mid] ^= 0x20;
    // A damaged page in the middle is skipped and named; the packets after it keep their
    // true positions (from the next page's granule), so the rest can still be checked.
    let read = read_recording(&damaged).expect("the rest is read");
    assert_eq!(read.damaged.len(), 1, "{:?}", read.damaged);
    let d = read.damaged[0];
    assert!((d.offset as usize) < mid && d.samples > 0, "{d:?}");
    let lost = clean.packets.len() - read.packets.len();
    assert!(lost > 0);
    assert_eq!(d.samples, lost as u64 * 960);
    let after: Vec<_> =
        clean.packets.iter().filter(|p| p.position >= d.first_sample + d.samples).collect();
    assert_eq!(after.len(), read.packets.iter().filter(|p| p.position >= d.first_sample).count());
    assert!(
        after.iter().zip(read.packets.iter().rev().take(after.len()).rev()).all(|(a, b)| a == &b)
    );
    // The headers damaged: not a recording at all.
    let mut head_damaged = bytes.clone();
    head_damaged[30] ^= 0x20;
    assert!(matches!(read_recording(&head_damaged), Err(MediaError::CorruptPage { page: 0, .. })));
    assert!(matches!(
        read_recording(b"RIFF\x00\x00\x00\x00WAVEfmt "),
        Err(MediaError::NotOgg { offset: 0 })
    ));
    // An Ogg stream whose first packet is not OpusHead (a Vorbis header).
    let mut w = ogg::PacketWriter::new(Vec::new());
    w.write_packet(
        b"\x01vorbis\x00\x00\x00\x00\x01".to_vec(),
        5,
        ogg::PacketWriteEndInfo::EndStream,
        0,
    )
    .expect("write");
    assert!(matches!(read_recording(&w.into_inner()), Err(MediaError::NotOpus { .. })));
    assert!(matches!(
        RecordingWriter::create(&p, HEAD, &tags(), 1),
        Err(MediaError::Exists { .. })
    ));
}

#[test]
fn chunk_ranges_cut_by_count() {
    assert_eq!(chunk_ranges(120, 50), vec![0..50, 50..100, 100..120]);
    assert!(chunk_ranges(0, 50).is_empty());
}

#[test]
fn toc_durations() {
    assert_eq!(packet_samples(&[0xF8]).expect("celt 20ms"), 960);
    assert_eq!(packet_samples(&[0x08 << 3]).expect("silk 10ms"), 480);
    assert_eq!(packet_samples(&[(1 << 3) | 1]).expect("silk 20ms x2"), 1920);
    assert_eq!(packet_samples(&[(3 << 3) | 3, 2]).expect("silk 60ms x2"), 5760);
    assert!(packet_samples(&[(3 << 3) | 3, 3]).is_err(), "180 ms is over the 120 ms limit");
    assert!(packet_samples(&[]).is_err());
}

proptest! {
    #[test]
    fn toc_parsing_never_panics(p in proptest::collection::vec(any::<u8>(), 0..4)) {
        if let Ok(s) = packet_samples(&p) {
            prop_assert!(s > 0 && s <= 5760);
        }
    }

    #[test]
    fn reading_garbage_after_a_valid_start_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("r.opus");
        write(&p, 3, 2000, false);
        let mut bytes = std::fs::read(&p).expect("read");
        bytes.truncate(200);
        bytes.extend_from_slice(&tail);
        let _ = read_recording(&bytes);
    }
}
