//! The gate DAG and lowering from the AST.
//!
//! Lowering hash-conses: a name used twice, a stage used twice and a repeated
//! subexpression all become ONE gate with several consumers — a fork, where the
//! backward pass adds gradients. Gates are added after their inputs, so index
//! order is a topological order; every pass walks the DAG by index, never by
//! recursion.

use crate::error::{Error, Result, Span};
use crate::gate::Op;
use crate::syntax::{Expr, ExprId, Program, StmtKind};
use petgraph::Direction;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// A gate's handle in a [`Circuit`]. Its index is its place in forward order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GateId(pub NodeIndex<u32>);

impl GateId {
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

/// The gate DAG of a program.
#[derive(Clone, Debug)]
pub struct Circuit {
    /// Gates as nodes; an edge runs from an input to the gate that consumes it,
    /// weighted with the operand position (slot).
    pub graph: DiGraph<Gate, u8, u32>,
    /// The parameters, in order: the header's, or by first appearance.
    pub params: Vec<Param>,
    /// The output gate (the last statement's).
    pub output: GateId,
    /// The output's name: the header's or stage's, or a generated one.
    pub output_name: String,
    /// Stage names given to gates (a gate may carry several).
    pub stage_names: HashMap<GateId, Vec<String>>,
    /// What lowering noticed: literals that overflow, unused parameters.
    pub notes: Vec<String>,
    temp_prefix: &'static str,
    /// For each anonymous gate its number in `t1, t2, …` (forward order); 0 otherwise.
    temp_numbers: Vec<u32>,
}

impl Circuit {
    /// The number of gates.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// True when there is no gate (never, for a parsed program).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All gates in forward order.
    pub fn gates(&self) -> impl DoubleEndedIterator<Item = GateId> + ExactSizeIterator {
        self.graph.node_indices().map(GateId)
    }

    /// The gate.
    pub fn gate(&self, id: GateId) -> &Gate {
        &self.graph[id.0]
    }

    /// The gate's operation.
    pub fn op(&self, id: GateId) -> Op {
        self.graph[id.0].op
    }

    /// The gate's inputs, in operand order.
    pub fn inputs(&self, id: GateId) -> Inputs {
        let mut v: SmallVec<[(u8, GateId); 3]> = self
            .graph
            .edges_directed(id.0, Direction::Incoming)
            .map(|e| (*e.weight(), GateId(e.source())))
            .collect();
        v.sort_unstable_by_key(|(slot, _)| *slot);
        v.into_iter().map(|(_, g)| g).collect()
    }

    /// The edges into a gate, in operand order: (edge, slot, input).
    pub fn input_edges(&self, id: GateId) -> SmallVec<[(EdgeIndex<u32>, usize, GateId); 3]> {
        let mut v: SmallVec<[(EdgeIndex<u32>, usize, GateId); 3]> = self
            .graph
            .edges_directed(id.0, Direction::Incoming)
            .map(|e| (e.id(), usize::from(*e.weight()), GateId(e.source())))
            .collect();
        v.sort_unstable_by_key(|(_, slot, _)| *slot);
        v
    }

    /// The gates that consume this one, one entry per use (a gate that uses it
    /// twice, as `x*x` does, appears twice): (edge, slot, consumer).
    pub fn consumers(&self, id: GateId) -> Vec<(EdgeIndex<u32>, usize, GateId)> {
        let mut v: Vec<_> = self
            .graph
            .edges_directed(id.0, Direction::Outgoing)
            .map(|e| (e.id(), usize::from(*e.weight()), GateId(e.target())))
            .collect();
        v.sort_unstable();
        v
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
        if id == self.output {
            return self.output_name.clone();
        }
        if let Some(names) = self.stage_names.get(&id) {
            return names[0].clone();
        }
        match self.op(id) {
            Op::Input(i) => self.params[i as usize].name.clone(),
            Op::Const(c) => crate::print::number(c),
            _ => format!("{}{}", self.temp_prefix, self.temp_numbers[id.index()]),
        }
    }

