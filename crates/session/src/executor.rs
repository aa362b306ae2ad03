//! Runs the protocol's [`Meeting`] on real audio, files and sockets: every input it needs
//! comes from the recorder, the node, the clock or the person; every action it asks for
//! is done here, in order. No decision about the meeting is taken in this file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dualrec_audio::{AudioEvent, EncoderConfig, Pacing, Recorder, Sink, Stopper};
use dualrec_media::{OpusHead, OpusTags, RecordingWriter};
use dualrec_net::{NodeEvent, NodeHandle};
use dualrec_proof::{
    CoSigned, EndReason, EvidenceLog, Identity, LogRecord, PublicKey, StartRecord, Timestamp,
};
use dualrec_protocol::{Action, Event, Input, Meeting, MeetingConfig, Response};
use tokio::sync::mpsc;

use crate::earlier::Earlier;
use crate::progress::{Progress, Status, tell, update};
use crate::{BYTES_PER_MINUTE, SessionConfig, SessionError, SessionOutcome, free_bytes};

/// Audio events waiting for the meeting: 10 s of packets. The encoder thread waits when
/// it is full (the cpal callback never does: its ring buffer counts what is lost).
const AUDIO_QUEUE: usize = 500;

/// The session's end of the recorder: the encoder thread hands events straight into the
/// meeting's bounded channel.
struct ToMeeting(mpsc::Sender<AudioEvent>);

impl Sink for ToMeeting {
    fn deliver(&mut self, event: AudioEvent) -> bool {
        self.0.blocking_send(event).is_ok()
    }
}

fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Everything the meeting's actions touch.
struct Io {
    me: PublicKey,
    peer: PublicKey,
    node: NodeHandle,
    log: EvidenceLog,
    writer: Option<RecordingWriter>,
    /// Stops the recorder, once it is open.
    stopper: Option<Stopper>,
    /// The meeting asked capture to stop (perhaps before the recorder was open).
    stop_asked: bool,
    status: Status,
    dir: PathBuf,
    /// The session clock starts at the co-signed start (SPEC §7.2).
    t0: Instant,
    /// Answers to this device's requests come back here.
    answers: mpsc::Sender<Answer>,
    /// Earlier meetings with the same device, finished beside this one.
    earlier: Earlier,
    peak: f32,
    packets: u64,
    /// Samples of the recording before this program's recorder began (a rejoin): its
    /// input count starts again at zero, the file's end granule must not.
    input_offset: u64,
}

impl Io {
    #[allow(clippy::too_many_arguments)]
    fn new(
        me: PublicKey,
        peer: PublicKey,
        node: NodeHandle,
        log: EvidenceLog,
        writer: RecordingWriter,
        earlier: Earlier,
        status: &Status,
        dir: &Path,
        t0: Instant,
    ) -> (Io, mpsc::Receiver<Answer>) {
        let (answers, answers_rx) = mpsc::channel(16);
        let io = Io {
            me,
            peer,
            node,
            log,
            writer: Some(writer),
            stopper: None,
            stop_asked: false,
            status: status.clone(),
            dir: dir.to_owned(),
            t0,
            answers,
            earlier,
            peak: 0.0,
            packets: 0,
            input_offset: 0,
        };
        (io, answers_rx)
    }

    fn now(&self) -> Timestamp {
        Timestamp { wall_ms: wall_ms(), mono_ms: self.t0.elapsed().as_millis() as u64 }
    }
}

fn open_recorder(config: &SessionConfig, sink: ToMeeting) -> Result<Recorder, SessionError> {
    let enc = EncoderConfig::default();
    Ok(match &config.input {
        crate::Input::Microphone(dev) => Recorder::microphone_into(dev.as_deref(), enc, sink)?,
        crate::Input::Wav(p) => Recorder::wav_into(p, Pacing::Realtime, enc, sink)?,
        crate::Input::WavFullSpeed(p) => {
            Recorder::wav_into(p, Pacing::AsFastAsPossible, enc, sink)?
        }
    })
}

