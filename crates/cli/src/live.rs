//! What `dualrec record` shows while it runs: on a terminal, a calm live view (the other
//! device, the link, time, an input level meter, seconds committed and witnessed, and a
//! plain warning when something needs the person); otherwise plain timestamped lines.

use crate::report::safe;
use std::collections::VecDeque;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use dualrec_session::Progress;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::terminal;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style, Stylize as _};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph};
use ratatui::{Frame, TerminalOptions, Viewport};
use tokio::sync::mpsc;

/// Below this peak level (about -50 dBFS) the input counts as silent.
const SILENT_PEAK: f32 = crate::words::HEARD_PEAK;
/// Silence longer than this gets a warning: a muted or covered microphone.
const SILENT_WARNING: Duration = Duration::from_secs(10);
/// Witnessing this many seconds behind gets a warning.
const BEHIND_WARNING: u64 = 5;
const MESSAGES: usize = 4;

/// Something that needs the person's attention while recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Concern {
    LinkDown,
    /// Seconds committed here and not yet witnessed by the other device.
    Behind(u64),
    /// How long the input has been silent.
    Silent(Duration),
}

impl std::fmt::Display for Concern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Concern::LinkDown => f.write_str(
                "The other device is not answering. Still recording; the proofs will be sent \
                 when it is back.",
            ),
            Concern::Behind(s) => {
                write!(f, "The other device is {s} seconds behind in witnessing.")
            }
            Concern::Silent(d) => write!(
                f,
                "The microphone hears nothing ({} s of silence). Is it muted or covered?",
                d.as_secs()
            ),
        }
    }
}

/// A key that means something in the live view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// `s` or `q`.
    Stop,
    /// Ctrl-C.
    Interrupt,
    /// `y`.
    Yes,
    Other,
}

/// Width of the labels' column ("Other device" and a space).
const LABEL: usize = 14;

/// The state the view shows, built from the session's [`Progress`].
#[derive(Debug)]
pub(crate) struct View {
    started: Instant,
    recording_since: Option<Instant>,
    peer: Option<(String, String)>,
    code: Option<String>,
    link_up: bool,
    level: f32,
    last_sound: Instant,
    committed: u64,
    witnessed: u64,
    last_receipt: Option<Instant>,
    peer_witnessed: u64,
    messages: VecDeque<(Duration, bool, String)>,
    /// The person pressed stop and is asked to confirm.
    confirming: bool,
    /// The recording is stopping (by either device); `stopped`: its files are saved.
    stopping: bool,
    stopped: bool,
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// What the view shows, as data: for the app's recording screen (the same state and the
/// same words as the terminal's view).
#[derive(Debug, serde::Serialize)]
pub(crate) struct LiveFacts {
    /// `recording`, `stopping` or `stopped`.
    state: &'static str,
    elapsed: String,
    committed: u64,
    witnessed: u64,
    peer_witnessed: u64,
    link_up: bool,
    /// Seconds since the last receipt came back.
    last_proof_secs: Option<f32>,
    level_db: f32,
    /// The other device's name (made safe) and fingerprint.
    peer: Option<(String, String)>,
    warnings: Vec<String>,
    messages: Vec<String>,
}

impl View {
    /// The view's state at `now`, as data.
    pub(crate) fn facts(&self, now: Instant) -> LiveFacts {
        let state = match (self.stopped, self.stopping) {
            (true, _) => "stopped",
            (_, true) => "stopping",
            _ => "recording",
        };
        LiveFacts {
            state,
            elapsed: clock(self.recording_since.map_or(Duration::ZERO, |t| now - t)),
            committed: self.committed,
            witnessed: self.witnessed,
            peer_witnessed: self.peer_witnessed,
            link_up: self.link_up,
            last_proof_secs: self.last_receipt.map(|t| (now - t).as_secs_f32()),
            level_db: 20.0 * self.level.max(1e-5).log10(),
            peer: self.peer.clone(),
            warnings: self.warnings(now).iter().map(ToString::to_string).collect(),
            messages: self
                .messages
                .iter()
                .map(|(t, _, m)| format!("[{}] {m}", clock(*t)))
                .collect(),
        }
    }

