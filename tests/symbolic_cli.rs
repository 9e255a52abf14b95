//! The symbolic views through the command line: the text explanation with and
//! without values, the LaTeX derivation, the JSON `symbolic` and `check` keys,
//! and `--check`'s verdicts and exit codes. What people read is snapshotted.

use assert_cmd::Command;
use clap::Parser;
use gradexplain::cli::Cli;

fn run(args: &[&str]) -> String {
    let mut all = vec!["gradexplain", "--color", "never"];
    all.extend_from_slice(args);
    let cli = Cli::try_parse_from(all).unwrap();
    gradexplain::app::run(&cli).unwrap_or_else(|e| panic!("{}", e.message))
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    serde_json::from_str(&run(&all)).unwrap()
}

#[test]
fn symbolic_mode_text() {
    insta::assert_snapshot!(run(&["f(x) = x * sigmoid(x)"]));
}

#[test]
fn numbers_and_derivatives_text() {
    insta::assert_snapshot!(run(&["q = x + y; f = q * z", "--at", "x=-2,y=5,z=-4"]));
}

#[test]
fn forked_chain_program() {
    let out = json(&["h1 = tanh(h0*x + h0); h2 = tanh(h1*x + h1); h3 = tanh(h2*x + h2)"]);
    insta::assert_snapshot!(out["symbolic"]["x"].as_str().unwrap());
}

#[test]
fn latex_of_the_notes_example() {
    insta::assert_snapshot!(run(&["q = x + y; f = q * z", "--format", "latex"]));
}

#[test]
fn latex_of_the_sigmoid_neuron() {
    insta::assert_snapshot!(run(&[
        "f(w0, x0, w1, x1, w2) = 1/(1+exp(-(w0*x0+w1*x1+w2)))",
        "--at",
        "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
        "--format",
        "latex"
    ]));
}

#[test]
fn latex_has_a_partial_fraction_per_parameter() {
    let out = run(&["f(α, x_1) = α * exp(x_1)", "--format", "latex"]);
    assert!(
        out.contains("\\frac{\\partial f}{\\partial \\alpha} &= \\exp\\left(x_{1}\\right)"),
        "{out}"
    );
    assert!(
        out.contains("\\frac{\\partial f}{\\partial x_{1}} &="),
        "{out}"
    );
}

#[test]
fn json_symbolic_with_and_without_values() {
    let without = json(&["f(x, y) = x * y"]);
    assert_eq!(without["symbolic"]["x"], "df_dx(x, y) = y");
    assert!(without.get("value").is_none());
    let with = json(&["f(x,y)=x*y", "--at", "x=3,y=-4", "--grad", "2"]);
    assert_eq!(with["symbolic"]["y"], "df_dy(x, y) = x");
    assert_eq!(with["gradients"]["x"], -8);
    let summary = json(&["f(x,y)=x*y", "--at", "x=3,y=-4", "--summary"]);
    assert!(summary.get("symbolic").is_none());
    // A tensor output's derivative is a VJP with the upstream gradient `grad`.
    let t = json(&["f(W, x) = W · x", "--at", "W=[[1, 2], [3, 4]],x=[1, 1]"]);
    assert_eq!(t["symbolic"]["W"], "df_dW(W, x, grad) = outer(grad, x)");
    assert_eq!(
        t["symbolic"]["x"],
        "df_dx(W, x, grad) = transpose(W) · grad"
    );
}

#[test]
fn check_in_json_and_text() {
    let j = json(&["f(x,y)=x*y", "--at", "x=3,y=-4", "--grad", "2", "--check"]);
    assert_eq!(j["check"]["ok"], true);
    assert!(j["check"]["max_rel_error"].as_f64().unwrap() < 1e-9);
    assert_eq!(
        (&j["check"]["checked"], &j["check"]["not_counted"]),
        (&2.into(), &0.into())
    );
    let t = run(&[
        "f(x) = sin(x) * exp(x)",
        "--at",
        "x=0.5",
        "--check",
        "--summary",
    ]);
    let line = t
        .lines()
        .find(|l| l.starts_with("gradient check:"))
        .unwrap();
    assert!(line.ends_with("— ok"), "{t}");
    // A kink within the step is flagged, not failed.
    let k = json(&["f(x) = relu(x) + abs(x)", "--at", "x=0", "--check"]);
    assert_eq!(k["check"]["ok"], true);
    // Nothing failed, and nothing was compared: the counts say so.
    assert_eq!(
        (&k["check"]["checked"], &k["check"]["not_counted"]),
        (&0.into(), &1.into())
    );
    let t = run(&["f(x) = relu(x) + abs(x)", "--at", "x=0", "--check"]);
    assert!(
        t.contains("— nothing failed, but no element could be compared"),
        "{t}"
    );
    let t = run(&["f(x, y) = relu(x) + y", "--at", "x=0,y=1", "--check"]);
    assert!(
        t.contains("— ok (1 element compared, 1 element not counted"),
        "{t}"
    );
    let notes = k["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n.as_str().unwrap().contains("kink")),
        "{notes:?}"
    );
}

#[test]
fn check_exit_codes() {
    let bin = || Command::cargo_bin("gradexplain").unwrap();
    let out = bin()
        .args(["f(x) = x^2", "--at", "x=3", "--check"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("gradient check: max relative error"),
        "{text}"
    );
    // Without values there is nothing to compare: the missing value is an error.
    bin()
        .args(["f(x) = x^2", "--check"])
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn derivative_programs_feed_back_through_the_binary() {
    let bin = || Command::cargo_bin("gradexplain").unwrap();
    let out = bin()
        .args(["f(x, y) = x^2 * y + sin(y)", "--format", "json"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dx = j["symbolic"]["x"].as_str().unwrap().to_string();
    let out = bin()
        .args([dx.as_str(), "--at", "x=1.5,y=-2", "--format", "json"])
        .output()
        .unwrap();
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // ∂f/∂x = 2xy = -6; ∂²f/∂x² = 2y = -4; ∂²f/∂x∂y = 2x = 3.
    assert_eq!(d["value"], -6);
    assert_eq!(d["gradients"]["x"], -4);
    assert_eq!(d["gradients"]["y"], 3);
}

/// `--grad` without values scales nothing: a note says so, rather than the
/// option vanishing without a word; where the program is evaluated anyway
/// (no parameters), it is used, and there is nothing to say.
#[test]
fn grad_without_values_is_noted() {
    let j = json(&["f(x) = x * 2", "--grad", "3"]);
    assert!(j.get("upstream").is_none(), "{j}");
    assert!(
        j["notes"]
            .to_string()
            .contains("--grad has no effect without values"),
        "{j}"
    );
    let j = json(&["f(x) = x * 2"]);
    assert_eq!(j["notes"], serde_json::json!([]));
    let j = json(&["2 * 3", "--grad", "3"]);
    assert_eq!(j["upstream"], 3);
    assert_eq!(j["notes"], serde_json::json!([]));
}
