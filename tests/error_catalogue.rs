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
//! - [x] lexer: expected an operator after a number (`implicit-multiplication`); a second decimal point (`two-dots`, `two-decimal-points`)
//! - [x] parser: expected a value, found … (`missing-operand`, `trailing-*`, `equals-as-value`,
//!   `array-literal`, `double-power`)
//! - [x] parser: expected an operator, found … (`juxtaposition`, `number-after-number`)
//! - [x] parser: the program is empty (`empty`, `only-separators`)
//! - [x] parser: at most one header (`two-headers`)
//! - [x] parser: a header that lists something other than names (`header-with-a-number`,
//!   `header-trailing-comma`)
//! - [x] parser: unexpected `=` after an expression (`equals-after-expression`)
//! - [x] parser: `,` outside a call or an index (`comma-outside-call`)
//! - [x] parser: too many indices (`too-many-indices`)
//! - [x] parser: unmatched `)` / `]` (`unmatched`, `unmatched-bracket`)
//! - [x] parser: unclosed `(` / `[` / call (`unclosed`, `unclosed-index`, `unclosed-call`)
//! - [x] parser: mismatched bracket (`mismatched`)
//! - [x] parser: unknown function, with a suggestion or the list (`unknown-function`,
//!   `call-of-a-name`; the help lines: `syntax_errors_carry_their_help` in `tests/error_catalogue_usage.rs`)
//! - [x] parser: wrong number of arguments (`exp-arity`, `max-arity`, `pow-no-args`,
//!   `index-on-call-arity`)
//! - [ ] parser: "internal parser error" — unreachable by the machine's invariants; the
//!   fuzzer (`fuzz/`, target `parse`) has not reached it
//! - [x] lowering: a parameter listed twice (`duplicate-param`)
//! - [x] lowering: not a parameter of the header (`header-missing-param`), the header's own
//!   name used as a value (`header-name-as-a-value`)
//! - [x] lowering: used before it is defined (`use-before-define`)
//! - [x] lowering: already defined as a stage / a parameter (`redefined-stage`,
//!   `redefined-parameter`)
//! - [x] the program is not valid UTF-8, with the line, column and a caret (`a_program_that_is_not_text`)
//!
//! **Usage, exit 2**
//! - [x] `--at`: empty assignment, no `=`, not a name, `@` without a file, expected a number,
//!   text after the value, a matrix row without `[`, a third level of brackets, an empty
//!   row, rows of different lengths, no `,` or `]` after a row, an empty vector, no `,` or
//!   `]` after an element (`malformed_at_values`, there too)
//! - [ ] `--at`: "malformed matrix" — unreachable: the rows are checked before the matrix is built
//! - [x] `--grad`: the same messages, about `--grad` (`malformed_grad_values`, there)
//! - [x] `--at NAME=@FILE`: a file that holds no value (`files_that_hold_no_value`, there; each
//!   reason in `src/datafile.rs`'s unit tests and `tests/shape_errors.rs`)
//! - [x] a name given two values (`inputs_that_do_not_fit_the_program`)
//! - [x] a program both as an argument and with `-f` (`command_line_conflicts`, there)
//! - [x] clap: an unknown option, a bad `--format`, a missing option value (`command_line_conflicts`, there)
//! - [ ] "no program given" — unreachable from the binary: with no program and a terminal on
//!   standard input the interactive mode starts instead (the library's `app::run` keeps it)
//!
//! **Eval, exit 1**
//! - [x] unknown input, missing value (`inputs_that_do_not_fit_the_program`)
//! - [x] shape errors: every operator (`tests/shape_errors.rs`), and one per rule here
//!   (`shape_errors_one_per_rule`)
//! - [x] a value too large to hold (`values_too_large_to_hold`)
//! - [x] domain errors: `log(-1)`, `sqrt(-2)`, `0/0`, a negative base to a non-integer power
//!   (`domain_errors_name_the_gate`)
//! - [x] an index that is not an integer / out of range for a vector, a matrix's rows,
//!   its columns (`index_errors`)
//! - [x] an upstream gradient of the wrong shape (`index_errors`)
//!
//! **Diagrams, exit 1** (`diagram_errors`; writing: `tests/atomic_writes.rs`)
//! - [x] too many gates for a DOT diagram (one check, with its own words, guards pictures and frames)
//! - [x] a diagram too costly to lay out; too many steps for frames
//! - [x] a PNG without Graphviz
//! - [ ] a PNG when Graphviz's `dot` fails on the graph — no known input makes it fail
//! - [ ] "cannot draw the diagram": the built-in layout failing even after its retries — the
//!   input that made it panic (`tests/regressions.rs`) now lays out on a retry
//! - [x] a steps directory that cannot be created
//! - [x] a file that cannot be written; a directory given as a file; the program file given
//!   as an output (`tests/atomic_writes.rs`)
//! - [ ] `--check` "needs values" — unreachable from the binary: `--check` evaluates, and a
//!   missing value is reported first (the library's `check::check` keeps it)
//!
//! **I/O, exit 1**
//! - [x] a program file that cannot be read; standard input that cannot be read; an input
//!   larger than the limit (`unreadable_inputs`)
//! - [x] an `--at @FILE` that cannot be read (`unreadable_inputs`)
//! - [x] standard output that cannot be written (`/dev/full`) (`unwritable_standard_output`)
//! - [ ] "cannot write the report" — unreachable: serde_json does not fail on a `Value`
//!
//! A broken pipe is not an error: see `tests/output_safety.rs`.

