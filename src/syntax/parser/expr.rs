//! The expression machine: operator precedence with explicit stacks (a
//! shunting-yard machine), and the errors it reports.

use super::Parser;
use crate::error::{Error, Result, Span};
use crate::gate::{self, Arity, Op, prec};
use crate::syntax::ast::{Expr, ExprId};
use crate::syntax::lexer::{Tok, Token, number_value};

/// What sits on the operator stack.
pub(super) enum Item {
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
    pub(super) fn expression(&mut self) -> Result<ExprId> {
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
