//! The live exchange without a network: compact frames expand to exactly the records the
//! producer signed; hostile frames are refused and nothing of them is stored; the backlog
//! beyond the memory window waits in the log and comes back in order.

use std::time::Duration;

use dualrec_proof::sim::{SimConfig, SimSession, simulate};
use dualrec_proof::{Checkpoint, CheckpointError, DecodeError, LogRecord, Timestamp};
use dualrec_protocol::{CompactCheckpoint, CompactReceipt, Exchange, ExchangeError, LiveFrame};
use proptest::prelude::*;

const T: Timestamp = Timestamp { wall_ms: 1_790_071_200_500, mono_ms: 500 };

fn sim(chunks: u64) -> SimSession {
    simulate(&SimConfig { chunks, ..SimConfig::default() })
}

fn pair(sim: &SimSession, window: usize) -> (Exchange, Exchange) {
    let (a, b) = (sim.identities[0].public(), sim.identities[1].public());
    (Exchange::new(&sim.start.record, a, b, window), Exchange::new(&sim.start.record, b, a, window))
}

#[test]
fn a_compact_checkpoint_expands_to_the_signed_one_and_its_receipt_checks_out() {
    let s = sim(3);
    let (mut a, mut b) = pair(&s, 10);
    for cp in s.own_checkpoints(0) {
        let frame = a.commit(cp, Duration::ZERO).expect("sent at once");
        let at_b = b.on_frame(&s.identities[1], frame, T).expect("accepted");
        let [LogRecord::Checkpoint(stored), LogRecord::Receipt(r)] = &at_b.store[..] else {
            panic!("checkpoint and receipt stored: {:?}", at_b.store)
        };
        assert_eq!(*stored, cp, "the very record party 0 signed");
        assert!(r.verify() && r.body.checkpoint == cp.hash());
        let at_a = a.on_frame(&s.identities[0], at_b.reply.expect("receipt"), T).expect("ok");
        assert_eq!(
            at_a.store,
            vec![LogRecord::Receipt(*r)],
            "the producer stores the same receipt"
        );
        assert_eq!(at_a.reply, None);
    }
    assert_eq!((a.committed(), a.receipted(), b.witnessed()), (3, 3, 3));
}

#[test]
fn retransmissions_are_receipted_again_and_stored_once() {
    let s = sim(2);
    let (mut a, mut b) = pair(&s, 10);
    let cp = s.own_checkpoints(0)[0];
    let frame = a.commit(cp, Duration::ZERO).expect("frame");
    let first = b.on_frame(&s.identities[1], frame, T).expect("first");
    let again = b.on_frame(&s.identities[1], frame, T).expect("again");
    assert!(again.store.is_empty(), "nothing stored twice");
    let reply = again.reply.expect("receipted again");
    a.on_frame(&s.identities[0], reply, T).expect("the receipt checks out");
    // The first receipt now arrives late: the checkpoint is no longer waiting.
    assert_eq!(
        a.on_frame(&s.identities[0], first.reply.expect("reply"), T),
        Err(ExchangeError::UnexpectedReceipt { index: 0 })
    );
}

#[test]
fn hostile_frames_are_refused_and_nothing_is_stored() {
    let s = sim(3);
    let (mut a, mut b) = pair(&s, 10);
    let cps = s.own_checkpoints(0);
    let c0 = CompactCheckpoint::of(&cps[0]);
    let c1 = CompactCheckpoint::of(&cps[1]);
    let id_b = &s.identities[1];
    let refused = |r: Result<dualrec_protocol::Handled, ExchangeError>| match r {
        Err(ExchangeError::Checkpoint { source, .. }) => source,
        other => panic!("expected a refusal, got {other:?}"),
    };
    // Out of order: chunk 1 before chunk 0.
    assert_eq!(
        refused(b.on_frame(id_b, LiveFrame::Checkpoint(c1), T)),
        CheckpointError::OutOfOrder { expected: 0, got: 1 }
    );
    // Altered audio digest, sample count, time: the signature no longer verifies.
    for bad in [
        CompactCheckpoint { digest: dualrec_proof::Digest([9; 32]), ..c0 },
        CompactCheckpoint { samples: c0.samples + 960, ..c0 },
        CompactCheckpoint { time: T, ..c0 },
    ] {
        assert_eq!(
            refused(b.on_frame(id_b, LiveFrame::Checkpoint(bad), T)),
            CheckpointError::BadSignature
        );
    }
    // Party 1's own checkpoint sent back as if it were party 0's (a reflection).
    let reflected = CompactCheckpoint::of(&s.own_checkpoints(1)[0]);
    assert_eq!(
        refused(b.on_frame(id_b, LiveFrame::Checkpoint(reflected), T)),
        CheckpointError::BadSignature
    );
    assert_eq!(b.witnessed(), 0, "nothing accepted");
    // A receipt for nothing sent, and a forged one.
    assert_eq!(
        a.on_frame(
            &s.identities[0],
            LiveFrame::Receipt(CompactReceipt { index: 0, time: T, signature: c0.signature }),
            T
        ),
        Err(ExchangeError::UnexpectedReceipt { index: 0 })
    );
    a.commit(cps[0], Duration::ZERO);
    assert_eq!(
        a.on_frame(
            &s.identities[0],
            LiveFrame::Receipt(CompactReceipt { index: 0, time: T, signature: c0.signature }),
            T
        ),
        Err(ExchangeError::BadReceipt { index: 0 })
    );
    assert_eq!(a.receipted(), 0);
}

