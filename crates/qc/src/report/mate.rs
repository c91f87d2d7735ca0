//! Statistics of one mate (read 1 or read 2): per-cycle quality and base content, per-read
//! mean quality, length and GC histograms, known adapters and overrepresented sequences.

use serde::{Deserialize, Serialize};

use crate::report::adapter::KnownAdapters;
use crate::report::counts::Counts;
use crate::report::cycles::CycleTable;
use crate::report::sample::OverrepresentedSample;

/// Phred values 0..=93 (`!`..=`~` in Phred+33).
pub const QUALITY_LEVELS: usize = 94;
/// Base classes counted per cycle: A, C, G, T, and N (any other letter).
pub const BASE_CLASSES: usize = 5;
/// Cycles kept apart; bases at later cycles are counted in the last one.
pub const MAX_CYCLES: usize = 1_000;
/// Per cycle: one counter per (base class, Phred value) pair; base counts, quality sums and the
/// quality histogram of the cycle are sums over this table, so a base costs one increment.
pub const COUNTERS_PER_CYCLE: usize = BASE_CLASSES * QUALITY_LEVELS;

/// Base class of each byte: 0 A, 1 C, 2 G, 3 T, 4 anything else (either case).
pub(crate) const BASE_CLASS: [u8; 256] = {
    let mut table = [4u8; 256];
    table[b'A' as usize] = 0;
    table[b'a' as usize] = 0;
    table[b'C' as usize] = 1;
    table[b'c' as usize] = 1;
    table[b'G' as usize] = 2;
    table[b'g' as usize] = 2;
    table[b'T' as usize] = 3;
    table[b't' as usize] = 3;
    table
};

/// Statistics of the reads of one mate; integer counts only, so merging is exact.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MateStats {
    /// Reads counted.
    pub reads: u64,
    /// Bases counted.
    pub bases: u64,
    /// `cycle × (base class × Phred value)` counters (see [`MateStats::cycle`]).
    cycles: CycleTable,
    /// Per-read mean Phred quality (rounded down).
    pub mean_quality: Counts,
    /// Read lengths.
    pub lengths: Counts,
    /// Per-read GC percentage (rounded to the nearest integer).
    pub gc_percent: Counts,
    /// Reads holding each known adapter.
    pub adapters: KnownAdapters,
    /// Sample of read sequences for the overrepresented-sequence report.
    pub overrepresented: OverrepresentedSample,
}

/// What counting a read learnt about it besides the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The read's G and C bases.
    pub gc: u32,
    /// Every base is one of `ACGTN` (either case), every quality a Phred+33 character, and
    /// there are as many qualities as bases: such a read passes any
    /// [`Validation`](seqflow_seqio::Validation) `qc` applies, so it needs no other check.
    pub plain: bool,
}

/// Counters of one cycle (read position), summed from its (base class, Phred value) table.
#[derive(Debug, Clone, Copy)]
pub struct Cycle {
    bases: [u64; BASE_CLASSES],
    quality_sums: [u64; BASE_CLASSES],
    qualities: [u64; QUALITY_LEVELS],
}

impl Cycle {
    fn of(table: &[u64; COUNTERS_PER_CYCLE]) -> Cycle {
        let mut cycle = Cycle {
            bases: [0; BASE_CLASSES],
            quality_sums: [0; BASE_CLASSES],
            qualities: [0; QUALITY_LEVELS],
        };
        for (class, row) in table.chunks_exact(QUALITY_LEVELS).enumerate() {
            for (phred, &count) in row.iter().enumerate() {
                cycle.bases[class] += count;
                cycle.quality_sums[class] += count * phred as u64;
                cycle.qualities[phred] += count;
            }
        }
        cycle
    }

    /// Bases of class `class` (0 A, 1 C, 2 G, 3 T, 4 N/other) at this cycle.
    pub fn bases(&self, class: usize) -> u64 {
        self.bases[class]
    }

    /// All bases at this cycle.
    pub fn total(&self) -> u64 {
        self.bases.iter().sum()
    }

