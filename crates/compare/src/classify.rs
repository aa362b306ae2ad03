//! Second by second: do the two recordings hold the same sound? A 3 s window around each
//! second is compared band by band (the correlation of each band's energy over time, which
//! a microphone's gain and colour do not change), at the lag between the recordings, which
//! is tracked: clock drift moves it by well under a frame a minute, so a lag that moves
//! faster (audio cut, inserted or stretched on one side) is itself a finding.

use crate::features::{BANDS, FPS, Frames};
use crate::{Class, Jump, Second, Why};

/// At or above: the same sound. (Honest rooms score 0.6 to 0.95; unrelated speech 0 to 0.3.)
const SAME: f64 = 0.5;
/// Below, with sound on both sides: different sound.
const DIFFERENT: f64 = 0.3;
/// The widest lag searched, in frames (5 s each way): a cut or insertion up to 5 s is
/// found as a shift; a longer one reads as different sound until the sound matches again.
const WIDE: i64 = 5 * FPS as i64;
/// A match found that far from the lag must be this good: the best of 500 lags of
/// unrelated sound can reach [`SAME`] by chance.
const WIDE_SAME: f64 = 0.65;
/// The lag the recordings first agree at is looked for within 1 s.
const START: i64 = FPS as i64;
/// A lag this far (40 ms) from the recent lags is not drift.
const JUMP: i64 = 2;
/// Seconds a new lag must hold before it is taken as the lag from then on.
const SETTLE: usize = 3;

/// Where each recording's room noise lies, and the frames.
pub(crate) struct Pair<'a> {
    pub(crate) a: &'a Frames,
    pub(crate) b: &'a Frames,
    pub(crate) floor_a: f32,
    pub(crate) floor_b: f32,
    /// Seconds with missing audio (damage), per side.
    pub(crate) missing_a: Vec<bool>,
    pub(crate) missing_b: Vec<bool>,
}

/// The level below which a recording's quietest tenth of frames lie: its room noise.
pub(crate) fn noise_floor(frames: &Frames) -> f32 {
    let mut db: Vec<f32> = frames.db.iter().copied().filter(|d| *d > -100.0).collect();
    if db.is_empty() {
        return -100.0;
    }
    db.sort_by(f32::total_cmp);
    db[db.len() / 10]
}

/// The mean over bands of the correlation of A's frames `range` with B's shifted by `lag`.
fn score(p: &Pair<'_>, range: std::ops::Range<i64>, lag: i64) -> Option<f64> {
    let (na, nb) = (p.a.len() as i64, p.b.len() as i64);
    let start = range.start.max(0).max(-lag);
    let end = range.end.min(na).min(nb - lag);
    if end - start < FPS as i64 {
        return None;
    }
    let mut total = 0.0;
    for band in 0..BANDS {
        let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
        for t in start..end {
            let x = f64::from(p.a.bands[t as usize][band]);
            let y = f64::from(p.b.bands[(t + lag) as usize][band]);
            sa += x;
            sb += y;
            saa += x * x;
            sbb += y * y;
            sab += x * y;
        }
        let n = (end - start) as f64;
        let cov = sab - sa * sb / n;
        let var = (saa - sa * sa / n) * (sbb - sb * sb / n);
        total += if var > 1e-9 { cov / var.sqrt() } else { 0.0 };
    }
    Some(total / BANDS as f64)
}

/// The best lag within `around ± reach` for the window, with its score.
fn best(p: &Pair<'_>, range: std::ops::Range<i64>, around: i64, reach: i64) -> Option<(f64, i64)> {
    (around - reach..=around + reach)
        .filter_map(|lag| score(p, range.clone(), lag).map(|s| (s, lag)))
        .max_by(|x, y| x.0.total_cmp(&y.0))
}

/// The second's own frames.
fn range_at(s: usize) -> std::ops::Range<i64> {
    let first = (s * FPS) as i64;
    first..first + FPS as i64
}

