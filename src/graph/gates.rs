//! The gates of a circuit and their inputs, as it keeps them: 12 bytes a
//! gate, where a [`Gate`] is 24 (an [`Op`] is 16 bytes for the one operation
//! that holds an `f64`), and 4 an input.
//!
//! A gate keeps its operation's code, how many inputs it has, where its place
//! starts and how long it is, and one number: where its inputs start in the
//! list of every gate's inputs, or, for the gates without inputs, the
//! parameter's index or the constant's index in a table of values. So the
//! inputs' edges are numbered in the order of that list: the edge of operand
//! `slot` of gate `g` is its start plus `slot`. What the 12 bytes do not hold
//! (more than six inputs, a place longer than 16 MiB) is kept in side tables.
//!
//! Half the memory of the largest array of a circuit, and no array of where
//! each gate's inputs start: on a large generated program, fewer pages to
//! fault in (each costs about as much as a stage's whole parse) and fewer
//! cache lines for every pass that reads the gates.

use super::{Gate, GateId};
use crate::error::Span;
use crate::gate::Op;

/// Every operation, at its code (see [`code`]): inputs and constants, with
/// an argument of 0, are 0 and 1. Tests that go through every operation take
/// them from here.
pub(crate) const BY_CODE: [Op; 28] = [
    Op::Input(0),
    Op::Const(0.0),
    Op::Add,
    Op::Sub,
    Op::Mul,
    Op::Div,
    Op::Pow,
    Op::Neg,
    Op::Dot,
    Op::Max,
    Op::Min,
    Op::Relu,
    Op::Abs,
    Op::Exp,
    Op::Log,
    Op::Sqrt,
    Op::Sigmoid,
    Op::Tanh,
    Op::Sin,
    Op::Cos,
    Op::Step,
    Op::Sign,
    Op::Sum,
    Op::Mean,
    Op::Transpose,
    Op::Outer,
    Op::Index,
    Op::Scatter,
];

/// An operation's code: its place in [`BY_CODE`]. The match is exhaustive,
/// so a new operation cannot be forgotten here; the tests hold the two to
/// each other.
fn code(op: Op) -> u8 {
    match op {
        Op::Input(_) => 0,
        Op::Const(_) => 1,
        Op::Add => 2,
        Op::Sub => 3,
        Op::Mul => 4,
        Op::Div => 5,
        Op::Pow => 6,
        Op::Neg => 7,
        Op::Dot => 8,
        Op::Max => 9,
        Op::Min => 10,
        Op::Relu => 11,
        Op::Abs => 12,
        Op::Exp => 13,
        Op::Log => 14,
        Op::Sqrt => 15,
        Op::Sigmoid => 16,
        Op::Tanh => 17,
        Op::Sin => 18,
        Op::Cos => 19,
        Op::Step => 20,
        Op::Sign => 21,
        Op::Sum => 22,
        Op::Mean => 23,
        Op::Transpose => 24,
        Op::Outer => 25,
        Op::Index => 26,
        Op::Scatter => 27,
    }
}

/// One gate in 12 bytes: `head` holds its operation's code (the low
/// [`CODE_BITS`]), how many inputs it has (the next [`N_BITS`]; [`N_MANY`]:
/// see [`Gates::many`]) and the length of its place (the rest; [`LEN_LONG`]:
/// see [`Gates::long`]); `arg`, where its inputs start in [`Gates::inputs`]
/// (without inputs, the parameter's index or the constant's index in
/// [`Gates::consts`]); `start`, where its place starts.
#[derive(Clone, Copy, Debug)]
struct Packed {
    head: u32,
    arg: u32,
    start: u32,
}

const CODE_BITS: u32 = 5;
const N_BITS: u32 = 3;
/// The count of a gate whose inputs are counted in [`Gates::many`].
const N_MANY: u32 = (1 << N_BITS) - 1;
const LEN_SHIFT: u32 = CODE_BITS + N_BITS;
/// The length of a place kept in [`Gates::long`].
const LEN_LONG: u32 = u32::MAX >> LEN_SHIFT;
const _: () = assert!(BY_CODE.len() <= 1 << CODE_BITS);

impl Packed {
    fn code(self) -> u32 {
        self.head & ((1 << CODE_BITS) - 1)
    }

    fn n(self) -> u32 {
        (self.head >> CODE_BITS) & N_MANY
    }