    /// The gate written as its operation over its inputs' labels: `x * y`, `exp(t3)`.
    pub fn formula(&self, id: GateId) -> String {
        let ins = self.inputs(id);
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

    /// Which gates the output depends on (dead stages are not).
    pub fn live(&self) -> Vec<bool> {
        self.reach().0
    }

    /// (the output depends on the gate, a gradient can flow back to the gate).
    fn reach(&self) -> (Vec<bool>, Vec<bool>) {
        let n = self.len();
        let (mut used, mut carries) = (vec![false; n], vec![false; n]);
        used[self.output.index()] = true;
        carries[self.output.index()] = true;
        for g in self.gates().rev() {
            if !used[g.index()] {
                continue;
            }
            let op = self.op(g);
            for (_, slot, input) in self.input_edges(g) {
                used[input.index()] = true;
                if carries[g.index()] && op.carries_gradient(slot) {
                    carries[input.index()] = true;
                }
            }
        }
        (used, carries)
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
        let mut req = vec![false; self.len()];
        for g in self.gates() {
            req[g.index()] = match self.op(g) {
                Op::Input(_) => true,
                Op::Const(_) => false,
                op => self
                    .input_edges(g)
                    .iter()
                    .any(|&(_, slot, i)| op.carries_gradient(slot) && req[i.index()]),
            };
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
    Lowering::new(program).run()
}

struct Lowering<'p> {
    program: &'p Program,
    graph: DiGraph<Gate, u8, u32>,
    memo: HashMap<(Op, SmallVec<[u32; 3]>), GateId>,
    params: Vec<Param>,
    /// Names bound so far: stages and parameters.
    scope: HashMap<&'p str, GateId>,
    stage_names: HashMap<GateId, Vec<String>>,
    notes: Vec<String>,
}

impl<'p> Lowering<'p> {
    fn new(program: &'p Program) -> Self {
        Lowering {
            program,
            graph: DiGraph::with_capacity(program.ast.len(), program.ast.len() * 2),
            memo: HashMap::with_capacity(program.ast.len()),
            params: Vec::new(),
            scope: HashMap::new(),
            stage_names: HashMap::new(),
            notes: Vec::new(),
        }
    }

    fn add(&mut self, op: Op, inputs: &[GateId], span: Span) -> GateId {
        let key = (op, inputs.iter().map(|g| g.0.index() as u32).collect());
        match self.memo.entry(key) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let id = GateId(self.graph.add_node(Gate { op, span }));
                for (slot, &input) in inputs.iter().enumerate() {
                    debug_assert!(input < id, "inputs come before the gate: topological order");
                    self.graph.add_edge(input.0, id.0, slot as u8);
                }
                e.insert(id);
                id
            }
        }
    }

    fn param(&mut self, name: &'p str, span: Span) -> GateId {
        let i = self.params.len() as u32;
        let gate = self.add(Op::Input(i), &[], span);
        self.params.push(Param {
            name: name.to_string(),
            gate,
            span,
        });
        self.scope.insert(name, gate);
        gate
    }

    fn run(mut self) -> Result<Circuit> {
        let program = self.program;
        let ast = &program.ast;
        let header = program.header();
        let mut header_name = None;
        if let Some(h) = header {
            let StmtKind::Header { params } = &h.kind else {
                unreachable!()
            };
            for (name, span) in params {
                if self.scope.contains_key(name.as_str()) {
                    return Err(Error::syntax(
                        *span,
                        format!("parameter `{name}` is listed twice"),
                    )
                    .label("listed again here"));
                }
                self.param(name, *span);
            }
            header_name = h.name.as_ref().map(|(n, _)| n.as_str());
        }
        // Where each stage is defined, to tell "used before defined" from "free".
        let mut defined_at: HashMap<&str, usize> = HashMap::new();
        for (k, s) in program.stmts.iter().enumerate() {
            if let (Some((name, _)), StmtKind::Stage) = (&s.name, &s.kind) {
                defined_at.entry(name.as_str()).or_insert(k);
            }
        }
        let mut gate_of: Vec<GateId> = Vec::with_capacity(ast.len());
        let mut last = None;
        for (k, stmt) in program.stmts.iter().enumerate() {
            for n in stmt.first.index()..=stmt.body.index() {
                let id = ExprId(n as u32);
                let span = ast.span(id);
                let gate = match ast.expr(id) {
                    Expr::Num(x) => {
                        if !x.is_finite() {
                            self.notes.push(
                                "a literal is too large for a 64-bit float and becomes inf".into(),
                            );
                        }
                        self.add(Op::Const(*x), &[], span)
                    }
                    Expr::Name(name) => match self.scope.get(name.as_str()) {
                        Some(&g) => g,
                        None => {
                            if let Some(h) = header {
                                let (hname, _) = h.name.as_ref().expect("a header has a name");
                                let StmtKind::Header { params } = &h.kind else {
                                    unreachable!()
                                };
                                let list: Vec<&str> =
                                    params.iter().map(|(n, _)| n.as_str()).collect();
                                return Err(Error::syntax(
                                    span,
                                    format!(
                                        "`{name}` is not a parameter of `{hname}({})`",
                                        list.join(", ")
                                    ),
                                )
                                .label("not in the header, and no stage defines it")
                                .help(format!(
                                    "add it to the header: `{hname}({})`",
                                    list.iter()
                                        .copied()
                                        .chain([name.as_str()])
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )));
                            }
                            if defined_at.get(name.as_str()).is_some_and(|&d| d >= k) {
                                return Err(Error::syntax(
                                    span,
                                    format!("`{name}` is used before it is defined"),
                                )
                                .label("used here")
                                .help("define a stage before the statements that use it"));
                            }
                            self.param(name, span)
                        }
                    },
                    Expr::Apply { op, .. } => {
                        let inputs: SmallVec<[GateId; 3]> =
                            ast.args(id).iter().map(|a| gate_of[a.index()]).collect();
                        self.add(*op, &inputs, span)
                    }
                };
                gate_of.push(gate);
            }
            let gate = gate_of[stmt.body.index()];
            if let Some((name, span)) = &stmt.name {
                if let StmtKind::Stage = stmt.kind {
                    if self.scope.contains_key(name.as_str()) {
                        let what = if self.params.iter().any(|p| p.name == *name) {
                            "a parameter"
                        } else {
                            "a stage"
                        };
                        return Err(Error::syntax(
                            *span,
                            format!("`{name}` is already defined as {what}"),
                        )
                        .label("defined again here")
                        .help("give each stage its own name"));
                    }
                    self.scope.insert(name.as_str(), gate);
                }
                self.stage_names.entry(gate).or_default().push(name.clone());
            }
            last = Some((gate, stmt));
        }
        let (output, out_stmt) = last.expect("a parsed program has a statement");
        let output_name = match &out_stmt.name {
            Some((n, _)) => n.clone(),
            None => header_name
                .map(str::to_string)
                .unwrap_or_else(|| self.fresh_output_name()),
        };
        let mut c = Circuit {
            graph: self.graph,
            params: self.params,
            output,
            output_name,
            stage_names: self.stage_names,
            notes: self.notes,
            temp_prefix: "t",
            temp_numbers: Vec::new(),
        };
        c.temp_prefix = pick_temp_prefix(&c);
        let mut next = 0;
        c.temp_numbers = c
            .gates()
            .map(|g| {
                let anonymous = !matches!(c.op(g), Op::Input(_) | Op::Const(_))
                    && g != c.output
                    && !c.stage_names.contains_key(&g);
                if anonymous {
                    next += 1;
                    next
                } else {
                    0
                }
            })
            .collect();
        Ok(c)
    }

