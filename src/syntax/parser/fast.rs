//! The fast path: the statements that large generated programs are made of,
//! parsed straight from the text by precedence climbing, without the token
//! window and the operator stack of the full parser.
//!
//! It takes a stage `name = expression` or a bare expression, over ASCII
//! names, plain decimals, `+ - * / @`, unary `-` and `+`, brackets and calls
//! of built-in functions, on one line, ended by a line break, `;` or the end. Anything else, and anything wrong, is left to
//! the full parser, which parses that statement from its start, reports every
//! error, and hands the fast path the next statement. So the fast path never
//! decides what a program means: it reads a statement to the end first, into
//! a list of steps, and only then hands the steps to the builder, in the order
//! the full parser would have (post-order: leaves as they are read, an
//! operator once its operands are complete), with the same places. A test
//! holds the two to the same calls, on generated programs.
//!
//! Measured on the forked chain, where it takes every statement: 2 % fewer
//! instructions than the lexer's window and the operator stack (37.2 M
//! against 38.0 M at 10 000 stages), and 6 % less time at 100 000 stages
//! (42.7 against 45.4 ms, medians of 80 alternating runs on one core): no
//! window of tokens to write and read back.

use super::{Build, Parsed, Parser};
use crate::error::Span;
use crate::gate::{self, Op, prec};
use crate::syntax::ast::StmtKind;
use crate::syntax::lexer::{
    Lexer, Tok, Token, ascii_name_end, is_ascii_name_start, is_space, number_value,
    plain_number_end,
};

/// One step of a statement, in the order the builder is handed them.
#[derive(Clone, Copy, Debug)]
pub(super) enum Step {
    /// A number literal.
    Num(Span),
    /// A name.
    Name(Span),
    /// A binary operator, on the last two operands.
    Binary(Op),
    /// Unary `-` at this place, on the last operand.
    Negate(Span),
    /// A call of `gate::FUNCTIONS[function]` on the last `n` operands; its
    /// place runs from the name to the closing bracket.
    Call { function: u8, n: u32, span: Span },
}

/// Deeper nesting than this (brackets, calls, unary signs) is left to the
/// full parser, whose stacks are explicit: the fast path recurses.
const MAX_DEPTH: u32 = 64;

/// After this many statements in a row that the fast path gave up on, it is
/// not tried again: a program written in what it does not take pays for at
/// most this many false starts.
const MAX_MISSES: u32 = 16;

/// The scan of one statement: where it is, and the steps so far.
struct Scan<'s> {
    src: &'s str,
    pos: usize,
    depth: u32,
    steps: &'s mut Vec<Step>,
}

