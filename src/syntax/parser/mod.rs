//! Statements and expressions from tokens: here the program and its statements,
//! in `expr.rs` the expression machine.
//!
//! Expressions are parsed by operator precedence with explicit stacks (a
//! shunting-yard machine) rather than by recursion, so nesting depth is limited
//! by memory only: `((((…x…))))` 100 000 deep parses like any other program.
//! Nodes are created as operators are reduced, which is post-order: children
//! before parents.

use super::ast::{Ast, Expr, ExprId, Program, Stmt, StmtKind, Sym, short_key};
use super::lexer::{Lexer, Tok, Token};
use crate::error::{Error, Result, Span};
use crate::gate::Op;

/// Parses a program.
///
/// ```
/// let p = gradexplain::syntax::parse("f(x, y) = -x^2 + y").unwrap();
/// assert_eq!(p.ast.bracketed(p.stmts[0].body), "((-(x ^ 2)) + y)");
/// ```
pub fn parse(src: &str) -> Result<Program> {
    let mut p = Parser::new(src, Tree::default());
    p.run()?;
    Ok(Program {
        ast: p.ast,
        stmts: p.build.stmts,
    })
}

/// Parses `src` into `build`, which is handed each node as it is reduced and
/// each statement as it ends, and never a syntax tree (see [`Build`]). Returns
/// the names and the literal notes, in an [`Ast`] without nodes.
///
/// The names at `first` (spans into `src`) are interned before anything else,
/// so that the caller knows their symbols: the k-th distinct one is `Sym(k)`.
pub(crate) fn parse_into<B: Build>(src: &str, first: &[Span], build: &mut B) -> Result<Ast> {
    let mut p = Parser::new(src, build);
    for &span in first {
        p.sym(span);
    }
    p.run()?;
    Ok(p.ast)
}

/// What the parser makes of a program as it reads it. Nodes are handed over
/// in post-order (children before parents) as operators are reduced, and a
/// statement once it ends.
///
/// [`parse`] builds the syntax tree. Lowering on the parser's way builds
/// gates straight away: a million-stage program then never has a tree, not
/// even one statement's, to build and walk again (that was a sixth of a
/// `--summary` run's instructions).
pub(crate) trait Build {
    /// A node's handle.
    type Id: Copy;
    /// A numeric literal.
    fn num(&mut self, ast: &mut Ast, x: f64, span: Span) -> Self::Id;
    /// A name (its text is `ast.name(sym)`).
    fn name(&mut self, ast: &mut Ast, sym: Sym, span: Span) -> Self::Id;
    /// `op` applied to arguments already handed over.
    fn apply(&mut self, ast: &mut Ast, op: Op, args: &[Self::Id], span: Span) -> Self::Id;
    /// A header `name(params…) =` whose body is about to be parsed.
    fn header(&mut self, ast: &Ast, name: (Sym, Span), params: &[(Sym, Span)]);
    /// A statement whose body has been handed over; it ends a mark.
    fn statement(&mut self, ast: &Ast, stmt: Parsed<Self::Id>);
    /// What [`Build::rollback`] returns to.
    type Mark;
    /// Marks the start of a statement the fast path reads and builds at once,
    /// and may yet give up on; the mark holds until the statement ends.
    fn mark(&mut self, ast: &Ast) -> Self::Mark;
    /// Undoes every call since `mark`: the fast path gave up on the statement,
    /// and the full parser reads it again from its start. (The parser itself
    /// forgets the names and notes of those calls.)
    fn rollback(&mut self, ast: &mut Ast, mark: Self::Mark);
}

impl<B: Build> Build for &mut B {
    type Id = B::Id;
    fn num(&mut self, ast: &mut Ast, x: f64, span: Span) -> B::Id {
        (**self).num(ast, x, span)
    }
    fn name(&mut self, ast: &mut Ast, sym: Sym, span: Span) -> B::Id {
        (**self).name(ast, sym, span)
    }
    fn apply(&mut self, ast: &mut Ast, op: Op, args: &[B::Id], span: Span) -> B::Id {
        (**self).apply(ast, op, args, span)
    }
    fn header(&mut self, ast: &Ast, name: (Sym, Span), params: &[(Sym, Span)]) {
        (**self).header(ast, name, params)
    }
    fn statement(&mut self, ast: &Ast, stmt: Parsed<B::Id>) {
        (**self).statement(ast, stmt)
    }
    type Mark = B::Mark;
    fn mark(&mut self, ast: &Ast) -> B::Mark {
        (**self).mark(ast)
    }
    fn rollback(&mut self, ast: &mut Ast, mark: B::Mark) {
        (**self).rollback(ast, mark)
    }
}

