//! The scalar lane (`src/eval/lane.rs`) against the general passes, on
//! generated programs over every scalar built-in: values, gradients, what flowed
//! along each edge, kinks and notes must be the same, bit for bit, and so must
//! the results alone (`eval::results`, for `--summary`). The points
//! are small halves, so ties, zeros and domain errors are common.

use gradexplain::eval::{
    Results, backward_with, forward, general_backward, general_forward, results,
};
use gradexplain::{Analysis, Value};
use proptest::prelude::*;

mod common;
use common::{VARS, expr, ours};

fn point() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-4i32..=4).prop_map(|k| f64::from(k) / 2.0), 3)
}

fn run(src: &str, point: &[f64], grad: f64, edges: bool) -> Result<(), TestCaseError> {
    let Ok(a) = Analysis::new(src) else {
        return Ok(());
    };
    let c = &a.circuit;
    let params: Vec<Value> = c
        .params
        .iter()
        .map(|p| Value::Scalar(point[VARS.iter().position(|v| *v == p.name).unwrap()]))
        .collect();
    let up = Value::Scalar(grad);
    // The results alone (`--summary`), kept as bare numbers where the lane
    // runs: the general passes' results, bit for bit, or their error.
    let summary = results(c, &params, &up);
    let general_results = general_forward(c, &params)
        .and_then(|f| general_backward(c, &f, &up, false).map(|b| Results::of(c, &f, &b)));
    prop_assert_eq!(format!("{summary:?}"), format!("{general_results:?}"));
    let lane = forward(c, &params);
    let general = general_forward(c, &params);
    prop_assert_eq!(
        format!("{:?}", lane.as_ref().err()),
        format!("{:?}", general.as_ref().err())
    );
    let (Ok(lf), Ok(gf)) = (lane, general) else {
        return Ok(());
    };
    prop_assert_eq!(format!("{:?}", lf.values), format!("{:?}", gf.values));
    prop_assert_eq!(&lf.shapes, &gf.shapes);
    prop_assert_eq!(&lf.notes, &gf.notes);
    let lb = backward_with(c, &lf, &up, edges);
    let gb = general_backward(c, &gf, &up, edges);
    prop_assert_eq!(
        format!("{:?}", lb.as_ref().err()),
        format!("{:?}", gb.as_ref().err())
    );
    let (Ok(lb), Ok(gb)) = (lb, gb) else {
        return Ok(());
    };
    prop_assert_eq!(format!("{:?}", lb.grads), format!("{:?}", gb.grads));
    prop_assert_eq!(
        format!("{:?}", lb.edge_grads),
        format!("{:?}", gb.edge_grads)
    );
    prop_assert_eq!(&lb.kinks, &gb.kinks);
    prop_assert_eq!(&lb.notes, &gb.notes);
    prop_assert_eq!(&lb.upstream, &gb.upstream);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn the_lane_computes_what_the_general_passes_compute(
        e in expr(),
        p in point(),
        grad in prop_oneof![Just(1.0), Just(-2.0), Just(0.0)],
        edges in any::<bool>(),
    ) {
        run(&ours(&e), &p, grad, edges)?;
    }
}

/// Forks, a kink on the path and one off it, and a stage used three times.
#[test]
fn forks_and_kinks() {
    for (src, p) in [
        (
            "a = x * y; b = max(a, x); relu(b - 1) + b * a",
            [1.0, 1.0, 0.0],
        ),
        (
            "a = x * y; b = max(a, x); relu(b - 1) + b * a",
            [2.0, 0.5, 0.0],
        ),
        ("h = tanh(x * y + x); g = h * h; g + h", [0.5, 0.5, 0.0]),
        ("s = abs(x) + sign(y) + step(z); s * s * s", [0.0, 0.0, 0.0]),
        ("log(x) + sqrt(y) + x / y + y ^ z", [0.5, 2.0, 0.5]),
        // `z` only feeds a dead stage: no gradient reaches it, and it gets 0.
        ("a = z * 2; x * y", [0.5, 2.0, 1.0]),
    ] {
        run(src, &p, 1.0, true).unwrap();
    }
}
