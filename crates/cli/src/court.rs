//! The report for a court (`verify --html`): one self-contained page — no network, no
//! outside fonts or scripts — readable on a phone and printed on A4. The answer first,
//! then the meeting, a timeline with a real time axis, every problem as a row, the files
//! with their SHA-256, and how it was checked. Every string from a file or a peer is
//! escaped (and made safe by [`safe`]) before it is written.

use std::fmt::Write as _;

use dualrec_compare::{Class, Comparison};
use dualrec_proof::{ChunkStatus, Finding, Report, Severity, Verdict};

use crate::report::{
    axis_sentences, clock, clock_tenths, finding, how_it_ended, label, region_words, safe,
    stretches, utc, who,
};
use crate::verify_cmd::FileFacts;

/// Minutes of recording per line of the timeline, for recordings longer than one line.
const LINE_MINUTES: u64 = 10;

fn escape(s: &str) -> String {
    safe(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Colour, hatching and a short name for a verdict: readable in black and white, and by
/// colour-blind readers, because the pattern and the name say it too.
fn look(s: &ChunkStatus) -> Look {
    match s {
        ChunkStatus::WitnessedLive(_) => ("#2e7d32", "none", "witnessed live"),
        ChunkStatus::WitnessedLate(_) => (
            "#f9a825",
            "repeating-linear-gradient(45deg,#0004 0 2px,transparent 2px 7px)",
            "witnessed late",
        ),
        ChunkStatus::SignedOnly => (
            "#fff176",
            "repeating-linear-gradient(90deg,#0004 0 2px,transparent 2px 7px)",
            "not witnessed",
        ),
        ChunkStatus::Altered => (
            "#c62828",
            "repeating-linear-gradient(-45deg,#fffa 0 3px,transparent 3px 7px)",
            "ALTERED",
        ),
        ChunkStatus::Removed => (
            "#6a1b9a",
            "repeating-linear-gradient(0deg,#fffa 0 3px,transparent 3px 7px)",
            "REMOVED",
        ),
        ChunkStatus::Moved { .. } => {
            ("#ef6c00", "radial-gradient(#fffa 30%,transparent 32%) 0 0/8px 8px", "MOVED")
        }
        ChunkStatus::Damaged => (
            "#424242",
            "repeating-linear-gradient(45deg,#fffa 0 2px,transparent 2px 4px)",
            "DAMAGED",
        ),
        ChunkStatus::NotCovered => (
            "#90caf9",
            "repeating-linear-gradient(135deg,#0004 0 1px,transparent 1px 5px)",
            "not covered",
        ),
        _ => ("#e0e0e0", "none", "outside the excerpt"),
    }
}

const STYLE: &str = "\
*{box-sizing:border-box}body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;padding:1em;max-width:60em;color:#111}\
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:1.6em}\
.verdict{font-size:1.15em;font-weight:600;padding:.6em .8em;border:3px solid}.ok{border-color:#2e7d32}.bad{border-color:#c62828}\
code,.hash{font-family:ui-monospace,monospace;overflow-wrap:anywhere;word-break:break-all}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.3em .4em;text-align:left;vertical-align:top;overflow-wrap:break-word}\
td.when{white-space:nowrap}\
.line{position:relative;height:2.6em;border:1px solid #333;margin:1.6em 1.4em .2em}\
.seg{position:absolute;top:0;bottom:0;overflow:hidden;white-space:nowrap;font-size:.75em;color:#000;padding-left:2px;cursor:pointer;\
-webkit-print-color-adjust:exact;print-color-adjust:exact;border-right:1px solid #fff}\
.seg span{background:#fffc;padding:0 2px}.tick{position:absolute;top:-1.5em;font-size:.7em;transform:translateX(-50%);white-space:nowrap}\
.tick::after{content:'';position:absolute;left:50%;top:1.5em;height:.5em;border-left:1px solid #333}\
.legend{display:flex;flex-wrap:wrap;gap:.4em 1.2em;padding:0;list-style:none}.legend i{display:inline-block;width:2.2em;height:1.1em;border:1px solid #333;vertical-align:middle;margin-right:.3em;\
-webkit-print-color-adjust:exact;print-color-adjust:exact}\
.detail{min-height:1.5em;font-weight:600}audio{width:100%}\
@media (max-width:600px){.tick.odd{display:none}table,tbody,tr,td{display:block}thead{display:none}tr{border:1px solid #bbb;margin:.5em 0}\
td{border:0;padding:.15em .4em}td:empty{display:none}td::before{content:attr(data-label)': ';font-weight:600}}\
@media print{@page{size:A4;margin:15mm}body{font-size:11pt;max-width:none;padding:0}h2{break-before:page}h2.keep{break-before:auto}\
.line{break-inside:avoid}tr{break-inside:avoid}audio,.detail,.hint{display:none}}";

/// What goes into the page besides the verification.
#[derive(Default)]
pub(crate) struct Extras<'a> {
    /// The recording's bytes, to play any second in place.
    pub(crate) audio: Option<&'a [u8]>,
    /// The acoustic cross-check against the other party's recording.
    pub(crate) other: Option<&'a Comparison>,
}

fn head(h: &mut String, title: &str) {
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>",
        escape(title)
    );
}

