//! The record pipeline against `opusenc`, in one run, as ratios.
//!
//! `cargo bench -p dualrec-audio --bench record_pipeline` prints a report:
//! 1. WAV -> 48 kHz mono -> Opus -> Ogg, hashing and signing every chunk as the evidence
//!    core does, on a 10-minute speech WAV, against `opusenc --bitrate 32 --framesize 20`
//!    on the same file (median of 3 each), and the share of hashing + signing + container;
//! 2. peak and sampled RSS over a 1-hour input at full speed (in a child process);
//! 3. CPU while capturing the virtual microphone for 60 s (private PulseAudio).
//!
//! Pass `--quick` for 60 s / 5 min / 10 s inputs while developing.

#![allow(clippy::print_stdout)]

#[path = "../tests/common/pulse.rs"]
#[allow(dead_code)]
mod pulse;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use dualrec_audio::{AudioEvent, EncoderConfig, Pacing, Recorder};
use dualrec_media::{OpusHead, OpusTags, RecordingWriter};
use dualrec_proof::sim::sim_identity;
use dualrec_proof::{
    AudioParams, ChainState, ChunkDigester, Party, SessionId, StartRecord, Timestamp,
};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A path as the `&str` a command line takes.
fn arg(p: &Path) -> BenchResult<&str> {
    p.to_str().ok_or_else(|| format!("not a UTF-8 path: {}", p.display()).into())
}

struct Timings {
    total: Duration,
    container: Duration,
    proof: Duration,
    packets: u64,
    bytes: u64,
}

/// Runs one source through the whole recorder: Ogg writer + chunk digest + chain + signature.
fn run_pipeline(rec: &Recorder, out: &Path, stop_after: Option<Duration>) -> BenchResult<Timings> {
    let id = sim_identity(1, 0);
    let start = StartRecord {
        version: 1,
        session: SessionId([3; 16]),
        parties: vec![
            Party { key: id.public(), name: "A".into() },
            Party { key: sim_identity(1, 1).public(), name: "B".into() },
        ],
        audio: AudioParams::default_voice(),
        started_at_ms: 0,
    };
    let head = OpusHead {
        channels: 1,
        pre_skip: rec.pre_skip(),
        input_sample_rate: 48_000,
        output_gain: 0,
    };
    let tags = OpusTags::for_session("dualrec bench", start.session, id.public());
    let _ = std::fs::remove_file(out);
    let t0 = Instant::now();
    let mut w = RecordingWriter::create(out, head, &tags, 1)?;
    let mut chain = ChainState::new(&start, &id.public());
    let mut digester = ChunkDigester::new();
    let (mut container, mut proof) = (Duration::ZERO, Duration::ZERO);
    let mut signed = Vec::new();
    loop {
        if stop_after.is_some_and(|d| t0.elapsed() >= d) {
            rec.stop();
        }
        match rec.recv(Duration::from_secs(10)).ok_or("the recorder went quiet")? {
            AudioEvent::Packet(p) => {
                let t = Instant::now();
                w.write_packet(&p.data)?;
                let t2 = Instant::now();
                digester.push(&p.data, p.samples);
                proof += t2.elapsed();
                container += t2 - t;
                if digester.packet_count() == 50 {
                    let t = Instant::now();
                    w.end_chunk()?;
                    let t2 = Instant::now();
                    let cp = chain.commit(&mut digester, Timestamp { wall_ms: 0, mono_ms: 0 });
                    signed.push(cp.sign(&id));
                    proof += t2.elapsed();
                    container += t2 - t;
                }
            }
            AudioEvent::Finished { input_samples } => {
                let t = Instant::now();
                let fin = w.finish(input_samples)?;
                container += t.elapsed();
                return Ok(Timings {
                    total: t0.elapsed(),
                    container,
                    proof,
                    packets: fin.packets,
                    bytes: fin.bytes,
                });
            }
            AudioEvent::Failed { error, .. } => return Err(error.into()),
            _ => {}
        }
    }
}

fn sh(cmd: &str, args: &[&str]) -> BenchResult<()> {
    let st = Command::new(cmd).args(args).status().map_err(|e| format!("{cmd}: {e}"))?;
    if !st.success() {
        return Err(format!("{cmd} {args:?} failed").into());
    }
    Ok(())
}

