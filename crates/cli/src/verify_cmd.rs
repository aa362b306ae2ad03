//! `dualrec verify`: a recording against evidence logs, in words, JSON or HTML.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dualrec_media::read_recording;
use dualrec_proof::{
    ExpectedParty, Recording, Report, Verdict, Verifier, VerifyOptions, read_log, sha256,
};

use crate::report::render;

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

/// One file examined, as the report lists it.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct FileFacts {
    /// The path as it was given (untrusted text).
    pub(crate) name: String,
    /// `recording`, `excerpt` or `evidence log`.
    pub(crate) role: &'static str,
    pub(crate) bytes: u64,
    pub(crate) sha256: dualrec_proof::Digest,
}

/// What a check found, and of what.
pub(crate) struct Checked {
    pub(crate) report: Report,
    pub(crate) truncated: Option<dualrec_media::Truncation>,
    pub(crate) files: Vec<FileFacts>,
}

/// Reads a recording and logs and verifies them.
pub(crate) fn verify_files(
    recording: &Path,
    evidence: &[PathBuf],
    options: VerifyOptions,
) -> anyhow::Result<Checked> {
    let bar = progress(std::iter::once(recording.to_owned()).chain(evidence.iter().cloned()));
    let result = verify_with(recording, evidence, options, &bar);
    bar.finish_and_clear();
    result
}

pub(crate) fn file_facts(path: &Path, role: &'static str, bytes: &[u8]) -> FileFacts {
    FileFacts {
        name: path.display().to_string(),
        role,
        bytes: bytes.len() as u64,
        sha256: sha256(bytes),
    }
}

fn verify_with(
    recording: &Path,
    evidence: &[PathBuf],
    options: VerifyOptions,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Checked> {
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
    let role = if place.is_some() { "excerpt" } else { "recording" };
    let mut files = vec![file_facts(recording, role, &bytes)];
    let mut verifier = Verifier::new(options);
    for log in evidence {
        let data = read_counted(log, Input::Log, bar)
            .with_context(|| format!("cannot read the evidence log {}", log.display()))?;
        files.push(file_facts(log, "evidence log", &data));
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
            file_sha256: Some(files[0].sha256),
            playback: Some(file.playback()),
            damaged: &file.damaged,
            excerpt: place.as_ref(),
        })
        .with_context(|| format!("the evidence given cannot speak to {}", recording.display()))?;
    Ok(Checked { report, truncated: file.truncated, files })
}

/// The other party's recording compared with this one (`verify --other`, and the app's
/// check): its file is listed with the files examined and the comparison's words follow
/// the report's.
pub(crate) fn add_other(
    recording: &Path,
    other: &Path,
    files: &mut Vec<FileFacts>,
    text: &mut String,
) -> anyhow::Result<dualrec_compare::Comparison> {
    let c = compare_other(recording, other, files)?;
    push_comparison(text, &c, recording, other);
    Ok(c)
}

/// The comparison's words after the report's.
fn push_comparison(text: &mut String, c: &dualrec_compare::Comparison, a: &Path, b: &Path) {
    text.push('\n');
    text.push_str(&crate::compare_cmd::render(c, a, b));
}

/// The other party's recording compared with this one; its file is listed with the
/// files examined.
fn compare_other(
    recording: &Path,
    other: &Path,
    files: &mut Vec<FileFacts>,
) -> anyhow::Result<dualrec_compare::Comparison> {
    let (c, [_, other_facts]) = crate::compare_cmd::compare_files(recording, other)?;
    files.push(FileFacts { role: "the other party's recording", ..other_facts });
    Ok(c)
}

/// The JSON report (`verify --json`): the verifier's report, the files examined and the
/// tool that examined them. Its shape is documented in docs/report-json.md.
#[derive(serde::Serialize)]
pub(crate) struct JsonReport<'a> {
    #[serde(flatten)]
    pub(crate) report: &'a Report,
    pub(crate) files: &'a [FileFacts],
    pub(crate) tool: Tool,
    /// The comparison with the other party's recording (`--other`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) other: Option<&'a dualrec_compare::Comparison>,
}

/// Which program made a report, and the formats it speaks.
#[derive(serde::Serialize)]
pub(crate) struct Tool {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
    pub(crate) evidence_format: u32,
    pub(crate) rules_version: u32,
}

impl Tool {
    pub(crate) fn this() -> Tool {
        Tool { name: "dualrec", version: crate::VERSION, evidence_format: 1, rules_version: 3 }
    }
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

/// What `verify` writes besides its words.
pub(crate) struct Outputs<'a> {
    pub(crate) json: bool,
    pub(crate) html: Option<&'a Path>,
    /// Put the recording inside the HTML report.
    pub(crate) embed_audio: bool,
    /// The other party's recording: compared with this one (SPEC §14).
    pub(crate) other: Option<&'a Path>,
}

/// Verifies; `Ok(true)` when all three axes hold.
pub(crate) fn run(
    recording: &Path,
    evidence: &[PathBuf],
    out: &Outputs<'_>,
    options: VerifyOptions,
) -> anyhow::Result<bool> {
    let Checked { report, truncated, mut files } = verify_files(recording, evidence, options)?;
    let comparison =
        out.other.map(|other| compare_other(recording, other, &mut files)).transpose()?;
    let mut text = String::new();
    if out.json {
        text = serde_json::to_string_pretty(&JsonReport {
            report: &report,
            files: &files,
            tool: Tool::this(),
            other: comparison.as_ref(),
        })?;
        text.push('\n');
    } else {
        if let Some(t) = truncated {
            text = format!(
                "Note: the recording ends in an incomplete page (a crash?); {} bytes at offset {} were not used.\n\n",
                t.bytes, t.offset
            );
        }
        text.push_str(&render(&report));
        if let (Some(c), Some(other)) = (&comparison, out.other) {
            push_comparison(&mut text, c, recording, other);
        }
    }
    crate::print_out(&text)?;
    if let Some(path) = out.html {
        let audio = if out.embed_audio {
            Some(
                std::fs::read(recording)
                    .with_context(|| format!("cannot read {}", recording.display()))?,
            )
        } else {
            None
        };
        let extras = crate::court::Extras { audio: audio.as_deref(), other: comparison.as_ref() };
        std::fs::write(path, crate::court::html(&report, &files, &extras))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let same = comparison.is_none_or(|c| c.count(dualrec_compare::Class::Different) == 0);
    Ok(report.verdict == Verdict::Intact && same)
}
