//! A WAV source through resampling and Opus into an Ogg file that outside tools accept.

mod common;

use common::{record_to_file, speech_wav, tool, wav_samples};
use dualrec_audio::{EncoderConfig, Pacing, Recorder};
use dualrec_media::read_recording;

#[test]
fn speech_wav_becomes_a_standard_ogg_opus_file_with_exact_length() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = speech_wav(
        dir.path(),
        "Hello. This is a test of the dual recording system. We check that speech goes in and comes out again.",
    );
    let frames_in = hound::WavReader::open(&wav).expect("wav").duration() as u64;
    let rec = Recorder::wav(&wav, Pacing::AsFastAsPossible, EncoderConfig::default())
        .expect("wav source");
    let out = dir.path().join("recording.opus");
    let r = record_to_file(&rec, &out, None, &|| {});
    assert!(r.failure.is_none());
    let expected = frames_in * 48_000 / 22_050;
    assert_eq!(r.input_samples, expected);
    assert_eq!(r.finished.samples, expected);

    let p = out.to_str().expect("utf8");
    let (ok, info) = tool("opusinfo", &[p]);
    assert!(ok, "opusinfo rejected the file:\n{info}");
    assert!(!info.contains("WARNING"), "opusinfo warned:\n{info}");
    let (ok, probe) = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,channels",
            "-of",
            "compact",
            p,
        ],
    );
    assert!(
        ok && probe.contains("codec_name=opus") && probe.contains("channels=1"),
        "ffprobe: {probe}"
    );
    let decoded = dir.path().join("decoded.wav");
    let (ok, dec) =
        tool("opusdec", &["--quiet", "--rate", "48000", p, decoded.to_str().expect("utf8")]);
    assert!(ok, "opusdec: {dec}");
    let (n, samples) = wav_samples(&decoded);
    assert_eq!(n, expected, "opusdec must decode exactly the input length");
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert!(peak > 3000, "decoded audio should be speech, peak {peak}");

    // Read back: every packet, positions in 20 ms steps, the tags, a clean end.
    let file = read_recording(&std::fs::read(&out).expect("read")).expect("parse");
    assert!(file.ended && file.truncated.is_none());
    assert_eq!(file.packets.len() as u64, r.finished.packets);
    assert!(file.packets.iter().enumerate().all(|(i, p)| p.position == i as u64 * 960));
    assert_eq!(file.playable_samples(), expected);
    assert_eq!(file.tags.session(), Some(dualrec_proof::SessionId([7; 16])));
    assert_eq!(file.tags.producer(), Some(dualrec_proof::PublicKey([9; 32])));
    assert_eq!(file.head.pre_skip, rec.pre_skip());

    // Cut where a crash might: every read keeps the whole chunks before the cut.
    let bytes = std::fs::read(&out).expect("read");
    for cut in [bytes.len() / 3 + 17, bytes.len() / 2 + 5, bytes.len() - 9] {
        let f = read_recording(&bytes[..cut]).expect("a cut recording still reads");
        let t = f.truncated.expect("the cut is reported");
        assert_eq!(t.offset + t.bytes, cut as u64);
        assert!(
            !f.packets.is_empty() && f.packets.len().is_multiple_of(50),
            "whole chunks: {}",
            f.packets.len()
        );
        assert_eq!(&f.packets[..], &file.packets[..f.packets.len()]);
    }
}

#[test]
fn not_a_wav_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("notes.wav");
    std::fs::write(&p, b"these are my notes, not audio").expect("write");
    let err = Recorder::wav(&p, Pacing::AsFastAsPossible, EncoderConfig::default())
        .expect_err("must fail");
    assert!(matches!(err, dualrec_audio::AudioError::WavFormat { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.wav"));
    let missing = Recorder::wav(
        &dir.path().join("nope.wav"),
        Pacing::AsFastAsPossible,
        EncoderConfig::default(),
    );
    assert!(matches!(missing, Err(dualrec_audio::AudioError::Wav { .. })));
}

#[test]
fn a_realtime_wav_source_is_paced_like_a_microphone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("two-seconds.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&p, spec).expect("wav");
    for i in 0..88_200 {
        let s = ((i as f32 * 0.05).sin() * 8000.0) as i16;
        w.write_sample(s).expect("l");
        w.write_sample(s).expect("r");
    }
    w.finalize().expect("finalize");
    let started = std::time::Instant::now();
    let rec = Recorder::wav(&p, Pacing::Realtime, EncoderConfig::default()).expect("source");
    let r = record_to_file(&rec, &dir.path().join("out.opus"), None, &|| {});
    // Pacing only ever waits, so this lower bound cannot flake: 2 s of audio take 2 s.
    assert!(started.elapsed() >= std::time::Duration::from_millis(1900), "{:?}", started.elapsed());
    assert_eq!(r.input_samples, 96_000, "44.1 kHz stereo became 2 s at 48 kHz mono");
}

#[test]
fn a_wav_the_pipeline_cannot_handle_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("slow.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 4_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&p, spec).expect("wav");
    w.write_sample(0i16).expect("s");
    w.finalize().expect("finalize");
    match Recorder::wav(&p, Pacing::AsFastAsPossible, EncoderConfig::default()) {
        Err(dualrec_audio::AudioError::WavFormat { detail, .. }) => {
            assert!(detail.contains("4000 Hz"), "{detail}")
        }
        other => panic!("expected a format error, got {other:?}"),
    }
}
