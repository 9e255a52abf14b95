//! The error catalogue: every error the tool can produce, triggered through the
//! binary, with its exact message (the first line, `error: …`), its place (the
//! `--> SOURCE:LINE:COLUMN` line and a caret, or none where there is no text to
//! point into), its exit code, and nothing on standard output.
//!
//! Syntax errors (exit 2) live in `grammar/corpus/bad/`, one file each, walked
//! by `tests/corpus.rs` with the same checks; the rest are here. The checklist,
//! by the code that raises them (`grep -rn 'Error::\|usage(' src`):
//!
//! **Syntax, exit 2** — `grammar/corpus/bad/` unless marked
//! - [x] lexer: unexpected character (`bad-character`, `control-char`)
//! - [x] lexer: malformed number, exponent without digits (`bad-exponent`)
//! - [x] lexer: expected an operator after a number (`implicit-multiplication`, `two-dots`)
//! - [x] parser: expected a value, found … (`missing-operand`, `trailing-*`, `equals-as-value`,
//!   `array-literal`, `double-power`)
//! - [x] parser: expected an operator, found … (`juxtaposition`, `number-after-number`)
//! - [x] parser: the program is empty (`empty`, `only-separators`)
//! - [x] parser: at most one header (`two-headers`)
//! - [x] parser: unexpected `=` after an expression (`equals-after-expression`)
//! - [x] parser: `,` outside a call or an index (`comma-outside-call`)
//! - [x] parser: too many indices (`too-many-indices`)
//! - [x] parser: unmatched `)` / `]` (`unmatched`, `unmatched-bracket`)
//! - [x] parser: unclosed `(` / `[` / call (`unclosed`, `unclosed-index`, `unclosed-call`)
//! - [x] parser: mismatched bracket (`mismatched`)
//! - [x] parser: unknown function, with a suggestion or the list (`unknown-function`,
//!   `call-of-a-name`; the help lines: [`syntax_errors_carry_their_help`])
//! - [x] parser: wrong number of arguments (`exp-arity`, `max-arity`, `pow-no-args`,
//!   `index-on-call-arity`)
//! - [ ] parser: "internal parser error" — unreachable by the machine's invariants; the
//!   fuzzer (`fuzz/`, target `parse`) has not reached it
//! - [x] lowering: a parameter listed twice (`duplicate-param`)
//! - [x] lowering: not a parameter of the header (`header-missing-param`)
//! - [x] lowering: used before it is defined (`use-before-define`)
//! - [x] lowering: already defined as a stage / a parameter (`redefined-stage`,
//!   `redefined-parameter`)
//! - [x] the program is not valid UTF-8 ([`a_program_that_is_not_text`])
//!
//! **Usage, exit 2**
//! - [x] `--at`: empty assignment, no `=`, not a name, `@` without a file, expected a number,
//!   text after the value, a matrix row without `[`, a third level of brackets, an empty
//!   row, rows of different lengths, no `,` or `]` after a row, an empty vector, no `,` or
//!   `]` after an element ([`malformed_at_values`])
//! - [ ] `--at`: "malformed matrix" — unreachable: the rows are checked before the matrix is built
//! - [x] `--grad`: the same messages, about `--grad` ([`malformed_grad_values`])
//! - [x] `--at NAME=@FILE`: a file that holds no value ([`files_that_hold_no_value`]; each
//!   reason in `src/datafile.rs`'s unit tests and `tests/shape_errors.rs`)
//! - [x] a name given two values ([`inputs_that_do_not_fit_the_program`])
//! - [x] a program both as an argument and with `-f` ([`command_line_conflicts`])
//! - [x] clap: an unknown option, a bad `--format`, a missing option value ([`command_line_conflicts`])
//! - [ ] "no program given" — unreachable from the binary: with no program and a terminal on
//!   standard input the interactive mode starts instead (the library's `app::run` keeps it)
//!
//! **Eval, exit 1**
//! - [x] unknown input, missing value ([`inputs_that_do_not_fit_the_program`])
//! - [x] shape errors: every operator (`tests/shape_errors.rs`), and one per rule here
//!   ([`shape_errors_one_per_rule`])
//! - [x] a value too large to hold ([`values_too_large_to_hold`])
//! - [x] domain errors: `log(-1)`, `sqrt(-2)`, `0/0`, a negative base to a non-integer power
//!   ([`domain_errors_name_the_gate`])
//! - [x] an index that is not an integer / out of range for a vector, a matrix's rows,
//!   its columns ([`index_errors`])
//! - [x] an upstream gradient of the wrong shape ([`index_errors`])
//!
//! **I/O, exit 1**
//! - [x] a program file that cannot be read; standard input that cannot be read; an input
//!   larger than the limit ([`unreadable_inputs`])
//! - [x] an `--at @FILE` that cannot be read ([`unreadable_inputs`])
//! - [x] standard output that cannot be written (`/dev/full`) ([`unwritable_standard_output`])
//! - [ ] "cannot write the report" — unreachable: serde_json does not fail on a `Value`
//!
//! A broken pipe is not an error: see `tests/output_safety.rs`.

