//! The numeric rules of the gate table: each gate's forward rule, its local
//! gradient, the vector-Jacobian product the backward pass sends to each input,
//! and the subgradient it picks at a kink.

use super::scalar::{self, Reads};
use super::{DomainError, Op};
use crate::value::{Shape, Value, fmt_num};

impl Op {
    /// The forward rule: the gate's value from its inputs' values. Shapes have been
    /// checked; an index gate's positions are checked by the caller.
    pub fn forward(self, ins: &[&Value]) -> Result<Value, DomainError> {
        Ok(match self {
            Op::Input(_) => ins[0].clone(),
            Op::Const(c) => Value::Scalar(c),
            Op::Dot => ins[0].dot(ins[1]),
            Op::Sum => Value::Scalar(ins[0].sum()),
            Op::Mean => Value::Scalar(ins[0].sum() / ins[0].shape().len() as f64),
            Op::Transpose => ins[0].transpose(),
            Op::Outer => Value::outer(ins[0], ins[1]),
            Op::Index => ins[0].get(&indices(&ins[1..])),
            Op::Scatter => Value::scatter(ins[0].shape(), &indices(&ins[2..]), ins[1]),
            // Every other gate is elementwise: its rule on numbers, element by element.
            op => {
                if scalar::can_be_undefined(op) {
                    let at = |a: f64, b: f64| scalar::undefined(op, a, b).then_some((a, b));
                    let bad = match ins {
                        [x] => x.elements().find_map(|a| at(a, 0.0)),
                        _ => pairs(ins).into_iter().find_map(|(a, b)| at(a, b)),
                    };
                    if let Some((a, b)) = bad {
                        return Err(op.domain_error(a, b));
                    }
                }
                match ins {
                    [x] => x.map(|a| scalar::value(op, a, 0.0)),
                    _ => ins[0].zip(ins[1], |a, b| scalar::value(op, a, b)),
                }
            }
        })
    }

    /// Why the gate is undefined at `a` (and `b`), in the contract's words.
    fn domain_error(self, a: f64, b: f64) -> DomainError {
        DomainError(match self {
            Op::Div => format!("{} / {} is undefined", fmt_num(a), fmt_num(b)),
            Op::Pow => format!(
                "cannot raise the negative number {} to the non-integer power {}",
                fmt_num(a),
                fmt_num(b)
            ),
            _ => {
                let name = self.name();
                format!(
                    "{name}({}) is undefined: {name} needs an input ≥ 0",
                    fmt_num(a)
                )
            }
        })
    }

    /// The local gradient `∂out/∂input[slot]` of an elementwise gate, elementwise
    /// (a scalar or the output's shape). `None` for gates that are not elementwise.
    /// At a kink it returns the subgradient that [`Op::kink`] describes.
    pub fn local(self, slot: usize, ins: &[&Value], out: &Value) -> Option<Value> {
        if matches!(self, Op::Input(_) | Op::Const(_)) {
            return Some(Value::Scalar(1.0));
        }
        // What it reads does not depend on the numbers.
        let (_, reads) = scalar::local(self, slot, 0.0, 0.0, 0.0)?;
        let f =
            |a: f64, b: f64, o: f64| scalar::local(self, slot, a, b, o).map_or(f64::NAN, |l| l.0);
        let (a, b) = (ins[0], ins.get(1).copied());
        let second = || b.expect("a two-input gate");
        Some(match reads {
            Reads::Nothing => Value::Scalar(f(0.0, 0.0, 0.0)),
            Reads::A => a.map(|a| f(a, 0.0, 0.0)),
            Reads::B => second().map(|b| f(0.0, b, 0.0)),
            Reads::AB => a.zip(second(), |a, b| f(a, b, 0.0)),
            Reads::O => out.map(|o| f(0.0, 0.0, o)),
            Reads::OA => out.zip(a, |o, a| f(a, 0.0, o)),
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
        let kinked = match ins {
            [x] => x.elements().any(|a| scalar::at_kink(self, a, 0.0)),
            [_, _] => pairs(ins)
                .into_iter()
                .any(|(a, b)| scalar::at_kink(self, a, b)),
            _ => false,
        };
        if !kinked {
            return None;
        }
        match self {
            Op::Max | Op::Min => Some(
                "its inputs tie; subgradient: the gradient is split evenly between them (½ each)",
            ),
            Op::Relu => Some("its input is 0; subgradient 0 chosen (relu'(0) = 0)"),
            Op::Abs => Some("its input is 0; subgradient 0 chosen (sign(0) = 0)"),
            Op::Step | Op::Sign => {
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

/// Element pairs of a two-input gate, with scalar broadcasting.
fn pairs(ins: &[&Value]) -> Vec<(f64, f64)> {
    match (ins[0], ins[1]) {
        (Value::Scalar(a), Value::Scalar(b)) => vec![(*a, *b)],
        (Value::Scalar(a), t) => t.elements().map(|b| (*a, b)).collect(),
        (t, Value::Scalar(b)) => t.elements().map(|a| (a, *b)).collect(),
        (t, u) => t.elements().zip(u.elements()).collect(),
    }
}
