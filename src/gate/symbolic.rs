//! The symbolic rules of the gate table: each local gradient as an expression,
//! written once against [`Builder`] and built by every consumer in its own
//! representation.

use super::Op;

/// A symbolic expression builder: the gate table writes each local gradient once,
/// against this interface, and every consumer (the text explanation, the
/// symbolic differentiator) builds it in its own representation.
pub trait Builder {
    /// A handle on a built expression.
    type Id: Clone;
    /// A numeric constant.
    fn num(&mut self, x: f64) -> Self::Id;
    /// An operation on already-built expressions.
    fn apply(&mut self, op: Op, args: &[Self::Id]) -> Self::Id;
}

impl Op {
    /// The local gradient `∂out/∂input[slot]` as an expression over the gate's inputs
    /// `ins` and its own output `out`, for elementwise gates; `None` otherwise.
    /// It agrees with [`Op::local`] everywhere, kinks included (`step(0) = 0`,
    /// `sign(0) = 0`, a tie in `max` splits the gradient evenly).
    pub fn local_symbolic<B: Builder>(
        self,
        b: &mut B,
        slot: usize,
        ins: &[B::Id],
        out: &B::Id,
    ) -> Option<B::Id> {
        let x = ins[0].clone();
        let half_sign = |b: &mut B, p: B::Id, q: B::Id| {
            // (1 + sign(p - q)) / 2: 1 when p wins, 0 when it loses, ½ at a tie.
            let d = b.apply(Op::Sub, &[p, q]);
            let s = b.apply(Op::Sign, &[d]);
            let one = b.num(1.0);
            let n = b.apply(Op::Add, &[one, s]);
            let two = b.num(2.0);
            b.apply(Op::Div, &[n, two])
        };
        Some(match (self, slot) {
            (Op::Add, _) | (Op::Sub, 0) => b.num(1.0),
            (Op::Sub, _) | (Op::Neg, _) => b.num(-1.0),
            (Op::Mul, 0) => ins[1].clone(),
            (Op::Mul, _) => x,
            (Op::Div, 0) => {
                let one = b.num(1.0);
                b.apply(Op::Div, &[one, ins[1].clone()])
            }
            (Op::Div, _) => {
                let two = b.num(2.0);
                let sq = b.apply(Op::Pow, &[ins[1].clone(), two]);
                let q = b.apply(Op::Div, &[x, sq]);
                b.apply(Op::Neg, &[q])
            }
            (Op::Pow, 0) => {
                let one = b.num(1.0);
                let e = b.apply(Op::Sub, &[ins[1].clone(), one]);
                let p = b.apply(Op::Pow, &[x, e]);
                b.apply(Op::Mul, &[ins[1].clone(), p])
            }
            (Op::Pow, _) => {
                let l = b.apply(Op::Log, &[x]);
                b.apply(Op::Mul, &[out.clone(), l])
            }
            (Op::Max, 0) | (Op::Min, 1) => half_sign(b, x, ins[1].clone()),
            (Op::Max, _) | (Op::Min, _) => half_sign(b, ins[1].clone(), x),
            (Op::Relu, _) => b.apply(Op::Step, &[x]),
            (Op::Abs, _) => b.apply(Op::Sign, &[x]),
            (Op::Exp, _) => out.clone(),
            (Op::Log, _) => {
                let one = b.num(1.0);
                b.apply(Op::Div, &[one, x])
            }
            (Op::Sqrt, _) => {
                let two = b.num(2.0);
                let d = b.apply(Op::Mul, &[two, out.clone()]);
                let one = b.num(1.0);
                b.apply(Op::Div, &[one, d])
            }
            (Op::Sigmoid, _) => {
                let one = b.num(1.0);
                let c = b.apply(Op::Sub, &[one, out.clone()]);
                b.apply(Op::Mul, &[out.clone(), c])
            }
            (Op::Tanh, _) => {
                let one = b.num(1.0);
                let two = b.num(2.0);
                let sq = b.apply(Op::Pow, &[out.clone(), two]);
                b.apply(Op::Sub, &[one, sq])
            }
            (Op::Sin, _) => b.apply(Op::Cos, &[x]),
            (Op::Cos, _) => {
                let s = b.apply(Op::Sin, &[x]);
                b.apply(Op::Neg, &[s])
            }
            (Op::Step | Op::Sign, _) => b.num(0.0),
            (Op::Input(_) | Op::Const(_), _) => b.num(1.0),
            _ => return None,
        })
    }
}
