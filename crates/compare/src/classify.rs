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

/// A frame this far above its side's room noise (dB) is someone speaking.
const LOUD: f32 = 12.0;

fn level(frames: &Frames, floor: f32, range: std::ops::Range<i64>) -> Level {
    let start = range.start.max(0) as usize;
    let end = (range.end.max(0) as usize).min(frames.len());
    if end <= start {
        return Level::Quiet;
    }
    let mut db: Vec<f32> = frames.db[start..end].to_vec();
    let loud = db.iter().filter(|d| **d > floor + LOUD).count();
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

/// How two recordings' voices compare in one second: frame pairs voiced on both sides
/// and loud on both (the speaker, not the room's babble behind), how many of them have one
/// pitch, and how many two.
struct Voices {
    pairs: usize,
    /// Periods within one sample (their resolution) or 2 %: one voice, two microphones.
    close: usize,
    /// Periods 4 % or more apart.
    apart: usize,
}

/// Fewer frame pairs than this (0.4 s of voice on both sides) say nothing of the voice.
const VOICE_PAIRS: usize = 20;

impl Voices {
    /// Two voices: under a tenth of the pairs at one pitch, half of them or more at
    /// pitches 4 % apart. Two microphones hear one voice at one pitch; a stand-in speaking
    /// the same words, even at a similar pitch, meets it by chance in 0 to 15 % of the
    /// pairs. Two people talking at once, each nearer one device, are heard at one pitch
    /// in about 15 to 25 % of the pairs (where one of them pauses): not two voices.
    fn two(&self) -> bool {
        self.close * 10 < self.pairs && self.apart * 2 >= self.pairs
    }

    /// One voice: at least half of the pairs at one pitch.
    fn one(&self) -> bool {
        self.close * 2 >= self.pairs
    }
}

/// Two periods (samples): (close: one pitch, within one sample or 2 %; apart: 4 % or more).
fn periods_compared(a: u8, b: u8) -> (bool, bool) {
    let (a, b) = (u32::from(a), u32::from(b));
    let (gap, longer) = (a.abs_diff(b), a.max(b));
    (gap <= 1 || gap * 50 <= longer, gap * 25 >= longer)
}

/// The voices in second `s`'s own frames at `lag`, if at least [`VOICE_PAIRS`] frame pairs
/// are voiced and loud on both sides.
fn voices(p: &Pair<'_>, s: usize, lag: i64) -> Option<Voices> {
    let range = range_at(s);
    let (na, nb) = (p.a.len() as i64, p.b.len() as i64);
    let mut v = Voices { pairs: 0, close: 0, apart: 0 };
    for t in range.start.max(-lag)..range.end.min(na).min(nb - lag) {
        let (ta, tb) = (t as usize, (t + lag) as usize);
        let (Some(a), Some(b)) = (p.a.period[ta], p.b.period[tb]) else {
            continue;
        };
        if p.a.db[ta] <= p.floor_a + LOUD || p.b.db[tb] <= p.floor_b + LOUD {
            continue;
        }
        let (close, apart) = periods_compared(a, b);
        v.pairs += 1;
        v.close += usize::from(close);
        v.apart += usize::from(apart);
    }
    (v.pairs >= VOICE_PAIRS).then_some(v)
}

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
    /// Whether both sides heard one voice at one pitch, in recent seconds of the same
    /// sound that had voice enough to tell.
    one_voice: std::collections::VecDeque<bool>,
}

impl Tracker {
    fn reference(&self) -> i64 {
        let mut r: Vec<i64> = self.recent.iter().copied().collect();
        r.sort_unstable();
        r.get(r.len() / 2).copied().unwrap_or(self.lag)
    }

    /// Whether, in the recent seconds of the same sound, both sides heard one voice at
    /// one pitch (at least 3 of the last 10 that could tell, and at least half of them):
    /// only then does a second of two pitches mean another voice (where one device is far
    /// from the speaker in a noisy room, it hears other voices as often).
    fn pitch_agrees(&self) -> bool {
        let agreed = self.one_voice.iter().filter(|one| **one).count();
        self.one_voice.len() >= 3 && agreed * 2 >= self.one_voice.len()
    }

    fn note_voices(&mut self, v: &Voices) {
        self.one_voice.push_back(v.one());
        if self.one_voice.len() > 10 {
            self.one_voice.pop_front();
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
        one_voice: std::collections::VecDeque::new(),
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
        return match local {
            Some((x, _)) if x < DIFFERENT => here(Class::Different, Why::Differs, Some(x), t.lag),
            // The same words at the same moments in another voice score in between: the
            // bands follow the words, the pitch follows the speaker.
            Some((x, _)) if other_voice(p, s, t.lag, t).0 => {
                here(Class::Different, Why::OtherVoice, Some(x), t.lag)
            }
            _ => here(Class::CannotTell, Why::Uncertain, local.map(|l| l.0), t.lag),
        };
    };
    let reference = t.reference();
    if (lag - reference).abs() < JUMP {
        t.moving.clear();
        t.settle(lag);
        let (other, voices) = other_voice(p, s, lag, t);
        if other {
            return here(Class::Different, Why::OtherVoice, Some(score), lag);
        }
        if let Some(v) = voices {
            t.note_voices(&v);
        }
        return here(Class::Same, Why::Matches, Some(score), lag);
    }
    let (class, why) = shifted(s, lag, reference, t, out, jumps);
    here(class, why, Some(score), lag)
}

/// Whether second `s` at `lag` is another voice (two pitches where both sides heard one
/// voice at one pitch in recent seconds), and its voices.
fn other_voice(p: &Pair<'_>, s: usize, lag: i64, t: &Tracker) -> (bool, Option<Voices>) {
    let v = voices(p, s, lag);
    (v.as_ref().is_some_and(Voices::two) && t.pitch_agrees(), v)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_close_within_a_sample_or_two_percent_and_apart_from_four() {
        // 400 Hz: one sample is 2.5 %, still one pitch (the period's resolution).
        assert_eq!(periods_compared(40, 41), (true, false));
        assert_eq!(periods_compared(40, 42), (false, true));
        // 2 % of the longer period.
        assert_eq!(periods_compared(100, 102), (true, false));
        assert_eq!(periods_compared(102, 100), (true, false));
        assert_eq!(periods_compared(100, 103), (false, false));
        // 4 %: 25 × gap ≥ longer.
        assert_eq!(periods_compared(100, 104), (false, false));
        assert_eq!(periods_compared(100, 105), (false, true));
        assert_eq!(periods_compared(228, 114), (false, true));
    }

    #[test]
    fn two_voices_need_few_close_pairs_and_half_apart() {
        let v = |close, apart| Voices { pairs: 20, close, apart };
        assert!(v(1, 10).two());
        assert!(!v(2, 10).two(), "a tenth close is not two voices");
        assert!(!v(1, 9).two(), "under half apart is not two voices");
        assert!(v(10, 0).one());
        assert!(!v(9, 0).one());
    }
}
