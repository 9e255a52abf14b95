//! The gates of a circuit as lowering builds them, hash-consed: a gate equal to
//! one already built (same operation, same inputs) is that gate.

use crate::error::Span;
use crate::gate::Op;
use crate::graph::{Gate, GateId, Gates};
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash, Hasher};

/// The hasher of the hash-consing table: FxHash, since the keys are a few
/// small integers and a million of them are hashed (SipHash spent a tenth of
/// the whole run here).
type Fx = rustc_hash::FxBuildHasher;

/// The gates built so far with their inputs, as [`crate::Circuit`] keeps them,
/// with what finds an equal gate.
pub(super) struct Dag {
    gates: Gates,
    /// The hash-consing table: gates by (operation, inputs), each beside 32
    /// bits of its hash ([`memo_key`]), so that neither growing the table nor
    /// passing over another gate's entry reads a gate; the key itself is read
    /// from the gates, not stored twice. It holds the gates without inputs
    /// and those whose every input has more than [`SCAN_FANOUT`] consumers
    /// (see [`Dag::add`]).
    memo: HashTable<(u32, GateId)>,
    /// How many consumers each gate has so far, counted up to one past
    /// [`SCAN_FANOUT`], the only count that matters: a byte a gate.
    fanout: Vec<u8>,
    /// Each gate's first [`SCAN_FANOUT`] consumers, one per use: all of them
    /// while there are no more, which is when they are scanned. 8 bytes a
    /// gate, kept while lowering only, where a list of every consumer cost 4
    /// a gate and 8 an edge and stayed with the circuit.
    users: Vec<[GateId; SCAN_FANOUT as usize]>,
    /// What undoing the statement being built needs, while one is marked.
    undo: Undo,
}

/// What [`Dag::rollback`] needs beyond the gates added since the mark:
/// written on the rare paths only (a count passing the limit, an entry
/// added to the table), never on the hot one.
#[derive(Default)]
struct Undo {
    /// A statement is marked.
    active: bool,
    /// How many gates there were at the mark.
    gates: usize,
    /// Gates from before the mark whose consumers passed [`SCAN_FANOUT`]
    /// since: (the gate, the consumer and operand whose edge did). Edges
    /// after that one were not counted.
    crossed: Vec<(GateId, GateId, usize)>,
    /// Gates put in the hash table since the mark, old ones included.
    remembered: Vec<GateId>,
}

/// 32 bits of the hash of a gate's key (operation, inputs), kept in the
/// table beside the gate.
fn memo_key(op: Op, inputs: &[GateId]) -> u32 {
    let mut h = Fx::default().build_hasher();
    op.hash(&mut h);
    for i in inputs {
        h.write_u32(i.0.index() as u32);
    }
    let h = h.finish();
    (h ^ (h >> 32)) as u32
}