    pub(crate) fn new(now: Instant) -> View {
        View {
            started: now,
            recording_since: None,
            peer: None,
            code: None,
            link_up: false,
            level: 0.0,
            last_sound: now,
            committed: 0,
            witnessed: 0,
            last_receipt: None,
            peer_witnessed: 0,
            messages: VecDeque::new(),
            confirming: false,
            stopping: false,
            stopped: false,
        }
    }

    pub(crate) fn apply(&mut self, p: Progress, now: Instant) {
        if !matches!(p, Progress::Level(_) | Progress::Committed(_)) {
            tracing::debug!(progress = ?p);
        }
        match &p {
            Progress::PairingCode { code, .. } => self.code = Some(code.clone()),
            Progress::Peer { name, fingerprint } => {
                self.peer = Some((safe(name), fingerprint.clone()))
            }
            Progress::Link { up } => self.link_up = *up,
            Progress::Recording { .. } => {
                self.recording_since = Some(now);
                self.last_sound = now;
            }
            Progress::Level(peak) => {
                let peak = *peak;
                // Fast attack, slow release: a meter a person can read.
                self.level = peak.max(self.level * 0.7);
                if peak >= SILENT_PEAK {
                    self.last_sound = now;
                }
            }
            Progress::Committed(n) => self.committed = *n,
            Progress::Witnessed(n) => {
                self.witnessed = *n;
                self.last_receipt = Some(now);
            }
            Progress::PeerWitnessed(n) => self.peer_witnessed = *n,
            Progress::Stopping { .. } => {
                self.stopping = true;
                self.confirming = false;
            }
            Progress::Saved { .. } => self.stopped = true,
            _ => {}
        }
        if let Some((warning, text)) = crate::words::line(&p) {
            self.message(now, warning, text);
        }
    }

    fn message(&mut self, now: Instant, warning: bool, text: String) {
        for line in text.lines() {
            if self.messages.len() == MESSAGES {
                self.messages.pop_front();
            }
            self.messages.push_back((now - self.started, warning, line.to_owned()));
        }
    }

    pub(crate) fn recording(&self) -> bool {
        self.recording_since.is_some()
    }

    /// What needs the person's attention now.
    pub(crate) fn warnings(&self, now: Instant) -> Vec<Concern> {
        let mut w = Vec::new();
        if !self.recording() {
            return w;
        }
        if !self.link_up {
            w.push(Concern::LinkDown);
        }
        let behind = self.committed.saturating_sub(self.witnessed);
        if self.link_up && behind >= BEHIND_WARNING {
            w.push(Concern::Behind(behind));
        }
        // After stop the input is closed: its silence means nothing.
        let quiet = now - self.last_sound;
        if quiet >= SILENT_WARNING && !self.stopping {
            w.push(Concern::Silent(quiet));
        }
        w
    }

