//! The backward pass as a sequence of frames, the slides an instructor steps
//! through: frame 0 shows the forward values alone, and each following frame
//! adds the gradients that one gate sends back, in the order backpropagation
//! visits the gates. Each frame comes with the sentence that explains it: the
//! gate's pattern as the notes name it, and the chain rule with its numbers.

use super::model::{self, BLANK, Diagram, Options, Reveal, wire_number};
use crate::analysis::{Analysis, Numeric};
use crate::cli::Blank;
use crate::gate::Op;
use crate::graph::{Circuit, GateId};
use crate::value::Value;

/// One frame: the picture and what it says.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The diagram at this step.
    pub diagram: Diagram,
    /// A short heading: `forward pass`, `q = x + y`.
    pub title: String,
    /// The sentence that explains the step.
    pub sentence: String,
}

/// Every frame of the backward pass of `a`; `a` must have been evaluated. Without
/// values there is one frame: the symbolic diagram.
pub fn frames(a: &Analysis, opts: &Options) -> Vec<Frame> {
    let c = &a.circuit;
    let Some(n) = &a.numeric else {
        return vec![Frame {
            diagram: model::build(a, opts, Reveal::All),
            title: "local gradients".into(),
            sentence: format!(
                "Without values, each wire carries its local gradient: how the gate it feeds \
                 changes when the wire's value changes. Give values with --at to step through \
                 the backward pass of `{}`.",
                c.output_name
            ),
        }];
    };
    let blank = matches!(opts.blank, Some(Blank::Grads | Blank::All));
    let blank_values = matches!(opts.blank, Some(Blank::Values | Blank::All));
    let order = model::steps(c, n);
    let mut out = Vec::with_capacity(order.len() + 1);
    let out_value = if blank_values {
        BLANK.to_string()
    } else {
        n.forward.values[c.output.index()].to_string()
    };
    out.push(Frame {
        diagram: model::build(a, opts, Reveal::Step(0)),
        title: "forward pass".into(),
        sentence: format!(
            "The forward pass: values flow left to right, from the inputs to the output, \
             each gate computing its value from its inputs' — {} = {out_value}. \
             The backward pass starts at the output, where the upstream gradient grad = {} \
             arrives; then each gate, from right to left, multiplies the gradient it receives \
             by its local gradients and sends the products back along its input wires.",
            c.output_name, n.backward.upstream
        ),
    });
    for (k, &g) in order.iter().enumerate() {
        out.push(Frame {
            diagram: model::build(a, opts, Reveal::Step(k + 1)),
            title: if is_leaf(c, g) {
                c.label(g)
            } else {
                format!("{} = {}", c.label(g), c.formula(g))
            },
            sentence: sentence(c, n, g, blank, blank_values),
        });
    }
    out
}

fn is_leaf(c: &Circuit, g: GateId) -> bool {
    matches!(c.op(g), Op::Input(_) | Op::Const(_))
}

/// The name of a gate's gradient: `grad` at the output, `dq` elsewhere.
fn dname(c: &Circuit, g: GateId) -> String {
    if g == c.output {
        "grad".into()
    } else {
        format!("d{}", c.label(g))
    }
}

/// The sentence for the step at gate `g`; a worksheet blanks the gradients
/// (`blank`) but not the upstream gradient, which is given, and the values
/// (`blank_values`), among them the local gradients' numbers, which are
/// mostly values (`y` at `x * y`).
fn sentence(c: &Circuit, n: &Numeric, g: GateId, blank: bool, blank_values: bool) -> String {
    let num = |v: &Value| {
        if blank {
            BLANK.to_string()
        } else {
            wire_number(v)
        }
    };
    let mut s = String::new();
    let parts = model::contributions(c, n, g);
    if parts.len() >= 2 {
        let terms: Vec<String> = parts
            .iter()
            .map(|(u, v)| format!("{} (via {})", num(v), c.label(*u)))
            .collect();
        let total = n.backward.grads[g.index()]
            .as_ref()
            .map(num)
            .unwrap_or_default();
        s.push_str(&format!(
            "{} is used {} times, so the gradients of its branches add up: d{} = {} = {total}. ",
            c.label(g),
            parts.len(),
            c.label(g),
            terms.join(" + ")
        ));
    }
    if is_leaf(c, g) {
        s.push_str(&format!(
            "That sum is the gradient of `{}` with respect to {}.",
            c.output_name,
            c.label(g)
        ));
        return s;
    }
    let op = c.op(g);
    let grad = n.backward.grads[g.index()]
        .as_ref()
        .expect("a visited gate has a gradient");
    // What the gate receives: given at the output, a blank elsewhere.
    let received = if g == c.output {
        wire_number(grad)
    } else {
        num(grad)
    };
    let pattern = op.pattern();
    let mut first = pattern.chars();
    let pattern: String = first
        .next()
        .map(|ch| ch.to_uppercase().chain(first).collect())
        .unwrap_or_default();
    s.push_str(&format!(
        "`{} = {}`: {pattern}. It receives {} = {}",
        c.label(g),
        c.formula(g),
        dname(c, g),
        received
    ));
    let ins = c.input_edges(g);
    let vals: Vec<&Value> = ins
        .iter()
        .map(|(_, _, i)| &n.forward.values[i.index()])
        .collect();
    let mut sends = Vec::new();
    for &(edge, slot, input) in &ins {
        let Some(contrib) = &n.backward.edge_grads[edge.index()] else {
            continue;
        };
        let fork = c.consumers(input).len() > 1;
        let target = format!("d{} {}", c.label(input), if fork { "+=" } else { "=" });
        let local = op.local(slot, &vals, &n.forward.values[g.index()]);
        let rule = match (crate::explain::local::formula(c, g, slot), local) {
            (Some(f), Some(l)) if l.shape().is_scalar() && grad.shape().is_scalar() => {
                format!(
                    "{f} · {} = {} · {} = ",
                    dname(c, g),
                    if blank_values {
                        BLANK.into()
                    } else {
                        l.to_string()
                    },
                    received
                )
            }
            (Some(f), Some(_)) => format!("{f} ⊙ {} = ", dname(c, g)),
            _ => format!("{} = ", crate::explain::tensor::rule(c, g, slot, n)),
        };
        sends.push(format!("{target} {rule}{}", num(contrib)));
    }
    if sends.is_empty() {
        s.push_str(", and sends nothing back: none of its inputs needs a gradient.");
    } else {
        s.push_str(&format!(" and sends back {}.", sends.join("; ")));
    }
    s
}
