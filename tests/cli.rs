//! The `dualrec` binary, run as a real process.

use std::process::Command;

fn dualrec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dualrec"))
}

#[test]
fn demo_runs_to_its_end_and_says_what_it_showed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dualrec().args(["demo", "--keep"]).arg(dir.path()).output().expect("run demo");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("the code was NOT checked by a person"), "{text}");
    assert_eq!(text.matches("VERDICT: complete, unaltered").count(), 2, "{text}");
    assert!(text.contains("00:03.0-00:04.0  REMOVED"), "{text}");
    assert!(text.contains("The demo showed:"));

    // The kept evidence log is a real file that `inspect` reads.
    let sessions: Vec<_> =
        std::fs::read_dir(dir.path().join("Parent-recordings")).expect("recordings").collect();
    assert_eq!(sessions.len(), 1);
    let log = sessions[0].as_ref().expect("entry").path().join("evidence.log");
    let out = dualrec().arg("inspect").arg(&log).output().expect("run inspect");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("START session"));
    let checkpoints = text.matches("CHECKPOINT").count();
    assert!(checkpoints >= 16, "both devices' checkpoints are in each log: {checkpoints}");
    assert_eq!(
        text.matches("signature ok").count(),
        2 * checkpoints,
        "each checkpoint has its receipt"
    );
    assert!(!text.contains("INVALID"));
    assert_eq!(text.matches("END by").count(), 2, "one co-signed end per device");

    // `list` on the parent's device: the meeting, with whom, how long, finished.
    let worker = dualrec()
        .arg("--data-dir")
        .arg(dir.path().join("Worker-device"))
        .arg("id")
        .output()
        .expect("id");
    let worker = String::from_utf8_lossy(&worker.stdout).to_string();
    let fp = worker.lines().find_map(|l| l.trim().strip_prefix("fingerprint: ")).expect("fp");
    let list = dualrec()
        .arg("--data-dir")
        .arg(dir.path().join("Parent-device"))
        .arg("list")
        .arg("--out")
        .arg(dir.path().join("Parent-recordings"))
        .output()
        .expect("list");
    assert!(list.status.success());
    let folder = sessions[0].as_ref().expect("entry").file_name().to_string_lossy().to_string();
    let text = String::from_utf8_lossy(&list.stdout)
        .replace(&dir.path().display().to_string(), "[DIR]")
        .replace(fp, "[FINGERPRINT]")
        .replace(&folder, "[FOLDER]")
        .lines()
        .map(|l| match l.split_once("  with ") {
            Some((when, rest)) if !when.trim().is_empty() => format!("  [WHEN]  with {rest}"),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("list-after-the-demo", text);
    // The folder is named for people: date, time, the other party, the session's start.
    let (date, rest) = folder.split_at(16);
    assert!(date.chars().filter(char::is_ascii_digit).count() == 12, "{folder}");
    assert!(rest.starts_with(" with Worker (") && rest.ends_with(')'), "{folder}");
    // Only the owner can open them.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
        };
        let out = dir.path().join("Parent-recordings");
        for d in [out.clone(), out.join(&folder), dir.path().join("Parent-device")] {
            assert_eq!(mode(&d), 0o700, "{}", d.display());
        }
        for f in ["recording.opus", "evidence.log"] {
            assert_eq!(mode(&out.join(&folder).join(f)), 0o600, "{f}");
        }
    }
}

#[test]
fn id_creates_a_private_key_once_and_shows_it_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dualrec()
        .arg("--data-dir")
        .arg(dir.path())
        .args(["id", "--name", "Sam"])
        .output()
        .expect("id");
    assert!(first.status.success());
    let first = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(first.contains("Created a new identity"));
    assert!(first.contains("Sam"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            std::fs::metadata(dir.path().join("identity.key")).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = dualrec().env("DUALREC_DATA_DIR", dir.path()).arg("id").output().expect("id");
    let again = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.contains("This device's identity"));
    let key_line = |s: &str| s.lines().find(|l| l.contains("public key")).map(str::to_owned);
    assert_eq!(key_line(&first), key_line(&again));
    // The card to hand over: the fingerprint, a QR code of it, and the verify line.
    let fp = first
        .lines()
        .find_map(|l| l.trim().strip_prefix("fingerprint: "))
        .expect("fingerprint line")
        .to_owned();
    assert!(again.contains(&format!("--expect \"Sam={fp}\"")), "{again}");
    assert!(again.lines().filter(|l| l.contains('▀') || l.contains('▄')).count() > 10, "{again}");
}

#[test]
fn inspect_of_something_that_is_not_a_log_says_so_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("x.log");
    std::fs::write(&f, b"hello, this is not a log").expect("write");
    let out = dualrec().arg("inspect").arg(&f).output().expect("inspect");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a readable evidence log"), "{err}");
    assert!(err.contains("bad magic"), "{err}");
}

#[test]
fn devices_lists_inputs_or_says_there_are_none() {
    let out = dualrec().arg("devices").output().expect("devices");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (text, noise) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Audio inputs") || text.contains("No audio inputs found"), "{text}");
    // Real inputs only: ALSA's null device (zeros) and its converter plugins are not
    // microphones; and the sound libraries' probing noise does not reach the person.
    for plugin in ["alsa:null", "alsa:lavrate", "alsa:samplerate", "not available now"] {
        assert!(!text.contains(plugin), "{text}");
    }
    assert!(!noise.contains("ALSA lib") && !noise.contains("jack"), "{noise}");
}

#[test]
fn version_completions_man_page_and_a_support_log() {
    let out = dualrec().arg("--version").output().expect("version");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.starts_with("dualrec 0.") && text.contains("(evidence format 1, build "),
        "{text}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("dualrec.bash");
    let out = dualrec().args(["completions", "bash"]).output().expect("completions");
    assert!(out.status.success());
    std::fs::write(&script, &out.stdout).expect("write");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["verify", "record", "list", "--evidence"] {
        assert!(text.contains(word), "completion for {word}");
    }
    let syntax = std::process::Command::new("bash").arg("-n").arg(&script).status().expect("bash");
    assert!(syntax.success(), "the completion script is valid bash");

    let out = dualrec().arg("man").output().expect("man");
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && page.contains(".TH dualrec 1"), "{page}");
    assert!(page.contains("verify") && page.contains("\\-\\-data\\-dir"), "{page}");

    // -v writes a private log in the data folder, not to the screen.
    let data = dir.path().join("data");
    let out = dualrec()
        .arg("-v")
        .arg("--data-dir")
        .arg(&data)
        .args(["id", "--name", "Sam"])
        .output()
        .expect("id");
    assert!(out.status.success());
    let log = data.join("dualrec.log");
    let logged = std::fs::read_to_string(&log).expect("a log");
    assert!(logged.contains("started") && logged.contains("evidence format 1"), "{logged}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("INFO"), "the log is not on stdout");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&log).expect("log").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A wrong command line has an exit code of its own.
    let out = dualrec().arg("no-such-command").output().expect("usage");
    assert_eq!(out.status.code(), Some(64));
}
