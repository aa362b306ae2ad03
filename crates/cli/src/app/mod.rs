//! `dualrec app`: the interface for the people who record, served to a browser on this
//! machine only. One binary: the session core runs here, the page shows its typed events.
//!
//! Who may talk to it: a request must come from this machine (the server listens on
//! 127.0.0.1), name this server in `Host` (no DNS rebinding), carry no foreign `Origin`
//! (no other web page), and hold the per-launch secret, which the URL printed at start
//! hands to the browser once and is then kept in a same-site, HTTP-only cookie.

mod guard;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::routing::{get, post};

pub(crate) use state::App;

/// How the app was started.
#[derive(Debug)]
pub(crate) struct AppOptions {
    pub(crate) data_dir: PathBuf,
    pub(crate) out_dir: PathBuf,
    /// 0: any free port.
    pub(crate) port: u16,
    pub(crate) open_browser: bool,
    /// Where the session listens for the other device (default: all interfaces).
    pub(crate) listen: Option<String>,
    /// A WAV file instead of the microphone (scripts, tests).
    pub(crate) input_file: Option<PathBuf>,
}

/// A fresh secret for this launch: 32 random bytes, hex.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// One app per data folder: the lock is held until the process ends.
fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    dualrec_proof::create_private_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("app.lock");
    let file = dualrec_proof::private_file()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "dualrec is already open for this device (another `dualrec app` uses {}); use that window, or quit it first",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(state::page))
        .route("/open", get(state::page))
        .route("/app.js", get(state::script))
        .route("/app.css", get(state::style))
        .route("/events", get(state::events))
        .route("/api/name", post(state::set_name))
        .route("/api/find", post(state::find))
        .route("/api/input", post(state::choose_input))
        .route("/api/answer", post(state::answer))
        .route("/api/cancel", post(state::cancel))
        .route("/api/stop", post(state::stop))
        .route("/api/check", post(state::check))
        .route(
            "/api/check-files",
            post(state::check_upload)
                .layer(axum::extract::DefaultBodyLimit::max(state::MAX_UPLOAD)),
        )
        .route("/api/meetings", get(state::meetings))
        .route("/api/export", get(state::export))
        .route("/api/finish", post(state::finish))
        .route("/api/home", post(state::home))
        .route("/api/quit", post(state::quit))
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard::guard))
        .with_state(app)
}

/// Serves the app until the person quits it.
pub(crate) fn run(options: AppOptions) -> anyhow::Result<()> {
    let _lock = lock_data_dir(&options.data_dir)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(serve(options))
}

async fn serve(options: AppOptions) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", options.port))?;
    let port = listener.local_addr()?.port();
    let secret = new_secret();
    let url = format!("http://127.0.0.1:{port}/open?secret={secret}");
    let open_browser = options.open_browser;
    let (app, quit) = App::new(options, port, secret)?;
    // The first line on stdout, for scripts; the person's browser gets it directly. A
    // script may read that line and close the pipe: the app goes on.
    say(&url);
    if open_browser && webbrowser::open(&url).is_err() {
        say("Open the address above in a web browser on this computer.");
    }
    say("dualrec is open in your browser. To quit: the Quit button there, or Ctrl-C here.");
    let service = router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let closing = app.clone();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = quit => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            // A meeting in progress is stopped (and ended with the other device) first;
            // open pages are told, and their event streams end.
            closing.shut_down().await;
        })
        .await?;
    say("dualrec: closed.");
    Ok(())
}

/// A line on stdout; nobody reading it is no reason to stop.
fn say(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}
