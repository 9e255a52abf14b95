//! Writing a derivative as a program in the tool's own language: the
//! subexpressions it shares become statements `NAME = expr`, the derivative is
//! the last statement, under a header that lists all the original parameters, so
//! that the program accepts the same `--at` values as the original and can be fed
//! back to the tool (its own derivative is then the second derivative).
//!
//! Names are chosen so that a student recognises them: a forward gate keeps its
//! stage name (or the `t7` the explanation calls it), the adjoint of gate `q` is
//! `dq`, as in the notes. Other shared nodes get `s1`, `s2`, …; no generated name
//! ever collides with a name of the user's program.

use super::diff::Derivatives;
use super::expr::ExprId;
use crate::graph::Circuit;
use std::collections::{HashMap, HashSet};

/// An expression nested deeper than this is split with a named statement, so
/// that every line stays readable (and shallow for any tool that reads it).
const MAX_DEPTH: u32 = 32;

/// Names for the nodes of a [`Derivatives`] arena, shared by all parameters'
/// programs so that a subexpression has the same name in each.
#[derive(Clone, Debug)]
pub struct Names {
    /// Fixed names, by node index: forward stages and adjoints.
    fixed: Vec<Option<String>>,
    /// Nodes that always get a statement when they occur: the user's stages and
    /// their adjoints.
    forced: Vec<bool>,
    /// Which gate a named adjoint belongs to, for the LaTeX `∂f/∂q`.
    adjoint_of: HashMap<ExprId, String>,
    taken: HashSet<String>,
    generic: usize,
    /// The header name of each parameter's program: `df_dx`.
    pub headers: Vec<String>,
    /// The upstream gradient's name, for a tensor output.
    pub grad: Option<String>,
}

/// `name`, or `name_`, `name__`, … — the first that `taken` does not hold.
pub fn fresh(taken: &HashSet<String>, name: &str) -> String {
    let mut n = name.to_string();
    while taken.contains(&n) {
        n.push('_');
    }
    n
}

/// Every name the user's program binds: parameters, stages and the output.
pub fn user_names(c: &Circuit) -> HashSet<String> {
    let mut taken: HashSet<String> = c.params.iter().map(|p| p.name.clone()).collect();
    taken.extend(c.stage_names.values().flatten().cloned());
    taken.insert(c.output_name.clone());
    taken
}

impl Names {
    /// Names the forward stages and adjoints of `d`.
    pub fn new(c: &Circuit, d: &Derivatives, grad: Option<&str>) -> Names {
        let a = &d.arena;
        let mut taken = user_names(c);
        if let Some(g) = grad {
            taken.insert(g.to_string());
        }
        let headers: Vec<String> = c
            .params
            .iter()
            .map(|p| {
                let h = fresh(&taken, &format!("d{}_d{}", c.output_name, p.name));
                taken.insert(h.clone());
                h
            })
            .collect();
        let mut fixed: Vec<Option<String>> = vec![None; a.len()];
        let mut forced = vec![false; a.len()];
        let mut adjoint_of = HashMap::new();
        // User-named gates first, so that a node shared by a named stage and an
        // anonymous gate takes the stage's name.
        let named = |g: crate::graph::GateId| c.stage_names.contains_key(&g) || g == c.output;
        for pass in [true, false] {
            for g in c.gates() {
                let id = d.forward[g.index()];
                if named(g) != pass || a.is_leaf(id) || fixed[id.index()].is_some() {
                    continue;
                }
                let label = c.label(g);
                let name = if pass { label } else { fresh(&taken, &label) };
                taken.insert(name.clone());
                fixed[id.index()] = Some(name);
                forced[id.index()] = pass;
            }
        }
        for g in c.gates().rev() {
            let Some(id) = d.adjoint[g.index()] else {
                continue;
            };
            if a.is_leaf(id) || fixed[id.index()].is_some() {
                continue;
            }
            let label = c.label(g);
            let name = fresh(&taken, &format!("d{label}"));
            taken.insert(name.clone());
            fixed[id.index()] = Some(name);
            forced[id.index()] = c.stage_names.contains_key(&g);
            adjoint_of.insert(id, label);
        }
        Names {
            fixed,
            forced,
            adjoint_of,
            taken,
            generic: 0,
            headers,
            grad: grad.map(str::to_string),
        }
    }