/// The 3 s window of frames around second `s`.
fn window(s: usize) -> std::ops::Range<i64> {
    let first = (s * FPS) as i64;
    first - FPS as i64..first + 2 * FPS as i64
}

/// How a side sounds in a window: someone speaking, silent below its own room noise
/// (muted), or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Sound,
    Muted,
    Quiet,
}

fn level(frames: &Frames, floor: f32, range: std::ops::Range<i64>) -> Level {
    let start = range.start.max(0) as usize;
    let end = (range.end.max(0) as usize).min(frames.len());
    if end <= start {
        return Level::Quiet;
    }
    let mut db: Vec<f32> = frames.db[start..end].to_vec();
    let loud = db.iter().filter(|d| **d > floor + 12.0).count();
    db.sort_by(f32::total_cmp);
    let median = db[db.len() / 2];
    if median < (floor - 20.0).min(-70.0) {
        Level::Muted
    } else if loud * 100 >= db.len() * 15 {
        Level::Sound
    } else {
        Level::Quiet
    }
}

/// Pitches further apart than this (octaves) in one frame pair are a tracking error on
/// one side (a formant or a harmonic taken for the pitch, often at the 400 Hz edge of the
/// search), not two voices: a stand-in of the other sex speaks about an octave away.
const TRACKING_ERROR: f32 = 1.5;

/// Where both sides are voiced in the window at `lag`, how far apart their pitches are:
/// the median of |log2(pitch A / pitch B)| (octaves) over the frame pairs at most
/// [`TRACKING_ERROR`] apart, with at least 25 such pairs.
fn voice_gap(p: &Pair<'_>, range: std::ops::Range<i64>, lag: i64) -> Option<f32> {
    let (na, nb) = (p.a.len() as i64, p.b.len() as i64);
    let mut gaps: Vec<f32> = (range.start.max(0).max(-lag)..range.end.min(na).min(nb - lag))
        .filter_map(|t| {
            let a = p.a.pitch[t as usize]?;
            let b = p.b.pitch[(t + lag) as usize]?;
            Some((a / b).log2().abs()).filter(|g| *g <= TRACKING_ERROR)
        })
        .collect();
    if gaps.len() < 25 {
        return None;
    }
    gaps.sort_by(f32::total_cmp);
    Some(gaps[gaps.len() / 2])
}

/// Pitches this far apart (octaves; about 4 semitones) are two voices, not one voice
/// heard through two microphones (which hear the same pitch).
const OTHER_VOICE: f32 = 0.33;
/// Recent seconds of the same sound whose pitches lie this close (octaves, about a
/// semitone) show both devices hear the speaker's own voice.
const PITCH_AGREES: f32 = 0.08;

/// How far above its room noise a side's loud frames are in `range` (95th percentile), dB.
fn above_floor(frames: &Frames, floor: f32, range: std::ops::Range<i64>) -> f32 {
    let start = range.start.max(0) as usize;
    let end = (range.end.max(0) as usize).min(frames.len());
    if end <= start {
        return 0.0;
    }
    let mut db: Vec<f32> = frames.db[start..end].to_vec();
    db.sort_by(f32::total_cmp);
    db[(db.len() * 95 / 100).min(db.len() - 1)] - floor
}

/// Someone is clearly heard on one side (this far above its room noise, dB) ...
const CLEARLY_HEARD: f32 = 25.0;
/// ... while the other hears nothing above its own (a microphone in the same room would).
const NOTHING_HEARD: f32 = 4.0;

/// The lag at which the recordings first agree (the devices started capturing a little
/// apart): the best over the first minute of seconds with sound on both sides.
pub(crate) fn initial_lag(p: &Pair<'_>, seconds: usize) -> i64 {
    let mut votes: Vec<(f64, i64)> = Vec::new();
    for s in 0..seconds {
        let range = window(s);
        if level(p.a, p.floor_a, range.clone()) != Level::Sound {
            continue;
        }
        if let Some(found) = best(p, range, 0, START).filter(|(score, _)| *score >= SAME) {
            votes.push(found);
        }
        if votes.len() >= 12 {
            break;
        }
    }
    votes.sort_by_key(|v| v.1);
    votes.get(votes.len() / 2).map_or(0, |v| v.1)
}

