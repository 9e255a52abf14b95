//! Statements and expressions from tokens.
//!
//! Expressions are parsed by operator precedence with explicit stacks (a
//! shunting-yard machine) rather than by recursion, so nesting depth is limited
//! by memory only: `((((…x…))))` 100 000 deep parses like any other program.
//! Nodes are created as operators are reduced, which is post-order: children
//! before parents.

use super::ast::{Expr, ExprId, Program, Stmt, StmtKind, Sym};
use super::lexer::{Lexer, Tok, Token, number_value};
use crate::error::{Error, Result, Span};
use crate::gate::{self, Arity, Op, prec};

/// Parses a program.
///
/// ```
/// let p = gradexplain::syntax::parse("f(x, y) = -x^2 + y").unwrap();
/// assert_eq!(p.ast.bracketed(p.stmts[0].body), "((-(x ^ 2)) + y)");
/// ```
pub fn parse(src: &str) -> Result<Program> {
    let mut p = Parser::new(src);
    p.run(None)?;
    Ok(p.program)
}

/// Parses `src` a statement at a time: `each` gets every statement with the
/// syntax tree of that statement alone (its nodes start at 0), which is then
/// forgotten. Once `each` returns `false` it is not called again, but the rest
/// is still parsed, so that the errors are [`parse`]'s. Returns the names.
pub(crate) fn parse_each(
    src: &str,
    each: &mut dyn FnMut(&super::Ast, &Stmt) -> bool,
) -> Result<super::ast::Names> {
    let mut p = Parser::new(src);
    p.run(Some(each))?;
    Ok(std::mem::take(&mut p.program.ast.names))
}

/// What [`parse_each`] calls with each statement.
type Each<'e> = &'e mut dyn FnMut(&super::Ast, &Stmt) -> bool;

const EOF: Token = Token {
    tok: Tok::Eof,
    span: Span { start: 0, end: 0 },
};

struct Parser<'a> {
    src: &'a str,
    /// Tokens are pulled as the parser goes (a million-stage program never
    /// holds its token list); a lexer error ends the text (as [`Tok::Eof`]) and
    /// is kept, to be reported in place of whatever follows.
    lexer: Lexer<'a>,
    lex_error: Option<Error>,
    /// The current token, the one after it, and the last one consumed.
    cur: Token,
    next: Token,
    prev: Token,
    program: Program,
    /// The names seen so far, to intern them.
    syms: std::collections::HashMap<&'a str, Sym, foldhash::fast::FixedState>,
    /// The first header's name, once one is parsed.
    first_header: Option<Sym>,
    // The shunting-yard machine's stacks, kept from one statement to the next.
    ops: Vec<Item>,
    out: Vec<ExprId>,
    args: Vec<ExprId>,
}

/// What sits on the operator stack.
enum Item {
    Binary(Op),
    Negate(Span),
    Paren(Span),
    Call {
        op: Op,
        arity: Arity,
        name: Span,
        args_from: usize,
    },
    Index {
        open: Span,
        args_from: usize,
    },
}

