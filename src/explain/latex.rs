//! `--format latex`: the derivation for slides — the forward pass, the chain
//! rule applied gate by gate in backward order (local gradient times upstream,
//! sums at forks), and `\frac{\partial f}{\partial x} = …` for every parameter.
//! The output is a fragment for a slide or an article; it needs `amsmath`.

use crate::analysis::Analysis;
use crate::gate::{Builder, Op};
use crate::graph::{Circuit, GateId};
use crate::symbolic::Symbolic;
use crate::symbolic::expr::{Arena, ExprId};
use crate::symbolic::latex::{self as tex, partial};
use crate::value::Value;

/// Gates shown in each pass; the rest are counted in a comment.
const MAX_GATES: usize = 60;
/// Named subexpressions of one derivative written out; beyond, a comment.
const MAX_STATEMENTS: usize = 40;

/// The gate written over its inputs' names: `x + y`, `\sigma\left(z\right)`.
fn gate_formula(c: &Circuit, g: GateId) -> String {
    // A program that is just `x` or `5`: its output is a leaf, with no operation to write.
    match (c.op(g), c.param_of(g)) {
        (Op::Input(_), Some(p)) => return tex::name(&p.name),
        (Op::Const(x), _) => return tex::number(x),
        _ => {}
    }
    let mut a = Arena::unsimplified();
    let args: Vec<ExprId> = c
        .inputs(g)
        .iter()
        .map(|&i| match c.op(i) {
            Op::Const(x) => a.num(x),
            _ => a.var(&c.label(i), crate::value::Shape::Scalar),
        })
        .collect();
    let root = a.apply(c.op(g), &args);
    tex::expr(&a, root, |_| None)
}

/// ` = 3` after a scalar value, nothing for a tensor or without values.
/// An `align*` block of `lines`, or a plain "(none)": an empty block does not compile.
fn align(lines: &[String]) -> String {
    if lines.is_empty() {
        return "\\emph{(none)}\n".into();
    }
    format!(
        "\\begin{{align*}}\n{}\n\\end{{align*}}\n",
        lines.join(" \\\\\n")
    )
}

/// Brackets around a sum, so that `(1 - t) \cdot x` reads right.
fn paren(s: &str) -> String {
    let top_level_sum = {
        let mut depth = 0i32;
        let mut found = false;
        for (k, ch) in s.char_indices() {
            match ch {
                '{' | '(' => depth += 1,
                '}' | ')' => depth -= 1,
                '+' | '-' if depth == 0 && k > 0 => found = true,
                _ => {}
            }
        }
        found
    };
    if top_level_sum {
        format!("\\left({s}\\right)")
    } else {
        s.to_string()
    }
}

fn value_suffix(v: Option<&Value>) -> String {
    match v {
        Some(Value::Scalar(x)) => {
            // Slides want a few digits: 0.3679, not 0.36787944117144233.
            let short = format!("{:.4}", x);
            let short = short.trim_end_matches('0').trim_end_matches('.');
            let exact = crate::print::number(*x);
            if exact.len() <= 7 || !x.is_finite() || x.abs() >= 1e6 || (x.abs() < 1e-3 && *x != 0.0)
            {
                format!(" = {}", tex::number(*x))
            } else {
                format!(" \\approx {short}")
            }
        }
        _ => String::new(),
    }
}

