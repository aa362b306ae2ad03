//! `dualrec list`: the meetings recorded on this device, one line each.

use std::fmt::Write as _;
use std::path::Path;

use dualrec_proof::Identity;
use dualrec_session::{MeetingState, PastMeeting};

use crate::report::safe;

pub(crate) fn run(data_dir: &Path, out: &Path) -> anyhow::Result<()> {
    let id_path = dualrec_session::identity_path(data_dir);
    if !id_path.is_file() {
        return crate::print_out(
            "This device has not recorded a meeting yet (it has no identity). `dualrec record` starts one.\n",
        );
    }
    let identity = Identity::load(&id_path)?;
    let meetings = dualrec_session::past_meetings(out, &identity);
    crate::print_out(&render(out, &meetings, crate::report::local))
}

/// The list as text; `when` turns a signed start time into the local time shown.
pub(crate) fn render(out: &Path, meetings: &[PastMeeting], when: impl Fn(u64) -> String) -> String {
    let mut text = String::new();
    if meetings.is_empty() {
        let _ = writeln!(text, "No meetings recorded in {} yet.", safe(&out.display().to_string()));
        return text;
    }
    let _ = writeln!(text, "Meetings in {}:\n", safe(&out.display().to_string()));
    for m in meetings {
        let with: Vec<String> =
            m.others.iter().map(|d| format!("\"{}\" ({})", safe(&d.name), d.fingerprint)).collect();
        let state = match m.state {
            MeetingState::Finished => "finished",
            MeetingState::Interrupted => "interrupted",
            MeetingState::Recording => "recording now",
            _ => "unknown",
        };
        let _ = writeln!(
            text,
            "  {}  with {}  {}  {state}",
            when(m.started_at_ms),
            with.join(", "),
            length(m.seconds)
        );
        let dir = safe(&m.dir.display().to_string());
        let _ = writeln!(text, "    folder: {dir}");
        if m.state == MeetingState::Interrupted {
            let _ = writeln!(
                text,
                "    to finish it: dualrec recover \"{dir}\" (or record again with the same device)"
            );
        }
    }
    text
}

/// `1 h 02 min 05 s`, `4 min 10 s`, `12 s`.
pub(crate) fn length(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s:02} s"),
        _ => format!("{h} h {m:02} min {s:02} s"),
    }
}