    pub(crate) fn draw(&self, frame: &mut Frame<'_>, now: Instant) {
        let area = frame.area();
        let elapsed = self.recording_since.map_or(Duration::ZERO, |t| now - t);
        let state = match (self.stopped, self.stopping) {
            (true, _) => Span::styled("■ stopped", Style::new().bold()),
            (_, true) => Span::styled("■ stopping", Style::new().fg(Color::Yellow).bold()),
            _ => Span::styled(
                "● recording",
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
        };
        let title = Line::from(vec![
            Span::raw(" dualrec · "),
            state,
            Span::raw(format!(" {} ", clock(elapsed))),
        ]);
        let block = Block::new().borders(Borders::ALL).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let rows = Layout::vertical([
            Constraint::Length(1), // with
            Constraint::Length(1), // link
            Constraint::Length(1), // level
            Constraint::Length(1), // this side
            Constraint::Length(1), // their side
            Constraint::Length(2), // warnings
            Constraint::Min(1),    // messages
            Constraint::Length(2), // keys
        ])
        .split(inner);

        let label = |s: &'static str| Span::styled(format!("{s:<LABEL$}"), Style::new().bold());
        let (name, fp) = self.peer.clone().unwrap_or_else(|| ("…".into(), String::new()));
        let mut with = vec![label("With"), Span::raw(name), Span::raw("  "), Span::raw(fp).dim()];
        if let Some(c) = &self.code {
            with.push(Span::raw(format!("  (code {c})")).dim());
        }
        frame.render_widget(Paragraph::new(Line::from(with)), rows[0]);

        frame.render_widget(Paragraph::new(self.link_line(now)), rows[1]);

        let db = 20.0 * self.level.max(1e-5).log10();
        let level_row = Layout::horizontal([Constraint::Length(LABEL as u16), Constraint::Min(10)])
            .split(rows[2]);
        frame.render_widget(Paragraph::new(Line::from(label("Input"))), level_row[0]);
        // The meter spans -60..0 dBFS.
        let ratio = f64::from(((db + 60.0) / 60.0).clamp(0.0, 1.0));
        frame.render_widget(
            Gauge::default()
                .gauge_style(Style::new().fg(Color::Green))
                .ratio(ratio)
                .label(format!("{db:.0} dB")),
            level_row[1],
        );

        frame.render_widget(
            Paragraph::new(Line::from(vec![
                label("This device"),
                Span::raw(format!(
                    "{} s recorded · {} witnessed by the other device",
                    self.committed, self.witnessed
                )),
            ])),
            rows[3],
        );
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                label("Other device"),
                Span::raw(format!("{} s of its recording witnessed here", self.peer_witnessed)),
            ])),
            rows[4],
        );

        frame.render_widget(Paragraph::new(self.warning_lines(now)), rows[5]);
        frame.render_widget(Paragraph::new(self.message_lines()), rows[6]);
        frame.render_widget(
            Paragraph::new(self.keys_line()).wrap(ratatui::widgets::Wrap { trim: true }),
            rows[7],
        );
    }

    /// The link to the other device, and how long since a proof came back.
    fn link_line(&self, now: Instant) -> Line<'static> {
        let label = Span::styled(format!("{:<LABEL$}", "Link"), Style::new().bold());
        if !self.link_up {
            let state = Span::styled("○ not answering", Style::new().fg(Color::Yellow));
            return Line::from(vec![label, state]);
        }
        let age = self.last_receipt.map_or_else(
            || "no proof back yet".to_owned(),
            |t| format!("last proof back {:.1} s ago", (now - t).as_secs_f32()),
        );
        Line::from(vec![
            label,
            Span::styled("● connected", Style::new().fg(Color::Green)),
            Span::raw(format!(" · {age}")),
        ])
    }

    /// The concerns of the moment, or that all is well.
    fn warning_lines(&self, now: Instant) -> Vec<Line<'static>> {
        let warnings = self.warnings(now);
        if warnings.is_empty() && !self.stopping {
            return vec![Line::styled("All is well.", Style::new().fg(Color::Green))];
        }
        warnings
            .into_iter()
            .map(|w| Line::styled(format!("⚠ {w}"), Style::new().fg(Color::Yellow).bold()))
            .collect()
    }

    /// The latest messages, timed from the start.
    fn message_lines(&self) -> Vec<Line<'_>> {
        self.messages
            .iter()
            .map(|(t, warning, m)| {
                let style = if *warning { Style::new().fg(Color::Yellow) } else { Style::new() };
                Line::styled(format!("[{}] {m}", clock(*t)), style)
            })
            .collect()
    }

    /// What the keys do now.
    fn keys_line(&self) -> Line<'static> {
        let other =
            self.peer.as_ref().map_or_else(|| "the other".to_owned(), |p| format!("{}'s", p.0));
        if self.stopped {
            Line::from("The recording is saved.").bold()
        } else if self.stopping {
            Line::from("Stopping: waiting for the other device to confirm the last seconds. Press s to stop waiting.").dim()
        } else if self.confirming {
            Line::styled(
                format!(
                    "Stop recording now? This also ends the recording on {other} device. Press y to stop, any other key to go on."
                ),
                Style::new().fg(Color::Yellow).bold(),
            )
        } else {
            Line::from("Press s to stop the recording.").dim()
        }
    }

    /// A key the person pressed: whether to ask the session to stop (or stop waiting).
    pub(crate) fn key(&mut self, key: Key) -> bool {
        match (key, self.stopping, self.confirming) {
            (Key::Stop, true, _) => true,
            (Key::Stop, false, false) => {
                self.confirming = true;
                false
            }
            // Ctrl-C twice, or y: the person means it.
            (Key::Interrupt | Key::Yes, false, true) => {
                self.confirming = false;
                true
            }
            (Key::Interrupt, _, _) => {
                self.confirming = !self.stopping;
                self.stopping
            }
            (_, _, true) => {
                self.confirming = false;
                false
            }
            _ => false,
        }
    }
}

