//! Mono samples at any rate -> 48 kHz -> 20 ms frames -> Opus packets.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::{AudioError, EncodedPacket};

/// Opus's (and dualrec's) sample rate.
pub const SAMPLE_RATE: u32 = 48_000;
/// 20 ms at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
const MAX_PACKET: usize = 1500;

/// How to encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Target bitrate in bits per second (VBR). Default 32 000.
    pub bitrate: u32,
    /// Capacity of the event channel, in events (packets). Default 500 (10 s).
    pub channel_capacity: usize,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig { bitrate: 32_000, channel_capacity: 500 }
    }
}

/// The non-real-time half of the pipeline: owns the resampler and the encoder.
pub(crate) struct FrameEncoder {
    resampler: Option<Fft<f32>>,
    input_rate: u32,
    /// Input waiting for a full resampler chunk.
    pending_in: Vec<f32>,
    /// 48 kHz samples waiting for a full frame.
    pending_out: Vec<f32>,
    /// Resampler output still to drop (its delay) so output lines up with input.
    skip: usize,
    input_frames: u64,
    emitted: u64,
    encoder: opus::Encoder,
    pre_skip: u16,
    position: u64,
    out: Vec<u8>,
    out_buf: Vec<f32>,
}

impl FrameEncoder {
    pub(crate) fn new(input_rate: u32, config: EncoderConfig) -> Result<FrameEncoder, AudioError> {
        let enc_err = |e: opus::Error| AudioError::Encoder(e.to_string());
        let mut encoder =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
                .map_err(enc_err)?;
        encoder.set_bitrate(opus::Bitrate::Bits(config.bitrate as i32)).map_err(enc_err)?;
        encoder.set_vbr(true).map_err(enc_err)?;
        let pre_skip = u16::try_from(encoder.get_lookahead().map_err(enc_err)?).unwrap_or(312);
        let resampler = if input_rate == SAMPLE_RATE {
            None
        } else {
            let chunk = (input_rate as usize / 100).max(16);
            Some(
                Fft::<f32>::new(
                    input_rate as usize,
                    SAMPLE_RATE as usize,
                    chunk,
                    1,
                    FixedSync::Input,
                )
                .map_err(|e| AudioError::Resampler { rate: input_rate, detail: e.to_string() })?,
            )
        };
        let skip = resampler.as_ref().map_or(0, |r| r.output_delay());
        let out_cap = resampler.as_ref().map_or(0, |r| r.output_frames_max());
        Ok(FrameEncoder {
            resampler,
            input_rate,
            pending_in: Vec::new(),
            pending_out: Vec::with_capacity(FRAME_SAMPLES * 4),
            skip,
            input_frames: 0,
            emitted: 0,
            encoder,
            pre_skip,
            position: 0,
            out: vec![0; MAX_PACKET],
            out_buf: vec![0.0; out_cap],
        })
    }

    pub(crate) fn pre_skip(&self) -> u16 {
        self.pre_skip
    }

    /// Samples at 48 kHz that correspond to the input so far.
    pub(crate) fn input_samples_48k(&self) -> u64 {
        self.input_frames * u64::from(SAMPLE_RATE) / u64::from(self.input_rate)
    }

    /// Feeds mono samples at the input rate; returns the packets completed.
    pub(crate) fn push(
        &mut self,
        samples: &[f32],
        out: &mut Vec<EncodedPacket>,
    ) -> Result<(), AudioError> {
        self.input_frames += samples.len() as u64;
        if self.resampler.is_none() {
            self.pending_out.extend_from_slice(samples);
        } else {
            self.pending_in.extend_from_slice(samples);
            self.run_resampler(false)?;
        }
        self.encode_frames(out)
    }

