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
use super::nameset::{NameId, NameSet};
use crate::graph::{Circuit, GateId};
use std::cell::RefCell;

/// An expression nested deeper than this is split with a named statement, so
/// that every line stays readable (and shallow for any tool that reads it).
const MAX_DEPTH: u8 = 32;

/// No name made yet.
const NONE: NameId = NameId::MAX;

/// Who a node's name comes from, packed into 32 bits (the kind in the top two,
/// the gate below): one of these per node of a million-gate arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Claim(u32);

/// A [`Claim`], unpacked.
enum Claimed {
    /// Nobody: a generic name if it needs one.
    Free,
    /// A forward gate; `true` when the user named it (a stage or the output).
    Forward(GateId, bool),
    /// The adjoint of a gate.
    Adjoint(GateId),
}

impl Claim {
    const FREE: Claim = Claim(0);
    const GATE: u32 = (1 << 30) - 1;

    fn forward(g: GateId, user: bool) -> Claim {
        debug_assert!(g.index() < Self::GATE as usize);
        Claim((if user { 2 } else { 1 }) << 30 | g.index() as u32)
    }

    fn adjoint(g: GateId) -> Claim {
        debug_assert!(g.index() < Self::GATE as usize);
        Claim(3 << 30 | g.index() as u32)
    }

    fn get(self) -> Claimed {
        let g = GateId::new((self.0 & Self::GATE) as usize);
        match self.0 >> 30 {
            0 => Claimed::Free,
            1 => Claimed::Forward(g, false),
            2 => Claimed::Forward(g, true),
            _ => Claimed::Adjoint(g),
        }
    }
}

/// Names for the nodes of a [`Derivatives`] arena, shared by all parameters'
/// programs so that a subexpression has the same name in each. Who may name a
/// node is settled up front, in one pass over the gates; the names themselves
/// are made when a program first needs them, so a million-gate circuit does not
/// pay for a million strings, and are kept in one [`NameSet`].
#[derive(Clone, Debug)]
pub struct Names {
    /// By node index.
    claims: Vec<Claim>,
    /// By node index: the number of its name in `taken`, once made.
    made: Vec<NameId>,
    /// Every name a program may not take again: the user's and those made.
    taken: NameSet,
    /// The numbers in `taken` of the user's stage names (by entry of
    /// [`crate::graph::StageNames`]) and of the output's name: a user's gate
    /// takes its name without a search of the table, which on a million-stage
    /// program missed the cache (see [`UserNames`]).
    stage_ids: Vec<NameId>,
    output_id: NameId,
    generic: usize,
    /// Scratch space for [`layout`] and printing, by node index, reused from one
    /// parameter to the next: a layout costs what its derivative reaches, not the
    /// whole arena. Printing only reads names, hence the cell.
    scratch: RefCell<Scratch>,
    /// The header name of each parameter's program: `df_dx`.
    pub headers: Vec<String>,
    /// The upstream gradient's name, for a tensor output.
    pub grad: Option<String>,
}

/// Per-node counters that are valid where `seen` holds the current round.
#[derive(Clone, Debug, Default)]
struct Scratch {
    round: u16,
    seen: Vec<u16>,
    /// Uses, counted up to 2 (two is "shared"), in the low two bits; the
    /// depth of the unnamed expression the node heads (at most 33) above them.
    marks: Vec<u8>,
}

/// Counting uses and depths in one byte per node.
impl Scratch {
    fn uses(&self, k: usize) -> u8 {
        self.marks[k] & 3
    }
    fn set_uses(&mut self, k: usize, n: u8) {
        self.marks[k] = (self.marks[k] & !3) | n;
    }
    fn depth(&self, k: usize) -> u8 {
        self.marks[k] >> 2
    }
    fn set_depth(&mut self, k: usize, d: u8) {
        self.marks[k] = (self.marks[k] & 3) | (d << 2);
    }
}

impl Scratch {
    /// Starts a round: a number that no entry of `seen` holds yet.
    fn next_round(&mut self) -> u16 {
        if self.round == u16::MAX {
            // Rounds wrap: forget every old mark rather than mistake one for new.
            self.seen.fill(0);
            self.round = 0;
        }
        self.round += 1;
        self.round
    }
}

/// `name`, or `name_`, `name__`, … — the first that `taken` does not hold.
pub fn fresh(taken: &NameSet, name: &str) -> String {
    let mut n = name.to_string();
    while taken.contains(&n) {
        n.push('_');
    }
    n
}

/// Adds the first name from `n`, `n_`, `n__`, … that `taken` does not hold,
/// each tried by adding it: one search of the table, not two.
fn first_free(taken: &mut NameSet, mut n: String) -> NameId {
    loop {
        match taken.insert_new(&n) {
            Ok(id) => return id,
            Err(_) => n.push('_'),
        }
    }
}

