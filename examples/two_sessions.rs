//! Two devices in one process: two identities, two sessions over loopback TCP, a WAV
//! file as each "microphone", five seconds of recording witnessed both ways; then each
//! recording is verified against the other device's evidence log.
//!
//! `cargo run --example two_sessions`

#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::Duration;

use dualrec_proof::{Identity, Recording, Verifier, VerifyOptions, read_log};
use dualrec_session::{Input, Progress, SessionConfig, SessionOutcome};

fn tone(path: &Path, hz: f32) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for i in 0..48_000 * 6 {
        let t = i as f32 / 48_000.0;
        w.write_sample(((t * hz * std::f32::consts::TAU).sin() * 8_000.0) as i16)?;
    }
    w.finalize()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut sessions = Vec::new();
    for (who, hz) in [("Parent", 220.0), ("Worker", 330.0)] {
        let data_dir = dir.path().join(who);
        std::fs::create_dir_all(&data_dir)?;
        let (identity, _) = Identity::load_or_create(&dualrec_session::identity_path(&data_dir))?;
        let wav = dir.path().join(format!("{who}.wav"));
        tone(&wav, hz)?;
        // The parent listens on a known port; the worker connects to it.
        let (listen, connect) = if who == "Parent" {
            (format!("127.0.0.1:{port}"), None)
        } else {
            ("/ip4/127.0.0.1/tcp/0".to_owned(), Some(format!("127.0.0.1:{port}")))
        };
        let config = SessionConfig {
            name: who.into(),
            data_dir,
            out_dir: dir.path().join(format!("{who}-recordings")),
            input: Input::Wav(wav),
            duration: Some(Duration::from_secs(5)),
            listen: vec![listen],
            connect,
            mdns: false,
            assume_yes: true, // no person to compare the pairing codes
            with: Some(if who == "Parent" { "Worker" } else { "Parent" }.into()),
        };
        let (status_tx, mut status) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            while let Some(p) = status.recv().await {
                // The frequent counters are left out; the binary words the rest.
                if !matches!(
                    p,
                    Progress::Level(_)
                        | Progress::Committed(_)
                        | Progress::Witnessed(_)
                        | Progress::PeerWitnessed(_)
                ) {
                    println!("{who:>6}: {p:?}");
                }
            }
        });
        let (_stop, stop_rx) = tokio::sync::mpsc::channel(1);
        let accept_all: dualrec_session::Ask = std::sync::Arc::new(|_| true);
        sessions.push(tokio::spawn(async move {
            let outcome = dualrec_session::run(identity, config, accept_all, status_tx, stop_rx);
            let r = outcome.await;
            drop(_stop);
            r
        }));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut outcomes: Vec<SessionOutcome> = Vec::new();
    for s in sessions {
        outcomes.push(s.await??);
    }

    // Each recording against the *other* device's log.
    for (mine, theirs) in [(&outcomes[0], &outcomes[1]), (&outcomes[1], &outcomes[0])] {
        let bytes = std::fs::read(&mine.recording)?;
        let file = dualrec_media::read_recording(&bytes)?;
        let mut verifier = Verifier::new(VerifyOptions::default());
        verifier.add_log("other device", read_log(&std::fs::read(&theirs.evidence)?)?);
        let report = verifier.verify(&Recording {
            packets: &file.packets,
            producer: file.tags.producer().ok_or("no producer tag")?,
            session: file.tags.session(),
            file_sha256: Some(dualrec_proof::sha256(&bytes)),
            playback: Some(file.playback()),
            damaged: &[],
            excerpt: None,
        })?;
        println!(
            "{}: {:?}, {} of {} seconds witnessed live by the other device",
            mine.recording.display(),
            report.verdict,
            report.totals.witnessed_live,
            report.totals.chunks
        );
    }
    Ok(())
}
