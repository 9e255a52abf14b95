//! Expressions and names as LaTeX math: `\frac{a}{b}`, `{x}^{2}`,
//! `\sigma\left(z\right)`, `h_{1}`, `\alpha`. Like the plain printer, it walks an
//! explicit stack, so any depth prints.

use super::expr::{Arena, ExprId};
use crate::gate::{Op, prec};

const GREEK: &[(&str, char, &str)] = &[
    ("alpha", 'α', "\\alpha"),
    ("beta", 'β', "\\beta"),
    ("gamma", 'γ', "\\gamma"),
    ("delta", 'δ', "\\delta"),
    ("epsilon", 'ε', "\\epsilon"),
    ("zeta", 'ζ', "\\zeta"),
    ("eta", 'η', "\\eta"),
    ("theta", 'θ', "\\theta"),
    ("iota", 'ι', "\\iota"),
    ("kappa", 'κ', "\\kappa"),
    ("lambda", 'λ', "\\lambda"),
    ("mu", 'μ', "\\mu"),
    ("nu", 'ν', "\\nu"),
    ("xi", 'ξ', "\\xi"),
    ("pi", 'π', "\\pi"),
    ("rho", 'ρ', "\\rho"),
    ("sigma", 'σ', "\\sigma"),
    ("tau", 'τ', "\\tau"),
    ("upsilon", 'υ', "\\upsilon"),
    ("phi", 'φ', "\\phi"),
    ("chi", 'χ', "\\chi"),
    ("psi", 'ψ', "\\psi"),
    ("omega", 'ω', "\\omega"),
    ("Gamma", 'Γ', "\\Gamma"),
    ("Delta", 'Δ', "\\Delta"),
    ("Theta", 'Θ', "\\Theta"),
    ("Lambda", 'Λ', "\\Lambda"),
    ("Xi", 'Ξ', "\\Xi"),
    ("Pi", 'Π', "\\Pi"),
    ("Sigma", 'Σ', "\\Sigma"),
    ("Phi", 'Φ', "\\Phi"),
    ("Psi", 'Ψ', "\\Psi"),
    ("Omega", 'Ω', "\\Omega"),
];

/// A name as LaTeX: `x`, `h_{1}` for `h1` or `h_1`, `\alpha` for `alpha` or
/// `α`, `\mathit{loss}` for a longer word; underscores and other specials escaped.
pub fn name(n: &str) -> String {
    let (base, sub) = match n.find('_').filter(|&i| i > 0 && i + 1 < n.len()) {
        Some(i) => (&n[..i], Some(&n[i + 1..])),
        None => {
            let digits = n.len() - n.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 && digits < n.len() {
                (&n[..n.len() - digits], Some(&n[n.len() - digits..]))
            } else {
                (n, None)
            }
        }
    };
    let mut out = word(base);
    if let Some(s) = sub {
        let s = if s.chars().all(|c| c.is_ascii_digit()) || s.chars().count() == 1 {
            escape(s)
        } else if let Some(g) = greek(s) {
            g.to_string()
        } else {
            format!("\\mathrm{{{}}}", escape(s))
        };
        out.push_str(&format!("_{{{s}}}"));
    }
    out
}

fn greek(w: &str) -> Option<&'static str> {
    let mut chars = w.chars();
    let single = match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    };
    GREEK
        .iter()
        .find(|(word, ch, _)| *word == w || Some(*ch) == single)
        .map(|(_, _, tex)| *tex)
}

fn word(w: &str) -> String {
    if let Some(g) = greek(w) {
        return g.to_string();
    }
    if w.chars().count() == 1 {
        return escape(w);
    }
    format!("\\mathit{{{}}}", escape(w))
}

/// `\frac{\partial f}{\partial x}`, from LaTeX names.
pub fn partial(f: &str, x: &str) -> String {
    format!("\\frac{{\\partial {f}}}{{\\partial {x}}}")
}