/// The tracker's state, second to second.
struct Tracker {
    lag: i64,
    /// Lags of recent seconds that were the same sound.
    recent: std::collections::VecDeque<i64>,
    /// Seconds at a new lag, not settled yet: (second, lag).
    moving: Vec<(usize, i64)>,
    /// How far apart the two sides' pitches were in recent seconds of the same sound.
    voice_gaps: std::collections::VecDeque<f32>,
}

impl Tracker {
    fn reference(&self) -> i64 {
        let mut r: Vec<i64> = self.recent.iter().copied().collect();
        r.sort_unstable();
        r.get(r.len() / 2).copied().unwrap_or(self.lag)
    }

    /// Whether, in the recent seconds of the same sound, both sides heard one voice at
    /// one pitch: only then does a second of two pitches mean another voice (where one
    /// device is far from the speaker in a noisy room, it hears other voices as often).
    fn pitch_agrees(&self) -> bool {
        let mut g: Vec<f32> = self.voice_gaps.iter().copied().collect();
        g.sort_by(f32::total_cmp);
        g.len() >= 3 && g[g.len() / 2] < PITCH_AGREES
    }

    fn note_voice_gap(&mut self, gap: f32) {
        self.voice_gaps.push_back(gap);
        if self.voice_gaps.len() > 10 {
            self.voice_gaps.pop_front();
        }
    }

    fn settle(&mut self, lag: i64) {
        self.lag = lag;
        self.recent.push_back(lag);
        if self.recent.len() > 10 {
            self.recent.pop_front();
        }
    }
}

/// Every second of the overlap, classified; and where the lag jumped.
pub(crate) fn classify(p: &Pair<'_>, seconds: usize) -> (Vec<Second>, Vec<Jump>) {
    let lag = initial_lag(p, seconds.min(60));
    let mut t = Tracker {
        lag,
        recent: std::iter::once(lag).collect(),
        moving: Vec::new(),
        voice_gaps: std::collections::VecDeque::new(),
    };
    let mut out: Vec<Second> = Vec::with_capacity(seconds);
    let mut jumps = Vec::new();
    for s in 0..seconds {
        let second = one_second(p, s, &mut t, &mut out, &mut jumps);
        out.push(second);
    }
    (out, jumps)
}

fn ms(frames: i64) -> i64 {
    frames * 1000 / FPS as i64
}

/// What a second is before any matching: damaged, silent on one side, or too quiet to
/// compare; `None` when both sides have sound to compare.
fn before_matching(p: &Pair<'_>, s: usize, lag: i64) -> Option<(Class, Why)> {
    let range = window(s);
    let b_range = range.start + lag..range.end + lag;
    let missing = |m: &[bool], r: std::ops::Range<i64>| {
        let sec = |f: i64| usize::try_from(f.max(0)).unwrap_or(0) / FPS;
        (sec(r.start + FPS as i64)..=sec(r.end - FPS as i64 - 1))
            .any(|i| m.get(i).copied().unwrap_or(false))
    };
    if missing(&p.missing_a, range.clone()) || missing(&p.missing_b, b_range.clone()) {
        return Some((Class::CannotTell, Why::Damaged));
    }
    // The second itself: clear sound on one side, nothing above the room's noise on the
    // other (muted, or another room's silence).
    let first = (s * FPS) as i64;
    let ua = above_floor(p.a, p.floor_a, first..first + FPS as i64);
    let ub = above_floor(p.b, p.floor_b, first + lag..first + lag + FPS as i64);
    if ua >= CLEARLY_HEARD && ub < NOTHING_HEARD {
        return Some((Class::Different, Why::SilentIn { side: "B" }));
    }
    if ub >= CLEARLY_HEARD && ua < NOTHING_HEARD {
        return Some((Class::Different, Why::SilentIn { side: "A" }));
    }
    match (level(p.a, p.floor_a, range), level(p.b, p.floor_b, b_range)) {
        (Level::Sound, Level::Muted) => Some((Class::Different, Why::SilentIn { side: "B" })),
        (Level::Muted, Level::Sound) => Some((Class::Different, Why::SilentIn { side: "A" })),
        (Level::Sound, Level::Sound) => None,
        _ => Some((Class::CannotTell, Why::Quiet)),
    }
}

