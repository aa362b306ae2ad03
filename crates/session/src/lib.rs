//! One dualrec recording session.
//!
//! This crate joins the others: it finds and pairs with the other device (`dualrec-net`),
//! agrees the co-signed start record, records (`dualrec-audio`) into the Ogg Opus file
//! (`dualrec-media`) and the evidence log (`dualrec-proof`), sends each chunk's checkpoint
//! to the peer as soon as it is made and logs the receipt that comes back, witnesses the
//! peer's checkpoints, and ends in step: both sign the end, or this side ends alone and
//! says so. The recording and the log are synced at every chunk boundary, so a crash loses
//! at most the chunk in progress.
//!
//! Every channel is bounded; the audio thread never waits for the disk or the network.

#![forbid(unsafe_code)]

mod find;
mod recover;

pub use find::{FoundDevice, names_device};
pub use recover::{Recovered, Recovery, recover, unfinished_sessions};

use find::{Choice, Finder};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dualrec_audio::{AudioEvent, EncoderConfig, Pacing, Recorder};
use dualrec_media::{OpusHead, OpusTags, RecordingWriter};
use dualrec_net::{Exchange, NodeConfig, NodeEvent, NodeHandle, Request, Response, TrustedDevices};
use dualrec_proof::{
    AudioParams, CaptureGap, ChainState, Checkpoint, ChunkDigester, CoSigned, EndReason, EndRecord,
    EvidenceLog, Identity, LogRecord, Party, PartyFinal, PublicKey, SessionId, Signed, StartRecord,
    Timestamp,
};
use tokio::sync::mpsc;

/// Where the audio comes from.
#[derive(Clone, Debug)]
pub enum Input {
    /// A microphone by id, or the default one.
    Microphone(Option<String>),
    /// A WAV file, paced like a microphone.
    Wav(PathBuf),
    /// A WAV file read as fast as it encodes (benchmarks, tests): hours in minutes.
    WavFullSpeed(PathBuf),
}

/// Everything a session needs to know.
#[derive(Debug)]
pub struct SessionConfig {
    pub name: String,
    pub data_dir: PathBuf,
    pub out_dir: PathBuf,
    pub input: Input,
    pub duration: Option<Duration>,
    pub listen: Vec<String>,
    pub connect: Option<String>,
    pub mdns: bool,
    /// Accept the pairing code and the proposal without asking a person.
    pub assume_yes: bool,
    /// The device to record with, by name or fingerprint (scripts; without it a person
    /// chooses, and `assume_yes` takes a device only if it is the only one found).
    pub with: Option<String>,
}

/// What a finished session produced.
#[derive(Debug, Clone)]
pub struct SessionOutcome {
    pub session: SessionId,
    pub dir: PathBuf,
    pub recording: PathBuf,
    pub evidence: PathBuf,
    pub chunks: u64,
    pub witnessed: u64,
    pub peer_chunks: u64,
    /// The end was signed by both devices.
    pub ended_together: bool,
}

/// Why a session could not run or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("network: {0}")]
    Net(#[from] dualrec_net::NetError),
    #[error("audio: {0}")]
    Audio(#[from] dualrec_audio::AudioError),
    #[error("recording file: {0}")]
    Media(#[from] dualrec_media::MediaError),
    #[error("evidence log: {0}")]
    Log(#[from] dualrec_proof::LogError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Protocol(String),
    #[error("{dir} is not a session this device can finish: {detail}")]
    NotASession { dir: PathBuf, detail: String },
    #[error(
        "the disk is full or failing ({detail}). Recording stopped; everything recorded until \
         then is kept in {dir}. Free some space, then run `dualrec recover {dir}` to finish it"
    )]
    StorageFailed { dir: PathBuf, detail: String },
    #[error(
        "only {free_kib} KiB free where the recording would go ({dir}); a minute of \
         recording needs about {per_minute_kib} KiB. Free some space first"
    )]
    NoSpace { dir: PathBuf, free_kib: u64, per_minute_kib: u64 },
    #[error("several devices answered ({}): choose one with --with NAME or --with FINGERPRINT", .found.iter().map(|(n, f)| format!("{n} {f}")).collect::<Vec<_>>().join(", "))]
    SeveralDevices { found: Vec<(String, String)> },
    /// Stopped by the person before the meeting began: nothing was recorded.
    #[error("stopped before the meeting began; nothing was recorded")]
    Cancelled,
}

impl SessionError {
    /// The disk refused a write (full, read-only, failing).
    fn is_storage(&self) -> bool {
        matches!(
            self,
            SessionError::Io(_)
                | SessionError::Log(dualrec_proof::LogError::Io { .. })
                | SessionError::Media(dualrec_media::MediaError::Io { .. })
        )
    }
}

/// Bytes a minute of recording takes on disk: Opus at 32 kbit/s with its pages, and the
/// evidence log (both devices' checkpoints and receipts).
const BYTES_PER_MINUTE: u64 = 60 * (4_400 + 1_100);

