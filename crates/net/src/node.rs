//! The libp2p node: TCP + Noise + Yamux, mDNS discovery, identify, the `/dualrec/1`
//! request-response protocol and the `/dualrec/live/1` streams; pairing, liveness and
//! redial are handled here, the rest is handed to the application as [`NodeEvent`]s.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dualrec_proof::{Identity, PublicKey};
use futures::{AsyncReadExt as _, AsyncWriteExt as _, StreamExt as _};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent, behaviour::toggle::Toggle};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, identify, mdns, noise, tcp, yamux};
use tokio::sync::{mpsc, oneshot};

use crate::NetError;
use crate::trust::{TrustedDevices, display_name};
use dualrec_protocol::{
    LIVE_PROTOCOL, LiveFrame, PROTOCOL, PairingCode, PairingInitiator, PairingResponder, Request,
    RequestId, Response, WIRE_VERSION,
};

/// A link with no answer to pings for this long is closed and redialled.
const LIVENESS_TIMEOUT: Duration = Duration::from_secs(3);
const PING_EVERY: Duration = Duration::from_secs(1);
/// How often liveness is looked at: a dead link is noticed within 3.25 s.
const LIVENESS_TICK: Duration = Duration::from_millis(250);
const MAX_MESSAGE: usize = dualrec_proof::MAX_RECORD_BYTES;
/// Live frames are small (a compact checkpoint is 136 bytes); anything larger is hostile.
const MAX_LIVE_FRAME: usize = 1024;
/// Live frames waiting for a stream to the peer; beyond this they are dropped (the
/// exchange sends unreceipted checkpoints again).
const LIVE_QUEUE: usize = 1024;

/// How often mDNS asks the network for dualrec devices.
const MDNS_QUERY_EVERY: Duration = Duration::from_secs(5);

/// Addresses kept per device for redialling: the newest first, so a device that moved
/// (router restart, another network) is tried where it is now.
const ADDRESSES_PER_PEER: usize = 8;

fn remember_address(list: &mut Vec<Multiaddr>, addr: &Multiaddr) {
    list.retain(|a| a != addr);
    list.insert(0, addr.clone());
    list.truncate(ADDRESSES_PER_PEER);
}

/// The TCP port dualrec listens on unless told otherwise, so that a firewall rule can be
/// made once. When it is taken, a free port is used instead.
pub const DEFAULT_PORT: u16 = 45_277;
const CHANNEL: usize = 256;

/// How to start a node.
#[derive(Debug)]
pub struct NodeConfig {
    /// Display name sent in `Hello`.
    pub name: String,
    /// Addresses to listen on, as multiaddrs (`/ip4/0.0.0.0/tcp/0`).
    pub listen: Vec<String>,
    /// Discover peers on the local network with mDNS.
    pub mdns: bool,
    /// The devices confirmed before (read and updated by pairing).
    pub trusted: TrustedDevices,
    /// How long a request may wait for its response.
    pub request_timeout: Duration,
}

/// Why a pairing did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PairingFailure {
    /// The other person said the codes differ (or did not confirm them).
    #[error("the other person did not confirm the code")]
    DeclinedThere,
    /// The person here said the codes differ (or the device was not the chosen one).
    #[error("the code was not confirmed here")]
    DeclinedHere,
    /// The other device is pairing or recording with another device.
    #[error("{BUSY}")]
    Busy,
    /// The other device's reveal did not match its commitment: someone may be interfering.
    #[error("the other device's reveal does not match its commitment")]
    CommitmentMismatch,
    /// The other device refused (its words, untrusted).
    #[error("refused: {0}")]
    Refused(String),
    /// The link failed during pairing.
    #[error("the link failed: {0}")]
    Link(String),
    /// Both said yes, but the device could not be remembered here.
    #[error("the device could not be remembered: {0}")]
    NotRemembered(String),
}

/// What the node tells the application.
#[derive(Debug)]
#[non_exhaustive]
pub enum NodeEvent {
    /// Listening on this address; the other person can type it.
    Listening(Multiaddr),
    /// mDNS found a device.
    Discovered { peer: PublicKey, address: Multiaddr },
    /// A link is up and the peer introduced itself. `we_dialed`: this device opened the
    /// connection (the side that dialed is the one that starts pairing).
    Connected { peer: PublicKey, name: String, trusted: bool, we_dialed: bool },
    /// Both screens should now show this code; answer with [`NodeHandle::confirm`].
    PairingCode { peer: PublicKey, code: PairingCode },
    /// Both people confirmed: the device is remembered.
    Paired { peer: PublicKey, name: String },
    /// Pairing did not complete.
    PairingFailed { peer: PublicKey, why: PairingFailure },
    /// A confirmed device sent a session message (proposal, checkpoint, stop); answer it
    /// with [`NodeHandle::respond`]. Its content is unchecked: the application checks
    /// signatures and chain before storing anything.
    Inbound { peer: PublicKey, request: Box<Request>, reply: RequestId },
    /// A request from a device that was never confirmed was refused.
    RefusedUntrusted { peer: PublicKey },
    /// The link to a confirmed device stopped answering and was closed; redialling.
    LinkDown { peer: PublicKey },
    /// A confirmed device sent a live frame (unchecked: the meeting checks it).
    Live { peer: PublicKey, frame: LiveFrame },
    /// A message from a device was refused (malformed, oversized, wrong version); the
    /// stream it came on was closed. Nothing of it was passed on.
    Rejected { peer: PublicKey, reason: String },
}

enum Command {
    Dial(Multiaddr, oneshot::Sender<Result<(), NetError>>),
    Pair(PublicKey),
    Confirm(PublicKey, bool),
    Request(PublicKey, Request, oneshot::Sender<Result<Response, NetError>>),
    Respond(RequestId, Response),
    Live(PublicKey, LiveFrame),
    Forget(PublicKey),
    Busy(Option<PublicKey>),
    Shutdown(oneshot::Sender<()>),
}

