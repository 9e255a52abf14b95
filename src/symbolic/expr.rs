//! The expression arena: a hash-consed DAG of operations over named variables
//! and numbers, with typed ids. Building an expression that already exists
//! returns the existing id, so a subexpression that occurs twice is stored once —
//! the property that keeps derivatives small. Every node is simplified as it is
//! built (see the `simplify` module), and every node knows its shape.
//!
//! Nodes are added after their arguments, so id order is a topological order and
//! every walk over the arena is a loop, never a recursion.

use crate::gate::{Builder, Op};
use crate::value::{Shape, Value};
use hashbrown::HashTable;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::hash::{BuildHasher, Hasher};

/// Hash maps and sets keyed by nodes: a fast hash, since a million-gate circuit
/// hashes millions of nodes.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// See [`FastMap`].
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// A node's handle in an [`Arena`]; ids grow in topological order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(std::num::NonZeroU32);

impl ExprId {
    /// The node's position in the arena.
    pub fn index(self) -> usize {
        self.0.get() as usize - 1
    }

    /// The id of the node at position `k`. Stored as `k + 1`, so that an
    /// `Option<ExprId>` (one per gate, for the adjoints) takes 4 bytes, not 8.
    fn at(k: usize) -> ExprId {
        ExprId(std::num::NonZeroU32::new(k as u32 + 1).expect("fewer than 2³² nodes"))
    }
}

/// Arguments of a node, in operand order.
pub type Args = SmallVec<[ExprId; 3]>;

/// One node, as the arena lends it: an operation applied to earlier nodes.
/// Variables are [`Op::Input`] (with the variable's number) and numbers are
/// [`Op::Const`], both without arguments — the same vocabulary as the gate DAG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node<'a> {
    /// The operation.
    pub op: Op,
    /// Its arguments.
    pub args: &'a [ExprId],
}

/// A hash-consed, simplifying expression DAG.
///
/// Stored flat, for million-gate circuits: each node's operation, its
/// arguments in one shared list (compressed sparse rows), its shape as a
/// small table index, and a hash table of node ids whose keys are read back
/// from those arrays — about 30 bytes a node, where a map from owned nodes to
/// ids took twice that.
#[derive(Clone, Debug, Default)]
pub struct Arena {
    /// Each node's operation, as a position in `op_table`: the distinct
    /// operations (constants and variables included) are few next to the nodes,
    /// and 4 bytes per node beat an `Op`'s 16.
    ops: Vec<u32>,
    op_table: Vec<Op>,
    op_ids: FastMap<Op, u32>,
    /// Node `k`'s arguments are `arg_list[arg_start[k]..arg_start[k + 1]]`.
    arg_start: Vec<u32>,
    arg_list: Vec<ExprId>,
    /// The nodes whose every argument is shared (see [`Arena::intern`]), by
    /// the hash of (operation, arguments). Dropped by [`Arena::freeze`] once
    /// the arena is complete, and rebuilt if a node is added after all.
    memo: HashTable<ExprId>,
    /// Set by [`Arena::freeze`]: `memo` is to be rebuilt before the next node.
    frozen: bool,
    /// Each node's shape, as a position in `shape_table`: a program has few
    /// distinct shapes, and 4 bytes per node beat 24. Empty while every node is
    /// a scalar (most circuits), and filled in at the first that is not.
    shapes: Vec<u32>,
    /// One bit per node: does a node use it as an argument?
    used: Vec<u64>,
    /// One bit per node: is it an argument twice or more (counting each place)?
    shared: Vec<u64>,
    /// The node that first used each node as an argument; while the node is
    /// not shared, the only one.
    first_use: Vec<u32>,
    shape_table: Vec<Shape>,
    shape_ids: FastMap<Shape, u32>,
    vars: Vec<(String, Shape)>,
    /// Turns simplification off: for tests that compare simplified and raw forms.
    raw: bool,
}

/// Bit `id` of a bit set.
fn bit(set: &[u64], id: ExprId) -> bool {
    set.get(id.index() / 64)
        .is_some_and(|w| w >> (id.index() % 64) & 1 == 1)
}

