//! Rooms, not toys (see `common/rooms.rs`): honest pairs must show no "different sound",
//! doctored pairs must be caught at the right seconds (within 1 s).

mod common;

use common::rooms::*;
use dualrec_compare::{Class, compare};
use dualrec_proof::SessionId;

#[test]
fn an_honest_room_has_no_different_second() {
    let dir = tempfile::tempdir().expect("tmp");
    let room = conversation(dir.path());
    let c = pair(dir.path(), &room, &room);
    assert_eq!(c.count(Class::Different), 0, "false alarms:\n{}", show(&c));
    let same = c.count(Class::Same);
    assert!(
        same * 10 >= c.seconds.len() * 6,
        "too little is found the same ({same} of {}):\n{}",
        c.seconds.len(),
        show(&c)
    );
}

#[test]
fn doctored_rooms_are_caught_at_the_right_seconds() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let room = conversation(d);

    // A phrase replaced with other words, 3 s long, at 20 s.
    let other = speak(d, "other", "en+f2", "they will not return home at all", 170);
    let other3 = d.join("other3.wav");
    sox(&[&other, &other3, &"pad", &"0", &"3", &"trim", &"0", &"3"]);
    let replaced = splice(d, &room, 20.0, 23.0, Some(&other3), "replaced");
    caught_at(&pair(d, &room, &replaced), 20, 22);

    // 3 s muted at 12 s.
    let silence = d.join("silence3.wav");
    sox(&[&"-n", &"-r", &"48000", &"-c", &"1", &silence, &"trim", &"0", &"3"]);
    let muted = splice(d, &room, 12.0, 15.0, Some(&silence), "muted");
    caught_at(&pair(d, &room, &muted), 12, 14);

    // Words removed and the gap closed: A's 25 s to 27 s are not in B; B goes on with what
    // A has from 27 s, 2 s early.
    let cut = splice(d, &room, 25.0, 27.0, None, "cut");
    let c = pair(d, &room, &cut);
    caught_at(&c, 25, 27);
    let jump = c.jumps.iter().find(|j| (26..=28).contains(&j.second));
    let jump = jump.unwrap_or_else(|| panic!("no jump at the cut: {:?}\n{}", c.jumps, show(&c)));
    assert!((jump.from_ms - jump.to_ms - 2000).abs() <= 40, "a 2 s jump: {jump:?}");
}

/// Who says line 3 in the doctored room.
const STAND_IN: &str = "en-us+f4";

#[test]
fn the_same_words_in_another_voice_are_caught() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let (room, spans) = conversation_of(d, "room", &LINES, &[]);
    // Line 3 ("…will the children return home…") said by someone else: a stand-in for a
    // cloned voice.
    let (doctored, _) = conversation_of(d, "voice", &LINES, &[(3, STAND_IN)]);
    let (from, to) = spans[3];
    caught_at(&pair(d, &room, &doctored), from.floor() as u64, to.floor() as u64);
}

#[test]
fn a_stretch_sped_up_by_five_percent_is_caught() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let room = conversation(d);
    let part = d.join("part.wav");
    sox(&[&room, &part, &"trim", &"15", &"10"]);
    let faster = d.join("faster.wav");
    sox(&[&part, &faster, &"tempo", &"1.05"]);
    let stretched = splice(d, &room, 15.0, 25.0, Some(&faster), "stretched");
    caught_at(&pair(d, &room, &stretched), 16, 25);
}

#[test]
fn another_room_altogether_is_different_sound() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let room = conversation(d);
    let other_lines: Vec<(&str, &str)> = LINES
        .iter()
        .rev()
        .map(|(v, t)| (if *v == "en-us+m3" { "en+m1" } else { "en-us+f3" }, *t))
        .collect();
    let (other, _) = conversation_of(d, "elsewhere", &other_lines, &[]);
    let c = pair(d, &room, &other);
    let different = c.count(Class::Different);
    assert!(
        different * 10 >= c.seconds.len() * 6,
        "only {different} of {} seconds different:\n{}",
        c.seconds.len(),
        show(&c)
    );
    assert_eq!(c.count(Class::Same), 0, "{}", show(&c));
}

