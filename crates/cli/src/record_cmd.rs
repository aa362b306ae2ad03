//! `dualrec record`: one session, with plain timestamped lines for the person.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use dualrec_proof::Identity;
use dualrec_session::{Input, SessionConfig};

/// `90`, `90s`, `5m`, `1h30m`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| format!("not a duration: {s:?}"))?;
        num.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(format!("not a duration: {s:?} (use e.g. 90s, 5m, 1h30m)")),
        };
    }
    if !num.is_empty() {
        total += num.parse::<u64>().map_err(|_| format!("not a duration: {s:?}"))?;
    }
    if total == 0 {
        return Err("the duration must be more than zero".into());
    }
    Ok(Duration::from_secs(total))
}

pub(crate) struct RecordArgs {
    pub(crate) name: Option<String>,
    pub(crate) out: PathBuf,
    pub(crate) input: Option<String>,
    pub(crate) input_file: Option<PathBuf>,
    pub(crate) duration: Option<Duration>,
    pub(crate) listen: Option<String>,
    pub(crate) connect: Option<String>,
    pub(crate) yes: bool,
    pub(crate) with: Option<String>,
}

/// Whether a listen address is a loopback one (`127.x`, `::1`, `localhost`).
pub(crate) fn is_loopback(addr: &str) -> bool {
    addr.contains("127.0.0.")
        || addr.contains("/ip6/::1/")
        || addr.starts_with("[::1]")
        || addr.starts_with("localhost")
}

fn ask_yes_no(question: &str, default_yes: bool) -> bool {
    use std::io::Write as _;
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return false;
    }
    match line.trim() {
        "" => default_yes,
        a => matches!(a, "y" | "Y" | "yes" | "Yes"),
    }
}

/// A session this device left unfinished (a crash, a power cut) and could not rejoin is
/// finished alone, with the person's consent (`--yes` consents).
fn offer_recovery(identity: &Identity, dir: &std::path::Path, yes: bool) {
    if !yes
        && !ask_yes_no(
            "Finish it now so it can be verified? Nothing recorded is changed. [Y/n] ",
            true,
        )
    {
        println!("Left as it is; `dualrec recover {}` finishes it later.", dir.display());
        return;
    }
    if let Err(e) = crate::recover_cmd::recover_one(identity, dir) {
        println!("Could not finish it ({e:#}); it is left as it is.");
    }
}

