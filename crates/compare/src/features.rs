//! What is compared: each 20 ms frame's energy in one-third-octave bands (as ambient-sound
//! co-presence checks use), on a log scale, and the frame's loudness.

use realfft::RealFftPlanner;

use crate::RATE;

/// Frames per second (a 20 ms hop).
pub(crate) const FPS: usize = 50;
const HOP: usize = RATE / FPS;
const WINDOW: usize = 512;
/// One-third-octave band edges, 125 Hz to 7.1 kHz (speech's range at 16 kHz).
const EDGES: [f32; 19] = [
    125.0, 157.0, 198.0, 250.0, 315.0, 397.0, 500.0, 630.0, 794.0, 1000.0, 1260.0, 1587.0, 2000.0,
    2520.0, 3175.0, 4000.0, 5040.0, 6350.0, 7100.0,
];
pub(crate) const BANDS: usize = EDGES.len() - 1;

/// A recording's frames.
#[derive(Debug)]
pub(crate) struct Frames {
    /// ln of each band's energy less the frame's mean over bands, per frame.
    pub(crate) bands: Vec<[f32; BANDS]>,
    /// Loudness per frame, dB relative to full scale.
    pub(crate) db: Vec<f32>,
    /// The voice's pitch period per frame, in samples at 16 kHz (40 to 228: 400 Hz to
    /// 70 Hz), where the frame is clearly voiced.
    pub(crate) period: Vec<Option<u8>>,
}

impl Frames {
    pub(crate) fn len(&self) -> usize {
        self.db.len()
    }
}

/// Turns sound, pushed in order, into frames; keeps only the last window of samples, so a
/// long recording takes the memory of its frames alone (about 80 bytes a frame).
pub(crate) struct Analyser {
    fft: std::sync::Arc<dyn realfft::RealToComplex<f32>>,
    hann: Vec<f32>,
    band_of: Vec<Option<usize>>,
    input: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    /// Samples from the next frame's start on.
    pending: Vec<f32>,
    frames: Frames,
    ifft: std::sync::Arc<dyn realfft::ComplexToReal<f32>>,
    lags: Vec<f32>,
}

/// Pitch is looked for between 70 and 400 Hz (periods in samples at 16 kHz).
const SHORTEST_PERIOD: usize = RATE / 400;
const LONGEST_PERIOD: usize = RATE / 70;
/// A frame is voiced when its autocorrelation at the period is this share of its energy.
const VOICED: f32 = 0.45;

impl Analyser {
    pub(crate) fn new() -> Analyser {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(WINDOW);
        let bin_hz = RATE as f32 / WINDOW as f32;
        let band_of = (0..=WINDOW / 2)
            .map(|k| {
                let hz = k as f32 * bin_hz;
                EDGES.windows(2).position(|e| hz >= e[0] && hz < e[1])
            })
            .collect();
        Analyser {
            hann: (0..WINDOW)
                .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / WINDOW as f32).cos())
                .collect(),
            band_of,
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            fft,
            pending: Vec::with_capacity(2 * WINDOW),
            frames: Frames { bands: Vec::new(), db: Vec::new(), period: Vec::new() },
            ifft: RealFftPlanner::<f32>::new().plan_fft_inverse(WINDOW),
            lags: vec![0.0; WINDOW],
        }
    }

    /// The next samples (16 kHz).
    pub(crate) fn push(&mut self, samples: &[f32]) {
        self.pending.extend_from_slice(samples);
        let mut used = 0;
        while self.pending.len() - used >= WINDOW {
            self.frame(used);
            used += HOP;
        }
        self.pending.drain(..used);
    }

    fn frame(&mut self, at: usize) {
        let frame = &self.pending[at..at + WINDOW];
        for ((x, s), w) in self.input.iter_mut().zip(frame).zip(&self.hann) {
            *x = s * w;
        }
        let power: f32 = frame.iter().map(|s| s * s).sum::<f32>() / WINDOW as f32;
        self.frames.db.push(10.0 * (power + 1e-12).log10());
        let _ = self.fft.process(&mut self.input, &mut self.spectrum);
        let mut bands = [0.0f32; BANDS];
        for (c, band) in self.spectrum.iter().zip(&self.band_of) {
            if let Some(b) = band {
                bands[*b] += c.norm_sqr();
            }
        }
        let period = self.period();
        self.frames.period.push(period);
        // The spectrum's shape, without the frame's loudness: two people talking at the
        // same time in different rooms are loud together, but do not say the same sounds.
        let logs = bands.map(|e| (e + 1e-9).ln());
        let mean = logs.iter().sum::<f32>() / BANDS as f32;
        self.frames.bands.push(logs.map(|l| l - mean));
    }

    /// The frame's pitch period from its autocorrelation (the inverse transform of its
    /// power spectrum), if the frame is clearly voiced.
    fn period(&mut self) -> Option<u8> {
        let mut power: Vec<realfft::num_complex::Complex<f32>> = self
            .spectrum
            .iter()
            .map(|c| realfft::num_complex::Complex::new(c.norm_sqr(), 0.0))
            .collect();
        self.ifft.process(&mut power, &mut self.lags).ok()?;
        let energy = self.lags[0];
        if energy <= 1e-9 {
            return None;
        }
        let (period, peak) = (SHORTEST_PERIOD..=LONGEST_PERIOD)
            .map(|l| (l, self.lags[l] * WINDOW as f32 / (WINDOW - l) as f32))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        // The longest period searched (228) fits a byte.
        (peak / energy >= VOICED).then(|| u8::try_from(period).ok()).flatten()
    }

    pub(crate) fn finish(self) -> Frames {
        self.frames
    }
}
