//! The meeting from the co-signed start to the end (SPEC §7, §12.3–12.5) as a deterministic
//! state machine: the executor feeds it [`Input`]s with the session time, executes the
//! [`Action`]s it asks for in order, and wakes it at [`Meeting::poll_timeout`].
//!
//! It owns this device's chain and chunk digester, one live exchange per other party (its
//! chain of their checkpoints, this device's checkpoints awaiting their receipt, and where
//! in the evidence log the backlog beyond memory starts), capture gaps, and the end
//! handshake. It has no clock, no files and no network: that is what makes it testable by
//! simulation.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use dualrec_proof::{
    CaptureGap, ChainState, Checkpoint, ChunkDigester, CoSigned, Digest, EndReason, EndRecord,
    Identity, LogEntry, LogRecord, PartyFinal, PartySignature, PublicKey, SessionId, Signed,
    StartRecord, Timestamp,
};

use crate::exchange::{Exchange, ExchangeError};
use crate::handshake::{HandshakeError, acknowledge_stop, end_countersigned};
use crate::wire::{LiveFrame, Request, Response};

/// How often a party is asked to counter-sign this device's end before it is ended
/// without that party's signature.
const END_ASKS: u8 = 3;

/// The meeting's timing and memory limits.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MeetingConfig {
    /// Unreceipted checkpoints kept in memory per party; more wait in the evidence log.
    pub window: usize,
    /// A checkpoint not receipted this long after it was sent goes out again.
    pub resend_after: Duration,
    /// The agreed length: the meeting stops by itself when the session clock reaches it.
    pub duration: Option<Duration>,
    /// After the recording stops, how long the backlog is delivered while the link is up.
    pub deliver_for: Duration,
    /// After the recording stops with a link down, how long to wait for the party to
    /// come back and witness the rest (the person can stop waiting sooner).
    pub end_grace: Duration,
    /// After the end is signed by all, how long to stay for the others' ends.
    pub linger: Duration,
}

impl Default for MeetingConfig {
    fn default() -> MeetingConfig {
        MeetingConfig {
            window: 300,
            resend_after: Duration::from_secs(3),
            duration: None,
            deliver_for: Duration::from_secs(10),
            end_grace: Duration::from_secs(60),
            linger: Duration::from_secs(20),
        }
    }
}

impl MeetingConfig {
    /// The default limits with an agreed length.
    pub fn with_duration(duration: Option<Duration>) -> MeetingConfig {
        MeetingConfig { duration, ..MeetingConfig::default() }
    }
}

/// Names a request from another party that awaits this device's [`Action::Respond`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// What happened, told to the meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// The encoder produced a packet (in order, 20 ms each).
    Packet { data: Vec<u8>, samples: u32 },
    /// Input was lost; the encoder put silence in its place (SPEC §7.3).
    Gap { first_sample: u64, samples: u64 },
    /// Capture ended (after [`Action::StopCapture`], or by itself); `failed`: the input
    /// failed or disappeared.
    CaptureEnded { input_samples: u64, failed: bool },
    /// The recording file is finished (after [`Action::FinishRecording`]).
    RecordingFinished { sha256: Digest },
    /// A live frame from another device (unchecked).
    Frame { from: PublicKey, frame: LiveFrame },
    /// A request from another device (unchecked), to be answered with `id`.
    Request { from: PublicKey, id: RequestId, request: Request },
    /// The answer to this device's [`Action::Request`]; `None` when none came.
    Response { from: PublicKey, response: Option<Response> },
    /// The link to a party is up (again).
    LinkUp { peer: PublicKey },
    /// The link to a party went down.
    LinkDown { peer: PublicKey },
    /// This device's own checkpoints, read back from the evidence log after
    /// [`Action::ReadBack`] (others mixed in are ignored).
    ReadBack { peer: PublicKey, checkpoints: Vec<Signed<Checkpoint>> },
    /// The person stops (while recording), or stops waiting (at the end).
    Stop { reason: EndReason },
    /// Time passed (see [`Meeting::poll_timeout`]).
    Tick,
}

