//! `--summary`: the results only. The JSON report keeps exactly the contract's
//! keys — `output`, `params`, `value`, `upstream`, `gradients`, `notes` — with
//! the same numbers as the full report; the text prints the result and the
//! gradients and nothing of the passes. Without it, a large circuit's text
//! stays bounded and says how to see the rest.

use assert_cmd::Command;
use serde_json::Value as Json;

fn gx() -> Command {
    let mut c = Command::cargo_bin("gradexplain").unwrap();
    c.env_remove("NO_COLOR");
    c
}

fn run(args: &[&str]) -> String {
    let out = gx().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn report(args: &[&str]) -> Json {
    serde_json::from_str(&run(&[args, &["--format", "json"]].concat())).unwrap()
}

fn keys(j: &Json) -> Vec<&str> {
    j.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Programs with forks, a kink, an unused and an index parameter, tensors.
const CASES: &[&[&str]] = &[
    &["f(x,y)=x*y", "--at", "x=3,y=-4", "--grad", "2"],
    &["q = x + y; f = q * q + max(x, y)", "--at", "x=1,y=1"],
    &["L(s, y, z) = s[y] * 2", "--at", "s=[1,2,3],y=1,z=5"],
    &[
        "L(W, x, y) = sum(max(0, W·x - (W·x)[y] + 1)) - 1",
        "--at",
        "W=[[0.2,-0.5],[1.5,1.3],[0,0.25]],x=[56,231],y=0",
    ],
    &["f(x) = log(x) * 1e999", "--at", "x=2"],
];

#[test]
fn summary_json_keeps_exactly_the_contract_keys_with_the_full_numbers() {
    for args in CASES {
        let full = report(args);
        let summary = report(&[args, &["--summary"][..]].concat());
        assert_eq!(
            keys(&summary),
            [
                "output",
                "params",
                "value",
                "upstream",
                "gradients",
                "notes"
            ],
            "{args:?}"
        );
        for k in keys(&summary) {
            assert_eq!(
                summary[k], full[k],
                "{args:?}: `{k}` differs from the full report"
            );
        }
        assert!(full.get("gates").is_some() && full.get("symbolic").is_some());
    }
}

#[test]
fn summary_json_without_values_has_no_numbers() {
    let r = report(&["f(x,y)=x*y", "--summary"]);
    assert_eq!(keys(&r), ["output", "params", "notes"]);
    assert_eq!(r["params"], serde_json::json!(["x", "y"]));
}

#[test]
fn summary_text_prints_the_results_only() {
    for args in CASES {
        let full = run(args);
        let summary = run(&[args, &["--summary"][..]].concat());
        for section in ["program", "forward pass", "backward pass", "derivatives"] {
            assert!(
                !summary.lines().any(|l| l.starts_with(section)),
                "{args:?}: `{section}` in the summary:\n{summary}"
            );
        }
        // The results are the full explanation's, line for line.
        let results = |s: &str| -> Vec<String> {
            s.lines()
                .skip_while(|l| !l.starts_with("result"))
                .take_while(|l| !l.starts_with("derivatives") && !l.starts_with("notes"))
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        assert!(!results(&summary).is_empty(), "{args:?}:\n{summary}");
        assert_eq!(results(&summary), results(&full), "{args:?}");
    }
    let s = run(&["f(x,y)=x*y", "--at", "x=3,y=-4", "--grad", "2", "--summary"]);
    assert_eq!(
        s,
        "result\n  f = -12\n\ngradients — ∂f/∂p · grad, with grad = 2\n  dx = -8\n  dy = 6\n"
    );
}

#[test]
fn summary_text_without_values_gives_the_hint_only() {
    let s = run(&["f(x,y)=x*y", "--summary"]);
    assert_eq!(s, "give values with --at x=…,y=… to see the numbers\n");
}

#[test]
fn a_large_circuit_text_is_bounded_and_says_how_to_see_the_rest() {
    let mut src = String::from("h0 = x0\n");
    for i in 1..=400 {
        src.push_str(&format!("h{i} = tanh(h{} * x1 + h{})\n", i - 1, i - 1));
    }
    let out = run(&[&src, "--at", "x0=0.5,x1=0.3"]);
    let more: Vec<&str> = out.lines().filter(|l| l.contains("more gates")).collect();
    assert_eq!(more.len(), 2, "one line for each pass:\n{more:?}");
    for l in &more {
        assert!(l.contains("--format json"), "{l}");
    }
    assert!(out.lines().count() < 400, "{} lines", out.lines().count());
}

/// `--summary` keeps only the results, through its own evaluation: its
/// errors are the full report's, word for word, with the same exit code.
#[test]
fn summary_errors_are_the_full_reports() {
    for args in [
        &["f(x) = log(x)", "--at", "x=-1"][..],
        &["f(x, y) = (x - y) / (x - y)", "--at", "x=1,y=1"],
        &["f(x) = (-2) ^ x", "--at", "x=[0.5, 1]"],
        &["f(x, y) = x * y", "--at", "x=1"],
        &["f(x) = x * 2", "--at", "x=1", "--grad", "[1, 2]"],
    ] {
        let full = gx().args(args).output().unwrap();
        let summary = gx()
            .args([args, &["--summary"][..]].concat())
            .output()
            .unwrap();
        assert!(!full.status.success(), "{args:?} should fail");
        assert_eq!(summary.status.code(), full.status.code(), "{args:?}");
        assert_eq!(summary.stderr, full.stderr, "{args:?}");
        assert!(summary.stdout.is_empty(), "{args:?}");
    }
}
