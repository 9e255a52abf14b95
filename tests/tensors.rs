//! Every tensor operation's gradient against centered finite differences, for
//! every combination of scalar, vector and matrix operands the operation takes,
//! with a random upstream gradient of the output's shape (so that a wrong
//! transpose or a missing sum cannot hide behind an all-ones upstream).

use gradexplain::eval::forward;
use gradexplain::input::Assignment;
use gradexplain::{Analysis, Shape, Span, Value};
use ndarray::{ArrayD, IxDyn};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Magnitudes in [0.3, 1.5], away from 0 where relu, abs and max have kinks;
    /// signed unless `positive`.
    fn number(&mut self, positive: bool) -> f64 {
        let m = 0.3 + 1.2 * self.next();
        if positive || self.next() < 0.5 { m } else { -m }
    }

    fn value(&mut self, shape: Shape, positive: bool) -> Value {
        match shape {
            Shape::Scalar => Value::Scalar(self.number(positive)),
            Shape::Vector(n) => Value::from_array(ArrayD::from_shape_fn(IxDyn(&[n]), |_| {
                self.number(positive)
            })),
            Shape::Matrix(r, c) => Value::from_array(ArrayD::from_shape_fn(IxDyn(&[r, c]), |_| {
                self.number(positive)
            })),
        }
    }
}

fn assign(name: &str, value: Value) -> Assignment {
    Assignment {
        name: name.into(),
        value,
        source: "".into(),
        span: Span::default(),
    }
}

/// Σ out ⊙ upstream: the scalar whose gradient the backward pass computes.
fn weighted(a: &Analysis, params: &[Value], upstream: &Value) -> f64 {
    let c = &a.circuit;
    let fwd = forward(c, params).expect("forward pass");
    let out = &fwd.values[c.output.index()];
    out.zip(upstream, |o, g| o * g).sum()
}

/// Checks the backward pass of `src` against centered differences at the given
/// values, with a random upstream gradient; returns the largest relative error.
fn check(src: &str, values: &[(&str, Value)], rng: &mut Rng) -> f64 {
    let mut a = Analysis::new(src).unwrap_or_else(|e| panic!("{src}: {}", e.message));
    let at: Vec<Assignment> = values.iter().map(|(n, v)| assign(n, v.clone())).collect();
    let params = a.bind(&at).expect("bind");
    let out_shape = forward(&a.circuit, &params).expect("forward").shapes[a.circuit.output.index()];
    let upstream = rng.value(out_shape, false);
    a.evaluate(&at, &upstream)
        .unwrap_or_else(|e| panic!("{src}: {}", e.message));
    let n = a.numeric.as_ref().expect("evaluated");
    let grads = n.backward.param_grads(&a.circuit, &n.forward);
    let h = 1e-6;
    let mut worst: f64 = 0.0;
    for (k, g) in grads.iter().enumerate() {
        let Some(g) = g else { continue };
        assert_eq!(
            g.shape(),
            params[k].shape(),
            "{src}: d{} keeps its shape",
            a.circuit.params[k].name
        );
        let base = params[k].to_array();
        let analytic: Vec<f64> = g.elements().collect();
        for (i, &an) in analytic.iter().enumerate() {
            let bump = |d: f64| {
                let mut arr = base.clone();
                let x = arr.iter_mut().nth(i).expect("element");
                *x += d;
                let mut ps = params.clone();
                ps[k] = Value::from_array(arr);
                weighted(&a, &ps, &upstream)
            };
            let numeric = (bump(h) - bump(-h)) / (2.0 * h);
            let err = (an - numeric).abs() / (an.abs() + numeric.abs()).max(1e-6);
            assert!(
                err < 1e-5,
                "{src}: d{}[{i}] = {an}, finite differences give {numeric}",
                a.circuit.params[k].name
            );
            worst = worst.max(err);
        }
    }
    worst
}

const S: Shape = Shape::Scalar;
const V: Shape = Shape::Vector(3);
const M: Shape = Shape::Matrix(3, 3);

/// Every pairing of shapes an elementwise operator accepts: equal shapes, and a
/// scalar broadcasting on either side.
const ELEMENTWISE_PAIRS: [(Shape, Shape); 7] =
    [(S, S), (S, V), (V, S), (V, V), (S, M), (M, S), (M, M)];

