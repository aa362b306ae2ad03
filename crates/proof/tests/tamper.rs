//! The tamper matrix of issue #2: every kind of damage is detected, localised to the
//! right chunk, and the chunks after it still verify.

use dualrec_proof::sim::{SimConfig, SimSession, log_bytes, sim_identity, simulate};
use dualrec_proof::{
    AxisState, ChunkStatus, ExcerptPlace, Finding, LogError, LogRecord, Packet, Recording,
    RegionKind, Report, Verdict, Verifier, VerifyError, VerifyOptions, read_log,
};

const PPC: usize = 50; // packets per one-second chunk

fn verify_with(
    sim: &SimSession,
    party: usize,
    packets: &[Packet],
    logs: &[Vec<u8>],
    options: VerifyOptions,
) -> Report {
    let mut v = Verifier::new(options);
    for (i, bytes) in logs.iter().enumerate() {
        v.add_log(format!("log{i}"), read_log(bytes).expect("log reads"));
    }
    v.verify(&sim.recording(party, packets)).expect("a report")
}

fn both_logs(sim: &SimSession) -> Vec<Vec<u8>> {
    sim.logs.iter().map(|l| log_bytes(l)).collect()
}

fn verify(sim: &SimSession, packets: &[Packet]) -> Report {
    verify_with(sim, 0, packets, &both_logs(sim), VerifyOptions::default())
}

/// Renumbers packet positions as a file would after an edit (contiguous 20 ms frames).
fn renumber(mut packets: Vec<Packet>) -> Vec<Packet> {
    for (i, p) in packets.iter_mut().enumerate() {
        p.position = i as u64 * 960;
    }
    packets
}

fn status(r: &Report, index: u64) -> ChunkStatus {
    r.chunks[index as usize].status
}

fn live_except(r: &Report, bad: &[u64]) {
    for c in &r.chunks {
        if !bad.contains(&c.index) {
            assert!(
                matches!(c.status, ChunkStatus::WitnessedLive { .. }),
                "chunk {} should be witnessed live, is {:?}",
                c.index,
                c.status
            );
        }
    }
}

#[test]
fn untouched_recording_is_intact_with_each_log_alone_and_both() {
    let sim = simulate(&SimConfig::default());
    let logs = both_logs(&sim);
    for party in 0..2 {
        for set in [vec![logs[0].clone()], vec![logs[1].clone()], logs.clone()] {
            let r =
                verify_with(&sim, party, &sim.recordings[party], &set, VerifyOptions::default());
            assert_eq!(r.verdict, Verdict::Intact, "{:#?}", r.findings);
            assert_eq!(r.totals.witnessed_live, 30);
            assert!(r.regions.is_empty());
            assert!(r.session.ends.iter().all(|e| !e.one_sided));
            assert_eq!(r.axes.completeness.state, AxisState::Complete);
            assert_eq!(r.session.ended_by, Some(sim.identities[0].public()));
        }
    }
}

#[test]
fn flipped_byte_in_one_chunk_is_altered_there_only() {
    let sim = simulate(&SimConfig::default());
    let mut p = sim.recordings[0].clone();
    p[7 * PPC + 3].data[5] ^= 0x01;
    let r = verify(&sim, &p);
    assert_eq!(r.verdict, Verdict::Problems);
    assert_eq!(status(&r, 7), ChunkStatus::Altered);
    live_except(&r, &[7]);
    assert_eq!(r.regions.len(), 1);
    assert_eq!(r.regions[0].first_packet, 7 * PPC as u64);
    assert_eq!(r.regions[0].packets, PPC as u64);
    assert_eq!(r.regions[0].kind, RegionKind::Replaces { chunks: vec![7] });
    assert_eq!(r.regions[0].start_sample, 7 * 48_000);
    assert_eq!(r.axes.integrity.state, AxisState::Altered);
}

