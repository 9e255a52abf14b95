//! The forward pass (values, cached per gate) and the backward pass (gradients
//! from the upstream gradient, added at forks), both single loops over the gates
//! in index order — forward ascending, backward descending.

use crate::error::{Error, Result, Span};
use crate::gate::Op;
use crate::graph::{Circuit, GateId, ParamRole};
use crate::value::{Shape, Shapes, Value};

/// At most this many notes of one kind are kept; the rest are counted.
const MAX_NOTES: usize = 20;

/// The values of the forward pass.
#[derive(Clone, Debug)]
pub struct Forward {
    /// Every gate's value, by gate index.
    pub values: Vec<Value>,
    /// Every gate's shape, by gate index.
    pub shapes: Shapes,
    /// Overflow to infinity, `nan` arising inside a gate.
    pub notes: Vec<String>,
}

/// The gradients of the backward pass.
#[derive(Clone, Debug)]
pub struct Backward {
    /// The upstream gradient, in the output's shape.
    pub upstream: Value,
    /// Every gate's gradient ∂output/∂gate · upstream, by gate index; `None` where
    /// no gradient is needed (constants, index arithmetic, dead stages).
    pub grads: Vec<Option<Value>>,
    /// What flowed along each edge (by edge index): the branch contributions that
    /// add up at a fork. Empty when the pass was run without them
    /// ([`backward_with`]): only the explanation and the diagrams read them.
    pub edge_grads: Vec<Option<Value>>,
    /// The subgradient chosen at each kink, by gate.
    pub kinks: Vec<(GateId, &'static str)>,
    /// The kinks and other observations, in words.
    pub notes: Vec<String>,
}

impl Backward {
    /// The gradient delivered to each parameter: `None` for an index parameter, zeros
    /// in the parameter's shape for an unused one.
    pub fn param_grads(&self, c: &Circuit, fwd: &Forward) -> Vec<Option<Value>> {
        let roles = c.param_roles();
        c.params
            .iter()
            .zip(roles)
            .map(|(p, role)| match role {
                ParamRole::Index => None,
                _ => Some(
                    self.grads[p.gate.index()]
                        .clone()
                        .unwrap_or_else(|| Value::filled(fwd.shapes[p.gate.index()], 0.0)),
                ),
            })
            .collect()
    }
}

/// Shape inference over the whole DAG, before any number is computed. An error
/// names the operator, both shapes and the place.
pub fn infer_shapes(c: &Circuit, params: &[Shape]) -> Result<Shapes> {
    let mut shapes = Shapes::with_capacity(c.len());
    for g in c.gates() {
        shapes.push(gate_shape(c, g, &shapes, params)?);
    }
    Ok(shapes)
}

/// Runs the forward pass with one value per parameter (in [`Circuit::params`] order).
///
/// ```
/// use gradexplain::{syntax::parse, lower, eval::forward, Value};
/// let c = lower(&parse("f(x, y) = x * y").unwrap()).unwrap();
/// let fwd = forward(&c, &[Value::Scalar(3.0), Value::Scalar(-4.0)]).unwrap();
/// assert_eq!(fwd.values[c.output.index()], Value::Scalar(-12.0));
/// ```
pub fn forward(c: &Circuit, params: &[Value]) -> Result<Forward> {
    let param_shapes: Vec<Shape> = params.iter().map(Value::shape).collect();
    // Shapes and values in one walk. A shape error anywhere is reported before
    // any value error (as if every shape were inferred first, which is what
    // [`infer_shapes`] does): after a value error only the shapes go on.
    let mut shapes = Shapes::with_capacity(c.len());
    let mut values: Vec<Value> = Vec::with_capacity(c.len());
    let mut notes = Notes::default();
    let mut failed: Option<Error> = None;
    for g in c.gates() {
        shapes.push(gate_shape(c, g, &shapes, &param_shapes)?);
        if failed.is_some() {
            continue;
        }
        match value(c, g, &values, params, &mut notes) {
            Ok(v) => values.push(v),
            Err(e) => failed = Some(e),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(Forward {
        values,
        shapes,
        notes: notes.finish("numeric"),
    })
}

/// The shape of gate `g`, its inputs' being known; an error names the operator,
/// both shapes and the place.
fn gate_shape(c: &Circuit, g: GateId, shapes: &Shapes, params: &[Shape]) -> Result<Shape> {
    let gate = c.gate(g);
    match gate.op {
        Op::Input(i) => Ok(params.get(i as usize).copied().unwrap_or(Shape::Scalar)),
        op => {
            let ins = gather_with(c.input_slice(g), Shape::Scalar, |k| shapes[k]);
            op.out_shape(&ins)
                .map_err(|m| Error::eval(gate.span, m).label(format!("in `{}`", c.formula(g))))
        }
    }
}

/// The value of gate `g`, its inputs' being known; notes what overflows or
/// turns into nan.
fn value(
    c: &Circuit,
    g: GateId,
    values: &[Value],
    params: &[Value],
    notes: &mut Notes,
) -> Result<Value> {
    let gate = c.gate(g);
    let inputs = c.input_slice(g);
    let ins = gather(values, inputs);
    let value = match gate.op {
        Op::Input(i) => params[i as usize].clone(),
        Op::Index | Op::Scatter => {
            check_indices(c, g, &ins)?;
            gate.op
                .forward(&ins)
                .map_err(|e| Error::eval(gate.span, e.0))?
        }
        op => op.forward(&ins).map_err(|e| {
            Error::eval(gate.span, e.0).label(format!("in `{}`", c.formula(g)))
        })?,
    };
    if !value.is_finite() && ins.iter().all(|v| !v.elements().any(f64::is_nan)) {
        let finite_in = ins.iter().all(|v| v.is_finite());
        let produced_nan = value.elements().any(f64::is_nan);
        if finite_in || produced_nan {
            let what = if produced_nan {
                "gives nan"
            } else {
                "overflows to ±inf"
            };
            let args: Vec<String> = inputs
                .iter()
                .map(|i| format!("{} = {}", c.label(*i), values[i.index()]))
                .collect();
            notes.push(format!(
                "`{} = {}` {what} (from {})",
                c.label(g),
                c.formula(g),
                args.join(", ")
            ));
        }
    }
    Ok(value)
}

/// An index must be a finite whole number inside the indexed dimension.
fn check_indices(c: &Circuit, g: GateId, ins: &[&Value]) -> Result<()> {
    let span = c.gate(g).span;
    let dims: Vec<usize> = match ins[0].shape() {
        Shape::Vector(n) => vec![n],
        Shape::Matrix(r, k) => vec![r, k],
        Shape::Scalar => vec![],
    };
    let first = c.op(g).first_index().unwrap_or(1);
    for (k, v) in ins[first..].iter().enumerate() {
        let x = v.as_scalar().unwrap_or(f64::NAN);
        let index = c.inputs(g)[k + first];
        // `index 5`, `index \`i\` = 5`, `index \`i + 1\` = 5`: a literal is its own value.
        let named = match c.op(index) {
            Op::Const(_) => format!("index {}", crate::value::fmt_num(x)),
            Op::Input(_) => format!("index `{}` = {}", c.label(index), crate::value::fmt_num(x)),
            _ if c.stage_names.contains_key(&index) => {
                format!("index `{}` = {}", c.label(index), crate::value::fmt_num(x))
            }
            _ if c.formula(index) == crate::value::fmt_num(x) => {
                format!("index {}", c.formula(index))
            }
            _ => format!(
                "index `{}` = {}",
                c.formula(index),
                crate::value::fmt_num(x)
            ),
        };
        if !x.is_finite() || x.fract() != 0.0 {
            return Err(Error::eval(span, format!("{named} is not an integer"))
                .label("an index must be a whole number; indices count from 0"));
        }
        let n = dims.get(k).copied().unwrap_or(0);
        if x < 0.0 || x >= n as f64 {
            let plural = |w: &str| {
                if n == 1 {
                    w.to_string()
                } else {
                    format!("{w}s")
                }
            };
            let what = match (dims.len(), k) {
                (1, _) => format!("a vector of length {n}"),
                (_, 0) => format!("a matrix with {n} {}", plural("row")),
                _ => format!("a matrix with {n} {}", plural("column")),
            };
            return Err(
                Error::eval(span, format!("{named} is out of range for {what}"))
                    .label(format!("valid indices are 0 to {}", n.saturating_sub(1))),
            );
        }
    }
    Ok(())
}

/// Runs the backward pass from `upstream`, which is the output's shape or a
/// scalar that broadcasts to it.
///
/// ```
/// use gradexplain::{syntax::parse, lower, eval::{forward, backward}, Value};
/// let c = lower(&parse("f(x, y) = x * y").unwrap()).unwrap();
/// let fwd = forward(&c, &[Value::Scalar(3.0), Value::Scalar(-4.0)]).unwrap();
/// let bwd = backward(&c, &fwd, &Value::Scalar(2.0)).unwrap();
/// let g = bwd.param_grads(&c, &fwd);
/// assert_eq!(g, [Some(Value::Scalar(-8.0)), Some(Value::Scalar(6.0))]);
/// ```
pub fn backward(c: &Circuit, fwd: &Forward, upstream: &Value) -> Result<Backward> {
    backward_with(c, fwd, upstream, true)
}

/// [`backward`], keeping each edge's contribution in [`Backward::edge_grads`]
/// only when `edges` is set: results-only runs (`--summary`, the JSON report)
/// skip a value per edge.
pub fn backward_with(
    c: &Circuit,
    fwd: &Forward,
    upstream: &Value,
    edges: bool,
) -> Result<Backward> {
    let out_shape = fwd.shapes[c.output.index()];
    let upstream = match upstream {
        Value::Scalar(x) => Value::filled(out_shape, *x),
        v if v.shape() == out_shape => v.clone(),
        v => {
            let want = match out_shape {
                Shape::Scalar => "a number".to_string(),
                s => format!("{}, or a number that broadcasts", s.describe()),
            };
            return Err(Error::new(
                crate::error::ErrorKind::Eval,
                format!(
                    "the upstream gradient (--grad) is {}, but the output `{}` is {}",
                    v.shape().describe(),
                    c.output_name,
                    out_shape.describe()
                ),
            )
            .help(format!(
                "the upstream gradient has the output's shape: pass --grad {want}"
            )));
        }
    };
    let req = c.requires_grad_slice();
    let mut grads: Vec<Option<Value>> = vec![None; c.len()];
    let mut edge_grads: Vec<Option<Value>> = if edges {
        vec![None; c.graph.edge_count()]
    } else {
        Vec::new()
    };
    let mut kinks = Vec::new();
    let mut notes = Notes::default();
    if req[c.output.index()] {
        grads[c.output.index()] = Some(upstream.clone());
    }
    for g in c.gates().rev() {
        // Inputs come before the gate: its gradient is read while theirs grow.
        let (below, from_here) = grads.split_at_mut(g.index());
        let Some(grad) = &from_here[0] else {
            continue;
        };
        let op = c.op(g);
        if matches!(op, Op::Input(_) | Op::Const(_)) {
            continue;
        }
        let inputs = c.input_slice(g);
        let ins = gather(&fwd.values, inputs);
        let out = &fwd.values[g.index()];
        for (slot, &input) in inputs.iter().enumerate() {
            if !op.carries_gradient(slot) || !req[input.index()] {
                continue;
            }
            let contribution = op.vjp(slot, &ins, out, grad);
            if edges {
                edge_grads[c.input_edge(g, slot).index()] = Some(contribution.clone());
            }
            match &mut below[input.index()] {
                // Gradients add at forks: +=, never =.
                Some(acc) => acc.add_assign(&contribution),
                slot @ None => *slot = Some(contribution),
            }
        }
        if let Some(why) = op.kink(&ins) {
            kinks.push((g, why));
            notes.push(format!("at `{} = {}`: {why}", c.label(g), c.formula(g)));
        }
    }
    Ok(Backward {
        upstream,
        grads,
        edge_grads,
        kinks,
        notes: notes.finish("subgradient"),
    })
}

/// The values (or shapes) of a gate's inputs, on the stack for up to four:
/// gathered once per gate per pass, a million times, where a `SmallVec`'s
/// bookkeeping cost more than the gate's own arithmetic.
enum Gathered<T: Copy> {
    Few([T; 4], usize),
    Many(Vec<T>),
}

impl<T: Copy> std::ops::Deref for Gathered<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Gathered::Few(a, n) => &a[..*n],
            Gathered::Many(v) => v,
        }
    }
}

