//! The step-by-step HTML page in a real browser: headless Chromium opens it,
//! steps through it with the arrow keys and the buttons, opens it at a step
//! from the address, and takes a screenshot.
//!
//! Needs Chromium (Debian's `chromium` package): skipped when it is absent,
//! unless `GRADEXPLAIN_CI` is set, where its absence is a failure.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const SIGMOID: &str = "1/(1+exp(-(w0*x0+w1*x1+w2)))";
const SIGMOID_AT: &str = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3";

/// Chromium's path, or `None` (and a note) when it is not installed.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("GRADEXPLAIN_CI").is_none(),
            "GRADEXPLAIN_CI is set but Chromium is not installed (.ci/run installs it)"
        );
        eprintln!("skipped: needs Chromium (`chromium`), which is not installed");
    }
    found
}

/// Runs headless Chromium on `url` with extra arguments; returns standard output.
fn run_chromium(chrome: &Path, args: &[&str], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_page(dir: &Path) -> PathBuf {
    let page = dir.join("neuron.html");
    Command::cargo_bin("gradexplain")
        .unwrap()
        .args([SIGMOID, "--at", SIGMOID_AT, "--html"])
        .arg(&page)
        .assert()
        .success();
    page
}

fn url(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// The `data-step` attribute of the body in a DOM dump.
fn step_of(dom: &str) -> &str {
    let i = dom.find("<body").expect("a body");
    let rest = &dom[i..];
    let j = rest.find("data-step=\"").expect("data-step") + "data-step=\"".len();
    let k = rest[j..].find('"').unwrap();
    &rest[j..j + k]
}

#[test]
fn keys_and_buttons_step_through_the_frames() {
    let Some(chrome) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = write_page(dir.path());
    // A copy of the page with a script that presses → three times, then Back,
    // and records which frame is visible and which sentence is shown.
    let driver = r#"<script>
for (var i = 0; i < 3; i++) document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" }));
document.getElementById("prev").click();
var shown = Array.prototype.filter.call(document.querySelectorAll(".frame"), function (f) { return !f.hidden; });
document.body.setAttribute("data-visible", shown.map(function (f) { return f.id; }).join(","));
document.body.setAttribute("data-said", document.getElementById("sentence").textContent);
</script>
</body>"#;
    let html = std::fs::read_to_string(&page).unwrap();
    let driven = dir.path().join("driven.html");
    std::fs::write(&driven, html.replace("</body>", driver)).unwrap();
    let dom = run_chromium(&chrome, &["--dump-dom"], &url(&driven));
    assert_eq!(step_of(&dom), "2", "→ → → ← lands on step 2");
    assert!(
        dom.contains("data-visible=\"frame-2\""),
        "exactly frame 2 is shown"
    );
    // The sentence shown is the one written for step 2: the `1 + exp(…)` gate
    // that feeds the division, an add gate.
    let said = dom.split("data-said=\"").nth(1).unwrap();
    let said = &said[..said.find('"').unwrap()];
    assert!(
        said.contains(" = 1 + t") && said.contains(": Add gate"),
        "{said}"
    );
}

#[test]
fn the_address_opens_a_step_and_a_screenshot_is_taken() {
    let Some(chrome) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = write_page(dir.path());
    let dom = run_chromium(&chrome, &["--dump-dom"], &format!("{}#step-5", url(&page)));
    assert_eq!(step_of(&dom), "5");
    // Past the end, the page stays on its last frame.
    let dom = run_chromium(&chrome, &["--dump-dom"], &format!("{}#step-99", url(&page)));
    assert_eq!(step_of(&dom), "8");
    let shot = dir.path().join("step-3.png");
    run_chromium(
        &chrome,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,900",
            "--virtual-time-budget=2000",
        ],
        &format!("{}#step-3", url(&page)),
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    // A page with a drawing and text, not a blank screen.
    assert!(png.len() > 20_000, "{} bytes", png.len());
    if let Ok(keep) = std::env::var("GRADEXPLAIN_KEEP_SCREENSHOT") {
        let _ = std::fs::copy(&shot, keep);
    }
}
