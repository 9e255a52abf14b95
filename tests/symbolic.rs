//! Symbolic derivatives through the library: the printed programs read back,
//! evaluate to the backward pass's gradients, differentiate again to the second
//! derivatives (checked against finite differences), stay linear in size, and
//! survive programs 100 000 stages deep.

use gradexplain::input::parse_assignments;
use gradexplain::symbolic::Symbolic;
use gradexplain::{Analysis, Value};

fn evaluated(src: &str, at: &str, grad: Value) -> Analysis {
    let mut a = Analysis::new(src).unwrap_or_else(|e| panic!("{src}: {}", e.message));
    a.evaluate(&parse_assignments(at).unwrap(), &grad)
        .unwrap_or_else(|e| panic!("{src} at {at}: {}", e.message));
    a
}

fn close(a: &Value, b: &Value, tol: f64) -> bool {
    a.shape() == b.shape()
        && a.elements()
            .zip(b.elements())
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
}

/// Every derivative program, fed back at `at`, gives the backward pass's gradient;
/// and its own gradient passes the finite-difference check (second derivatives).
fn round_trip(src: &str, at: &str) {
    let a = evaluated(src, at, Value::Scalar(1.0));
    let n = a.numeric.as_ref().unwrap();
    let grads = n.backward.param_grads(&a.circuit, &n.forward);
    let s = Symbolic::new(&a);
    for (k, prog) in s.programs.iter().enumerate() {
        let Some(prog) = prog else {
            assert!(
                grads[k].is_none(),
                "{src}: only index parameters lack a program"
            );
            continue;
        };
        let d = evaluated(prog, at, Value::Scalar(1.0));
        let dn = d.numeric.as_ref().unwrap();
        let value = &dn.forward.values[d.circuit.output.index()];
        let expected = grads[k].as_ref().unwrap();
        assert!(
            close(value, expected, 1e-9),
            "{src}: ∂/∂{} is {value} by the program\n{prog}\nbut {expected} by the backward pass",
            a.circuit.params[k].name
        );
        assert_eq!(
            d.circuit.params.len(),
            a.circuit.params.len(),
            "the program takes the same parameters"
        );
        let check = gradexplain::check::check(&d).unwrap();
        assert!(
            check.ok,
            "{src}: the second derivative through\n{prog}\ndisagrees with finite differences: {check:?}"
        );
    }
}

#[test]
fn programs_read_back_and_differentiate_again() {
    for (src, at) in [
        ("f(x, y) = x * y", "x=3,y=-4"),
        ("q = x + y; f = q * z", "x=-2,y=5,z=-4"),
        ("f(x) = x * sigmoid(x)", "x=0.7"),
        (
            "1/(1+exp(-(w0*x0+w1*x1+w2)))",
            "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
        ),
        ("f(x, y) = x^3 * y + sqrt(x) - log(y) / x", "x=1.3,y=2.1"),
        (
            "f(x, y) = sin(x * y) + cos(x) ^ 2 + tanh(y - x)",
            "x=0.4,y=-1.2",
        ),
        ("f(x, y) = exp(x) / (1 + exp(y)) + x ^ y", "x=1.5,y=0.5"),
        (
            "h1 = tanh(h0*x + h0); h2 = tanh(h1*x + h1); h3 = tanh(h2*x + h2)",
            "h0=0.3,x=0.8",
        ),
        (
            "f(x, y, unused) = max(x, y) * relu(x) + abs(y) * min(x, 2)",
            "x=0.5,y=-1.5,unused=1",
        ),
        ("f(x) = pow(x, 2.5) - x ^ -1", "x=1.7"),
    ] {
        round_trip(src, at);
    }
}

#[test]
fn unused_parameters_get_zero_and_index_parameters_null() {
    let a = evaluated(
        "L(s, y, z) = s[y] * 2",
        "s=[1, 2, 3],y=1,z=0",
        Value::Scalar(1.0),
    );
    let s = Symbolic::new(&a);
    assert_eq!(
        s.programs[0].as_deref(),
        Some("dL_ds(s, y, z) = scatter(s, 2, y)")
    );
    assert_eq!(s.programs[1], None);
    assert_eq!(s.programs[2].as_deref(), Some("dL_dz(s, y, z) = 0"));
    round_trip("L(s, y, z) = s[y] * 2", "s=[1, 2, 3],y=1,z=0");
    round_trip(
        "L(M, i, j) = M[i, j] * M[i] · M[j]",
        "M=[[1, 2], [3, 4]],i=1,j=0",
    );
    // Without values the shapes are unknown: no program, and a note says why.
    let a = Analysis::new("L(s, y) = s[y]").unwrap();
    let s = Symbolic::new(&a);
    assert_eq!(s.programs, [None, None]);
    assert!(s.notes[0].contains("--at"));
}