/// A statement as the parser hands it to a [`Build`].
pub(crate) struct Parsed<Id> {
    /// Header, stage or bare expression.
    pub kind: StmtKind,
    /// The name a header or stage gives, with its place.
    pub name: Option<(Sym, Span)>,
    /// The right-hand side.
    pub body: Id,
    /// The whole statement's place.
    pub span: Span,
}

/// The syntax tree's [`Build`]: nodes in the arena, statements in a list.
#[derive(Default)]
struct Tree {
    stmts: Vec<Stmt>,
    /// The first node of the statement being parsed.
    first: u32,
}

impl Build for Tree {
    type Id = ExprId;
    fn num(&mut self, ast: &mut Ast, x: f64, span: Span) -> ExprId {
        ast.push(Expr::Num(x), span)
    }
    fn name(&mut self, ast: &mut Ast, sym: Sym, span: Span) -> ExprId {
        ast.push(Expr::Name(sym), span)
    }
    fn apply(&mut self, ast: &mut Ast, op: Op, args: &[ExprId], span: Span) -> ExprId {
        ast.apply(op, args, span)
    }
    fn header(&mut self, _: &Ast, _: (Sym, Span), _: &[(Sym, Span)]) {}
    fn statement(&mut self, ast: &Ast, stmt: Parsed<ExprId>) {
        self.stmts.push(Stmt {
            kind: stmt.kind,
            name: stmt.name,
            body: stmt.body,
            first: ExprId(self.first),
            span: stmt.span,
        });
        self.first = ast.len() as u32;
    }
    type Mark = usize;
    fn mark(&mut self, ast: &Ast) -> usize {
        ast.len()
    }
    fn rollback(&mut self, ast: &mut Ast, len: usize) {
        ast.truncate(len);
    }
}

/// The hash of a short name's key in [`Parser::short`].
fn short_hash(key: u64) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(key)
}

/// How many tokens the parser's window holds: 6 KiB, which stays in the cache.
const WINDOW: usize = 512;

const EOF: Token = Token {
    tok: Tok::Eof,
    span: Span { start: 0, end: 0 },
};

struct Parser<'a, B: Build> {
    src: &'a str,
    /// Tokens are lexed a window at a time as the parser goes (a million-stage
    /// program never holds its token list); a lexer error ends the text (as
    /// [`Tok::Eof`]) and is kept, to be reported in place of whatever follows.
    lexer: Lexer<'a>,
    lex_error: Option<Error>,
    /// The window: the last token consumed at `at - 1`, the current one at
    /// `at`, the next at `at + 1`, then those lexed ahead, up to `len`.
    /// Lexing a window in one loop ([`Lexer::fill`]) rather than calling the
    /// lexer for each token took 6 % off a large program's instructions.
    window: Box<[Token; WINDOW]>,
    at: usize,
    len: usize,
    /// The names and literal notes, and the nodes if `build` puts them here.
    ast: Ast,
    build: B,
    /// The names seen so far, to intern them: those of up to 8 bytes by their
    /// bytes as one number ([`short_key`]), the others by their text. The
    /// short ones' table holds only symbols, 4 bytes a bucket, and their
    /// keys are in `short_keys` by symbol (0, which no name is, for a long
    /// one): a table of keys and symbols took 16 bytes a bucket, each page of
    /// it faulted in at random.
    short: hashbrown::HashTable<Sym>,
    short_keys: Vec<u64>,
    syms: std::collections::HashMap<&'a str, Sym, foldhash::fast::FixedState>,
    /// The first header's name, once one is parsed.
    first_header: Option<Sym>,
    // The shunting-yard machine's stacks, kept from one statement to the next:
    // operands are (node, place).
    ops: Vec<Item>,
    out: Vec<(B::Id, Span)>,
    args: Vec<(B::Id, Span)>,
    /// How many statements in a row the fast path gave up on.
    fast_misses: u32,
    /// How many statements the fast path took, for the tests.
    #[cfg(test)]
    fast_taken: usize,
}

