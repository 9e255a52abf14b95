//! The backward pass against centered finite differences, on generated programs
//! over every scalar built-in (and on the notes' circuits).

use gradexplain::gate::Op;
use gradexplain::input::Assignment;
use gradexplain::{Analysis, Span, Value};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

mod common;
use common::{VARS, expr, ours};

fn assign(point: &[f64]) -> Vec<Assignment> {
    VARS.iter()
        .zip(point)
        .map(|(n, x)| Assignment {
            name: n.to_string(),
            value: Value::Scalar(*x),
            source: "".into(),
            span: Span::default(),
        })
        .collect()
}

/// The output at `point`, or `None` where the program cannot be evaluated.
fn eval(a: &mut Analysis, point: &[f64]) -> Option<f64> {
    let at: Vec<_> = assign(point)
        .into_iter()
        .filter(|s| a.circuit.params.iter().any(|p| p.name == s.name))
        .collect();
    a.evaluate(&at, &Value::Scalar(1.0)).ok()?;
    let n = a.numeric.as_ref()?;
    n.forward.values[a.circuit.output.index()].as_scalar()
}

/// True when some gate sits within `eps` of a kink or a singularity, where finite
/// differences straddle two pieces and prove nothing.
fn near_trouble(a: &Analysis, eps: f64) -> bool {
    let n = a.numeric.as_ref().unwrap();
    let v = |g: gradexplain::GateId| n.forward.values[g.index()].as_scalar().unwrap_or(f64::NAN);
    a.circuit.gates().any(|g| {
        let ins = a.circuit.inputs(g);
        let out = v(g);
        if !out.is_finite() || out.abs() > 1e6 {
            return true;
        }
        match a.circuit.op(g) {
            Op::Relu | Op::Abs | Op::Step | Op::Sign | Op::Log | Op::Sqrt => v(ins[0]).abs() < eps,
            Op::Max | Op::Min => (v(ins[0]) - v(ins[1])).abs() < eps,
            Op::Div => v(ins[1]).abs() < 1e-2,
            Op::Pow => v(ins[0]).abs() < 1e-2,
            _ => false,
        }
    })
}

/// Compares the backward pass with centered differences; `Err` explains a mismatch.
fn check(src: &str, point: &[f64]) -> Result<bool, String> {
    let Ok(mut a) = Analysis::new(src) else {
        return Ok(false);
    };
    if eval(&mut a, point).is_none() || near_trouble(&a, 1e-3) {
        return Ok(false);
    }
    let n = a.numeric.clone().unwrap();
    let grads = n.backward.param_grads(&a.circuit, &n.forward);
    let params: Vec<String> = a.circuit.params.iter().map(|p| p.name.clone()).collect();
    for (p, g) in params.iter().zip(grads) {
        let k = VARS.iter().position(|v| v == p).unwrap();
        let mut centered = |h: f64| {
            let (mut up, mut down) = (point.to_vec(), point.to_vec());
            up[k] += h;
            down[k] -= h;
            Some((eval(&mut a, &up)? - eval(&mut a, &down)?) / (2.0 * h))
        };
        let (Some(d1), Some(d2)) = (centered(1e-6), centered(5e-7)) else {
            return Ok(false);
        };
        // Two differences that disagree in the third digit say the function
        // turns too fast at this scale for them to referee: their h² term is
        // that large, and what Richardson's extrapolation leaves (h⁴) may be
        // past the tolerance (`sin(y ^ x)` at y = 0.016, x = -1.95, where
        // the derivative is 10⁵ and the third derivative 10¹⁶).
        let scale = g
            .as_ref()
            .and_then(|g| g.as_scalar())
            .unwrap_or(0.0)
            .abs()
            .max(d2.abs())
            .max(1.0);
        if (d1 - d2).abs() / scale > 1e-3 {
            return Ok(false);
        }
        // Richardson's extrapolation cancels the differences' h² error, which
        // where the function turns fast (`exp(cos(y / x))` at x = -0.017) was
        // larger than the tolerance.
        let numeric = (4.0 * d2 - d1) / 3.0;
        let analytic = g.and_then(|g| g.as_scalar()).unwrap();
        let scale = analytic.abs().max(numeric.abs()).max(1.0);
        if (analytic - numeric).abs() / scale > 1e-5 {
            return Err(format!(
                "{src} at {point:?}: d{p} backward {analytic}, centered difference {numeric}"
            ));
        }
    }
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn backward_matches_centered_differences(e in expr(), point in prop::array::uniform3(-2.0f64..2.0)) {
        let src = ours(&e);
        if let Err(msg) = check(&src, &point) {
            prop_assert!(false, "{}", msg);
        }
    }
}

#[test]
fn most_generated_programs_are_actually_checked() {
    // The property above skips programs that hit a domain error or sit on a kink;
    // make sure that skipping does not quietly become the rule.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut checked, mut total) = (0, 0);
    for _ in 0..300 {
        let e = expr().new_tree(&mut runner).unwrap().current();
        let p = prop::array::uniform3(-2.0f64..2.0)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        total += 1;
        if check(&ours(&e), &p).expect("gradients agree") {
            checked += 1;
        }
    }
    assert!(
        checked * 2 > total,
        "only {checked} of {total} generated programs were checked"
    );
}

#[test]
fn notes_circuits_match_centered_differences() {
    let cases: [(&str, &[f64]); 4] = [
        ("x*y", &[3.0, -4.0]),
        ("(x+y)*z", &[-2.0, 5.0, -4.0]),
        ("(x + σ(y)) / (σ(x) + (x+y)^2)", &[3.0, -4.0]),
        (
            "z = x*y; w = tanh(z) * z + exp(-x*x) * y; w / (1 + z^2)",
            &[0.7, -1.3],
        ),
    ];
    for (src, point) in cases {
        assert!(check(src, point).unwrap(), "{src} was not checked");
    }
}

/// Found by the property above: plain centered differences were off by 3e-5
/// here, the function turning fast; extrapolated, they agree.
#[test]
fn a_fast_turning_function_is_checked() {
    let point = [-0.016807054807038247, -1.8926293389886768, 0.0];
    assert_eq!(check("exp(cos((y) / (x)))", &point), Ok(true));
}
