//! Every shape error through the binary: the message (the contract's wording,
//! naming the operator and both shapes), the place (line, column, caret), the
//! exit code, and nothing on standard output. Also index errors, a `--grad` of
//! the wrong shape, and `--at NAME=@FILE` failures.

use assert_cmd::Command;
use std::path::PathBuf;

/// Runs the binary with color off; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gradexplain"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts an error with exit `code` whose first line is `error: {message}`.
fn fails(args: &[&str], code: i32, message: &str) -> String {
    let (got, stdout, stderr) = run(args);
    assert_eq!(got, code, "{args:?}\n{stderr}");
    assert!(stdout.is_empty(), "{args:?}: stdout is not empty: {stdout}");
    let first = stderr.lines().next().unwrap_or_default();
    assert_eq!(first, format!("error: {message}"), "{args:?}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn the_contracts_example() {
    let e = fails(
        &["f(W, x) = W · x", "--at", "W=[[1,2,3],[4,5,6]],x=[1,2]"],
        1,
        "cannot take 2×3 · 2: inner dimensions 3 and 2 differ",
    );
    // Where: line and column, the line itself, a caret under the product.
    assert!(e.contains("--> program:1:11"), "{e}");
    assert!(e.contains("1 | f(W, x) = W · x"), "{e}");
    assert!(e.contains("^^^^^"), "{e}");
}

#[test]
fn every_product_mismatch_names_both_shapes() {
    let m23 = "[[1,2,3],[4,5,6]]";
    let m22 = "[[1,2],[3,4]]";
    for (program, at, message) in [
        (
            "f(a, b) = a @ b",
            format!("a={m23},b={m22}"),
            "cannot take 2×3 · 2×2: inner dimensions 3 and 2 differ",
        ),
        (
            "f(a, b) = dot(a, b)",
            "a=[1,2,3],b=[1,2]".into(),
            "cannot take 3 · 2: inner dimensions 3 and 2 differ",
        ),
        (
            "f(a, b) = a · b",
            format!("a=[1,2,3],b={m22}"),
            "cannot take 3 · 2×2: inner dimensions 3 and 2 differ",
        ),
        (
            "f(a, b) = a · b",
            format!("a={m22},b=[1,2,3]"),
            "cannot take 2×2 · 3: inner dimensions 2 and 3 differ",
        ),
    ] {
        fails(&[program, "--at", &at], 1, message);
    }
}

/// Products whose inner dimensions agree evaluate, whatever the outer ones.
#[test]
fn agreeing_products_evaluate() {
    let (code, out, err) = run(&[
        "f(a, b) = a · b",
        "--at",
        "a=[[1,2],[3,4]],b=[[1,2,3],[4,5,6]]",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(2×3)"), "{out}");
}

#[test]
fn every_elementwise_mismatch_names_the_operator_and_both_shapes() {
    let at = "a=[1,2,3],b=[[1,2],[3,4]]";
    for (program, message) in [
        (
            "f(a, b) = a + b",
            "cannot take 3 + 2×2: shapes 3 and 2×2 differ",
        ),
        (
            "f(a, b) = a - b",
            "cannot take 3 - 2×2: shapes 3 and 2×2 differ",
        ),
        (
            "f(a, b) = a * b",
            "cannot take 3 * 2×2: shapes 3 and 2×2 differ",
        ),
        (
            "f(a, b) = a / b",
            "cannot take 3 / 2×2: shapes 3 and 2×2 differ",
        ),
        (
            "f(a, b) = a ^ b",
            "cannot take 3 ^ 2×2: shapes 3 and 2×2 differ",
        ),
        (
            "f(a, b) = pow(a, b)",
            "cannot take 3 ^ 2×2: shapes 3 and 2×2 differ",
        ),
        (
            "f(a, b) = max(a, b)",
            "cannot take max(3, 2×2): shapes 3 and 2×2 differ",
        ),
        (
            "f(a, b) = min(a, a, b)",
            "cannot take min(3, 2×2): shapes 3 and 2×2 differ",
        ),
    ] {
        fails(&[program, "--at", at], 1, message);
    }
    fails(
        &["f(a, b) = a + b", "--at", "a=[1,2,3],b=[1,2]"],
        1,
        "cannot take 3 + 2: shapes 3 and 2 differ",
    );
    fails(
        &["f(u, v) = outer(u, v)", "--at", "u=[[1]],v=[1]"],
        1,
        "cannot take outer(1×1, 1): both must be vectors",
    );
}

#[test]
fn a_mismatch_deep_in_a_program_points_at_its_line() {
    let e = fails(
        &[
            "s = W · x\nt = s + x\nf(W, x) = sum(t)",
            "--at",
            "W=[[1,2],[3,4],[5,6]],x=[1,1]",
        ],
        1,
        "cannot take 3 + 2: shapes 3 and 2 differ",
    );
    assert!(e.contains("--> program:2:5"), "{e}");
}

#[test]
fn index_errors() {
    for (program, at, message) in [
        (
            "f(v, i) = v[i]",
            "v=[1,2],i=2",
            "index `i` = 2 is out of range for a vector of length 2",
        ),
        (
            "f(v, i) = v[i]",
            "v=[1,2],i=-1",
            "index `i` = -1 is out of range for a vector of length 2",
        ),
        (
            "f(M, i) = M[i]",
            "M=[[1,2]],i=1",
            "index `i` = 1 is out of range for a matrix with 1 row",
        ),
        (
            "f(M) = M[0, 5]",
            "M=[[1,2]]",
            "index 5 is out of range for a matrix with 2 columns",
        ),
        (
            "f(v, i) = v[i]",
            "v=[1,2],i=0.5",
            "index `i` = 0.5 is not an integer",
        ),
        (
            "f(v, i) = v[i + 1]",
            "v=[1,2,3],i=0.5",
            "index `i + 1` = 1.5 is not an integer",
        ),
        (
            "f(v, i) = v[i]",
            "v=[1,2],i=inf",
            "index `i` = inf is not an integer",
        ),
        (
            "f(v, i) = v[i]",
            "v=[1,2],i=[1]",
            "an index must be a scalar, not a vector of length 1",
        ),
        ("f(x) = x[0]", "x=3", "cannot index a scalar"),
        (
            "f(v) = v[0, 1]",
            "v=[1,2]",
            "cannot index a vector of length 2 with 2 indices: a vector takes 1 index, a matrix 1 (a row) or 2",
        ),
    ] {
        fails(&[program, "--at", at], 1, message);
    }
}

#[test]
fn a_grad_of_the_wrong_shape() {
    fails(
        &["f(v) = v * 2", "--at", "v=[1,2]", "--grad", "[1,2,3]"],
        1,
        "the upstream gradient (--grad) is a vector of length 3, but the output `f` is a vector of length 2",
    );
    fails(
        &["f(v) = sum(v)", "--at", "v=[1,2]", "--grad", "[1,2]"],
        1,
        "the upstream gradient (--grad) is a vector of length 2, but the output `f` is a scalar",
    );
    fails(
        &[
            "f(W, x) = W · x",
            "--at",
            "W=[[1,2]],x=[1,2]",
            "--grad",
            "[[1]]",
        ],
        1,
        "the upstream gradient (--grad) is a 1×1 matrix, but the output `f` is a vector of length 1",
    );
    // A scalar broadcasts; the output's shape is fine.
    let (code, _, err) = run(&["f(v) = v * 2", "--at", "v=[1,2]", "--grad", "3"]);
    assert_eq!(code, 0, "{err}");
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gradexplain-shape-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

#[test]
fn values_from_files() {
    use ndarray_npy::WriteNpyExt;
    let mut npy = Vec::new();
    ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]
        .write_npy(&mut npy)
        .expect("npy");
    let w = scratch("w.npy", &npy);
    let x = scratch("x.json", b"[1, -1]");
    let at = format!("W=@{},x=@{}", w.display(), x.display());
    let (code, out, err) = run(&["f(W, x) = W · x", "--at", &at, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["value"], serde_json::json!([-1, -1]));
    assert_eq!(
        report["gradients"]["W"],
        serde_json::json!([[1, -1], [1, -1]])
    );
    // --grad takes a file too.
    let g = scratch("g.json", b"[2, 3]");
    let grad = format!("@{}", g.display());
    let (code, out, err) = run(&[
        "f(W, x) = W · x",
        "--at",
        &at,
        "--grad",
        &grad,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["gradients"]["x"], serde_json::json!([11, 16]));
}

#[test]
fn file_errors_unreadable_is_1_malformed_is_2() {
    let missing = std::env::temp_dir().join("gradexplain-no-such-file.npy");
    let at = format!("v=@{}", missing.display());
    fails(
        &["f(v) = sum(v)", "--at", &at],
        1,
        &format!(
            "cannot read `{}` for `v`: no such file or directory",
            missing.display()
        ),
    );
    let mut cube = Vec::new();
    use ndarray_npy::WriteNpyExt;
    ndarray::Array3::<f64>::zeros((2, 2, 2))
        .write_npy(&mut cube)
        .expect("npy");
    for (name, bytes, why) in [
        (
            "cube.npy",
            cube.as_slice(),
            "it holds a 3-D array of shape [2, 2, 2]; the tool takes scalars (0-D), vectors (1-D) and matrices (2-D)",
        ),
        (
            "ragged.json",
            b"[[1, 2], [3]]".as_slice(),
            "matrix rows differ in length: row [0] has 2 elements, row [1] has 1",
        ),
        (
            "text.json",
            b"hello".as_slice(),
            "it is neither a .npy file nor valid JSON (expected value at line 1 column 1)",
        ),
        (
            "empty.json",
            b"[]".as_slice(),
            "it holds an empty array (shape [0]); a vector or matrix needs at least one element",
        ),
    ] {
        let p = scratch(name, bytes);
        let at = format!("v=@{}", p.display());
        fails(
            &["f(v) = sum(v)", "--at", &at],
            2,
            &format!("malformed --at value: `{}` for `v`: {why}", p.display()),
        );
    }
    fails(
        &["f(v) = sum(v)", "--at", "v=@"],
        2,
        "malformed --at value: `@` needs a file name",
    );
}
