//! The forward pass (values, cached per gate) and the backward pass (gradients
//! from the upstream gradient, added at forks), both single loops over the gates
//! in index order — forward ascending, backward descending.

use crate::error::{Error, Result, Span};
use crate::gate::Op;
use crate::graph::{Circuit, GateId, ParamRole};
use crate::limits::{MAX_TOTAL_ELEMENTS, MAX_VALUE_ELEMENTS};
use crate::value::{Shape, Shapes, Value};

mod lane;
mod results;
pub use results::{Results, results};

/// At most this many notes of one kind are kept; the rest are counted.
const MAX_NOTES: usize = 20;

/// Gates written out in an error's label (see [`Circuit::spelled_formula`]).
const SPELLED: usize = 6;

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
    let mut total = 0usize;
    for g in c.gates() {
        shapes.push(gate_shape(c, g, &shapes, params, &mut total)?);
    }
    Ok(shapes)
}

/// The shape of gate `g`, its inputs' being known; `total` counts the numbers
/// of every value so far. An error names the operator, both shapes and the
/// place, or the value that would be too large to hold.
fn gate_shape(
    c: &Circuit,
    g: GateId,
    shapes: &Shapes,
    params: &[Shape],
    total: &mut usize,
) -> Result<Shape> {
    let gate = c.gate(g);
    let shape = match gate.op {
        Op::Input(i) => params.get(i as usize).copied().unwrap_or(Shape::Scalar),
        op => {
            let ins = gather_with(c.input_slice(g), Shape::Scalar, |k| shapes[k]);
            op.out_shape(&ins).map_err(|m| {
                Error::eval(gate.span, m).label(format!("in `{}`", c.spelled_formula(g, SPELLED)))
            })?
        }
    };
    *total = total.saturating_add(shape.len());
    if shape.len() > MAX_VALUE_ELEMENTS || *total > MAX_TOTAL_ELEMENTS {
        let (what, limit) = if shape.len() > MAX_VALUE_ELEMENTS {
            (
                format!("`{}` would be {}", c.formula(g), shape.describe()),
                format!("{MAX_VALUE_ELEMENTS} numbers in one value"),
            )
        } else {
            (
                "the circuit's values".to_string(),
                format!("{MAX_TOTAL_ELEMENTS} numbers in all"),
            )
        };
        return Err(Error::eval(
            gate.span,
            format!("{what}: more than the tool holds ({limit})"),
        )
        .label("too large to compute"));
    }
    Ok(shape)
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
    match lane::forward(c, params) {
        Some(f) => Ok(f),
        None => general_forward(c, params),
    }
}

