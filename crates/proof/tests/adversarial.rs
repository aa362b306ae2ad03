//! Issue #9: each attack a dishonest party can mount with its own key and its choice of
//! the files it hands in, built from real keys and real log bytes (no private API). Each
//! asserts the verdict and whom the findings name: a claim in a party's favour never
//! rests on that party's own signatures.

use dualrec_proof::sim::{SimConfig, SimSession, log_bytes, simulate};
use dualrec_proof::{
    AxisState, ChunkStatus, CoSigned, EndRecord, ExpectedParty, Finding, LogRecord, Packet,
    Playback, Recording, RegionKind, Report, Timestamp, Verdict, Verifier, VerifyOptions, read_log,
};

const PPC: usize = 50;

fn report(
    sim: &SimSession,
    packets: &[Packet],
    logs: &[Vec<LogRecord>],
    opts: VerifyOptions,
) -> Report {
    report_with(sim, packets, logs, opts, None, None)
}

fn report_with(
    sim: &SimSession,
    packets: &[Packet],
    logs: &[Vec<LogRecord>],
    opts: VerifyOptions,
    playback: Option<Playback>,
    file_sha256: Option<dualrec_proof::Digest>,
) -> Report {
    let mut v = Verifier::new(opts);
    for (i, l) in logs.iter().enumerate() {
        v.add_log(format!("log{i}"), read_log(&log_bytes(l)).expect("log reads"));
    }
    v.verify(&Recording { file_sha256, playback, ..sim.recording(0, packets) }).expect("a report")
}

fn renumber(mut packets: Vec<Packet>) -> Vec<Packet> {
    for (i, p) in packets.iter_mut().enumerate() {
        p.position = i as u64 * 960;
    }
    packets
}

fn producer(sim: &SimSession) -> dualrec_proof::PublicKey {
    sim.identities[0].public()
}

fn witness(sim: &SimSession) -> dualrec_proof::PublicKey {
    sim.identities[1].public()
}

/// The producer's log without records matching `drop`.
fn without(log: &[LogRecord], drop: impl Fn(&LogRecord) -> bool) -> Vec<LogRecord> {
    log.iter().filter(|r| !drop(r)).cloned().collect()
}

fn is_producer_cp(sim: &SimSession, r: &LogRecord, keep: impl Fn(u64) -> bool) -> bool {
    matches!(r, LogRecord::Checkpoint(c) if c.signer == producer(sim) && !keep(c.body.index))
}

#[test]
fn a_receipt_the_producer_signs_itself_cannot_make_late_seconds_live() {
    let sim = simulate(&SimConfig { outage: Some(10..25), ..SimConfig::default() });
    let honest = report(&sim, &sim.recordings[0], &sim.logs, VerifyOptions::default());
    assert_eq!(honest.totals.witnessed_late, 5);
    // The producer receipts its own checkpoints "instantly", and signs a receipt claiming
    // to be the witness's (a forgery: it lacks the witness's key).
    let mut log = sim.logs[0].clone();
    for cp in sim.own_checkpoints(0) {
        log.push(LogRecord::Receipt(
            cp.receipt(&sim.identities[0], Timestamp { wall_ms: 0, mono_ms: 0 }),
        ));
        let mut forged = cp.receipt(&sim.identities[0], Timestamp { wall_ms: 0, mono_ms: 1 });
        forged.signer = witness(&sim);
        log.push(LogRecord::Receipt(forged));
    }
    let r = report(&sim, &sim.recordings[0], &[log, sim.logs[1].clone()], VerifyOptions::default());
    assert_eq!(r.totals.witnessed_late, 5, "{:?}", r.totals);
    assert_eq!(r.axes.witnessing.state, AxisState::SomeLate);
    assert!(r.axes.witnessing.rests_on == vec![witness(&sim)]);
    assert!(r.findings.iter().any(|f| matches!(f, Finding::BadSignature { claimed_signer, .. } if *claimed_signer == witness(&sim))));
}