#[test]
fn elementwise_binary_operators_with_broadcasting() {
    let mut rng = Rng(0x5eed_0001);
    for (src, positive) in [
        ("f(a, b) = a + b", false),
        ("f(a, b) = a - b", false),
        ("f(a, b) = a * b", false),
        ("f(a, b) = a / b", false),
        ("f(a, b) = a ^ b", true),
        ("f(a, b) = pow(a, b)", true),
        ("f(a, b) = max(a, b)", false),
        ("f(a, b) = min(a, b)", false),
    ] {
        for (sa, sb) in ELEMENTWISE_PAIRS {
            let a = rng.value(sa, positive);
            let b = rng.value(sb, positive);
            check(src, &[("a", a), ("b", b)], &mut rng);
        }
    }
}

#[test]
fn max_with_zero_is_a_relu_of_a_tensor() {
    let mut rng = Rng(0x5eed_0002);
    for shape in [S, V, M] {
        let v = rng.value(shape, false);
        check("f(v) = max(0, v)", &[("v", v.clone())], &mut rng);
        check("f(v) = max(v, 0)", &[("v", v.clone())], &mut rng);
        check("f(v) = max(0, v, 2 * v)", &[("v", v)], &mut rng);
    }
}

#[test]
fn elementwise_functions_of_every_shape() {
    let mut rng = Rng(0x5eed_0003);
    for (f, positive) in [
        ("relu", false),
        ("abs", false),
        ("exp", false),
        ("log", true),
        ("sqrt", true),
        ("sigmoid", false),
        ("σ", false),
        ("tanh", false),
        ("sin", false),
        ("cos", false),
        ("step", false),
        ("sign", false),
        ("-", false),
    ] {
        for shape in [S, V, M] {
            let src = if f == "-" {
                "f(v) = -v".to_string()
            } else {
                format!("f(v) = {f}(v)")
            };
            check(&src, &[("v", rng.value(shape, positive))], &mut rng);
        }
    }
}

#[test]
fn dot_in_all_nine_shape_combinations() {
    let mut rng = Rng(0x5eed_0004);
    // Non-square shapes, so that a missing or extra transpose cannot pass.
    let left = [S, Shape::Vector(3), Shape::Matrix(2, 3)];
    for a_shape in left {
        for b_shape in [S, Shape::Vector(3), Shape::Matrix(3, 4)] {
            let a = rng.value(a_shape, false);
            let b = rng.value(b_shape, false);
            for src in ["f(a, b) = a · b", "f(a, b) = a @ b", "f(a, b) = dot(a, b)"] {
                check(src, &[("a", a.clone()), ("b", b.clone())], &mut rng);
            }
        }
    }
    // vector · matrix with the vector on the left of a non-square matrix.
    let v = rng.value(Shape::Vector(2), false);
    let m = rng.value(Shape::Matrix(2, 5), false);
    check("f(v, M) = v · M", &[("v", v), ("M", m)], &mut rng);
}

#[test]
fn reductions_transpose_and_outer() {
    let mut rng = Rng(0x5eed_0005);
    for shape in [S, Shape::Vector(4), Shape::Matrix(2, 3)] {
        for src in [
            "f(v) = sum(v)",
            "f(v) = mean(v)",
            "f(v) = transpose(v)",
            "f(v) = sum(v * v)",
            "f(v) = mean(v) * v",
        ] {
            check(src, &[("v", rng.value(shape, false))], &mut rng);
        }
    }
    let u = rng.value(Shape::Vector(2), false);
    let v = rng.value(Shape::Vector(3), false);
    check("f(u, v) = outer(u, v)", &[("u", u), ("v", v)], &mut rng);
    let m = rng.value(Shape::Matrix(2, 3), false);
    let x = rng.value(Shape::Vector(2), false);
    check(
        "f(M, x) = transpose(M) · x",
        &[("M", m.clone()), ("x", x)],
        &mut rng,
    );
    check("f(M) = M · transpose(M)", &[("M", m)], &mut rng);
}

