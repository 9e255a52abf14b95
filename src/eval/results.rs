//! The results alone — the output's value and the parameters' gradients —
//! for a run that shows nothing else (`--summary`).

use super::{Backward, Forward, backward_with, forward, lane};
use crate::error::Result;
use crate::graph::{Circuit, ParamRole};
use crate::value::Value;

/// What a results-only run keeps (`--summary`): the output's value, the
/// upstream gradient, each parameter's gradient and the passes' notes, and
/// neither a value nor a gradient for every gate.
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    /// The output's value.
    pub value: Value,
    /// The upstream gradient.
    pub upstream: Value,
    /// Each parameter's gradient, in parameter order, as
    /// [`Backward::param_grads`] gives them.
    pub gradients: Vec<Option<Value>>,
    /// How each parameter takes part in the output, as
    /// [`Circuit::param_roles`] gives them.
    pub roles: Vec<ParamRole>,
    /// The forward pass's notes, then the backward pass's.
    pub notes: Vec<String>,
}

impl Results {
    /// The results of both passes.
    pub fn of(c: &Circuit, fwd: &Forward, bwd: &Backward) -> Results {
        Results {
            value: fwd.values[c.output.index()].clone(),
            upstream: bwd.upstream.clone(),
            gradients: bwd.param_grads(c, fwd),
            roles: c.param_roles(),
            notes: fwd.notes.iter().chain(&bwd.notes).cloned().collect(),
        }
    }
}

/// Both passes, for their [`Results`] only: [`forward`] then [`backward_with`]
/// without edges, or, where every value is a number, the same computation
/// keeping 8 bytes a gate for values and for gradients where those passes
/// keep 16. The numbers are the same, bit for bit.
///
/// ```
/// use gradexplain::{syntax::parse, lower, eval::results, Value};
/// let c = lower(&parse("f(x, y) = x * y").unwrap()).unwrap();
/// let r = results(&c, &[Value::Scalar(3.0), Value::Scalar(-4.0)], &Value::Scalar(2.0)).unwrap();
/// assert_eq!(r.value, Value::Scalar(-12.0));
/// assert_eq!(r.gradients, [Some(Value::Scalar(-8.0)), Some(Value::Scalar(6.0))]);
/// ```
pub fn results(c: &Circuit, params: &[Value], upstream: &Value) -> Result<Results> {
    if let Some(r) = lane::results(c, params, upstream) {
        return Ok(r);
    }
    let fwd = forward(c, params)?;
    let bwd = backward_with(c, &fwd, upstream, false)?;
    Ok(Results::of(c, &fwd, &bwd))
}