/// Shows the session's progress until the session ends. `stop` asks the session to stop
/// (a key in the live view; Ctrl-C is handled by the caller for plain lines).
pub(crate) async fn show(mut progress: mpsc::Receiver<Progress>, stop: mpsc::Sender<()>) {
    let live = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let mut view = View::new(Instant::now());
    let mut plain = Plain::default();
    // Plain lines until recording starts (the pairing question is asked on stdin).
    while !view.recording() {
        let Some(p) = progress.recv().await else { return };
        plain.print(&view, &p, Instant::now());
        view.apply(p, Instant::now());
    }
    if live && let Ok(mut term) = LiveTerminal::open() {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                p = progress.recv() => match p {
                    Some(p) => view.apply(p, Instant::now()),
                    None => break,
                },
                _ = tick.tick() => {
                    for key in term.keys() {
                        if view.key(key) {
                            let _ = stop.try_send(());
                        }
                    }
                }
            }
            term.draw(&view);
        }
        term.draw(&view);
        return;
    }
    let mut next_summary = Instant::now() + Duration::from_secs(60);
    while let Some(p) = progress.recv().await {
        let now = Instant::now();
        plain.print(&view, &p, now);
        view.apply(p, now);
        plain.warn_on_change(&view, now);
        if now >= next_summary {
            next_summary = now + Duration::from_secs(60);
            plain.line(
                &view,
                now,
                &format!(
                    "{} s recorded, {} witnessed by the other device, {} of theirs witnessed here",
                    view.committed, view.witnessed, view.peer_witnessed
                ),
            );
        }
    }
}

/// Plain timestamped lines, for logs and pipes.
#[derive(Debug, Default)]
struct Plain {
    /// The kinds of concern current at the last look.
    current: Vec<std::mem::Discriminant<Concern>>,
    /// A level meter is drawn on the current line (a terminal, during the sound check).
    meter: bool,
}

impl Plain {
    fn line(&mut self, view: &View, now: Instant, text: &str) {
        if std::mem::take(&mut self.meter) {
            println!();
        }
        println!("[{}] {text}", clock(now - view.started));
    }

    /// The sound check's level, redrawn in place on a terminal (nothing in a log).
    fn level(&mut self, peak: f32) {
        use std::io::Write as _;
        if !std::io::stdout().is_terminal() {
            return;
        }
        let db = 20.0 * peak.max(1e-5).log10();
        let filled = (((db + 60.0) / 60.0).clamp(0.0, 1.0) * 30.0).round() as usize;
        print!(
            "\r        level {}{} {:>7}",
            "█".repeat(filled),
            "░".repeat(30 - filled),
            crate::words::decibels(peak)
        );
        let _ = std::io::stdout().flush();
        self.meter = true;
    }

    fn print(&mut self, view: &View, p: &Progress, now: Instant) {
        if let Progress::Level(peak) = p
            && !view.recording()
        {
            self.level(*peak);
        }
        match crate::words::line(p) {
            Some((false, m)) => self.line(view, now, &m),
            Some((true, m)) => self.line(view, now, &format!("WARNING: {m}")),
            None => {}
        }
        // The live view says this on its keys line.
        if let Progress::WaitingForWitness { .. } = p {
            self.line(view, now, "Press Ctrl-C to finish without waiting.");
        }
    }

    /// Derived warnings (silence, falling behind) are printed when they begin.
    fn warn_on_change(&mut self, view: &View, now: Instant) {
        for w in self.begun(view.warnings(now)) {
            self.line(view, now, &format!("WARNING: {w}"));
        }
    }

    /// The concerns that were not current at the last look.
    fn begun(&mut self, now_current: Vec<Concern>) -> Vec<Concern> {
        let before = std::mem::take(&mut self.current);
        self.current = now_current.iter().map(std::mem::discriminant).collect();
        now_current.into_iter().filter(|c| !before.contains(&std::mem::discriminant(c))).collect()
    }
}

/// The terminal in raw mode with an inline viewport, restored when dropped.
struct LiveTerminal {
    term: Terminal<CrosstermBackend<std::io::Stdout>>,
}

