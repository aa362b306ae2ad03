//! Several meetings on one office network (issue #12): six devices in network namespaces
//! on one bridge, discovering each other by mDNS. Two meetings start together and a third
//! starts while they record; each device is told its partner with `--with`. Every device
//! must record with its own partner — first as strangers, then again when one device
//! also remembers a device of another meeting — and every recording must verify against
//! its partner's evidence. Needs root (CI runs as root) and iproute2.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{session_files, tone, verify_json};

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("run ip");
    assert!(st.success(), "ip {args:?} failed");
}

/// A bridge namespace and one namespace per host, removed on drop.
struct Lan {
    bridge: String,
    hosts: Vec<String>,
}

impl Lan {
    fn new(n: usize) -> Lan {
        // Unique per test too: the tests of this file run side by side in one process.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let lan = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let id = format!("{}n{lan}", std::process::id());
        let bridge = format!("drl{id}br");
        ip(&["netns", "add", &bridge]);
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
        ip(&["-n", &bridge, "link", "set", "dev", "br0", "up"]);
        let mut hosts = Vec::new();
        for i in 0..n {
            let host = format!("drl{id}h{i}");
            ip(&["netns", "add", &host]);
            ip(&["-n", &host, "link", "set", "dev", "lo", "up"]);
            let (v, p) = (format!("v{i}"), format!("p{id}x{i}"));
            ip(&[
                "link", "add", &v, "netns", &host, "type", "veth", "peer", "name", &p, "netns",
                &bridge,
            ]);
            ip(&["-n", &bridge, "link", "set", "dev", &p, "master", "br0"]);
            ip(&["-n", &bridge, "link", "set", "dev", &p, "up"]);
            ip(&["-n", &host, "addr", "add", &format!("10.77.0.{}/24", i + 1), "dev", &v]);
            ip(&["-n", &host, "link", "set", "dev", &v, "up"]);
            hosts.push(host);
        }
        Lan { bridge, hosts }
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in self.hosts.iter().chain(std::iter::once(&self.bridge)) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

const NAMES: [&str; 6] = ["A", "B", "C", "D", "E", "F"];

fn partner(i: usize) -> usize {
    i ^ 1
}

/// `dualrec record` as device `i` inside its namespace: data in `d/data-<who>`, sessions in
/// `d/<out>-<who>`, input `d/<who>.wav`, accepting the code with `--yes`.
fn host_recorder(
    lan: &Lan,
    d: &Path,
    i: usize,
    out: &str,
    duration: &str,
    extra: &[&str],
) -> Child {
    let who = NAMES[i];
    Command::new("ip")
        .args(["netns", "exec", &lan.hosts[i]])
        .arg(env!("CARGO_BIN_EXE_dualrec"))
        .arg("--data-dir")
        .arg(d.join(format!("data-{who}")))
        .args(["record", "--name", who, "--duration", duration, "--yes", "--out"])
        .arg(d.join(format!("{out}-{who}")))
        .arg("--input-file")
        .arg(d.join(format!("{}.wav", who.to_lowercase())))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dualrec record")
}

fn spawn(lan: &Lan, d: &Path, i: usize, run: usize) -> Child {
    host_recorder(lan, d, i, &format!("out{run}"), "5s", &["--with", NAMES[partner(i)]])
}

/// One round: meetings A-B and C-D start together, E-F 2 s later; all must finish with
/// their own partner and verify against the partner's log.
fn meet(lan: &Lan, d: &Path, run: usize) {
    let mut children: Vec<(usize, Child)> = (0..4).map(|i| (i, spawn(lan, d, i, run))).collect();
    std::thread::sleep(Duration::from_secs(2));
    children.extend((4..6).map(|i| (i, spawn(lan, d, i, run))));
    for (i, child) in children {
        let out = child.wait_with_output().expect("wait");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{} (run {run}) failed:\n{text}\n{}",
            NAMES[i],
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for i in 0..6 {
        let (who, with) = (NAMES[i], NAMES[partner(i)]);
        let (_, rec, _) = session_files(&d.join(format!("out{run}-{who}")));
        let (_, _, partner_log) = session_files(&d.join(format!("out{run}-{with}")));
        let (code, v) = verify_json(&rec, &[&partner_log]);
        let mut names: Vec<String> = v["session"]["parties"]
            .as_array()
            .expect("parties")
            .iter()
            .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        let mut want = vec![who.to_owned(), with.to_owned()];
        want.sort();
        assert_eq!(names, want, "{who} recorded with the wrong device in run {run}");
        assert_eq!(code, Some(0), "{who}, run {run}: {v}");
    }
}

#[test]
fn three_meetings_on_one_network_each_pair_their_own_people() {
    let uid = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("1").to_owned())
    });
    assert_eq!(uid.as_deref(), Some("0"), "this test makes network namespaces and needs root");
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    for (i, who) in NAMES.iter().enumerate() {
        tone(&d.join(format!("{}.wav", who.to_lowercase())), 200.0 + 50.0 * i as f32, 8);
    }
    let lan = Lan::new(6);
    meet(&lan, d, 0);
    // Now A also remembers C and C remembers A (as if they had met before): a remembered
    // device of another meeting must not be taken.
    for (me, other) in [(0usize, 2usize), (2, 0)] {
        let path = dualrec_session::trusted_devices_path(&d.join(format!("data-{}", NAMES[me])));
        let key_path = dualrec_session::identity_path(&d.join(format!("data-{}", NAMES[other])));
        let (id, _) = dualrec_proof::Identity::load_or_create(&key_path).expect("key");
        let mut store = dualrec_net::TrustedDevices::load(&path).expect("trust store");
        store.trust(id.public(), NAMES[other]).expect("remember");
    }
    meet(&lan, d, 1);
}

