//! The gate DAG and lowering from the AST.
//!
//! Lowering hash-conses: a name used twice, a stage used twice and a repeated
//! subexpression all become ONE gate with several consumers — a fork, where the
//! backward pass adds gradients. Gates are added after their inputs, so index
//! order is a topological order; every pass walks the DAG by index, never by
//! recursion.
//!
//! The DAG is stored flat, in the layout the passes read (`gates.rs`): the
//! gates in order, 12 bytes each, and every gate's inputs in one list, each
//! gate knowing where its inputs start there. Each gate's consumers are
//! indexed on first use ([`Circuit::consumers`]). petgraph's `DiGraph` of the
//! same gates and edges, with the same indices, is built on first use
//! ([`Circuit::graph`]) for the views that walk a graph: a `DiGraph` costs 32
//! bytes a node and 20 an edge, which on a million-stage program was a fifth
//! of the whole report's memory.

use crate::error::{Result, Span};
use crate::gate::Op;
use crate::syntax::{Program, Sym, ast::Names};
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use smallvec::SmallVec;
use std::sync::OnceLock;

mod gates;
mod names;
#[cfg(test)]
pub(crate) use gates::BY_CODE as EVERY_OP;
pub(crate) use gates::Gates;
pub use names::StageNames;

/// A gate's handle in a [`Circuit`]. Its index is its place in forward order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GateId(pub NodeIndex<u32>);

impl GateId {
    /// The gate at position `k` in forward (topological) order.
    #[inline]
    pub fn new(k: usize) -> GateId {
        GateId(NodeIndex::new(k))
    }

    /// The gate's position in forward (topological) order.
    pub fn index(self) -> usize {
        self.0.index()
    }
}

/// A gate: its operation and the place in the program it first comes from.
#[derive(Clone, Copy, Debug)]
pub struct Gate {
    /// What it computes.
    pub op: Op,
    /// Where in the program.
    pub span: Span,
}

/// A parameter of the circuit.
#[derive(Clone, Debug)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its input gate.
    pub gate: GateId,
    /// Where it is declared (in the header) or first used.
    pub span: Span,
}

/// How a parameter takes part in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamRole {
    /// A gradient flows back to it.
    Differentiable,
    /// It is only used as an index: it carries no gradient (`null` in the report).
    Index,
    /// The output does not depend on it: its gradient is 0.
    Unused,
}

/// Inputs of a gate, in operand order.
pub type Inputs = SmallVec<[GateId; 3]>;

/// The gate DAG of a program (see the module's notes on its layout).
#[derive(Clone, Debug)]
pub struct Circuit {
    /// The gates, in forward (topological) order, with their inputs.
    gates: Gates,
    /// [`Circuit::graph`], built once.
    graph: OnceLock<DiGraph<Gate, u8, u32>>,
    /// The parameters, in order: the header's, or by first appearance.
    pub params: Vec<Param>,
    /// The output gate (the last statement's).
    pub output: GateId,
    /// The output's name: the header's or stage's, or a generated one.
    pub output_name: String,
    /// Stage names given to gates (a gate may carry several).
    pub stage_names: StageNames,
    /// What lowering noticed: literals that overflow, unused parameters.
    pub notes: Vec<String>,
    /// The prefix of anonymous gates' labels (`t1`), one no name clashes
    /// with; found on the first label asked for, since it reads every stage
    /// name and a results-only run asks for none.
    temp_prefix: OnceLock<&'static str>,
    /// For each anonymous gate its number in `t1, t2, …` (forward order); 0
    /// otherwise. Computed on the first label asked for: a results-only run
    /// never asks.
    temp_numbers: OnceLock<Vec<u32>>,
    /// [`Circuit::reach`], computed once.
    reach: OnceLock<(Vec<bool>, Vec<bool>)>,
    /// [`Circuit::requires_grad`], computed once.
    requires: OnceLock<Vec<bool>>,
    /// [`Circuit::consumers`]' index, built on first use: gate `g`'s uses are
    /// `uses[starts[g]..starts[g + 1]]`, each (edge, consumer), by edge.
    users: OnceLock<Users>,
}

/// [`Circuit::consumers`]' index: where each gate's uses start, and every use
/// as (edge, consumer), grouped by the gate used and by edge within a group.
type Users = (Vec<u32>, Vec<(u32, GateId)>);

