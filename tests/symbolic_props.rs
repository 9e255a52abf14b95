//! Property tests on generated programs: for random scalar programs over the
//! built-ins (with forks: stages used more than once), the symbolic derivative
//! evaluated at a random point, the numeric backward pass and centered finite
//! differences all agree — and so do the derivative's own derivatives.

use gradexplain::check::check;
use gradexplain::symbolic::Symbolic;
use gradexplain::{Analysis, Value, input::parse_assignments};
use proptest::prelude::*;

/// Templates that stay inside every function's domain for any real `a`, `b`.
const TEMPLATES: &[&str] = &[
    "{a} + {b}",
    "{a} - {b}",
    "{a} * {b}",
    "{a} / (1 + {b} ^ 2)",
    "-{a}",
    "{a} ^ 2",
    "tanh({a}) ^ 3",
    "exp(tanh({a}))",
    "log(1 + {a} ^ 2)",
    "sqrt(1 + {a} * {a})",
    "sigmoid({a})",
    "σ({a}) * {b}",
    "tanh({a})",
    "sin({a})",
    "cos({a}) * {a}",
    "max({a}, {b})",
    "min({a}, {b})",
    "relu({a})",
    "abs({a})",
    "pow(1 + {a} ^ 2, tanh({b}))",
    "{c} * {a} + {b}",
    "{a} * {a} + {b} / 2",
    "max({a}, {b}, {c})",
];

#[derive(Clone, Debug)]
struct Stage {
    template: usize,
    a: usize,
    b: usize,
    c: f64,
}

fn program(params: usize, stages: &[Stage]) -> String {
    let name = |k: usize| {
        if k < params {
            format!("x{k}")
        } else {
            format!("s{}", k - params)
        }
    };
    let header: Vec<String> = (0..params).map(name).collect();
    let mut lines = Vec::new();
    for (k, st) in stages.iter().enumerate() {
        let avail = params + k;
        let body = TEMPLATES[st.template]
            .replace("{a}", &name(st.a % avail))
            .replace("{b}", &name(st.b % avail))
            .replace("{c}", &format!("({})", st.c));
        lines.push(if k + 1 == stages.len() {
            format!("f({}) = {body}", header.join(", "))
        } else {
            format!("s{k} = {body}")
        });
    }
    lines.join("\n")
}

fn stages() -> impl Strategy<Value = Vec<Stage>> {
    prop::collection::vec(
        (0..TEMPLATES.len(), 0usize..100, 0usize..100, -2.0f64..2.0).prop_map(
            |(template, a, b, c)| Stage {
                template,
                a,
                b,
                c: (c * 4.0).round() / 4.0,
            },
        ),
        1..8,
    )
}