/// The table's hash of a [`memo_key`]: its bits in both halves, as hashbrown
/// takes a bucket from the low bits and a tag from the top seven.
fn spread(key: u32) -> u64 {
    u64::from(key) << 32 | u64::from(key)
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
            undo: Undo::default(),
        }
    }

    /// Marks the start of a statement that [`Dag::rollback`] may undo; the
    /// mark holds until [`Dag::settle`] or the rollback.
    pub(super) fn mark(&mut self) {
        let undo = &mut self.undo;
        undo.active = true;
        undo.gates = self.gates.len();
        undo.crossed.clear();
        undo.remembered.clear();
    }

    /// The marked statement stands: nothing more to write down.
    pub(super) fn settle(&mut self) {
        self.undo.active = false;
    }

    /// Undoes every gate added since the mark, and what adding them did to
    /// the gates before it: their consumer counts and the hash table.
    pub(super) fn rollback(&mut self) {
        if !self.undo.active {
            return;
        }
        let mark = self.undo.gates;
        let crossed = std::mem::take(&mut self.undo.crossed);
        for g in std::mem::take(&mut self.undo.remembered) {
            let key = memo_key(self.op(g), self.inputs(g));
            if let Ok(entry) = self.memo.find_entry(spread(key), |&(_, x)| x == g) {
                entry.remove();
            }
        }
        // An old input's count went up by one for each edge from a new gate
        // until it passed the limit: while it has not, every edge counted;
        // once it has, those up to the one that took it past. Each edge is
        // judged on its own, so the order they are undone in does not matter.
        let crossing: std::collections::HashMap<GateId, (usize, usize)> = crossed
            .iter()
            .map(|&(input, by, slot)| (input, (by.index(), slot)))
            .collect();
        for k in (mark..self.gates.len()).rev() {
            for (slot, input) in self.gates.inputs(k).iter().enumerate().rev() {
                let f = &mut self.fanout[input.index()];
                let counted = match crossing.get(input) {
                    _ if input.index() >= mark => false,
                    Some(&at) => (k, slot) <= at,
                    None => *f <= SCAN_FANOUT,
                };
                if counted {
                    *f -= 1;
                }
            }
        }
        self.gates.truncate(mark);
        self.fanout.truncate(mark);
        self.users.truncate(mark);
        self.settle();
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
        // Nearly every gate has one input or two: for those the code is
        // compiled with the count known, without loops over the inputs.
        match *inputs {
            [a, b] => self.add_any(op, &[a, b], span),
            [a] => self.add_any(op, &[a], span),
            _ => self.add_any(op, inputs, span),
        }
    }

    /// [`Dag::add`], inlined where the count of inputs is known.
    #[inline(always)]
    fn add_any(&mut self, op: Op, inputs: &[GateId], span: Span) -> GateId {
        if let Some(g) = self.find(op, inputs) {
            return g;
        }
        let id = GateId::new(self.gates.len());
        self.gates.push(Gate { op, span }, inputs);
        self.fanout.push(0);
        // Places not filled yet are never read: `fanout` says how many are.
        self.users.push([id; SCAN_FANOUT as usize]);
        if inputs.is_empty() {
            self.remember(id);
            return id;
        }
        for (slot, &input) in inputs.iter().enumerate() {
            let f = &mut self.fanout[input.index()];
            if *f > SCAN_FANOUT {
                continue;
            }
            if *f < SCAN_FANOUT {
                self.users[input.index()][*f as usize] = id;
            }
            *f += 1;
            if *f == SCAN_FANOUT + 1 {
                if self.undo.active && input.index() < self.undo.gates {
                    self.undo.crossed.push((input, id, slot));
                }
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
    #[inline(always)]
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
            _ => {
                let key = memo_key(op, inputs);
                let entry = self.memo.find(spread(key), |&(k, g)| k == key && same(g));
                entry.map(|&(_, g)| g)
            }
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
        if self.undo.active {
            self.undo.remembered.push(g);
        }
        let key = memo_key(self.op(g), self.inputs(g));
        debug_assert!(
            self.memo.find(spread(key), |&(_, x)| x == g).is_none(),
            "a gate goes in the table once"
        );
        self.memo
            .insert_unique(spread(key), (key, g), |&(k, _)| spread(k));
    }
}

#[cfg(test)]
mod tests {
    use super::{Dag, SCAN_FANOUT};
    use crate::error::Span;
    use crate::gate::Op;
    use crate::graph::GateId;
    use crate::lowering::{lower, parse_and_lower};
    use crate::syntax::parse;

    /// What lowering reads of a [`Dag`]: its gates, each gate's consumer
    /// count and the consumers it keeps (only those the count covers are
    /// ever read), and which gates the hash table holds.
    type State = (Vec<String>, Vec<(u8, Vec<GateId>)>, Vec<GateId>);

    fn state(d: &Dag) -> State {
        let gates = (0..d.gates.len())
            .map(|k| format!("{:?} {:?}", d.gates.op(k), d.gates.inputs(k)))
            .collect();
        let users = (0..d.gates.len())
            .map(|k| {
                let seen = d.fanout[k].min(SCAN_FANOUT) as usize;
                (d.fanout[k], d.users[k][..seen].to_vec())
            })
            .collect();
        let mut memo: Vec<GateId> = d.memo.iter().map(|&(_, g)| g).collect();
        memo.sort();
        (gates, users, memo)
    }

    /// Undoing a statement puts the gates back exactly as they were at its
    /// mark: what was added goes, and the gates from before it have the
    /// consumer counts, kept consumers and table entries they had, whether
    /// the statement took their counts past the scanning limit, found gates
    /// equal to old ones, or used an input twice. The same additions again
    /// then make the same gates as the first time, and once the statement
    /// is settled a rollback undoes nothing.
    #[test]
    fn a_rollback_restores_the_gates_as_they_were_at_the_mark() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d_u64);
        let ops = [Op::Add, Op::Mul, Op::Tanh, Op::Const(0.5), Op::Const(1.5)];
        // A gate on inputs among the first two and the last few, so that
        // counts pass the limit and equal gates recur.
        let mut step = |d: &Dag| {
            let op = ops[next(ops.len())];
            let n = d.gates.len();
            let mut pick = || {
                let k = if next(3) == 0 {
                    next(2)
                } else {
                    n - 1 - next(n.min(4))
                };
                GateId::new(k)
            };
            let inputs: Vec<GateId> = match op {
                Op::Const(_) => vec![],
                Op::Tanh => vec![pick()],
                _ => vec![pick(), pick()],
            };
            (op, inputs)
        };
        let span = Span::new(0, 1);
        for round in 0..500 {
            let mut d = Dag::new(0);
            d.add(Op::Input(0), &[], span);
            d.add(Op::Input(1), &[], span);
            for _ in 0..round % 23 {
                let (op, inputs) = step(&d);
                d.add(op, &inputs, span);
            }
            let before = state(&d);
            d.mark();
            let mut steps = Vec::new();
            for _ in 0..1 + round % 13 {
                let (op, inputs) = step(&d);
                d.add(op, &inputs, span);
                steps.push((op, inputs));
            }
            let built = state(&d);
            d.rollback();
            assert_eq!(state(&d), before, "round {round}");
            d.mark();
            for (op, inputs) in &steps {
                d.add(*op, inputs, span);
            }
            assert_eq!(state(&d), built, "round {round}, again");
            d.settle();
            d.rollback();
            assert_eq!(state(&d), built, "round {round}, settled");
        }
    }

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
