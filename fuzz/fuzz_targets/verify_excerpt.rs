//! An excerpt with a fuzzer-chosen place (SPEC §11.5) through the verifier: a report or
//! a typed error, never a panic; and an honest place — any stretch, cut anywhere — always
//! verifies intact, holding exactly its samples.
#![no_main]

use std::sync::OnceLock;

use dualrec_proof::sim::{SimConfig, SimSession, log_bytes, simulate};
use dualrec_proof::{
    Digest, ExcerptPlace, OmittedPacket, Packet, Recording, Verdict, Verifier, VerifyOptions,
    read_log,
};
use libfuzzer_sys::fuzz_target;

const PPC: usize = 50;

fn session() -> &'static (SimSession, Vec<u8>) {
    static S: OnceLock<(SimSession, Vec<u8>)> = OnceLock::new();
    S.get_or_init(|| {
        let sim = simulate(&SimConfig { chunks: 6, packet_bytes: 6, ..SimConfig::default() });
        let log = log_bytes(&sim.logs[1]);
        (sim, log)
    })
}

fn verify(
    sim: &SimSession,
    log: &[u8],
    packets: &[Packet],
    place: &ExcerptPlace,
) -> Option<dualrec_proof::Report> {
    let mut v = Verifier::new(VerifyOptions::default());
    v.add_log("witness", read_log(log).ok()?);
    v.verify(&Recording { excerpt: Some(place), ..sim.recording(0, packets) }).ok()
}

fuzz_target!(|data: &[u8]| {
    let (sim, log) = session();
    let p = &sim.recordings[0];
    if data.len() < 4 {
        return;
    }
    let a = usize::from(data[0]) * p.len() / 256;
    let b = (a + 1 + usize::from(data[1]) * p.len() / 256).min(p.len());
    let chunks: Vec<_> =
        (0..p.len().div_ceil(PPC)).map(|c| c * PPC..(c * PPC + PPC).min(p.len())).collect();
    let mut place = ExcerptPlace::cut(p, &chunks, a..b, |_| 960);
    let packets: Vec<Packet> = p[a..b]
        .iter()
        .enumerate()
        .map(|(k, x)| Packet { position: k as u64 * 960, data: x.data.clone() })
        .collect();
    if data[2] == 0 {
        let r = verify(sim, log, &packets, &place).expect("an honest excerpt has a report");
        assert_eq!(r.verdict, Verdict::Intact, "{:?} {:?}", r.regions, r.findings);
        let x = r.excerpt.expect("facts");
        assert_eq!((x.first_sample, x.end_sample), (Some(a as u64 * 960), Some(b as u64 * 960)));
        return;
    }
    // A place the fuzzer bends: numbers, durations and hashes from its bytes.
    let word = |i: usize| {
        data.get(i..i + 8).map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
    };
    match data[3] % 4 {
        0 => place.first_packet = word(4),
        1 => place.first_sample = word(4),
        2 => {
            for (i, o) in place.head.iter_mut().chain(place.tail.iter_mut()).enumerate() {
                o.samples = u32::from(data.get(4 + i).copied().unwrap_or(0)) * 24;
            }
        }
        _ => place.tail.push(OmittedPacket { samples: 960, hash: Digest([data[2]; 32]) }),
    }
    let _ = verify(sim, log, &packets, &place);
});