    /// Sum of the Phred values of the bases of class `class`.
    pub fn quality_sum(&self, class: usize) -> u64 {
        self.quality_sums[class]
    }

    /// Number of bases with each Phred value 0..=93.
    pub fn qualities(&self) -> &[u64] {
        &self.qualities
    }
}

impl MateStats {
    /// Counts one read; `name_hash` selects it for the overrepresented-sequence sample.
    #[inline]
    pub fn add(&mut self, seq: &[u8], qual: &[u8], name_hash: u64) -> Counted {
        self.add_counting::<true>(seq, qual, name_hash)
    }

    /// Counts one read like [`add`](MateStats::add) except its bases in the cycle table, which
    /// the caller counts elsewhere (on a GPU) and adds with [`add_cycle_table`]: the table only
    /// grows to the read's length, so that [`cycle_count`](MateStats::cycle_count) stays right.
    ///
    /// [`add_cycle_table`]: MateStats::add_cycle_table
    #[inline]
    pub fn add_except_cycles(&mut self, seq: &[u8], qual: &[u8], name_hash: u64) -> Counted {
        self.add_counting::<false>(seq, qual, name_hash)
    }

    /// [`add`](MateStats::add), with or without the cycle table's increments (a constant, so
    /// that the CPU path compiles to the loop it had before there was a choice).
    #[inline]
    pub(crate) fn add_counting<const CYCLES: bool>(
        &mut self,
        seq: &[u8],
        qual: &[u8],
        name_hash: u64,
    ) -> Counted {
        self.cycles.grow(seq.len());
        let sums = self.cycles.add::<CYCLES>(seq, qual);
        let len = seq.len() as u64;
        self.reads += 1;
        self.bases += len;
        self.lengths.add(seq.len());
        if let Some(mean) = sums.phred.checked_div(len) {
            self.mean_quality.add(mean as usize);
            self.gc_percent.add(((u64::from(sums.gc) * 200 + len) / (2 * len)) as usize);
        }
        self.adapters.add(seq);
        self.overrepresented.add(seq, name_hash);
        Counted { gc: sums.gc, plain: sums.plain && seq.len() == qual.len() }
    }

    /// Adds a cycle table counted elsewhere (on a GPU) for reads given to
    /// [`add_except_cycles`](MateStats::add_except_cycles): [`COUNTERS_PER_CYCLE`] counters
    /// per cycle from cycle 0 on, the counter of (base class `b`, Phred value `q`) at
    /// `b × QUALITY_LEVELS + q`; bases past [`MAX_CYCLES`] counted in the last cycle.
    ///
    /// # Panics
    /// When `table` has more than [`MAX_CYCLES`] cycles or is not whole cycles.
    pub fn add_cycle_table(&mut self, table: &[u64]) {
        assert!(
            table.len() % COUNTERS_PER_CYCLE == 0 && table.len() <= MAX_CYCLES * COUNTERS_PER_CYCLE,
            "a cycle table of {} counters",
            table.len()
        );
        self.cycles.add_totals(table);
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &MateStats) {
        self.reads += other.reads;
        self.bases += other.bases;
        self.cycles.merge(&other.cycles);
        self.mean_quality.merge(&other.mean_quality);
        self.lengths.merge(&other.lengths);
        self.gc_percent.merge(&other.gc_percent);
        self.adapters.merge(&other.adapters);
        self.overrepresented.merge(&other.overrepresented);
    }

    /// Number of cycles seen (the longest read, at most [`MAX_CYCLES`]).
    pub fn cycle_count(&self) -> usize {
        self.cycles.cycle_count()
    }

    /// The counters of cycle `i` (0-based).
    pub fn cycle(&self, i: usize) -> Cycle {
        Cycle::of(&self.cycles.counters(i))
    }

    /// Number of bases with Phred quality ≥ `q`.
    pub fn bases_at_least(&self, q: usize) -> u64 {
        (0..self.cycle_count()).map(|i| self.cycle(i).qualities()[q..].iter().sum::<u64>()).sum()
    }