/// Every name the user's program binds — parameters, stages and the output —
/// with the numbers the stages' and the output's names have in the set.
pub struct UserNames {
    /// The names.
    pub set: NameSet,
    /// The number of each stage name, by entry of [`crate::graph::StageNames`].
    stage_ids: Vec<NameId>,
    /// The number of the output's name.
    output_id: NameId,
}

/// Every name the user's program binds: parameters, stages and the output.
pub fn user_names(c: &Circuit) -> UserNames {
    // Room for the names a program makes too: about two for each of the user's.
    let users = c.params.len() + c.stage_names.values().count() + 1;
    let mut set = NameSet::with_capacity(3 * users);
    for p in &c.params {
        set.insert(&p.name);
    }
    let stage_ids = c.stage_names.values().map(|n| set.insert(n)).collect();
    let output_id = set.insert(&c.output_name);
    UserNames {
        set,
        stage_ids,
        output_id,
    }
}

impl Names {
    /// Settles who names each node of `d`: forward gates first (the user's
    /// stages before anonymous gates), then adjoints. `user` is
    /// [`user_names`] of `c`.
    pub fn new(c: &Circuit, d: &Derivatives, grad: Option<&str>, user: UserNames) -> Names {
        let a = &d.arena;
        let UserNames {
            set: mut taken,
            stage_ids,
            output_id,
        } = user;
        if let Some(g) = grad {
            taken.insert(g);
        }
        let headers: Vec<String> = c
            .params
            .iter()
            .map(|p| {
                let h = fresh(&taken, &format!("d{}_d{}", c.output_name, p.name));
                taken.insert(&h);
                h
            })
            .collect();
        let mut claims = vec![Claim::FREE; a.len()];
        let named = |g: GateId| c.stage_names.contains_key(&g) || g == c.output;
        for pass in [true, false] {
            for g in c.gates() {
                let id = d.forward[g.index()];
                if named(g) == pass && !a.is_leaf(id) && claims[id.index()] == Claim::FREE {
                    claims[id.index()] = Claim::forward(g, pass);
                }
            }
        }
        for g in c.gates().rev() {
            if let Some(id) = d.adjoint[g.index()]
                && !a.is_leaf(id)
                && claims[id.index()] == Claim::FREE
            {
                claims[id.index()] = Claim::adjoint(g);
            }
        }
        Names {
            claims,
            made: vec![NONE; a.len()],
            taken,
            stage_ids,
            output_id,
            generic: 0,
            scratch: RefCell::new(Scratch {
                round: 0,
                seen: vec![0; a.len()],
                marks: vec![0; a.len()],
            }),
            headers,
            grad: grad.map(str::to_string),
        }
    }

    /// True for the user's stages and their adjoints: always a statement.
    fn forced(&self, c: &Circuit, id: ExprId) -> bool {
        match self.claims[id.index()].get() {
            Claimed::Forward(_, user) => user,
            Claimed::Adjoint(g) => c.stage_names.contains_key(&g),
            Claimed::Free => false,
        }
    }

    /// The node's name, if one has been made: by a [`layout`] that needed it.
    pub fn get(&self, id: ExprId) -> Option<&str> {
        match self.made.get(id.index()) {
            Some(&n) if n != NONE => Some(self.taken.get(n)),
            _ => None,
        }
    }

    /// The gate whose adjoint this node is named after, if any.
    pub fn adjoint_gate(&self, id: ExprId) -> Option<GateId> {
        match self.claims.get(id.index()).map(|c| c.get()) {
            Some(Claimed::Adjoint(g)) => Some(g),
            _ => None,
        }
    }

    /// The forward gate this node is named after, if any.
    pub fn forward_gate(&self, id: ExprId) -> Option<GateId> {
        match self.claims.get(id.index()).map(|c| c.get()) {
            Some(Claimed::Forward(g, _)) => Some(g),
            _ => None,
        }
    }

    /// The node's name as LaTeX: a forward gate's label (`h_{1}`), an adjoint
    /// as `\frac{\partial f}{\partial h_{1}}` (`f` already LaTeX), or a
    /// generic name once made.
    pub fn latex(&self, c: &Circuit, id: ExprId, f: &str) -> Option<String> {
        match self.claims.get(id.index()).map(|c| c.get()) {
            Some(Claimed::Adjoint(g)) => {
                Some(super::latex::partial(f, &super::latex::name(&c.label(g))))
            }
            Some(Claimed::Forward(g, _)) => Some(super::latex::name(&c.label(g))),
            _ => self.get(id).map(super::latex::name),
        }
    }

    /// Makes the node's name, if it has none yet.
    fn name(&mut self, c: &Circuit, id: ExprId) {
        if self.made[id.index()] != NONE {
            return;
        }
        let taken = &mut self.taken;
        self.made[id.index()] = match self.claims[id.index()].get() {
            // The user's own name, the label's: it is theirs already.
            Claimed::Forward(g, true) if g == c.output => self.output_id,
            Claimed::Forward(g, true) => match c.stage_names.first_index(g) {
                Some(k) => self.stage_ids[k],
                None => taken.insert(&c.label(g)),
            },
            Claimed::Forward(g, false) => first_free(taken, c.label(g)),
            Claimed::Adjoint(g) => first_free(taken, format!("d{}", c.label(g))),
            Claimed::Free => loop {
                self.generic += 1;
                if let Ok(id) = self.taken.insert_new(&format!("s{}", self.generic)) {
                    break id;
                }
            },
        };
    }
}

