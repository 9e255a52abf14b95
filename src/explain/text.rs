//! The explanation a student reads: the program, the forward pass gate by gate,
//! the backward pass gate by gate (local gradient, the chain rule with numbers,
//! the sum at every fork, the pattern named as the notes name it), and the
//! gradients last.

use super::{Doc, Style};
use crate::analysis::{Analysis, Numeric};
use crate::eval::Results;
use crate::gate::Op;
use crate::graph::{Circuit, GateId, ParamRole};
use crate::print::{Brackets, Node, print};
use crate::value::{Shape, Value};

/// How much to show.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Gates explained in full in each pass; the rest are counted, not shown.
    pub max_gates: usize,
    /// Results only: the output's value and the gradients.
    pub summary: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_gates: 60,
            summary: false,
        }
    }
}

/// Every note of the analysis: lowering's, the parameters', the passes'.
pub fn notes(a: &Analysis) -> Vec<String> {
    notes_of(a, a.outcome().as_ref())
}

/// [`notes`], given the analysis's [`Analysis::outcome`]: its passes' notes,
/// and the parameters' roles it found on the way when it has them.
pub(crate) fn notes_of(a: &Analysis, outcome: Option<&Results>) -> Vec<String> {
    let c = &a.circuit;
    let mut notes = c.notes.clone();
    let roles = match outcome {
        Some(o) => o.roles.clone(),
        None => c.param_roles(),
    };
    for (p, role) in c.params.iter().zip(roles) {
        match role {
            ParamRole::Unused => notes.push(format!(
                "`{}` does not affect `{}`: its gradient is 0",
                p.name, c.output_name
            )),
            ParamRole::Index => notes.push(format!(
                "`{}` is only used as an index: an index carries no gradient",
                p.name
            )),
            ParamRole::Differentiable => {}
        }
    }
    if let Some(o) = outcome {
        notes.extend(o.notes.iter().cloned());
    }
    notes
}

/// Builds the explanation of `a`.
pub fn explain(a: &Analysis, opts: Options) -> Doc {
    explain_with(a, opts, Doc::default(), &[])
}

/// Builds the explanation of `a` with more sections (the derivatives, the
/// gradient check) placed before the notes, and more notes.
pub fn explain_with(a: &Analysis, opts: Options, extra: Doc, extra_notes: &[String]) -> Doc {
    let mut d = Doc::default();
    let c = &a.circuit;
    if !opts.summary {
        program(&mut d, a);
    }
    let outcome = a.outcome();
    match (&a.numeric, &outcome) {
        (n, Some(o)) => {
            if let Some(n) = n.as_ref().filter(|_| !opts.summary) {
                forward(&mut d, c, n, opts);
                backward(&mut d, c, n, opts);
            }
            results(&mut d, c, o);
        }
        // Results only: without values there are none, only the hint below.
        (_, None) if opts.summary => {}
        (_, None) => symbolic(&mut d, c, opts),
    }
    d.append(extra);
    if outcome.is_none() {
        hint(&mut d, c);
    }
    let mut notes = notes_of(a, outcome.as_ref());
    notes.extend(extra_notes.iter().cloned());
    if !notes.is_empty() {
        d.gap();
        d.line().push(Style::Heading, "notes");
        for note in notes {
            d.line().push(Style::Note, format!("  • {note}"));
        }
    }
    d
}

fn program(d: &mut Doc, a: &Analysis) {
    let c = &a.circuit;
    d.line().push(Style::Heading, "program");
    let lines: Vec<&str> = a
        .source
        .lines()
        .map(str::trim_end)
        // Whole-line comments (a file's header) would crowd out the program.
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    for l in lines.iter().take(12) {
        d.line()
            .push(Style::Plain, format!("  {}", super::printable(l)));
    }
    if lines.len() > 12 {
        d.line()
            .push(Style::Plain, format!("  … {} more lines", lines.len() - 12));
    }
    let params: Vec<&str> = c.params.iter().map(|p| p.name.as_str()).collect();
    d.line().push(
        Style::Plain,
        format!(
            "  parameters: {} · output: {} · {} gates",
            if params.is_empty() {
                "none".into()
            } else {
                params.join(", ")
            },
            c.output_name,
            c.len()
        ),
    );
}

/// `3 * -4`: the gate's formula with its inputs' values in place of their names.
fn substituted(c: &Circuit, g: GateId, values: &[Value]) -> Option<String> {
    let ins = c.inputs(g);
    if ins.iter().any(|i| !values[i.index()].shape().is_scalar()) {
        return None;
    }
    let op = c.op(g);
    Some(print(
        usize::MAX,
        |n| {
            if n == usize::MAX {
                Node::Apply(op, (0..ins.len()).collect())
            } else {
                Node::Leaf(values[ins[n].index()].to_string().into())
            }
        },
        Brackets::Needed,
    ))
}

fn shape_note(s: Shape) -> String {
    if s.is_scalar() {
        String::new()
    } else {
        format!("   ({s})")
    }
}

