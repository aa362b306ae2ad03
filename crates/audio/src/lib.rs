//! dualrec's audio input.
//!
//! This crate owns turning sound into Opus packets: capture from a microphone through
//! cpal (any sample format, rate and channel count), WAV files that behave like a
//! microphone, resampling and downmixing to 48 kHz mono (rubato), 20 ms framing and Opus
//! encoding. A [`Recorder`] hands [`AudioEvent`]s out over a **bounded** channel, or to a
//! [`Sink`] its user supplies (the session's own bounded channel: no relay in between).
//!
//! The cpal callback never blocks and never allocates: it downmixes into a lock-free
//! ring buffer. If the rest of the pipeline falls behind, the samples that did not fit
//! are counted, silence of the same length is encoded in their place so the recording's
//! timeline stays true, and an [`AudioEvent::Gap`] says where and how long.
//!
//! The packet layout it produces is the one `proto/SPEC.md` §6 and §11 assume: 48 kHz,
//! 960-sample (20 ms) packets, positions counted from the first sample the encoder saw.

#![forbid(unsafe_code)]

mod capture;
mod encode;
mod error;
mod pipeline;
mod wav;

pub use capture::{InputDevice, list_input_devices};
pub use encode::{EncoderConfig, FRAME_SAMPLES, SAMPLE_RATE};
pub use error::AudioError;
pub use wav::Pacing;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// One Opus packet and where it sits in the recording.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedPacket {
    pub data: Vec<u8>,
    /// 48 kHz sample position of the packet's first sample (pre-skip included).
    pub position: u64,
    pub samples: u32,
    /// Peak level of the input in this packet, 0.0 to 1.0 (for a level meter).
    pub peak: f32,
}

/// What a recorder reports, in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum AudioEvent {
    Packet(EncodedPacket),
    /// Input was lost (the pipeline fell behind the microphone): `samples` of silence
    /// at 48 kHz were encoded in its place, starting at `position`.
    Gap {
        position: u64,
        samples: u64,
    },
    /// The input ended or was stopped; the encoder is flushed. `input_samples` (48 kHz)
    /// is what the end-of-stream granule needs.
    Finished {
        input_samples: u64,
    },
    /// The input failed (e.g. the microphone was unplugged). Everything before this
    /// event is valid and complete; the encoder is flushed.
    Failed {
        error: AudioError,
        input_samples: u64,
    },
}

/// Where a recorder's events go, called on its encoder thread, in order. It may wait
/// (a bounded channel that is full) but must not drop events; `false` means nobody
/// listens any more, and the recorder stops.
pub trait Sink: Send + 'static {
    /// Hands one event on.
    fn deliver(&mut self, event: AudioEvent) -> bool;
}

impl Sink for SyncSender<AudioEvent> {
    fn deliver(&mut self, event: AudioEvent) -> bool {
        self.send(event).is_ok()
    }
}

/// Where a recorder being built sends its events.
pub(crate) enum Output {
    /// A channel of its own, read with [`Recorder::recv`].
    Channel,
    Sink(Box<dyn Sink>),
}

impl Output {
    /// The sink the encoder thread writes to, and the receiver [`Recorder::recv`] reads.
    pub(crate) fn split(self, capacity: usize) -> (Box<dyn Sink>, Option<Receiver<AudioEvent>>) {
        match self {
            Output::Channel => {
                let (tx, rx) = sync_channel(capacity.max(1));
                (Box::new(tx), Some(rx))
            }
            Output::Sink(sink) => (sink, None),
        }
    }
}

/// Stops a [`Recorder`] from elsewhere (the recorder itself stays with its reader).
#[derive(Clone, Debug)]
pub struct Stopper(Arc<AtomicBool>);

impl Stopper {
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A running capture or file source: events come out of [`Recorder::recv`].
pub struct Recorder {
    events: Option<Receiver<AudioEvent>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    pre_skip: u16,
    description: String,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("source", &self.description)
            .field("pre_skip", &self.pre_skip)
            .finish()
    }
}

impl Recorder {
    /// Records from a microphone: `device` by name, or the default input.
    pub fn microphone(device: Option<&str>, config: EncoderConfig) -> Result<Recorder, AudioError> {
        capture::start(device, config, Output::Channel)
    }

    /// Records from a microphone into `sink` ([`Recorder::recv`] then has nothing).
    pub fn microphone_into(
        device: Option<&str>,
        config: EncoderConfig,
        sink: impl Sink,
    ) -> Result<Recorder, AudioError> {
        capture::start(device, config, Output::Sink(Box::new(sink)))
    }

    /// Reads a WAV file as if it were a microphone.
    pub fn wav(
        path: &std::path::Path,
        pacing: Pacing,
        config: EncoderConfig,
    ) -> Result<Recorder, AudioError> {
        wav::start(path, pacing, config, Output::Channel)
    }

    /// Reads a WAV file into `sink` ([`Recorder::recv`] then has nothing).
    pub fn wav_into(
        path: &std::path::Path,
        pacing: Pacing,
        config: EncoderConfig,
        sink: impl Sink,
    ) -> Result<Recorder, AudioError> {
        wav::start(path, pacing, config, Output::Sink(Box::new(sink)))
    }

    /// The encoder's look-ahead, for the OpusHead pre-skip.
    pub fn pre_skip(&self) -> u16 {
        self.pre_skip
    }

    /// What is being recorded, for people ("Default Audio Device (2 channels, 48 kHz)").
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Asks the source to stop; it flushes and sends [`AudioEvent::Finished`].
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// A handle that can stop this recorder from another thread or task.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// The next event, waiting at most `timeout`; `None` on timeout, after the last, or
    /// when events go to a [`Sink`].
    pub fn recv(&self, timeout: Duration) -> Option<AudioEvent> {
        self.events.as_ref()?.recv_timeout(timeout).ok()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop();
        // Keep draining so a sender blocked on a full channel can finish; give each
        // thread a bounded time, then let it go (a dead sound server can leave a driver
        // thread stuck, and that must not hang the program).
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        for t in self.threads.drain(..) {
            while !t.is_finished() && std::time::Instant::now() < deadline {
                while self.events.as_ref().is_some_and(|e| e.try_recv().is_ok()) {}
                std::thread::sleep(Duration::from_millis(2));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}