/// What the meeting asks of its executor, in order. `Append` must be on disk (synced)
/// before the next action runs: nothing is sent that is not stored first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Write this packet to the recording.
    WritePacket(Vec<u8>),
    /// The chunk is complete: flush the recording's page (SPEC §11).
    EndChunk,
    /// Append these records to the evidence log and sync.
    Append(Vec<LogRecord>),
    /// Send a live frame (it may be lost; the meeting sends again).
    Send { to: PublicKey, frame: LiveFrame },
    /// Send a request; its answer comes back as [`Input::Response`].
    Request { to: PublicKey, request: Request },
    /// Answer a request.
    Respond { id: RequestId, response: Response },
    /// Stop capturing; [`Input::CaptureEnded`] follows.
    StopCapture,
    /// Finish the recording file; [`Input::RecordingFinished`] follows.
    FinishRecording { input_samples: u64 },
    /// Read this device's checkpoints from the evidence log from byte `from_offset` (a
    /// record boundary); [`Input::ReadBack`] follows.
    ReadBack { peer: PublicKey, from_offset: u64 },
    /// Tell the people.
    Event(Event),
}

/// Why something from another device was refused. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    #[error(transparent)]
    Frame(#[from] ExchangeError),
    #[error(transparent)]
    End(#[from] HandshakeError),
    /// A request that has no place in a running meeting (a proposal, pairing).
    #[error("not expected during a meeting")]
    NotDuringMeeting,
    /// A device that is not a party of this meeting.
    #[error("not a party of this meeting")]
    NotAParty,
}

/// What the people should know, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Chunks (seconds) of this recording committed to the evidence log.
    Committed { chunks: u64 },
    /// Chunks of this recording that `peer` has receipted.
    Receipted { peer: PublicKey, chunks: u64 },
    /// Chunks of `peer`'s recording witnessed here.
    Witnessed { peer: PublicKey, chunks: u64 },
    /// The link to `peer` went down or came back.
    Link { peer: PublicKey, up: bool },
    /// Something from `peer` was refused.
    Refused { peer: PublicKey, why: Refusal },
    /// Input was lost here; silence stands in its place and the evidence says so.
    CaptureGap { first_sample: u64, samples: u64 },
    /// The recording is stopping: `by` (this device or another party) for `reason`.
    Stopping { by: PublicKey, reason: EndReason },
    /// The recording is saved; waiting up to `up_to` for `peer` (link down) to witness
    /// its last `unconfirmed` seconds.
    WaitingForWitness { peer: PublicKey, unconfirmed: u64, up_to: Duration },
    /// `peer` did not sign the end (`why`; `None`: no answer).
    EndNotSigned { peer: PublicKey, why: Option<HandshakeError> },
    /// The end is in the evidence log, signed by every party (`together`) or not.
    Ended { together: bool },
}

/// One other party, as far as this device knows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartyState {
    pub key: PublicKey,
    /// This device's chunks that party receipted.
    pub receipted: u64,
    /// That party's chunks witnessed here.
    pub witnessed: u64,
    /// It signed this device's end.
    pub signed_end: bool,
    /// Its end, counter-signed here.
    pub sent_end: bool,
    pub link_up: bool,
}

/// Where a meeting stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    pub session: SessionId,
    /// This device's chunks committed.
    pub chunks: u64,
    pub parties: Vec<PartyState>,
    /// The end was signed by every party.
    pub ended_together: bool,
    pub done: bool,
}

#[derive(Debug)]
struct Party {
    exchange: Exchange,
    link_up: bool,
    /// When the link last came up.
    up_since: Option<Duration>,
    /// When the party last receipted something: delivery goes on while it does.
    last_receipt: Duration,
    /// Log offset of the first own checkpoint that did not fit the exchange's window.
    spill_at: Option<u64>,
    reading_back: bool,
    /// The party's end, counter-signed here.
    end: Option<CoSigned<EndRecord>>,
    signed_ours: bool,
    /// How often this device's end was asked of the party.
    end_asked: u8,
}

#[derive(Debug)]
enum Phase {
    Recording,
    /// Capture is stopping; packets may still come.
    Stopping,
    /// The recording file is being finished.
    Finishing,
    /// The backlog goes out; `told`: the person was told about a link that is down.
    Delivering {
        since: Duration,
        told: bool,
    },
    /// This device's end awaits the others' signatures.
    Ending {
        end: EndRecord,
        mine: PartySignature,
        got: Vec<PartySignature>,
        waiting: usize,
    },
    /// Staying for the others' ends.
    Lingering {
        until: Duration,
    },
    Done,
}

