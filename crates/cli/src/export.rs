//! One file for a solicitor: a meeting's recording, this device's evidence log, the other
//! device's log when the person has put it in the folder, the check's report as text and
//! as a page, and a note saying what each file is and how to check them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// What a meeting folder holds that goes into the export, by the name it has there.
const RECORDING: &str = "recording.opus";
const EVIDENCE: &str = "evidence.log";
/// Where a person puts the other device's log to have it exported too.
const OTHER_EVIDENCE: &str = "other-device-evidence.log";

/// The export of the meeting in `dir` as zip bytes, with the file name it should have.
pub(crate) fn export(dir: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let recording = dir.join(RECORDING);
    let mut logs = vec![dir.join(EVIDENCE)];
    if dir.join(OTHER_EVIDENCE).is_file() {
        logs.push(dir.join(OTHER_EVIDENCE));
    }
    let checked = crate::verify_cmd::verify_files(
        &recording,
        &logs,
        dualrec_proof::VerifyOptions::default(),
    )?;
    let text = crate::report::render(&checked.report);
    let html =
        crate::court::html(&checked.report, &checked.files, &crate::court::Extras::default());
    let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o600);
    for path in std::iter::once(&recording).chain(&logs) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        zip.start_file(name, stored)?;
        zip.write_all(&bytes)?;
    }
    let deflated = stored.compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in [
        ("report.txt", text.as_bytes()),
        ("report.html", html.as_bytes()),
        ("README.txt", readme(&folder, logs.len()).as_bytes()),
    ] {
        zip.start_file(name, deflated)?;
        zip.write_all(body)?;
    }
    let bytes = zip.finish()?.into_inner();
    Ok((format!("dualrec {}.zip", file_name_safe(&folder)), bytes))
}

/// What the export holds and how anyone can check it.
fn readme(folder: &str, logs: usize) -> String {
    let other = if logs > 1 {
        format!("{OTHER_EVIDENCE}  the other device's evidence log, as handed over by its owner\n")
    } else {
        String::new()
    };
    format!(
        "A meeting recorded with dualrec: {folder}\n\n\
         {RECORDING}     the recording (Ogg Opus; any audio player plays it)\n\
         {EVIDENCE}      this device's evidence log: its signed commitments to each second, and\n\
         \x20                 the other device's signed receipts for them\n\
         {other}\
         report.txt / report.html   the check of the recording against the evidence, made when\n\
         \x20                 this file was exported\n\n\
         Anyone can check it again, with dualrec or with a verifier written from its public\n\
         specification (proto/SPEC.md):\n\n\
         \x20   dualrec verify {RECORDING} --evidence {EVIDENCE}\n\n\
         The other device's own evidence log, from its owner, can be added with a second\n\
         --evidence. No claim in a person's favour rests on that person's own signatures.\n"
    )
}

/// ASCII letters, digits, spaces, `-`, `_`, `.`, `(`, `)`; anything else becomes `_`.
pub(crate) fn file_name_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || " -_.()".contains(c) { c } else { '_' })
        .collect()
}

/// `dualrec export DIR [--to FILE]`: writes the export; the path written.
pub(crate) fn run(dir: &Path, to: Option<&Path>) -> anyhow::Result<PathBuf> {
    let (name, bytes) = export(dir)?;
    let path = to.map_or_else(|| PathBuf::from(&name), Path::to_path_buf);
    let mut file = dualrec_proof::private_file()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {} (it may exist already)", path.display()))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