/// Controls a running node.
#[derive(Clone, Debug)]
pub struct NodeHandle {
    commands: mpsc::Sender<Command>,
    key: PublicKey,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl NodeHandle {
    /// This device's key (its PeerId).
    pub fn key(&self) -> PublicKey {
        self.key
    }

    async fn send(&self, c: Command) -> Result<(), NetError> {
        self.commands.send(c).await.map_err(|_| NetError::Stopped)
    }

    /// Connects to a typed address: a multiaddr or `host:port`.
    pub async fn dial(&self, address: &str) -> Result<(), NetError> {
        let addr = parse_address(address)?;
        let (tx, rx) = oneshot::channel();
        self.send(Command::Dial(addr, tx)).await?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// Starts pairing with a connected device.
    pub async fn pair(&self, peer: PublicKey) -> Result<(), NetError> {
        self.send(Command::Pair(peer)).await
    }

    /// The person's answer to "do both screens show the same code?".
    pub async fn confirm(&self, peer: PublicKey, accepted: bool) -> Result<(), NetError> {
        self.send(Command::Confirm(peer, accepted)).await
    }

    /// Forgets a confirmed device.
    /// In a session with `peer` (or no longer, with `None`): pairing requests from any
    /// other device are answered "busy".
    pub async fn set_busy(&self, peer: Option<PublicKey>) -> Result<(), NetError> {
        self.send(Command::Busy(peer)).await
    }

    pub async fn forget(&self, peer: PublicKey) -> Result<(), NetError> {
        self.send(Command::Forget(peer)).await
    }

    /// Sends a session message to a confirmed device and waits for its answer.
    pub async fn request(&self, peer: PublicKey, request: Request) -> Result<Response, NetError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Request(peer, request, tx)).await?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// Stops the node after giving answers already queued time to reach the peer; returns
    /// when that is done. Call before the process exits.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Answers an [`NodeEvent::Inbound`] request.
    pub async fn respond(&self, reply: RequestId, response: Response) -> Result<(), NetError> {
        self.send(Command::Respond(reply, response)).await
    }

    /// Sends a frame on the live stream to a confirmed device (opened when needed). A
    /// frame that cannot be delivered is dropped: the exchange sends again what the peer
    /// has not receipted.
    pub async fn send_live(&self, peer: PublicKey, frame: LiveFrame) -> Result<(), NetError> {
        self.send(Command::Live(peer, frame)).await
    }
}

/// `host:port` or a multiaddr, as a multiaddr.
pub fn parse_address(s: &str) -> Result<Multiaddr, NetError> {
    if s.starts_with('/') {
        return s.parse().map_err(|_| NetError::Address(s.to_owned()));
    }
    let (host, port) = s.rsplit_once(':').ok_or_else(|| NetError::Address(s.to_owned()))?;
    let port: u16 = port.parse().map_err(|_| NetError::Address(s.to_owned()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // A name (`laptop.local`, `sam-pc`) through the system's resolver, which also asks
    // mDNS where the system is set up to.
    let ip = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip,
        Err(_) => {
            use std::net::ToSocketAddrs as _;
            let mut found =
                (host, port).to_socket_addrs().map_err(|_| NetError::Address(s.to_owned()))?;
            found.next().ok_or_else(|| NetError::Address(s.to_owned()))?.ip()
        }
    };
    let ma = match ip {
        std::net::IpAddr::V4(ip) => format!("/ip4/{ip}/tcp/{port}"),
        std::net::IpAddr::V6(ip) => format!("/ip6/{ip}/tcp/{port}"),
    };
    ma.parse().map_err(|_| NetError::Address(s.to_owned()))
}

/// An address in the form people type (`10.0.0.2:4242`), if it is an IP and TCP one.
pub fn typeable(addr: &Multiaddr) -> Option<String> {
    let (ip, port) = ip_port(addr)?;
    // Only an address another device on the network could reach.
    let local_only = match ip {
        std::net::IpAddr::V4(a) => a.is_loopback() || a.is_link_local() || a.is_unspecified(),
        std::net::IpAddr::V6(a) => {
            a.is_loopback() || a.is_unspecified() || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    };
    if local_only {
        return None;
    }
    Some(match ip {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    })
}

/// The IP address and TCP port of a multiaddr, if it has both.
pub fn ip_port(addr: &Multiaddr) -> Option<(std::net::IpAddr, u16)> {
    use libp2p::multiaddr::Protocol;
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    Some((ip?, port?))
}

/// The key behind a PeerId (dualrec peers use ed25519 keys, inlined in the PeerId).
pub(crate) fn peer_key(peer: &PeerId) -> Option<PublicKey> {
    let mh: &libp2p::multihash::Multihash<64> = peer.as_ref();
    if mh.code() != 0 {
        return None;
    }
    let pk = libp2p::identity::PublicKey::try_decode_protobuf(mh.digest()).ok()?;
    Some(PublicKey(pk.try_into_ed25519().ok()?.to_bytes()))
}

fn key_peer(key: &PublicKey) -> Option<PeerId> {
    let pk = libp2p::identity::ed25519::PublicKey::try_from_bytes(&key.0).ok()?;
    Some(PeerId::from_public_key(&libp2p::identity::PublicKey::from(pk)))
}

/// Length-prefixed canonical messages (SPEC §12.1).
#[derive(Debug, Clone, Default)]
pub(crate) struct WireCodec;

async fn read_frame<T: futures::AsyncRead + Unpin + Send>(io: &mut T) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    read_body(io, u32::from_le_bytes(len) as usize, MAX_MESSAGE, "message").await
}

/// Reads a frame's `len` bytes after its length prefix, refusing (before allocating)
/// an empty one or one over `max`.
async fn read_body<T: futures::AsyncRead + Unpin>(
    io: &mut T,
    len: usize,
    max: usize,
    what: &str,
) -> std::io::Result<Vec<u8>> {
    if len == 0 || len > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{what} of {len} bytes (at most {max})"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: futures::AsyncWrite + Unpin + Send>(
    io: &mut T,
    bytes: &[u8],
) -> std::io::Result<()> {
    io.write_all(&(bytes.len() as u32).to_le_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

/// Reads one live frame's bytes: a u16 length, then at most [`MAX_LIVE_FRAME`] bytes.
async fn read_live<T: futures::AsyncRead + Unpin>(io: &mut T) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    io.read_exact(&mut len).await?;
    read_body(io, usize::from(u16::from_le_bytes(len)), MAX_LIVE_FRAME, "live frame").await
}

/// Reads a peer's live stream until it ends or sends something malformed (then the
/// stream is dropped, which closes it).
async fn live_reader(
    peer: PeerId,
    mut stream: libp2p::Stream,
    out: mpsc::Sender<(PeerId, Result<LiveFrame, String>)>,
) {
    loop {
        let frame = match read_live(&mut stream).await {
            Ok(bytes) => {
                LiveFrame::from_bytes(&bytes).map_err(|e| format!("message rejected: {e}"))
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return,
            Err(e) => Err(e.to_string()),
        };
        let bad = frame.is_err();
        if out.send((peer, frame)).await.is_err() || bad {
            return;
        }
    }
}

/// Opens the live stream to `peer` and writes frames to it; ends with the stream.
/// Frames queued together go out in one write (one segment on the wire).
async fn live_writer(
    mut control: libp2p_stream::Control,
    peer: PeerId,
    mut frames: mpsc::Receiver<Vec<u8>>,
) {
    let Ok(mut stream) = control.open_stream(peer, StreamProtocol::new(LIVE_PROTOCOL)).await else {
        return;
    };
    let mut buf = Vec::new();
    while let Some(first) = frames.recv().await {
        buf.clear();
        let mut next = Some(first);
        while let Some(bytes) = next {
            // Frames are at most MAX_LIVE_FRAME bytes, so the length fits in a u16.
            buf.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
            buf.extend_from_slice(&bytes);
            next = frames.try_recv().ok();
        }
        if stream.write_all(&buf).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
    let _ = stream.close().await;
}

fn invalid(e: dualrec_proof::DecodeError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}

impl request_response::Codec for WireCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Request>
    where
        T: futures::AsyncRead + Unpin + Send,
    {
        Request::from_bytes(&read_frame(io).await?).map_err(invalid)
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Response>
    where
        T: futures::AsyncRead + Unpin + Send,
    {
        Response::from_bytes(&read_frame(io).await?).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Request,
    ) -> std::io::Result<()>
    where
        T: futures::AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req.to_bytes()).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Response,
    ) -> std::io::Result<()>
    where
        T: futures::AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res.to_bytes()).await
    }
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    rr: request_response::Behaviour<WireCodec>,
    live: libp2p_stream::Behaviour,
    identify: identify::Behaviour,
    mdns: Toggle<mdns::tokio::Behaviour>,
}

enum Pairing {
    /// We sent our commitment.
    Committed(PairingInitiator),
    /// We answered a commitment with our nonce.
    Answered(PairingResponder),
    /// The code is shown; waiting for the people.
    Shown { code: PairingCode, ours: Option<bool>, theirs: Option<bool> },
}

/// The answer to a `PairConfirm` from a device whose person has not answered yet: it
/// sends its own `PairConfirm` when they do (SPEC §13 step 5), however long that takes.
pub(crate) const NOT_ANSWERED_YET: &str = "not answered yet";

/// The answer to pairing from a device that is already pairing with, or recording with,
/// another device.
pub(crate) const BUSY: &str = "busy: this device is pairing with or recording with another device";

/// What an outbound request was for.
enum Outbound {
    Hello,
    Ping,
    PairCommit(PeerId),
    PairReveal(PeerId),
    PairConfirm(PeerId),
    App(oneshot::Sender<Result<Response, NetError>>),
}

struct Node {
    swarm: Swarm<Behaviour>,
    own: PublicKey,
    name: String,
    trusted: TrustedDevices,
    events: mpsc::Sender<NodeEvent>,
    names: HashMap<PeerId, String>,
    /// Peers reported as connected since their link last went down.
    announced: std::collections::HashSet<PeerId>,
    /// Peers whose current connection this device dialed.
    dialed: std::collections::HashSet<PeerId>,
    addresses: HashMap<PeerId, Vec<Multiaddr>>,
    last_seen: HashMap<PeerId, Instant>,
    last_ping: HashMap<PeerId, Instant>,
    pairings: HashMap<PeerId, Pairing>,
    /// A session request from a device we are pairing with, whose person here has said
    /// yes: the other device may have finished first and its request overtaken its
    /// confirmation (they travel on separate streams). Held until the pairing ends, then
    /// handed on or refused; one per device.
    held: HashMap<PeerId, (PublicKey, Request, ResponseChannel<Response>)>,
    outbound: HashMap<OutboundRequestId, Outbound>,
    inbound: HashMap<u64, ResponseChannel<Response>>,
    next_inbound: u64,
    next_ping: u64,
    /// Typed-address dials waiting for their own connection, by its id (never resolved
    /// by another connection's success or failure).
    dial_waiters: HashMap<libp2p::swarm::ConnectionId, oneshot::Sender<Result<(), NetError>>>,
    last_redial: Instant,
    control: libp2p_stream::Control,
    /// The writer of each peer's live stream.
    writers: HashMap<PeerId, mpsc::Sender<Vec<u8>>>,
    /// Frames from every peer's live stream, read by their own tasks.
    live_frames: mpsc::Sender<(PeerId, Result<LiveFrame, String>)>,
    /// The wire version this node speaks ([`WIRE_VERSION`]).
    version: u16,
    /// The device this one is in a session with, if any: others are answered [`BUSY`].
    busy_with: Option<PeerId>,
}

/// Listens on every address given. A fixed port that is taken (another dualrec on this
/// machine) falls back to a free one; an address family the machine lacks (no IPv6) is
/// skipped. Fails only when nothing could be listened on.
fn listen_all(swarm: &mut Swarm<Behaviour>, listen: &[String]) -> Result<(), NetError> {
    // libp2p listens with SO_REUSEPORT, so a second dualrec would share a taken port (and
    // half the connections): each fixed port is first tried plainly, before any listener
    // of ours holds it.
    let mut addrs = Vec::with_capacity(listen.len());
    for l in listen {
        let addr = parse_address(l)?;
        let any_port = ip_port(&addr).map(|(ip, _)| match ip {
            std::net::IpAddr::V4(ip) => format!("/ip4/{ip}/tcp/0"),
            std::net::IpAddr::V6(ip) => format!("/ip6/{ip}/tcp/0"),
        });
        let taken = ip_port(&addr).is_some_and(|(ip, port)| {
            port != 0 && std::net::TcpListener::bind((ip, port)).is_err()
        });
        match any_port.and_then(|a| a.parse::<Multiaddr>().ok()) {
            Some(any) if taken => addrs.push((any, None)),
            any => addrs.push((addr, any)),
        }
    }
    let mut last_error = None;
    let mut listening = 0;
    for (addr, fallback) in addrs {
        let result = match (swarm.listen_on(addr), fallback) {
            (Ok(_), _) => Ok(()),
            (Err(_), Some(any)) => swarm.listen_on(any).map(|_| ()).map_err(|e| e.to_string()),
            (Err(e), None) => Err(e.to_string()),
        };
        match result {
            Ok(()) => listening += 1,
            Err(e) => last_error = Some(e),
        }
    }
    match (listening, last_error) {
        (0, Some(e)) => Err(NetError::Transport(e)),
        _ => Ok(()),
    }
}

/// Starts a node on the current tokio runtime.
pub fn start(
    identity: &Identity,
    config: NodeConfig,
) -> Result<(NodeHandle, mpsc::Receiver<NodeEvent>), NetError> {
    start_speaking(identity, config, WIRE_VERSION)
}

/// [`start`], announcing `version` in `Hello` (tests speak other versions).
fn start_speaking(
    identity: &Identity,
    config: NodeConfig,
    version: u16,
) -> Result<(NodeHandle, mpsc::Receiver<NodeEvent>), NetError> {
    let mut seed = *identity.seed();
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut seed)
        .map_err(|e| NetError::Transport(e.to_string()))?;
    let own = identity.public();
    let mdns_on = config.mdns;
    let timeout = config.request_timeout;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_behaviour(|key| {
            let rr = request_response::Behaviour::with_codec(
                WireCodec,
                [(StreamProtocol::new(PROTOCOL), ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(timeout),
            );
            let identify = identify::Behaviour::new(identify::Config::new(
                "/dualrec/id/1".into(),
                key.public(),
            ));
            // Ask again every few seconds: a device that starts later, or comes back on
            // another address, is found quickly (the default waits five minutes).
            let mdns_config =
                mdns::Config { query_interval: MDNS_QUERY_EVERY, ..mdns::Config::default() };
            let mdns = if mdns_on {
                Some(mdns::tokio::Behaviour::new(mdns_config, key.public().to_peer_id())?)
            } else {
                None
            };
            Ok(Behaviour {
                rr,
                live: libp2p_stream::Behaviour::new(),
                identify,
                mdns: Toggle::from(mdns),
            })
        })
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    listen_all(&mut swarm, &config.listen)?;
    let (cmd_tx, cmd_rx) = mpsc::channel(CHANNEL);
    let (ev_tx, ev_rx) = mpsc::channel(CHANNEL);
    let mut control = swarm.behaviour().live.new_control();
    let incoming = control
        .accept(StreamProtocol::new(LIVE_PROTOCOL))
        .map_err(|e| NetError::Transport(e.to_string()))?;
    let (live_tx, live_rx) = mpsc::channel(CHANNEL);
    let node = Node {
        swarm,
        own,
        name: config.name,
        trusted: config.trusted,
        events: ev_tx,
        names: HashMap::new(),
        announced: std::collections::HashSet::new(),
        dialed: std::collections::HashSet::new(),
        addresses: HashMap::new(),
        last_seen: HashMap::new(),
        last_ping: HashMap::new(),
        pairings: HashMap::new(),
        held: HashMap::new(),
        outbound: HashMap::new(),
        inbound: HashMap::new(),
        next_inbound: 0,
        next_ping: 0,
        dial_waiters: HashMap::new(),
        last_redial: Instant::now(),
        control,
        writers: HashMap::new(),
        live_frames: live_tx,
        version,
        busy_with: None,
    };
    tokio::spawn(node.run(cmd_rx, incoming, live_rx));
    Ok((NodeHandle { commands: cmd_tx, key: own }, ev_rx))
}

impl Node {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut incoming: libp2p_stream::IncomingStreams,
        mut live: mpsc::Receiver<(PeerId, Result<LiveFrame, String>)>,
    ) {
        let mut tick = tokio::time::interval(LIVENESS_TICK);
        let mut done: Option<oneshot::Sender<()>> = None;
        loop {
            tokio::select! {
                // The application's commands first: one it sent (`set_busy`, …) takes
                // effect before a request that arrives after it, which a random choice
                // could let overtake it (seen in CI under load).
                biased;
                c = commands.recv() => match c {
                    Some(Command::Shutdown(tx)) => {
                        done = Some(tx);
                        break;
                    }
                    Some(c) => self.command(c).await,
                    None => break,
                },
                e = self.swarm.select_next_some() => self.swarm_event(e).await,
                Some((peer, stream)) = incoming.next() => self.live_stream(peer, stream).await,
                Some((peer, frame)) = live.recv() => self.live_frame(peer, frame).await,
                _ = tick.tick() => self.liveness().await,
            }
        }
        // Every handle is gone: give answers already queued a moment to reach the wire.
        let grace = tokio::time::sleep(Duration::from_millis(500));
        tokio::pin!(grace);
        loop {
            tokio::select! {
                _ = &mut grace => break,
                e = self.swarm.select_next_some() => self.swarm_event(e).await,
                Some((peer, frame)) = live.recv() => self.live_frame(peer, frame).await,
            }
        }
        if let Some(tx) = done {
            let _ = tx.send(());
        }
    }

    async fn emit(&mut self, e: NodeEvent) {
        // The application must drain events; a bounded channel applies back-pressure.
        let _ = self.events.send(e).await;
    }

    /// A peer opened its live stream to us: read it if the device is confirmed.
    async fn live_stream(&mut self, peer: PeerId, stream: libp2p::Stream) {
        let Some(key) = peer_key(&peer) else { return };
        if !self.trusted.is_trusted(&key) {
            drop(stream);
            self.emit(NodeEvent::RefusedUntrusted { peer: key }).await;
            return;
        }
        tokio::spawn(live_reader(peer, stream, self.live_frames.clone()));
    }

    async fn live_frame(&mut self, peer: PeerId, frame: Result<LiveFrame, String>) {
        let Some(key) = peer_key(&peer) else { return };
        self.last_seen.insert(peer, Instant::now());
        match frame {
            Ok(frame) => self.emit(NodeEvent::Live { peer: key, frame }).await,
            Err(reason) => self.emit(NodeEvent::Rejected { peer: key, reason }).await,
        }
    }

    fn send_live(&mut self, peer: PeerId, frame: LiveFrame) {
        let writer = match self.writers.get(&peer) {
            Some(w) if !w.is_closed() => w.clone(),
            _ => {
                let (tx, rx) = mpsc::channel(LIVE_QUEUE);
                tokio::spawn(live_writer(self.control.clone(), peer, rx));
                self.writers.insert(peer, tx.clone());
                tx
            }
        };
        let _ = writer.try_send(frame.to_bytes());
    }

    fn request(&mut self, peer: PeerId, req: Request, why: Outbound) {
        let id = self.swarm.behaviour_mut().rr.send_request(&peer, req);
        self.outbound.insert(id, why);
    }

    fn respond(&mut self, channel: ResponseChannel<Response>, res: Response) {
        let _ = self.swarm.behaviour_mut().rr.send_response(channel, res);
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Dial(addr, done) => {
                let opts =
                    libp2p::swarm::dial_opts::DialOpts::unknown_peer_id().address(addr).build();
                let id = opts.connection_id();
                match self.swarm.dial(opts) {
                    Ok(()) => {
                        self.dial_waiters.insert(id, done);
                    }
                    Err(e) => {
                        let _ = done.send(Err(NetError::Transport(e.to_string())));
                    }
                }
            }
            Command::Pair(key) => {
                let Some(peer) = key_peer(&key) else { return };
                if self.pairings.contains_key(&peer) {
                    return; // one pairing at a time with a device
                }
                if self.busy_for(peer) {
                    let failed = NodeEvent::PairingFailed { peer: key, why: PairingFailure::Busy };
                    self.emit(failed).await;
                    return;
                }
                let p = PairingInitiator::new(self.own, key);
                let commitment = p.commitment();
                self.pairings.insert(peer, Pairing::Committed(p));
                self.request(peer, Request::PairCommit { commitment }, Outbound::PairCommit(peer));
            }
            Command::Confirm(key, accepted) => {
                let Some(peer) = key_peer(&key) else { return };
                self.answer_pairing(peer, accepted).await;
            }
            Command::Request(key, req, reply) => match key_peer(&key) {
                Some(peer) if self.trusted.is_trusted(&key) => {
                    self.request(peer, req, Outbound::App(reply))
                }
                _ => {
                    let _ = reply.send(Err(NetError::NotPaired));
                }
            },
            Command::Respond(id, res) => {
                if let Some(ch) = self.inbound.remove(&id.0) {
                    self.respond(ch, res);
                }
            }
            Command::Live(key, frame) => {
                if let Some(peer) = key_peer(&key)
                    && self.trusted.is_trusted(&key)
                    && self.swarm.is_connected(&peer)
                {
                    self.send_live(peer, frame);
                }
            }
            Command::Forget(key) => {
                let _ = self.trusted.forget(&key);
            }
            Command::Busy(key) => self.busy_with = key.as_ref().and_then(key_peer),
            Command::Shutdown(_) => {}
        }
    }

