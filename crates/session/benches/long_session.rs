//! A long session at full speed: two processes (two devices over loopback TCP) record the
//! same hours-long WAV file as fast as it encodes, witnessing each other all the way.
//! Reports each process's resident memory over the session (goal: at most 25 MB, and
//! flat), its CPU time, and the evidence log's size against the recording's (goal: at
//! most 5 %).
//!
//! `cargo bench -p dualrec-session --bench long_session` (8 hours of input, ~10 minutes
//! on 2 cores); `-- --hours 0.5` for a shorter run.

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dualrec_proof::Identity;
use dualrec_session::{Input, Progress, SessionConfig};

type Error = Box<dyn std::error::Error>;

/// Speech-like input: a buzz through a moving formant, in syllables, with pauses.
fn write_input(path: &Path, hours: f64) -> Result<(), Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    let n = (hours * 3600.0 * 48_000.0) as u64;
    let mut phase = 0.0f32;
    for i in 0..n {
        let t = (i % (48_000 * 600)) as f32 / 48_000.0;
        let syllable =
            ((t * 3.1).sin() * 0.5 + 0.5).powi(2) * if (t * 0.2).sin() > -0.6 { 1.0 } else { 0.0 };
        phase = (phase + (140.0 + 20.0 * (t * 1.3).sin()) / 48_000.0).fract();
        let buzz = (phase * std::f32::consts::TAU).sin()
            + 0.5 * (phase * 2.0 * std::f32::consts::TAU).sin();
        let noise = ((i.wrapping_mul(2_654_435_761) >> 16) & 0xff) as f32 / 255.0 - 0.5;
        w.write_sample(((buzz * 0.8 + noise * 0.2) * syllable * 9_000.0) as i16)?;
    }
    w.finalize()?;
    Ok(())
}

fn proc_field(pid: u32, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds (user + system) of a running process.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// One device, in this process (the child side).
fn child(who: &str, dir: &Path, wav: &Path, port: u16) -> Result<(), Error> {
    let data_dir = dir.join(format!("{who}-device"));
    std::fs::create_dir_all(&data_dir)?;
    let (identity, _) = Identity::load_or_create(&dualrec_session::identity_path(&data_dir))?;
    let (listen, connect) = if who == "A" {
        (format!("127.0.0.1:{port}"), None)
    } else {
        ("/ip4/127.0.0.1/tcp/0".to_owned(), Some(format!("127.0.0.1:{port}")))
    };
    let config = SessionConfig {
        name: who.into(),
        data_dir,
        out_dir: dir.join(format!("{who}-recordings")),
        input: Input::WavFullSpeed(wav.to_owned()),
        duration: None,
        listen: vec![listen],
        connect,
        mdns: false,
        assume_yes: true,
        with: Some(if who == "A" { "B" } else { "A" }.into()),
    };
    let rt = tokio::runtime::Runtime::new()?;
    let who = who.to_owned();
    let outcome = rt.block_on(async move {
        let (status_tx, mut status) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            while let Some(p) = status.recv().await {
                if matches!(
                    p,
                    Progress::CaptureGap { .. }
                        | Progress::Refused { .. }
                        | Progress::EndNotSigned { .. }
                        | Progress::Link { up: false }
                ) {
                    eprintln!("{who}: {p:?}");
                }
            }
        });
        let (_stop, stop_rx) = tokio::sync::mpsc::channel(1);
        let yes: dualrec_session::Ask = std::sync::Arc::new(|_| true);
        dualrec_session::run(identity, config, yes, status_tx, stop_rx).await
    })?;
    let pid = std::process::id();
    println!(
        "RESULT {} {} {} {} {} {} {}",
        outcome.chunks,
        outcome.witnessed,
        outcome.peer_chunks,
        std::fs::metadata(&outcome.recording)?.len(),
        std::fs::metadata(&outcome.evidence)?.len(),
        cpu_seconds(pid).unwrap_or(f64::NAN),
        proc_field(pid, "status", "VmHWM:").unwrap_or(0),
    );
    Ok(())
}

struct Run {
    who: &'static str,
    child: Child,
    rss_kib: Vec<(f64, u64)>,
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let get = |k: usize| args.get(i + k).cloned().unwrap_or_default();
        return child(&get(1), Path::new(&get(2)), Path::new(&get(3)), get(4).parse()?);
    }
    let hours: f64 = match args.iter().position(|a| a == "--hours") {
        Some(i) => args.get(i + 1).ok_or("--hours needs a number")?.parse()?,
        None => 8.0,
    };
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let wav: PathBuf = dir.join("input.wav");
    let t = Instant::now();
    write_input(&wav, hours)?;
    println!(
        "input: {hours} h of 48 kHz mono speech-like WAV ({:.1} s to write)",
        t.elapsed().as_secs_f64()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let me = std::env::current_exe()?;
    let spawn = |who: &str| -> Result<Child, Error> {
        Ok(Command::new(&me)
            .args(["--child", who])
            .arg(dir)
            .arg(&wav)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .spawn()?)
    };
    let started = Instant::now();
    let mut runs = vec![Run { who: "A", child: spawn("A")?, rss_kib: Vec::new() }];
    std::thread::sleep(Duration::from_millis(300));
    runs.push(Run { who: "B", child: spawn("B")?, rss_kib: Vec::new() });
    while runs.iter_mut().any(|r| r.child.try_wait().ok().flatten().is_none()) {
        for r in &mut runs {
            if let Some(kib) = proc_field(r.child.id(), "status", "VmRSS:") {
                r.rss_kib.push((started.elapsed().as_secs_f64(), kib));
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let wall = started.elapsed().as_secs_f64();
    println!("both sessions done in {wall:.0} s ({:.0}x real time)", hours * 3600.0 / wall);
    println!(
        "{:<4} {:>7} {:>9} {:>9} {:>11} {:>10} {:>8} {:>7} {:>22} {:>9}",
        "dev",
        "chunks",
        "witnessed",
        "peer's",
        "recording",
        "log",
        "log/rec",
        "CPU s",
        "RSS MB 10/50/90/last%",
        "peak MB"
    );
    for r in runs {
        let out = r.child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("RESULT")).ok_or("a device failed")?;
        let f: Vec<&str> = line.split_whitespace().skip(1).collect();
        let n = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(f64::NAN);
        let at = |p: f64| {
            let i = ((r.rss_kib.len() as f64 - 1.0) * p) as usize;
            r.rss_kib.get(i).map_or(f64::NAN, |s| s.1 as f64 / 1024.0)
        };
        println!(
            "{:<4} {:>7} {:>9} {:>9} {:>9.1}MB {:>8.2}MB {:>7.2}% {:>7.1} {:>22} {:>9.1}",
            r.who,
            n(0),
            n(1),
            n(2),
            n(3) / 1e6,
            n(4) / 1e6,
            100.0 * n(4) / n(3),
            n(5),
            format!("{:.1}/{:.1}/{:.1}/{:.1}", at(0.1), at(0.5), at(0.9), at(1.0)),
            n(6) / 1024.0,
        );
    }
    println!("goals: RSS <= 25 MB and flat; evidence log <= 5 % of the recording");
    Ok(())
}
