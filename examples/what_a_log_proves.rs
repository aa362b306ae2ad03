//! What an evidence log proves, in words: whose session it is, which seconds each device
//! committed to (and whether its chain is unbroken), which of them the other device
//! receipted and how fast, and how the session ended. Signatures are checked; nothing is
//! taken on trust.
//!
//! `cargo run --example what_a_log_proves -- recordings/<session>/evidence.log`
//! (without a path it reads a simulated session's log).

#![allow(clippy::print_stdout)]

use std::collections::HashMap;

use dualrec_proof::sim::{SimConfig, log_bytes, simulate};
use dualrec_proof::{ChainState, CoSigned, LogRecord, PublicKey, StartRecord, read_log};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bytes = match std::env::args_os().nth(1) {
        Some(path) => std::fs::read(path)?,
        None => log_bytes(&simulate(&SimConfig { chunks: 20, ..SimConfig::default() }).logs[0]),
    };
    let log = read_log(&bytes)?;
    let records: Vec<LogRecord> = log.entries.into_iter().map(|e| e.value).collect();

    let start: &CoSigned<StartRecord> = records
        .iter()
        .find_map(|r| match r {
            LogRecord::Start(s) if s.verify().is_ok() => Some(s),
            _ => None,
        })
        .ok_or("no start record co-signed by all parties: this log proves nothing")?;
    let s = &start.record;
    let name =
        |k: &PublicKey| s.party(k).map_or_else(|| "someone else".to_owned(), |p| p.name.clone());
    println!("Session {} started by agreement of:", s.session);
    for p in &s.parties {
        println!("  {} (key fingerprint {})", p.name, p.key.fingerprint());
    }

    // Checkpoints by producer, in order; which checkpoint hashes were receipted, by whom.
    let mut receipted: HashMap<_, (PublicKey, u64)> = HashMap::new();
    for r in &records {
        if let LogRecord::Receipt(rc) = r
            && rc.verify()
            && s.is_party(&rc.signer)
        {
            receipted.insert(rc.body.checkpoint, (rc.signer, rc.body.time.wall_ms));
        }
    }
    for p in &s.parties {
        let mut chain = ChainState::genesis(s, &p.key);
        let (mut committed, mut broken, mut witnessed, mut slowest) = (0u64, None, 0u64, 0u64);
        for r in &records {
            let LogRecord::Checkpoint(cp) = r else { continue };
            if cp.signer != p.key || cp.body.session != s.session || !cp.verify() {
                continue;
            }
            if cp.body.index != committed
                || ChainState::step(&chain, &cp.body.digest) != cp.body.chain
            {
                broken.get_or_insert(cp.body.index);
            }
            chain = cp.body.chain;
            committed += 1;
            if let Some((witness, at)) = receipted.get(&cp.hash())
                && *witness != p.key
            {
                witnessed += 1;
                slowest = slowest.max(at.saturating_sub(cp.body.time.wall_ms));
            }
        }
        println!(
            "{} committed to {committed} second(s) of audio{}; {witnessed} of them carry a receipt \
             from the other device here (slowest {slowest} ms by the two clocks).",
            p.name,
            broken.map_or_else(String::new, |i| format!(" (the chain breaks at second {i})"))
        );
    }
    for r in &records {
        if let LogRecord::End(e) = r
            && e.verify(s).is_ok()
        {
            let signers: Vec<_> = e.signatures.iter().map(|sig| name(&sig.signer)).collect();
            println!(
                "{} ended the session ({:?}); the end is signed by {}.",
                name(&e.record.ended_by),
                e.record.reason,
                signers.join(" and ")
            );
        }
    }
    if let Some(t) = log.torn_tail {
        println!("The log ends in a half-written record ({} bytes, not used): a crash.", t.bytes);
    }
    println!(
        "A log proves what was committed and witnessed; the recording itself is checked with `dualrec verify`."
    );
    Ok(())
}
