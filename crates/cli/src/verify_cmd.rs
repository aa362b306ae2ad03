//! `dualrec verify`: a recording against evidence logs, in words, JSON or HTML.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dualrec_media::read_recording;
use dualrec_proof::{
    ChunkStatus, ExpectedParty, Recording, Report, Verdict, Verifier, VerifyOptions, read_log,
    sha256,
};

use crate::report::{axis_sentences, clock, label, render, safe};

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

/// What kind of file is being read: how much may be read, and what a block of it must
/// look like, so a huge or hostile input is refused early instead of read whole.
#[derive(Clone, Copy)]
pub(crate) enum Input {
    /// An Ogg stream: every 1 MiB holds a page start (`OggS`), pages being at most 64 KiB.
    Recording,
    /// An evidence log (SPEC §8): at most 2 GiB; 1 MiB of zeros is never a valid log.
    Log,
}

impl Input {
    fn max(self) -> u64 {
        match self {
            Input::Recording => 4 << 30,
            Input::Log => 2 << 30,
        }
    }

    fn block_ok(self, block: &[u8], full: bool) -> bool {
        match self {
            Input::Recording => !full || block.windows(4).any(|w| w == b"OggS"),
            Input::Log => !full || block.iter().any(|&b| b != 0),
        }
    }
}

const BLOCK: usize = 1 << 20;

