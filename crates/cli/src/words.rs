//! The words a person reads during a session: every event and question the session
//! reports, typed, is worded here and only here. Names come from other devices and are
//! untrusted: they pass through [`safe`] before they reach a terminal.

use dualrec_net::PairingFailure;
use dualrec_proof::EndReason;
use dualrec_session::{Device, Progress, Question, SessionError};

use crate::report::safe;

/// A peak below this (-50 dBFS) is a muted or covered microphone, not a quiet room.
pub(crate) const HEARD_PEAK: f32 = 0.003;

/// A peak level (0.0 to 1.0) as dBFS: `-18 dB`.
pub(crate) fn decibels(peak: f32) -> String {
    format!("{:.0} dB", 20.0 * peak.max(1e-5).log10())
}

fn who(d: &Device) -> String {
    format!("{} ({})", safe(&d.name), d.fingerprint)
}

/// The line to print for an event, if it is one a person reads; `true` marks a warning.
pub(crate) fn line(p: &Progress) -> Option<(bool, String)> {
    before_the_meeting(p).or_else(|| in_the_meeting(p))
}

fn note(s: String) -> Option<(bool, String)> {
    Some((false, s))
}

fn warn(s: String) -> Option<(bool, String)> {
    Some((true, s))
}

/// Checks, finding the other device, pairing.
fn before_the_meeting(p: &Progress) -> Option<(bool, String)> {
    match p {
        Progress::SoundCheck { source } => {
            note(format!("checking the microphone ({}): please say something", safe(source)))
        }
        Progress::Ready { source, dir, loudest: Some(l) } if *l < HEARD_PEAK => warn(format!(
            "the microphone ({}) heard almost nothing ({}): check it is not muted or covered. \
             Recordings go to {}",
            safe(source),
            decibels(*l),
            safe(&dir.display().to_string())
        )),
        Progress::Ready { source, dir, loudest } => note(format!(
            "ready: the {} ({}) works{}, and recordings go to {}",
            if loudest.is_some() { "microphone" } else { "input" },
            safe(source),
            loudest.map(|l| format!(" and hears you ({})", decibels(l))).unwrap_or_default(),
            safe(&dir.display().to_string())
        )),
        Progress::Listening { address, this_machine_only: true } => {
            note(format!("listening on {address} (this machine only)"))
        }
        Progress::Listening { address, .. } => note(format!(
            "this device's address, to type on the other one if it is not found: {address}"
        )),
        Progress::Connecting { address } => note(format!("connecting to {}", safe(address))),
        Progress::NoAnswerYet { address } => {
            note(format!("no answer at {} yet; trying again every second", safe(address)))
        }
        Progress::Unreachable { address } => {
            warn(format!("{} is not an address this device can reach", safe(address)))
        }
        Progress::NothingFound { addresses } => warn(nothing_found(addresses)),
        Progress::Found { device, remembered } => {
            let seen = if *remembered { "remembered" } else { "new" };
            note(format!("found {} ({}, {seen})", safe(&device.name), device.fingerprint))
        }
        Progress::Declined { device } => {
            note(format!("declined pairing with {}: not the chosen device", who(device)))
        }
        Progress::Pairing { device } => note(format!("pairing with {}", who(device))),
        Progress::PairingCode { code, device, unchecked: true } => note(format!(
            "pairing code {code} with {} (accepted with --yes: the code was NOT checked by a person)",
            safe(&device.name)
        )),
        Progress::Paired { device } => note(format!("paired with {}", safe(&device.name))),
        Progress::PairingFailed { device, why } => warn(pairing_failed(device, why)),
        Progress::Proposing => note("proposing the session".into()),
        _ => None,
    }
}

