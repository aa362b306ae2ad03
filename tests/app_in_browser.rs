//! `dualrec app` driven in a real browser (Debian's chromium through chromedriver): two
//! app instances, each with its own data folder and the virtual microphone, go through the
//! whole flow by clicks and typing — first run, ready, find by address, a code mismatch,
//! pairing (the test reads the code on both pages), consent, recording, stop with
//! confirmation, done, check → intact. Screenshots of every screen at desktop and phone
//! width are kept in `target/tmp/app-screenshots/`, and each is checked not to overflow.

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "../crates/audio/tests/common/pulse.rs"]
mod pulse;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use browser::{Killed, js};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

/// One `dualrec app` with its own data and recordings folders; its URL from stdout.
struct AppProcess {
    child: Killed,
    url: String,
}

fn start_app(pulse: &pulse::Pulse, d: &Path, who: &str, listen: &str) -> AppProcess {
    let mut cmd = pulse.cmd(env!("CARGO_BIN_EXE_dualrec"));
    // -v: each app's log, shown when the test fails.
    LOGS.lock().expect("logs").push(d.join(format!("data-{who}")).join("dualrec.log"));
    cmd.arg("-v")
        .arg("--data-dir")
        .arg(d.join(format!("data-{who}")))
        .args(["app", "--no-open", "--listen", listen, "--out"])
        .arg(d.join(format!("out-{who}")));
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn dualrec app");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("url");
    let url = first.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && url.contains("/open?secret="), "{url}");
    AppProcess { child: Killed(child), url }
}

