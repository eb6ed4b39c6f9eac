//! Email → row indices, so an edit touches only the rows sharing an email.
//!
//! Rows with the same email hash form a chain through `next`, in ascending row order.
//! That costs 8 bytes of map entry per distinct email plus 4 bytes per row, instead of
//! a vector per email. Hash collisions only lengthen a chain; callers compare the real
//! emails, so a collision costs a comparison, never a wrong verdict.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const NONE: u32 = u32::MAX;

/// The keys are already hashes; one multiply spreads them over the bits the map uses.
#[derive(Default)]
pub(crate) struct Spread(u64);

impl Hasher for Spread {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct EmailIndex {
    heads: HashMap<u32, u32, BuildHasherDefault<Spread>>,
    next: Vec<u32>,
}

fn fold(hash: u64) -> u32 {
    (hash ^ (hash >> 32)) as u32
}

impl EmailIndex {
    pub(crate) fn with_capacity(n: usize) -> Self {
        EmailIndex {
            heads: HashMap::with_capacity_and_hasher(n, Default::default()),
            next: Vec::with_capacity(n),
        }
    }

    fn slot(&mut self, row: u32) {
        let need = row as usize + 1;
        if self.next.len() < need {
            self.next.resize(need, NONE);
        }
        self.next[row as usize] = NONE;
    }

    /// Rows in the chain of `hash`, ascending.
    pub(crate) fn rows(&self, hash: u64) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = self.heads.get(&fold(hash)).copied().unwrap_or(NONE);
        while cur != NONE {
            out.push(cur);
            cur = self.next[cur as usize];
        }
        out
    }

    /// Appends `row` (larger than every row already indexed) and returns the first earlier
    /// row for which `same` holds: one map probe for the common unique email.
    pub(crate) fn push_find_first(
        &mut self,
        hash: u64,
        row: u32,
        same: impl Fn(u32) -> bool,
    ) -> Option<u32> {
        self.slot(row);
        match self.heads.entry(fold(hash)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(row);
                None
            }
            std::collections::hash_map::Entry::Occupied(e) => {
                let mut cur = *e.get();
                let mut first = None;
                loop {
                    if first.is_none() && same(cur) {
                        first = Some(cur);
                    }
                    let next = self.next[cur as usize];
                    if next == NONE {
                        break;
                    }
                    cur = next;
                }
                self.next[cur as usize] = row;
                first
            }
        }
    }

    /// Inserts `row` keeping the chain ascending.
    pub(crate) fn insert(&mut self, hash: u64, row: u32) {
        self.slot(row);
        let key = fold(hash);
        match self.heads.get(&key).copied() {
            None => {
                self.heads.insert(key, row);
            }
            Some(head) if row < head => {
                self.next[row as usize] = head;
                self.heads.insert(key, row);
            }
            Some(head) => {
                let mut cur = head;
                while self.next[cur as usize] != NONE && self.next[cur as usize] < row {
                    cur = self.next[cur as usize];
                }
                if cur == row || self.next[cur as usize] == row {
                    return;
                }
                self.next[row as usize] = self.next[cur as usize];
                self.next[cur as usize] = row;
            }
        }
    }

    pub(crate) fn remove(&mut self, hash: u64, row: u32) {
        let key = fold(hash);
        let Some(head) = self.heads.get(&key).copied() else {
            return;
        };
        if head == row {
            match self.next[row as usize] {
                NONE => self.heads.remove(&key),
                n => self.heads.insert(key, n),
            };
        } else {
            let mut cur = head;
            while self.next[cur as usize] != NONE && self.next[cur as usize] != row {
                cur = self.next[cur as usize];
            }
            if self.next[cur as usize] == row {
                self.next[cur as usize] = self.next[row as usize];
            }
        }
        self.next[row as usize] = NONE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_stay_ascending_through_inserts_and_removes() {
        let mut ix = EmailIndex::default();
        for r in [5, 1, 9, 3] {
            ix.insert(42, r);
        }
        assert_eq!(ix.rows(42), vec![1, 3, 5, 9]);
        ix.remove(42, 1);
        ix.remove(42, 9);
        assert_eq!(ix.rows(42), vec![3, 5]);
        ix.remove(42, 3);
        ix.remove(42, 5);
        assert!(ix.rows(42).is_empty());
        assert!(ix.rows(7).is_empty());
    }
}
