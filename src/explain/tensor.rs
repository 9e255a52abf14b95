//! The tensor side of the explanation: how a gate's gradient gets its shape.
//!
//! The notes' last lesson is that matrix gradients are transposed products whose
//! dimensions must match: "dW must be 5×10 like W; from dD (5×3) and X (10×3) only
//! dD·Xᵀ gives that". This room derives that sentence for each product gate by
//! actually trying the arrangements of the two factors, and says the other things
//! a shape changes: a broadcast scalar sums its gradient, a hinge `max(0, ·)` is
//! active or not element by element, a row of `dW` is a multiple of `x`.

use crate::analysis::Numeric;
use crate::gate::Op;
use crate::graph::{Circuit, GateId};
use crate::value::{Shape, Value, fmt_num};

/// At most this many element positions are listed in a sentence.
const MAX_LISTED: usize = 12;

/// The name of a gate's gradient: `grad` at the output, `dq` elsewhere.
pub fn dname(c: &Circuit, g: GateId) -> String {
    if g == c.output {
        "grad".into()
    } else {
        format!("d{}", c.label(g))
    }
}

/// The vector-Jacobian product of a non-elementwise gate as a formula over the
/// gradient's and the inputs' names: `dD · Xᵀ`, `Wᵀ · dD`, `sum(dD ⊙ B)`.
pub fn rule(c: &Circuit, g: GateId, slot: usize, n: &Numeric) -> String {
    let ins = c.inputs(g);
    let dg = dname(c, g);
    let l = |k: usize| c.label(ins[k]);
    let s = |k: usize| n.forward.shapes[ins[k].index()];
    let grad_value = n.backward.grads[g.index()].as_ref();
    match (c.op(g), slot) {
        (Op::Dot, _) => {
            let other = 1 - slot;
            match (s(slot), s(other)) {
                (Shape::Scalar, Shape::Scalar) => format!("{dg} · {}", l(other)),
                (Shape::Scalar, _) => format!("sum({dg} ⊙ {})", l(other)),
                (_, Shape::Scalar) => format!("{} · {dg}", l(other)),
                (Shape::Vector(_), Shape::Vector(_)) => match grad_value {
                    Some(Value::Scalar(x)) => {
                        format!("{dg} · {} = {} · {}", l(other), fmt_num(*x), l(other))
                    }
                    _ => format!("{dg} · {}", l(other)),
                },
                _ => {
                    let (x, y) = product(slot, s(0), s(1));
                    format!("{} · {}", x.show(&dg, &l(other)), y.show(&dg, &l(other)))
                }
            }
        }
        (Op::Outer, 0) => format!("{dg} · {}", l(1)),
        (Op::Outer, _) => format!("{dg}ᵀ · {}", l(0)),
        (Op::Sum, _) => format!("{dg} copied to every element"),
        (Op::Mean, _) => format!("{dg} / {} to every element", s(0).len()),
        (Op::Transpose, _) => format!("{dg}ᵀ"),
        (Op::Index, _) => {
            let idx: Vec<String> = ins[1..]
                .iter()
                .map(|&i| {
                    let v = n.forward.values[i.index()].to_string();
                    match c.op(i) {
                        Op::Const(_) => v,
                        _ => format!("{} = {v}", c.label(i)),
                    }
                })
                .collect();
            format!("{dg} placed at [{}], 0 elsewhere", idx.join(", "))
        }
        (op, _) => format!("∂{}/∂{} · {dg}", op.name(), l(slot)),
    }
}

/// One factor of a product: the gate's gradient or the other input, maybe
/// transposed. A vector is a column (n×1); transposed, a row (1×n).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Factor {
    grad: bool,
    t: bool,
}

impl Factor {
    fn show(self, dg: &str, other: &str) -> String {
        let name = if self.grad { dg } else { other };
        format!("{name}{}", if self.t { "ᵀ" } else { "" })
    }

    fn dims(self, grad: Shape, other: Shape) -> (usize, usize) {
        let (r, c) = match if self.grad { grad } else { other } {
            Shape::Scalar => (1, 1),
            Shape::Vector(n) => (n, 1),
            Shape::Matrix(r, c) => (r, c),
        };
        if self.t { (c, r) } else { (r, c) }
    }
}

/// The arrangement the chain rule gives for D = A·B (A and B not scalars, not
/// both vectors): dA = dD · Bᵀ, dB = Aᵀ · dD, and for a vector on the left of a
/// matrix, dv = B · dD and dB = v · dDᵀ.
fn product(slot: usize, a: Shape, b: Shape) -> (Factor, Factor) {
    let f = |grad, t| Factor { grad, t };
    match (slot, a, b) {
        (0, Shape::Vector(_), Shape::Matrix(..)) => (f(false, false), f(true, false)),
        (0, ..) => (f(true, false), f(false, true)),
        (_, Shape::Vector(_), Shape::Matrix(..)) => (f(false, false), f(true, true)),
        _ => (f(false, true), f(true, false)),
    }
}