#[test]
fn the_backlog_beyond_the_window_waits_in_the_log_and_comes_back_in_order() {
    let s = sim(7);
    let (mut a, mut b) = pair(&s, 2);
    let cps = s.own_checkpoints(0);
    let t0 = Duration::ZERO;
    // The link is down: every frame is lost. Only two are held in memory.
    for cp in &cps {
        a.commit(*cp, t0);
    }
    assert_eq!(a.in_memory(), 2);
    assert_eq!(a.wants_refill(), None, "the window is full");
    let mut delivered = Vec::new();
    let mut rounds = 0;
    // The link is back: send what is due, receipt it, read back more from the "log".
    while a.receipted() < cps.len() as u64 {
        rounds += 1;
        assert!(rounds < 20, "the backlog never drained");
        if a.wants_refill().is_some() {
            a.refill(s.logs[0].iter().filter_map(|r| match r {
                LogRecord::Checkpoint(c) => Some(*c),
                _ => None,
            }));
        }
        for frame in a.due(t0 + Duration::from_secs(10), Duration::ZERO) {
            let LiveFrame::Checkpoint(c) = frame else { panic!("only checkpoints go out") };
            delivered.push(c.index);
            let at_b = b.on_frame(&s.identities[1], frame, T).expect("in order");
            a.on_frame(&s.identities[0], at_b.reply.expect("receipt"), T).expect("receipt ok");
        }
    }
    assert_eq!(delivered, (0..7).collect::<Vec<u32>>(), "each once, in order");
    assert_eq!(b.witnessed(), 7);
}

#[test]
fn only_checkpoints_unreceipted_for_a_while_are_sent_again() {
    let s = sim(2);
    let (mut a, _) = pair(&s, 10);
    let t0 = Duration::ZERO;
    for cp in s.own_checkpoints(0) {
        a.commit(cp, t0);
    }
    assert!(a.due(t0 + Duration::from_secs(1), Duration::from_secs(3)).is_empty());
    assert_eq!(a.due(t0 + Duration::from_secs(3), Duration::from_secs(3)).len(), 2);
    assert!(
        a.due(t0 + Duration::from_secs(4), Duration::from_secs(3)).is_empty(),
        "just sent again"
    );
}

/// The peer takes checkpoints only in order: once the oldest is overdue, every later one
/// goes again behind it (each was refused after the lost one), not on its own timer.
#[test]
fn a_lost_checkpoint_is_sent_again_with_everything_after_it_in_order() {
    let s = sim(4);
    let (mut a, mut b) = pair(&s, 10);
    let cps = s.own_checkpoints(0);
    let secs = Duration::from_secs;
    // Committed one a second; the first frame is lost, the peer refuses the rest.
    for (k, cp) in cps.iter().enumerate() {
        let frame = a.commit(*cp, secs(k as u64)).expect("room in the window");
        if k > 0 {
            assert!(b.on_frame(&s.identities[1], frame, T).is_err(), "out of order");
        }
    }
    assert!(a.due(secs(2), secs(3)).is_empty(), "nothing overdue yet");
    let again = a.due(secs(3), secs(3));
    let indices: Vec<u32> = again
        .iter()
        .map(|f| match f {
            LiveFrame::Checkpoint(c) => c.index,
            other => panic!("only checkpoints go out: {other:?}"),
        })
        .collect();
    assert_eq!(indices, vec![0, 1, 2, 3], "the lost one and all after it, in order");
    for frame in again {
        let at_b = b.on_frame(&s.identities[1], frame, T).expect("now in order");
        a.on_frame(&s.identities[0], at_b.reply.expect("receipt"), T).expect("receipt ok");
    }
    assert_eq!((a.receipted(), b.witnessed()), (4, 4));
    assert!(a.due(secs(10), secs(3)).is_empty(), "all receipted");
}