impl Item {
    /// The precedence an operator has on the stack; brackets are barriers.
    fn prec(&self) -> Option<(u8, bool)> {
        match self {
            Item::Binary(op) => match op.notation() {
                gate::Notation::Infix(p, right) => Some((p, right)),
                _ => None,
            },
            Item::Negate(_) => Some((prec::UNARY, true)),
            _ => None,
        }
    }
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Parser<'a> {
        Parser {
            src,
            lexer: Lexer::new(src),
            lex_error: None,
            cur: EOF,
            next: EOF,
            prev: EOF,
            program: Program::default(),
            syms: std::collections::HashMap::with_capacity_and_hasher(
                src.len() / 32,
                foldhash::fast::FixedState::default(),
            ),
            first_header: None,
            ops: Vec::new(),
            out: Vec::new(),
            args: Vec::new(),
        }
    }

    /// The whole text; see [`parse`] and [`parse_each`].
    fn run(&mut self, each: Option<Each<'_>>) -> Result<()> {
        self.advance(2);
        let parsed = self.program(each);
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

    /// The lexer's next token; [`Tok::Eof`] once it has failed.
    fn lex(&mut self) -> Token {
        if self.lex_error.is_none() {
            match self.lexer.next_token() {
                Ok(t) => return t,
                Err(e) => self.lex_error = Some(e),
            }
        }
        let end = self.src.len();
        Token {
            tok: Tok::Eof,
            span: Span::new(end, end),
        }
    }

    fn peek(&self) -> Token {
        self.cur
    }

    /// The kind of the token `k` places ahead: 0, the current one, or 1.
    fn peek_at(&self, k: usize) -> Tok {
        debug_assert!(
            k <= 1,
            "one token of lookahead; a header reads ahead on its own"
        );
        if k == 0 { self.cur.tok } else { self.next.tok }
    }

    /// Consumes `n` tokens.
    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            self.prev = self.cur;
            self.cur = self.next;
            self.next = self.lex();
        }
    }

    fn text(&self, span: Span) -> &'a str {
        &self.src[span.range()]
    }

    /// The symbol of the name at `span`.
    fn sym(&mut self, span: Span) -> Sym {
        let text = self.text(span);
        let names = &mut self.program.ast.names;
        // One search of the table, whether the name is new or not.
        *self.syms.entry(text).or_insert_with(|| names.push(text))
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

    fn program(&mut self, mut each: Option<Each<'_>>) -> Result<()> {
        let streaming = each.is_some();
        let mut count = 0usize;
        loop {
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
            if !streaming {
                self.program.stmts.push(stmt);
                continue;
            }
            if let Some(f) = &mut each
                && !f(&self.program.ast, &stmt)
            {
                each = None;
            }
            self.program.ast.clear_nodes();
        }
        if count == 0 {
            let end = self.src.len();
            return Err(Error::syntax(Span::new(end, end), "the program is empty")
                .help("write an expression, for example `f(x, y) = x * y`"));
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<Stmt> {
        let first = ExprId(self.program.ast.len() as u32);
        let start = self.peek().span;
        if self.peek().tok == Tok::Name && self.peek_at(1) == Tok::Eq {
            let name = self.peek().span;
            self.advance(2);
            let body = self.expression()?;
            return Ok(self.stmt(StmtKind::Stage, Some(name), body, first, start));
        }
        if let Some((params, after)) = self.header_params() {
            let name = self.peek().span;
            self.advance(after);
            if let Some(first) = self.first_header {
                let first_name = self.program.ast.name(first);
                return Err(Error::syntax(name, "a program has at most one header")
                    .label("a second header")
                    .help(format!(
                        "`{first_name}(…)` is already the header; write this one as a stage `name = …`"
                    )));
            }
            let body = self.expression()?;
            let params = params.into_iter().map(|s| (self.sym(s), s)).collect();
            let stmt = self.stmt(StmtKind::Header { params }, Some(name), body, first, start);
            self.first_header = stmt.name.map(|(n, _)| n);
            return Ok(stmt);
        }
        let body = self.expression()?;
        if self.peek().tok == Tok::Eq {
            let t = self.peek();
            return Err(Error::syntax(t.span, "unexpected `=` after an expression")
                .label("only a name or a header can stand left of `=`")
                .help("a stage is written `name = expression`, a header `f(x, y) = expression`"));
        }
        Ok(self.stmt(StmtKind::Expr, None, body, first, start))
    }

    fn stmt(
        &mut self,
        kind: StmtKind,
        name: Option<Span>,
        body: ExprId,
        first: ExprId,
        start: Span,
    ) -> Stmt {
        let end = self.program.ast.span(body);
        Stmt {
            kind,
            name: name.map(|s| (self.sym(s), s)),
            body,
            first,
            span: start.to(end),
        }
    }

    /// If a header `NAME ( NAME, … ) =` starts here, the parameters' spans and
    /// how many tokens it takes, its `=` included. Line breaks inside the brackets are space.
    fn header_params(&self) -> Option<(Vec<Span>, usize)> {
        if self.peek().tok != Tok::Name || self.peek_at(1) != Tok::LParen {
            return None;
        }
        // One copy of the lexer reads ahead: a header may list thousands of names.
        let mut ahead = self.lexer.clone();
        let eof = Token {
            tok: Tok::Eof,
            span: Span::new(self.src.len(), self.src.len()),
        };
        let mut lex = || ahead.next_token().unwrap_or(eof);
        let mut params = Vec::new();
        let mut k = 2;
        let mut expect_name = true;
        loop {
            // Token 2 is the first the copy reads: tokens 0 and 1 are `cur` and `next`.
            let t = lex();
            match t.tok {
                Tok::Newline => {}
                Tok::Name if expect_name => {
                    params.push(t.span);
                    expect_name = false;
                }
                Tok::Comma if !expect_name => expect_name = true,
                Tok::RParen if !expect_name || params.is_empty() => break,
                _ => return None,
            }
            k += 1;
        }
        (lex().tok == Tok::Eq).then_some((params, k + 2))
    }

    /// One expression, up to the end of its statement.
    fn expression(&mut self) -> Result<ExprId> {
        let mut ops = std::mem::take(&mut self.ops);
        let mut out = std::mem::take(&mut self.out);
        let mut args = std::mem::take(&mut self.args);
        ops.clear();
        out.clear();
        args.clear();
        let result = self.machine(&mut ops, &mut out, &mut args);
        (self.ops, self.out, self.args) = (ops, out, args);
        result
    }

    /// The shunting-yard machine over one expression.
    fn machine(
        &mut self,
        ops: &mut Vec<Item>,
        out: &mut Vec<ExprId>,
        args: &mut Vec<ExprId>,
    ) -> Result<ExprId> {
        let mut depth = 0usize;
        loop {
            // Expecting a value.
            let t = self.peek();
            match t.tok {
                Tok::Num => {
                    self.advance(1);
                    let text = self.text(t.span);
                    let x = number_value(text);
                    self.program.ast.note_literal(text, x);
                    out.push(self.program.ast.push(Expr::Num(x), t.span));
                }
                Tok::Name if self.peek_at(1) == Tok::LParen => {
                    let name = self.text(t.span);
                    let Some((op, arity)) = gate::function(name) else {
                        return Err(unknown_function(name, t.span));
                    };
                    self.advance(2);
                    depth += 1;
                    ops.push(Item::Call {
                        op,
                        arity,
                        name: t.span,
                        args_from: args.len(),
                    });
                    if self.peek().tok == Tok::RParen {
                        let close = self.peek();
                        return Err(arity_error(name, arity, 0, t.span.to(close.span)));
                    }
                    continue;
                }
                Tok::Name => {
                    self.advance(1);
                    let name = self.sym(t.span);
                    out.push(self.program.ast.push(Expr::Name(name), t.span));
                }
                Tok::LParen => {
                    self.advance(1);
                    depth += 1;
                    ops.push(Item::Paren(t.span));
                    continue;
                }
                Tok::Minus => {
                    self.advance(1);
                    ops.push(Item::Negate(t.span));
                    continue;
                }
                Tok::Plus => {
                    self.advance(1); // unary plus changes nothing
                    continue;
                }
                Tok::Newline if depth > 0 => {
                    self.advance(1); // inside brackets a line break is just space
                    continue;
                }
                _ => {
                    let mut e = self
                        .unexpected(t, "a value")
                        .label("a value is missing here");
                    if matches!(
                        t.tok,
                        Tok::Star | Tok::Slash | Tok::Dot | Tok::Caret | Tok::Eq
                    ) {
                        e = e.help("an operator needs a value on each side");
                    }
                    return Err(e);
                }
            }
            // After a value: an operator, a postfix, a closing bracket or the end.
            loop {
                let t = self.peek();
                let binary = match t.tok {
                    Tok::Plus => Some(Op::Add),
                    Tok::Minus => Some(Op::Sub),
                    Tok::Star => Some(Op::Mul),
                    Tok::Slash => Some(Op::Div),
                    Tok::Dot => Some(Op::Dot),
                    Tok::Caret => Some(Op::Pow),
                    _ => None,
                };
                if let Some(op) = binary {
                    let gate::Notation::Infix(p, right) = op.notation() else {
                        unreachable!()
                    };
                    while let Some((q, _)) = ops.last().and_then(Item::prec) {
                        if q > p || (q == p && !right) {
                            self.reduce(ops, out)?;
                        } else {
                            break;
                        }
                    }
                    self.advance(1);
                    ops.push(Item::Binary(op));
                    break;
                }
                match t.tok {
                    Tok::LBrack => {
                        self.advance(1);
                        depth += 1;
                        let base = pop(out)?;
                        ops.push(Item::Index {
                            open: t.span,
                            args_from: args.len(),
                        });
                        args.push(base);
                        break;
                    }
                    Tok::Comma => {
                        self.reduce_to_bracket(ops, out)?;
                        match ops.last() {
                            Some(Item::Call { .. } | Item::Index { .. }) => {}
                            _ => {
                                return Err(Error::syntax(
                                    t.span,
                                    "unexpected `,` outside a call or an index",
                                )
                                .label("a comma separates a function's arguments")
                                .help("write `max(a, b)`; `(a, b)` is not a value"));
                            }
                        }
                        args.push(pop(out)?);
                        self.advance(1);
                        break;
                    }
                    Tok::RParen | Tok::RBrack => {
                        self.reduce_to_bracket(ops, out)?;
                        self.advance(1);
                        depth = depth.saturating_sub(1);
                        match (ops.pop(), t.tok) {
                            (Some(Item::Paren(_)), Tok::RParen) => {}
                            (
                                Some(Item::Call {
                                    op,
                                    arity,
                                    name,
                                    args_from,
                                }),
                                Tok::RParen,
                            ) => {
                                args.push(pop(out)?);
                                let list: smallvec::SmallVec<[ExprId; 4]> =
                                    args.drain(args_from..).collect();
                                let span = name.to(t.span);
                                if !arity.accepts(list.len()) {
                                    return Err(arity_error(
                                        self.text(name),
                                        arity,
                                        list.len(),
                                        span,
                                    ));
                                }
                                out.push(self.call(op, &list, span));
                            }
                            (Some(Item::Index { open, args_from }), Tok::RBrack) => {
                                args.push(pop(out)?);
                                let list: smallvec::SmallVec<[ExprId; 4]> =
                                    args.drain(args_from..).collect();
                                let span = self.program.ast.span(list[0]).to(t.span);
                                if list.len() > 3 {
                                    return Err(Error::syntax(
                                        open.to(t.span),
                                        format!(
                                            "too many indices: {} given, a matrix takes at most 2",
                                            list.len() - 1
                                        ),
                                    ));
                                }
                                out.push(self.program.ast.apply(Op::Index, &list, span));
                            }
                            (Some(item), _) => return Err(self.mismatched(item, t)),
                            (None, _) => {
                                let c = self.text(t.span);
                                return Err(Error::syntax(t.span, format!("unmatched `{c}`"))
                                    .label("no bracket opens before it"));
                            }
                        }
                        continue;
                    }
                    Tok::Newline if depth > 0 => {
                        self.advance(1); // inside brackets a line break is just space
                        continue;
                    }
                    Tok::Newline | Tok::Semi | Tok::Eof | Tok::Eq => {
                        while !ops.is_empty() {
                            if let Some(open) = self.unclosed(ops.last()) {
                                let c = self.text(open);
                                let close = if c == "[" { "]" } else { ")" };
                                return Err(Error::syntax(open, format!("unclosed `{c}`"))
                                    .label(format!("this `{c}` is never closed"))
                                    .help(format!(
                                        "add `{close}` before {}",
                                        t.tok.describe(self.text(t.span))
                                    )));
                            }
                            self.reduce(ops, out)?;
                        }
                        return pop(out);
                    }
                    _ => {
                        let prev = self.prev;
                        let mut e = self
                            .unexpected(t, "an operator")
                            .label("an operator is missing before this");
                        if matches!(t.tok, Tok::Name | Tok::Num | Tok::LParen) {
                            e = e.help(format!(
                                "write `{} * {}` for a product",
                                self.text(prev.span),
                                self.text(t.span)
                            ));
                        }
                        return Err(e);
                    }
                }
            }
        }
    }

    /// `max(a, b, c)` becomes `max(max(a, b), c)`: every gate has a fixed arity.
    fn call(&mut self, op: Op, list: &[ExprId], span: Span) -> ExprId {
        let ast = &mut self.program.ast;
        if !matches!(op, Op::Max | Op::Min) {
            // A fixed-arity function takes all its arguments (`scatter(x, v, i, j)`).
            return ast.apply(op, list, span);
        }
        let mut acc = ast.apply(op, &list[..list.len().min(2)], span);
        for &a in list.iter().skip(2) {
            acc = ast.apply(op, &[acc, a], span);
        }
        acc
    }

    fn unclosed(&self, item: Option<&Item>) -> Option<Span> {
        match item? {
            Item::Paren(s) | Item::Index { open: s, .. } => Some(*s),
            Item::Call { name, .. } => {
                let open = Span::new(name.end as usize, name.end as usize + 1);
                Some(open)
            }
            _ => None,
        }
    }

    fn mismatched(&self, item: Item, close: Token) -> Error {
        let open = self.unclosed(Some(&item)).unwrap_or(close.span);
        let (o, c) = (self.text(open), self.text(close.span));
        let want = if o == "[" { "]" } else { ")" };
        Error::syntax(
            close.span,
            format!("mismatched `{c}`: the open bracket is `{o}`"),
        )
        .label(format!("expected `{want}` here"))
    }

    fn reduce_to_bracket(&mut self, ops: &mut Vec<Item>, out: &mut Vec<ExprId>) -> Result<()> {
        while ops.last().is_some_and(|i| i.prec().is_some()) {
            self.reduce(ops, out)?;
        }
        Ok(())
    }

    fn reduce(&mut self, ops: &mut Vec<Item>, out: &mut Vec<ExprId>) -> Result<()> {
        let ast = &mut self.program.ast;
        match ops.pop() {
            Some(Item::Binary(op)) => {
                let b = pop(out)?;
                let a = pop(out)?;
                let span = ast.span(a).to(ast.span(b));
                out.push(ast.apply(op, &[a, b], span));
            }
            Some(Item::Negate(s)) => {
                let a = pop(out)?;
                let span = s.to(ast.span(a));
                out.push(ast.apply(Op::Neg, &[a], span));
            }
            _ => return Err(internal()),
        }
        Ok(())
    }
}

fn pop(out: &mut Vec<ExprId>) -> Result<ExprId> {
    out.pop().ok_or_else(internal)
}

/// The machine's invariants make this unreachable; an error beats a panic if a
/// bug ever breaks them.
fn internal() -> Error {
    Error::new(
        crate::error::ErrorKind::Syntax,
        "internal parser error: please report this program",
    )
}

fn unknown_function(name: &str, span: Span) -> Error {
    let best = gate::FUNCTIONS
        .iter()
        .map(|(n, _, _)| (strsim::levenshtein(n, name), *n))
        .min()
        .filter(|(d, _)| *d <= 2);
    let names: Vec<&str> = gate::FUNCTIONS.iter().map(|(n, _, _)| *n).collect();
    let help = match best {
        Some((_, n)) => format!("did you mean `{n}`?"),
        None => format!("the built-in functions are {}", names.join(", ")),
    };
    Error::syntax(span, format!("unknown function `{name}`"))
        .label("not a built-in function")
        .help(help)
}

fn arity_error(name: &str, arity: Arity, found: usize, span: Span) -> Error {
    Error::syntax(
        span,
        format!(
            "wrong number of arguments: `{name}` takes {}, found {found}",
            arity.describe()
        ),
    )
    .label(format!("{found} given here"))
}