impl Scan<'_> {
    fn byte(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
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

    /// An expression whose binary operators bind at least as tightly as
    /// `min`; `None` if the fast path does not take it. (Places are worked
    /// out when the steps are handed over, from the leaves' and signs'.)
    fn expression(&mut self, min: u8) -> Option<()> {
        self.operand()?;
        let next = self.binary();
        self.operators(min, next).map(|_| ())
    }

    /// The binary operator here, after space, and its level; `None` for
    /// anything else, which the caller checks.
    fn binary(&mut self) -> Option<(Op, u8)> {
        self.skip_space();
        let bytes = self.src.as_bytes();
        let op = match self.byte()? {
            b'+' => Op::Add,
            b'-' => Op::Sub,
            // `**` is a power, which the fast path leaves alone.
            b'*' if bytes.get(self.pos + 1) != Some(&b'*') => Op::Mul,
            b'/' => Op::Div,
            b'@' => Op::Dot,
            _ => return None,
        };
        let gate::Notation::Infix(level, _) = op.notation() else {
            unreachable!("a binary operator")
        };
        Some((op, level))
    }

    /// The operators of level `min` or tighter after an operand, each with
    /// its right operand, by precedence climbing, from `next`, the operator
    /// here (read already). All are left-associative: the right operand takes
    /// only the operators that bind tighter, and only then is a call made for
    /// them. The first operator it does not take, with its level.
    fn operators(&mut self, min: u8, mut next: Option<(Op, u8)>) -> Option<Option<(Op, u8)>> {
        while let Some((op, level)) = next.filter(|&(_, level)| level >= min) {
            self.pos += 1;
            self.operand()?;
            next = self.binary();
            if next.is_some_and(|(_, tighter)| tighter > level) {
                next = self.operators(level + 1, next)?;
            }
            self.steps.push(Step::Binary(op));
        }
        Some(next)
    }

    /// An operand: a plain name here, the commonest, without a call;
    /// anything else through [`Scan::unary`].
    #[inline(always)]
    fn operand(&mut self) -> Option<()> {
        self.skip_space();
        if self.byte().is_some_and(is_ascii_name_start) {
            self.name_or_call()
        } else {
            self.unary()
        }
    }

    /// A value with its unary signs; a sign binds tighter than `*` and `/`
    /// and looser than `^`, which the fast path leaves alone.
    fn unary(&mut self) -> Option<()> {
        const _: () = assert!(prec::UNARY > prec::MUL);
        self.skip_space();
        match self.byte()? {
            b'-' => {
                let minus = self.punct();
                self.deeper()?;
                self.unary()?;
                self.depth -= 1;
                self.steps.push(Step::Negate(minus));
                Some(())
            }
            // Unary plus changes nothing, and leaves no step.
            b'+' => {
                self.pos += 1;
                self.deeper()?;
                self.unary()?;
                self.depth -= 1;
                Some(())
            }
            _ => self.primary(),
        }
    }

    /// The name here (it starts one), or the call it starts.
    #[inline(always)]
    fn name_or_call(&mut self) -> Option<()> {
        let start = self.pos;
        let name = Span::new(start, ascii_name_end(self.src.as_bytes(), start)?);
        self.pos = name.end as usize;
        self.skip_space();
        if self.byte() == Some(b'(') {
            return self.call(name);
        }
        self.steps.push(Step::Name(name));
        Some(())
    }

    /// The call of the function named at `name`, from its `(`, here.
    fn call(&mut self, name: Span) -> Option<()> {
        let function = gate::function_at(self.src.as_bytes(), name)?;
        self.pos += 1;
        self.deeper()?;
        let mut n = 0u32;
        loop {
            self.expression(prec::ADD)?;
            n += 1;
            self.skip_space();
            match self.byte()? {
                b',' => self.pos += 1,
                b')' => break,
                _ => return None,
            }
        }
        let span = name.to(self.punct());
        self.depth -= 1;
        if !gate::FUNCTIONS[function].2.accepts(n as usize) {
            return None;
        }
        self.steps.push(Step::Call {
            function: function as u8,
            n,
            span,
        });
        Some(())
    }

    /// A name, a number, a call or a bracketed expression.
    fn primary(&mut self) -> Option<()> {
        let (start, bytes) = (self.pos, self.src.as_bytes());
        let b = self.byte()?;
        if is_ascii_name_start(b) {
            return self.name_or_call();
        }
        if b.is_ascii_digit() {
            self.pos = plain_number_end(bytes, start)?;
            self.steps.push(Step::Num(Span::new(start, self.pos)));
            return Some(());
        }
        if b == b'(' {
            self.pos += 1;
            self.deeper()?;
            self.expression(prec::ADD)?;
            self.skip_space();
            if self.byte()? != b')' {
                return None;
            }
            self.pos += 1;
            self.depth -= 1;
            return Some(());
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

    /// The statement at byte `start`, handed to the builder if the fast path
    /// takes it: where it ends (at its line break, `;` or the end).
    fn fast_statement(&mut self, start: usize) -> Option<usize> {
        let bytes = self.src.as_bytes();
        self.steps.clear();
        let mut scan = Scan {
            src: self.src,
            pos: start,
            depth: 0,
            steps: &mut self.steps,
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
        let body = scan.expression(prec::ADD);
        let end = skip_blank(bytes, scan.pos, false);
        let ended = matches!(bytes.get(end), None | Some(b'\n' | b';'));
        if body.is_none() || !ended {
            return None;
        }
        let (body, body_span) = self.replay();
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

    /// Hands the steps to the builder as the full parser would: the
    /// statement's body, with its place.
    fn replay(&mut self) -> (B::Id, Span) {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        for k in 0..self.steps.len() {
            let step = self.steps[k];
            let operand = match step {
                Step::Num(span) => {
                    let text = self.text(span);
                    let x = number_value(text);
                    self.ast.note_literal(text, x);
                    (self.build.num(&mut self.ast, x, span), span)
                }
                Step::Name(span) => {
                    let sym = self.sym(span);
                    (self.build.name(&mut self.ast, sym, span), span)
                }
                Step::Binary(op) => {
                    let (Some((b, b_span)), Some((a, a_span))) = (out.pop(), out.pop()) else {
                        unreachable!("a binary operator follows its two operands")
                    };
                    let span = a_span.to(b_span);
                    (self.build.apply(&mut self.ast, op, &[a, b], span), span)
                }
                Step::Negate(minus) => {
                    let Some((a, a_span)) = out.pop() else {
                        unreachable!("a sign follows its operand")
                    };
                    let span = minus.to(a_span);
                    (self.build.apply(&mut self.ast, Op::Neg, &[a], span), span)
                }
                Step::Call { function, n, span } => {
                    let op = gate::FUNCTIONS[usize::from(function)].1;
                    let from = out.len() - n as usize;
                    let id = self.call(op, &out[from..], span);
                    out.truncate(from);
                    (id, span)
                }
            };
            out.push(operand);
        }
        let body = out.pop().expect("a statement's steps leave its body");
        debug_assert!(out.is_empty(), "and nothing else");
        self.out = out;
        body
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