/// The dimension analysis behind a product gate's gradient, as the notes do it:
/// `dW must be 5×10 like W; from dD (5×3) and X (10×3) only dD · Xᵀ gives that`.
/// Every arrangement of the two factors (either order, either transposed) is
/// tried against the shape the gradient must have.
pub fn why(c: &Circuit, g: GateId, slot: usize, n: &Numeric) -> Option<String> {
    let ins = c.inputs(g);
    let target = n.forward.shapes[ins[slot].index()];
    let name = c.label(ins[slot]);
    match c.op(g) {
        Op::Dot => {}
        Op::Transpose => {
            return Some(format!(
                "d{name} {} like {name}: transposing the gradient back gives that",
                must_be(target)
            ));
        }
        Op::Sum | Op::Mean if !target.is_scalar() => {
            let share = if c.op(g) == Op::Sum {
                "all of it"
            } else {
                "1/n of it"
            };
            return Some(format!(
                "d{name} {} like {name}: every element fed the {} equally, so each gets {share}",
                must_be(target),
                c.op(g).name()
            ));
        }
        _ => return None,
    }
    let other = 1 - slot;
    let grad_shape = n.forward.shapes[g.index()];
    let other_shape = n.forward.shapes[ins[other].index()];
    let dg = dname(c, g);
    let oname = c.label(ins[other]);
    let must = format!("d{name} {} like {name}", must_be(target));
    match (target, other_shape) {
        (Shape::Scalar, Shape::Scalar) => return None,
        (Shape::Scalar, _) => {
            return Some(format!(
                "{must}: {name} multiplied every element of {oname}, so its gradient adds up {dg} ⊙ {oname} over all {} of them",
                other_shape.len()
            ));
        }
        (_, Shape::Scalar) => {
            return Some(format!(
                "{must}: each element was multiplied by the scalar {oname}, so each gets {oname} times its gradient"
            ));
        }
        // vector · vector: the rule line (`dD · x = -2 · x`) says it all.
        (Shape::Vector(_), Shape::Vector(_)) => return None,
        _ => {}
    }
    let (x, y) = product(
        slot,
        n.forward.shapes[ins[0].index()],
        n.forward.shapes[ins[1].index()],
    );
    let fits = |x: Factor, y: Factor| -> Option<(usize, usize)> {
        let (r1, c1) = x.dims(grad_shape, other_shape);
        let (r2, c2) = y.dims(grad_shape, other_shape);
        let ok = c1 == r2
            && match target {
                Shape::Matrix(r, c) => (r1, c2) == (r, c),
                Shape::Vector(m) => (r1, c2) == (m, 1) || (r1, c2) == (1, m),
                Shape::Scalar => (r1, c2) == (1, 1),
            };
        ok.then_some((c1, c2))
    };
    // Candidates: both orders, each factor plain or transposed. For a vector
    // result, X·Y and its transpose Yᵀ·Xᵀ are the same numbers: count them once.
    let flip = |f: Factor| Factor { t: !f.t, ..f };
    // The chain rule's arrangement goes first, so that an equivalent spelling of
    // it (its transpose, for a vector) is not counted as another candidate.
    let mut found: Vec<(Factor, Factor)> = vec![(x, y)];
    for (p, q) in [(true, false), (false, true)] {
        for (tp, tq) in [(false, false), (false, true), (true, false), (true, true)] {
            let cand = (Factor { grad: p, t: tp }, Factor { grad: q, t: tq });
            if fits(cand.0, cand.1).is_none() {
                continue;
            }
            let same = |f: &(Factor, Factor)| {
                *f == cand
                    || (!matches!(target, Shape::Matrix(..)) && *f == (flip(cand.1), flip(cand.0)))
            };
            if !found.iter().any(same) {
                found.push(cand);
            }
        }
    }
    let shown = |f: Factor| f.show(&dg, &oname);
    let dims = |f: Factor| {
        let (r, c) = f.dims(grad_shape, other_shape);
        format!("{r}×{c}")
    };
    let arrangement = format!("{} · {}", shown(x), shown(y));
    let detail = format!("{} · {}", dims(x), dims(y));
    let outer = if matches!(grad_shape, Shape::Vector(_)) && matches!(other_shape, Shape::Vector(_))
    {
        ", an outer product"
    } else {
        ""
    };
    let from = format!("from {dg} ({}) and {oname} ({})", grad_shape, other_shape);
    if found.len() <= 1 {
        Some(format!(
            "{must}; {from} only {arrangement} gives that ({detail}{outer})"
        ))
    } else {
        let others: Vec<String> = found
            .iter()
            .filter(|f| **f != (x, y))
            .map(|&(p, q)| format!("{} · {}", shown(p), shown(q)))
            .collect();
        Some(format!(
            "{must}; {from}, {arrangement} gives that ({detail}{outer}) — with these shapes {} would fit too, and the chain rule picks {arrangement}",
            others.join(" and ")
        ))
    }
}

