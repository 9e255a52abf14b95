//! The scalar lane: both passes over plain numbers, for circuits in which every
//! value is one (every parameter a number, every gate elementwise) and nothing
//! unusual happens. That is the shape of every large generated program — an
//! unrolled loss, a forked chain — and there the general passes spend most of
//! their time on what a scalar never needs: gathering operands as values,
//! inferring shapes, broadcasting, checking each result for a note to make.
//!
//! The lane computes exactly what the general passes compute, with the same
//! rules on numbers (`gate/scalar.rs`, which both call) in the same order (a
//! test holds it to bitwise equality with them, op by op and on generated
//! programs). Whenever the general passes would have
//! something to say — a value or a gradient that is not finite, a domain
//! error — the lane gives up (`None`) and the general pass runs instead, so
//! that every note and error is written in one place.

use super::{Backward, Forward, Notes, Results};
use crate::gate::{Op, scalar};
use crate::graph::{Circuit, GateId, ParamRole};
use crate::limits::MAX_TOTAL_ELEMENTS;
use crate::value::{Shape, Shapes, Value};

/// True for the gates the lane computes: those that map numbers to a number
/// elementwise. `·`, `sum`, `mean` and `transpose` of scalars are left to the
/// general pass, which defines them through arrays.
fn in_lane(op: Op) -> bool {
    scalar::elementwise(op)
}

/// The gate's value from its inputs' values `a` and `b` (`b` unused by one-input
/// gates); `None` where the general pass reports a domain error.
#[inline(always)]
fn value(op: Op, a: f64, b: f64) -> Option<f64> {
    (in_lane(op) && !scalar::undefined(op, a, b)).then(|| scalar::value(op, a, b))
}

/// `∂out/∂input[slot]` at inputs `a`, `b` and output `o`: [`Op::local`] on numbers.
///
/// Never inlined: in the backward loop LLVM hoisted `pow`, `ln`, `sin` and `cos`
/// of the loop-invariant inputs out of the loop over slots (they are
/// speculatable intrinsics), computing all four for every gate; profiled, that
/// was three quarters of the pass.
#[inline(never)]
fn local(op: Op, slot: usize, a: f64, b: f64, o: f64) -> f64 {
    // Inputs and constants have no inputs, so no slot asks for them.
    scalar::local(op, slot, a, b, o).map_or(0.0, |(l, _)| l)
}

/// The number of a value the lane made or checked.
fn num(v: &Value) -> f64 {
    match v {
        Value::Scalar(x) => *x,
        // The lane only runs where every value is a scalar.
        Value::Tensor(_) => f64::NAN,
    }
}

/// How the lane keeps a number per gate: as the general passes' [`Value`]
/// (for [`Forward`] and [`Backward`]), or as a bare `f64`, 8 bytes instead of
/// 16, for a results-only run ([`results`]).
trait Slot: Sized {
    /// A gate's value.
    fn value(x: f64) -> Self;
    /// The number in a value.
    fn get(&self) -> f64;
}

impl Slot for Value {
    fn value(x: f64) -> Value {
        Value::Scalar(x)
    }
    fn get(&self) -> f64 {
        num(self)
    }
}

impl Slot for f64 {
    fn value(x: f64) -> f64 {
        x
    }
    fn get(&self) -> f64 {
        *self
    }
}

/// A gate's gradient as the backward pass accumulates it: none yet, or a
/// number. The general passes' `Option<Value>`, or a bare `f64` in which NaN
/// is "none" (a gradient the lane keeps is never NaN: every contribution is
/// finite, or the lane gives up).
trait Grad {
    /// No gradient.
    fn none() -> Self;
    /// The gradient so far, if any.
    fn get(&self) -> Option<f64>;
    /// Adds a contribution: gradients add at forks.
    fn add(&mut self, x: f64);
}

impl Grad for Option<Value> {
    fn none() -> Self {
        None
    }
    fn get(&self) -> Option<f64> {
        match self {
            Some(Value::Scalar(x)) => Some(*x),
            _ => None,
        }
    }
    fn add(&mut self, x: f64) {
        match self {
            Some(Value::Scalar(acc)) => *acc += x,
            slot => *slot = Some(Value::Scalar(x)),
        }
    }
}

impl Grad for f64 {
    fn none() -> f64 {
        f64::NAN
    }
    fn get(&self) -> Option<f64> {
        (!self.is_nan()).then_some(*self)
    }
    fn add(&mut self, x: f64) {
        *self = if self.is_nan() { x } else { *self + x };
    }
}

