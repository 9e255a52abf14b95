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
        Op::Tanh => tanh(a),
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

/// The hyperbolic tangent by Moshier's method (the Cephes library): a
/// rational function of x² below 0.625, 1 − 2/(e^{2|x|} + 1) above, ±1 past
/// 22, where the value rounds to it.
///
/// Not the C library's `tanh`, which goes through `expm1` and a division:
/// in a chain of gates each waiting on the last (an unrolled recurrent net,
/// the bench's forked chain) this one takes half the time (22.5 against
/// 45 ns a stage here), and it is no less accurate. Against 200-bit `mpmath`
/// on 200 000 points from 2⁻³⁰ to 2⁵, dense at the seams 0.625 and 22, its
/// largest error was 1.19 ulp and it was correctly rounded at 96.6 % of them,
/// where glibc's was off by up to 2.04 ulp and correctly rounded at 75.2 %. The two differ by at most
/// 2 ulp; a test holds that, and `tests/sympy.rs` the error against `mpmath`
/// (within 1.5 ulp). The scalar lane and the general passes both call it.
pub fn tanh(x: f64) -> f64 {
    // Cephes' coefficients (-9.64399179425052238628e-1, …), each as the
    // shortest text of the same double.
    const P: [f64; 3] = [
        -0.964_399_179_425_052_3,
        -99.287_723_100_191_85,
        -1_614.687_684_417_084_5,
    ];
    const Q: [f64; 3] = [
        112.811_678_491_632_93,
        2_235.488_390_601_004_5,
        4_844.063_053_251_255,
    ];
    let z = x.abs();
    if z > 22.0 {
        return 1f64.copysign(x);
    }
    if z >= 0.625 {
        return (1.0 - 2.0 / ((2.0 * z).exp() + 1.0)).copysign(x);
    }
    // 0 keeps its sign; NaN stays NaN.
    if x == 0.0 || x.is_nan() {
        return x;
    }
    let s = x * x;
    let p = (P[0] * s + P[1]) * s + P[2];
    let q = ((s + Q[0]) * s + Q[1]) * s + Q[2];
    x + x * s * p / q
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

#[cfg(test)]
mod tests {
    use super::tanh;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn tanh_keeps_its_special_values() {
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
        assert!(tanh(f64::NAN).is_nan());
        for (x, y) in [
            (f64::INFINITY, 1.0),
            (f64::NEG_INFINITY, -1.0),
            (1e300, 1.0),
        ] {
            assert_eq!(tanh(x), y);
        }
        // Past 22 the value is ±1 as a double; 22 itself, by the formula, too.
        assert_eq!(tanh(22.0), 1.0);
        assert_eq!(tanh(-22.5), -1.0);
        // Tiny and subnormal numbers are their own tangent.
        for x in [1e-300, 5e-324, -2.5e-320, 1e-17] {
            assert_eq!(tanh(x), x);
        }
    }

    /// Odd, and within 2 ulp of the C library's `tanh` (which is itself up
    /// to 2 ulp off; `tests/sympy.rs` checks this one against `mpmath`), on
    /// a grid that is dense at the two places where the method changes.
    #[test]
    fn tanh_is_odd_and_near_the_c_library() {
        let mut points = Vec::new();
        let mut x = 1e-12;
        while x < 40.0 {
            points.push(x);
            x *= 1.000_37;
        }
        for edge in [0.625f64, 22.0] {
            for k in -2000i32..=2000 {
                points.push(edge + f64::from(k) * 1e-9);
                points.push(f64::from_bits(edge.to_bits().wrapping_add_signed(k.into())));
            }
        }
        let mut worst = 0;
        for &x in &points {
            assert_eq!(tanh(-x).to_bits(), (-tanh(x)).to_bits(), "odd at {x}");
            let d = ulps(tanh(x), x.tanh());
            assert!(
                d <= 2,
                "tanh({x}) = {}, the C library's {}",
                tanh(x),
                x.tanh()
            );
            worst = worst.max(d);
        }
        assert!(
            points.len() > 90_000 && worst > 0,
            "{} points",
            points.len()
        );
    }
}
