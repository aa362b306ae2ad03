//! `dualrec record` on two real terminals (pseudo-terminals), answered by hand as people
//! would: the first-run name, the consent, the code — the person on B says the codes
//! differ — and both screens say so; then Ctrl-C, while a question waits and while
//! looking, ends each program at once, with nothing recorded.

mod common;

use std::io::{Read as _, Write as _};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{free_addr, tone};

/// One `dualrec record` on its own terminal: what it printed, and the keyboard.
struct Terminal {
    child: Child,
    screen: Arc<Mutex<String>>,
    keys: std::fs::File,
}

impl Terminal {
    fn start(d: &std::path::Path, who: &str, net: &[&str]) -> Terminal {
        let mut args: Vec<std::ffi::OsString> = vec!["--data-dir".into()];
        args.push(d.join(format!("data-{who}")).into());
        args.extend(["record", "--duration", "60s", "--out"].map(Into::into));
        args.push(d.join(format!("out-{who}")).into());
        args.push("--input-file".into());
        args.push(d.join(format!("{}.wav", who.to_lowercase())).into());
        args.extend(net.iter().map(Into::into));
        let (child, master) = common::dualrec_on_terminal(args);
        let screen = Arc::new(Mutex::new(String::new()));
        let mut reader = std::fs::File::from(master.try_clone().expect("clone"));
        std::thread::spawn({
            let screen = screen.clone();
            move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    screen.lock().expect("lock").push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        Terminal { child, screen, keys: std::fs::File::from(master) }
    }

    fn text(&self) -> String {
        self.screen.lock().expect("lock").clone()
    }

    /// Waits until the screen shows `what` (after `since` bytes of output).
    fn wait_for(&self, what: &str, since: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let text = self.text();
            if let Some(at) = text.get(since..).and_then(|t| t.find(what)) {
                return since + at + what.len();
            }
            assert!(Instant::now() < deadline, "never showed {what:?}; the screen:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn type_line(&mut self, line: &str) {
        self.keys.write_all(format!("{line}\r").as_bytes()).expect("type");
    }

    /// Ctrl-C; the program must end by itself, cleanly, within 10 s.
    fn ctrl_c(&mut self) -> String {
        self.keys.write_all(b"\x03").expect("ctrl-c");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(Instant::now() < deadline, "Ctrl-C did not end it:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(200));
        assert!(status.success(), "{}", self.text());
        self.text()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_different_code_is_said_on_both_screens_and_ctrl_c_always_ends_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 60);
    tone(&d.join("b.wav"), 330.0, 60);
    let addr = free_addr();
    let mut a = Terminal::start(d, "A", &["--listen", &addr]);
    let mut b = Terminal::start(d, "B", &["--connect", &addr]);

    // First run: each asks for the name the other person will see.
    let name_question = "What name should the other person see for this device";
    let at_a = a.wait_for(name_question, 0);
    a.type_line("Parent");
    let at_b = b.wait_for(name_question, 0);
    b.type_line("Sam");

    // The consent, naming the other device; then the code, big, on both.
    let at_a = a.wait_for("Record this meeting with Sam (fingerprint ", at_a);
    a.type_line("y");
    let at_b = b.wait_for("Record this meeting with Parent (fingerprint ", at_b);
    b.type_line("y");
    let at_a = a.wait_for("Does Sam's screen show the same code? [y/N]", at_a);
    let at_b = b.wait_for("Does Parent's screen show the same code? [y/N]", at_b);
    let code = |t: &str, from: usize| {
        t[..from].rsplit("Pairing code ").next().and_then(|r| r.get(..7)).map(str::to_owned)
    };
    assert_eq!(code(&a.text(), at_a), code(&b.text(), at_b), "the same code on both screens");
    a.type_line("y");
    b.type_line("n");
    let at_a = a.wait_for("Sam's screen showed a different code", at_a);
    a.wait_for("someone may be interfering", at_a);
    let at_b = b.wait_for("not paired with Parent", at_b);
    b.wait_for("someone may be interfering", at_b);

    // Back to looking; Ctrl-C ends each program at once, nothing recorded.
    for t in [&mut a, &mut b] {
        let text = t.ctrl_c();
        assert!(text.contains("Stopped before the meeting began. Nothing was recorded."), "{text}");
    }
    for who in ["A", "B"] {
        let sessions = std::fs::read_dir(d.join(format!("out-{who}"))).map_or(0, |r| r.count());
        assert_eq!(sessions, 0, "no meeting folder on {who}");
    }

    // Again, and Ctrl-C while the consent question waits for an answer.
    let mut a = Terminal::start(d, "A", &["--listen", &addr]);
    let b = Terminal::start(d, "B", &["--connect", &addr]);
    a.wait_for("Record this meeting with Sam (fingerprint ", 0);
    let text = a.ctrl_c();
    assert!(text.contains("Stopped before the meeting began. Nothing was recorded."), "{text}");
    drop(b);
}
