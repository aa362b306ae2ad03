//! Records the default microphone for a few seconds and reports how much audio arrived
//! per second of wall time: `cargo run -p dualrec-audio --example mic_probe -- 5`.

#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use dualrec_audio::{AudioEvent, EncoderConfig, Recorder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let rec = Recorder::microphone(None, EncoderConfig::default())?;
    println!("recording from {}", rec.description());
    let start = Instant::now();
    let mut packets = 0u64;
    let mut first = None;
    let mut stopped = false;
    loop {
        if !stopped && start.elapsed().as_secs_f64() >= secs {
            rec.stop();
            stopped = true;
        }
        match rec.recv(Duration::from_secs(5)) {
            Some(AudioEvent::Packet(_)) => {
                first.get_or_insert_with(Instant::now);
                packets += 1;
            }
            Some(AudioEvent::Gap { position, samples }) => {
                println!("gap of {samples} samples at {position}")
            }
            Some(AudioEvent::Finished { input_samples }) => {
                let wall = first.map_or(0.0, |f| f.elapsed().as_secs_f64());
                println!(
                    "{packets} packets, {:.2} s of audio in {wall:.2} s of wall time since the first packet",
                    input_samples as f64 / 48_000.0
                );
                return Ok(());
            }
            Some(AudioEvent::Failed { error, .. }) => return Err(error.into()),
            Some(_) => {}
            None => return Err("no audio".into()),
        }
    }
}