#[path = "common/expect.rs"]
mod expect;
use expect::{Expect, check, eval, gx, scratch};

#[test]
fn a_program_that_is_not_text() {
    check(
        &["-f", "-"],
        Some(b"x + \xff\xfe"),
        Expect {
            code: 2,
            message: "the program is not valid UTF-8 text (invalid byte at offset 4)",
            place: Some("program:1:5"),
            label: Some("not UTF-8"),
        },
    );
    // On a later line, after characters of two bytes: the line and column
    // count characters, and the line is shown with the bad byte replaced.
    let src = ["a = σ\nb = a·a + ".as_bytes(), b"\xc3 a"].concat();
    let e = check(
        &["-f", "-"],
        Some(&src),
        Expect {
            code: 2,
            message: "the program is not valid UTF-8 text (invalid byte at offset 18)",
            place: Some("program:2:11"),
            label: Some("not UTF-8"),
        },
    );
    assert!(e.contains("b = a·a + \u{FFFD} a"), "{e}");
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
            // Written out: the temporary `t1` is nowhere in the program.
            "in `sqrt(x - 1)`",
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
    // Bracketed operands: the caret covers the brackets at both ends.
    let e = check(
        &["f(x) = (x-1)/(x-1)", "--at", "x=1"],
        None,
        eval(
            "0 / 0 is undefined",
            "program:1:8",
            "in `(x - 1) / (x - 1)`",
        ),
    );
    assert!(e.contains("|        ^^^^^^^^^^^ in"), "{e}");
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
        // Every digit, where six would make it look like one.
        (
            "f(v, i) = v[i]",
            "v=[1, 2],i=1.0000000000000002",
            "index `i` = 1.0000000000000002 is not an integer",
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

#[test]
fn diagram_errors() {
    let negations = |n: usize| format!("{}x", "-".repeat(n));
    let big = negations(50_001);
    let e = check(
        &[&big, "--format", "dot"],
        None,
        Expect {
            code: 1,
            message: "the circuit has 50002 gates, too many for a DOT diagram (at most 50000)",
            place: None,
            label: None,
        },
    );
    assert!(
        e.contains("help: for large circuits use --format json"),
        "{e}"
    );
    let long = negations(7_000);
    check(
        &[&long, "--at", "x=1", "--svg", "/tmp/gx-never-written.svg"],
        None,
        Expect {
            code: 1,
            message: "the diagram is too large to lay out as a picture: 7002 boxes and 7001 wires (layout cost 14003, at most 6000)",
            place: None,
            label: None,
        },
    );
    let steps = negations(200);
    check(
        &[
            &steps,
            "--at",
            "x=1",
            "--html",
            "/tmp/gx-never-written.html",
        ],
        None,
        Expect {
            code: 1,
            message: "the backward pass has 201 steps, too many for step-by-step frames (at most 150)",
            place: None,
            label: None,
        },
    );
    assert!(!std::path::Path::new("/tmp/gx-never-written.svg").exists());
    let out = gx()
        .env("GRADEXPLAIN_NO_GRAPHVIZ", "1")
        .args(["x * 2", "--at", "x=1", "--png", "/tmp/gx-never-written.png"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().next(),
        Some("error: cannot make a PNG: Graphviz (the `dot` program) is not installed")
    );
    if std::path::Path::new("/proc/version").is_file() {
        check(
            &["x * 2", "--at", "x=1", "--steps", "/proc/version/steps"],
            None,
            Expect {
                code: 1,
                message: "cannot create the directory `/proc/version/steps`: Not a directory",
                place: None,
                label: None,
            },
        );
    }
}
