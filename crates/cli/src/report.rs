//! Verification reports in words a non-expert reads (SPEC §9, rules version 3). Every
//! string that came from a file or a peer goes through [`safe`] first.

use std::fmt::Write as _;

use dualrec_proof::{
    Axis, AxisState, ChunkStatus, Finding, PublicKey, RegionKind, Report, Severity, Verdict,
};

/// `mm:ss` (or `h:mm:ss`) of a 48 kHz sample position.
pub(crate) fn clock(samples: u64) -> String {
    let s = samples / 48_000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// `mm:ss.t`: a position to the tenth of a second.
pub(crate) fn clock_tenths(samples: u64) -> String {
    let tenth = (samples % 48_000) / 4_800;
    format!("{}.{tenth}", clock(samples))
}

/// A string from a file or a peer, made safe for a terminal and for one line of text:
/// control characters, line breaks and bidirectional overrides are shown as escapes.
pub(crate) fn safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}');
        if c.is_control() || bidi || c == '\u{2028}' || c == '\u{2029}' {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// UTC date and time of a Unix time in ms: `2026-09-21 10:00:00 UTC`.
pub(crate) fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, (rem / 60) % 60, rem % 60)
}

/// The same instant on this machine's clock: `12:00:00 CEST` (empty when the system time
/// zone cannot be read).
pub(crate) fn local(ms: u64) -> String {
    let Ok(ms) = i64::try_from(ms) else { return String::new() };
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// How the report names a key: the party's self-chosen name and its fingerprint.
pub(crate) fn who(report: &Report, key: &PublicKey) -> String {
    match report.session.parties.iter().find(|p| p.key == *key) {
        Some(p) => format!("\"{}\" ({})", safe(&p.name), p.fingerprint),
        None => format!("an outside key ({})", key.fingerprint()),
    }
}

fn who_list(report: &Report, keys: &[PublicKey]) -> String {
    if keys.is_empty() {
        return "no one".into();
    }
    keys.iter().map(|k| who(report, k)).collect::<Vec<_>>().join(" and ")
}

pub(crate) fn label(status: &ChunkStatus) -> &'static str {
    match status {
        ChunkStatus::WitnessedLive(_) => "witnessed live by the other device",
        ChunkStatus::WitnessedLate(_) => "committed, but witnessed late",
        ChunkStatus::SignedOnly => "committed by the recording device only, never witnessed",
        ChunkStatus::Altered => "ALTERED: the audio here is not what was committed",
        ChunkStatus::Removed => "REMOVED: committed audio that is not in the file",
        ChunkStatus::Moved { .. } => "MOVED: intact audio found at another place",
        ChunkStatus::NotCovered => "not covered by the evidence given",
        ChunkStatus::Damaged => "DAMAGED: this part of the file cannot be read",
        ChunkStatus::OutsideExcerpt => "outside this excerpt",
        _ => "a state this version does not know",
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

/// One sentence per axis, in plain words, with whose signatures it rests on.
pub(crate) fn axis_sentences(report: &Report) -> [(&'static str, bool, String); 3] {
    let a = &report.axes;
    let t = &report.totals;
    let producer = who(report, &report.session.producer);
    let integrity = match a.integrity.state {
        AxisState::Exact if report.excerpt.is_some() => format!("every packet of audio in this excerpt is exactly what {producer} committed to, at its place"),
        AxisState::PartlyUncovered if report.regions.iter().any(|r| r.kind == RegionKind::Edge) => "audio at the excerpt's edge is part of a second it holds only in part, and nothing proves it (see below); no other second is in doubt".into(),
        AxisState::Exact => format!("every packet of audio is exactly what {producer} committed to, in order"),
        AxisState::ContainerRewritten => format!("every packet of audio is exactly what {producer} committed to; the file around the packets was rewritten (a remux or new tags), which does not change the sound"),
        AxisState::PlaybackAltered => "the audio packets are as committed, but the file's header was changed so that it plays differently (see below)".into(),
        AxisState::PartlyUncovered => "part of the audio is covered by no evidence given: it can be neither confirmed nor faulted (see below)".into(),
        AxisState::Damaged => format!("part of the file cannot be read ({} second(s), see below); everything else is exactly what {producer} committed to", t.damaged),
        _ => format!("the audio differs from what {producer} committed to: {} altered, {} removed, {} moved, {} stretch(es) not in place", t.altered, t.removed, t.moved, t.regions),
    };
    let witnessing = witnessing_sentence(report, &a.witnessing);
    let completeness = completeness_sentence(report, &a.completeness);
    [
        ("Integrity", a.integrity.holds, integrity),
        ("Witnessing", a.witnessing.holds, witnessing),
        ("Completeness", a.completeness.holds, completeness),
    ]
}

fn witnessing_sentence(report: &Report, axis: &Axis) -> String {
    let t = &report.totals;
    let by = who_list(report, &axis.rests_on);
    match axis.state {
        AxisState::AllLive => format!(
            "all {} seconds were witnessed live: {by} signed a receipt within 10 s of each second's end, on its own clock",
            t.witnessed_live
        ),
        AxisState::SomeLate => format!(
            "{} seconds were witnessed live and {} only late, by {by}",
            t.witnessed_live, t.witnessed_late
        ),
        _ => format!(
            "{} seconds were witnessed live, {} late, and {} by no one but the recording device",
            t.witnessed_live,
            t.witnessed_late,
            t.signed_only + t.not_covered
        ),
    }
}

fn completeness_sentence(report: &Report, axis: &Axis) -> String {
    let by = who_list(report, &axis.rests_on);
    let through = axis
        .witnessed_through
        .map(|i| format!("the other device's receipts cover the first {} seconds", i + 1));
    match axis.state {
        AxisState::Complete => format!(
            "the end co-signed by {by} counts {} seconds, and the file holds every one",
            report.totals.chunks
        ),
        AxisState::Incomplete => {
            "committed audio is missing from the file (see the timeline)".into()
        }
        AxisState::Disputed => "the signed ends disagree about how long this recording is".into(),
        _ if report.excerpt.is_some() || report.totals.outside_excerpt > 0 => {
            "this is an excerpt; completeness of the whole recording is not asked".into()
        }
        _ if cosigned_end(report) => format!(
            "not established: the end co-signed by {by} counts {} seconds, but not all of them can be checked here (damaged, or not covered by the evidence given)",
            report.totals.chunks
        ),
        _ => format!(
            "not established: no end co-signed by the other party accounts for this recording{}",
            through
                .map(|t| format!("; {t}, what came after is on the recording device's word alone"))
                .unwrap_or_default()
        ),
    }
}

/// Whether an end signed by the producer and another party accounts for the recording.
fn cosigned_end(report: &Report) -> bool {
    let me = report.session.producer;
    report
        .session
        .ends
        .iter()
        .any(|e| e.accounts_for.contains(&me) && e.signed_by.contains(&me) && e.signed_by.len() > 1)
}

/// One line per axis, each starting with `indent`.
pub(crate) fn answer_lines(out: &mut String, report: &Report, indent: &str) {
    for (name, holds, sentence) in axis_sentences(report) {
        let mark = if holds { "holds" } else { "DOES NOT HOLD" };
        let _ = writeln!(out, "{indent}{name:<13} {mark}: {sentence}.");
    }
}

/// The whole report as text.
pub(crate) fn render(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);
    excerpt_facts(&mut out, report);
    let _ = writeln!(out, "\nTHE ANSWER");
    answer_lines(&mut out, report, "  ");
    timeline(&mut out, report);
    findings(&mut out, report);
    let t = &report.totals;
    let _ = writeln!(
        out,
        "\n{} seconds{}: {} witnessed live, {} late, {} unwitnessed, {} altered, {} removed, {} moved, {} damaged, {} not covered, {} proven by the chain; {} stretch(es) of the file not in place; {} signatures checked",
        t.chunks,
        if t.outside_excerpt > 0 {
            format!(" ({} of them outside this excerpt)", t.outside_excerpt)
        } else {
            String::new()
        },
        t.witnessed_live,
        t.witnessed_late,
        t.signed_only,
        t.altered,
        t.removed,
        t.moved,
        t.damaged,
        t.not_covered,
        t.proven_by_chain,
        t.regions,
        t.signatures_checked
    );
    let _ = writeln!(
        out,
        "VERDICT: {}",
        match report.verdict {
            Verdict::Intact if report.excerpt.is_some() =>
                "this excerpt is exactly the signed audio, and every second of it was witnessed live by the other party",
            Verdict::Intact =>
                "complete, unaltered, and every second witnessed live by the other party",
            Verdict::Problems => "NOT CONFIRMED (see above)",
        }
    );
    out
}

fn header(out: &mut String, report: &Report) {
    let s = &report.session;
    let _ = writeln!(
        out,
        "Session {}, started {} = {} on this computer (the proposing device's clock)",
        s.session,
        utc(s.started_at_ms),
        local(s.started_at_ms)
    );
    let _ =
        writeln!(out, "Parties (each chose its own name; the fingerprint identifies the device):");
    for p in &s.parties {
        let me = if p.key == s.producer { "  <- made this recording" } else { "" };
        let _ = writeln!(
            out,
            "  {:<24} fingerprint {}{me}",
            format!("\"{}\"", safe(&p.name)),
            p.fingerprint
        );
    }
    let _ = writeln!(out, "  {}", how_it_ended(report));
    for o in &s.clock_offsets {
        let _ = writeln!(
            out,
            "  {}'s wall clock read {:+.1} s from this device's (information only; no verdict uses it)",
            who(report, &o.peer),
            o.offset_ms as f64 / 1000.0
        );
    }
}

/// Who ended the session and how, as the signed ends say.
pub(crate) fn how_it_ended(report: &Report) -> String {
    let s = &report.session;
    match (s.ends.first(), s.ended_by) {
        (None, _) => "no signed end in the evidence given".into(),
        (Some(e), Some(by)) => {
            let signed =
                if e.one_sided { "signed by that device alone" } else { "co-signed by both" };
            format!(
                "ended by {} ({}), {} at {}",
                who(report, &by),
                reason_words(e.reason),
                signed,
                utc(e.ended_at_ms)
            )
        }
        (Some(e), None) if s.ends.iter().all(|x| x.reason == e.reason) => format!(
            "ended on both devices at once ({}); each device signed its own end",
            reason_words(e.reason)
        ),
        (Some(_), None) => {
            "the signed ends disagree about who ended the session (see the facts below)".into()
        }
    }
}

/// What an excerpt holds: its place by the signed evidence, and the seconds it holds only
/// in part.
fn excerpt_facts(out: &mut String, report: &Report) {
    let Some(x) = &report.excerpt else { return };
    let (Some(first), Some(end)) = (x.first_sample, x.end_sample) else {
        let _ = writeln!(
            out,
            "This file is treated as an excerpt, but no second of the signed audio was found in it."
        );
        return;
    };
    let stated = if x.placed { "it states its place, and " } else { "" };
    let _ = writeln!(
        out,
        "This file is an excerpt: {} to {} of the recording ({:.1} s); {stated}the signed commitments put it there.",
        clock_tenths(first),
        clock_tenths(end),
        end.saturating_sub(first) as f64 / 48_000.0
    );
    if x.head_packets + x.tail_packets > 0 {
        let _ = writeln!(
            out,
            "  It begins or ends inside a second: for the part of such a second it leaves out, it carries\n  \
             only fingerprints (hashes) of the audio, which prove the part it holds is exactly the\n  \
             signed audio; they reveal nothing of the sound left out."
        );
    }
}

/// The part of a chunk this file holds: all of it, or for an excerpt what lies inside it.
fn held(report: &Report, c: &dualrec_proof::ChunkReport) -> (u64, u64) {
    let end = c.first_sample.saturating_add(u64::from(c.samples));
    match report.excerpt.as_ref().and_then(|x| x.first_sample.zip(x.end_sample)) {
        Some((a, b)) if c.status != ChunkStatus::OutsideExcerpt => {
            (c.first_sample.max(a), end.min(b).max(c.first_sample.max(a)))
        }
        _ => (c.first_sample, end),
    }
}

/// A run of consecutive seconds with the same verdict, in recording time (for an
/// excerpt, the part of each second it holds).
pub(crate) struct Stretch {
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// The verdict of its seconds.
    pub(crate) status: ChunkStatus,
    /// The longest receipt delay among its seconds, ms.
    pub(crate) delay: i64,
    /// Some of its seconds are proven through the chain.
    pub(crate) proven: bool,
    /// The file's packet where its first second's audio was found, if it was.
    pub(crate) found_at: Option<u64>,
}

/// The report's seconds merged into stretches of one verdict each.
pub(crate) fn stretches(report: &Report) -> Vec<Stretch> {
    let mut ranges: Vec<Stretch> = Vec::new();
    for c in &report.chunks {
        let delay = match c.status {
            ChunkStatus::WitnessedLive(w) | ChunkStatus::WitnessedLate(w) => w.delay_ms,
            _ => 0,
        };
        let (start, end) = held(report, c);
        match ranges.last_mut() {
            Some(r) if label(&r.status) == label(&c.status) && r.end == start => {
                r.end = end;
                r.delay = r.delay.max(delay);
                r.proven |= c.proven_by_chain;
            }
            _ => ranges.push(Stretch {
                start,
                end,
                status: c.status,
                delay,
                proven: c.proven_by_chain,
                found_at: c.found_at_packet,
            }),
        }
    }
    // Around an excerpt, the parts of its partly held seconds that it leaves out are
    // outside it too.
    for i in 1..ranges.len() {
        if ranges[i - 1].end < ranges[i].start {
            if ranges[i - 1].status == ChunkStatus::OutsideExcerpt {
                ranges[i - 1].end = ranges[i].start;
            } else if ranges[i].status == ChunkStatus::OutsideExcerpt {
                ranges[i].start = ranges[i - 1].end;
            }
        }
    }
    ranges
}

fn timeline(out: &mut String, report: &Report) {
    let _ = writeln!(out, "\nTimeline (recording time, as the recording device committed it):");
    for r in stretches(report) {
        let l = label(&r.status);
        let late = if matches!(r.status, ChunkStatus::WitnessedLate(_)) {
            format!(" (up to {:.1} s after the audio)", r.delay as f64 / 1000.0)
        } else {
            String::new()
        };
        let proven = if r.proven {
            " [partly proven through the chain: their own records were not given]"
        } else {
            ""
        };
        let _ =
            writeln!(out, "  {}-{}  {l}{late}{proven}", clock_tenths(r.start), clock_tenths(r.end));
    }
    if report.regions.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nStretches of the file not in place (file time, which shifts after an edit):"
    );
    for r in &report.regions {
        let _ = writeln!(
            out,
            "  file {}-{}  {}",
            clock_tenths(r.start_sample),
            clock_tenths(r.end_sample),
            region_words(&r.kind)
        );
    }
}

/// What a stretch of the file not in place is, in words.
pub(crate) fn region_words(kind: &RegionKind) -> String {
    match kind {
        RegionKind::Inserted => "INSERTED: audio no one committed".to_owned(),
        RegionKind::Replaces { chunks } => {
            format!("stands where committed second(s) {} should be", list(chunks))
        }
        RegionKind::Duplicate { of } => format!("a second copy of committed second {of}"),
        RegionKind::Resigned { of } => format!(
            "a version of second {of} that only the recording device signed, not the one the other party witnessed"
        ),
        RegionKind::NotCovered { from, to: Some(to) } => format!(
            "not covered by the evidence given (seconds {from}-{to}): the recording device's log would settle it"
        ),
        RegionKind::NotCovered { from, to: None } => format!(
            "not covered by the evidence given (after second {}): the recording device's log or a co-signed end would settle it",
            from.saturating_sub(1)
        ),
        RegionKind::Edge => "at the excerpt's edge: part of a second it holds only in part, and it carries no (or wrong) fingerprints of the rest of that second, so nothing proves this audio: not proven, not blamed".into(),
        _ => "a kind this version does not know".into(),
    }
}

fn list(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

fn findings(out: &mut String, report: &Report) {
    for (severity, title) in [
        (Severity::Problem, "Problems in the evidence"),
        (Severity::Fact, "Facts"),
        (Severity::Ignored, "Set aside (no verdict rests on these)"),
    ] {
        let of: Vec<&Finding> =
            report.findings.iter().filter(|f| f.severity() == severity).collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for f in of {
            let _ = writeln!(out, "  - {}", finding(report, f));
        }
    }
}

pub(crate) fn finding(r: &Report, f: &Finding) -> String {
    match f {
        Finding::LogTornTail { log, record, bytes, .. } => format!("{}: its last record ({record}) was cut off by a crash ({bytes} bytes); not used", safe(log)),
        Finding::BadSignature { log, record, what, claimed_signer, .. } => format!("{}, record {record}: a {what} claiming to be signed by {} whose signature does not verify (forged or damaged)", safe(log), who(r, claimed_signer)),
        Finding::NonPartySigner { log, record, signer, .. } => format!("{}, record {record}: signed by {}, who is not in this session", safe(log), signer.fingerprint()),
        Finding::ForeignSession { log, record, session, .. } => format!("{}, record {record}: belongs to another session ({session})", safe(log)),
        Finding::BadStart { log, record, detail, .. } => format!("{}, record {record}: invalid start record ({})", safe(log), safe(detail)),
        Finding::BadEnd { log, record, detail, .. } => format!("{}, record {record}: invalid end record ({})", safe(log), safe(detail)),
        Finding::ConflictingStart => "two different co-signed starts for this session".to_owned(),
        Finding::ConflictingEnd { signers } => format!("ends signed by {} give different accounts of this recording", who_list(r, signers)),
        Finding::Equivocation { index, versions, signer } => format!("{} signed {versions} different versions of second {index}", who(r, signer)),
        Finding::ChainBroken { index, signer } => format!("{}'s hash chain or positions break at second {index}", who(r, signer)),
        Finding::EvidenceGap { first, last, proven: true } => format!("no log given holds the commitments of seconds {first}-{last}; the commitments on either side prove their audio through the chain"),
        Finding::EvidenceGap { first, last, proven: false } => format!("no log given holds the commitments of seconds {first}-{last}"),
        Finding::NoEnd => "the evidence given holds no signed end of the session".to_owned(),
        Finding::OneSidedEnd { signed_by } => format!("an end was signed by {} alone (the other device had gone, or its end was not given)", who_list(r, signed_by)),
        Finding::EndMismatch { detail, signers } => format!("the end signed by {} does not match the recording: {}", who_list(r, signers), safe(detail)),
        Finding::PeerClaim { signer, chunks } => format!("{} alone signed an account of this recording ({chunks} seconds): that party's claim, not used", who(r, signer)),
        Finding::ContainerRewritten { .. } => "the file is not byte for byte the one signed at the end, but its audio packets are: the file was rewritten around them".to_owned(),
        Finding::FileHashMismatch { .. } => "the file is not the one whose fingerprint was signed at the end, and its audio differs too".to_owned(),
        Finding::PlaybackAltered { field, committed, found } => format!("the file's {} is {found}, not {committed}: it changes what a listener hears", safe(field)),
        Finding::SampleCountMismatch { index, signed, actual, signer } => format!("{} committed second {index} as {signed} samples long; its audio is {actual}", who(r, signer)),
        Finding::CaptureGap { first_sample, samples, late, .. } => format!(
            "at {} the recording device states, signed, that it lost {} ms of input and recorded silence in its place{}",
            clock_tenths(*first_sample),
            samples / 48,
            if *late { "; it stated this long after (its own clock), so it is its word, not a record made at the time" } else { "; this is its own statement, made at the time" }
        ),
        Finding::ImpossibleReceiptTime { witness, first_index, count, .. } => format!("{} signed {count} receipt(s) with impossible times (first for second {first_index}: before its audio had ended, or absurd); not used", who(r, witness)),
        Finding::DamagedFile { first_sample, samples, offset } => format!(
            "the file is damaged at byte {offset} (a page whose checksum fails): {}-{} cannot be played or checked; the rest was checked",
            clock_tenths(*first_sample),
            clock_tenths(first_sample.saturating_add(*samples))
        ),
        Finding::UnexpectedParty { label, expected } => format!("no party of this session has the fingerprint given for {} ({})", safe(label), safe(expected)),
        Finding::ExcerptMisplaced { index, stated_sample, signed_sample, .. } => format!(
            "the excerpt says it lies at {} of the recording, but the signed commitment of second {index} found in it puts it at {}: its stated place is wrong",
            clock_tenths(*stated_sample),
            clock_tenths(*signed_sample)
        ),
        _ => "a finding this version does not know".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    //! Golden files of the words and the JSON of a handful of real cases (the simulated
    //! session of the evidence crate: real signatures, real chains): a change in wording
    //! or shape is a reviewed change (`cargo insta review`).

    use dualrec_proof::sim::{SimConfig, simulate};
    use dualrec_proof::{
        ExcerptPlace, LogRecord, Packet, Recording, Report, Verifier, VerifyOptions, read_log,
    };

    fn check(recording: Recording<'_>, logs: &[Vec<LogRecord>]) -> Report {
        let mut v = Verifier::new(VerifyOptions::default());
        for (i, l) in logs.iter().enumerate() {
            let bytes = dualrec_proof::sim::log_bytes(l);
            v.add_log(format!("log-{i}.log"), read_log(&bytes).expect("log"));
        }
        v.verify(&recording).expect("report")
    }

    /// The words, with this machine's time zone taken out, and the JSON.
    fn golden(name: &str, report: &Report) {
        let local = super::local(report.session.started_at_ms);
        let text = super::render(report).replace(
            &format!("= {local} on this computer"),
            "= <reader's local time> on this computer",
        );
        insta::assert_snapshot!(format!("report-{name}"), text);
        let json = serde_json::to_string_pretty(report).expect("json");
        insta::assert_snapshot!(format!("report-{name}-json"), json);
    }

    fn renumbered(packets: &[Packet]) -> Vec<Packet> {
        let at = |k: usize| k as u64 * 960;
        packets
            .iter()
            .enumerate()
            .map(|(k, p)| Packet { position: at(k), data: p.data.clone() })
            .collect()
    }

    #[test]
    fn golden_reports() {
        let sim = simulate(&SimConfig { chunks: 8, ..SimConfig::default() });
        let p = &sim.recordings[0];
        let witness = [sim.logs[1].clone()];
        golden("intact", &check(sim.recording(0, p), &witness));

        let cut = renumbered(&[&p[..150], &p[200..]].concat());
        let report = check(sim.recording(0, &cut), &witness);
        golden("cut", &report);
        // The page for a court, too (without the build, which changes with every commit).
        let files =
            [crate::verify_cmd::file_facts(std::path::Path::new("cut.opus"), "recording", b"")];
        let page = crate::court::html(&report, &files, &crate::court::Extras::default())
            .replace(crate::VERSION, "<version>");
        insta::assert_snapshot!("report-cut-html", page.replace("><", ">\n<"));

        let mut altered = p.clone();
        altered[260].data[2] ^= 1;
        golden("altered", &check(sim.recording(0, &altered), &witness));

        let own_only: Vec<LogRecord> =
            sim.logs[0].iter().filter(|r| !matches!(r, LogRecord::Receipt(_))).cloned().collect();
        golden("own-log-only", &check(sim.recording(0, p), &[own_only]));

        let chunks: Vec<_> = (0..8).map(|c| c * 50..c * 50 + 50).collect();
        let place = ExcerptPlace::cut(p, &chunks, 120..230, |_| 960);
        let excerpt = renumbered(&p[120..230]);
        let recording = Recording { excerpt: Some(&place), ..sim.recording(0, &excerpt) };
        golden("excerpt", &check(recording, &witness));
    }
}