#[test]
fn a_witness_cannot_make_an_honest_recording_late_with_later_receipts() {
    let sim = simulate(&SimConfig::default());
    // The witness signs a second, late receipt for every chunk; the producer's log holds
    // the ones it sent during the meeting.
    let mut wlog = sim.logs[1].clone();
    for cp in sim.own_checkpoints(0) {
        wlog.push(LogRecord::Receipt(
            cp.receipt(&sim.identities[1], Timestamp { wall_ms: 0, mono_ms: 99_000 }),
        ));
    }
    let r = report(
        &sim,
        &sim.recordings[0],
        &[sim.logs[0].clone(), wlog.clone()],
        VerifyOptions::default(),
    );
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.findings);
    // An impossible time (receipted before the audio existed) is named, with its signer.
    let cp = sim.own_checkpoints(0)[20];
    wlog.push(LogRecord::Receipt(
        cp.receipt(&sim.identities[1], Timestamp { wall_ms: 0, mono_ms: 100 }),
    ));
    wlog.push(LogRecord::Receipt(
        cp.receipt(&sim.identities[1], Timestamp { wall_ms: 0, mono_ms: 1 << 63 }),
    ));
    let r =
        report(&sim, &sim.recordings[0], &[sim.logs[0].clone(), wlog], VerifyOptions::default());
    let found = r.findings.iter().find_map(|f| match f {
        Finding::ImpossibleReceiptTime { witness: w, first_index, count, .. } => {
            Some((*w, *first_index, *count))
        }
        _ => None,
    });
    assert_eq!(found, Some((witness(&sim), 20, 2)), "{:?}", r.findings);
    assert!(matches!(r.chunks[20].status, ChunkStatus::WitnessedLive(_)));
    assert!(!r.axes.witnessing.holds);
}

#[test]
fn cutting_the_end_and_withholding_records_never_reads_complete() {
    let sim = simulate(&SimConfig::default());
    let cut = sim.recordings[0][..25 * PPC].to_vec();
    // The producer hands in its own log without the last five seconds' records and
    // without the co-signed end: no key is needed for that.
    let gone = |r: &LogRecord| match r {
        LogRecord::Checkpoint(c) => c.signer == producer(&sim) && c.body.index >= 25,
        LogRecord::Receipt(r) => {
            r.signer == witness(&sim)
                && sim.own_checkpoints(0)[25..].iter().any(|c| c.hash() == r.body.checkpoint)
        }
        LogRecord::End(_) => true,
        _ => false,
    };
    let log = without(&sim.logs[0], gone);
    let r = report(&sim, &cut, std::slice::from_ref(&log), VerifyOptions::default());
    assert_ne!(r.verdict, Verdict::Intact);
    assert_eq!(r.axes.completeness.state, AxisState::NotEstablished);
    assert_eq!(r.axes.completeness.witnessed_through, Some(24));
    assert!(r.axes.integrity.holds);
    // With the co-signed end left in, the cut is named.
    let mut with_end = log;
    with_end.push(sim.logs[0].last().cloned().expect("end"));
    let r = report(&sim, &cut, &[with_end], VerifyOptions::default());
    assert_eq!(r.axes.completeness.state, AxisState::Incomplete);
    assert!(r.findings.iter().any(
        |f| matches!(f, Finding::EndMismatch { signers, .. } if signers.contains(&witness(&sim)))
    ));
    // The producer's own log with nothing from the witness: nothing is established.
    let alone = without(&sim.logs[0], |r| matches!(r, LogRecord::Receipt(_) | LogRecord::End(_)));
    let r = report(&sim, &sim.recordings[0], &[alone], VerifyOptions::default());
    assert_eq!(r.axes.completeness.state, AxisState::NotEstablished);
    assert_eq!(r.axes.completeness.witnessed_through, None);
    assert_eq!(r.axes.witnessing.state, AxisState::SomeUnwitnessed);
}

