//! Symbolic derivatives: the gate DAG differentiated by reverse accumulation
//! into a hash-consed, simplifying expression DAG ([`expr`], `simplify`,
//! [`diff`]), written back as programs in the tool's own language
//! ([`program`]) and as LaTeX ([`latex`]).
//!
//! ```
//! let a = gradexplain::Analysis::new("f(x, y) = x * y + x").unwrap();
//! let s = gradexplain::symbolic::Symbolic::new(&a);
//! assert_eq!(s.programs[0].as_deref(), Some("df_dx(x, y) = 1 + y"));
//! assert_eq!(s.programs[1].as_deref(), Some("df_dy(x, y) = x"));
//! ```

pub mod diff;
pub mod expr;
pub mod latex;
pub mod nameset;
pub mod program;
mod simplify;

use crate::analysis::Analysis;
use crate::gate::Op;
use crate::graph::{Circuit, ParamRole};
use crate::value::{Shape, Shapes};
use diff::Derivatives;
use expr::ExprId;
use program::{Layout, Names};
use std::borrow::Cow;

/// The symbolic derivatives of one program, ready to print.
#[derive(Clone, Debug)]
pub struct Symbolic {
    /// The derivative DAG; `None` when the shapes are unknown.
    pub derivatives: Option<Derivatives>,
    /// The names of its shared nodes.
    pub names: Option<Names>,
    /// For each parameter, the root of ∂output/∂parameter and its layout;
    /// `None` for an index parameter or a derivative that cannot be written.
    pub layouts: Vec<Option<Layout>>,
    /// For each parameter, its derivative as a program; `None` as for `layouts`.
    /// Empty when built [`Symbolic::for_report`]: see [`Symbolic::write_program`].
    pub programs: Vec<Option<String>>,
    /// Each program's header parameters: the program's, and `grad` for a tensor output.
    header_params: Vec<String>,
    /// What the reader should know: assumed shapes, derivatives not written.
    pub notes: Vec<String>,
}

/// The gate shapes the derivatives are built for: the evaluated ones, or —
/// without values — those that follow from scalar parameters.
fn shapes(a: &Analysis) -> Option<(Cow<'_, Shapes>, bool)> {
    if let Some(n) = &a.numeric {
        return Some((Cow::Borrowed(&n.forward.shapes), false));
    }
    let scalars = vec![Shape::Scalar; a.circuit.params.len()];
    crate::eval::infer_shapes(&a.circuit, &scalars)
        .ok()
        .map(|s| (Cow::Owned(s), true))
}

/// True when the circuit has a gate that only makes sense for tensors.
fn uses_tensors(c: &Circuit) -> bool {
    c.gates().any(|g| {
        matches!(
            c.op(g),
            Op::Dot | Op::Sum | Op::Mean | Op::Transpose | Op::Outer | Op::Index
        )
    })
}

impl Symbolic {
    /// Differentiates the analysed program with respect to every parameter.
    pub fn new(a: &Analysis) -> Symbolic {
        Symbolic::build(a, true)
    }

    /// The derivatives as the JSON report needs them, for circuits of any size:
    /// the programs are not printed here but as the report is written
    /// ([`Symbolic::write_program`]), and the chain-rule steps, which only the
    /// LaTeX derivation reads, are not kept.
    pub fn for_report(a: &Analysis) -> Symbolic {
        Symbolic::build(a, false)
    }

    fn build(a: &Analysis, full: bool) -> Symbolic {
        let c = &a.circuit;
        let n = c.params.len();
        let mut notes = Vec::new();
        let Some((shapes, assumed)) = shapes(a) else {
            notes.push(
                "the symbolic derivatives need the parameters' shapes: give values with --at"
                    .into(),
            );
            return Symbolic {
                derivatives: None,
                names: None,
                layouts: vec![None; n],
                programs: vec![None; n],
                header_params: Vec::new(),
                notes,
            };
        };
        if assumed && uses_tensors(c) {
            notes.push(
                "without --at the symbolic derivatives take every parameter to be a scalar; give values to get them for vectors and matrices"
                    .into(),
            );
        }
        let user = program::user_names(c);
        let grad_name = program::fresh(&user.set, "grad");
        let mut d = diff::differentiate(c, &shapes, &grad_name, full);
        let grad = d.grad.map(|_| grad_name.as_str());
        // Roots first (zeros for unused parameters are new nodes), then names.
        let roles = c.param_roles();
        let roots: Vec<Option<ExprId>> = c
            .params
            .iter()
            .zip(&roles)
            .map(|(p, role)| {
                let g = p.gate.index();
                match role {
                    ParamRole::Index => None,
                    _ if d.incomplete[g] => None,
                    _ => Some(d.adjoint[g].unwrap_or_else(|| zeros_like(&mut d, g))),
                }
            })
            .collect();
        // Complete: from here on the arena is only read.
        d.arena.freeze();
        for &g in &d.unsupported {
            notes.push(format!(
                "the symbolic derivative through `{} = {}` cannot be written in the language yet; the derivatives that pass through it are left out",
                c.label(g),
                c.formula(g)
            ));
        }
        let mut names = Names::new(c, &d, grad, user);
        let mut header_params: Vec<String> = c.params.iter().map(|p| p.name.clone()).collect();
        if let Some(g) = grad {
            header_params.push(g.to_string());
        }
        let layouts: Vec<Option<Layout>> = roots
            .iter()
            .map(|r| r.map(|r| program::layout(c, &d, &mut names, r)))
            .collect();
        let mut s = Symbolic {
            derivatives: Some(d),
            names: Some(names),
            layouts,
            programs: Vec::new(),
            header_params,
            notes,
        };
        if full {
            s.programs = (0..n).map(|k| s.program(k)).collect();
        }
        s
    }

    /// The derivative with respect to parameter `k` as a program; `None` for an
    /// index parameter or a derivative that cannot be written.
    pub fn program(&self, k: usize) -> Option<String> {
        if let Some(p) = self.programs.get(k) {
            return p.clone();
        }
        let mut out = String::new();
        self.write_program(k, &mut out).ok()?;
        Some(out)
    }

    /// Writes the program of parameter `k`, a statement at a time; `Err` when
    /// there is none (see [`Symbolic::program`]) or the writer fails.
    pub fn write_program(&self, k: usize, out: &mut dyn std::fmt::Write) -> std::fmt::Result {
        let (Some(d), Some(names), Some(Some(l))) =
            (&self.derivatives, &self.names, self.layouts.get(k))
        else {
            return Err(std::fmt::Error);
        };
        let params: Vec<&str> = self.header_params.iter().map(String::as_str).collect();
        program::write(out, d, names, l, &names.headers[k], &params)
    }

    /// True when parameter `k` has a program.
    pub fn has_program(&self, k: usize) -> bool {
        matches!(self.layouts.get(k), Some(Some(_))) && self.derivatives.is_some()
    }

    /// The parameter programs as the JSON report's `symbolic` object wants them.
    pub fn json_entries(&self, c: &Circuit) -> Vec<(String, Option<String>)> {
        c.params
            .iter()
            .enumerate()
            .map(|(k, p)| (p.name.clone(), self.program(k)))
            .collect()
    }
}

/// Zero in the shape of parameter gate `g`: `0`, or `0 * v ^ 0` for a tensor.
fn zeros_like(d: &mut Derivatives, g: usize) -> ExprId {
    let a = &mut d.arena;
    let zero = a.number(0.0);
    let x = d.forward[g];
    if a.shape(x).is_scalar() {
        zero
    } else {
        let ones = a.build(Op::Pow, &[x, zero]);
        a.build(Op::Mul, &[zero, ones])
    }
}