impl LiveTerminal {
    fn open() -> std::io::Result<LiveTerminal> {
        terminal::enable_raw_mode()?;
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = terminal::disable_raw_mode();
            hook(info);
        }));
        let term = Terminal::with_options(
            CrosstermBackend::new(std::io::stdout()),
            TerminalOptions { viewport: Viewport::Inline(15) },
        );
        match term {
            Ok(term) => Ok(LiveTerminal { term }),
            Err(e) => {
                let _ = terminal::disable_raw_mode();
                Err(e)
            }
        }
    }

    fn draw(&mut self, view: &View) {
        let _ = self.term.draw(|f| view.draw(f, Instant::now()));
    }

    /// The keys pressed since the last look (raw mode turns Ctrl-C into a key).
    fn keys(&mut self) -> Vec<Key> {
        let mut keys = Vec::new();
        while event::poll(Duration::ZERO).unwrap_or(false) {
            if let Ok(Event::Key(k)) = event::read()
                && k.kind == KeyEventKind::Press
            {
                keys.push(match k.code {
                    KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                        Key::Interrupt
                    }
                    KeyCode::Char('s' | 'q') => Key::Stop,
                    KeyCode::Char('y' | 'Y') => Key::Yes,
                    _ => Key::Other,
                });
            }
        }
        keys
    }
}

impl Drop for LiveTerminal {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
        let _ = self.term.backend_mut().flush();
        println!();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;