/// The whole page.
pub(crate) fn html(report: &Report, files: &[FileFacts], extras: &Extras<'_>) -> String {
    let audio = extras.audio;
    let mut h = String::with_capacity(64 * 1024 + audio.map_or(0, |a| a.len() * 4 / 3));
    head(&mut h, &format!("dualrec verification of session {}", report.session.session));
    answer(&mut h, report);
    meeting(&mut h, report);
    timeline(&mut h, report, audio);
    problems(&mut h, report);
    if let Some(c) = extras.other {
        comparison(&mut h, c);
    }
    files_section(&mut h, report, files);
    methods(&mut h, report);
    h.push_str(SCRIPT);
    h.push_str("</body></html>\n");
    h
}

fn answer(h: &mut String, report: &Report) {
    let (class, verdict) = match (report.verdict, report.excerpt.is_some()) {
        (Verdict::Intact, true) => (
            "ok",
            "This excerpt is exactly the signed audio, and every second of it was witnessed live by the other party.",
        ),
        (Verdict::Intact, false) => (
            "ok",
            "The recording is complete, unaltered, and every second was witnessed live by the other party.",
        ),
        (Verdict::Problems, _) => ("bad", "Not confirmed: the problems are listed below."),
    };
    let _ = write!(
        h,
        "<h1>Verification of a dualrec recording</h1><p class=\"verdict {class}\">{verdict}</p>\
         <h2 class=\"keep\">The answer</h2>"
    );
    axis_list(h, report);
}

/// One item per axis: whether it holds, in words, and on whose signatures.
fn axis_list(h: &mut String, report: &Report) {
    h.push_str("<ul>");
    for (name, holds, sentence) in axis_sentences(report) {
        let mark = if holds { "holds" } else { "does not hold" };
        let _ = write!(h, "<li><b>{name}</b> {mark}: {}.</li>", escape(&sentence));
    }
    h.push_str("</ul>");
}

/// `1 h 02 min 03 s`, `2 min 05 s` or `8.0 s`.
fn duration(samples: u64) -> String {
    let s = samples / 48_000;
    match s {
        0..60 => format!("{:.1} s", samples as f64 / 48_000.0),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min {:02} s", s / 3600, (s / 60) % 60, s % 60),
    }
}

/// Where the recording's committed timeline ends.
fn length(report: &Report) -> u64 {
    report.chunks.iter().map(|c| c.first_sample + u64::from(c.samples)).max().unwrap_or(0)
}

fn meeting(h: &mut String, report: &Report) {
    let s = &report.session;
    let _ = write!(
        h,
        "<h2 class=\"keep\">The meeting</h2><ul><li>Session <code>{}</code></li>\
         <li>Started <time datetime=\"{ms}\">{}</time> <span class=\"local\" data-ms=\"{ms}\"></span> \
         (the clock of the device that proposed it)</li><li>Recording length {} ({} seconds committed)</li><li>{}</li></ul>\
         <p>The parties. Each chose its own name; the fingerprint identifies its device.</p><ul>",
        s.session,
        utc(s.started_at_ms),
        duration(length(report)),
        report.chunks.len(),
        escape(&how_it_ended(report)),
        ms = s.started_at_ms,
    );
    for p in &s.parties {
        let me = if p.key == s.producer { " — <b>made this recording</b>" } else { "" };
        let _ = write!(
            h,
            "<li>&ldquo;{}&rdquo; (a name it chose), fingerprint <code>{}</code>{me}</li>",
            escape(&p.name),
            p.fingerprint
        );
    }
    h.push_str("</ul>");
    if let Some(x) = &report.excerpt
        && let (Some(a), Some(b)) = (x.first_sample, x.end_sample)
    {
        let _ = write!(
            h,
            "<p>This file is an <b>excerpt</b>: {} to {} of the recording ({}). Seconds outside it are \
             neither claimed nor blamed.</p>",
            clock_tenths(a),
            clock_tenths(b),
            duration(b - a)
        );
    }
}