#[test]
fn withheld_evidence_is_never_blamed_on_the_recording() {
    let sim = simulate(&SimConfig::default());
    // The witness hands in its log without the producer's checkpoints 10..=14 and
    // without its own receipts for 10..=19.
    let hashes: Vec<_> = sim.own_checkpoints(0).iter().map(|c| c.hash()).collect();
    let wlog = without(&sim.logs[1], |r| match r {
        LogRecord::Checkpoint(c) => c.signer == producer(&sim) && (10..15).contains(&c.body.index),
        LogRecord::Receipt(r) => hashes[10..20].contains(&r.body.checkpoint),
        _ => false,
    });
    let r = report(&sim, &sim.recordings[0], &[wlog], VerifyOptions::default());
    assert!(r.regions.is_empty(), "{:?}", r.regions);
    for c in &r.chunks[10..20] {
        match c.status {
            ChunkStatus::WitnessedLive(w) => assert_eq!(w.via_index, 20),
            ChunkStatus::WitnessedLate(w) => assert_eq!(w.via_index, 20),
            s => panic!("chunk {}: {s:?}", c.index),
        }
    }
    assert!(r.chunks[10..15].iter().all(|c| c.proven_by_chain));
    assert!(r.findings.contains(&Finding::EvidenceGap { first: 10, last: 14, proven: true }));
    // When the audio does not prove the chain either, it is "not covered", not inserted.
    let mut p = sim.recordings[0].clone();
    p[12 * PPC].data[0] ^= 1;
    let r = report(
        &sim,
        &p,
        &[without(&sim.logs[1], |r| is_producer_cp(&sim, r, |i| !(10..15).contains(&i)))],
        VerifyOptions::default(),
    );
    assert!(
        r.regions
            .iter()
            .all(|g| matches!(g.kind, RegionKind::NotCovered { from: 10, to: Some(14) })),
        "{:?}",
        r.regions
    );
    assert_eq!(r.axes.integrity.state, AxisState::PartlyUncovered);
}

#[test]
fn an_end_only_the_witness_signed_is_its_claim_not_a_fact() {
    let sim = simulate(&SimConfig::default());
    let LogRecord::End(real) = sim.logs[1].last().cloned().expect("end") else { panic!() };
    let mut claim = real.record.clone();
    claim.finals[0].chunks = 12;
    claim.finals[0].recording_sha256 = Some(dualrec_proof::sha256(b"some other file"));
    let claim =
        CoSigned::<EndRecord> { signatures: vec![claim.sign(&sim.identities[1])], record: claim };
    let mut wlog = sim.logs[1].clone();
    wlog.push(LogRecord::End(claim));
    let r = report_with(
        &sim,
        &sim.recordings[0],
        &[wlog],
        VerifyOptions::default(),
        None,
        Some(dualrec_proof::sha256(b"the file")),
    );
    assert!(r.findings.iter().any(
        |f| matches!(f, Finding::PeerClaim { signer, chunks: 12 } if *signer == witness(&sim))
    ));
    assert!(!r.findings.iter().any(|f| matches!(f, Finding::FileHashMismatch { .. })));
}

#[test]
fn who_ended_it_is_the_party_the_co_signed_end_names() {
    let sim = simulate(&SimConfig::default());
    for party in 0..2 {
        let r =
            report(&sim, &sim.recordings[0], &[sim.logs[party].clone()], VerifyOptions::default());
        assert_eq!(r.session.ended_by, Some(producer(&sim)));
    }
}

#[test]
fn a_swap_of_two_distant_seconds_names_exactly_those_two() {
    let sim = simulate(&SimConfig::default());
    let mut p = sim.recordings[0].clone();
    let five: Vec<Packet> = p[5 * PPC..6 * PPC].to_vec();
    let nine: Vec<Packet> = p[9 * PPC..10 * PPC].to_vec();
    p.splice(5 * PPC..6 * PPC, nine);
    p.splice(9 * PPC..10 * PPC, five);
    let r = report(&sim, &renumber(p), &sim.logs, VerifyOptions::default());
    let moved: Vec<u64> = r
        .chunks
        .iter()
        .filter(|c| matches!(c.status, ChunkStatus::Moved { .. }))
        .map(|c| c.index)
        .collect();
    assert_eq!(moved, vec![5, 9]);
    assert!(
        r.chunks
            .iter()
            .filter(|c| ![5, 9].contains(&c.index))
            .all(|c| matches!(c.status, ChunkStatus::WitnessedLive(_)))
    );
    assert!(r.regions.is_empty());
}