/// Reads a whole regular file in blocks, advancing `bar`. FIFOs, devices and folders
/// are refused before reading; sizes are checked before allocating; a block that cannot
/// be part of a valid file stops the read.
pub(crate) fn read_counted(
    path: &Path,
    kind: Input,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot open {}", path.display()))?;
    anyhow::ensure!(
        meta.is_file(),
        "{} is not a regular file (a folder, device or pipe)",
        path.display()
    );
    anyhow::ensure!(
        meta.len() <= kind.max(),
        "{} is {} bytes, more than any valid file of its kind ({} bytes)",
        path.display(),
        meta.len(),
        kind.max()
    );
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::with_capacity(meta.len().min(64 << 20) as usize);
    let mut block = vec![0u8; BLOCK];
    loop {
        let mut filled = 0;
        while filled < BLOCK {
            let n = file
                .read(&mut block[filled..])
                .with_context(|| format!("cannot read {}", path.display()))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        anyhow::ensure!(
            kind.block_ok(&block[..filled], filled == BLOCK),
            "{} holds 1 MiB at offset {} that cannot belong to a valid file of its kind (damaged or sparse)",
            path.display(),
            out.len()
        );
        anyhow::ensure!(
            out.len() as u64 + filled as u64 <= kind.max(),
            "{} grew past {} bytes while being read",
            path.display(),
            kind.max()
        );
        out.extend_from_slice(&block[..filled]);
        bar.inc(filled as u64);
        if filled < BLOCK {
            return Ok(out);
        }
    }
}

/// Reads a recording and logs and verifies; the report and the recording's truncation.
pub(crate) fn verify_files(
    recording: &Path,
    evidence: &[PathBuf],
    options: VerifyOptions,
) -> anyhow::Result<(Report, Option<dualrec_media::Truncation>)> {
    let bar = progress(std::iter::once(recording.to_owned()).chain(evidence.iter().cloned()));
    let result = verify_with(recording, evidence, options, &bar);
    bar.finish_and_clear();
    result
}

fn verify_with(
    recording: &Path,
    evidence: &[PathBuf],
    options: VerifyOptions,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<(Report, Option<dualrec_media::Truncation>)> {
    let bytes = read_counted(recording, Input::Recording, bar)
        .with_context(|| format!("cannot read the recording {}", recording.display()))?;
    let file = read_recording(&bytes)
        .with_context(|| format!("{} is not a readable recording", recording.display()))?;
    let producer = file.tags.producer().with_context(|| {
        format!("{} does not name the device that made it (no DUALREC_PRODUCER tag): it is not a dualrec recording", recording.display())
    })?;
    let place = file.tags.excerpt_place().with_context(|| {
        format!("{} says it is an excerpt, but its place cannot be read", recording.display())
    })?;
    let mut verifier = Verifier::new(options);
    for log in evidence {
        let data = read_counted(log, Input::Log, bar)
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
            playback: Some(file.playback()),
            damaged: &file.damaged,
            excerpt: place.as_ref(),
        })
        .with_context(|| format!("the evidence given cannot speak to {}", recording.display()))?;
    Ok((report, file.truncated))
}

/// `--expect NAME=FINGERPRINT`.
pub(crate) fn parse_expect(s: &str) -> Result<ExpectedParty, String> {
    let (label, fp) = s.rsplit_once('=').ok_or("expected NAME=FINGERPRINT")?;
    let digits = fp.chars().filter(char::is_ascii_hexdigit).count();
    if digits != 20 || fp.chars().any(|c| !(c.is_ascii_hexdigit() || c == '-' || c == ' ')) {
        return Err(format!("{fp:?} is not a fingerprint (20 hex digits, as `dualrec id` shows)"));
    }
    Ok(ExpectedParty { label: label.to_owned(), fingerprint: fp.to_owned() })
}

/// Verifies; `Ok(true)` when all three axes hold.
pub(crate) fn run(
    recording: &Path,
    evidence: &[PathBuf],
    json: bool,
    html: Option<&Path>,
    options: VerifyOptions,
) -> anyhow::Result<bool> {
    let (report, truncated) = verify_files(recording, evidence, options)?;
    let mut text = String::new();
    if json {
        text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
    } else {
        if let Some(t) = truncated {
            text = format!(
                "Note: the recording ends in an incomplete page (a crash?); {} bytes at offset {} were not used.\n\n",
                t.bytes, t.offset
            );
        }
        text.push_str(&render(&report));
    }
    crate::print_out(&text)?;
    if let Some(path) = html {
        std::fs::write(path, html_report(&report, recording))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(report.verdict == Verdict::Intact)
}

/// The meeting: when (UTC, and the reader's own time zone by the browser), and the
/// parties with their fingerprints, names marked as each party's own choice.
fn meeting_html(h: &mut String, report: &Report) {
    let s = &report.session;
    let _ = write!(
        h,
        "</ul><h3>The meeting</h3><p>Session {}, started <time datetime=\"{ms}\">{}</time> \
         <span id=\"local\"></span> (the proposing device's clock).</p><ul>",
        s.session,
        crate::report::utc(s.started_at_ms),
        ms = s.started_at_ms,
    );
    for p in &s.parties {
        let me = if p.key == s.producer { " — made this recording" } else { "" };
        let _ = write!(
            h,
            "<li>&ldquo;{}&rdquo; (a name chosen by that party), fingerprint <code>{}</code>{me}</li>",
            escape(&p.name),
            p.fingerprint
        );
    }
    let _ = write!(
        h,
        "</ul><p>The fingerprints, not the names, identify the devices.</p>\
         <script>document.getElementById('local').textContent='(' + \
         new Date({}).toLocaleString() + ' your time)';</script>",
        s.started_at_ms
    );
}

/// Colour, hatching and words for a status: readable in black and white too.
fn style(s: &ChunkStatus) -> (&'static str, &'static str) {
    match s {
        ChunkStatus::WitnessedLive(_) => ("#2e7d32", "none"),
        ChunkStatus::WitnessedLate(_) => {
            ("#f9a825", "repeating-linear-gradient(45deg,#0003 0 2px,transparent 2px 6px)")
        }
        ChunkStatus::SignedOnly => {
            ("#fff176", "repeating-linear-gradient(90deg,#0003 0 2px,transparent 2px 6px)")
        }
        ChunkStatus::Altered => {
            ("#c62828", "repeating-linear-gradient(-45deg,#fff8 0 3px,transparent 3px 6px)")
        }
        ChunkStatus::Removed => {
            ("#6a1b9a", "repeating-linear-gradient(0deg,#fff8 0 3px,transparent 3px 6px)")
        }
        ChunkStatus::Moved { .. } => ("#ef6c00", "radial-gradient(#fff9 30%,transparent 31%)"),
        _ => ("#bdbdbd", "none"),
    }
}

fn escape(s: &str) -> String {
    safe(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A self-contained page: the answer per axis, a timeline coloured and patterned by
/// status with words on hover, and the full text report. (Issue #10 builds the court
/// report on this.)
pub(crate) fn html_report(report: &Report, recording: &Path) -> String {
    let mut h = String::new();
    let verdict = match report.verdict {
        Verdict::Intact => "Complete, unaltered, every second witnessed live",
        Verdict::Problems => "Not confirmed: see below",
    };
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>dualrec verification</title>\
         <style>body{{font-family:sans-serif;margin:1em;max-width:60em}}.t{{display:flex;height:2.5em;border:1px solid #555}}\
         .t span{{flex:1}}pre{{background:#f5f5f5;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere}}</style></head><body>\
         <h1>Verification of {}</h1><h2>{verdict}</h2><ul>",
        escape(&recording.display().to_string())
    );
    for (name, holds, sentence) in axis_sentences(report) {
        let mark = if holds { "holds" } else { "does not hold" };
        let _ = write!(h, "<li><b>{name}</b> {mark}: {}.</li>", escape(&sentence));
    }
    meeting_html(&mut h, report);
    h.push_str("<div class=\"t\" role=\"img\" aria-label=\"timeline\">");
    for c in &report.chunks {
        let (col, pattern) = style(&c.status);
        let _ = write!(
            h,
            "<span style=\"background:{pattern},{col}\" title=\"{}: {}\"></span>",
            clock(c.first_sample),
            label(&c.status)
        );
    }
    let _ = write!(h, "</div><pre>{}</pre></body></html>", escape(&render(report)));
    h
}