/// Escapes the characters LaTeX treats specially in math.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '_' | '#' | '$' | '%' | '&' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\backslash "),
            '^' => out.push_str("\\hat{}"),
            '~' => out.push_str("\\sim "),
            c => out.push(c),
        }
    }
    out
}

/// A number as LaTeX: `3`, `0.5`, `1.5 \times 10^{-7}`, `\infty`.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        return "\\mathrm{nan}".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "\\infty" } else { "-\\infty" }.into();
    }
    let s = crate::print::number(x);
    match s.split_once('e') {
        Some(("1", e)) => format!("10^{{{e}}}"),
        Some((m, e)) => format!("{m} \\times 10^{{{e}}}"),
        None => s,
    }
}

#[derive(Clone, Copy)]
enum Side {
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

fn needs_parens(p: u8, ctx: Ctx) -> bool {
    match ctx.side {
        Side::Free => false,
        Side::Left => p < ctx.prec || (p == ctx.prec && ctx.right_assoc),
        Side::Right => p < ctx.prec || (p == ctx.prec && !ctx.right_assoc),
    }
}

enum Task {
    Visit(ExprId, Ctx),
    Text(String),
}

/// How a function call is written: `\exp`, `\operatorname{relu}`.
fn function(op: Op) -> String {
    match op {
        Op::Exp | Op::Log | Op::Sin | Op::Cos | Op::Tanh | Op::Max | Op::Min => {
            format!("\\{}", op.name())
        }
        Op::Sigmoid => "\\sigma".into(),
        op => format!("\\operatorname{{{}}}", op.name()),
    }
}

/// Prints `root` as LaTeX; `leaf` gives the nodes written as a name (already
/// LaTeX), never asked for `root` itself.
pub fn expr(a: &Arena, root: ExprId, leaf: impl Fn(ExprId) -> Option<String>) -> String {
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
        let named = if id == root { None } else { leaf(id) };
        let node = a.node(id);
        let text = match (named, node.op) {
            (Some(n), _) => Some(n),
            (None, Op::Input(k)) => Some(name(a.var_name(k))),
            (None, Op::Const(c)) => Some(number(c)),
            _ => None,
        };
        if let Some(t) = text {
            let wrap = t.starts_with('-') && needs_parens(prec::UNARY, ctx);
            if wrap {
                out.push_str("\\left(");
            }
            out.push_str(&t);
            if wrap {
                out.push_str("\\right)");
            }
            continue;
        }
        let args = &node.args;
        let mut t: Vec<Task> = Vec::new();
        let at = |prec: u8, right_assoc: bool, side: Side| Ctx {
            prec,
            right_assoc,
            side,
        };
        let infix = |t: &mut Vec<Task>, p: u8, sym: &str| {
            let wrap = needs_parens(p, ctx);
            if wrap {
                t.push(Task::Text("\\left(".into()));
            }
            t.push(Task::Visit(args[0], at(p, false, Side::Left)));
            t.push(Task::Text(format!(" {sym} ")));
            t.push(Task::Visit(args[1], at(p, false, Side::Right)));
            if wrap {
                t.push(Task::Text("\\right)".into()));
            }
        };
        let tensor = |x: ExprId| !a.shape(x).is_scalar();
        match node.op {
            Op::Add => infix(&mut t, prec::ADD, "+"),
            Op::Sub => infix(&mut t, prec::ADD, "-"),
            Op::Mul if tensor(args[0]) && tensor(args[1]) => infix(&mut t, prec::MUL, "\\odot"),
            Op::Mul | Op::Dot => infix(&mut t, prec::MUL, "\\cdot"),
            Op::Div => {
                t.push(Task::Text("\\frac{".into()));
                t.push(Task::Visit(args[0], FREE));
                t.push(Task::Text("}{".into()));
                t.push(Task::Visit(args[1], FREE));
                t.push(Task::Text("}".into()));
            }
            Op::Neg => {
                let wrap = needs_parens(prec::UNARY, ctx);
                t.push(Task::Text(if wrap { "\\left(-" } else { "-" }.into()));
                t.push(Task::Visit(args[0], at(prec::UNARY, false, Side::Right)));
                if wrap {
                    t.push(Task::Text("\\right)".into()));
                }
            }
            Op::Pow | Op::Transpose | Op::Index => {
                // A superscript or subscript binds tighter than anything: bracket
                // the base unless it is a name or a call.
                let base = args[0];
                let simple = a.is_leaf(base)
                    || leaf(base).is_some()
                    || !matches!(
                        a.node(base).op.notation(),
                        crate::gate::Notation::Infix(..) | crate::gate::Notation::Prefix
                    ) && a.node(base).op != Op::Pow;
                let (open, close) = if simple {
                    ("{", "}")
                } else {
                    ("\\left(", "\\right)")
                };
                t.push(Task::Text(open.into()));
                t.push(Task::Visit(base, FREE));
                t.push(Task::Text(close.into()));
                match node.op {
                    Op::Pow => {
                        t.push(Task::Text("^{".into()));
                        t.push(Task::Visit(args[1], FREE));
                        t.push(Task::Text("}".into()));
                    }
                    Op::Transpose => t.push(Task::Text("^{\\top}".into())),
                    _ => {
                        t.push(Task::Text("_{".into()));
                        for (k, &i) in args[1..].iter().enumerate() {
                            if k > 0 {
                                t.push(Task::Text(", ".into()));
                            }
                            t.push(Task::Visit(i, FREE));
                        }
                        t.push(Task::Text("}".into()));
                    }
                }
            }
            Op::Sqrt => {
                t.push(Task::Text("\\sqrt{".into()));
                t.push(Task::Visit(args[0], FREE));
                t.push(Task::Text("}".into()));
            }
            Op::Abs => {
                t.push(Task::Text("\\left|".into()));
                t.push(Task::Visit(args[0], FREE));
                t.push(Task::Text("\\right|".into()));
            }
            op => {
                t.push(Task::Text(format!("{}\\left(", function(op))));
                for (k, &x) in args.iter().enumerate() {
                    if k > 0 {
                        t.push(Task::Text(", ".into()));
                    }
                    t.push(Task::Visit(x, FREE));
                }
                t.push(Task::Text("\\right)".into()));
            }
        }
        stack.extend(t.into_iter().rev());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Builder;
    use crate::value::Shape;

    #[test]
    fn names() {
        assert_eq!(name("x"), "x");
        assert_eq!(name("h1"), "h_{1}");
        assert_eq!(name("x_1"), "x_{1}");
        assert_eq!(name("alpha"), "\\alpha");
        assert_eq!(name("σ"), "\\sigma");
        assert_eq!(name("w_hidden"), "w_{\\mathrm{hidden}}");
        assert_eq!(name("loss"), "\\mathit{loss}");
        assert_eq!(name("a_b_c"), "a_{\\mathrm{b\\_c}}");
        assert_eq!(name("_t5"), "\\mathit{\\_t}_{5}");
    }

    #[test]
    fn expressions() {
        let mut a = Arena::new();
        let x = a.var("x", Shape::Scalar);
        let y = a.var("y_1", Shape::Scalar);
        let s = a.apply(Op::Add, &[x, y]);
        let two = a.num(2.0);
        let p = a.apply(Op::Pow, &[s, two]);
        let e = a.apply(Op::Exp, &[p]);
        let q = a.apply(Op::Div, &[e, s]);
        let n = a.apply(Op::Neg, &[q]);
        assert_eq!(
            expr(&a, n, |_| None),
            "-\\frac{\\exp\\left({\\left(x + y_{1}\\right)}^{2}\\right)}{x + y_{1}}"
                .replace("{\\left(x + y_{1}\\right)}", "\\left(x + y_{1}\\right)")
        );
        assert_eq!(number(1e-7), "10^{-7}");
        assert_eq!(number(2.5e-8), "2.5 \\times 10^{-8}");
    }
}
