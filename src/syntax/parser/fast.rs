//! The fast path: the statements that large generated programs are made of,
//! parsed straight from the text by precedence climbing, without the token
//! window and the operator stack of the full parser.
//!
//! It takes a stage `name = expression`, a bare expression or the body of a
//! header (whose `f(x, y) =` the full parser reads), over ASCII
//! names, plain decimals, `+ - * / @`, unary `-` and `+`, brackets and calls
//! of built-in functions, on one line, ended by a line break, `;` or the end.
//! Anything else, and anything wrong, is left to the full parser, which
//! parses that statement from its start, reports every error, and hands the
//! fast path the next statement. So the fast path never decides what a
//! program means.
//!
//! It hands each node to the builder as it reads it, in the order the full
//! parser would (post-order: leaves as they are read, an operator once its
//! operands are complete), with the same places; a test holds the two to
//! the same calls, on generated programs. When it gives up part-way through
//! a statement, what it built of it is undone ([`Build::rollback`]), and
//! the names and literal notes it added are forgotten, so that the full
//! parser starts from where the statement did.
//!
//! Measured on the forked chain, where it takes every statement: against
//! the lexer's window and the operator stack, 2 % fewer instructions (37.2 M
//! against 38.0 M at 10 000 stages) and 6 % less time at 100 000 stages.
//! Building as it reads, rather than reading a statement into a list of
//! steps and handing those over once it was sure of it, took another 6 %
//! of the instructions (33.33 M to 31.21 M): the list written and read
//! back, and a stack of operands, for every node.

use super::expr::Operand;
use super::{Build, Parsed, Parser};
use crate::error::Span;
use crate::gate::{self, Op, prec};
use crate::syntax::ast::StmtKind;
use crate::syntax::lexer::{
    Lexer, Tok, Token, ascii_name_end, is_ascii_name_start, is_space, number_value,
    plain_number_end,
};
use smallvec::SmallVec;

/// A statement the fast path read to its end.
struct Body<Id> {
    /// The stage's name, if it is one.
    stage: Option<Span>,
    /// The place of its first token.
    first: Span,
    /// Its right-hand side, built.
    body: Operand<Id>,
    /// Where it ends: its line break, `;` or the end.
    end: usize,
}

/// Where a statement the fast path builds started: the names and notes the
/// parser had, and the builder's own mark.
struct Mark<M> {
    names: usize,
    notes: (usize, usize),
    build: M,
}

/// The binary operators the fast path takes: a byte where an [`Op`] is 16,
/// for what the scan hands from call to call.
#[derive(Clone, Copy)]
enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Dot,
}

impl Binary {
    fn op(self) -> Op {
        match self {
            Binary::Add => Op::Add,
            Binary::Sub => Op::Sub,
            Binary::Mul => Op::Mul,
            Binary::Div => Op::Div,
            Binary::Dot => Op::Dot,
        }
    }

    /// How tightly it binds: its level in [`gate::Notation::Infix`], tested.
    fn level(self) -> u8 {
        match self {
            Binary::Add | Binary::Sub => prec::ADD,
            Binary::Mul | Binary::Div | Binary::Dot => prec::MUL,
        }
    }
}

/// Deeper nesting than this (brackets, calls, unary signs) is left to the
/// full parser, whose stacks are explicit: the fast path recurses.
const MAX_DEPTH: u32 = 64;

/// After this many statements in a row that the fast path gave up on, it is
/// not tried again: a program written in what it does not take pays for at
/// most this many false starts.
const MAX_MISSES: u32 = 16;

/// The scan of one statement, building as it goes: where it is, and how
/// deep in brackets, calls and signs.
struct Scan<'p, 's, B: Build> {
    p: &'p mut Parser<'s, B>,
    pos: usize,
    depth: u32,
}

