//! What an error must look like through the binary, shared by
//! `tests/error_catalogue.rs` and `tests/error_catalogue_usage.rs`.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::PathBuf;

/// What an error must look like.
pub struct Expect<'a> {
    pub code: i32,
    /// The first line, after `error: `.
    pub message: &'a str,
    /// `SOURCE:LINE:COLUMN`, or `None` for an error with no text to point into.
    pub place: Option<&'a str>,
    /// Text under the caret, when the error has one.
    pub label: Option<&'a str>,
}

pub fn gx() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gradexplain"));
    c.env("NO_COLOR", "1");
    c
}

/// Runs the binary and checks the error against `want`; returns standard error.
pub fn check(args: &[&str], stdin: Option<&[u8]>, want: Expect<'_>) -> String {
    let mut cmd = gx();
    cmd.args(args);
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes.to_vec());
    }
    let out = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let ctx = format!("{args:?}\n{stderr}");
    assert_eq!(out.status.code(), Some(want.code), "exit code: {ctx}");
    assert!(out.stdout.is_empty(), "stdout not empty: {ctx}");
    assert!(!stderr.contains("panicked"), "{ctx}");
    let first = stderr.lines().next().unwrap_or_default();
    assert_eq!(first, format!("error: {}", want.message), "{ctx}");
    match want.place {
        Some(place) => {
            assert!(
                stderr.contains(&format!("--> {place}\n")),
                "place {place}: {ctx}"
            );
            assert!(stderr.contains('^'), "a caret: {ctx}");
        }
        None => assert!(!stderr.contains("-->"), "no place expected: {ctx}"),
    }
    if let Some(label) = want.label {
        let caret_line = stderr
            .lines()
            .find(|l| l.trim_start().starts_with("| ") && l.contains('^'))
            .unwrap_or_default();
        assert!(caret_line.ends_with(label), "label {label:?}: {ctx}");
    }
    stderr
}

pub fn usage<'a>(message: &'a str, place: &'a str) -> Expect<'a> {
    Expect {
        code: 2,
        message,
        place: Some(place),
        label: None,
    }
}

pub fn eval<'a>(message: &'a str, place: &'a str, label: &'a str) -> Expect<'a> {
    Expect {
        code: 1,
        message,
        place: Some(place),
        label: Some(label),
    }
}

pub fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gx-catalogue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}
