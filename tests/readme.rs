//! The README shows the tool's real output: every ```console block's `$ gradexplain …`
//! command is run from the repository's root and its standard output must be what the
//! README prints below it. `scripts/update-readme.py` rewrites those outputs.

use std::path::Path;
use std::process::Command;

struct Case {
    line: usize,
    command: String,
    expected: String,
}

fn cases(readme: &str) -> Vec<Case> {
    let mut out = Vec::new();
    let mut in_console = false;
    let mut current: Option<Case> = None;
    for (n, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            if let Some(c) = current.take() {
                out.push(c);
            }
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            if let Some(c) = current.take() {
                out.push(c);
            }
            current = Some(Case {
                line: n + 1,
                command: cmd.to_string(),
                expected: String::new(),
            });
        } else if let Some(c) = current.as_mut() {
            c.expected.push_str(line);
            c.expected.push('\n');
        }
    }
    out
}

fn normalise(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
    lines.join("\n").trim_end().to_string()
}

#[test]
fn readme_commands_print_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let cases = cases(&readme);
    assert!(
        cases.len() >= 5,
        "the README shows too few commands: {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for c in &cases {
        let words =
            shlex::split(&c.command).unwrap_or_else(|| panic!("line {}: cannot split", c.line));
        assert_eq!(
            words[0], "gradexplain",
            "line {}: only gradexplain commands run here",
            c.line
        );
        let out = Command::new(env!("CARGO_BIN_EXE_gradexplain"))
            .args(&words[1..])
            .current_dir(root)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let got = normalise(&String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            failures.push(format!(
                "line {}: `{}` failed: {}",
                c.line,
                c.command,
                String::from_utf8_lossy(&out.stderr)
            ));
        } else if got != normalise(&c.expected) {
            failures.push(format!(
                "line {}: `{}` printed\n{got}\n--- but the README shows\n{}",
                c.line, c.command, c.expected
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "run scripts/update-readme.py\n{}",
        failures.join("\n\n")
    );
}