/// The apps' logs, for a failure's message.
static LOGS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// The last events of each app's log (without the meter's levels).
fn log_tails() -> String {
    let logs = LOGS.lock().map(|l| l.clone()).unwrap_or_default();
    logs.iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| {
                    !l.contains("Level(") && !l.contains("Committed(") && !l.contains("Witnessed(")
                })
                .collect();
            format!("== {}\n{}", p.display(), lines[lines.len().saturating_sub(25)..].join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until the JS condition holds on the page.
async fn until(c: &Client, condition: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(45);
    while js(c, condition).await != Value::Bool(true) {
        if Instant::now() > deadline {
            let body = js(c, "document.body.innerText").await;
            panic!(
                "timed out waiting for {what} ({condition}); the page shows:\n{body}\n{}",
                log_tails()
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn screen_is(c: &Client, screen: &str) {
    until(c, &format!("document.body.dataset.screen === '{screen}'"), screen).await;
}

async fn click(c: &Client, id: &str) {
    let element = c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("#{id}: {e}"));
    if let Err(e) = element.click().await {
        let body = js(c, "document.body.innerText").await;
        panic!("cannot click #{id} ({e}); the page shows:\n{body}");
    }
}

async fn text(c: &Client, id: &str) -> String {
    js(c, &format!("document.getElementById('{id}').textContent"))
        .await
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("app-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots folder");
    dir
}

/// A screenshot at desktop and at phone width; nothing may be wider than the window.
async fn shoot(c: &Client, name: &str) {
    for (label, w, h) in [("desktop", 1200u32, 900u32), ("phone", 390, 844)] {
        c.set_window_size(w, h).await.expect("resize");
        tokio::time::sleep(Duration::from_millis(150)).await;
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(shots_dir().join(format!("{name}-{label}.png")), png).expect("write png");
        let overflow = js(
            c,
            "[...document.querySelectorAll('body *')].filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.id || e.tagName)",
        )
        .await;
        assert_eq!(overflow, json!([]), "{name} at {label} width: these overflow the window");
    }
    c.set_window_size(1200, 900).await.expect("resize");
}

/// Chooses input `id` (a JSON string) on the ready screen, and waits until the app has.
async fn choose_input(c: &Client, id: &Value, what: &str) {
    let pick = format!(
        "(() => {{ const s = document.getElementById('input-choice'); s.value = {id}; s.dispatchEvent(new Event('change')); return true; }})()"
    );
    js(c, &pick).await;
    until(c, &format!("state.inputs.some(i => i.id === {id} && i.chosen)"), what).await;
}

async fn first_run(c: &Client, url: &str, name: &str) {
    c.goto(url).await.expect("open the app");
    screen_is(c, "first_run").await;
    shoot(c, &format!("1-first-run-{name}")).await;
    c.find(Locator::Id("name")).await.expect("name").send_keys(name).await.expect("type");
    click(c, "save-name").await;
    screen_is(c, "ready").await;
}

/// Both pages through the consent question, to the pairing code; the codes as shown.
async fn to_the_code(a: &Client, b: &Client, a_addr: &str) -> (String, String) {
    click(a, "find").await;
    screen_is(a, "find").await;
    if js(b, "document.querySelector('details').open").await != json!(true) {
        click(b, "connect-by-address").await;
    }
    let field = b.find(Locator::Id("address")).await.expect("address");
    field.clear().await.expect("clear");
    field.send_keys(a_addr).await.expect("type");
    click(b, "connect").await;
    for c in [a, b] {
        until(c, "!document.getElementById('q-record').hidden", "the consent question").await;
    }
    shoot(a, "4-consent").await;
    for c in [a, b] {
        click(c, "q-yes").await;
    }
    for c in [b, a] {
        until(c, "!document.getElementById('q-code').hidden", "the pairing code").await;
    }
    (text(a, "code").await, text(b, "code").await)
}

/// Ready: the microphone, its level moving as someone speaks, the inputs, the room, the
/// folder.
async fn ready_screen(a: &Client) {
    // Ready: the microphone, its level moving as someone speaks, the room, the folder.
    until(a, "document.getElementById('level').value > -45", "the level meter to move").await;
    assert!(!text(a, "input").await.is_empty());
    // The real inputs, one of them chosen (the default); another can be chosen.
    let inputs = js(a, "state.inputs").await;
    let inputs = inputs.as_array().cloned().unwrap_or_default();
    assert!(!inputs.is_empty(), "no input listed");
    assert_eq!(inputs.iter().filter(|i| i["chosen"] == json!(true)).count(), 1, "{inputs:?}");
    if let Some(other) = inputs.iter().find(|i| i["chosen"] != json!(true)) {
        let first = inputs.iter().find(|i| i["chosen"] == json!(true)).map(|i| i["id"].clone());
        choose_input(a, &other["id"], "the chosen input").await;
        // Back to the default for the meeting.
        choose_input(a, &first.unwrap_or_default(), "the default input again").await;
    }
    assert!(text(a, "room").await.contains("hours of recording"), "{}", text(a, "room").await);
    assert!(text(a, "folder").await.ends_with("out-A"));
    shoot(a, "2-ready").await;
}

/// A code mismatch said on both pages, then pairing again and recording.
async fn mismatch_then_record(a: &Client, b: &Client, a_addr: &str) {
    // First attempt: the person on B sees a different code. Both pages say so.
    let (code_a, code_b) = to_the_code(a, b, a_addr).await;
    assert_eq!(code_a, code_b, "both pages show the same code");
    assert_eq!(code_a.chars().filter(char::is_ascii_digit).count(), 6, "{code_a}");
    shoot(a, "5-code").await;
    click(a, "same-code").await;
    click(b, "different-code").await;
    for c in [a, b] {
        until(c, "!document.getElementById('notice').hidden", "the mismatch warning").await;
        let notice = text(c, "notice").await;
        assert!(notice.contains("interfering"), "{notice}");
    }
    shoot(a, "6-mismatch").await;
    for c in [a, b] {
        click(c, "cancel").await;
        screen_is(c, "ready").await;
    }

    // Second attempt: the codes match; both record.
    let (code_a, code_b) = to_the_code(a, b, a_addr).await;
    assert_eq!(code_a, code_b);
    for c in [a, b] {
        click(c, "same-code").await;
    }
    for c in [a, b] {
        screen_is(c, "recording").await;
    }
    until(
        a,
        "/confirmed ([5-9]|\\d\\d+) of/.test(document.getElementById('witnessed').textContent)",
        "5 s witnessed",
    )
    .await;
    assert_eq!(text(a, "peer-name").await, "Sam, social worker");
    assert!(text(a, "link").await.starts_with("● connected"));
    shoot(a, "7-recording").await;
}

/// The link lost and back, seen on A's page.
async fn link_lost_and_back(a: &Client, b_pid: u32) {
    // The link drops (B's app is frozen, as a laptop that sleeps): A's page says so and
    // goes on recording; when B is back, so is the link, and B's microphone goes on.
    let b_pid = b_pid.to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill").args([sig, &b_pid]).status().expect("kill");
        assert!(ok.success());
    };
    signal("-STOP");
    until(
        a,
        "document.getElementById('link').textContent.startsWith('○ not answering')",
        "the link lost",
    )
    .await;
    let warnings = text(a, "warnings").await;
    assert!(warnings.contains("not answering. Still recording"), "{warnings}");
    assert_eq!(js(a, "document.body.dataset.screen").await, json!("recording"));
    shoot(a, "7b-link-lost").await;
    signal("-CONT");
    until(
        a,
        "document.getElementById('link').textContent.startsWith('● connected')",
        "the link back",
    )
    .await;
    until(
        a,
        "/confirmed (1\\d|[2-9]\\d) of/.test(document.getElementById('witnessed').textContent)",
        "10 s witnessed",
    )
    .await;
}

/// Stop, asked first; both pages done. A's recording.
async fn stop_with_confirmation(a: &Client, b: &Client) -> String {
    // Stop asks first, and says what it means for the other person.
    click(a, "stop").await;
    let question = text(a, "confirm-text").await;
    assert!(
        question.contains("also ends the recording on Sam, social worker's device"),
        "{question}"
    );
    shoot(a, "8-confirm-stop").await;
    click(a, "stop-no").await;
    assert_eq!(js(a, "document.getElementById('confirm-stop').hidden").await, json!(true));
    assert_eq!(js(a, "document.body.dataset.screen").await, json!("recording"), "still recording");
    click(a, "stop").await;
    click(a, "stop-yes").await;
    for c in [a, b] {
        screen_is(c, "done").await;
    }
    let summary = text(b, "done-summary").await;
    assert!(summary.contains("signed by both devices"), "{summary}");
    let messages = js(b, "document.getElementById('messages').textContent").await;
    assert!(
        messages.as_str().unwrap_or("").contains("the other device stopped the session"),
        "{messages}"
    );
    let recording = text(a, "done-recording").await;
    assert!(Path::new(&recording).is_file(), "{recording}");
    shoot(a, "9-done").await;
    recording
}

/// The export for a solicitor, and the check of the recording now.
async fn export_and_check(a: &Client) {
    // Export for a solicitor: one zip with the recording, the evidence and the report.
    let zip = js(
        a,
        "(async () => { const r = await fetch(document.getElementById('export').href); const b = new Uint8Array(await r.arrayBuffer()); return [r.status, r.headers.get('content-type'), String.fromCharCode(...b.slice(0, 2)), new TextDecoder('latin1').decode(b)]; })()",
    )
    .await;
    assert_eq!(zip[0], json!(200), "{}", zip[1]);
    assert_eq!(zip[1], json!("application/zip"));
    assert_eq!(zip[2], json!("PK"));
    let body = zip[3].as_str().unwrap_or("");
    for name in ["recording.opus", "evidence.log", "report.txt", "report.html", "README.txt"] {
        assert!(body.contains(name), "the export holds {name}");
    }

    // Check it now: complete and unaltered.
    click(a, "check-now").await;
    report_says_complete(a).await;
    assert!(text(a, "report").await.contains("Sam, social worker"));
    shoot(a, "10-check").await;
}

/// Past meetings; then B's recording checked against A's log, both chosen by the person.
async fn meetings_and_chosen_files(a: &Client, d: &Path, recording: &str) {
    // Past meetings lists it; Quit closes the app and says so.
    click(a, "back-from-check").await;
    click(a, "home").await;
    screen_is(a, "ready").await;
    click(a, "show-meetings").await;
    screen_is(a, "meetings").await;
    let listed = text(a, "meeting-list").await;
    assert!(
        listed.contains("with Sam, social worker (") && listed.contains("finished"),
        "{listed}"
    );
    shoot(a, "11-meetings").await;
    click(a, "back").await;

    // Check a recording the person chooses: B's, against A's evidence log.
    click(a, "show-check-files").await;
    screen_is(a, "check_files").await;
    shoot(a, "12-check-files").await;
    let (_, rec_b, _) = common::session_files(&d.join("out-B"));
    let log_a = Path::new(&recording).with_file_name("evidence.log");
    let pick = |id: &'static str, path: PathBuf| async move {
        let input = a.find(Locator::Id(id)).await.expect("file input");
        input.send_keys(&path.display().to_string()).await.expect("choose file");
    };
    pick("file-recording", rec_b).await;
    pick("file-evidence", log_a.clone()).await;
    // And A's recording beside it: the two are compared by their sound too.
    pick("file-other", PathBuf::from(recording)).await;
    click(a, "check-files").await;
    report_says_complete(a).await;
    let report = text(a, "report").await;
    assert!(report.contains("Acoustic cross-check of two recordings"), "{report}");
    assert!(!report.contains("/tmp/"), "files are named as given, not by a temporary folder");
    // The court's page of this check, ready to save: the comparison and all three files.
    let court = js(a, "[court, document.getElementById('save-court').hidden]").await;
    let page = court[0].as_str().unwrap_or_default();
    assert!(page.starts_with("<!doctype html>"), "{page:.200}");
    assert!(page.contains("Same room, same sound"), "the comparison is in the court's page");
    for name in ["recording-recording.opus", "evidence-1-evidence.log", "other-recording.opus"] {
        assert!(page.contains(name), "the court's page lists {name}");
    }
    assert_eq!(court[1], json!(false), "the save button shows");
    shoot(a, "12b-check-compared").await;
    click(a, "save-court").await;
    click(a, "back-from-check").await;

    // The wrong file as the other recording (a log): the check stands and says so.
    click(a, "show-check-files").await;
    pick("file-other", log_a.clone()).await;
    click(a, "check-files").await;
    report_says_complete(a).await;
    let verdict = text(a, "check-verdict").await;
    assert!(
        verdict.contains("The other recording could not be compared")
            && verdict.contains("other-evidence.log")
            && verdict.contains("is not a readable recording"),
        "{verdict}"
    );
    click(a, "back-from-check").await;
}

/// The check's report on the page says complete and unaltered.
async fn report_says_complete(a: &Client) {
    until(a, "document.getElementById('report').textContent.length > 0", "the report").await;
    let verdict = text(a, "check-verdict").await;
    assert!(
        verdict.starts_with("Complete and unaltered"),
        "{verdict}\n{}",
        text(a, "report").await
    );
}

/// Quit on the page: it says so, and the app's process ends cleanly.
async fn quit(c: &Client, mut app: AppProcess) {
    click(c, "quit").await;
    screen_is(c, "closed").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = app.child.0.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "the app did not end after Quit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apps_in_a_browser_pair_record_stop_and_check() {
    let pulse = pulse::Pulse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let (_driver, driver) = browser::chromedriver();
    let a_addr = common::free_addr();
    let app_a = start_app(&pulse, d, "A", &a_addr);
    let app_b = start_app(&pulse, d, "B", &common::free_addr());
    // Someone speaks in the room, into the virtual microphone both apps hear.
    let speech = d.join("speech.wav");
    common::speak(
        &speech,
        "We are meeting today about the plan for the children. Everyone here agrees to the recording.",
    );
    let _speaker = Killed(
        pulse
            .cmd("sh")
            .arg("-c")
            .arg(format!("while true; do paplay '{}'; sleep 0.5; done", speech.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("paplay"),
    );

    let a = browser::browser(&driver, &["--window-size=1200,900"]).await;
    let b = browser::browser(&driver, &["--window-size=1200,900"]).await;
    first_run(&a, &app_a.url, "Parent").await;
    first_run(&b, &app_b.url, "Sam, social worker").await;

    ready_screen(&a).await;
    mismatch_then_record(&a, &b, &a_addr).await;
    link_lost_and_back(&a, app_b.child.0.id()).await;
    let recording = stop_with_confirmation(&a, &b).await;
    export_and_check(&a).await;
    meetings_and_chosen_files(&a, d, &recording).await;
    quit(&a, app_a).await;
    quit(&b, app_b).await;
    shoot(&a, "13-closed").await;
    let _ = a.close().await;
    let _ = b.close().await;
}