fn forward(d: &mut Doc, c: &Circuit, n: &Numeric, opts: Options) {
    let values = &n.forward.values;
    d.gap();
    d.line()
        .push(Style::Heading, "forward pass")
        .push(Style::Plain, " — values flow from the inputs to the output");
    let shown: Vec<GateId> = c
        .gates()
        .filter(|&g| !matches!(c.op(g), Op::Const(_)))
        .collect();
    for &g in shown.iter().take(opts.max_gates) {
        let v = &values[g.index()];
        let line = d.line();
        match c.op(g) {
            Op::Input(_) => {
                line.push(Style::Plain, format!("  {} = ", c.label(g)))
                    .push(Style::Forward, v.to_string());
            }
            _ => {
                line.push(Style::Plain, format!("  {} = {}", c.label(g), c.formula(g)));
                // `t2 = -t1 = -1 = -1` says nothing twice: skip a substitution that is the value.
                if let Some(s) = substituted(c, g, values).filter(|s| *s != v.to_string()) {
                    line.push(Style::Plain, format!(" = {s}"));
                }
                line.push(Style::Plain, " = ")
                    .push(Style::Forward, v.to_string());
            }
        }
        line.push(Style::Plain, shape_note(n.forward.shapes[g.index()]));
    }
    more(d, shown.len(), opts.max_gates);
}

fn more(d: &mut Doc, total: usize, max: usize) {
    if total > max {
        d.line().push(
            Style::Note,
            format!(
                "  … {} more gates (see every gate with --format json)",
                total - max
            ),
        );
    }
}

use super::tensor::dname;

fn backward(d: &mut Doc, c: &Circuit, n: &Numeric, opts: Options) {
    let b = &n.backward;
    let values = &n.forward.values;
    d.gap();
    d.line()
        .push(Style::Heading, "backward pass")
        .push(
            Style::Plain,
            " — gradients flow back from the output, starting with ",
        )
        .push(Style::Backward, format!("grad = {}", b.upstream));
    let visited: Vec<GateId> = c
        .gates()
        .rev()
        .filter(|g| b.grads[g.index()].is_some())
        .collect();
    let mut explained = 0;
    for &g in &visited {
        let op = c.op(g);
        // In the order backpropagation delivered them: the latest consumer first.
        let incoming: Vec<(GateId, &Value)> = c
            .consumers(g)
            .into_iter()
            .rev()
            .filter_map(|(e, _, user)| b.edge_grads[e.index()].as_ref().map(|v| (user, v)))
            .collect();
        let is_leaf = matches!(op, Op::Input(_) | Op::Const(_));
        if is_leaf && incoming.len() < 2 {
            continue;
        }
        explained += 1;
        if explained > opts.max_gates {
            continue;
        }
        if !is_leaf {
            d.line()
                .push(Style::Plain, format!("  {} = {}", c.label(g), c.formula(g)))
                .push(Style::Note, format!("   [{}]", op.pattern()));
            let said = [
                super::tensor::hinge(c, g, n),
                super::tensor::index_sources(c, g, n),
            ];
            for sentence in said.into_iter().flatten() {
                d.line().push(Style::Note, format!("    {sentence}"));
            }
        }
        if incoming.len() >= 2 {
            let parts: Vec<String> = incoming
                .iter()
                .map(|(u, v)| format!("{v} (via {})", c.label(*u)))
                .collect();
            let total = b.grads[g.index()]
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default();
            let line = d.line();
            line.push(
                Style::Plain,
                format!(
                    "{}{} is used {} times, so its gradients add: d{} = ",
                    if is_leaf { "  " } else { "    " },
                    c.label(g),
                    incoming.len(),
                    c.label(g)
                ),
            );
            line.push(Style::Backward, format!("{} = {total}", parts.join(" + ")));
            let values: Vec<&Value> = incoming.iter().map(|(_, v)| *v).collect();
            if let Some(count) = super::tensor::fork_count(&values) {
                d.line().push(Style::Note, format!("      {count}"));
            }
        }
        if is_leaf {
            continue;
        }
        let grad = b.grads[g.index()]
            .as_ref()
            .expect("visited gates have a gradient");
        let ins = c.input_edges(g);
        for &(edge, slot, input) in &ins {
            let Some(contrib) = &b.edge_grads[edge.index()] else {
                continue;
            };
            let fork = c.consumers(input).len() > 1;
            let target = format!("d{} {}", c.label(input), if fork { "+=" } else { "=" });
            let line = d.line();
            line.push(Style::Plain, format!("    {target} "));
            let in_vals: Vec<&Value> = ins.iter().map(|(_, _, i)| &values[i.index()]).collect();
            let local = op.local(slot, &in_vals, &values[g.index()]);
            match (super::local::formula(c, g, slot), local) {
                (Some(f), Some(l)) if l.shape().is_scalar() && grad.shape().is_scalar() => {
                    line.push(
                        Style::Plain,
                        format!("{f} · {} = {l} · {grad} = ", dname(c, g)),
                    );
                }
                (Some(f), Some(_)) if contrib.shape() != grad.shape() => {
                    // A broadcast scalar: the elementwise products are summed.
                    line.push(Style::Plain, format!("sum({f} ⊙ {}) = ", dname(c, g)));
                }
                (Some(f), Some(_)) => {
                    line.push(Style::Plain, format!("{f} ⊙ {} = ", dname(c, g)));
                }
                _ => {
                    line.push(
                        Style::Plain,
                        format!("{} = ", super::tensor::rule(c, g, slot, n)),
                    );
                }
            }
            line.push(Style::Backward, contrib.to_string());
            if let Some(s) = Some(n.forward.shapes[input.index()]).filter(|s| !s.is_scalar()) {
                line.push(Style::Plain, format!("   ({s}, like {})", c.label(input)));
            }
            let because = [
                super::tensor::why(c, g, slot, n),
                super::tensor::broadcast(c, g, slot, n),
                super::tensor::rows(c, g, slot, n),
            ];
            for sentence in because.into_iter().flatten() {
                d.line().push(Style::Note, format!("      {sentence}"));
            }
        }
    }
    more(d, explained, opts.max_gates);
}