/// The forward pass on numbers; `None` when the general pass must run (see the
/// module's notes).
pub(super) fn forward(c: &Circuit, params: &[Value]) -> Option<Forward> {
    Some(Forward {
        values: forward_in(c, params)?,
        shapes: Shapes::uniform(c.len(), Shape::Scalar),
        notes: Vec::new(),
    })
}

/// Every gate's value, kept as `T`.
fn forward_in<T: Slot>(c: &Circuit, params: &[Value]) -> Option<Vec<T>> {
    let n = c.len();
    if n > MAX_TOTAL_ELEMENTS || !params.iter().all(|p| matches!(p, Value::Scalar(_))) {
        return None;
    }
    let mut values: Vec<T> = Vec::with_capacity(n);
    // Which gates depend on a parameter, on the way: every gate here passes
    // gradient through every input, so it is any of its inputs'. A pass of
    // its own over the circuit cost a sixth as much as both passes.
    let mut req: Vec<bool> = Vec::with_capacity(n);
    for k in 0..n {
        // `value` leaves every gate that is not elementwise to the general
        // pass, and this match every gate without inputs or with more than
        // two, which only a syntax tree built by hand can hold.
        let (x, r) = match c.op_inputs(k) {
            (Op::Input(i), _) => (num(params.get(i as usize)?), true),
            (Op::Const(x), _) => (x, false),
            (op, &[i]) => (value(op, values[i.index()].get(), 0.0)?, req[i.index()]),
            (op, &[i, j]) => {
                let (a, b) = (values[i.index()].get(), values[j.index()].get());
                (value(op, a, b)?, req[i.index()] || req[j.index()])
            }
            _ => return None,
        };
        if !x.is_finite() {
            return None;
        }
        values.push(T::value(x));
        req.push(r);
    }
    c.know_requires_grad(req);
    Some(values)
}

/// The backward pass on numbers from the upstream number `upstream`; `None`
/// when the general pass must run (see the module's notes).
pub(super) fn backward(
    c: &Circuit,
    fwd: &Forward,
    upstream: &Value,
    edges: bool,
) -> Option<Backward> {
    let Value::Scalar(up) = *upstream else {
        return None;
    };
    if !fwd.shapes[c.output.index()].is_scalar() {
        return None;
    }
    let (mut grads, mut edge_grads) = super::gradient_slots(c, edges);
    let on_edge = |g: GateId, slot: usize, x: f64| {
        if edges {
            edge_grads[c.input_edge(g, slot).index()] = Some(Value::Scalar(x));
        }
    };
    let (kinks, notes) = backward_in(c, &fwd.values, up, &mut grads, on_edge)?;
    Some(Backward {
        upstream: upstream.clone(),
        grads,
        edge_grads,
        kinks,
        notes,
    })
}