#[test]
fn indexing_vectors_rows_and_elements() {
    let mut rng = Rng(0x5eed_0006);
    let v = rng.value(Shape::Vector(4), false);
    let m = rng.value(Shape::Matrix(3, 4), false);
    for i in 0..4 {
        check(
            "f(v, i) = v[i]",
            &[("v", v.clone()), ("i", Value::Scalar(i as f64))],
            &mut rng,
        );
    }
    for i in 0..3 {
        let i = Value::Scalar(i as f64);
        check(
            "f(M, i) = M[i]",
            &[("M", m.clone()), ("i", i.clone())],
            &mut rng,
        );
        check(
            "f(M, i, j) = M[i, j] * M[i]",
            &[
                ("M", m.clone()),
                ("i", i.clone()),
                ("j", Value::Scalar(2.0)),
            ],
            &mut rng,
        );
    }
    // Constant indices and index arithmetic carry no gradient either.
    check(
        "f(v) = v[0] * v[3] + v[1 + 1]",
        &[("v", v.clone())],
        &mut rng,
    );
    check("f(M) = M[2][1] - M[0, 3]", &[("M", m)], &mut rng);
}

#[test]
fn an_index_parameter_gets_null_and_others_keep_their_shape() {
    let mut a = Analysis::new("f(v, i) = v[i] * 2").unwrap();
    let at = [
        assign("v", ndarray::array![1.0, 2.0, 3.0].into()),
        assign("i", Value::Scalar(1.0)),
    ];
    a.evaluate(&at, &Value::Scalar(1.0)).unwrap();
    let n = a.numeric.as_ref().unwrap();
    let g = n.backward.param_grads(&a.circuit, &n.forward);
    assert_eq!(g[0], Some(ndarray::array![0.0, 2.0, 0.0].into()));
    assert_eq!(g[1], None);
}

#[test]
fn tensor_forks_add_their_gradients() {
    let mut rng = Rng(0x5eed_0007);
    let w = rng.value(Shape::Matrix(3, 2), false);
    let x = rng.value(Shape::Vector(2), false);
    check(
        "s = W · x; f(W, x) = sum(s * s) + mean(s) * s[1]",
        &[("W", w.clone()), ("x", x.clone())],
        &mut rng,
    );
    check(
        "f(W, x) = W · x + W · (2 * x)",
        &[("W", w), ("x", x)],
        &mut rng,
    );
}

#[test]
fn composite_layers() {
    let mut rng = Rng(0x5eed_0008);
    let w = rng.value(Shape::Matrix(4, 3), false);
    let x = rng.value(Shape::Vector(3), false);
    let b = rng.value(Shape::Vector(4), false);
    check(
        "f(W, x, b) = sum(sigmoid(W · x + b))",
        &[("W", w.clone()), ("x", x.clone()), ("b", b.clone())],
        &mut rng,
    );
    check(
        "h = tanh(W · x + b); f(W, x, b) = mean(h * h) - mean(h)",
        &[("W", w.clone()), ("x", x), ("b", b)],
        &mut rng,
    );
    let xs = rng.value(Shape::Matrix(3, 5), false);
    check(
        "f(W, X) = W @ X",
        &[("W", w.clone()), ("X", xs.clone())],
        &mut rng,
    );
    check(
        "f(W, X) = mean(max(0, W @ X) - mean(W))",
        &[("W", w), ("X", xs)],
        &mut rng,
    );
}

#[test]
fn the_svm_loss_both_ways() {
    let mut rng = Rng(0x5eed_0009);
    // The seed's rows, three classes.
    let row = |r: &mut Rng| r.value(Shape::Vector(4), false);
    let (w0, w1, w2, x) = (row(&mut rng), row(&mut rng), row(&mut rng), row(&mut rng));
    check(
        "L0 = max(0, w1·x − w0·x + 1) + max(0, w2·x − w0·x + 1)",
        &[("w1", w1), ("x", x), ("w0", w0), ("w2", w2)],
        &mut rng,
    );
    // Vectorised, ten classes and fifty features.
    for y in [0.0, 3.0, 9.0] {
        let w = rng.value(Shape::Matrix(10, 50), false).map(|v| v * 0.01);
        let x = rng.value(Shape::Vector(50), false);
        check(
            "s = W·x; L(W, x, y) = sum(max(0, s − s[y] + 1)) − 1",
            &[("W", w), ("x", x), ("y", Value::Scalar(y))],
            &mut rng,
        );
    }
}