#[test]
fn removed_chunk_is_removed_and_later_chunks_resynchronise() {
    let sim = simulate(&SimConfig::default());
    let mut p = sim.recordings[0].clone();
    p.drain(12 * PPC..13 * PPC);
    let r = verify(&sim, &renumber(p));
    assert_eq!(status(&r, 12), ChunkStatus::Removed);
    live_except(&r, &[12]);
    assert!(r.regions.is_empty());
    assert_eq!(r.axes.completeness.state, AxisState::Incomplete);
    assert_eq!(r.chunks[13].found_at_packet, Some(12 * PPC as u64));
}

#[test]
fn inserted_audio_is_named_with_its_place_and_nothing_else_fails() {
    let sim = simulate(&SimConfig::default());
    let other = simulate(&SimConfig { seed: 9, ..SimConfig::default() });
    let mut p = sim.recordings[0].clone();
    let foreign: Vec<Packet> = other.recordings[0][..PPC + 7].to_vec();
    p.splice(6 * PPC..6 * PPC, foreign);
    let r = verify(&sim, &renumber(p));
    live_except(&r, &[]);
    assert_eq!(r.regions.len(), 1);
    assert_eq!(r.regions[0].first_packet, 6 * PPC as u64);
    assert_eq!(r.regions[0].packets, PPC as u64 + 7);
    assert_eq!(r.regions[0].kind, RegionKind::Inserted);
    assert_eq!(r.verdict, Verdict::Problems);
}

#[test]
fn swapped_neighbours_are_reported_moved() {
    let sim = simulate(&SimConfig::default());
    let mut p = sim.recordings[0].clone();
    let (a, b) = p.split_at_mut(4 * PPC);
    a[3 * PPC..].swap_with_slice(&mut b[..PPC]);
    let r = verify(&sim, &renumber(p));
    assert_eq!(status(&r, 3), ChunkStatus::Moved { found_at_packet: 4 * PPC as u64 });
    live_except(&r, &[3]);
    assert_eq!(r.chunks[4].found_at_packet, Some(3 * PPC as u64));
    assert!(r.regions.is_empty(), "{:?}", r.regions);
    assert_eq!(r.verdict, Verdict::Problems);
}

#[test]
fn chunk_replaced_by_other_audio_is_altered() {
    let sim = simulate(&SimConfig::default());
    let mut p = sim.recordings[0].clone();
    // Same length, different audio (the other party's chunk 9).
    p.splice(9 * PPC..10 * PPC, sim.recordings[1][9 * PPC..10 * PPC].iter().cloned());
    let r = verify(&sim, &renumber(p));
    assert_eq!(status(&r, 9), ChunkStatus::Altered);
    live_except(&r, &[9]);
    assert_eq!(r.regions[0].kind, RegionKind::Replaces { chunks: vec![9] });
}

#[test]
fn end_cut_off_is_removed_chunks_and_incomplete() {
    let sim = simulate(&SimConfig::default());
    let p = sim.recordings[0][..25 * PPC].to_vec();
    let r = verify(&sim, &p);
    for i in 25..30 {
        assert_eq!(status(&r, i), ChunkStatus::Removed);
    }
    live_except(&r, &[25, 26, 27, 28, 29]);
    assert_eq!(r.totals.removed, 5);
    assert_eq!(r.axes.completeness.state, AxisState::Incomplete);
}

#[test]
fn chunk_spliced_from_another_session_is_altered() {
    let sim = simulate(&SimConfig::default());
    let other = simulate(&SimConfig { seed: 2, ..SimConfig::default() });
    let mut p = sim.recordings[0].clone();
    p.splice(10 * PPC..11 * PPC, other.recordings[0][10 * PPC..11 * PPC].iter().cloned());
    let r = verify(&sim, &renumber(p));
    assert_eq!(status(&r, 10), ChunkStatus::Altered);
    live_except(&r, &[10]);
}

#[test]
fn checkpoint_replayed_from_another_session_is_reported_and_ignored() {
    let sim = simulate(&SimConfig::default());
    let other = simulate(&SimConfig { seed: 2, ..SimConfig::default() });
    let mut log = sim.logs[1].clone();
    let foreign = other.logs[0][1].clone(); // a checkpoint of the other session
    assert!(matches!(foreign, LogRecord::Checkpoint(_)));
    log.insert(5, foreign);
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    assert!(
        r.findings.iter().any(|f| matches!(f, Finding::ForeignSession { record: 5, .. })),
        "{:?}",
        r.findings
    );
    live_except(&r, &[]);
    // A record of another session has nothing to do with this recording.
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.findings);
}