/// For `dW = dD · xᵀ` (matrix times vector) each row of dW is a multiple of x;
/// for `dB = v · dDᵀ` each column is a multiple of v. When the multiples are few
/// distinct numbers (as the SVM's counts are), list which rows get which — the
/// notes' "−(number of active margins)·x" for the correct class's row.
pub fn rows(c: &Circuit, g: GateId, slot: usize, n: &Numeric) -> Option<String> {
    if c.op(g) != Op::Dot {
        return None;
    }
    let ins = c.inputs(g);
    let shapes = (
        n.forward.shapes[ins[0].index()],
        n.forward.shapes[ins[1].index()],
    );
    let (what, vec) = match (c.op(g), slot, shapes) {
        (Op::Dot, 0, (Shape::Matrix(..), Shape::Vector(_))) => ("row", c.label(ins[1])),
        (Op::Dot, 1, (Shape::Vector(_), Shape::Matrix(..))) => ("column", c.label(ins[0])),
        _ => return None,
    };
    let coeffs: Vec<f64> = n.backward.grads[g.index()].as_ref()?.elements().collect();
    let mut groups: Vec<(f64, Vec<usize>)> = Vec::new();
    for (i, &k) in coeffs.iter().enumerate() {
        match groups.iter_mut().find(|(v, _)| *v == k) {
            Some((_, idx)) => idx.push(i),
            None => groups.push((k, vec![i])),
        }
    }
    // Worth a line when it tells a story: whole-number multiples (counts, as the
    // SVM's are) or rows that share a multiple; not a list of arbitrary numbers.
    let counts = coeffs.iter().all(|k| k.fract() == 0.0);
    if coeffs.len() < 2 || groups.len() > 4 || !(counts || groups.len() < coeffs.len()) {
        return None;
    }
    let name = c.label(ins[slot]);
    let dg = dname(c, g);
    let parts: Vec<String> = groups
        .iter()
        .map(|(k, idx)| {
            let plural = if idx.len() == 1 {
                what.to_string()
            } else {
                format!("{what}s")
            };
            let times = if *k == 0.0 {
                "0".to_string()
            } else {
                format!("{} · {vec}", fmt_num(*k))
            };
            format!("{plural} {} → {times}", list(idx))
        })
        .collect();
    Some(format!(
        "{what} i of d{name} is {dg}[i] · {vec}: {}",
        parts.join("; ")
    ))
}

/// For `max(0, z)` and `relu(z)`: where the hinge is active (z > 0, the gradient
/// passes) and where not (it is blocked). `None` for other gates.
pub fn hinge(c: &Circuit, g: GateId, n: &Numeric) -> Option<String> {
    let ins = c.inputs(g);
    let z = match c.op(g) {
        Op::Relu => ins[0],
        Op::Max => {
            let zero = |i: GateId| matches!(c.op(i), Op::Const(x) if x == 0.0);
            match (zero(ins[0]), zero(ins[1])) {
                (true, false) => ins[1],
                (false, true) => ins[0],
                _ => return None,
            }
        }
        _ => return None,
    };
    let zl = c.label(z);
    // At z = 0 a max gate splits the gradient (½ each), relu passes none: say which.
    let kink = if c.op(g) == Op::Max {
        format!("at the kink ({zl} = 0: the tie splits the gradient, ½ passes)")
    } else {
        format!("at the kink ({zl} = 0: relu'(0) = 0, blocked)")
    };
    Some(match &n.forward.values[z.index()] {
        Value::Scalar(x) if *x > 0.0 => format!(
            "hinge active: {zl} = {} > 0, so the gradient passes through",
            fmt_num(*x)
        ),
        Value::Scalar(x) if *x < 0.0 => format!(
            "hinge inactive: {zl} = {} < 0, so the gradient stops here (d{zl} = 0)",
            fmt_num(*x)
        ),
        Value::Scalar(_) => format!("hinge {kink}"),
        v => {
            let xs: Vec<f64> = v.elements().collect();
            let pick = |f: fn(f64) -> bool| -> Vec<usize> {
                (0..xs.len()).filter(|&i| f(xs[i])).collect()
            };
            let (on, off, tie) = (pick(|x| x > 0.0), pick(|x| x < 0.0), pick(|x| x == 0.0));
            if on.len() == xs.len() {
                return Some(format!(
                    "hinge active at all {} elements of {zl} (> 0): the gradient passes everywhere",
                    xs.len()
                ));
            }
            let mut s = format!(
                "hinge active at {} of {} elements of {zl} (> 0, the gradient passes): {}",
                on.len(),
                xs.len(),
                if on.is_empty() {
                    "none".into()
                } else {
                    list(&on)
                }
            );
            if !off.is_empty() {
                s.push_str(&format!("; inactive (< 0, blocked) at {}", list(&off)));
            }
            if !tie.is_empty() {
                s.push_str(&format!("; {kink} at {}", list(&tie)));
            }
            s
        }
    })
}