    /// The person here answered: tell the peer (both sides do, each when its own person
    /// answers, so neither waits on a request for a person), and finish if the peer's
    /// answer is already known.
    async fn answer_pairing(&mut self, peer: PeerId, accepted: bool) {
        let Some(Pairing::Shown { ours, theirs, .. }) = self.pairings.get_mut(&peer) else {
            return;
        };
        *ours = Some(accepted);
        let theirs = *theirs;
        self.request(peer, Request::PairConfirm { accepted }, Outbound::PairConfirm(peer));
        self.finish_pairing(peer, Some(accepted), theirs).await;
    }

    /// Whether pairing with `peer` must be refused because this device is busy with
    /// another one.
    fn busy_for(&self, peer: PeerId) -> bool {
        self.busy_with.is_some_and(|p| p != peer) || self.pairings.keys().any(|p| *p != peer)
    }

    async fn finish_pairing(&mut self, peer: PeerId, ours: Option<bool>, theirs: Option<bool>) {
        let (Some(ours), Some(theirs)) = (ours, theirs) else { return };
        self.pairings.remove(&peer);
        self.settle_pairing(peer, ours, theirs).await;
        self.release_held(peer).await;
    }

    /// A request held while pairing with `peer` (see `held`), now that it has ended:
    /// handed on if the device is now trusted, refused otherwise.
    async fn release_held(&mut self, peer: PeerId) {
        if let Some((key, request, channel)) = self.held.remove(&peer) {
            self.hand_on(key, request, channel).await;
        }
    }

