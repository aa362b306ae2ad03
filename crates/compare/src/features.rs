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
}

impl Frames {
    pub(crate) fn len(&self) -> usize {
        self.db.len()
    }
}

/// The frames of `samples` (16 kHz).
pub(crate) fn frames(samples: &[f32]) -> Frames {
    let n = samples.len().saturating_sub(WINDOW) / HOP + usize::from(samples.len() >= WINDOW);
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(WINDOW);
    let hann: Vec<f32> = (0..WINDOW)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / WINDOW as f32).cos())
        .collect();
    let bin_hz = RATE as f32 / WINDOW as f32;
    let band_of: Vec<Option<usize>> = (0..=WINDOW / 2)
        .map(|k| {
            let hz = k as f32 * bin_hz;
            EDGES.windows(2).position(|e| hz >= e[0] && hz < e[1])
        })
        .collect();
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut out = Frames { bands: Vec::with_capacity(n), db: Vec::with_capacity(n) };
    for f in 0..n {
        let frame = &samples[f * HOP..f * HOP + WINDOW];
        for ((x, s), w) in input.iter_mut().zip(frame).zip(&hann) {
            *x = s * w;
        }
        let power: f32 = frame.iter().map(|s| s * s).sum::<f32>() / WINDOW as f32;
        out.db.push(10.0 * (power + 1e-12).log10());
        let _ = fft.process(&mut input, &mut spectrum);
        let mut bands = [0.0f32; BANDS];
        for (c, band) in spectrum.iter().zip(&band_of) {
            if let Some(b) = band {
                bands[*b] += c.norm_sqr();
            }
        }
        // The spectrum's shape, without the frame's loudness: two people talking at the
        // same time in different rooms are loud together, but do not say the same sounds.
        let logs = bands.map(|e| (e + 1e-9).ln());
        let mean = logs.iter().sum::<f32>() / BANDS as f32;
        out.bands.push(logs.map(|l| l - mean));
    }
    out
}