/// From the co-signed start to the saved files.
fn in_the_meeting(p: &Progress) -> Option<(bool, String)> {
    match p {
        Progress::Rejoining { session, peer } => note(format!(
            "this device stopped in the middle of meeting {session} with {}; waiting up to 30 s \
             for it, to carry on recording in the same meeting",
            safe(&peer.name)
        )),
        Progress::Started { session, peer } => {
            note(format!("session {session} started with {}", safe(&peer.name)))
        }
        Progress::Recording { source, .. } => note(format!("recording from {}", safe(source))),
        Progress::Link { up: false } => {
            warn("the other device is not answering; still recording, proofs will follow".into())
        }
        Progress::Link { up: true } => note("the other device is connected".into()),
        Progress::Refused { detail } => {
            note(format!("refused a message from the other device: {}", safe(detail)))
        }
        Progress::CaptureGap { at_ms, lost_ms } => warn(format!(
            "{lost_ms} ms of input lost at {:.1} s (silence recorded in its place)",
            *at_ms as f64 / 1000.0
        )),
        Progress::DiskLow { minutes } => {
            warn(format!("the disk has room for about {minutes} more minutes of recording"))
        }
        Progress::CaptureFailed { detail } => {
            warn(format!("the microphone failed: {}; keeping what was recorded", safe(detail)))
        }
        Progress::Stopping { by_other: true, .. } => {
            note("the other device stopped the session".into())
        }
        Progress::Stopping { reason: EndReason::DurationReached, .. } => {
            note("the agreed duration is reached".into())
        }
        Progress::Stopping { .. } => note("stopping".into()),
        Progress::WaitingForWitness { unconfirmed, up_to_secs } => warn(format!(
            "saved; waiting up to {up_to_secs} s for the other device to confirm the last \
             {unconfirmed} s"
        )),
        Progress::EndNotSigned { detail } => warn(match detail {
            Some(d) => format!("the other device did not sign the end ({}); ending alone", safe(d)),
            None => "the other device did not sign the end (no answer); ending alone".into(),
        }),
        Progress::EarlierWitnessed { session } => note(format!(
            "the other device has now confirmed the rest of the earlier meeting {session}, and \
             both have signed its end"
        )),
        Progress::Saved { recording, evidence } => note(format!(
            "recording: {}\nevidence:  {}",
            safe(&recording.display().to_string()),
            safe(&evidence.display().to_string())
        )),
        _ => None,
    }
}

fn pairing_failed(device: &Device, why: &PairingFailure) -> String {
    let name = safe(&device.name);
    match why {
        PairingFailure::DeclinedThere => format!(
            "{name}'s screen showed a different code, or the person there said no. Do not \
             continue with that device: someone may be interfering. Still looking."
        ),
        PairingFailure::DeclinedHere => {
            format!(
                "not paired with {name}: the code was not confirmed here. If the codes \
                 differed, do not continue with that device: someone may be interfering. \
                 Still looking."
            )
        }
        PairingFailure::CommitmentMismatch => format!(
            "pairing with {name} failed a security check: do not continue; someone may be \
             interfering. Still looking."
        ),
        PairingFailure::Busy => format!("{name} is busy with another device. Still looking."),
        other => format!(
            "pairing with {name} did not complete ({}); still looking",
            safe(&other.to_string())
        ),
    }
}

fn nothing_found(addresses: &[String]) -> String {
    let type_it = match addresses {
        [] => String::new(),
        a => format!(
            " Or, on the other device, type this device's address: {} (or scan it):\n{}",
            a.join(" or "),
            crate::qr_text(&a[0])
        ),
    };
    format!(
        "no other device found yet. Both devices must be on the same network; guest Wi-Fi and \
         some office networks keep devices apart.{type_it}"
    )
}