/// Tick spacing in seconds for a line of `seconds`: about ten labelled ticks.
fn tick_every(seconds: u64) -> u64 {
    [1, 5, 10, 30, 60, 120, 300, 600].into_iter().find(|t| seconds / t <= 10).unwrap_or(600)
}

/// A colour, a pattern and a short name: how a state looks on a timeline.
type Look = (&'static str, &'static str, &'static str);

/// One stretch of a timeline.
pub(crate) struct Bar {
    start: u64,
    end: u64,
    look: Look,
    /// The stretch's exact times and what it is, in words.
    text: String,
    /// Where the embedded recording plays it from, in seconds.
    at: Option<f64>,
}

/// The legend: each look once, with its words.
fn legend(h: &mut String, items: &[(Look, &str)]) {
    h.push_str("<ul class=\"legend\">");
    let mut shown: Vec<&str> = Vec::new();
    for ((colour, pattern, name), words) in items {
        if !shown.contains(name) {
            shown.push(name);
            let _ = write!(
                h,
                "<li><i style=\"background:{pattern},{colour}\"></i>{}</li>",
                escape(words)
            );
        }
    }
    h.push_str("</ul>");
}

/// The bars in lines (of [`LINE_MINUTES`] when longer), each with labelled ticks.
fn lines(h: &mut String, bars: &[Bar]) {
    let end = bars.last().map_or(0, |b| b.end);
    let line =
        if end > LINE_MINUTES * 60 * 48_000 { LINE_MINUTES * 60 * 48_000 } else { end.max(48_000) };
    let every = tick_every(line / 48_000);
    let mut from = 0;
    while from < end.max(1) {
        let to = from + line;
        segments(h, bars, (from, to), every);
        from = to;
    }
    h.push_str("<p class=\"detail\" aria-live=\"polite\"></p>");
}

fn timeline(h: &mut String, report: &Report, audio: Option<&[u8]>) {
    let all = stretches(report);
    h.push_str("<h2>Timeline</h2><p>Recording time, as the recording device committed it. Each state has a colour, a pattern and a name:</p>");
    let items: Vec<(Look, &str)> =
        all.iter().map(|s| (look(&s.status), label(&s.status))).collect();
    legend(h, &items);
    if let Some(a) = audio {
        let _ = write!(
            h,
            "<audio id=\"player\" controls preload=\"metadata\" src=\"data:audio/ogg;base64,{}\"></audio>\
             <p class=\"hint\">Tap or click any stretch to hear it from its start.</p>",
            base64(a)
        );
    } else {
        h.push_str("<p class=\"hint\">Tap or click a stretch for its exact times.</p>");
    }
    // Where each packet of the embedded file plays: a stretch plays from where its audio
    // was found, which after an edit is not its recording time.
    let positions: Vec<u64> = audio
        .and_then(|a| dualrec_media::read_recording(a).ok())
        .map(|f| f.packets.iter().map(|p| p.position).collect())
        .unwrap_or_default();
    let bars: Vec<Bar> = all
        .iter()
        .map(|s| Bar {
            start: s.start,
            end: s.end,
            look: look(&s.status),
            text: format!(
                "{}–{}: {}",
                clock_tenths(s.start),
                clock_tenths(s.end),
                label(&s.status)
            ),
            at: s
                .found_at
                .and_then(|k| positions.get(usize::try_from(k).ok()?))
                .map(|p| *p as f64 / 48_000.0),
        })
        .collect();
    lines(h, &bars);
}

/// One line of a timeline: the bars within `from..to`, with ticks.
fn segments(h: &mut String, bars: &[Bar], (from, to): (u64, u64), every: u64) {
    let span = (to - from) as f64;
    let pct = |x: u64| (x.clamp(from, to) - from) as f64 * 100.0 / span;
    let _ = write!(
        h,
        "<div class=\"line\" role=\"list\" aria-label=\"{} to {}\">",
        clock(from),
        clock(to)
    );
    let mut t = from.div_ceil(every * 48_000) * every * 48_000;
    let mut odd = false;
    while t <= to {
        let class = if odd { "tick odd" } else { "tick" };
        let _ =
            write!(h, "<span class=\"{class}\" style=\"left:{:.3}%\">{}</span>", pct(t), clock(t));
        t += every * 48_000;
        odd = !odd;
    }
    for b in bars.iter().filter(|b| b.end > from && b.start < to) {
        let (colour, pattern, name) = b.look;
        let (left, width) = (pct(b.start), pct(b.end) - pct(b.start));
        let inside = if width >= 12.0 { format!("<span>{name}</span>") } else { String::new() };
        let play = b.at.map(|at| format!(" data-at=\"{at:.3}\"")).unwrap_or_default();
        let text = escape(&b.text);
        let _ = write!(
            h,
            "<div class=\"seg\" role=\"listitem\" tabindex=\"0\" style=\"left:{left:.3}%;width:{width:.3}%;background:{pattern},{colour}\" \
             title=\"{text}\" aria-label=\"{text}\"{play}>{inside}</div>"
        );
    }
    h.push_str("</div>");
}

/// The acoustic cross-check (SPEC §14) as a section: the answer, a timeline of same,
/// different and cannot-tell seconds, the jumps, and what it can and cannot show.
pub(crate) fn comparison(h: &mut String, c: &Comparison) {
    h.push_str("<h2>Same room, same sound: the two recordings compared</h2>");
    let different = c.stretches(Class::Different);
    if different.is_empty() {
        h.push_str(
            "<p class=\"verdict ok\">No second where the two recordings hold different sound.</p>",
        );
    } else {
        let _ = write!(
            h,
            "<p class=\"verdict bad\">Different sound in {} second(s):</p><ul>",
            c.count(Class::Different)
        );
        for (first, last) in &different {
            let _ = write!(
                h,
                "<li>{}–{}: {}</li>",
                clock(first * 48_000),
                clock((last + 1) * 48_000),
                escape(&crate::compare_cmd::reason(c, *first))
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(
        h,
        "<p>Same sound: {} s · different: {} s · cannot tell: {} s (silence, too quiet, or damaged).</p>",
        c.count(Class::Same),
        c.count(Class::Different),
        c.count(Class::CannotTell)
    );
    let sound_look = |class: Class| -> (Look, &'static str) {
        match class {
            Class::Same => (("#2e7d32", "none", "same"), "same sound in both recordings"),
            Class::Different => (
                (
                    "#c62828",
                    "repeating-linear-gradient(-45deg,#fffa 0 3px,transparent 3px 7px)",
                    "DIFFERENT",
                ),
                "DIFFERENT: the two recordings disagree here",
            ),
            _ => (
                (
                    "#e0e0e0",
                    "radial-gradient(#0005 25%,transparent 27%) 0 0/8px 8px",
                    "cannot tell",
                ),
                "cannot tell: silence, too quiet, or damaged",
            ),
        }
    };
    let mut bars: Vec<Bar> = Vec::new();
    let mut items = Vec::new();
    for s in &c.seconds {
        let (look, words) = sound_look(s.class);
        items.push((look, words));
        match bars.last_mut() {
            Some(b) if b.look == look && b.end == s.index * 48_000 => b.end += 48_000,
            _ => bars.push(Bar {
                start: s.index * 48_000,
                end: (s.index + 1) * 48_000,
                look,
                text: words.to_owned(),
                at: None,
            }),
        }
    }
    for b in &mut bars {
        b.text = format!("{}–{}: {}", clock(b.start), clock(b.end), b.text);
    }
    h.push_str("<p>Meeting time, second by second:</p>");
    legend(h, &items);
    lines(h, &bars);
    if !c.jumps.is_empty() {
        h.push_str("<ul>");
        for j in &c.jumps {
            let _ = write!(
                h,
                "<li>At {} the timing between the recordings jumped from {} ms to {} ms and stayed: sound was cut or inserted on one side there.</li>",
                clock(j.second * 48_000),
                j.from_ms,
                j.to_ms
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(h, "<p>{}</p>", escape(crate::compare_cmd::LIMITS));
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Whose signatures a finding rests on, in words.
fn rests_on(report: &Report, f: &Finding) -> String {
    let producer = who(report, &report.session.producer);
    match f {
        Finding::Equivocation { signer, .. }
        | Finding::ChainBroken { signer, .. }
        | Finding::SampleCountMismatch { signer, .. } => {
            format!("{}'s own signatures", who(report, signer))
        }
        Finding::ImpossibleReceiptTime { witness, .. } => {
            format!("{}'s receipts", who(report, witness))
        }
        Finding::EndMismatch { signers, .. }
        | Finding::FileHashMismatch { signers, .. }
        | Finding::ConflictingEnd { signers } => {
            signers.iter().map(|k| who(report, k)).collect::<Vec<_>>().join(" and ")
                + ": the signed end"
        }
        Finding::ExcerptMisplaced { .. } => {
            format!("{producer}'s commitments against the excerpt's tags")
        }
        Finding::PlaybackAltered { .. } | Finding::DamagedFile { .. } => "the file itself".into(),
        _ => "the evidence given".into(),
    }
}

const PROBLEM_COLUMNS: [&str; 4] = ["Recording time", "File time", "What", "On whose evidence"];

fn row(h: &mut String, cells: [&str; 4]) {
    h.push_str("<tr>");
    for (i, (c, label)) in cells.iter().zip(PROBLEM_COLUMNS).enumerate() {
        let class = if i < 2 { " class=\"when\"" } else { "" };
        let _ = write!(h, "<td{class} data-label=\"{label}\">{}</td>", escape(c));
    }
    h.push_str("</tr>");
}

/// Every problem as a row: recording time, file time, what, on whose evidence.
fn problems(h: &mut String, report: &Report) {
    let producer = who(report, &report.session.producer);
    let mut rows = 0;
    h.push_str("<h2>Problems</h2><table><thead><tr>");
    for c in PROBLEM_COLUMNS {
        let _ = write!(h, "<th>{c}</th>");
    }
    h.push_str("</tr></thead><tbody>");
    for s in stretches(report) {
        let on = match s.status {
            ChunkStatus::WitnessedLive(_) | ChunkStatus::OutsideExcerpt => continue,
            ChunkStatus::WitnessedLate(_) | ChunkStatus::SignedOnly => {
                "the other party's receipts (late or none)".to_owned()
            }
            ChunkStatus::NotCovered => "no log given covers it".to_owned(),
            _ => format!("{producer}'s commitments"),
        };
        let when = format!("{}–{}", clock_tenths(s.start), clock_tenths(s.end));
        row(h, [&when, "", label(&s.status), &on]);
        rows += 1;
    }
    for r in &report.regions {
        let when = format!("{}–{}", clock_tenths(r.start_sample), clock_tenths(r.end_sample));
        row(h, ["", &when, &region_words(&r.kind), &format!("{producer}'s commitments")]);
        rows += 1;
    }
    for f in report.findings.iter().filter(|f| f.severity() == Severity::Problem) {
        let when = match f {
            Finding::DamagedFile { first_sample, .. } => clock_tenths(*first_sample),
            _ => String::new(),
        };
        row(h, [&when, "", &finding(report, f), &rests_on(report, f)]);
        rows += 1;
    }
    if rows == 0 {
        h.push_str("<tr><td colspan=\"4\">None: no second and no record in the evidence is in doubt.</td></tr>");
    }
    h.push_str("</tbody></table><p>Recording time is where the recording device committed each second; file time is where audio lies in the file examined, which shifts after an edit.</p>");
}

/// The files examined, each with its size and SHA-256.
fn files_table(h: &mut String, files: &[FileFacts]) {
    h.push_str("<h2>The files examined</h2><table><thead><tr><th>File</th><th>What it is</th><th>Size (bytes)</th><th>SHA-256</th></tr></thead><tbody>");
    for f in files {
        let _ = write!(
            h,
            "<tr><td data-label=\"File\">{}</td><td data-label=\"What it is\">{}</td><td data-label=\"Size (bytes)\">{}</td><td data-label=\"SHA-256\" class=\"hash\">{}</td></tr>",
            escape(&f.name),
            f.role,
            f.bytes,
            f.sha256
        );
    }
    h.push_str("</tbody></table>");
}

fn files_section(h: &mut String, report: &Report, files: &[FileFacts]) {
    files_table(h, files);
    let set_aside: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity() == Severity::Ignored || matches!(f, Finding::LogTornTail { .. }))
        .collect();
    if set_aside.is_empty() {
        h.push_str("<p>Nothing in these files was set aside.</p>");
    } else {
        h.push_str("<p>Set aside, and why (no verdict rests on these):</p><ul>");
        for f in set_aside {
            let _ = write!(h, "<li>{}</li>", escape(&finding(report, f)));
        }
        h.push_str("</ul>");
    }
    let facts: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity() == Severity::Fact && !matches!(f, Finding::LogTornTail { .. }))
        .collect();
    if !facts.is_empty() {
        h.push_str("<p>Facts the evidence states (not problems):</p><ul>");
        for f in facts {
            let _ = write!(h, "<li>{}</li>", escape(&finding(report, f)));
        }
        h.push_str("</ul>");
    }
}

fn methods(h: &mut String, report: &Report) {
    let _ = write!(
        h,
        "<h2>How this was checked</h2>\
<p><b>What dualrec checked.</b> During the meeting each device signed, every second, a commitment (a SHA-256 hash chain) \
to the audio it had just encoded, and sent it to the other device, which signed a receipt. This check recomputed the hash of \
every audio packet in the file, matched them against the recording device's signed commitments, verified every Ed25519 \
signature ({} checked), and judged three things separately, each only on signatures that can support it: <i>integrity</i> \
(the audio is exactly what was committed, in place) rests on the recording device's commitments; <i>witnessing</i> rests on the \
other party's receipts, timed by the other party's clock; <i>completeness</i> rests on an end of the meeting that the other \
party co-signed. No claim in a party's favour rests on that party's own signatures.</p>\
<p><b>What the words mean.</b> &ldquo;Witnessed live&rdquo; means the other device signed a receipt of that second's hash \
within 10 seconds of the second's end: it proves the audio existed then, unchanged since; the other device never received \
the audio itself. Names are chosen by each party; the fingerprints identify the devices.</p>\
<p><b>What this cannot know.</b> Who held each device or who was in the room; what was said before the recording began or \
after it ended; whether the sound fed to a device was the room's (a party could play other audio into its own device — \
comparing both parties' recordings, <code>dualrec compare</code>, addresses that).</p>\
<p><b>How an expert re-checks it independently.</b> The evidence format and every verification rule are written down in \
<code>proto/SPEC.md</code> of dualrec's source, with test vectors; <code>proto/check_vectors.py</code> is an independent \
checker written from that text alone. The files above can be confirmed with <code>sha256sum</code>; the evidence logs are \
read by <code>dualrec inspect</code>.</p>\
<p>Tool: dualrec {} · verification rules version 3 · report schema {}.</p>",
        report.totals.signatures_checked,
        escape(crate::VERSION),
        report.schema
    );
}

/// `dualrec compare --html`: the acoustic cross-check of two recordings as a page, with
/// each recording's verification when evidence was given.
pub(crate) fn compare_page(
    c: &Comparison,
    files: &[FileFacts],
    verified: &[(&str, &Report)],
) -> String {
    let mut h = String::with_capacity(32 * 1024);
    head(&mut h, "dualrec: acoustic cross-check of two recordings");
    h.push_str("<h1>Two recordings of one meeting, compared</h1>");
    if let Some(s) = c.session {
        let _ = write!(h, "<p>Session <code>{s}</code></p>");
    }
    for (which, report) in verified {
        let _ = write!(h, "<h2 class=\"keep\">Recording {which}: its evidence</h2>");
        axis_list(&mut h, report);
    }
    comparison(&mut h, c);
    files_table(&mut h, files);
    let _ = write!(
        h,
        "<p>How the sound is compared is written down in <code>proto/SPEC.md</code> §14 of \
         dualrec's source. Tool: dualrec {}.</p>",
        escape(crate::VERSION)
    );
    h.push_str(SCRIPT);
    h.push_str("</body></html>\n");
    h
}

/// The reader's own time, and tap or click on the timeline: exact times, and with the
/// recording embedded, play from there.
const SCRIPT: &str = "<script>\
for(const e of document.querySelectorAll('.local')){e.textContent='('+new Date(+e.dataset.ms).toLocaleString()+' your time)';}\
const p=document.getElementById('player');\
for(const s of document.querySelectorAll('.seg')){let d=s.parentElement;while(d&&!d.classList.contains('detail'))d=d.nextElementSibling;const go=()=>{for(const x of document.querySelectorAll('.detail'))x.textContent='';d.textContent=s.title;if(p&&s.dataset.at!==undefined){p.currentTime=+s.dataset.at;p.play().catch(()=>{});}};\
s.addEventListener('click',go);s.addEventListener('keydown',e=>{if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});}\
</script>";
