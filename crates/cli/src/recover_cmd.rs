//! `dualrec recover DIR`, and the offer `dualrec record` makes when it finds an
//! unfinished session.

use std::path::Path;

use anyhow::Context as _;
use dualrec_proof::Identity;
use dualrec_session::Recovery;

fn identity(data_dir: &Path) -> anyhow::Result<Identity> {
    let path = dualrec_session::identity_path(data_dir);
    anyhow::ensure!(
        path.is_file(),
        "this device has no identity in {} (recover on the device that recorded the session, \
         or pass its --data-dir)",
        data_dir.display()
    );
    Ok(Identity::load(&path)?)
}

/// Finishes one session and says what was done, in words.
pub(crate) fn recover_one(identity: &Identity, dir: &Path) -> anyhow::Result<()> {
    crate::print_out(&finish(identity, dir)?)
}

/// Finishes one session; what was done, in words.
pub(crate) fn finish(identity: &Identity, dir: &Path) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let outcome = dualrec_session::recover(dir, identity)
        .with_context(|| format!("cannot finish the session in {}", dir.display()))?;
    let mut t = String::new();
    let path = |p: &Path| crate::report::safe(&p.display().to_string());
    match outcome {
        Recovery::AlreadyFinished { session } => {
            let _ =
                writeln!(t, "Session {session} in {} had ended cleanly: nothing to do.", path(dir));
        }
        Recovery::Finished(r) => {
            let late = r.chunks - r.committed_before;
            let _ = writeln!(t, "Session {} is finished now.", r.session);
            let _ = writeln!(t, "  recording: {} ({} seconds)", path(&r.recording), r.chunks);
            if let Some(kept) = &r.interrupted {
                let _ =
                    writeln!(t, "  kept unchanged, as the interruption left it: {}", path(kept));
            }
            let _ = writeln!(
                t,
                "  {} second(s) were committed before the interruption{}",
                r.committed_before,
                if late > 0 {
                    format!(
                        "; {late} more were found in the recording and committed now \
                         (the other device never saw them live)"
                    )
                } else {
                    String::new()
                }
            );
            if r.recording_torn_bytes > 0 || r.log_torn_bytes > 0 {
                let _ = writeln!(
                    t,
                    "  left out: {} bytes of a half-written page of audio and {} bytes of a \
                     half-written log record",
                    r.recording_torn_bytes, r.log_torn_bytes
                );
            }
            let _ =
                writeln!(t, "  evidence: {} (end signed by this device alone)", path(&r.evidence));
            let _ = writeln!(
                t,
                "Check it with: dualrec verify {} --evidence {} --evidence OTHER-DEVICE/evidence.log",
                path(&r.recording),
                path(&r.evidence)
            );
        }
    }
    Ok(t)
}

pub(crate) fn run(data_dir: &Path, dir: &Path) -> anyhow::Result<()> {
    recover_one(&identity(data_dir)?, dir)
}