impl Circuit {
    /// Assembles a circuit from what lowering built: the gates with their
    /// inputs, the parameters, the output, the names' table with the stage names
    /// given to gates, and the notes.
    pub(crate) fn from_parts(
        gates: Gates,
        params: Vec<Param>,
        output: GateId,
        output_name: String,
        (names, stage_names): (Names, Vec<(GateId, Sym)>),
        notes: Vec<String>,
    ) -> Circuit {
        let n = gates.len();
        Circuit {
            gates,
            graph: OnceLock::new(),
            params,
            output,
            output_name,
            stage_names: StageNames::new(names, stage_names, n),
            notes,
            temp_prefix: OnceLock::new(),
            temp_numbers: OnceLock::new(),
            reach: OnceLock::new(),
            requires: OnceLock::new(),
            users: OnceLock::new(),
        }
    }

    /// See [`Circuit::temp_numbers`].
    fn temp_numbers(&self) -> &[u32] {
        self.temp_numbers.get_or_init(|| {
            let mut next = 0;
            self.gates()
                .map(|g| {
                    let anonymous = !matches!(self.op(g), Op::Input(_) | Op::Const(_))
                        && g != self.output
                        && !self.stage_names.contains_key(&g);
                    if anonymous {
                        next += 1;
                        next
                    } else {
                        0
                    }
                })
                .collect()
        })
    }

    /// The number of gates.
    pub fn len(&self) -> usize {
        self.gates.len()
    }

    /// The number of edges: one per operand of each gate.
    pub fn edge_count(&self) -> usize {
        self.gates.edge_count()
    }

    /// The DAG as a petgraph graph, built on first use: gates as nodes, and an
    /// edge from each input to the gate that consumes it, weighted with the
    /// operand position (slot). Node and edge indices are the circuit's own
    /// ([`GateId`], [`Circuit::input_edge`]).
    pub fn graph(&self) -> &DiGraph<Gate, u8, u32> {
        self.graph.get_or_init(|| {
            let mut g = DiGraph::with_capacity(self.len(), self.edge_count());
            for gate in self.gates.iter() {
                g.add_node(gate);
            }
            for id in self.gates() {
                for (slot, input) in self.input_slice(id).iter().enumerate() {
                    g.add_edge(input.0, id.0, slot as u8);
                }
            }
            g
        })
    }

    /// True when there is no gate (never, for a parsed program).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All gates in forward order.
    pub fn gates(&self) -> impl DoubleEndedIterator<Item = GateId> + ExactSizeIterator {
        (0..self.len()).map(GateId::new)
    }

    /// The gate.
    pub fn gate(&self, id: GateId) -> Gate {
        self.gates.get(id.index())
    }

    /// The gate's operation.
    pub fn op(&self, id: GateId) -> Op {
        self.gates.op(id.index())
    }

    /// The gate's inputs, in operand order.
    pub fn inputs(&self, id: GateId) -> Inputs {
        Inputs::from_slice(self.input_slice(id))
    }

    /// The gate's inputs, in operand order, without a copy.
    pub fn input_slice(&self, id: GateId) -> &[GateId] {
        self.gates.inputs(id.index())
    }

    /// The gate's operation and inputs at once, for the loops that read both
    /// for every gate.
    #[inline(always)]
    pub(crate) fn op_inputs(&self, k: usize) -> (Op, &[GateId]) {
        self.gates.op_inputs(k)
    }

    /// The edge that carries operand `slot` into the gate.
    pub fn input_edge(&self, id: GateId, slot: usize) -> EdgeIndex<u32> {
        EdgeIndex::new(self.gates.first_edge(id.index()) + slot)
    }

    /// The edges into a gate, in operand order: (edge, slot, input).
    pub fn input_edges(&self, id: GateId) -> SmallVec<[(EdgeIndex<u32>, usize, GateId); 3]> {
        self.input_slice(id)
            .iter()
            .enumerate()
            .map(|(slot, &input)| (self.input_edge(id, slot), slot, input))
            .collect()
    }

