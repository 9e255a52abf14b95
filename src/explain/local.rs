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

/// [`formula`] for gate after gate, as the report asks for every gate's local
/// gradients. A formula over input gates that are not constants depends only on
/// the operation and the operand position, so it is made once, over
/// placeholders, and the labels are put in for each gate: a million tanh gates
/// share one `1 - ▢ ^ 2`. Formulas over constants are made one by one.
#[derive(Default)]
pub struct Formulas {
    arena: Arena,
    templates: rustc_hash::FxHashMap<(Op, usize, usize), Option<String>>,
}

/// Marks a placeholder in a template; the byte after it says which: `0`, `1`,
/// … an input, `o` the gate itself. No label contains it.
const HOLE: char = '\u{1}';

impl Formulas {
    /// `∂gate/∂input[slot]`, as [`formula`] writes it.
    pub fn formula(&mut self, c: &Circuit, g: GateId, slot: usize) -> Option<String> {
        let ins = c.input_slice(g);
        if ins.len() > 9 || ins.iter().any(|&i| matches!(c.op(i), Op::Const(_))) {
            let a = &mut self.arena;
            a.clear();
            return local(a, c, g, slot);
        }
        let key = (c.op(g), slot, ins.len());
        let arena = &mut self.arena;
        let template = self.templates.entry(key).or_insert_with(|| {
            arena.clear();
            let vars: Vec<_> = (0..ins.len())
                .map(|k| arena.var(&format!("{HOLE}{k}"), Shape::Scalar))
                .collect();
            let out = arena.var(&format!("{HOLE}o"), Shape::Scalar);
            let root = key.0.local_symbolic(arena, slot, &vars, &out)?;
            Some(arena.print(root, |_| None))
        });
        let template = template.as_deref()?;
        let mut out = String::with_capacity(template.len() + 8);
        let mut parts = template.split(HOLE);
        out.push_str(parts.next().unwrap_or_default());
        for part in parts {
            let mut chars = part.chars();
            match chars.next() {
                Some('o') => c.write_label(&mut out, g),
                Some(d) => {
                    let k = d.to_digit(10).unwrap_or(0) as usize;
                    c.write_label(&mut out, ins[k]);
                }
                None => {}
            }
            out.push_str(chars.as_str());
        }
        Some(out)
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
