//! Verification speed on a synthetic 3-hour session, against `openssl speed ed25519`.
//!
//! `cargo bench -p dualrec-proof --bench verify_3h` (add `-- --chunks N` for another
//! length). Prints a report: time to verify one recording against both parties' logs as
//! × realtime, and strict signature checks per second beside openssl's verify rate,
//! measured in the same run on the same machine; then the same recording against a
//! hostile log built to make the alignment as slow as it can (every second's audio
//! unknown, thousands of distinct packet counts, the four most frequent shapes all
//! plausible), as a ratio of the honest time; and the peak resident memory of each
//! verification (Linux `VmHWM`, reset between runs through `/proc/self/clear_refs`).

#![allow(clippy::print_stdout)]

use std::process::Command;
use std::time::{Duration, Instant};

use dualrec_proof::sim::{SimConfig, log_bytes, simulate};
use dualrec_proof::{
    Checkpoint, Digest, LogRecord, Signed, Timestamp, Verdict, Verifier, VerifyOptions, read_log,
};
use rayon::prelude::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Peak resident memory since the last reset, in MB (Linux only; `None` elsewhere).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A log the producer could hand in to slow the verifier down: one checkpoint per second
/// with a digest no audio has, packet counts spread over thousands of values, and the
/// four most frequent shapes plausible for 20 ms packets, so every window is hashed.
fn hostile_log(sim: &dualrec_proof::sim::SimSession, chunks: u64) -> Vec<u8> {
    let me = &sim.identities[0];
    let mut records = vec![LogRecord::Start(sim.start.clone())];
    let mut first_packet = 0u64;
    for index in 0..chunks {
        let packet_count = match index % 4 {
            0..=2 => 47 + (index % 4) as u32 + u32::from(index % 8 == 0),
            _ => 1 + (index % 3000) as u32,
        };
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&index.to_le_bytes());
        let body = Checkpoint {
            session: sim.start.record.session,
            index,
            first_packet,
            packet_count,
            first_sample: first_packet * 960,
            samples: packet_count * 960,
            digest: Digest(digest),
            chain: Digest([7; 32]),
            time: Timestamp { wall_ms: 0, mono_ms: index * 1000 },
        };
        first_packet += u64::from(packet_count);
        records.push(LogRecord::Checkpoint(body.sign(me)));
    }
    dualrec_proof::sim::log_bytes(&records)
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
        let report = v.verify(&sim.recording(0, &sim.recordings[0]))?;
        times.push(t.elapsed());
        last = Some(report);
    }
    let report = last.ok_or("no run")?;
    let honest_peak = peak_rss_mb();
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

    if let Some(mb) = honest_peak {
        println!(
            "peak resident memory of the process so far (the session in memory, both logs, verify): {mb:.0} MB"
        );
    }

    // The hostile log, against the same recording: the alignment's worst case.
    let hostile = hostile_log(&sim, chunks);
    let mut hostile_times = Vec::new();
    let mut hostile_peak = None;
    for _ in 0..3 {
        reset_peak_rss();
        let before = peak_rss_mb();
        let t = Instant::now();
        let mut v = Verifier::new(VerifyOptions::default());
        v.add_log("hostile", read_log(&hostile)?);
        let r = v.verify(&sim.recording(0, &sim.recordings[0]))?;
        hostile_times.push(t.elapsed());
        assert_eq!(r.verdict, Verdict::Problems);
        hostile_peak = peak_rss_mb().zip(before).map(|(a, b)| a - b);
    }
    let hostile_time = median(hostile_times);
    println!(
        "hostile log ({:.1} MB, {chunks} checkpoints, no second matching), median of 3: {:.2} s = {:.1}× the honest verify; {:.0}× realtime",
        hostile.len() as f64 / 1e6,
        hostile_time.as_secs_f64(),
        hostile_time.as_secs_f64() / total.as_secs_f64(),
        chunks as f64 / hostile_time.as_secs_f64()
    );
    if let Some(mb) = hostile_peak {
        println!("peak resident memory added while verifying against the hostile log: {mb:.0} MB");
    }

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
