//! The per-cycle counters of one mate: one counter per (cycle, base class, Phred value).
//!
//! Every base costs one increment, so this table is where `qc` spends most of its time. Two
//! things keep that increment cheap:
//!
//! - **Codes first, in bulk.** A read's bases and qualities are turned into counter codes
//!   (`class × QUALITY_LEVELS + Phred`) by a loop without table look-ups or branches, which
//!   the compiler vectorises; the same loop sums the Phred values and counts G and C.
//! - **Small counters in cache.** Increments go to 16-bit counters, a row of 520 per cycle
//!   (a code masks into its first 512, so no bounds check; see [`ROW`] for the 8 more), which
//!   are added to the 64-bit totals every 65,535 reads: a read adds at most 1 to each of them,
//!   so they cannot overflow. The 16-bit table of 150 cycles takes 156 KB, 28% of the 64-bit
//!   one.
//!
//! Bases at cycle [`MAX_CYCLES`]` − 1` and later all count in the last cycle; they go straight
//! to the totals (a long read can add more than one to that cycle's counters).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::report::mate::{COUNTERS_PER_CYCLE, MAX_CYCLES, QUALITY_LEVELS};

/// Codes mask into `0..CODES` ([`COUNTERS_PER_CYCLE`] rounded up to a power of two).
const CODES: usize = 512;
const _: () = assert!(COUNTERS_PER_CYCLE <= CODES);
/// Width of a row of 16-bit counters: more than [`CODES`], so that rows do not start 1 KiB
/// apart (rows a power of two apart share cache sets: measured 1.3–1.6 ns per increment
/// with 512-counter rows against 0.7–0.8 ns with 520 on this project's machines).
const ROW: usize = CODES + 8;
/// Reads counted in the 16-bit counters before they are added to the totals.
const READS_PER_FLUSH: u32 = u16::MAX as u32;
/// Bases encoded at a time, so that a 32-bit Phred sum cannot overflow (93 × 2^16 < 2^32).
const ENCODE_CHUNK: usize = 1 << 16;

/// Counter code of each base: its class (0 A, 1 C, 2 G, 3 T, 4 other) × [`QUALITY_LEVELS`] +
/// its Phred value (Phred+33, clamped to 0..=93). Returns the sum of the Phred values and the
/// number of G and C bases. `codes` must be at least as long as `bases` and `quals` (the
/// shorter of the two is encoded).
#[inline]
pub(crate) fn encode(bases: &[u8], quals: &[u8], codes: &mut [u16]) -> (u64, u32) {
    let (mut quality_sum, mut gc) = (0u64, 0u32);
    let chunks = bases.chunks(ENCODE_CHUNK).zip(quals.chunks(ENCODE_CHUNK));
    for ((bases, quals), codes) in chunks.zip(codes.chunks_mut(ENCODE_CHUNK)) {
        let (mut sum, mut strong) = (0u32, 0u32);
        for ((&base, &qual), code) in bases.iter().zip(quals).zip(codes.iter_mut()) {
            let folded = base | 0x20;
            let (a, c, g, t) = (
                u8::from(folded == b'a'),
                u8::from(folded == b'c'),
                u8::from(folded == b'g'),
                u8::from(folded == b't'),
            );
            let class = 4 - 4 * a - 3 * c - 2 * g - t;
            let phred = qual.saturating_sub(33).min((QUALITY_LEVELS - 1) as u8);
            *code = u16::from(class) * QUALITY_LEVELS as u16 + u16::from(phred);
            sum += u32::from(phred);
            strong += u32::from(c | g);
        }
        quality_sum += u64::from(sum);
        gc += strong;
    }
    (quality_sum, gc)
}

/// `cycle × (base class × Phred value)` counters, mergeable and serialised as one flat list of
/// 64-bit counts ([`COUNTERS_PER_CYCLE`] per cycle).
#[derive(Clone, Default)]
pub(crate) struct CycleTable {
    totals: Vec<u64>,
    /// 16-bit counters of cycles `0..MAX_CYCLES − 1`, one row per cycle seen.
    pending: Vec<[u16; ROW]>,
    /// Reads counted in `pending` since it was last added to `totals`.
    pending_reads: u32,
    /// Codes of the read being counted (reused).
    codes: Vec<u16>,
}

impl CycleTable {
    /// Number of cycles seen.
    pub(crate) fn cycle_count(&self) -> usize {
        self.totals.len() / COUNTERS_PER_CYCLE
    }

    /// Makes room for `cycles` cycles (at most [`MAX_CYCLES`]).
    #[inline]
    pub(crate) fn grow(&mut self, cycles: usize) {
        let cycles = cycles.min(MAX_CYCLES);
        if self.totals.len() < cycles * COUNTERS_PER_CYCLE {
            self.totals.resize(cycles * COUNTERS_PER_CYCLE, 0);
            self.pending.resize(cycles.min(MAX_CYCLES - 1), [0; ROW]);
        }
    }

