//! Re-checks every known-answer file in proto/vectors/ (SPEC §10).
//!
//! `DUALREC_WRITE_VECTORS=1 cargo test -p dualrec-proof --test vectors` rewrites the files
//! from the generator below; without it the files are only read and checked, so any
//! change in encoding, hashing or verification that alters a byte fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dualrec_proof::sim::{SimConfig, SimSession, log_bytes, sim_identity, simulate};
use dualrec_proof::{
    ChainState, CoSigned, DecodeError, EndRecord, Identity, LogError, LogRecord, Packet, PublicKey,
    Recording, SessionId, Signed, StartRecord, Verifier, VerifyOptions, chunk_digest, decode_exact,
    encode, packet_hash, read_log,
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

fn verify_outcome(v: &Value) -> Value {
    let packets: Vec<Packet> = v["packets"]
        .as_array()
        .expect("packets")
        .iter()
        .enumerate()
        .map(|(k, p)| Packet { position: k as u64 * 960, data: unhex(p) })
        .collect();
    let mut verifier = Verifier::new(VerifyOptions {
        excerpt: v["excerpt"].as_bool().unwrap_or(false),
        ..VerifyOptions::default()
    });
    for (i, l) in v["logs"].as_array().expect("logs").iter().enumerate() {
        verifier.add_log(format!("log{i}"), read_log(&unhex(l)).expect("log"));
    }
    let rec = Recording {
        packets: &packets,
        producer: PublicKey(unhex(&v["producer"]).try_into().expect("key")),
        session: Some(SessionId(unhex(&v["session"]).try_into().expect("id"))),
        file_sha256: None,
    };
    let report = serde_json::to_value(verifier.verify(&rec).expect("report")).expect("json");
    let statuses: Vec<Value> =
        report["chunks"].as_array().expect("chunks").iter().map(|c| c["status"].clone()).collect();
    let inserted: Vec<Value> = report["inserted"]
        .as_array()
        .expect("inserted")
        .iter()
        .map(|r| json!([r["first_packet"], r["packets"]]))
        .collect();
    let mut findings: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().expect("kind").to_owned())
        .collect();
    findings.sort();
    json!({"verdict": report["verdict"], "statuses": statuses, "inserted": inserted, "findings": findings})
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
    let mut body = json!({
        "producer": h(&sim.identities[0].public().0),
        "session": h(&sim.start.record.session.0),
        "packets": packets.iter().map(|p| h(&p.data)).collect::<Vec<_>>(),
        "logs": logs.iter().map(|l| h(&log_bytes(l))).collect::<Vec<_>>(),
        "excerpt": excerpt,
    });
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
}

#[test]
fn non_party_key_constant_is_not_a_party() {
    // Guards the generator's assumption that sim_identity(99, 9) is an outsider.
    let sim = small_sim(1);
    assert!(!sim.start.record.is_party(&sim_identity(99, 9).public()));
}
