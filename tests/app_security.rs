//! Who may talk to `dualrec app`: only this machine, only with the per-launch secret,
//! only from its own page (no foreign Host: DNS rebinding; no foreign Origin or cross-site
//! fetch: other web pages). One app per data folder; the secret never reaches the log.

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