#[test]
fn a_rotation_and_a_duplicate_are_named() {
    let sim = simulate(&SimConfig::default());
    let mut p = sim.recordings[0].clone();
    p[3 * PPC..6 * PPC].rotate_left(PPC); // 4,5,3
    let dup: Vec<Packet> = p[20 * PPC..21 * PPC].to_vec();
    p.splice(25 * PPC..25 * PPC, dup);
    let r = report(&sim, &renumber(p), &sim.logs, VerifyOptions::default());
    assert!(matches!(r.chunks[3].status, ChunkStatus::Moved { .. }), "{:?}", &r.chunks[3..6]);
    assert!(
        r.regions.iter().any(
            |g| g.kind == RegionKind::Duplicate { of: 20 } && g.first_packet == 25 * PPC as u64
        ),
        "{:?}",
        r.regions
    );
    assert_eq!(r.axes.integrity.state, AxisState::Altered);
}

#[test]
fn a_re_signed_second_is_altered_not_moved() {
    let sim = simulate(&SimConfig::default());
    // The producer replaces second 7 and signs a new checkpoint for it with its own key.
    let mut p = sim.recordings[0].clone();
    for pk in &mut p[7 * PPC..8 * PPC] {
        pk.data[0] ^= 0x55;
    }
    let mut cp = sim.own_checkpoints(0)[7];
    let hashes: Vec<_> =
        p[7 * PPC..8 * PPC].iter().map(|x| dualrec_proof::packet_hash(&x.data)).collect();
    cp.body.digest = dualrec_proof::chunk_digest(&hashes);
    let resigned = cp.body.sign(&sim.identities[0]);
    let mut log = sim.logs[0].clone();
    log.push(LogRecord::Checkpoint(resigned));
    let r = report(&sim, &p, &[log], VerifyOptions::default());
    assert_eq!(r.chunks[7].status, ChunkStatus::Altered);
    assert!(r.regions.iter().any(|g| g.kind == RegionKind::Resigned { of: 7 }), "{:?}", r.regions);
    assert!(r.findings.iter().any(
        |f| matches!(f, Finding::Equivocation { index: 7, signer, .. } if *signer == producer(&sim))
    ));
}

#[test]
fn silence_repeats_one_digest_and_a_cut_inside_it_is_still_exact() {
    let sim = simulate(&SimConfig { silence: Some(10..20), ..SimConfig::default() });
    let r = report(&sim, &sim.recordings[0], &sim.logs, VerifyOptions::default());
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.findings);
    let mut p = sim.recordings[0].clone();
    p.drain(13 * PPC..16 * PPC); // three of the ten silent seconds
    let r = report(&sim, &renumber(p), &sim.logs, VerifyOptions::default());
    assert_eq!(r.totals.removed, 3, "{:?}", r.chunks);
    assert!(r.regions.is_empty(), "{:?}", r.regions);
    assert_eq!(r.totals.moved, 0);
    assert!(r.chunks[20..].iter().all(|c| matches!(c.status, ChunkStatus::WitnessedLive(_))));
}

fn honest_playback(sim: &SimSession) -> Playback {
    let end = sim.recordings[0].len() as u64 * 960;
    Playback {
        channels: 1,
        pre_skip: 312,
        output_gain: 0,
        final_granule: Some(end - 500),
        audio_end: end,
    }
}

#[test]
fn header_edits_that_change_what_is_heard_are_playback_altered() {
    let sim = simulate(&SimConfig::default());
    let honest = honest_playback(&sim);
    let r = report_with(
        &sim,
        &sim.recordings[0],
        &sim.logs,
        VerifyOptions::default(),
        Some(honest),
        None,
    );
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.findings);
    for (field, pb) in [
        ("output_gain", Playback { output_gain: -32768, ..honest }),
        ("pre_skip", Playback { pre_skip: 48_000, ..honest }),
        (
            "final_granule",
            Playback { final_granule: Some(honest.audio_end - 5 * 48_000), ..honest },
        ),
        ("channels", Playback { channels: 2, ..honest }),
    ] {
        let r = report_with(
            &sim,
            &sim.recordings[0],
            &sim.logs,
            VerifyOptions::default(),
            Some(pb),
            None,
        );
        assert_eq!(r.axes.integrity.state, AxisState::PlaybackAltered, "{field}");
        assert!(
            r.findings
                .iter()
                .any(|f| matches!(f, Finding::PlaybackAltered { field: x, .. } if x == field))
        );
        assert_eq!(r.verdict, Verdict::Problems);
    }
}

