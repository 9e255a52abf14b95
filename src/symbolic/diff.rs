//! Reverse accumulation over the gate DAG, in symbols: one sweep from the output
//! down to the inputs, in descending gate order, builds every gate's adjoint
//! ∂output/∂gate as a node of one shared [`Arena`]. A gate's contributions to its
//! inputs are its local gradients (from the gate table, [`Op::local_symbolic`])
//! times its adjoint; contributions add up at forks. The forward expressions live
//! in the same arena, so the derivatives share them, and each gate adds a bounded
//! number of nodes: the result grows linearly with the circuit.
//!
//! For a tensor output the sweep starts from a variable standing for the upstream
//! gradient (named `grad` unless a user name takes it), and each adjoint is a
//! vector-Jacobian product in the shape of its gate.

use super::expr::{Arena, ExprId};
use crate::gate::Op;
use crate::graph::{Circuit, GateId};
use crate::value::{Shape, Shapes};

/// One application of the chain rule: what a gate sends to one of its inputs.
#[derive(Clone, Debug)]
pub struct Step {
    /// The gate.
    pub gate: GateId,
    /// The operand position.
    pub slot: usize,
    /// The input that receives the contribution.
    pub input: GateId,
    /// ∂gate/∂input, for elementwise gates; `None` for tensor gates, whose
    /// contribution is a vector-Jacobian product.
    pub local: Option<ExprId>,
    /// What flows to the input: local gradient times the gate's adjoint.
    pub contribution: ExprId,
}

/// The symbolic derivatives of a circuit's output with respect to every gate.
#[derive(Clone, Debug)]
pub struct Derivatives {
    /// The forward expressions and the adjoints, sharing one DAG.
    pub arena: Arena,
    /// Each gate's expression over the parameters, by gate index.
    pub forward: Vec<ExprId>,
    /// Each gate's adjoint ∂output/∂gate (times `grad` for a tensor output), by
    /// gate index; `None` where no gradient flows.
    pub adjoint: Vec<Option<ExprId>>,
    /// The chain-rule steps, in the order the sweep took them (when asked for).
    pub steps: Vec<Step>,
    /// The variable for the upstream gradient, for a tensor output.
    pub grad: Option<ExprId>,
    /// Gates whose vector-Jacobian product the language cannot write.
    pub unsupported: Vec<GateId>,
    /// By gate index: true when part of the gate's adjoint would have to pass
    /// through an unsupported gate, so the adjoint built is incomplete.
    pub incomplete: Vec<bool>,
}

/// Differentiates `c`, whose gates have the shapes `shapes`. `grad_name` names
/// the upstream gradient when the output is a tensor. The chain-rule steps are
/// recorded in [`Derivatives::steps`] only when `steps` is set.
pub fn differentiate(c: &Circuit, shapes: &Shapes, grad_name: &str, steps: bool) -> Derivatives {
    let keep_steps = steps;
    // A gate and its adjoint make three or four nodes on average.
    let mut a = Arena::with_capacity(4 * c.len());
    let vars: Vec<ExprId> = c
        .params
        .iter()
        .map(|p| a.var(&p.name, shapes[p.gate.index()]))
        .collect();
    let mut forward: Vec<ExprId> = Vec::with_capacity(c.len());
    for g in c.gates() {
        let id = match c.op(g) {
            Op::Input(i) => vars[i as usize],
            Op::Const(x) => a.number(x),
            op => {
                let mut args: smallvec::SmallVec<[ExprId; 4]> = smallvec::SmallVec::new();
                for i in c.input_slice(g) {
                    args.push(forward[i.index()]);
                }
                a.build(op, &args)
            }
        };
        forward.push(id);
    }
    let out_shape = shapes[c.output.index()];
    let grad = (!out_shape.is_scalar()).then(|| a.var(grad_name, out_shape));
    let req = c.requires_grad_slice();
    let mut adjoint: Vec<Option<ExprId>> = vec![None; c.len()];
    let mut steps = Vec::new();
    let mut unsupported = Vec::new();
    let mut incomplete = vec![false; c.len()];
    if req[c.output.index()] {
        adjoint[c.output.index()] = Some(grad.unwrap_or_else(|| a.number(1.0)));
    }
    for g in c.gates().rev() {
        let Some(adj) = adjoint[g.index()] else {
            continue;
        };
        let op = c.op(g);
        if matches!(op, Op::Input(_) | Op::Const(_)) {
            continue;
        }
        let inputs = c.input_slice(g);
        let mut ins: smallvec::SmallVec<[ExprId; 4]> = smallvec::SmallVec::new();
        for i in inputs {
            ins.push(forward[i.index()]);
        }
        for (slot, &input) in inputs.iter().enumerate() {
            if !op.carries_gradient(slot) || !req[input.index()] {
                continue;
            }
            // The template of a scatter only lends its shape: no gradient.
            if op == Op::Scatter && slot == 0 {
                continue;
            }
            let in_shape = shapes[input.index()];
            let (local, contribution) =
                match op.local_symbolic(&mut a, slot, &ins, &forward[g.index()]) {
                    Some(l) if a.as_num(l) == Some(0.0) => continue,
                    Some(l) => {
                        let m = a.build(Op::Mul, &[l, adj]);
                        (Some(l), reduce_to(&mut a, m, in_shape))
                    }
                    None => match vjp(&mut a, op, slot, &ins, adj) {
                        Some(v) => (None, v),
                        None => {
                            if unsupported.last() != Some(&g) {
                                unsupported.push(g);
                            }
                            incomplete[input.index()] = true;
                            continue;
                        }
                    },
                };
            debug_assert_eq!(
                a.shape(contribution),
                in_shape,
                "a VJP has its input's shape"
            );
            if incomplete[g.index()] {
                incomplete[input.index()] = true;
            }
            let acc = match adjoint[input.index()] {
                // Gradients add at forks.
                Some(prev) => a.build(Op::Add, &[prev, contribution]),
                None => contribution,
            };
            adjoint[input.index()] = Some(acc);
            if keep_steps {
                steps.push(Step {
                    gate: g,
                    slot,
                    input,
                    local,
                    contribution,
                });
            }
        }
    }
    Derivatives {
        arena: a,
        forward,
        adjoint,
        steps,
        grad,
        unsupported,
        incomplete,
    }
}

