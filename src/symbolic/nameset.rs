//! A set of names that also numbers them: the names a derivative program may
//! not reuse (the user's) and the names it has made. Kept in one text buffer
//! with a hash table of name numbers, so that a million-stage program's names
//! cost their bytes and a few more, not a `String` each.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use std::hash::BuildHasher;

/// A name's number in its [`NameSet`].
pub type NameId = u32;

/// Distinct names, each with a number, in order of insertion.
#[derive(Clone, Debug, Default)]
pub struct NameSet {
    text: String,
    ends: Vec<u32>,
    table: HashTable<NameId>,
}

fn hash(name: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(name)
}

impl NameSet {
    /// An empty set.
    pub fn new() -> NameSet {
        NameSet::default()
    }

    /// An empty set with room for about `n` names.
    pub fn with_capacity(n: usize) -> NameSet {
        NameSet {
            text: String::with_capacity(8 * n),
            ends: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
        }
    }

    /// The name with number `id`.
    pub fn get(&self, id: NameId) -> &str {
        let k = id as usize;
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        &self.text[start..self.ends[k] as usize]
    }

    /// The number of `name`, if the set holds it.
    pub fn find(&self, name: &str) -> Option<NameId> {
        self.table
            .find(hash(name), |&id| self.get(id) == name)
            .copied()
    }

    /// True when the set holds `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Adds `name` (if it is new) and returns its number.
    pub fn insert(&mut self, name: &str) -> NameId {
        match self.insert_new(name) {
            Ok(id) | Err(id) => id,
        }
    }

    /// Adds `name` if it is new: `Ok` with its new number, or `Err` with the
    /// number it has. One search of the table either way.
    pub fn insert_new(&mut self, name: &str) -> Result<NameId, NameId> {
        let id = self.ends.len() as NameId;
        let (text, ends) = (&self.text, &self.ends);
        let get = |k: NameId| {
            let k = k as usize;
            let start = if k == 0 { 0 } else { ends[k - 1] as usize };
            &text[start..ends[k] as usize]
        };
        match self
            .table
            .entry(hash(name), |&k| get(k) == name, |&k| hash(get(k)))
        {
            Entry::Occupied(e) => return Err(*e.get()),
            Entry::Vacant(e) => {
                e.insert(id);
            }
        }
        self.text.push_str(name);
        self.ends.push(self.text.len() as u32);
        Ok(id)
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the set holds no name.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_each_name_once() {
        let mut s = NameSet::new();
        let a = s.insert("h1");
        let b = s.insert("dh1");
        assert_eq!(s.insert("h1"), a);
        assert_eq!((s.get(a), s.get(b)), ("h1", "dh1"));
        assert!(s.contains("dh1") && !s.contains("h"));
        assert_eq!(s.len(), 2);
    }
}