use assert_cmd::Command;
use std::path::PathBuf;

/// What an error must look like.
struct Expect<'a> {
    code: i32,
    /// The first line, after `error: `.
    message: &'a str,
    /// `SOURCE:LINE:COLUMN`, or `None` for an error with no text to point into.
    place: Option<&'a str>,
    /// Text under the caret, when the error has one.
    label: Option<&'a str>,
}

fn gx() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gradexplain"));
    c.env("NO_COLOR", "1");
    c
}

/// Runs the binary and checks the error against `want`; returns standard error.
fn check(args: &[&str], stdin: Option<&[u8]>, want: Expect<'_>) -> String {
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

fn usage<'a>(message: &'a str, place: &'a str) -> Expect<'a> {
    Expect {
        code: 2,
        message,
        place: Some(place),
        label: None,
    }
}

fn eval<'a>(message: &'a str, place: &'a str, label: &'a str) -> Expect<'a> {
    Expect {
        code: 1,
        message,
        place: Some(place),
        label: Some(label),
    }
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gx-catalogue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn a_program_that_is_not_text() {
    check(
        &["-f", "-"],
        Some(b"x + \xff\xfe"),
        Expect {
            code: 2,
            message: "the program is not valid UTF-8 text (invalid byte at offset 4)",
            place: None,
            label: None,
        },
    );
}

#[test]
fn syntax_errors_carry_their_help() {
    let e = check(
        &["f(x) = sigmod(x)"],
        None,
        Expect {
            code: 2,
            message: "unknown function `sigmod`",
            place: Some("program:1:8"),
            label: Some("not a built-in function"),
        },
    );
    assert!(e.contains("help: did you mean `sigmoid`?"), "{e}");
    let e = check(
        &["frobnicate(x)"],
        None,
        Expect {
            code: 2,
            message: "unknown function `frobnicate`",
            place: Some("program:1:1"),
            label: None,
        },
    );
    assert!(
        e.contains("help: the built-in functions are max, min,"),
        "{e}"
    );
    let e = check(
        &["2x"],
        None,
        usage_syntax("expected an operator after the number `2`", "program:1:2"),
    );
    assert!(e.contains("help: write `2*x…` for a product"), "{e}");
}

fn usage_syntax<'a>(message: &'a str, place: &'a str) -> Expect<'a> {
    usage(message, place)
}