/// Free bytes for an unprivileged writer on the file system holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// What a running session reports, for a live view or plain lines.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// Something happened, in words for the person.
    Note(String),
    /// Something the person should look at now.
    Warning(String),
    /// The pairing code both screens show.
    PairingCode(String),
    /// The other device, once found.
    Peer { name: String, fingerprint: String },
    /// The link to the other device went down or came back.
    Link { up: bool },
    /// Recording has started into this folder.
    Recording { dir: PathBuf },
    /// Peak input level (0.0 to 1.0) over the last 100 ms.
    Level(f32),
    /// Chunks (seconds) of this recording committed to the evidence log.
    Committed(u64),
    /// Chunks of this recording the other device has receipted.
    Witnessed(u64),
    /// Chunks of the other device's recording witnessed here.
    PeerWitnessed(u64),
}

/// Where a session sends its [`Progress`]. Notes and warnings wait for room; the
/// frequent updates are dropped when the receiver is behind, so a slow screen never
/// holds up the recording.
pub type Status = mpsc::Sender<Progress>;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Asks the person (or not, with `assume_yes`).
pub type Ask = std::sync::Arc<dyn Fn(String) -> bool + Send + Sync>;

struct Clock {
    t0: Instant,
}

impl Clock {
    fn now(&self) -> Timestamp {
        Timestamp { wall_ms: now(), mono_ms: self.t0.elapsed().as_millis() as u64 }
    }
}

async fn say(status: &Status, line: String) {
    let _ = status.send(Progress::Note(line)).await;
}

async fn warn(status: &Status, line: String) {
    let _ = status.send(Progress::Warning(line)).await;
}

/// For frequent updates: dropped rather than waited for.
fn update(status: &Status, p: Progress) {
    let _ = status.try_send(p);
}

async fn ask_person(ask: &Ask, question: String) -> bool {
    let a = ask.clone();
    tokio::task::spawn_blocking(move || a(question)).await.unwrap_or(false)
}

/// Waits until the person (or `--with`) has chosen a device and it is confirmed:
/// remembered before, or paired now with both people comparing the code.
async fn find_peer(
    config: &SessionConfig,
    node: &NodeHandle,
    events: &mut mpsc::Receiver<NodeEvent>,
    ask: &Ask,
    status: &Status,
) -> Result<(PublicKey, String), SessionError> {
    let mut finder = Finder::new(config.with.clone(), config.assume_yes);
    let stopped = || SessionError::Protocol("network stopped".into());
    let mut hint_at = Some(tokio::time::Instant::now() + NOTHING_FOUND_HINT_AFTER);
    loop {
        let due = finder.due().map(tokio::time::Instant::from_std);
        let ev = tokio::select! {
            ev = events.recv() => ev.ok_or_else(stopped)?,
            _ = tokio::time::sleep_until(hint_at.unwrap_or_else(tokio::time::Instant::now)), if hint_at.is_some() => {
                hint_at = None;
                if finder.found().is_empty() {
                    warn(status, nothing_found_hint(finder.addresses())).await;
                }
                continue;
            }
            _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => {
                let device = finder.decide().map_err(|found| SessionError::SeveralDevices {
                    found: found.into_iter().map(|d| (d.name, d.key.fingerprint().to_string())).collect(),
                })?;
                finder.choose(device.key);
                if device.remembered {
                    return Ok((device.key, device.name));
                }
                // Exactly one side starts pairing: the one that opened the connection.
                if device.we_dialed {
                    start_pairing(node, &device, status).await?;
                }
                continue;
            }
        };
        if let Some(found) = on_find_event(ev, &mut finder, node, ask, status, config).await? {
            return Ok(found);
        }
    }
}

/// After this long with no device found, the person is told what may be wrong.
const NOTHING_FOUND_HINT_AFTER: Duration = Duration::from_secs(15);

fn nothing_found_hint(addresses: &[String]) -> String {
    let type_it = match addresses {
        [] => String::new(),
        a => format!(" Or, on the other device, type this device's address: {}.", a.join(" or ")),
    };
    format!(
        "no other device found yet. Both devices must be on the same network; guest Wi-Fi and \
         some office networks keep devices apart.{type_it}"
    )
}

async fn start_pairing(
    node: &NodeHandle,
    d: &FoundDevice,
    status: &Status,
) -> Result<(), SessionError> {
    say(status, format!("pairing with {} ({})", d.name, d.key.fingerprint())).await;
    node.pair(d.key).await?;
    Ok(())
}