#[test]
fn recordings_of_different_meetings_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let tone = d.join("tone.wav");
    sox(&[&"-n", &"-r", &"48000", &"-c", &"1", &tone, &"synth", &"3", &"sine", &"440"]);
    let a = record(&tone, &d.join("a.opus"), [1; 16]);
    let b = record(&tone, &d.join("b.opus"), [2; 16]);
    let e = compare(&a, &b).expect_err("different sessions");
    let text = e.to_string();
    assert!(
        text.contains(&SessionId([1; 16]).to_string())
            && text.contains(&SessionId([2; 16]).to_string()),
        "{text}"
    );
}

#[test]
fn a_damaged_stretch_cannot_be_told_and_lengths_may_differ() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let room = conversation(d);
    let short = d.join("short.wav");
    sox(&[&room, &short, &"trim", &"0", &"30"]);
    let (a, b) = microphones(d, &room, &short);
    let ra = record(&a, &d.join("a.opus"), [7; 16]);
    record(&b, &d.join("b.opus"), [7; 16]);
    // A page in the middle of B's file is damaged (its checksum fails).
    let mut bytes = std::fs::read(d.join("b.opus")).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let rb = dualrec_media::read_recording(&bytes).expect("still readable");
    assert!(!rb.damaged.is_empty(), "the page is damaged");
    let c = compare(&ra, &rb).expect("compare");
    let damaged: Vec<u64> = c
        .seconds
        .iter()
        .filter(|s| s.why == dualrec_compare::Why::Damaged)
        .map(|s| s.index)
        .collect();
    assert!(!damaged.is_empty(), "{}", show(&c));
    assert_eq!(c.count(Class::Different), 0, "damage is not different sound:\n{}", show(&c));
    // B is 30 s, A the whole conversation: the overlap is compared, the rest named.
    assert!(c.seconds_a > c.seconds_b && c.seconds.len() as u64 == c.seconds_b, "{}", show(&c));
}

/// A voice name espeak-ng does not honour falls back to another voice without a word
/// (`en-gb+f2` is the plain British voice): the rooms would be one voice, and a "stand-in"
/// the same voice as the original.
#[test]
fn every_voice_the_rooms_use_is_its_own() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut voices: Vec<&str> = VOICES.to_vec();
    voices.extend(LINES.iter().map(|(v, _)| *v));
    voices.extend(BABBLE);
    voices.push(STAND_IN);
    voices.sort_unstable();
    voices.dedup();
    let mut seen: Vec<(Vec<u8>, &str)> = Vec::new();
    for (i, v) in voices.iter().enumerate() {
        let wav = speak(dir.path(), &format!("v{i}"), v, "Can I see the assessment?", 170);
        let bytes = std::fs::read(&wav).expect("wav");
        if let Some((_, same)) = seen.iter().find(|(b, _)| *b == bytes) {
            panic!("{v} sounds exactly like {same}");
        }
        seen.push((bytes, v));
    }
}

/// Two people talking at once, each nearer one device (6 dB): each device hears its own
/// speaker louder, and it is still one room. (Where each device hears its own speaker 14
/// dB louder, a second of it can read as another voice: the report's words name this
/// cause.)
#[test]
fn people_talking_at_once_are_not_another_voice() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let side = |near: usize| {
        let gain = move |i: usize| if i % 2 == near { 0.0 } else { -6.0 };
        let (room, spans) = conversation_placed(d, &format!("side{near}"), &LINES, &[], &gain);
        // Line 5's speaker breaks into line 4, a second after it starts, and line 7's into
        // line 6.
        let name = format!("side{near}");
        talked_over(d, &room, (&spans, &LINES), (near, 6.0), (&[4, 6], &name))
    };
    let c = pair(d, &side(0), &side(1));
    assert_eq!(c.count(Class::Different), 0, "false alarms:\n{}", show(&c));
}