fn one_second(
    p: &Pair<'_>,
    s: usize,
    t: &mut Tracker,
    out: &mut [Second],
    jumps: &mut Vec<Jump>,
) -> Second {
    let here = |class, why, score: Option<f64>, lag: i64| Second {
        index: s as u64,
        class,
        why,
        score: score.map(|x| x as f32),
        lag_ms: ms(lag),
    };
    if let Some((class, why)) = before_matching(p, s, t.lag) {
        return here(class, why, None, t.lag);
    }
    let range = window(s);
    let local = best(p, range.clone(), t.lag, JUMP);
    // A long stretch of different sound (another room) is searched wide once in 5 s only.
    let differing = s >= 5 && out[s - 5..s].iter().all(|o| o.why == Why::Differs);
    let found = match local {
        Some((score, lag)) if score >= SAME => Some((score, lag)),
        _ if differing && !s.is_multiple_of(5) => None,
        _ => best(p, range, t.lag, WIDE).filter(|(score, _)| *score >= WIDE_SAME),
    };
    let Some((score, lag)) = found else {
        let score = local.map(|l| l.0);
        return match score {
            Some(x) if x < DIFFERENT => here(Class::Different, Why::Differs, score, t.lag),
            _ => here(Class::CannotTell, Why::Uncertain, score, t.lag),
        };
    };
    let reference = t.reference();
    if (lag - reference).abs() < JUMP {
        t.moving.clear();
        t.settle(lag);
        let gap = voice_gap(p, range_at(s), lag);
        if gap.is_some_and(|g| g >= OTHER_VOICE) && t.pitch_agrees() {
            return here(Class::Different, Why::OtherVoice, Some(score), lag);
        }
        if let Some(g) = gap {
            t.note_voice_gap(g);
        }
        return here(Class::Same, Why::Matches, Some(score), lag);
    }
    let (class, why) = shifted(s, lag, reference, t, out, jumps);
    here(class, why, Some(score), lag)
}

/// The same sound, but not where the lag says: cut, inserted or stretched on one side —
/// unless the new lag has held for [`SETTLE`] seconds, when it becomes the lag.
fn shifted(
    s: usize,
    lag: i64,
    reference: i64,
    t: &mut Tracker,
    out: &mut [Second],
    jumps: &mut Vec<Jump>,
) -> (Class, Why) {
    let (first_lag, run) = match t.moving.first() {
        Some((_, l))
            if (lag - l).abs() <= 1 && t.moving.last().is_some_and(|(p, _)| p + 1 == s) =>
        {
            (*l, t.moving.len() + 1)
        }
        _ => {
            t.moving.clear();
            (lag, 1)
        }
    };
    t.moving.push((s, lag));
    t.lag = lag;
    if run < SETTLE {
        return (Class::Different, Why::Shifted { from_ms: ms(reference), to_ms: ms(lag) });
    }
    // The new lag holds: from its first second on it is the lag. That first second is
    // where the timing broke; the ones after it are the same sound.
    let (start, _) = t.moving[0];
    jumps.push(Jump { second: start as u64, from_ms: ms(reference), to_ms: ms(first_lag) });
    for (i, l) in t.moving.iter().skip(1).take(run - 2) {
        if let Some(o) = out.get_mut(*i) {
            o.class = Class::Same;
            o.why = Why::Matches;
            o.lag_ms = ms(*l);
        }
    }
    t.recent.clear();
    t.moving.clear();
    t.settle(lag);
    (Class::Same, Why::Matches)
}
