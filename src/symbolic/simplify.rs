//! Simplification on construction: each rule replaces a node about to be built
//! by an equal one that is no bigger — constants folded, 0 and 1 absorbed,
//! `x − x`, `−(−x)`, `x·x^k → x^(k+1)`, `x + x → 2·x`, `c·x + d·x → (c+d)·x`.
//!
//! A rule never changes a node's shape: absorbing `0 · v` into `0` would turn a
//! vector into a scalar, so such rules only fire on scalars. Rules may build
//! other nodes, which are simplified in turn; every rule makes the expression
//! strictly simpler, so this ends after a few steps whatever the input.

use super::expr::{Arena, ExprId};
use crate::gate::Op;
use crate::value::{Shape, Value};
use smallvec::SmallVec;

/// A replacement for `op(args)` (whose shape is `shape`), or `None` to build it as is.
pub(super) fn simplify(a: &mut Arena, op: Op, args: &[ExprId], shape: Shape) -> Option<ExprId> {
    if let Some(id) = fold(a, op, args) {
        return Some(id);
    }
    match (op, args) {
        (Op::Add, &[x, y]) => add(a, x, y, shape),
        (Op::Sub, &[x, y]) => sub(a, x, y, shape),
        (Op::Mul, &[x, y]) => mul(a, x, y, shape),
        (Op::Div, &[x, y]) => div(a, x, y, shape),
        (Op::Neg, &[x]) => neg(a, x),
        (Op::Pow, &[x, e]) => pow(a, x, e, shape),
        // With a scalar on either side `dot` is the elementwise product: write it so.
        (Op::Dot, &[x, y]) if a.shape(x).is_scalar() || a.shape(y).is_scalar() => {
            Some(a.build(Op::Mul, &[x, y]))
        }
        (Op::Sum | Op::Mean, &[x]) if a.shape(x).is_scalar() => Some(x),
        (Op::Transpose, &[x]) if !matches!(a.shape(x), Shape::Matrix(..)) => Some(x),
        (Op::Transpose, &[x]) => unary_of(a, x, Op::Transpose),
        (Op::Max | Op::Min, &[x, y]) if x == y => Some(x),
        (Op::Sign | Op::Abs | Op::Step, &[x]) if a.node(x).op == op => Some(x),
        (Op::Abs, &[x]) => unary_of(a, x, Op::Neg).map(|z| a.build(Op::Abs, &[z])),
        (Op::Log, &[x]) => unary_of(a, x, Op::Exp),
        _ => None,
    }
}

/// Numbers computed now, when the result is finite and short to write: `2 * 3`
/// becomes `6`, but `1 / 3` stays as it is, exact and readable.
fn fold(a: &mut Arena, op: Op, args: &[ExprId]) -> Option<ExprId> {
    if args.is_empty() || !op.is_elementwise() || args.iter().any(|&x| a.as_num(x).is_none()) {
        return None;
    }
    let vals: SmallVec<[Value; 3]> = args
        .iter()
        .map(|&x| a.as_num(x).map(Value::Scalar))
        .collect::<Option<_>>()?;
    let refs: SmallVec<[&Value; 3]> = vals.iter().collect();
    let r = op.forward(&refs).ok()?.as_scalar()?;
    (r.is_finite() && crate::print::number(r).len() <= 8).then(|| a.number(r))
}

/// `z` when `x` is `op(z)`.
fn unary_of(a: &Arena, x: ExprId, op: Op) -> Option<ExprId> {
    let n = a.node(x);
    (n.op == op && n.args.len() == 1).then(|| n.args[0])
}

/// `(p, q)` when `x` is `op(p, q)`.
fn binary_of(a: &Arena, x: ExprId, op: Op) -> Option<(ExprId, ExprId)> {
    let n = a.node(x);
    (n.op == op && n.args.len() == 2).then(|| (n.args[0], n.args[1]))
}