#[test]
fn with_multicast_blocked_the_waiting_device_says_what_to_type_and_typing_it_works() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 6);
    tone(&d.join("b.wav"), 330.0, 6);
    let lan = Lan::new(2);
    for (i, host) in lan.hosts.iter().enumerate() {
        ip(&["-n", host, "link", "set", "dev", &format!("v{i}"), "multicast", "off"]);
    }
    let record = |i: usize, extra: &[&str]| host_recorder(&lan, d, i, "out", "3s", extra);
    let mut a = record(0, &[]);
    // A finds no one (no multicast) and, after a while, says what to type on the other.
    let mut lines = std::io::BufReader::new(a.stdout.take().expect("stdout")).lines();
    let hint = loop {
        let line = lines.next().expect("A still running").expect("line");
        if line.contains("no other device found yet") {
            break line;
        }
    };
    let port = dualrec_net::DEFAULT_PORT;
    let typed = format!("10.77.0.1:{port}");
    assert!(hint.contains(&typed), "the hint names the address and the fixed port: {hint}");
    let b = record(1, &["--connect", &typed]);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let st = a.wait().expect("A");
    let ob = b.wait_with_output().expect("B");
    assert!(st.success(), "A: {rest:?}");
    assert!(ob.status.success(), "B: {}", String::from_utf8_lossy(&ob.stdout));
    assert!(rest.iter().any(|l| l.contains("end signed by both devices")), "{rest:?}");
}

#[test]
fn a_link_down_as_the_meeting_ends_is_waited_for_and_nothing_of_the_witnessing_is_lost() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 12);
    tone(&d.join("b.wav"), 330.0, 12);
    let lan = Lan::new(2);
    let spawn_one =
        |i: usize| host_recorder(&lan, d, i, "out", "8s", &["--with", NAMES[partner(i)]]);
    let (a, b) = (spawn_one(0), spawn_one(1));
    // The link goes down mid-meeting and comes back about 20 s after the meeting's end.
    std::thread::sleep(Duration::from_secs(6));
    ip(&["-n", &lan.hosts[1], "link", "set", "dev", "v1", "down"]);
    std::thread::sleep(Duration::from_secs(25));
    ip(&["-n", &lan.hosts[1], "link", "set", "dev", "v1", "up"]);
    let (oa, ob) = (a.wait_with_output().expect("A"), b.wait_with_output().expect("B"));
    let (ta, tb) = (String::from_utf8_lossy(&oa.stdout), String::from_utf8_lossy(&ob.stdout));
    assert!(oa.status.success() && ob.status.success(), "A:\n{ta}\nB:\n{tb}");
    for t in [&ta, &tb] {
        assert!(t.contains("waiting up to 60 s"), "{t}");
        assert!(t.contains("end signed by both devices"), "{t}");
    }
    for (who, with) in [("A", "B"), ("B", "A")] {
        let (_, rec, _) = session_files(&d.join(format!("out-{who}")));
        let (_, _, log) = session_files(&d.join(format!("out-{with}")));
        let (_, v) = verify_json(&rec, &[&log]);
        let t = &v["totals"];
        assert_eq!(t["signed_only"], 0, "every second witnessed, late or live: {v}");
        assert!(t["witnessed_late"].as_u64().unwrap_or(0) > 0, "the outage shows as late: {t}");
        assert_eq!(v["axes"]["completeness"]["state"], "complete", "{v}");
    }
}

