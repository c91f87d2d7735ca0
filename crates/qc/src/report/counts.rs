//! `value → count` histograms that merge by addition and serialise as sorted pairs.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Values below this are counted in a dense array, larger ones in a sorted map.
const DENSE_VALUES: usize = 1 << 16;

/// Counts of non-negative integer values (read lengths, insert sizes, per-read means).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    dense: Vec<u64>,
    sparse: BTreeMap<u64, u64>,
}

impl Counts {
    /// Counts `value` once.
    #[inline]
    pub fn add(&mut self, value: usize) {
        self.add_many(value, 1);
    }

    /// Counts `value` `times` times.
    #[inline]
    pub fn add_many(&mut self, value: usize, times: u64) {
        if value < DENSE_VALUES {
            if value >= self.dense.len() {
                self.dense.resize((value + 1).next_power_of_two().min(DENSE_VALUES), 0);
            }
            self.dense[value] += times;
        } else {
            *self.sparse.entry(value as u64).or_default() += times;
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Counts) {
        if other.dense.len() > self.dense.len() {
            self.dense.resize(other.dense.len(), 0);
        }
        for (mine, theirs) in self.dense.iter_mut().zip(&other.dense) {
            *mine += theirs;
        }
        for (&value, &count) in &other.sparse {
            *self.sparse.entry(value).or_default() += count;
        }
    }

    /// `(value, count)` pairs in increasing value, zero counts skipped.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, u64)> + '_ {
        let dense = self.dense.iter().enumerate().filter(|(_, c)| **c > 0);
        dense.map(|(v, &c)| (v as u64, c)).chain(self.sparse.iter().map(|(&v, &c)| (v, c)))
    }

    /// Sum of all counts.
    pub fn total(&self) -> u64 {
        self.iter().map(|(_, c)| c).sum()
    }

    /// Sum of `value × count`.
    pub fn weighted_sum(&self) -> u64 {
        self.iter().map(|(v, c)| v * c).sum()
    }

    /// The largest value counted, 0 when empty.
    pub fn max(&self) -> u64 {
        self.iter().next_back().map_or(0, |(v, _)| v)
    }

    /// The counts of values `0..len` as a dense vector (values `≥ len` left out).
    pub fn dense_prefix(&self, len: usize) -> Vec<u64> {
        let mut out = vec![0; len];
        for (value, count) in self.iter().take_while(|&(v, _)| (v as usize) < len) {
            out[value as usize] = count;
        }
        out
    }

    /// The value with the highest count (the smallest such value on ties), 0 when empty.
    pub fn mode(&self) -> u64 {
        let mut best = (0, 0);
        for (value, count) in self.iter() {
            if count > best.1 {
                best = (value, count);
            }
        }
        best.0
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Counts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(u64, u64)>::deserialize(deserializer)?;
        let mut counts = Counts::default();
        for (value, count) in pairs {
            let value = usize::try_from(value).map_err(serde::de::Error::custom)?;
            counts.add_many(value, count);
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_values_merge_and_summarise() {
        let mut a = Counts::default();
        for value in [5, 5, 70_000, 3] {
            a.add(value);
        }
        let mut b = Counts::default();
        b.add_many(70_000, 2);
        b.add(1);
        a.merge(&b);
        assert_eq!(a.iter().collect::<Vec<_>>(), [(1, 1), (3, 1), (5, 2), (70_000, 3)]);
        assert_eq!((a.total(), a.max(), a.mode()), (7, 70_000, 70_000));
        assert_eq!(a.weighted_sum(), 1 + 3 + 10 + 210_000);
        assert_eq!(a.dense_prefix(6), [0, 1, 0, 1, 0, 2]);
    }
}
