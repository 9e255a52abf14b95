//! The error catalogue, continued: the usage errors (exit 2) of the command line
//! and its values — `--at`, `--grad`, `--at NAME=@FILE`, clap's own — and the
//! help lines of syntax errors. The checklist is in `tests/error_catalogue.rs`.

#[path = "common/expect.rs"]
mod expect;
use expect::{Expect, check, scratch, usage};

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
    // A name of one letter is not "one edit from `σ`": no suggestion, and
    // the other thing it may have meant.
    let e = check(
        &["f(x) = x + g(x)"],
        None,
        Expect {
            code: 2,
            message: "unknown function `g`",
            place: Some("program:1:12"),
            label: None,
        },
    );
    assert!(!e.contains("did you mean"), "{e}");
    assert!(e.contains("to multiply, write `g * (…)`"), "{e}");
    // What reads like a header, with something other than names listed.
    let e = check(
        &["f(x, y*2) = x"],
        None,
        Expect {
            code: 2,
            message: "expected `,` or `)`, found `*`",
            place: Some("program:1:7"),
            label: Some("in the header `f(…) =`"),
        },
    );
    assert!(
        e.contains("help: a header lists its parameters' names"),
        "{e}"
    );
    let e = check(
        &["2x"],
        None,
        usage("expected an operator after the number `2`", "program:1:2"),
    );
    assert!(e.contains("help: write `2*x…` for a product"), "{e}");
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
