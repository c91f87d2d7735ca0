//! What the cycle counter hands back: per-cycle counters of each mate, exact integers.

/// Phred values told apart per cycle: 0..=93 (`!`..=`~` in Phred+33); lower bytes count as 0,
/// higher as 93. The same as `seqflow_qc::report::QUALITY_LEVELS`.
pub const QUALITY_LEVELS: usize = 94;
/// Base classes counted per cycle: A, C, G, T (either case) and anything else. The same as
/// `seqflow_qc::report::BASE_CLASSES`.
pub const BASE_CLASSES: usize = 5;
/// Counters per cycle: one per (base class, Phred value) pair, class-major.
pub const COUNTERS_PER_CYCLE: usize = BASE_CLASSES * QUALITY_LEVELS;
/// Mates told apart: read 1 (or the only read) and read 2.
pub const MATES: usize = 2;

/// Per-cycle counters of every read added since the last
/// [`take`](crate::CycleCounter::take), per mate.
///
/// `mates[m]` holds [`COUNTERS_PER_CYCLE`] counters per cycle, cycle after cycle: the counter
/// of (cycle `c`, base class `b`, Phred value `q`) is at `c × COUNTERS_PER_CYCLE + b ×
/// QUALITY_LEVELS + q`. There are as many cycles as the longest read of the mate had bases
/// with a quality (at most the counter's `max_cycles`; bases past the last cycle count in it).
/// This is the layout of `seqflow_qc::report::MateStats`'s cycle table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleCounts {
    /// The counters of read 1 and read 2.
    pub mates: [Vec<u64>; MATES],
}

impl CycleCounts {
    /// The cycles counted for `mate`.
    pub fn cycles(&self, mate: usize) -> usize {
        self.mates[mate].len() / COUNTERS_PER_CYCLE
    }

    /// Counts one read on the CPU, one base at a time: the reference the device's results
    /// are tested against. Only the first `min(seq.len(), qual.len())` bases are counted.
    ///
    /// ```
    /// use seqflow_gpu::{COUNTERS_PER_CYCLE, CycleCounts, QUALITY_LEVELS};
    /// let mut counts = CycleCounts::default();
    /// counts.add_on_cpu(0, b"AcN", b"I!~", 1000);
    /// assert_eq!(counts.cycles(0), 3);
    /// assert_eq!(counts.mates[0][40], 1); // cycle 0, A, Q40
    /// assert_eq!(counts.mates[0][COUNTERS_PER_CYCLE + QUALITY_LEVELS], 1); // cycle 1, C, Q0
    /// ```
    pub fn add_on_cpu(&mut self, mate: usize, seq: &[u8], qual: &[u8], max_cycles: usize) {
        let bases = seq.len().min(qual.len());
        let table = &mut self.mates[mate];
        let cycles = bases.min(max_cycles);
        if table.len() < cycles * COUNTERS_PER_CYCLE {
            table.resize(cycles * COUNTERS_PER_CYCLE, 0);
        }
        for (position, (&letter, &quality)) in seq.iter().zip(qual).enumerate() {
            let class = match letter | 0x20 {
                b'a' => 0,
                b'c' => 1,
                b'g' => 2,
                b't' => 3,
                _ => 4,
            };
            let phred = usize::from(quality.saturating_sub(33)).min(QUALITY_LEVELS - 1);
            let cycle = position.min(max_cycles - 1);
            table[cycle * COUNTERS_PER_CYCLE + class * QUALITY_LEVELS + phred] += 1;
        }
    }
}
