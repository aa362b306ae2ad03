//! The report for a court (`verify --html`) in a real browser (Debian's chromium):
//! printed to PDF and read back with pdftotext (poppler-utils), its sections, the date,
//! the files' SHA-256 and every problem row are there and no word runs off the A4 page;
//! at phone, A4 and desktop width nothing is wider than the window (screenshots kept in
//! target/tmp/report-screenshots); with the recording embedded, a tap on the timeline
//! plays the stretch from where its audio lies in the file.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use browser::js;
use common::{cut_copy, dualrec, meeting};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots folder");
    dir
}

/// `verify REC --html OUT` (and `--json`), with `extra` arguments: the JSON report.
fn report(rec: &Path, logs: &[&Path], html: &Path, extra: &[&str]) -> Value {
    let mut cmd = dualrec();
    cmd.arg("verify").arg(rec).arg("--json").arg("--html").arg(html).args(extra);
    for l in logs {
        cmd.arg("--evidence").arg(l);
    }
    let out = cmd.output().expect("verify");
    assert!(html.is_file(), "no report written: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json report")
}

/// The page printed to PDF by chromium: its text, and whether a word runs past the page.
fn printed(html: &Path, pdf: &Path) -> (String, Vec<String>) {
    let status = Command::new("chromium")
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("chromium must be installed (.ci/setup installs it)");
    assert!(status.success() && pdf.is_file(), "chromium printed no PDF");
    let run = |args: &[&str]| {
        let out = Command::new("pdftotext")
            .args(args)
            .arg(pdf)
            .arg("-")
            .output()
            .expect("pdftotext must be installed (.ci/setup installs poppler-utils)");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = run(&[]);
    // Every word's box lies within its page's width.
    let boxes = run(&["-bbox"]);
    let mut width = 0.0f64;
    let mut outside = Vec::new();
    let attr = |line: &str, name: &str| -> Option<f64> {
        let at = line.find(&format!("{name}=\""))? + name.len() + 2;
        line[at..].split('"').next()?.parse().ok()
    };
    for line in boxes.lines() {
        if line.contains("<page ") {
            width = attr(line, "width").expect("page width");
            assert!((width - 595.0).abs() < 2.0, "not A4: {width} pt wide");
        } else if line.contains("<word ") && attr(line, "xMax").expect("xMax") > width + 0.5 {
            outside.push(line.to_owned());
        }
    }
    (text, outside)
}

/// Screenshots at phone, A4 and desktop width; nothing may be wider than the window.
async fn look_at(c: &Client, html: &Path, name: &str) {
    c.goto(&format!("file://{}", html.display())).await.expect("open report");
    for (label, w) in [("phone", 390u32), ("a4", 794), ("desktop", 1280)] {
        c.set_window_size(w, 1000).await.expect("resize");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(shots_dir().join(format!("{name}-{label}.png")), png).expect("png");
        let wide = js(
            c,
            "[...document.querySelectorAll('body *')].filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.className || e.tagName)",
        )
        .await;
        assert_eq!(wide, json!([]), "{name} at {label} width: these overflow the window");
    }
}

fn sha256_hex(path: &Path) -> String {
    dualrec_proof::sha256(&std::fs::read(path).expect("read")).to_string()
}

/// Both reports printed: every section, the date, each file's SHA-256, every problem row,
/// nothing past the page.
fn check_printed(d: &Path, edited: &Value, pages: [(&PathBuf, &str, Vec<&PathBuf>); 2]) {
    let started = edited["session"]["started_at_ms"].as_u64().expect("start");
    let date = jiff::Timestamp::from_millisecond(started as i64)
        .expect("time")
        .strftime("%Y-%m-%d %H:%M:%S UTC")
        .to_string();
    for (html, name, files) in &pages {
        let (text, outside) = printed(html, &d.join(format!("{name}.pdf")));
        std::fs::copy(d.join(format!("{name}.pdf")), shots_dir().join(format!("{name}.pdf")))
            .expect("keep pdf");
        assert!(outside.is_empty(), "{name}: words run off the page: {outside:?}");
        for section in [
            "The answer",
            "The meeting",
            "Timeline",
            "Problems",
            "The files examined",
            "How this was checked",
        ] {
            assert!(text.contains(section), "{name}: no section {section:?} in\n{text}");
        }
        assert!(text.contains(&date), "{name}: no date {date}");
        let flat: String = text.split_whitespace().collect();
        for f in files {
            assert!(flat.contains(&sha256_hex(f)), "{name}: no SHA-256 of {}", f.display());
        }
    }
    let (text, _) = printed(pages[1].0, &d.join("cut.pdf"));
    let flat: String = text.split_whitespace().collect();
    // The problem row, as laid out on the page: its time and what happened on one line.
    let layout = Command::new("pdftotext")
        .arg("-layout")
        .arg(d.join("cut.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext");
    let layout = String::from_utf8_lossy(&layout.stdout);
    assert!(
        layout
            .lines()
            .any(|l| l.contains("00:02.0–00:03.0") && l.contains("REMOVED: committed audio")),
        "{layout}"
    );
    assert!(flat.contains("REMOVED:committedaudiothatisnotinthefile"), "{text}");
    for words in ["thefileisnottheonewhose", "fingerprintwassignedatthe"] {
        assert!(flat.contains(words), "{text}");
    }
    assert!(!text.contains("None: no second"), "{text}");
    let (text, _) = printed(pages[0].0, &d.join("intact.pdf"));
    assert!(text.contains("None: no second and no record in the evidence is in doubt."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_court_report_prints_on_a4_fits_a_phone_and_plays_in_place() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let (rec, log_a, log_b) = meeting(d, 5);
    let cut = d.join("cut.opus");
    cut_copy(&rec, &cut, 100..150);

    let intact_html = d.join("intact.html");
    let intact = report(&rec, &[&log_b], &intact_html, &[]);
    assert_eq!(intact["verdict"], "intact");
    let cut_html = d.join("cut.html");
    let edited = report(&cut, &[&log_a, &log_b], &cut_html, &["--embed-audio"]);
    assert_eq!(edited["verdict"], "problems");

    check_printed(
        d,
        &edited,
        [
            (&intact_html, "intact", vec![&rec, &log_b]),
            (&cut_html, "cut", vec![&cut, &log_a, &log_b]),
        ],
    );

    // In the browser: nothing too wide; a tap plays from where the audio lies in the file.
    let (_driver, driver) = browser::chromedriver();
    let c = browser::browser(&driver, &["--autoplay-policy=no-user-gesture-required"]).await;
    look_at(&c, &intact_html, "intact").await;
    look_at(&c, &cut_html, "cut").await;
    c.set_window_size(1280, 1000).await.expect("resize");
    let labels =
        js(&c, "[...document.querySelectorAll('.seg')].map(s => s.getAttribute('aria-label'))")
            .await;
    let labels: Vec<&str> =
        labels.as_array().expect("segments").iter().filter_map(Value::as_str).collect();
    assert_eq!(labels.len(), 3, "{labels:?}");
    assert!(labels[1].starts_with("00:02.0–00:03.0: REMOVED"), "{labels:?}");
    let segs = c.find_all(Locator::Css(".seg")).await.expect("segments");
    // The second after the cut lies at 2.0 s of the edited file, not at its recording time 3.0.
    segs[2].click().await.expect("click");
    let shown = js(&c, "[document.querySelector('.detail').textContent, document.getElementById('player').currentTime]").await;
    assert!(shown[0].as_str().unwrap_or("").starts_with("00:03.0–"), "{shown}");
    assert!((shown[1].as_f64().unwrap_or(-1.0) - 2.0).abs() < 0.05, "{shown}");
    // The removed second has no audio to play: its times are shown, the player stays.
    segs[1].click().await.expect("click");
    let shown = js(&c, "[document.querySelector('.detail').textContent, document.getElementById('player').currentTime]").await;
    assert!(shown[0].as_str().unwrap_or("").contains("REMOVED"), "{shown}");
    c.close().await.expect("close");
}