impl<B: Build> Scan<'_, '_, B> {
    fn byte(&self) -> Option<u8> {
        self.p.src.as_bytes().get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.byte().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    /// One byte of punctuation here, consumed: its place.
    fn punct(&mut self) -> Span {
        self.pos += 1;
        Span::new(self.pos - 1, self.pos)
    }

    fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// `op` on `args`, handed to the builder.
    fn apply(&mut self, op: Op, args: &[B::Id], span: Span) -> Operand<B::Id> {
        let p = &mut *self.p;
        (p.build.apply(&mut p.ast, op, args, span), span)
    }

    /// An expression whose binary operators bind at least as tightly as
    /// `min`; `None` if the fast path does not take it.
    fn expression(&mut self, min: u8) -> Option<Operand<B::Id>> {
        let first = self.operand()?;
        let next = self.binary();
        self.operators(min, first, next).map(|(e, _)| e)
    }

    /// The binary operator here, after space; `None` for anything else,
    /// which the caller checks.
    fn binary(&mut self) -> Option<Binary> {
        self.skip_space();
        let bytes = self.p.src.as_bytes();
        Some(match self.byte()? {
            b'+' => Binary::Add,
            b'-' => Binary::Sub,
            // `**` is a power, which the fast path leaves alone.
            b'*' if bytes.get(self.pos + 1) != Some(&b'*') => Binary::Mul,
            b'/' => Binary::Div,
            b'@' => Binary::Dot,
            _ => return None,
        })
    }

    /// The operators of level `min` or tighter after the operand `left`, each
    /// with its right operand, by precedence climbing, from `next`, the
    /// operator here (read already). All are left-associative: the right
    /// operand takes only the operators that bind tighter, and only then is
    /// the operator applied. The result, and the first operator it does not
    /// take.
    fn operators(
        &mut self,
        min: u8,
        mut left: Operand<B::Id>,
        mut next: Option<Binary>,
    ) -> Option<(Operand<B::Id>, Option<Binary>)> {
        while let Some(binary) = next.filter(|b| b.level() >= min) {
            self.pos += 1;
            let mut right = self.operand()?;
            next = self.binary();
            if next.is_some_and(|tighter| tighter.level() > binary.level()) {
                (right, next) = self.operators(binary.level() + 1, right, next)?;
            }
            let span = left.1.to(right.1);
            left = self.apply(binary.op(), &[left.0, right.0], span);
        }
        Some((left, next))
    }

    /// An operand: a plain name here, the commonest, without a call;
    /// anything else through [`Scan::unary`].
    #[inline(always)]
    fn operand(&mut self) -> Option<Operand<B::Id>> {
        self.skip_space();
        if self.byte().is_some_and(is_ascii_name_start) {
            self.name_or_call()
        } else {
            self.unary()
        }
    }

    /// A value with its unary signs; a sign binds tighter than `*` and `/`
    /// and looser than `^`, which the fast path leaves alone.
    fn unary(&mut self) -> Option<Operand<B::Id>> {
        const _: () = assert!(prec::UNARY > prec::MUL);
        self.skip_space();
        match self.byte()? {
            b'-' => {
                let minus = self.punct();
                self.deeper()?;
                let (a, a_span) = self.unary()?;
                self.depth -= 1;
                Some(self.apply(Op::Neg, &[a], minus.to(a_span)))
            }
            // Unary plus changes nothing, and makes no node.
            b'+' => {
                self.pos += 1;
                self.deeper()?;
                let a = self.unary()?;
                self.depth -= 1;
                Some(a)
            }
            _ => self.primary(),
        }
    }

    /// The name here (it starts one), or the call it starts.
    #[inline(always)]
    fn name_or_call(&mut self) -> Option<Operand<B::Id>> {
        let start = self.pos;
        let name = Span::new(start, ascii_name_end(self.p.src.as_bytes(), start)?);
        self.pos = name.end as usize;
        self.skip_space();
        if self.byte() == Some(b'(') {
            return self.call(name);
        }
        let p = &mut *self.p;
        let sym = p.sym(name);
        Some((p.build.name(&mut p.ast, sym, name), name))
    }

    /// The call of the function named at `name`, from its `(`, here.
    fn call(&mut self, name: Span) -> Option<Operand<B::Id>> {
        let function = gate::function_at(self.p.src.as_bytes(), name)?;
        self.pos += 1;
        self.deeper()?;
        let mut args: SmallVec<[Operand<B::Id>; 2]> = SmallVec::new();
        loop {
            args.push(self.expression(prec::ADD)?);
            self.skip_space();
            match self.byte()? {
                b',' => self.pos += 1,
                b')' => break,
                _ => return None,
            }
        }
        let span = name.to(self.punct());
        self.depth -= 1;
        let (_, op, arity) = gate::FUNCTIONS[function];
        if !arity.accepts(args.len()) {
            return None;
        }
        // One argument, the commonest, is one gate whatever the function.
        match args[..] {
            [(a, _)] => Some(self.apply(op, &[a], span)),
            _ => Some((self.p.call(op, &args, span), span)),
        }
    }

    /// A name, a number, a call or a bracketed expression.
    fn primary(&mut self) -> Option<Operand<B::Id>> {
        let (start, bytes) = (self.pos, self.p.src.as_bytes());
        let b = self.byte()?;
        if is_ascii_name_start(b) {
            return self.name_or_call();
        }
        if b.is_ascii_digit() {
            self.pos = plain_number_end(bytes, start)?;
            let span = Span::new(start, self.pos);
            let p = &mut *self.p;
            let text = p.text(span);
            let x = number_value(text);
            p.ast.note_literal(text, x);
            return Some((p.build.num(&mut p.ast, x, span), span));
        }
        if b == b'(' {
            self.pos += 1;
            self.deeper()?;
            let (inner, _) = self.expression(prec::ADD)?;
            self.skip_space();
            if self.byte()? != b')' {
                return None;
            }
            self.pos += 1;
            self.depth -= 1;
            // Its brackets are part of what it is part of, as in the full parser.
            return Some((inner, Span::new(start, self.pos)));
        }
        None
    }
}

/// Skips space and `#` comments from `pos`, and also line breaks and `;` if
/// `separators`: where the next token starts.
fn skip_blank(bytes: &[u8], mut pos: usize, separators: bool) -> usize {
    while let Some(&b) = bytes.get(pos) {
        if b == b'#' {
            pos = bytes[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |n| pos + n);
        } else if is_space(b) || (separators && (b == b'\n' || b == b';')) {
            pos += 1;
        } else {
            break;
        }
    }
    pos
}

/// Where the statement whose expression ends at `pos` ends: its line break,
/// `;` or the end, after space and a comment; `None` if something else
/// follows.
fn statement_end(bytes: &[u8], pos: usize) -> Option<usize> {
    let end = skip_blank(bytes, pos, false);
    matches!(bytes.get(end), None | Some(b'\n' | b';')).then_some(end)
}

impl<B: Build> Parser<'_, B> {
    /// Parses statements on the fast path from the current token on, as
    /// many as it takes in a row, and hands them to the builder; the window
    /// then starts where it stopped. How many it parsed.
    pub(super) fn fast_statements(&mut self) -> usize {
        // Past a lexer error, or with offsets past 32 bits, the full parser
        // alone reads on.
        if self.fast_misses >= MAX_MISSES
            || self.lex_error.is_some()
            || self.src.len() > u32::MAX as usize
        {
            return 0;
        }
        let bytes = self.src.as_bytes();
        let mut pos = self.peek().span.start as usize;
        let mut count = 0;
        loop {
            pos = skip_blank(bytes, pos, true);
            if pos == bytes.len() {
                break;
            }
            match self.fast_statement(pos) {
                Some(end) => {
                    pos = end;
                    count += 1;
                    self.fast_misses = 0;
                    #[cfg(test)]
                    {
                        self.fast_taken += 1;
                    }
                }
                None => {
                    self.fast_misses += 1;
                    break;
                }
            }
        }
        if count > 0 {
            self.resync(pos);
        }
        count
    }