#[test]
fn malformed_at_values() {
    for (at, message, place) in [
        (
            "x=1,,y=2",
            "malformed --at value: an empty assignment",
            "--at:1:5",
        ),
        (
            "x",
            "malformed --at value `x`: expected `NAME=VALUE`",
            "--at:1:1",
        ),
        (
            "1x=2",
            "malformed --at value: `1x` is not a name",
            "--at:1:1",
        ),
        (
            "x=@",
            "malformed --at value: `@` needs a file name",
            "--at:1:3",
        ),
        (
            "x=abc",
            "malformed --at value: expected a number, found `abc`",
            "--at:1:3",
        ),
        (
            "x=",
            "malformed --at value: expected a number, found nothing",
            "--at:1:3",
        ),
        (
            "x=nan",
            "malformed --at value: expected a number, found `nan`",
            "--at:1:3",
        ),
        (
            "x=3 4",
            "malformed --at value: unexpected text after the value",
            "--at:1:5",
        ),
        (
            "x=[[1, 2], 3]",
            "malformed --at value: expected `[` to start a matrix row",
            "--at:1:12",
        ),
        (
            "x=[[[1]]]",
            "malformed --at value: only vectors and matrices are supported, not deeper arrays",
            "--at:1:5",
        ),
        (
            "x=[[1], []]",
            "malformed --at value: an empty matrix row",
            "--at:1:9",
        ),
        (
            "x=[[1, 2], [3]]",
            "malformed --at value: matrix rows differ in length (2 and 1)",
            "--at:1:12",
        ),
        (
            "x=[[1] [2]]",
            "malformed --at value: expected `,` or `]` after a matrix row",
            "--at:1:8",
        ),
        ("x=[]", "malformed --at value: an empty vector", "--at:1:3"),
        (
            "x=[1 2]",
            "malformed --at value: expected `,` or `]`",
            "--at:1:6",
        ),
    ] {
        check(&["f(x) = sum(x)", "--at", at], None, usage(message, place));
    }
}

#[test]
fn malformed_grad_values() {
    for (grad, message, place) in [
        (
            "two",
            "malformed --grad value: expected a number, found `two`",
            "--grad:1:1",
        ),
        (
            "[1,",
            "malformed --grad value: expected a number, found nothing",
            "--grad:1:4",
        ),
        (
            "[]",
            "malformed --grad value: an empty vector",
            "--grad:1:1",
        ),
        (
            "@",
            "malformed --grad value: `@` needs a file name",
            "--grad:1:1",
        ),
    ] {
        check(
            &["f(x) = x", "--at", "x=1", "--grad", grad],
            None,
            usage(message, place),
        );
    }
}

#[test]
fn files_that_hold_no_value() {
    let p = scratch("words.json", b"hello");
    let at = format!("v=@{}", p.display());
    let message = format!(
        "malformed --at value: `{}` for `v`: it is neither a .npy file nor valid JSON (expected value at line 1 column 1)",
        p.display()
    );
    check(
        &["f(v) = sum(v)", "--at", &at],
        None,
        usage(&message, "--at:1:3"),
    );
    let p = scratch("nan.json", b"[1, \"nan\"]");
    let at = format!("v=@{}", p.display());
    let message = format!(
        "malformed --at value: `{}` for `v`: expected a number at [1], found a string",
        p.display()
    );
    check(
        &["f(v) = sum(v)", "--at", &at],
        None,
        usage(&message, "--at:1:3"),
    );
}

#[test]
fn inputs_that_do_not_fit_the_program() {
    check(
        &["f(x) = x", "--at", "x=1,x=2"],
        None,
        Expect {
            code: 2,
            message: "`x` is given more than one value",
            place: Some("--at:1:5"),
            label: Some("given again here"),
        },
    );
    let e = check(
        &["f(x) = x", "--at", "x=1", "--at", "y=2"],
        None,
        eval(
            "unknown input `y`: the program has no parameter of that name",
            "--at:1:1",
            "not a parameter",
        ),
    );
    assert!(e.contains("help: the parameters are x"), "{e}");
    let e = check(
        &["f(x, y) = x * y", "--at", "x=1"],
        None,
        eval(
            "missing value for `y`",
            "program:1:6",
            "this parameter has no value",
        ),
    );
    assert!(e.contains("help: pass it with --at y=…"), "{e}");
}

