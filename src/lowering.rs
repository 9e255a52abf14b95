//! Lowering: the syntax tree's statements become gates of the DAG, hash-consed,
//! so that a name used twice, a stage used twice and a repeated subexpression
//! are one gate with several consumers.
//!
//! Two ways in. [`lower`] takes a whole parsed [`Program`]. [`parse_and_lower`]
//! lowers each statement as soon as it is parsed and then forgets its syntax
//! tree, so a million-stage program never holds one; when anything at all goes
//! wrong it starts over the first way, so that errors are exactly those of
//! [`parse`] then [`lower`].

use crate::error::{Error, Result, Span};
use crate::gate::Op;
use crate::graph::{Circuit, Gate, GateId, Param};
use crate::syntax::ast::{Ast, Names};
use crate::syntax::{Expr, ExprId, Program, Stmt, StmtKind, Sym, parse};
use hashbrown::HashTable;
use petgraph::Direction;
use petgraph::graph::DiGraph;
use smallvec::SmallVec;
use std::hash::{BuildHasher, Hash, Hasher};

/// Lowers a parsed program to its gate DAG.
pub fn lower(program: &Program) -> Result<Circuit> {
    let ast = &program.ast;
    let mut l = Lowering::new(ast.len(), Mode::Whole);
    let header = program.header();
    if let Some(h) = header {
        l.header(ast, h)?;
    }
    // Where each stage is defined, to tell "used before defined" from "free".
    let mut defined_at: Vec<usize> = vec![usize::MAX; ast.names.len()];
    for (k, s) in program.stmts.iter().enumerate() {
        if let (Some((name, _)), StmtKind::Stage) = (s.name, &s.kind) {
            let d = &mut defined_at[name.index()];
            *d = (*d).min(k);
        }
    }
    for (k, stmt) in program.stmts.iter().enumerate() {
        l.statement(ast, stmt, k, &defined_at, header)?;
    }
    Ok(l.finish(ast.names.clone()))
}

/// Parses and lowers `src` a statement at a time (see the module's notes).
/// The program it returns has no statements: only the circuit is kept.
pub fn parse_and_lower(src: &str) -> Result<(Program, Circuit)> {
    // Hint only: the gates are fewer than the source's bytes over ten or so.
    let mut l = Lowering::new(src.len() / 8, Mode::Streaming);
    let mut ok = true;
    let mut k = 0;
    let names = crate::syntax::parse_each(src, &mut |ast: &Ast, stmt: &Stmt| {
        ok = ok && l.streamed(ast, stmt, k).is_ok();
        k += 1;
        ok
    });
    match names {
        Ok(names) if ok => Ok((Program::default(), l.finish(names))),
        // Something is wrong: the whole-program path says what, exactly.
        _ => {
            let program = parse(src)?;
            let circuit = lower(&program)?;
            Ok((program, circuit))
        }
    }
}

/// How names that nothing binds yet are treated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The whole program is known: a name used before the stage that defines it
    /// is an error.
    Whole,
    /// Statement by statement: a free name becomes a parameter, and a later
    /// stage of that name (which the whole-program path reports as "used before
    /// it is defined") fails, to be reported by that path.
    Streaming,
}

/// The hasher of the hash-consing table: FxHash, since the keys are a few
/// small integers and a million of them are hashed (SipHash spent a tenth of
/// the whole run here).
type Fx = rustc_hash::FxBuildHasher;

/// The gates built so far, with the compact input index [`Circuit`] keeps.
struct Dag {
    graph: DiGraph<Gate, u8, u32>,
    in_start: Vec<u32>,
    in_list: Vec<GateId>,
}

impl Dag {
    fn inputs(&self, g: GateId) -> &[GateId] {
        let g = g.index();
        &self.in_list[self.in_start[g] as usize..self.in_start[g + 1] as usize]
    }
}

fn key_hash(op: Op, inputs: &[GateId]) -> u64 {
    let mut h = Fx::default().build_hasher();
    op.hash(&mut h);
    for i in inputs {
        h.write_u32(i.0.index() as u32);
    }
    h.finish()
}

/// Up to this many consumers, an input's consumers are scanned for an equal
/// gate rather than looked up in the hash table.
const SCAN_FANOUT: u32 = 8;