fn set_bit(set: &mut Vec<u64>, id: ExprId) {
    let (w, b) = (id.index() / 64, id.index() % 64);
    if set.len() <= w {
        set.resize(w + 1, 0);
    }
    set[w] |= 1 << b;
}

fn node_hash(op: u32, args: &[ExprId]) -> u64 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write_u32(op);
    for a in args {
        h.write_u32(a.0.get());
    }
    h.finish()
}

impl Arena {
    /// An empty arena that simplifies as it builds.
    pub fn new() -> Arena {
        Arena::default()
    }

    /// An empty arena with room for about `n` nodes: sized up front, the table
    /// that finds equal nodes is never rehashed as it grows.
    pub fn with_capacity(n: usize) -> Arena {
        Arena {
            ops: Vec::with_capacity(n),
            arg_start: Vec::with_capacity(n),
            arg_list: Vec::with_capacity(2 * n),
            first_use: Vec::with_capacity(n),
            // About half the nodes of a derivative end up shared (measured on
            // the forked chain and the hinge sum): sized for them, the table
            // is not rehashed as it grows (that was 4-5% of the full report).
            memo: HashTable::with_capacity(n / 2),
            ..Arena::default()
        }
    }

    /// An empty arena that builds exactly what it is asked to (still hash-consed).
    pub fn unsimplified() -> Arena {
        Arena {
            raw: true,
            ..Arena::default()
        }
    }

    /// A new variable named `name` with the given shape.
    pub fn var(&mut self, name: &str, shape: Shape) -> ExprId {
        let k = self.vars.len() as u32;
        self.vars.push((name.to_string(), shape));
        self.intern(Op::Input(k), &[], shape)
    }

    /// The name of variable `k`.
    pub fn var_name(&self, k: u32) -> &str {
        &self.vars[k as usize].0
    }

    /// The number of variables.
    pub fn var_count(&self) -> usize {
        self.vars.len()
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when the arena holds no node.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Empties the arena, keeping its allocations for the next use.
    pub fn clear(&mut self) {
        self.ops.clear();
        self.op_table.clear();
        self.op_ids.clear();
        self.arg_start.clear();
        self.arg_list.clear();
        self.memo.clear();
        self.frozen = false;
        self.shapes.clear();
        self.used.clear();
        self.shared.clear();
        self.first_use.clear();
        self.vars.clear();
    }

    /// The node.
    pub fn node(&self, id: ExprId) -> Node<'_> {
        Node {
            op: self.op(id),
            args: self.args(id),
        }
    }

    /// The id of the node at position `k` (`k < len()`).
    pub fn id_at(&self, k: usize) -> ExprId {
        debug_assert!(k < self.len());
        ExprId::at(k)
    }

    /// The node's operation.
    pub fn op(&self, id: ExprId) -> Op {
        self.op_table[self.ops[id.index()] as usize]
    }

    /// Drops the table that finds equal nodes and the record of who uses whom,
    /// once the arena is built: a complete arena is only read, and they are a
    /// fifth of its memory. A node added later rebuilds them first, so sharing
    /// is never lost.
    pub fn freeze(&mut self) {
        self.memo = HashTable::new();
        self.used = Vec::new();
        self.shared = Vec::new();
        self.first_use = Vec::new();
        self.frozen = true;
    }

    /// The node's arguments.
    pub fn args(&self, id: ExprId) -> &[ExprId] {
        let k = id.index();
        let start = self.arg_start[k] as usize;
        let end = self
            .arg_start
            .get(k + 1)
            .map_or(self.arg_list.len(), |&e| e as usize);
        &self.arg_list[start..end]
    }

    /// The node's shape.
    pub fn shape(&self, id: ExprId) -> Shape {
        match self.shapes.get(id.index()) {
            Some(&k) => self.shape_table[k as usize],
            None => Shape::Scalar,
        }
    }

    /// The number, if the node is one.
    pub fn as_num(&self, id: ExprId) -> Option<f64> {
        match self.op(id) {
            Op::Const(c) => Some(c),
            _ => None,
        }
    }

    /// True for variables and numbers.
    pub fn is_leaf(&self, id: ExprId) -> bool {
        self.args(id).is_empty()
    }

