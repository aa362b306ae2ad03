//! Verification speed on a synthetic 3-hour session, against `openssl speed ed25519`.
//!
//! `cargo bench -p dualrec-proof --bench verify_3h` (add `-- --chunks N` for another
//! length). Prints a report: time to verify one recording against both parties' logs as
//! × realtime, and strict signature checks per second beside openssl's verify rate,
//! measured in the same run on the same machine.

#![allow(clippy::print_stdout)]

use std::process::Command;
use std::time::{Duration, Instant};

use dualrec_proof::sim::{SimConfig, log_bytes, simulate};
use dualrec_proof::{LogRecord, Recording, Signed, Verdict, Verifier, VerifyOptions, read_log};
use rayon::prelude::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn openssl_verify_rate() -> Option<f64> {
    let out = Command::new("openssl").args(["speed", "-seconds", "3", "ed25519"]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "253 bits EdDSA (Ed25519)   0.0001s   0.0002s  14523.0   5712.3"
    let line = text.lines().find(|l| l.contains("Ed25519)"))?;
    let nums: Vec<f64> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    nums.last().copied()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let chunks = args
        .iter()
        .position(|a| a == "--chunks")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_800u64);
    let runs = 5;

    println!("dualrec-proof verification benchmark");
    println!("cores available to rayon: {}", rayon::current_num_threads());
    let t = Instant::now();
    let sim = simulate(&SimConfig { chunks, packet_bytes: 80, ..SimConfig::default() });
    let logs: Vec<Vec<u8>> = sim.logs.iter().map(|l| log_bytes(l)).collect();
    let audio_bytes: usize = sim.recordings[0].iter().map(|p| p.data.len()).sum();
    println!(
        "synthetic session: {chunks} chunks ({:.2} h) per party, {} packets, {:.1} MB of Opus-sized packets, logs {:.1} + {:.1} MB (built in {:.1?})",
        chunks as f64 / 3600.0,
        sim.recordings[0].len(),
        audio_bytes as f64 / 1e6,
        logs[0].len() as f64 / 1e6,
        logs[1].len() as f64 / 1e6,
        t.elapsed()
    );

    // End to end: parse both logs, verify party 0's recording against them.
    let mut times = Vec::new();
    let mut parse_times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let parsed = logs.par_iter().map(|l| read_log(l)).collect::<Result<Vec<_>, _>>()?;
        parse_times.push(t.elapsed());
        let mut v = Verifier::new(VerifyOptions::default());
        for (i, c) in parsed.into_iter().enumerate() {
            v.add_log(format!("log{i}"), c);
        }
        let rec = Recording {
            packets: &sim.recordings[0],
            producer: sim.identities[0].public(),
            session: Some(sim.start.record.session),
            file_sha256: None,
            playback: None,
        };
        let report = v.verify(&rec)?;
        times.push(t.elapsed());
        last = Some(report);
    }
    let report = last.ok_or("no run")?;
    assert_eq!(report.verdict, Verdict::Intact);
    assert_eq!(report.totals.witnessed_live, chunks);
    let total = median(times);
    println!(
        "verify (parse 2 logs + {} signatures + hash + align), median of {runs}: {:.3} s  = {:.0}× realtime  (parse {:.3} s)   goal < 1 s",
        report.totals.signatures_checked,
        total.as_secs_f64(),
        chunks as f64 / total.as_secs_f64(),
        median(parse_times).as_secs_f64()
    );

    // Signature checks alone, as the verifier does them (batches on both cores).
    let sigs: Vec<_> = sim.logs[1]
        .iter()
        .filter_map(|r| match r {
            LogRecord::Checkpoint(c) => Some(*c),
            _ => None,
        })
        .collect();
    let mut rates = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let ok = Signed::verify_all(&sigs).into_iter().filter(|ok| *ok).count();
        let dt = t.elapsed();
        assert_eq!(ok, sigs.len());
        rates.push(Duration::from_secs_f64(dt.as_secs_f64() / sigs.len() as f64));
    }
    let per_sig = median(rates).as_secs_f64();
    let ours = 1.0 / per_sig;
    match openssl_verify_rate() {
        Some(ossl) => println!(
            "signature checks: {ours:.0}/s (batched, {} threads)   openssl speed ed25519 verify: {ossl:.0}/s   ratio {:.2}×   goal ≥ 2×",
            rayon::current_num_threads(),
            ours / ossl
        ),
        None => println!("signature checks: {ours:.0}/s; openssl not found, no comparison"),
    }
    Ok(())
}