fn open_writer(
    path: &Path,
    start: &StartRecord,
    me: PublicKey,
    pre_skip: u16,
) -> Result<RecordingWriter, SessionError> {
    let head = OpusHead { channels: 1, pre_skip, input_sample_rate: 48_000, output_gain: 0 };
    let session = start.session;
    let tags =
        OpusTags::for_session(&format!("dualrec {}", env!("CARGO_PKG_VERSION")), session, me);
    let serial = u32::from_le_bytes([session.0[0], session.0[1], session.0[2], session.0[3]]);
    Ok(RecordingWriter::create(path, head, &tags, serial)?)
}

/// Who asked: the meeting, or the catch-up of an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asker {
    Meeting,
    Earlier,
}

/// An answer to a request of this device (`None`: none came).
type Answer = (Asker, PublicKey, Option<Response>);

/// The inputs of one meeting, as they come.
struct Sources {
    audio: mpsc::Receiver<AudioEvent>,
    events: mpsc::Receiver<NodeEvent>,
    answers: mpsc::Receiver<Answer>,
    /// The recorder said its last word (finished or failed).
    audio_ended: bool,
}

/// The recording and the log of a meeting in `dir`.
fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("recording.opus"), dir.join("evidence.log"))
}

/// Records the meeting into `dir` until it is over.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_meeting(
    dir: &Path,
    identity: Identity,
    config: &SessionConfig,
    start: CoSigned<StartRecord>,
    node: NodeHandle,
    events: mpsc::Receiver<NodeEvent>,
    (peer, t0): (PublicKey, Instant),
    status: &Status,
    stop: &mut mpsc::Receiver<()>,
) -> Result<SessionOutcome, SessionError> {
    let (rec_path, log_path) = paths(dir);
    let mut log = EvidenceLog::create(&log_path)?;
    log.append_synced(&[LogRecord::Start(start.clone())])?;
    let (audio_tx, audio) = mpsc::channel(AUDIO_QUEUE);
    let recorder = open_recorder(config, ToMeeting(audio_tx))?;
    let me = identity.public();
    let writer = open_writer(&rec_path, &start.record, me, recorder.pre_skip())?;
    let earlier = Earlier::scan(
        Identity::from_seed(&identity.seed()),
        peer,
        &config.out_dir,
        start.record.session,
    );
    let (mut io, answers) = Io::new(me, peer, node, log, writer, earlier, status, dir, t0);
    io.stopper = Some(recorder.stopper());
    let meeting_config = MeetingConfig::with_duration(config.duration);
    let meeting = Meeting::new(identity, start, io.log.len(), meeting_config);
    let sources = Sources { audio, events, answers, audio_ended: false };
    run(meeting, io, (recorder, sources), stop).await
}

/// What rejoining a meeting found on disk: its log as the program left it (opened, so
/// locked) and its recording as the crash left it (set aside, kept unchanged).
pub(crate) struct Rejoin {
    pub(crate) log: EvidenceLog,
    pub(crate) entries: Vec<dualrec_proof::LogEntry>,
    pub(crate) start: CoSigned<StartRecord>,
    pub(crate) file: dualrec_media::RecordingFile,
}