    /// The node's name, if it has one yet: a forward stage's, an adjoint's, or a
    /// generic one given by a [`layout`].
    pub fn get(&self, id: ExprId) -> Option<&str> {
        self.fixed.get(id.index()).and_then(|n| n.as_deref())
    }

    /// The node's name as LaTeX: `h_{1}`, or `\frac{\partial f}{\partial h_{1}}`
    /// for an adjoint (`f` is the output's name, already LaTeX).
    pub fn latex(&self, id: ExprId, f: &str) -> Option<String> {
        if let Some(label) = self.adjoint_label(id) {
            return Some(super::latex::partial(f, &super::latex::name(label)));
        }
        self.get(id).map(super::latex::name)
    }

    /// The gate label whose adjoint this node is, if it was named as one.
    pub fn adjoint_label(&self, id: ExprId) -> Option<&str> {
        self.adjoint_of.get(&id).map(String::as_str)
    }

    fn name(&mut self, id: ExprId) -> String {
        if let Some(n) = &self.fixed[id.index()] {
            return n.clone();
        }
        let n = loop {
            self.generic += 1;
            let n = format!("s{}", self.generic);
            if !self.taken.contains(&n) {
                break n;
            }
        };
        self.taken.insert(n.clone());
        self.fixed[id.index()] = Some(n.clone());
        n
    }
}

/// A derivative laid out as statements: the shared nodes, in topological order,
/// each with its name, then the root.
#[derive(Clone, Debug)]
pub struct Layout {
    /// `(node, name)` for each statement before the last.
    pub statements: Vec<(ExprId, String)>,
    /// The derivative itself.
    pub root: ExprId,
    /// The name each statement node prints as.
    pub names: HashMap<ExprId, String>,
}

/// Decides which nodes under `root` become statements: those used twice or more
/// (so nothing is written twice: the text is linear in the DAG), the user's
/// stages and their adjoints (so a student recognises them), and any node that
/// would nest too deep.
pub fn layout(d: &Derivatives, names: &mut Names, root: ExprId) -> Layout {
    let a = &d.arena;
    let reach = a.reachable(&[root]);
    let mut uses: HashMap<ExprId, u32> = HashMap::with_capacity(reach.len());
    for &id in &reach {
        for &arg in &a.node(id).args {
            *uses.entry(arg).or_default() += 1;
        }
    }
    let mut depth: HashMap<ExprId, u32> = HashMap::with_capacity(reach.len());
    let mut statements = Vec::new();
    let mut names_of = HashMap::new();
    for &id in &reach {
        if a.is_leaf(id) {
            continue;
        }
        let dep = 1 + a
            .node(id)
            .args
            .iter()
            .map(|x| depth.get(x).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        let shared = uses.get(&id).copied().unwrap_or(0) >= 2;
        if id != root && (shared || names.forced[id.index()] || dep > MAX_DEPTH) {
            let n = names.name(id);
            names_of.insert(id, n.clone());
            statements.push((id, n));
            depth.insert(id, 0);
        } else {
            depth.insert(id, dep);
        }
    }
    Layout {
        statements,
        root,
        names: names_of,
    }
}

/// The program text of a layout under the header `header(params)`.
pub fn print(d: &Derivatives, l: &Layout, header: &str, params: &[&str]) -> String {
    let a = &d.arena;
    let name = |id: ExprId| l.names.get(&id).cloned();
    let mut out = String::new();
    for (id, n) in &l.statements {
        out.push_str(n);
        out.push_str(" = ");
        out.push_str(&a.print(*id, name));
        out.push('\n');
    }
    out.push_str(&format!("{header}({}) = ", params.join(", ")));
    out.push_str(&a.print(l.root, name));
    out
}