fn checkpoint_position(log: &[LogRecord], producer: usize, sim: &SimSession, index: u64) -> usize {
    log.iter()
        .position(|r| matches!(r, LogRecord::Checkpoint(c) if c.body.index == index && c.signer == sim.identities[producer].public()))
        .expect("checkpoint in log")
}

#[test]
fn forged_checkpoint_signature_is_rejected_and_the_chain_still_proves_its_chunk() {
    let sim = simulate(&SimConfig::default());
    let mut log = sim.logs[1].clone();
    let at = checkpoint_position(&log, 0, &sim, 4);
    if let LogRecord::Checkpoint(c) = &mut log[at] {
        c.signature.0[10] ^= 0x40;
    }
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::BadSignature { record, .. } if *record == at as u64)),
        "{:?}",
        r.findings
    );
    assert!(r.findings.contains(&Finding::EvidenceGap { first: 4, last: 4, proven: true }));
    // Chunk 4's checkpoint is gone, but checkpoints 3 and 5 prove its audio by the chain.
    assert!(r.regions.is_empty(), "{:?}", r.regions);
    assert_eq!(r.chunks.len(), 30);
    assert!(r.chunks[4].proven_by_chain);
    live_except(&r, &[]);
    assert!(matches!(status(&r, 4), ChunkStatus::WitnessedLive(w) if w.via_index == 5));
}

#[test]
fn forged_signature_in_one_log_is_outvoted_by_the_valid_copy_in_the_other() {
    let sim = simulate(&SimConfig::default());
    let mut log = sim.logs[1].clone();
    let at = checkpoint_position(&log, 0, &sim, 4);
    if let LogRecord::Checkpoint(c) = &mut log[at] {
        c.signature.0[10] ^= 0x40;
    }
    let r = verify_with(
        &sim,
        0,
        &sim.recordings[0],
        &[log_bytes(&sim.logs[0]), log_bytes(&log)],
        VerifyOptions::default(),
    );
    assert!(
        r.findings.iter().any(|f| matches!(f, Finding::BadSignature { log, .. } if log == "log1"))
    );
    assert_eq!(r.totals.witnessed_live, 30);
}

#[test]
fn signature_by_a_non_party_key_is_reported() {
    let sim = simulate(&SimConfig::default());
    let outsider = sim_identity(77, 7);
    let mut log = sim.logs[1].clone();
    let at = checkpoint_position(&log, 0, &sim, 6);
    let LogRecord::Checkpoint(c) = log[at] else { unreachable!() };
    // The outsider signs a rival checkpoint for chunk 6 and a receipt for the real one.
    let mut body = c.body;
    body.digest.0[0] ^= 1;
    log.push(LogRecord::Checkpoint(body.sign(&outsider)));
    log.push(LogRecord::Receipt(c.receipt(&outsider, c.body.time)));
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    let non_party = r
        .findings
        .iter()
        .filter(
            |f| matches!(f, Finding::NonPartySigner { signer, .. } if *signer == outsider.public()),
        )
        .count();
    assert_eq!(non_party, 2, "{:?}", r.findings);
    live_except(&r, &[]);
    assert_eq!(r.verdict, Verdict::Intact, "records of outsiders are set aside: {:?}", r.findings);
}

#[test]
fn edited_log_record_with_fixed_checksum_fails_its_signature() {
    let sim = simulate(&SimConfig::default());
    let mut log = sim.logs[1].clone();
    let at = checkpoint_position(&log, 0, &sim, 8);
    if let LogRecord::Checkpoint(c) = &mut log[at] {
        c.body.time.wall_ms += 60_000; // pretend it was made a minute later
    }
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::BadSignature { record, .. } if *record == at as u64))
    );
    assert!(r.findings.contains(&Finding::EvidenceGap { first: 8, last: 8, proven: true }));
}