#[test]
fn a_remux_is_recognised_as_a_container_rewrite() {
    let mut sim = simulate(&SimConfig::default());
    let signed = dualrec_proof::sha256(b"original file");
    for log in &mut sim.logs {
        if let Some(LogRecord::End(e)) = log.last_mut() {
            e.record.finals[0].recording_sha256 = Some(signed);
            e.signatures = sim.identities.iter().map(|id| e.record.sign(id)).collect();
        }
    }
    let remuxed = dualrec_proof::sha256(b"remuxed file");
    let r = report_with(
        &sim,
        &sim.recordings[0],
        &sim.logs,
        VerifyOptions::default(),
        None,
        Some(remuxed),
    );
    assert_eq!(r.axes.integrity.state, AxisState::ContainerRewritten);
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.findings);
    let mut p = sim.recordings[0].clone();
    p[3].data[1] ^= 1;
    let r = report_with(&sim, &p, &sim.logs, VerifyOptions::default(), None, Some(remuxed));
    assert!(r.findings.iter().any(|f| matches!(f, Finding::FileHashMismatch { .. })));
    assert_eq!(r.axes.integrity.state, AxisState::Altered);
}

#[test]
fn an_expected_key_that_is_not_a_party_is_a_problem() {
    let sim = simulate(&SimConfig::default());
    let fp = witness(&sim).fingerprint().to_string();
    let ok = VerifyOptions {
        expect: vec![ExpectedParty {
            label: "Sam".into(),
            fingerprint: fp.to_uppercase().replace('-', " "),
        }],
        ..VerifyOptions::default()
    };
    assert_eq!(report(&sim, &sim.recordings[0], &sim.logs, ok).verdict, Verdict::Intact);
    let other = dualrec_proof::sim::sim_identity(5, 5).public().fingerprint().to_string();
    let bad = VerifyOptions {
        expect: vec![ExpectedParty { label: "Sam".into(), fingerprint: other }],
        ..VerifyOptions::default()
    };
    let r = report(&sim, &sim.recordings[0], &sim.logs, bad);
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::UnexpectedParty { label, .. } if label == "Sam"))
    );
    assert_eq!(r.verdict, Verdict::Problems);
}

#[test]
fn a_capture_gap_stated_long_after_is_marked_late() {
    let mut sim = simulate(&SimConfig { chunks: 6, ..SimConfig::default() });
    let gap = dualrec_proof::CaptureGap {
        session: sim.start.record.session,
        first_sample: 48_000,
        samples: 48_000,
        time: Timestamp { wall_ms: 0, mono_ms: 86_400_000 },
    }
    .sign(&sim.identities[0]);
    sim.logs[0].push(LogRecord::Gap(gap));
    let r = report(&sim, &sim.recordings[0], &sim.logs, VerifyOptions::default());
    assert!(r.findings.iter().any(|f| matches!(f, Finding::CaptureGap { late: true, .. })));
}

#[test]
fn absurd_times_and_positions_are_findings_not_panics() {
    let sim = simulate(&SimConfig { chunks: 4, ..SimConfig::default() });
    let mut log = sim.logs[0].clone();
    let mut cp = sim.own_checkpoints(0)[2];
    cp.body.first_sample = u64::MAX - 5;
    cp.body.first_packet = u64::MAX - 5;
    cp.body.time = Timestamp { wall_ms: u64::MAX, mono_ms: u64::MAX };
    let cp = cp.body.sign(&sim.identities[0]);
    log.push(LogRecord::Checkpoint(cp));
    log.push(LogRecord::Receipt(
        cp.receipt(&sim.identities[1], Timestamp { wall_ms: u64::MAX, mono_ms: u64::MAX }),
    ));
    let r = report(&sim, &sim.recordings[0], &[log], VerifyOptions::default());
    assert_eq!(r.verdict, Verdict::Problems);
    assert!(r.findings.iter().any(|f| matches!(f, Finding::Equivocation { index: 2, .. })));
}

