//! `dualrec compare A B`: the acoustic cross-check of two recordings of one meeting, in
//! words (or JSON), with what it can and cannot show.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::verify_cmd::{FileFacts, Input, file_facts, read_counted};

use anyhow::Context as _;
use dualrec_compare::{Class, Comparison, Why};

use crate::report::clock;

/// What "same sound" means and what this check cannot show; printed with every result.
pub(crate) const LIMITS: &str = "What this shows: for each second, whether the two recordings hold the same sound, \
judged by how the sound's energy rises and falls in each frequency band over a few seconds \
around it (two microphones in one room hear the same events, each in its own way), \
and, where both hear someone speak, whether they hear one voice at one pitch. \
\"Different sound\" means the recordings disagree there: one of them did not record the \
room as the other did (sound replaced, muted, cut, inserted or stretched, another voice, \
or another room). It does not say which recording is the true one: the signed evidence (`dualrec \
verify`) says what each device committed to while recording, and a listener can compare \
the stretch named. Silence and very quiet sound cannot be compared (\"cannot tell\"). It \
does not identify who is speaking: a stand-in whose pitch follows the speaker's closely \
can pass as the same sound.";

/// A recording to compare (read as every input is: size-capped, screened), and the
/// facts of its file for a report.
fn read(path: &Path, which: &str) -> anyhow::Result<(dualrec_media::RecordingFile, FileFacts)> {
    let hidden = indicatif::ProgressBar::hidden();
    let bytes = read_counted(path, Input::Recording, &hidden)
        .with_context(|| format!("cannot read recording {which} ({})", path.display()))?;
    let file = dualrec_media::read_recording(&bytes).with_context(|| {
        format!("recording {which} ({}) is not a readable recording", path.display())
    })?;
    Ok((file, file_facts(path, "recording", &bytes)))
}

/// Compares two recordings of one meeting; also the facts of both files.
pub(crate) fn compare_files(a: &Path, b: &Path) -> anyhow::Result<(Comparison, [FileFacts; 2])> {
    let ((fa, facts_a), (fb, facts_b)) = (read(a, "A")?, read(b, "B")?);
    Ok((dualrec_compare::compare(&fa, &fb)?, [facts_a, facts_b]))
}

/// What `compare` was asked for besides the comparison.
pub(crate) struct Asked<'a> {
    pub(crate) json: bool,
    pub(crate) html: Option<&'a Path>,
    /// Evidence logs: each recording is verified against them too.
    pub(crate) evidence: &'a [PathBuf],
}

/// The JSON of `compare`: the comparison, and each recording's verification when
/// evidence was given.
#[derive(serde::Serialize)]
struct JsonCompare<'a> {
    #[serde(flatten)]
    comparison: &'a Comparison,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<Verified<'a>>,
}

#[derive(serde::Serialize)]
struct Verified<'a> {
    a: &'a dualrec_proof::Report,
    b: &'a dualrec_proof::Report,
}

