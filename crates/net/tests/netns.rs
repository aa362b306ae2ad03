//! Two hosts in network namespaces joined by a veth (shared/MACHINE-NOTES.md): discovery by
//! mDNS across the link, pairing, a checkpoint every second each way, the link taken down
//! for 20 s mid-session, the backlog delivered in order afterwards, nothing lost.
//!
//! Needs root (CI runs as root) and iproute2. Each host is this test binary re-run inside
//! its namespace in child mode; the parent prints a report of what it measured.

#![allow(clippy::print_stdout)] // children report to the parent on stdout

use std::collections::HashMap;
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dualrec_net::{NodeConfig, NodeEvent, TrustedDevices, start};
use dualrec_proof::Timestamp;
use dualrec_proof::sim::{SimConfig, simulate};
use dualrec_protocol::{Exchange, LiveFrame};

const CHILD_PARTY: &str = "DUALREC_NETNS_PARTY";
const CHILD_DIR: &str = "DUALREC_NETNS_DIR";
const CHUNKS: u64 = 40;

fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// One host: pairs with whoever mDNS finds, then commits a checkpoint a second and
/// witnesses the other's over the live stream, through [`Exchange`] (which keeps the
/// unreceipted backlog and sends it again, in order, when the link is back). Prints the
/// proof bytes it sends (frames with their length prefix) as `SENT`.
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
        let peer_key = sim.identities[1 - party].public();
        let config = NodeConfig {
            name: format!("host{party}"),
            listen: vec!["/ip4/0.0.0.0/tcp/0".into()],
            mdns: true,
            trusted: TrustedDevices::load(&dir.join(format!("trusted{party}"))).expect("store"),
            request_timeout: Duration::from_secs(2),
        };
        let (node, mut events) = start(me, config).expect("node");
        let mine = sim.own_checkpoints(party);
        let mut exchange = Exchange::new(&sim.start.record, me.public(), peer_key, 100);
        let mut sent_bytes = 0usize;
        let send = async |frame: LiveFrame, sent_bytes: &mut usize| {
            *sent_bytes += 2 + frame.to_bytes().len();
            node.send_live(peer_key, frame).await.expect("send");
            say(format!("SENT {sent_bytes}"));
        };
        let mut paired_at: Option<Instant> = None;
        let mut closed: HashMap<u64, Instant> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let mut last_resend = Instant::now();
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut finished_at: Option<Instant> = None;
        loop {
            assert!(Instant::now() < deadline, "host {party} did not finish");
            let ev = tokio::select! {
                ev = events.recv() => ev,
                _ = tick.tick() => None,
            };
            match ev {
                Some(NodeEvent::Connected { peer, trusted: false, .. }) if party == 0 => {
                    say("CONNECTED".into());
                    node.pair(peer).await.expect("pair");
                }
                Some(NodeEvent::Connected { trusted: true, .. }) => {
                    for f in exchange.due(t0.elapsed(), Duration::ZERO) {
                        send(f, &mut sent_bytes).await;
                    }
                }
                Some(NodeEvent::Discovered { .. }) => say("DISCOVERED".into()),
                Some(NodeEvent::PairingCode { peer, code }) => {
                    say(format!("CODE {code}"));
                    node.confirm(peer, true).await.expect("confirm");
                }
                Some(NodeEvent::Paired { .. }) => {
                    say("PAIRED".into());
                    paired_at = Some(Instant::now());
                }
                Some(NodeEvent::Live { frame, .. }) => {
                    let index = match frame {
                        LiveFrame::Receipt(r) => Some(r.index),
                        _ => None,
                    };
                    let now =
                        Timestamp { wall_ms: wall_ms(), mono_ms: t0.elapsed().as_millis() as u64 };
                    match exchange.on_frame(me, frame, now) {
                        Ok(handled) => {
                            if let Some(reply) = handled.reply {
                                send(reply, &mut sent_bytes).await;
                            }
                            if let (Some(i), false) = (index, handled.store.is_empty()) {
                                say(format!(
                                    "RECEIPT {i} latency_ms={} backlog={}",
                                    closed
                                        .get(&u64::from(i))
                                        .map_or(0, |c| c.elapsed().as_millis()),
                                    exchange.committed() - exchange.receipted()
                                ));
                            }
                        }
                        Err(e) => say(format!("REFUSED {e}")),
                    }
                }
                Some(NodeEvent::LinkDown { .. }) => say("LINKDOWN".into()),
                Some(NodeEvent::Rejected { reason, .. }) => say(format!("REJECTED {reason}")),
                None | Some(_) => {}
            }
            // A chunk closes every second after pairing.
            if let Some(p) = paired_at {
                while exchange.committed() < CHUNKS
                    && p.elapsed() >= Duration::from_secs(exchange.committed())
                {
                    let cp = mine[exchange.committed() as usize];
                    closed.insert(cp.body.index, Instant::now());
                    if let Some(f) = exchange.commit(cp, t0.elapsed()) {
                        send(f, &mut sent_bytes).await;
                    }
                }
            }
            if last_resend.elapsed() >= Duration::from_secs(1) {
                last_resend = Instant::now();
                for f in exchange.due(t0.elapsed(), Duration::from_secs(3)) {
                    send(f, &mut sent_bytes).await;
                }
            }
            if exchange.receipted() == CHUNKS && exchange.witnessed() == CHUNKS {
                let f = *finished_at.get_or_insert_with(|| {
                    say(format!(
                        "DONE receipted={} witnessed={}",
                        exchange.receipted(),
                        exchange.witnessed()
                    ));
                    Instant::now()
                });
                // Keep answering a little so the peer's last retries get their receipts.
                if f.elapsed() >= Duration::from_secs(3) {
                    return;
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

/// The outage: the link goes down 15 s after both hosts paired, and up 20 s later.
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
        && p.elapsed() >= Duration::from_secs(15)
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
        // Steady-state traffic: count bytes on A's side from 2 s to 14 s after pairing.
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
            && traffic[0].0.elapsed() >= Duration::from_secs(12)
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
        // Proof bytes each host sent in the same window, from its SENT lines.
        let sent_at = |party: usize, t: Instant| {
            lines
                .iter()
                .filter(|l| l.0 == party && l.1 <= t && l.2.contains(" SENT "))
                .filter_map(|l| l.2.split_whitespace().nth(2)?.parse::<u64>().ok())
                .max()
                .unwrap_or(0)
        };
        let proof = |party| (sent_at(party, t2) - sent_at(party, t1)) as f64 * 8.0 / secs / 1000.0;
        println!(
            "netns report: proof traffic (live frames with their length): A->B {:.2} kbit/s, B->A {:.2} kbit/s (goal <= 2)",
            proof(0),
            proof(1)
        );
        println!(
            "netns report: all traffic on the veth (Ethernet, IP, TCP, Noise, Yamux, ACKs, pings, mDNS): A->B {:.2} kbit/s, B->A {:.2} kbit/s",
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
