//! Printing expressions in the tool's own language, without recursion: an
//! expression may nest 100 000 deep, so the printer walks an explicit stack.
//! The AST, the gate DAG and the symbolic derivatives all print through here.

use crate::gate::{Notation, Op, prec};
use std::borrow::Cow;

/// What the printer needs to know of one node.
pub enum Node<'a, Id> {
    /// Printed as is: a name or a number.
    Leaf(Cow<'a, str>),
    /// An operator applied to child nodes.
    Apply(Op, smallvec::SmallVec<[Id; 3]>),
}

/// Which brackets to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Brackets {
    /// Only those the precedence rules need: `-x^2`, `(a + b) * c`.
    Needed,
    /// Around every operator: `(-(x ^ 2))` — the unambiguous form tests compare.
    All,
}

#[derive(Clone, Copy)]
enum Side {
    /// A call argument, an index, the root: nothing binds around it.
    Free,
    Left,
    Right,
}

#[derive(Clone, Copy)]
struct Ctx {
    prec: u8,
    right_assoc: bool,
    side: Side,
}

const FREE: Ctx = Ctx {
    prec: 0,
    right_assoc: false,
    side: Side::Free,
};

enum Task<'a, Id> {
    Visit(Id, Ctx),
    Text(Cow<'a, str>),
}

/// Prints `root`, asking `node` for each node's shape.
pub fn print<'a, Id: Copy + 'a>(
    root: Id,
    node: impl Fn(Id) -> Node<'a, Id>,
    brackets: Brackets,
) -> String {
    let mut out = String::new();
    let mut stack = vec![Task::Visit(root, FREE)];
    while let Some(task) = stack.pop() {
        let (id, ctx) = match task {
            Task::Text(t) => {
                out.push_str(&t);
                continue;
            }
            Task::Visit(id, ctx) => (id, ctx),
        };
        match node(id) {
            Node::Leaf(text) => {
                // A negative literal binds like a unary minus: `(-4)^2`, `a * -4`.
                let negative = text.starts_with('-');
                let wrap = negative && needs_parens(prec::UNARY, false, ctx);
                if wrap {
                    out.push('(');
                }
                out.push_str(&text);
                if wrap {
                    out.push(')');
                }
            }
            Node::Apply(op, args) => {
                let mut tasks: Vec<Task<'a, Id>> = Vec::with_capacity(2 * args.len() + 3);
                match op.notation() {
                    Notation::Infix(p, right) => {
                        let wrap = brackets == Brackets::All || needs_parens(p, right, ctx);
                        if wrap {
                            tasks.push(Task::Text("(".into()));
                        }
                        for (i, &a) in args.iter().enumerate() {
                            if i > 0 {
                                tasks.push(Task::Text(spaced(op)));
                            }
                            let side = if i == 0 { Side::Left } else { Side::Right };
                            tasks.push(Task::Visit(
                                a,
                                Ctx {
                                    prec: p,
                                    right_assoc: right,
                                    side,
                                },
                            ));
                        }
                        if wrap {
                            tasks.push(Task::Text(")".into()));
                        }
                    }
                    Notation::Prefix => {
                        let wrap =
                            brackets == Brackets::All || needs_parens(prec::UNARY, false, ctx);
                        if wrap {
                            tasks.push(Task::Text("(".into()));
                        }
                        tasks.push(Task::Text("-".into()));
                        let inner = Ctx {
                            prec: prec::UNARY,
                            right_assoc: false,
                            side: Side::Right,
                        };
                        tasks.push(Task::Visit(args[0], inner));
                        if wrap {
                            tasks.push(Task::Text(")".into()));
                        }
                    }
                    Notation::Index => {
                        let base = Ctx {
                            prec: prec::POSTFIX,
                            right_assoc: false,
                            side: Side::Left,
                        };
                        tasks.push(Task::Visit(args[0], base));
                        tasks.push(Task::Text("[".into()));
                        for (i, &a) in args[1..].iter().enumerate() {
                            if i > 0 {
                                tasks.push(Task::Text(", ".into()));
                            }
                            tasks.push(Task::Visit(a, FREE));
                        }
                        tasks.push(Task::Text("]".into()));
                    }
                    Notation::Call | Notation::Leaf => {
                        tasks.push(Task::Text(format!("{}(", op.symbol()).into()));
                        for (i, &a) in args.iter().enumerate() {
                            if i > 0 {
                                tasks.push(Task::Text(", ".into()));
                            }
                            tasks.push(Task::Visit(a, FREE));
                        }
                        tasks.push(Task::Text(")".into()));
                    }
                }
                stack.extend(tasks.into_iter().rev());
            }
        }
    }
    out
}

/// An infix symbol with its spaces, without allocating for the common ones:
/// a million-gate derivative prints millions of them.
fn spaced(op: Op) -> Cow<'static, str> {
    match op {
        Op::Add => " + ".into(),
        Op::Sub => " - ".into(),
        Op::Mul => " * ".into(),
        Op::Div => " / ".into(),
        Op::Pow => " ^ ".into(),
        op => format!(" {} ", op.symbol()).into(),
    }
}

/// Whether an operator of precedence `p` needs brackets in context `ctx`.
fn needs_parens(p: u8, _right: bool, ctx: Ctx) -> bool {
    match ctx.side {
        Side::Free => false,
        Side::Left => p < ctx.prec || (p == ctx.prec && ctx.right_assoc),
        Side::Right => p < ctx.prec || (p == ctx.prec && !ctx.right_assoc),
    }
}

/// A number as the language writes it, reading back to the same `f64`:
/// `3`, `0.5`, `1e-7`; infinities as `1e999`, which the parser reads as infinity.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        return "(0 * 1e999)".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "1e999".into()
        } else {
            "-1e999".into()
        };
    }
    if x.fract() == 0.0 && x.abs() < 1e16 {
        return format!("{}", x as i64);
    }
    format!("{x:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for x in [3.0, -4.0, 0.5, 1e-7, 1.0 / 3.0, 2.5e21, 1e300] {
            assert_eq!(number(x).parse::<f64>().unwrap(), x, "{}", number(x));
        }
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.1), "0.1");
    }
}