    fn fresh_output_name(&self) -> String {
        ["f", "out", "output", "result"]
            .into_iter()
            .find(|n| !self.scope.contains_key(n))
            .map_or_else(|| "f_out".into(), str::to_string)
    }
}

/// `t` unless a user name looks like `t12`, then `_t`, and so on.
fn pick_temp_prefix(c: &Circuit) -> &'static str {
    let clashes = |prefix: &str| {
        let looks = |n: &str| {
            n.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
        };
        c.params.iter().any(|p| looks(&p.name))
            || c.stage_names.values().flatten().any(|n| looks(n))
            || looks(&c.output_name)
    };
    ["t", "_t", "__t", "tmp_"]
        .into_iter()
        .find(|p| !clashes(p))
        .unwrap_or("gate_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn lower_src(src: &str) -> Result<Circuit> {
        lower(&parse(src).unwrap())
    }

    #[test]
    fn repeated_subexpressions_become_one_gate() {
        let c = lower_src("f(x, y) = (x*y + 1) * (x*y + 1)").unwrap();
        // x, y, x*y, 1, +, *
        assert_eq!(c.len(), 6);
        let out = c.output;
        let ins = c.inputs(out);
        assert_eq!(ins[0], ins[1]);
    }

    #[test]
    fn stages_keep_names_and_fork() {
        let c = lower_src("q = x + y\nf = q * q + z").unwrap();
        let q = c
            .stage_names
            .iter()
            .find(|(_, n)| n[0] == "q")
            .map(|(g, _)| *g)
            .unwrap();
        assert_eq!(c.consumers(q).len(), 2);
        assert_eq!(c.label(q), "q");
        assert_eq!(c.output_name, "f");
        let names: Vec<_> = c.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["x", "y", "z"]);
    }

    #[test]
    fn header_fixes_order_and_must_cover_free_names() {
        let c = lower_src("f(y, x) = x * y").unwrap();
        assert_eq!(c.params[0].name, "y");
        let e = lower_src("f(x) = x * y").unwrap_err();
        assert_eq!(e.message, "`y` is not a parameter of `f(x)`");
        assert_eq!(e.help.as_deref(), Some("add it to the header: `f(x, y)`"));
    }

    #[test]
    fn roles_of_parameters() {
        let c = lower_src("L(s, y, z) = s[y] * 2").unwrap();
        assert_eq!(
            c.param_roles(),
            [
                ParamRole::Differentiable,
                ParamRole::Index,
                ParamRole::Unused
            ]
        );
    }

    #[test]
    fn redefinition_and_use_before_definition() {
        assert!(
            lower_src("a = x; a = 2")
                .unwrap_err()
                .message
                .contains("already defined")
        );
        assert!(
            lower_src("b = a + 1; a = 2; b")
                .unwrap_err()
                .message
                .contains("before it is defined")
        );
    }

    #[test]
    fn index_order_is_topological() {
        let c = lower_src("a = exp(x); b = a * a; c = b + a; c * x").unwrap();
        for g in c.gates() {
            assert!(c.inputs(g).iter().all(|i| *i < g));
        }
    }
}
