//! Local gradients written out as formulas over a gate's input labels, built
//! from the gate table's single symbolic definition ([`Op::local_symbolic`]).

use crate::gate::{Builder, Op};
use crate::graph::{Circuit, GateId};
use crate::print::{Brackets, Node, print};

/// A throwaway expression arena that only prints.
#[derive(Default)]
struct Text {
    nodes: Vec<(Option<Op>, String, Vec<usize>)>,
}

impl Text {
    fn leaf(&mut self, s: String) -> usize {
        self.nodes.push((None, s, Vec::new()));
        self.nodes.len() - 1
    }
    fn num_of(&self, id: usize) -> Option<f64> {
        let (op, s, _) = &self.nodes[id];
        op.is_none().then(|| s.parse().ok()).flatten()
    }
}

impl Builder for Text {
    type Id = usize;
    fn num(&mut self, x: f64) -> usize {
        self.leaf(crate::print::number(x))
    }
    fn apply(&mut self, op: Op, args: &[usize]) -> usize {
        // Just enough folding to read well: -(1) is -1, 1·y is y.
        match (op, args) {
            (Op::Neg, [a]) if self.num_of(*a).is_some() => {
                let x = self.num_of(*a).unwrap_or(0.0);
                return self.num(-x);
            }
            (Op::Mul, [a, b]) if self.num_of(*a) == Some(1.0) => return *b,
            (Op::Mul, [a, b]) if self.num_of(*b) == Some(1.0) => return *a,
            _ => {}
        }
        self.nodes.push((Some(op), String::new(), args.to_vec()));
        self.nodes.len() - 1
    }
}

/// ∂gate/∂input\[slot\] as a formula over the input labels, for elementwise gates:
/// `y` for `x * y`, `(1 + sign(a - b)) / 2` for `max(a, b)`.
pub fn formula(c: &Circuit, g: GateId, slot: usize) -> Option<String> {
    let mut t = Text::default();
    let ins: Vec<usize> = c.inputs(g).iter().map(|&i| t.leaf(c.label(i))).collect();
    let out = t.leaf(c.label(g));
    let root = c.op(g).local_symbolic(&mut t, slot, &ins, &out)?;
    Some(print(
        root,
        |n| match &t.nodes[n] {
            (None, s, _) => Node::Leaf(s.as_str().into()),
            (Some(op), _, args) => Node::Apply(*op, args.iter().copied().collect()),
        },
        Brackets::Needed,
    ))
}
