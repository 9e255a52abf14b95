//! The expression machine: operator precedence with explicit stacks (a
//! shunting-yard machine), and the errors it reports.

use super::{Build, Parser};
use crate::error::{Error, Result, Span};
use crate::gate::{self, Arity, Op, prec};
use crate::syntax::lexer::{Tok, Token, number_value};

/// What sits on the operator stack: 24 bytes. An operator keeps its
/// precedence, which every later operator compares with, and a call its
/// function's place in [`gate::FUNCTIONS`] rather than the entry itself (the
/// stack's items were 56 bytes, and pushed and popped for every operator).
pub(super) enum Item {
    Binary {
        op: Op,
        prec: u8,
    },
    Negate(Span),
    Paren(Span),
    Call {
        function: u8,
        name: Span,
        args_from: u32,
    },
    Index {
        open: Span,
        args_from: u32,
    },
}

// A function's place fits the byte that `Item::Call` keeps it in.
const _: () = assert!(gate::FUNCTIONS.len() <= 256);

impl Item {
    /// The precedence an operator has on the stack; brackets are barriers.
    /// Right-associative operators (`^`) never reduce one of their own, so
    /// only the level is needed here.
    fn prec(&self) -> Option<u8> {
        match self {
            Item::Binary { prec, .. } => Some(*prec),
            Item::Negate(_) => Some(prec::UNARY),
            _ => None,
        }
    }
}

/// An operand: its node and its place.
pub(super) type Operand<Id> = (Id, Span);