fn results(d: &mut Doc, c: &Circuit, o: &Results) {
    let out = &o.value;
    d.gap();
    d.line().push(Style::Heading, "result");
    d.line()
        .push(Style::Plain, format!("  {} = ", c.output_name))
        .push(Style::Forward, out.to_string());
    d.gap();
    d.line().push(Style::Heading, "gradients").push(
        Style::Plain,
        format!(
            " — ∂{}/∂p · grad, with grad = {}",
            c.output_name, o.upstream
        ),
    );
    for (p, g) in c.params.iter().zip(&o.gradients) {
        let line = d.line();
        line.push(Style::Plain, format!("  d{} = ", p.name));
        match g {
            Some(v) => line.push(Style::Backward, v.to_string()),
            None => line.push(Style::Plain, "none (an index carries no gradient)"),
        };
    }
}

fn symbolic(d: &mut Doc, c: &Circuit, opts: Options) {
    d.gap();
    d.line().push(Style::Heading, "local gradients").push(
        Style::Plain,
        " — each gate's derivative with respect to its inputs",
    );
    let req = c.requires_grad();
    let live = c.live();
    let gates: Vec<GateId> = c
        .gates()
        .filter(|&g| {
            req[g.index()] && live[g.index()] && !matches!(c.op(g), Op::Input(_) | Op::Const(_))
        })
        .collect();
    if gates.is_empty() {
        d.line().push(
            Style::Plain,
            "  none: no gate between the parameters and the output",
        );
    }
    for &g in gates.iter().take(opts.max_gates) {
        let op = c.op(g);
        d.line()
            .push(Style::Plain, format!("  {} = {}", c.label(g), c.formula(g)))
            .push(Style::Note, format!("   [{}]", op.pattern()));
        let edges = c.input_edges(g);
        for &(_, slot, input) in &edges {
            if !op.carries_gradient(slot) || !req[input.index()] {
                continue;
            }
            let f =
                super::local::formula(c, g, slot).unwrap_or_else(|| "see the pattern above".into());
            // `x * x` uses x twice: say which use each local gradient belongs to.
            let twice = edges.iter().filter(|e| e.2 == input).count() > 1;
            let which = if twice {
                format!(" (use {})", slot + 1)
            } else {
                String::new()
            };
            d.line()
                .push(
                    Style::Plain,
                    format!("    ∂{}/∂{}{which} = ", c.label(g), c.label(input)),
                )
                .push(Style::Backward, f);
        }
    }
    more(d, gates.len(), opts.max_gates);
    forks(d, c, &req, &live);
}

/// Forks, named: where a value feeds several uses, its gradient is their sum.
fn forks(d: &mut Doc, c: &Circuit, req: &[bool], live: &[bool]) {
    let mut shown = 0;
    for g in c.gates() {
        if !req[g.index()] || !live[g.index()] {
            continue;
        }
        let users: Vec<String> = c
            .consumers(g)
            .into_iter()
            .filter(|&(_, slot, u)| live[u.index()] && c.op(u).carries_gradient(slot))
            .map(|(_, _, u)| c.label(u))
            .collect();
        if users.len() < 2 {
            continue;
        }
        if shown == 0 {
            d.line().push(
                Style::Plain,
                "  forks — a value used more than once gets the sum of its branches' gradients:",
            );
        }
        shown += 1;
        if shown > 20 {
            continue;
        }
        d.line().push(
            Style::Plain,
            format!(
                "    {} is used {} times (by {}): d{} adds {} branches",
                c.label(g),
                users.len(),
                users.join(", "),
                c.label(g),
                users.len()
            ),
        );
    }
    if shown > 20 {
        d.line()
            .push(Style::Note, format!("    … and {} more forks", shown - 20));
    }
}

/// Without values: how to get the numbers.
fn hint(d: &mut Doc, c: &Circuit) {
    let names: Vec<String> = c.params.iter().map(|p| format!("{}=…", p.name)).collect();
    if !names.is_empty() {
        d.gap();
        d.line().push(
            Style::Note,
            format!(
                "give values with --at {} to see the numbers",
                names.join(",")
            ),
        );
    }
}
