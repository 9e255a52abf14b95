//! Lowering: the syntax tree's statements become gates of the DAG, hash-consed,
//! so that a name used twice, a stage used twice and a repeated subexpression
//! are one gate with several consumers.
//!
//! Two ways in. [`lower`] takes a whole parsed [`Program`]. [`parse_and_lower`]
//! has the parser hand each node over as it is reduced and makes its gate at
//! once (lowering is the parser's `Build`), so a million-stage program never
//! has a syntax tree; when anything at all goes wrong it starts over the first
//! way, so that errors are exactly those of [`parse`] then [`lower`].
//!
//! Here, what names and statements mean; in `dag.rs`, the gates and their
//! hash-consing.

use crate::error::{Error, Result, Span};
use crate::gate::Op;
use crate::graph::{Circuit, GateId, Param};
use crate::syntax::ast::{Ast, Names};
use crate::syntax::{Build, Expr, ExprId, Parsed, Program, Stmt, StmtKind, Sym, parse};

mod dag;
use dag::Dag;
use petgraph::graph::NodeIndex;
use smallvec::SmallVec;

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

/// A name bound to no gate in [`Lowering::scope`]: a gate's index never is
/// `u32::MAX`, petgraph's end marker.
const UNBOUND: u32 = u32::MAX;

/// The gate of an entry of [`Lowering::scope`].
fn bound_gate(entry: u32) -> Option<GateId> {
    (entry != UNBOUND).then(|| GateId::new(entry as usize))
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
        // Nearly every name is bound already (a stage or a parameter seen
        // before): one inlined read here, where `resolve` is a call of six
        // arguments.
        if let Some(g) = self.bound(sym) {
            return g;
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

    /// How many parameters there were, and whether lowering had failed.
    type Mark = (usize, bool);

    fn mark(&mut self, _: &Ast) -> (usize, bool) {
        self.dag.mark();
        (self.params.len(), self.failed)
    }

    fn rollback(&mut self, _: &mut Ast, (params, failed): (usize, bool)) {
        self.dag.rollback();
        for &name in &self.param_syms[params..] {
            self.scope[name.index()] = UNBOUND;
        }
        self.params.truncate(params);
        self.param_syms.truncate(params);
        self.failed = failed;
    }

    fn header(&mut self, ast: &Ast, name: (Sym, Span), params: &[(Sym, Span)]) {
        if !self.failed && self.streamed_header(ast, name, params).is_err() {
            self.failed = true;
        }
    }

    fn statement(&mut self, ast: &Ast, stmt: Parsed<GateId>) {
        self.dag.settle();
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

/// See [`Lowering::predeclared`].
struct Predeclared {
    name: Sym,
    params: Vec<Sym>,
    seen: bool,
}

struct Lowering {
    mode: Mode,
    /// The gates so far, hash-consed.
    dag: Dag,
    params: Vec<Param>,
    /// Each parameter's symbol, to unbind it when a statement is undone.
    param_syms: Vec<Sym>,
    /// The gate each name is bound to so far (stages and parameters), by symbol.
    /// [`UNBOUND`] for none: 4 bytes a name, where an `Option` took 8.
    scope: Vec<u32>,
    stage_names: Vec<(GateId, Sym)>,
    notes: Vec<String>,
    /// The gate of each node of the statement being lowered.
    gate_of: Vec<GateId>,
    /// The header's name, once seen.
    header_name: Option<Sym>,
    /// The last statement's gate and name: the output.
    last: Option<(GateId, Option<Sym>)>,
    /// True when the last statement so far is the header.
    last_is_header: bool,
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
            dag: Dag::new(n),
            params: Vec::new(),
            param_syms: Vec::new(),
            scope: Vec::new(),
            stage_names: Vec::new(),
            notes: Vec::new(),
            gate_of: Vec::new(),
            header_name: None,
            last: None,
            last_is_header: false,
            predeclared: None,
            late: None,
            literal_notes: 0,
            literals_dropped: 0,
            count: 0,
            failed: false,
        }
    }

    /// The gate `op(inputs)`: the existing one if there is one (see
    /// [`Dag::add`]), else a new one.
    fn add(&mut self, op: Op, inputs: &[GateId], span: Span) -> GateId {
        self.dag.add(op, inputs, span)
    }

    /// The gate `name` is bound to so far.
    #[inline(always)]
    fn bound(&self, name: Sym) -> Option<GateId> {
        self.scope.get(name.index()).copied().and_then(bound_gate)
    }

    /// Binds `name` to `gate`.
    fn bind_name(&mut self, name: Sym, gate: GateId) {
        if self.scope.len() <= name.index() {
            self.scope.resize(name.index() + 1, UNBOUND);
        }
        self.scope[name.index()] = gate.index() as u32;
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
        self.param_syms.push(name);
        self.bind_name(name, gate);
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
        if let Some(g) = self.bound(name) {
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
                self.bind_name(name, gate);
            }
            self.stage_names.push((gate, name));
        }
        self.last = Some((gate, name.map(|(n, _)| n)));
        self.last_is_header = matches!(kind, StmtKind::Header { .. });
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
        // A header names the output even where it is not the last statement:
        // an unnamed last statement takes its name, and the header's own
        // statement, which is not the output, keeps none (two gates were `f`).
        let header = self.header_name.filter(|_| !self.last_is_header);
        if let Some(h) = header {
            let text = names.get(h);
            let output = out_name.map_or(text, |n| names.get(n));
            self.notes.push(format!(
                "the header `{text}(…)` is not the last statement: the last statement is the output, `{output}`, and the header's own expression is not used for it"
            ));
            if out_name.is_none() {
                self.stage_names.retain(|&(_, n)| n != h);
            }
        }
        let output_name = match out_name.or(header) {
            Some(n) => names.get(n).to_string(),
            None => {
                let bound = |n: &str| {
                    names
                        .iter()
                        .any(|(sym, text)| text == n && self.bound(sym).is_some())
                };
                ["f", "out", "output", "result"]
                    .into_iter()
                    .find(|n| !bound(n))
                    .map_or_else(|| "f_out".into(), str::to_string)
            }
        };
        Circuit::from_parts(
            self.dag.into_parts(),
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
    if name == hname {
        // Adding it to the header would make it a parameter of itself.
        return Error::syntax(
            span,
            format!("`{name}` is the header's name, not a value to use"),
        )
        .label("the header's name")
        .help("to use the header's expression, give it a stage of its own, `s = …`, and use `s`");
    }
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
mod late_header_tests;
