//! Local gradients written out as formulas over a gate's input labels, built
//! from the gate table's single symbolic definition ([`Op::local_symbolic`])
//! in the simplifying expression arena, so that `∂(x^2)/∂x` reads `2 * x`.

use crate::gate::{Builder, Op};
use crate::graph::{Circuit, GateId};
use crate::symbolic::expr::Arena;
use crate::value::Shape;

/// `∂gate/∂input[slot]` as a formula over the input labels, for elementwise gates:
/// `y` for `x * y`, `(1 + sign(a - b)) / 2` for `max(a, b)`.
pub fn formula(c: &Circuit, g: GateId, slot: usize) -> Option<String> {
    Formulas::default().formula(c, g, slot)
}

/// [`formula`] for gate after gate: one arena, emptied and reused, instead of a
/// new one for each local gradient of a million-gate report.
#[derive(Default)]
pub struct Formulas {
    arena: Arena,
}

impl Formulas {
    /// `∂gate/∂input[slot]`, as [`formula`] writes it.
    pub fn formula(&mut self, c: &Circuit, g: GateId, slot: usize) -> Option<String> {
        let a = &mut self.arena;
        a.clear();
        local(a, c, g, slot)
    }
}

fn local(a: &mut Arena, c: &Circuit, g: GateId, slot: usize) -> Option<String> {
    // Labels stand for values of unknown shape; as scalars they simplify as far
    // as is safe for any shape, since no rule here depends on a tensor's size.
    let ins: Vec<_> = c
        .inputs(g)
        .iter()
        .map(|&i| match c.op(i) {
            Op::Const(x) => a.num(x),
            _ => a.var(&c.label(i), Shape::Scalar),
        })
        .collect();
    let out = a.var(&c.label(g), Shape::Scalar);
    let root = c.op(g).local_symbolic(a, slot, &ins, &out)?;
    Some(a.print(root, |_| None))
}