/// The whole derivation.
pub fn document(a: &Analysis, s: &Symbolic) -> String {
    let c = &a.circuit;
    let f = tex::name(&c.output_name);
    let mut out = String::new();
    out.push_str("% gradexplain: the derivation, for slides (needs \\usepackage{amsmath})\n");
    // TeX ends a line at a carriage return too: split there, and show the
    // other control characters, so that a comment cannot end early.
    let lines = a.source.split(['\n', '\r']);
    for l in lines.filter(|l| !l.trim().is_empty()).take(12) {
        out.push_str(&format!("% {}\n", crate::explain::printable(l)));
    }
    let values = a.numeric.as_ref().map(|n| &n.forward.values);
    // Gradient values match the symbols only when they are not scaled by an upstream.
    let grads = a
        .numeric
        .as_ref()
        .filter(|n| n.backward.upstream == Value::Scalar(1.0))
        .map(|n| &n.backward.grads);
    // Forward pass.
    out.push_str("\\textbf{Forward pass}\n");
    let shown: Vec<GateId> = c
        .gates()
        .filter(|&g| !matches!(c.op(g), Op::Const(_) | Op::Input(_)))
        .collect();
    let mut lines: Vec<String> = shown
        .iter()
        .take(MAX_GATES)
        .map(|&g| {
            format!(
                "  {} &= {}{}",
                tex::name(&c.label(g)),
                gate_formula(c, g),
                value_suffix(values.map(|v| &v[g.index()]))
            )
        })
        .collect();
    if lines.is_empty() {
        lines.push(format!("  {f} &= {}", gate_formula(c, c.output)));
    }
    out.push_str(&align(&lines));
    if shown.len() > MAX_GATES {
        out.push_str(&format!("% … {} more gates\n", shown.len() - MAX_GATES));
    }
    let (Some(d), Some(names)) = (&s.derivatives, &s.names) else {
        out.push_str(
            "% the symbolic derivatives need the parameters' shapes: give values with --at\n",
        );
        return out;
    };
    // Backward pass: one line per chain-rule step.
    // In the backward pass a node goes by its name when the reader has met it:
    // forward stages always, an adjoint once its line is written.
    let defined = std::cell::RefCell::new(std::collections::HashSet::<ExprId>::new());
    let leaf = |id: ExprId| {
        let known = if names.adjoint_gate(id).is_some() {
            defined.borrow().contains(&id)
        } else {
            names.forward_gate(id).is_some()
        };
        names.latex(c, id, &f).filter(|_| known)
    };
    let show = |id: ExprId| tex::expr(&d.arena, id, leaf);
    // A node by its name when it has one, else spelled out over named parts.
    let named = |id: ExprId| leaf(id).unwrap_or_else(|| show(id));
    let grad_tex = names.grad.as_deref().map(tex::name);
    // ∂f/∂q; at a tensor output the upstream gradient itself.
    let adj_name = |g: GateId| match (&grad_tex, g == c.output) {
        (Some(gr), true) => gr.clone(),
        _ => partial(&f, &tex::name(&c.label(g))),
    };
    let upstream = match &names.grad {
        Some(g) => format!(", starting from the upstream gradient ${}$", tex::name(g)),
        None => format!(", starting from ${} = 1$", partial(&f, &f)),
    };
    out.push_str(&format!(
        "\\textbf{{Backward pass}}: the chain rule, gate by gate{upstream}\n"
    ));
    let mut remaining: Vec<usize> = vec![0; c.len()];
    for st in &d.steps {
        remaining[st.input.index()] += 1;
    }
    let count = remaining.clone();
    let mut started = vec![false; c.len()];
    let total_steps = d.steps.len();
    let mut lines = Vec::new();
    let mut gates_seen = 0;
    let mut last_gate = None;
    for st in &d.steps {
        if last_gate != Some(st.gate) {
            gates_seen += 1;
            last_gate = Some(st.gate);
        }
        if gates_seen > MAX_GATES {
            break;
        }
        let (g, i) = (st.gate, st.input);
        let target = adj_name(i);
        let many = count[i.index()] > 1;
        let rel = if started[i.index()] {
            "\\mathrel{+}="
        } else {
            "="
        };
        started[i.index()] = true;
        // The output's own adjoint is 1: its step is just the local gradient.
        let at_output = g == c.output && names.grad.is_none();
        let mut parts: Vec<String> = Vec::new();
        if !at_output {
            parts.push(format!(
                "{}\\,{}",
                partial(&tex::name(&c.label(g)), &tex::name(&c.label(i))),
                adj_name(g)
            ));
            if let Some(l) = st.local.filter(|&l| d.arena.as_num(l) != Some(1.0)) {
                let adj = d.adjoint[g.index()];
                let tensors = adj.is_some_and(|a| !d.arena.shape(a).is_scalar())
                    && !d.arena.shape(l).is_scalar();
                let times = if tensors { "\\odot" } else { "\\cdot" };
                let adj = adj.map(&named).unwrap_or_default();
                parts.push(format!("{} {times} {adj}", paren(&named(l))));
            }
        }
        // What arrives, spelled out — by name only when it is another gate's adjoint.
        parts.push(if names.adjoint_gate(st.contribution) == Some(i) {
            show(st.contribution)
        } else {
            named(st.contribution)
        });
        parts.dedup();
        let line = format!("  {target} &{rel} {}", parts.join(" = "));
        lines.push(line);
        remaining[i.index()] -= 1;
        if remaining[i.index()] == 0
            && let Some(adj) = d.adjoint[i.index()]
        {
            defined.borrow_mut().insert(adj);
        }
        if remaining[i.index()] == 0 && many {
            let total = d.adjoint[i.index()].map(&show).unwrap_or_default();
            let v = grads.and_then(|g| g[i.index()].as_ref());
            lines.push(format!("  {target} &= {total}{}", value_suffix(v)));
        } else if remaining[i.index()] == 0
            && let Some(v) = grads.and_then(|g| g[i.index()].as_ref())
        {
            let last = lines.len() - 1;
            lines[last].push_str(&value_suffix(Some(v)));
        }
    }
    out.push_str(&align(&lines));
    let complete = gates_seen <= MAX_GATES && shown.len() <= MAX_GATES;
    if !complete {
        out.push_str(&format!("% … and more: {total_steps} steps in all\n"));
    }
    // The derivatives.
    out.push_str("\\textbf{Derivatives}\n");
    let mut lines = Vec::new();
    let mut out_notes = Vec::new();
    for (k, p) in c.params.iter().enumerate() {
        let lhs = partial(&f, &tex::name(&p.name));
        let Some(l) = &s.layouts[k] else {
            lines.push(format!("  {lhs} &\\quad \\text{{(none: see the notes)}}"));
            continue;
        };
        let lname = |id: ExprId| l.is_statement(id).then(|| names.latex(c, id, &f)).flatten();
        // Statements the passes above have not defined already.
        let new: Vec<ExprId> = l
            .statements
            .iter()
            .copied()
            .filter(|&id| {
                !complete || (names.adjoint_gate(id).is_none() && names.forward_gate(id).is_none())
            })
            .collect();
        if new.len() > MAX_STATEMENTS {
            out_notes.push(format!(
                "% {lhs} uses {} shared subexpressions, too many for a slide: see --format json",
                new.len()
            ));
        } else {
            for id in new {
                let lhs = names.latex(c, id, &f).unwrap_or_default();
                lines.push(format!("  {lhs} &= {}", tex::expr(&d.arena, id, lname)));
            }
        }
        let v = grads.and_then(|g| g[p.gate.index()].as_ref());
        lines.push(format!(
            "  {lhs} &= {}{}",
            tex::expr(&d.arena, l.root, lname),
            value_suffix(v.filter(|_| names.grad.is_none()))
        ));
    }
    out.push_str(&align(&lines));
    for n in out_notes {
        out.push_str(&n);
        out.push('\n');
    }
    out
}