struct Lowering {
    mode: Mode,
    dag: Dag,
    /// The hash-consing table: gates by (operation, inputs), which the table
    /// reads from `dag` rather than storing a second copy of each key. It holds
    /// the gates without inputs and those whose every input has more than
    /// [`SCAN_FANOUT`] consumers (see [`Lowering::add`]).
    memo: HashTable<GateId>,
    /// How many consumers each gate has so far.
    fanout: Vec<u32>,
    /// Which gates are in `memo`, by index (short: only up to the last one put there).
    remembered: Vec<bool>,
    params: Vec<Param>,
    /// The gate each name is bound to so far (stages and parameters), by symbol.
    scope: Vec<Option<GateId>>,
    stage_names: Vec<(GateId, Sym)>,
    notes: Vec<String>,
    /// The gate of each node of the statement being lowered.
    gate_of: Vec<GateId>,
    /// The header's name, once seen.
    header_name: Option<Sym>,
    /// The last statement's gate and name: the output.
    last: Option<(GateId, Option<Sym>)>,
    /// How many of the parser's literal notes are in `notes` already.
    literal_notes: usize,
    /// Literal notes the parser counted but did not keep.
    literals_dropped: usize,
}

impl Lowering {
    /// `n`: about how many gates to expect.
    fn new(n: usize, mode: Mode) -> Self {
        let mut in_start = Vec::with_capacity(n + 1);
        in_start.push(0);
        Lowering {
            mode,
            dag: Dag {
                graph: DiGraph::with_capacity(n, n * 2),
                in_start,
                in_list: Vec::with_capacity(n * 2),
            },
            memo: HashTable::new(),
            fanout: Vec::with_capacity(n),
            remembered: Vec::new(),
            params: Vec::new(),
            scope: Vec::new(),
            stage_names: Vec::new(),
            notes: Vec::new(),
            gate_of: Vec::new(),
            header_name: None,
            last: None,
            literal_notes: 0,
            literals_dropped: 0,
        }
    }

    /// The gate `op(inputs)`: the existing one if there is one, else a new one.
    ///
    /// An equal gate consumes every one of `inputs`, so it is found among the
    /// consumers of whichever input has the fewest. When that input has at most
    /// [`SCAN_FANOUT`] consumers they are simply compared; only gates all of whose
    /// inputs have more are kept in the hash table. On a large generated circuit
    /// that is almost none: a table of every gate missed the cache on each
    /// insertion and was a seventh of the whole `--summary` run.
    fn add(&mut self, op: Op, inputs: &[GateId], span: Span) -> GateId {
        if let Some(g) = self.find(op, inputs) {
            return g;
        }
        let dag = &mut self.dag;
        let id = GateId(dag.graph.add_node(Gate { op, span }));
        for (slot, &input) in inputs.iter().enumerate() {
            debug_assert!(input < id, "inputs come before the gate: topological order");
            let e = dag.graph.add_edge(input.0, id.0, slot as u8);
            debug_assert_eq!(e.index(), dag.in_list.len(), "edges in operand order");
            dag.in_list.push(input);
        }
        dag.in_start.push(dag.in_list.len() as u32);
        self.fanout.push(0);
        if inputs.is_empty() {
            self.remember(id);
            return id;
        }
        for &input in inputs {
            let f = &mut self.fanout[input.index()];
            *f += 1;
            if *f == SCAN_FANOUT + 1 {
                // The input's consumers can no longer be found by scanning it:
                // those whose every input is now past the limit go in the table.
                let consumers: SmallVec<[GateId; 16]> = self
                    .dag
                    .graph
                    .neighbors_directed(input.0, Direction::Outgoing)
                    .map(GateId)
                    .collect();
                for c in consumers {
                    self.remember_if_wide(c);
                }
            }
        }
        self.remember_if_wide(id);
        id
    }

    /// An existing gate equal to `op(inputs)`.
    fn find(&self, op: Op, inputs: &[GateId]) -> Option<GateId> {
        let dag = &self.dag;
        let same = |g: GateId| dag.graph[g.0].op == op && dag.inputs(g) == inputs;
        let narrowest = inputs.iter().min_by_key(|i| self.fanout[i.index()]);
        match narrowest {
            Some(i) if self.fanout[i.index()] <= SCAN_FANOUT => dag
                .graph
                .neighbors_directed(i.0, Direction::Outgoing)
                .map(GateId)
                .find(|&g| same(g)),
            _ => self.memo.find(key_hash(op, inputs), |&g| same(g)).copied(),
        }
    }

