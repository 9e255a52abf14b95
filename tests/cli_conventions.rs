//! The command line's conventions, through the built binary: help and
//! version, completions and the man page, color only where it belongs, errors
//! on standard error, every `examples/*.gx` running as its header says with
//! the numbers the notes publish, and the interactive mode on a real terminal.

use assert_cmd::Command;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

const ESC: &str = "\x1b[";

fn gx() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gradexplain"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    c
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn help_has_worked_examples_and_version_is_the_crates() {
    for flag in ["--help", "-h"] {
        let out = gx().arg(flag).output().unwrap();
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(text.contains("Usage: gradexplain"), "{text}");
        assert!(text.contains("gradexplain \"f(x,y)=x*y\" --at x=3,y=-4 --grad 2"));
        for opt in ["--at", "--grad", "--format", "--generate", "--color"] {
            assert!(text.contains(opt), "{opt} in {flag}");
        }
        assert!(!text.contains(ESC), "help in a pipe has no color");
    }
    let out = gx().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!("gradexplain {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_and_man_page_need_no_program() {
    let cases = [
        ("complete-bash", "complete -F _gradexplain"),
        ("complete-zsh", "#compdef gradexplain"),
        ("complete-fish", "complete -c gradexplain"),
        ("complete-powershell", "Register-ArgumentCompleter"),
        ("man", ".TH gradexplain 1"),
    ];
    for (what, marker) in cases {
        // No program and no standard input: generating needs neither.
        let out = gx().args(["--generate", what]).output().unwrap();
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{what}");
        let text = stdout(&out);
        assert!(text.contains(marker), "{what} lacks {marker:?}");
        assert!(!text.contains(ESC), "{what} has no color");
        if what == "man" {
            assert!(text.starts_with(".TH gradexplain 1"), "{}", &text[..80]);
            for section in ["NAME", "SYNOPSIS", "OPTIONS", "EXAMPLES", "EXIT STATUS"] {
                let plain = format!(".SH {section}\n");
                let quoted = format!(".SH \"{section}\"\n");
                assert!(
                    text.contains(&plain) || text.contains(&quoted),
                    "man: {section}"
                );
            }
            assert!(text.contains("\\-\\-at"), "man documents --at");
        } else {
            for opt in ["at", "grad", "format", "generate"] {
                // fish writes `-l at`; the others `--at`.
                let written = if what == "complete-fish" {
                    format!("-l {opt}")
                } else {
                    format!("--{opt}")
                };
                assert!(text.contains(&written), "{what} completes --{opt}");
            }
            // The values of --format are offered, not just the option
            // (PowerShell's completer offers option names only).
            if what != "complete-powershell" {
                assert!(text.contains("latex"), "{what} offers --format's values");
            }
        }
    }
}

#[test]
fn bash_completion_is_valid_bash() {
    let Ok(bash) = which("bash") else {
        // bash is part of every Debian system, CI's included.
        assert!(std::env::var_os("GRADEXPLAIN_CI").is_none(), "bash missing");
        eprintln!("skipped: bash is not installed");
        return;
    };
    let out = gx().args(["--generate", "complete-bash"]).output().unwrap();
    let dir = tempdir();
    let file = dir.join("gradexplain.bash");
    std::fs::write(&file, &out.stdout).unwrap();
    // Source it and ask it to complete `gradexplain --form`.
    let script = format!(
        "source {}; COMP_WORDS=(gradexplain --form); COMP_CWORD=1; \
         _gradexplain gradexplain --form gradexplain; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = std::process::Command::new(bash)
        .args(["--norc", "-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "--format");
}

#[test]
fn no_color_in_a_pipe_even_on_a_color_terminal() {
    let out = gx()
        .env("TERM", "xterm-256color")
        .args(["f(x,y)=x*y", "--at", "x=3,y=-4"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("dx = -4"));
    assert!(!stdout(&out).contains(ESC));
    // Nor in an error.
    let out = gx()
        .env("TERM", "xterm-256color")
        .arg("x + * y")
        .output()
        .unwrap();
    assert!(!stderr(&out).contains(ESC), "{}", stderr(&out));
}

#[test]
fn color_always_colors_a_pipe_even_under_no_color() {
    for no_color in [None, Some("1")] {
        let mut c = gx();
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let out = c
            .args(["f(x,y)=x*y", "--at", "x=3,y=-4", "--color", "always"])
            .output()
            .unwrap();
        assert!(stdout(&out).contains(ESC), "NO_COLOR={no_color:?}");
        let mut c = gx();
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let out = c.args(["x + * y", "--color=always"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(ESC), "an error in color");
        assert_eq!(stdout(&out), "");
    }
    // clap's own messages follow the same choice.
    let out = gx().args(["--help", "--color", "always"]).output().unwrap();
    assert!(stdout(&out).contains(ESC), "help in color");
    let out = gx()
        .args(["--frobnicate", "--color", "always"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(ESC), "clap's error in color");
    let out = gx().args(["--frobnicate"]).output().unwrap();
    assert!(stderr(&out).starts_with("error:"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(ESC));
}

#[test]
fn json_never_has_color() {
    let out = gx()
        .args([
            "x*y", "--at", "x=3,y=-4", "--format", "json", "--color", "always",
        ])
        .output()
        .unwrap();
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["value"], -12);
}

#[test]
fn errors_go_to_standard_error_only() {
    for (args, code) in [
        (vec!["x + * y"], 2),
        (vec!["f(x,y)=x*y", "--at", "x=3"], 1),
        (vec!["-f", "no/such/file.gx"], 1),
        (vec!["x", "--format", "xml"], 2),
    ] {
        let out = gx().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert_eq!(stdout(&out), "", "{args:?}");
        assert!(
            stderr(&out).starts_with("error:"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// The command line in an example's header comment: the words after `#`
/// on the line that runs `gradexplain -f examples/NAME.gx`.
fn header_command(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let want = format!("gradexplain -f examples/{name}");
    let comment: Vec<&str> = text
        .lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .map(|l| l.trim_start().trim_start_matches('#').trim())
        .collect();
    let start = comment
        .iter()
        .position(|l| l.starts_with(&want))
        .unwrap_or_else(|| panic!("{name}: no `{want} …` line in the header comment"));
    // A command may continue over several comment lines that end in `\`.
    let mut line = String::new();
    for part in &comment[start..] {
        match part.strip_suffix('\\') {
            Some(head) => line.push_str(head),
            None => {
                line.push_str(part);
                break;
            }
        }
    }
    let words = shlex::split(&line).unwrap_or_else(|| panic!("{name}: cannot split {line:?}"));
    words[1..].to_vec()
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gx"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_runs_as_its_header_says() {
    let files = examples();
    assert!(files.len() >= 8, "{files:?}");
    for path in files {
        let args = header_command(&path);
        let out = gx().args(&args).output().unwrap();
        let name = path.display();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("gradients"),
            "{name}: numbers expected"
        );
        assert_eq!(stderr(&out), "", "{name}");
        // The explanation shows the program itself, not only its header comment.
        let text = std::fs::read_to_string(&path).unwrap();
        let last = text.lines().rfind(|l| !l.trim().is_empty()).unwrap().trim();
        assert!(stdout(&out).contains(last), "{name}: {last:?} not shown");
    }
}

/// The numbers the notes publish for their circuits: output, then each
/// parameter's gradient, to the notes' precision.
/// An example file, the output's value, and `(parameter, gradient)` pairs.
type Published = (&'static str, f64, &'static [(&'static str, f64)]);

const PUBLISHED: &[Published] = &[
    ("multiply-gate.gx", -12.0, &[("x", -8.0), ("y", 6.0)]),
    (
        "add-multiply.gx",
        -12.0,
        &[("x", -4.0), ("y", -4.0), ("z", 3.0)],
    ),
    (
        "add-multiply-staged.gx",
        -12.0,
        &[("x", -4.0), ("y", -4.0), ("z", 3.0)],
    ),
    (
        "sigmoid-neuron.gx",
        0.73,
        &[
            ("w0", -0.20),
            ("x0", 0.39),
            ("w1", -0.39),
            ("x1", -0.59),
            ("w2", 0.20),
        ],
    ),
    (
        "sigmoid-gate.gx",
        0.73,
        &[
            ("w0", -0.20),
            ("x0", 0.39),
            ("w1", -0.39),
            ("x1", -0.59),
            ("w2", 0.20),
        ],
    ),
    (
        "staged-expression.gx",
        1.5456,
        &[("x", 2.0596), ("y", 1.5922)],
    ),
    (
        "staged-computation.gx",
        1.5456,
        &[("x", 2.0596), ("y", 1.5922)],
    ),
    (
        "add-max-mul-patterns.gx",
        -20.0,
        &[("x", -8.0), ("y", 6.0), ("z", 2.0), ("w", 0.0)],
    ),
];

/// Whether `got` shows as `want` at `want`'s number of decimals.
fn agrees(got: f64, want: f64) -> bool {
    let text = format!("{want}");
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    (got - want).abs() <= 0.5 * 10f64.powi(-decimals) + 1e-12
}

#[test]
fn examples_give_the_numbers_the_notes_publish() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for (file, value, grads) in PUBLISHED {
        let mut args = header_command(&dir.join(file));
        args.extend(["--format".into(), "json".into()]);
        let out = gx().args(&args).output().unwrap();
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        let r: Json = serde_json::from_slice(&out.stdout).unwrap();
        let got = r["value"].as_f64().unwrap();
        assert!(agrees(got, *value), "{file}: value {got}, notes {value}");
        let names: Vec<&str> = grads.iter().map(|(n, _)| *n).collect();
        let params: Vec<&str> = r["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(params, names, "{file}: parameters");
        for (p, want) in *grads {
            let got = r["gradients"][p].as_f64().unwrap();
            assert!(agrees(got, *want), "{file}: d{p} = {got}, notes {want}");
        }
    }
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gx-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn which(tool: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .ok_or(())
}

#[cfg(unix)]
#[path = "cli_conventions/terminal.rs"]
mod terminal;
