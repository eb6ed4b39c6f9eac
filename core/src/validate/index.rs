//! Email → row indices, so an edit touches only the rows sharing an email.
//!
//! Rows whose email hashes fall in the same bucket form a chain through `next`, in
//! ascending row order. That costs 4 bytes per bucket (about one per row) plus 5 bytes
//! per row: 1 MB for 100k rows, where a map from hash to first row cost 1.6 MB.
//! Different emails share a chain whenever their buckets do; callers compare the real
//! emails, so sharing costs a comparison, never a wrong verdict. A byte of each row's
//! hash skips most of those comparisons, each a trip to another row's address.

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
pub(crate) struct EmailIndex {
    /// First row of each bucket's chain. Its length is zero or a power of two.
    heads: Vec<u32>,
    next: Vec<u32>,
    /// Eight bits of each row's hash, not the ones that chose its bucket.
    tags: Vec<u8>,
    /// Rows in some chain.
    len: usize,
}

fn tag(hash: u64) -> u8 {
    (hash >> 56) as u8
}

impl EmailIndex {
    pub(crate) fn with_capacity(n: usize) -> Self {
        EmailIndex {
            heads: vec![NONE; n.max(8).next_power_of_two()],
            next: Vec::with_capacity(n),
            tags: Vec::with_capacity(n),
            len: 0,
        }
    }

    /// True when one more row would make chains longer than one row a bucket on
    /// average; the owner then rebuilds the index larger, since only it knows the rows'
    /// hashes.
    pub(crate) fn is_full(&self) -> bool {
        self.len >= self.heads.len()
    }

    fn bucket(&self, hash: u64) -> usize {
        // The high half of a multiplicative hash mixes every input bit.
        (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & (self.heads.len() - 1)
    }

    fn slot(&mut self, row: u32, hash: u64) {
        let need = row as usize + 1;
        if self.next.len() < need {
            self.next.resize(need, NONE);
            self.tags.resize(need, 0);
        }
        self.next[row as usize] = NONE;
        self.tags[row as usize] = tag(hash);
    }

    /// Rows in the chain of `hash`'s bucket, ascending; they may hold other emails.
    pub(crate) fn rows(&self, hash: u64) -> Vec<u32> {
        let mut out = Vec::new();
        if self.heads.is_empty() {
            return out;
        }
        let mut cur = self.heads[self.bucket(hash)];
        while cur != NONE {
            out.push(cur);
            cur = self.next[cur as usize];
        }
        out
    }

    /// Appends `row` (larger than every row already indexed) and returns the first earlier
    /// row for which `same` holds. The index must not be full.
    pub(crate) fn push_find_first(
        &mut self,
        hash: u64,
        row: u32,
        same: impl Fn(u32) -> bool,
    ) -> Option<u32> {
        debug_assert!(!self.is_full());
        self.slot(row, hash);
        self.len += 1;
        let t = tag(hash);
        let b = self.bucket(hash);
        let mut cur = self.heads[b];
        if cur == NONE {
            self.heads[b] = row;
            return None;
        }
        let mut first = None;
        loop {
            if first.is_none() && self.tags[cur as usize] == t && same(cur) {
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

    /// Inserts `row` keeping the chain ascending. The index must not be full.
    pub(crate) fn insert(&mut self, hash: u64, row: u32) {
        debug_assert!(!self.is_full());
        let b = self.bucket(hash);
        let head = self.heads[b];
        if head == NONE || row < head {
            self.slot(row, hash);
            self.next[row as usize] = head;
            self.heads[b] = row;
            self.len += 1;
            return;
        }
        let mut cur = head;
        while self.next[cur as usize] != NONE && self.next[cur as usize] < row {
            cur = self.next[cur as usize];
        }
        if cur == row || self.next[cur as usize] == row {
            return;
        }
        self.slot(row, hash);
        self.next[row as usize] = self.next[cur as usize];
        self.next[cur as usize] = row;
        self.len += 1;
    }

    pub(crate) fn remove(&mut self, hash: u64, row: u32) {
        if self.heads.is_empty() {
            return;
        }
        let b = self.bucket(hash);
        let head = self.heads[b];
        if head == NONE {
            return;
        }
        if head == row {
            self.heads[b] = self.next[row as usize];
        } else {
            let mut cur = head;
            while self.next[cur as usize] != NONE && self.next[cur as usize] != row {
                cur = self.next[cur as usize];
            }
            if self.next[cur as usize] != row {
                return;
            }
            self.next[cur as usize] = self.next[row as usize];
        }
        self.next[row as usize] = NONE;
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_stay_ascending_through_inserts_and_removes() {
        let mut ix = EmailIndex::with_capacity(8);
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
        assert!(EmailIndex::default().rows(42).is_empty());
    }

    #[test]
    fn the_index_is_full_at_one_row_a_bucket() {
        let mut ix = EmailIndex::with_capacity(8);
        for r in 0..8 {
            assert!(!ix.is_full());
            ix.insert(u64::from(r) * 7919, r);
        }
        assert!(ix.is_full());
        ix.remove(0, 0);
        assert!(!ix.is_full());
        // Removing a row that is not there changes nothing.
        ix.remove(0, 0);
        ix.insert(7919, 1);
        assert!(!ix.is_full());
    }
}