    /// The gates that consume this one, one entry per use (a gate that uses it
    /// twice, as `x*x` does, appears twice): (edge, slot, consumer).
    pub fn consumers(&self, id: GateId) -> Vec<(EdgeIndex<u32>, usize, GateId)> {
        let (starts, uses) = self.users.get_or_init(|| self.index_users());
        uses[starts[id.index()] as usize..starts[id.index() + 1] as usize]
            .iter()
            .map(|&(e, user)| {
                let slot = e as usize - self.gates.first_edge(user.index());
                (EdgeIndex::new(e as usize), slot, user)
            })
            .collect()
    }

    /// Every gate's uses, by edge: counted, then placed (see `Circuit::users`).
    fn index_users(&self) -> Users {
        let mut starts = vec![0u32; self.len() + 1];
        for user in self.gates() {
            for input in self.input_slice(user) {
                starts[input.index() + 1] += 1;
            }
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let mut next = starts.clone();
        let mut uses = vec![(0, GateId(NodeIndex::end())); self.edge_count()];
        for user in self.gates() {
            for (slot, input) in self.input_slice(user).iter().enumerate() {
                let at = &mut next[input.index()];
                uses[*at as usize] = (self.input_edge(user, slot).index() as u32, user);
                *at += 1;
            }
        }
        (starts, uses)
    }

    /// The parameter an input gate stands for.
    pub fn param_of(&self, id: GateId) -> Option<&Param> {
        match self.op(id) {
            Op::Input(i) => self.params.get(i as usize),
            _ => None,
        }
    }

    /// The name a student sees for a gate: its stage name, its parameter name, its
    /// number for a constant, or a generated `t<index>` for an anonymous gate.
    pub fn label(&self, id: GateId) -> String {
        let mut s = String::new();
        self.write_label(&mut s, id);
        s
    }

    /// Appends [`Circuit::label`] to `out`, without allocating a new string.
    pub fn write_label(&self, out: &mut String, id: GateId) {
        use std::fmt::Write;
        // A parameter is its own name, even as the output (`f(a, b) = a`):
        // as the output's name it would hide the parameter.
        let param = match self.op(id) {
            Op::Input(i) => Some(&self.params[i as usize].name),
            _ => None,
        };
        if let Some(name) = param {
            out.push_str(name);
        } else if id == self.output {
            out.push_str(&self.output_name);
        } else if let Some(name) = self.stage_names.first(id) {
            out.push_str(name);
        } else {
            match self.op(id) {
                Op::Input(i) => out.push_str(&self.params[i as usize].name),
                Op::Const(c) => out.push_str(&crate::print::number(c)),
                _ => {
                    let k = self.temp_numbers()[id.index()];
                    let prefix = self.temp_prefix.get_or_init(|| pick_temp_prefix(self));
                    let _ = write!(out, "{prefix}{k}");
                }
            }
        }
    }

    /// The gate written as its operation over its inputs' labels: `x * y`, `exp(t3)`.
    pub fn formula(&self, id: GateId) -> String {
        let ins = self.input_slice(id);
        match self.op(id) {
            Op::Input(_) | Op::Const(_) => self.label(id),
            op => crate::print::print(
                usize::MAX,
                |n| {
                    if n == usize::MAX {
                        crate::print::Node::Apply(op, (0..ins.len()).collect())
                    } else {
                        crate::print::Node::Leaf(self.label(ins[n]).into())
                    }
                },
                crate::print::Brackets::Needed,
            ),
        }
    }

    /// [`Circuit::formula`] with the unnamed gates under `id` written out as
    /// their own formulas, up to `budget` of them (the rest by their labels):
    /// `log(x - 2)` where the formula is `log(t1)`. For a message about a
    /// place in the program, where a temporary's name is nowhere to be seen.
    pub fn spelled_formula(&self, id: GateId, budget: usize) -> String {
        let unnamed = |g: GateId| {
            g != self.output
                && self.stage_names.first(g).is_none()
                && !matches!(self.op(g), Op::Input(_) | Op::Const(_))
        };
        let mut spelled = vec![id];
        let mut k = 0;
        while k < spelled.len() {
            for &g in self.input_slice(spelled[k]) {
                if spelled.len() <= budget && unnamed(g) && !spelled.contains(&g) {
                    spelled.push(g);
                }
            }
            k += 1;
        }
        crate::print::print(
            id,
            |g| match self.op(g) {
                Op::Input(_) | Op::Const(_) => crate::print::Node::Leaf(self.label(g).into()),
                op if spelled.contains(&g) => {
                    crate::print::Node::Apply(op, self.input_slice(g).iter().copied().collect())
                }
                _ => crate::print::Node::Leaf(self.label(g).into()),
            },
            crate::print::Brackets::Needed,
        )
    }

    /// Which gates the output depends on (dead stages are not).
    pub fn live(&self) -> Vec<bool> {
        self.reach().0.clone()
    }

    /// (the output depends on the gate, a gradient can flow back to the gate).
    fn reach(&self) -> &(Vec<bool>, Vec<bool>) {
        self.reach.get_or_init(|| {
            let n = self.len();
            let (mut used, mut carries) = (vec![false; n], vec![false; n]);
            used[self.output.index()] = true;
            carries[self.output.index()] = true;
            for g in (0..n).rev() {
                if !used[g] {
                    continue;
                }
                let ins = self.gates.inputs(g);
                let (op, carrying) = (self.gates.op(g), carries[g]);
                for (slot, input) in ins.iter().enumerate() {
                    let i = input.index();
                    used[i] = true;
                    carries[i] |= carrying && op.carries_gradient(slot);
                }
            }
            (used, carries)
        })
    }

    /// How each parameter takes part in the output.
    pub fn param_roles(&self) -> Vec<ParamRole> {
        let (used, carries) = self.reach();
        self.params
            .iter()
            .map(|p| match (used[p.gate.index()], carries[p.gate.index()]) {
                (_, true) => ParamRole::Differentiable,
                (true, false) => ParamRole::Index,
                (false, _) => ParamRole::Unused,
            })
            .collect()
    }

    /// Which gates depend on a differentiable parameter; only these need a gradient.
    pub fn requires_grad(&self) -> Vec<bool> {
        self.requires_grad_slice().to_vec()
    }

    /// [`Circuit::requires_grad`], computed once and borrowed.
    pub fn requires_grad_slice(&self) -> &[bool] {
        self.requires.get_or_init(|| self.compute_requires_grad())
    }

    /// Hands over [`Circuit::requires_grad`] computed elsewhere: by a pass
    /// that visits every gate anyway, and must agree with it exactly.
    pub(crate) fn know_requires_grad(&self, req: Vec<bool>) {
        debug_assert_eq!(req, self.compute_requires_grad());
        // Already known: the same, so nothing is lost.
        let _ = self.requires.set(req);
    }

    fn compute_requires_grad(&self) -> Vec<bool> {
        let n = self.len();
        let mut req = Vec::with_capacity(n);
        for (g, gate) in self.gates.iter().enumerate() {
            let ins = self.gates.inputs(g);
            let r = match gate.op {
                Op::Input(_) => true,
                Op::Const(_) => false,
                op => ins
                    .iter()
                    .enumerate()
                    .any(|(slot, i)| req[i.index()] && op.carries_gradient(slot)),
            };
            req.push(r);
        }
        req
    }
}

/// Lowers a parsed program to its gate DAG.
///
/// ```
/// let p = gradexplain::syntax::parse("f(x) = x * x").unwrap();
/// let c = gradexplain::lower(&p).unwrap();
/// assert_eq!(c.len(), 2); // x, and one multiply gate that uses x twice
/// assert_eq!(c.consumers(c.params[0].gate).len(), 2);
/// ```
pub fn lower(program: &Program) -> Result<Circuit> {
    crate::lowering::lower(program)
}

/// `t` unless a user name looks like `t12`, then `_t`, and so on.
fn pick_temp_prefix(c: &Circuit) -> &'static str {
    let clashes = |prefix: &str| {
        // `t_1` clashes too: LaTeX writes it as `t1` is written, `t_{1}`.
        let looks = |n: &str| {
            n.strip_prefix(prefix)
                .map(|rest| rest.strip_prefix('_').unwrap_or(rest))
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
        };
        c.params.iter().any(|p| looks(&p.name))
            || c.stage_names.values().any(looks)
            || looks(&c.output_name)
    };
    ["t", "_t", "__t", "tmp_"]
        .into_iter()
        .find(|p| !clashes(p))
        .unwrap_or("gate_")
}

#[cfg(test)]
mod tests;