    /// Number of bases of class `class` over all cycles.
    pub fn class_total(&self, class: usize) -> u64 {
        (0..self.cycle_count()).map(|i| self.cycle(i).bases(class)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_hold_bases_and_qualities() {
        let mut mate = MateStats::default();
        mate.add(b"ACGN", b"I5!#", 1);
        mate.add(b"AC", b"II", 2);
        assert_eq!((mate.reads, mate.bases, mate.cycle_count()), (2, 6, 4));
        assert_eq!(mate.cycle(0).bases(0), 2);
        assert_eq!(mate.cycle(0).quality_sum(0), 80);
        assert_eq!(mate.cycle(2).qualities()[0], 1);
        assert_eq!(mate.cycle(3).bases(4), 1);
        assert_eq!(mate.bases_at_least(20), 4);
        assert_eq!(mate.bases_at_least(30), 3);
        // Means: (40 + 20 + 0 + 2) / 4 = 15; 40. GC: 2 of 4 = 50%; 1 of 2 = 50%.
        assert_eq!(mate.mean_quality.iter().collect::<Vec<_>>(), [(15, 1), (40, 1)]);
        assert_eq!(mate.gc_percent.iter().collect::<Vec<_>>(), [(50, 2)]);
        let mut merged = MateStats::default();
        merged.merge(&mate);
        merged.merge(&mate);
        assert_eq!((merged.reads, merged.bases_at_least(30)), (4, 6));
    }

    #[test]
    fn bases_past_the_last_cycle_count_in_it() {
        let seq: Vec<u8> = (0..MAX_CYCLES + 7).map(|i| b"ACGTN"[i % 5]).collect();
        let qual: Vec<u8> = (0..seq.len()).map(|i| b'!' + (i % 50) as u8).collect();
        let mut mate = MateStats::default();
        mate.add(&seq, &qual, 3);
        assert_eq!(mate.cycle_count(), MAX_CYCLES);
        let last = mate.cycle(MAX_CYCLES - 1);
        assert_eq!(last.total(), 8);
        let expected: u64 = (MAX_CYCLES - 1..seq.len()).map(|i| (i % 50) as u64).sum();
        assert_eq!((0..BASE_CLASSES).map(|c| last.quality_sum(c)).sum::<u64>(), expected);
        let totals: u64 = (0..MAX_CYCLES).map(|i| mate.cycle(i).total()).sum();
        assert_eq!(totals, seq.len() as u64);
        assert_eq!(mate.class_total(4), (0..seq.len()).filter(|i| i % 5 == 4).count() as u64);
    }

    #[test]
    fn counting_cycles_elsewhere_gives_the_same_state() {
        let reads: [(&[u8], &[u8]); 4] =
            [(b"ACGTNx", b"I5!#~\x7f"), (b"", b""), (b"GG", b"II"), (b"tacg", b"\x20!!+")];
        let (mut whole, mut apart) = (MateStats::default(), MateStats::default());
        let mut table = vec![0u64; 6 * COUNTERS_PER_CYCLE];
        for (i, (seq, qual)) in reads.into_iter().enumerate() {
            let counted = whole.add(seq, qual, i as u64);
            assert_eq!(apart.add_except_cycles(seq, qual, i as u64), counted);
            for (cycle, (&base, &q)) in seq.iter().zip(qual).enumerate() {
                let class = BASE_CLASS[base as usize] as usize;
                table[cycle * COUNTERS_PER_CYCLE
                    + class * QUALITY_LEVELS
                    + (q.saturating_sub(33).min(93)) as usize] += 1;
            }
        }
        // Before the table arrives: the same cycles, none counted.
        assert_eq!(apart.cycle_count(), 6);
        assert_eq!(apart.bases_at_least(0), 0);
        apart.add_cycle_table(&table);
        assert_eq!(format!("{apart:?}"), format!("{whole:?}"));
    }
}