/// One meeting, on one device.
#[derive(Debug)]
pub struct Meeting {
    identity: Identity,
    start: CoSigned<StartRecord>,
    config: MeetingConfig,
    chain: ChainState,
    digester: ChunkDigester,
    per_chunk: usize,
    parties: BTreeMap<PublicKey, Party>,
    /// Bytes in the evidence log once every appended record is written.
    log_len: u64,
    phase: Phase,
    reason: EndReason,
    /// The party whose stop ended the meeting.
    ended_by: PublicKey,
    next_resend: Duration,
    sha256: Option<Digest>,
    ended_together: bool,
    actions: VecDeque<Action>,
}

fn at(now: Timestamp) -> Duration {
    Duration::from_millis(now.mono_ms)
}

impl Meeting {
    /// A meeting that has just started: `start` is checked and co-signed, and is the only
    /// record in the evidence log, which is `log_len` bytes long.
    pub fn new(
        identity: Identity,
        start: CoSigned<StartRecord>,
        log_len: u64,
        config: MeetingConfig,
    ) -> Meeting {
        let me = identity.public();
        let window = config.window;
        let parties = start
            .record
            .parties
            .iter()
            .filter(|p| p.key != me)
            .map(|p| {
                let exchange = Exchange::new(&start.record, me, p.key, window);
                let party = Party {
                    exchange,
                    link_up: true,
                    up_since: Some(Duration::ZERO),
                    last_receipt: Duration::ZERO,
                    spill_at: None,
                    reading_back: false,
                    end: None,
                    signed_ours: false,
                    end_asked: 0,
                };
                (p.key, party)
            })
            .collect();
        Meeting {
            chain: ChainState::new(&start.record, &me),
            digester: ChunkDigester::new(),
            per_chunk: start.record.audio.packets_per_chunk() as usize,
            identity,
            start,
            config,
            parties,
            log_len,
            phase: Phase::Recording,
            reason: EndReason::Stopped,
            ended_by: me,
            next_resend: Duration::from_secs(1),
            sha256: None,
            ended_together: false,
            actions: VecDeque::new(),
        }
    }

    /// The meeting this device rejoins after its program ended without its end (a crash,
    /// a power cut; SPEC §12.7), from the evidence log as it was left (`entries`, whose
    /// length is `log_len` bytes): its own chain continues after its last checkpoint, and
    /// each party's exchange is rebuilt (see [`Exchange::resume`]). The links are down
    /// until they come up. Packets of the recording after the last checkpoint are fed
    /// again as [`Input::Packet`]s, then the silence for the time it was away.
    pub fn resume(
        identity: Identity,
        start: CoSigned<StartRecord>,
        entries: &[LogEntry],
        log_len: u64,
        config: MeetingConfig,
    ) -> Meeting {
        let me = identity.public();
        let mut m = Meeting::new(identity, start, log_len, config);
        let last = entries
            .iter()
            .filter_map(|e| match &e.value {
                LogRecord::Checkpoint(c) if c.signer == me => Some(c.body),
                _ => None,
            })
            .max_by_key(|c| c.index);
        if let Some(last) = last {
            m.chain = ChainState::resume(&last);
        }
        let start = m.start.record.clone();
        for (key, p) in &mut m.parties {
            let (exchange, spill) = Exchange::resume(&start, me, *key, m.config.window, entries);
            p.exchange = exchange;
            p.spill_at = spill;
            p.link_up = false;
            p.up_since = None;
            p.end = entries.iter().find_map(|e| match &e.value {
                LogRecord::End(co)
                    if co.record.finals.iter().any(|f| f.party == *key)
                        && co.signatures.iter().any(|s| s.signer == me) =>
                {
                    Some(co.clone())
                }
                _ => None,
            });
        }
        m
    }

