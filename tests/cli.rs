//! The binary through the contract: the notes' circuits give their published
//! numbers, forks add, and bad input ends in the contract's message and exit code
//! with nothing on standard output.

use assert_cmd::Command;
use serde_json::Value as Json;

fn gx() -> Command {
    let mut c = Command::cargo_bin("gradexplain").unwrap();
    c.env_remove("NO_COLOR");
    c
}

/// Runs with `--format json` and returns the report.
fn report(args: &[&str]) -> Json {
    let out = gx().args(args).args(["--format", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(j: &Json, want: f64, tol: f64) -> bool {
    j.as_f64().is_some_and(|x| (x - want).abs() <= tol)
}

fn grads(r: &Json, names: &[&str]) -> Vec<f64> {
    names
        .iter()
        .map(|n| r["gradients"][n].as_f64().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn multiply_gate_of_the_notes() {
    let r = report(&["f(x,y)=x*y", "--at", "x=3,y=-4", "--grad", "2"]);
    assert_eq!(r["output"], "f");
    assert_eq!(r["params"], serde_json::json!(["x", "y"]));
    assert!(close(&r["value"], -12.0, 0.0));
    assert!(close(&r["upstream"], 2.0, 0.0));
    assert_eq!(grads(&r, &["x", "y"]), [-8.0, 6.0]);
    let gates = r["gates"].as_array().unwrap();
    assert_eq!(gates.len(), 3);
    let mul = &gates[2];
    assert_eq!(mul["op"], "mul");
    assert_eq!(mul["inputs"], serde_json::json!([0, 1]));
    assert!(close(&mul["value"], -12.0, 0.0) && close(&mul["grad"], 2.0, 0.0));
}

#[test]
fn text_shows_the_chain_rule_with_numbers() {
    let out = gx()
        .args(["f(x,y)=x*y", "--at", "x=3,y=-4", "--grad", "2"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("dx = y · grad = -4 · 2 = -8"), "{text}");
    assert!(text.contains("dy = x · grad = 3 · 2 = 6"), "{text}");
    assert!(text.contains("multiply gate"), "{text}");
    assert!(!text.contains('\x1b'), "no color in a pipe");
}

#[test]
fn add_then_multiply_in_both_spellings() {
    for prog in [
        "(x+y)*z",
        "q = x + y; f = q * z",
        "f(x, y, z) = (x + y) * z",
    ] {
        let r = report(&[prog, "--at", "x=-2,y=5,z=-4"]);
        assert!(close(&r["value"], -12.0, 0.0), "{prog}");
        assert_eq!(grads(&r, &["x", "y", "z"]), [-4.0, -4.0, 3.0], "{prog}");
    }
}

#[test]
fn sigmoid_neuron() {
    let r = report(&[
        "1/(1+exp(-(w0*x0+w1*x1+w2)))",
        "--at",
        "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
    ]);
    assert!(close(&r["value"], 0.7310585786, 1e-9));
    let g = grads(&r, &["w0", "w1", "w2", "x0", "x1"]);
    let want = [
        -0.19661193,
        -0.39322387,
        0.19661193,
        0.39322387,
        -0.58983580,
    ];
    for (g, w) in g.iter().zip(want) {
        assert!((g - w).abs() < 1e-7, "{g} vs {w}");
    }
}

#[test]
fn add_max_multiply_patterns() {
    let r = report(&["2*(x*y + max(z,w))", "--at", "x=3,y=-4,z=2,w=-1"]);
    assert!(close(&r["value"], -20.0, 0.0));
    assert_eq!(grads(&r, &["x", "y", "z", "w"]), [-8.0, 6.0, 2.0, 0.0]);
}

#[test]
fn gradients_add_at_forks() {
    let r = report(&["x*x", "--at", "x=3"]);
    assert_eq!(grads(&r, &["x"]), [6.0]);
    let r = report(&["x+x+x", "--at", "x=3"]);
    assert_eq!(grads(&r, &["x"]), [3.0]);
    let r = report(&["q = x*y; f = q + q*x", "--at", "x=2,y=5"]);
    // f = xy + x²y: df/dx = y + 2xy = 25, df/dy = x + x² = 6
    assert_eq!(grads(&r, &["x", "y"]), [25.0, 6.0]);
    let out = gx()
        .args(["q = x*y; f = q + q*x", "--at", "x=2,y=5"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("q is used 2 times, so its gradients add: dq = 1 (via f) + 2 (via t1) = 3"),
        "{text}"
    );
}

#[test]
fn kinks_pick_a_subgradient_and_say_so() {
    let r = report(&["max(x, y)", "--at", "x=2,y=2"]);
    assert_eq!(grads(&r, &["x", "y"]), [0.5, 0.5]);
    let notes = r["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("split evenly")),
        "{notes:?}"
    );
    let r = report(&["relu(x) + abs(y)", "--at", "x=0,y=0"]);
    assert_eq!(grads(&r, &["x", "y"]), [0.0, 0.0]);
    assert_eq!(r["notes"].as_array().unwrap().len(), 2);
}

#[test]
fn unused_and_index_parameters() {
    let r = report(&["f(x, y) = x * 2", "--at", "x=1,y=5"]);
    assert_eq!(grads(&r, &["x", "y"]), [2.0, 0.0]);
    assert!(
        r["notes"][0]
            .as_str()
            .unwrap()
            .contains("`y` does not affect")
    );
}

#[test]
fn program_from_a_file_and_stdin() {
    let dir = std::env::temp_dir().join(format!("gx-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.gx");
    std::fs::write(&file, "# the notes\nq = x + y\nf = q * z\n").unwrap();
    let r = report(&[
        "-f",
        file.to_str().unwrap(),
        "--at",
        "x=-2",
        "--at",
        "y=5,z=-4",
    ]);
    assert_eq!(grads(&r, &["x", "y", "z"]), [-4.0, -4.0, 3.0]);
    let out = gx()
        .args(["-f", "-", "--at", "x=3", "--format", "json"])
        .write_stdin("x*x")
        .output()
        .unwrap();
    let r: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(grads(&r, &["x"]), [6.0]);
}

/// Runs a failing case: the exit code, `error:` first, nothing on stdout.
fn fails(args: &[&str], stdin: Option<&[u8]>, code: i32, needle: &str) -> String {
    let mut c = gx();
    c.args(args);
    if let Some(s) = stdin {
        c.write_stdin(s.to_vec());
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout must be empty");
    assert!(err.starts_with("error:"), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: wanted {needle:?} in {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn syntax_errors_exit_2_with_line_column_and_caret() {
    let err = fails(
        &["a = x\nb = a + * 2"],
        None,
        2,
        "expected a value, found `*`",
    );
    assert!(err.contains("program:2:9"), "{err}");
    assert!(err.contains("b = a + * 2") && err.contains('^'), "{err}");
    fails(&["foo(x)"], None, 2, "unknown function `foo`");
    fails(&["exp(x, y)"], None, 2, "`exp` takes 1 argument, found 2");
    fails(
        &["max(x)", "--at", "x=1"],
        None,
        2,
        "`max` takes 2 or more arguments",
    );
}

#[test]
fn evaluation_errors_exit_1() {
    fails(&["x*y", "--at", "x=3"], None, 1, "missing value for `y`");
    fails(
        &["x*y", "--at", "x=3,y=1,z=2"],
        None,
        1,
        "unknown input `z`",
    );
    fails(&["log(x)", "--at", "x=-1"], None, 1, "log(-1) is undefined");
    fails(
        &["sqrt(x)", "--at", "x=-2"],
        None,
        1,
        "sqrt(-2) is undefined",
    );
    fails(&["x/y", "--at", "x=0,y=0"], None, 1, "0 / 0 is undefined");
    fails(&["0/0"], None, 1, "0 / 0 is undefined");
    fails(
        &["-f", "/nonexistent/p.gx"],
        None,
        1,
        "cannot read `/nonexistent/p.gx`",
    );
}

#[test]
fn malformed_command_lines_exit_2() {
    for at in ["x", "x=", "x=abc", "=3", "x=[1,", "x=3,,y=2", "x=1e"] {
        fails(&["x*2", "--at", at], None, 2, "malformed --at value");
    }
    fails(
        &["x*2", "--at", "x=1", "--grad", "two"],
        None,
        2,
        "malformed --grad value",
    );
    fails(
        &["x*2", "--at", "x=1", "--at", "x=2"],
        None,
        2,
        "`x` is given more than one value",
    );
    fails(&["x*2", "--bogus"], None, 2, "unexpected argument");
    fails(&["x*2", "--format", "yaml"], None, 2, "invalid value");
}

#[test]
fn binary_junk_and_deep_nesting_never_panic() {
    fails(
        &["-f", "-"],
        Some(&[0xff, 0xfe, 0x00, 0x80, 0x41]),
        2,
        "not valid UTF-8",
    );
    fails(
        &["-f", "-"],
        Some(b"\x00\x01\x02"),
        2,
        "unexpected character",
    );
    let deep = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
    let out = gx()
        .args(["-f", "-", "--at", "x=2", "--format", "json"])
        .write_stdin(deep)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unbalanced = "(".repeat(100_000) + "x";
    fails(&["-f", "-"], Some(unbalanced.as_bytes()), 2, "unclosed `(`");
    let chain = format!("{}x{}", "exp(".repeat(50_000), ")".repeat(50_000));
    let out = gx()
        .args(["-f", "-", "--at", "x=0"])
        .write_stdin(chain)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let negs = "-".repeat(100_000) + "x";
    let r = gx()
        .args(["-f", "-", "--at", "x=3", "--format", "json"])
        .write_stdin(negs)
        .output()
        .unwrap();
    assert!(r.status.success());
}

#[test]
fn huge_numbers_overflow_with_a_note() {
    let r = report(&["x * 1e400", "--at", "x=2"]);
    assert_eq!(r["value"], "inf");
    let r = report(&["exp(x)", "--at", "x=1000"]);
    assert_eq!(r["value"], "inf");
    assert!(
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("overflows"))
    );
}

#[test]
fn leading_minus_program_is_not_an_option() {
    let r = report(&["-x^2", "--at", "x=3"]);
    assert!(close(&r["value"], -9.0, 0.0));
    assert_eq!(grads(&r, &["x"]), [-6.0]);
}
