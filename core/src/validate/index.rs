//! Email → row indices, so an edit touches only the rows sharing an email.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a of the normalized email. Buckets may mix colliding emails; callers compare the
/// real keys, so a collision costs a comparison, never a wrong verdict.
pub(crate) fn email_hash(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The keys are already hashes; hashing them again is wasted work.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Row indices in ascending order. Almost every email appears once, so that case holds
/// no allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bucket {
    One(u32),
    Many(Vec<u32>),
}

impl Bucket {
    pub(crate) fn as_slice(&self) -> &[u32] {
        match self {
            Bucket::One(i) => std::slice::from_ref(i),
            Bucket::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct EmailIndex {
    map: HashMap<u64, Bucket, BuildHasherDefault<PassThrough>>,
}

impl EmailIndex {
    pub(crate) fn with_capacity(n: usize) -> Self {
        EmailIndex { map: HashMap::with_capacity_and_hasher(n, Default::default()) }
    }

    /// Appends a row; rows are inserted in ascending order during the initial pass.
    pub(crate) fn push(&mut self, hash: u64, row: u32) -> &[u32] {
        let bucket = self
            .map
            .entry(hash)
            .and_modify(|b| match b {
                Bucket::One(i) => *b = Bucket::Many(vec![*i, row]),
                Bucket::Many(v) => v.push(row),
            })
            .or_insert(Bucket::One(row));
        bucket.as_slice()
    }

    pub(crate) fn insert(&mut self, hash: u64, row: u32) {
        match self.map.get_mut(&hash) {
            None => {
                self.map.insert(hash, Bucket::One(row));
            }
            Some(b) => {
                let mut v = b.as_slice().to_vec();
                if let Err(pos) = v.binary_search(&row) {
                    v.insert(pos, row);
                }
                *b = Bucket::Many(v);
            }
        }
    }

    pub(crate) fn remove(&mut self, hash: u64, row: u32) {
        let Some(b) = self.map.get_mut(&hash) else { return };
        let mut v = b.as_slice().to_vec();
        v.retain(|&r| r != row);
        match v.len() {
            0 => {
                self.map.remove(&hash);
            }
            1 => *b = Bucket::One(v[0]),
            _ => *b = Bucket::Many(v),
        }
    }

    pub(crate) fn rows(&self, hash: u64) -> &[u32] {
        self.map.get(&hash).map_or(&[], Bucket::as_slice)
    }
}
