//! A [`Build`]'s calls recorded in batches and replayed into another builder,
//! so that the parser and whatever it feeds can run on two threads: the
//! parser records on one, lowering replays on the other (see
//! `lowering::pipeline`).
//!
//! The parser is generic over its builder, so recording is just one more
//! builder, and replaying makes the same calls, with the same arguments, in
//! the same order, as the parser made to the recorder. Node handles are
//! numbered per statement in the order they were handed out; the replaying
//! side maps them to its own.

use super::ast::{Ast, Names, StmtKind, Sym};
use super::parser::{Build, Parsed};
use crate::error::Span;
use crate::gate::Op;

/// One call to a [`Build`], its lists kept in the [`Batch`]'s side tables.
#[derive(Clone, Copy, Debug)]
enum Call {
    Num {
        x: f64,
        span: Span,
    },
    Name {
        sym: Sym,
        span: Span,
    },
    /// Arguments: `Batch::ids[from..from + n]`.
    Apply {
        op: Op,
        span: Span,
        from: u32,
        n: u32,
    },
    /// Parameters: `Batch::params[from..from + n]`.
    Header {
        name: (Sym, Span),
        from: u32,
        n: u32,
    },
    Statement {
        kind: Kind,
        name: Option<(Sym, Span)>,
        body: u32,
        span: Span,
    },
}

/// A statement's kind, with a header's parameters in [`Batch::params`].
#[derive(Clone, Copy, Debug)]
enum Kind {
    Header { from: u32, n: u32 },
    Stage,
    Expr,
}

/// Calls recorded in order, with the names interned since the batch before:
/// a batch refers only to names in it or in earlier batches.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    calls: Vec<Call>,
    ids: Vec<u32>,
    params: Vec<(Sym, Span)>,
    /// The names whose symbols are the next ones after the earlier batches'.
    names: Names,
}

impl Batch {
    fn clear(&mut self) {
        self.calls.clear();
        self.ids.clear();
        self.params.clear();
        self.names = Names::default();
    }
}

/// The calls a recorder collects before it hands a batch over: small enough to
/// stay in the cache between the threads, large enough that handing over is
/// rare (a batch is about 40 bytes a call).
const BATCH: usize = 16384;

/// The recording [`Build`]: its node handles are numbers, and every
/// [`BATCH`] calls it hands a batch to `send`, which returns an empty one to
/// fill next (recycled, so that batches are not allocated again and again).
pub(crate) struct Recorder<S: FnMut(Batch) -> Batch> {
    batch: Batch,
    /// The next node's number in this statement.
    next: u32,
    /// How many names earlier batches carried.
    names_sent: usize,
    send: S,
}

impl<S: FnMut(Batch) -> Batch> Recorder<S> {
    /// A recorder handing its batches to `send`.
    pub(crate) fn new(send: S) -> Self {
        Recorder {
            batch: Batch::default(),
            next: 0,
            names_sent: 0,
            send,
        }
    }

    /// Hands over what is recorded so far, with the names interned since the
    /// last batch (`ast` is the parser's). The last call, once parsing is done.
    pub(crate) fn flush(&mut self, ast: &Ast) {
        for k in self.names_sent..ast.names.len() {
            self.batch.names.push(ast.names.get(Sym(k as u32)));
        }
        self.names_sent = ast.names.len();
        let full = std::mem::take(&mut self.batch);
        self.batch = (self.send)(full);
        self.batch.clear();
    }

    fn record(&mut self, ast: &Ast, call: Call) {
        self.batch.calls.push(call);
        if self.batch.calls.len() >= BATCH {
            self.flush(ast);
        }
    }

    fn node(&mut self, ast: &Ast, call: Call) -> u32 {
        let id = self.next;
        self.next += 1;
        self.record(ast, call);
        id
    }
}

impl<S: FnMut(Batch) -> Batch> Build for Recorder<S> {
    type Id = u32;

    fn num(&mut self, ast: &mut Ast, x: f64, span: Span) -> u32 {
        self.node(ast, Call::Num { x, span })
    }

    fn name(&mut self, ast: &mut Ast, sym: Sym, span: Span) -> u32 {
        self.node(ast, Call::Name { sym, span })
    }

    fn apply(&mut self, ast: &mut Ast, op: Op, args: &[u32], span: Span) -> u32 {
        let from = self.batch.ids.len() as u32;
        self.batch.ids.extend_from_slice(args);
        let n = args.len() as u32;
        self.node(ast, Call::Apply { op, span, from, n })
    }

    fn header(&mut self, ast: &Ast, name: (Sym, Span), params: &[(Sym, Span)]) {
        let from = self.batch.params.len() as u32;
        self.batch.params.extend_from_slice(params);
        let n = params.len() as u32;
        self.record(ast, Call::Header { name, from, n });
    }

