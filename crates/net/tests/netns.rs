//! Two hosts in network namespaces joined by a veth (shared/MACHINE-NOTES.md): discovery by
//! mDNS across the link, pairing, a checkpoint every second each way, the link taken down
//! for 20 s mid-session, the backlog delivered in order afterwards, nothing lost.
//!
//! Needs root (CI runs as root) and iproute2. Each host is this test binary re-run inside
//! its namespace in child mode; the parent prints a report of what it measured.

#![allow(clippy::print_stdout)] // children report to the parent on stdout

use std::collections::{HashMap, VecDeque};
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dualrec_net::{NodeConfig, NodeEvent, Request, Response, TrustedDevices, start};
use dualrec_proof::sim::{SimConfig, simulate};
use dualrec_proof::{LogRecord, PeerChain, Timestamp};

const CHILD_PARTY: &str = "DUALREC_NETNS_PARTY";
const CHILD_DIR: &str = "DUALREC_NETNS_DIR";
const CHUNKS: u64 = 40;

fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// One host: pairs with whoever mDNS finds, then sends a checkpoint a second and
/// witnesses the other's, keeping an in-order backlog while the link is down.
#[test]
fn netns_host_child() {
    let Ok(party) = std::env::var(CHILD_PARTY) else { return };
    let party: usize = party.parse().expect("party");
    let dir = std::path::PathBuf::from(std::env::var(CHILD_DIR).expect("dir"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let t0 = Instant::now();
        let say = |what: String| {
            println!("{:.3} {what}", t0.elapsed().as_secs_f64());
        };
        let sim = simulate(&SimConfig { chunks: CHUNKS, seed: 7, ..SimConfig::default() });
        let me = &sim.identities[party];
        let peer_index = 1 - party;
        let config = NodeConfig {
            name: format!("host{party}"),
            listen: vec!["/ip4/0.0.0.0/tcp/0".into()],
            mdns: true,
            trusted: TrustedDevices::load(&dir.join(format!("trusted{party}"))).expect("store"),
            request_timeout: Duration::from_secs(2),
        };
        let (node, mut events) = start(me, config).expect("node");
        let mine: Vec<_> = sim.logs[party]
            .iter()
            .filter_map(|r| match r {
                LogRecord::Checkpoint(c) if c.signer == me.public() => Some(*c),
                _ => None,
            })
            .collect();
        let mut chain = PeerChain::new(&sim.start.record, sim.identities[peer_index].public());
        let mut producer: Option<tokio::task::JoinHandle<u64>> = None;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(Instant::now() < deadline, "host {party} did not finish");
            // Wake up now and then to notice that the work is done.
            let ev = match tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
                Ok(Some(ev)) => Some(ev),
                Ok(None) => panic!("the node stopped"),
                Err(_) => None,
            };
            match ev.unwrap_or(NodeEvent::Listening("/ip4/0.0.0.0".parse().expect("addr"))) {
                NodeEvent::Connected { peer, trusted: false, .. } if party == 0 => {
                    say("CONNECTED".into());
                    node.pair(peer).await.expect("pair");
                }
                NodeEvent::Discovered { .. } => say("DISCOVERED".into()),
                NodeEvent::PairingCode { peer, code } => {
                    say(format!("CODE {code}"));
                    node.confirm(peer, true).await.expect("confirm");
                }
                NodeEvent::Paired { peer, .. } => {
                    say("PAIRED".into());
                    let node = node.clone();
                    let mine = mine.clone();
                    producer = Some(tokio::spawn(async move {
                        let start = Instant::now();
                        let mut backlog: VecDeque<(u64, Instant)> = VecDeque::new();
                        let mut next = 0u64;
                        let mut receipted = 0u64;
                        while receipted < CHUNKS {
                            // A chunk closes every second; it joins the backlog at once.
                            while next < CHUNKS && start.elapsed() >= Duration::from_secs(next) {
                                backlog.push_back((next, Instant::now()));
                                next += 1;
                            }
                            let Some(&(i, closed)) = backlog.front() else {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                continue;
                            };
                            match node.request(peer, Request::Checkpoint(mine[i as usize])).await {
                                Ok(Response::Receipt(r)) if r.verify() && r.body.checkpoint == mine[i as usize].hash() => {
                                    backlog.pop_front();
                                    receipted += 1;
                                    println!(
                                        "{:.3} RECEIPT {i} latency_ms={} backlog={}",
                                        start.elapsed().as_secs_f64(),
                                        closed.elapsed().as_millis(),
                                        backlog.len()
                                    );
                                }
                                _ => tokio::time::sleep(Duration::from_millis(200)).await,
                            }
                        }
                        receipted
                    }));
                }
                NodeEvent::Inbound { reply, request, .. } => {
                    let response = match *request {
                        Request::Checkpoint(cp) => match chain.accept(&cp) {
                            Ok(_) => Response::Receipt(cp.receipt(me, Timestamp { wall_ms: wall_ms(), mono_ms: t0.elapsed().as_millis() as u64 })),
                            Err(e) => Response::Refused { reason: e.to_string() },
                        },
                        _ => Response::Refused { reason: "unexpected".into() },
                    };
                    node.respond(reply, response).await.expect("respond");
                }
                NodeEvent::LinkDown { .. } => say("LINKDOWN".into()),
                _ => {}
            }
            if chain.accepted() == CHUNKS && producer.as_ref().is_some_and(|p| p.is_finished()) {
                let sent = producer.take().expect("producer").await.expect("join");
                say(format!("DONE receipted={sent} witnessed={}", chain.accepted()));
                // Keep answering a little so the peer's last retries get their receipts.
                let linger = tokio::time::sleep(Duration::from_secs(3));
                tokio::pin!(linger);
                loop {
                    tokio::select! {
                        _ = &mut linger => return,
                        Some(ev) = events.recv() => if let NodeEvent::Inbound { reply, request, .. } = ev
                            && let Request::Checkpoint(cp) = *request
                        {
                            let _ = chain.accept(&cp);
                            let r = cp.receipt(me, Timestamp { wall_ms: wall_ms(), mono_ms: 0 });
                            let _ = node.respond(reply, Response::Receipt(r)).await;
                        },
                    }
                }
            }
        }
    });
}

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("iproute2 (ip) must be installed");
    assert!(st.success(), "ip {args:?} failed");
}

