//! The elementwise gates' rules on one number, written once: the value, where
//! it is undefined, the local gradient and the kinks. The general passes apply
//! them element by element, broadcasting a scalar against a tensor
//! (`numeric.rs`); the scalar lane (`eval/lane.rs`) applies them to plain
//! numbers. Both compute with the same code, so they agree bit for bit.

use super::Op;

/// True for the gates that map numbers to a number, element by element.
/// Inputs and constants have no rule here; `·`, `sum`, `mean`, `transpose`,
/// `outer` and the index gates are defined through arrays.
pub(crate) fn elementwise(op: Op) -> bool {
    !matches!(
        op,
        Op::Input(_)
            | Op::Const(_)
            | Op::Dot
            | Op::Sum
            | Op::Mean
            | Op::Transpose
            | Op::Outer
            | Op::Index
            | Op::Scatter
    )
}

/// The value of elementwise gate `op` at inputs `a` and `b` (`b` unused by a
/// one-input gate), where [`undefined`] is false. NaN for other gates.
#[inline]
pub(crate) fn value(op: Op, a: f64, b: f64) -> f64 {
    match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
        Op::Pow => a.powf(b),
        Op::Neg => -a,
        Op::Max => {
            if b > a {
                b
            } else {
                a
            }
        }
        Op::Min => {
            if b < a {
                b
            } else {
                a
            }
        }
        Op::Relu => {
            if a > 0.0 {
                a
            } else {
                0.0
            }
        }
        Op::Abs => a.abs(),
        Op::Exp => a.exp(),
        Op::Log => a.ln(),
        Op::Sqrt => a.sqrt(),
        Op::Sigmoid => sigmoid(a),
        Op::Tanh => a.tanh(),
        Op::Sin => a.sin(),
        Op::Cos => a.cos(),
        Op::Step => {
            if a > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Op::Sign => {
            if a > 0.0 {
                1.0
            } else if a < 0.0 {
                -1.0
            } else {
                a * 0.0 // 0 stays 0; nan stays nan
            }
        }
        _ => f64::NAN,
    }
}

/// True for the gates that are undefined somewhere: `/`, `^`, `log`, `sqrt`.
pub(crate) fn can_be_undefined(op: Op) -> bool {
    matches!(op, Op::Div | Op::Pow | Op::Log | Op::Sqrt)
}

/// True where the gate is undefined, the contract's domain errors: 0 / 0, a
/// negative number to a non-integer power, `log` or `sqrt` of a negative number.
pub(crate) fn undefined(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Div => a == 0.0 && b == 0.0,
        Op::Pow => a < 0.0 && b.is_finite() && b.fract() != 0.0,
        Op::Log | Op::Sqrt => a < 0.0,
        _ => false,
    }
}

/// What a local gradient reads, which fixes its shape in the general pass: a
/// constant is a scalar; otherwise it has the shape of what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reads {
    /// Nothing: a constant.
    Nothing,
    /// The first input.
    A,
    /// The second input.
    B,
    /// Both inputs.
    AB,
    /// The output.
    O,
    /// The output and the first input.
    OA,
}

/// `∂out/∂input[slot]` of elementwise gate `op` at inputs `a`, `b` and output
/// `o`, and what it reads of them. At a kink it is the subgradient that
/// [`Op::kink`] describes. `None` for gates that are not elementwise.
pub(crate) fn local(op: Op, slot: usize, a: f64, b: f64, o: f64) -> Option<(f64, Reads)> {
    use Reads::*;
    Some(match (op, slot) {
        (Op::Add, _) | (Op::Sub, 0) => (1.0, Nothing),
        (Op::Sub, _) | (Op::Neg, _) => (-1.0, Nothing),
        (Op::Mul, 0) => (b, B),
        (Op::Mul, _) => (a, A),
        (Op::Div, 0) => (1.0 / b, B),
        (Op::Div, _) => (-a / (b * b), AB),
        (Op::Pow, 0) => (if b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) }, AB),
        (Op::Pow, _) => (if o == 0.0 { 0.0 } else { o * a.ln() }, OA),
        // The max gate routes: 1 to the larger input, ½ each at a tie.
        (Op::Max, 0) | (Op::Min, 1) => (route(a, b), AB),
        (Op::Max, _) | (Op::Min, _) => (route(b, a), AB),
        (Op::Relu, _) => (if a > 0.0 { 1.0 } else { 0.0 }, A),
        (Op::Abs, _) => {
            let slope = if a > 0.0 {
                1.0
            } else if a < 0.0 {
                -1.0
            } else {
                0.0
            };
            (slope, A)
        }
        (Op::Exp, _) => (o, O),
        (Op::Log, _) => (1.0 / a, A),
        (Op::Sqrt, _) => (0.5 / o, O),
        (Op::Sigmoid, _) => (o * (1.0 - o), O),
        (Op::Tanh, _) => (1.0 - o * o, O),
        (Op::Sin, _) => (a.cos(), A),
        (Op::Cos, _) => (-a.sin(), A),
        // Flat on either side of the jump.
        (Op::Step | Op::Sign, _) => (0.0, Nothing),
        _ => return None,
    })
}

/// True where inputs `a` and `b` sit on a kink of the gate: a tie of `max` or
/// `min`, 0 for `relu`, `abs`, `step` and `sign`.
pub(crate) fn at_kink(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Max | Op::Min => a == b,
        Op::Relu | Op::Abs | Op::Step | Op::Sign => a == 0.0,
        _ => false,
    }
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