fn at(values: &[f64]) -> String {
    values
        .iter()
        .enumerate()
        .map(|(k, v)| format!("x{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn evaluate(src: &str, at: &str) -> Option<Analysis> {
    let mut a = Analysis::new(src).unwrap_or_else(|e| panic!("{src}\n{}", e.message));
    a.evaluate(&parse_assignments(at).unwrap(), &Value::Scalar(1.0))
        .ok()?;
    let n = a.numeric.as_ref()?;
    let out = n.forward.values[a.circuit.output.index()].as_scalar()?;
    (out.is_finite() && out.abs() < 1e8).then_some(a)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn symbolic_numeric_and_finite_differences_agree(
        params in 1usize..4,
        stages in stages(),
        values in prop::collection::vec(-1.5f64..1.5, 3),
    ) {
        let src = program(params, &stages);
        let at = at(&values[..params]);
        // The derivatives are built without values: symbolic mode.
        let s = Symbolic::new(&Analysis::new(&src).unwrap());
        let Some(a) = evaluate(&src, &at) else { return Ok(()); };
        let n = a.numeric.as_ref().unwrap();
        let grads = n.backward.param_grads(&a.circuit, &n.forward);
        let k = check(&a).unwrap();
        prop_assert!(k.ok, "{src}\nat {at}: backward vs finite differences {k:?}");
        for (p, prog) in s.programs.iter().enumerate() {
            let prog = prog.as_ref().expect("a scalar program has every derivative");
            let d = evaluate(prog, &at);
            let expected = grads[p].as_ref().unwrap().as_scalar().unwrap();
            let Some(d) = d else {
                prop_assert!(false, "{src}\nderivative {prog}\ncannot be evaluated at {at}");
                unreachable!()
            };
            let got = d.numeric.as_ref().unwrap().forward.values[d.circuit.output.index()]
                .as_scalar()
                .unwrap();
            prop_assert!(
                (got - expected).abs() <= 1e-9 * (1.0 + expected.abs()),
                "{src}\nat {at}: ∂f/∂x{p} = {got} by\n{prog}\nbut {expected} by the backward pass"
            );
            // Its own derivative is the second derivative.
            let k2 = check(&d).unwrap();
            prop_assert!(k2.ok, "{src}\nsecond derivatives through\n{prog}\n{k2:?}");
        }
    }
}

/// Templates over vectors, matrices and scalars; shape errors are skipped.
const TENSOR_TEMPLATES: &[&str] = &[
    "{a} + {b}",
    "{a} * {b}",
    "{a} - 2 * {b}",
    "tanh({a}) * {b}",
    "max(0, {a})",
    "sigmoid({a})",
    "{a} · {b}",
    "sum({a})",
    "mean({a} * {a})",
    "outer({a}, {b})",
    "transpose({a})",
    "{a}[1]",
    "exp(tanh({a}))",
    "{a} / (1 + {b} ^ 2)",
];

fn tensor_program(stages: &[Stage]) -> String {
    let params = ["v", "w", "M", "s"];
    let name = |k: usize| {
        if k < params.len() {
            params[k].to_string()
        } else {
            format!("t_{}", k - params.len())
        }
    };
    let mut lines = Vec::new();
    for (k, st) in stages.iter().enumerate() {
        let avail = params.len() + k;
        let body = TENSOR_TEMPLATES[st.template % TENSOR_TEMPLATES.len()]
            .replace("{a}", &name(st.a % avail))
            .replace("{b}", &name(st.b % avail));
        lines.push(if k + 1 == stages.len() {
            format!("f(v, w, M, s) = {body}")
        } else {
            format!("t_{k} = {body}")
        });
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn tensor_vector_jacobian_products_agree(stages in stages(), g in -2.0f64..2.0) {
        let src = tensor_program(&stages);
        let at = "v=[0.5, -1, 1.5],w=[1, 0.25, -0.5],M=[[1, -2, 0.5], [0.3, 0.7, -1], [2, 1, 0]],s=0.8";
        let Ok(mut a) = Analysis::new(&src) else { return Ok(()); };
        let vals = parse_assignments(at).unwrap();
        let Ok(params) = a.bind(&vals) else { return Ok(()); };
        let shapes: Vec<_> = params.iter().map(Value::shape).collect();
        let Ok(gate_shapes) = gradexplain::eval::infer_shapes(&a.circuit, &shapes) else {
            return Ok(());
        };
        // An upstream gradient of the output's shape, not all equal.
        let out_shape = gate_shapes[a.circuit.output.index()];
        let grad = match Value::filled(out_shape, 0.0) {
            Value::Scalar(_) => Value::Scalar(g),
            Value::Tensor(t) => {
                let mut t = *t;
                for (k, x) in t.iter_mut().enumerate() {
                    *x = g + 0.5 * k as f64;
                }
                Value::from_array(t)
            }
        };
        if a.evaluate(&vals, &grad).is_err() { return Ok(()); }
        let n = a.numeric.as_ref().unwrap();
        let grads = n.backward.param_grads(&a.circuit, &n.forward);
        let s = Symbolic::new(&a);
        let grad_text = gradexplain::explain::json::value(&grad).to_string();
        for (p, prog) in s.programs.iter().enumerate() {
            let Some(prog) = prog else { continue };
            let at = if out_shape.is_scalar() {
                at.to_string()
            } else {
                format!("{at},grad={grad_text}")
            };
            let mut d = Analysis::new(prog).unwrap_or_else(|e| panic!("{prog}\n{}", e.message));
            d.evaluate(&parse_assignments(&at).unwrap(), &Value::Scalar(1.0))
                .unwrap_or_else(|e| panic!("{src}\n{prog}\n{}", e.message));
            let dn = d.numeric.as_ref().unwrap();
            let mut got = dn.forward.values[d.circuit.output.index()].clone();
            if out_shape.is_scalar() {
                got = got.map(|x| x * grad.as_scalar().unwrap());
            }
            let want = grads[p].as_ref().unwrap();
            prop_assert_eq!(got.shape(), want.shape(), "{}\n{}", src, prog);
            for (x, y) in got.elements().zip(want.elements()) {
                prop_assert!((x - y).abs() <= 1e-9 * (1.0 + y.abs()), "{src}\n{prog}\n{got} vs {want}");
            }
        }
        let k = check(&a).unwrap();
        prop_assert!(k.ok, "{src}\n{k:?}");
    }
}
