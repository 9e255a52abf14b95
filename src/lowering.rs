//! Lowering: the syntax tree's statements become gates of the DAG, hash-consed,
//! so that a name used twice, a stage used twice and a repeated subexpression
//! are one gate with several consumers.
//!
//! Two ways in. [`lower`] takes a whole parsed [`Program`]. [`parse_and_lower`]
//! has the parser hand each node over as it is reduced and makes its gate at
//! once (lowering is the parser's `Build`), so a million-stage program never
//! has a syntax tree; when anything at all goes wrong it starts over the first
//! way, so that errors are exactly those of [`parse`] then [`lower`].

use crate::error::{Error, Result, Span};
use crate::gate::Op;
use crate::graph::{Circuit, Edges, Gate, GateId, Param};
use crate::syntax::ast::{Ast, Names};
use crate::syntax::{Build, Expr, ExprId, Parsed, Program, Stmt, StmtKind, Sym, parse};
use hashbrown::HashTable;
use petgraph::graph::NodeIndex;
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

/// Parses and lowers `src` in one pass, with no syntax tree (see the module's
/// notes).
/// The program it returns has no statements: only the circuit is kept.
///
/// A header that is not the first statement (`f(x, y) = h9` at the end, naming
/// the output) fixes the parameters' order, which the whole-program path sets
/// before anything else; here its parameters are declared before the first
/// statement too. A header on the last line is read before parsing (a guess,
/// checked against the statement the parser finds); one elsewhere stops a
/// first pass, and a second declares it. Without this, such a program was
/// lowered whole, at half as much memory again.
pub fn parse_and_lower(src: &str) -> Result<(Program, Circuit)> {
    let guess =
        crate::syntax::trailing_header(src).map(|(name, params)| LateHeader { name, params });
    if let Some(g) = &guess
        && let Some(c) = stream(src, Some(g), &mut None)
    {
        return Ok((Program::default(), c));
    }
    let mut late = None;
    if let Some(c) = stream(src, None, &mut late) {
        return Ok((Program::default(), c));
    }
    if let Some(header) = late
        && let Some(c) = stream(src, Some(&header), &mut None)
    {
        return Ok((Program::default(), c));
    }
    // Something is wrong: the whole-program path says what, exactly.
    let program = parse(src)?;
    let circuit = lower(&program)?;
    Ok((program, circuit))
}

/// A header after other statements: its name and its parameters, where they
/// are written.
struct LateHeader {
    name: Span,
    params: Vec<Span>,
}

/// One streaming pass; `header`, a late header to declare first. `None` when
/// the program must be lowered another way, with `late` set if a late header
/// is the reason.
fn stream(
    src: &str,
    header: Option<&LateHeader>,
    late: &mut Option<LateHeader>,
) -> Option<Circuit> {
    // Hint only: the gates are fewer than the source's bytes over ten or so.
    let mut l = Lowering::new(src.len() / 8, Mode::Streaming);
    // The header's names are interned first, so their symbols are known now.
    let first: Vec<Span> = header
        .map(|h| h.params.iter().copied().chain([h.name]).collect())
        .unwrap_or_default();
    if let Some(h) = header {
        l.predeclare(src, h).ok()?;
    }
    let parsed = crate::syntax::parse_into(src, &first, &mut l);
    *late = l.late.take();
    let seen = header.is_none() || l.predeclared.as_ref().is_some_and(|p| p.seen);
    match parsed {
        Ok(ast) if !l.failed && seen => {
            // The parser's notes on literals, all of them, in order.
            l.notes.extend(ast.notes);
            l.literals_dropped = ast.notes_dropped;
            Some(l.finish(ast.names))
        }
        _ => None,
    }
}

/// What a [`Build`] hands back once lowering has failed: never looked at, as
/// nothing more is lowered.
fn dead() -> GateId {
    GateId(NodeIndex::end())
}

/// Lowering straight from the parser: each node becomes a gate as it is
/// reduced, with no syntax tree in between. The first statement that cannot
/// be lowered this way (see [`Mode::Streaming`]) ends it: `failed` is set and
/// the rest is only parsed.
impl Build for Lowering {
    type Id = GateId;

