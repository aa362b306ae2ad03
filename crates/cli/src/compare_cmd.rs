//! `dualrec compare A B`: the acoustic cross-check of two recordings of one meeting, in
//! words (or JSON), with what it can and cannot show.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use dualrec_compare::{Class, Comparison, Why};

use crate::report::clock;

/// What "same sound" means and what this check cannot show; printed with every result.
const LIMITS: &str = "What this shows: for each second, whether the two recordings hold the same sound, \
judged by how the sound's energy rises and falls in each frequency band over a few seconds \
around it (two microphones in one room hear the same events, each in its own way). \
\"Different sound\" means the recordings disagree there: one of them did not record the \
room as the other did (sound replaced, muted, cut, inserted or stretched, or another \
room). It does not say which recording is the true one: the signed evidence (`dualrec \
verify`) says what each device committed to while recording, and a listener can compare \
the stretch named. Silence and very quiet sound cannot be compared (\"cannot tell\"). It \
does not identify voices.";

fn read(path: &Path, which: &str) -> anyhow::Result<dualrec_media::RecordingFile> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read recording {which} ({})", path.display()))?;
    dualrec_media::read_recording(&bytes).with_context(|| {
        format!("recording {which} ({}) is not a readable recording", path.display())
    })
}

/// Ok(true): no second is "different sound".
pub(crate) fn run(a: &Path, b: &Path, json: bool) -> anyhow::Result<bool> {
    let (fa, fb) = (read(a, "A")?, read(b, "B")?);
    let comparison = dualrec_compare::compare(&fa, &fb)?;
    let text = if json {
        serde_json::to_string_pretty(&comparison)? + "\n"
    } else {
        render(&comparison, a, b)
    };
    crate::print_out(&text)?;
    Ok(comparison.count(Class::Different) == 0)
}

fn mmss(second: u64) -> String {
    clock(second * 48_000)
}

/// Why a stretch is "different", in words (from its first second).
fn reason(c: &Comparison, first: u64) -> String {
    let why = c.seconds.iter().find(|s| s.index == first).map(|s| s.why);
    match why {
        Some(Why::SilentIn(side)) => {
            format!("recording {side} is silent here while the other holds sound")
        }
        Some(Why::Shifted { from_ms, to_ms }) => format!(
            "the same sound, but {} ms out of step with the rest of the meeting: sound was cut, inserted or stretched on one side",
            (to_ms - from_ms).abs()
        ),
        Some(Why::OtherVoice) => {
            "the same sounds at the same moments, but in a voice of another pitch: someone else speaking, or a changed voice".to_owned()
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