    /// Puts `g` in the hash table if all its inputs are past [`SCAN_FANOUT`]
    /// and it is not there yet.
    fn remember_if_wide(&mut self, g: GateId) {
        let wide = self
            .dag
            .inputs(g)
            .iter()
            .all(|i| self.fanout[i.index()] > SCAN_FANOUT);
        if wide && !self.remembered.get(g.index()).copied().unwrap_or(false) {
            self.remember(g);
        }
    }

    fn remember(&mut self, g: GateId) {
        let dag = &self.dag;
        let op = dag.graph[g.0].op;
        self.memo
            .insert_unique(key_hash(op, dag.inputs(g)), g, |&g| {
                key_hash(dag.graph[g.0].op, dag.inputs(g))
            });
        if self.remembered.len() <= g.index() {
            self.remembered.resize(g.index() + 1, false);
        }
        self.remembered[g.index()] = true;
    }

    fn bound(&mut self, name: Sym) -> &mut Option<GateId> {
        if self.scope.len() <= name.index() {
            self.scope.resize(name.index() + 1, None);
        }
        &mut self.scope[name.index()]
    }

    fn param(&mut self, ast: &Ast, name: Sym, span: Span) -> GateId {
        let i = self.params.len() as u32;
        let gate = self.add(Op::Input(i), &[], span);
        self.params.push(Param {
            name: ast.name(name).to_string(),
            gate,
            span,
        });
        *self.bound(name) = Some(gate);
        gate
    }

    /// The header's parameters, in its order.
    fn header(&mut self, ast: &Ast, h: &Stmt) -> Result<()> {
        let StmtKind::Header { params } = &h.kind else {
            unreachable!()
        };
        for &(name, span) in params {
            if self.bound(name).is_some() {
                return Err(Error::syntax(
                    span,
                    format!("parameter `{}` is listed twice", ast.name(name)),
                )
                .label("listed again here"));
            }
            self.param(ast, name, span);
        }
        self.header_name = h.name.map(|(n, _)| n);
        Ok(())
    }

    /// Statement `k` as the streaming path meets it: a header must come first.
    fn streamed(&mut self, ast: &Ast, stmt: &Stmt, k: usize) -> Result<()> {
        if let StmtKind::Header { .. } = stmt.kind {
            if k > 0 {
                return Err(Error::new(
                    crate::error::ErrorKind::Syntax,
                    "a header after other statements: lowered as a whole instead",
                ));
            }
            self.header(ast, stmt)?;
            return self.statement(ast, stmt, k, &[], Some(stmt));
        }
        self.statement(ast, stmt, k, &[], None)
    }

    /// Lowers statement `k`. `defined_at` gives, by symbol, the first statement
    /// that defines each stage (the whole-program path only).
    fn statement(
        &mut self,
        ast: &Ast,
        stmt: &Stmt,
        k: usize,
        defined_at: &[usize],
        header: Option<&Stmt>,
    ) -> Result<()> {
        let text = |sym: Sym| ast.name(sym);
        // The parser's notes on literals so far (it keeps them across statements).
        self.notes
            .extend(ast.notes[self.literal_notes..].iter().cloned());
        self.literal_notes = ast.notes.len();
        self.literals_dropped = ast.notes_dropped;
        self.gate_of.clear();
        let first = stmt.first.index();
        for n in first..=stmt.body.index() {
            let id = ExprId(n as u32);
            let span = ast.span(id);
            let gate = match ast.expr(id) {
                Expr::Num(x) => self.add(Op::Const(*x), &[], span),
                &Expr::Name(name) => match *self.bound(name) {
                    Some(g) => g,
                    None => {
                        let name_text = text(name);
                        if let Some(h) = header.filter(|_| self.mode == Mode::Whole) {
                            return Err(not_in_header(ast, h, name_text, span));
                        }
                        if defined_at
                            .get(name.index())
                            .is_some_and(|&d| d != usize::MAX && d >= k)
                        {
                            return Err(Error::syntax(
                                span,
                                format!("`{name_text}` is used before it is defined"),
                            )
                            .label("used here")
                            .help("define a stage before the statements that use it"));
                        }
                        if self.mode == Mode::Streaming && self.header_name.is_some() {
                            // Not in the header: the whole-program path says so.
                            return Err(Error::syntax(span, "not a parameter"));
                        }
                        self.param(ast, name, span)
                    }
                },
                Expr::Apply { op, .. } => {
                    let mut inputs: SmallVec<[GateId; 4]> = SmallVec::new();
                    for a in ast.args(id) {
                        inputs.push(self.gate_of[a.index() - first]);
                    }
                    self.add(*op, &inputs, span)
                }
            };
            self.gate_of.push(gate);
        }
        let gate = self.gate_of[stmt.body.index() - first];
        if let Some((name, span)) = stmt.name {
            if let StmtKind::Stage = stmt.kind {
                if self.bound(name).is_some() {
                    let what = if self.params.iter().any(|p| p.name == text(name)) {
                        "a parameter"
                    } else {
                        "a stage"
                    };
                    return Err(Error::syntax(
                        span,
                        format!("`{}` is already defined as {what}", text(name)),
                    )
                    .label("defined again here")
                    .help("give each stage its own name"));
                }
                *self.bound(name) = Some(gate);
            }
            self.stage_names.push((gate, name));
        }
        self.last = Some((gate, stmt.name.map(|(n, _)| n)));
        Ok(())
    }

