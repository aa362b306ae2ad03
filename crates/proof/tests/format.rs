//! Golden bytes, round trips and hostile input for every encoder and decoder.

use dualrec_proof::sim::{SimConfig, log_bytes, simulate};
use dualrec_proof::{
    Checkpoint, CheckpointError, DecodeError, Digest, Identity, LogRecord, PeerChain, Receipt,
    SessionId, Timestamp, decode_exact, encode, read_log,
};
use proptest::prelude::*;

fn sample_checkpoint() -> Checkpoint {
    Checkpoint {
        session: SessionId([0xaa; 16]),
        index: 1,
        first_packet: 2,
        packet_count: 3,
        first_sample: 4,
        samples: 5,
        digest: Digest([0x11; 32]),
        chain: Digest([0x22; 32]),
        time: Timestamp { wall_ms: 6, mono_ms: 7 },
    }
}

#[test]
fn checkpoint_golden_bytes() {
    let want = concat!(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "0100000000000000",
        "0200000000000000",
        "03000000",
        "0400000000000000",
        "05000000",
        "1111111111111111111111111111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222222222222222222222222222",
        "0600000000000000",
        "0700000000000000",
    );
    assert_eq!(hex::encode(encode(&sample_checkpoint())), want);
}

#[test]
fn receipt_record_golden_bytes_and_signature() {
    let id = Identity::from_seed(&[1; 32]);
    let r = Receipt { checkpoint: Digest([0x33; 32]), time: Timestamp { wall_ms: 8, mono_ms: 9 } }
        .sign(&id);
    let bytes = encode(&LogRecord::Receipt(r));
    let want = concat!(
        "02000000",
        "3333333333333333333333333333333333333333333333333333333333333333",
        "0800000000000000",
        "0900000000000000",
        // RFC 8032 public key of seed 01*32
        "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
        "0fe7e7c540c46d8963831908e4e3966460ee1e9e053029c7a2fab6eefaaf5549",
        "953561ea8d92737d2350310c7f9c4d1c5bcf16a0fbe654deb6f8607ff4badb0c",
    );
    assert_eq!(hex::encode(&bytes), want);
    assert!(r.verify());
}

#[test]
fn fingerprint_is_five_groups_of_four() {
    let fp = Identity::from_seed(&[1; 32]).public().fingerprint().to_string();
    assert_eq!(fp.len(), 24);
    assert_eq!(fp.split('-').count(), 5);
    assert!(fp.split('-').all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_hexdigit())));
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut b = encode(&sample_checkpoint());
    b.push(0);
    assert_eq!(
        decode_exact::<Checkpoint>(&b),
        Err(DecodeError::TrailingBytes { used: b.len() - 1, len: b.len() })
    );
}

#[test]
fn oversized_input_is_rejected_before_decoding() {
    let b = vec![0u8; 70_000];
    assert!(matches!(decode_exact::<LogRecord>(&b), Err(DecodeError::TooLarge { .. })));
}

#[test]
fn huge_length_prefix_does_not_allocate() {
    // A start record claiming 2^60 parties.
    let mut b = vec![0, 0, 0, 0, 1, 0];
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&(1u64 << 60).to_le_bytes());
    assert!(matches!(decode_exact::<LogRecord>(&b), Err(DecodeError::Malformed { .. })));
}

#[test]
fn debug_of_an_identity_hides_the_secret() {
    let id = Identity::from_seed(&[7; 32]);
    let dbg = format!("{id:?}");
    assert!(dbg.contains("redacted"));
    assert!(!dbg.contains(&hex::encode([7u8; 32])));
}

#[cfg(unix)]
#[test]
fn key_file_is_0600_and_other_modes_are_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("identity.key");
    let (id, created) = Identity::load_or_create(&path).expect("create");
    assert!(created);
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let (again, created) = Identity::load_or_create(&path).expect("load");
    assert!(!created);
    assert_eq!(again.public(), id.public());
    assert!(matches!(id.save(&path), Err(dualrec_proof::KeyError::Exists { .. })));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    match Identity::load(&path) {
        Err(dualrec_proof::KeyError::Permissions { mode, .. }) => assert_eq!(mode, 0o644),
        other => panic!("expected a permissions error, got {other:?}"),
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::fs::write(&path, b"not a key").expect("write");
    assert!(matches!(Identity::load(&path), Err(dualrec_proof::KeyError::Format { .. })));
}