    async fn settle_pairing(&mut self, peer: PeerId, ours: bool, theirs: bool) {
        let Some(key) = peer_key(&peer) else { return };
        if ours && theirs {
            let name = self.names.get(&peer).cloned().unwrap_or_default();
            match self.trusted.trust(key, &name) {
                Ok(()) => self.emit(NodeEvent::Paired { peer: key, name }).await,
                Err(e) => {
                    let why = PairingFailure::NotRemembered(e.to_string());
                    self.emit(NodeEvent::PairingFailed { peer: key, why }).await
                }
            }
        } else {
            let why =
                if ours { PairingFailure::DeclinedThere } else { PairingFailure::DeclinedHere };
            self.emit(NodeEvent::PairingFailed { peer: key, why }).await;
        }
    }

    async fn liveness(&mut self) {
        let now = Instant::now();
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in connected {
            let Some(key) = peer_key(&peer) else { continue };
            if !self.trusted.is_trusted(&key) {
                continue;
            }
            let seen = *self.last_seen.entry(peer).or_insert(now);
            if now.duration_since(seen) > LIVENESS_TIMEOUT {
                self.last_seen.remove(&peer);
                // Reported as `LinkDown` when the connection is closed.
                let _ = self.swarm.disconnect_peer_id(peer);
            } else if now.duration_since(seen) >= PING_EVERY + PING_EVERY / 4
                && self.last_ping.get(&peer).is_none_or(|t| now.duration_since(*t) >= PING_EVERY)
            {
                // Only when the link has been quiet: live frames (one a second during a
                // session) prove liveness too.
                self.last_ping.insert(peer, now);
                self.next_ping += 1;
                let nonce = self.next_ping;
                self.request(peer, Request::Ping { nonce }, Outbound::Ping);
            }
        }
        // Redial confirmed devices we know addresses for; mDNS does not re-announce.
        if now.duration_since(self.last_redial) >= PING_EVERY {
            self.last_redial = now;
            let down: Vec<(PeerId, Multiaddr)> = self
                .addresses
                .iter()
                .filter(|(p, _)| {
                    !self.swarm.is_connected(p)
                        && peer_key(p).is_some_and(|k| self.trusted.is_trusted(&k))
                })
                .flat_map(|(p, a)| a.iter().map(move |a| (*p, a.clone())))
                .collect();
            for (peer, addr) in down {
                let opts =
                    libp2p::swarm::dial_opts::DialOpts::peer_id(peer).addresses(vec![addr]).build();
                let _ = self.swarm.dial(opts);
            }
        }
    }

