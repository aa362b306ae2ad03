//! Verification reports in words a non-expert reads.

use std::fmt::Write as _;

use dualrec_proof::{ChunkStatus, Finding, Report, Verdict};

/// `mm:ss` (or `h:mm:ss`) of a 48 kHz sample position.
pub(crate) fn clock(samples: u64) -> String {
    let s = samples / 48_000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

fn label(status: &ChunkStatus) -> &'static str {
    match status {
        ChunkStatus::WitnessedLive { .. } => "witnessed live by the other device",
        ChunkStatus::WitnessedLate { .. } => "signed, but witnessed late",
        ChunkStatus::SignedOnly => "signed by the recorder only, never witnessed",
        ChunkStatus::Altered => "ALTERED: the audio here is not what was signed",
        ChunkStatus::Missing => "MISSING: signed audio that is not in the file",
        ChunkStatus::Reordered { .. } => "MOVED: intact audio found at the wrong place",
        ChunkStatus::OutsideExcerpt => "outside this excerpt",
        _ => "unknown",
    }
}

fn reason_words(reason: dualrec_proof::EndReason) -> &'static str {
    use dualrec_proof::EndReason as R;
    match reason {
        R::Stopped => "stop was pressed",
        R::DurationReached => "the agreed duration was reached",
        R::PeerGone => "the other device had gone",
        R::CaptureFailed => "the microphone failed",
        R::StorageFailed => "the disk was full or failed",
        R::Recovered => "interrupted, then finished by `dualrec recover`",
        _ => "a reason this version does not know",
    }
}

/// The whole report as text.
pub(crate) fn render(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.session;
    let _ = writeln!(out, "Session {}", s.session);
    for p in &s.parties {
        let me = if p.key == s.producer { "  <- made this recording" } else { "" };
        let _ = writeln!(out, "  party: {:<20} fingerprint {}{me}", p.name, p.fingerprint);
    }
    match &s.end {
        Some(e) => {
            let who = s.parties.iter().find(|p| p.key == e.ended_by).map_or("?", |p| &p.name);
            let _ = writeln!(
                out,
                "  ended by {who} ({}){}",
                reason_words(e.reason),
                if e.one_sided {
                    ", signed by that side only (the other device was gone)"
                } else {
                    ", signed by both"
                }
            );
        }
        None => {
            let _ = writeln!(out, "  no signed end (the recording was interrupted)");
        }
    }
    for o in &s.clock_offsets {
        let _ = writeln!(
            out,
            "  the other device's clock was {:+} ms from this one ({})",
            o.offset_ms, o.method
        );
    }
    let _ = writeln!(out);

    // Merge consecutive chunks with the same verdict into time ranges.
    let mut ranges: Vec<(u64, u64, &'static str, i64)> = Vec::new();
    for c in &report.chunks {
        let l = label(&c.status);
        let delay = match c.status {
            ChunkStatus::WitnessedLive { delay_ms, .. }
            | ChunkStatus::WitnessedLate { delay_ms, .. } => delay_ms,
            _ => 0,
        };
        let end = c.first_sample + u64::from(c.samples);
        match ranges.last_mut() {
            Some(r) if r.2 == l && r.1 == c.first_sample => {
                r.1 = end;
                r.3 = r.3.max(delay);
            }
            _ => ranges.push((c.first_sample, end, l, delay)),
        }
    }
    let _ = writeln!(out, "Timeline (session time):");
    for (a, b, l, delay) in &ranges {
        let late = if l.contains("late") {
            format!(" (up to {:.1} s late)", *delay as f64 / 1000.0)
        } else {
            String::new()
        };
        let _ = writeln!(out, "  {}-{}  {l}{late}", clock(*a), clock(*b));
    }
    for r in &report.inserted {
        let what = if let Some(d) = r.duplicate_of {
            format!("a repeated copy of signed chunk {d}")
        } else if r.replaces.is_empty() {
            "INSERTED: audio no one signed".to_owned()
        } else {
            "stands where the altered audio should be".to_owned()
        };
        let _ = writeln!(out, "  file {}-{}  {what}", clock(r.start_sample), clock(r.end_sample));
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\nAbout the evidence:");
        for f in &report.findings {
            let _ = writeln!(out, "  - {}", finding(f));
        }
    }
    let t = &report.totals;
    let _ = writeln!(
        out,
        "\n{} chunks: {} witnessed live, {} late, {} signed only, {} altered, {} missing, {} moved; {} inserted stretch(es); {} signatures checked",
        t.chunks,
        t.witnessed_live,
        t.witnessed_late,
        t.signed_only,
        t.altered,
        t.missing,
        t.reordered,
        t.inserted_regions,
        t.signatures_checked
    );
    let _ = writeln!(
        out,
        "VERDICT: {}",
        match report.verdict {
            Verdict::Intact =>
                "the recording is complete and unaltered, and every second was witnessed live",
            Verdict::Problems => "PROBLEMS FOUND (see above)",
        }
    );
    out
}

fn finding(f: &Finding) -> String {
    match f {
        Finding::LogTornTail { log, record, bytes, .. } => format!(
            "{log}: its last record ({record}) was cut off by a crash ({bytes} bytes); not used"
        ),
        Finding::BadSignature { log, record, what, .. } => format!(
            "{log}, record {record}: a {what} whose signature is forged or damaged; ignored"
        ),
        Finding::NonPartySigner { log, record, signer, .. } => format!(
            "{log}, record {record}: signed by {}, who is not in this session; ignored",
            signer.fingerprint()
        ),
        Finding::ForeignSession { log, record, session, .. } => {
            format!("{log}, record {record}: belongs to another session ({session}); ignored")
        }
        Finding::BadStart { log, record, detail, .. } => {
            format!("{log}, record {record}: invalid start record ({detail})")
        }
        Finding::BadEnd { log, record, detail, .. } => {
            format!("{log}, record {record}: invalid end record ({detail})")
        }
        Finding::ConflictingStart => "two different signed starts for this session".to_owned(),
        Finding::ConflictingEnd => "two different signed ends for this session".to_owned(),
        Finding::Equivocation { index, versions } => {
            format!("the recorder signed {versions} different versions of chunk {index}")
        }
        Finding::ChainBroken { index } => format!("the hash chain breaks at chunk {index}"),
        Finding::EvidenceGap { first, last } => {
            format!("no evidence holds chunks {first} to {last}")
        }
        Finding::NoEnd => "the session has no signed end".to_owned(),
        Finding::OneSidedEnd { .. } => "the end was signed by one side only".to_owned(),
        Finding::EndMismatch { detail } => format!("the signed end does not match: {detail}"),
        Finding::FileHashMismatch { .. } => {
            "the file is not the one whose fingerprint was signed at the end".to_owned()
        }
        Finding::CaptureGap { first_sample, samples } => format!(
            "at {} the recording device lost {} ms of input and recorded silence in its place \
             (it says so itself, signed; this is not an edit)",
            clock(*first_sample),
            samples / 48
        ),
        _ => format!("{f:?}"),
    }
}
