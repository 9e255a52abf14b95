//! Inputs that once crashed or misbehaved, each pinned by the behaviour that
//! replaced the crash. Found by the fuzzer (`fuzz/`), by the depth tests or by
//! hand; the comment says which.

use assert_cmd::Command;

fn gx() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gradexplain"));
    c.env("NO_COLOR", "1");
    c
}

/// Runs the binary and returns (exit code, stdout, stderr), asserting no panic.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = gx().args(args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// Depth tests: `--format latex` of a program that is a single name or number
/// (its output is a leaf) indexed a variable the arena did not have.
#[test]
fn latex_of_a_program_that_is_one_leaf() {
    for (program, line) in [
        ("x", "  f &= x"),
        ("f(x) = x", "  f &= x"),
        ("5", "  f &= 5"),
        ("σ", "  f &= \\sigma"),
    ] {
        let (code, out, err) = run(&[program, "--format", "latex"]);
        assert_eq!(code, 0, "{program}: {err}");
        assert!(out.lines().any(|l| l == line), "{program}: {out}");
    }
}

#[test]
fn the_json_report_names_a_parameter_by_its_own_name() {
    // By hand: for the program `x` the input gate is also the output, and the
    // report's `param` said `f` (the output's name).
    let (code, out, _) = run(&["x", "--at", "x=2", "--format", "json"]);
    assert_eq!(code, 0);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["gates"][0]["param"], "x");
    // And its label is its own name too: as the output's, the parameter was
    // named nowhere in the text or the diagram (found by a hostile probe).
    assert_eq!(r["gates"][0]["label"], "x");
    assert_eq!(r["output"], "f");
    let (_, text, _) = run(&["f(a, b) = a", "--at", "a=1,b=2"]);
    assert!(text.contains("\n  a = 1\n"), "{text}");
}

/// By hand: a note for an input given as inf read "`y = y` overflows to ±inf
/// (from )"; a literal that overflows was noted twice (once as a literal, once
/// as a gate with no inputs); one that underflows to 0 was not noted at all.
#[test]
fn notes_on_non_finite_inputs_and_literals() {
    let notes = |args: &[&str]| -> Vec<String> {
        let (code, out, err) = run(&[args, &["--format", "json"]].concat());
        assert_eq!(code, 0, "{err}");
        let r: serde_json::Value = serde_json::from_str(&out).unwrap();
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        notes(&["f(x, y) = x * y", "--at", "x=1,y=1e400"]),
        ["the input `y` is inf"]
    );
    assert_eq!(
        notes(&["f(x) = x * 1e999 + 1e999", "--at", "x=1"]),
        ["the literal `1e999` is too large for a 64-bit float and becomes inf"]
    );
    assert_eq!(
        notes(&["f(x) = x + 1e-400", "--at", "x=1"]),
        ["the literal `1e-400` is too small for a 64-bit float and becomes 0"]
    );
    assert_eq!(
        notes(&["f(x) = 1e308 * 10 * x", "--at", "x=1"]),
        ["`t1 = 1e308 * 10` overflows to inf (from 1e308, 10)"]
    );
    assert_eq!(
        notes(&["f(x) = log(x)", "--at", "x=0"]),
        [
            "`f = log(x)` gives -inf (from x = 0)",
            "at `f = log(x)`: the gradient sent to `x` is inf — the local gradient is not finite at x = 0"
        ]
    );
    // Two infinite gradients of opposite sign meet at a fork.
    assert_eq!(
        notes(&["f(x) = sqrt(x) - sqrt(x * 1)", "--at", "x=0"])
            .last()
            .map(String::as_str),
        Some("at the fork of `x`: the gradients -inf and inf add to nan")
    );
    assert_eq!(
        notes(&["f(x) = sqrt(x)", "--at", "x=0"]),
        [
            "at `f = sqrt(x)`: the gradient sent to `x` is inf — the local gradient is not finite at x = 0"
        ]
    );
}

