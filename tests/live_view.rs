//! `dualrec record` on a real terminal (a pseudo-terminal): the live view appears, shows
//! the other device, the link and the seconds witnessed, and the `s` key stops the
//! recording, which then ends in step with the other device.

mod common;

use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{free_addr, spawn_recorder, tone};

/// Just enough of a terminal to read the view: cursor moves (`CSI row;col H`), `\r`,
/// `\n` and text on a 30 x 100 grid; other escape sequences are skipped.
struct Grid(Vec<Vec<char>>);

impl Grid {
    fn of(output: &str) -> Grid {
        let (rows, cols) = (30usize, 100usize);
        let mut g = vec![vec![' '; cols]; rows];
        let (mut r, mut c) = (0usize, 0usize);
        let mut chars = output.chars().peekable();
        while let Some(ch) = chars.next() {
            match ch {
                '\x1b' => {
                    if chars.next_if_eq(&'[').is_none() {
                        continue;
                    }
                    let mut params = String::new();
                    let fin = loop {
                        match chars.next() {
                            Some(x) if x.is_ascii_alphabetic() => break x,
                            Some(x) => params.push(x),
                            None => break ' ',
                        }
                    };
                    if fin == 'H' {
                        let mut it = params.split(';').map(|n| n.parse::<usize>().unwrap_or(1));
                        r = it.next().unwrap_or(1).clamp(1, rows) - 1;
                        c = it.next().unwrap_or(1).clamp(1, cols) - 1;
                    }
                }
                '\r' => c = 0,
                '\n' => r = (r + 1).min(rows - 1),
                ch if !ch.is_control() => {
                    if c < cols {
                        g[r][c] = ch;
                    }
                    c += 1;
                }
                _ => {}
            }
        }
        Grid(g)
    }

    /// The number on the view's "This device" row.
    fn seconds_recorded(&self) -> Option<u64> {
        self.0.iter().map(|r| r.iter().collect::<String>()).find_map(|row| {
            row.split("This device").nth(1)?.split_whitespace().next()?.parse().ok()
        })
    }

    fn contains(&self, what: &str) -> bool {
        self.0.iter().any(|row| row.iter().collect::<String>().contains(what))
    }
}

impl std::fmt::Display for Grid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for row in &self.0 {
            writeln!(f, "{}", row.iter().collect::<String>().trim_end())?;
        }
        Ok(())
    }
}

#[test]
fn the_live_view_shows_the_session_and_s_stops_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    tone(&d.join("a.wav"), 220.0, 40);
    tone(&d.join("b.wav"), 330.0, 40);
    let addr = free_addr();
    let other = spawn_recorder(d, "A", "60s", &["--listen", &addr]);
    std::thread::sleep(Duration::from_millis(500));

    let data = d.join("data-B");
    let (out, wav) = (d.join("out-B"), d.join("b.wav"));
    let (mut me, master) = common::dualrec_on_terminal([
        "--data-dir".as_ref(),
        data.as_os_str(),
        "record".as_ref(),
        "--name".as_ref(),
        "B".as_ref(),
        "--duration".as_ref(),
        "60s".as_ref(),
        "--yes".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--input-file".as_ref(),
        wav.as_os_str(),
        "--connect".as_ref(),
        std::ffi::OsStr::new(&addr),
    ]);

    // The terminal: collect what the program draws, answer its cursor-position query.
    let screen = Arc::new(Mutex::new(String::new()));
    let mut reader = std::fs::File::from(master.try_clone().expect("clone"));
    let mut writer = std::fs::File::from(master);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn({
        let screen = screen.clone();
        move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if text.contains("\x1b[6n") {
                    let _ = tx.send(());
                }
                screen.lock().expect("lock").push_str(&text);
            }
        }
    });
    let shown = |what: &str| Grid::of(&screen.lock().expect("lock")).contains(what);
    let deadline = Instant::now() + Duration::from_secs(60);
    // Wait until the view shows a few witnessed seconds, answering position queries.
    let recorded = || Grid::of(&screen.lock().expect("lock")).seconds_recorded().unwrap_or(0);
    while !(recorded() >= 3 && shown("witnessed by the other device") && shown("● connected")) {
        if rx.try_recv().is_ok() {
            writer.write_all(b"\x1b[1;1R").expect("answer");
        }
        assert!(
            Instant::now() < deadline,
            "the live view never showed the session:\n{}",
            Grid::of(&screen.lock().expect("lock"))
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for want in ["● recording", "With", "Input", "All is well", "Press s to stop"] {
        assert!(shown(want), "missing {want:?}");
    }

    // The person presses s: asked first, what it means for the other person's recording.
    writer.write_all(b"s").expect("press s");
    while !shown("Stop recording now? This also ends the recording on A's device") {
        assert!(Instant::now() < deadline, "s did not ask first");
        assert!(me.try_wait().expect("wait").is_none(), "s alone stopped the recording");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Then y: both devices stop and sign the end together, well before 60 s.
    writer.write_all(b"y").expect("press y");
    let status = loop {
        if let Some(st) = me.try_wait().expect("wait") {
            break st;
        }
        assert!(Instant::now() < deadline, "s did not stop the recording");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success());
    let out = other.wait_with_output().expect("A");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("the other device stopped the session"), "{text}");
    assert!(text.contains("end signed by both devices"), "{text}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        screen.lock().expect("lock").contains("end signed by both devices"),
        "the summary follows the view"
    );
    assert!(shown("■ stopped") && shown("The recording is saved."), "the last frame says so");

    // Both devices' reports of the meeting name B, whose person pressed s, as having ended
    // it (A signed an end saying so too), for the reason "stopped".
    let (_, rec_a, log_a) = common::session_files(&d.join("out-A"));
    let (_, rec_b, log_b) = common::session_files(&d.join("out-B"));
    let mut named = Vec::new();
    for (rec, log) in [(&rec_a, &log_b), (&rec_b, &log_a)] {
        let (code, v) = common::verify_json(rec, &[log]);
        assert_eq!(code, Some(0), "{v}");
        let ends = v["session"]["ends"].as_array().cloned().unwrap_or_default();
        assert!(ends.iter().all(|e| e["reason"] == "stopped"), "{ends:?}");
        named.push(v["session"]["ended_by"].clone());
    }
    let b_key = v_key(&rec_b);
    assert_eq!(named, vec![b_key.clone(), b_key]);
}

/// The producer key a recording names, as the JSON report writes keys.
fn v_key(rec: &std::path::Path) -> serde_json::Value {
    let f = dualrec_media::read_recording(&std::fs::read(rec).expect("read")).expect("parse");
    serde_json::json!(f.tags.producer().expect("producer"))
}