/// The name the other person sees: saved from the first run; asked then when a person is
/// at the terminal.
fn device_name(data_dir: &std::path::Path) -> String {
    use std::io::IsTerminal as _;
    let path = data_dir.join("name");
    if let Ok(saved) = std::fs::read_to_string(&path)
        && !saved.trim().is_empty()
    {
        return saved.trim().to_owned();
    }
    if !std::io::stdin().is_terminal() {
        return "dualrec device".into();
    }
    use std::io::Write as _;
    print!("What name should the other person see for this device (e.g. your name and role)? ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    let name: String = line.trim().chars().filter(|c| !c.is_control()).take(64).collect();
    if name.is_empty() {
        return "dualrec device".into();
    }
    let saved = dualrec_proof::private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .and_then(|mut f| f.write_all(name.as_bytes()));
    if saved.is_ok() {
        println!("Saved; change it any time with --name.");
    }
    name
}

pub(crate) fn run(data_dir: PathBuf, args: RecordArgs) -> anyhow::Result<()> {
    dualrec_proof::create_private_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let id_path = dualrec_session::identity_path(&data_dir);
    let (identity, _) = Identity::load_or_create(&id_path)?;
    let name = match args.name.clone() {
        Some(n) => n,
        None => device_name(&data_dir),
    };
    let config = session_config(name, data_dir, &args);
    let rt = tokio::runtime::Runtime::new()?;
    // A meeting this device left in the middle (a crash, a power cut): rejoined if the
    // other device is still in it, else finished alone.
    for dir in dualrec_session::unfinished_sessions(&args.out, &identity) {
        println!("This device stopped in the middle of a meeting ({}).", dir.display());
        let again = args.yes
            || ask_yes_no("Rejoin it now, if the other device is still recording? [Y/n] ", true);
        if again {
            let me = Identity::load(&id_path)?;
            let rejoined = rt.block_on(with_view(|status, stop| {
                dualrec_session::rejoin(me, config.clone(), &dir, status, stop)
            }));
            match rejoined {
                Ok(Some(o)) => return summary(&o),
                Ok(None) => println!("The other device did not come back to the meeting."),
                Err(e) => println!("It could not be rejoined ({e})."),
            }
        }
        offer_recovery(&identity, &dir, args.yes);
    }
    let outcome = rt.block_on(with_view(|status, stop| {
        let ask: dualrec_session::Ask =
            std::sync::Arc::new(|q| ask_yes_no(&crate::words::question(&q), false));
        dualrec_session::run(identity, config, ask, status, stop)
    }));
    // A question may still wait for a line on stdin (Ctrl-C while it was asked): the
    // program ends without waiting for that answer.
    rt.shutdown_background();
    match outcome {
        Err(dualrec_session::SessionError::Cancelled) => {
            println!("\nStopped before the meeting began. Nothing was recorded.");
            Ok(())
        }
        // One plain sentence with the next step, printed once.
        Err(e) => match crate::words::session_error(&e) {
            Some(sentence) => anyhow::bail!("{sentence}"),
            None => Err(e.into()),
        },
        Ok(o) => summary(&o),
    }
}

pub(crate) fn session_config(name: String, data_dir: PathBuf, args: &RecordArgs) -> SessionConfig {
    let input = match (&args.input_file, &args.input) {
        (Some(f), _) => Input::Wav(f.clone()),
        (None, dev) => Input::Microphone(dev.clone()),
    };
    let port = dualrec_net::DEFAULT_PORT;
    let listen =
        args.listen.clone().map(|l| vec![l]).unwrap_or_else(|| {
            vec![format!("/ip4/0.0.0.0/tcp/{port}"), format!("/ip6/::/tcp/{port}")]
        });
    // No announcing when the other device's address is typed, or when listening on
    // loopback only (tests, and nothing could find it anyway).
    let mdns = args.connect.is_none() && !listen.iter().all(|l| is_loopback(l));
    SessionConfig {
        name,
        data_dir,
        out_dir: args.out.clone(),
        input,
        duration: args.duration,
        listen,
        connect: args.connect.clone(),
        mdns,
        assume_yes: args.yes,
        with: args.with.clone(),
    }
}

/// Runs a session with its progress shown (live view or plain lines); every Ctrl-C asks
/// it to stop (the first stops the recording, a later one stops waiting at the end).
async fn with_view<F, T>(
    session: impl FnOnce(dualrec_session::Status, tokio::sync::mpsc::Receiver<()>) -> F,
) -> T
where
    F: std::future::Future<Output = T>,
{
    let (status_tx, status) = tokio::sync::mpsc::channel(256);
    let (stop_tx, stop_rx) = tokio::sync::mpsc::channel(1);
    let on_ctrl_c = stop_tx.clone();
    let ctrl_c = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            let _ = on_ctrl_c.try_send(());
        }
    });
    let printer = tokio::spawn(crate::live::show(status, stop_tx));
    let outcome = session(status_tx, stop_rx).await;
    let _ = printer.await;
    ctrl_c.abort();
    outcome
}

/// What a finished session produced, with absolute paths and what to do next.
fn summary(o: &dualrec_session::SessionOutcome) -> anyhow::Result<()> {
    println!(
        "done: {} chunks recorded, {} witnessed by the other device, {} of theirs witnessed here; end signed by {}",
        o.chunks,
        o.witnessed,
        o.peer_chunks,
        if o.ended_together { "both devices" } else { "this device only" }
    );
    let full = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let (recording, evidence) = (full(&o.recording), full(&o.evidence));
    println!("recording: {}", recording.display());
    println!("evidence:  {}", evidence.display());
    println!(
        "To check it: dualrec verify {} --evidence <the other device's evidence.log>",
        recording.display()
    );
    println!(
        "Keep both files. The other device has its own recording and evidence of this meeting."
    );
    Ok(())
}