struct Namespaces {
    a: String,
    b: String,
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.a]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.b]).status();
    }
}

fn spawn_host(
    ns: &str,
    party: usize,
    dir: &std::path::Path,
    tx: mpsc::Sender<(usize, Instant, String)>,
) -> Child {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(exe)
        .args(["--exact", "netns_host_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_PARTY, party.to_string())
        .env(CHILD_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn host");
    let out = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send((party, Instant::now(), line));
        }
    });
    child
}

/// The outage: the link goes down 8 s after both hosts paired, and up 20 s later.
fn outage(
    lines: &[(usize, Instant, String)],
    paired: &[bool; 2],
    down_at: &mut Option<Instant>,
    up_at: &mut Option<Instant>,
    ns: &Namespaces,
    va: &str,
) {
    let both_paired_at = paired
        .iter()
        .all(|p| *p)
        .then(|| lines.iter().filter(|l| l.2.contains("PAIRED")).map(|l| l.1).max())
        .flatten();
    if let (Some(p), None) = (both_paired_at, *down_at)
        && p.elapsed() >= Duration::from_secs(8)
    {
        ip(&["-n", &ns.a, "link", "set", "dev", va, "down"]);
        *down_at = Some(Instant::now());
    }
    if let (Some(d), None) = (*down_at, *up_at)
        && d.elapsed() >= Duration::from_secs(20)
    {
        ip(&["-n", &ns.a, "link", "set", "dev", va, "up"]);
        *up_at = Some(Instant::now());
    }
}