    async fn swarm_event(&mut self, e: SwarmEvent<BehaviourEvent>) {
        match e {
            SwarmEvent::NewListenAddr { address, .. } => {
                self.emit(NodeEvent::Listening(address)).await
            }
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, connection_id, .. } => {
                let addr = endpoint.get_remote_address().clone();
                if endpoint.is_dialer() {
                    self.dialed.insert(peer_id);
                } else {
                    self.dialed.remove(&peer_id);
                }
                if endpoint.is_dialer() {
                    remember_address(self.addresses.entry(peer_id).or_default(), &addr);
                }
                self.last_seen.insert(peer_id, Instant::now());
                if let Some(done) = self.dial_waiters.remove(&connection_id) {
                    let _ = done.send(Ok(()));
                }
                let hello = Request::Hello { version: self.version, name: self.name.clone() };
                self.request(peer_id, hello, Outbound::Hello);
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                let was_up = self.announced.remove(&peer_id);
                self.dialed.remove(&peer_id);
                self.last_seen.remove(&peer_id);
                // Its live stream died with it; frames still queued are sent again later.
                self.writers.remove(&peer_id);
                // Silent (liveness timeout) or closed by the peer: either way it is down.
                if was_up
                    && let Some(key) = peer_key(&peer_id)
                    && self.trusted.is_trusted(&key)
                {
                    self.emit(NodeEvent::LinkDown { peer: key }).await;
                }
            }
            SwarmEvent::OutgoingConnectionError { error, connection_id, .. } => {
                if let Some(done) = self.dial_waiters.remove(&connection_id) {
                    let _ = done.send(Err(NetError::Transport(error.to_string())));
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(list))) => {
                for (peer, address) in list {
                    let Some(key) = peer_key(&peer) else { continue };
                    remember_address(self.addresses.entry(peer).or_default(), &address);
                    self.emit(NodeEvent::Discovered { peer: key, address: address.clone() }).await;
                    // Only one side dials, or there would be two connections.
                    if *self.swarm.local_peer_id() < peer && !self.swarm.is_connected(&peer) {
                        let _ = self.swarm.dial(address);
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Rr(ev)) => self.rr_event(ev).await,
            _ => {}
        }
    }

    async fn rr_event(&mut self, ev: request_response::Event<Request, Response>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => {
                self.last_seen.insert(peer, Instant::now());
                match message {
                    request_response::Message::Request { request, channel, .. } => {
                        self.on_request(peer, request, channel).await
                    }
                    request_response::Message::Response { request_id, response } => {
                        self.on_response(peer, request_id, response).await
                    }
                }
            }
            request_response::Event::OutboundFailure { request_id, error, peer, .. } => {
                match self.outbound.remove(&request_id) {
                    Some(Outbound::App(reply)) => {
                        let _ = reply.send(Err(NetError::Transport(error.to_string())));
                    }
                    Some(
                        Outbound::PairCommit(_)
                        | Outbound::PairReveal(_)
                        | Outbound::PairConfirm(_),
                    ) => {
                        self.pairings.remove(&peer);
                        if let Some(key) = peer_key(&peer) {
                            let why = PairingFailure::Link(error.to_string());
                            self.emit(NodeEvent::PairingFailed { peer: key, why }).await;
                        }
                        self.release_held(peer).await;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    async fn on_request(
        &mut self,
        peer: PeerId,
        request: Request,
        channel: ResponseChannel<Response>,
    ) {
        let Some(key) = peer_key(&peer) else {
            self.respond(channel, Response::Refused { reason: "not an ed25519 device".into() });
            return;
        };
        match request {
            Request::Hello { version, .. } if version != self.version => {
                let reason = format!(
                    "wire version {version} is not supported (this device speaks {}): update dualrec on both devices",
                    self.version
                );
                self.respond(channel, Response::Refused { reason: reason.clone() });
                self.emit(NodeEvent::Rejected { peer: key, reason }).await;
            }
            Request::Hello { name, .. } => {
                let name = display_name(&name);
                self.names.insert(peer, name);
                // `Connected` is reported once, when our own Hello is answered.
                self.respond(
                    channel,
                    Response::Hello { version: self.version, name: self.name.clone() },
                );
            }
            Request::Ping { nonce } => self.respond(channel, Response::Pong { nonce }),
            Request::PairCommit { .. } if self.busy_for(peer) => {
                self.respond(channel, Response::Refused { reason: BUSY.into() });
            }
            Request::PairCommit { commitment } => {
                let mut r = PairingResponder::new(self.own, key);
                let nonce = r.on_commit(commitment);
                self.pairings.insert(peer, Pairing::Answered(r));
                self.respond(channel, Response::PairNonce { nonce });
            }
            Request::PairReveal { nonce } => self.on_reveal(peer, key, nonce, channel).await,
            Request::PairConfirm { accepted } => {
                self.on_confirm(peer, accepted, channel).await;
            }
            other => self.hand_on(key, other, channel).await,
        }
    }

    /// Pairing step 3 from the initiator: the code both screens show, if the reveal
    /// matches its commitment.
    async fn on_reveal(
        &mut self,
        peer: PeerId,
        key: PublicKey,
        nonce: [u8; 32],
        channel: ResponseChannel<Response>,
    ) {
        let Some(Pairing::Answered(r)) = self.pairings.remove(&peer) else {
            let reason = "no pairing in progress".into();
            return self.respond(channel, Response::Refused { reason });
        };
        match r.on_reveal(&nonce) {
            Ok(code) => {
                self.pairings.insert(peer, Pairing::Shown { code, ours: None, theirs: None });
                self.respond(channel, Response::PairRevealed);
                self.emit(NodeEvent::PairingCode { peer: key, code }).await;
            }
            Err(e) => {
                self.respond(channel, Response::Refused { reason: e.to_string() });
                let why = PairingFailure::CommitmentMismatch;
                self.emit(NodeEvent::PairingFailed { peer: key, why }).await;
            }
        }
    }

    /// The other person's answer to the code.
    async fn on_confirm(
        &mut self,
        peer: PeerId,
        accepted: bool,
        channel: ResponseChannel<Response>,
    ) {
        let Some(Pairing::Shown { ours, theirs, .. }) = self.pairings.get_mut(&peer) else {
            return self.respond(channel, Response::Refused { reason: "no code shown".into() });
        };
        *theirs = Some(accepted);
        let ours = *ours;
        let response = match ours {
            Some(mine) => Response::PairConfirm { accepted: mine },
            // Our person has not answered: our own PairConfirm follows.
            None => Response::Refused { reason: NOT_ANSWERED_YET.into() },
        };
        self.respond(channel, response);
        self.finish_pairing(peer, ours, Some(accepted)).await;
    }

    /// A session request: handed to the application from a confirmed device only.
    async fn hand_on(
        &mut self,
        key: PublicKey,
        request: Request,
        channel: ResponseChannel<Response>,
    ) {
        if !self.trusted.is_trusted(&key) {
            if let Some(peer) = key_peer(&key)
                && matches!(self.pairings.get(&peer), Some(Pairing::Shown { ours: Some(true), .. }))
            {
                if let Some((_, _, older)) = self.held.insert(peer, (key, request, channel)) {
                    let reason = "superseded by a later request".into();
                    self.respond(older, Response::Refused { reason });
                }
                return;
            }
            let reason = "this device has not been paired".into();
            self.respond(channel, Response::Refused { reason });
            return self.emit(NodeEvent::RefusedUntrusted { peer: key }).await;
        }
        let id = self.next_inbound;
        self.next_inbound += 1;
        self.inbound.insert(id, channel);
        let reply = RequestId(id);
        self.emit(NodeEvent::Inbound { peer: key, request: Box::new(request), reply }).await;
    }

    async fn on_response(&mut self, peer: PeerId, id: OutboundRequestId, response: Response) {
        let Some(why) = self.outbound.remove(&id) else { return };
        let key = peer_key(&peer);
        match (why, response) {
            (Outbound::Hello, Response::Hello { version, .. }) if version != self.version => {
                if let Some(key) = key {
                    let reason = format!(
                        "the other device speaks wire version {version}, this one {}: update dualrec on both devices",
                        self.version
                    );
                    self.emit(NodeEvent::Rejected { peer: key, reason }).await;
                }
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            (Outbound::Hello, Response::Refused { reason }) => {
                if let Some(key) = key {
                    self.emit(NodeEvent::Rejected { peer: key, reason }).await;
                }
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            (Outbound::Hello, Response::Hello { name, .. }) => {
                let name = display_name(&name);
                self.names.insert(peer, name.clone());
                // Once per link, however many connections it has.
                if let (Some(key), true) = (key, self.announced.insert(peer)) {
                    let trusted = self.trusted.is_trusted(&key);
                    let we_dialed = self.dialed.contains(&peer);
                    self.emit(NodeEvent::Connected { peer: key, name, trusted, we_dialed }).await;
                }
            }
            (Outbound::Ping, Response::Pong { .. }) => {}
            (Outbound::PairCommit(p), Response::PairNonce { nonce }) => {
                if let Some(Pairing::Committed(init)) = self.pairings.remove(&p) {
                    let (reveal, code) = init.reveal(&nonce);
                    self.pairings.insert(p, Pairing::Shown { code, ours: None, theirs: None });
                    self.request(p, Request::PairReveal { nonce: reveal }, Outbound::PairReveal(p));
                }
            }
            (Outbound::PairReveal(p), Response::PairRevealed) => {
                if let (Some(Pairing::Shown { code, .. }), Some(key)) = (self.pairings.get(&p), key)
                {
                    let code = *code;
                    self.emit(NodeEvent::PairingCode { peer: key, code }).await;
                }
            }
            (Outbound::PairConfirm(p), Response::PairConfirm { accepted }) => {
                if let Some(Pairing::Shown { ours, theirs, .. }) = self.pairings.get_mut(&p) {
                    *theirs = Some(accepted);
                    let ours = *ours;
                    self.finish_pairing(p, ours, Some(accepted)).await;
                }
            }
            // The other person has not answered; their device tells us when they do.
            (Outbound::PairConfirm(_), Response::Refused { reason })
                if reason == NOT_ANSWERED_YET => {}
            (Outbound::App(reply), r) => {
                let _ = reply.send(Ok(r));
            }
            (Outbound::PairCommit(p) | Outbound::PairReveal(p) | Outbound::PairConfirm(p), r) => {
                // A refusal for a pairing already finished (both answers known: the
                // requests crossed) is moot; only one still in progress fails.
                if self.pairings.remove(&p).is_none() {
                    return;
                }
                if let Some(key) = key {
                    let why = match r {
                        Response::Refused { reason } if reason == BUSY => PairingFailure::Busy,
                        Response::Refused { reason } => PairingFailure::Refused(reason),
                        _ => PairingFailure::Refused("an unexpected answer".into()),
                    };
                    self.emit(NodeEvent::PairingFailed { peer: key, why }).await;
                }
                self.release_held(p).await;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::Cursor;
    use request_response::Codec as _;

    fn read(bytes: Vec<u8>) -> std::io::Result<Request> {
        block_on(WireCodec.read_request(&StreamProtocol::new(PROTOCOL), &mut Cursor::new(bytes)))
    }

    #[test]
    fn hostile_frames_are_refused_without_allocating() {
        // A length of 4 GiB must not be allocated.
        assert!(read(u32::MAX.to_le_bytes().to_vec()).is_err());
        assert!(read(0u32.to_le_bytes().to_vec()).is_err());
        // Garbage of a plausible length, and a frame cut short.
        let mut garbage = 5u32.to_le_bytes().to_vec();
        garbage.extend_from_slice(&[9, 9, 9, 9, 9]);
        assert_eq!(
            read(garbage).map_err(|e| e.kind()).err(),
            Some(std::io::ErrorKind::InvalidData)
        );
        let ping = Request::Ping { nonce: 7 }.to_bytes();
        let mut cut = (ping.len() as u32).to_le_bytes().to_vec();
        cut.extend_from_slice(&ping[..ping.len() - 1]);
        assert!(read(cut).is_err());
        let mut ok = (ping.len() as u32).to_le_bytes().to_vec();
        ok.extend_from_slice(&ping);
        assert_eq!(read(ok).expect("a valid frame"), Request::Ping { nonce: 7 });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_device_speaking_another_wire_version_is_refused_on_both_sides() {
        let dir = tempfile::tempdir().expect("tmp");
        let config = |name: &str| NodeConfig {
            name: name.into(),
            listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            mdns: false,
            trusted: TrustedDevices::load(&dir.path().join(name)).expect("store"),
            request_timeout: Duration::from_secs(5),
        };
        let (_old, mut old_events) =
            start(&Identity::from_seed(&[1; 32]), config("old")).expect("old");
        let (new, mut new_events) =
            start_speaking(&Identity::from_seed(&[2; 32]), config("new"), WIRE_VERSION + 1)
                .expect("new");
        let addr = loop {
            if let Some(NodeEvent::Listening(a)) = old_events.recv().await {
                break a;
            }
        };
        new.dial(&addr.to_string()).await.expect("dial");
        for (who, events) in [("old", &mut old_events), ("new", &mut new_events)] {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Some(NodeEvent::Rejected { reason, .. })) => {
                        assert!(reason.contains("version"), "{who}: {reason}");
                        break;
                    }
                    Ok(Some(NodeEvent::Connected { .. })) => {
                        panic!("{who} reported a connection across versions")
                    }
                    Ok(Some(_)) => {}
                    _ => panic!("{who} did not refuse the other version"),
                }
            }
        }
    }

    #[test]
    fn peer_ids_carry_the_device_key() {
        let id = Identity::from_seed(&[5; 32]);
        let peer = key_peer(&id.public()).expect("peer id");
        assert_eq!(peer_key(&peer), Some(id.public()));
    }
}