    fn len(self) -> u32 {
        self.head >> LEN_SHIFT
    }
}

/// The gates in forward order, with their inputs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Gates {
    packed: Vec<Packed>,
    /// The constants' values, in the order of their gates.
    consts: Vec<f64>,
    /// Every gate's inputs, in operand order, one gate after the other.
    inputs: Vec<GateId>,
    /// (gate, how many inputs) for the operations other than parameters and
    /// constants with none or more than [`N_MANY`] − 1, in gate order; their
    /// count in `head` is [`N_MANY`]. The parser never makes one (`max` of
    /// many is a chain of twos), but a syntax tree built by hand may ask for
    /// any number.
    many: Vec<(u32, u32)>,
    /// (gate, place) for the gates whose place is [`LEN_LONG`] bytes or
    /// longer, in gate order: a sum written over more than 16 MiB.
    long: Vec<(u32, Span)>,
}

impl Gates {
    /// Room for about `n` gates and `edges` inputs.
    pub(crate) fn with_capacity(n: usize, edges: usize) -> Gates {
        Gates {
            packed: Vec::with_capacity(n),
            consts: Vec::new(),
            inputs: Vec::with_capacity(edges),
            many: Vec::new(),
            long: Vec::new(),
        }
    }

    /// Appends a gate with its inputs, in operand order, which come before it.
    #[inline(always)]
    pub(crate) fn push(&mut self, gate: Gate, inputs: &[GateId]) {
        let arg = match gate.op {
            Op::Input(i) => i,
            Op::Const(x) => {
                self.consts.push(x);
                self.consts.len() as u32 - 1
            }
            _ => self.inputs.len() as u32,
        };
        debug_assert!(
            !matches!(gate.op, Op::Input(_) | Op::Const(_)) || inputs.is_empty(),
            "a parameter or a constant has no inputs"
        );
        // A loop, not `extend_from_slice`: that is a `memcpy` call a gate.
        for &input in inputs {
            debug_assert!(input.index() < self.len(), "topological order");
            self.inputs.push(input);
        }
        let leaf = matches!(gate.op, Op::Input(_) | Op::Const(_));
        let n = match u32::try_from(inputs.len()) {
            Ok(n) if leaf || (n > 0 && n < N_MANY) => n,
            _ => {
                self.many.push((self.len() as u32, inputs.len() as u32));
                N_MANY
            }
        };
        let (start, len) = (gate.span.start, gate.span.end.wrapping_sub(gate.span.start));
        // A place that ends before it starts (a hand-made span) wraps to a
        // long one, and comes back as it went in.
        let len = if len < LEN_LONG {
            len
        } else {
            self.long.push((self.len() as u32, gate.span));
            LEN_LONG
        };
        self.packed.push(Packed {
            head: code(gate.op) as u32 | n << CODE_BITS | len << LEN_SHIFT,
            arg,
            start,
        });
    }

    /// Keeps the first `len` gates, forgetting the rest with their inputs,
    /// constants and side-table entries: lowering undoing a statement.
    pub(crate) fn truncate(&mut self, len: usize) {
        let Some(gone) = self.packed.get(len..) else {
            return;
        };
        // The first of the gates that go which has inputs says where theirs
        // start, and the first constant where theirs do.
        if let Some(p) = gone.iter().find(|p| p.code() > 1) {
            self.inputs.truncate(p.arg as usize);
        }
        if let Some(p) = gone.iter().find(|p| p.code() == 1) {
            self.consts.truncate(p.arg as usize);
        }
        fn kept<T>(table: &[(u32, T)], len: usize) -> usize {
            table.partition_point(|&(g, _)| (g as usize) < len)
        }
        self.many.truncate(kept(&self.many, len));
        self.long.truncate(kept(&self.long, len));
        self.packed.truncate(len);
    }

    /// Gate `k`'s inputs, in operand order.
    #[inline(always)]
    pub(crate) fn inputs(&self, k: usize) -> &[GateId] {
        let p = self.packed[k];
        let n = match p.n() {
            // A parameter or a constant, whose `arg` is not a place in the list.
            0 => return &[],
            N_MANY => self.many_inputs(k),
            n => n as usize,
        };
        &self.inputs[p.arg as usize..p.arg as usize + n]
    }

    /// How many inputs gate `k` has, one of [`Gates::many`].
    #[cold]
    fn many_inputs(&self, k: usize) -> usize {
        side(&self.many, k) as usize
    }