    /// Stores a node as it is, or finds the equal node already stored.
    ///
    /// An equal node uses every one of `args`. If one of them is used in only
    /// one place so far, the node there is the only candidate, and it is
    /// compared directly; only nodes whose every argument is shared are kept in
    /// the hash table. Most nodes of a derivative are not, and a table of every
    /// node missed the cache on each insertion: at a million stages, a tenth of
    /// the full report's time.
    pub(crate) fn intern(&mut self, op: Op, args: &[ExprId], shape: Shape) -> ExprId {
        debug_assert!(
            args.iter().all(|a| a.index() < self.ops.len()),
            "arguments come before the node: topological order"
        );
        if self.frozen {
            self.rebuild_memo();
        }
        let table = &mut self.op_table;
        let op_id = *self.op_ids.entry(op).or_insert_with(|| {
            table.push(op);
            (table.len() - 1) as u32
        });
        if let Some(id) = self.find(op_id, args) {
            return id;
        }
        let id = ExprId::at(self.ops.len());
        self.ops.push(op_id);
        self.arg_start.push(self.arg_list.len() as u32);
        self.arg_list.extend_from_slice(args);
        self.first_use.push(u32::MAX);
        for &a in args {
            if !bit(&self.used, a) {
                set_bit(&mut self.used, a);
                self.first_use[a.index()] = id.index() as u32;
            } else if !bit(&self.shared, a) {
                set_bit(&mut self.shared, a);
                // The first user may now have every argument shared.
                let first = ExprId::at(self.first_use[a.index()] as usize);
                if first != id {
                    self.remember_if_shared(first);
                }
            }
        }
        self.remember_if_shared(id);
        if !shape.is_scalar() || !self.shapes.is_empty() {
            let scalar = self.shape_id(Shape::Scalar);
            let k = self.shape_id(shape);
            let before = id.index();
            self.shapes.resize(before, scalar);
            self.shapes.push(k);
        }
        id
    }

    /// The stored node `op_id(args)`, if there is one (see [`Arena::intern`]).
    fn find(&self, op_id: u32, args: &[ExprId]) -> Option<ExprId> {
        if !args.iter().all(|&a| bit(&self.used, a)) {
            return None;
        }
        let same = |id: ExprId| self.ops[id.index()] == op_id && self.args(id) == args;
        match args.iter().find(|&&a| !bit(&self.shared, a)) {
            Some(a) => Some(ExprId::at(self.first_use[a.index()] as usize)).filter(|&c| same(c)),
            None => self
                .memo
                .find(node_hash(op_id, args), |&id| same(id))
                .copied(),
        }
    }

    /// Puts `id` in the hash table when all its arguments are shared. Each
    /// node gets there once: when its last argument becomes shared.
    fn remember_if_shared(&mut self, id: ExprId) {
        if !self.args(id).iter().all(|&a| bit(&self.shared, a)) {
            return;
        }
        let (ops, starts, list) = (&self.ops, &self.arg_start, &self.arg_list);
        let args_of = |id: ExprId| {
            let k = id.index();
            let end = starts.get(k + 1).map_or(list.len(), |&e| e as usize);
            &list[starts[k] as usize..end]
        };
        let hash = node_hash(ops[id.index()], args_of(id));
        self.memo
            .insert_unique(hash, id, |&id| node_hash(ops[id.index()], args_of(id)));
    }

    fn shape_id(&mut self, shape: Shape) -> u32 {
        let table = &mut self.shape_table;
        *self.shape_ids.entry(shape).or_insert_with(|| {
            table.push(shape);
            (table.len() - 1) as u32
        })
    }

    /// Rebuilds what [`Arena::freeze`] dropped: who uses whom, and the table.
    fn rebuild_memo(&mut self) {
        self.frozen = false;
        self.first_use = vec![u32::MAX; self.ops.len()];
        for k in 0..self.ops.len() {
            let start = self.arg_start[k] as usize;
            let end = self
                .arg_start
                .get(k + 1)
                .map_or(self.arg_list.len(), |&e| e as usize);
            for i in start..end {
                let a = self.arg_list[i];
                if !bit(&self.used, a) {
                    set_bit(&mut self.used, a);
                    self.first_use[a.index()] = k as u32;
                } else {
                    set_bit(&mut self.shared, a);
                }
            }
        }
        for k in 0..self.ops.len() {
            self.remember_if_shared(ExprId::at(k));
        }
    }