    /// The next action to execute, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When (session time) the meeting wants an [`Input::Tick`], if it waits for time.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let deadline = match &self.phase {
            Phase::Recording => self.config.duration,
            Phase::Delivering { since, .. } => Some(*since + self.config.end_grace),
            Phase::Lingering { until } => Some(*until),
            _ => None,
        };
        match (&self.phase, deadline) {
            (Phase::Done, _) => None,
            (_, Some(d)) => Some(d.min(self.next_resend)),
            (_, None) => Some(self.next_resend),
        }
    }

    /// Whether the meeting is over: nothing more will be asked.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// The co-signed start.
    pub fn start(&self) -> &CoSigned<StartRecord> {
        &self.start
    }

    /// Where the meeting stands.
    pub fn summary(&self) -> Summary {
        Summary {
            session: self.start.record.session,
            chunks: self.chain.chunks(),
            parties: self.parties.iter().map(|(k, p)| party_state(*k, p)).collect(),
            ended_together: self.ended_together,
            done: self.is_done(),
        }
    }

    /// Handles one input at session time `now`.
    pub fn handle(&mut self, input: Input, now: Timestamp) {
        match input {
            Input::Packet { data, samples } => self.on_packet(data, samples, now),
            Input::Gap { first_sample, samples } => self.on_gap(first_sample, samples, now),
            Input::CaptureEnded { input_samples, failed } => {
                self.on_capture_ended(input_samples, failed)
            }
            Input::RecordingFinished { sha256 } => self.on_recording_finished(sha256, now),
            Input::Frame { from, frame } => self.on_frame(from, frame, now),
            Input::Request { from, id, request } => self.on_request(from, id, request, now),
            Input::Response { from, response } => self.on_response(from, response, now),
            Input::LinkUp { peer } => self.on_link(peer, true, now),
            Input::LinkDown { peer } => self.on_link(peer, false, now),
            Input::ReadBack { peer, checkpoints } => self.on_read_back(peer, checkpoints, now),
            Input::Stop { reason } => self.on_stop(reason, now),
            Input::Tick => {}
        }
        self.on_time(now);
    }

    fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    fn event(&mut self, event: Event) {
        self.actions.push_back(Action::Event(event));
    }

    /// Appends records; the log's length follows, so the backlog can be found in it.
    fn append(&mut self, records: Vec<LogRecord>) {
        if records.is_empty() {
            return;
        }
        self.log_len += records.iter().map(LogRecord::framed_len).sum::<u64>();
        self.push(Action::Append(records));
    }

    fn on_packet(&mut self, data: Vec<u8>, samples: u32, now: Timestamp) {
        if !matches!(self.phase, Phase::Recording | Phase::Stopping) {
            return;
        }
        self.digester.push(&data, samples);
        self.push(Action::WritePacket(data));
        if self.digester.packet_count() >= self.per_chunk {
            self.push(Action::EndChunk);
            self.commit_chunk(now);
        }
    }

    /// Signs the chunk in progress, logs it, then offers it to every party.
    fn commit_chunk(&mut self, now: Timestamp) {
        let cp = self.chain.commit(&mut self.digester, now).sign(&self.identity);
        let offset = self.log_len;
        self.append(vec![LogRecord::Checkpoint(cp)]);
        let mut sends = Vec::new();
        for (key, p) in &mut self.parties {
            match p.exchange.commit(cp, at(now)) {
                Some(frame) if p.link_up => sends.push(Action::Send { to: *key, frame }),
                Some(_) => {}
                // The window is full: from here on the log is the queue.
                None => {
                    p.spill_at.get_or_insert(offset);
                }
            }
        }
        self.actions.extend(sends);
        self.event(Event::Committed { chunks: self.chain.chunks() });
    }

    fn on_gap(&mut self, first_sample: u64, samples: u64, now: Timestamp) {
        let session = self.start.record.session;
        let gap = CaptureGap { session, first_sample, samples, time: now }.sign(&self.identity);
        self.append(vec![LogRecord::Gap(gap)]);
        let mut sends = Vec::new();
        for (key, p) in &mut self.parties {
            let frame = p.exchange.gap(gap);
            if p.link_up {
                sends.push(Action::Send { to: *key, frame });
            }
        }
        self.actions.extend(sends);
        self.event(Event::CaptureGap { first_sample, samples });
    }

    fn on_stop(&mut self, reason: EndReason, now: Timestamp) {
        match self.phase {
            Phase::Recording => self.begin_stopping(self.identity.public(), reason),
            // The person stops waiting for the others.
            Phase::Delivering { .. } => self.begin_ending(now),
            Phase::Lingering { .. } => self.phase = Phase::Done,
            _ => {}
        }
    }

    fn begin_stopping(&mut self, by: PublicKey, reason: EndReason) {
        self.reason = reason;
        self.ended_by = by;
        self.phase = Phase::Stopping;
        self.push(Action::StopCapture);
        self.event(Event::Stopping { by, reason });
    }

    fn on_capture_ended(&mut self, input_samples: u64, failed: bool) {
        if !matches!(self.phase, Phase::Recording | Phase::Stopping) {
            return;
        }
        if matches!(self.phase, Phase::Recording) {
            let reason = if failed { EndReason::CaptureFailed } else { EndReason::Stopped };
            self.reason = reason;
            self.event(Event::Stopping { by: self.identity.public(), reason });
        }
        self.phase = Phase::Finishing;
        self.push(Action::FinishRecording { input_samples });
    }

    fn on_recording_finished(&mut self, sha256: Digest, now: Timestamp) {
        if !matches!(self.phase, Phase::Finishing) {
            return;
        }
        self.sha256 = Some(sha256);
        if !self.digester.is_empty() {
            self.commit_chunk(now);
        }
        self.phase = Phase::Delivering { since: at(now), told: false };
    }
}

