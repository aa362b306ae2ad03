//! Verifying a recording from Rust code: simulate a short session, cut one second out
//! of one party's recording, and list what the verifier finds.
//!
//! `cargo run --example verify_session`

#![allow(clippy::print_stdout)]

use dualrec_proof::sim::{SimConfig, log_bytes, simulate};
use dualrec_proof::{Recording, Verifier, VerifyOptions, read_log};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = simulate(&SimConfig { chunks: 10, ..SimConfig::default() });

    // The other party's evidence log, as it would be read from disk.
    let log = read_log(&log_bytes(&sim.logs[1]))?;
    let mut verifier = Verifier::new(VerifyOptions::default());
    verifier.add_log("social-worker/evidence.log", log);

    // Cut 00:04-00:05 out of the parent's recording (50 packets of 20 ms).
    let mut packets = sim.recordings[0].clone();
    packets.drain(4 * 50..5 * 50);

    let report = verifier.verify(&Recording {
        packets: &packets,
        producer: sim.identities[0].public(),
        session: Some(sim.start.record.session),
        file_sha256: None,
        playback: None,
        damaged: &[],
        excerpt: None,
    })?;
    println!("verdict: {:?}", report.verdict);
    for chunk in &report.chunks {
        println!(
            "chunk {:>2} (second {:>2}): {:?}",
            chunk.index,
            chunk.first_sample / 48_000,
            chunk.status
        );
    }
    Ok(())
}