/// Rejoins the meeting in `dir` after this device's program ended without its end
/// (SPEC §12.7): a new recording holding the old one's packets, then silence for the
/// time away, then the microphone again; the meeting's state rebuilt from the log.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn rejoin_meeting(
    dir: &Path,
    identity: Identity,
    config: &SessionConfig,
    r: Rejoin,
    node: NodeHandle,
    events: mpsc::Receiver<NodeEvent>,
    peer: PublicKey,
    status: &Status,
    stop: &mut mpsc::Receiver<()>,
) -> Result<SessionOutcome, SessionError> {
    let (rec_path, _) = paths(dir);
    let me = identity.public();
    let session = r.start.record.session;
    let serial = u32::from_le_bytes([session.0[0], session.0[1], session.0[2], session.0[3]]);
    let mut writer = RecordingWriter::create(&rec_path, r.file.head, &r.file.tags, serial)?;
    let per_chunk = r.start.record.audio.packets_per_chunk() as usize;
    let earlier =
        Earlier::scan(Identity::from_seed(&identity.seed()), peer, &config.out_dir, session);
    let meeting_config = MeetingConfig::with_duration(config.duration);
    let mut meeting =
        Meeting::resume(identity, r.start.clone(), &r.entries, r.log.len(), meeting_config);
    // The packets the log commits are copied as they are, a page per chunk.
    let committed = meeting.summary().chunks as usize * per_chunk;
    for chunk in dualrec_media::chunk_ranges(committed.min(r.file.packets.len()), per_chunk) {
        for p in &r.file.packets[chunk] {
            writer.write_packet(&p.data)?;
        }
        writer.end_chunk()?;
    }
    let mono_now = resumed_clock(&r.entries, me);
    let t0 =
        Instant::now().checked_sub(Duration::from_millis(mono_now)).unwrap_or_else(Instant::now);
    let (mut io, answers) = Io::new(me, peer, node, r.log, writer, earlier, status, dir, t0);
    // The rest of the old recording, then the silence while this device was away.
    for p in r.file.packets.iter().skip(committed) {
        let samples = dualrec_media::packet_samples(&p.data)?;
        meeting.handle(Input::Packet { data: p.data.clone(), samples }, io.now());
    }
    let silence = time_away(&mut meeting, &io, &r.start.record, &r.file);
    meeting.handle(Input::LinkUp { peer }, io.now());
    execute(&mut meeting, &mut io).await?;
    let (audio_tx, audio) = mpsc::channel(AUDIO_QUEUE);
    let recorder = open_recorder(config, ToMeeting(audio_tx))?;
    if io.stop_asked {
        // The agreed length passed while this device was away.
        recorder.stop();
    }
    // The new encoder's look-ahead is audio of the file, the old one's is counted once.
    let frame = u64::from(r.start.record.audio.frame_samples);
    let before = r.file.packets.len() as u64 * frame + silence;
    io.input_offset =
        (before + u64::from(recorder.pre_skip())).saturating_sub(u64::from(r.file.head.pre_skip));
    io.stopper = Some(recorder.stopper());
    let sources = Sources { audio, events, answers, audio_ended: false };
    run(meeting, io, (recorder, sources), stop).await
}

/// Silence for the time this device was away, from the end of what survived to the
/// session time now, said in a signed capture gap (SPEC §12.7). Returns its samples.
fn time_away(
    meeting: &mut Meeting,
    io: &Io,
    start: &StartRecord,
    file: &dualrec_media::RecordingFile,
) -> u64 {
    let audio = &start.audio;
    let frame = u64::from(audio.frame_samples);
    let position = file.packets.len() as u64 * frame;
    let per_ms = u64::from(audio.sample_rate) / 1000;
    let frames = (io.now().mono_ms * per_ms).saturating_sub(position) / frame;
    if frames > 0 {
        meeting.handle(Input::Gap { first_sample: position, samples: frames * frame }, io.now());
        for _ in 0..frames {
            let data = dualrec_media::SILENT_PACKET.to_vec();
            meeting.handle(Input::Packet { data, samples: audio.frame_samples }, io.now());
        }
    }
    frames * frame
}

/// The session clock of a meeting whose program ended: it continues from this device's
/// latest record by the wall clock since (as SPEC §12.6 does for a late receipt).
fn resumed_clock(entries: &[dualrec_proof::LogEntry], me: PublicKey) -> u64 {
    let latest = entries
        .iter()
        .filter_map(|e| match &e.value {
            LogRecord::Checkpoint(c) if c.signer == me => Some(c.body.time),
            LogRecord::Receipt(r) if r.signer == me => Some(r.body.time),
            LogRecord::Gap(g) if g.signer == me => Some(g.body.time),
            _ => None,
        })
        .max_by_key(|t| t.mono_ms);
    latest.map_or(0, |t| t.continued_to(wall_ms()))
}

/// Drives the meeting to its end, then says where its files are.
async fn run(
    mut meeting: Meeting,
    mut io: Io,
    (recorder, mut sources): (Recorder, Sources),
    stop: &mut mpsc::Receiver<()>,
) -> Result<SessionOutcome, SessionError> {
    let source = recorder.description().to_owned();
    tell(&io.status, Progress::Recording { dir: io.dir.clone(), source }).await;
    let driven = drive(&mut meeting, &mut io, &mut sources, stop).await;
    // The recorder stops when dropped; its queue goes first, so its thread cannot be
    // waiting on a full one.
    drop(sources);
    drop(recorder);
    driven?;
    io.node.shutdown().await;
    let summary = meeting.summary();
    let party = summary.parties.iter().find(|p| p.key == io.peer);
    let (recording, evidence) = paths(&io.dir);
    let saved = Progress::Saved { recording: recording.clone(), evidence: evidence.clone() };
    tell(&io.status, saved).await;
    Ok(SessionOutcome {
        session: summary.session,
        dir: io.dir.clone(),
        recording,
        evidence,
        chunks: summary.chunks,
        witnessed: party.map_or(0, |p| p.receipted),
        peer_chunks: party.map_or(0, |p| p.witnessed),
        ended_together: summary.ended_together,
    })
}

