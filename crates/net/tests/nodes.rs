//! Real libp2p nodes over loopback TCP in one process: pairing, the exchange of a
//! checkpoint for a receipt, refusal of a device that was never confirmed, liveness.

use std::time::Duration;

use dualrec_net::{NodeConfig, NodeEvent, NodeHandle, TrustedDevices, start};
use dualrec_proof::sim::{SimConfig, simulate};
use dualrec_proof::{Identity, LogRecord, PeerChain, Timestamp};
use dualrec_protocol::{CompactCheckpoint, CompactReceipt, LiveFrame, Proposal, Request, Response};
use tokio::sync::mpsc::Receiver;

fn config(dir: &std::path::Path, name: &str) -> NodeConfig {
    NodeConfig {
        name: name.into(),
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        mdns: false,
        trusted: TrustedDevices::load(&dir.join(format!("{name}-trusted"))).expect("trust store"),
        request_timeout: Duration::from_secs(5),
    }
}

async fn next<F: Fn(&NodeEvent) -> bool>(
    rx: &mut Receiver<NodeEvent>,
    what: &str,
    f: F,
) -> NodeEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e)) if f(&e) => return e,
            Ok(Some(_)) => {}
            _ => panic!("timed out waiting for {what}"),
        }
    }
}

async fn listening(rx: &mut Receiver<NodeEvent>) -> String {
    match next(rx, "listening", |e| matches!(e, NodeEvent::Listening(_))).await {
        NodeEvent::Listening(a) => a.to_string(),
        _ => unreachable!(),
    }
}

