//! Microphone capture through cpal. The callback only downmixes into a ring buffer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample as _, SampleFormat, SizedSample};

use crate::encode::FrameEncoder;
use crate::pipeline::{Step, run_pipeline};
use crate::{AudioError, EncoderConfig, Recorder};

/// An audio input and its default format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputDevice {
    /// The host's identifier (e.g. `alsa:pulse`): what `--input` takes.
    pub id: String,
    /// A description for people.
    pub name: String,
    pub is_default: bool,
    /// Channels, sample rate and sample format it delivers by default, if it answers.
    pub default_format: Option<(u16, u32, String)>,
}

/// The inputs the default audio host knows about.
pub fn list_input_devices() -> Result<Vec<InputDevice>, AudioError> {
    quietly(|| {
        let host = cpal::default_host();
        let default_id =
            host.default_input_device().and_then(|d| d.id().ok()).map(|i| i.to_string());
        let devices = host
            .input_devices()
            .map_err(|e| AudioError::Device { device: "(all)".into(), detail: e.to_string() })?;
        Ok(devices
            .map(|d| {
                let name = d.to_string();
                let id = d.id().map(|i| i.to_string()).unwrap_or_else(|_| name.clone());
                let default_format = d
                    .default_input_config()
                    .ok()
                    .map(|c| (c.channels(), c.sample_rate(), c.sample_format().to_string()));
                let is_default = Some(&id) == default_id.as_ref();
                InputDevice { is_default, id, name, default_format }
            })
            .filter(InputDevice::hears_something)
            .collect())
    })
}

impl InputDevice {
    /// A device that can deliver the room's sound now: not a sound-system plugin that
    /// only converts rates or generates zeros, and not one that cannot be opened.
    fn hears_something(&self) -> bool {
        let plugin = matches!(
            self.id.rsplit(':').next(),
            Some(
                "null"
                    | "lavrate"
                    | "samplerate"
                    | "speexrate"
                    | "upmix"
                    | "vdownmix"
                    | "jack"
                    | "oss"
            )
        );
        self.default_format.is_some() && !plugin
    }
}

/// Runs `f` with this process's standard error sent to /dev/null: the sound system's
/// libraries (ALSA, JACK) print their probing noise there, which is not for people.
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        let saved = rustix::io::dup(std::io::stderr().as_fd());
        let null = std::fs::OpenOptions::new().write(true).open("/dev/null");
        if let (Ok(saved), Ok(null)) = (saved, null)
            && rustix::stdio::dup2_stderr(&null).is_ok()
        {
            let out = f();
            let _ = rustix::stdio::dup2_stderr(&saved);
            return out;
        }
    }
    f()
}

/// If no audio arrives for this long, the device is taken to be gone.
const SILENT_DEVICE_TIMEOUT: Duration = Duration::from_secs(3);

pub(crate) fn start(
    name: Option<&str>,
    config: EncoderConfig,
    sink: crate::Output,
) -> Result<Recorder, AudioError> {
    let device = find_device(name)?;
    let device_name = device.to_string();
    let (stream_config, format, description) = choose_config(&device, &device_name)?;
    let rate = stream_config.sample_rate;
    let encoder = FrameEncoder::new(rate, config)?;
    let pre_skip = encoder.pre_skip();
    // Two seconds of mono input between the callback and the encoder.
    let (producer, consumer) = rtrb::RingBuffer::<f32>::new(rate as usize * 2);
    let flags = Flags::default();
    let capture_thread =
        spawn_capture(device, &device_name, (stream_config, format), producer, &flags)?;
    let (tx, events) = sink.split(config.channel_capacity);
    let encoder_thread = spawn_encoder(encoder, tx, consumer, device_name, &flags)?;
    Ok(Recorder {
        events,
        stop: flags.stop,
        threads: vec![capture_thread, encoder_thread],
        pre_skip,
        description,
    })
}

/// What the capture and encoder threads tell each other.
#[derive(Default, Clone)]
struct Flags {
    /// The device failed or vanished.
    lost: Arc<AtomicBool>,
    /// The recorder was asked to stop.
    stop: Arc<AtomicBool>,
    /// The stream is closed: nothing more will arrive.
    released: Arc<AtomicBool>,
}