/// The kinks a backward pass met, and its notes.
type Kinks = (Vec<(GateId, &'static str)>, Vec<String>);

/// The backward pass over `values`, into `grads` (every one [`Grad::none`]),
/// handing each edge's contribution to `on_edge` (gate, slot, contribution).
fn backward_in<T: Slot, G: Grad>(
    c: &Circuit,
    values: &[T],
    up: f64,
    grads: &mut [G],
    mut on_edge: impl FnMut(GateId, usize, f64),
) -> Option<Kinks> {
    let out = c.output.index();
    if !up.is_finite() {
        return None;
    }
    let req = c.requires_grad_slice();
    let mut kinks = Vec::new();
    let mut notes = Notes::default();
    if req[out] {
        grads[out].add(up);
    }
    for k in (0..c.len()).rev() {
        let (below, from_here) = grads.split_at_mut(k);
        let Some(grad) = from_here[0].get() else {
            continue;
        };
        let (op, inputs) = c.op_inputs(k);
        let (a, b) = match (op, inputs) {
            (Op::Input(_) | Op::Const(_), _) => continue,
            (op, _) if !in_lane(op) => return None,
            (_, &[i]) => (values[i.index()].get(), 0.0),
            (_, &[i, j]) => (values[i.index()].get(), values[j.index()].get()),
            // As in the forward pass.
            _ => return None,
        };
        let o = values[k].get();
        let g = GateId::new(k);
        for (slot, &input) in inputs.iter().enumerate() {
            if !req[input.index()] {
                continue;
            }
            let l = local(op, slot, a, b, o);
            // As in the general pass: a zero on either side sends nothing.
            let contribution = if l == 0.0 || grad == 0.0 {
                0.0
            } else {
                l * grad
            };
            if !contribution.is_finite() {
                return None;
            }
            on_edge(g, slot, contribution);
            // Gradients add at forks.
            below[input.index()].add(contribution);
        }
        if scalar::at_kink(op, a, b) {
            let ins = [&Value::Scalar(a), &Value::Scalar(b)];
            if let Some(why) = op.kink(&ins[..inputs.len()]) {
                kinks.push((g, why));
                notes.push(format!("at `{} = {}`: {why}", c.label(g), c.formula(g)));
            }
        }
    }
    Some((kinks, notes.finish("subgradient")))
}

/// Both passes on numbers, keeping only their results: 8 bytes a gate for
/// the values and 8 for the gradients, where [`Forward`] and [`Backward`]
/// take 16 each. `None` when the full passes must run.
pub(super) fn results(c: &Circuit, params: &[Value], upstream: &Value) -> Option<Results> {
    let Value::Scalar(up) = *upstream else {
        return None;
    };
    let values: Vec<f64> = forward_in(c, params)?;
    let mut grads = vec![<f64 as Grad>::none(); c.len()];
    let (_, notes) = backward_in(c, &values, up, &mut grads, |_, _, _| {})?;
    // The roles without a pass of their own over the circuit: every gate here
    // passes gradient back through every input (none is an index), and a
    // gradient, zero or not, reaches exactly the parameters the output depends
    // on, since every gate between them depends on a parameter too.
    let roles: Vec<ParamRole> = c
        .params
        .iter()
        .map(|p| match Grad::get(&grads[p.gate.index()]) {
            Some(_) => ParamRole::Differentiable,
            None => ParamRole::Unused,
        })
        .collect();
    debug_assert_eq!(roles, c.param_roles());
    let gradients = c
        .params
        .iter()
        // No gradient reached it: 0, as `Backward::param_grads` has it.
        .map(|p| {
            Some(Value::Scalar(
                Grad::get(&grads[p.gate.index()]).unwrap_or(0.0),
            ))
        })
        .collect();
    Some(Results {
        value: Value::Scalar(values[c.output.index()]),
        upstream: upstream.clone(),
        gradients,
        roles,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers where the rules branch: signs, zeros, ties, overflow, nan.
    const POINTS: [f64; 16] = [
        -2.0,
        -1.5,
        -1.0,
        -0.5,
        -0.0,
        0.0,
        0.5,
        1.0,
        2.0,
        3.0,
        1e-310,
        1e308,
        -1e308,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];

    fn arity(op: Op) -> usize {
        match op {
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow | Op::Max | Op::Min => 2,
            _ => 1,
        }
    }

    fn same(x: f64, y: f64) -> bool {
        x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
    }

    /// Every rule of the lane, bit for bit against the gate table's, at every
    /// pair of points: values, domain errors, local gradients, kinks. Both
    /// call `gate/scalar.rs`; this holds how each picks and broadcasts what
    /// the rules read.
    #[test]
    fn the_lane_is_the_gate_table_on_numbers() {
        for op in crate::graph::EVERY_OP.into_iter().filter(|&op| in_lane(op)) {
            for a in POINTS {
                for b in POINTS {
                    let (va, vb) = (Value::Scalar(a), Value::Scalar(b));
                    let ins = &[&va, &vb][..arity(op)];
                    let general = op.forward(ins);
                    let lane = value(op, a, b);
                    let o = match (&general, lane) {
                        (Ok(Value::Scalar(y)), Some(x)) => {
                            assert!(same(x, *y), "{op:?}({a}, {b}): lane {x}, general {y}");
                            *y
                        }
                        (Err(_), None) => continue,
                        other => panic!("{op:?}({a}, {b}): {other:?}"),
                    };
                    for slot in 0..ins.len() {
                        let Some(Value::Scalar(g)) = op.local(slot, ins, &Value::Scalar(o)) else {
                            panic!("{op:?} has no scalar local gradient");
                        };
                        let l = local(op, slot, a, b, o);
                        assert!(
                            same(l, g),
                            "∂{op:?}({a}, {b})/∂{slot}: lane {l}, general {g}"
                        );
                    }
                    assert_eq!(
                        scalar::at_kink(op, a, b),
                        op.kink(ins).is_some(),
                        "{op:?}({a}, {b})"
                    );
                }
            }
        }
    }

    #[test]
    fn array_gates_are_left_to_the_general_pass() {
        for op in [Op::Dot, Op::Sum, Op::Mean, Op::Transpose, Op::Index] {
            assert!(!in_lane(op));
        }
    }
}