#[test]
fn a_witnessed_checkpoint_with_absurd_positions_is_a_finding_not_a_panic() {
    let sim = simulate(&SimConfig { chunks: 5, ..SimConfig::default() });
    let mut log: Vec<LogRecord> = vec![sim.logs[1][0].clone()];
    for (i, cp) in sim.own_checkpoints(0).into_iter().enumerate() {
        let mut body = cp.body;
        if i == 3 {
            body.first_packet = u64::MAX - 1;
            body.first_sample = u64::MAX - 1;
            body.packet_count = u32::MAX;
            body.samples = u32::MAX;
        }
        let cp = body.sign(&sim.identities[0]);
        // The witness receipts it too (a colluding or careless witness).
        log.push(LogRecord::Checkpoint(cp));
        log.push(LogRecord::Receipt(
            cp.receipt(&sim.identities[1], Timestamp { wall_ms: 0, mono_ms: u64::MAX }),
        ));
    }
    let r = report(&sim, &sim.recordings[0], &[log], VerifyOptions::default());
    assert_eq!(r.verdict, Verdict::Problems);
    assert!(
        r.findings.iter().any(|f| matches!(f, Finding::ChainBroken { index: 3, .. })),
        "{:?}",
        r.findings
    );
}

mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
        /// For random edits and random subsets of the evidence handed in, nothing is
        /// witnessed that the witness's receipts do not cover, completeness never holds
        /// without an end the witness co-signed, and an edited recording is never intact.
        #[test]
        fn no_claim_for_the_producer_without_the_witness(
            keep in proptest::collection::vec(any::<bool>(), 64),
            edit in proptest::option::of((0usize..30 * PPC, any::<u8>())),
            cut in proptest::option::of(0usize..30),
            which in 0usize..3,
        ) {
            let sim = simulate(&SimConfig::default());
            let logs: Vec<Vec<LogRecord>> = match which { 0 => vec![sim.logs[0].clone()], 1 => vec![sim.logs[1].clone()], _ => sim.logs.clone() };
            let mut n = 0usize;
            let logs: Vec<Vec<LogRecord>> = logs.into_iter().map(|l| l.into_iter().filter(|r| {
                n += 1;
                matches!(r, LogRecord::Start(_)) || keep[n % keep.len()]
            }).collect()).collect();
            let mut p = sim.recordings[0].clone();
            let mut edited = false;
            if let Some((at, x)) = edit && x != 0 {
                p[at].data[0] ^= x;
                edited = true;
            }
            if let Some(c) = cut { p.truncate(c * PPC); edited = true; }
            let r = report(&sim, &p, &logs, VerifyOptions::default());
            let w = witness(&sim);
            let witness_receipts: Vec<_> = logs.iter().flatten().filter_map(|r| match r {
                LogRecord::Receipt(r) if r.signer == w => Some(r.body.checkpoint),
                _ => None,
            }).collect();
            let cps = sim.own_checkpoints(0);
            for c in &r.chunks {
                if let ChunkStatus::WitnessedLive(x) | ChunkStatus::WitnessedLate(x) = c.status {
                    prop_assert_eq!(x.witness, w);
                    prop_assert!(x.via_index >= c.index);
                    prop_assert!(witness_receipts.contains(&cps[x.via_index as usize].hash()));
                }
            }
            let cosigned_end = logs.iter().flatten().any(|r| matches!(r, LogRecord::End(e) if e.signatures.iter().any(|s| s.signer == w)));
            if r.axes.completeness.holds { prop_assert!(cosigned_end); }
            if edited { prop_assert_ne!(r.verdict, Verdict::Intact); }
        }
    }
}