fn gather_with<T: Copy>(inputs: &[GateId], filler: T, get: impl Fn(usize) -> T) -> Gathered<T> {
    if inputs.len() <= 4 {
        let mut a = [filler; 4];
        for (k, i) in inputs.iter().enumerate() {
            a[k] = get(i.index());
        }
        Gathered::Few(a, inputs.len())
    } else {
        Gathered::Many(inputs.iter().map(|i| get(i.index())).collect())
    }
}

/// Stands in the unused places of a [`Gathered`].
static NOTHING: Value = Value::Scalar(0.0);

fn gather<'v>(values: &'v [Value], inputs: &[GateId]) -> Gathered<&'v Value> {
    gather_with(inputs, &NOTHING, |k| &values[k])
}

/// Notes, capped so that a million-gate circuit does not print a million lines.
#[derive(Default)]
struct Notes {
    kept: Vec<String>,
    dropped: usize,
}

impl Notes {
    fn push(&mut self, note: String) {
        if self.kept.len() < MAX_NOTES {
            self.kept.push(note);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self, kind: &str) -> Vec<String> {
        if self.dropped > 0 {
            self.kept.push(format!(
                "… and {} more {kind} notes like these",
                self.dropped
            ));
        }
        self.kept
    }
}

/// The place a parameter is declared or first used, for "missing value" errors.
pub fn param_span(c: &Circuit, name: &str) -> Option<Span> {
    c.params.iter().find(|p| p.name == name).map(|p| p.span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse_assignments;

    fn error(src: &str, at: &str) -> String {
        let mut a = crate::Analysis::new(src).unwrap();
        a.evaluate(&parse_assignments(at).unwrap(), &Value::Scalar(1.0))
            .unwrap_err()
            .message
    }

    #[test]
    fn a_shape_error_anywhere_comes_before_a_value_error() {
        // log(-1) comes first in the program, the shape error later: shapes are
        // checked for the whole circuit before any value counts.
        let src = "a = log(x); b = v · w; a + sum(b)";
        assert_eq!(
            error(src, "x=-1,v=[1,2],w=[1,2,3]"),
            "cannot take 2 · 3: inner dimensions 2 and 3 differ"
        );
        assert_eq!(
            error(src, "x=-1,v=[1,2],w=[1,2]"),
            "log(-1) is undefined: log needs an input ≥ 0"
        );
    }
}
