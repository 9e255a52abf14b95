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
use super::expr::{ExprId, FastMap};
use crate::graph::{Circuit, GateId};
use std::collections::HashSet;

/// An expression nested deeper than this is split with a named statement, so
/// that every line stays readable (and shallow for any tool that reads it).
const MAX_DEPTH: u32 = 32;

/// Who a node's name comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Claim {
    /// Nobody: a generic name if it needs one.
    Free,
    /// A forward gate; `true` when the user named it (a stage or the output).
    Forward(GateId, bool),
    /// The adjoint of a gate.
    Adjoint(GateId),
}

/// Names for the nodes of a [`Derivatives`] arena, shared by all parameters'
/// programs so that a subexpression has the same name in each. Who may name a
/// node is settled up front, in one pass over the gates; the names themselves
/// are made when a program first needs them, so a million-gate circuit does not
/// pay for a million strings.
#[derive(Clone, Debug)]
pub struct Names {
    /// By node index.
    claims: Vec<Claim>,
    /// The names made so far.
    made: FastMap<ExprId, String>,
    taken: HashSet<String>,
    generic: usize,
    /// Scratch space for [`layout`], by node index, reused from one parameter to
    /// the next: a layout costs what its derivative reaches, not the whole arena.
    scratch: Scratch,
    /// The header name of each parameter's program: `df_dx`.
    pub headers: Vec<String>,
    /// The upstream gradient's name, for a tensor output.
    pub grad: Option<String>,
}

/// Per-node counters that are valid where `seen` holds the current round.
#[derive(Clone, Debug, Default)]
struct Scratch {
    round: u32,
    seen: Vec<u32>,
    uses: Vec<u32>,
    depth: Vec<u32>,
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
    taken.extend(c.stage_names.values().map(str::to_string));
    taken.insert(c.output_name.clone());
    taken
}

impl Names {
    /// Settles who names each node of `d`: forward gates first (the user's
    /// stages before anonymous gates), then adjoints.
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
        let mut claims = vec![Claim::Free; a.len()];
        let named = |g: GateId| c.stage_names.contains_key(&g) || g == c.output;
        for pass in [true, false] {
            for g in c.gates() {
                let id = d.forward[g.index()];
                if named(g) == pass && !a.is_leaf(id) && claims[id.index()] == Claim::Free {
                    claims[id.index()] = Claim::Forward(g, pass);
                }
            }
        }
        for g in c.gates().rev() {
            if let Some(id) = d.adjoint[g.index()]
                && !a.is_leaf(id)
                && claims[id.index()] == Claim::Free
            {
                claims[id.index()] = Claim::Adjoint(g);
            }
        }
        Names {
            claims,
            made: FastMap::default(),
            taken,
            generic: 0,
            scratch: Scratch {
                round: 0,
                seen: vec![0; a.len()],
                uses: vec![0; a.len()],
                depth: vec![0; a.len()],
            },
            headers,
            grad: grad.map(str::to_string),
        }
    }

    /// True for the user's stages and their adjoints: always a statement.
    fn forced(&self, c: &Circuit, id: ExprId) -> bool {
        match self.claims[id.index()] {
            Claim::Forward(_, user) => user,
            Claim::Adjoint(g) => c.stage_names.contains_key(&g),
            Claim::Free => false,
        }
    }

    /// The node's name, if one has been made: by a [`layout`] that needed it.
    pub fn get(&self, id: ExprId) -> Option<&str> {
        self.made.get(&id).map(String::as_str)
    }

    /// The gate whose adjoint this node is named after, if any.
    pub fn adjoint_gate(&self, id: ExprId) -> Option<GateId> {
        match self.claims.get(id.index()) {
            Some(Claim::Adjoint(g)) => Some(*g),
            _ => None,
        }
    }

    /// The forward gate this node is named after, if any.
    pub fn forward_gate(&self, id: ExprId) -> Option<GateId> {
        match self.claims.get(id.index()) {
            Some(Claim::Forward(g, _)) => Some(*g),
            _ => None,
        }
    }

    /// The node's name as LaTeX: a forward gate's label (`h_{1}`), an adjoint
    /// as `\frac{\partial f}{\partial h_{1}}` (`f` already LaTeX), or a
    /// generic name once made.
    pub fn latex(&self, c: &Circuit, id: ExprId, f: &str) -> Option<String> {
        match self.claims.get(id.index()) {
            Some(Claim::Adjoint(g)) => {
                Some(super::latex::partial(f, &super::latex::name(&c.label(*g))))
            }
            Some(Claim::Forward(g, _)) => Some(super::latex::name(&c.label(*g))),
            _ => self.get(id).map(super::latex::name),
        }
    }

    /// The node's name, made now if it has none yet.
    fn name(&mut self, c: &Circuit, id: ExprId) -> String {
        if let Some(n) = self.made.get(&id) {
            return n.clone();
        }
        let n = match self.claims[id.index()] {
            // The user's own name: it is theirs already.
            Claim::Forward(g, true) => c.label(g),
            Claim::Forward(g, false) => fresh(&self.taken, &c.label(g)),
            Claim::Adjoint(g) => fresh(&self.taken, &format!("d{}", c.label(g))),
            Claim::Free => loop {
                self.generic += 1;
                let n = format!("s{}", self.generic);
                if !self.taken.contains(&n) {
                    break n;
                }
            },
        };
        self.taken.insert(n.clone());
        self.made.insert(id, n.clone());
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
    pub names: FastMap<ExprId, String>,
}

/// Decides which nodes under `root` become statements: those used twice or more
/// (so nothing is written twice: the text is linear in the DAG), the user's
/// stages and their adjoints (so a student recognises them), and any node that
/// would nest too deep.
pub fn layout(c: &Circuit, d: &Derivatives, names: &mut Names, root: ExprId) -> Layout {
    let a = &d.arena;
    let mut sc = std::mem::take(&mut names.scratch);
    sc.round += 1;
    let round = sc.round;
    // The nodes the root reaches, each once, with how often they are used.
    let mut reach = Vec::new();
    let mut stack = vec![root];
    sc.seen[root.index()] = round;
    sc.uses[root.index()] = 0;
    while let Some(id) = stack.pop() {
        reach.push(id);
        for &arg in &a.node(id).args {
            let k = arg.index();
            if sc.seen[k] == round {
                sc.uses[k] += 1;
            } else {
                sc.seen[k] = round;
                sc.uses[k] = 1;
                stack.push(arg);
            }
        }
    }
    reach.sort_unstable();
    let mut statements = Vec::new();
    let mut names_of = FastMap::default();
    for &id in &reach {
        sc.depth[id.index()] = 0;
        if a.is_leaf(id) {
            continue;
        }
        let dep = 1 + a
            .node(id)
            .args
            .iter()
            .map(|x| sc.depth[x.index()])
            .max()
            .unwrap_or(0);
        let shared = sc.uses[id.index()] >= 2;
        if id != root && (shared || names.forced(c, id) || dep > MAX_DEPTH) {
            let n = names.name(c, id);
            names_of.insert(id, n.clone());
            statements.push((id, n));
        } else {
            sc.depth[id.index()] = dep;
        }
    }
    names.scratch = sc;
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