async fn pair(
    a: &NodeHandle,
    ra: &mut Receiver<NodeEvent>,
    b: &NodeHandle,
    rb: &mut Receiver<NodeEvent>,
) -> (String, String) {
    a.pair(b.key()).await.expect("pair");
    let code = |e: NodeEvent| match e {
        NodeEvent::PairingCode { code, .. } => code.to_string(),
        _ => unreachable!(),
    };
    let ca = code(next(ra, "code on A", |e| matches!(e, NodeEvent::PairingCode { .. })).await);
    let cb = code(next(rb, "code on B", |e| matches!(e, NodeEvent::PairingCode { .. })).await);
    (ca, cb)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_then_witness_a_checkpoint_and_refuse_a_stranger() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = simulate(&SimConfig { chunks: 3, ..SimConfig::default() });
    let (alice, bob) = (&sim.identities[0], &sim.identities[1]);
    let (a, mut ra) = start(alice, config(dir.path(), "Parent")).expect("node A");
    let (b, mut rb) = start(bob, config(dir.path(), "Worker")).expect("node B");
    let addr_b = listening(&mut rb).await;
    a.dial(&addr_b).await.expect("dial B");
    match next(&mut ra, "hello", |e| matches!(e, NodeEvent::Connected { .. })).await {
        NodeEvent::Connected { name, trusted, .. } => {
            assert_eq!(name, "Worker");
            assert!(!trusted);
        }
        _ => unreachable!(),
    }

    // Before pairing, session messages are refused.
    let cps = sim.own_checkpoints(0);
    assert!(
        a.request(b.key(), Request::Checkpoint(cps[0])).await.is_err(),
        "A refuses to send to an unpaired device"
    );

    // Pairing: both sides show the same code; both people confirm.
    let (ca, cb) = pair(&a, &mut ra, &b, &mut rb).await;
    assert_eq!(ca, cb);
    b.confirm(a.key(), true).await.expect("confirm B");
    a.confirm(b.key(), true).await.expect("confirm A");
    next(&mut ra, "paired A", |e| matches!(e, NodeEvent::Paired { .. })).await;
    next(&mut rb, "paired B", |e| matches!(e, NodeEvent::Paired { .. })).await;
    assert!(
        TrustedDevices::load(&dir.path().join("Parent-trusted"))
            .expect("load")
            .is_trusted(&bob.public())
    );

    // A sends its checkpoints; B checks each before "storing" and answers with a receipt.
    let witness = tokio::spawn({
        let b = b.clone();
        let start_record = sim.start.record.clone();
        let bob_seed = *bob.seed();
        let producer = alice.public();
        async move {
            let bob = Identity::from_seed(&bob_seed);
            let mut chain = PeerChain::new(&start_record, producer);
            let mut stored = Vec::new();
            while let Some(ev) = rb.recv().await {
                if let NodeEvent::Inbound { peer, request, reply } = ev
                    && let Request::Checkpoint(cp) = *request
                {
                    assert_eq!(peer, producer);
                    let response = match chain.accept(&cp) {
                        Ok(_) => {
                            stored.push(cp);
                            Response::Receipt(
                                cp.receipt(&bob, Timestamp { wall_ms: 1, mono_ms: 1 }),
                            )
                        }
                        Err(e) => Response::Refused { reason: e.to_string() },
                    };
                    b.respond(reply, response).await.expect("respond");
                    if stored.len() == 3 {
                        return (stored, rb);
                    }
                }
            }
            panic!("B's events ended");
        }
    });
    for cp in &cps {
        match a.request(b.key(), Request::Checkpoint(*cp)).await.expect("answer") {
            Response::Receipt(r) => {
                assert!(r.verify(), "receipt signature");
                assert_eq!(r.signer, bob.public());
                assert_eq!(r.body.checkpoint, cp.hash());
            }
            other => panic!("expected a receipt, got {other:?}"),
        }
    }
    let (stored, _rb) = witness.await.expect("witness");
    assert_eq!(stored, cps);

    // A third device that never paired (but lists B as trusted on its own side) is
    // refused by B, and nothing it sends reaches B's application.
    let (_stored, mut rb) = (stored, _rb);
    let mallory = Identity::generate();
    let mut mallory_store =
        TrustedDevices::load(&dir.path().join("Mallory-trusted")).expect("store");
    mallory_store.trust(bob.public(), "Worker").expect("mallory trusts B");
    let (m, mut rm) = start(&mallory, config(dir.path(), "Mallory")).expect("node M");
    let _ = listening(&mut rm).await;
    m.dial(&addr_b).await.expect("dial");
    next(&mut rm, "hello", |e| matches!(e, NodeEvent::Connected { .. })).await;
    match m.request(b.key(), Request::Checkpoint(cps[0])).await.expect("an answer") {
        Response::Refused { reason } => assert!(reason.contains("not been paired"), "{reason}"),
        other => panic!("B must refuse, answered {other:?}"),
    }
    match next(&mut rb, "refusal", |e| {
        matches!(e, NodeEvent::RefusedUntrusted { .. } | NodeEvent::Inbound { .. })
    })
    .await
    {
        NodeEvent::RefusedUntrusted { peer } => assert_eq!(peer, mallory.public()),
        other => panic!("an unpaired device's message reached the application: {other:?}"),
    }
}