/// One network event while looking for the other device; the device once it is chosen
/// and confirmed.
async fn on_find_event(
    ev: NodeEvent,
    finder: &mut Finder,
    node: &NodeHandle,
    ask: &Ask,
    status: &Status,
    config: &SessionConfig,
) -> Result<Option<(PublicKey, String)>, SessionError> {
    match ev {
        NodeEvent::Listening(a) => {
            let where_ = (dualrec_net::typeable(&a), dualrec_net::ip_port(&a));
            announce_listening(where_, finder, status).await
        }
        NodeEvent::Connected { peer, name, trusted, we_dialed } => {
            let device = FoundDevice { key: peer, name, remembered: trusted, we_dialed };
            return on_connected(device, finder, node, ask, status).await;
        }
        NodeEvent::PairingCode { peer, code } => {
            let ok = answer_code(peer, &code.to_string(), finder, ask, status, config).await;
            if ok {
                finder.choose(peer);
            }
            node.confirm(peer, ok).await?;
        }
        NodeEvent::Paired { peer, name } if finder.chosen() == Some(peer) => {
            say(status, format!("paired with {name}")).await;
            return Ok(Some((peer, name)));
        }
        NodeEvent::PairingFailed { peer, reason } if finder.chosen() == Some(peer) => {
            let name = finder.name_of(&peer);
            if config.assume_yes || config.with.is_some() {
                return Err(SessionError::Protocol(format!(
                    "pairing with {name} failed: {reason}"
                )));
            }
            warn(status, format!("pairing with {name} did not complete ({reason}); still looking"))
                .await;
            finder.unchoose();
        }
        _ => {}
    }
    Ok(None)
}

/// Tells the person this device's address, when another device could type it.
async fn announce_listening(
    (typeable, ip_port): (Option<String>, Option<(std::net::IpAddr, u16)>),
    finder: &mut Finder,
    status: &Status,
) {
    match typeable {
        Some(typed) => {
            finder.add_address(typed.clone());
            let line = format!(
                "this device's address, to type on the other one if it is not found: {typed}"
            );
            say(status, line).await
        }
        None => match ip_port {
            Some((ip, port)) if ip.is_loopback() => {
                say(status, format!("listening on {ip}:{port} (this machine only)")).await
            }
            _ => {}
        },
    }
}

/// A device answered: take it if it is (or the person makes it) the chosen one; the
/// device once it is confirmed (remembered before).
async fn on_connected(
    device: FoundDevice,
    finder: &mut Finder,
    node: &NodeHandle,
    ask: &Ask,
    status: &Status,
) -> Result<Option<(PublicKey, String)>, SessionError> {
    let (peer, name) = (device.key, device.name.clone());
    let seen = if device.remembered { "remembered" } else { "new" };
    say(status, format!("found {name} ({}, {seen})", peer.fingerprint())).await;
    let take = match finder.on_found(device.clone(), Instant::now()) {
        Choice::Take => true,
        Choice::Ask => {
            let q = format!(
                "Record this meeting with {name} (fingerprint {}, {seen})? [y/N] ",
                peer.fingerprint()
            );
            ask_person(ask, q).await
        }
        Choice::Skip | Choice::Wait => false,
    };
    if !take || finder.chosen().is_some_and(|c| c != peer) {
        return Ok(None);
    }
    finder.choose(peer);
    if device.remembered {
        return Ok(Some((peer, name)));
    }
    // Exactly one side starts pairing: the one that opened the connection.
    if device.we_dialed {
        start_pairing(node, &device, status).await?;
    }
    Ok(None)
}

/// Whether the code shown for `peer` is accepted: by `--yes` for the chosen device, never
/// for another, else by the person comparing the screens.
async fn answer_code(
    peer: PublicKey,
    code: &str,
    finder: &Finder,
    ask: &Ask,
    status: &Status,
    config: &SessionConfig,
) -> bool {
    let name = finder.name_of(&peer);
    update(status, Progress::PairingCode(code.to_owned()));
    match finder.may_pair(&peer, &name) {
        Choice::Take if config.assume_yes => {
            say(status, format!("pairing code {code} with {name} (accepted with --yes: the code was NOT checked by a person)")).await;
            true
        }
        Choice::Skip => {
            let fp = peer.fingerprint();
            say(status, format!("declined pairing with {name} ({fp}): not the chosen device"))
                .await;
            false
        }
        _ => {
            let q = format!(
                "Pairing code {code} for {name} (fingerprint {}).\nDoes {name}'s screen show the same code? [y/N] ",
                peer.fingerprint()
            );
            ask_person(ask, q).await
        }
    }
}