#[test]
fn live_frame_golden_bytes() {
    let s = sim(1);
    let cp = s.own_checkpoints(0)[0];
    let bytes = LiveFrame::Checkpoint(CompactCheckpoint::of(&cp)).to_bytes();
    // type 0 (u32), index 0 (u32), packet count 50, samples 48000, then digest, time, signature.
    assert_eq!(hex::encode(&bytes[..16]), "00000000000000003200000080bb0000");
    assert_eq!(&bytes[16..48], &cp.body.digest.0);
    assert_eq!(&bytes[64..], &cp.signature.0);
    assert_eq!(bytes.len(), 128);
    let receipt = LiveFrame::Receipt(CompactReceipt { index: 7, time: T, signature: cp.signature });
    assert_eq!(receipt.to_bytes().len(), 88);
    assert_eq!(hex::encode(&receipt.to_bytes()[..8]), "0100000007000000");
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(LiveFrame::from_bytes(&trailing), Err(DecodeError::TrailingBytes { .. })));
    assert!(matches!(LiveFrame::from_bytes(&bytes[..127]), Err(DecodeError::Malformed { .. })));
}

proptest! {
    #[test]
    fn live_frames_round_trip(index: u32, packets: u32, samples: u32, wall: u64, mono: u64,
                              first: u64, length: u64, digest: [u8; 32],
                              sig in proptest::collection::vec(any::<u8>(), 64),
                              kind in 0u8..3) {
        let time = Timestamp { wall_ms: wall, mono_ms: mono };
        let signature = dualrec_proof::Signature(sig.try_into().expect("64 bytes"));
        let (frame, size) = match kind {
            0 => (LiveFrame::Checkpoint(CompactCheckpoint {
                index, packet_count: packets, samples, digest: dualrec_proof::Digest(digest), time, signature,
            }), 128),
            1 => (LiveFrame::Receipt(CompactReceipt { index, time, signature }), 88),
            _ => (LiveFrame::Gap(dualrec_protocol::CompactGap {
                first_sample: first, samples: length, time, signature,
            }), 100),
        };
        let bytes = frame.to_bytes();
        prop_assert_eq!(bytes.len(), size);
        prop_assert_eq!(LiveFrame::from_bytes(&bytes).expect("decodes"), frame);
    }
}

#[test]
fn full_checkpoints_follow_the_same_rules_and_equivocation_is_caught() {
    let s = sim(2);
    let (_, mut b) = pair(&s, 10);
    let cp = s.own_checkpoints(0)[0];
    let (store, r) = b.on_checkpoint(&s.identities[1], cp, T).expect("accepted");
    assert_eq!(store, vec![LogRecord::Checkpoint(cp), LogRecord::Receipt(r)]);
    let (again, _) = b.on_checkpoint(&s.identities[1], cp, T).expect("retransmission");
    assert!(again.is_empty(), "stored once");
    // The producer signs a second, different checkpoint for chunk 0.
    let other = Checkpoint { time: T, ..cp.body }.sign(&s.identities[0]);
    assert_eq!(
        b.on_checkpoint(&s.identities[1], other, T).map(|_| ()),
        Err(ExchangeError::Checkpoint { index: 0, source: CheckpointError::Equivocation(0) })
    );
}