impl<'a, B: Build> Parser<'a, B> {
    pub(super) fn expression(&mut self) -> Result<Operand<B::Id>> {
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
        out: &mut Vec<Operand<B::Id>>,
        args: &mut Vec<Operand<B::Id>>,
    ) -> Result<Operand<B::Id>> {
        let mut depth = 0usize;
        loop {
            // Expecting a value.
            let t = self.peek();
            match t.tok {
                Tok::Num => {
                    self.advance(1);
                    let text = self.text(t.span);
                    let x = number_value(text);
                    self.ast.note_literal(text, x);
                    out.push((self.build.num(&mut self.ast, x, t.span), t.span));
                }
                Tok::Name if self.peek_at(1) == Tok::LParen => {
                    let name = self.text(t.span);
                    let Some(function) = gate::function_at(self.src.as_bytes(), t.span) else {
                        return Err(unknown_function(name, t.span));
                    };
                    let arity = gate::FUNCTIONS[function].2;
                    self.advance(2);
                    depth += 1;
                    ops.push(Item::Call {
                        function: function as u8,
                        name: t.span,
                        args_from: args.len() as u32,
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
                    out.push((self.build.name(&mut self.ast, name, t.span), t.span));
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
                    while let Some(q) = ops.last().and_then(Item::prec) {
                        if q > p || (q == p && !right) {
                            self.reduce(ops, out)?;
                        } else {
                            break;
                        }
                    }
                    self.advance(1);
                    ops.push(Item::Binary { op, prec: p });
                    break;
                }
                match t.tok {
                    Tok::LBrack => {
                        self.advance(1);
                        depth += 1;
                        let base = pop(out)?;
                        ops.push(Item::Index {
                            open: t.span,
                            args_from: args.len() as u32,
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
                            (Some(Item::Paren(open)), Tok::RParen) => {
                                // What it is part of spans its brackets too:
                                // the caret under `(x-1)/(x-1)` covers both ends.
                                if let Some(inner) = out.last_mut() {
                                    inner.1 = open.to(t.span);
                                }
                            }
                            (
                                Some(Item::Call {
                                    function,
                                    name,
                                    args_from,
                                }),
                                Tok::RParen,
                            ) => {
                                let (_, op, arity) = gate::FUNCTIONS[usize::from(function)];
                                let args_from = args_from as usize;
                                args.push(pop(out)?);
                                let span = name.to(t.span);
                                let n = args.len() - args_from;
                                if !arity.accepts(n) {
                                    return Err(arity_error(self.text(name), arity, n, span));
                                }
                                let id = self.call(op, &args[args_from..], span);
                                args.truncate(args_from);
                                out.push((id, span));
                            }
                            (Some(Item::Index { open, args_from }), Tok::RBrack) => {
                                let args_from = args_from as usize;
                                args.push(pop(out)?);
                                let list: smallvec::SmallVec<[Operand<B::Id>; 4]> =
                                    args.drain(args_from..).collect();
                                let span = list[0].1.to(t.span);
                                if list.len() > 3 {
                                    return Err(Error::syntax(
                                        open.to(t.span),
                                        format!(
                                            "too many indices: {} given, a matrix takes at most 2",
                                            list.len() - 1
                                        ),
                                    ));
                                }
                                let (build, ast) = (&mut self.build, &mut self.ast);
                                let id =
                                    with_ids(&list, |ids| build.apply(ast, Op::Index, ids, span));
                                out.push((id, span));
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
                        let prev = self.prev();
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
    pub(super) fn call(&mut self, op: Op, list: &[Operand<B::Id>], span: Span) -> B::Id {
        let (build, ast) = (&mut self.build, &mut self.ast);
        with_ids(list, |ids| {
            if !matches!(op, Op::Max | Op::Min) {
                // A fixed-arity function takes all its arguments (`scatter(x, v, i, j)`).
                return build.apply(ast, op, ids, span);
            }
            let mut acc = build.apply(ast, op, &ids[..ids.len().min(2)], span);
            for &a in ids.iter().skip(2) {
                acc = build.apply(ast, op, &[acc, a], span);
            }
            acc
        })
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

    fn reduce_to_bracket(
        &mut self,
        ops: &mut Vec<Item>,
        out: &mut Vec<Operand<B::Id>>,
    ) -> Result<()> {
        while ops.last().is_some_and(|i| i.prec().is_some()) {
            self.reduce(ops, out)?;
        }
        Ok(())
    }

    fn reduce(&mut self, ops: &mut Vec<Item>, out: &mut Vec<Operand<B::Id>>) -> Result<()> {
        let (build, ast) = (&mut self.build, &mut self.ast);
        match ops.pop() {
            Some(Item::Binary { op, .. }) => {
                let (b, b_span) = pop(out)?;
                let (a, a_span) = pop(out)?;
                let span = a_span.to(b_span);
                out.push((build.apply(ast, op, &[a, b], span), span));
            }
            Some(Item::Negate(s)) => {
                let (a, a_span) = pop(out)?;
                let span = s.to(a_span);
                out.push((build.apply(ast, Op::Neg, &[a], span), span));
            }
            _ => return Err(internal()),
        }
        Ok(())
    }
}

/// `f` of the nodes of operands: on the stack for one or two (nearly every
/// call), where collecting a `SmallVec` cost 66 instructions a call.
#[inline]
fn with_ids<Id: Copy, R>(list: &[Operand<Id>], f: impl FnOnce(&[Id]) -> R) -> R {
    match *list {
        [(a, _)] => f(&[a]),
        [(a, _), (b, _)] => f(&[a, b]),
        _ => f(&list.iter().map(|&(id, _)| id).collect::<Vec<Id>>()),
    }
}

fn pop<T>(out: &mut Vec<T>) -> Result<T> {
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
    // A suggestion keeps at least one of the name's letters: `σ` is one edit
    // from `f`, and no likelier meant.
    let keeps = |d: usize| d <= 2 && d < name.chars().count();
    let best = gate::FUNCTIONS
        .iter()
        .map(|(n, _, _)| (strsim::levenshtein(n, name), *n))
        .min()
        .filter(|&(d, _)| keeps(d));
    let names: Vec<&str> = gate::FUNCTIONS.iter().map(|(n, _, _)| *n).collect();
    let help = match best {
        Some((_, n)) => format!("did you mean `{n}`?"),
        None => format!(
            "the built-in functions are {}; to multiply, write `{name} * (…)`",
            names.join(", ")
        ),
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

#[cfg(test)]
mod tests {
    /// The operator stack's items stay small: they are pushed and popped for
    /// every operator of every statement.
    #[test]
    fn an_item_is_24_bytes() {
        assert_eq!(std::mem::size_of::<super::Item>(), 24);
    }
}