    /// The shape of `op` applied to `args`, or `None` when the shapes do not fit.
    pub(crate) fn shape_of(&self, op: Op, args: &[ExprId]) -> Option<Shape> {
        // On the stack, without a SmallVec: this runs for every node built.
        let mut buf = [Shape::Scalar; 4];
        if args.len() > buf.len() {
            let ins: Vec<Shape> = args.iter().map(|&a| self.shape(a)).collect();
            return op.out_shape(&ins).ok();
        }
        if !self.shapes.is_empty() {
            for (k, &a) in args.iter().enumerate() {
                buf[k] = self.shape(a);
            }
        }
        op.out_shape(&buf[..args.len()]).ok()
    }

    /// Builds `op(args)`, simplified.
    pub fn build(&mut self, op: Op, args: &[ExprId]) -> ExprId {
        let shape = self.shape_of(op, args).unwrap_or(Shape::Scalar);
        if !self.raw
            && let Some(id) = super::simplify::simplify(self, op, args, shape)
        {
            return id;
        }
        self.intern(op, args, shape)
    }

    /// A number (`-0` is stored as `0`, so that the two are one node).
    pub fn number(&mut self, x: f64) -> ExprId {
        let x = if x == 0.0 { 0.0 } else { x };
        self.intern(Op::Const(x), &[], Shape::Scalar)
    }

    /// Prints `root` in the tool's language; `name` gives the nodes that are
    /// printed as a name instead of being spelled out (never `root` itself).
    pub fn print(&self, root: ExprId, name: impl Fn(ExprId) -> Option<String>) -> String {
        self.print_with(root, |id| name(id).map(Cow::Owned))
    }

    /// [`Arena::print`] with names that are borrowed, not made for each use.
    pub fn print_named<'n>(
        &'n self,
        root: ExprId,
        name: impl Fn(ExprId) -> Option<&'n str>,
    ) -> String {
        self.print_with(root, |id| name(id).map(Cow::Borrowed))
    }

    fn print_with<'n>(
        &'n self,
        root: ExprId,
        name: impl Fn(ExprId) -> Option<Cow<'n, str>>,
    ) -> String {
        use crate::print::{Brackets, Node as P, print};
        print(
            root,
            |id: ExprId| {
                if id != root
                    && let Some(n) = name(id)
                {
                    return P::Leaf(n);
                }
                self.print_node(id)
            },
            Brackets::Needed,
        )
    }

    fn print_node(&self, id: ExprId) -> crate::print::Node<'_, ExprId> {
        use crate::print::Node as P;
        let node = self.node(id);
        match node.op {
            Op::Input(k) => P::Leaf(self.var_name(k).into()),
            Op::Const(c) => P::Leaf(crate::print::number(c).into()),
            op => P::Apply(op, node.args.iter().copied().collect()),
        }
    }

    /// Evaluates `root` with the variables' values, visiting only the nodes it
    /// reaches, in id order. An index must be a whole number in range.
    pub fn eval(&self, root: ExprId, vars: &[Value]) -> Result<Value, String> {
        let reach = self.reachable(&[root]);
        let mut values: FastMap<ExprId, Value> = FastMap::default();
        for id in reach {
            let node = self.node(id);
            let v = match node.op {
                Op::Input(k) => vars
                    .get(k as usize)
                    .cloned()
                    .ok_or_else(|| format!("no value for `{}`", self.var_name(k)))?,
                op => {
                    let ins: SmallVec<[&Value; 3]> = node.args.iter().map(|a| &values[a]).collect();
                    if let Some(first) = op.first_index() {
                        check_index(ins[0], &ins[first..])?;
                    }
                    op.forward(&ins).map_err(|e| e.0)?
                }
            };
            values.insert(id, v);
        }
        Ok(values.remove(&root).unwrap_or(Value::Scalar(0.0)))
    }

    /// The nodes that `roots` reach, in id (topological) order.
    pub fn reachable(&self, roots: &[ExprId]) -> Vec<ExprId> {
        let mut seen = FastSet::default();
        let mut stack: Vec<ExprId> = roots.to_vec();
        let mut out = Vec::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            out.push(id);
            stack.extend(self.args(id).iter().copied());
        }
        out.sort_unstable();
        out
    }
}