    /// The edge of gate `k`'s first input (it must have inputs).
    pub(crate) fn first_edge(&self, k: usize) -> usize {
        debug_assert!(self.packed[k].code() > 1, "not a parameter or a constant");
        self.packed[k].arg as usize
    }

    /// How many edges: inputs, over all gates.
    pub(crate) fn edge_count(&self) -> usize {
        self.inputs.len()
    }

    /// How many gates.
    pub(crate) fn len(&self) -> usize {
        self.packed.len()
    }

    /// Gate `k`'s operation.
    #[inline]
    pub(crate) fn op(&self, k: usize) -> Op {
        let p = self.packed[k];
        match p.code() {
            0 => Op::Input(p.arg),
            1 => Op::Const(self.consts[p.arg as usize]),
            c => BY_CODE[c as usize],
        }
    }

    /// Gate `k`'s operation and inputs, from one read of its 12 bytes: what
    /// the scalar lane's loops take for every gate.
    #[inline(always)]
    pub(crate) fn op_inputs(&self, k: usize) -> (Op, &[GateId]) {
        let p = self.packed[k];
        let (op, n) = match (p.code(), p.n()) {
            (0, _) => return (Op::Input(p.arg), &[]),
            (1, _) => return (Op::Const(self.consts[p.arg as usize]), &[]),
            (c, N_MANY) => (BY_CODE[c as usize], self.many_inputs(k)),
            (c, n) => (BY_CODE[c as usize], n as usize),
        };
        (op, &self.inputs[p.arg as usize..p.arg as usize + n])
    }

    /// Gate `k`.
    pub(crate) fn get(&self, k: usize) -> Gate {
        Gate {
            op: self.op(k),
            span: self.span(k),
        }
    }

    /// Gate `k`'s place.
    fn span(&self, k: usize) -> Span {
        let p = self.packed[k];
        match p.len() {
            LEN_LONG => side(&self.long, k),
            len => Span {
                start: p.start,
                end: p.start + len,
            },
        }
    }

    /// Every gate, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Gate> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }
}

