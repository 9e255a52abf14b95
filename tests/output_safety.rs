//! Output safety: a reader that goes away early (`gradexplain … | head -c1`) ends
//! the run quietly with success; a closed standard error does not turn an error
//! into a panic; names that the language allows — Greek, other scripts, digits
//! and underscores — never break the JSON report's syntax; non-finite numbers
//! are the strings "inf", "-inf" and "nan" everywhere in it.

use assert_cmd::Command;
use serde_json::Value as Json;
use std::io::Read;
use std::process::Stdio;

const BIN: &str = env!("CARGO_BIN_EXE_gradexplain");

/// A program whose JSON report is far larger than a pipe's buffer (64 KiB), so
/// that the writer is still writing when the reader leaves.
fn long_program() -> String {
    let mut s = String::from("h0 = x\n");
    for i in 1..3000 {
        s.push_str(&format!("h{i} = tanh(h{p} * y + h{p})\n", p = i - 1));
    }
    s
}

#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    let program = std::env::temp_dir().join(format!("gx-pipe-{}.gx", std::process::id()));
    std::fs::write(&program, long_program()).unwrap();
    for format in ["json", "text"] {
        let mut child = std::process::Command::new(BIN)
            .args(["-f", program.to_str().unwrap(), "--at", "x=0.5,y=0.1"])
            .args(["--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout); // like `head -c1`: the pipe's reading end closes
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {out:?}");
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn through_a_shell_pipe_into_head() {
    let program = std::env::temp_dir().join(format!("gx-head-{}.gx", std::process::id()));
    std::fs::write(&program, long_program()).unwrap();
    // With pipefail the pipeline's status is gradexplain's when head succeeds.
    let script = format!(
        "set -o pipefail; '{BIN}' -f '{}' --at x=0.5,y=0.1 --format json | head -c1 >/dev/null",
        program.display()
    );
    let Ok(out) = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
    else {
        return; // no bash here: the test above covers the same with a pipe of its own
    };
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_error_with_standard_error_closed_is_still_its_exit_code() {
    let mut child = std::process::Command::new(BIN)
        .args(["x + * y"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // nobody reads the error
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(2),
        "a closed stderr must not become a panic (101)"
    );
}

/// Runs the binary with `--format json` and parses the report.
fn report(args: &[&str]) -> Json {
    let out = Command::new(BIN)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: invalid JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn names_from_any_script_round_trip_through_json() {
    let names = [
        "σ_1",
        "β",
        "ℵ0",
        "日本",
        "ǅx",
        "_",
        "__t1",
        "Ωmega_ß",
        "αβγδεζηθ",
    ];
    let program = format!(
        "f({}) = {}",
        names.join(", "),
        names
            .iter()
            .map(|n| format!("{n}*2"))
            .collect::<Vec<_>>()
            .join(" + ")
    );
    let at: Vec<String> = names.iter().map(|n| format!("{n}=1")).collect();
    let r = report(&[&program, "--at", &at.join(",")]);
    let params: Vec<&str> = r["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(params, names);
    for n in names {
        assert_eq!(r["gradients"][n], 2, "{n}");
    }
    let labels: Vec<&str> = r["gates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["param"].as_str())
        .collect();
    assert_eq!(labels, names);
}

/// Every number in the report — value, upstream, gradients, gates' values,
/// constants and gradients — is a JSON number or one of the three strings.
fn all_numbers_are_valid(r: &Json) {
    fn walk(v: &Json, at: &str) {
        match v {
            Json::Number(_) => {}
            Json::String(s) => assert!(matches!(s.as_str(), "inf" | "-inf" | "nan"), "{at}: {s}"),
            Json::Array(items) => items.iter().for_each(|i| walk(i, at)),
            other => panic!("{at}: {other}"),
        }
    }
    walk(&r["value"], "value");
    walk(&r["upstream"], "upstream");
    for (name, g) in r["gradients"].as_object().unwrap() {
        if !g.is_null() {
            walk(g, name);
        }
    }
    for g in r["gates"].as_array().unwrap() {
        walk(&g["value"], "gate value");
        if let Some(c) = g.get("const") {
            walk(c, "const");
        }
        if !g["grad"].is_null() {
            walk(&g["grad"], "gate grad");
        }
    }
}

#[test]
fn non_finite_numbers_are_strings_everywhere() {
    // value inf, gradient -inf and nan, a constant inf, a tensor holding all three.
    let r = report(&["f(x) = x * 1e999", "--at", "x=2", "--grad", "-1"]);
    all_numbers_are_valid(&r);
    assert_eq!(r["value"], "inf");
    assert_eq!(r["upstream"], -1);
    assert_eq!(r["gradients"]["x"], "-inf");
    let consts: Vec<&Json> = r["gates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g.get("const"))
        .collect();
    assert_eq!(consts, [&Json::from("inf")]);
    let r = report(&["f(x) = (x * 1e999) - (x * 1e999)", "--at", "x=1"]);
    all_numbers_are_valid(&r);
    assert_eq!(r["value"], "nan");
    let r = report(&["f(v) = v * 1e999", "--at", "v=[1, -1, 0]", "--grad", "inf"]);
    all_numbers_are_valid(&r);
    assert_eq!(r["value"], serde_json::json!(["inf", "-inf", "nan"]));
    assert_eq!(r["upstream"], serde_json::json!(["inf", "inf", "inf"]));
    let r = report(&["f(x) = log(x)", "--at", "x=0"]);
    all_numbers_are_valid(&r);
    assert_eq!(r["value"], "-inf");
    assert_eq!(r["gradients"]["x"], "inf");
}

#[test]
fn huge_values_given_with_at() {
    let r = report(&["f(x, y) = x * y", "--at", "x=1e308,y=1e400"]);
    all_numbers_are_valid(&r);
    assert_eq!(r["value"], "inf");
    assert_eq!(r["gradients"]["x"], "inf");
    assert_eq!(r["gradients"]["y"], 1e308);
    let notes: Vec<&str> = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(notes.contains(&"the input `y` is inf"), "{notes:?}");
    let r = report(&["f(x) = x - x", "--at", "x=-1e400"]);
    assert_eq!(r["value"], "nan");
    assert!(
        r["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("`f = x - x` gives nan (from x = -inf, x = -inf)")),
        "{}",
        r["notes"]
    );
}

/// Braces balance outside comments, `\begin`/`\end` pair up, `\left`/`\right` too.
fn latex_is_balanced(tex: &str) {
    let mut envs: Vec<String> = Vec::new();
    for line in tex.lines() {
        let code = match line.find('%') {
            Some(i) if i == 0 || !line[..i].ends_with('\\') => &line[..i],
            _ => line,
        };
        let (mut depth, mut escaped) = (0i32, false);
        for c in code.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0, "{line}");
        }
        assert_eq!(depth, 0, "{line}");
        assert_eq!(
            code.matches("\\left").count(),
            code.matches("\\right").count(),
            "{line}"
        );
        for (i, _) in code.match_indices("\\begin{") {
            envs.push(code[i + 7..].split('}').next().unwrap().to_string());
        }
        for (i, _) in code.match_indices("\\end{") {
            let name = code[i + 5..].split('}').next().unwrap();
            assert_eq!(envs.pop().as_deref(), Some(name), "{tex}");
        }
    }
    assert!(envs.is_empty(), "{tex}");
}

#[test]
fn odd_names_never_break_dot_or_latex() {
    let names = ["σ_1", "日本", "x__y", "_", "ℵ0", "Ωmega_ß", "a_b_c", "ǅ"];
    let program = format!(
        "f({}) = {}",
        names.join(", "),
        names
            .iter()
            .map(|n| format!("exp({n}) * {n}"))
            .collect::<Vec<_>>()
            .join(" + ")
    );
    let at: Vec<String> = names.iter().map(|n| format!("{n}=0.5")).collect();
    let at = at.join(",");
    for with_values in [true, false] {
        let mut args = vec![program.as_str()];
        if with_values {
            args.extend(["--at", &at]);
        }
        let out = Command::new(BIN)
            .args(&args)
            .args(["--format", "dot"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dot = String::from_utf8(out.stdout).unwrap();
        graphviz_rust::parse(&dot).unwrap_or_else(|e| panic!("DOT does not parse ({e}): {dot}"));
        for n in names {
            assert!(dot.contains(n), "{n} is in the diagram: {dot}");
        }
        let out = Command::new(BIN)
            .args(&args)
            .args(["--format", "latex"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tex = String::from_utf8(out.stdout).unwrap();
        latex_is_balanced(&tex);
        // The underscore is escaped, never a stray subscript: `x__y` is `x\_…`.
        for line in tex.lines().filter(|l| !l.starts_with('%')) {
            assert!(!line.contains("__"), "{line}");
        }
    }
}
