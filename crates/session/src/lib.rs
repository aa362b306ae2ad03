//! One dualrec recording session.
//!
//! This crate finds the other device the person chose and makes sure it is confirmed
//! (`dualrec-net`), agrees the co-signed start (`dualrec-protocol`'s handshake), then runs
//! the meeting: the protocol's sans-I/O [`dualrec_protocol::Meeting`] decides everything,
//! and the executor here feeds it packets from the recorder (`dualrec-audio`, straight into
//! the meeting's bounded queue), frames and link changes from the node, time and the
//! person's stop, and does what it asks: write the Ogg Opus file (`dualrec-media`), append
//! and sync the evidence log (`dualrec-proof`), send frames and requests. The recording and
//! the log are synced at every chunk boundary, so a crash loses at most the chunk in
//! progress. What happens is reported as typed [`Progress`] events; the words are the
//! interface's.
//!
//! Every channel is bounded; the audio thread never waits for the disk or the network.

#![forbid(unsafe_code)]

mod earlier;
mod executor;
mod find;
mod meetings;
mod preflight;
mod progress;
mod recover;
mod rejoin;

pub use find::{FoundDevice, names_device};
pub use meetings::{MeetingState, PastMeeting, folder_name, past_meetings};
pub use progress::{Device, Progress, Status};
pub use recover::{Recovered, Recovery, recover, unfinished_sessions};