/// The adjoint of broadcasting: a scalar input of a tensor-valued elementwise
/// gate receives the sum of the contribution.
fn reduce_to(a: &mut Arena, x: ExprId, shape: Shape) -> ExprId {
    if shape.is_scalar() && !a.shape(x).is_scalar() {
        a.build(Op::Sum, &[x])
    } else {
        x
    }
}

/// Ones in the shape of `x`: `x ^ 0`, which is 1 for every number, 0, ∞ and nan
/// included, so no new built-in is needed to write a broadcast gradient.
fn ones_like(a: &mut Arena, x: ExprId) -> ExprId {
    let zero = a.number(0.0);
    a.build(Op::Pow, &[x, zero])
}

/// The vector-Jacobian product of a tensor gate for input `slot`: `g` is the
/// gate's adjoint. The rules mirror [`Op::vjp`], written in the language.
fn vjp(a: &mut Arena, op: Op, slot: usize, ins: &[ExprId], g: ExprId) -> Option<ExprId> {
    use Shape::{Matrix, Scalar, Vector};
    let shape = |a: &Arena, k: usize| a.shape(ins[k]);
    let (s0, s1) = (shape(a, 0), ins.get(1).map_or(Scalar, |&i| a.shape(i)));
    Some(match (op, slot) {
        (Op::Dot, 0) => match (s0, s1) {
            (Vector(_), Vector(_)) => a.build(Op::Mul, &[ins[1], g]),
            (Matrix(..), Vector(_)) => a.build(Op::Outer, &[g, ins[1]]),
            (Vector(_), Matrix(..)) => a.build(Op::Dot, &[ins[1], g]),
            (Matrix(..), Matrix(..)) => {
                let t = a.build(Op::Transpose, &[ins[1]]);
                a.build(Op::Dot, &[g, t])
            }
            // A scalar on either side: `dot` is an elementwise product.
            _ => {
                let m = a.build(Op::Mul, &[ins[1], g]);
                reduce_to(a, m, s0)
            }
        },
        (Op::Dot, _) => match (s0, s1) {
            (Vector(_), Vector(_)) => a.build(Op::Mul, &[ins[0], g]),
            (Vector(_), Matrix(..)) => a.build(Op::Outer, &[ins[0], g]),
            (Matrix(..), Vector(_) | Matrix(..)) => {
                let t = a.build(Op::Transpose, &[ins[0]]);
                a.build(Op::Dot, &[t, g])
            }
            _ => {
                let m = a.build(Op::Mul, &[ins[0], g]);
                reduce_to(a, m, s1)
            }
        },
        (Op::Outer, 0) => a.build(Op::Dot, &[g, ins[1]]),
        (Op::Outer, _) => {
            let t = a.build(Op::Transpose, &[g]);
            a.build(Op::Dot, &[t, ins[0]])
        }
        (Op::Sum, _) if s0.is_scalar() => g,
        (Op::Sum, _) => {
            let ones = ones_like(a, ins[0]);
            a.build(Op::Mul, &[g, ones])
        }
        (Op::Mean, _) => {
            let n = a.number(s0.len() as f64);
            let per = a.build(Op::Div, &[g, n]);
            if s0.is_scalar() {
                per
            } else {
                let ones = ones_like(a, ins[0]);
                a.build(Op::Mul, &[per, ones])
            }
        }
        (Op::Transpose, _) => a.build(Op::Transpose, &[g]),
        (Op::Index, 0) => {
            let mut args = vec![ins[0], g];
            args.extend_from_slice(&ins[1..]);
            a.build(Op::Scatter, &args)
        }
        (Op::Scatter, 1) => {
            let mut args = vec![g];
            args.extend_from_slice(&ins[2..]);
            a.build(Op::Index, &args)
        }
        _ => return None,
    })
}