fn check_index(base: &Value, index: &[&Value]) -> Result<(), String> {
    let dims: Vec<usize> = match base.shape() {
        Shape::Vector(n) => vec![n],
        Shape::Matrix(r, c) => vec![r, c],
        Shape::Scalar => vec![],
    };
    for (k, v) in index.iter().enumerate() {
        let x = v.as_scalar().unwrap_or(f64::NAN);
        let n = dims.get(k).copied().unwrap_or(0);
        if !(x.is_finite() && x.fract() == 0.0 && x >= 0.0 && x < n as f64) {
            return Err(format!("index {x} is not valid for a dimension of {n}"));
        }
    }
    Ok(())
}

impl Builder for Arena {
    type Id = ExprId;

    fn num(&mut self, x: f64) -> ExprId {
        self.number(x)
    }

    fn apply(&mut self, op: Op, args: &[ExprId]) -> ExprId {
        self.build(op, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_expressions_are_one_node() {
        let mut a = Arena::unsimplified();
        let x = a.var("x", Shape::Scalar);
        let y = a.var("y", Shape::Scalar);
        let p = a.build(Op::Mul, &[x, y]);
        let q = a.build(Op::Mul, &[x, y]);
        assert_eq!(p, q);
        assert_eq!(a.len(), 3);
        assert_eq!(a.print(p, |_| None), "x * y");
    }

    /// Every way an equal node is found: by its only user, in the table once
    /// every argument is shared (also for a node that became so later), with
    /// a repeated argument, and after [`Arena::freeze`].
    #[test]
    fn equal_nodes_are_found_before_and_after_freezing() {
        for freeze in [false, true] {
            let mut a = Arena::unsimplified();
            let x = a.var("x", Shape::Scalar);
            let y = a.var("y", Shape::Scalar);
            let e = a.build(Op::Exp, &[x]); // x used once: by e
            let p = a.build(Op::Mul, &[e, y]); // e, y used once: by p
            let s = a.build(Op::Mul, &[x, x]); // x now shared
            let t = a.build(Op::Add, &[e, e]); // e now shared; y is not
            let u = a.build(Op::Add, &[y, p]); // y now shared, p used once
            let n = a.len();
            if freeze {
                a.freeze();
            }
            // x shared: e is in the table. e, y shared: p is too.
            assert_eq!(a.build(Op::Exp, &[x]), e);
            assert_eq!(a.build(Op::Mul, &[e, y]), p);
            assert_eq!(a.build(Op::Mul, &[x, x]), s);
            assert_eq!(a.build(Op::Add, &[e, e]), t);
            // p is used once: u is found through it.
            assert_eq!(a.build(Op::Add, &[y, p]), u);
            assert_eq!(a.len(), n, "nothing new (frozen: {freeze})");
            // A new node is new, and found again.
            let v = a.build(Op::Add, &[p, y]);
            assert_eq!(a.len(), n + 1);
            assert_eq!(a.build(Op::Add, &[p, y]), v);
            assert_eq!(a.build(Op::Add, &[y, p]), u);
        }
    }

    #[test]
    fn evaluates_only_what_it_needs() {
        let mut a = Arena::new();
        let x = a.var("x", Shape::Scalar);
        let l = a.build(Op::Log, &[x]);
        let two = a.number(2.0);
        let p = a.build(Op::Mul, &[two, x]);
        // log(-1) is never evaluated: p does not reach it.
        let _ = l;
        assert_eq!(a.eval(p, &[Value::Scalar(-1.0)]), Ok(Value::Scalar(-2.0)));
        assert!(a.eval(l, &[Value::Scalar(-1.0)]).is_err());
    }
}