fn percentile(v: &mut [u64], p: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn two_hosts_in_network_namespaces_survive_a_20_s_outage() {
    // The effective user, from /proc (no libc call).
    let uid = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("1").to_owned())
    });
    assert_eq!(
        uid.as_deref(),
        Some("0"),
        "this test makes network namespaces and needs root (CI runs as root)"
    );
    let id = std::process::id();
    let ns = Namespaces { a: format!("drn{id}a"), b: format!("drn{id}b") };
    let (va, vb) = (format!("va{id}"), format!("vb{id}"));
    ip(&["netns", "add", &ns.a]);
    ip(&["netns", "add", &ns.b]);
    ip(&["-n", &ns.a, "link", "set", "dev", "lo", "up"]);
    ip(&["-n", &ns.b, "link", "set", "dev", "lo", "up"]);
    ip(&["link", "add", &va, "netns", &ns.a, "type", "veth", "peer", "name", &vb, "netns", &ns.b]);
    ip(&["-n", &ns.a, "addr", "add", "10.231.0.1/24", "dev", &va]);
    ip(&["-n", &ns.b, "addr", "add", "10.231.0.2/24", "dev", &vb]);
    ip(&["-n", &ns.a, "link", "set", "dev", &va, "up"]);
    ip(&["-n", &ns.b, "link", "set", "dev", &vb, "up"]);

    let dir = tempfile::tempdir().expect("tmp");
    let counters = |ns: &str, dev: &str| -> (u64, u64) {
        let read = |what: &str| {
            let out = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    ns,
                    "cat",
                    &format!("/sys/class/net/{dev}/statistics/{what}_bytes"),
                ])
                .output()
                .expect("counters");
            String::from_utf8_lossy(&out.stdout).trim().parse::<u64>().unwrap_or(0)
        };
        (read("tx"), read("rx"))
    };
    let mut traffic: Vec<(Instant, (u64, u64))> = Vec::new();
    let (tx, rx) = mpsc::channel();
    let t0 = Instant::now();
    let mut hosts =
        vec![spawn_host(&ns.a, 0, dir.path(), tx.clone()), spawn_host(&ns.b, 1, dir.path(), tx)];
    let mut lines: Vec<(usize, Instant, String)> = Vec::new();
    let mut paired = [false; 2];
    let mut done = [false; 2];
    let mut down_at = None;
    let mut up_at = None;
    let deadline = Instant::now() + Duration::from_secs(150);
    while done.iter().any(|d| !d) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((party, at, line)) = rx.recv_timeout(left.min(Duration::from_millis(200))) else {
            assert!(Instant::now() < deadline, "hosts did not finish: {lines:#?}");
            outage(&lines, &paired, &mut down_at, &mut up_at, &ns, &va);
            continue;
        };
        if line.contains("PAIRED") {
            paired[party] = true;
        }
        if line.contains(" DONE ") {
            done[party] = true;
        }
        // Steady-state traffic: count bytes on A's side from 2 s to 7 s after pairing.
        let both_paired = paired.iter().all(|p| *p);
        if both_paired && traffic.is_empty() {
            traffic.push((Instant::now() + Duration::from_secs(2), (0, 0)));
        }
        if let Some(&(when, (0, 0))) = traffic.first()
            && traffic.len() == 1
            && Instant::now() >= when
        {
            traffic[0] = (Instant::now(), counters(&ns.a, &va));
        }
        if traffic.len() == 1
            && traffic[0].1 != (0, 0)
            && traffic[0].0.elapsed() >= Duration::from_secs(5)
        {
            traffic.push((Instant::now(), counters(&ns.a, &va)));
        }
        lines.push((party, at, line));
        outage(&lines, &paired, &mut down_at, &mut up_at, &ns, &va);
    }
    for h in &mut hosts {
        let _ = h.wait();
    }
    let (down_at, up_at) = (down_at.expect("the link went down"), up_at.expect("and up again"));

    // Everything produced was witnessed, on both sides, in order, with receipts.
    for party in 0..2 {
        let done_line =
            lines.iter().find(|l| l.0 == party && l.2.contains(" DONE ")).expect("done");
        assert!(
            done_line.2.contains(&format!("receipted={CHUNKS} witnessed={CHUNKS}")),
            "{}",
            done_line.2
        );
        let order: Vec<u64> = lines
            .iter()
            .filter(|l| l.0 == party && l.2.contains("RECEIPT"))
            .filter_map(|l| l.2.split_whitespace().nth(2)?.parse().ok())
            .collect();
        assert_eq!(order, (0..CHUNKS).collect::<Vec<_>>(), "receipts in order, none lost");
        assert!(
            lines.iter().any(|l| l.0 == party && l.2.contains("LINKDOWN")),
            "host {party} noticed the outage"
        );
    }
    assert!(lines.iter().any(|l| l.2.contains("DISCOVERED")), "found by mDNS, no address typed");

    // The report (measurements, not pass/fail).
    let first = |pat: &str| lines.iter().filter(|l| l.2.contains(pat)).map(|l| l.1).min();
    let code_shown = first("CODE").map(|t| t.duration_since(t0));
    let noticed = lines
        .iter()
        .filter(|l| l.2.contains("LINKDOWN") && l.1 > down_at)
        .map(|l| l.1.duration_since(down_at))
        .max();
    let backlog_cleared = lines
        .iter()
        .filter(|l| l.2.contains("RECEIPT") && l.1 > up_at && l.2.contains("backlog=0"))
        .map(|l| l.1.duration_since(up_at))
        .min();
    let mut latencies: Vec<u64> = lines
        .iter()
        .filter(|l| {
            l.2.contains("RECEIPT") && (l.1 < down_at || l.1 > up_at + Duration::from_secs(5))
        })
        .filter_map(|l| l.2.split("latency_ms=").nth(1)?.split_whitespace().next()?.parse().ok())
        .collect();
    let per_host: HashMap<usize, usize> = lines.iter().fold(HashMap::new(), |mut m, l| {
        *m.entry(l.0).or_default() += 1;
        m
    });
    println!("netns report: both programs started -> code shown: {code_shown:?}");
    if let [(t1, (tx1, rx1)), (t2, (tx2, rx2))] = traffic[..] {
        let secs = t2.duration_since(t1).as_secs_f64();
        println!(
            "netns report: proof traffic on the wire (IP, TCP, Noise, Yamux included): A->B {:.2} kbit/s, B->A {:.2} kbit/s (goal <= 2)",
            (tx2 - tx1) as f64 * 8.0 / secs / 1000.0,
            (rx2 - rx1) as f64 * 8.0 / secs / 1000.0
        );
    }
    println!("netns report: link down -> both sides noticed: {noticed:?} (goal ~3 s)");
    println!("netns report: link up -> backlog delivered: {backlog_cleared:?} (goal <= 1 s)");
    println!(
        "netns report: chunk closed -> receipt held, outside the outage: p50 {} ms, p99 {} ms over {} receipts ({per_host:?} lines)",
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
        latencies.len()
    );
}
