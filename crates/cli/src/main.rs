//! `dualrec`: peer-to-peer synchronised dual recording.
//!
//! This binary is the edge: it turns typed errors from the library crates into messages
//! a person understands, with exit codes scripts can rely on.

#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

mod app;
mod compare_cmd;
mod court;
mod demo;
mod excerpt_cmd;
mod export;
mod list_cmd;
mod live;
mod record_cmd;
mod recover_cmd;
mod report;
mod verify_cmd;
mod words;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use dualrec_proof::{Identity, LogRecord, read_log};

/// Record a meeting on two devices that witness each other, and check recordings later.
#[derive(Debug, Parser)]
#[command(name = "dualrec", version = VERSION, about, long_about = None)]
struct Cli {
    /// Where this device keeps its identity key and settings.
    #[arg(long, global = true, env = "DUALREC_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Write a log for support to dualrec.log in the data folder (RUST_LOG chooses what;
    /// -vv logs the network too).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Without one: the app, on a machine with a desktop; this help otherwise.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create (the first time) or show this device's identity.
    Id {
        /// The name the other person will see.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the audio inputs this device can record from, and the devices it remembers.
    Devices,
    /// Record a meeting with the other device: find it, pair, record, witness each other.
    Record {
        /// The name the other person sees (default: the one set with `dualrec id --name`).
        #[arg(long)]
        name: Option<String>,
        /// Where sessions are written: OUT/<session-id>/recording.opus and evidence.log
        /// (default: the folder "dualrec recordings" in your home folder).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The audio input by id (see `dualrec devices`); default: the default input.
        #[arg(long, value_name = "DEVICE", conflicts_with = "input_file")]
        input: Option<String>,
        /// Record a WAV file instead of a microphone (paced in real time).
        #[arg(long, value_name = "WAV")]
        input_file: Option<PathBuf>,
        /// Stop after this long (e.g. 90s, 45m, 1h30m).
        #[arg(long, value_name = "DUR", value_parser = record_cmd::parse_duration)]
        duration: Option<std::time::Duration>,
        /// Listen on this address (host:port or multiaddr) for the other device.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Connect to the other device at this address instead of finding it by mDNS.
        #[arg(long, value_name = "ADDR")]
        connect: Option<String>,
        /// Accept the pairing code without a person checking it (scripts and tests).
        #[arg(long)]
        yes: bool,
        /// Record with this device only, by its name or fingerprint (see `dualrec devices`).
        /// Without it a person chooses; `--yes` alone takes a device only when it is the
        /// only one that answers.
        #[arg(long, value_name = "NAME|FINGERPRINT")]
        with: Option<String>,
    },
    /// Forget a remembered device: it must be paired again, with the code, next time.
    Forget {
        /// Its name or fingerprint, as `dualrec devices` lists it.
        device: String,
    },
    /// Check a recording against evidence logs, on three axes: integrity, witnessing,
    /// completeness. Exit 0: all three hold; 1: one does not, or a problem was found; 2:
    /// an input cannot be read; 64: the command line is wrong.
    Verify {
        /// The recording (recording.opus).
        recording: PathBuf,
        /// An evidence log, either party's; repeat for both.
        #[arg(long = "evidence", value_name = "LOG", required = true)]
        evidence: Vec<PathBuf>,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
        /// Also write the report for a court as one self-contained HTML file (a timeline,
        /// every problem, the files' SHA-256, how it was checked; prints on A4).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Put the recording inside the HTML report, so that any second of the timeline
        /// plays in place.
        #[arg(long, requires = "html")]
        embed_audio: bool,
        /// Treat the recording as an excerpt even though it does not say so (one cut by
        /// another tool): seconds outside it are not missing. Excerpts made by `dualrec
        /// excerpt` are recognised without this.
        #[arg(long)]
        excerpt: bool,
        /// A party the session must have, as NAME=FINGERPRINT (from `dualrec id` on that
        /// device); repeat for each. Any other key is then a problem.
        #[arg(long, value_name = "NAME=FINGERPRINT", value_parser = verify_cmd::parse_expect)]
        expect: Vec<dualrec_proof::ExpectedParty>,
        /// The other party's recording of the same meeting: also check, second by second,
        /// that both hold the same sound (as `dualrec compare`; with --json, under "other").
        #[arg(long, value_name = "RECORDING")]
        other: Option<PathBuf>,
    },
    /// Check that two recordings of one meeting hold the same sound, second by second (the
    /// acoustic cross-check). Exit 0: no second differs; 1: some do (named); 2: a recording
    /// cannot be read.
    Compare {
        /// One party's recording.
        a: PathBuf,
        /// The other party's recording of the same meeting.
        b: PathBuf,
        /// Print every second as JSON.
        #[arg(long)]
        json: bool,
        /// An evidence log (either party's; repeat for both): each recording is verified
        /// against the logs too, and the answer says so.
        #[arg(long = "evidence", value_name = "LOG")]
        evidence: Vec<PathBuf>,
        /// Also write the comparison as a self-contained HTML page with a timeline.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Finish a session that a crash or power loss interrupted, so it can be verified.
    /// The recording as the crash left it is kept unchanged beside the finished one.
    Recover {
        /// The session's folder (OUT/<session-id>, holding recording.opus and evidence.log).
        dir: PathBuf,
    },
    /// Print what an evidence log holds, record by record.
    Inspect {
        /// The evidence log (evidence.log).
        log: PathBuf,
    },
    /// Open the app: dualrec's interface in your web browser, on this computer only.
    App {
        /// Do not open a browser; only print the address (scripts, tests).
        #[arg(long)]
        no_open: bool,
        /// The port on 127.0.0.1 (default: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Where recordings go (default: the folder "dualrec recordings" in your documents).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Listen on this address (host:port or multiaddr) for the other device.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Record a WAV file instead of the microphone (paced in real time).
        #[arg(long, value_name = "WAV")]
        input_file: Option<PathBuf>,
    },
    /// Put a meeting into one zip file for a solicitor: the recording, the evidence, the
    /// check's report, and a note on how to check them again.
    Export {
        /// The meeting's folder (as `dualrec list` shows it).
        dir: PathBuf,
        /// Where to write the zip (default: "dualrec <meeting>.zip" in this folder).
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Cut a stretch of a recording into a file of its own (standard Ogg Opus) that anyone
    /// can check against the evidence logs without the rest of the recording.
    Excerpt {
        /// The recording to cut from (recording.opus).
        recording: PathBuf,
        /// Where the excerpt starts, in recording time: 75, 1:15 or 1:01:15.5.
        #[arg(long, value_name = "TIME", value_parser = excerpt_cmd::parse_time)]
        from: u64,
        /// Where it ends, in recording time.
        #[arg(long, value_name = "TIME", value_parser = excerpt_cmd::parse_time)]
        to: u64,
        /// The excerpt file to write.
        #[arg(short = 'o', long = "out", value_name = "OUT.opus")]
        out: PathBuf,
        /// Replace OUT.opus if it exists.
        #[arg(long)]
        force: bool,
    },
    /// List the meetings recorded on this device: when, with whom, how long, and whether
    /// each finished.
    List {
        /// The recordings folder (default: where `record` puts them).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print a shell completion script (e.g. `dualrec completions bash >
    /// /etc/bash_completion.d/dualrec`).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), e.g. `dualrec man > dualrec.1`.
    Man,
    /// Show the evidence core at work on two simulated devices (no sound card, no network).
    Demo {
        /// Keep the demo's files in this folder instead of a temporary one.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
}

/// Whether a person sits at a desktop that can show a browser.
fn has_desktop() -> bool {
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    cfg!(any(windows, target_os = "macos")) || set("DISPLAY") || set("WAYLAND_DISPLAY")
}

/// The version, with the evidence format it writes and the build it came from.
pub(crate) const VERSION: &str =
    concat!(env!("CARGO_PKG_VERSION"), " (evidence format 1, build ", env!("DUALREC_BUILD"), ")");

/// Where recordings go unless told: one folder in the person's documents folder (their
/// home folder where the platform names none), the same whatever folder the terminal is in.
fn recordings_dir() -> anyhow::Result<PathBuf> {
    let dirs = directories::UserDirs::new().context("no home folder is known; use --out")?;
    let base = dirs.document_dir().unwrap_or(dirs.home_dir());
    Ok(base.join("dualrec recordings"))
}

/// The platform's per-user data folder for dualrec (`~/.local/share/dualrec` on Linux).
fn data_dir(cli: &Cli) -> anyhow::Result<PathBuf> {
    if let Some(d) = &cli.data_dir {
        return Ok(d.clone());
    }
    let dirs = directories::ProjectDirs::from("", "", "dualrec")
        .context("no home folder is known; use --data-dir")?;
    Ok(dirs.data_dir().to_owned())
}

/// With `-v` or `RUST_LOG`, a log for support in the data folder (private, appended);
/// never on the screen the person is reading.
fn start_log(cli: &Cli) -> anyhow::Result<()> {
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let filter = match (cli.verbose, from_env) {
        (_, Some(f)) => f,
        (0, None) => return Ok(()),
        (1, None) => "dualrec=debug,dualrec_session=debug,dualrec_net=debug".to_owned(),
        (_, None) => "debug".to_owned(),
    };
    let dir = data_dir(cli)?;
    dualrec_proof::create_private_dir_all(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("dualrec.log");
    let file = dualrec_proof::private_file()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("cannot open the log {}", path.display()))?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    eprintln!("dualrec: writing a log to {}", path.display());
    tracing::info!(version = VERSION, "started");
    Ok(())
}

/// A completion script or the manual page, generated from the command line's definition.
fn cmd_generate(command: &Command) -> anyhow::Result<()> {
    use clap::CommandFactory as _;
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut cmd, "dualrec", &mut out)
        }
        _ => clap_mangen::Man::new(cmd).render(&mut out)?,
    }
    print_out(&String::from_utf8_lossy(&out))
}

fn cmd_id(dir: &Path, name: Option<String>) -> anyhow::Result<()> {
    dualrec_proof::create_private_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let (id, created) = Identity::load_or_create(&dir.join("identity.key"))?;
    let name_file = dir.join("name");
    if let Some(n) = name {
        anyhow::ensure!(!n.is_empty() && n.len() <= 64, "a name must be 1 to 64 bytes");
        std::fs::write(&name_file, n.as_bytes())?;
    }
    let name = std::fs::read_to_string(&name_file)
        .unwrap_or_else(|_| "(no name yet: dualrec id --name NAME)".into());
    let fingerprint = id.public().fingerprint().to_string();
    let mut out = format!(
        "{} identity in {}\n  name:        {}\n  public key:  {}\n  fingerprint: {fingerprint}\n",
        if created { "Created a new" } else { "This device's" },
        dir.display(),
        report::safe(&name),
        id.public(),
    );
    out.push_str(&id_card(&name, &fingerprint));
    print_out(&out)
}

/// `text` as a QR code drawn with block characters (light on dark, as phones read it from
/// a terminal); empty if it does not fit in one.
pub(crate) fn qr_text(text: &str) -> String {
    qrcode::QrCode::new(text)
        .map(|q| {
            q.render::<qrcode::render::unicode::Dense1x2>()
                .dark_color(qrcode::render::unicode::Dense1x2::Light)
                .light_color(qrcode::render::unicode::Dense1x2::Dark)
                .build()
        })
        .unwrap_or_default()
}

/// A card a person can hand to the other party: the name (their own choice), the
/// fingerprint that identifies this device, a QR code of it, and how it is used.
fn id_card(name: &str, fingerprint: &str) -> String {
    let qr = qr_text(&format!("dualrec fingerprint {fingerprint}"));
    let name = report::safe(name);
    format!(
        "\nCard for the other party (show it, or read the fingerprint aloud):\n\n  {name}  (a name this device chose)\n  fingerprint {fingerprint}\n\n{qr}\n\n  To check later that a recording's other device was this one:\n  dualrec verify RECORDING --evidence LOG --expect \"{name}={fingerprint}\"\n"
    )
}

/// The devices paired before, from this device's trust file.
fn remembered(dir: &Path) -> anyhow::Result<dualrec_net::TrustedDevices> {
    let path = dualrec_session::trusted_devices_path(dir);
    dualrec_net::TrustedDevices::load(&path)
        .with_context(|| format!("cannot read the remembered devices in {}", path.display()))
}

fn cmd_forget(dir: &Path, device: &str) -> anyhow::Result<()> {
    let mut store = remembered(dir)?;
    let matching: Vec<_> = store
        .devices()
        .iter()
        .filter(|d| dualrec_session::names_device(device, &d.key, &d.name))
        .cloned()
        .collect();
    match matching.as_slice() {
        [] => anyhow::bail!(
            "no remembered device is called {:?}; `dualrec devices` lists them",
            device
        ),
        [d] => {
            store.forget(&d.key)?;
            print_out(&format!(
                "Forgot {} ({}): it must be paired again, with the code, next time.\n",
                report::safe(&d.name),
                d.key.fingerprint()
            ))
        }
        several => anyhow::bail!(
            "{} remembered devices match {:?}; use the fingerprint: {}",
            several.len(),
            device,
            several.iter().map(|d| d.key.fingerprint().to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn cmd_devices(dir: &Path) -> anyhow::Result<()> {
    let store = remembered(dir)?;
    if store.devices().is_empty() {
        println!(
            "No remembered devices (a device is remembered once both people confirm the code)."
        );
    } else {
        println!("Remembered devices (forget one with `dualrec forget NAME|FINGERPRINT`):");
        for d in store.devices() {
            println!("  {:<24} fingerprint {}", report::safe(&d.name), d.key.fingerprint());
        }
    }
    println!();
    let devices = dualrec_audio::list_input_devices().context("cannot list audio inputs")?;
    if devices.is_empty() {
        println!("No audio inputs found. Is a microphone connected?");
        return Ok(());
    }
    println!("Audio inputs (use the first column with `record --input`; * = default):");
    for d in devices {
        let format = d.default_format.map_or_else(
            || "not available now".to_owned(),
            |(ch, rate, fmt)| format!("{ch} ch, {rate} Hz, {fmt}"),
        );
        println!("{} {:<24} {:<22} {}", if d.is_default { "*" } else { " " }, d.id, format, d.name);
    }
    Ok(())
}

fn cmd_inspect(path: &Path) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let hidden = indicatif::ProgressBar::hidden();
    let bytes = verify_cmd::read_counted(path, verify_cmd::Input::Log, &hidden)?;
    let contents = read_log(&bytes)
        .with_context(|| format!("{} is not a readable evidence log", path.display()))?;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {} records", path.display(), contents.entries.len());
    for e in &contents.entries {
        let what = match &e.value {
            LogRecord::Start(s) => format!(
                "START session {} parties [{}] signatures {}",
                s.record.session,
                s.record
                    .parties
                    .iter()
                    .map(|p| format!("\"{}\" {}", report::safe(&p.name), p.key.fingerprint()))
                    .collect::<Vec<_>>()
                    .join(", "),
                s.signatures.len()
            ),
            LogRecord::Checkpoint(c) => format!(
                "CHECKPOINT chunk {} by {} at {} ({} packets) digest {}… {}",
                c.body.index,
                c.signer.fingerprint(),
                report::clock(c.body.first_sample),
                c.body.packet_count,
                &c.body.digest.to_hex()[..16],
                if c.verify() { "signature ok" } else { "SIGNATURE INVALID" }
            ),
            LogRecord::Receipt(r) => format!(
                "RECEIPT by {} for {}… at wall {} ms {}",
                r.signer.fingerprint(),
                &r.body.checkpoint.to_hex()[..16],
                r.body.time.wall_ms,
                if r.verify() { "signature ok" } else { "SIGNATURE INVALID" }
            ),
            LogRecord::Gap(g) => format!(
                "GAP by {}: input lost for {} ms at {}, silence recorded in its place {}",
                g.signer.fingerprint(),
                g.body.samples / 48,
                report::clock(g.body.first_sample),
                if g.verify() { "signature ok" } else { "SIGNATURE INVALID" }
            ),
            LogRecord::End(e) => format!(
                "END by {} ({:?}) signed by {} part(ies)",
                e.record.ended_by.fingerprint(),
                e.record.reason,
                e.signatures.len()
            ),
        };
        let _ = writeln!(out, "#{:<6} @{:<9} {what}", e.record, e.offset);
        if out.len() > 1 << 16 {
            print_out(&std::mem::take(&mut out))?;
        }
    }
    if let Some(t) = contents.torn_tail {
        let _ = writeln!(
            out,
            "torn tail: record {} at offset {} ({} bytes) was cut off by a crash and is not used",
            t.record, t.offset, t.bytes
        );
    }
    print_out(&out)
}

/// Exit code for a wrong command line (BSD `EX_USAGE`), apart from 2 (unreadable input).
const EXIT_USAGE: u8 = 64;

/// Writes to stdout; a reader that went away (a closed pipe) ends the program quietly.
pub(crate) fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => Ok(r?),
    }
}

/// The recordings folder: the one given, or the default.
fn out_or_default(out: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match out {
        Some(o) => Ok(o.clone()),
        None => recordings_dir(),
    }
}

/// Runs `command`. Ok(true): done / verified; Ok(false): verification found problems.
fn run(cli: &Cli, command: &Command) -> anyhow::Result<bool> {
    match command {
        Command::List { out } => {
            data_dir(cli).and_then(|d| list_cmd::run(&d, &out_or_default(out)?)).map(|()| true)
        }
        Command::App { no_open, port, out, listen, input_file } => {
            let out_dir = out_or_default(out)?;
            app::run(app::AppOptions {
                data_dir: data_dir(cli)?,
                out_dir,
                port: *port,
                open_browser: !no_open,
                listen: listen.clone(),
                input_file: input_file.clone(),
            })
            .map(|()| true)
        }
        Command::Compare { a, b, json, evidence, html } => {
            let asked = compare_cmd::Asked { json: *json, html: html.as_deref(), evidence };
            compare_cmd::run(a, b, &asked)
        }
        Command::Export { dir, to } => export::run(dir, to.as_deref()).and_then(|path| {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            print_out(&format!("Exported to {}\n", report::safe(&path.display().to_string())))
                .map(|()| true)
        }),
        Command::Excerpt { recording, from, to, out, force } => {
            excerpt_cmd::run(recording, (*from, *to), out, *force)
                .and_then(|words| print_out(&words))
                .map(|()| true)
        }
        Command::Completions { .. } | Command::Man => cmd_generate(command).map(|()| true),
        Command::Id { name } => data_dir(cli).and_then(|d| cmd_id(&d, name.clone())).map(|()| true),
        Command::Devices => data_dir(cli).and_then(|d| cmd_devices(&d)).map(|()| true),
        Command::Inspect { log } => cmd_inspect(log).map(|()| true),
        Command::Recover { dir } => {
            data_dir(cli).and_then(|d| recover_cmd::run(&d, dir)).map(|()| true)
        }
        Command::Demo { keep } => demo::run(keep.as_deref()).map(|()| true),
        Command::Forget { device } => {
            data_dir(cli).and_then(|d| cmd_forget(&d, device)).map(|()| true)
        }
        Command::Record { name, out, input, input_file, duration, listen, connect, yes, with } => {
            let data = data_dir(cli)?;
            let args = record_cmd::RecordArgs {
                name: name.clone(),
                out: out_or_default(out)?,
                input: input.clone(),
                input_file: input_file.clone(),
                duration: *duration,
                listen: listen.clone(),
                connect: connect.clone(),
                yes: *yes,
                with: with.clone(),
            };
            record_cmd::run(data, args).map(|()| true)
        }
        Command::Verify {
            recording,
            evidence,
            json,
            html,
            embed_audio,
            excerpt,
            expect,
            other,
        } => {
            let options = dualrec_proof::VerifyOptions {
                excerpt: *excerpt,
                expect: expect.clone(),
                ..dualrec_proof::VerifyOptions::default()
            };
            let out = verify_cmd::Outputs {
                json: *json,
                html: html.as_deref(),
                embed_audio: *embed_audio,
                other: other.as_deref(),
            };
            verify_cmd::run(recording, evidence, &out, options)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Err(e) = start_log(&cli) {
        eprintln!("dualrec: {e:#}");
        return ExitCode::from(2);
    }
    let default_app;
    let command = match &cli.command {
        Some(c) => c,
        None if has_desktop() => {
            default_app =
                Command::App { no_open: false, port: 0, out: None, listen: None, input_file: None };
            &default_app
        }
        None => {
            use clap::CommandFactory as _;
            let _ = Cli::command().print_help();
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = run(&cli, command);
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("dualrec: {e:#}");
            ExitCode::from(2)
        }
    }
}