#[test]
fn peer_chain_accepts_in_order_and_refuses_the_rest() {
    let sim = simulate(&SimConfig { chunks: 4, ..SimConfig::default() });
    let producer = sim.identities[0].public();
    let cps = sim.own_checkpoints(0);
    let mut chain = PeerChain::new(&sim.start.record, producer);
    assert_eq!(chain.accept(&cps[1]), Err(CheckpointError::OutOfOrder { expected: 0, got: 1 }));
    assert_eq!(chain.accept(&cps[0]), Ok(true));
    assert_eq!(chain.accept(&cps[0]), Ok(false), "a retransmission is not stored twice");
    let mut forged = cps[1];
    forged.signature.0[0] ^= 1;
    assert_eq!(chain.accept(&forged), Err(CheckpointError::BadSignature));
    let mut rival = cps[0].body;
    rival.digest.0[0] ^= 1;
    let rival = rival.sign(&sim.identities[0]);
    assert_eq!(chain.accept(&rival), Err(CheckpointError::Equivocation(0)));
    let mut broken = cps[1].body;
    broken.chain.0[0] ^= 1;
    assert_eq!(
        chain.accept(&broken.sign(&sim.identities[0])),
        Err(CheckpointError::ChainBroken(1))
    );
    let other = cps[1].body.sign(&sim.identities[1]);
    assert!(matches!(chain.accept(&other), Err(CheckpointError::WrongSigner(_))));
    assert_eq!(chain.accept(&cps[1]), Ok(true));
    assert_eq!(chain.accepted(), 2);
}

fn arb_checkpoint() -> impl Strategy<Value = Checkpoint> {
    (
        any::<[u8; 16]>(),
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
        any::<u32>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<(u64, u64)>(),
    )
        .prop_map(|(s, index, fp, pc, fs, samples, d, c, (w, m))| Checkpoint {
            session: SessionId(s),
            index,
            first_packet: fp,
            packet_count: pc,
            first_sample: fs,
            samples,
            digest: Digest(d),
            chain: Digest(c),
            time: Timestamp { wall_ms: w, mono_ms: m },
        })
}

proptest! {
    #[test]
    fn checkpoints_round_trip(cp in arb_checkpoint(), seed in any::<[u8; 32]>()) {
        let bytes = encode(&cp);
        prop_assert_eq!(bytes.len(), 16 + 8 + 8 + 4 + 8 + 4 + 32 + 32 + 16);
        prop_assert_eq!(decode_exact::<Checkpoint>(&bytes), Ok(cp));
        let signed = cp.sign(&Identity::from_seed(&seed));
        prop_assert!(signed.verify());
        let rec = LogRecord::Checkpoint(signed);
        prop_assert_eq!(decode_exact::<LogRecord>(&rec.to_bytes()), Ok(rec));
    }

    #[test]
    fn any_bit_flip_breaks_a_signature(cp in arb_checkpoint(), bit in 0usize..(128 * 8)) {
        let signed = cp.sign(&Identity::from_seed(&[3; 32]));
        let mut bytes = encode(&signed);
        bytes[bit / 8] ^= 1 << (bit % 8);
        let flipped: dualrec_proof::Signed<Checkpoint> = decode_exact(&bytes).expect("still decodes");
        prop_assert!(!flipped.verify());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_exact::<LogRecord>(&bytes);
    }

    #[test]
    fn reading_arbitrary_logs_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = b"DUALRECL\x01\x00\x00\x00\x00\x00\x00\x00".to_vec();
        bytes.extend_from_slice(&tail);
        let _ = read_log(&bytes);
    }

    #[test]
    fn a_log_cut_anywhere_reads_its_whole_records_and_reports_the_rest(cut_frac in 0.0f64..1.0) {
        let sim = simulate(&SimConfig { chunks: 3, ..SimConfig::default() });
        let full = log_bytes(&sim.logs[0]);
        let cut = (full.len() as f64 * cut_frac) as usize;
        let c = read_log(&full[..cut]).expect("a cut log is never an error");
        let whole = read_log(&full).expect("full log");
        prop_assert!(c.entries.len() <= whole.entries.len());
        prop_assert_eq!(&c.entries[..], &whole.entries[..c.entries.len()]);
        let parsed_end = c.entries.last().map_or(16, |e| {
            e.offset as usize + 8 + e.value.to_bytes().len()
        });
        match c.torn_tail {
            None => prop_assert_eq!(parsed_end.min(cut), cut),
            Some(t) => {
                // Torn inside the header: the whole file is the torn part.
                let want = if cut < 16 { 0 } else { parsed_end };
                prop_assert_eq!(t.offset as usize, want);
                prop_assert_eq!((t.offset + t.bytes) as usize, cut);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn batch_checking_agrees_with_one_by_one(
        flips in proptest::collection::vec(proptest::option::of(0usize..(64 * 8)), 1..40)
    ) {
        let id = Identity::from_seed(&[9; 32]);
        let items: Vec<_> = flips
            .iter()
            .enumerate()
            .map(|(i, flip)| {
                let mut cp = sample_checkpoint();
                cp.index = i as u64;
                let mut s = cp.sign(&id);
                if let Some(bit) = flip {
                    s.signature.0[bit / 8] ^= 1 << (bit % 8);
                }
                s
            })
            .collect();
        let one_by_one: Vec<bool> = items.iter().map(|s| s.verify()).collect();
        prop_assert_eq!(dualrec_proof::Signed::verify_all(&items), one_by_one.clone());
        for (ok, flip) in one_by_one.iter().zip(&flips) {
            prop_assert_eq!(*ok, flip.is_none());
        }
    }
}
