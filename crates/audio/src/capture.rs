//! Microphone capture through cpal. The callback only downmixes into a ring buffer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample as _, SampleFormat, SizedSample};

use crate::encode::FrameEncoder;
use crate::pipeline::{Step, run_pipeline};
use crate::{AudioError, EncoderConfig, Recorder};

/// An audio input and its default format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputDevice {
    pub name: String,
    pub is_default: bool,
    /// Channels, sample rate and sample format it delivers by default, if it answers.
    pub default_format: Option<(u16, u32, String)>,
}

/// The inputs the default audio host knows about.
pub fn list_input_devices() -> Result<Vec<InputDevice>, AudioError> {
    let host = cpal::default_host();
    let default_name = host.default_input_device().map(|d| d.to_string());
    let devices = host
        .input_devices()
        .map_err(|e| AudioError::Device { device: "(all)".into(), detail: e.to_string() })?;
    Ok(devices
        .map(|d| {
            let name = d.to_string();
            let default_format = d
                .default_input_config()
                .ok()
                .map(|c| (c.channels(), c.sample_rate(), c.sample_format().to_string()));
            InputDevice { is_default: Some(&name) == default_name.as_ref(), name, default_format }
        })
        .collect())
}

/// If no audio arrives for this long, the device is taken to be gone.
const SILENT_DEVICE_TIMEOUT: Duration = Duration::from_secs(3);

pub(crate) fn start(name: Option<&str>, config: EncoderConfig) -> Result<Recorder, AudioError> {
    let host = cpal::default_host();
    let device = match name {
        None => host.default_input_device().ok_or(AudioError::NoDevice(None))?,
        Some(n) => host
            .input_devices()
            .map_err(|e| AudioError::Device { device: n.into(), detail: e.to_string() })?
            .find(|d| d.to_string() == n)
            .ok_or_else(|| AudioError::NoDevice(Some(n.into())))?,
    };
    let device_name = device.to_string();
    let dev_err = |detail: String| AudioError::Device { device: device_name.clone(), detail };
    let supported = device.default_input_config().map_err(|e| dev_err(e.to_string()))?;
    let mut stream_config = supported.config();
    // Ask for 100 ms periods: a recorder needs no low latency, and small periods make
    // cpal's ALSA loop spin on server-backed devices (PulseAudio's plugin wakes it for
    // every fragment): 100 ms took capture from ~25 % to ~2 % of a core here.
    let period = stream_config.sample_rate / 10;
    if let cpal::SupportedBufferSize::Range { min, max } = supported.buffer_size()
        && (*min..=*max).contains(&period)
    {
        stream_config.buffer_size = cpal::BufferSize::Fixed(period);
    }
    let rate = stream_config.sample_rate;
    let channels = usize::from(stream_config.channels.max(1));
    let format = supported.sample_format();
    let description = format!("{device_name}: {channels} ch {format} at {rate} Hz");

    let encoder = FrameEncoder::new(rate, config)?;
    let pre_skip = encoder.pre_skip();
    // Two seconds of mono input between the callback and the encoder.
    let (producer, mut consumer) = rtrb::RingBuffer::<f32>::new(rate as usize * 2);
    let dropped = Arc::new(AtomicU64::new(0));
    let lost = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let released = Arc::new(AtomicBool::new(false));

    // The stream lives on its own thread (cpal streams need not be Send).
    let (ready_tx, ready_rx) = sync_channel::<Result<(), AudioError>>(1);
    let capture_thread = {
        let (dropped, lost, stop, released) =
            (dropped.clone(), lost.clone(), stop.clone(), released.clone());
        let device_name = device_name.clone();
        std::thread::Builder::new()
            .name("dualrec-capture".into())
            .spawn(move || {
                let built = build_stream(
                    &device,
                    &stream_config,
                    format,
                    channels,
                    producer,
                    dropped,
                    lost.clone(),
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
                        released.store(true, Ordering::SeqCst);
                        return;
                    }
                };
                while !stop.load(Ordering::SeqCst) && !lost.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                drop(stream);
                released.store(true, Ordering::SeqCst);
            })
            .map_err(|e| dev_err(e.to_string()))?
    };
    ready_rx.recv().map_err(|_| dev_err("the capture thread ended".into()))??;

    let (tx, rx) = sync_channel(config.channel_capacity.max(1));
    let stop_enc = stop.clone();
    let mut last_data = Instant::now();
    let encoder_thread = std::thread::Builder::new()
        .name("dualrec-encode".into())
        .spawn(move || {
            run_pipeline(encoder, tx, move |buf| {
                let avail = consumer.slots();
                if avail == 0 {
                    let gone =
                        lost.load(Ordering::SeqCst) || last_data.elapsed() > SILENT_DEVICE_TIMEOUT;
                    return if gone {
                        Step::Fail(AudioError::DeviceLost { device: device_name.clone() })
                    } else if stop_enc.load(Ordering::SeqCst) && released.load(Ordering::SeqCst) {
                        Step::End
                    } else {
                        Step::Idle
                    };
                }
                last_data = Instant::now();
                if let Ok(chunk) = consumer.read_chunk(avail) {
                    let (a, b) = chunk.as_slices();
                    buf.extend_from_slice(a);
                    buf.extend_from_slice(b);
                    chunk.commit_all();
                }
                Step::Data { lost_frames: dropped.swap(0, Ordering::SeqCst) }
            });
        })
        .map_err(|e| AudioError::Encoder(e.to_string()))?;

    Ok(Recorder {
        events: rx,
        stop,
        threads: vec![capture_thread, encoder_thread],
        pre_skip,
        description,
    })
}