/// For an elementwise gate whose output is a tensor, an input that is a scalar
/// was broadcast: its gradient is the sum over every element it reached.
pub fn broadcast(c: &Circuit, g: GateId, slot: usize, n: &Numeric) -> Option<String> {
    let parts = broadcast_parts(c, g, slot, n)?;
    let nonzero = parts.iter().filter(|&&x| x != 0.0).count();
    Some(format!(
        "{} was broadcast to all {} elements of {}, so their gradients add up: {nonzero} of the {} are nonzero",
        c.label(c.inputs(g)[slot]),
        parts.len(),
        c.label(g),
        parts.len()
    ))
}

/// What each element of a broadcast sends back to the scalar input `slot` of the
/// elementwise gate `g`, before they are summed; `None` when nothing was broadcast.
fn broadcast_parts(c: &Circuit, g: GateId, slot: usize, n: &Numeric) -> Option<Vec<f64>> {
    let ins = c.inputs(g);
    if !c.op(g).is_elementwise()
        || n.forward.shapes[g.index()].is_scalar()
        || !n.forward.shapes[ins[slot].index()].is_scalar()
    {
        return None;
    }
    let vals: Vec<&Value> = ins.iter().map(|i| &n.forward.values[i.index()]).collect();
    let grad = n.backward.grads[g.index()].as_ref()?;
    let local = c.op(g).local(slot, &vals, &n.forward.values[g.index()])?;
    Some(local.zip(grad, |l, g| l * g).elements().collect())
}

/// For an element picked by an index (`s[y]`) and then broadcast against a
/// tensor (`s - s[y]`): how many of that tensor's elements send it a gradient —
/// for the SVM, the number of active margins behind ∇w_y.
pub fn index_sources(c: &Circuit, g: GateId, n: &Numeric) -> Option<String> {
    if c.op(g) != Op::Index || !n.forward.shapes[g.index()].is_scalar() {
        return None;
    }
    let mut sentences = Vec::new();
    for (_, slot, user) in c.consumers(g) {
        let Some(parts) = broadcast_parts(c, user, slot, n) else {
            continue;
        };
        let nonzero: Vec<f64> = parts.iter().copied().filter(|&x| x != 0.0).collect();
        let total: f64 = parts.iter().sum();
        let each = match nonzero.first() {
            Some(&u) if nonzero.iter().all(|&x| x == u) => {
                format!(", each {}: {} × {}", fmt_num(u), nonzero.len(), fmt_num(u))
            }
            _ => String::new(),
        };
        sentences.push(format!(
            "{} of the {} elements of {} send {} a gradient{each} = {}",
            nonzero.len(),
            parts.len(),
            c.label(user),
            c.label(g),
            fmt_num(total)
        ));
    }
    (!sentences.is_empty()).then(|| sentences.join("; "))
}

/// At a fork of scalar gradients where the branches that send anything all send
/// the same number, the total is a count: `2 × -1`.
pub fn fork_count(parts: &[&Value]) -> Option<String> {
    let xs: Option<Vec<f64>> = parts.iter().map(|v| v.as_scalar()).collect();
    let xs = xs?;
    let nonzero: Vec<f64> = xs.iter().copied().filter(|&x| x != 0.0).collect();
    let first = *nonzero.first()?;
    if xs.len() < 2
        || nonzero.iter().any(|&x| x != first)
        || nonzero.len() < 2 && nonzero.len() == xs.len()
    {
        return None;
    }
    Some(format!(
        "{} of the {} uses send a gradient, each {}: {} × {}",
        nonzero.len(),
        xs.len(),
        fmt_num(first),
        nonzero.len(),
        fmt_num(first)
    ))
}

/// `must be 5×10`, `must have length 3`: what a gradient's shape has to be.
fn must_be(s: Shape) -> String {
    match s {
        Shape::Scalar => "must be a scalar".into(),
        Shape::Vector(n) => format!("must have length {n}"),
        Shape::Matrix(r, c) => format!("must be {r}×{c}"),
    }
}

/// `0, 2, 5`, or `0, 2, 5, … (40 in all)` for a long list.
fn list(idx: &[usize]) -> String {
    let shown: Vec<String> = idx.iter().take(MAX_LISTED).map(usize::to_string).collect();
    if idx.len() > MAX_LISTED {
        format!("{}, … ({} in all)", shown.join(", "), idx.len())
    } else {
        shown.join(", ")
    }
}