/// Ok(true): no second is "different sound" (and, with evidence, both recordings verify).
pub(crate) fn run(a: &Path, b: &Path, asked: &Asked<'_>) -> anyhow::Result<bool> {
    let (comparison, facts) = compare_files(a, b)?;
    let options = dualrec_proof::VerifyOptions::default;
    let checked = if asked.evidence.is_empty() {
        None
    } else {
        let ca = crate::verify_cmd::verify_files(a, asked.evidence, options())?;
        let cb = crate::verify_cmd::verify_files(b, asked.evidence, options())?;
        Some((ca, cb))
    };
    let text = if asked.json {
        let verification =
            checked.as_ref().map(|(ca, cb)| Verified { a: &ca.report, b: &cb.report });
        serde_json::to_string_pretty(&JsonCompare { comparison: &comparison, verification })? + "\n"
    } else {
        let mut t = render(&comparison, a, b);
        if let Some((ca, cb)) = &checked {
            // The evidence goes with the answer, before what the check can show.
            let at = t.rfind(&format!("\n{LIMITS}")).unwrap_or(t.len());
            t.insert_str(at, &evidence_words(&[("A", &ca.report), ("B", &cb.report)]));
        }
        t
    };
    crate::print_out(&text)?;
    if let Some(path) = asked.html {
        let (files, verified) = match &checked {
            Some((ca, cb)) => (
                ca.files.iter().chain(&cb.files[1..]).cloned().collect(),
                vec![("A", &ca.report), ("B", &cb.report)],
            ),
            None => (facts.to_vec(), Vec::new()),
        };
        std::fs::write(path, crate::court::compare_page(&comparison, &files, &verified))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let verified = checked.is_none_or(|(ca, cb)| {
        [ca, cb].iter().all(|c| c.report.verdict == dualrec_proof::Verdict::Intact)
    });
    Ok(comparison.count(Class::Different) == 0 && verified)
}

/// Each recording's verification, in one line per axis.
fn evidence_words(verified: &[(&str, &dualrec_proof::Report)]) -> String {
    let mut t = String::from("\nTHE EVIDENCE (dualrec verify, against the logs given)\n");
    for (which, report) in verified {
        let _ = writeln!(t, "  Recording {which}:");
        crate::report::answer_lines(&mut t, report, "    ");
    }
    t
}

fn mmss(second: u64) -> String {
    clock(second * 48_000)
}

/// Why a stretch is "different", in words (from its first second).
pub(crate) fn reason(c: &Comparison, first: u64) -> String {
    let why = c.seconds.iter().find(|s| s.index == first).map(|s| s.why);
    match why {
        Some(Why::SilentIn { side }) => {
            format!("recording {side} is silent here while the other holds sound")
        }
        Some(Why::Shifted { from_ms, to_ms }) => format!(
            "the same sound, but {} ms out of step with the rest of the meeting: sound was cut, inserted or stretched on one side",
            (to_ms - from_ms).abs()
        ),
        Some(Why::OtherVoice) => {
            "the same sounds at the same moments, but in a voice of another pitch: someone else speaking, or a changed voice (two people speaking at once, each nearer one device, can sound so too: listen to both here)".to_owned()
        }
        _ => "the two recordings hold different sound".to_owned(),
    }
}

pub(crate) fn render(c: &Comparison, a: &Path, b: &Path) -> String {
    let mut t = String::new();
    let safe = |p: &Path| crate::report::safe(&p.display().to_string());
    let _ = writeln!(t, "Acoustic cross-check of two recordings of one meeting");
    let _ = writeln!(t, "  A: {} ({})", safe(a), mmss(c.seconds_a));
    let _ = writeln!(t, "  B: {} ({})", safe(b), mmss(c.seconds_b));
    if let Some(s) = c.session {
        let _ = writeln!(t, "  session {s}");
    }
    let _ = writeln!(t, "\nTHE ANSWER");
    let different = c.stretches(Class::Different);
    if different.is_empty() {
        let _ = writeln!(t, "  No second where the two recordings hold different sound.");
    } else {
        let n = c.count(Class::Different);
        let _ = writeln!(t, "  DIFFERENT SOUND in {n} second(s):");
        for (first, last) in &different {
            let _ = writeln!(t, "    {}-{}  {}", mmss(*first), mmss(last + 1), reason(c, *first));
        }
    }
    let _ = writeln!(
        t,
        "  Same sound: {} s · different: {} s · cannot tell: {} s (silence, too quiet, or damaged)",
        c.count(Class::Same),
        c.count(Class::Different),
        c.count(Class::CannotTell)
    );
    for j in &c.jumps {
        let _ = writeln!(
            t,
            "  At {} the timing between the recordings jumped from {} ms to {} ms and stayed: sound was cut or inserted on one side there.",
            mmss(j.second),
            j.from_ms,
            j.to_ms
        );
    }
    let (sa, sb) = (c.seconds_a, c.seconds_b);
    if sa != sb {
        let (longer, from, to) = if sa > sb { ("A", sb, sa) } else { ("B", sa, sb) };
        let _ = writeln!(
            t,
            "  Only recording {longer} holds {}-{}: not compared.",
            mmss(from),
            mmss(to)
        );
    }
    let _ = writeln!(t, "\n{LIMITS}");
    t
}