/// `x` as `c · base`: the numeric coefficient and what it multiplies.
fn coefficient(a: &Arena, x: ExprId) -> (f64, ExprId) {
    match binary_of(a, x, Op::Mul) {
        Some((c, b)) if a.as_num(c).is_some() && a.as_num(b).is_none() => {
            (a.as_num(c).unwrap_or(1.0), b)
        }
        _ => (1.0, x),
    }
}

/// `x` as `base ^ k` with a numeric exponent.
fn power(a: &Arena, x: ExprId) -> (ExprId, f64) {
    match binary_of(a, x, Op::Pow) {
        Some((b, e)) if a.as_num(e).is_some() => (b, a.as_num(e).unwrap_or(1.0)),
        _ => (x, 1.0),
    }
}

fn is(a: &Arena, x: ExprId, c: f64) -> bool {
    a.as_num(x) == Some(c)
}

/// `like terms`: `c·b ± d·b` as `(c ± d)·b`.
fn combine(a: &mut Arena, x: ExprId, y: ExprId, sign: f64) -> Option<ExprId> {
    let (cx, bx) = coefficient(a, x);
    let (cy, by) = coefficient(a, y);
    if bx != by || a.as_num(bx).is_some() {
        return None;
    }
    let c = a.number(cx + sign * cy);
    Some(a.build(Op::Mul, &[c, bx]))
}

fn add(a: &mut Arena, x: ExprId, y: ExprId, shape: Shape) -> Option<ExprId> {
    if is(a, x, 0.0) && a.shape(y) == shape {
        return Some(y);
    }
    if is(a, y, 0.0) && a.shape(x) == shape {
        return Some(x);
    }
    if let Some(z) = unary_of(a, y, Op::Neg) {
        return Some(a.build(Op::Sub, &[x, z]));
    }
    if let Some(z) = unary_of(a, x, Op::Neg) {
        return Some(a.build(Op::Sub, &[y, z]));
    }
    combine(a, x, y, 1.0).or_else(|| factor(a, x, y, Op::Add))
}

/// `p·u ± q·u` as `(p ± q)·u`, and `u ± p·u` as `(1 ± p)·u`: the common right
/// factor (an adjoint, in a derivative) is written once.
fn factor(a: &mut Arena, x: ExprId, y: ExprId, op: Op) -> Option<ExprId> {
    let split = |a: &mut Arena, t: ExprId, u: ExprId| match binary_of(a, t, Op::Mul) {
        Some((p, q)) if q == u => Some(p),
        _ => None,
    };
    let (p, q, u) = match (binary_of(a, x, Op::Mul), binary_of(a, y, Op::Mul)) {
        (Some((p, u)), Some((q, v))) if u == v => (p, q, u),
        _ => {
            if let Some(q) = split(a, y, x) {
                (a.number(1.0), q, x)
            } else if let Some(p) = split(a, x, y) {
                (p, a.number(1.0), y)
            } else {
                return None;
            }
        }
    };
    if a.as_num(u).is_some() {
        return None;
    }
    let s = a.build(op, &[p, q]);
    Some(a.build(Op::Mul, &[s, u]))
}

fn sub(a: &mut Arena, x: ExprId, y: ExprId, shape: Shape) -> Option<ExprId> {
    if is(a, y, 0.0) && a.shape(x) == shape {
        return Some(x);
    }
    if is(a, x, 0.0) {
        return Some(a.build(Op::Neg, &[y]));
    }
    if x == y && shape.is_scalar() {
        return Some(a.number(0.0));
    }
    if let Some(z) = unary_of(a, y, Op::Neg) {
        return Some(a.build(Op::Add, &[x, z]));
    }
    combine(a, x, y, -1.0).or_else(|| factor(a, x, y, Op::Sub))
}