    /// Counts one read's bases (with their qualities) at cycles 0, 1, …; returns the read's
    /// Phred sum and G/C count as [`encode`] does. With `COUNT` false the counters are left
    /// alone (another device counts them) and only the sums are made.
    #[inline]
    pub(crate) fn add<const COUNT: bool>(&mut self, bases: &[u8], quals: &[u8]) -> (u64, u32) {
        let len = bases.len().min(quals.len());
        if self.codes.len() < len {
            self.codes.resize(len, 0);
        }
        let sums = encode(bases, quals, &mut self.codes);
        if !COUNT {
            return sums;
        }
        let codes = &self.codes[..len];
        let head = len.min(MAX_CYCLES - 1);
        for (row, &code) in self.pending.iter_mut().zip(&codes[..head]) {
            row[usize::from(code) & (CODES - 1)] += 1;
        }
        if len > head {
            let last = &mut self.totals[(MAX_CYCLES - 1) * COUNTERS_PER_CYCLE..];
            for &code in &codes[head..] {
                last[usize::from(code)] += 1;
            }
        }
        self.pending_reads += 1;
        if self.pending_reads == READS_PER_FLUSH {
            self.flush();
        }
        sums
    }

    /// Adds the 16-bit counters to the totals and clears them.
    fn flush(&mut self) {
        for (totals, row) in self.totals.chunks_exact_mut(COUNTERS_PER_CYCLE).zip(&mut self.pending)
        {
            for (total, count) in totals.iter_mut().zip(row.iter()) {
                *total += u64::from(*count);
            }
            *row = [0; ROW];
        }
        self.pending_reads = 0;
    }

    /// The counters of cycle `i` (the code of (class `b`, Phred `q`) at `b × QUALITY_LEVELS + q`).
    pub(crate) fn counters(&self, i: usize) -> [u64; COUNTERS_PER_CYCLE] {
        let mut counters = [0; COUNTERS_PER_CYCLE];
        counters
            .copy_from_slice(&self.totals[i * COUNTERS_PER_CYCLE..(i + 1) * COUNTERS_PER_CYCLE]);
        if let Some(row) = self.pending.get(i) {
            for (counter, &pending) in counters.iter_mut().zip(row.iter()) {
                *counter += u64::from(pending);
            }
        }
        counters
    }

    /// Adds counts made elsewhere, laid out like the totals.
    pub(crate) fn add_totals(&mut self, table: &[u64]) {
        self.grow(table.len() / COUNTERS_PER_CYCLE);
        for (mine, theirs) in self.totals.iter_mut().zip(table) {
            *mine += theirs;
        }
    }

    /// Adds every count of `other`.
    pub(crate) fn merge(&mut self, other: &CycleTable) {
        self.add_totals(&other.flat());
    }

    /// All counts as one list, cycle after cycle.
    fn flat(&self) -> Vec<u64> {
        (0..self.cycle_count()).flat_map(|i| self.counters(i)).collect()
    }
}

impl fmt::Debug for CycleTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CycleTable").field(&self.flat()).finish()
    }
}

impl Serialize for CycleTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.flat().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CycleTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let totals = Vec::<u64>::deserialize(deserializer)?;
        if totals.len() % COUNTERS_PER_CYCLE != 0 || totals.len() > MAX_CYCLES * COUNTERS_PER_CYCLE
        {
            return Err(serde::de::Error::custom(format!(
                "a cycle table of {} counters is not whole cycles of {COUNTERS_PER_CYCLE} (at most {MAX_CYCLES})",
                totals.len()
            )));
        }
        let mut table = CycleTable::default();
        table.add_totals(&totals);
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::mate::BASE_CLASS;

    /// The table-driven definition the vectorised loop must match.
    fn naive_code(base: u8, qual: u8) -> u16 {
        let phred = (qual.saturating_sub(33)).min(93);
        u16::from(BASE_CLASS[base as usize]) * 94 + u16::from(phred)
    }

    #[test]
    fn codes_match_the_tables_for_every_byte_pair() {
        let bases: Vec<u8> = (0..=255u8).flat_map(|b| [b; 256]).collect();
        let quals: Vec<u8> = (0..256 * 256).map(|i| i as u8).collect();
        let mut codes = vec![0; bases.len()];
        let (sum, gc) = encode(&bases, &quals, &mut codes);
        for ((&b, &q), &code) in bases.iter().zip(&quals).zip(&codes) {
            assert_eq!(code, naive_code(b, q), "base {b:#04x}, quality {q:#04x}");
        }
        let phred_sum: u64 = quals.iter().map(|&q| u64::from(q.saturating_sub(33).min(93))).sum();
        assert_eq!(sum, phred_sum);
        assert_eq!(gc, 4 * 256);
    }

    #[test]
    fn sixteen_bit_counters_roll_into_the_totals_exactly() {
        let mut table = CycleTable::default();
        table.grow(3);
        // More reads than one flush holds, so the count crosses into the totals.
        for _ in 0..READS_PER_FLUSH + 10 {
            table.add::<true>(b"ACg", b"I#~");
        }
        let n = u64::from(READS_PER_FLUSH + 10);
        assert_eq!(table.counters(0)[40], n); // A, Phred 40
        assert_eq!(table.counters(1)[94 + 2], n); // C, Phred 2
        assert_eq!(table.counters(2)[2 * 94 + 93], n); // g, Phred 93
        let json = serde_json::to_string(&table).unwrap();
        let back: CycleTable = serde_json::from_str(&json).unwrap();
        assert_eq!(format!("{back:?}"), format!("{table:?}"));
        let mut merged = back.clone();
        merged.merge(&table);
        assert_eq!(merged.counters(1)[96], 2 * n);
    }
}