/// Feeds the meeting until it is over.
async fn drive(
    meeting: &mut Meeting,
    io: &mut Io,
    src: &mut Sources,
    stop: &mut mpsc::Receiver<()>,
) -> Result<(), SessionError> {
    loop {
        execute(meeting, io).await?;
        if meeting.is_done() {
            return Ok(());
        }
        if let Some(request) = io.earlier.next_request() {
            ask(io, Asker::Earlier, io.peer, request);
        }
        let wake = meeting.poll_timeout().map(|d| io.t0 + d);
        let sleep = async {
            match wake {
                Some(w) => tokio::time::sleep_until(w.into()).await,
                None => std::future::pending().await,
            }
        };
        let input = tokio::select! {
            ev = src.audio.recv(), if !src.audio_ended => match ev {
                Some(ev) => {
                    src.audio_ended = matches!(ev, AudioEvent::Finished { .. } | AudioEvent::Failed { .. });
                    audio_input(io, ev).await
                }
                None => return Err(SessionError::AudioEnded),
            },
            ev = src.events.recv() => match ev {
                Some(ev) => node_input(io, ev).await,
                None => return Err(SessionError::NetworkStopped),
            },
            Some((asker, from, response)) = src.answers.recv() => match asker {
                Asker::Meeting => Some(Input::Response { from, response }),
                Asker::Earlier => {
                    earlier_answered(io, response).await?;
                    None
                }
            },
            _ = sleep => Some(Input::Tick),
            Some(()) = stop.recv() => Some(Input::Stop { reason: EndReason::Stopped }),
        };
        if let Some(input) = input {
            meeting.handle(input, io.now());
        }
    }
}

async fn audio_input(io: &mut Io, ev: AudioEvent) -> Option<Input> {
    match ev {
        AudioEvent::Packet(p) => {
            io.peak = io.peak.max(p.peak);
            io.packets += 1;
            if io.packets.is_multiple_of(5) {
                update(&io.status, Progress::Level(io.peak));
                io.peak = 0.0;
            }
            Some(Input::Packet { data: p.data, samples: p.samples })
        }
        AudioEvent::Gap { position, samples } => {
            Some(Input::Gap { first_sample: position, samples })
        }
        AudioEvent::Finished { input_samples } => {
            let input_samples = input_samples + io.input_offset;
            Some(Input::CaptureEnded { input_samples, failed: false })
        }
        AudioEvent::Failed { error, input_samples } => {
            tell(&io.status, Progress::CaptureFailed { detail: error.to_string() }).await;
            let input_samples = input_samples + io.input_offset;
            Some(Input::CaptureEnded { input_samples, failed: true })
        }
        _ => None,
    }
}

/// What the node reports, as the meeting's input; devices other than the partner are
/// answered "busy" here and never reach the meeting.
async fn node_input(io: &mut Io, ev: NodeEvent) -> Option<Input> {
    match ev {
        NodeEvent::Inbound { peer, request, reply } if peer == io.peer => {
            match io.earlier.answer(&request, wall_ms()) {
                // About an earlier meeting: answered from its own log.
                Some(answer) => {
                    let response =
                        answer.unwrap_or_else(|e| Response::Refused { reason: e.to_string() });
                    let _ = io.node.respond(reply, response).await;
                    None
                }
                None => Some(Input::Request { from: peer, id: reply, request: *request }),
            }
        }
        NodeEvent::Inbound { reply, .. } => {
            let reason = "busy: this device is recording with another device".into();
            let _ = io.node.respond(reply, Response::Refused { reason }).await;
            None
        }
        NodeEvent::Live { peer, frame } if peer == io.peer => {
            Some(Input::Frame { from: peer, frame })
        }
        NodeEvent::LinkDown { peer } if peer == io.peer => Some(Input::LinkDown { peer }),
        NodeEvent::Connected { peer, .. } if peer == io.peer => Some(Input::LinkUp { peer }),
        NodeEvent::Rejected { reason, .. } => {
            tell(&io.status, Progress::Refused { detail: reason }).await;
            None
        }
        _ => None,
    }
}

