//! Who may talk to `dualrec app`: only this machine, only with the per-launch secret,
//! only from its own page (no foreign Host: DNS rebinding; no foreign Origin or cross-site
//! fetch: other web pages). One app per data folder; the secret never reaches the log.
//! And, over the same HTTP interface, a meeting a crash interrupted is finished from the
//! app's list of meetings.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct App {
    child: Child,
    port: u16,
    secret: String,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &Path, out: &Path) -> App {
    let mut child = common::dualrec()
        .arg("-v")
        .arg("--data-dir")
        .arg(data)
        .args(["app", "--no-open", "--out"])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn app");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("url");
    let rest = line.trim().strip_prefix("http://127.0.0.1:").unwrap_or_else(|| panic!("{line}"));
    let (port, secret) = rest.split_once("/open?secret=").unwrap_or_else(|| panic!("{line}"));
    App { child, port: port.parse().expect("port"), secret: secret.to_owned() }
}

/// One raw HTTP/1.1 request; the response's head (status line and headers).
fn request(port: u16, method: &str, path: &str, headers: &[(&str, String)]) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: 2\r\nContent-Type: application/json\r\n"
    );
    if !headers.iter().any(|(k, _)| *k == "Host") {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n{}");
    s.write_all(req.as_bytes()).expect("send");
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    // The head is enough; an event stream never ends.
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// One request with a JSON body; the whole response (status line, headers, body).
fn request_json(port: u16, method: &str, path: &str, cookie: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nCookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn status(head: &str) -> u16 {
    head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn only_this_machine_with_the_secret_from_its_own_page() {
    let dir = tempfile::tempdir().expect("tmp");
    let (data, out) = (dir.path().join("data"), dir.path().join("out"));
    let app = start(&data, &out);
    let port = app.port;
    let cookie = ("Cookie", format!("dualrec_secret={}", app.secret));

    // No secret, a wrong one, or the right one behind a foreign Host: refused.
    assert_eq!(status(&request(port, "GET", "/", &[])), 403);
    assert_eq!(status(&request(port, "GET", "/events", &[])), 403);
    assert_eq!(status(&request(port, "GET", "/open?secret=00", &[])), 403);
    let open = format!("/open?secret={}", app.secret);
    let rebinding = ("Host", format!("attacker.example:{port}"));
    assert_eq!(status(&request(port, "GET", &open, std::slice::from_ref(&rebinding))), 403);
    assert_eq!(status(&request(port, "GET", "/", &[rebinding, cookie.clone()])), 403);

    // The printed URL: the secret moves into a same-site, script-proof cookie.
    let head = request(port, "GET", &open, &[]);
    assert_eq!(status(&head), 303, "{head}");
    let set = head.lines().find(|l| l.to_lowercase().starts_with("set-cookie:")).expect("cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let page = request(port, "GET", "/", std::slice::from_ref(&cookie));
    assert_eq!(status(&page), 200, "{page}");
    assert!(page.to_lowercase().contains("content-security-policy: default-src 'none'"), "{page}");
    let localhost = ("Host", format!("localhost:{port}"));
    assert_eq!(status(&request(port, "GET", "/events", &[localhost, cookie.clone()])), 200);

    // Another web page (its Origin, or a cross-site fetch) cannot act, even with the cookie.
    let foreign = ("Origin", "http://attacker.example".to_owned());
    assert_eq!(status(&request(port, "POST", "/api/quit", &[cookie.clone(), foreign])), 403);
    let cross = ("Sec-Fetch-Site", "cross-site".to_owned());
    assert_eq!(status(&request(port, "POST", "/api/quit", &[cookie.clone(), cross])), 403);
    // The page may not name a path of its choosing.
    let elsewhere = "/api/export?folder=%2Fetc";
    assert_eq!(status(&request(port, "GET", elsewhere, std::slice::from_ref(&cookie))), 409);

    // Bound to loopback only: the kernel's table shows 127.0.0.1 and nothing wider.
    let tcp = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let listening: Vec<&str> = tcp
        .lines()
        .filter(|l| l.split_whitespace().nth(3) == Some("0A"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|local| local.ends_with(&format!(":{port:04X}")))
        .collect();
    assert_eq!(listening, vec![format!("0100007F:{port:04X}")], "listening on loopback only");
    let tcp6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    assert!(!tcp6.contains(&format!(":{port:04X} ")), "not on IPv6 either");

    // One app per data folder.
    let second = common::dualrec()
        .arg("--data-dir")
        .arg(&data)
        .args(["app", "--no-open", "--out"])
        .arg(&out)
        .output()
        .expect("second app");
    assert_eq!(second.status.code(), Some(2));
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("already open for this device"), "{said}");

    // Quit from the page: the app ends; its log never held the secret.
    let mut app = app;
    let own = ("Origin", format!("http://127.0.0.1:{port}"));
    assert_eq!(status(&request(port, "POST", "/api/quit", &[cookie, own])), 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(s) = app.child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "the app did not end after quit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success());
    let log = std::fs::read_to_string(data.join("dualrec.log")).expect("log");
    assert!(log.contains("started"), "{log}");
    assert!(!log.contains(&app.secret), "the secret is in the log");
}

#[test]
fn a_meeting_a_crash_interrupted_is_finished_from_the_app() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    common::tone(&d.join("a.wav"), 220.0, 20);
    common::tone(&d.join("b.wav"), 330.0, 20);
    let (mut a, b) = common::spawn_pair(d, "20s");
    // A is killed once its meeting has a few seconds in its log.
    let deadline = Instant::now() + Duration::from_secs(40);
    let log = loop {
        let found = std::fs::read_dir(d.join("out-A"))
            .ok()
            .and_then(|mut r| r.next())
            .map(|e| e.expect("entry").path().join("evidence.log"));
        if let Some(log) = found.filter(|l| std::fs::metadata(l).is_ok_and(|m| m.len() > 3000)) {
            break log;
        }
        assert!(Instant::now() < deadline, "A never recorded");
        std::thread::sleep(Duration::from_millis(100));
    };
    a.kill().expect("kill A");
    a.wait().expect("reap A");
    drop(b);
    let folder = log.parent().expect("folder").display().to_string();

    let app = start(&d.join("data-A"), &d.join("out-A"));
    let cookie = format!("dualrec_secret={}", app.secret);
    let listed = request_json(app.port, "GET", "/api/meetings", &cookie, "");
    assert!(listed.contains("\"state\":\"interrupted\""), "{listed}");
    let body = serde_json::json!({ "folder": folder }).to_string();
    let finished = request_json(app.port, "POST", "/api/finish", &cookie, &body);
    assert_eq!(status(&finished), 200, "{finished}");
    assert!(finished.contains("is finished now"), "{finished}");
    let listed = request_json(app.port, "GET", "/api/meetings", &cookie, "");
    assert!(listed.contains("\"state\":\"finished\""), "{listed}");
    // Only an interrupted meeting of this device, named as the list names it.
    let again = request_json(app.port, "POST", "/api/finish", &cookie, &body);
    assert_eq!(status(&again), 409, "{again}");
    let elsewhere = serde_json::json!({ "folder": "/etc" }).to_string();
    assert_eq!(status(&request_json(app.port, "POST", "/api/finish", &cookie, &elsewhere)), 409);
}