    fn screen(view: &View, now: Instant) -> String {
        let mut t = Terminal::new(TestBackend::new(100, 15)).expect("terminal");
        t.draw(|f| view.draw(f, now)).expect("draw");
        let buf = t.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn recording_view(t0: Instant) -> View {
        let mut v = View::new(t0);
        let device = dualrec_session::Device {
            name: "Social worker".into(),
            fingerprint: "d537-7cad".into(),
        };
        v.apply(Progress::PairingCode { code: "123 456".into(), device, unchecked: false }, t0);
        v.apply(
            Progress::Peer { name: "Social worker".into(), fingerprint: "d537-7cad".into() },
            t0,
        );
        v.apply(Progress::Link { up: true }, t0);
        v.apply(Progress::Recording { dir: "out/x".into(), source: "test tone".into() }, t0);
        v
    }

    #[test]
    fn shows_who_time_counts_and_all_is_well() {
        let t0 = Instant::now();
        let mut v = recording_view(t0);
        for s in 1..=65u64 {
            let t = t0 + Duration::from_secs(s);
            v.apply(Progress::Level(0.25), t);
            v.apply(Progress::Committed(s), t);
            v.apply(Progress::Witnessed(s), t);
            v.apply(Progress::PeerWitnessed(s - 1), t);
        }
        v.apply(Progress::Link { up: true }, t0 + Duration::from_secs(3));
        let text = screen(&v, t0 + Duration::from_millis(65_400));
        for want in [
            "recording 01:05",
            "Social worker",
            "d537-7cad",
            "code 123 456",
            "● connected · last proof back 0.4 s ago",
            "-12 dB",
            "65 s recorded · 65 witnessed by the other device",
            "64 s of its recording witnessed here",
            "All is well.",
            "[00:03] the other device is connected",
            "Press s to stop",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(v.warnings(t0 + Duration::from_millis(65_400)).is_empty());
    }

    /// Every state the view can be in, drawn and kept as a golden snapshot: what a person
    /// sees is reviewed when it changes.
    #[test]
    fn each_screen_state_matches_its_snapshot() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut v = recording_view(t0);
        for s in 1..=30u64 {
            v.apply(Progress::Level(0.25), at(s));
            v.apply(Progress::Committed(s), at(s));
            v.apply(Progress::Witnessed(s), at(s));
            v.apply(Progress::PeerWitnessed(s), at(s));
        }
        insta::assert_snapshot!("recording", screen(&v, at(30)));
        v.apply(Progress::Link { up: false }, at(31));
        for s in 31..=40u64 {
            v.apply(Progress::Level(0.0005), at(s));
            v.apply(Progress::Committed(s), at(s));
        }
        v.apply(Progress::DiskLow { minutes: 9 }, at(40));
        insta::assert_snapshot!("warnings", screen(&v, at(40)));
        v.apply(Progress::Link { up: true }, at(41));
        v.apply(Progress::Level(0.25), at(41));
        v.apply(Progress::Witnessed(40), at(41));
        assert!(!v.key(Key::Stop));
        insta::assert_snapshot!("confirm-stop", screen(&v, at(41)));
        assert!(v.key(Key::Yes));
        v.apply(
            Progress::Stopping { by_other: false, reason: dualrec_proof::EndReason::Stopped },
            at(42),
        );
        v.apply(Progress::WaitingForWitness { unconfirmed: 2, up_to_secs: 42 }, at(42));
        insta::assert_snapshot!("stopping", screen(&v, at(43)));
        v.apply(
            Progress::Saved {
                recording: "out/x/recording.opus".into(),
                evidence: "out/x/evidence.log".into(),
            },
            at(44),
        );
        insta::assert_snapshot!("stopped", screen(&v, at(44)));

        let mut by_other = recording_view(t0);
        by_other.apply(Progress::Committed(5), at(5));
        by_other.apply(
            Progress::Stopping { by_other: true, reason: dualrec_proof::EndReason::Stopped },
            at(6),
        );
        insta::assert_snapshot!("stopped-by-the-other-person", screen(&by_other, at(6)));
    }

    #[test]
    fn warns_when_silent_behind_or_cut_off() {
        let t0 = Instant::now();
        let mut v = recording_view(t0);
        for s in 1..=12u64 {
            let t = t0 + Duration::from_secs(s);
            v.apply(Progress::Level(0.0005), t);
            v.apply(Progress::Committed(s), t);
        }
        v.apply(Progress::Witnessed(4), t0 + Duration::from_secs(5));
        let now = t0 + Duration::from_secs(12);
        let text = screen(&v, now);
        assert!(text.contains("The microphone hears nothing (12 s of silence)"), "{text}");
        assert!(text.contains("8 seconds behind in witnessing"), "{text}");
        assert!(!text.contains("All is well"), "{text}");

        v.apply(Progress::Link { up: false }, now);
        v.apply(Progress::Level(0.5), now);
        let text = screen(&v, now);
        assert!(text.contains("○ not answering"), "{text}");
        assert!(text.contains("The other device is not answering. Still recording"), "{text}");
        assert!(!text.contains("hears nothing"), "sound is back: {text}");
        assert!(!text.contains("behind in witnessing"), "not 'behind' while cut off: {text}");
    }

    #[test]
    fn plain_lines_announce_each_kind_of_concern_when_it_begins() {
        let mut plain = Plain::default();
        assert_eq!(plain.begun(vec![Concern::LinkDown]), vec![Concern::LinkDown]);
        assert_eq!(plain.begun(vec![Concern::LinkDown]), vec![], "still the same concern");
        // The link is back but witnessing is behind: a new kind, announced.
        assert_eq!(plain.begun(vec![Concern::Behind(6)]), vec![Concern::Behind(6)]);
        assert_eq!(plain.begun(vec![Concern::Behind(7)]), vec![], "only the count changed");
        assert_eq!(plain.begun(vec![]), vec![]);
        assert_eq!(plain.begun(vec![Concern::Behind(5)]), vec![Concern::Behind(5)], "again");
    }

    #[test]
    fn nothing_to_warn_about_before_recording() {
        let t0 = Instant::now();
        let v = View::new(t0);
        assert!(v.warnings(t0 + Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn stop_asks_first_and_a_second_press_stops_waiting() {
        let mut v = View::new(Instant::now());
        assert!(!v.key(Key::Stop), "s only asks");
        assert!(v.keys_line().to_string().contains("Stop recording now?"));
        assert!(!v.key(Key::Other), "any other key goes on");
        assert!(v.keys_line().to_string().contains("Press s to stop"));
        assert!(!v.key(Key::Stop));
        assert!(v.key(Key::Yes), "y stops");
        assert!(!v.key(Key::Interrupt));
        assert!(v.key(Key::Interrupt), "Ctrl-C twice stops");
        v.apply(
            Progress::Stopping { by_other: false, reason: dualrec_proof::EndReason::Stopped },
            Instant::now(),
        );
        assert!(v.key(Key::Stop), "while stopping, s stops waiting at once");
        v.apply(Progress::Level(0.0), Instant::now() + Duration::from_secs(60));
        assert!(
            !v.warnings(Instant::now() + Duration::from_secs(60))
                .iter()
                .any(|c| matches!(c, Concern::Silent(_))),
            "no silence warning after stop"
        );
    }
}