/// Does what the meeting asks, in order, until it asks nothing more.
async fn execute(meeting: &mut Meeting, io: &mut Io) -> Result<(), SessionError> {
    while let Some(action) = meeting.poll_action() {
        match action {
            Action::WritePacket(data) => writer(io)?.write_packet(&data)?,
            Action::EndChunk => writer(io)?.end_chunk()?,
            Action::Append(records) => io.log.append_synced(&records)?,
            Action::Send { to, frame } => {
                // A lost frame is sent again by the meeting.
                let _ = io.node.send_live(to, frame).await;
            }
            Action::Request { to, request } => ask(io, Asker::Meeting, to, request),
            Action::Respond { id, response } => {
                let _ = io.node.respond(id, response).await;
            }
            Action::StopCapture => {
                io.stop_asked = true;
                if let Some(s) = &io.stopper {
                    s.stop();
                }
            }
            Action::FinishRecording { input_samples } => {
                let writer = io.writer.take().ok_or(SessionError::AudioEnded)?;
                let finished = writer.finish(input_samples)?;
                meeting.handle(Input::RecordingFinished { sha256: finished.sha256 }, io.now());
            }
            Action::ReadBack { peer, from_offset } => {
                let records = dualrec_proof::read_log_tail(io.log.path(), from_offset)?;
                let checkpoints = records
                    .into_iter()
                    .filter_map(|r| match r {
                        LogRecord::Checkpoint(c) => Some(c),
                        _ => None,
                    })
                    .collect();
                meeting.handle(Input::ReadBack { peer, checkpoints }, io.now());
            }
            Action::Event(e) => show(io, e).await,
            _ => {}
        }
    }
    Ok(())
}

/// Sends a request; its answer comes back through the answers queue.
fn ask(io: &Io, asker: Asker, to: PublicKey, request: dualrec_protocol::Request) {
    let (node, answers) = (io.node.clone(), io.answers.clone());
    tokio::spawn(async move {
        let response = node.request(to, request).await.ok();
        let _ = answers.send((asker, to, response)).await;
    });
}

async fn earlier_answered(io: &mut Io, response: Option<Response>) -> Result<(), SessionError> {
    if let Some(session) = io.earlier.answered(response)? {
        tell(&io.status, Progress::EarlierWitnessed { session }).await;
    }
    Ok(())
}

fn writer(io: &mut Io) -> Result<&mut RecordingWriter, SessionError> {
    io.writer.as_mut().ok_or(SessionError::AudioEnded)
}

/// A meeting event, for the interface.
async fn show(io: &Io, event: Event) {
    let status = &io.status;
    match event {
        Event::Committed { chunks } => {
            update(status, Progress::Committed(chunks));
            if chunks.is_multiple_of(60)
                && let Some(free) = free_bytes(&io.dir)
                && free < 30 * BYTES_PER_MINUTE
            {
                tell(status, Progress::DiskLow { minutes: free / BYTES_PER_MINUTE }).await;
            }
        }
        Event::Receipted { chunks, .. } => update(status, Progress::Witnessed(chunks)),
        Event::Witnessed { chunks, .. } => update(status, Progress::PeerWitnessed(chunks)),
        Event::Link { up, .. } => tell(status, Progress::Link { up }).await,
        Event::Refused { why, .. } => {
            tell(status, Progress::Refused { detail: why.to_string() }).await
        }
        Event::CaptureGap { first_sample, samples } => {
            let gap = Progress::CaptureGap { at_ms: first_sample / 48, lost_ms: samples / 48 };
            tell(status, gap).await
        }
        Event::Stopping { by, reason } => {
            tell(status, Progress::Stopping { by_other: by != io.me, reason }).await
        }
        Event::WaitingForWitness { unconfirmed, up_to, .. } => {
            let up_to_secs = up_to.as_secs();
            tell(status, Progress::WaitingForWitness { unconfirmed, up_to_secs }).await
        }
        Event::EndNotSigned { why, .. } => {
            let detail = why.map(|e| e.to_string());
            tell(status, Progress::EndNotSigned { detail }).await
        }
        _ => {}
    }
}