mod expr;
mod fast;
mod header;
use expr::Item;
pub(crate) use header::trailing_header;

impl<'a, B: Build> Parser<'a, B> {
    fn new(src: &'a str, build: B) -> Parser<'a, B> {
        Parser {
            src,
            lexer: Lexer::new(src),
            lex_error: None,
            // Before the first `advance` the last, current and next tokens are
            // the end: nothing is read yet.
            window: Box::new([EOF; WINDOW]),
            at: 1,
            len: 3,
            ast: Ast::default(),
            build,
            short: hashbrown::HashTable::with_capacity(src.len() / 32),
            short_keys: Vec::new(),
            syms: std::collections::HashMap::default(),
            first_header: None,
            ops: Vec::new(),
            out: Vec::new(),
            args: Vec::new(),
            fast_misses: 0,
            #[cfg(test)]
            fast_taken: 0,
        }
    }

    /// The whole text; see [`parse`] and [`parse_into`].
    fn run(&mut self) -> Result<()> {
        self.advance(2);
        let parsed = self.program();
        // A character the lexer rejects is reported before any syntax error, wherever
        // it is: the first such error, as if the whole text had been split first.
        if parsed.is_err() {
            while self.lex_error.is_none() && self.peek().tok != Tok::Eof {
                self.advance(1);
            }
        }
        if let Some(e) = self.lex_error.take() {
            return Err(e);
        }
        parsed
    }

    fn peek(&self) -> Token {
        self.window[self.at]
    }

    /// The kind of the token `k` places ahead: 0, the current one, or 1.
    fn peek_at(&self, k: usize) -> Tok {
        debug_assert!(
            k <= 1,
            "one token of lookahead; a header reads ahead on its own"
        );
        self.window[self.at + k].tok
    }

    /// The last token consumed.
    fn prev(&self) -> Token {
        self.window[self.at - 1]
    }

    /// Consumes `n` tokens.
    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            self.at += 1;
            if self.at + 1 >= self.len {
                self.refill();
            }
        }
    }

    /// Moves the last, current and next tokens to the window's start and
    /// lexes more after them.
    #[inline(never)]
    fn refill(&mut self) {
        let keep = self.at - 1;
        self.window.copy_within(keep..self.len, 0);
        self.len -= keep;
        self.at = 1;
        if self.lex_error.is_none() {
            let (n, lexed) = self.lexer.fill(&mut self.window[self.len..]);
            self.len += n;
            if let Err(e) = lexed {
                self.lex_error = Some(e);
            }
        }
        // Past the end, or past a lexer error: the end, again and again.
        let end = self.src.len();
        while self.len < 3 {
            self.window[self.len] = Token {
                tok: Tok::Eof,
                span: Span::new(end, end),
            };
            self.len += 1;
        }
    }

    fn text(&self, span: Span) -> &'a str {
        &self.src[span.range()]
    }

    /// The symbol of the name at `span`.
    fn sym(&mut self, span: Span) -> Sym {
        let src = self.src;
        let names = &mut self.ast.names;
        // One search of a table, whether the name is new or not.
        match short_key(src.as_bytes(), span) {
            Some(key) => {
                let keys = &mut self.short_keys;
                let entry = self.short.entry(
                    short_hash(key),
                    |s| keys[s.index()] == key,
                    |s| short_hash(keys[s.index()]),
                );
                match entry {
                    hashbrown::hash_table::Entry::Occupied(o) => *o.get(),
                    hashbrown::hash_table::Entry::Vacant(v) => {
                        let sym = names.push(&src[span.range()]);
                        // Every symbol has a place, long names' too.
                        keys.resize(sym.index(), 0);
                        keys.push(key);
                        *v.insert(sym).get()
                    }
                }
            }
            None => {
                let text = &src[span.range()];
                *self.syms.entry(text).or_insert_with(|| names.push(text))
            }
        }
    }

    /// Forgets the names interned since there were `len`, in the tables too:
    /// a statement the fast path gave up on is read again by the full parser,
    /// which then interns them in its own order.
    fn forget_names(&mut self, len: usize) {
        let names = &self.ast.names;
        for k in len..names.len() {
            let sym = Sym(k as u32);
            match self.short_keys.get(k) {
                Some(&key) if key != 0 => {
                    if let Ok(entry) = self.short.find_entry(short_hash(key), |&s| s == sym) {
                        entry.remove();
                    }
                }
                _ => {
                    self.syms.remove(names.get(sym));
                }
            }
        }
        self.short_keys.truncate(len);
        self.ast.names.truncate(len);
    }

    fn unexpected(&self, t: Token, expected: &str) -> Error {
        let found = t.tok.describe(self.text(t.span));
        // Point at the end of the line, not across the line break.
        let span = if t.tok == Tok::Newline {
            Span::new(t.span.start as usize, t.span.start as usize)
        } else {
            t.span
        };
        Error::syntax(span, format!("expected {expected}, found {found}"))
    }

    fn program(&mut self) -> Result<()> {
        let mut count = 0usize;
        loop {
            count += self.fast_statements();
            while matches!(self.peek().tok, Tok::Newline | Tok::Semi) {
                self.advance(1);
            }
            if self.peek().tok == Tok::Eof {
                break;
            }
            let stmt = self.statement()?;
            count += 1;
            let t = self.peek();
            match t.tok {
                Tok::Newline | Tok::Semi | Tok::Eof => {}
                _ => return Err(self.unexpected(t, "the end of the statement")),
            }
            self.build.statement(&self.ast, stmt);
        }
        if count == 0 {
            let end = self.src.len();
            return Err(Error::syntax(Span::new(end, end), "the program is empty")
                .help("write an expression, for example `f(x, y) = x * y`"));
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<Parsed<B::Id>> {
        let start = self.peek().span;
        if self.peek().tok == Tok::Name && self.peek_at(1) == Tok::Eq {
            let name = self.peek().span;
            self.advance(2);
            let body = self.expression()?;
            return Ok(self.stmt(StmtKind::Stage, Some(name), body, start));
        }
        if let Some((params, after)) = self.header_params() {
            let name = self.peek().span;
            self.advance(after);
            if let Some(first) = self.first_header {
                let first_name = self.ast.name(first);
                return Err(Error::syntax(name, "a program has at most one header")
                    .label("a second header")
                    .help(format!(
                        "`{first_name}(…)` is already the header; write this one as a stage `name = …`"
                    )));
            }
            // The header's names are known before its body: lowering declares
            // the parameters first.
            let named = (self.sym(name), name);
            let params: Vec<(Sym, Span)> = params.into_iter().map(|s| (self.sym(s), s)).collect();
            self.first_header = Some(named.0);
            self.build.header(&self.ast, named, &params);
            let body = match self.fast_header_body() {
                Some(body) => body,
                None => self.expression()?,
            };
            return Ok(self.stmt(StmtKind::Header { params }, Some(name), body, start));
        }
        let header_like = self.header_like();
        let body = match self.expression() {
            Ok(body) => body,
            Err(e) => {
                return Err(header_like
                    .and_then(|h| self.malformed_header(h))
                    .unwrap_or(e));
            }
        };
        if self.peek().tok == Tok::Eq {
            let t = self.peek();
            return Err(Error::syntax(t.span, "unexpected `=` after an expression")
                .label("only a name or a header can stand left of `=`")
                .help("a stage is written `name = expression`, a header `f(x, y) = expression`"));
        }
        Ok(self.stmt(StmtKind::Expr, None, body, start))
    }

    fn stmt(
        &mut self,
        kind: StmtKind,
        name: Option<Span>,
        (body, end): (B::Id, Span),
        start: Span,
    ) -> Parsed<B::Id> {
        Parsed {
            kind,
            name: name.map(|s| (self.sym(s), s)),
            body,
            span: start.to(end),
        }
    }
}