    fn run_resampler(&mut self, flush: bool) -> Result<(), AudioError> {
        let rate = self.input_rate;
        let Some(r) = self.resampler.as_mut() else { return Ok(()) };
        let err = |e: &dyn std::fmt::Display| AudioError::Resampler { rate, detail: e.to_string() };
        let mut offset = 0;
        loop {
            let need = r.input_frames_next();
            let avail = self.pending_in.len() - offset;
            if avail < need && !(flush && avail > 0) {
                break;
            }
            let take = avail.min(need);
            let input =
                InterleavedSlice::new(&self.pending_in[offset..], 1, avail).map_err(|e| err(&e))?;
            let cap = self.out_buf.len();
            let mut output =
                InterleavedSlice::new_mut(&mut self.out_buf, 1, cap).map_err(|e| err(&e))?;
            let idx = Indexing::new().partial_len(take);
            let (_, produced) =
                r.process_into_buffer(&input, &mut output, Some(&idx)).map_err(|e| err(&e))?;
            offset += take;
            let drop = self.skip.min(produced);
            self.skip -= drop;
            self.pending_out.extend_from_slice(&self.out_buf[drop..produced]);
        }
        self.pending_in.drain(..offset);
        Ok(())
    }

    fn encode_frames(&mut self, out: &mut Vec<EncodedPacket>) -> Result<(), AudioError> {
        let mut start = 0;
        while self.pending_out.len() - start >= FRAME_SAMPLES {
            let frame = &self.pending_out[start..start + FRAME_SAMPLES];
            let peak = frame.iter().fold(0.0f32, |m, x| m.max(x.abs())).min(1.0);
            let n = self
                .encoder
                .encode_float(frame, &mut self.out)
                .map_err(|e| AudioError::Encoder(e.to_string()))?;
            out.push(EncodedPacket {
                data: self.out[..n].to_vec(),
                position: self.position,
                samples: FRAME_SAMPLES as u32,
                peak,
            });
            self.position += FRAME_SAMPLES as u64;
            self.emitted += FRAME_SAMPLES as u64;
            start += FRAME_SAMPLES;
        }
        self.pending_out.drain(..start);
        Ok(())
    }

    /// Flushes everything: the resampler's tail, then enough zero frames that the
    /// encoder's look-ahead has passed all real input (`ceil((N + pre_skip) / 960)`
    /// frames in total). Returns N, the real input length at 48 kHz.
    pub(crate) fn finish(&mut self, out: &mut Vec<EncodedPacket>) -> Result<u64, AudioError> {
        let n = self.input_samples_48k();
        if self.resampler.is_some() {
            // Zeros push the resampler's delayed tail out; then cut to exactly N.
            let mut guard = 0;
            while (self.emitted + self.pending_out.len() as u64) < n && guard < 64 {
                self.pending_in.resize(self.pending_in.len() + self.input_rate as usize / 100, 0.0);
                self.run_resampler(true)?;
                guard += 1;
            }
            let keep = n.saturating_sub(self.emitted) as usize;
            self.pending_out.truncate(keep.min(self.pending_out.len()));
        }
        let total =
            (n + u64::from(self.pre_skip)).div_ceil(FRAME_SAMPLES as u64) * FRAME_SAMPLES as u64;
        let missing = total.saturating_sub(self.emitted + self.pending_out.len() as u64) as usize;
        self.pending_out.resize(self.pending_out.len() + missing, 0.0);
        self.encode_frames(out)?;
        Ok(n)
    }

    /// Encodes silence in place of `input_frames_lost` lost input frames; returns where
    /// the silence starts and its length, both at 48 kHz.
    pub(crate) fn fill_gap(
        &mut self,
        input_frames_lost: u64,
        out: &mut Vec<EncodedPacket>,
    ) -> Result<(u64, u64), AudioError> {
        let at = self.position + self.pending_out.len() as u64;
        let before = self.input_samples_48k();
        let zeros = vec![0.0f32; 4800];
        let mut left = input_frames_lost;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            self.push(&zeros[..n], out)?;
            left -= n as u64;
        }
        Ok((at, self.input_samples_48k() - before))
    }
}
