//! The stages one by one — parse, lower, forward, backward — on the CS231n
//! notes' sigmoid neuron, then a check of the backward pass against centered
//! finite differences, built on the same public API.
//!
//!     cargo run --example stages

use gradexplain::{Value, eval, lower, parse};

fn main() -> Result<(), gradexplain::Error> {
    // The neuron of the notes: f = σ(w0·x0 + w1·x1 + w2), written with scalars.
    let program = parse("f(w0, x0, w1, x1, w2) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))")?;
    let circuit = lower(&program)?;
    let at = [2.0, -1.0, -3.0, -2.0, -3.0].map(Value::Scalar);

    let fwd = eval::forward(&circuit, &at)?;
    let bwd = eval::backward(&circuit, &fwd, &Value::Scalar(1.0))?;

    // Gate indices are a topological order: ascending is the forward pass.
    println!("gate                         value      grad");
    for g in circuit.gates() {
        let grad = bwd.grads[g.index()]
            .as_ref()
            .map_or("-".to_string(), Value::to_string);
        let (label, formula) = (circuit.label(g), circuit.formula(g));
        let what = if label == formula {
            label // an input or a constant
        } else {
            format!("{label} = {formula}")
        };
        println!(
            "{what:26} {:>8} {grad:>9}",
            fwd.values[g.index()].to_string()
        );
    }

    // Each parameter's gradient, against (f(p + h) - f(p - h)) / 2h.
    println!("\nparam   backward   finite difference");
    let grads = bwd.param_grads(&circuit, &fwd);
    let h = 1e-5;
    let output = |params: &[Value]| -> Result<f64, gradexplain::Error> {
        let fwd = eval::forward(&circuit, params)?;
        Ok(fwd.values[circuit.output.index()]
            .as_scalar()
            .unwrap_or(f64::NAN))
    };
    for (k, (param, grad)) in circuit.params.iter().zip(&grads).enumerate() {
        let shift = |d: f64| {
            let mut p = at.clone();
            p[k] = Value::Scalar(at[k].as_scalar().unwrap_or(0.0) + d);
            p
        };
        let numeric = (output(&shift(h))? - output(&shift(-h))?) / (2.0 * h);
        let backward = grad.as_ref().and_then(Value::as_scalar).unwrap_or(f64::NAN);
        assert!((backward - numeric).abs() < 1e-6, "{}", param.name);
        println!("{:6} {backward:9.5}   {numeric:9.5}", param.name);
    }
    Ok(())
}
