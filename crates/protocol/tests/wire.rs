//! Wire messages: canonical bytes pinned in proto/vectors/wire/, hostile input refused.
//!
//! `DUALREC_WRITE_VECTORS=1 cargo test -p dualrec-protocol --test wire` rewrites the files.

use std::path::{Path, PathBuf};

use dualrec_proof::sim::{SimConfig, simulate};
use dualrec_proof::{Digest, LogRecord, PartySignature};
use dualrec_protocol::{
    CompactCheckpoint, CompactGap, CompactReceipt, LiveFrame, Request, Response,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto/vectors/wire")
}

/// The messages the vectors pin, built deterministically.
fn messages() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let sim = simulate(&SimConfig { chunks: 1, packet_bytes: 6, ..SimConfig::default() });
    let cp = sim.logs[0].iter().find_map(|r| match r {
        LogRecord::Checkpoint(c) => Some(*c),
        _ => None,
    });
    let receipt = sim.logs[0].iter().find_map(|r| match r {
        LogRecord::Receipt(c) => Some(*c),
        _ => None,
    });
    let (Some(cp), Some(receipt)) = (cp, receipt) else { panic!("sim has records") };
    let sig: PartySignature = sim.start.signatures[0];
    vec![
        (
            "request-hello",
            "Hello from a device named Parent",
            Request::Hello { version: 1, name: "Parent".into() }.to_bytes(),
        ),
        (
            "request-pair-commit",
            "pairing step 1",
            Request::PairCommit { commitment: Digest([0x5a; 32]) }.to_bytes(),
        ),
        (
            "request-pair-reveal",
            "pairing step 3",
            Request::PairReveal { nonce: [7; 32] }.to_bytes(),
        ),
        (
            "request-propose",
            "a session proposal signed by party 0",
            Request::Propose { start: sim.start.record.clone(), signature: sig }.to_bytes(),
        ),
        ("request-checkpoint", "party 0's checkpoint 0", Request::Checkpoint(cp).to_bytes()),
        ("request-ping", "liveness", Request::Ping { nonce: 42 }.to_bytes()),
        (
            "response-pair-nonce",
            "pairing step 2",
            Response::PairNonce { nonce: [9; 32] }.to_bytes(),
        ),
        (
            "response-receipt",
            "party 1's receipt for checkpoint 0",
            Response::Receipt(receipt).to_bytes(),
        ),
        (
            "response-refused",
            "a refusal with a reason",
            Response::Refused { reason: "not paired".into() }.to_bytes(),
        ),
        (
            "live-checkpoint",
            "party 0's checkpoint 0 on the live stream (SPEC 12.4)",
            LiveFrame::Checkpoint(CompactCheckpoint::of(&cp)).to_bytes(),
        ),
        (
            "live-receipt",
            "party 1's receipt for checkpoint 0 on the live stream",
            LiveFrame::Receipt(CompactReceipt::of(0, &receipt)).to_bytes(),
        ),
        (
            "live-gap",
            "party 0 lost 100 ms of input at 00:01 (SPEC 7.3) on the live stream",
            LiveFrame::Gap(CompactGap::of(
                &dualrec_proof::CaptureGap {
                    session: sim.start.record.session,
                    first_sample: 48_000,
                    samples: 4_800,
                    time: dualrec_proof::Timestamp { wall_ms: 1_790_071_201_000, mono_ms: 1_000 },
                }
                .sign(&sim.identities[0]),
            ))
            .to_bytes(),
        ),
    ]
}

