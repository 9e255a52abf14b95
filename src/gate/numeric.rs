//! The numeric rules of the gate table: each gate's forward rule, its local
//! gradient, the vector-Jacobian product the backward pass sends to each input,
//! and the subgradient it picks at a kink.

use super::{DomainError, Op};
use crate::value::{Shape, Value, fmt_num};

impl Op {
    /// The forward rule: the gate's value from its inputs' values. Shapes have been
    /// checked; an index gate's positions are checked by the caller.
    pub fn forward(self, ins: &[&Value]) -> Result<Value, DomainError> {
        let unary = |f: fn(f64) -> f64| ins[0].map(f);
        Ok(match self {
            Op::Input(_) => ins[0].clone(),
            Op::Const(c) => Value::Scalar(c),
            Op::Add => ins[0].zip(ins[1], |a, b| a + b),
            Op::Sub => ins[0].zip(ins[1], |a, b| a - b),
            Op::Mul => ins[0].zip(ins[1], |a, b| a * b),
            Op::Div => {
                if let Some((a, b)) = pairs(ins).into_iter().find(|&(a, b)| a == 0.0 && b == 0.0) {
                    return Err(DomainError(format!(
                        "{} / {} is undefined",
                        fmt_num(a),
                        fmt_num(b)
                    )));
                }
                ins[0].zip(ins[1], |a, b| a / b)
            }
            Op::Pow => {
                if let Some((a, b)) = pairs(ins)
                    .into_iter()
                    .find(|&(a, b)| a < 0.0 && b.is_finite() && b.fract() != 0.0)
                {
                    return Err(DomainError(format!(
                        "cannot raise the negative number {} to the non-integer power {}",
                        fmt_num(a),
                        fmt_num(b)
                    )));
                }
                ins[0].zip(ins[1], f64::powf)
            }
            Op::Neg => unary(|a| -a),
            Op::Dot => ins[0].dot(ins[1]),
            Op::Max => ins[0].zip(ins[1], |a, b| if b > a { b } else { a }),
            Op::Min => ins[0].zip(ins[1], |a, b| if b < a { b } else { a }),
            Op::Relu => unary(|a| if a > 0.0 { a } else { 0.0 }),
            Op::Abs => unary(f64::abs),
            Op::Exp => unary(f64::exp),
            Op::Log | Op::Sqrt => {
                if let Some(a) = ins[0].elements().find(|&a| a < 0.0) {
                    let name = self.name();
                    return Err(DomainError(format!(
                        "{name}({}) is undefined: {name} needs an input ≥ 0",
                        fmt_num(a)
                    )));
                }
                unary(if matches!(self, Op::Log) {
                    f64::ln
                } else {
                    f64::sqrt
                })
            }
            Op::Sigmoid => unary(sigmoid),
            Op::Tanh => unary(f64::tanh),
            Op::Sin => unary(f64::sin),
            Op::Cos => unary(f64::cos),
            Op::Step => unary(|a| if a > 0.0 { 1.0 } else { 0.0 }),
            Op::Sign => unary(|a| {
                if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    a * 0.0 // 0 stays 0; nan stays nan
                }
            }),
            Op::Sum => Value::Scalar(ins[0].sum()),
            Op::Mean => Value::Scalar(ins[0].sum() / ins[0].shape().len() as f64),
            Op::Transpose => ins[0].transpose(),
            Op::Outer => Value::outer(ins[0], ins[1]),
            Op::Index => ins[0].get(&indices(&ins[1..])),
            Op::Scatter => Value::scatter(ins[0].shape(), &indices(&ins[2..]), ins[1]),
        })
    }

    /// The local gradient `∂out/∂input[slot]` of an elementwise gate, elementwise
    /// (a scalar or the output's shape). `None` for gates that are not elementwise.
    /// At a kink it returns the subgradient that [`Op::kink`] describes.
    pub fn local(self, slot: usize, ins: &[&Value], out: &Value) -> Option<Value> {
        let a = ins[0];
        let from_a = |f: fn(f64) -> f64| a.map(f);
        Some(match (self, slot) {
            (Op::Add, _) | (Op::Sub, 0) => Value::Scalar(1.0),
            (Op::Sub, _) | (Op::Neg, _) => Value::Scalar(-1.0),
            (Op::Mul, 0) => ins[1].clone(),
            (Op::Mul, _) => a.clone(),
            (Op::Div, 0) => ins[1].map(|b| 1.0 / b),
            (Op::Div, _) => a.zip(ins[1], |a, b| -a / (b * b)),
            (Op::Pow, 0) => a.zip(
                ins[1],
                |a, b| if b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) },
            ),
            (Op::Pow, _) => out.zip(a, |o, a| if o == 0.0 { 0.0 } else { o * a.ln() }),
            (Op::Max, 0) => a.zip(ins[1], route),
            (Op::Max, _) => a.zip(ins[1], |a, b| route(b, a)),
            (Op::Min, 0) => a.zip(ins[1], |a, b| route(b, a)),
            (Op::Min, _) => a.zip(ins[1], route),
            (Op::Relu, _) => from_a(|a| if a > 0.0 { 1.0 } else { 0.0 }),
            (Op::Abs, _) => from_a(|a| {
                if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }),
            (Op::Exp, _) => out.clone(),
            (Op::Log, _) => from_a(|a| 1.0 / a),
            (Op::Sqrt, _) => out.map(|o| 0.5 / o),
            (Op::Sigmoid, _) => out.map(|s| s * (1.0 - s)),
            (Op::Tanh, _) => out.map(|t| 1.0 - t * t),
            (Op::Sin, _) => from_a(f64::cos),
            (Op::Cos, _) => from_a(|a| -a.sin()),
            (Op::Step | Op::Sign, _) => Value::Scalar(0.0),
            (Op::Input(_) | Op::Const(_), _) => Value::Scalar(1.0),
            _ => return None,
        })
    }

    /// What the backward pass sends to input `slot`: the vector-Jacobian product of
    /// the upstream gradient `grad` with this gate, in the input's shape.
    pub fn vjp(self, slot: usize, ins: &[&Value], out: &Value, grad: &Value) -> Value {
        let in_shape = ins[slot].shape();
        if let Some(local) = self.local(slot, ins, out) {
            // A zero on either side means no gradient flows — even when the other side
            // is nan or inf (`max` routing nothing to the exponent of (-2)^b): routing
            // is exact, as the symbolic derivative `0 · anything = 0` is.
            let chain = |l: f64, g: f64| if l == 0.0 || g == 0.0 { 0.0 } else { l * g };
            return local.zip(grad, chain).reduce_to(in_shape);
        }
        match (self, slot) {
            // D = A·B: dA = G·Bᵀ, dB = Aᵀ·G, with vectors treated as numpy does.
            // A scalar side is an elementwise product: the scalar's gradient sums
            // G ⊙ other over every element it was multiplied into.
            (Op::Dot, 0) => match (in_shape, ins[1].shape()) {
                (Shape::Scalar, _) => Value::Scalar(grad.zip(ins[1], |g, b| g * b).sum()),
                (_, Shape::Scalar) | (Shape::Vector(_), Shape::Vector(_)) => {
                    grad.zip(ins[1], |g, b| g * b)
                }
                (Shape::Matrix(..), Shape::Vector(_)) => Value::outer(grad, ins[1]),
                _ => grad.dot(&ins[1].transpose()),
            },
            (Op::Dot, _) => match (ins[0].shape(), in_shape) {
                (_, Shape::Scalar) => Value::Scalar(ins[0].zip(grad, |a, g| a * g).sum()),
                (Shape::Scalar, _) | (Shape::Vector(_), Shape::Vector(_)) => {
                    ins[0].zip(grad, |a, g| a * g)
                }
                (Shape::Vector(_), Shape::Matrix(..)) => Value::outer(ins[0], grad),
                _ => ins[0].transpose().dot(grad),
            },
            (Op::Outer, 0) => grad.dot(ins[1]),
            (Op::Outer, _) => grad.transpose().dot(ins[0]),
            (Op::Sum, _) => Value::filled(in_shape, grad.sum()),
            (Op::Mean, _) => Value::filled(in_shape, grad.sum() / in_shape.len() as f64),
            (Op::Transpose, _) => grad.transpose(),
            (Op::Index, 0) => Value::scatter(in_shape, &indices(&ins[1..]), grad),
            (Op::Scatter, 1) => grad.get(&indices(&ins[2..])),
            _ => Value::filled(in_shape, 0.0),
        }
    }

    /// When the inputs sit on a kink of this gate, the subgradient convention used
    /// there, in words; `None` away from kinks.
    pub fn kink(self, ins: &[&Value]) -> Option<&'static str> {
        let at_zero = || ins[0].elements().any(|a| a == 0.0);
        match self {
            Op::Max | Op::Min if pairs(ins).into_iter().any(|(a, b)| a == b) => Some(
                "its inputs tie; subgradient: the gradient is split evenly between them (½ each)",
            ),
            Op::Relu if at_zero() => Some("its input is 0; subgradient 0 chosen (relu'(0) = 0)"),
            Op::Abs if at_zero() => Some("its input is 0; subgradient 0 chosen (sign(0) = 0)"),
            Op::Step | Op::Sign if at_zero() => {
                Some("its input is at the jump (0); derivative 0 chosen, as on either side")
            }
            _ => None,
        }
    }
}

/// Index values as positions; the caller has checked that they are whole and in range.
fn indices(ins: &[&Value]) -> Vec<usize> {
    ins.iter()
        .map(|v| v.as_scalar().unwrap_or(0.0) as usize)
        .collect()
}

/// The logistic function, written to stay finite for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The max gate's routing: 1 to the winner, 0 to the loser, ½ each at a tie.
pub(crate) fn route(this: f64, other: f64) -> f64 {
    if this > other {
        1.0
    } else if this < other {
        0.0
    } else {
        0.5
    }
}

/// Element pairs of a two-input gate, with scalar broadcasting.
fn pairs(ins: &[&Value]) -> Vec<(f64, f64)> {
    match (ins[0], ins[1]) {
        (Value::Scalar(a), Value::Scalar(b)) => vec![(*a, *b)],
        (Value::Scalar(a), t) => t.elements().map(|b| (*a, b)).collect(),
        (t, Value::Scalar(b)) => t.elements().map(|a| (a, *b)).collect(),
        (t, u) => t.elements().zip(u.elements()).collect(),
    }
}