impl Meeting {
    /// A live frame: checked, stored, then answered (SPEC §12.4).
    fn on_frame(&mut self, from: PublicKey, frame: LiveFrame, now: Timestamp) {
        let Some(p) = self.parties.get_mut(&from) else {
            self.event(Event::Refused { peer: from, why: Refusal::NotAParty });
            return;
        };
        match p.exchange.on_frame(&self.identity, frame, now) {
            Ok(handled) => {
                let (receipted, witnessed) = (p.exchange.receipted(), p.exchange.witnessed());
                if matches!(frame, LiveFrame::Receipt(_)) {
                    p.last_receipt = at(now);
                }
                self.append(handled.store);
                if let Some(frame) = handled.reply {
                    self.push(Action::Send { to: from, frame });
                }
                self.event(Event::Receipted { peer: from, chunks: receipted });
                self.event(Event::Witnessed { peer: from, chunks: witnessed });
                self.pump(from, now);
            }
            Err(e) => self.event(Event::Refused { peer: from, why: e.into() }),
        }
    }

    /// A request: a checkpoint in full or a party's end; anything else is refused.
    fn on_request(&mut self, from: PublicKey, id: RequestId, request: Request, now: Timestamp) {
        let answer = match (self.parties.contains_key(&from), request) {
            (false, _) => Err(Refusal::NotAParty),
            (true, Request::Checkpoint(cp)) => self.checkpoint_request(from, cp, now),
            (true, Request::Stop { end, signature }) => self.stop_request(from, &end, &signature),
            (true, _) => Err(Refusal::NotDuringMeeting),
        };
        let response = answer.unwrap_or_else(|why| {
            let reason = why.to_string();
            self.event(Event::Refused { peer: from, why });
            Response::Refused { reason }
        });
        self.push(Action::Respond { id, response });
        if let Some(p) = self.parties.get(&from)
            && p.end.is_some()
            && matches!(self.phase, Phase::Recording)
        {
            // The other party stopped the meeting: so does this device, saying so.
            let reason = p.end.as_ref().map_or(EndReason::Stopped, |e| e.record.reason);
            self.begin_stopping(from, reason);
        }
    }

    fn checkpoint_request(
        &mut self,
        from: PublicKey,
        cp: Signed<Checkpoint>,
        now: Timestamp,
    ) -> Result<Response, Refusal> {
        let Some(p) = self.parties.get_mut(&from) else { return Err(Refusal::NotAParty) };
        let (store, receipt) = p.exchange.on_checkpoint(&self.identity, cp, now)?;
        let witnessed = p.exchange.witnessed();
        self.append(store);
        self.event(Event::Witnessed { peer: from, chunks: witnessed });
        Ok(Response::Receipt(receipt))
    }

    /// A party's end: counter-signed and stored once. It may name this device as the one
    /// that ended the meeting only if this device did.
    fn stop_request(
        &mut self,
        from: PublicKey,
        end: &EndRecord,
        theirs: &PartySignature,
    ) -> Result<Response, Refusal> {
        // It may say it ended the meeting itself, or name the party this device also
        // knows ended it (this device, or a third party whose stop came here too).
        let stopping = !matches!(self.phase, Phase::Recording);
        if end.ended_by != from && !(stopping && end.ended_by == self.ended_by) {
            return Err(HandshakeError::WrongParties.into());
        }
        let (response, co) =
            acknowledge_stop(&self.identity, from, &self.start.record, end, theirs)?;
        let Some(p) = self.parties.get_mut(&from) else { return Err(Refusal::NotAParty) };
        match &p.end {
            // Asked again (the answer was lost): the same signature, nothing stored.
            Some(held) if held.record == *end => return Ok(response),
            Some(_) => return Err(HandshakeError::WrongParties.into()),
            None => p.end = Some(co.clone()),
        }
        self.append(vec![LogRecord::End(co)]);
        Ok(response)
    }