fn failures() -> Vec<(&'static str, &'static str, &'static str, Vec<u8>)> {
    let ping = Request::Ping { nonce: 42 }.to_bytes();
    let mut trailing = ping.clone();
    trailing.push(0);
    let mut unknown = ping.clone();
    unknown[0] = 8;
    let live = LiveFrame::Receipt(CompactReceipt {
        index: 3,
        time: dualrec_proof::Timestamp { wall_ms: 1, mono_ms: 2 },
        signature: dualrec_proof::Signature([4; 64]),
    })
    .to_bytes();
    let mut live_trailing = live.clone();
    live_trailing.push(0);
    let mut live_unknown = live.clone();
    live_unknown[0] = 3;
    let mut huge_name = Request::Hello { version: 1, name: String::new() }.to_bytes();
    huge_name[6..14].copy_from_slice(&(1u64 << 40).to_le_bytes());
    vec![
        ("request-trailing-byte", "a Ping followed by one byte", "request", trailing),
        ("request-unknown-type", "message type 8 does not exist", "request", unknown),
        (
            "request-truncated",
            "a Ping missing its last byte",
            "request",
            ping[..ping.len() - 1].to_vec(),
        ),
        ("request-huge-length", "a Hello whose name claims 2^40 bytes", "request", huge_name),
        ("request-too-large", "65537 bytes", "request", vec![0; 65_537]),
        ("live-trailing-byte", "a live receipt followed by one byte", "live", live_trailing),
        ("live-unknown-type", "live frame type 3 does not exist", "live", live_unknown),
        ("live-truncated", "a live receipt missing its last byte", "live", live[..87].to_vec()),
        ("response-bad-utf8", "a refusal whose reason is not UTF-8", "response", {
            let mut r = Response::Refused { reason: "ab".into() }.to_bytes();
            let n = r.len();
            r[n - 1] = 0xff;
            r
        }),
    ]
}

#[test]
fn wire_vectors_check_out() {
    if std::env::var_os("DUALREC_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(dir()).expect("mkdir");
        for (name, d, bytes) in messages() {
            let text = format!(
                "{{\n  \"name\": \"{name}\",\n  \"description\": \"{d}\",\n  \"kind\": \"wire\",\n  \"bytes\": \"{}\",\n  \"expect\": {{\"ok\": true}}\n}}\n",
                hex::encode(&bytes)
            );
            std::fs::write(dir().join(format!("{name}.json")), text).expect("write");
        }
        for (name, d, which, bytes) in failures() {
            let text = format!(
                "{{\n  \"name\": \"{name}\",\n  \"description\": \"{d}\",\n  \"kind\": \"wire\",\n  \"message\": \"{which}\",\n  \"bytes\": \"{}\",\n  \"expect\": {{\"ok\": false}}\n}}\n",
                hex::encode(&bytes)
            );
            std::fs::write(dir().join(format!("{name}.json")), text).expect("write");
        }
    }
    let mut checked = 0;
    let mut failures_seen = 0;
    let by_name: std::collections::HashMap<_, _> =
        messages().into_iter().map(|(n, _, b)| (n, b)).collect();
    for entry in std::fs::read_dir(dir()).expect("proto/vectors/wire") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let field = |k: &str| {
            text.split(&format!("\"{k}\": \""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .map(str::to_owned)
        };
        let name = field("name").expect("name");
        let bytes = hex::decode(field("bytes").expect("bytes")).expect("hex");
        let ok = text.contains("\"ok\": true");
        let decoded = if name.starts_with("request") {
            Request::from_bytes(&bytes).map(|r| r.to_bytes())
        } else if name.starts_with("live") {
            LiveFrame::from_bytes(&bytes).map(|r| r.to_bytes())
        } else {
            Response::from_bytes(&bytes).map(|r| r.to_bytes())
        };
        if ok {
            assert_eq!(
                decoded.as_ref().ok(),
                Some(&bytes),
                "{name}: decodes and re-encodes to the same bytes"
            );
            assert_eq!(
                by_name.get(name.as_str()),
                Some(&bytes),
                "{name}: the encoder still produces these bytes"
            );
        } else {
            assert!(decoded.is_err(), "{name} must be refused");
            failures_seen += 1;
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} wire vectors");
    assert!(failures_seen >= 9);
}