/// The input `name` (by id or name), or the default one.
fn find_device(name: Option<&str>) -> Result<cpal::Device, AudioError> {
    quietly(|| {
        let host = cpal::default_host();
        match name {
            None => host.default_input_device().ok_or(AudioError::NoDevice(None)),
            Some(n) => host
                .input_devices()
                .map_err(|e| AudioError::Device { device: n.into(), detail: e.to_string() })?
                .find(|d| d.id().is_ok_and(|i| i.to_string() == n) || d.to_string() == n)
                .ok_or_else(|| AudioError::NoDevice(Some(n.into()))),
        }
    })
}

/// The device's own format with 200 ms periods where it allows them, and a description.
fn choose_config(
    device: &cpal::Device,
    device_name: &str,
) -> Result<(cpal::StreamConfig, SampleFormat, String), AudioError> {
    let dev_err = |detail: String| AudioError::Device { device: device_name.into(), detail };
    let supported = device.default_input_config().map_err(|e| dev_err(e.to_string()))?;
    let mut stream_config = supported.config();
    // Ask for 200 ms periods: a recorder needs no low latency, and small periods make
    // cpal's ALSA loop spin on server-backed devices (PulseAudio's plugin wakes it for
    // every fragment): this took capture from ~25 % of a core to a few percent here.
    let period = stream_config.sample_rate / 5;
    if let cpal::SupportedBufferSize::Range { min, max } = supported.buffer_size()
        && (*min..=*max).contains(&period)
    {
        stream_config.buffer_size = cpal::BufferSize::Fixed(period);
    }
    let rate = stream_config.sample_rate;
    let channels = usize::from(stream_config.channels.max(1));
    let format = supported.sample_format();
    // For people: the device and what it records (the buffer is ours to worry about).
    let description = format!(
        "{device_name} ({}, {} kHz)",
        if channels == 1 { "mono".to_owned() } else { format!("{channels} channels") },
        f64::from(rate) / 1000.0
    );
    Ok((stream_config, format, description))
}

/// The stream lives on its own thread (cpal streams need not be Send); returns once it
/// plays, or why it could not.
fn spawn_capture(
    device: cpal::Device,
    device_name: &str,
    (stream_config, format): (cpal::StreamConfig, SampleFormat),
    producer: rtrb::Producer<f32>,
    flags: &Flags,
) -> Result<JoinHandle<()>, AudioError> {
    let dev_err = |detail: String| AudioError::Device { device: device_name.into(), detail };
    let channels = usize::from(stream_config.channels.max(1));
    let (ready_tx, ready_rx) = sync_channel::<Result<(), AudioError>>(1);
    let (flags, device_name) = (flags.clone(), device_name.to_owned());
    let thread = std::thread::Builder::new()
        .name("dualrec-capture".into())
        .spawn(move || {
            let built = build_stream(
                &device,
                &stream_config,
                format,
                channels,
                producer,
                flags.lost.clone(),
            );
            let stream = match built.and_then(|s| {
                s.play().map_err(|e| AudioError::Device {
                    device: device_name.clone(),
                    detail: e.to_string(),
                })?;
                Ok(s)
            }) {
                Ok(s) => {
                    let _ = ready_tx.send(Ok(()));
                    s
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    flags.released.store(true, Ordering::SeqCst);
                    return;
                }
            };
            while !flags.stop.load(Ordering::SeqCst) && !flags.lost.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            drop(stream);
            flags.released.store(true, Ordering::SeqCst);
        })
        .map_err(|e| dev_err(e.to_string()))?;
    ready_rx.recv().map_err(|_| dev_err("the capture thread ended".into()))??;
    Ok(thread)
}

