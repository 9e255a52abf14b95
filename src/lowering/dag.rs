//! The gates of a circuit as lowering builds them, hash-consed: a gate equal to
//! one already built (same operation, same inputs) is that gate.

use crate::error::Span;
use crate::gate::Op;
use crate::graph::{Gate, GateId, Gates};
use hashbrown::HashTable;
use petgraph::graph::NodeIndex;
use std::hash::{BuildHasher, Hash, Hasher};

/// The hasher of the hash-consing table: FxHash, since the keys are a few
/// small integers and a million of them are hashed (SipHash spent a tenth of
/// the whole run here).
type Fx = rustc_hash::FxBuildHasher;

/// The gates built so far with their inputs, as [`crate::Circuit`] keeps them,
/// with what finds an equal gate.
pub(super) struct Dag {
    gates: Gates,
    /// The hash-consing table: gates by (operation, inputs), which the table
    /// reads from the gates rather than storing a second copy of each key. It
    /// holds the gates without inputs and those whose every input has more
    /// than [`SCAN_FANOUT`] consumers (see [`Dag::add`]).
    memo: HashTable<GateId>,
    /// How many consumers each gate has so far, counted up to one past
    /// [`SCAN_FANOUT`], the only count that matters: a byte a gate.
    fanout: Vec<u8>,
    /// Each gate's first [`SCAN_FANOUT`] consumers, one per use: all of them
    /// while there are no more, which is when they are scanned. 8 bytes a
    /// gate, kept while lowering only, where a list of every consumer cost 4
    /// a gate and 8 an edge and stayed with the circuit.
    users: Vec<[GateId; SCAN_FANOUT as usize]>,
}

fn key_hash(op: Op, inputs: &[GateId]) -> u64 {
    let mut h = Fx::default().build_hasher();
    op.hash(&mut h);
    for i in inputs {
        h.write_u32(i.0.index() as u32);
    }
    h.finish()
}

/// Up to this many consumers, an input's consumers are scanned for an equal
/// gate rather than looked up in the hash table. Two covers a generated
/// program's stages (each is used by the next, and a fork once more) and the
/// terms of a long sum; what combines only widely used values is rare.
const SCAN_FANOUT: u8 = 2;

impl Dag {
    /// `n`: about how many gates to expect.
    pub(super) fn new(n: usize) -> Dag {
        Dag {
            gates: Gates::with_capacity(n, n * 2),
            memo: HashTable::new(),
            fanout: Vec::with_capacity(n),
            users: Vec::with_capacity(n),
        }
    }

    /// The gates and their inputs, for [`crate::Circuit`].
    pub(super) fn into_parts(self) -> Gates {
        self.gates
    }

    fn inputs(&self, g: GateId) -> &[GateId] {
        self.gates.inputs(g.index())
    }

    fn op(&self, g: GateId) -> Op {
        self.gates.op(g.index())
    }

    /// The gate `op(inputs)`: the existing one if there is one, else a new one.
    ///
    /// An equal gate consumes every one of `inputs`, so it is found among the
    /// consumers of whichever input has the fewest. When that input has at most
    /// [`SCAN_FANOUT`] consumers they are simply compared; only gates all of whose
    /// inputs have more are kept in the hash table. On a large generated circuit
    /// that is almost none: a table of every gate missed the cache on each
    /// insertion and was a seventh of the whole `--summary` run.
    pub(super) fn add(&mut self, op: Op, inputs: &[GateId], span: Span) -> GateId {
        if let Some(g) = self.find(op, inputs) {
            return g;
        }
        let id = GateId(NodeIndex::new(self.gates.len()));
        self.gates.push(Gate { op, span }, inputs);
        self.fanout.push(0);
        // Places not filled yet are never read: `fanout` says how many are.
        self.users.push([id; SCAN_FANOUT as usize]);
        if inputs.is_empty() {
            self.remember(id);
            return id;
        }
        for &input in inputs {
            let f = &mut self.fanout[input.index()];
            if *f > SCAN_FANOUT {
                continue;
            }
            if *f < SCAN_FANOUT {
                self.users[input.index()][*f as usize] = id;
            }
            *f += 1;
            if *f == SCAN_FANOUT + 1 {
                // The input's consumers can no longer be found by scanning it:
                // those whose every input is now past the limit go in the table.
                // Each once (a gate that uses the input twice is listed twice),
                // and the new gate last, below: a gate goes in when its last
                // input passes the limit, which happens once.
                let mut consumers = self.users[input.index()];
                consumers.sort_unstable();
                for (k, &c) in consumers.iter().enumerate() {
                    if c != id && (k == 0 || consumers[k - 1] != c) {
                        self.remember_if_wide(c);
                    }
                }
            }
        }
        // `remember_if_wide(id)`, on the inputs at hand rather than read
        // back from the gate just pushed.
        if inputs.iter().all(|i| self.fanout[i.index()] > SCAN_FANOUT) {
            self.remember(id);
        }
        id
    }