    /// The statement at byte `start`, built if the fast path takes it: where
    /// it ends (at its line break, `;` or the end). If it does not, whatever
    /// it built of the statement is undone.
    fn fast_statement(&mut self, start: usize) -> Option<usize> {
        let mark = self.mark();
        let built = self.fast_body(start);
        let Some(Body {
            stage,
            first,
            body: (body, body_span),
            end,
        }) = built
        else {
            self.rollback(mark);
            return None;
        };
        let stmt = Parsed {
            kind: if stage.is_some() {
                StmtKind::Stage
            } else {
                StmtKind::Expr
            },
            // Interned after the body's names, as the full parser does.
            name: stage.map(|s| (self.sym(s), s)),
            body,
            span: first.to(body_span),
        };
        self.build.statement(&self.ast, stmt);
        Some(end)
    }

    /// The statement at byte `start` up to its end, its body built.
    fn fast_body(&mut self, start: usize) -> Option<Body<B::Id>> {
        let src = self.src;
        let bytes = src.as_bytes();
        let mut scan = Scan {
            p: self,
            pos: start,
            depth: 0,
        };
        // `name =` makes a stage.
        let mut stage = None;
        let first = match bytes[start] {
            b if is_ascii_name_start(b) => {
                let name = Span::new(start, ascii_name_end(bytes, start)?);
                scan.pos = name.end as usize;
                scan.skip_space();
                // `name(…) =` is a header, which the fast path reads as a
                // call and then gives up on at the `=`.
                if scan.byte() == Some(b'=') {
                    scan.pos += 1;
                    stage = Some(name);
                } else {
                    scan.pos = start;
                }
                name
            }
            b if b.is_ascii_digit() => Span::new(start, plain_number_end(bytes, start)?),
            _ => Span::new(start, start + 1),
        };
        let body = scan.expression(prec::ADD)?;
        Some(Body {
            stage,
            first,
            body,
            end: statement_end(bytes, scan.pos)?,
        })
    }

