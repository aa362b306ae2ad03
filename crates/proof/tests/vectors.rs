//! Re-checks every known-answer file in proto/vectors/ (SPEC §10).
//!
//! `DUALREC_WRITE_VECTORS=1 cargo test -p dualrec-proof --test vectors` rewrites the files
//! from the generator below; without it the files are only read and checked, so any
//! change in encoding, hashing or verification that alters a byte fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dualrec_proof::sim::{SimConfig, SimSession, log_bytes, sim_identity, simulate};
use dualrec_proof::{
    ChainState, CoSigned, Damage, DecodeError, EndRecord, ExcerptPlace, Identity, LogError,
    LogRecord, OmittedPacket, Packet, Playback, PublicKey, Recording, SessionId, Signed,
    StartRecord, Verifier, VerifyOptions, chunk_digest, decode_exact, encode, packet_hash,
    read_log,
};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto/vectors")
}

fn h(b: &[u8]) -> String {
    hex::encode(b)
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

// ---------------------------------------------------------------- checking

fn check_chain(v: &Value) {
    let start: StartRecord = decode_exact(&unhex(&v["start_record"])).expect("start record");
    let producer = PublicKey(unhex(&v["producer"]).try_into().expect("32 bytes"));
    let e = &v["expect"];
    assert_eq!(h(&start.hash().0), e["start_hash"]);
    let mut c = ChainState::genesis(&start, &producer);
    assert_eq!(h(&c.0), e["genesis"]);
    for (chunk, want) in
        v["packets"].as_array().expect("chunks").iter().zip(e["chunks"].as_array().expect("chunks"))
    {
        let hashes: Vec<_> =
            chunk.as_array().expect("packets").iter().map(|p| packet_hash(&unhex(p))).collect();
        let got: Vec<Value> = hashes.iter().map(|d| json!(h(&d.0))).collect();
        assert_eq!(Value::Array(got), want["packet_hashes"]);
        let d = chunk_digest(&hashes);
        assert_eq!(h(&d.0), want["digest"]);
        c = ChainState::step(&c, &d);
        assert_eq!(h(&c.0), want["chain"]);
    }
}

fn check_signed(v: &Value) {
    let bytes = unhex(&v["encoding"]);
    let want_valid = v["expect"]["valid"].as_bool().expect("valid flag");
    let seed: Option<[u8; 32]> =
        v.get("signer_seed").map(|s| unhex(s).try_into().expect("32-byte seed"));
    let (valid, reencoded) = match v["type"].as_str().expect("type") {
        "checkpoint" => {
            let s: Signed<dualrec_proof::Checkpoint> = decode_exact(&bytes).expect("decodes");
            assert_eq!(h(&s.hash().0), v["expect"]["checkpoint_hash"]);
            if let (Some(seed), true) = (seed, want_valid) {
                assert_eq!(s.body.sign(&Identity::from_seed(&seed)), s, "signature reproducible");
            }
            (s.verify(), encode(&s))
        }
        "gap" => {
            let s: Signed<dualrec_proof::CaptureGap> = decode_exact(&bytes).expect("decodes");
            if let (Some(seed), true) = (seed, want_valid) {
                assert_eq!(s.body.sign(&Identity::from_seed(&seed)), s, "signature reproducible");
            }
            (s.verify(), encode(&s))
        }
        "receipt" => {
            let s: Signed<dualrec_proof::Receipt> = decode_exact(&bytes).expect("decodes");
            if let (Some(seed), true) = (seed, want_valid) {
                assert_eq!(s.body.sign(&Identity::from_seed(&seed)), s, "signature reproducible");
            }
            (s.verify(), encode(&s))
        }
        "start" => {
            let s: CoSigned<StartRecord> = decode_exact(&bytes).expect("decodes");
            let r = s.verify();
            if let Some(err) = v["expect"].get("error") {
                assert_eq!(
                    r.as_ref().err().map(|e| e.to_string()),
                    Some(err.as_str().expect("s").to_owned())
                );
            }
            (r.is_ok(), encode(&s))
        }
        "end" => {
            let s: CoSigned<EndRecord> = decode_exact(&bytes).expect("decodes");
            let start: CoSigned<StartRecord> =
                decode_exact(&unhex(&v["start_record"])).expect("start");
            let r = s.verify(&start.record);
            if let Some(err) = v["expect"].get("error") {
                assert_eq!(
                    r.as_ref().err().map(|e| e.to_string()),
                    Some(err.as_str().expect("s").to_owned())
                );
            }
            if let Some(sided) = v["expect"].get("one_sided") {
                assert_eq!(sided.as_bool(), Some(s.signatures.len() < start.record.parties.len()));
            }
            (r.is_ok(), encode(&s))
        }
        t => panic!("unknown signed type {t}"),
    };
    assert_eq!(reencoded, bytes, "canonical: re-encoding gives the same bytes");
    assert_eq!(valid, want_valid);
}

fn check_decode(v: &Value) {
    let r = decode_exact::<LogRecord>(&unhex(&v["bytes"]));
    match v["expect"]["error"].as_str() {
        None => assert!(r.is_ok(), "{r:?}"),
        Some(kind) => {
            let got = match r {
                Err(DecodeError::TrailingBytes { .. }) => "trailing_bytes",
                Err(DecodeError::Malformed { .. }) => "malformed",
                Err(DecodeError::TooLarge { .. }) => "too_large",
                Err(e) => panic!("unexpected error {e}"),
                Ok(_) => "ok",
            };
            assert_eq!(got, kind);
        }
    }
}

fn check_log(v: &Value) {
    let r = read_log(&unhex(&v["file"]));
    let e = &v["expect"];
    match (r, e.get("error")) {
        (Ok(c), None) => {
            assert_eq!(c.entries.len() as u64, e["records"].as_u64().expect("records"));
            let torn = c
                .torn_tail
                .map(|t| json!({"record": t.record, "offset": t.offset, "bytes": t.bytes}));
            assert_eq!(torn.unwrap_or(Value::Null), e["torn_tail"]);
        }
        (Err(err), Some(want)) => {
            let got = match err {
                LogError::Corrupt { record, offset, .. } => {
                    json!({"kind": "corrupt", "record": record, "offset": offset})
                }
                LogError::Malformed { record, offset, .. } => {
                    json!({"kind": "malformed", "record": record, "offset": offset})
                }
                LogError::BadMagic => json!({"kind": "bad_magic"}),
                LogError::Version(_) => json!({"kind": "version"}),
                other => panic!("unexpected error {other}"),
            };
            assert_eq!(&got, want);
        }
        (r, want) => panic!("got {r:?}, expected {want:?}"),
    }
}

fn check_fingerprint(v: &Value) {
    let key = PublicKey(unhex(&v["key"]).try_into().expect("32 bytes"));
    assert_eq!(key.fingerprint().to_string(), v["expect"]["fingerprint"]);
}

fn verify_outcome(v: &Value) -> Value {
    let packets: Vec<Packet> = v["packets"]
        .as_array()
        .expect("packets")
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let position = v.get("positions").and_then(|x| x[k].as_u64()).unwrap_or(k as u64 * 960);
            Packet { position, data: unhex(p) }
        })
        .collect();
    let damaged: Vec<Damage> = v
        .get("damaged")
        .and_then(Value::as_array)
        .map(|ds| {
            ds.iter()
                .map(|d| Damage {
                    first_sample: d["first_sample"].as_u64().expect("first_sample"),
                    samples: d["samples"].as_u64().expect("samples"),
                    offset: d["offset"].as_u64().expect("offset"),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut verifier = Verifier::new(VerifyOptions {
        excerpt: v["excerpt"].as_bool().unwrap_or(false),
        ..VerifyOptions::default()
    });
    let place = v["excerpt"].as_object().map(|x| {
        let list = |key: &str| -> Vec<OmittedPacket> {
            x[key]
                .as_array()
                .expect("list")
                .iter()
                .map(|e| OmittedPacket {
                    samples: e[0].as_u64().expect("samples") as u32,
                    hash: dualrec_proof::Digest(unhex(&e[1]).try_into().expect("32 bytes")),
                })
                .collect()
        };
        ExcerptPlace {
            first_packet: x["first_packet"].as_u64().expect("first_packet"),
            first_sample: x["first_sample"].as_u64().expect("first_sample"),
            head: list("head"),
            tail: list("tail"),
        }
    });
    for (i, l) in v["logs"].as_array().expect("logs").iter().enumerate() {
        verifier.add_log(format!("log{i}"), read_log(&unhex(l)).expect("log"));
    }
    let playback = v.get("playback").filter(|p| !p.is_null()).map(|p| Playback {
        channels: p["channels"].as_u64().expect("channels") as u8,
        pre_skip: p["pre_skip"].as_u64().expect("pre_skip") as u16,
        output_gain: p["output_gain"].as_i64().expect("output_gain") as i16,
        final_granule: p["final_granule"].as_u64(),
        audio_end: p["audio_end"].as_u64().expect("audio_end"),
    });
    let file_sha256 = v
        .get("file_sha256")
        .filter(|x| !x.is_null())
        .map(|x| dualrec_proof::Digest(unhex(x).try_into().expect("32 bytes")));
    let rec = Recording {
        packets: &packets,
        producer: PublicKey(unhex(&v["producer"]).try_into().expect("key")),
        session: Some(SessionId(unhex(&v["session"]).try_into().expect("id"))),
        file_sha256,
        playback,
        damaged: &damaged,
        excerpt: place.as_ref(),
    };
    let report = serde_json::to_value(verifier.verify(&rec).expect("report")).expect("json");
    let statuses: Vec<Value> =
        report["chunks"].as_array().expect("chunks").iter().map(|c| c["status"].clone()).collect();
    let regions: Vec<Value> = report["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let o = r.as_object_mut().expect("region");
            o.remove("start_sample");
            o.remove("end_sample");
            r
        })
        .collect();
    let mut findings: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().expect("kind").to_owned())
        .collect();
    findings.sort();
    let axes = &report["axes"];
    json!({
        "verdict": report["verdict"],
        "integrity": axes["integrity"]["state"],
        "witnessing": axes["witnessing"]["state"],
        "completeness": axes["completeness"]["state"],
        "statuses": statuses,
        "regions": regions,
        "findings": findings,
    })
}

fn check_verify(v: &Value) {
    assert_eq!(verify_outcome(v), v["expect"]);
}

/// A vector is a failure case when it expects a rejection, an error or problems.
fn is_failure(v: &Value) -> bool {
    let e = &v["expect"];
    e.get("error").is_some()
        || e.get("valid") == Some(&json!(false))
        || e.get("verdict") == Some(&json!("problems"))
        || e.get("torn_tail").is_some_and(|t| !t.is_null())
}

#[test]
fn every_vector_file_checks_out() {
    if std::env::var_os("DUALREC_WRITE_VECTORS").is_some() {
        write_all();
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("proto/vectors exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "only {} vector files", files.len());
    let mut failures = 0;
    for f in &files {
        let v: Value = serde_json::from_slice(&std::fs::read(f).expect("read")).expect("json");
        assert!(v["description"].is_string(), "{} has no description", f.display());
        let run = std::panic::catch_unwind(|| match v["kind"].as_str().expect("kind") {
            "chain" => check_chain(&v),
            "signed" => check_signed(&v),
            "decode" => check_decode(&v),
            "log" => check_log(&v),
            "verify" => check_verify(&v),
            // The live stream's compact forms belong to dualrec-net, whose tests/exchange.rs
            // checks these files (this crate does not depend on it).
            "live" => assert!(v["frames"].is_array(), "a live vector has frames"),
            "fingerprint" => check_fingerprint(&v),
            // The pairing code belongs to dualrec-protocol, whose tests/pairing.rs checks these.
            "pairing" => assert!(v["expect"].is_object(), "a pairing vector has answers"),
            k => panic!("unknown kind {k}"),
        });
        assert!(run.is_ok(), "vector {} failed", f.display());
        failures += usize::from(is_failure(&v));
    }
    assert!(failures * 2 >= files.len(), "{failures} of {} vectors are failure cases", files.len());
}

// ---------------------------------------------------------------- generating

fn write(name: &str, description: &str, kind: &str, mut body: Value) {
    body["name"] = json!(name);
    body["description"] = json!(description);
    body["kind"] = json!(kind);
    let sorted: BTreeMap<String, Value> = serde_json::from_value(body).expect("object");
    let text = serde_json::to_string_pretty(&sorted).expect("json") + "\n";
    std::fs::write(dir().join(format!("{name}.json")), text).expect("write vector");
}

fn small_sim(seed: u8) -> SimSession {
    simulate(&SimConfig { chunks: 6, packet_bytes: 6, seed, ..SimConfig::default() })
}

fn seed_of(seed: u8, index: u8) -> String {
    h(&sim_identity(seed, index).seed()[..])
}

fn signed_vector(name: &str, description: &str, ty: &str, encoding: Vec<u8>, extra: Value) {
    let mut body = json!({"type": ty, "encoding": h(&encoding)});
    for (k, val) in extra.as_object().expect("object") {
        body[k] = val.clone();
    }
    // Fill in the expectation from the implementation; the file then pins it.
    let probe = {
        let mut b = body.clone();
        b["expect"] = json!({});
        b
    };
    let bytes = unhex(&probe["encoding"]);
    let mut expect = json!({});
    match ty {
        "checkpoint" => {
            let s: Signed<dualrec_proof::Checkpoint> = decode_exact(&bytes).expect("decodes");
            expect["valid"] = json!(s.verify());
            expect["checkpoint_hash"] = json!(h(&s.hash().0));
        }
        "receipt" => {
            let s: Signed<dualrec_proof::Receipt> = decode_exact(&bytes).expect("decodes");
            expect["valid"] = json!(s.verify());
        }
        "gap" => {
            let s: Signed<dualrec_proof::CaptureGap> = decode_exact(&bytes).expect("decodes");
            expect["valid"] = json!(s.verify());
        }
        "start" => {
            let s: CoSigned<StartRecord> = decode_exact(&bytes).expect("decodes");
            expect["valid"] = json!(s.verify().is_ok());
            if let Err(e) = s.verify() {
                expect["error"] = json!(e.to_string());
            }
        }
        "end" => {
            let s: CoSigned<EndRecord> = decode_exact(&bytes).expect("decodes");
            let start: CoSigned<StartRecord> =
                decode_exact(&unhex(&body["start_record"])).expect("start");
            let r = s.verify(&start.record);
            expect["valid"] = json!(r.is_ok());
            if let Err(e) = r {
                expect["error"] = json!(e.to_string());
            }
            expect["one_sided"] = json!(s.signatures.len() < start.record.parties.len());
        }
        _ => unreachable!(),
    }
    body["expect"] = expect;
    write(name, description, "signed", body);
}

fn verify_vector(
    name: &str,
    description: &str,
    sim: &SimSession,
    packets: &[Packet],
    logs: &[Vec<LogRecord>],
    excerpt: bool,
) {
    verify_vector_with(name, description, sim, packets, logs, excerpt, json!({}));
}

fn verify_vector_with(
    name: &str,
    description: &str,
    sim: &SimSession,
    packets: &[Packet],
    logs: &[Vec<LogRecord>],
    excerpt: bool,
    extra: Value,
) {
    let mut body = json!({
        "producer": h(&sim.identities[0].public().0),
        "session": h(&sim.start.record.session.0),
        "packets": packets.iter().map(|p| h(&p.data)).collect::<Vec<_>>(),
        "logs": logs.iter().map(|l| h(&log_bytes(l))).collect::<Vec<_>>(),
        "excerpt": extra.get("excerpt").cloned().unwrap_or(json!(excerpt)),
        "playback": extra.get("playback").cloned().unwrap_or(Value::Null),
        "file_sha256": extra.get("file_sha256").cloned().unwrap_or(Value::Null),
    });
    for key in ["positions", "damaged"] {
        if let Some(x) = extra.get(key) {
            body[key] = x.clone();
        }
    }
    body["expect"] = verify_outcome(&body);
    write(name, description, "verify", body);
}

fn write_all() {
    std::fs::create_dir_all(dir()).expect("mkdir");
    for old in std::fs::read_dir(dir()).expect("dir") {
        let p = old.expect("entry").path();
        // `live` vectors are written by dualrec-net's tests, not here.
        let ours = std::fs::read_to_string(&p).is_ok_and(|t| !t.contains("\"kind\": \"live\""));
        if p.extension().is_some_and(|x| x == "json") && ours {
            std::fs::remove_file(p).expect("rm");
        }
    }
    let sim = small_sim(1);
    let start_enc = encode(&sim.start);

    // chain
    let chunks: Vec<Vec<Vec<u8>>> = sim.recordings[0]
        .chunks(50)
        .take(2)
        .map(|c| c.iter().map(|p| p.data.clone()).collect())
        .collect();
    let mut c = ChainState::genesis(&sim.start.record, &sim.identities[0].public());
    let genesis = c;
    let mut expect_chunks = Vec::new();
    for chunk in &chunks {
        let hashes: Vec<_> = chunk.iter().map(|p| packet_hash(p)).collect();
        let d = chunk_digest(&hashes);
        c = ChainState::step(&c, &d);
        expect_chunks.push(json!({"packet_hashes": hashes.iter().map(|x| h(&x.0)).collect::<Vec<_>>(), "digest": h(&d.0), "chain": h(&c.0)}));
    }
    write(
        "chain-two-chunks",
        "start hash, genesis, packet hashes, chunk digests and chain values for the first two chunks of party 0",
        "chain",
        json!({
            "start_record": h(&encode(&sim.start.record)),
            "producer": h(&sim.identities[0].public().0),
            "packets": chunks.iter().map(|c| c.iter().map(|p| h(p)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "expect": {"start_hash": h(&sim.start.record.hash().0), "genesis": h(&genesis.0), "chunks": expect_chunks},
        }),
    );

    // signed: checkpoints and receipts
    let cps = sim.own_checkpoints(0);
    signed_vector(
        "checkpoint-valid",
        "a checkpoint signed by its producer",
        "checkpoint",
        encode(&cps[2]),
        json!({"signer_seed": seed_of(1, 0)}),
    );
    let mut bad = cps[2];
    bad.signature.0[63] ^= 0x01;
    signed_vector(
        "checkpoint-bad-signature",
        "one bit of S flipped",
        "checkpoint",
        encode(&bad),
        json!({}),
    );
    let gap = dualrec_proof::CaptureGap {
        session: sim.start.record.session,
        first_sample: 3 * 48_000 + 960,
        samples: 19_200,
        time: dualrec_proof::Timestamp { wall_ms: 1_790_071_203_500, mono_ms: 3_500 },
    }
    .sign(&sim.identities[0]);
    signed_vector(
        "gap-valid",
        "a capture gap (400 ms of input lost at 00:03.02) signed by the producer",
        "gap",
        encode(&gap),
        json!({"signer_seed": seed_of(1, 0)}),
    );
    let mut moved = gap;
    moved.body.first_sample += 960;
    signed_vector(
        "gap-moved",
        "the same gap claimed 20 ms later: the signature no longer covers it",
        "gap",
        encode(&moved),
        json!({}),
    );
    let mut swapped = cps[2];
    swapped.signer = sim.identities[1].public();
    signed_vector(
        "checkpoint-wrong-signer",
        "valid signature, but the signer field names the other party",
        "checkpoint",
        encode(&swapped),
        json!({}),
    );
    let mut edited = cps[2];
    edited.body.index = 3;
    signed_vector(
        "checkpoint-edited-index",
        "index changed after signing",
        "checkpoint",
        encode(&edited),
        json!({}),
    );
    let mut noncanon = cps[2];
    // S + l: same value mod l, not canonical.
    let l: [u8; 32] =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .expect("l")
            .try_into()
            .expect("32");
    let mut carry = 0u16;
    for (s_byte, l_byte) in noncanon.signature.0[32..].iter_mut().zip(l) {
        let s = u16::from(*s_byte) + u16::from(l_byte) + carry;
        *s_byte = s as u8;
        carry = s >> 8;
    }
    signed_vector(
        "checkpoint-non-canonical-s",
        "S replaced by S + l (same value mod l): rejected, S must be < l",
        "checkpoint",
        encode(&noncanon),
        json!({}),
    );
    let mut small = cps[2];
    small.signer = PublicKey([0; 32]);
    small.signer.0[0] = 1; // the identity point, of small order
    signed_vector(
        "checkpoint-small-order-key",
        "signer is the identity point (small order)",
        "checkpoint",
        encode(&small),
        json!({}),
    );

    let receipt = cps[2].receipt(
        &sim.identities[1],
        dualrec_proof::Timestamp { wall_ms: 1_790_071_203_004, mono_ms: 3004 },
    );
    signed_vector(
        "receipt-valid",
        "party 1's receipt for party 0's checkpoint 2",
        "receipt",
        encode(&receipt),
        json!({"signer_seed": seed_of(1, 1)}),
    );
    let mut late = receipt;
    late.body.time.wall_ms -= 5_000;
    signed_vector(
        "receipt-edited-time",
        "receipt time moved 5 s earlier after signing",
        "receipt",
        encode(&late),
        json!({}),
    );

    // signed: start and end
    signed_vector(
        "start-valid",
        "start record co-signed by both parties",
        "start",
        start_enc.clone(),
        json!({}),
    );
    let mut one = sim.start.clone();
    one.signatures.truncate(1);
    signed_vector(
        "start-missing-signature",
        "only the first party signed",
        "start",
        encode(&one),
        json!({}),
    );
    let mut order = sim.start.clone();
    order.signatures.swap(0, 1);
    signed_vector(
        "start-signers-out-of-order",
        "both signed, signatures not in party order",
        "start",
        encode(&order),
        json!({}),
    );
    let mut solo = sim.start.clone();
    solo.record.parties.truncate(1);
    solo.signatures = vec![solo.record.sign(&sim.identities[0])];
    signed_vector("start-one-party", "a session of one party", "start", encode(&solo), json!({}));
    let mut long = sim.start.clone();
    long.record.parties[1].name = "x".repeat(65);
    long.signatures = sim.identities.iter().map(|id| long.record.sign(id)).collect();
    signed_vector(
        "start-name-too-long",
        "a 65-byte display name",
        "start",
        encode(&long),
        json!({}),
    );

    let Some(LogRecord::End(end)) = sim.logs[0].last().cloned() else { panic!("end") };
    signed_vector(
        "end-valid",
        "end record signed by both parties",
        "end",
        encode(&end),
        json!({"start_record": h(&start_enc)}),
    );
    let mut onesided = end.clone();
    onesided.signatures.truncate(1);
    signed_vector(
        "end-one-sided",
        "end record signed by party 0 alone (peer gone): valid, one-sided",
        "end",
        encode(&onesided),
        json!({"start_record": h(&start_enc)}),
    );
    let mut outsider = end.clone();
    outsider.signatures.push(end.record.sign(&sim_identity(99, 9)));
    signed_vector(
        "end-non-party-signer",
        "a third signature by a key that is not a party",
        "end",
        encode(&outsider),
        json!({"start_record": h(&start_enc)}),
    );

    // decode failures
    let rec = LogRecord::Receipt(receipt).to_bytes();
    let mut trailing = rec.clone();
    trailing.push(0);
    let decode = |name: &str, d: &str, bytes: Vec<u8>, err: Option<&str>| {
        write(
            name,
            d,
            "decode",
            json!({"type": "log_record", "bytes": h(&bytes), "expect": match err { Some(e) => json!({"error": e}), None => json!({"ok": true}) }}),
        );
    };
    decode("decode-receipt-ok", "a receipt log record", rec.clone(), None);
    decode(
        "decode-trailing-byte",
        "a receipt record followed by one zero byte",
        trailing,
        Some("trailing_bytes"),
    );
    let mut variant = rec.clone();
    variant[0] = 5;
    decode(
        "decode-unknown-record-type",
        "record type 5 does not exist",
        variant,
        Some("malformed"),
    );
    decode(
        "decode-truncated",
        "a receipt record missing its last byte",
        rec[..rec.len() - 1].to_vec(),
        Some("malformed"),
    );
    decode(
        "decode-too-large",
        "65537 bytes, over the per-object limit",
        vec![0; 65_537],
        Some("too_large"),
    );
    let mut optag = LogRecord::End(end.clone()).to_bytes();
    // finals[0].recording_sha256 tag: find the first PartyFinal's option byte.
    let tag_at = 4 + 16 + 32 + 4 + 8 + 8 + 32 + 8 + 32;
    assert_eq!(optag[tag_at], 0);
    optag[tag_at] = 2;
    decode(
        "decode-bad-option-tag",
        "an option tag of 2 in an end record",
        optag,
        Some("malformed"),
    );
    let mut utf = LogRecord::Start(sim.start.clone()).to_bytes();
    let name_at = 4 + 2 + 16 + 8 + 32 + 8;
    utf[name_at] = 0xff;
    decode("decode-invalid-utf8-name", "a party name that is not UTF-8", utf, Some("malformed"));

    // logs
    let log = log_bytes(&sim.logs[0][..5]);
    let logv = |name: &str, d: &str, file: &[u8]| {
        let mut body = json!({"file": h(file)});
        body["expect"] = match read_log(file) {
            Ok(c) => {
                json!({"records": c.entries.len(), "torn_tail": c.torn_tail.map(|t| json!({"record": t.record, "offset": t.offset, "bytes": t.bytes}))})
            }
            Err(LogError::Corrupt { record, offset, .. }) => {
                json!({"error": {"kind": "corrupt", "record": record, "offset": offset}})
            }
            Err(LogError::Malformed { record, offset, .. }) => {
                json!({"error": {"kind": "malformed", "record": record, "offset": offset}})
            }
            Err(LogError::BadMagic) => json!({"error": {"kind": "bad_magic"}}),
            Err(LogError::Version(_)) => json!({"error": {"kind": "version"}}),
            Err(e) => panic!("{e}"),
        };
        write(name, d, "log", body);
    };
    logv("log-valid", "header, start record, two checkpoints, two receipts", &log);
    logv(
        "log-torn-tail",
        "the last frame cut 10 bytes short: torn tail, 4 records readable",
        &log[..log.len() - 10],
    );
    let mut zeros = log.clone();
    zeros.extend_from_slice(&[0; 300]);
    logv(
        "log-zero-tail",
        "300 zero bytes after the last frame (allocated, never written): torn tail",
        &zeros,
    );
    let mut crc = log.clone();
    crc[16 + 8 + 20] ^= 0x04;
    logv(
        "log-corrupt-record",
        "a byte changed inside record 0, checksum not fixed, more records follow",
        &crc,
    );
    let mut zero_len = log.clone();
    let first_len = u32::from_le_bytes(zero_len[16..20].try_into().expect("4")) as usize;
    let second = 16 + 8 + first_len;
    zero_len[second..second + 4].copy_from_slice(&0u32.to_le_bytes());
    logv("log-zero-length-frame", "record 1's length field is 0", &zero_len);
    let mut malformed = log_bytes(&sim.logs[0][..1]);
    let junk = [9u8, 0, 0, 0, 1, 2, 3];
    malformed.extend_from_slice(&(junk.len() as u32).to_le_bytes());
    malformed.extend_from_slice(&crc32fast::hash(&junk).to_le_bytes());
    malformed.extend_from_slice(&junk);
    malformed.extend_from_slice(&log[16..]);
    logv("log-malformed-record", "record 1 has a valid checksum but is not a record", &malformed);
    logv(
        "log-bad-magic",
        "an Ogg file is not a log",
        b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    );
    logv("log-version-2", "a log of a future version", b"DUALRECL\x02\x00\x00\x00\x00\x00\x00\x00");
    let mut reserved = log.clone();
    reserved[12] = 1;
    logv(
        "log-reserved-byte",
        "a reserved header byte is not zero: corrupt at record 0, offset 10",
        &reserved,
    );
    identity_vectors(&sim);

    // verify
    let p = &sim.recordings[0];
    verify_vector(
        "verify-intact",
        "party 0's recording against party 1's log: every chunk witnessed live",
        &sim,
        p,
        &[sim.logs[1].clone()],
        false,
    );
    let mut flipped = p.clone();
    flipped[2 * 50 + 7].data[0] ^= 0x80;
    verify_vector(
        "verify-flipped-byte",
        "one byte changed in chunk 2: chunk 2 altered, the rest live",
        &sim,
        &flipped,
        &[sim.logs[1].clone()],
        false,
    );
    let mut removed = p.clone();
    removed.drain(50..100);
    verify_vector(
        "verify-removed-chunk",
        "chunk 1 cut out: missing, the rest resynchronised and live",
        &sim,
        &removed,
        &[sim.logs[1].clone()],
        false,
    );
    let mut inserted = p.clone();
    let other = small_sim(2);
    inserted.splice(150..150, other.recordings[0][..20].iter().cloned());
    verify_vector(
        "verify-inserted",
        "20 packets of another session inserted before chunk 3",
        &sim,
        &inserted,
        &[sim.logs[1].clone()],
        false,
    );
    let mut swapped = p.clone();
    let (a, b) = swapped.split_at_mut(150);
    a[100..].swap_with_slice(&mut b[..50]);
    verify_vector(
        "verify-swapped",
        "chunks 2 and 3 swapped: chunk 2 reordered",
        &sim,
        &swapped,
        &[sim.logs[1].clone()],
        false,
    );
    let mut replay = sim.logs[1].clone();
    replay.insert(3, other.logs[0][1].clone());
    verify_vector(
        "verify-replayed-checkpoint",
        "a checkpoint of another session inserted in the log: reported, ignored",
        &sim,
        p,
        &[replay],
        false,
    );
    let no_receipts: Vec<LogRecord> =
        sim.logs[0].iter().filter(|r| !matches!(r, LogRecord::Receipt(_))).cloned().collect();
    verify_vector(
        "verify-signed-only",
        "producer's own log with the receipts removed: signed only",
        &sim,
        p,
        &[no_receipts],
        false,
    );
    verify_vector(
        "verify-excerpt",
        "chunks 2..=4 alone, in excerpt mode",
        &sim,
        &p[100..250],
        &[sim.logs[1].clone()],
        true,
    );
    more_verify_vectors(&sim);
    excerpt_vectors(&sim);
}

/// An excerpt's place as a vector gives it (SPEC §10).
fn place_json(place: &ExcerptPlace) -> Value {
    let list = |l: &[OmittedPacket]| -> Vec<Value> {
        l.iter().map(|o| json!([o.samples, h(&o.hash.0)])).collect()
    };
    json!({
        "first_packet": place.first_packet,
        "first_sample": place.first_sample,
        "head": list(&place.head),
        "tail": list(&place.tail),
    })
}

/// SPEC §9.5 excerpt mode and §11.5: excerpts cut at and inside chunk boundaries, and
/// excerpts a dishonest party edited or placed elsewhere.
fn excerpt_vectors(sim: &SimSession) {
    let p = &sim.recordings[0];
    let chunks: Vec<std::ops::Range<usize>> = (0..6).map(|c| c * 50..c * 50 + 50).collect();
    let place = |keep: std::ops::Range<usize>| ExcerptPlace::cut(p, &chunks, keep, |_| 960);
    let logs = [sim.logs[1].clone()];
    let local = |packets: &[Packet]| -> Vec<Packet> {
        packets
            .iter()
            .enumerate()
            .map(|(k, x)| Packet { position: k as u64 * 960, data: x.data.clone() })
            .collect()
    };
    let placed = |name: &str, description: &str, packets: &[Packet], place: &ExcerptPlace| {
        let extra = json!({"excerpt": place_json(place)});
        verify_vector_with(name, description, sim, &local(packets), &logs, true, extra);
    };
    placed(
        "verify-excerpt-placed",
        "chunks 2..=4 with their place: intact",
        &p[100..250],
        &place(100..250),
    );
    placed(
        "verify-excerpt-inside-seconds",
        "packets 120..230, cut inside chunks 2 and 4, with the omitted packets' hashes: intact",
        &p[120..230],
        &place(120..230),
    );
    placed(
        "verify-excerpt-inside-one-second",
        "packets 160..170, inside chunk 3 alone: intact",
        &p[160..170],
        &place(160..170),
    );
    placed(
        "verify-excerpt-start",
        "packets 0..30, from the recording's start: intact",
        &p[..30],
        &place(0..30),
    );
    placed(
        "verify-excerpt-end",
        "packets 280..300, to the recording's end: intact",
        &p[280..],
        &place(280..300),
    );
    let mut wrong = place(120..230);
    wrong.head.rotate_left(1);
    placed(
        "verify-excerpt-wrong-head",
        "packets 120..230 whose HEAD hashes are out of order: chunk 2 outside, its part an edge",
        &p[120..230],
        &wrong,
    );
    verify_vector(
        "verify-excerpt-unplaced-cut",
        "packets 120..230 without a place, in excerpt mode: both partial chunks are edges",
        sim,
        &local(&p[120..230]),
        &logs,
        true,
    );
    let mut changed = p[120..230].to_vec();
    changed[55].data[1] ^= 1;
    placed(
        "verify-excerpt-packet-changed",
        "packet 175 of the recording changed: chunk 3 altered",
        &changed,
        &place(120..230),
    );
    let mut shifted = place(100..250);
    shifted.first_packet += 50;
    shifted.first_sample += 48_000;
    placed(
        "verify-excerpt-misplaced",
        "chunks 2..=4 whose place claims chunks 3..=5: excerpt_misplaced",
        &p[100..250],
        &shifted,
    );
    let mut later = place(100..250);
    later.first_sample += 960;
    placed(
        "verify-excerpt-misplaced-sample",
        "chunks 2..=4 whose place is 20 ms late: excerpt_misplaced",
        &p[100..250],
        &later,
    );
    let other = small_sim(2);
    let mut lead = other.recordings[0][..60].to_vec();
    lead.extend_from_slice(&p[100..250]);
    verify_vector(
        "verify-excerpt-foreign-lead",
        "60 packets of another recording before chunks 2..=4, in excerpt mode: inserted",
        sim,
        &local(&lead),
        &logs,
        true,
    );
    let mut short_lead = other.recordings[0][..10].to_vec();
    short_lead.extend_from_slice(&p[100..250]);
    placed(
        "verify-excerpt-foreign-edge",
        "10 packets of another recording before chunks 2..=4, placed as if the recording's: an edge",
        &short_lead,
        &ExcerptPlace { first_packet: 90, first_sample: 90 * 960, ..ExcerptPlace::default() },
    );
    let mut swapped = p[100..250].to_vec();
    let (a, b) = swapped.split_at_mut(100);
    a[50..].swap_with_slice(&mut b[..50]);
    placed(
        "verify-excerpt-swapped",
        "chunks 3 and 4 swapped inside the excerpt: moved",
        &swapped,
        &place(100..250),
    );
}

/// SPEC §4.2 and §13: fingerprints and the pairing code, from the tags alone.
fn identity_vectors(sim: &SimSession) {
    for (i, id) in sim.identities.iter().enumerate() {
        write(
            &format!("fingerprint-{i}"),
            "the display fingerprint of a key (SPEC §4.2)",
            "fingerprint",
            json!({"key": h(&id.public().0), "expect": {"fingerprint": id.public().fingerprint().to_string()}}),
        );
    }
    let (ki, kr) = (sim.identities[0].public(), sim.identities[1].public());
    let (ni, nr) = ([0x11u8; 32], [0x22u8; 32]);
    let commitment = dualrec_proof::tagged_hash("dualrec/pair-commit/v1", &[&ki.0, &ni]);
    let d = dualrec_proof::tagged_hash("dualrec/pair-code/v1", &[&ki.0, &kr.0, &ni, &nr]);
    let code = u32::from_le_bytes([d.0[0], d.0[1], d.0[2], d.0[3]]) % 1_000_000;
    let body = |reveal: [u8; 32], expect: Value| {
        json!({
            "initiator": h(&ki.0), "responder": h(&kr.0),
            "initiator_nonce": h(&ni), "responder_nonce": h(&nr),
            "revealed_nonce": h(&reveal), "expect": expect,
        })
    };
    let shown = format!("{:03} {:03}", code / 1000, code % 1000);
    write(
        "pairing-code",
        "the commitment, and the code both screens show (SPEC §13)",
        "pairing",
        body(ni, json!({"commitment": h(&commitment.0), "code": shown})),
    );
    write(
        "pairing-bad-reveal",
        "the initiator reveals a nonce other than the one it committed to: refused",
        "pairing",
        body([0x12; 32], json!({"commitment": h(&commitment.0), "error": "reveal_mismatch"})),
    );
}

/// The rules of SPEC §9 one by one, most of them failures (issue #9).
fn more_verify_vectors(sim: &SimSession) {
    let p = &sim.recordings[0];
    let me = sim.identities[0].public();
    let peer = sim.identities[1].public();
    let own = sim.own_checkpoints(0);
    let w = &sim.logs[1];
    let drop = |log: &[LogRecord], f: &dyn Fn(&LogRecord) -> bool| -> Vec<LogRecord> {
        log.iter().filter(|r| !f(r)).cloned().collect()
    };
    let mut eq = w.clone();
    let mut body = own[3].body;
    body.digest.0[0] ^= 1;
    eq.push(LogRecord::Checkpoint(body.sign(&sim.identities[0])));
    verify_vector(
        "verify-equivocation",
        "a second checkpoint for chunk 3 signed by the producer: equivocation; the witnessed version is used",
        sim,
        p,
        &[eq],
        false,
    );
    let mut broken =
        drop(w, &|r| matches!(r, LogRecord::Checkpoint(c) if c.signer == me && c.body.index == 4));
    let mut b4 = own[4].body;
    b4.chain.0[0] ^= 1;
    broken.push(LogRecord::Checkpoint(b4.sign(&sim.identities[0])));
    verify_vector(
        "verify-chain-broken",
        "checkpoint 4 re-signed with a chain value that does not follow: chain_broken",
        sim,
        p,
        &[broken],
        false,
    );
    let gap = drop(
        w,
        &|r| matches!(r, LogRecord::Checkpoint(c) if c.signer == me && (2..4).contains(&c.body.index)),
    );
    verify_vector(
        "verify-evidence-gap-proven",
        "checkpoints 2 and 3 withheld: the chain from 1 to 4 through the audio proves them",
        sim,
        p,
        std::slice::from_ref(&gap),
        false,
    );
    let mut edited = p.clone();
    edited[2 * 50].data[0] ^= 1;
    verify_vector(
        "verify-evidence-gap-not-covered",
        "checkpoints 2 and 3 withheld and the audio there changed: not covered, not inserted",
        sim,
        &edited,
        &[gap],
        false,
    );
    let hashes: Vec<_> = own.iter().map(|c| c.hash()).collect();
    let withheld = drop(
        w,
        &|r| matches!(r, LogRecord::Receipt(x) if hashes[1..4].contains(&x.body.checkpoint)),
    );
    verify_vector(
        "verify-withheld-receipts",
        "the witness's receipts for chunks 1..=3 withheld: witnessed through the chain by receipt 4",
        sim,
        p,
        &[withheld],
        false,
    );
    let late_sim = simulate(&SimConfig {
        chunks: 6,
        packet_bytes: 6,
        seed: 1,
        outage: Some(1..4),
        ..SimConfig::default()
    });
    verify_vector(
        "verify-witnessed-late",
        "link down for chunks 1..=3, their receipts come at 4.5 s: 2.5 s after chunk 1's audio ended, within the 10 s threshold: live",
        &late_sim,
        &late_sim.recordings[0],
        &[late_sim.logs[1].clone()],
        false,
    );
    let very_late = simulate(&SimConfig {
        chunks: 20,
        packet_bytes: 6,
        seed: 1,
        outage: Some(2..16),
        ..SimConfig::default()
    });
    verify_vector(
        "verify-witnessed-late-outage",
        "link down for chunks 2..=15: the earliest are receipted more than 10 s after their audio ended",
        &very_late,
        &very_late.recordings[0],
        &[very_late.logs[1].clone()],
        false,
    );
    // SPEC §12.6: the witness's log holds the end before the last seconds, which it
    // witnessed (late) when the two devices next met.
    let mut finished_later = very_late.logs[1].clone();
    if let Some(LogRecord::End(end)) = finished_later.pop() {
        let at = finished_later
            .iter()
            .position(|r| matches!(r, LogRecord::Checkpoint(c) if c.body.index == 17))
            .unwrap_or(finished_later.len());
        finished_later.insert(at, LogRecord::End(end));
    }
    verify_vector(
        "verify-finished-at-next-meeting",
        "the witness's log holds the end before the checkpoints and receipts of chunks 17..=19: records after an end count like any others (SPEC §12.6)",
        &very_late,
        &very_late.recordings[0],
        &[finished_later],
        false,
    );
    let skew = simulate(&SimConfig {
        chunks: 6,
        packet_bytes: 6,
        seed: 1,
        clock_skew_ms: -3_600_000,
        ..SimConfig::default()
    });
    verify_vector(
        "verify-clock-offset",
        "the witness's wall clock is an hour behind: witnessing is measured on its session clock and is unaffected",
        &skew,
        &skew.recordings[0],
        &skew.logs,
        false,
    );
    let mut forged = sim.logs[0].clone();
    for cp in &own {
        let mut r =
            cp.receipt(&sim.identities[0], dualrec_proof::Timestamp { wall_ms: 0, mono_ms: 0 });
        forged.push(LogRecord::Receipt(r));
        r.signer = peer;
        forged.push(LogRecord::Receipt(r));
    }
    let forged =
        drop(&forged, &|r| matches!(r, LogRecord::Receipt(x) if x.signer == peer && x.verify()));
    verify_vector(
        "verify-forged-liveness",
        "the producer's own log with the witness's receipts replaced by receipts the producer signed (and one forged in the witness's name): signed only",
        sim,
        p,
        &[forged],
        false,
    );
    let mut impossible = w.clone();
    impossible.push(LogRecord::Receipt(
        own[5].receipt(&sim.identities[1], dualrec_proof::Timestamp { wall_ms: 0, mono_ms: 5 }),
    ));
    verify_vector(
        "verify-impossible-receipt",
        "the witness signs a receipt for chunk 5 dated before its audio ended: impossible_receipt_time, named, not used",
        sim,
        p,
        &[impossible],
        false,
    );
    let mut dup = p.clone();
    dup.splice(250..250, p[50..100].iter().cloned());
    verify_vector(
        "verify-duplicate",
        "chunk 1 repeated after chunk 4: a duplicate region",
        sim,
        &dup,
        std::slice::from_ref(w),
        false,
    );
    let mut gaps = w.clone();
    let g = dualrec_proof::CaptureGap {
        session: sim.start.record.session,
        first_sample: 48_000,
        samples: 9_600,
        time: dualrec_proof::Timestamp { wall_ms: 0, mono_ms: 2_300 },
    };
    gaps.push(LogRecord::Gap(g.sign(&sim.identities[0])));
    let late_gap = dualrec_proof::CaptureGap {
        first_sample: 3 * 48_000,
        time: dualrec_proof::Timestamp { wall_ms: 0, mono_ms: 86_400_000 },
        ..g
    };
    gaps.push(LogRecord::Gap(late_gap.sign(&sim.identities[0])));
    verify_vector(
        "verify-capture-gaps",
        "two capture gaps stated by the producer, one at the time, one a day later: facts of its statement, not edits",
        sim,
        p,
        &[gaps],
        false,
    );
    let no_end = drop(w, &|r| matches!(r, LogRecord::End(_)));
    verify_vector(
        "verify-no-end",
        "the witness's log without any end: completeness not established",
        sim,
        p,
        std::slice::from_ref(&no_end),
        false,
    );
    let mut one_sided = no_end.clone();
    if let Some(LogRecord::End(e)) = w.last() {
        one_sided.push(LogRecord::End(CoSigned {
            record: e.record.clone(),
            signatures: vec![e.signatures[0]],
        }));
    }
    verify_vector(
        "verify-one-sided-end",
        "an end signed by the producer alone: its word, so completeness is not established",
        sim,
        p,
        &[one_sided],
        false,
    );
    let mut bad_end = no_end.clone();
    if let Some(LogRecord::End(e)) = w.last() {
        let mut e = e.clone();
        e.signatures[1].signature.0[3] ^= 1;
        bad_end.push(LogRecord::End(e));
    }
    verify_vector(
        "verify-bad-end",
        "the only end has a bad signature: set aside, completeness not established",
        sim,
        p,
        &[bad_end],
        false,
    );
    let mut two = w.clone();
    if let Some(LogRecord::End(e)) = w.last() {
        let mut other = e.record.clone();
        other.finals[0].chunks = 5;
        let signatures = sim.identities.iter().map(|id| other.sign(id)).collect();
        two.push(LogRecord::End(CoSigned { record: other, signatures }));
    }
    verify_vector(
        "verify-two-ends-disagree",
        "two co-signed ends give different chunk counts for the producer: disputed",
        sim,
        p,
        &[two],
        false,
    );
    let mut claim = no_end.clone();
    if let Some(LogRecord::End(e)) = w.last() {
        let mut c = e.record.clone();
        c.finals[0].chunks = 2;
        claim.push(LogRecord::End(CoSigned {
            signatures: vec![c.sign(&sim.identities[1])],
            record: c,
        }));
    }
    verify_vector(
        "verify-peer-claim",
        "an end about the producer's file signed by the witness alone: its claim, not used",
        sim,
        p,
        &[claim],
        false,
    );
    let end = p.len() as u64 * 960;
    let honest = json!({"channels": 1, "pre_skip": 312, "output_gain": 0, "final_granule": end - 100, "audio_end": end});
    verify_vector_with(
        "verify-playback-honest",
        "the container's playback fields as dualrec writes them",
        sim,
        p,
        std::slice::from_ref(w),
        false,
        json!({"playback": honest}),
    );
    let mut gain = honest.clone();
    gain["output_gain"] = json!(-20000);
    verify_vector_with(
        "verify-playback-gain",
        "OpusHead output gain edited to make the file near silent: playback altered",
        sim,
        p,
        std::slice::from_ref(w),
        false,
        json!({"playback": gain}),
    );
    let mut granule = honest.clone();
    granule["final_granule"] = json!(end - 2 * 48_000);
    verify_vector_with(
        "verify-playback-granule",
        "the last granule edited so a player stops 2 s early: playback altered",
        sim,
        p,
        std::slice::from_ref(w),
        false,
        json!({"playback": granule}),
    );
    let mut signed_hash = w.clone();
    if let Some(LogRecord::End(e)) = signed_hash.last_mut() {
        e.record.finals[0].recording_sha256 = Some(dualrec_proof::sha256(b"the original file"));
        e.signatures = sim.identities.iter().map(|id| e.record.sign(id)).collect();
    }
    let other_hash = h(&dualrec_proof::sha256(b"the same packets in a new container").0);
    verify_vector_with(
        "verify-remux",
        "the file's hash differs from the signed one but every packet is the signed one: container rewritten",
        sim,
        p,
        &[signed_hash.clone()],
        false,
        json!({"file_sha256": other_hash}),
    );
    verify_vector_with(
        "verify-file-hash-mismatch",
        "the file's hash differs and a packet differs too",
        sim,
        &edited,
        &[signed_hash],
        false,
        json!({"file_sha256": other_hash}),
    );
    let mut holed = p.clone();
    holed.drain(100..150);
    let positions: Vec<u64> =
        (0..p.len() as u64).filter(|k| !(100..150).contains(k)).map(|k| k * 960).collect();
    verify_vector_with(
        "verify-damaged-page",
        "the page holding chunk 2 cannot be read (bad checksum): chunk 2 damaged, not removed; the rest live",
        sim,
        &holed,
        std::slice::from_ref(w),
        false,
        json!({"positions": positions, "damaged": [{"first_sample": 96_000, "samples": 48_000, "offset": 4_242}]}),
    );
    let silent = simulate(&SimConfig {
        chunks: 6,
        packet_bytes: 6,
        seed: 3,
        silence: Some(1..5),
        ..SimConfig::default()
    });
    let mut cut = silent.recordings[0].clone();
    cut.drain(100..150);
    verify_vector(
        "verify-silence-cut",
        "chunks 1..=4 are the same silent packets (one digest); chunk 2's worth is cut: one removed, nothing moved",
        &silent,
        &cut,
        &[silent.logs[1].clone()],
        false,
    );
    // SPEC §9.5: the witness stopped hearing after chunk 2 and holds no end; chunks 3..=5
    // are the same silence as 1..=2. That audio is not covered, never "duplicate".
    let quiet_end = simulate(&SimConfig {
        chunks: 6,
        packet_bytes: 6,
        seed: 4,
        silence: Some(1..6),
        end: false,
        ..SimConfig::default()
    });
    let producer = quiet_end.identities[0].public();
    let late: Vec<_> = quiet_end.own_checkpoints(0).iter().skip(3).map(|c| c.hash()).collect();
    let witness: Vec<LogRecord> = quiet_end.logs[1]
        .iter()
        .filter(|r| match r {
            LogRecord::Checkpoint(c) => !(c.signer == producer && c.body.index >= 3),
            LogRecord::Receipt(r) => !late.contains(&r.body.checkpoint),
            _ => true,
        })
        .cloned()
        .collect();
    verify_vector(
        "verify-silence-beyond-the-evidence",
        "the witness holds chunks 0..=2 and no end; chunks 3..=5 repeat the silence of 1..=2: not covered by the evidence, not duplicates",
        &quiet_end,
        &quiet_end.recordings[0],
        &[witness],
        false,
    );
}

#[test]
fn non_party_key_constant_is_not_a_party() {
    // Guards the generator's assumption that sim_identity(99, 9) is an outsider.
    let sim = small_sim(1);
    assert!(!sim.start.record.is_party(&sim_identity(99, 9).public()));
}