fn mul(a: &mut Arena, x: ExprId, y: ExprId, shape: Shape) -> Option<ExprId> {
    if (is(a, x, 0.0) || is(a, y, 0.0)) && shape.is_scalar() {
        return Some(a.number(0.0));
    }
    for (one, other) in [(x, y), (y, x)] {
        if is(a, one, 1.0) && a.shape(other) == shape {
            return Some(other);
        }
        if is(a, one, -1.0) && a.shape(other) == shape {
            return Some(a.build(Op::Neg, &[other]));
        }
    }
    let (cx, cy) = (a.as_num(x), a.as_num(y));
    if cy.is_some() && cx.is_none() {
        // Numbers first: `2 * x`, so that like terms meet.
        return Some(a.build(Op::Mul, &[y, x]));
    }
    if let Some(c) = cx {
        if let Some((d, z)) = binary_of(a, y, Op::Mul)
            && let Some(d) = a.as_num(d)
        {
            let cd = a.number(c * d);
            return Some(a.build(Op::Mul, &[cd, z]));
        }
        if let Some(z) = unary_of(a, y, Op::Neg) {
            let m = a.number(-c);
            return Some(a.build(Op::Mul, &[m, z]));
        }
        return None;
    }
    // Signs move outwards, where they cancel: (-p)·q = -(p·q).
    match (unary_of(a, x, Op::Neg), unary_of(a, y, Op::Neg)) {
        (Some(p), Some(q)) => return Some(a.build(Op::Mul, &[p, q])),
        (Some(p), None) => {
            let m = a.build(Op::Mul, &[p, y]);
            return Some(a.build(Op::Neg, &[m]));
        }
        (None, Some(q)) => {
            let m = a.build(Op::Mul, &[x, q]);
            return Some(a.build(Op::Neg, &[m]));
        }
        (None, None) => {}
    }
    let ((bx, ex), (by, ey)) = (power(a, x), power(a, y));
    if bx == by {
        let e = a.number(ex + ey);
        return Some(a.build(Op::Pow, &[bx, e]));
    }
    if let Some((one, q)) = binary_of(a, y, Op::Div)
        && is(a, one, 1.0)
    {
        return Some(a.build(Op::Div, &[x, q]));
    }
    if let Some((one, q)) = binary_of(a, x, Op::Div)
        && is(a, one, 1.0)
    {
        return Some(a.build(Op::Div, &[y, q]));
    }
    None
}

fn div(a: &mut Arena, x: ExprId, y: ExprId, shape: Shape) -> Option<ExprId> {
    if is(a, y, 1.0) && a.shape(x) == shape {
        return Some(x);
    }
    if is(a, y, -1.0) && a.shape(x) == shape {
        return Some(a.build(Op::Neg, &[x]));
    }
    if is(a, x, 0.0) && !is(a, y, 0.0) && shape.is_scalar() {
        return Some(a.number(0.0));
    }
    if x == y && shape.is_scalar() {
        return Some(a.number(1.0));
    }
    match (unary_of(a, x, Op::Neg), unary_of(a, y, Op::Neg)) {
        (Some(p), Some(q)) => Some(a.build(Op::Div, &[p, q])),
        (Some(p), None) => {
            let d = a.build(Op::Div, &[p, y]);
            Some(a.build(Op::Neg, &[d]))
        }
        (None, Some(q)) => {
            let d = a.build(Op::Div, &[x, q]);
            Some(a.build(Op::Neg, &[d]))
        }
        (None, None) => None,
    }
}

fn neg(a: &mut Arena, x: ExprId) -> Option<ExprId> {
    if let Some(z) = unary_of(a, x, Op::Neg) {
        return Some(z);
    }
    if let Some((p, q)) = binary_of(a, x, Op::Sub) {
        return Some(a.build(Op::Sub, &[q, p]));
    }
    if let Some((c, z)) = binary_of(a, x, Op::Mul)
        && let Some(c) = a.as_num(c)
    {
        let m = a.number(-c);
        return Some(a.build(Op::Mul, &[m, z]));
    }
    None
}