#[test]
fn when_both_devices_move_to_new_addresses_they_find_each_other_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 24);
    tone(&d.join("b.wav"), 330.0, 24);
    let lan = Lan::new(2);
    let spawn_one =
        |i: usize| host_recorder(&lan, d, i, "out", "20s", &["--with", NAMES[partner(i)]]);
    let (a, b) = (spawn_one(0), spawn_one(1));
    // Mid-meeting the router restarts and hands both devices new addresses.
    std::thread::sleep(Duration::from_secs(8));
    for (i, host) in lan.hosts.iter().enumerate() {
        let v = format!("v{i}");
        ip(&["-n", host, "addr", "del", &format!("10.77.0.{}/24", i + 1), "dev", &v]);
        ip(&["-n", host, "addr", "add", &format!("10.77.9.{}/24", i + 11), "dev", &v]);
    }
    let (oa, ob) = (a.wait_with_output().expect("A"), b.wait_with_output().expect("B"));
    let (ta, tb) = (String::from_utf8_lossy(&oa.stdout), String::from_utf8_lossy(&ob.stdout));
    assert!(oa.status.success() && ob.status.success(), "A:\n{ta}\nB:\n{tb}");
    for t in [&ta, &tb] {
        assert!(t.contains("not answering"), "the move broke the link: {t}");
        assert!(t.contains("end signed by both devices"), "{t}");
    }
    for (who, with) in [("A", "B"), ("B", "A")] {
        let (_, rec, _) = session_files(&d.join(format!("out-{who}")));
        let (_, _, log) = session_files(&d.join(format!("out-{with}")));
        let (_, v) = verify_json(&rec, &[&log]);
        assert_eq!(v["totals"]["signed_only"], 0, "every second witnessed after the move: {v}");
        assert_eq!(v["axes"]["completeness"]["state"], "complete", "{v}");
    }
}

#[test]
fn a_device_killed_mid_meeting_finds_its_partner_again_by_mdns_and_rejoins() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 40);
    tone(&d.join("b.wav"), 330.0, 40);
    let lan = Lan::new(2);
    let spawn_one =
        |i: usize| host_recorder(&lan, d, i, "out", "18s", &["--with", NAMES[partner(i)]]);
    let (a, b) = (spawn_one(0), spawn_one(1));
    std::thread::sleep(Duration::from_secs(8));
    // A's program is killed; its person starts it again as before.
    let killed = Command::new("kill").arg("-9").arg(a.id().to_string()).status();
    assert!(killed.is_ok_and(|s| s.success()));
    let _ = a.wait_with_output();
    std::thread::sleep(Duration::from_secs(2));
    let a = spawn_one(0);
    let (oa, ob) = (a.wait_with_output().expect("A"), b.wait_with_output().expect("B"));
    let (ta, tb) = (String::from_utf8_lossy(&oa.stdout), String::from_utf8_lossy(&ob.stdout));
    assert!(oa.status.success() && ob.status.success(), "A:\n{ta}\nB:\n{tb}");
    assert!(ta.contains("stopped in the middle of meeting"), "{ta}");
    for t in [&ta, &tb] {
        assert!(t.contains("end signed by both devices"), "{t}");
    }
    let (_, rec_a, _) = session_files(&d.join("out-A"));
    let (_, _, log_b) = session_files(&d.join("out-B"));
    let (_, v) = verify_json(&rec_a, &[&log_b]);
    assert_eq!(v["axes"]["integrity"]["state"], "exact", "{v}");
    assert_eq!(v["axes"]["completeness"]["state"], "complete", "{v}");
    assert_eq!(v["totals"]["not_covered"], 0, "{v}");
}
