//! The encoder thread's loop, shared by microphones and files.

use std::time::Duration;

use crate::encode::FrameEncoder;
use crate::{AudioError, AudioEvent, EncodedPacket, Sink};

/// What a source produced since it was last asked.
pub(crate) enum Step {
    /// Samples were appended to the buffer. A loss of input is marked in-band where it
    /// happened: `NaN` followed by the number of frames lost.
    Data,
    /// Nothing yet.
    Idle,
    /// The source ended normally.
    End,
    /// The source failed.
    Fail(AudioError),
}

fn send_all(tx: &mut dyn Sink, packets: &mut Vec<EncodedPacket>) -> bool {
    packets.drain(..).all(|p| tx.deliver(AudioEvent::Packet(p)))
}

/// Encodes one block, turning loss markers into silence and [`AudioEvent::Gap`]s.
/// `Ok(false)`: the receiver is gone. `split_marker` carries a NaN that ended the
/// previous block, whose count is this block's first value.
fn encode_block(
    enc: &mut FrameEncoder,
    tx: &mut dyn Sink,
    mut buf: &[f32],
    split_marker: &mut bool,
    packets: &mut Vec<EncodedPacket>,
) -> Result<bool, AudioError> {
    loop {
        let lost = if *split_marker {
            let Some((&count, rest)) = buf.split_first() else { return Ok(true) };
            *split_marker = false;
            buf = rest;
            Some(count as u64)
        } else {
            let cut = buf.iter().position(|x| x.is_nan()).unwrap_or(buf.len());
            enc.push(&buf[..cut], packets)?;
            if !send_all(tx, packets) {
                return Ok(false);
            }
            if cut == buf.len() {
                return Ok(true);
            }
            match buf.get(cut + 1) {
                Some(&count) => {
                    buf = &buf[cut + 2..];
                    Some(count as u64)
                }
                None => {
                    *split_marker = true;
                    return Ok(true);
                }
            }
        };
        if let Some(lost) = lost.filter(|&n| n > 0) {
            let (position, samples) = enc.fill_gap(lost, packets)?;
            if !tx.deliver(AudioEvent::Gap { position, samples }) || !send_all(tx, packets) {
                return Ok(false);
            }
        }
    }
}

/// Pulls from `next` until it ends, sending events; blocks when the channel is full.
pub(crate) fn run_pipeline(
    mut enc: FrameEncoder,
    mut tx: Box<dyn Sink>,
    mut next: impl FnMut(&mut Vec<f32>) -> Step,
) {
    let mut buf = Vec::with_capacity(48_000);
    let mut packets = Vec::with_capacity(64);
    let mut split_marker = false;
    let failure = loop {
        buf.clear();
        match next(&mut buf) {
            Step::Idle => std::thread::sleep(Duration::from_millis(5)),
            Step::Data => {
                match encode_block(&mut enc, tx.as_mut(), &buf, &mut split_marker, &mut packets) {
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
    if !send_all(tx.as_mut(), &mut packets) {
        return;
    }
    let event = match (failure, end) {
        (None, Ok(input_samples)) => AudioEvent::Finished { input_samples },
        (Some(error), _) | (None, Err(error)) => {
            AudioEvent::Failed { error, input_samples: enc.input_samples_48k() }
        }
    };
    tx.deliver(event);
}