/// proto/vectors/live-expand-*.json: compact checkpoints on the live stream, and the full
/// signed checkpoints a receiver rebuilds from them (SPEC §12.4), or why it refuses one.
/// `DUALREC_WRITE_VECTORS=1` rewrites them; proto/check_vectors.py checks them too.
#[test]
fn live_expansion_vectors_check_out() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto/vectors");
    let s = simulate(&SimConfig { chunks: 2, packet_bytes: 6, ..SimConfig::default() });
    let cps = s.own_checkpoints(0);
    let c = |i: usize| CompactCheckpoint::of(&cps[i]);
    let frame = |c: CompactCheckpoint| LiveFrame::Checkpoint(c).to_bytes();
    // How many checkpoints are rebuilt, or the frame refused and why.
    type Expect = Result<usize, (usize, &'static str)>;
    let cases: Vec<(&str, &str, Vec<Vec<u8>>, Expect)> = vec![
        (
            "live-expand-two-chunks",
            "chunks 0 and 1 of party 0, rebuilt from their compact form",
            vec![frame(c(0)), frame(c(1))],
            Ok(2),
        ),
        (
            "live-expand-altered-digest",
            "chunk 0 with one bit of its digest flipped: the rebuilt checkpoint's signature fails",
            vec![frame(CompactCheckpoint {
                digest: {
                    let mut d = c(0).digest;
                    d.0[0] ^= 1;
                    d
                },
                ..c(0)
            })],
            Err((0, "bad_signature")),
        ),
        (
            "live-expand-out-of-order",
            "chunk 1 before chunk 0 is refused",
            vec![frame(c(1))],
            Err((0, "out_of_order")),
        ),
        (
            "live-expand-wrong-positions",
            "chunk 0 claims one packet fewer than it signed: refused",
            vec![
                frame(CompactCheckpoint { packet_count: c(0).packet_count - 1, ..c(0) }),
                frame(c(1)),
            ],
            Err((0, "bad_signature")),
        ),
    ];
    let start_hex = hex::encode(dualrec_proof::encode(&s.start.record));
    let producer_hex = hex::encode(s.identities[0].public().0);
    for (name, description, frames, expect) in cases {
        // Run the receiver.
        let (_, mut b) = pair(&s, 10);
        let mut rebuilt = Vec::new();
        let mut failure = None;
        for (k, f) in frames.iter().enumerate() {
            let parsed = LiveFrame::from_bytes(f).expect("frame decodes");
            match b.on_frame(&s.identities[1], parsed, T) {
                Ok(h) => rebuilt.extend(h.store.into_iter().filter_map(|r| match r {
                    LogRecord::Checkpoint(c) => Some(hex::encode(dualrec_proof::encode(&c))),
                    _ => None,
                })),
                Err(ExchangeError::Checkpoint { source, .. }) => {
                    let kind = match source {
                        CheckpointError::BadSignature => "bad_signature",
                        CheckpointError::OutOfOrder { .. } => "out_of_order",
                        other => panic!("unexpected {other:?}"),
                    };
                    failure = Some((k, kind));
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        match expect {
            Ok(n) => {
                assert_eq!(failure, None, "{name}");
                assert_eq!(rebuilt.len(), n, "{name}");
                let want: Vec<String> =
                    cps[..n].iter().map(|c| hex::encode(dualrec_proof::encode(c))).collect();
                assert_eq!(rebuilt, want, "{name}: the very checkpoints party 0 signed");
            }
            Err(e) => assert_eq!(failure, Some(e), "{name}"),
        }
        let expect_json = match expect {
            Ok(_) => format!(
                "{{\"checkpoints\": [{}]}}",
                rebuilt.iter().map(|h| format!("\"{h}\"")).collect::<Vec<_>>().join(", ")
            ),
            Err((k, kind)) => format!("{{\"error\": {{\"frame\": {k}, \"kind\": \"{kind}\"}}}}"),
        };
        let text = format!(
            "{{\n  \"name\": \"{name}\",\n  \"description\": \"{description}\",\n  \"kind\": \"live\",\n  \"start_record\": \"{start_hex}\",\n  \"producer\": \"{producer_hex}\",\n  \"frames\": [{}],\n  \"expect\": {expect_json}\n}}\n",
            frames.iter().map(|f| format!("\"{}\"", hex::encode(f))).collect::<Vec<_>>().join(", ")
        );
        let path = dir.join(format!("{name}.json"));
        if std::env::var_os("DUALREC_WRITE_VECTORS").is_some() {
            std::fs::write(&path, &text).expect("write");
        }
        assert_eq!(std::fs::read_to_string(&path).expect("vector file"), text, "{name}");
    }
}

#[test]
fn capture_gaps_reach_the_peer_checked_and_stored_once() {
    let s = sim(1);
    let (mut a, mut b) = pair(&s, 10);
    let gap = |who: usize| {
        dualrec_proof::CaptureGap {
            session: s.start.record.session,
            first_sample: 48_000,
            samples: 4_800,
            time: T,
        }
        .sign(&s.identities[who])
    };
    let frame = a.gap(gap(0));
    let LiveFrame::Gap(c) = frame else { panic!("a gap frame") };
    assert_eq!(frame.to_bytes().len(), 100);
    let first = b.on_frame(&s.identities[1], frame, T).expect("accepted");
    assert_eq!(first.store, vec![LogRecord::Gap(gap(0))], "the very statement party 0 signed");
    assert_eq!(first.reply, None);
    // Sent again after a reconnect: stored once.
    assert_eq!(a.gaps(), vec![frame]);
    assert!(b.on_frame(&s.identities[1], frame, T).expect("again").store.is_empty());
    // Forged, or party 1's own statement reflected back as if it were party 0's.
    let mut forged = c;
    forged.samples += 1;
    let reflected = dualrec_protocol::CompactGap::of(&gap(1));
    for bad in [forged, reflected] {
        assert_eq!(
            b.on_frame(&s.identities[1], LiveFrame::Gap(bad), T),
            Err(ExchangeError::BadGap { first_sample: 48_000 })
        );
    }
}
