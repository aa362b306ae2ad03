//! The app's state: the screen the person is on and everything it shows. It changes by the
//! person's actions (the handlers below) and the session's typed progress, and is published
//! whole, as JSON, to every open page. Words come from [`crate::words`], the same as the
//! terminal's; untrusted names travel as JSON strings and the page shows them as text.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use dualrec_proof::Identity;
use dualrec_session::{MeetingState, Progress, Question, SessionOutcome};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};

use super::AppOptions;
use crate::live::View;

/// The screens of the meeting flow the server drives; the page adds its own for past
/// meetings and checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screen {
    FirstRun,
    Ready,
    /// The session runs and has not started recording: finding, pairing, consent.
    Find,
    Recording,
    Done,
}

impl Screen {
    fn name(self) -> &'static str {
        match self {
            Screen::FirstRun => "first_run",
            Screen::Ready => "ready",
            Screen::Find => "find",
            Screen::Recording => "recording",
            Screen::Done => "done",
        }
    }
}

/// A question the session waits on; answered from the page.
#[derive(Debug)]
struct Pending {
    id: u64,
    question: Question,
    answer: std::sync::mpsc::SyncSender<bool>,
}

/// The microphone opened on the ready screen for its level meter.
#[derive(Debug)]
struct Meter {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

#[derive(Debug)]
struct Shared {
    screen: Screen,
    name: Option<String>,
    input: Option<String>,
    input_error: Option<String>,
    /// The inputs this machine has (real ones only), and the one chosen (`None`: default).
    inputs: Vec<dualrec_audio::InputDevice>,
    chosen_input: Option<String>,
    /// Hours of recording the disk has room for, as of the last time the ready screen
    /// was shown (not read again for every level update).
    hours_of_room: Option<f64>,
    level: f32,
    meter: Option<Meter>,
    addresses: Vec<String>,
    found: Vec<(dualrec_session::Device, bool)>,
    nothing_found: bool,
    question: Option<Pending>,
    next_question: u64,
    /// Something the person must know on the find screen (a mismatch, a refusal).
    notice: Option<String>,
    view: View,
    stop: Option<mpsc::Sender<()>>,
    session: Option<tokio::task::JoinHandle<()>>,
    done: Option<SessionOutcome>,
    error: Option<String>,
}

/// The running app.
#[derive(Debug)]
pub(crate) struct App {
    port: u16,
    secret: String,
    options: AppOptions,
    fingerprint: String,
    shared: Mutex<Shared>,
    published: watch::Sender<String>,
    quit: Mutex<Option<oneshot::Sender<()>>>,
    closed: AtomicBool,
}

impl App {
    /// The app for `options`, serving on `port` with `secret`; the receiver fires when the
    /// person quits.
    pub(crate) fn new(
        options: AppOptions,
        port: u16,
        secret: String,
    ) -> anyhow::Result<(Arc<App>, oneshot::Receiver<()>)> {
        let (identity, _) =
            Identity::load_or_create(&dualrec_session::identity_path(&options.data_dir))?;
        let name = std::fs::read_to_string(options.data_dir.join("name"))
            .ok()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        let (quit_tx, quit_rx) = oneshot::channel();
        let shared = Shared {
            screen: if name.is_some() { Screen::Ready } else { Screen::FirstRun },
            name,
            input: None,
            input_error: None,
            inputs: dualrec_audio::list_input_devices().unwrap_or_default(),
            chosen_input: None,
            hours_of_room: None,
            level: 0.0,
            meter: None,
            addresses: Vec::new(),
            found: Vec::new(),
            nothing_found: false,
            question: None,
            next_question: 0,
            notice: None,
            view: View::new(Instant::now()),
            stop: None,
            session: None,
            done: None,
            error: None,
        };
        let app = Arc::new(App {
            port,
            secret,
            options,
            fingerprint: identity.public().fingerprint().to_string(),
            shared: Mutex::new(shared),
            published: watch::Sender::new(String::new()),
            quit: Mutex::new(Some(quit_tx)),
            closed: AtomicBool::new(false),
        });
        if app.lock().screen == Screen::Ready {
            app.start_meter();
        }
        app.publish();
        tokio::spawn(tick(app.clone()));
        Ok((app, quit_rx))
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends the state to every open page.
    fn publish(&self) {
        // Under the lock: two publishers may not send their snapshots in the other order.
        let shared = self.lock();
        self.published.send_replace(self.snapshot(&shared).to_string());
    }

    fn snapshot(&self, s: &Shared) -> Value {
        let device =
            |d: &dualrec_session::Device| json!({"name": d.name, "fingerprint": d.fingerprint});
        let question = s.question.as_ref().map(|p| match &p.question {
            Question::SameCode { code, device: d } => {
                json!({"id": p.id, "kind": "same_code", "code": code, "device": device(d)})
            }
            Question::Record { device: d, remembered } => json!({
                "id": p.id, "kind": "record", "device": device(d), "remembered": remembered
            }),
            _ => json!({"id": p.id, "kind": "other"}),
        });
        let qr = s.addresses.first().map(|a| qr_rows(&format!("dualrec {a}")));
        json!({
            "screen": s.screen.name(),
            "closed": self.closed.load(Ordering::SeqCst),
            "name": s.name,
            "fingerprint": self.fingerprint,
            "input": s.input,
            "input_error": s.input_error,
            "inputs": s.inputs.iter().map(|d| json!({
                "id": d.id,
                "name": d.name,
                "chosen": s.chosen_input.as_ref().map_or(d.is_default, |c| *c == d.id),
            })).collect::<Vec<_>>(),
            "level_db": 20.0 * s.level.max(1e-5).log10(),
            "folder": self.options.out_dir.display().to_string(),
            "hours_of_room": s.hours_of_room,
            "addresses": s.addresses,
            "address_qr": qr,
            "found": s.found.iter().map(|(d, r)| json!({"name": d.name, "fingerprint": d.fingerprint, "remembered": r})).collect::<Vec<_>>(),
            "nothing_found": s.nothing_found,
            "question": question,
            "notice": s.notice,
            "live": s.view.recording().then(|| s.view.facts(Instant::now())),
            "done": s.done.as_ref().map(|o| json!({
                "folder": o.dir.display().to_string(),
                "recording": o.recording.display().to_string(),
                "evidence": o.evidence.display().to_string(),
                "seconds": o.chunks,
                "witnessed": o.witnessed,
                "ended_together": o.ended_together,
            })),
            "error": s.error,
        })
    }

    /// Opens the input for the ready screen's level meter (a file is not listened to).
    fn start_meter(self: &Arc<Self>) {
        let mut s = self.lock();
        s.hours_of_room = dualrec_session::hours_of_room(&self.options.out_dir);
        if s.meter.is_some() {
            return;
        }
        if let Some(file) = &self.options.input_file {
            s.input = Some(format!("the file {}", file.display()));
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let app = self.clone();
        let flag = stop.clone();
        let device = s.chosen_input.clone();
        let thread = std::thread::spawn(move || app.meter(device.as_deref(), &flag));
        s.meter = Some(Meter { stop, thread });
    }

    fn meter(&self, device: Option<&str>, stop: &AtomicBool) {
        let config = dualrec_audio::EncoderConfig::default();
        let recorder = match dualrec_audio::Recorder::microphone(device, config) {
            Ok(r) => r,
            Err(e) => {
                let mut s = self.lock();
                s.input = None;
                s.input_error =
                    Some(format!("No microphone can be opened ({e}). Is one connected?"));
                drop(s);
                return self.publish();
            }
        };
        {
            let mut s = self.lock();
            s.input = Some(recorder.description().to_owned());
            s.input_error = None;
        }
        let mut recent = 0.0f32;
        let mut packets = 0u32;
        while !stop.load(Ordering::SeqCst) {
            if let Some(dualrec_audio::AudioEvent::Packet(p)) =
                recorder.recv(Duration::from_millis(200))
            {
                recent = recent.max(p.peak);
                packets += 1;
                if packets.is_multiple_of(5) {
                    let mut s = self.lock();
                    s.level = recent.max(s.level * 0.5);
                    drop(s);
                    self.publish();
                    recent = 0.0;
                }
            }
        }
        recorder.stop();
    }

    /// Closes the meter's microphone (the session opens its own) and waits until it is.
    async fn stop_meter(&self) {
        let meter = self.lock().meter.take();
        if let Some(m) = meter {
            m.stop.store(true, Ordering::SeqCst);
            let _ = tokio::task::spawn_blocking(move || m.thread.join()).await;
        }
    }

    /// Asks the person on the page; blocks the session's asking thread until answered.
    fn ask(&self, question: Question) -> bool {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        {
            let mut s = self.lock();
            s.next_question += 1;
            let id = s.next_question;
            s.question = Some(Pending { id, question, answer: tx });
        }
        self.publish();
        let yes = rx.recv().unwrap_or(false);
        self.lock().question = None;
        self.publish();
        yes
    }

    /// One event from the session.
    fn on_progress(&self, p: Progress) {
        let mut s = self.lock();
        match &p {
            Progress::Listening { address, .. } if !s.addresses.contains(address) => {
                s.addresses.push(address.clone());
            }
            Progress::NothingFound { addresses } => {
                s.nothing_found = true;
                for a in addresses {
                    if !s.addresses.contains(a) {
                        s.addresses.push(a.clone());
                    }
                }
            }
            Progress::Found { device, remembered } => {
                s.found.retain(|(d, _)| d.fingerprint != device.fingerprint);
                s.found.push((device.clone(), *remembered));
                s.nothing_found = false;
            }
            Progress::PairingFailed { .. }
            | Progress::Declined { .. }
            | Progress::Refused { .. } => {
                s.notice = crate::words::line(&p).map(|(_, w)| w);
            }
            Progress::Level(l) if !s.view.recording() => s.level = *l,
            Progress::Recording { .. } => s.screen = Screen::Recording,
            _ => {}
        }
        s.view.apply(p, Instant::now());
        drop(s);
        self.publish();
    }

    /// The session ended: its files, or why it could not run.
    fn on_session_end(
        self: &Arc<Self>,
        outcome: Result<SessionOutcome, dualrec_session::SessionError>,
    ) {
        let mut s = self.lock();
        s.stop = None;
        s.session = None;
        s.question = None;
        match outcome {
            Ok(o) => {
                s.done = Some(o);
                s.screen = Screen::Done;
            }
            Err(dualrec_session::SessionError::Cancelled) => s.screen = Screen::Ready,
            Err(e) => {
                s.error = Some(
                    crate::words::session_error(&e)
                        .unwrap_or_else(|| format!("The session could not go on: {e}")),
                );
                s.screen = if s.view.recording() { Screen::Done } else { Screen::Ready };
            }
        }
        let ready = s.screen == Screen::Ready;
        drop(s);
        if ready {
            self.start_meter();
        }
        self.publish();
    }

    /// Stops a running session and closes the microphone: the app is closing.
    pub(crate) async fn shut_down(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.publish();
        let (stop, session) = {
            let mut s = self.lock();
            if let Some(p) = s.question.take() {
                let _ = p.answer.try_send(false);
            }
            (s.stop.take(), s.session.take())
        };
        if let Some(stop) = stop {
            let _ = stop.try_send(());
        }
        if let Some(session) = session {
            let _ = session.await;
        }
        self.stop_meter().await;
        self.publish();
    }
}

/// The page's clock: recording time and "last proof" age move on between events.
async fn tick(app: Arc<App>) {
    let mut every = tokio::time::interval(Duration::from_millis(500));
    while !app.closed.load(Ordering::SeqCst) {
        every.tick().await;
        if app.lock().screen == Screen::Recording {
            app.publish();
        }
    }
}

/// `text` as a QR code: rows of `1` (dark) and `0` (light), drawn by the page.
fn qr_rows(text: &str) -> Vec<String> {
    let Ok(code) = qrcode::QrCode::new(text) else { return Vec::new() };
    let width = code.width();
    code.to_colors()
        .chunks(width)
        .map(|row| row.iter().map(|c| if *c == qrcode::Color::Dark { '1' } else { '0' }).collect())
        .collect()
}

/// What the page needs to say when an action does not fit the moment.
fn conflict(what: &str) -> Response {
    (StatusCode::CONFLICT, Json(json!({"error": what}))).into_response()
}

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("app.css");

pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        SCRIPT,
    )
        .into_response()
}

pub(super) async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        STYLE,
    )
        .into_response()
}