/// Gate `k`'s entry in a side table of (gate, what its 12 bytes do not hold),
/// in gate order.
#[cold]
fn side<T: Copy>(table: &[(u32, T)], k: usize) -> T {
    let at = table.partition_point(|&(g, _)| (g as usize) < k);
    table[at].1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_comes_back_as_it_went_in() {
        for (k, &op) in BY_CODE.iter().enumerate() {
            assert_eq!(code(op) as usize, k, "{op:?}");
        }
        let mut gates = Gates::default();
        let ops: Vec<Op> = BY_CODE
            .iter()
            .copied()
            .chain([
                Op::Input(7),
                Op::Const(-0.0),
                Op::Const(f64::NAN),
                Op::Const(1e308),
                Op::Input(u32::MAX),
            ])
            .collect();
        let id = GateId::new;
        // Each gate with inputs takes the two gates before it.
        let inputs = |k: usize, op: Op| match op {
            Op::Input(_) | Op::Const(_) => vec![],
            _ => vec![id(k - 2), id(k - 1)],
        };
        for (k, &op) in ops.iter().enumerate() {
            let gate = Gate {
                op,
                span: Span::new(k, k + 1),
            };
            gates.push(gate, &inputs(k, op));
        }
        for (k, &op) in ops.iter().enumerate() {
            let g = gates.get(k);
            // Constants compare by their bits, so -0.0 and NaN are checked too.
            assert_eq!(g.op, op, "gate {k}");
            assert_eq!(g.span, Span::new(k, k + 1));
            assert_eq!(gates.inputs(k), inputs(k, op), "gate {k}");
        }
        assert_eq!(gates.edge_count(), 2 * (BY_CODE.len() - 2));
        assert_eq!(std::mem::size_of::<Packed>(), 12);
    }

    /// Gates cut back to any length and pushed again are the gates pushed
    /// once: their inputs, constants, counts and places, those in the side
    /// tables too.
    #[test]
    fn truncated_gates_are_as_if_never_pushed() {
        let id = GateId::new;
        // Parameters, constants, gates of two inputs, of many and of none,
        // and places too long for the head, interleaved.
        let gate = |k: usize| -> (Gate, Vec<GateId>) {
            let (op, inputs) = match k % 6 {
                _ if k < 2 => (Op::Input(k as u32), vec![]),
                0 => (Op::Const(k as f64), vec![]),
                1 => (Op::Mul, vec![id(k - 1), id(k - 2)]),
                2 => (Op::Max, (0..9).map(|j| id((k + j) % k)).collect()),
                3 => (Op::Sum, vec![]),
                4 => (Op::Input(k as u32), vec![]),
                _ => (Op::Tanh, vec![id(k / 2)]),
            };
            let len = if k % 4 == 3 { LEN_LONG as usize + k } else { k };
            (
                Gate {
                    op,
                    span: Span::new(k, k + len),
                },
                inputs,
            )
        };
        let n = 40;
        let mut once = Gates::default();
        for k in 0..n {
            let (g, inputs) = gate(k);
            once.push(g, &inputs);
        }
        let all = |g: &Gates| -> Vec<(String, Vec<GateId>)> {
            (0..g.len())
                .map(|k| (format!("{:?}", g.get(k)), g.inputs(k).to_vec()))
                .collect()
        };
        for cut in 0..=n {
            let mut again = once.clone();
            again.truncate(cut);
            assert_eq!(again.len(), cut);
            for k in cut..n {
                let (g, inputs) = gate(k);
                again.push(g, &inputs);
            }
            assert_eq!(all(&again), all(&once), "cut at {cut}");
            assert_eq!(
                (
                    again.inputs.len(),
                    again.consts.len(),
                    again.many.len(),
                    again.long.len()
                ),
                (
                    once.inputs.len(),
                    once.consts.len(),
                    once.many.len(),
                    once.long.len()
                ),
                "cut at {cut}"
            );
        }
    }

    /// A gate with more inputs than a gate's count holds keeps them all, one
    /// with none has none, and the gates around them keep theirs.
    #[test]
    fn a_gate_with_very_many_inputs_keeps_them_all() {
        let id = GateId::new;
        let mut gates = Gates::default();
        let at = |k: usize| Gate {
            op: if k < 2 { Op::Input(k as u32) } else { Op::Max },
            span: Span::new(k, k + 1),
        };
        gates.push(at(0), &[]);
        gates.push(at(1), &[]);
        for many in [70_000, 65_536, 7, 6, 1, 0, 8] {
            let inputs: Vec<GateId> = (0..many).map(|k| id(k % 2)).collect();
            let k = gates.len();
            gates.push(at(k), &inputs);
            gates.push(at(k + 1), &[id(0), id(1)]);
            assert_eq!(gates.inputs(k), inputs, "{many} inputs");
            assert_eq!(gates.op_inputs(k), (Op::Max, &inputs[..]), "{many} inputs");
            assert_eq!(gates.inputs(k + 1), [id(0), id(1)]);
            assert_eq!(gates.first_edge(k + 1), gates.first_edge(k) + many);
            assert_eq!(gates.get(k).span, Span::new(k, k + 1));
        }
        assert_eq!(
            gates.many.len(),
            5,
            "70 000, 65 536, 7, 0 and 8 inputs; not 6 or 1"
        );
    }

    /// A place of any length comes back whole: those too long for a gate's
    /// head from the side table, in among the others.
    #[test]
    fn a_place_of_any_length_comes_back() {
        let lens = [0, 1, LEN_LONG - 1, LEN_LONG, LEN_LONG + 1, 5, u32::MAX - 9];
        let mut gates = Gates::default();
        let spans: Vec<Span> = lens
            .iter()
            .enumerate()
            .map(|(k, &len)| Span {
                start: k as u32,
                end: k as u32 + len,
            })
            .collect();
        // A hand-made place that ends before it starts comes back as it went in.
        let spans: Vec<Span> = spans
            .into_iter()
            .chain([Span { start: 9, end: 3 }])
            .collect();
        for (k, &span) in spans.iter().enumerate() {
            gates.push(
                Gate {
                    op: Op::Input(k as u32),
                    span,
                },
                &[],
            );
        }
        for (k, &span) in spans.iter().enumerate() {
            assert_eq!(gates.get(k).span, span, "gate {k}");
            assert_eq!(gates.get(k).op, Op::Input(k as u32));
        }
        assert_eq!(
            gates.long.len(),
            4,
            "the lengths from LEN_LONG up, and the one that ends before it starts"
        );
    }
}
