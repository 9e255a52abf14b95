//! The tool against numpy, the way the CS231n assignments compute these
//! gradients: numpy writes random inputs to `.npy` files and its own answers to
//! a JSON file; the binary reads the `.npy` files with `--at NAME=@FILE` and its
//! `--format json` report must give numpy's values and gradients.
//!
//! Needs `python3` with numpy. Without it the test says so and skips — unless
//! GRADEXPLAIN_CI is set (CI installs numpy), where that is a failure.

use assert_cmd::Command;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// numpy's side: writes the inputs of every case as .npy files into the folder
/// given as argv[1], and numpy's results to expected.json there.
const NUMPY: &str = r#"
import json, sys
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(231)
expected = {}

def save(case, **arrays):
    for name, a in arrays.items():
        np.save(f"{out}/{case}-{name}.npy", a)

def svm(W, x, y):
    # The CS231n assignment's vectorised SVM gradient, written independently of
    # the tool's circuit: count the active margins, put -count on row y.
    scores = W.dot(x)
    margins = np.maximum(0, scores - scores[y] + 1)
    margins[y] = 0
    active = (margins > 0).astype(float)
    active[y] = -active.sum()
    return margins.sum(), np.outer(active, x), W.T.dot(active)

# 1. The vectorised SVM loss: 10 classes, 50 features.
W = 0.01 * rng.standard_normal((10, 50))
x = rng.standard_normal(50)
y = 3
loss, dW, dx = svm(W, x, y)
save("svm", W=W, x=x, y=np.array(y))
expected["svm"] = {"value": loss, "gradients": {"W": dW.tolist(), "x": dx.tolist()}}

# 2. The seed's row form, three classes, class 0 correct.
W3 = rng.standard_normal((3, 50))
x3 = rng.standard_normal(50)
loss, dW, dx = svm(W3, x3, 0)
save("rows", w0=W3[0], w1=W3[1], w2=W3[2], x=x3)
expected["rows"] = {"value": loss, "gradients": {
    "w0": dW[0].tolist(), "w1": dW[1].tolist(), "w2": dW[2].tolist(), "x": dx.tolist()}}

# 3. W @ X with a matrix upstream G: dW = G·Xᵀ, dX = Wᵀ·G.
W = rng.standard_normal((4, 6))
X = rng.standard_normal((6, 3))
G = rng.standard_normal((4, 3))
save("matmul", W=W, X=X, G=G)
expected["matmul"] = {"value": (W @ X).tolist(), "gradients": {
    "W": (G @ X.T).tolist(), "X": (W.T @ G).tolist()}}

# 4. A sigmoid layer: sum(sigmoid(W·x + b)).
W = rng.standard_normal((5, 7))
x = rng.standard_normal(7)
b = rng.standard_normal(5)
s = 1 / (1 + np.exp(-(W.dot(x) + b)))
dz = s * (1 - s)
save("sigmoid", W=W, x=x, b=b)
expected["sigmoid"] = {"value": s.sum(), "gradients": {
    "W": np.outer(dz, x).tolist(), "x": W.T.dot(dz).tolist(), "b": dz.tolist()}}

# 5. Broadcasting with mean: a scalar mean subtracted from every element, a
#    scalar gain, the variance-like mean of squares; upstream 2.
X = rng.standard_normal((4, 5))
a = np.array(1.5)
c = X - X.mean()
value = np.mean((a * c) ** 2)
dX = 2 * 2 * a**2 * (c - c.mean()) / X.size
da = 2 * np.mean(2 * a * c**2)
save("mean", X=X, a=a)
expected["mean"] = {"value": value, "gradients": {"X": dX.tolist(), "a": float(da)}}

# 6. transpose: Aᵀ @ B with a matrix upstream G: dA = B·Gᵀ, dB = A·G.
A = rng.standard_normal((4, 3))
B = rng.standard_normal((4, 5))
G = rng.standard_normal((3, 5))
save("transpose", A=A, B=B, G=G)
expected["transpose"] = {"value": (A.T @ B).tolist(), "gradients": {
    "A": (B @ G.T).tolist(), "B": (A @ G).tolist()}}

with open(f"{out}/expected.json", "w") as f:
    json.dump(expected, f)
"#;