    /// The body of a header, on the fast path, from the token here (the
    /// first after its `=`) to the statement's end, where the window then
    /// starts; `None`, with nothing built, if the fast path does not take it.
    /// The header itself is the full parser's: its parameters are declared
    /// before the mark, so a false start undoes the body alone. An unrolled
    /// loss pasted as `f(w, x) = <a sum of thousands of terms>` is one such
    /// statement.
    pub(super) fn fast_header_body(&mut self) -> Option<Operand<B::Id>> {
        if self.fast_misses >= MAX_MISSES
            || self.lex_error.is_some()
            || self.src.len() > u32::MAX as usize
        {
            return None;
        }
        let start = self.peek().span.start as usize;
        let mark = self.mark();
        let bytes = self.src.as_bytes();
        let mut scan = Scan {
            p: self,
            pos: start,
            depth: 0,
        };
        let built = scan
            .expression(prec::ADD)
            .and_then(|body| Some((body, statement_end(bytes, scan.pos)?)));
        let Some((body, end)) = built else {
            self.rollback(mark);
            return None;
        };
        self.resync(end);
        #[cfg(test)]
        {
            self.fast_taken += 1;
        }
        Some(body)
    }

    /// Where a statement the fast path is about to build starts.
    fn mark(&mut self) -> Mark<B::Mark> {
        Mark {
            names: self.ast.names.len(),
            notes: (self.ast.notes.len(), self.ast.notes_dropped),
            build: self.build.mark(&self.ast),
        }
    }

    /// Undoes a statement the fast path gave up on: what the builder made of
    /// it, and the names and notes the parser added.
    #[cold]
    fn rollback(&mut self, mark: Mark<B::Mark>) {
        self.build.rollback(&mut self.ast, mark.build);
        self.forget_names(mark.names);
        let (notes, dropped) = mark.notes;
        self.ast.notes.truncate(notes);
        self.ast.notes_dropped = dropped;
    }

    /// Restarts the window at byte `pos`, where the fast path stopped.
    fn resync(&mut self, pos: usize) {
        self.lexer = Lexer::at(self.src, pos);
        // No token before `pos` is read again (see `prev`): the end stands in
        // for the last one consumed.
        self.window[0] = Token {
            tok: Tok::Eof,
            span: Span::new(pos, pos),
        };
        self.at = 1;
        self.len = 1;
        self.refill();
    }
}

#[cfg(test)]
mod tests;