/// Digits five lines high, so both people can compare the code across a table.
fn big(code: &str) -> String {
    const GLYPHS: [[&str; 5]; 10] = [
        ["███", "█ █", "█ █", "█ █", "███"],
        [" █ ", "██ ", " █ ", " █ ", "███"],
        ["███", "  █", "███", "█  ", "███"],
        ["███", "  █", "███", "  █", "███"],
        ["█ █", "█ █", "███", "  █", "  █"],
        ["███", "█  ", "███", "  █", "███"],
        ["███", "█  ", "███", "█ █", "███"],
        ["███", "  █", "  █", "  █", "  █"],
        ["███", "█ █", "███", "█ █", "███"],
        ["███", "█ █", "███", "  █", "███"],
    ];
    (0..5)
        .map(|row| {
            let cells: Vec<&str> = code
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) => GLYPHS[d as usize][row],
                    None => "   ",
                })
                .collect();
            format!("    {}\n", cells.join(" "))
        })
        .collect()
}

/// A question for the person, ending in the answer it expects.
pub(crate) fn question(q: &Question) -> String {
    match q {
        Question::Record { device, remembered } => {
            let seen = if *remembered { "remembered" } else { "new" };
            format!(
                "Record this meeting with {} (fingerprint {}, {seen})? Both of you must agree; \
                 nothing is recorded until you both have. [y/N] ",
                safe(&device.name),
                device.fingerprint
            )
        }
        Question::SameCode { code, device } => {
            let name = safe(&device.name);
            format!(
                "Pairing code {code} for {name} (fingerprint {}):\n\n{}\nDoes {name}'s screen show the same code? [y/N] ",
                device.fingerprint,
                big(code)
            )
        }
        _ => "Continue? [y/N] ".into(),
    }
}

/// A session error a person can meet, as one plain sentence with the next step; `None`
/// for the rest (their own message is precise enough for an expert).
pub(crate) fn session_error(e: &SessionError) -> Option<String> {
    Some(match e {
        SessionError::OutputFolder { dir, source } => format!(
            "Recordings cannot be written to {} ({source}). Nothing was recorded and no one \
             was contacted. Choose another folder with --out.",
            safe(&dir.display().to_string())
        ),
        SessionError::InputSilent { input } => format!(
            "The input ({}) gave no sound within 3 seconds. Nothing was recorded and no one \
             was contacted. Check that the microphone is plugged in and not muted, or choose \
             another with --input (see `dualrec devices`).",
            safe(input)
        ),
        SessionError::Audio(a) => format!(
            "The input could not be used ({}). If it is a microphone, check that it is plugged in; or choose \
             another with --input (see `dualrec devices`).",
            safe(&a.to_string())
        ),
        SessionError::Net(n) => format!(
            "The network could not be used ({}). Check that this device is on a network and \
             that no other dualrec is running; then start again.",
            safe(&n.to_string())
        ),
        SessionError::Handshake(h) => format!(
            "The other device did not agree to start ({}). Nothing was recorded. Start again \
             on both devices.",
            safe(&h.to_string())
        ),
        SessionError::PairingFailed { name, why } => format!(
            "Pairing with {} did not complete ({}). Nothing was recorded. Start again on both \
             devices and compare the codes.",
            safe(name),
            safe(&why.to_string())
        ),
        SessionError::SeveralDevices { found } => format!(
            "Several devices answered ({}). Choose the one to record with: --with NAME or \
             --with FINGERPRINT.",
            found.iter().map(|(n, f)| format!("{} {f}", safe(n))).collect::<Vec<_>>().join(", ")
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_drawn_big_and_the_address_as_a_qr_code() {
        let device = Device { name: "Sam\u{1b}[2J".into(), fingerprint: "d537-7cad".into() };
        let q = question(&Question::SameCode { code: "301 309".into(), device });
        assert!(q.contains("Pairing code 301 309 for Sam\\u{1b}[2J"), "names are made safe: {q}");
        assert_eq!(q.lines().filter(|l| l.contains('█')).count(), 5, "{q}");
        assert!(q.contains("\n    ███ ███  █      ███ ███ ███\n"), "3 0 1, a gap, 3 0 9: {q}");
        let hint = nothing_found(&["10.0.0.2:45277".into()]);
        assert!(hint.contains("10.0.0.2:45277") && hint.lines().count() > 10, "{hint}");
    }
}