#[test]
fn command_line_conflicts() {
    let p = scratch("p.gx", b"x * 2");
    check(
        &["x", "-f", p.to_str().unwrap()],
        None,
        Expect {
            code: 2,
            message: "give the program either as an argument or with -f, not both",
            place: None,
            label: None,
        },
    );
    for (args, message) in [
        (&["x", "--bogus"][..], "unexpected argument '--bogus' found"),
        (
            &["x", "--format", "yaml"][..],
            "invalid value 'yaml' for '--format <FORMAT>'",
        ),
        (
            &["x", "--at"][..],
            "a value is required for '--at <NAME=VALUE,…>' but none was supplied",
        ),
    ] {
        check(
            args,
            None,
            Expect {
                code: 2,
                message,
                place: None,
                label: None,
            },
        );
    }
}

#[test]
fn shape_errors_one_per_rule() {
    for (program, at, message, place) in [
        (
            "f(a, b) = a + b",
            "a=[1, 2],b=[1, 2, 3]",
            "cannot take 2 + 3: shapes 2 and 3 differ",
            "program:1:11",
        ),
        (
            "f(a, b) = max(a, b)",
            "a=[1, 2],b=[1, 2, 3]",
            "cannot take max(2, 3): shapes 2 and 3 differ",
            "program:1:11",
        ),
        (
            "f(W, x) = W · x",
            "W=[[1, 2, 3], [4, 5, 6]],x=[1, 2]",
            "cannot take 2×3 · 2: inner dimensions 3 and 2 differ",
            "program:1:11",
        ),
        (
            "f(a, b) = outer(a, b)",
            "a=[[1]],b=[1]",
            "cannot take outer(1×1, 1): both must be vectors",
            "program:1:11",
        ),
        (
            "f(v, i) = v[i]",
            "v=[1, 2],i=[0]",
            "an index must be a scalar, not a vector of length 1",
            "program:1:11",
        ),
        ("f(x) = x[0]", "x=1", "cannot index a scalar", "program:1:8"),
        (
            "f(v) = v[0, 0]",
            "v=[1, 2]",
            "cannot index a vector of length 2 with 2 indices: a vector takes 1 index, a matrix 1 (a row) or 2",
            "program:1:8",
        ),
    ] {
        let e = check(
            &[program, "--at", at],
            None,
            Expect {
                code: 1,
                message,
                place: Some(place),
                label: None,
            },
        );
        assert!(e.contains(" in `"), "the label names the gate: {e}");
    }
}

#[test]
fn values_too_large_to_hold() {
    // 10 000 × 10 000 from two short files: refused before anything is computed.
    let v: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let p = scratch("long.json", format!("[{}]", v.join(",")).as_bytes());
    let at = format!("u=@{}", p.display());
    check(
        &["f(u) = sum(outer(u, u))", "--at", &at],
        None,
        eval(
            "`outer(u, u)` would be a 10000×10000 matrix: more than the tool holds (67108864 numbers in one value)",
            "program:1:12",
            "too large to compute",
        ),
    );
}

#[test]
fn domain_errors_name_the_gate() {
    for (program, at, message, place, label) in [
        (
            "f(x) = log(x) + 1",
            "x=-1",
            "log(-1) is undefined: log needs an input ≥ 0",
            "program:1:8",
            "in `log(x)`",
        ),
        (
            "f(x) = 2 * sqrt(x - 1)",
            "x=-1",
            "sqrt(-2) is undefined: sqrt needs an input ≥ 0",
            "program:1:12",
            "in `sqrt(t1)`",
        ),
        (
            "f(x, y) = x / y",
            "x=0,y=0",
            "0 / 0 is undefined",
            "program:1:11",
            "in `x / y`",
        ),
        (
            "f(x) = x ^ 0.5",
            "x=-4",
            "cannot raise the negative number -4 to the non-integer power 0.5",
            "program:1:8",
            "in `x ^ 0.5`",
        ),
        (
            "f(v) = sum(log(v))",
            "v=[1, 2, -3]",
            "log(-3) is undefined: log needs an input ≥ 0",
            "program:1:12",
            "in `log(v)`",
        ),
    ] {
        check(&[program, "--at", at], None, eval(message, place, label));
    }
    // Without --at, a constant program is still evaluated.
    check(
        &["0/0"],
        None,
        eval("0 / 0 is undefined", "program:1:1", "in `0 / 0`"),
    );
}