    fn statement(&mut self, ast: &Ast, stmt: Parsed<u32>) {
        let kind = match &stmt.kind {
            StmtKind::Header { params } => {
                let from = self.batch.params.len() as u32;
                self.batch.params.extend_from_slice(params);
                Kind::Header {
                    from,
                    n: params.len() as u32,
                }
            }
            StmtKind::Stage => Kind::Stage,
            StmtKind::Expr => Kind::Expr,
        };
        self.next = 0;
        let call = Call::Statement {
            kind,
            name: stmt.name,
            body: stmt.body,
            span: stmt.span,
        };
        self.record(ast, call);
    }
}

/// The replaying side: the builder the calls go to, the names so far (the
/// parser's table, rebuilt from the batches), and this statement's nodes.
pub(crate) struct Replay<B: Build> {
    /// The builder.
    pub(crate) build: B,
    /// What the builder reads of the parser's [`Ast`]: its names (and the
    /// nodes of a builder that makes them).
    pub(crate) ast: Ast,
    nodes: Vec<B::Id>,
    args: Vec<B::Id>,
}

impl<B: Build> Replay<B> {
    /// Replays into `build`.
    pub(crate) fn new(build: B) -> Self {
        Replay {
            build,
            ast: Ast::default(),
            nodes: Vec::new(),
            args: Vec::new(),
        }
    }

    /// Makes the batch's calls, in order. Batches come in the order they were
    /// recorded.
    pub(crate) fn batch(&mut self, batch: &Batch) {
        for (_, text) in batch.names.iter() {
            self.ast.names.push(text);
        }
        let (b, ast) = (&mut self.build, &mut self.ast);
        for &call in &batch.calls {
            match call {
                Call::Num { x, span } => self.nodes.push(b.num(ast, x, span)),
                Call::Name { sym, span } => self.nodes.push(b.name(ast, sym, span)),
                Call::Apply { op, span, from, n } => {
                    let ids = &batch.ids[from as usize..(from + n) as usize];
                    self.args.clear();
                    self.args
                        .extend(ids.iter().map(|&i| self.nodes[i as usize]));
                    self.nodes.push(b.apply(ast, op, &self.args, span));
                }
                Call::Header { name, from, n } => {
                    b.header(ast, name, &batch.params[from as usize..(from + n) as usize]);
                }
                Call::Statement {
                    kind,
                    name,
                    body,
                    span,
                } => {
                    let kind = match kind {
                        Kind::Header { from, n } => StmtKind::Header {
                            params: batch.params[from as usize..(from + n) as usize].to_vec(),
                        },
                        Kind::Stage => StmtKind::Stage,
                        Kind::Expr => StmtKind::Expr,
                    };
                    let body = self.nodes[body as usize];
                    b.statement(
                        ast,
                        Parsed {
                            kind,
                            name,
                            body,
                            span,
                        },
                    );
                    self.nodes.clear();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{Program, parse};
    use crate::syntax::{Tree, parse_into};

    /// Parses `src` into a recorder, replays the batches into the syntax
    /// tree's builder, and returns the program the replay built.
    fn replayed(src: &str) -> Program {
        let mut batches = Vec::new();
        let mut rec = Recorder::new(|b: Batch| {
            batches.push(b);
            Batch::default()
        });
        let ast = parse_into(src, &[], &mut rec).unwrap();
        rec.flush(&ast);
        drop(rec);
        let mut replay = Replay::new(Tree::default());
        for b in &batches {
            replay.batch(b);
        }
        let mut program = Program {
            ast: replay.ast,
            stmts: replay.build.stmts,
        };
        program.ast.notes = ast.notes;
        program.ast.notes_dropped = ast.notes_dropped;
        program
    }

    #[test]
    fn a_replay_builds_what_the_parser_builds() {
        for src in [
            "f(x, y) = x * y",
            "q = x + y\nf = q * z",
            "max(a, b, c, d) + min(1, x)\ny = -x ^ 2",
            "L = max(0, W[1] · x - W[0] · x + 1)",
            "a = 1e999 * x; g(x) = a",
        ] {
            assert_eq!(replayed(src), parse(src).unwrap(), "{src}");
        }
    }

    #[test]
    fn statements_and_names_cross_batch_boundaries() {
        // Far more calls than a batch holds, in one statement and across many.
        let long: Vec<String> = (0..3 * BATCH).map(|i| format!("v{i}")).collect();
        let mut src = format!("s = {}\n", long.join(" + "));
        for i in 0..2 * BATCH {
            src.push_str(&format!("h{} = tanh(h{} * w{i} + 1)\n", i + 1, i));
        }
        assert_eq!(replayed(&src), parse(&src).unwrap());
    }
}