    fn num(&mut self, _: &mut Ast, x: f64, span: Span) -> GateId {
        if self.failed {
            return dead();
        }
        self.add(Op::Const(x), &[], span)
    }

    fn name(&mut self, ast: &mut Ast, sym: Sym, span: Span) -> GateId {
        if self.failed {
            return dead();
        }
        let resolved = self.resolve(ast, sym, span, None, &[], self.count);
        resolved.unwrap_or_else(|_| {
            self.failed = true;
            dead()
        })
    }

    fn apply(&mut self, _: &mut Ast, op: Op, args: &[GateId], span: Span) -> GateId {
        if self.failed {
            return dead();
        }
        self.add(op, args, span)
    }

    fn header(&mut self, ast: &Ast, name: (Sym, Span), params: &[(Sym, Span)]) {
        if !self.failed && self.streamed_header(ast, name, params).is_err() {
            self.failed = true;
        }
    }

    fn statement(&mut self, ast: &Ast, stmt: Parsed<GateId>) {
        if !self.failed && self.bind(ast, &stmt.kind, stmt.name, stmt.body).is_err() {
            self.failed = true;
        }
        self.count += 1;
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

/// The gates built so far and their edges, as [`Circuit`] keeps them.
struct Dag {
    gates: Vec<Gate>,
    edges: Edges,
}

impl Dag {
    fn inputs(&self, g: GateId) -> &[GateId] {
        self.edges.inputs(g)
    }

    fn op(&self, g: GateId) -> Op {
        self.gates[g.index()].op
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
const SCAN_FANOUT: u8 = 8;

/// See [`Lowering::predeclared`].
struct Predeclared {
    name: Sym,
    params: Vec<Sym>,
    seen: bool,
}

struct Lowering {
    mode: Mode,
    dag: Dag,
    /// The hash-consing table: gates by (operation, inputs), which the table
    /// reads from `dag` rather than storing a second copy of each key. It holds
    /// the gates without inputs and those whose every input has more than
    /// [`SCAN_FANOUT`] consumers (see [`Lowering::add`]).
    memo: HashTable<GateId>,
    /// How many consumers each gate has so far, counted up to one past
    /// [`SCAN_FANOUT`], the only count that matters: a byte a gate.
    fanout: Vec<u8>,
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
    /// A late header declared before the first statement: its name and
    /// parameters as symbols, and whether its statement has been met.
    predeclared: Option<Predeclared>,
    /// A late header met without having been declared first.
    late: Option<LateHeader>,
    /// How many of the parser's literal notes are in `notes` already.
    literal_notes: usize,
    /// Literal notes the parser counted but did not keep.
    literals_dropped: usize,
    /// How many statements have been lowered straight from the parser.
    count: usize,
    /// Lowering straight from the parser has met what it cannot lower.
    failed: bool,
}

impl Lowering {
    /// `n`: about how many gates to expect.
    fn new(n: usize, mode: Mode) -> Self {
        Lowering {
            mode,
            dag: Dag {
                gates: Vec::with_capacity(n),
                edges: Edges::with_capacity(n, n * 2),
            },
            memo: HashTable::new(),
            fanout: Vec::with_capacity(n),
            params: Vec::new(),
            scope: Vec::new(),
            stage_names: Vec::new(),
            notes: Vec::new(),
            gate_of: Vec::new(),
            header_name: None,
            last: None,
            predeclared: None,
            late: None,
            literal_notes: 0,
            literals_dropped: 0,
            count: 0,
            failed: false,
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
        let id = GateId(NodeIndex::new(dag.gates.len()));
        dag.gates.push(Gate { op, span });
        dag.edges.push_gate(id, inputs);
        self.fanout.push(0);
        if inputs.is_empty() {
            self.remember(id);
            return id;
        }
        for &input in inputs {
            let f = &mut self.fanout[input.index()];
            if *f > SCAN_FANOUT {
                continue;
            }
            *f += 1;
            if *f == SCAN_FANOUT + 1 {
                // The input's consumers can no longer be found by scanning it:
                // those whose every input is now past the limit go in the table.
                // Each once (a gate that uses the input twice is listed twice),
                // and the new gate last, below: a gate goes in when its last
                // input passes the limit, which happens once.
                let mut consumers: SmallVec<[GateId; 16]> = self
                    .dag
                    .edges
                    .consumers(input)
                    .map(|(_, c)| c)
                    .filter(|&c| c != id)
                    .collect();
                consumers.sort_unstable();
                consumers.dedup();
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
        let same = |g: GateId| dag.op(g) == op && dag.inputs(g) == inputs;
        let narrowest = inputs.iter().min_by_key(|i| self.fanout[i.index()]);
        match narrowest {
            Some(&i) if self.fanout[i.index()] <= SCAN_FANOUT => {
                dag.edges.consumers(i).map(|(_, g)| g).find(|&g| same(g))
            }
            _ => self.memo.find(key_hash(op, inputs), |&g| same(g)).copied(),
        }
    }

    /// Puts `g` in the hash table if all its inputs are past [`SCAN_FANOUT`].
    fn remember_if_wide(&mut self, g: GateId) {
        let wide = self
            .dag
            .inputs(g)
            .iter()
            .all(|i| self.fanout[i.index()] > SCAN_FANOUT);
        if wide {
            self.remember(g);
        }
    }

    fn remember(&mut self, g: GateId) {
        let dag = &self.dag;
        let hash = key_hash(dag.op(g), dag.inputs(g));
        debug_assert!(
            self.memo.find(hash, |&x| x == g).is_none(),
            "a gate goes in the table once"
        );
        self.memo
            .insert_unique(hash, g, |&g| key_hash(dag.op(g), dag.inputs(g)));
    }

    fn bound(&mut self, name: Sym) -> &mut Option<GateId> {
        if self.scope.len() <= name.index() {
            self.scope.resize(name.index() + 1, None);
        }
        &mut self.scope[name.index()]
    }

    fn param(&mut self, ast: &Ast, name: Sym, span: Span) -> GateId {
        self.param_named(ast.name(name), name, span)
    }

    fn param_named(&mut self, text: &str, name: Sym, span: Span) -> GateId {
        let i = self.params.len() as u32;
        let gate = self.add(Op::Input(i), &[], span);
        self.params.push(Param {
            name: text.to_string(),
            gate,
            span,
        });
        *self.bound(name) = Some(gate);
        gate
    }

    /// Declares a late header's parameters before any statement, as
    /// [`Lowering::header`] does on the whole-program path. The parser interns
    /// the header's names first, in this order, so their symbols are their
    /// places among the distinct names. A name listed twice is left to that
    /// path's error.
    fn predeclare(&mut self, src: &str, h: &LateHeader) -> Result<()> {
        let texts: Vec<&str> = h.params.iter().map(|s| &src[s.range()]).collect();
        let mut distinct: Vec<&str> = Vec::new();
        let mut sym_of = |text| match distinct.iter().position(|&d| d == text) {
            Some(k) => Sym(k as u32),
            None => {
                distinct.push(text);
                Sym(distinct.len() as u32 - 1)
            }
        };
        let params: Vec<Sym> = texts.iter().map(|&t| sym_of(t)).collect();
        let name = sym_of(&src[h.name.range()]);
        for (k, (&sym, &span)) in params.iter().zip(&h.params).enumerate() {
            if params[..k].contains(&sym) {
                return Err(Error::syntax(span, "a parameter listed twice"));
            }
            self.param_named(texts[k], sym, span);
        }
        self.header_name = Some(name);
        self.predeclared = Some(Predeclared {
            name,
            params,
            seen: false,
        });
        Ok(())
    }

    /// The header's parameters, in its order.
    fn header(&mut self, ast: &Ast, h: &Stmt) -> Result<()> {
        let (StmtKind::Header { params }, Some((name, _))) = (&h.kind, h.name) else {
            unreachable!()
        };
        self.declare(ast, name, params)
    }

    /// Declares the header `name(params…)`'s parameters, in its order.
    fn declare(&mut self, ast: &Ast, name: Sym, params: &[(Sym, Span)]) -> Result<()> {
        for &(param, span) in params {
            if self.bound(param).is_some() {
                return Err(Error::syntax(
                    span,
                    format!("parameter `{}` is listed twice", ast.name(param)),
                )
                .label("listed again here"));
            }
            self.param(ast, param, span);
        }
        self.header_name = Some(name);
        Ok(())
    }

    /// A header met by the parser before its body, on the streaming path: it
    /// must be the first statement, or the late header declared first.
    fn streamed_header(
        &mut self,
        ast: &Ast,
        (name, name_span): (Sym, Span),
        params: &[(Sym, Span)],
    ) -> Result<()> {
        let declared = self.predeclared.as_mut().filter(|p| {
            !p.seen && name == p.name && params.iter().map(|&(s, _)| s).eq(p.params.iter().copied())
        });
        if let Some(p) = declared {
            p.seen = true;
            return Ok(());
        }
        if self.count > 0 || self.predeclared.is_some() {
            if self.predeclared.is_none() {
                // Declared first, on a second pass (see `parse_and_lower`).
                self.late = Some(LateHeader {
                    name: name_span,
                    params: params.iter().map(|&(_, s)| s).collect(),
                });
            }
            return Err(Error::new(
                crate::error::ErrorKind::Syntax,
                "a header after other statements: declared first on a second pass",
            ));
        }
        self.declare(ast, name, params)
    }

    /// Lowers statement `k` of a whole program. `defined_at` gives, by symbol,
    /// the first statement that defines each stage.
    fn statement(
        &mut self,
        ast: &Ast,
        stmt: &Stmt,
        k: usize,
        defined_at: &[usize],
        header: Option<&Stmt>,
    ) -> Result<()> {
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
                &Expr::Name(name) => self.resolve(ast, name, span, header, defined_at, k)?,
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
        self.bind(ast, &stmt.kind, stmt.name, gate)
    }

    /// The gate a name in statement `k` stands for: what it is bound to, or a
    /// new parameter. `header` and `defined_at`, on the whole-program path,
    /// tell a name the header leaves out and a stage used before it is defined.
    fn resolve(
        &mut self,
        ast: &Ast,
        name: Sym,
        span: Span,
        header: Option<&Stmt>,
        defined_at: &[usize],
        k: usize,
    ) -> Result<GateId> {
        if let Some(g) = *self.bound(name) {
            return Ok(g);
        }
        let name_text = ast.name(name);
        if let Some(h) = header.filter(|_| self.mode == Mode::Whole) {
            return Err(not_in_header(ast, h, name_text, span));
        }
        if defined_at
            .get(name.index())
            .is_some_and(|&d| d != usize::MAX && d >= k)
        {
            return Err(
                Error::syntax(span, format!("`{name_text}` is used before it is defined"))
                    .label("used here")
                    .help("define a stage before the statements that use it"),
            );
        }
        if self.mode == Mode::Streaming && self.header_name.is_some() {
            // Not in the header: the whole-program path says so.
            return Err(Error::syntax(span, "not a parameter"));
        }
        Ok(self.param(ast, name, span))
    }

    /// Ends a statement whose body is `gate`: a stage's name is bound to it,
    /// and it is the output so far.
    fn bind(
        &mut self,
        ast: &Ast,
        kind: &StmtKind,
        name: Option<(Sym, Span)>,
        gate: GateId,
    ) -> Result<()> {
        if let Some((name, span)) = name {
            if let StmtKind::Stage = kind {
                if self.bound(name).is_some() {
                    let text = ast.name(name);
                    let what = if self.params.iter().any(|p| p.name == text) {
                        "a parameter"
                    } else {
                        "a stage"
                    };
                    return Err(Error::syntax(
                        span,
                        format!("`{text}` is already defined as {what}"),
                    )
                    .label("defined again here")
                    .help("give each stage its own name"));
                }
                *self.bound(name) = Some(gate);
            }
            self.stage_names.push((gate, name));
        }
        self.last = Some((gate, name.map(|(n, _)| n)));
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
        let Dag { gates, edges } = self.dag;
        Circuit::from_parts(
            (gates, edges),
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

#[cfg(test)]
mod late_header_tests {
    use super::*;

    /// Everything lowering decides, in words.
    fn describe(c: &Circuit) -> String {
        let mut out = String::new();
        for g in c.gates() {
            let ins: Vec<usize> = c.input_slice(g).iter().map(|i| i.index()).collect();
            let span = c.gate(g).span;
            let name = c.stage_names.first(g).unwrap_or("");
            out.push_str(&format!("{:?} {ins:?} {span:?} {name}\\n", c.op(g)));
        }
        for p in &c.params {
            out.push_str(&format!("param {} {:?} {:?}\\n", p.name, p.gate, p.span));
        }
        out.push_str(&format!(
            "output {:?} {}\\n{:?}\\n",
            c.output, c.output_name, c.notes
        ));
        out
    }

    /// A header after other statements is lowered a statement at a time, into
    /// the very circuit the whole-program path makes.
    #[test]
    fn a_late_header_streams_to_the_same_circuit() {
        for src in [
            "h0 = x\nh1 = tanh(h0 * y + h0)\nf(x, y) = h1",
            "h0 = x\nf(y, x) = h0 * y + 1",
            "a = x * x\nf(x, z, y) = a + y", // z unused: gradient 0 and a note
            "a = x\nf(x) = a\nb = a * 2",    // the header in the middle
            "s = w · v\nloss(v, w) = max(0, s - 1)",
            "a = x\nx(x) = a + 1", // the header's name is a parameter's
            "a = x * y\nf(x,\n  y) = a  # over two lines\n\n",
            "f(x) = x * x", // the only statement
        ] {
            let (program, streamed) = parse_and_lower(src).unwrap();
            assert!(
                program.stmts.is_empty(),
                "{src}: lowered whole, not streamed"
            );
            let whole = lower(&parse(src).unwrap()).unwrap();
            assert_eq!(describe(&streamed), describe(&whole), "{src}");
        }
    }

    /// The header on the last line is read before parsing; anything else is
    /// found by the parser.
    #[test]
    fn the_last_line_header_is_read_first() {
        fn names(src: &str) -> Option<Vec<&str>> {
            crate::syntax::trailing_header(src).map(|(name, params)| {
                let mut all = vec![&src[name.range()]];
                all.extend(params.iter().map(|p| &src[p.range()]));
                all
            })
        }
        assert_eq!(names("h = x\nf(x, y) = h * y"), Some(vec!["f", "x", "y"]));
        assert_eq!(
            names("h = x\nf(x) = h\n\n# done\n   \n"),
            Some(vec!["f", "x"])
        );
        assert_eq!(names("g() = 1"), Some(vec!["g"]));
        for src in [
            "h = x\nf(x) + 1",
            "f(x,\n y) = x",
            "x",
            "",
            "\n# only\n",
            "max(a, b) + 1",
        ] {
            assert_eq!(names(src), None, "{src:?}");
        }
    }

    /// What the whole-program path reports stays its to report.
    #[test]
    fn a_late_header_keeps_its_errors() {
        for (src, message) in [
            ("a = q\nf(x) = a", "`q` is not a parameter of `f(x)`"),
            ("a = x\nf(x, x) = a", "parameter `x` is listed twice"),
            (
                "a = x\nf(x) = a\ng(x) = a",
                "a program has at most one header",
            ),
            ("x = 1\nf(x) = x", "`x` is already defined as a parameter"),
            // The last line looks like a header but continues a bracket.
            ("a = (x +\nf(x) = 1)", "unknown function `f`"),
        ] {
            let e = parse_and_lower(src).unwrap_err();
            assert!(e.message.contains(message), "{src}: {}", e.message);
        }
    }
}
