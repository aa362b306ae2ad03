//! The encoder thread's loop, shared by microphones and files.

use std::sync::mpsc::SyncSender;
use std::time::Duration;

use crate::encode::FrameEncoder;
use crate::{AudioError, AudioEvent, EncodedPacket};

/// What a source produced since it was last asked.
pub(crate) enum Step {
    /// Samples were appended to the buffer; `lost_frames` input frames were dropped
    /// after them because the pipeline fell behind.
    Data { lost_frames: u64 },
    /// Nothing yet.
    Idle,
    /// The source ended normally.
    End,
    /// The source failed.
    Fail(AudioError),
}

fn send_all(tx: &SyncSender<AudioEvent>, packets: &mut Vec<EncodedPacket>) -> bool {
    packets.drain(..).all(|p| tx.send(AudioEvent::Packet(p)).is_ok())
}

/// Encodes one block and any gap after it. `Ok(false)`: the receiver is gone.
fn encode_block(
    enc: &mut FrameEncoder,
    tx: &SyncSender<AudioEvent>,
    buf: &[f32],
    lost_frames: u64,
    packets: &mut Vec<EncodedPacket>,
) -> Result<bool, AudioError> {
    enc.push(buf, packets)?;
    if !send_all(tx, packets) {
        return Ok(false);
    }
    if lost_frames > 0 {
        let (position, samples) = enc.fill_gap(lost_frames, packets)?;
        if tx.send(AudioEvent::Gap { position, samples }).is_err() || !send_all(tx, packets) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Pulls from `next` until it ends, sending events; blocks when the channel is full.
pub(crate) fn run_pipeline(
    mut enc: FrameEncoder,
    tx: SyncSender<AudioEvent>,
    mut next: impl FnMut(&mut Vec<f32>) -> Step,
) {
    let mut buf = Vec::with_capacity(48_000);
    let mut packets = Vec::with_capacity(64);
    let failure = loop {
        buf.clear();
        match next(&mut buf) {
            Step::Idle => std::thread::sleep(Duration::from_millis(5)),
            Step::Data { lost_frames } => {
                match encode_block(&mut enc, &tx, &buf, lost_frames, &mut packets) {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => break Some(e),
                }
            }
            Step::End => break None,
            Step::Fail(e) => break Some(e),
        }
    };
    // Whatever happened, flush the encoder so everything captured is kept.
    packets.clear();
    let end = enc.finish(&mut packets);
    if !send_all(&tx, &mut packets) {
        return;
    }
    let event = match (failure, end) {
        (None, Ok(input_samples)) => AudioEvent::Finished { input_samples },
        (Some(error), _) | (None, Err(error)) => {
            AudioEvent::Failed { error, input_samples: enc.input_samples_48k() }
        }
    };
    let _ = tx.send(event);
}
