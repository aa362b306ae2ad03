//! Helpers shared by the tests that run the real `dualrec` binary.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub(crate) fn dualrec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dualrec"))
}

/// A loopback address with a port that was free a moment ago.
pub(crate) fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    format!("127.0.0.1:{port}")
}

/// `dualrec record` for device `who` (data in `d/data-<who>`, sessions in `d/out-<who>`,
/// input `d/<who>.wav`), accepting the pairing code with `--yes`.
pub(crate) fn spawn_recorder(d: &Path, who: &str, duration: &str, extra: &[&str]) -> Child {
    dualrec()
        .arg("--data-dir")
        .arg(d.join(format!("data-{who}")))
        .args(["record", "--name", who, "--duration", duration, "--yes", "--out"])
        .arg(d.join(format!("out-{who}")))
        .arg("--input-file")
        .arg(d.join(format!("{}.wav", who.to_lowercase())))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dualrec record")
}

/// Two recorders, A listening on a free loopback port and B connecting to it, each
/// stopping after `duration`.
pub(crate) fn spawn_pair(d: &Path, duration: &str) -> (Child, Child) {
    let addr = free_addr();
    let a = spawn_recorder(d, "A", duration, &["--listen", &addr]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let b = spawn_recorder(d, "B", duration, &["--connect", &addr]);
    (a, b)
}

/// `dualrec verify RECORDING --json --evidence LOG...`: the exit code and the report.
pub(crate) fn verify_json(recording: &Path, logs: &[&Path]) -> (Option<i32>, serde_json::Value) {
    let mut cmd = dualrec();
    cmd.arg("verify").arg(recording).arg("--json");
    for log in logs {
        cmd.arg("--evidence").arg(log);
    }
    let out = cmd.output().expect("verify");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("verify printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code(), report)
}

pub(crate) fn tone(path: &Path, freq: f32, seconds: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..48_000 * seconds {
        let t = i as f32 / 48_000.0;
        let s = (t * freq * std::f32::consts::TAU).sin() * (0.3 + 0.2 * (t * 1.7).sin()) * 12_000.0;
        w.write_sample(s as i16).expect("sample");
    }
    w.finalize().expect("finalize");
}

pub(crate) fn session_files(out: &Path) -> (String, PathBuf, PathBuf) {
    let dirs: Vec<_> =
        std::fs::read_dir(out).expect("out dir").map(|e| e.expect("entry").path()).collect();
    assert_eq!(dirs.len(), 1, "one session directory in {}", out.display());
    let id = dirs[0].file_name().expect("name").to_string_lossy().to_string();
    (id, dirs[0].join("recording.opus"), dirs[0].join("evidence.log"))
}

/// `text` spoken by espeak-ng into a WAV file at `path`.
pub(crate) fn speak(path: &Path, text: &str) {
    let spoken = Command::new("espeak-ng")
        .args(["-v", "en-us", "-w"])
        .arg(path)
        .arg(text)
        .status()
        .expect("espeak-ng must be installed (.ci/setup installs it)");
    assert!(spoken.success(), "espeak-ng failed");
}

/// A pseudo-terminal: (master, path of the slave side), 30 rows by 100 columns.
pub(crate) fn pty() -> (std::os::fd::OwnedFd, std::path::PathBuf) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let size = rustix::termios::Winsize { ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 };
    rustix::termios::tcsetwinsize(&master, size).expect("window size");
    (master, std::path::PathBuf::from(name.to_string_lossy().into_owned()))
}

/// `dualrec ARGS` on a new pseudo-terminal that is its controlling terminal (`setsid -c`,
/// util-linux, as a login shell gives one): the program, and the terminal's master side.
pub(crate) fn dualrec_on_terminal<I, S>(args: I) -> (Child, std::os::fd::OwnedFd)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let (master, slave_path) = pty();
    let slave =
        || std::fs::OpenOptions::new().read(true).write(true).open(&slave_path).expect("slave");
    let child = Command::new("setsid")
        .arg("-c")
        .arg(env!("CARGO_BIN_EXE_dualrec"))
        .args(args)
        .stdin(Stdio::from(slave()))
        .stdout(Stdio::from(slave()))
        .stderr(Stdio::from(slave()))
        .spawn()
        .expect("spawn on a terminal");
    (child, master)
}

/// One meeting of two real recorders in `d`: A's recording, A's and B's logs.
pub(crate) fn meeting(d: &Path, seconds: u32) -> (PathBuf, PathBuf, PathBuf) {
    tone(&d.join("a.wav"), 220.0, seconds + 1);
    tone(&d.join("b.wav"), 330.0, seconds + 1);
    let (a, b) = spawn_pair(d, &format!("{seconds}s"));
    for (who, child) in [("A", a), ("B", b)] {
        let out = child.wait_with_output().expect("recorder");
        assert!(out.status.success(), "{who}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (_, rec_a, log_a) = session_files(&d.join("out-A"));
    let (_, _, log_b) = session_files(&d.join("out-B"));
    (rec_a, log_a, log_b)
}

/// A copy of recording `src` at `dst` with its packets and tags changed by `edit`, as a
/// valid Ogg Opus file (re-muxed) whose end is trimmed as the original's was.
pub(crate) fn rewrite(
    src: &Path,
    dst: &Path,
    edit: impl FnOnce(&mut Vec<Vec<u8>>, &mut Vec<String>),
) {
    let f = dualrec_media::read_recording(&std::fs::read(src).expect("read")).expect("parse");
    let mut packets: Vec<Vec<u8>> = f.packets.iter().map(|p| p.data.clone()).collect();
    let mut tags = f.tags.clone();
    edit(&mut packets, &mut tags.comments);
    let mut w = dualrec_media::RecordingWriter::create(dst, f.head, &tags, 5).expect("writer");
    for p in &packets {
        w.write_packet(p).expect("packet");
    }
    let before: u64 = f
        .packets
        .iter()
        .map(|p| u64::from(dualrec_media::packet_samples(&p.data).unwrap_or(0)))
        .sum();
    let removed = before.saturating_sub(w.granule());
    w.finish(f.playable_samples().saturating_sub(removed)).expect("finish");
}

/// A copy of the recording with packets `cut` taken out, as a clean file.
pub(crate) fn cut_copy(src: &Path, dst: &Path, cut: std::ops::Range<usize>) {
    rewrite(src, dst, |packets, _| {
        packets.drain(cut);
    });
}
