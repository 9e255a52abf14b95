//! Depth and size: no stage recurses over how deep or long a program is.
//!
//! Each 100 000-deep shape — nested brackets, a chain of unary minus, nested
//! calls, a right-associative power tower, nested `max`, nested indexing — goes
//! through every stage of the library (parse, print back, lower, evaluate,
//! explain as text, the JSON report, symbolic derivatives printed as a program
//! that reads back, LaTeX, drop) on a thread with a 1 MiB stack: a recursion over the
//! depth would need far more (100 000 frames of even 16 bytes is 1.6 MB) and
//! overflow it. The binary then runs the same shapes, a 100 000-stage program,
//! and — `#[ignore]`d, it takes minutes in a debug build — a 1 000 000-stage one
//! (`cargo test --release --test depth -- --ignored`).

use assert_cmd::Command;
use gradexplain::symbolic::Symbolic;
use gradexplain::{Analysis, Value};
use serde_json::Value as Json;

const DEEP: usize = 100_000;

/// Runs `f` on a thread whose stack is 1 MiB.
fn on_small_stack(name: &str, f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|_| panic!("{name}: panicked (a stack overflow aborts instead)"));
}

/// The deep shapes, each with the value and gradient at x = 0.5 that a short
/// loop computes independently.
fn shapes() -> Vec<(&'static str, String)> {
    vec![
        (
            "brackets",
            format!("{}x{}", "(".repeat(DEEP), ")".repeat(DEEP)),
        ),
        ("unary minus", format!("{}x", "-".repeat(DEEP))),
        (
            "calls",
            format!("{}x{}", "sin(".repeat(DEEP), ")".repeat(DEEP)),
        ),
        ("power tower", vec!["x"; DEEP].join("^")),
        (
            "max of max",
            format!("{}x{}", "max(0, ".repeat(DEEP), ")".repeat(DEEP)),
        ),
    ]
}

/// The same functions, evaluated by a loop: (value, d/dx) at x.
fn reference(shape: &str, x: f64) -> (f64, f64) {
    // How many gates wrap x: a power tower of DEEP x's has DEEP - 1.
    let levels = match shape {
        "brackets" => 0,
        "power tower" => DEEP - 1,
        _ => DEEP,
    };
    let (mut v, mut d) = (x, 1.0);
    for _ in 0..levels {
        (v, d) = match shape {
            "unary minus" => (-v, -d),
            "calls" => (v.sin(), v.cos() * d),
            // x^v: d = v·x^(v−1) + x^v·ln(x)·dv
            "power tower" => {
                let p = x.powf(v);
                (p, v * x.powf(v - 1.0) + p * x.ln() * d)
            }
            "max of max" if v > 0.0 => (v, d),
            "max of max" => (0.0, 0.0),
            _ => unreachable!(),
        };
    }
    (v, d)
}

