//! What a session tells its interface, typed: the words are the interface's business.

use std::path::PathBuf;

use dualrec_proof::{EndReason, PublicKey, SessionId};
use tokio::sync::mpsc;

/// Another device, as a person sees it: its self-chosen name and its key's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Chosen by the other device's owner: untrusted text.
    pub name: String,
    pub fingerprint: String,
}

impl Device {
    pub(crate) fn new(key: &PublicKey, name: &str) -> Device {
        Device { name: name.to_owned(), fingerprint: key.fingerprint().to_string() }
    }
}

/// What a running session reports, for a live view, an app or plain lines.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// The microphone `source` is open and listened to for a few seconds before anyone is
    /// contacted: the person is asked to say something; [`Progress::Level`]s follow.
    SoundCheck { source: String },
    /// The input delivers sound and the folder `dir` can take the recording: the checks
    /// made before anyone is contacted passed. `loudest`: the highest peak (0.0 to 1.0) the
    /// microphone heard in its sound check (`None` for a file).
    Ready { source: String, dir: PathBuf, loudest: Option<f32> },
    /// This device can be reached at `address` (typed on the other device), or, when
    /// `this_machine_only`, only from this machine.
    Listening { address: String, this_machine_only: bool },
    /// Dialling an address the person typed.
    Connecting { address: String },
    /// Nothing answers at the typed address yet; dialled again every second.
    NoAnswerYet { address: String },
    /// The typed address cannot be reached from this device.
    Unreachable { address: String },
    /// No device found for a while; this device's addresses another could type.
    NothingFound { addresses: Vec<String> },
    /// A device answered; `remembered`: paired before.
    Found { device: Device, remembered: bool },
    /// A device other than the chosen one asked to pair, and was declined.
    Declined { device: Device },
    /// Pairing with the chosen device has begun.
    Pairing { device: Device },
    /// The pairing code both screens show; `unchecked`: accepted by `--yes`, not a person.
    PairingCode { code: String, device: Device, unchecked: bool },
    /// Both people confirmed the code.
    Paired { device: Device },
    /// Pairing did not complete; still looking.
    PairingFailed { device: Device, why: dualrec_net::PairingFailure },
    /// This device proposes the session; the other person is asked to agree.
    Proposing,
    /// This device's program ended in the middle of `session` with `peer`; it waits for
    /// that device, to rejoin the meeting.
    Rejoining { session: SessionId, peer: Device },
    /// The session is co-signed and started.
    Started { session: SessionId, peer: Device },
    /// The other device, once the session has started.
    Peer { name: String, fingerprint: String },
    /// The link to the other device went down or came back.
    Link { up: bool },
    /// Recording has started into this folder, from this source.
    Recording { dir: PathBuf, source: String },
    /// Peak input level (0.0 to 1.0) over the last 100 ms.
    Level(f32),
    /// Chunks (seconds) of this recording committed to the evidence log.
    Committed(u64),
    /// Chunks of this recording the other device has receipted.
    Witnessed(u64),
    /// Chunks of the other device's recording witnessed here.
    PeerWitnessed(u64),
    /// A message from the other device was refused (nothing of it stored).
    Refused { detail: String },
    /// Input was lost at `at_ms` for `lost_ms`; silence stands in its place.
    CaptureGap { at_ms: u64, lost_ms: u64 },
    /// The disk has room for about this many more minutes.
    DiskLow { minutes: u64 },
    /// The microphone failed; what was recorded is kept.
    CaptureFailed { detail: String },
    /// The recording is stopping: by the other device's stop, or this one's, for `reason`.
    Stopping { by_other: bool, reason: EndReason },
    /// The recording is saved; waiting up to `up_to_secs` for the other device to
    /// confirm its last `unconfirmed` seconds.
    WaitingForWitness { unconfirmed: u64, up_to_secs: u64 },
    /// The other device did not sign the end (`detail`, if it answered); ended alone.
    EndNotSigned { detail: Option<String> },
    /// An earlier meeting with the same device, whose witnessing the link cut short, is
    /// now witnessed to its end (late) and its end signed by both.
    EarlierWitnessed { session: SessionId },
    /// Where the session's files are.
    Saved { recording: PathBuf, evidence: PathBuf },
}

/// Where a session sends its [`Progress`]. Messages wait for room; the frequent updates
/// are dropped when the receiver is behind, so a slow screen never holds up the recording.
pub type Status = mpsc::Sender<Progress>;

/// Tells the interface, waiting for room.
pub(crate) async fn tell(status: &Status, p: Progress) {
    let _ = status.send(p).await;
}

/// For frequent updates: dropped rather than waited for.
pub(crate) fn update(status: &Status, p: Progress) {
    let _ = status.try_send(p);
}