pub(super) async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        PAGE,
    )
        .into_response()
}

/// The state, now and at every change, as server-sent events; ends when the app closes.
pub(super) async fn events(
    State(app): State<Arc<App>>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let rx = app.published.subscribe();
    let stream = futures::stream::unfold((rx, app, true, false), |(mut rx, app, first, ended)| {
        async move {
            if ended {
                return None;
            }
            while !first && !app.closed.load(Ordering::SeqCst) {
                tokio::select! {
                    changed = rx.changed() => {
                        changed.ok()?;
                        break;
                    }
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            // Once the app closes, the page gets the closing state and the stream ends, so
            // the server can stop.
            let ended = app.closed.load(Ordering::SeqCst);
            let data = if ended {
                app.snapshot(&app.lock()).to_string()
            } else {
                rx.borrow_and_update().clone()
            };
            Some((Ok(Event::default().data(data)), (rx, app, false, ended)))
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Debug, Deserialize)]
pub(super) struct NameForm {
    name: String,
}

pub(super) async fn set_name(State(app): State<Arc<App>>, Json(form): Json<NameForm>) -> Response {
    let name: String = form.name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() || name.len() > 64 {
        return conflict("A name must be 1 to 64 bytes long.");
    }
    let path = app.options.data_dir.join("name");
    let written = dualrec_proof::private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, name.as_bytes()));
    if let Err(e) = written {
        return conflict(&format!("The name could not be saved ({e})."));
    }
    {
        let mut s = app.lock();
        s.name = Some(name);
        if s.screen == Screen::FirstRun {
            s.screen = Screen::Ready;
        }
    }
    app.start_meter();
    app.publish();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct FindForm {
    /// The other device's address, typed by the person (optional).
    address: Option<String>,
}

/// Starts the session: find the other device (or dial the typed address), pair, record.
pub(super) async fn find(State(app): State<Arc<App>>, Json(form): Json<FindForm>) -> Response {
    let (name, input) = {
        let s = app.lock();
        if s.screen != Screen::Ready && s.screen != Screen::Done {
            return conflict("A meeting is already being set up or recorded.");
        }
        match &s.name {
            Some(n) => (n.clone(), s.chosen_input.clone()),
            None => return conflict("Choose the name the other person will see first."),
        }
    };
    app.stop_meter().await;
    let address = form.address.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    let args = crate::record_cmd::RecordArgs {
        name: Some(name.clone()),
        out: app.options.out_dir.clone(),
        input,
        input_file: app.options.input_file.clone(),
        duration: None,
        listen: app.options.listen.clone(),
        connect: address,
        yes: false,
        with: None,
    };
    let config = crate::record_cmd::session_config(name, app.options.data_dir.clone(), &args);
    let identity = match Identity::load(&dualrec_session::identity_path(&app.options.data_dir)) {
        Ok(i) => i,
        Err(e) => return conflict(&format!("This device's identity cannot be read ({e}).")),
    };
    let (status_tx, mut status_rx) = mpsc::channel(256);
    let (stop_tx, stop_rx) = mpsc::channel(1);
    let asker = app.clone();
    let ask: dualrec_session::Ask = Arc::new(move |q| asker.ask(q));
    let listener = app.clone();
    tokio::spawn(async move {
        while let Some(p) = status_rx.recv().await {
            listener.on_progress(p);
        }
    });
    let runner = app.clone();
    let task = tokio::spawn(async move {
        let outcome = dualrec_session::run(identity, config, ask, status_tx, stop_rx).await;
        runner.on_session_end(outcome);
    });
    {
        let mut s = app.lock();
        s.screen = Screen::Find;
        s.found.clear();
        s.nothing_found = false;
        s.notice = None;
        s.error = None;
        s.done = None;
        s.view = View::new(Instant::now());
        s.stop = Some(stop_tx);
        s.session = Some(task);
    }
    app.publish();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct InputForm {
    /// One of the inputs listed, by id.
    id: String,
}

/// The person chooses another input on the ready screen: its level is shown at once, and
/// the meeting records from it.
pub(super) async fn choose_input(
    State(app): State<Arc<App>>,
    Json(form): Json<InputForm>,
) -> Response {
    {
        let mut s = app.lock();
        if s.screen != Screen::Ready {
            return conflict("The microphone is chosen before a meeting begins.");
        }
        if !s.inputs.iter().any(|d| d.id == form.id) {
            return conflict("That is not one of this computer's audio inputs.");
        }
        s.chosen_input = Some(form.id);
        s.input = None;
        s.level = 0.0;
    }
    app.stop_meter().await;
    app.start_meter();
    app.publish();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct AnswerForm {
    id: u64,
    yes: bool,
}

pub(super) async fn answer(State(app): State<Arc<App>>, Json(form): Json<AnswerForm>) -> Response {
    let pending = {
        let mut s = app.lock();
        match &s.question {
            Some(p) if p.id == form.id => s.question.take(),
            _ => None,
        }
    };
    match pending {
        Some(p) => {
            let _ = p.answer.try_send(form.yes);
            StatusCode::NO_CONTENT.into_response()
        }
        None => conflict("That question is no longer asked."),
    }
}

/// Stops looking for the other device (before the meeting: nothing is recorded).
pub(super) async fn cancel(State(app): State<Arc<App>>) -> Response {
    let s = app.lock();
    if s.screen != Screen::Find {
        return conflict("Nothing to cancel.");
    }
    if let Some(p) = &s.question {
        let _ = p.answer.try_send(false);
    }
    if let Some(stop) = &s.stop {
        let _ = stop.try_send(());
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The person confirmed stop on the page (a second stop stops waiting at the end).
pub(super) async fn stop(State(app): State<Arc<App>>) -> Response {
    let s = app.lock();
    match (&s.stop, s.screen) {
        (Some(stop), Screen::Recording) => {
            let _ = stop.try_send(());
            StatusCode::NO_CONTENT.into_response()
        }
        _ => conflict("Nothing is being recorded."),
    }
}

/// Back to the ready screen from the done screen.
pub(super) async fn home(State(app): State<Arc<App>>) -> Response {
    {
        let mut s = app.lock();
        if s.screen != Screen::Done {
            return conflict("A meeting is being set up or recorded.");
        }
        s.screen = Screen::Ready;
        s.error = None;
    }
    app.start_meter();
    app.publish();
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn quit(State(app): State<Arc<App>>) -> Response {
    let quit = app.quit.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    if let Some(q) = quit {
        let _ = q.send(());
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The meetings on this device, newest first.
pub(super) async fn meetings(State(app): State<Arc<App>>) -> Response {
    let list = past_meetings(&app);
    let rows: Vec<Value> = list
        .iter()
        .rev()
        .map(|m| {
            json!({
                "folder": m.dir.display().to_string(),
                "when": crate::report::local(m.started_at_ms),
                "with": m.others.iter().map(|d| json!({"name": d.name, "fingerprint": d.fingerprint})).collect::<Vec<_>>(),
                "length": crate::list_cmd::length(m.seconds),
                "state": match m.state {
                    MeetingState::Finished => "finished",
                    MeetingState::Interrupted => "interrupted",
                    _ => "recording",
                },
            })
        })
        .collect();
    Json(json!({ "meetings": rows })).into_response()
}

fn past_meetings(app: &App) -> Vec<dualrec_session::PastMeeting> {
    match Identity::load(&dualrec_session::identity_path(&app.options.data_dir)) {
        Ok(identity) => dualrec_session::past_meetings(&app.options.out_dir, &identity),
        Err(_) => Vec::new(),
    }
}

/// Finishes a meeting this device left unfinished (a crash, a power cut), alone: as
/// `dualrec recover` does.
pub(super) async fn finish(State(app): State<Arc<App>>, Json(form): Json<CheckForm>) -> Response {
    let interrupted = past_meetings(&app).into_iter().find(|m| {
        m.dir.display().to_string() == form.folder && m.state == MeetingState::Interrupted
    });
    let Some(meeting) = interrupted else {
        return conflict("That is not an interrupted meeting of this device.");
    };
    let identity = match Identity::load(&dualrec_session::identity_path(&app.options.data_dir)) {
        Ok(i) => i,
        Err(e) => return conflict(&format!("This device's identity cannot be read ({e}).")),
    };
    let dir = meeting.dir;
    match tokio::task::spawn_blocking(move || crate::recover_cmd::finish(&identity, &dir)).await {
        Ok(Ok(text)) => Json(json!({ "text": text })).into_response(),
        Ok(Err(e)) => conflict(&format!("The meeting could not be finished: {e:#}")),
        Err(_) => conflict("Finishing stopped unexpectedly."),
    }
}

/// The export for a solicitor, as a download.
pub(super) async fn export(
    State(app): State<Arc<App>>,
    axum::extract::Query(form): axum::extract::Query<CheckForm>,
) -> Response {
    let Some(dir) = meeting_dir(&app, &form.folder) else {
        return conflict("That is not one of this device's meetings.");
    };
    match tokio::task::spawn_blocking(move || crate::export::export(&dir)).await {
        Ok(Ok((name, bytes))) => (
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => conflict(&format!("The meeting could not be exported: {e:#}")),
        Err(_) => conflict("The export stopped unexpectedly."),
    }
}

/// One of this device's meeting folders, named as the meetings list names it: the page
/// never chooses a path.
fn meeting_dir(app: &App, folder: &str) -> Option<PathBuf> {
    past_meetings(app).into_iter().map(|m| m.dir).find(|d| d.display().to_string() == folder)
}

#[derive(Debug, Deserialize)]
pub(super) struct CheckForm {
    /// A meeting's folder, as the meetings list gives it.
    folder: String,
}

/// Checks one of this device's recordings against the evidence in its folder: what the
/// other device signed (its receipts and the co-signed end) is in this device's log.
pub(super) async fn check(State(app): State<Arc<App>>, Json(form): Json<CheckForm>) -> Response {
    let Some(dir) = meeting_dir(&app, &form.folder) else {
        return conflict("That is not one of this device's meetings.");
    };
    let result = tokio::task::spawn_blocking(move || check_folder(&dir)).await;
    match result {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => conflict(&format!("The recording could not be checked: {e:#}")),
        Err(_) => conflict("The check stopped unexpectedly."),
    }
}

fn check_folder(dir: &Path) -> anyhow::Result<Value> {
    check_files(&dir.join("recording.opus"), &[dir.join("evidence.log")], None)
}

/// A recording checked against evidence logs and, when given, compared with the other
/// party's recording: the verdicts, the words, and the page for a court (as `verify
/// --html`, with the comparison when there is one).
fn check_files(
    recording: &Path,
    evidence: &[PathBuf],
    other: Option<&Path>,
) -> anyhow::Result<Value> {
    let checked = crate::verify_cmd::verify_files(
        recording,
        evidence,
        dualrec_proof::VerifyOptions::default(),
    )?;
    let (report, mut files) = (checked.report, checked.files);
    let mut text = crate::report::render(&report);
    // The other recording may be the wrong file: the check stands, and says so.
    let (mut comparison, mut not_compared) = (None, None);
    if let Some(other) = other {
        match crate::verify_cmd::add_other(recording, other, &mut files, &mut text) {
            Ok(c) => comparison = Some(c),
            Err(e) => {
                let why = crate::report::safe(&format!("{e:#}"));
                text.push_str(&format!("\nThe other recording was not compared: {why}\n"));
                not_compared = Some(why);
            }
        }
    }
    let extras = crate::court::Extras { audio: None, other: comparison.as_ref() };
    Ok(json!({
        "intact": report.verdict == dualrec_proof::Verdict::Intact,
        "same": comparison.as_ref().map(|c| c.count(dualrec_compare::Class::Different) == 0),
        "not_compared": not_compared,
        "text": text,
        "court": crate::court::html(&report, &files, &extras),
    }))
}

/// The most a person may hand in at once: a day of recording and its logs.
pub(super) const MAX_UPLOAD: usize = 2 << 30;
/// Evidence logs handed in at once, at most.
const MAX_LOGS: usize = 8;

/// Checks a recording and evidence logs the person chose (or dropped) on the page. They
/// are written to a private temporary folder under names of our own making, checked, and
/// removed.
pub(super) async fn check_upload(mut form: axum::extract::Multipart) -> Response {
    let Ok(dir) = tempfile::tempdir() else { return conflict("No room for a temporary folder.") };
    let mut recording = None;
    let mut other = None;
    let mut evidence = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return conflict(&format!("The files did not arrive whole ({e}).")),
        };
        let kind = field.name().unwrap_or_default().to_owned();
        let given = crate::export::file_name_safe(field.file_name().unwrap_or("file"));
        let path = match kind.as_str() {
            "recording" if recording.is_none() => dir.path().join(format!("recording-{given}")),
            "other" if other.is_none() => dir.path().join(format!("other-{given}")),
            "evidence" if evidence.len() < MAX_LOGS => {
                dir.path().join(format!("evidence-{}-{given}", evidence.len() + 1))
            }
            _ => {
                return conflict(
                    "One recording, the other party's recording and up to 8 evidence logs can be checked at once.",
                );
            }
        };
        if let Err(e) = save(field, &path).await {
            return conflict(&format!("The file {given} could not be received ({e})."));
        }
        match kind.as_str() {
            "recording" => recording = Some(path),
            "other" => other = Some(path),
            _ => evidence.push(path),
        }
    }
    let Some(recording) = recording else { return conflict("Choose the recording to check.") };
    if evidence.is_empty() {
        return conflict("Choose at least one evidence log (the other device's, or this one's).");
    }
    let checked = tokio::task::spawn_blocking(move || {
        let mut result = check_files(&recording, &evidence, other.as_deref());
        // The files are named as the person gave them (with their role), not by the
        // temporary folder they were checked in.
        if let Ok(v) = &mut result {
            without_folder(v, &format!("{}/", dir.path().display()));
        }
        drop(dir);
        result
    })
    .await;
    match checked {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => conflict(&format!("The recording could not be checked: {e:#}")),
        Err(_) => conflict("The check stopped unexpectedly."),
    }
}

/// Every string of the check's answer with `folder` taken out of it.
fn without_folder(v: &mut Value, folder: &str) {
    for key in ["text", "court", "not_compared"] {
        if let Some(Value::String(s)) = v.get_mut(key) {
            *s = s.replace(folder, "");
        }
    }
}

/// One uploaded file, streamed to `path` (private).
async fn save(mut field: axum::extract::multipart::Field<'_>, path: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = dualrec_proof::private_file().write(true).create_new(true).open(path)?;
    while let Some(chunk) = field.chunk().await? {
        file.write_all(&chunk)?;
    }
    Ok(())
}
