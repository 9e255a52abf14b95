//! The stage names a program gives its gates.

use super::GateId;
use crate::syntax::{Sym, ast::Names};
use std::sync::OnceLock;

/// The stage names given to gates; a gate may carry several (`a = x*y; b = a`).
///
/// Kept compact for million-stage programs: the names' text in one buffer, one
/// (gate, name) entry per stage sorted by gate, and per gate the position of its
/// first entry.
#[derive(Clone, Debug, Default)]
pub struct StageNames {
    names: Names,
    /// (gate, name), sorted by gate; a gate's names keep the program's order.
    entries: Vec<(GateId, Sym)>,
    /// How many gates.
    gates: usize,
    /// For each gate, its first entry, or `u32::MAX` for an unnamed gate;
    /// made on first use, as only labels ask (a results-only run never does).
    first: OnceLock<Vec<u32>>,
}

impl StageNames {
    pub(super) fn new(names: Names, mut entries: Vec<(GateId, Sym)>, gates: usize) -> StageNames {
        // Stable: a gate's names stay in the order the program gives them.
        entries.sort_by_key(|(g, _)| *g);
        StageNames {
            names,
            entries,
            gates,
            first: OnceLock::new(),
        }
    }

    /// See [`StageNames::first`].
    fn first_entries(&self) -> &[u32] {
        self.first.get_or_init(|| {
            let mut first = vec![u32::MAX; self.gates];
            for (k, (g, _)) in self.entries.iter().enumerate().rev() {
                first[g.index()] = k as u32;
            }
            first
        })
    }

    /// True when the gate has a stage name.
    pub fn contains_key(&self, g: &GateId) -> bool {
        self.first_entries()
            .get(g.index())
            .is_some_and(|&k| k != u32::MAX)
    }

    /// The position of the gate's first stage name among all of them (in
    /// [`StageNames::iter`]'s order).
    pub fn first_index(&self, g: GateId) -> Option<usize> {
        let k = *self.first_entries().get(g.index())?;
        (k != u32::MAX).then_some(k as usize)
    }

    /// The gate's first stage name.
    pub fn first(&self, g: GateId) -> Option<&str> {
        let k = *self.first_entries().get(g.index())?;
        (k != u32::MAX).then(|| self.names.get(self.entries[k as usize].1))
    }

    /// The gate's stage names, in the program's order (empty for an unnamed gate).
    pub fn of(&self, g: GateId) -> impl Iterator<Item = &str> {
        let from = match self.first_entries().get(g.index()) {
            Some(&k) if k != u32::MAX => k as usize,
            _ => self.entries.len(),
        };
        self.entries[from..]
            .iter()
            .take_while(move |(h, _)| *h == g)
            .map(|(_, n)| self.names.get(*n))
    }

    /// The gate's stage names, or `None` for an unnamed gate.
    pub fn get(&self, g: &GateId) -> Option<Vec<&str>> {
        self.contains_key(g).then(|| self.of(*g).collect())
    }

    /// Every (gate, stage name), by gate.
    pub fn iter(&self) -> impl Iterator<Item = (GateId, &str)> {
        self.entries.iter().map(|&(g, n)| (g, self.names.get(n)))
    }

    /// Every stage name.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(_, n)| n)
    }
}
