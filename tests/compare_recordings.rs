//! The attack the acoustic cross-check exists for, on the live path: one party plays
//! doctored sound into its own recorder (a phrase replaced) during a real two-process
//! meeting. Both recordings verify against the other's evidence — the evidence cannot see
//! it — and `dualrec compare` names the seconds.

mod common;
#[path = "../crates/compare/tests/common/rooms.rs"]
mod rooms;

use common::{spawn_recorder, verify_json};
use rooms::{conversation, microphones, sox, speak, splice};

#[test]
fn doctored_sound_played_into_a_recorder_is_named_by_compare() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let full = conversation(d);
    let room = d.join("room.wav");
    sox(&[&full, &room, &"trim", &"0", &"20"]);
    let other = speak(d, "other", "en+f2", "they will not return home at all", 170);
    let other3 = d.join("other3.wav");
    sox(&[&other, &other3, &"pad", &"0", &"3", &"trim", &"0", &"3"]);
    let doctored = splice(d, &room, 8.0, 11.0, Some(&other3), "doctored");
    let (mic_a, mic_b) = microphones(d, &room, &doctored);
    std::fs::rename(&mic_a, d.join("a.wav")).expect("a.wav");
    std::fs::rename(&mic_b, d.join("b.wav")).expect("b.wav");

    let addr = common::free_addr();
    let a = spawn_recorder(d, "A", "18s", &["--listen", &addr]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let b = spawn_recorder(d, "B", "18s", &["--connect", &addr]);
    for (who, child) in [("A", a), ("B", b)] {
        let out = child.wait_with_output().expect("recorder");
        assert!(out.status.success(), "{who}: {}", String::from_utf8_lossy(&out.stdout));
    }
    let (_, rec_a, log_a) = common::session_files(&d.join("out-A"));
    let (_, rec_b, log_b) = common::session_files(&d.join("out-B"));
    for (rec, log) in [(&rec_a, &log_b), (&rec_b, &log_a)] {
        let (code, v) = verify_json(rec, &[log]);
        assert_eq!(code, Some(0), "the evidence cannot see doctored sound: {v}");
    }

    let out = common::dualrec().arg("compare").arg(&rec_a).arg(&rec_b).output().expect("compare");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("DIFFERENT SOUND"), "{text}");
    // Each stretch named lies within 1 s of the replaced 8 s to 11 s.
    let stretches: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|l| {
            let (from, rest) = l.trim().split_once('-')?;
            let to = rest.split_whitespace().next()?;
            let secs = |t: &str| -> Option<u64> {
                let (m, s) = t.split_once(':')?;
                Some(m.parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?)
            };
            Some((secs(from)?, secs(to)?))
        })
        .collect();
    assert!(!stretches.is_empty(), "{text}");
    for (from, to) in &stretches {
        assert!(*from + 1 >= 8 && *to <= 12, "{from}..{to} is not at the replaced phrase:\n{text}");
    }
    assert!(text.contains("does not say which recording is the true one"), "{text}");

    // The same check inside verify: the evidence holds, the sound does not.
    let verify_other = |extra: &[&std::ffi::OsStr]| {
        common::dualrec()
            .arg("verify")
            .arg(&rec_a)
            .arg("--evidence")
            .arg(&log_b)
            .arg("--other")
            .arg(&rec_b)
            .args(extra)
            .output()
            .expect("verify --other")
    };
    let out = verify_other(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Integrity     holds") && text.contains("DIFFERENT SOUND"), "{text}");

    // With the evidence: each recording verifies, the sound does not; one page for a court.
    let page = d.join("compare.html");
    let out = common::dualrec()
        .arg("compare")
        .arg(&rec_a)
        .arg(&rec_b)
        .args(["--json", "--evidence"])
        .arg(&log_a)
        .arg("--evidence")
        .arg(&log_b)
        .arg("--html")
        .arg(&page)
        .output()
        .expect("compare --evidence");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verification"]["a"]["verdict"], "intact", "{v}");
    assert_eq!(v["verification"]["b"]["verdict"], "intact");
    assert!(v["seconds"].as_array().is_some_and(|s| s.iter().any(|x| x["class"] == "different")));
    let html = std::fs::read_to_string(&page).expect("page");
    for words in
        ["Recording A: its evidence", "Recording B: its evidence", "Different sound in", "SHA-256"]
    {
        assert!(html.contains(words), "no {words:?} in the page");
    }
    assert!(html.matches("class=\"seg\"").count() >= 2, "a timeline of same and different");
    // verify --other --html: the court report carries the comparison and both files.
    let report = d.join("report.html");
    let out = verify_other(&["--html".as_ref(), report.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(html.contains("Same room, same sound"), "no comparison in the court report");
    assert!(html.contains("the other party's recording"), "the other recording is not listed");
    // verify --other --json: one JSON object, the comparison in it, the other file listed.
    let out = verify_other(&["--json".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["verdict"], "intact", "{v}");
    let seconds = v["other"]["seconds"].as_array().expect("the comparison");
    assert!(seconds.iter().any(|x| x["class"] == "different"), "{v}");
    let roles: Vec<&serde_json::Value> = v["files"].as_array().expect("files").iter().collect();
    assert!(roles.iter().any(|f| f["role"] == "the other party's recording"), "{v}");

    // The other microphone as a stereo file made by another encoder (opusenc): the mix of
    // mono and stereo is compared the same way, and names the same seconds.
    let stereo_wav = d.join("b-stereo.wav");
    sox(&[&d.join("b.wav"), &stereo_wav, &"remix", &"1", &"1"]);
    let stereo = d.join("b-stereo.opus");
    let enc = std::process::Command::new("opusenc")
        .args(["--quiet"])
        .arg(&stereo_wav)
        .arg(&stereo)
        .status()
        .expect("opusenc must be installed (.ci/setup installs opus-tools)");
    assert!(enc.success());
    let out = common::dualrec()
        .arg("compare")
        .arg(&rec_a)
        .arg(&stereo)
        .arg("--json")
        .output()
        .expect("compare");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let seconds = v["seconds"].as_array().expect("seconds");
    let of = |class: &str| {
        seconds
            .iter()
            .filter(|s| s["class"] == class)
            .map(|s| s["index"].as_u64().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    assert!(
        !of("different").is_empty() && of("different").iter().all(|s| (7..12).contains(s)),
        "{:?}",
        of("different")
    );
    assert!(of("same").len() >= 10, "{:?}", of("same"));

    // The same pair as JSON, and a recording against itself: nothing different.
    let out = common::dualrec()
        .arg("compare")
        .arg(&rec_a)
        .arg(&rec_a)
        .arg("--json")
        .output()
        .expect("compare");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["seconds"].as_array().is_some_and(|s| s.len() >= 15), "{v}");
}