#[test]
fn edited_log_bytes_without_checksum_fix_are_corruption_at_that_record() {
    let sim = simulate(&SimConfig::default());
    let log = &sim.logs[1];
    let at = checkpoint_position(log, 0, &sim, 8);
    let mut bytes = log_bytes(log);
    let offset = log_bytes(&log[..at]).len();
    bytes[offset + 8 + 30] ^= 0xff;
    match read_log(&bytes) {
        Err(LogError::Corrupt { record, offset: o, .. }) => {
            assert_eq!(record, at as u64);
            assert_eq!(o, offset as u64);
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn torn_log_tail_is_reported_and_everything_before_it_verifies() {
    let sim = simulate(&SimConfig::default());
    let full = log_bytes(&sim.logs[1]);
    // Cut inside the end record and the last receipts.
    let cut = full.len() - 500;
    let torn = &full[..cut];
    let c = read_log(torn).expect("a torn tail is not an error");
    let t = c.torn_tail.expect("torn tail reported");
    assert_eq!(t.offset + t.bytes, cut as u64);
    let r = verify_with(&sim, 0, &sim.recordings[0], &[torn.to_vec()], VerifyOptions::default());
    assert!(r.findings.iter().any(|f| matches!(f, Finding::LogTornTail { .. })));
    assert!(r.findings.contains(&Finding::NoEnd));
    assert!(r.totals.witnessed_live >= 28, "{:?}", r.totals);
}

#[test]
fn equivocation_is_reported() {
    let sim = simulate(&SimConfig::default());
    let mut log = sim.logs[1].clone();
    let at = checkpoint_position(&log, 0, &sim, 5);
    let LogRecord::Checkpoint(c) = log[at] else { unreachable!() };
    let mut body = c.body;
    body.digest.0[0] ^= 1;
    log.push(LogRecord::Checkpoint(body.sign(&sim.identities[0])));
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    assert!(
        r.findings.contains(&Finding::Equivocation {
            index: 5,
            versions: 2,
            signer: sim.identities[0].public()
        }),
        "{:?}",
        r.findings
    );
    // The witnessed version is the one checked against the audio.
    assert!(matches!(status(&r, 5), ChunkStatus::WitnessedLive { .. }));
}

#[test]
fn outage_makes_chunks_witnessed_late_with_their_delay() {
    let sim = simulate(&SimConfig { outage: Some(10..25), ..SimConfig::default() });
    let r = verify(&sim, &sim.recordings[0]);
    // Receipts arrive at 25.5 s: chunk 10 (closed at 11 s) is 14.5 s late.
    match status(&r, 10) {
        ChunkStatus::WitnessedLate(w) => {
            assert!((14_400..=14_600).contains(&w.delay_ms), "{w:?}")
        }
        s => panic!("chunk 10: {s:?}"),
    }
    assert!(matches!(status(&r, 20), ChunkStatus::WitnessedLive { .. }));
    assert_eq!(r.totals.witnessed_late, 5); // chunks 10..=14
    assert_eq!(r.verdict, Verdict::Problems);
}

#[test]
fn clock_offset_between_devices_is_estimated_and_removed() {
    let sim = simulate(&SimConfig { clock_skew_ms: 42_000, ..SimConfig::default() });
    let r = verify(&sim, &sim.recordings[0]);
    let off = &r.session.clock_offsets[0];
    assert_eq!(off.method, "two_way");
    assert!((41_990..=42_010).contains(&off.offset_ms), "{off:?}");
    assert_eq!(r.verdict, Verdict::Intact);
}

#[test]
fn without_receipts_chunks_are_signed_only() {
    let sim = simulate(&SimConfig::default());
    let log: Vec<LogRecord> =
        sim.logs[0].iter().filter(|r| !matches!(r, LogRecord::Receipt(_))).cloned().collect();
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    assert_eq!(r.totals.signed_only, 30);
    assert_eq!(r.verdict, Verdict::Problems);
}

#[test]
fn an_excerpt_verifies_on_its_own() {
    let sim = simulate(&SimConfig { chunks: 60, ..SimConfig::default() });
    let excerpt = sim.recordings[0][20 * PPC..35 * PPC].to_vec();
    let r = verify_with(
        &sim,
        0,
        &excerpt,
        &both_logs(&sim),
        VerifyOptions { excerpt: true, ..VerifyOptions::default() },
    );
    assert_eq!(r.totals.witnessed_live, 15);
    assert_eq!(r.totals.outside_excerpt, 45);
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.findings);
    // Without excerpt mode the rest is missing.
    let r = verify_with(&sim, 0, &excerpt, &both_logs(&sim), VerifyOptions::default());
    assert_eq!(r.totals.removed, 45);
}

#[test]
fn one_sided_end_is_represented_and_reported() {
    let sim = simulate(&SimConfig::default());
    let mut log = sim.logs[0].clone();
    if let Some(LogRecord::End(e)) = log.last_mut() {
        e.signatures.truncate(1);
    }
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    let end = &r.session.ends[0];
    assert!(end.one_sided);
    assert_eq!(end.signed_by, vec![sim.identities[0].public()]);
    assert!(r.findings.iter().any(|f| matches!(f, Finding::OneSidedEnd { .. })));
    // Integrity and witnessing hold; but that nothing came after the last receipt rests
    // on the producer's word alone, so completeness is not established.
    assert!(r.axes.integrity.holds && r.axes.witnessing.holds);
    assert_eq!(r.axes.completeness.state, AxisState::NotEstablished);
    assert_eq!(r.axes.completeness.witnessed_through, Some(29));
    assert_eq!(r.verdict, Verdict::Problems);
}

#[test]
fn each_party_may_sign_its_own_end_and_that_is_no_conflict() {
    use dualrec_proof::{CoSigned, EndReason, EndRecord, PartyFinal};
    let sim = simulate(&SimConfig::default());
    let mut log = sim.logs[1].clone();
    let Some(LogRecord::End(original)) = log.pop() else { panic!("end") };
    // Party 1's own end, co-signed, next to party 0's (the original holds both finals).
    let mine = original.record.finals[1].clone();
    let theirs = EndRecord {
        finals: vec![mine],
        ended_by: sim.identities[1].public(),
        reason: EndReason::DurationReached,
        ..original.record.clone()
    };
    let co = CoSigned {
        signatures: vec![theirs.sign(&sim.identities[1]), theirs.sign(&sim.identities[0])],
        record: theirs,
    };
    log.push(LogRecord::End(co));
    log.push(LogRecord::End(original.clone()));
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.findings);
    // The two ends name different parties as having ended it: no one is named.
    assert_eq!(r.session.ended_by, None);
    // But two different accounts of the same producer are.
    let mut other = original.record.clone();
    other.finals[0] = PartyFinal { chunks: 29, ..other.finals[0].clone() };
    let co = CoSigned {
        signatures: vec![other.sign(&sim.identities[0]), other.sign(&sim.identities[1])],
        record: other,
    };
    log.push(LogRecord::End(co));
    let r = verify_with(&sim, 0, &sim.recordings[0], &[log_bytes(&log)], VerifyOptions::default());
    assert!(
        r.findings.iter().any(|f| matches!(f, Finding::ConflictingEnd { .. })),
        "{:?}",
        r.findings
    );
    assert_eq!(r.axes.completeness.state, AxisState::Disputed);
}

#[test]
fn a_capture_gap_signed_by_the_producer_is_reported_and_is_not_an_edit() {
    let mut sim = simulate(&SimConfig { chunks: 6, ..SimConfig::default() });
    let gap = |who: usize, first_sample: u64| {
        dualrec_proof::CaptureGap {
            session: sim.start.record.session,
            first_sample,
            samples: 9_600,
            time: dualrec_proof::Timestamp { wall_ms: 1, mono_ms: 1 },
        }
        .sign(&sim.identities[who])
    };
    let ours = gap(0, 2 * 48_000);
    let theirs = gap(1, 3 * 48_000); // the other party cannot speak for this recording
    let mut forged = gap(0, 4 * 48_000);
    forged.signature.0[0] ^= 1;
    sim.logs[0].extend([LogRecord::Gap(ours), LogRecord::Gap(theirs), LogRecord::Gap(forged)]);
    // Both logs hold the same statement: reported once.
    sim.logs[1].push(LogRecord::Gap(ours));
    let r = verify(&sim, &sim.recordings[0].clone());
    let gaps: Vec<_> =
        r.findings.iter().filter(|f| matches!(f, Finding::CaptureGap { .. })).collect();
    let stated = Finding::CaptureGap {
        first_sample: 2 * 48_000,
        samples: 9_600,
        stated_at_ms: 1,
        late: false,
    };
    assert_eq!(gaps, vec![&stated]);
    assert!(
        r.findings.iter().any(|f| matches!(f, Finding::BadSignature { .. })),
        "the forged one: {:?}",
        r.findings
    );
    live_except(&r, &[]);
    // The disclosed gap alone does not spoil the verdict; the forged record does.
    sim.logs[0].pop();
    let r = verify(&sim, &sim.recordings[0].clone());
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.findings);
    assert!(r.findings.contains(&stated));
}

