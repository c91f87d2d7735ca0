//! The duplication sample's table: copies of each sampled sequence, keyed by its 64-bit hash.
//!
//! An open-addressing table with linear probing, written for this one use because the keys
//! are hashes already (no hashing, no tags: a slot holds the key and the counts in one cache
//! line, where a general hash map reads a control group and then a bucket, two misses for a
//! table of megabytes), and because the caller can [`prefetch`](HashCounts::prefetch) a
//! key's slot as soon as the read's hash is known and look it up some hundred nanoseconds
//! later, when the other statistics of the read are counted. Measured in `qc`: the lookups
//! of the general map were 5–7% of all samples.

/// One slot: a key and its counts; `copies == 0` marks it empty.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    hash: u64,
    copies: u64,
    gc: u32,
    len: u32,
}

/// The counts kept for one sequence: copies, and the G+C bases and length of one copy.
pub(crate) type Counts = (u64, u32, u32);

/// Map from sequence hash to [`Counts`].
#[derive(Clone)]
pub(crate) struct HashCounts {
    /// A power of two in length, at most [`MAX_LOAD`] full.
    slots: Vec<Slot>,
    len: usize,
}

/// Slots of a new table: room for the duplication sample at its capacity (2^17 keys) and
/// 6 MiB of address space, whose pages are touched only as keys land in them. It doubles
/// when overfull, which only a merge of two full samples does before it thins: growing from
/// a small table instead left the freed smaller tables in the workers' allocator arenas
/// (peak RSS of `qc -t 2` 76 MB against 68 MB).
const FIRST_SLOTS: usize = 1 << 18;

/// Most keys per slot, as a fraction (5/8). Above one half, so that a sample of a power of
/// two of keys (the duplication sample's capacity) plus the one that makes it thin fits in
/// twice as many slots: at one half, that one key would double the table (to 12.6 MB) just
/// before thinning halves the keys (measured: +55 MB peak RSS in `qc` with two workers).
const MAX_LOAD: (usize, usize) = (5, 8);

/// True when `keys` keys overfill `slots` slots.
fn overfull(keys: usize, slots: usize) -> bool {
    keys * MAX_LOAD.1 > slots * MAX_LOAD.0
}

impl Default for HashCounts {
    fn default() -> Self {
        HashCounts { slots: vec![Slot::default(); FIRST_SLOTS], len: 0 }
    }
}

impl std::fmt::Debug for HashCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.sorted()).finish()
    }
}