/// Two nodes started with these configurations, A connected to B, and the same pairing
/// code shown on both; neither person has answered yet. Also the address B listens on.
async fn codes_shown(
    (alice, ca): (&Identity, NodeConfig),
    (bob, cb): (&Identity, NodeConfig),
) -> (NodeHandle, Receiver<NodeEvent>, NodeHandle, Receiver<NodeEvent>, String) {
    let (a, mut ra) = start(alice, ca).expect("A");
    let (b, mut rb) = start(bob, cb).expect("B");
    let addr_b = listening(&mut rb).await;
    a.dial(&addr_b).await.expect("dial");
    next(&mut ra, "hello", |e| matches!(e, NodeEvent::Connected { .. })).await;
    let (code_a, code_b) = pair(&a, &mut ra, &b, &mut rb).await;
    assert_eq!(code_a, code_b);
    (a, ra, b, rb, addr_b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_code_pairs_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let (alice, bob) = (Identity::generate(), Identity::generate());
    let (a, mut ra, b, mut rb, _) =
        codes_shown((&alice, config(dir.path(), "A")), (&bob, config(dir.path(), "B"))).await;
    a.confirm(b.key(), true).await.expect("A says yes");
    b.confirm(a.key(), false).await.expect("B says no");
    next(&mut ra, "failed A", |e| matches!(e, NodeEvent::PairingFailed { .. })).await;
    next(&mut rb, "failed B", |e| matches!(e, NodeEvent::PairingFailed { .. })).await;
    assert!(
        !TrustedDevices::load(&dir.path().join("A-trusted"))
            .expect("load")
            .is_trusted(&bob.public())
    );
}

#[test]
fn typed_addresses() {
    assert_eq!(
        dualrec_net::parse_address("10.0.0.2:4242").expect("v4").to_string(),
        "/ip4/10.0.0.2/tcp/4242"
    );
    assert_eq!(dualrec_net::parse_address("[::1]:7").expect("v6").to_string(), "/ip6/::1/tcp/7");
    assert!(dualrec_net::parse_address("nonsense").is_err());
    let ma = dualrec_net::parse_address("10.0.0.2:4242").expect("v4");
    assert_eq!(dualrec_net::typeable(&ma).as_deref(), Some("10.0.0.2:4242"));
    let back = dualrec_net::parse_address(&dualrec_net::typeable(&ma).expect("typeable"))
        .expect("round trip");
    assert_eq!(back, ma);
}

/// Two nodes, connected and paired.
async fn paired_nodes(
    dir: &std::path::Path,
    alice: &Identity,
    bob: &Identity,
) -> (NodeHandle, Receiver<NodeEvent>, NodeHandle, Receiver<NodeEvent>) {
    let (a, ra, b, rb, _) = paired_nodes_at(dir, alice, bob).await;
    (a, ra, b, rb)
}

/// [`paired_nodes`], and the address B listens on.
async fn paired_nodes_at(
    dir: &std::path::Path,
    alice: &Identity,
    bob: &Identity,
) -> (NodeHandle, Receiver<NodeEvent>, NodeHandle, Receiver<NodeEvent>, String) {
    let (a, mut ra, b, mut rb, addr_b) =
        codes_shown((alice, config(dir, "Parent")), (bob, config(dir, "Worker"))).await;
    a.confirm(b.key(), true).await.expect("A");
    b.confirm(a.key(), true).await.expect("B");
    next(&mut ra, "paired", |e| matches!(e, NodeEvent::Paired { .. })).await;
    next(&mut rb, "paired", |e| matches!(e, NodeEvent::Paired { .. })).await;
    (a, ra, b, rb, addr_b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_starts_and_stops_with_both_signatures() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = simulate(&SimConfig { chunks: 2, ..SimConfig::default() });
    let (alice, bob) = (&sim.identities[0], &sim.identities[1]);
    let (a, _ra, b, mut rb) = paired_nodes(dir.path(), alice, bob).await;
    let start_record = sim.start.record.clone();
    let mut end_record = match sim.logs[0].last() {
        Some(LogRecord::End(e)) => e.record.clone(),
        _ => panic!("sim has an end"),
    };
    // A party speaks for its own recording only: Bob signs no account of Alice's but hers.
    end_record.finals.retain(|f| f.party == alice.public());
    let bob_seed = *bob.seed();
    let (sr, er) = (start_record.clone(), end_record.clone());
    let worker = tokio::spawn(async move {
        let bob = Identity::from_seed(&bob_seed);
        let mut held = Vec::new();
        while let Some(ev) = rb.recv().await {
            let NodeEvent::Inbound { peer, request, reply } = ev else { continue };
            match *request {
                Request::Propose { start, signature } => {
                    let (resp, co) = dualrec_protocol::consent(&bob, peer, &start, &signature)
                        .expect("valid proposal");
                    b.respond(reply, resp).await.expect("respond");
                    held.push(LogRecord::Start(co));
                }
                Request::Stop { end, signature } => {
                    let (resp, co) =
                        dualrec_protocol::acknowledge_stop(&bob, peer, &sr, &end, &signature)
                            .expect("valid end");
                    assert_eq!(end, er);
                    b.respond(reply, resp).await.expect("respond");
                    held.push(LogRecord::End(co));
                    return held;
                }
                _ => {}
            }
        }
        panic!("events ended")
    });
    let proposal = Proposal::new(alice, bob.public(), start_record.clone()).expect("proposal");
    let answer = a.request(bob.public(), proposal.request()).await.expect("answer");
    let co_start = proposal.on_response(answer).expect("consent");
    co_start.verify().expect("co-signed start verifies");
    let mine = end_record.sign(alice);
    let stop = Request::Stop { end: end_record.clone(), signature: mine };
    let answer = a.request(bob.public(), stop).await.expect("answer");
    let co_end =
        dualrec_protocol::end_countersigned(&start_record, bob.public(), &end_record, mine, answer)
            .expect("stop ack");
    co_end.verify(&start_record).expect("co-signed end verifies");
    assert_eq!(co_end.signatures.len(), 2, "both signed the end");
    let held = worker.await.expect("worker");
    assert_eq!(
        held,
        vec![LogRecord::Start(co_start), LogRecord::End(co_end)],
        "both sides hold the same records"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_proposal_starts_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = simulate(&SimConfig { chunks: 1, ..SimConfig::default() });
    let (alice, bob) = (&sim.identities[0], &sim.identities[1]);
    let (a, _ra, b, mut rb) = paired_nodes(dir.path(), alice, bob).await;
    tokio::spawn(async move {
        while let Some(ev) = rb.recv().await {
            if let NodeEvent::Inbound { reply, .. } = ev {
                let _ = b
                    .respond(reply, Response::Refused { reason: "the worker said no".into() })
                    .await;
            }
        }
    });
    let proposal = Proposal::new(alice, bob.public(), sim.start.record.clone()).expect("proposal");
    let answer = a.request(bob.public(), proposal.request()).await.expect("answer");
    match proposal.on_response(answer) {
        Err(dualrec_protocol::HandshakeError::Refused { reason, .. }) => {
            assert_eq!(reason, "the worker said no")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A bare libp2p host that speaks only raw streams: it can send anything at all.
async fn raw_host(seed: [u8; 32], dial: &str) -> libp2p_stream::Control {
    use futures::StreamExt as _;
    let mut seed = seed;
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut seed).expect("key");
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| libp2p_stream::Behaviour::new())
        .expect("behaviour")
        .build();
    let control = swarm.behaviour().new_control();
    swarm.dial(dual_addr(dial)).expect("dial");
    tokio::spawn(async move {
        loop {
            swarm.select_next_some().await;
        }
    });
    control
}

fn dual_addr(a: &str) -> libp2p::Multiaddr {
    dualrec_net::parse_address(a).expect("address")
}

fn peer_id(key: &dualrec_proof::PublicKey) -> libp2p::PeerId {
    let pk = libp2p::identity::ed25519::PublicKey::try_from_bytes(&key.0).expect("key");
    libp2p::PeerId::from_public_key(&libp2p::identity::PublicKey::from(pk))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_frames_flow_between_paired_devices_and_hostile_streams_are_cut() {
    use futures::AsyncWriteExt as _;
    let dir = tempfile::tempdir().expect("tmp");
    let sim = simulate(&SimConfig { chunks: 2, ..SimConfig::default() });
    let (alice, bob) = (&sim.identities[0], &sim.identities[1]);
    // B also trusts a bare host that will send it garbage.
    let raw = Identity::from_seed(&[77; 32]);
    TrustedDevices::load(&dir.path().join("Worker-trusted"))
        .expect("store")
        .trust(raw.public(), "Raw")
        .expect("trust raw");
    let (a, mut ra, b, mut rb, addr_b) = paired_nodes_at(dir.path(), alice, bob).await;
    let cp = sim.own_checkpoints(0)[0];

    // A paired device's frames arrive as sent, both ways.
    let frame = LiveFrame::Checkpoint(CompactCheckpoint::of(&cp));
    a.send_live(b.key(), frame).await.expect("send");
    match next(&mut rb, "live frame", |e| matches!(e, NodeEvent::Live { .. })).await {
        NodeEvent::Live { peer, frame: got } => {
            assert_eq!(peer, alice.public());
            assert_eq!(got, frame);
        }
        _ => unreachable!(),
    }
    let r = cp.receipt(bob, Timestamp { wall_ms: 5, mono_ms: 5 });
    let back = LiveFrame::Receipt(CompactReceipt::of(0, &r));
    b.send_live(a.key(), back).await.expect("send back");
    match next(&mut ra, "receipt frame", |e| matches!(e, NodeEvent::Live { .. })).await {
        NodeEvent::Live { frame: got, .. } => assert_eq!(got, back),
        _ => unreachable!(),
    }

    // A device B never confirmed opens a live stream: refused, nothing passed on.
    let mallory = Identity::generate();
    TrustedDevices::load(&dir.path().join("Mallory-trusted"))
        .expect("store")
        .trust(bob.public(), "Worker")
        .expect("mallory trusts B");
    let (m, mut rm) = start(&mallory, config(dir.path(), "Mallory")).expect("node M");
    let _ = listening(&mut rm).await;
    m.dial(&addr_b).await.expect("dial");
    next(&mut rm, "hello", |e| matches!(e, NodeEvent::Connected { .. })).await;
    m.send_live(b.key(), frame).await.expect("send");
    match next(&mut rb, "refusal", |e| {
        matches!(e, NodeEvent::RefusedUntrusted { .. } | NodeEvent::Live { .. })
    })
    .await
    {
        NodeEvent::RefusedUntrusted { peer } => assert_eq!(peer, mallory.public()),
        other => panic!("an unconfirmed device's frame reached the application: {other:?}"),
    }

    // A confirmed device sending garbage: each stream is cut with a clear reason.
    let mut control = raw_host(*raw.seed(), &addr_b).await;
    let b_peer = peer_id(&b.key());
    let proto = libp2p::StreamProtocol::new(dualrec_protocol::LIVE_PROTOCOL);
    for (bytes, why) in [
        (vec![0xff, 0xff], "65535 bytes"),
        (vec![5, 0, 9, 9, 9, 9, 9], "rejected"),
        (vec![0, 0], "0 bytes"),
    ] {
        let mut s = loop {
            match control.open_stream(b_peer, proto.clone()).await {
                Ok(s) => break s,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        s.write_all(&bytes).await.expect("write");
        s.flush().await.expect("flush");
        match next(&mut rb, "rejection", |e| {
            matches!(e, NodeEvent::Rejected { .. } | NodeEvent::Live { .. })
        })
        .await
        {
            NodeEvent::Rejected { peer, reason } => {
                assert_eq!(peer, raw.public());
                assert!(reason.contains(why), "{reason}");
            }
            other => panic!("garbage reached the application: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_restarts_is_redialled_and_the_live_exchange_resumes() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = simulate(&SimConfig { chunks: 2, ..SimConfig::default() });
    let (alice, bob) = (&sim.identities[0], &sim.identities[1]);
    let (a, mut ra, b, _rb, addr_b) = paired_nodes_at(dir.path(), alice, bob).await;
    let cp = sim.own_checkpoints(0)[0];

    // B's process ends; A notices within about 3 s.
    b.shutdown().await;
    drop(b);
    match next(&mut ra, "link down", |e| matches!(e, NodeEvent::LinkDown { .. })).await {
        NodeEvent::LinkDown { peer } => assert_eq!(peer, bob.public()),
        _ => unreachable!(),
    }
    // B starts again on the same address, remembering A; A redials it by itself.
    let mut again = config(dir.path(), "Worker");
    again.listen = vec![addr_b.clone()];
    let (b2, mut rb2) = start(bob, again).expect("B again");
    match next(&mut ra, "reconnected", |e| matches!(e, NodeEvent::Connected { .. })).await {
        NodeEvent::Connected { peer, trusted, .. } => {
            assert_eq!(peer, bob.public());
            assert!(trusted, "no new pairing needed");
        }
        _ => unreachable!(),
    }
    let frame = LiveFrame::Checkpoint(CompactCheckpoint::of(&cp));
    a.send_live(bob.public(), frame).await.expect("send");
    match next(&mut rb2, "live frame after the restart", |e| matches!(e, NodeEvent::Live { .. }))
        .await
    {
        NodeEvent::Live { peer, frame: got } => {
            assert_eq!(peer, alice.public());
            assert_eq!(got, frame);
        }
        _ => unreachable!(),
    }
    b2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_answer_at_their_own_pace_and_both_remember_only_when_both_said_yes() {
    let dir = tempfile::tempdir().expect("tmp");
    let (alice, bob) = (Identity::generate(), Identity::generate());
    let mut ca = config(dir.path(), "A");
    ca.request_timeout = Duration::from_secs(1);
    let mut cb = config(dir.path(), "B");
    cb.request_timeout = Duration::from_secs(1);
    let (a, mut ra, b, mut rb, _) = codes_shown((&alice, ca), (&bob, cb)).await;
    // The initiator's person answers at once, the responder's 3 s later (three times the
    // request timeout); then the other way round is covered by the busy test below.
    a.confirm(b.key(), true).await.expect("A says yes");
    tokio::time::sleep(Duration::from_secs(3)).await;
    b.confirm(a.key(), true).await.expect("B says yes");
    next(&mut ra, "paired A", |e| matches!(e, NodeEvent::Paired { .. })).await;
    next(&mut rb, "paired B", |e| matches!(e, NodeEvent::Paired { .. })).await;
    for (name, key) in [("A", bob.public()), ("B", alice.public())] {
        let store =
            TrustedDevices::load(&dir.path().join(format!("{name}-trusted"))).expect("load");
        assert!(store.is_trusted(&key), "{name} remembers the other");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_pairing_or_recording_with_another_answers_busy() {
    let dir = tempfile::tempdir().expect("tmp");
    let (alice, bob, carol) = (Identity::generate(), Identity::generate(), Identity::generate());
    let (a, mut ra) = start(&alice, config(dir.path(), "A")).expect("A");
    let (b, mut rb) = start(&bob, config(dir.path(), "B")).expect("B");
    let (c, mut rc) = start(&carol, config(dir.path(), "C")).expect("C");
    let addr_a = listening(&mut ra).await;
    b.dial(&addr_a).await.expect("B dials A");
    c.dial(&addr_a).await.expect("C dials A");
    next(&mut rb, "B hello", |e| matches!(e, NodeEvent::Connected { .. })).await;
    next(&mut rc, "C hello", |e| matches!(e, NodeEvent::Connected { .. })).await;
    // B and A are comparing codes; C's attempt is answered "busy" and shows no code.
    let _ = pair(&b, &mut rb, &a, &mut ra).await;
    c.pair(a.key()).await.expect("C asks");
    let failed = next(&mut rc, "C refused", |e| matches!(e, NodeEvent::PairingFailed { .. })).await;
    assert!(
        matches!(&failed, NodeEvent::PairingFailed { why: dualrec_net::PairingFailure::Busy, .. }),
        "{failed:?}"
    );
    b.confirm(a.key(), true).await.expect("B yes");
    a.confirm(b.key(), true).await.expect("A yes");
    next(&mut ra, "paired", |e| matches!(e, NodeEvent::Paired { .. })).await;
    // Recording with B now: C is still answered "busy"; after the session, C may pair.
    a.set_busy(Some(b.key())).await.expect("busy");
    c.pair(a.key()).await.expect("C asks again");
    let failed = next(&mut rc, "C refused", |e| matches!(e, NodeEvent::PairingFailed { .. })).await;
    assert!(matches!(
        &failed,
        NodeEvent::PairingFailed { why: dualrec_net::PairingFailure::Busy, .. }
    ));
    a.set_busy(None).await.expect("free");
    c.pair(a.key()).await.expect("C asks a third time");
    next(&mut rc, "code on C", |e| matches!(e, NodeEvent::PairingCode { .. })).await;
    // And A, while pairing with C, does not start pairing with B.
    a.pair(b.key()).await.expect("A asks B");
    let failed =
        next(&mut ra, "A refuses itself", |e| matches!(e, NodeEvent::PairingFailed { .. })).await;
    assert!(
        matches!(&failed, NodeEvent::PairingFailed { why: dualrec_net::PairingFailure::Busy, .. }),
        "{failed:?}"
    );
}

#[test]
fn only_addresses_another_device_could_reach_are_offered_for_typing() {
    let t = |s: &str| dualrec_net::typeable(&s.parse().expect("multiaddr"));
    assert_eq!(t("/ip4/192.168.1.20/tcp/45277").as_deref(), Some("192.168.1.20:45277"));
    assert_eq!(t("/ip6/2001:db8::7/tcp/45277").as_deref(), Some("[2001:db8::7]:45277"));
    for local in [
        "/ip4/127.0.0.1/tcp/45277",
        "/ip4/0.0.0.0/tcp/45277",
        "/ip4/169.254.3.4/tcp/45277",
        "/ip6/::1/tcp/45277",
        "/ip6/fe80::1/tcp/45277",
    ] {
        assert_eq!(t(local), None, "{local}");
    }
    // Names go through the system's resolver.
    let a = dualrec_net::parse_address("localhost:45277").expect("localhost resolves");
    assert!(a.to_string().ends_with("/tcp/45277"), "{a}");
    assert!(dualrec_net::parse_address("no-such-host.invalid:1").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_fixed_port_falls_back_to_a_free_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let fixed = format!("/ip4/127.0.0.1/tcp/{port}");
    let mut ca = config(dir.path(), "A");
    ca.listen = vec![fixed.clone()];
    let mut cb = config(dir.path(), "B");
    cb.listen = vec![fixed.clone()];
    let (_a, mut ra) = start(&Identity::generate(), ca).expect("A");
    assert_eq!(listening(&mut ra).await, fixed);
    let (_b, mut rb) = start(&Identity::generate(), cb).expect("B starts anyway");
    let other = listening(&mut rb).await;
    assert_ne!(other, fixed, "B listens on another port");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_dial_is_answered_by_its_own_connection() {
    let dir = tempfile::tempdir().expect("tmp");
    let (a, mut ra) = start(&Identity::generate(), config(dir.path(), "A")).expect("A");
    let (b, _rb) = start(&Identity::generate(), config(dir.path(), "B")).expect("B");
    let alive = listening(&mut ra).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l); // nothing listens there now
        format!("127.0.0.1:{port}")
    };
    let (to_dead, to_alive) = tokio::join!(b.dial(&dead), b.dial(&alive));
    assert!(to_alive.is_ok(), "{to_alive:?}");
    assert!(to_dead.is_err(), "a dial to nothing is not answered by another dial's success");
    drop(a);
}

/// Both people said yes, but B learnt it first and proposed the start at once: its proposal
/// reaches A before B's own confirmation does (they travel on separate streams). A holds
/// it until the pairing ends, then hands it on, instead of refusing a device it is about
/// to trust (the proposer then failed and the other device waited for ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_that_overtakes_the_confirmation_is_held_not_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = simulate(&SimConfig { chunks: 1, ..SimConfig::default() });
    let (alice, bob) = (&sim.identities[0], &sim.identities[1]);
    // B already counts A as confirmed (as it does the moment it has both answers); A does
    // not know B's answer yet.
    let mut b_store = TrustedDevices::load(&dir.path().join("Worker-trusted")).expect("store");
    b_store.trust(alice.public(), "Parent").expect("trust");
    // B's events are kept (not read) for the whole test: the node runs on.
    let (a, mut ra, b, _rb, _) =
        codes_shown((alice, config(dir.path(), "Parent")), (bob, config(dir.path(), "Worker")))
            .await;
    // A's person says yes; B's confirmation has not reached A when B's proposal does.
    a.confirm(b.key(), true).await.expect("A says yes");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let proposal = Proposal::new(bob, alice.public(), sim.start.record.clone()).expect("proposal");
    let request = proposal.request();
    let proposer = b.clone();
    let alice_key = alice.public();
    let answer = tokio::spawn(async move { proposer.request(alice_key, request).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    if answer.is_finished() {
        panic!("held, not refused, while the pairing is open: {:?}", answer.await);
    }
    b.confirm(a.key(), true).await.expect("B says yes");
    next(&mut ra, "paired", |e| matches!(e, NodeEvent::Paired { .. })).await;
    let NodeEvent::Inbound { peer, request, reply } =
        next(&mut ra, "the proposal", |e| matches!(e, NodeEvent::Inbound { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(peer, bob.public());
    assert!(matches!(*request, Request::Propose { .. }), "{request:?}");
    let refusal = Response::Refused { reason: "seen".into() };
    a.respond(reply, refusal.clone()).await.expect("respond");
    let got = answer.await.expect("task").expect("an answer");
    assert_eq!(got, refusal, "the answer A gave once the pairing ended");
}