/// A speech WAV of `seconds` at 48 kHz mono 16-bit, made with espeak-ng and sox.
fn speech_wav(dir: &Path, seconds: u32) -> BenchResult<PathBuf> {
    let out = dir.join(format!("speech-{seconds}s.wav"));
    if out.exists() {
        return Ok(out);
    }
    let one = dir.join("one.wav");
    let text = "Good morning. Thank you for coming. We are here to talk about the plan for the children, \
                what has happened since we last met, and what everyone will do next. Please say if anything \
                is not clear, and we can go over it again.";
    sh("espeak-ng", &["-v", "en-gb", "-s", "150", "-w", arg(&one)?, text])?;
    let one48 = dir.join("one48.wav");
    sh("sox", &[arg(&one)?, "-r", "48000", "-b", "16", "-c", "1", arg(&one48)?])?;
    let len: f64 =
        String::from_utf8(Command::new("soxi").args(["-D", arg(&one48)?]).output()?.stdout)?
            .trim()
            .parse()?;
    let repeats = (f64::from(seconds) / len).ceil() as u32;
    sh(
        "sox",
        &[
            arg(&one48)?,
            arg(&out)?,
            "repeat",
            &repeats.to_string(),
            "trim",
            "0",
            &seconds.to_string(),
        ],
    )?;
    Ok(out)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn cpu_seconds() -> f64 {
    // utime + stime from /proc/self/stat, in clock ticks of 1/100 s (Linux USER_HZ).
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // Fields after the comm: state is not numeric, so utime/stime are at 11 and 12 here.
    (f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0)) as f64 / 100.0
}

/// Child mode: `--rss-child WAV OUT` runs the pipeline at full speed, sampling RSS.
fn rss_child(wav: &Path, out: &Path) -> BenchResult<()> {
    let rec = Recorder::wav(wav, Pacing::AsFastAsPossible, EncoderConfig::default())?;
    let sampler = std::thread::spawn(|| {
        let mut samples = Vec::new();
        for _ in 0..600 {
            samples.push(status_kb("VmRSS:"));
            std::thread::sleep(Duration::from_millis(100));
            if std::path::Path::new("/proc/self").exists()
                && samples.len() > 2
                && STOP.load(std::sync::atomic::Ordering::SeqCst)
            {
                break;
            }
        }
        samples
    });
    let t = run_pipeline(&rec, out, None);
    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
    let t = t?;
    let samples = sampler.join().map_err(|_| "the RSS sampler failed")?;
    let q = |f: f64| samples[((samples.len() - 1) as f64 * f) as usize];
    println!(
        "RSS_CHILD hwm_kb={} rss_kb_at_10%={} at_50%={} at_90%={} packets={} secs={:.1}",
        status_kb("VmHWM:"),
        q(0.1),
        q(0.5),
        q(0.9),
        t.packets,
        t.total.as_secs_f64()
    );
    Ok(())
}

static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// CPU ticks (1/100 s) used so far by each thread of this process, with its name.
fn thread_ticks() -> Vec<(u64, String, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let tid: u64 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        let name = stat.split_once('(')?.1.rsplit_once(')')?.0.to_owned();
        let after = stat.rsplit(')').next()?;
        let f: Vec<u64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        Some((tid, name, f.get(10)? + f.get(11)?))
    })
    .collect()
}

/// Where the CPU goes in steady state: per thread name, the ticks used between two
/// snapshots (threads started or ended in between count from zero or to their end).
fn breakdown(a: &[(u64, String, u64)], b: &[(u64, String, u64)]) -> Vec<(String, u64)> {
    let mut by_name: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for (tid, name, ticks) in b {
        let before = a.iter().find(|(t, _, _)| t == tid).map_or(0, |(_, _, x)| *x);
        *by_name.entry(name.clone()).or_default() += ticks.saturating_sub(before);
    }
    let mut v: Vec<(String, u64)> = by_name.into_iter().filter(|(_, t)| *t > 0).collect();
    v.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
    v
}