fn build_stream(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    format: SampleFormat,
    channels: usize,
    producer: rtrb::Producer<f32>,
    dropped: Arc<AtomicU64>,
    lost: Arc<AtomicBool>,
) -> Result<cpal::Stream, AudioError> {
    match format {
        SampleFormat::I8 => build::<i8>(device, config, channels, producer, dropped, lost),
        SampleFormat::I16 => build::<i16>(device, config, channels, producer, dropped, lost),
        SampleFormat::I32 => build::<i32>(device, config, channels, producer, dropped, lost),
        SampleFormat::U8 => build::<u8>(device, config, channels, producer, dropped, lost),
        SampleFormat::U16 => build::<u16>(device, config, channels, producer, dropped, lost),
        SampleFormat::U32 => build::<u32>(device, config, channels, producer, dropped, lost),
        SampleFormat::F32 => build::<f32>(device, config, channels, producer, dropped, lost),
        SampleFormat::F64 => build::<f64>(device, config, channels, producer, dropped, lost),
        other => Err(AudioError::SampleFormat(other.to_string())),
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    channels: usize,
    mut producer: rtrb::Producer<f32>,
    dropped: Arc<AtomicU64>,
    lost: Arc<AtomicBool>,
) -> Result<cpal::Stream, AudioError>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let scale = 1.0 / channels as f32;
    let data_cb = move |data: &[T], _: &cpal::InputCallbackInfo| {
        // Real-time thread: no locks, no allocation, never waits.
        let mut missed = 0u64;
        for frame in data.chunks_exact(channels) {
            let mono = frame.iter().map(|&s| f32::from_sample(s)).sum::<f32>() * scale;
            if producer.push(mono).is_err() {
                missed += 1;
            }
        }
        if missed > 0 {
            dropped.fetch_add(missed, Ordering::Relaxed);
        }
    };
    let err_cb = move |e: cpal::Error| {
        if e.kind() == cpal::ErrorKind::DeviceNotAvailable {
            lost.store(true, Ordering::SeqCst);
        }
    };
    device
        .build_input_stream::<T, _, _>(*config, data_cb, err_cb, None)
        .map_err(|e| AudioError::Device { device: device.to_string(), detail: e.to_string() })
}
