//! How long the acoustic cross-check of a 3-hour pair takes, side by side with decoding
//! alone (`opusdec` of both files, the floor named in issue #11), in one run.
//!
//! `cargo bench -p dualrec-compare --bench compare_speed` (HOURS=0.5 for a shorter pair).

#![allow(clippy::print_stdout)]

#[path = "../tests/common/rooms.rs"]
#[allow(unreachable_pub, clippy::unwrap_used)]
mod rooms;

use std::path::Path;
use std::time::Instant;

use dualrec_media::{OpusTags, RecordingWriter, read_recording};
use dualrec_proof::{PublicKey, SessionId};

/// A recording of `hours` made by repeating the first `unit` packets of `short` (both
/// sides repeat the same number, so the loops line up as one long meeting would).
fn long_recording(short: &Path, out: &Path, hours: f64, unit: usize) {
    let f = read_recording(&std::fs::read(short).expect("read")).expect("parse");
    let tags = OpusTags::for_session("dualrec bench", SessionId([7; 16]), PublicKey([9; 32]));
    let mut w = RecordingWriter::create(out, f.head, &tags, 3).expect("writer");
    let packets = (hours * 3600.0 * 50.0) as usize;
    for (i, p) in f.packets[..unit].iter().cycle().take(packets).enumerate() {
        w.write_packet(&p.data).expect("packet");
        if (i + 1) % 50 == 0 {
            w.end_chunk().expect("chunk");
        }
    }
    w.finish(packets as u64 * 960).expect("finish");
}

fn main() {
    let hours: f64 = std::env::var("HOURS").ok().and_then(|h| h.parse().ok()).unwrap_or(3.0);
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let room = rooms::conversation(d);
    let (a, b) = rooms::microphones(d, &room, &room);
    let ra = rooms::record(&a, &d.join("short-a.opus"), [7; 16]);
    let rb = rooms::record(&b, &d.join("short-b.opus"), [7; 16]);
    let unit = ra.packets.len().min(rb.packets.len());
    let (long_a, long_b) = (d.join("a.opus"), d.join("b.opus"));
    long_recording(&d.join("short-a.opus"), &long_a, hours, unit);
    long_recording(&d.join("short-b.opus"), &long_b, hours, unit);

    let t = Instant::now();
    for (i, f) in [&long_a, &long_b].iter().enumerate() {
        let wav = d.join(format!("decoded{i}.wav"));
        let ok = std::process::Command::new("opusdec")
            .args(["--quiet", "--rate", "16000"])
            .arg(f)
            .arg(&wav)
            .status()
            .expect("opusdec (opus-tools)");
        assert!(ok.success());
        let _ = std::fs::remove_file(&wav);
    }
    let floor = t.elapsed();

    let t = Instant::now();
    let ra = read_recording(&std::fs::read(&long_a).expect("a")).expect("a");
    let rb = read_recording(&std::fs::read(&long_b).expect("b")).expect("b");
    let c = dualrec_compare::compare(&ra, &rb).expect("compare");
    let ours = t.elapsed();
    println!(
        "{hours} h pair: compare {:.1} s, opusdec of both files {:.1} s (floor): ratio {:.2}; target under 30 s for 3 h",
        ours.as_secs_f64(),
        floor.as_secs_f64(),
        ours.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "seconds: {} same, {} different, {} cannot tell",
        c.count(dualrec_compare::Class::Same),
        c.count(dualrec_compare::Class::Different),
        c.count(dualrec_compare::Class::CannotTell)
    );
}