    /// An existing gate equal to `op(inputs)`.
    fn find(&self, op: Op, inputs: &[GateId]) -> Option<GateId> {
        let same = |g: GateId| self.op(g) == op && self.inputs(g) == inputs;
        let narrowest = inputs.iter().min_by_key(|i| self.fanout[i.index()]);
        match narrowest {
            Some(&i) if self.fanout[i.index()] <= SCAN_FANOUT => {
                let seen = self.fanout[i.index()] as usize;
                self.users[i.index()][..seen]
                    .iter()
                    .copied()
                    .find(|&g| same(g))
            }
            _ => self.memo.find(key_hash(op, inputs), |&g| same(g)).copied(),
        }
    }

    /// Puts `g` in the hash table if all its inputs are past [`SCAN_FANOUT`].
    fn remember_if_wide(&mut self, g: GateId) {
        let wide = self
            .inputs(g)
            .iter()
            .all(|i| self.fanout[i.index()] > SCAN_FANOUT);
        if wide {
            self.remember(g);
        }
    }

    fn remember(&mut self, g: GateId) {
        let gates = &self.gates;
        let key = |g: GateId| key_hash(gates.op(g.index()), gates.inputs(g.index()));
        let hash = key(g);
        debug_assert!(
            self.memo.find(hash, |&x| x == g).is_none(),
            "a gate goes in the table once"
        );
        self.memo.insert_unique(hash, g, |&g| key(g));
    }
}

#[cfg(test)]
mod tests {
    use crate::lowering::{lower, parse_and_lower};
    use crate::syntax::parse;

    /// Gates after lowering `src` both ways, which must agree.
    fn gates(src: &str) -> usize {
        let whole = lower(&parse(src).unwrap()).unwrap();
        let (_, streamed) = parse_and_lower(src).unwrap();
        assert_eq!(whole.len(), streamed.len());
        whole.len()
    }

    /// Repeated gates are found whether their inputs have few consumers (by
    /// scanning) or many (in the table), and across the moment an input passes
    /// the limit.
    #[test]
    fn equal_gates_are_one_at_every_fan_out() {
        for uses in [1, 2, 3, 4, 7, 8, 9, 30] {
            // `x * y` once per stage, plus a stage-private constant: x and y
            // gain two consumers per stage (the product is shared).
            let mut src = String::new();
            for k in 0..uses {
                src.push_str(&format!("a{k} = x * y + x * {k}.5 + y * {k}.25\n"));
            }
            src.push_str("x * y + x + y\n");
            // Inputs x, y and their product; per stage two constants, two
            // products and two sums; the last line's two sums.
            assert_eq!(gates(&src), 3 + 6 * uses + 2, "{uses} uses");
            // The product written again is the same gate, and so is a whole
            // stage's first sum; a new constant makes three new gates.
            let again = format!("{src}z = x * y\nw = z + x * 0.5\nw + x * 0.75\n");
            assert_eq!(gates(&again), 3 + 6 * uses + 2 + 3, "{uses} uses, again");
        }
    }
}