fn pow(a: &mut Arena, x: ExprId, e: ExprId, shape: Shape) -> Option<ExprId> {
    if is(a, e, 1.0) && a.shape(x) == shape {
        return Some(x);
    }
    if (is(a, e, 0.0) || is(a, x, 1.0)) && shape.is_scalar() {
        return Some(a.number(1.0));
    }
    // (b^j)^k = b^(j·k) for whole j and k, whatever the sign of b.
    let whole = |v: Option<f64>| v.filter(|v| v.fract() == 0.0);
    if let Some((b, j)) = binary_of(a, x, Op::Pow)
        && let (Some(j), Some(k)) = (whole(a.as_num(j)), whole(a.as_num(e)))
    {
        let jk = a.number(j * k);
        return Some(a.build(Op::Pow, &[b, jk]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Builder;

    fn arena() -> (Arena, ExprId, ExprId) {
        let mut a = Arena::new();
        let x = a.var("x", Shape::Scalar);
        let y = a.var("y", Shape::Scalar);
        (a, x, y)
    }

    fn show(a: &Arena, id: ExprId) -> String {
        a.print(id, |_| None)
    }

    #[test]
    fn absorbs_zero_and_one() {
        let (mut a, x, y) = arena();
        let zero = a.num(0.0);
        let one = a.num(1.0);
        let p = a.apply(Op::Mul, &[zero, x]);
        assert_eq!(show(&a, p), "0");
        let p = a.apply(Op::Mul, &[one, y]);
        assert_eq!(p, y);
        let p = a.apply(Op::Add, &[x, zero]);
        assert_eq!(p, x);
        let p = a.apply(Op::Sub, &[x, x]);
        assert_eq!(show(&a, p), "0");
        let p = a.apply(Op::Pow, &[y, one]);
        assert_eq!(p, y);
    }

    #[test]
    fn folds_short_constants_only() {
        let (mut a, _, _) = arena();
        let (two, three) = (a.num(2.0), a.num(3.0));
        let p = a.apply(Op::Mul, &[two, three]);
        assert_eq!(show(&a, p), "6");
        let one = a.num(1.0);
        let p = a.apply(Op::Div, &[one, three]);
        assert_eq!(show(&a, p), "1 / 3");
    }

    #[test]
    fn negations_and_like_terms() {
        let (mut a, x, y) = arena();
        let n = a.apply(Op::Neg, &[x]);
        let nn = a.apply(Op::Neg, &[n]);
        assert_eq!(nn, x);
        let s = a.apply(Op::Add, &[x, x]);
        assert_eq!(show(&a, s), "2 * x");
        let s3 = a.apply(Op::Add, &[s, x]);
        assert_eq!(show(&a, s3), "3 * x");
        let d = a.apply(Op::Add, &[y, n]);
        assert_eq!(show(&a, d), "y - x");
        let z = a.apply(Op::Sub, &[s3, s3]);
        assert_eq!(show(&a, z), "0");
    }

    #[test]
    fn powers_combine() {
        let (mut a, x, _) = arena();
        let sq = a.apply(Op::Mul, &[x, x]);
        assert_eq!(show(&a, sq), "x ^ 2");
        let cube = a.apply(Op::Mul, &[x, sq]);
        assert_eq!(show(&a, cube), "x ^ 3");
        let three = a.num(3.0);
        let two = a.num(2.0);
        let p = a.apply(Op::Pow, &[x, three]);
        assert_eq!(p, cube);
        let pp = a.apply(Op::Pow, &[p, two]);
        assert_eq!(show(&a, pp), "x ^ 6");
    }

    #[test]
    fn shapes_are_kept() {
        let mut a = Arena::new();
        let v = a.var("v", Shape::Vector(3));
        let zero = a.num(0.0);
        // 0 * v is a zero vector, not the scalar 0.
        let p = a.apply(Op::Mul, &[zero, v]);
        assert_eq!(a.shape(p), Shape::Vector(3));
        let s = a.apply(Op::Sub, &[v, v]);
        assert_eq!(a.shape(s), Shape::Vector(3));
        let t = a.apply(Op::Transpose, &[v]);
        assert_eq!(t, v);
    }
}