/// A derivative laid out as statements: the shared nodes, in topological order
/// (their names are in [`Names`]), then the root.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The node of each statement before the last, in id order.
    pub statements: Vec<ExprId>,
    /// The derivative itself.
    pub root: ExprId,
}

impl Layout {
    /// True when `id` is one of the statements, so it prints as its name.
    pub fn is_statement(&self, id: ExprId) -> bool {
        self.statements.binary_search(&id).is_ok()
    }
}

/// Decides which nodes under `root` become statements: those used twice or more
/// (so nothing is written twice: the text is linear in the DAG), the user's
/// stages and their adjoints (so a student recognises them), and any node that
/// would nest too deep.
pub fn layout(c: &Circuit, d: &Derivatives, names: &mut Names, root: ExprId) -> Layout {
    let a = &d.arena;
    let mut sc = std::mem::take(names.scratch.get_mut());
    // The nodes the root reaches, each once, with how often they are used, in
    // id (topological) order. Depth-first while the derivative looks small; a
    // large one (an eighth of the ids below its root) is found instead by one
    // descending scan of the arena, which reads memory in order: on a
    // million-gate circuit the jumps of a depth-first walk miss the cache.
    let mut reach = Vec::new();
    let limit = root.index() / 8 + 64;
    let mut round = sc.next_round();
    let mut stack = vec![root];
    sc.seen[root.index()] = round;
    sc.set_uses(root.index(), 0);
    while let Some(id) = stack.pop() {
        reach.push(id);
        if reach.len() > limit {
            break;
        }
        for &arg in a.args(id) {
            let k = arg.index();
            if sc.seen[k] == round {
                sc.set_uses(k, 2);
            } else {
                sc.seen[k] = round;
                sc.set_uses(k, 1);
                stack.push(arg);
            }
        }
    }
    if reach.len() > limit {
        round = sc.next_round();
        reach.clear();
        sc.seen[root.index()] = round;
        sc.set_uses(root.index(), 0);
        for k in (0..=root.index()).rev() {
            if sc.seen[k] != round {
                continue;
            }
            let id = a.id_at(k);
            reach.push(id);
            for &arg in a.args(id) {
                let j = arg.index();
                if sc.seen[j] == round {
                    sc.set_uses(j, 2);
                } else {
                    sc.seen[j] = round;
                    sc.set_uses(j, 1);
                }
            }
        }
        reach.reverse();
    } else {
        // Sorting a small derivative's nodes costs less than scanning the arena.
        reach.sort_unstable();
    }
    let mut statements = Vec::new();
    for &id in &reach {
        sc.set_depth(id.index(), 0);
        if a.is_leaf(id) {
            continue;
        }
        let dep = 1 + a
            .args(id)
            .iter()
            .map(|x| sc.depth(x.index()))
            .max()
            .unwrap_or(0);
        let shared = sc.uses(id.index()) >= 2;
        if id != root && (shared || names.forced(c, id) || dep > MAX_DEPTH) {
            names.name(c, id);
            statements.push(id);
        } else {
            sc.set_depth(id.index(), dep);
        }
    }
    *names.scratch.get_mut() = sc;
    Layout { statements, root }
}

/// The program text of a layout under the header `header(params)`.
pub fn print(d: &Derivatives, names: &Names, l: &Layout, header: &str, params: &[&str]) -> String {
    let mut out = String::new();
    // Writing to a string cannot fail.
    let _ = write(&mut out, d, names, l, header, params);
    out
}

/// Writes the program text of a layout, a statement at a time: the report
/// streams a million-line derivative without ever holding it whole.
pub fn write(
    out: &mut dyn std::fmt::Write,
    d: &Derivatives,
    names: &Names,
    l: &Layout,
    header: &str,
    params: &[&str],
) -> std::fmt::Result {
    let a = &d.arena;
    let mut sc = names.scratch.borrow_mut();
    // Mark this layout's statements: they print as their names.
    let round = sc.next_round();
    for id in &l.statements {
        sc.seen[id.index()] = round;
    }
    let sc = &*sc;
    let name = |id: ExprId| {
        (sc.seen[id.index()] == round)
            .then(|| names.get(id))
            .flatten()
    };
    for &id in &l.statements {
        out.write_str(names.get(id).unwrap_or_default())?;
        out.write_str(" = ")?;
        out.write_str(&a.print_named(id, name))?;
        out.write_char('\n')?;
    }
    write!(out, "{header}({}) = ", params.join(", "))?;
    out.write_str(&a.print_named(l.root, name))
}