/// [`forward`] without the scalar lane: every gate through the general rules
/// of [`Op`]. The lane must agree with it exactly; tests and benches call it.
#[doc(hidden)]
pub fn general_forward(c: &Circuit, params: &[Value]) -> Result<Forward> {
    let param_shapes: Vec<Shape> = params.iter().map(Value::shape).collect();
    // Shapes and values in one walk. A shape error anywhere is reported before
    // any value error (as if every shape were inferred first, which is what
    // [`infer_shapes`] does): after a value error only the shapes go on.
    let mut shapes = Shapes::with_capacity(c.len());
    let mut total = 0usize;
    let mut values: Vec<Value> = Vec::with_capacity(c.len());
    let mut notes = Notes::default();
    let mut failed: Option<Error> = None;
    for g in c.gates() {
        shapes.push(gate_shape(c, g, &shapes, &param_shapes, &mut total)?);
        if failed.is_some() {
            continue;
        }
        match value(c, g, &values, params) {
            Ok((v, note)) => {
                if let Some(note) = note {
                    notes.push(note);
                }
                values.push(v);
            }
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

/// The value of gate `g`, its inputs' being known, and the note to make where
/// it stops being finite.
fn value(
    c: &Circuit,
    g: GateId,
    values: &[Value],
    params: &[Value],
) -> Result<(Value, Option<String>)> {
    let gate = c.gate(g);
    let ins = gather(values, c.input_slice(g));
    let value = match gate.op {
        Op::Input(i) => params[i as usize].clone(),
        Op::Index | Op::Scatter => {
            check_indices(c, g, &ins)?;
            gate.op
                .forward(&ins)
                .map_err(|e| Error::eval(gate.span, e.0))?
        }
        op => op.forward(&ins).map_err(|e| {
            Error::eval(gate.span, e.0).label(format!("in `{}`", c.spelled_formula(g, SPELLED)))
        })?,
    };
    let note = non_finite_note(c, g, &ins, &value);
    Ok((value, note))
}

/// Where a value stops being finite, the note that names the gate and its inputs:
/// `` `t1 = 1e308 * 10` overflows to inf (from 1e308, 10) ``, `` `f = t1 - t1` gives
/// nan (from t1 = inf, t1 = inf) ``. Only where it arises: a gate whose inputs are
/// already nan passes it on without a note; inf in, inf out likewise.
fn non_finite_note(c: &Circuit, g: GateId, ins: &[&Value], value: &Value) -> Option<String> {
    if value.is_finite() || ins.iter().any(|v| v.elements().any(f64::is_nan)) {
        return None;
    }
    let produced_nan = value.elements().any(f64::is_nan);
    let finite_in = ins.iter().all(|v| v.is_finite());
    let signs = (
        value.elements().any(|x| x == f64::INFINITY),
        value.elements().any(|x| x == f64::NEG_INFINITY),
    );
    let inf = match signs {
        (true, true) => "±inf",
        (false, true) => "-inf",
        _ => "inf",
    };
    match c.op(g) {
        // Parsing has noted a literal that overflows.
        Op::Const(_) => None,
        Op::Input(_) => Some(format!(
            "the input `{}` {} {inf}",
            c.label(g),
            if value.shape().is_scalar() {
                "is"
            } else {
                "holds"
            }
        )),
        _ if !(finite_in || produced_nan) => None,
        op => {
            let what = if produced_nan {
                "gives nan".to_string()
            } else if matches!(op, Op::Log | Op::Div | Op::Pow)
                && ins.iter().any(|v| v.elements().any(|x| x == 0.0))
            {
                // A pole, not an overflow: log(0), 1/0, 0^-1.
                format!("gives {inf}")
            } else {
                format!("overflows to {inf}")
            };
            Some(format!(
                "`{} = {}` {what} (from {})",
                c.label(g),
                c.formula(g),
                operands(c, g, ins)
            ))
        }
    }
}

/// A gate's inputs with their values, `t1 = 0, 1` (a constant is its own value).
fn operands(c: &Circuit, g: GateId, ins: &[&Value]) -> String {
    let items: Vec<String> = c
        .inputs(g)
        .iter()
        .zip(ins)
        .map(|(i, v)| {
            let (label, value) = (c.label(*i), v.to_string());
            if label == value {
                label
            } else {
                format!("{label} = {value}")
            }
        })
        .collect();
    items.join(", ")
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
        // Every digit where six would round it to what it is not: `1` for
        // 1.0000000000000002 would say a non-integer index is 1.
        let shown = match crate::value::fmt_num(x) {
            short if short.parse::<f64>().is_ok_and(|y| y != x) => format!("{x}"),
            short => short,
        };
        let named = match c.op(index) {
            Op::Const(_) => format!("index {shown}"),
            Op::Input(_) => format!("index `{}` = {shown}", c.label(index)),
            _ if c.stage_names.contains_key(&index) => {
                format!("index `{}` = {shown}", c.label(index))
            }
            _ if c.formula(index) == shown => format!("index {shown}"),
            _ => format!("index `{}` = {shown}", c.formula(index)),
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
    if fwd.shapes.all_scalar()
        && let Some(b) = lane::backward(c, fwd, upstream, edges)
    {
        return Ok(b);
    }
    general_backward(c, fwd, upstream, edges)
}

/// [`backward_with`] without the scalar lane (see [`general_forward`]).
#[doc(hidden)]
pub fn general_backward(
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
    let (mut grads, mut edge_grads) = gradient_slots(c, edges);
    let mut kinks = Vec::new();
    let mut notes = Notes::default();
    let mut numeric = Notes::default();
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
            if !contribution.is_finite() && grad.is_finite() && ins.iter().all(|v| v.is_finite()) {
                // Finite numbers in, a gradient that is not: the local gradient has a
                // pole here (sqrt at 0, log at 0, 1/b at b = 0).
                numeric.push(format!(
                    "at `{} = {}`: the gradient sent to `{}` is {} — the local gradient is not finite at {}",
                    c.label(g),
                    c.formula(g),
                    c.label(input),
                    contribution,
                    operands(c, g, &ins)
                ));
            }
            if edges {
                edge_grads[c.input_edge(g, slot).index()] = Some(contribution.clone());
            }
            match &mut below[input.index()] {
                // Gradients add at forks: +=, never =.
                Some(acc) => {
                    // inf and -inf meeting at a fork add to nan: say where.
                    let opposite = !contribution.is_finite()
                        && !acc.is_finite()
                        && !acc
                            .elements()
                            .chain(contribution.elements())
                            .any(f64::is_nan);
                    let before = opposite.then(|| acc.clone());
                    acc.add_assign(&contribution);
                    if let Some(before) = before.filter(|_| acc.elements().any(f64::is_nan)) {
                        numeric.push(format!(
                            "at the fork of `{}`: the gradients {before} and {contribution} add to nan",
                            c.label(input)
                        ));
                    }
                }
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
        notes: {
            let mut all = notes.finish("subgradient");
            all.extend(numeric.finish("gradient"));
            all
        },
    })
}

/// Empty gradients: one per gate, and one per edge when `edges` is set (else none).
fn gradient_slots(c: &Circuit, edges: bool) -> (Vec<Option<Value>>, Vec<Option<Value>>) {
    let per_edge = if edges { c.edge_count() } else { 0 };
    (vec![None; c.len()], vec![None; per_edge])
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
            .clone()
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
