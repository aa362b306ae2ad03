//! `dualrec excerpt`: a stretch of a recording as a file of its own that anyone can check
//! against the evidence without the rest of the recording (SPEC §11.5).

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dualrec_media::{RecordingFile, packet_samples, read_recording, write_excerpt};
use dualrec_proof::{LogRecord, read_log};

use crate::report::{clock_tenths, safe};
use crate::verify_cmd::{Input, read_counted};

/// `75`, `75.5`, `1:15`, `1:15.5` or `1:01:15.25`: a time in the recording, as 48 kHz
/// samples.
pub(crate) fn parse_time(s: &str) -> Result<u64, String> {
    let wrong = || format!("{s:?} is not a time in the recording (say 75, 1:15 or 1:01:15.5)");
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let parts: Vec<&str> = whole.split(':').collect();
    let digits = |x: &str| !x.is_empty() && x.len() <= 9 && x.bytes().all(|b| b.is_ascii_digit());
    if parts.len() > 3
        || !parts.iter().all(|p| digits(p))
        || !(fraction.is_empty() && !s.ends_with('.') || digits(fraction))
    {
        return Err(wrong());
    }
    let mut seconds = 0u64;
    for (i, p) in parts.iter().enumerate() {
        let v: u64 = p.parse().map_err(|_| wrong())?;
        if i > 0 && v >= 60 {
            return Err(wrong());
        }
        seconds = seconds * 60 + v;
    }
    let mut frac = 0u64;
    for (i, b) in fraction.bytes().take(6).enumerate() {
        frac += u64::from(b - b'0') * 10u64.pow(5 - i as u32);
    }
    Ok(seconds * 48_000 + frac * 48_000 / 1_000_000)
}

/// The packet ranges of the recording's chunks, from its producer's checkpoints in the
/// evidence log beside it; without one, the recorder's 50 packets per chunk (§11.3).
fn chunks(recording: &Path, file: &RecordingFile) -> Vec<Range<usize>> {
    let log = recording.with_file_name("evidence.log");
    let hidden = indicatif::ProgressBar::hidden();
    let bytes = read_counted(&log, Input::Log, &hidden).ok();
    let from_log = bytes.and_then(|b| read_log(&b).ok()).map(|contents| {
        let producer = file.tags.producer();
        let session = file.tags.session();
        contents
            .entries
            .into_iter()
            .filter_map(|e| match e.value {
                LogRecord::Checkpoint(c)
                    if Some(c.signer) == producer && Some(c.body.session) == session =>
                {
                    let at = usize::try_from(c.body.first_packet).ok()?;
                    Some(at..at.checked_add(c.body.packet_count as usize)?)
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    });
    match from_log {
        Some(c) if !c.is_empty() => c,
        _ => dualrec_media::chunk_ranges(file.packets.len(), 50),
    }
}

/// The packets that play between `from` and `to`: from the one playing at `from` to the
/// one playing just before `to`.
fn packets_between(file: &RecordingFile, from: u64, to: u64) -> Range<usize> {
    let end_of = |p: &dualrec_proof::Packet| {
        p.position.saturating_add(u64::from(packet_samples(&p.data).unwrap_or(0)))
    };
    let first = file.packets.partition_point(|p| end_of(p) <= from);
    let last = file.packets.partition_point(|p| p.position < to);
    first..last.max(first)
}

/// Writes the excerpt; returns what to tell the person.
pub(crate) fn run(
    recording: &Path,
    (from, to): (u64, u64),
    out: &Path,
    force: bool,
) -> anyhow::Result<String> {
    let bytes = read_counted(recording, Input::Recording, &indicatif::ProgressBar::hidden())
        .with_context(|| format!("cannot read the recording {}", recording.display()))?;
    let file = read_recording(&bytes)
        .with_context(|| format!("{} is not a readable recording", recording.display()))?;
    let length = file.playback().audio_end;
    let name = safe(&recording.display().to_string());
    anyhow::ensure!(
        from < to,
        "the excerpt would be empty or reversed: it must start before it ends ({} to {})",
        clock_tenths(from),
        clock_tenths(to)
    );
    anyhow::ensure!(
        to <= length,
        "{name} is {} long: an excerpt from {} to {} runs past its end",
        clock_tenths(length),
        clock_tenths(from),
        clock_tenths(to)
    );
    if out.exists() && !force {
        anyhow::bail!(
            "{} already exists; choose another name, or add --force to replace it",
            safe(&out.display().to_string())
        );
    }
    let keep = packets_between(&file, from, to);
    let first = file.packets[keep.start].position;
    let end = file.packets.get(keep.end).map_or(length, |p| p.position);
    write_excerpt(&file, &chunks(recording, &file), keep, out, force)
        .with_context(|| format!("cannot write the excerpt {}", out.display()))?;
    let shown = std::fs::canonicalize(out).unwrap_or_else(|_| PathBuf::from(out));
    Ok(format!(
        "Wrote {}: {} to {} of the recording ({:.1} s).\n\
         Anyone can check it with the evidence alone:\n  dualrec verify {} --evidence LOG\n",
        safe(&shown.display().to_string()),
        clock_tenths(first),
        clock_tenths(end),
        (end - first) as f64 / 48_000.0,
        safe(&out.display().to_string()),
    ))
}