/// A typed address: dialled every second until the other device is up (it may start
/// later), saying so once.
fn keep_dialling(node: NodeHandle, addr: String, status: Status) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        say(&status, format!("connecting to {addr}")).await;
        let mut told = false;
        loop {
            match node.dial(&addr).await {
                Ok(()) => return,
                Err(dualrec_net::NetError::Address(a)) => {
                    warn(&status, format!("{a} is not an address this device can reach")).await;
                    return;
                }
                Err(_) if !told => {
                    told = true;
                    say(&status, format!("no answer at {addr} yet; trying again every second"))
                        .await;
                }
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// Agrees the co-signed start with the chosen device: the one with the smaller key
/// proposes, the other consents; other devices are answered "busy" meanwhile.
async fn agree_start(
    identity: &Identity,
    config: &SessionConfig,
    node: &NodeHandle,
    events: &mut mpsc::Receiver<NodeEvent>,
    peer: PublicKey,
    peer_name: &str,
    status: &Status,
) -> Result<CoSigned<StartRecord>, SessionError> {
    if identity.public() < peer {
        let record = StartRecord {
            version: StartRecord::VERSION,
            session: SessionId::random(),
            parties: vec![
                Party { key: identity.public(), name: config.name.clone() },
                Party { key: peer, name: peer_name.to_owned() },
            ],
            audio: AudioParams::default_voice(),
            started_at_ms: now(),
        };
        say(status, "proposing the session".into()).await;
        return Ok(dualrec_net::propose(node, identity, peer, record).await?);
    }
    loop {
        let ev = events.recv().await;
        match ev.ok_or_else(|| SessionError::Protocol("network stopped".into()))? {
            NodeEvent::Inbound { peer: from, request, reply } if from == peer => {
                if let Request::Propose { start, signature } = *request {
                    let (response, co) = dualrec_net::consent(identity, from, &start, &signature)?;
                    node.respond(reply, response).await?;
                    return Ok(co);
                }
                node.respond(reply, Response::Refused { reason: "no session yet".into() }).await?;
            }
            // Another remembered device: this one is busy with the chosen one.
            NodeEvent::Inbound { reply, .. } => {
                let reason = "busy: this device is recording with another device".into();
                node.respond(reply, Response::Refused { reason }).await?;
            }
            _ => {}
        }
    }
}

/// Runs one session to its end. `stop` ends it early (Ctrl-C).
pub async fn run(
    identity: Identity,
    config: SessionConfig,
    ask: Ask,
    status: Status,
    mut stop: mpsc::Receiver<()>,
) -> Result<SessionOutcome, SessionError> {
    let trusted = TrustedDevices::load(&trusted_devices_path(&config.data_dir))?;
    let node_config = NodeConfig {
        name: config.name.clone(),
        listen: config.listen.clone(),
        mdns: config.mdns,
        trusted,
        request_timeout: Duration::from_secs(3),
    };
    let (node, mut events) = dualrec_net::start(&identity, node_config)?;
    let redial =
        config.connect.clone().map(|addr| keep_dialling(node.clone(), addr, status.clone()));

    // Find the other device the person chose, and make sure it is confirmed.
    // Ctrl-C (or stop) before the meeting begins ends the program: nothing is queued to
    // fire once the other device appears.
    let found = tokio::select! {
        found = find_peer(&config, &node, &mut events, &ask, &status) => found,
        Some(()) = stop.recv() => Err(SessionError::Cancelled),
    };
    if let Some(r) = redial {
        r.abort();
    }
    let (peer, peer_name) = match found {
        Ok(found) => found,
        Err(e) => {
            node.shutdown().await;
            return Err(e);
        }
    };
    node.set_busy(Some(peer)).await?;

    let start =
        agree_start(&identity, &config, &node, &mut events, peer, &peer_name, &status).await?;
    let session = start.record.session;
    say(&status, format!("session {session} started with {peer_name}")).await;
    update(
        &status,
        Progress::Peer { name: peer_name, fingerprint: peer.fingerprint().to_string() },
    );
    update(&status, Progress::Link { up: true });
    // Session clocks start at the co-signed start on both devices (SPEC §7.2): a
    // witness's receipt times are measured from here.
    let clock = Clock { t0: Instant::now() };
    record(identity, config, start, node, events, peer, clock, status, &mut stop).await
}

#[allow(clippy::too_many_arguments)]
async fn record(
    identity: Identity,
    config: SessionConfig,
    start: CoSigned<StartRecord>,
    node: NodeHandle,
    events: mpsc::Receiver<NodeEvent>,
    peer: PublicKey,
    clock: Clock,
    status: Status,
    stop: &mut mpsc::Receiver<()>,
) -> Result<SessionOutcome, SessionError> {
    let session = start.record.session;
    std::fs::create_dir_all(&config.out_dir)?;
    if let Some(free) = free_bytes(&config.out_dir)
        && free < 3 * BYTES_PER_MINUTE
    {
        return Err(SessionError::NoSpace {
            dir: config.out_dir.clone(),
            free_kib: free / 1024,
            per_minute_kib: BYTES_PER_MINUTE / 1024,
        });
    }
    let dir = config.out_dir.join(session.to_hex());
    // The session's folder is the owner's alone, like the files in it.
    let mut folder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder.recursive(true).create(&dir)?;
    let result =
        record_in(&dir, identity, config, start, node.clone(), events, peer, clock, &status, stop)
            .await;
    match result {
        Err(e) if e.is_storage() => {
            // Keep what is on disk as it is: `recover` finishes it once there is room.
            node.shutdown().await;
            Err(SessionError::StorageFailed { dir, detail: e.to_string() })
        }
        other => other,
    }
}

#[allow(clippy::too_many_arguments)]
async fn record_in(
    dir: &Path,
    identity: Identity,
    config: SessionConfig,
    start: CoSigned<StartRecord>,
    node: NodeHandle,
    mut events: mpsc::Receiver<NodeEvent>,
    peer: PublicKey,
    clock: Clock,
    status: &Status,
    stop: &mut mpsc::Receiver<()>,
) -> Result<SessionOutcome, SessionError> {
    let session = start.record.session;
    let (rec_path, log_path) = (dir.join("recording.opus"), dir.join("evidence.log"));
    let mut log = EvidenceLog::create(&log_path)?;
    log.append_synced(&[LogRecord::Start(start.clone())])?;
    let mut w = Witness {
        peer,
        log,
        exchange: Exchange::new(&start.record, identity.public(), peer, WINDOW),
        spill_at: None,
        peer_end: None,
        link_up: true,
        clock,
    };

    let recorder = match &config.input {
        Input::Microphone(dev) => Recorder::microphone(dev.as_deref(), EncoderConfig::default())?,
        Input::Wav(p) => Recorder::wav(p, Pacing::Realtime, EncoderConfig::default())?,
        Input::WavFullSpeed(p) => {
            Recorder::wav(p, Pacing::AsFastAsPossible, EncoderConfig::default())?
        }
    };
    say(status, format!("recording from {}", recorder.description())).await;
    update(status, Progress::Recording { dir: dir.to_owned() });
    let head = OpusHead {
        channels: 1,
        pre_skip: recorder.pre_skip(),
        input_sample_rate: 48_000,
        output_gain: 0,
    };
    let tags = OpusTags::for_session(
        &format!("dualrec {}", env!("CARGO_PKG_VERSION")),
        session,
        identity.public(),
    );
    let serial = u32::from_le_bytes([session.0[0], session.0[1], session.0[2], session.0[3]]);
    let mut writer = RecordingWriter::create(&rec_path, head, &tags, serial)?;

    // Audio events cross from the encoder thread into this task through a bounded channel.
    let (audio_tx, mut audio) = mpsc::channel::<AudioEvent>(500);
    let recorder_stop = recorder.stopper();
    tokio::task::spawn_blocking(move || {
        while let Some(ev) = recorder.recv(Duration::from_secs(3600)) {
            let last = matches!(ev, AudioEvent::Finished { .. } | AudioEvent::Failed { .. });
            if audio_tx.blocking_send(ev).is_err() || last {
                return;
            }
        }
    });

    // Unreceipted checkpoints are sent again every few seconds, in order.
    let mut resend = tokio::time::interval(Duration::from_secs(1));
    let mut chain = ChainState::new(&start.record, &identity.public());
    let mut digester = ChunkDigester::new();
    let per_chunk = start.record.audio.packets_per_chunk() as usize;
    let mut peak = 0.0f32;
    let deadline = config.duration.map(|d| Instant::now() + d);
    let mut stopping = false;
    let mut reason = EndReason::Stopped;
    let input_samples = loop {
        let timer = async {
            match deadline {
                Some(d) if !stopping => tokio::time::sleep_until(d.into()).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = audio.recv() => match ev {
                Some(AudioEvent::Packet(p)) => {
                    peak = peak.max(p.peak);
                    if digester.packet_count() % 5 == 4 {
                        update(status, Progress::Level(peak));
                        peak = 0.0;
                    }
                    writer.write_packet(&p.data)?;
                    digester.push(&p.data, p.samples);
                    if digester.packet_count() == per_chunk {
                        writer.end_chunk()?;
                        let cp = chain.commit(&mut digester, w.clock.now()).sign(&identity);
                        w.commit(cp, &node).await?;
                        update(status, Progress::Committed(chain.chunks()));
                        if chain.chunks().is_multiple_of(60)
                            && let Some(free) = free_bytes(dir)
                            && free < 30 * BYTES_PER_MINUTE
                        {
                            warn(status, format!("the disk has room for about {} more minutes of recording", free / BYTES_PER_MINUTE)).await;
                        }
                    }
                }
                Some(AudioEvent::Gap { position, samples }) => {
                    // Said in the evidence too, signed: the silence there is not the room's.
                    let gap = CaptureGap { session, first_sample: position, samples, time: w.clock.now() }.sign(&identity);
                    w.log.append_synced(&[LogRecord::Gap(gap)])?;
                    let _ = node.send_live(peer, w.exchange.gap(gap)).await;
                    warn(status, format!("{} ms of input lost at {:.1} s (silence recorded in its place)", samples / 48, position as f64 / 48_000.0)).await;
                }
                Some(AudioEvent::Finished { input_samples }) => break input_samples,
                Some(AudioEvent::Failed { error, input_samples }) => {
                    warn(status, format!("the microphone failed: {error}; keeping what was recorded")).await;
                    reason = EndReason::CaptureFailed;
                    break input_samples;
                }
                Some(_) => {}
                None => return Err(SessionError::Protocol("the audio pipeline ended without a word".into())),
            },
            _ = resend.tick() => w.resend(&node).await?,
            ev = events.recv() => match ev {
                ev @ Some(NodeEvent::Inbound { .. } | NodeEvent::Live { .. } | NodeEvent::Rejected { .. }) => {
                    w.serve(&identity, &start.record, &node, ev, status).await?;
                    if w.peer_end.is_some() && !stopping {
                        say(status, "the other device stopped the session".into()).await;
                        recorder_stop.stop();
                        stopping = true;
                    }
                }
                Some(NodeEvent::LinkDown { .. }) => {
                    w.link_up = false;
                    update(status, Progress::Link { up: false });
                    warn(status, "the other device is not answering; still recording, proofs will follow".into()).await;
                }
                ev @ Some(NodeEvent::Connected { peer: p, .. }) if p == peer => {
                    update(status, Progress::Link { up: true });
                    say(status, "the other device is back".into()).await;
                    w.serve(&identity, &start.record, &node, ev, status).await?;
                }
                Some(_) => {}
                None => return Err(SessionError::Protocol("network stopped".into())),
            },
            _ = timer => {
                say(status, "the agreed duration is reached".into()).await;
                reason = EndReason::DurationReached;
                recorder_stop.stop();
                stopping = true;
            }
            _ = stop.recv(), if !stopping => {
                say(status, "stopping".into()).await;
                recorder_stop.stop();
                stopping = true;
            }
        }
    };

    // The last chunk: finish the file, then commit what it holds.
    let last_partial = !digester.is_empty();
    let finished = writer.finish(input_samples)?;
    if last_partial {
        let cp = chain.commit(&mut digester, w.clock.now()).sign(&identity);
        w.commit(cp, &node).await?;
    }
    deliver_backlog(
        &mut w,
        &identity,
        &start.record,
        &node,
        &mut events,
        &mut resend,
        status,
        stop,
    )
    .await?;

    // The end: ours, co-signed by the peer if it is still there. When the peer's stop
    // ended the session, both ends say so: the peer ended it, for its reason.
    let (ended_by, reason) = match &w.peer_end {
        Some(e) if e.record.ended_by == peer => (peer, e.record.reason),
        _ => (identity.public(), reason),
    };
    let end = EndRecord {
        session: start.record.session,
        ended_by,
        reason,
        ended_at_ms: now(),
        finals: vec![PartyFinal {
            party: identity.public(),
            chunks: chain.chunks(),
            last_chain: chain.last_chain(),
            recording_sha256: Some(finished.sha256),
        }],
    };
    // Both sides may be stopping at once: keep answering the peer while we wait for it.
    let ask_peer = dualrec_net::stop(&node, &identity, peer, &start.record, end.clone());
    tokio::pin!(ask_peer);
    let signed = loop {
        tokio::select! {
            r = &mut ask_peer => break r,
            ev = events.recv() => w.serve(&identity, &start.record, &node, ev, status).await?,
        }
    };
    let ended_together = match signed {
        Ok(co) => {
            w.log.append_synced(&[LogRecord::End(co)])?;
            true
        }
        Err(e) => {
            warn(status, format!("the other device did not sign the end ({e}); ending alone"))
                .await;
            let co = CoSigned { signatures: vec![end.sign(&identity)], record: end };
            w.log.append_synced(&[LogRecord::End(co)])?;
            false
        }
    };
    // Stay until the peer's end has come and been counter-signed: the peer sends it only
    // after its whole backlog, so this side then holds every checkpoint of the peer.
    let linger_until = Instant::now() + Duration::from_secs(if ended_together { 20 } else { 2 });
    while w.peer_end.is_none() && Instant::now() < linger_until {
        tokio::select! {
            ev = events.recv() => w.serve(&identity, &start.record, &node, ev, status).await?,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    node.shutdown().await;
    say(status, format!("recording: {}", rec_path.display())).await;
    say(status, format!("evidence:  {}", log_path.display())).await;
    Ok(SessionOutcome {
        session,
        dir: dir.to_owned(),
        recording: rec_path,
        evidence: log_path,
        chunks: chain.chunks(),
        witnessed: w.exchange.receipted(),
        peer_chunks: w.exchange.witnessed(),
        ended_together,
    })
}

/// How long the end waits for the other device when the link is down as the meeting ends:
/// its witnessing of the last seconds and its signature on the end arrive when it is back.
const END_GRACE: Duration = Duration::from_secs(60);

/// After the recording stops: delivers the backlog (and keeps witnessing the peer) for
/// up to 10 s, or, while the link is down, up to [`END_GRACE`] for the other device to
/// come back; the person can stop waiting (Ctrl-C or s again). Nothing recorded waits on it.
#[allow(clippy::too_many_arguments)]
async fn deliver_backlog(
    w: &mut Witness,
    identity: &Identity,
    start: &StartRecord,
    node: &NodeHandle,
    events: &mut mpsc::Receiver<NodeEvent>,
    resend: &mut tokio::time::Interval,
    status: &Status,
    stop: &mut mpsc::Receiver<()>,
) -> Result<(), SessionError> {
    let began = Instant::now();
    // The 10 s for delivery count from when the link is (back) up.
    let mut up_since = w.link_up.then_some(began);
    let mut told = false;
    while w.exchange.receipted() < w.exchange.committed() {
        up_since = if w.link_up { up_since.or_else(|| Some(Instant::now())) } else { None };
        let out_of_time = match up_since {
            Some(t) => t.elapsed() >= Duration::from_secs(10),
            None => began.elapsed() >= END_GRACE,
        };
        if out_of_time {
            break;
        }
        if !w.link_up && !told {
            told = true;
            let waiting = w.exchange.committed() - w.exchange.receipted();
            warn(
                status,
                format!(
                    "the recording is saved. The other device is not answering: waiting up to {} s for it to confirm the last {waiting} seconds; press Ctrl-C to finish without it",
                    END_GRACE.as_secs()
                ),
            )
            .await;
        }
        tokio::select! {
            ev = events.recv() => w.serve(identity, start, node, ev, status).await?,
            _ = resend.tick() => w.resend(node).await?,
            Some(()) = stop.recv() => break,
        }
    }
    Ok(())
}

/// Unreceipted checkpoints kept in memory; more wait in the evidence log (5 minutes).
const WINDOW: usize = 300;
/// A checkpoint not receipted this long after it was sent goes out again.
const RESEND_AFTER: Duration = Duration::from_secs(3);

/// This side's evidence log and its live exchange with the peer.
struct Witness {
    peer: PublicKey,
    log: EvidenceLog,
    exchange: Exchange,
    /// Log offset of the first checkpoint that did not fit the exchange's window.
    spill_at: Option<u64>,
    /// The peer's end, once counter-signed here.
    peer_end: Option<CoSigned<EndRecord>>,
    clock: Clock,
    /// Whether the link to the peer is up (as far as this device knows).
    link_up: bool,
}

/// The log's header followed by its records from byte `from` (a record boundary): a log
/// [`dualrec_proof::read_log`] reads, holding only the records written since `from`.
fn read_log_from(path: &Path, from: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read as _, Seek as _};
    let mut file = std::fs::File::open(path)?;
    let mut bytes = vec![0u8; dualrec_proof::LOG_HEADER_LEN];
    file.read_exact(&mut bytes)?;
    file.seek(std::io::SeekFrom::Start(from))?;
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

impl Witness {
    /// A checkpoint of ours: logged (synced), then sent. A dead link does not stop the
    /// recording: the exchange sends it again later.
    async fn commit(
        &mut self,
        cp: Signed<Checkpoint>,
        node: &NodeHandle,
    ) -> Result<(), SessionError> {
        let at = self.log.len();
        self.log.append_synced(&[LogRecord::Checkpoint(cp)])?;
        match self.exchange.commit(cp, Instant::now()) {
            Some(frame) => {
                let _ = node.send_live(self.peer, frame).await;
            }
            // The window is full: from here on the log is the queue.
            None => {
                self.spill_at.get_or_insert(at);
            }
        }
        Ok(())
    }

    /// Sends again what the peer has not receipted in a while, reading checkpoints back
    /// from the log when more wait there than memory holds.
    async fn resend(&mut self, node: &NodeHandle) -> Result<(), SessionError> {
        if self.exchange.wants_refill().is_some() {
            // Only the part of the log written since the window filled: memory stays
            // small however long the session has been.
            let from = self.spill_at.unwrap_or(dualrec_proof::LOG_HEADER_LEN as u64);
            let bytes = read_log_from(self.log.path(), from)?;
            let contents = dualrec_proof::read_log(&bytes)?;
            self.exchange.refill(contents.entries.into_iter().filter_map(|e| match e.value {
                LogRecord::Checkpoint(c) => Some(c),
                _ => None,
            }));
            if !self.exchange.spilling() {
                self.spill_at = None;
            }
        }
        for frame in self.exchange.due(Instant::now(), RESEND_AFTER) {
            let _ = node.send_live(self.peer, frame).await;
        }
        Ok(())
    }

    /// Handles what the peer sent or what happened to its link; other events are not
    /// ours to handle.
    async fn serve(
        &mut self,
        identity: &Identity,
        start: &StartRecord,
        node: &NodeHandle,
        event: Option<NodeEvent>,
        status: &Status,
    ) -> Result<(), SessionError> {
        match event {
            Some(NodeEvent::Inbound { peer, request, reply }) if peer == self.peer => {
                let response = self.answer(identity, start, *request)?;
                let _ = node.respond(reply, response).await;
            }
            Some(NodeEvent::Live { peer, frame }) if peer == self.peer => {
                // Checked before storing, stored before receipting.
                match self.exchange.on_frame(identity, frame, self.clock.now()) {
                    Ok(handled) => {
                        self.log.append_synced(&handled.store)?;
                        if let Some(reply) = handled.reply {
                            let _ = node.send_live(peer, reply).await;
                        }
                        update(status, Progress::Witnessed(self.exchange.receipted()));
                        update(status, Progress::PeerWitnessed(self.exchange.witnessed()));
                    }
                    Err(e) => {
                        say(status, format!("refused a message from the other device: {e}")).await
                    }
                }
            }
            Some(NodeEvent::LinkDown { peer }) if peer == self.peer => self.link_up = false,
            Some(NodeEvent::Connected { peer, .. }) if peer == self.peer => {
                self.link_up = true;
                // The link is back: the whole backlog, in order, and our capture gaps.
                let mut frames = self.exchange.due(Instant::now(), Duration::ZERO);
                frames.extend(self.exchange.gaps());
                for frame in frames {
                    let _ = node.send_live(peer, frame).await;
                }
            }
            Some(NodeEvent::Rejected { reason, .. }) => {
                warn(status, format!("refused a message from the network: {reason}")).await;
            }
            _ => {}
        }
        Ok(())
    }

    /// Session requests: a checkpoint sent in full, or the peer's stop; each checked,
    /// stored, then answered.
    fn answer(
        &mut self,
        identity: &Identity,
        start: &StartRecord,
        request: Request,
    ) -> Result<Response, SessionError> {
        Ok(match request {
            Request::Checkpoint(cp) => {
                match self.exchange.on_checkpoint(identity, cp, self.clock.now()) {
                    Ok((store, receipt)) => {
                        self.log.append_synced(&store)?;
                        Response::Receipt(receipt)
                    }
                    Err(e) => Response::Refused { reason: e.to_string() },
                }
            }
            Request::Stop { end, signature } => {
                match dualrec_net::acknowledge_stop(identity, self.peer, start, &end, &signature) {
                    Ok((response, co)) => {
                        self.log.append_synced(&[LogRecord::End(co.clone())])?;
                        self.peer_end = Some(co);
                        response
                    }
                    Err(e) => Response::Refused { reason: e.to_string() },
                }
            }
            _ => Response::Refused { reason: "not expected during a session".into() },
        })
    }
}

/// Where a data directory keeps the identity key.
pub fn identity_path(data_dir: &Path) -> PathBuf {
    data_dir.join("identity.key")
}

/// Where a device keeps the devices it paired with.
pub fn trusted_devices_path(data_dir: &Path) -> PathBuf {
    data_dir.join("trusted-devices")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dualrec_net::{CompactReceipt, LiveFrame};
    use dualrec_proof::sim::{SimConfig, simulate};

    /// A long outage: the window fills, checkpoints wait in the log, and come back from
    /// the part of the log written since, in order, as receipts arrive.
    #[tokio::test]
    async fn the_backlog_beyond_the_window_is_read_back_from_the_log() {
        let dir = tempfile::tempdir().expect("tmp");
        let sim = simulate(&SimConfig { chunks: 9, ..SimConfig::default() });
        let (me, peer) = (&sim.identities[0], &sim.identities[1]);
        let trusted = TrustedDevices::load(&dir.path().join("trusted")).expect("store");
        let config = NodeConfig {
            name: "me".into(),
            listen: Vec::new(),
            mdns: false,
            trusted,
            request_timeout: Duration::from_secs(1),
        };
        // A node with no link: every frame sent is dropped, as in an outage.
        let (node, _events) = dualrec_net::start(me, config).expect("node");
        let mut log = EvidenceLog::create(&dir.path().join("evidence.log")).expect("log");
        log.append_synced(&[LogRecord::Start(sim.start.clone())]).expect("start");
        let mut w = Witness {
            peer: peer.public(),
            log,
            exchange: Exchange::new(&sim.start.record, me.public(), peer.public(), 2),
            spill_at: None,
            peer_end: None,
            link_up: true,
            clock: Clock { t0: Instant::now() },
        };
        let own = sim.own_checkpoints(0);
        for cp in &own {
            w.commit(*cp, &node).await.expect("commit");
        }
        assert_eq!(w.exchange.in_memory(), 2);
        assert!(w.spill_at.is_some_and(|at| at > dualrec_proof::LOG_HEADER_LEN as u64));
        // The link is back: the peer receipts whatever is pending, oldest first.
        let mut receipted = Vec::new();
        for _ in 0..20 {
            if w.exchange.receipted() == own.len() as u64 {
                break;
            }
            w.resend(&node).await.expect("resend");
            for frame in w.exchange.due(Instant::now() + RESEND_AFTER, Duration::ZERO) {
                let LiveFrame::Checkpoint(c) = frame else { panic!("checkpoints only") };
                let cp = own[c.index as usize];
                let r = cp.receipt(peer, w.clock.now());
                let frame = LiveFrame::Receipt(CompactReceipt::of(cp.body.index, &r));
                w.exchange.on_frame(me, frame, w.clock.now()).expect("receipt checks out");
                receipted.push(c.index);
            }
        }
        assert_eq!(receipted, (0..own.len() as u32).collect::<Vec<_>>());
        assert_eq!(w.spill_at, None, "nothing waits in the log any more");
        node.shutdown().await;
    }
}