#[test]
fn index_errors() {
    for (program, at, message, place) in [
        (
            "f(v) = v[1.5]",
            "v=[1, 2]",
            "index 1.5 is not an integer",
            "program:1:8",
        ),
        (
            "f(v, i) = v[i]",
            "v=[1, 2],i=inf",
            "index `i` = inf is not an integer",
            "program:1:11",
        ),
        (
            "f(v) = v[2]",
            "v=[1, 2]",
            "index 2 is out of range for a vector of length 2",
            "program:1:8",
        ),
        (
            "f(v, i) = v[i]",
            "v=[1, 2],i=-1",
            "index `i` = -1 is out of range for a vector of length 2",
            "program:1:11",
        ),
        (
            "f(M) = M[5]",
            "M=[[1, 2]]",
            "index 5 is out of range for a matrix with 1 row",
            "program:1:8",
        ),
        (
            "f(M) = M[0, 3]",
            "M=[[1, 2]]",
            "index 3 is out of range for a matrix with 2 columns",
            "program:1:8",
        ),
    ] {
        check(
            &[program, "--at", at],
            None,
            Expect {
                code: 1,
                message,
                place: Some(place),
                label: None,
            },
        );
    }
    let e = check(
        &["f(v) = v * 2", "--at", "v=[1, 2]", "--grad", "[1, 2, 3]"],
        None,
        Expect {
            code: 1,
            message: "the upstream gradient (--grad) is a vector of length 3, but the output `f` is a vector of length 2",
            place: Some("--grad:1:1"),
            label: None,
        },
    );
    assert!(
        e.contains("pass --grad a vector of length 2, or a number that broadcasts"),
        "{e}"
    );
}

#[test]
fn unreadable_inputs() {
    let missing = std::env::temp_dir().join("gx-catalogue-no-such-file.gx");
    let m = missing.display().to_string();
    let io = |message: String| Expect {
        code: 1,
        message: Box::leak(message.into_boxed_str()),
        place: None,
        label: None,
    };
    check(
        &["-f", &m],
        None,
        io(format!("cannot read `{m}`: No such file or directory")),
    );
    let at = format!("v=@{m}");
    check(
        &["f(v) = sum(v)", "--at", &at],
        None,
        Expect {
            code: 1,
            message: &format!("cannot read `{m}` for `v`: no such file or directory"),
            place: Some("--at:1:3"),
            label: Some("this file"),
        },
    );
    if cfg!(target_os = "linux") {
        // A directory as standard input: reading it fails with the OS's reason.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gradexplain"))
            .args(["-f", "-"])
            .stdin(std::fs::File::open("/").unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).lines().next(),
            Some("error: cannot read standard input: Is a directory")
        );
        // An endless file stops at the limit instead of filling memory.
        check(
            &["-f", "/dev/zero"],
            None,
            io(
                "cannot read `/dev/zero`: it is larger than 256 MiB, the most the tool reads"
                    .into(),
            ),
        );
    }
}

#[test]
fn unwritable_standard_output() {
    if !std::path::Path::new("/dev/full").exists() {
        return; // not Linux: no device that refuses writes
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gradexplain"))
        .args(["f(x) = x", "--at", "x=1"])
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot write to standard output: No space left on device\n"
    );
}