#[test]
fn generated_names_never_collide_with_user_names() {
    // The user already has `dt1`, `s1`, `df_dx` and `grad`.
    let src = "f(x, dt1, s1, df_dx, grad) = exp(x * x) * exp(x * x) + dt1 + s1 + df_dx + grad";
    let a = Analysis::new(src).unwrap();
    let s = Symbolic::new(&a);
    let prog = s.programs[0].clone().unwrap();
    let header = prog.lines().last().unwrap();
    assert!(
        header.starts_with("df_dx_(x, dt1, s1, df_dx, grad) ="),
        "{prog}"
    );
    round_trip(src, "x=0.3,dt1=1,s1=2,df_dx=3,grad=4");
}

/// `h_k = tanh(h_{k-1} * x + h_{k-1})`: each stage uses the one before twice, the
/// swell that defeats naive symbolic differentiation.
fn forked_chain(n: usize) -> String {
    (1..=n)
        .map(|k| format!("h{k} = tanh(h{} * x + h{})", k - 1, k - 1))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn forked_chain_derivatives_grow_linearly() {
    let size = |n: usize| {
        let a = Analysis::new(&forked_chain(n)).unwrap();
        let s = Symbolic::new(&a);
        s.programs
            .iter()
            .map(|p| p.as_ref().unwrap().len())
            .max()
            .unwrap()
    };
    let (small, big) = (size(100), size(1000));
    // Names grow by a digit, so allow a little over 10×.
    assert!(
        big <= 12 * small,
        "depth 100: {small} characters, depth 1000: {big} — not linear"
    );
    round_trip(&forked_chain(30), "h0=0.1,x=0.2");
}

#[test]
fn very_deep_programs_differentiate_without_recursion() {
    let n = 100_000;
    let src = format!("f(x) = {}x{}", "sin(".repeat(n), ")".repeat(n));
    let a = Analysis::new(&src).unwrap();
    let s = Symbolic::new(&a);
    let prog = s.programs[0].as_ref().unwrap();
    // Every line stays short: deep products are split into named statements.
    assert!(prog.lines().all(|l| l.len() < 2000));
    let d = Analysis::new(prog).unwrap();
    assert_eq!(d.circuit.params.len(), 1);
}

#[test]
fn tensor_vector_jacobian_products_read_back() {
    // (program, values, upstream): each derivative program takes `grad` as well.
    for (src, at, grad) in [
        (
            "f(W, x, b) = W · x + b",
            "W=[[1, 2, 3], [4, 5, 6]],x=[1, -1, 2],b=[0.5, -0.5]",
            "[2, -3]",
        ),
        (
            "f(A, B) = transpose(A) @ B",
            "A=[[1, 2], [3, 4]],B=[[0, 1], [1, -1]]",
            "[[1, 2], [3, 4]]",
        ),
        (
            "f(u, v) = outer(u, v) * 2",
            "u=[1, 2],v=[3, -1, 0.5]",
            "[[1, 0, -1], [2, 1, 0]]",
        ),
        (
            "f(v, s) = v * s + max(0, v) - mean(v)",
            "v=[1, -2, 3],s=1.5",
            "[1, 1, 2]",
        ),
        (
            "f(v, M) = v · M",
            "v=[1, 2],M=[[1, 2, 3], [4, 5, 6]]",
            "[1, -1, 0.5]",
        ),
        ("f(M, i) = M[i] * 3", "M=[[1, 2], [3, 4]],i=1", "[5, 7]"),
    ] {
        let g = gradexplain::input::parse_grad(grad).unwrap();
        let a = evaluated(src, at, g);
        let n = a.numeric.as_ref().unwrap();
        let grads = n.backward.param_grads(&a.circuit, &n.forward);
        let s = Symbolic::new(&a);
        for (k, prog) in s.programs.iter().enumerate() {
            let Some(prog) = prog else {
                assert!(grads[k].is_none(), "{src}: only an index has no program");
                continue;
            };
            let d = evaluated(prog, &format!("{at},grad={grad}"), Value::Scalar(1.0));
            let dn = d.numeric.as_ref().unwrap();
            let value = &dn.forward.values[d.circuit.output.index()];
            let expected = grads[k].as_ref().unwrap();
            assert!(
                close(value, expected, 1e-12),
                "{src}: ∂/∂{}: {value} by\n{prog}\nbut {expected} by the backward pass",
                a.circuit.params[k].name
            );
        }
    }
}

#[test]
fn scalar_outputs_of_tensors_need_no_grad() {
    let src = "f(W, x) = sum(W · x) + mean(x * x)";
    let a = evaluated(src, "W=[[1, 2], [3, 4]],x=[5, -6]", Value::Scalar(1.0));
    let s = Symbolic::new(&a);
    let p = s.programs[1].as_ref().unwrap();
    assert!(
        p.lines().last().unwrap().starts_with("df_dx(W, x) ="),
        "{p}"
    );
    round_trip(src, "W=[[1, 2], [3, 4]],x=[5, -6]");
}