    /// The link to a party came back (the whole backlog goes out, in order, and this
    /// device's capture gaps) or went down.
    fn on_link(&mut self, peer: PublicKey, up: bool, now: Timestamp) {
        let Some(p) = self.parties.get_mut(&peer) else { return };
        let was = p.link_up;
        p.link_up = up;
        p.up_since = up.then(|| p.up_since.filter(|_| was).unwrap_or(at(now)));
        if up {
            let mut frames = p.exchange.due(at(now), Duration::ZERO);
            frames.extend(p.exchange.gaps());
            self.actions.extend(frames.into_iter().map(|frame| Action::Send { to: peer, frame }));
        }
        if was != up {
            self.event(Event::Link { peer, up });
        }
    }

    fn on_read_back(
        &mut self,
        peer: PublicKey,
        checkpoints: Vec<Signed<Checkpoint>>,
        now: Timestamp,
    ) {
        let Some(p) = self.parties.get_mut(&peer) else { return };
        p.reading_back = false;
        p.exchange.refill(checkpoints);
        if !p.exchange.spilling() {
            p.spill_at = None;
        }
        self.pump(peer, now);
    }
}

impl Meeting {
    /// What is due at `now`: sending again, reading the backlog back, the agreed length,
    /// the end of delivery, the end of lingering.
    fn on_time(&mut self, now: Timestamp) {
        if at(now) >= self.next_resend {
            self.next_resend = at(now) + Duration::from_secs(1);
            self.resend(now);
        }
        let all_ended = self.parties.values().all(|p| p.end.is_some());
        match self.phase {
            Phase::Recording if self.config.duration.is_some_and(|d| at(now) >= d) => {
                self.begin_stopping(self.identity.public(), EndReason::DurationReached);
            }
            Phase::Delivering { .. } => self.deliver(now),
            Phase::Lingering { until } if at(now) >= until || all_ended => {
                self.phase = Phase::Done;
            }
            _ => {}
        }
    }

    /// Sends again what a party has not receipted in a while, asking for the backlog to
    /// be read back from the log when more waits there than memory holds.
    fn resend(&mut self, now: Timestamp) {
        let keys: Vec<PublicKey> = self.parties.keys().copied().collect();
        for key in keys {
            self.pump(key, now);
        }
    }

    /// Keeps one party's backlog moving: asks for more from the log when the window has
    /// room, and sends what is due (checkpoints just read back are due at once).
    fn pump(&mut self, key: PublicKey, now: Timestamp) {
        let Some(p) = self.parties.get_mut(&key) else { return };
        if let (Some(_), Some(from_offset), false) =
            (p.exchange.wants_refill(), p.spill_at, p.reading_back)
        {
            p.reading_back = true;
            self.actions.push_back(Action::ReadBack { peer: key, from_offset });
        }
        if p.link_up {
            // Once the recording has stopped, the backlog is all that is left to do: a
            // checkpoint lost again and again must not run out the delivery's time.
            let after = match self.phase {
                Phase::Recording | Phase::Stopping | Phase::Finishing => self.config.resend_after,
                _ => self.config.resend_after.min(Duration::from_secs(1)),
            };
            let due = p.exchange.due(at(now), after);
            self.actions.extend(due.into_iter().map(|frame| Action::Send { to: key, frame }));
        }
    }

    /// After the recording stops: waits until every party has receipted everything, or
    /// its time is up (`deliver_for` from when its link is up, else `end_grace`).
    fn deliver(&mut self, now: Timestamp) {
        let Phase::Delivering { since, told } = self.phase else { return };
        let committed = self.chain.chunks();
        let mut out_of_time = true;
        let mut waiting = Vec::new();
        for (key, p) in &self.parties {
            let unconfirmed = committed - p.exchange.receipted().min(committed);
            if unconfirmed == 0 {
                continue;
            }
            // While the link is up, delivery goes on as long as receipts keep coming.
            let limit = match p.up_since {
                Some(up) if p.link_up => {
                    up.max(since).max(p.last_receipt) + self.config.deliver_for
                }
                _ => {
                    waiting.push((*key, unconfirmed));
                    since + self.config.end_grace
                }
            };
            out_of_time &= at(now) >= limit;
        }
        if !told && !waiting.is_empty() && !out_of_time {
            self.phase = Phase::Delivering { since, told: true };
            let up_to = self.config.end_grace;
            for (peer, unconfirmed) in waiting {
                self.event(Event::WaitingForWitness { peer, unconfirmed, up_to });
            }
        }
        if out_of_time {
            self.begin_ending(now);
        }
    }

