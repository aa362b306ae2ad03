//! `dualrec verify`: a recording against evidence logs, in words, JSON or HTML.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dualrec_media::read_recording;
use dualrec_proof::{
    ChunkStatus, Recording, Report, Verdict, Verifier, VerifyOptions, read_log, sha256,
};

use crate::report::{clock, render};

/// Files above this size get a progress bar (when stderr is a terminal): about 15
/// minutes of recording.
const PROGRESS_FROM_BYTES: u64 = 4 << 20;

/// A progress bar over the bytes to read, then a spinner while checking; hidden when
/// stderr is not a terminal or the input is small.
fn progress(files: impl Iterator<Item = PathBuf>) -> indicatif::ProgressBar {
    let total: u64 = files.filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    if total < PROGRESS_FROM_BYTES {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:24} [{bar:40}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("reading");
    bar
}

/// Reads a whole file in blocks, advancing `bar`.
fn read_counted(path: &Path, bar: &indicatif::ProgressBar) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut out = Vec::with_capacity(file.metadata().map_or(0, |m| m.len() as usize));
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&block[..n]);
        bar.inc(n as u64);
    }
}

/// Reads a recording and logs and verifies; the report and the recording's truncation.
pub(crate) fn verify_files(
    recording: &Path,
    evidence: &[PathBuf],
    excerpt: bool,
) -> anyhow::Result<(Report, Option<dualrec_media::Truncation>)> {
    let bar = progress(std::iter::once(recording.to_owned()).chain(evidence.iter().cloned()));
    let result = verify_with(recording, evidence, excerpt, &bar);
    bar.finish_and_clear();
    result
}

fn verify_with(
    recording: &Path,
    evidence: &[PathBuf],
    excerpt: bool,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<(Report, Option<dualrec_media::Truncation>)> {
    let bytes = read_counted(recording, bar)
        .with_context(|| format!("cannot read the recording {}", recording.display()))?;
    let file = read_recording(&bytes)
        .with_context(|| format!("{} is not a readable recording", recording.display()))?;
    let producer = file.tags.producer().with_context(|| {
        format!("{} does not name the device that made it (no DUALREC_PRODUCER tag): it is not a dualrec recording", recording.display())
    })?;
    let mut verifier = Verifier::new(VerifyOptions { excerpt, ..VerifyOptions::default() });
    for log in evidence {
        let data = read_counted(log, bar)
            .with_context(|| format!("cannot read the evidence log {}", log.display()))?;
        let contents = read_log(&data)
            .with_context(|| format!("{} is not a readable evidence log", log.display()))?;
        verifier.add_log(log.display().to_string(), contents);
    }
    bar.set_message("checking signatures");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let report = verifier
        .verify(&Recording {
            packets: &file.packets,
            producer,
            session: file.tags.session(),
            file_sha256: Some(sha256(&bytes)),
        })
        .with_context(|| format!("the evidence given cannot speak to {}", recording.display()))?;
    Ok((report, file.truncated))
}

/// Verifies; `Ok(true)` when every second is witnessed and matches.
pub(crate) fn run(
    recording: &Path,
    evidence: &[PathBuf],
    json: bool,
    html: Option<&Path>,
    excerpt: bool,
) -> anyhow::Result<bool> {
    let (report, truncated) = verify_files(recording, evidence, excerpt)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        if let Some(t) = truncated {
            println!(
                "Note: the recording ends in an incomplete page (a crash?); {} bytes at offset {} were not used.\n",
                t.bytes, t.offset
            );
        }
        print!("{}", render(&report));
    }
    if let Some(path) = html {
        std::fs::write(path, html_report(&report, recording))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(report.verdict == Verdict::Intact)
}

fn colour(s: &ChunkStatus) -> (&'static str, &'static str) {
    match s {
        ChunkStatus::WitnessedLive { .. } => ("#2e7d32", "witnessed live"),
        ChunkStatus::WitnessedLate { .. } => ("#f9a825", "witnessed late"),
        ChunkStatus::SignedOnly => ("#fbc02d", "signed only"),
        ChunkStatus::Altered => ("#c62828", "altered"),
        ChunkStatus::Missing => ("#6a1b9a", "missing"),
        ChunkStatus::Reordered { .. } => ("#ef6c00", "moved"),
        ChunkStatus::OutsideExcerpt => ("#bdbdbd", "outside excerpt"),
        _ => ("#000000", "unknown"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A self-contained page: the verdict, a timeline coloured by status, the full text report.
fn html_report(report: &Report, recording: &Path) -> String {
    let mut h = String::new();
    let verdict = match report.verdict {
        Verdict::Intact => "Complete and unaltered, every second witnessed live",
        Verdict::Problems => "Problems found",
    };
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>dualrec verification</title>\
         <style>body{{font-family:sans-serif;margin:2em}}.t{{display:flex;height:2.5em;border:1px solid #555}}\
         .t span{{flex:1}}pre{{background:#f5f5f5;padding:1em}}</style></head><body>\
         <h1>Verification of {}</h1><h2>{verdict}</h2><div class=\"t\">",
        escape(&recording.display().to_string())
    );
    for c in &report.chunks {
        let (col, what) = colour(&c.status);
        let _ = write!(
            h,
            "<span style=\"background:{col}\" title=\"{}: {what}\"></span>",
            clock(c.first_sample)
        );
    }
    let _ = write!(
        h,
        "</div><p>Green: witnessed live. Yellow: late or unwitnessed. Red: altered. Purple: missing. Orange: moved.</p><pre>{}</pre></body></html>",
        escape(&render(report))
    );
    h
}