/// One comparison: the case's name in numpy's script, the program, the names
/// read with `--at NAME=@FILE`, and the upstream gradient — a file's name or a
/// number, if not the default 1.
struct Case {
    name: &'static str,
    program: &'static str,
    params: &'static [&'static str],
    grad_file: Option<&'static str>,
    grad: Option<&'static str>,
}

const fn case(name: &'static str, program: &'static str, params: &'static [&'static str]) -> Case {
    Case {
        name,
        program,
        params,
        grad_file: None,
        grad: None,
    }
}

const CASES: &[Case] = &[
    case(
        "svm",
        "s = W·x; L(W, x, y) = sum(max(0, s − s[y] + 1)) − 1",
        &["W", "x", "y"],
    ),
    case(
        "rows",
        "L0(w0, w1, w2, x) = max(0, w1·x − w0·x + 1) + max(0, w2·x − w0·x + 1)",
        &["w0", "w1", "w2", "x"],
    ),
    Case {
        grad_file: Some("G"),
        ..case("matmul", "f(W, X) = W @ X", &["W", "X"])
    },
    case(
        "sigmoid",
        "f(W, x, b) = sum(sigmoid(W·x + b))",
        &["W", "x", "b"],
    ),
    Case {
        grad: Some("2"),
        ..case(
            "mean",
            "c = X - mean(X); f(X, a) = mean((a * c)^2)",
            &["X", "a"],
        )
    },
    Case {
        grad_file: Some("G"),
        ..case("transpose", "f(A, B) = transpose(A) @ B", &["A", "B"])
    },
];

fn numpy_available() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Every number of `got` within a relative 1e-9 of `want` (same nesting).
fn close(got: &Json, want: &Json, at: &str) {
    match (got, want) {
        (Json::Array(g), Json::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{at}: lengths differ");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                close(g, w, &format!("{at}[{i}]"));
            }
        }
        (g, w) => {
            let (g, w) = (g.as_f64(), w.as_f64());
            let (Some(g), Some(w)) = (g, w) else {
                panic!("{at}: expected numbers, got {got} and {want}");
            };
            let err = (g - w).abs() / w.abs().max(1.0);
            assert!(err < 1e-9, "{at}: the tool gives {g}, numpy {w}");
        }
    }
}

fn report(dir: &Path, c: &Case) -> Json {
    let file = |n: &str| {
        dir.join(format!("{}-{n}.npy", c.name))
            .display()
            .to_string()
    };
    let at: Vec<String> = c
        .params
        .iter()
        .map(|n| format!("{n}=@{}", file(n)))
        .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gradexplain"));
    cmd.args([c.program, "--format", "json", "--at", &at.join(",")]);
    if let Some(g) = c.grad_file {
        cmd.args(["--grad", &format!("@{}", file(g))]);
    }
    if let Some(x) = c.grad {
        cmd.args(["--grad", x]);
    }
    let out = cmd.output().expect("the binary runs");
    assert!(
        out.status.success(),
        "{}: {}",
        c.name,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[test]
fn gradients_agree_with_numpy() {
    if !numpy_available() {
        assert!(
            std::env::var_os("GRADEXPLAIN_CI").is_none(),
            "GRADEXPLAIN_CI is set but python3 cannot import numpy (.ci/run installs it)"
        );
        eprintln!("skipped: python3 with numpy is not available");
        return;
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("gradexplain-numpy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let py = std::process::Command::new("python3")
        .args(["-c", NUMPY])
        .arg(&dir)
        .output()
        .expect("python3 runs");
    assert!(
        py.status.success(),
        "numpy: {}",
        String::from_utf8_lossy(&py.stderr)
    );
    let expected: Json =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).expect("expected.json"))
            .expect("numpy's JSON");
    for c in CASES {
        let r = report(&dir, c);
        let want = &expected[c.name];
        close(&r["value"], &want["value"], &format!("{}: value", c.name));
        for (name, w) in want["gradients"].as_object().expect("gradients") {
            close(&r["gradients"][name], w, &format!("{}: d{name}", c.name));
        }
        if c.params.contains(&"y") {
            assert_eq!(
                r["gradients"]["y"],
                Json::Null,
                "{}: an index gets null",
                c.name
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
