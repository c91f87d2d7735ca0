//! Statistics of one mate (read 1 or read 2): per-cycle quality and base content, per-read
//! mean quality, length and GC histograms, known adapters and overrepresented sequences.

use serde::{Deserialize, Serialize};

use crate::report::adapter::KnownAdapters;
use crate::report::counts::Counts;
use crate::report::sample::OverrepresentedSample;

/// Phred values 0..=93 (`!`..=`~` in Phred+33).
pub const QUALITY_LEVELS: usize = 94;
/// Base classes counted per cycle: A, C, G, T, and N (any other letter).
pub const BASE_CLASSES: usize = 5;
/// Cycles kept apart; bases at later cycles are counted in the last one.
pub const MAX_CYCLES: usize = 1_000;
/// Per cycle: base counts, quality sums per base class, quality histogram.
const CYCLE_STRIDE: usize = 2 * BASE_CLASSES + QUALITY_LEVELS;

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
    /// `cycle × CYCLE_STRIDE` counters (see [`MateStats::cycle`]).
    cycles: Vec<u64>,
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

/// Counters of one cycle (read position).
#[derive(Debug, Clone, Copy)]
pub struct Cycle<'a> {
    counters: &'a [u64],
}

impl Cycle<'_> {
    /// Bases of class `class` (0 A, 1 C, 2 G, 3 T, 4 N/other) at this cycle.
    pub fn bases(&self, class: usize) -> u64 {
        self.counters[class]
    }

    /// All bases at this cycle.
    pub fn total(&self) -> u64 {
        self.counters[..BASE_CLASSES].iter().sum()
    }

    /// Sum of the Phred values of the bases of class `class`.
    pub fn quality_sum(&self, class: usize) -> u64 {
        self.counters[BASE_CLASSES + class]
    }

    /// Number of bases with each Phred value 0..=93.
    pub fn qualities(&self) -> &[u64] {
        &self.counters[2 * BASE_CLASSES..]
    }
}

impl MateStats {
    /// Counts one read; `name_hash` selects it for the overrepresented-sequence sample.
    #[inline]
    pub fn add(&mut self, seq: &[u8], qual: &[u8], name_hash: u64) {
        let cycles = seq.len().min(MAX_CYCLES);
        if self.cycles.len() < cycles * CYCLE_STRIDE {
            self.cycles.resize(cycles * CYCLE_STRIDE, 0);
        }
        let (mut quality_sum, mut gc) = (0u64, 0u64);
        for (i, (&base, &q)) in seq.iter().zip(qual).enumerate() {
            let class = BASE_CLASS[base as usize] as usize;
            let phred = (q.saturating_sub(33) as usize).min(QUALITY_LEVELS - 1);
            let at = i.min(MAX_CYCLES - 1) * CYCLE_STRIDE;
            let cell = &mut self.cycles[at..at + CYCLE_STRIDE];
            cell[class] += 1;
            cell[BASE_CLASSES + class] += phred as u64;
            cell[2 * BASE_CLASSES + phred] += 1;
            quality_sum += phred as u64;
            gc += u64::from(class == 1 || class == 2);
        }
        let len = seq.len() as u64;
        self.reads += 1;
        self.bases += len;
        self.lengths.add(seq.len());
        if let Some(mean) = quality_sum.checked_div(len) {
            self.mean_quality.add(mean as usize);
            self.gc_percent.add(((gc * 200 + len) / (2 * len)) as usize);
        }
        self.adapters.add(seq);
        self.overrepresented.add(seq, name_hash);
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &MateStats) {
        self.reads += other.reads;
        self.bases += other.bases;
        if other.cycles.len() > self.cycles.len() {
            self.cycles.resize(other.cycles.len(), 0);
        }
        for (mine, theirs) in self.cycles.iter_mut().zip(&other.cycles) {
            *mine += theirs;
        }
        self.mean_quality.merge(&other.mean_quality);
        self.lengths.merge(&other.lengths);
        self.gc_percent.merge(&other.gc_percent);
        self.adapters.merge(&other.adapters);
        self.overrepresented.merge(&other.overrepresented);
    }

    /// Number of cycles seen (the longest read, at most [`MAX_CYCLES`]).
    pub fn cycle_count(&self) -> usize {
        self.cycles.len() / CYCLE_STRIDE
    }

    /// The counters of cycle `i` (0-based).
    pub fn cycle(&self, i: usize) -> Cycle<'_> {
        Cycle { counters: &self.cycles[i * CYCLE_STRIDE..(i + 1) * CYCLE_STRIDE] }
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
}