/// Child mode: `--capture-child SECONDS OUT` records the default microphone. Reports
/// the whole run's CPU, and the steady state (from 2 s in to 1 s before the end) per
/// thread, so start-up costs and the place the time goes are told apart.
fn capture_child(seconds: f64, out: &Path) -> BenchResult<()> {
    let rec = Recorder::microphone(None, EncoderConfig::default())?;
    let cpu0 = cpu_seconds();
    let window = (seconds - 3.0).max(1.0);
    let sampler = std::thread::Builder::new().name("bench-sampler".into()).spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        let (a, ca) = (thread_ticks(), cpu_seconds());
        std::thread::sleep(Duration::from_secs_f64(window));
        let (b, cb) = (thread_ticks(), cpu_seconds());
        (breakdown(&a, &b), cb - ca)
    })?;
    let t = run_pipeline(&rec, out, Some(Duration::from_secs_f64(seconds)))?;
    let cpu = cpu_seconds() - cpu0;
    let (threads, steady) = sampler.join().map_err(|_| "the CPU sampler failed")?;
    let per_thread: Vec<String> = threads
        .iter()
        .map(|(name, ticks)| format!("{name}:{:.2}%", *ticks as f64 / window))
        .collect();
    println!(
        "CAPTURE_CHILD cpu_s={cpu:.3} wall_s={:.1} packets={} steady_pct={:.2} threads={}",
        t.total.as_secs_f64(),
        t.packets,
        steady / window * 100.0,
        per_thread.join(",")
    );
    Ok(())
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        return rss_child(Path::new(&args[i + 1]), Path::new(&args[i + 2]));
    }
    if let Some(i) = args.iter().position(|a| a == "--capture-child") {
        return capture_child(args[i + 1].parse()?, Path::new(&args[i + 2]));
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (enc_s, rss_s, live_s) = if quick { (60, 300, 10.0) } else { (600, 3600, 60.0) };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("record_pipeline");
    std::fs::create_dir_all(&dir)?;
    println!("dualrec-audio record pipeline benchmark ({})", if quick { "quick" } else { "full" });

    // 1. Speed against opusenc.
    let wav = speech_wav(&dir, enc_s)?;
    let anchor_out = dir.join("anchor.opus");
    let mut anchor = Vec::new();
    let mut ours = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        sh(
            "opusenc",
            &["--quiet", "--bitrate", "32", "--framesize", "20", arg(&wav)?, arg(&anchor_out)?],
        )?;
        anchor.push(t.elapsed());
        let rec = Recorder::wav(&wav, Pacing::AsFastAsPossible, EncoderConfig::default())?;
        let r = run_pipeline(&rec, &dir.join("ours.opus"), None)?;
        ours.push(r.total);
        last = Some(r);
    }
    let (a, o) = (median(anchor), median(ours));
    let r = last.ok_or("no run")?;
    let anchor_bytes = std::fs::metadata(&anchor_out)?.len();
    println!(
        "{enc_s} s speech WAV -> Ogg Opus 32 kbit/s, median of 3:\n  opusenc: {:.2} s ({:.0}x realtime, {} bytes)\n  dualrec: {:.2} s ({:.0}x realtime, {} bytes, {} packets)\n  speed ratio dualrec/opusenc: {:.2}x   goal >= 1.3x",
        a.as_secs_f64(),
        f64::from(enc_s) / a.as_secs_f64(),
        anchor_bytes,
        o.as_secs_f64(),
        f64::from(enc_s) / o.as_secs_f64(),
        r.bytes,
        r.packets,
        a.as_secs_f64() / o.as_secs_f64()
    );
    let encode = r.total.saturating_sub(r.container + r.proof);
    println!(
        "  hashing+signing {:.1} ms, container {:.1} ms: {:.2}% of the encode time   goal <= 3%",
        r.proof.as_secs_f64() * 1e3,
        r.container.as_secs_f64() * 1e3,
        (r.proof + r.container).as_secs_f64() / encode.as_secs_f64() * 100.0
    );

    // 2. Memory over a long input, in a fresh process.
    let long = speech_wav(&dir, rss_s)?;
    let long_out = dir.join("long.opus");
    let out = Command::new(std::env::current_exe()?)
        .args(["--rss-child", arg(&long)?, arg(&long_out)?])
        .output()?;
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("RSS_CHILD"))
        .unwrap_or("RSS_CHILD failed")
        .to_owned();
    println!("{rss_s} s input at full speed: {line}   goal: peak <= 20 MB, flat");
    let _ = std::fs::remove_file(dir.join("long.opus"));

    // 3. Live CPU from the virtual microphone.
    let pulse = pulse::Pulse::start();
    let speech = speech_wav(&dir, 30)?;
    let (exe, live_out) = (std::env::current_exe()?, dir.join("live.opus"));
    let mut child = pulse
        .cmd(arg(&exe)?)
        .args(["--capture-child", &live_s.to_string(), arg(&live_out)?])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let t = Instant::now();
    while t.elapsed().as_secs_f64() < live_s + 1.0 {
        let _ = pulse.cmd("paplay").arg(&speech).spawn().map(|mut p| {
            std::thread::sleep(Duration::from_secs_f64(
                (live_s + 1.0 - t.elapsed().as_secs_f64()).clamp(0.1, 30.0),
            ));
            let _ = p.kill();
            let _ = p.wait();
        });
    }
    let out = {
        use std::io::Read as _;
        let mut s = String::new();
        child.stdout.take().ok_or("no stdout")?.read_to_string(&mut s)?;
        let _ = child.wait();
        s
    };
    let line = out
        .lines()
        .find(|l| l.starts_with("CAPTURE_CHILD"))
        .unwrap_or("CAPTURE_CHILD failed")
        .to_owned();
    let cpu: f64 = line
        .split("cpu_s=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let field = |k: &str| {
        line.split(k).nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or("?").to_owned()
    };
    println!(
        "live capture of the virtual microphone for {live_s} s: {line}\n  CPU {:.2}% of one core over the whole run (start-up included), {}% in steady state   goal <= 2%\n  where the steady-state time goes, by thread (% of one core): {}",
        cpu / live_s * 100.0,
        field("steady_pct="),
        field("threads=")
    );
    Ok(())
}