    /// The circuit, once every statement is lowered; `names` is the program's
    /// table of names.
    fn finish(mut self, names: Names) -> Circuit {
        let (output, out_name) = self.last.expect("a parsed program has a statement");
        if self.literals_dropped > 0 {
            self.notes.push(format!(
                "… and {} more literals out of a 64-bit float's range",
                self.literals_dropped
            ));
        }
        if self.scope.len() < names.len() {
            self.scope.resize(names.len(), None);
        }
        let output_name = match out_name.or(self.header_name) {
            Some(n) => names.get(n).to_string(),
            None => {
                let bound = |n: &str| {
                    names
                        .iter()
                        .any(|(sym, text)| text == n && self.scope[sym.index()].is_some())
                };
                ["f", "out", "output", "result"]
                    .into_iter()
                    .find(|n| !bound(n))
                    .map_or_else(|| "f_out".into(), str::to_string)
            }
        };
        let Dag {
            graph,
            in_start,
            in_list,
        } = self.dag;
        Circuit::from_parts(
            graph,
            (in_start, in_list),
            self.params,
            output,
            output_name,
            (names, self.stage_names),
            self.notes,
        )
    }
}

/// "`y` is not a parameter of `f(x)`", with the header to write instead.
fn not_in_header(ast: &Ast, h: &Stmt, name: &str, span: Span) -> Error {
    let (hname, _) = h.name.expect("a header has a name");
    let hname = ast.name(hname);
    let StmtKind::Header { params } = &h.kind else {
        unreachable!()
    };
    let list: Vec<&str> = params.iter().map(|&(n, _)| ast.name(n)).collect();
    Error::syntax(
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
            .chain([name])
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gates after lowering `src` both ways, which must agree.
    fn gates(src: &str) -> usize {
        let whole = lower(&parse(src).unwrap()).unwrap();
        let (_, streamed) = parse_and_lower(src).unwrap();
        assert_eq!(whole.len(), streamed.len());
        whole.len()
    }

    /// Repeated gates are found whether their inputs have few consumers (by
    /// scanning) or many (in the table), and across the moment an input passes
    /// the limit.
    #[test]
    fn equal_gates_are_one_at_every_fan_out() {
        for uses in [1, 7, 8, 9, 10, 30] {
            // `x * y` once per stage, plus a stage-private constant: x and y
            // gain two consumers per stage (the product is shared).
            let mut src = String::new();
            for k in 0..uses {
                src.push_str(&format!("a{k} = x * y + x * {k}.5 + y * {k}.25\n"));
            }
            src.push_str("x * y + x + y\n");
            // Inputs x, y and their product; per stage two constants, two
            // products and two sums; the last line's two sums.
            assert_eq!(gates(&src), 3 + 6 * uses + 2, "{uses} uses");
            // The product written again is the same gate, and so is a whole
            // stage's first sum; a new constant makes three new gates.
            let again = format!("{src}z = x * y\nw = z + x * 0.5\nw + x * 0.75\n");
            assert_eq!(gates(&again), 3 + 6 * uses + 2 + 3, "{uses} uses, again");
        }
    }
}