/// By hand: a comment may hold anything; echoed raw, an escape sequence acted on
/// the terminal and a carriage return ended a LaTeX comment early, so that the
/// rest of the line became LaTeX.
#[test]
fn control_characters_in_comments_are_shown_not_obeyed() {
    let program = "f = x * 2 # \u{1b}[2J\r\\end{document}";
    let (code, out, _) = run(&[program, "--at", "x=1"]);
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}') && !out.contains('\r'), "{out:?}");
    assert!(
        out.contains("# \u{241b}[2J\u{240d}\\end{document}"),
        "{out}"
    );
    let (code, out, _) = run(&[program, "--format", "latex"]);
    assert_eq!(code, 0);
    for line in out.lines() {
        assert!(
            line.starts_with('%') || !line.contains("\\end{document}"),
            "a comment's text escaped into LaTeX: {line:?}"
        );
    }
}

/// By hand: `--at NAME=@/dev/zero`, `-f /dev/zero` and an endless standard input
/// read until memory ran out; now they stop at 256 MiB.
#[test]
fn endless_inputs_stop_at_the_limit() {
    if !std::path::Path::new("/dev/zero").exists() {
        return;
    }
    let (code, out, err) = run(&["f(v) = sum(v)", "--at", "v=@/dev/zero"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.starts_with("error: malformed --at value: `/dev/zero` for `v`: it is larger than 256 MiB, the most the tool reads"),
        "{err}"
    );
}

/// By hand: `--check` evaluated the circuit twice per element of every
/// parameter — for a vector of 200 000 elements, 400 000 passes over 200 000
/// numbers each, hours. Now evenly spaced elements stand for the rest, within a
/// stated amount of work, and a note says how many.
#[test]
fn check_of_a_long_vector_samples_its_elements() {
    let values: Vec<String> = (0..200_000)
        .map(|i| format!("{}", i as f64 / 1000.0))
        .collect();
    let file = std::env::temp_dir().join(format!("gx-check-{}.json", std::process::id()));
    std::fs::write(&file, format!("[{}]", values.join(","))).unwrap();
    let at = format!("v=@{}", file.display());
    let start = std::time::Instant::now();
    let (code, out, err) = run(&[
        "f(v) = sum(v * v)",
        "--at",
        &at,
        "--check",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["check"]["ok"], true, "{}", r["check"]);
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("of the 200000 elements checked, evenly spaced"),
        "{notes}"
    );
    let _ = std::fs::remove_file(file);
}

/// Fuzzer (`pipeline`, crash-ec75b66a…): without Graphviz, the step-by-step
/// frames of this program crashed the built-in layout (layout-rs panicked:
/// "Can't normalize the unit vector" — a wire routed through a point on its own
/// end). The layout is now retried with a little more room, and a failure that
/// remains is an error, not a panic.
#[test]
fn built_in_layout_that_panicked_on_a_step_frame() {
    let program = "sigy = 1 / (1 + exp(-y))\nnum = x + sgiy\nsigx = 1 / (1 + exp(-x))\n\
                   xpy = x + y\nxpysqr = xpy**2\nden = sigx +--steps\ninvden = 1 / den\n\
                   f = num * invden\n";
    let dir = std::env::temp_dir().join(format!("gx-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("page.html");
    let out = gx()
        .env("GRADEXPLAIN_NO_GRAPHVIZ", "1")
        .args([program, "--at", "y=-1.5,x=2,sgiy=0,steps=3", "--html"])
        .arg(&page)
        .arg("--steps")
        .arg(dir.join("steps"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.matches("<svg").count() > 5, "one picture per step");
    let _ = std::fs::remove_dir_all(dir);
}

/// By hand: each derivative program repeats its header (every parameter) and
/// the statements it needs, so `x0 + x1 + … + x19999` made a 3 GB report and
/// a product of 30 000 names 14 GB. Past a stated size the programs are null,
/// with a note.
#[test]
fn derivative_programs_of_many_parameters_are_bounded() {
    let program: Vec<String> = (0..5000).map(|i| format!("x{i}")).collect();
    let program = program.join(" + ");
    let (code, out, err) = run(&[&program, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.len() < 20 << 20, "{} bytes", out.len());
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["symbolic"]["x0"], serde_json::Value::Null);
    assert_eq!(r["symbolic"].as_object().unwrap().len(), 5000);
    assert!(
        r["notes"]
            .to_string()
            .contains("the derivative programs of the 5000 parameters"),
        "{}",
        r["notes"]
    );
    // A few parameters: the programs are there.
    let (_, out, _) = run(&["x0 + x1 + x2", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["symbolic"]["x1"], "df_dx1(x0, x1, x2) = 1");
}

/// By hand: every `--at` assignment kept its own copy of the whole argument
/// (15 000 assignments of a 128 KiB argument: 2 GB), and binding compared every
/// name with every other (20 000 names: 4·10⁸ comparisons).
#[test]
fn twenty_thousand_values_bind_in_linear_time_and_memory() {
    let n = 20_000;
    let program: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    // Longer than one argument may be (128 KiB): from standard input.
    let program = program.join(" + ");
    let values: Vec<String> = (0..n).map(|i| format!("x{i}=1")).collect();
    let mut cmd = gx();
    cmd.args(["-f", "-", "--summary", "--format", "json"]);
    for chunk in values.chunks(8000) {
        cmd.args(["--at", &chunk.join(",")]);
    }
    let start = std::time::Instant::now();
    let out = cmd.write_stdin(program.clone()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(start.elapsed().as_secs() < 30, "took {:?}", start.elapsed());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["value"], n);
    // An unknown name lists a few parameters, not all 20 000.
    let out = gx()
        .args(["-f", "-", "--at", "nope=1"])
        .write_stdin(program)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("help: the parameters are x0, x1,"), "{err}");
    assert!(err.contains("… (20000 in all)"), "{err}");
}

/// Fuzzer (`values`, oom-a7ffad49…): a 100-byte `.npy` file of version 2 whose
/// header length field says 2.6 GB; ndarray-npy allocated that much before
/// reading (out of memory). The length is now checked against the file first.
#[test]
fn npy_header_length_beyond_the_file() {
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&[0x9c; 89]);
    bytes.extend_from_slice(b"\x7f'\x00");
    let file = std::env::temp_dir().join(format!("gx-forged-{}.npy", std::process::id()));
    std::fs::write(&file, &bytes).unwrap();
    let at = format!("W=@{}", file.display());
    let (code, out, err) = run(&["f(W) = sum(W)", "--at", &at]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.lines().next().unwrap().ends_with(
            "it is not a valid .npy file: its header claims 2627509404 bytes, but the file holds 88 after it"
        ),
        "{err}"
    );
    let _ = std::fs::remove_file(file);
}

/// By hand: a literal of 100 000 digits that underflows to 0 was quoted whole
/// in its note, a 100 kB line. A long literal is shown by its ends and length.
#[test]
fn a_huge_literal_is_not_quoted_whole() {
    let tiny = format!("x * 0.{}1", "0".repeat(100_000));
    let huge = format!("x * {}", "9".repeat(10_000));
    for (program, ends) in [(tiny, "becomes 0"), (huge, "becomes inf")] {
        let (code, out, err) = run(&[&program, "--at", "x=1", "--summary"]);
        assert_eq!(code, 0, "{err}");
        let note = out
            .lines()
            .find(|l| l.contains("the literal"))
            .unwrap_or_else(|| panic!("no note: {out}"));
        assert!(
            note.len() < 160 && note.contains(" digits) ") && note.ends_with(ends),
            "{note}"
        );
    }
}

/// A header that is not the last statement (found by a hostile probe): the
/// unnamed last statement is the output and takes the header's name, and
/// the header's own expression no longer shows as a second gate of that
/// name; a note says what happened.
#[test]
fn a_header_that_is_not_the_last_statement() {
    let (code, out, err) = run(&[
        "f(x, y) = x * y; x + 1",
        "--at",
        "x=1,y=2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&r["output"], &r["value"]), (&"f".into(), &2.into()));
    assert_eq!(r["params"], serde_json::json!(["x", "y"]));
    let named_f = r["gates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["label"] == "f");
    assert_eq!(named_f.count(), 1, "{}", r["gates"]);
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("the header `f(…)` is not the last statement"),
        "{notes}"
    );
    // A named last statement is the output, under its own name.
    let (_, out, _) = run(&[
        "f(x, y) = x * y; g = x + 1",
        "--at",
        "x=1,y=2",
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["output"], "g");
    // A header last has nothing to say.
    let (_, out, _) = run(&[
        "q = x * y; f(x, y) = q",
        "--at",
        "x=1,y=2",
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&r["output"], &r["notes"]),
        (&"f".into(), &serde_json::json!([]))
    );
}