/// An excerpt cut anywhere, with its place (SPEC §11.5), on its own timeline.
fn placed_excerpt(sim: &SimSession, keep: std::ops::Range<usize>) -> (Vec<Packet>, ExcerptPlace) {
    let p = &sim.recordings[0];
    let chunks: Vec<_> =
        (0..p.len().div_ceil(PPC)).map(|c| c * PPC..(c * PPC + PPC).min(p.len())).collect();
    let place = ExcerptPlace::cut(p, &chunks, keep.clone(), |_| 960);
    (renumber(p[keep].to_vec()), place)
}

fn verify_placed(
    sim: &SimSession,
    packets: &[Packet],
    place: &ExcerptPlace,
) -> Result<Report, VerifyError> {
    let mut v = Verifier::new(VerifyOptions::default());
    for (i, bytes) in both_logs(sim).iter().enumerate() {
        v.add_log(format!("log{i}"), read_log(bytes).expect("log reads"));
    }
    v.verify(&Recording { excerpt: Some(place), ..sim.recording(0, packets) })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Wherever an honest excerpt is cut — on chunk boundaries or inside chunks, at the
    /// start, the middle or the end — it verifies intact, holding exactly its seconds.
    #[test]
    fn an_honest_excerpt_cut_anywhere_is_intact(a in 0usize..600, len in 1usize..300) {
        let sim = simulate(&SimConfig { chunks: 12, ..SimConfig::default() });
        let b = (a + len).min(600);
        let (packets, place) = placed_excerpt(&sim, a..b);
        let r = verify_placed(&sim, &packets, &place).expect("a report");
        proptest::prop_assert_eq!(r.verdict, Verdict::Intact, "{:?} {:?}", r.regions, r.findings);
        let facts = r.excerpt.expect("excerpt facts");
        proptest::prop_assert_eq!(facts.first_sample, Some(a as u64 * 960));
        proptest::prop_assert_eq!(facts.end_sample, Some(b as u64 * 960));
        let held = (a / PPC..=(b - 1) / PPC).count() as u64;
        proptest::prop_assert_eq!(r.totals.witnessed_live, held);
        proptest::prop_assert_eq!(r.totals.outside_excerpt, 12 - held);
    }
}

#[test]
fn an_excerpt_place_that_cannot_be_right_is_an_error() {
    let sim = simulate(&SimConfig { chunks: 4, ..SimConfig::default() });
    let (packets, place) = placed_excerpt(&sim, 70..120);
    let bad = |place: ExcerptPlace| {
        verify_placed(&sim, &packets, &place).map(|_| ()).expect_err("refused")
    };
    let too_many = ExcerptPlace { first_packet: 10, ..place.clone() };
    assert!(matches!(bad(too_many), VerifyError::BadExcerpt(_)));
    let mut odd = place.clone();
    odd.head[0].samples = 7;
    assert!(matches!(bad(odd), VerifyError::BadExcerpt(_)));
    let before_start = ExcerptPlace { first_sample: 100, ..place.clone() };
    assert!(matches!(bad(before_start), VerifyError::BadExcerpt(_)));
    let beyond = ExcerptPlace { first_sample: u64::MAX - 10, ..place };
    assert!(matches!(bad(beyond), VerifyError::BadExcerpt(_)));
}
