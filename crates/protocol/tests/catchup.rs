//! Finishing an earlier meeting (SPEC §12.6) without a network: two logs cut short at the
//! end are completed by two `Catchup`s talking to each other; hostile requests are refused
//! and store nothing.

use dualrec_proof::sim::{SimConfig, SimSession, log_bytes, simulate};
use dualrec_proof::{
    ChunkStatus, CoSigned, EndRecord, LogRecord, Recording, Verifier, VerifyOptions, read_log,
};
use dualrec_protocol::{Catchup, Request, Response};

const CUT: u64 = 6;

/// A ten-second meeting whose link went down after second `CUT`: each log holds the
/// other's checkpoints and receipts only before it, and an end signed by its owner alone.
fn cut_short(sim: &SimSession) -> Vec<Vec<LogRecord>> {
    let keys: Vec<_> = sim.identities.iter().map(|i| i.public()).collect();
    (0..2)
        .map(|me| {
            let own_hashes: Vec<_> = sim.own_checkpoints(me).iter().map(|c| c.hash()).collect();
            let peer_late: Vec<_> =
                sim.own_checkpoints(1 - me).iter().skip(CUT as usize).map(|c| c.hash()).collect();
            let mut log: Vec<LogRecord> = sim.logs[me]
                .iter()
                .filter(|r| match r {
                    LogRecord::Checkpoint(c) => c.signer == keys[me] || c.body.index < CUT,
                    // Receipts of our late seconds by the peer, and ours of its late ones.
                    LogRecord::Receipt(r) => {
                        !(own_hashes[CUT as usize..].contains(&r.body.checkpoint)
                            || peer_late.contains(&r.body.checkpoint))
                    }
                    LogRecord::End(_) => false,
                    _ => true,
                })
                .cloned()
                .collect();
            let LogRecord::End(end) = sim.logs[me].last().expect("end") else { panic!("end") };
            let mut record = end.record.clone();
            record.finals.retain(|f| f.party == keys[me]);
            record.ended_by = keys[me];
            let signatures = vec![record.sign(&sim.identities[me])];
            log.push(LogRecord::End(CoSigned { record, signatures }));
            log
        })
        .collect()
}

fn verify(sim: &SimSession, producer: usize, witness_log: &[LogRecord]) -> dualrec_proof::Report {
    let mut v = Verifier::new(VerifyOptions::default());
    v.add_log("witness", read_log(&log_bytes(witness_log)).expect("log"));
    let packets = &sim.recordings[producer];
    v.verify(&Recording { ..sim.recording(producer, packets) }).expect("report")
}

/// Runs A's requests against B's catch-up, storing in both logs as the executors would.
fn deliver(
    sim: &SimSession,
    logs: &mut [Vec<LogRecord>],
    from: usize,
    catchups: &mut [Catchup],
    wall_ms: u64,
) {
    let to = 1 - from;
    while let Some(request) = catchups[from].next_request() {
        let (store, response) = catchups[to].on_request(&sim.identities[to], &request, wall_ms);
        logs[to].extend(store);
        let stored = catchups[from].on_response(Some(response)).expect("a good answer");
        logs[from].extend(stored);
    }
}

#[test]
fn two_logs_cut_short_are_completed_and_the_last_seconds_show_late() {
    let sim = simulate(&SimConfig { chunks: 10, ..SimConfig::default() });
    let keys: Vec<_> = sim.identities.iter().map(|i| i.public()).collect();
    let mut logs = cut_short(&sim);
    let before = verify(&sim, 0, &logs[1]);
    assert_ne!(before.axes.completeness.state, dualrec_proof::AxisState::Complete);

    let mut catchups: Vec<Catchup> = (0..2)
        .map(|me| Catchup::from_log(keys[me], keys[1 - me], &logs[me]).expect("between us"))
        .collect();
    assert!(!catchups[0].is_done() && !catchups[1].is_done());
    // An hour later, by the wall clock.
    let later = dualrec_proof::sim::SIM_EPOCH_MS + 3_600_000;
    deliver(&sim, &mut logs, 0, &mut catchups, later);
    deliver(&sim, &mut logs, 1, &mut catchups, later);
    assert!(catchups[0].is_done() && catchups[1].is_done());

    for producer in 0..2 {
        let report = verify(&sim, producer, &logs[1 - producer]);
        assert!(report.axes.completeness.holds, "{:?}", report.findings);
        assert!(report.axes.integrity.holds, "{:?}", report.findings);
        for c in &report.chunks {
            let late = matches!(c.status, ChunkStatus::WitnessedLate(_));
            let live = matches!(c.status, ChunkStatus::WitnessedLive(_));
            // Before the cut, live; after it, late by about the hour.
            assert!(if c.index < CUT { live } else { late }, "{c:?}");
        }
    }
    // Asked again, nothing is stored twice.
    let again: Vec<Catchup> = (0..2)
        .map(|me| Catchup::from_log(keys[me], keys[1 - me], &logs[me]).expect("between us"))
        .collect();
    assert!(again.iter().all(Catchup::is_done));
}

#[test]
fn hostile_requests_about_an_earlier_meeting_are_refused_and_store_nothing() {
    let sim = simulate(&SimConfig { chunks: 10, ..SimConfig::default() });
    let keys: Vec<_> = sim.identities.iter().map(|i| i.public()).collect();
    let logs = cut_short(&sim);
    let mut b = Catchup::from_log(keys[1], keys[0], &logs[1]).expect("between us");
    let a_cps = sim.own_checkpoints(0);
    let refused = |(store, response): (Vec<LogRecord>, Response)| {
        assert!(store.is_empty(), "{store:?}");
        matches!(response, Response::Refused { .. })
    };
    let me = &sim.identities[1];
    // A checkpoint that skips one of A's seconds does not continue the chain B holds.
    assert!(refused(b.on_request(me, &Request::Checkpoint(a_cps[CUT as usize + 1]), 1)));
    // A checkpoint altered in flight.
    let mut bad = a_cps[CUT as usize];
    bad.body.digest.0[0] ^= 1;
    assert!(refused(b.on_request(me, &Request::Checkpoint(bad), 1)));
    // An end that speaks for B's recording too, or names B as the one that ended it.
    let LogRecord::End(a_end) = logs[0].last().expect("end") else { panic!("end") };
    let mut foreign: EndRecord = a_end.record.clone();
    foreign.finals.push(dualrec_proof::PartyFinal {
        party: keys[1],
        chunks: 3,
        last_chain: dualrec_proof::Digest([0; 32]),
        recording_sha256: None,
    });
    let signature = foreign.sign(&sim.identities[0]);
    assert!(refused(b.on_request(me, &Request::Stop { end: foreign, signature }, 1)));
    let mut blames_b = a_end.record.clone();
    blames_b.ended_by = keys[1];
    blames_b.reason = dualrec_proof::EndReason::Stopped;
    let signature = blames_b.sign(&sim.identities[0]);
    // B's own end names B, so B may agree it ended it: only a third name is refused.
    let (store, _) = b.on_request(me, &Request::Stop { end: blames_b, signature }, 1);
    assert_eq!(store.len(), 1, "B itself ended it, as B's own end says");
    // Anything but a checkpoint or an end has no place here.
    let ping = Request::Ping { nonce: 1 };
    assert!(refused(b.on_request(me, &ping, 1)));
    // A log of a meeting between other devices is not one to finish.
    let stranger = dualrec_proof::sim::sim_identity(77, 0).public();
    assert!(Catchup::from_log(keys[1], stranger, &logs[1]).is_err());
}