/// Every stage of the library on one deep shape, on a 1 MiB stack.
fn all_stages(shape: &'static str) {
    let (name, src) = shapes().into_iter().find(|(n, _)| *n == shape).unwrap();
    {
        on_small_stack(name, move || {
            let mut a = Analysis::new(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
            let body = a.program.stmts[0].body;
            let printed = a.program.ast.to_source(body);
            let again = gradexplain::parse(&printed).unwrap();
            assert_eq!(
                again.ast.bracketed(again.stmts[0].body),
                a.program.ast.bracketed(body),
                "{name}: printed back"
            );
            a.evaluate_with(&[("x", Value::Scalar(0.5))], 1.0)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let (v, d) = reference(name, 0.5);
            let got_v = a.value().unwrap().as_scalar().unwrap();
            let got_d = a.gradient("x").unwrap().as_scalar().unwrap();
            assert!(
                (got_v - v).abs() <= 1e-12 * v.abs().max(1.0),
                "{name}: value {got_v} vs {v}"
            );
            assert!(
                (got_d - d).abs() <= 1e-9 * d.abs().max(1.0),
                "{name}: d/dx {got_d} vs {d}"
            );
            let text = a.explain();
            assert!(text.contains("gradients"), "{name}");
            let json = serde_json::to_string(&a.report()).unwrap();
            let back: Json = serde_json::from_str(&json).unwrap();
            assert!(back["gates"].as_array().unwrap().len() >= 2 || name == "brackets");
            // Symbolic derivatives: differentiate, simplify, print as a program that
            // reads back and gives the same number, and as LaTeX.
            let s = Symbolic::new(&a);
            let program = s.programs[0]
                .clone()
                .unwrap_or_else(|| panic!("{name}: none"));
            let mut d = Analysis::new(&program).unwrap_or_else(|e| panic!("{name}: {e}"));
            let names: Vec<String> = d.circuit.params.iter().map(|p| p.name.clone()).collect();
            let at: Vec<(&str, Value)> = names
                .iter()
                .map(|n| (n.as_str(), Value::Scalar(0.5)))
                .collect();
            d.evaluate_with(&at, 1.0)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let sym = d.value().unwrap().as_scalar().unwrap();
            let tol = 1e-9 * got_d.abs().max(1.0);
            assert!(
                (sym - got_d).abs() <= tol,
                "{name}: symbolic {sym} vs {got_d}"
            );
            let latex = gradexplain::explain::latex::document(&a, &s);
            assert!(latex.contains("\\partial"), "{name}");
            // The command line's own path: the text with its symbolic derivatives.
            let cli = gradexplain::cli::parse_from(["gradexplain", "--at", "x=0.5"]).unwrap();
            let text =
                gradexplain::app::render(&src, &cli).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(text.contains("df_dx"), "{name}: the derivative is shown");
            drop((a, s, d)); // dropping the deep program must not recurse either
        });
    }
}

// One test per shape, so that they run in parallel.
#[test]
fn brackets_100_000_deep() {
    all_stages("brackets");
}

#[test]
fn unary_minus_100_000_deep() {
    all_stages("unary minus");
}

#[test]
fn calls_100_000_deep() {
    all_stages("calls");
}

#[test]
fn power_tower_100_000_deep() {
    all_stages("power tower");
}

#[test]
fn max_of_max_100_000_deep() {
    all_stages("max of max");
}

#[test]
fn dot_of_a_deep_chain() {
    // DOT stops at 50 000 gates (Graphviz would take minutes); just below it.
    let src = format!("{}x{}", "exp(".repeat(45_000), ")".repeat(45_000));
    on_small_stack("dot", move || {
        let mut a = Analysis::new(&src).unwrap();
        a.evaluate_with(&[("x", Value::Scalar(-1.0))], 1.0).unwrap();
        let dot = gradexplain::draw::dot_text(&a, &Default::default()).unwrap();
        assert!(dot.matches("->").count() >= 45_000);
    });
}

#[test]
fn deep_nested_indexing() {
    // v[v[v[…v[0]…]]] with v = [1, 0]: the index alternates, and each level is a gate.
    let src = format!("f(v) = {}0{}", "v[".repeat(DEEP), "]".repeat(DEEP));
    on_small_stack("indexing", move || {
        let mut a = Analysis::new(&src).unwrap();
        let v: Value = ndarray::array![1.0, 0.0].into();
        a.evaluate_with(&[("v", v)], 1.0).unwrap();
        // DEEP is even: the innermost v[0] = 1, then v[1] = 0, … ends on v[1] = 0.
        assert_eq!(a.value(), Some(&Value::Scalar(0.0)));
        // Only the outermost element reaches the output; an index carries no gradient.
        assert_eq!(a.gradient("v"), Some(ndarray::array![0.0, 1.0].into()));
        let _ = a.explain();
        let _ = serde_json::to_string(&a.report()).unwrap();
    });
}

fn gx() -> Command {
    let mut c = Command::cargo_bin("gradexplain").unwrap();
    c.env_remove("NO_COLOR");
    c
}

/// Runs the binary on `src` (from standard input) and returns its standard output.
fn run(src: &str, args: &[&str]) -> String {
    let out = gx()
        .args(["-f", "-"])
        .args(args)
        .write_stdin(src.as_bytes().to_vec())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_binary_takes_every_deep_shape() {
    // The library tests above run every stage on each shape; here the binary's
    // own code (reading, the views, writing) runs on each. `--summary` skips
    // what those tests have covered, which takes long in a debug build.
    for (name, src) in shapes() {
        let text = run(&src, &["--at", "x=0.5", "--summary"]);
        let (_, d) = reference(name, 0.5);
        let want = format!("dx = {}", gradexplain::value::fmt_num(d));
        assert!(
            text.contains(&want),
            "{name}: no `{want}` in …{}",
            tail(&text)
        );
    }
    // Every view, on the cheapest shape.
    let src = &shapes()[1].1;
    run(src, &[]); // without values: the symbolic explanation
    run(src, &["--at", "x=0.5"]);
    run(src, &["--format", "latex"]);
    let json = run(src, &["--at", "x=0.5", "--format", "json"]);
    let r: Json = serde_json::from_str(&json).unwrap();
    // x, and DEEP negations.
    assert_eq!(r["gates"].as_array().unwrap().len(), DEEP + 1);
    assert_eq!(r["symbolic"]["x"], "df_dx(x) = 1");
}

fn tail(s: &str) -> &str {
    let mut i = s.len().saturating_sub(400);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[i..]
}

/// `h0 = x; h1 = tanh(h0*y + h0); …` with `stages` lines, and the gradients a
/// loop computes for it at (x, y).
fn staged(stages: usize, x: f64, y: f64) -> (String, f64, f64) {
    let mut src = String::with_capacity(stages * 36);
    src.push_str("h0 = x\n");
    let (mut h, mut dx, mut dy) = (x, 1.0, 0.0);
    for i in 1..stages {
        src.push_str(&format!("h{i} = tanh(h{p}*y + h{p})\n", p = i - 1));
        let t = (h * y + h).tanh();
        let local = 1.0 - t * t;
        // h' = tanh(h(y + 1)): dh'/dh = local·(y + 1), dh'/dy = local·h.
        (dx, dy) = (local * (y + 1.0) * dx, local * ((y + 1.0) * dy + h));
        h = t;
    }
    (src, dx, dy)
}

fn check_staged(stages: usize) {
    let (src, dx, dy) = staged(stages, 0.5, 0.1);
    let r: Json = serde_json::from_str(&run(
        &src,
        &["--at", "x=0.5,y=0.1", "--format", "json", "--summary"],
    ))
    .unwrap();
    assert_eq!(r["output"], format!("h{}", stages - 1));
    let got = |n: &str| r["gradients"][n].as_f64().unwrap();
    assert!(
        (got("y") - dy).abs() <= 1e-9 * dy.abs(),
        "dy {} vs {dy}",
        got("y")
    );
    // dx shrinks by 0.82 a stage and underflows: compare it absolutely near 0.
    assert!(
        (got("x") - dx).abs() <= 1e-9 * dx.abs() + 1e-300,
        "dx {} vs {dx}",
        got("x")
    );
    let text = run(&src, &["--at", "x=0.5,y=0.1"]);
    assert!(
        text.contains(&format!("h{} =", stages - 1)),
        "{}",
        tail(&text)
    );
    assert!(
        text.contains("more gates"),
        "a long pass is cut short: {}",
        tail(&text)
    );
}

#[test]
fn a_100_000_stage_program() {
    check_staged(100_000);
}

#[test]
#[ignore = "a minute or more in a debug build: cargo test --release --test depth -- --ignored"]
fn a_1_000_000_stage_program() {
    check_staged(1_000_000);
}