    /// This device's end, sent to every party to counter-sign. When a party's stop ended
    /// the meeting, the end says so: that party ended it, for its reason.
    fn begin_ending(&mut self, now: Timestamp) {
        let me = self.identity.public();
        let final_ = PartyFinal {
            party: me,
            chunks: self.chain.chunks(),
            last_chain: self.chain.last_chain(),
            recording_sha256: self.sha256,
        };
        let end = EndRecord {
            session: self.start.record.session,
            ended_by: self.ended_by,
            reason: self.reason,
            ended_at_ms: now.wall_ms,
            finals: vec![final_],
        };
        let mine = end.sign(&self.identity);
        let keys: Vec<PublicKey> = self.parties.keys().copied().collect();
        for to in &keys {
            self.ask_end(*to, &end, mine);
        }
        self.phase = Phase::Ending { end, mine, got: Vec::new(), waiting: keys.len() };
        if keys.is_empty() {
            self.finish_end(now);
        }
    }

    /// Asks a party to counter-sign this device's end.
    fn ask_end(&mut self, to: PublicKey, end: &EndRecord, mine: PartySignature) {
        if let Some(p) = self.parties.get_mut(&to) {
            p.end_asked += 1;
        }
        let request = Request::Stop { end: end.clone(), signature: mine };
        self.push(Action::Request { to, request });
    }

    /// A party's answer to this device's end. A request that got no answer (lost, timed
    /// out) is asked again while the link is up, up to [`END_ASKS`] times in all: the party
    /// answers the same end with the same signature (SPEC §12.3).
    fn on_response(&mut self, from: PublicKey, response: Option<Response>, now: Timestamp) {
        let Phase::Ending { end, mine, got, waiting } = &mut self.phase else { return };
        let Some(p) = self.parties.get_mut(&from) else { return };
        if p.signed_ours || got.iter().any(|s| s.signer == from) {
            return;
        }
        if response.is_none() && p.link_up && p.end_asked < END_ASKS {
            let (end, mine) = (end.clone(), *mine);
            self.ask_end(from, &end, mine);
            return;
        }
        let answer = response
            .map(|r| end_countersigned(&self.start.record, from, end, *mine, r))
            .transpose();
        *waiting = waiting.saturating_sub(1);
        let left = *waiting;
        match answer {
            Ok(Some(co)) => {
                p.signed_ours = true;
                got.push(co.signatures[1]);
            }
            Ok(None) => {
                self.actions.push_back(Action::Event(Event::EndNotSigned { peer: from, why: None }))
            }
            Err(e) => self
                .actions
                .push_back(Action::Event(Event::EndNotSigned { peer: from, why: Some(e) })),
        }
        if left == 0 {
            self.finish_end(now);
        }
    }

    /// Stores this device's end with every signature it got, then lingers for the others'.
    fn finish_end(&mut self, now: Timestamp) {
        let Phase::Ending { end, mine, got, .. } = std::mem::replace(&mut self.phase, Phase::Done)
        else {
            return;
        };
        let together = got.len() == self.parties.len();
        let mut signatures = vec![mine];
        signatures.extend(got);
        self.append(vec![LogRecord::End(CoSigned { record: end, signatures })]);
        self.ended_together = together;
        self.event(Event::Ended { together });
        // Stay until the others' ends have come and been counter-signed: each sends its
        // end only after its whole backlog, so this device then holds all of theirs.
        let stay = if together { self.config.linger } else { Duration::from_secs(2) };
        self.phase = Phase::Lingering { until: at(now) + stay };
        self.on_time(now);
    }
}

fn party_state(key: PublicKey, p: &Party) -> PartyState {
    PartyState {
        key,
        receipted: p.exchange.receipted(),
        witnessed: p.exchange.witnessed(),
        signed_end: p.signed_ours,
        sent_end: p.end.is_some(),
        link_up: p.link_up,
    }
}