impl HashCounts {
    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Index of the slot where the search for `hash` starts: its low bits (samples keep
    /// hashes by their leading zeros, so the high bits are the ones that repeat).
    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    /// Asks the CPU to bring `hash`'s slot into cache ahead of [`add`](HashCounts::add).
    #[inline(always)]
    pub(crate) fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let slot: *const Slot = &self.slots[self.home(hash)];
            // SAFETY: a prefetch is a hint that never faults; the address is a slot of ours.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(slot.cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    /// Adds `copies` copies of the sequence with hash `hash` (`gc` and `len` describe one
    /// copy; kept from the first time the key is seen).
    #[inline]
    pub(crate) fn add(&mut self, hash: u64, (copies, gc, len): Counts) {
        debug_assert!(copies > 0);
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            let slot = &mut self.slots[i];
            if slot.copies == 0 {
                *slot = Slot { hash, copies, gc, len };
                self.len += 1;
                if overfull(self.len, self.slots.len()) {
                    self.resize(self.slots.len() * 2);
                }
                return;
            }
            if slot.hash == hash {
                slot.copies += copies;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Keeps the keys for which `keep` is true, in place: the table keeps its size and needs
    /// no second buffer (a sample thins when it is full and fills again; a new table or a
    /// buffer of the kept keys each time left freed blocks of megabytes in the workers'
    /// allocator arenas, measured as peak RSS of `qc`).
    ///
    /// The dropped keys are cleared first; then every key left is taken out and put back at
    /// the first free slot from its home, in probe order from a slot that was empty before
    /// the clearing: no probe path crosses such a slot, so every key is put back after those
    /// on its path, which stay where they land.
    pub(crate) fn retain(&mut self, keep: impl Fn(u64) -> bool) {
        let n = self.slots.len();
        let start = self
            .slots
            .iter()
            .position(|slot| slot.copies == 0)
            .expect("a table at most 5/8 full has an empty slot");
        for slot in &mut self.slots {
            if slot.copies > 0 && !keep(slot.hash) {
                *slot = Slot::default();
                self.len -= 1;
            }
        }
        for step in 1..n {
            let i = (start + step) & (n - 1);
            if self.slots[i].copies == 0 {
                continue;
            }
            let slot = std::mem::take(&mut self.slots[i]);
            let mut j = self.home(slot.hash);
            while self.slots[j].copies != 0 {
                j = (j + 1) & (n - 1);
            }
            self.slots[j] = slot;
        }
    }

    /// Every key and its counts, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, Counts)> + '_ {
        self.occupied().map(|slot| (slot.hash, (slot.copies, slot.gc, slot.len)))
    }

    /// Every key and its counts, by key.
    pub(crate) fn sorted(&self) -> Vec<(u64, Counts)> {
        let mut pairs: Vec<_> = self.iter().collect();
        pairs.sort_unstable_by_key(|&(hash, _)| hash);
        pairs
    }

    fn occupied(&self) -> impl Iterator<Item = Slot> + '_ {
        self.slots.iter().filter(|slot| slot.copies > 0).copied()
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); slots]);
        self.len = 0;
        for slot in old.into_iter().filter(|slot| slot.copies > 0) {
            self.add(slot.hash, (slot.copies, slot.gc, slot.len));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn counts_like_a_hash_map_through_growth_and_retain() {
        let mut state = 5u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state
        };
        let (mut table, mut model) = (HashCounts::default(), HashMap::<u64, Counts>::new());
        for round in 0..6 {
            for _ in 0..20_000 {
                // Keys with leading zeros to thin by, low bits spread as real hashes are.
                let key = next() % 30_000;
                let hash = (key << 40) | (key.wrapping_mul(0x9e37_79b9) & 0xff_ffff);
                let (gc, len) = ((hash % 50) as u32, 100);
                table.add(hash, (1 + round, gc, len));
                model.entry(hash).or_insert((0, gc, len)).0 += 1 + round;
            }
            let level = 9 + round as u32;
            table.retain(|hash| hash.leading_zeros() >= level);
            model.retain(|hash, _| hash.leading_zeros() >= level);
            assert_eq!(table.len(), model.len());
            let mut expected: Vec<_> = model.iter().map(|(&k, &v)| (k, v)).collect();
            expected.sort_unstable();
            assert_eq!(table.sorted(), expected, "round {round}");
        }
        assert!(table.len() > 100 && table.len() < 2_000, "{}", table.len());
    }

    /// Homes crowded into a few hundred slots, so that thinning leaves gaps inside long
    /// clusters and keys must move back past them, some across the end of the table.
    #[test]
    fn thinning_long_clusters_keeps_every_key_findable() {
        let mut table = HashCounts::default();
        let n = table.slots.len() as u64;
        let mut model = HashMap::<u64, Counts>::new();
        for round in 0..4u32 {
            for key in 0..3_000u64 {
                let key = key * 7 + u64::from(round);
                // Home near the end of the table for some keys, so that clusters wrap.
                let hash = (key << 40) | ((n - 200 + key % 400) % n);
                table.add(hash, (1, 0, 1));
                model.entry(hash).or_insert((0, 0, 1)).0 += 1;
            }
            let level = 10 + round;
            table.retain(|hash| hash.leading_zeros() >= level);
            model.retain(|hash, _| hash.leading_zeros() >= level);
            // Every key is found again: adding one more copy does not make a second entry.
            let before = table.len();
            for &hash in model.keys() {
                table.add(hash, (1, 0, 1));
            }
            model.values_mut().for_each(|counts| counts.0 += 1);
            assert_eq!(table.len(), before, "round {round}");
            let mut expected: Vec<_> = model.iter().map(|(&k, &v)| (k, v)).collect();
            expected.sort_unstable();
            assert_eq!(table.sorted(), expected, "round {round}");
        }
        assert!(table.len() > 100, "{}", table.len());
    }

    /// Small tables, random keys (many sharing a home) and random thinning, many times: every
    /// key left is found, and the counts are those of a hash map.
    #[test]
    fn thinning_small_tables_at_random_keeps_every_key_findable() {
        let mut state = 11u64;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 11
        };
        for trial in 0..20_000 {
            let mut table = HashCounts { slots: vec![Slot::default(); 32], len: 0 };
            let mut model = HashMap::<u64, Counts>::new();
            for _ in 0..next() % 20 {
                // Homes in a few slots, near the end for some trials, so that clusters wrap.
                let hash = (next() << 8) | (next() % 4 + trial % 32);
                table.add(hash, (1, 0, 1));
                model.entry(hash).or_insert((0, 0, 1)).0 += 1;
            }
            let drop_bit = 1u64 << (8 + next() % 4);
            table.retain(|hash| hash & drop_bit == 0);
            model.retain(|hash, _| hash & drop_bit == 0);
            let before = table.len();
            for &hash in model.keys() {
                table.add(hash, (1, 0, 1));
            }
            model.values_mut().for_each(|counts| counts.0 += 1);
            assert_eq!((table.len(), before), (model.len(), model.len()), "trial {trial}");
            let mut expected: Vec<_> = model.iter().map(|(&k, &v)| (k, v)).collect();
            expected.sort_unstable();
            assert_eq!(table.sorted(), expected, "trial {trial}");
        }
    }

    #[test]
    fn a_power_of_two_of_keys_and_one_more_fit_twice_as_many_slots() {
        let mut table = HashCounts::default();
        for key in 0..(1u64 << 17) + 1 {
            table.add(key.wrapping_mul(0x9e37_79b9_7f4a_7c15), (1, 0, 1));
        }
        assert_eq!(table.slots.len(), 1 << 18);
    }
}
