//! A valid session's logs with fuzzer-chosen bytes spliced in, through the whole
//! verifier: a report or a typed error, never a panic.
#![no_main]

use std::sync::OnceLock;

use dualrec_proof::sim::{SimConfig, SimSession, log_bytes, simulate};
use dualrec_proof::{Recording, Verifier, VerifyOptions, read_log};
use libfuzzer_sys::fuzz_target;

fn session() -> &'static (SimSession, Vec<u8>) {
    static S: OnceLock<(SimSession, Vec<u8>)> = OnceLock::new();
    S.get_or_init(|| {
        let sim = simulate(&SimConfig { chunks: 4, packet_bytes: 6, ..SimConfig::default() });
        let log = log_bytes(&sim.logs[1]);
        (sim, log)
    })
}

fuzz_target!(|data: &[u8]| {
    let (sim, log) = session();
    if data.len() < 4 {
        return;
    }
    let at = (u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize) % log.len();
    let mut bytes = log[..at].to_vec();
    bytes.extend_from_slice(&data[4..]);
    let Ok(contents) = read_log(&bytes) else { return };
    let mut v = Verifier::new(VerifyOptions::default());
    v.add_log("fuzz", contents);
    let _ = v.verify(&Recording {
        packets: &sim.recordings[0],
        producer: sim.identities[0].public(),
        session: None,
        file_sha256: None,
        playback: None,
        damaged: &[],
        excerpt: None,
    });
});