/// The encoder thread: drains the ring buffer into the pipeline until the stream is
/// released after a stop, or the device goes quiet for good.
fn spawn_encoder(
    encoder: FrameEncoder,
    tx: Box<dyn crate::Sink>,
    mut consumer: rtrb::Consumer<f32>,
    device_name: String,
    flags: &Flags,
) -> Result<JoinHandle<()>, AudioError> {
    let flags = flags.clone();
    // How long this thread has waited for data while awake: a whole process frozen for a
    // while (a laptop asleep, a debugger) is not a silent device, so each wait counts for
    // at most a moment.
    let mut quiet = Duration::ZERO;
    let mut last_poll = Instant::now();
    std::thread::Builder::new()
        .name("dualrec-encode".into())
        .spawn(move || {
            run_pipeline(encoder, tx, move |buf| {
                let avail = consumer.slots();
                let now = Instant::now();
                let waited = (now - last_poll).min(Duration::from_millis(100));
                last_poll = now;
                if avail == 0 {
                    quiet += waited;
                    let gone = flags.lost.load(Ordering::SeqCst) || quiet > SILENT_DEVICE_TIMEOUT;
                    return if gone {
                        Step::Fail(AudioError::DeviceLost { device: device_name.clone() })
                    } else if flags.stop.load(Ordering::SeqCst)
                        && flags.released.load(Ordering::SeqCst)
                    {
                        Step::End
                    } else {
                        Step::Idle
                    };
                }
                quiet = Duration::ZERO;
                if let Ok(chunk) = consumer.read_chunk(avail) {
                    let (a, b) = chunk.as_slices();
                    buf.extend_from_slice(a);
                    buf.extend_from_slice(b);
                    chunk.commit_all();
                }
                Step::Data
            });
        })
        .map_err(|e| AudioError::Encoder(e.to_string()))
}

fn build_stream(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    format: SampleFormat,
    channels: usize,
    producer: rtrb::Producer<f32>,
    lost: Arc<AtomicBool>,
) -> Result<cpal::Stream, AudioError> {
    match format {
        SampleFormat::I8 => build::<i8>(device, config, channels, producer, lost),
        SampleFormat::I16 => build::<i16>(device, config, channels, producer, lost),
        SampleFormat::I32 => build::<i32>(device, config, channels, producer, lost),
        SampleFormat::U8 => build::<u8>(device, config, channels, producer, lost),
        SampleFormat::U16 => build::<u16>(device, config, channels, producer, lost),
        SampleFormat::U32 => build::<u32>(device, config, channels, producer, lost),
        SampleFormat::F32 => build::<f32>(device, config, channels, producer, lost),
        SampleFormat::F64 => build::<f64>(device, config, channels, producer, lost),
        other => Err(AudioError::SampleFormat(other.to_string())),
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    channels: usize,
    mut producer: rtrb::Producer<f32>,
    lost: Arc<AtomicBool>,
) -> Result<cpal::Stream, AudioError>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let scale = 1.0 / channels as f32;
    let rate = f64::from(config.sample_rate);
    // Frames lost and not yet announced: the ring was full, or the driver skipped ahead
    // (an overrun inside ALSA or the sound server shows as a jump in capture time).
    let mut pending_lost = 0u64;
    let mut next_expected: Option<cpal::StreamInstant> = None;
    // Capture timestamps jitter on server-backed devices, so they are trusted only to
    // size a loss the driver has reported (an overrun).
    let xrun = Arc::new(AtomicBool::new(false));
    let xrun_seen = xrun.clone();
    let data_cb = move |data: &[T], info: &cpal::InputCallbackInfo| {
        // Real-time thread: no locks, no allocation, never waits.
        let capture = info.timestamp().capture;
        if xrun_seen.swap(false, Ordering::Relaxed)
            && let Some(expected) = next_expected
            && let Some(ahead) = capture.checked_duration_since(expected)
        {
            pending_lost += (ahead.as_secs_f64() * rate) as u64;
        }
        let frames = data.len() / channels;
        next_expected = capture.checked_add(Duration::from_secs_f64(frames as f64 / rate));
        for frame in data.chunks_exact(channels) {
            if pending_lost > 0 {
                // Announce the loss in-band, exactly where it happened: NaN, then the
                // count (exact in an f32 up to 2^24 frames, about 6 minutes).
                if producer.slots() >= 3 {
                    let n = pending_lost.min(1 << 24);
                    let _ = producer.push(f32::NAN);
                    let _ = producer.push(n as f32);
                    pending_lost -= n;
                } else {
                    pending_lost += 1;
                    continue;
                }
            }
            let mono = frame.iter().map(|&s| f32::from_sample(s)).sum::<f32>() * scale;
            if producer.push(mono).is_err() {
                pending_lost += 1;
            }
        }
    };
    let err_cb = move |e: cpal::Error| match e.kind() {
        cpal::ErrorKind::DeviceNotAvailable => lost.store(true, Ordering::SeqCst),
        cpal::ErrorKind::Xrun => xrun.store(true, Ordering::Relaxed),
        _ => {}
    };
    device
        .build_input_stream::<T, _, _>(*config, data_cb, err_cb, None)
        .map_err(|e| AudioError::Device { device: device.to_string(), detail: e.to_string() })
}