use find::{Choice, Finder};
use progress::{tell, update};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dualrec_net::{NodeConfig, NodeEvent, NodeHandle, TrustedDevices};
use dualrec_proof::{AudioParams, CoSigned, Identity, Party, PublicKey, SessionId, StartRecord};
use dualrec_protocol::{Proposal, Request, Response};
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
#[derive(Debug, Clone)]
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
    /// The start could not be agreed with the other device.
    #[error("starting the session with the other device")]
    Handshake(#[from] dualrec_protocol::HandshakeError),
    /// Pairing with the chosen device failed (`reason` from the network) and there is no
    /// person to choose again.
    #[error("pairing with {name} failed: {why}")]
    PairingFailed { name: String, why: dualrec_net::PairingFailure },
    /// The network node stopped.
    #[error("the network stopped")]
    NetworkStopped,
    /// The audio pipeline ended without saying why.
    #[error("the audio pipeline ended without a word")]
    AudioEnded,
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
    /// The folder for recordings cannot be made or written.
    #[error("recordings cannot be written to {dir}")]
    OutputFolder {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input opened but delivered no sound.
    #[error("the input ({input}) delivered no sound within 3 s")]
    InputSilent { input: String },
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

/// Hours of recording the file system that holds (or will hold) `dir` has room for;
/// `None` when that cannot be told.
pub fn hours_of_room(dir: &Path) -> Option<f64> {
    let existing = dir.ancestors().find(|d| d.is_dir())?;
    Some(free_bytes(existing)? as f64 / BYTES_PER_MINUTE as f64 / 60.0)
}

/// Free bytes for an unprivileged writer on the file system holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// What a session asks the person; the interface words it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Question {
    /// Record this meeting with `device`? (`remembered`: paired before.)
    Record { device: Device, remembered: bool },
    /// Does `device`'s screen show the same `code`?
    SameCode { code: String, device: Device },
}

/// Asks the person (or not, with `assume_yes`); `true` is yes.
pub type Ask = std::sync::Arc<dyn Fn(Question) -> bool + Send + Sync>;

async fn ask_person(ask: &Ask, question: Question) -> bool {
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
    early: &mut Option<EarlyProposal>,
) -> Result<(PublicKey, String), SessionError> {
    let mut finder = Finder::new(config.with.clone(), config.assume_yes);
    let stopped = || SessionError::NetworkStopped;
    let mut hint_at = Some(tokio::time::Instant::now() + NOTHING_FOUND_HINT_AFTER);
    loop {
        let due = finder.due().map(tokio::time::Instant::from_std);
        let ev = tokio::select! {
            ev = events.recv() => ev.ok_or_else(stopped)?,
            _ = tokio::time::sleep_until(hint_at.unwrap_or_else(tokio::time::Instant::now)), if hint_at.is_some() => {
                hint_at = None;
                if finder.found().is_empty() {
                    let addresses = finder.addresses().to_vec();
                    tell(status, Progress::NothingFound { addresses }).await;
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
        let ev = match ev {
            // The other device learnt first that both confirmed, and already proposes the
            // start: kept for `agree_start`, which would otherwise wait for it for ever.
            NodeEvent::Inbound { peer, request, reply }
                if matches!(*request, Request::Propose { .. }) =>
            {
                if let Some((_, _, old)) = early.replace((peer, *request, reply)) {
                    let reason = "superseded by a later proposal".into();
                    node.respond(old, Response::Refused { reason }).await?;
                }
                continue;
            }
            NodeEvent::Inbound { reply, .. } => {
                let reason = "no meeting yet: this device is still choosing".into();
                node.respond(reply, Response::Refused { reason }).await?;
                continue;
            }
            ev => ev,
        };
        if let Some(found) = on_find_event(ev, &mut finder, node, ask, status, config).await? {
            return Ok(found);
        }
    }
}

/// After this long with no device found, the person is told what may be wrong.
const NOTHING_FOUND_HINT_AFTER: Duration = Duration::from_secs(15);

async fn start_pairing(
    node: &NodeHandle,
    d: &FoundDevice,
    status: &Status,
) -> Result<(), SessionError> {
    tell(status, Progress::Pairing { device: Device::new(&d.key, &d.name) }).await;
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
            tell(status, Progress::Paired { device: Device::new(&peer, &name) }).await;
            return Ok(Some((peer, name)));
        }
        NodeEvent::PairingFailed { peer, why } if finder.chosen() == Some(peer) => {
            let name = finder.name_of(&peer);
            if config.assume_yes || config.with.is_some() {
                return Err(SessionError::PairingFailed { name, why });
            }
            let device = Device::new(&peer, &name);
            tell(status, Progress::PairingFailed { device, why }).await;
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
            tell(status, Progress::Listening { address: typed, this_machine_only: false }).await
        }
        None => match ip_port {
            Some((ip, port)) if ip.is_loopback() => {
                let address = format!("{ip}:{port}");
                tell(status, Progress::Listening { address, this_machine_only: true }).await
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
    let device_remembered = device.remembered;
    let found =
        Progress::Found { device: Device::new(&peer, &name), remembered: device_remembered };
    tell(status, found).await;
    let take = match finder.on_found(device.clone(), Instant::now()) {
        Choice::Take => true,
        Choice::Ask => {
            let device = Device::new(&peer, &name);
            ask_person(ask, Question::Record { device, remembered: device_remembered }).await
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
    let device = Device::new(&peer, &name);
    let code = code.to_owned();
    match finder.may_pair(&peer, &name) {
        Choice::Take if config.assume_yes => {
            tell(status, Progress::PairingCode { code, device, unchecked: true }).await;
            true
        }
        Choice::Skip => {
            tell(status, Progress::Declined { device }).await;
            false
        }
        _ => {
            let shown = Progress::PairingCode {
                code: code.clone(),
                device: device.clone(),
                unchecked: false,
            };
            tell(status, shown).await;
            ask_person(ask, Question::SameCode { code, device }).await
        }
    }
}

/// A typed address: dialled every second until the other device is up (it may start
/// later), saying so once.
fn keep_dialling(node: NodeHandle, addr: String, status: Status) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tell(&status, Progress::Connecting { address: addr.clone() }).await;
        let mut told = false;
        loop {
            match node.dial(&addr).await {
                Ok(()) => return,
                Err(dualrec_net::NetError::Address(a)) => {
                    tell(&status, Progress::Unreachable { address: a }).await;
                    return;
                }
                Err(_) if !told => {
                    told = true;
                    tell(&status, Progress::NoAnswerYet { address: addr.clone() }).await;
                }
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// Starts the network node as `config` says, dialling a typed address until it answers.
#[allow(clippy::type_complexity)]
fn start_node(
    identity: &Identity,
    config: &SessionConfig,
    status: &Status,
) -> Result<
    (NodeHandle, mpsc::Receiver<NodeEvent>, Option<tokio::task::JoinHandle<()>>),
    SessionError,
> {
    let trusted = TrustedDevices::load(&trusted_devices_path(&config.data_dir))?;
    let node_config = NodeConfig {
        name: config.name.clone(),
        listen: config.listen.clone(),
        mdns: config.mdns,
        trusted,
        request_timeout: Duration::from_secs(3),
    };
    let (node, events) = dualrec_net::start(identity, node_config)?;
    let redial =
        config.connect.clone().map(|addr| keep_dialling(node.clone(), addr, status.clone()));
    Ok((node, events, redial))
}

/// Rejoins the meeting in `dir` that this device's program left without its end (a crash,
/// a power cut), if the other device is still in it and comes back within 30 s (SPEC
/// §12.7): the same session goes on, and the recording continues with silence for the
/// time away, said in a signed capture gap. `Ok(None)`: the other device did not come
/// back (or the person stopped waiting); nothing was changed, and the session can be
/// finished alone with [`recover`].
pub async fn rejoin(
    identity: Identity,
    config: SessionConfig,
    dir: &Path,
    status: Status,
    mut stop: mpsc::Receiver<()>,
) -> Result<Option<SessionOutcome>, SessionError> {
    preflight::check_folder(dir, config.duration)?;
    let (found, peer) = rejoin::open(dir, &identity)?;
    let (node, mut events, redial) = start_node(&identity, &config, &status)?;
    let name = found.start.record.parties.iter().find(|p| p.key == peer).map(|p| p.name.clone());
    let device = Device::new(&peer, name.as_deref().unwrap_or_default());
    tell(&status, Progress::Rejoining { session: found.start.record.session, peer: device }).await;
    let back = rejoin::wait_for(peer, &node, &mut events, &mut stop).await;
    if let Some(r) = redial {
        r.abort();
    }
    if !back? {
        node.shutdown().await;
        return Ok(None);
    }
    rejoin::set_aside(dir)?;
    let outcome = executor::rejoin_meeting(
        dir, identity, &config, found, node, events, peer, &status, &mut stop,
    )
    .await?;
    Ok(Some(outcome))
}

/// Agrees the co-signed start with the chosen device: the one with the smaller key
/// proposes, the other consents; other devices are answered "busy" meanwhile.
/// A start proposal that came in before this device knew the pairing had finished.
type EarlyProposal = (PublicKey, Request, dualrec_protocol::RequestId);

async fn agree_start(
    identity: &Identity,
    config: &SessionConfig,
    node: &NodeHandle,
    events: &mut mpsc::Receiver<NodeEvent>,
    peer: (PublicKey, &str),
    status: &Status,
    early: Option<EarlyProposal>,
) -> Result<CoSigned<StartRecord>, SessionError> {
    let (peer, peer_name) = peer;
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
        tell(status, Progress::Proposing).await;
        let proposal = Proposal::new(identity, peer, record)?;
        let answer = node.request(peer, proposal.request()).await?;
        return Ok(proposal.on_response(answer)?);
    }
    let mut early = early.map(|(peer, request, reply)| NodeEvent::Inbound {
        peer,
        request: Box::new(request),
        reply,
    });
    loop {
        let event = match early.take() {
            Some(e) => e,
            None => events.recv().await.ok_or(SessionError::NetworkStopped)?,
        };
        match event {
            NodeEvent::Inbound { peer: from, request, reply } if from == peer => {
                if let Request::Propose { start, signature } = *request {
                    let (response, co) =
                        dualrec_protocol::consent(identity, from, &start, &signature)?;
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
    // Before anyone is contacted: the folder and the input work.
    preflight::check_folder(&config.out_dir, config.duration)?;
    let (source, loudest) = preflight::check_input(&config.input, &status).await?;
    tell(&status, Progress::Ready { source, dir: config.out_dir.clone(), loudest }).await;
    let (node, mut events, redial) = start_node(&identity, &config, &status)?;

    // Find the other device the person chose, and make sure it is confirmed.
    // Ctrl-C (or stop) before the meeting begins ends the program: nothing is queued to
    // fire once the other device appears.
    let mut early = None;
    let found = tokio::select! {
        found = find_peer(&config, &node, &mut events, &ask, &status, &mut early) => found,
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
        agree_start(&identity, &config, &node, &mut events, (peer, &peer_name), &status, early)
            .await?;
    let session = start.record.session;
    let device = Device::new(&peer, &peer_name);
    tell(&status, Progress::Started { session, peer: device }).await;
    update(
        &status,
        Progress::Peer { name: peer_name, fingerprint: peer.fingerprint().to_string() },
    );
    update(&status, Progress::Link { up: true });
    // Session clocks start at the co-signed start on both devices (SPEC §7.2): a
    // witness's receipt times are measured from here.
    let t0 = Instant::now();
    record(identity, config, start, node, events, (peer, t0), status, &mut stop).await
}

#[allow(clippy::too_many_arguments)]
async fn record(
    identity: Identity,
    config: SessionConfig,
    start: CoSigned<StartRecord>,
    node: NodeHandle,
    events: mpsc::Receiver<NodeEvent>,
    peer: (PublicKey, Instant),
    status: Status,
    stop: &mut mpsc::Receiver<()>,
) -> Result<SessionOutcome, SessionError> {
    dualrec_proof::create_private_dir_all(&config.out_dir)?;
    if let Some(free) = free_bytes(&config.out_dir)
        && free < 3 * BYTES_PER_MINUTE
    {
        return Err(SessionError::NoSpace {
            dir: config.out_dir.clone(),
            free_kib: free / 1024,
            per_minute_kib: BYTES_PER_MINUTE / 1024,
        });
    }
    let dir = config.out_dir.join(folder_name(&start.record, &identity.public()));
    // The session's folder is the owner's alone, like the files in it.
    dualrec_proof::create_private_dir_all(&dir)?;
    let result = executor::run_meeting(
        &dir,
        identity,
        &config,
        start,
        node.clone(),
        events,
        peer,
        &status,
        stop,
    )
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

/// Where a data directory keeps the identity key.
pub fn identity_path(data_dir: &Path) -> PathBuf {
    data_dir.join("identity.key")
}

/// Where a device keeps the devices it paired with.
pub fn trusted_devices_path(data_dir: &Path) -> PathBuf {
    data_dir.join("trusted-devices")
}
