//! Read quality control (`seqflow qc`): the per-read consumers, their mergeable state, and
//! the finished report in fastp's JSON schema.
//!
//! A [`QcAccumulator`] per worker takes single reads or pairs; accumulators hold integer
//! counts and hash-chosen samples only, so they merge — in any order, across workers or
//! across shards of one input saved with serde — into exactly the state one pass over the
//! whole input gives. [`QcAccumulator::report`] turns the state into a [`FastpReport`].

mod adapter;
mod check;
mod counts;
mod cycles;
mod fastp;
mod hash_counts;
mod html;
mod letters;
mod mate;
mod sample;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed as hash;

pub use adapter::{
    ADAPTER_CONSENSUS_LEN, AdapterTail, KNOWN_ADAPTERS, KnownAdapters, MAX_MISMATCHES, MIN_OVERLAP,
    Overlap, find_overlap,
};
pub use check::fastq_bytes_valid;
pub use counts::Counts;
pub use fastp::{FastpReport, MateReport, SeqflowSection};
pub use html::render_html;
pub use mate::{
    BASE_CLASSES, COUNTERS_PER_CYCLE, Counted, Cycle, MAX_CYCLES, MateStats, QUALITY_LEVELS,
};
pub use sample::{
    DUPLICATION_CAPACITY, DUPLICATION_LEVELS, DuplicationSample, OVERREPRESENTED_CAPACITY,
    OVERREPRESENTED_PREFIX, OverrepresentedSample,
};

/// Seeds of the two sample hashes, XXH3 (any fixed values; changing them, or the hash, changes
/// the samples: `seqflow qc merge` refuses partial files of another version).
const SEQUENCE_SEED: u64 = 0x5eef_10c0_d0b1;
const NAME_SEED: u64 = 0x5eef_10c0_0e11;

/// Insert sizes counted apart in the histogram (longer ones are in the last slot).
pub const MAX_INSERT: usize = 1_000;

/// The read name shared by both mates: the identifier without a trailing `/1` or `/2`.
///
/// ```
/// use seqflow_qc::report::mate_name;
/// assert_eq!(mate_name(b"read7/1"), mate_name(b"read7/2"));
/// assert_eq!(mate_name(b"read7"), b"read7");
/// ```
pub fn mate_name(id: &[u8]) -> &[u8] {
    match id {
        [rest @ .., b'/', b'1' | b'2'] => rest,
        _ => id,
    }
}

/// Statistics of a whole QC run: one or two mates, pair overlaps and the duplication sample.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QcAccumulator {
    /// Whether reads come in pairs.
    pub paired: bool,
    /// Read 1 (or the only read).
    pub read1: MateStats,
    /// Read 2 (empty for single end).
    pub read2: MateStats,
    /// Sequence-hash sample of reads (pairs: both mates) for the duplication rate.
    pub duplication: DuplicationSample,
    /// Insert sizes of overlapping pairs.
    pub insert_sizes: Counts,
    /// Pairs whose mates do not overlap (insert size unknown).
    pub insert_unknown: u64,
    /// Adapter read past the insert in read 1.
    pub adapter1: AdapterTail,
    /// Adapter read past the insert in read 2.
    pub adapter2: AdapterTail,
    #[serde(skip)]
    scratch: Vec<u8>,
}

impl QcAccumulator {
    /// An empty accumulator for single-end (`paired = false`) or paired-end reads.
    pub fn new(paired: bool) -> Self {
        QcAccumulator { paired, ..QcAccumulator::default() }
    }

    /// Counts one single-end read. Returns true when its bytes are plain (see
    /// [`Counted::plain`]): a caller that validates need check only the other reads.
    pub fn add_read(&mut self, id: &[u8], seq: &[u8], qual: &[u8]) -> bool {
        self.add_read_counting::<true>(id, seq, qual)
    }

    /// Counts one single-end read except its per-cycle counters, which the caller counts
    /// elsewhere (on a GPU) and adds with [`MateStats::add_cycle_table`].
    pub fn add_read_except_cycles(&mut self, id: &[u8], seq: &[u8], qual: &[u8]) -> bool {
        self.add_read_counting::<false>(id, seq, qual)
    }

    /// Counts one pair; the caller has checked that the names match. Returns true when the
    /// bytes of both mates are plain (see [`Counted::plain`]).
    pub fn add_pair(&mut self, id: &[u8], r1: (&[u8], &[u8]), r2: (&[u8], &[u8])) -> bool {
        self.add_pair_counting::<true>(id, r1, r2)
    }

    /// Counts one pair except the per-cycle counters of both mates, which the caller counts
    /// elsewhere (on a GPU) and adds with [`MateStats::add_cycle_table`].
    pub fn add_pair_except_cycles(
        &mut self,
        id: &[u8],
        r1: (&[u8], &[u8]),
        r2: (&[u8], &[u8]),
    ) -> bool {
        self.add_pair_counting::<false>(id, r1, r2)
    }

    #[inline]
    fn add_read_counting<const CYCLES: bool>(
        &mut self,
        id: &[u8],
        seq: &[u8],
        qual: &[u8],
    ) -> bool {
        let seq_hash = hash(seq, SEQUENCE_SEED);
        self.duplication.prefetch(seq_hash);
        let name_hash = hash(mate_name(id), NAME_SEED);
        let counted = self.read1.add_counting::<CYCLES>(seq, qual, name_hash);
        self.duplication.add(seq_hash, counted.gc, seq.len() as u32);
        counted.plain
    }

    #[inline]
    fn add_pair_counting<const CYCLES: bool>(
        &mut self,
        id: &[u8],
        r1: (&[u8], &[u8]),
        r2: (&[u8], &[u8]),
    ) -> bool {
        let pair_hash = hash(r1.0, SEQUENCE_SEED) ^ hash(r2.0, SEQUENCE_SEED).rotate_left(17);
        self.duplication.prefetch(pair_hash);
        let name_hash = hash(mate_name(id), NAME_SEED);
        let counted1 = self.read1.add_counting::<CYCLES>(r1.0, r1.1, name_hash);
        let counted2 = self.read2.add_counting::<CYCLES>(r2.0, r2.1, name_hash);
        let gc = counted1.gc + counted2.gc;
        self.duplication.add(pair_hash, gc, (r1.0.len() + r2.0.len()) as u32);
        match find_overlap(r1.0, r2.0, &mut self.scratch) {
            Overlap::None => self.insert_unknown += 1,
            Overlap::Insert(size) => {
                self.insert_sizes.add(size.min(MAX_INSERT));
                self.adapter1.add(r1.0.get(size..).unwrap_or_default());
                self.adapter2.add(r2.0.get(size..).unwrap_or_default());
            }
        }
        counted1.plain && counted2.plain
    }

    /// Adds every count of `other` (another worker's or another shard's).
    pub fn merge(&mut self, other: &QcAccumulator) {
        self.paired |= other.paired;
        self.read1.merge(&other.read1);
        self.read2.merge(&other.read2);
        self.duplication.merge(&other.duplication);
        self.insert_sizes.merge(&other.insert_sizes);
        self.insert_unknown += other.insert_unknown;
        self.adapter1.merge(&other.adapter1);
        self.adapter2.merge(&other.adapter2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_count_both_mates_and_the_insert() {
        let insert = b"ACGTTGCAAGGCTTACCGATAGGCATCAGTTCGAAGCTTGACTGCAAT";
        let r1 = [&insert[..], b"AGATCGGAAGAGCACA"].concat();
        let rc: Vec<u8> = insert
            .iter()
            .rev()
            .map(|&b| match b {
                b'A' => b'T',
                b'C' => b'G',
                b'G' => b'C',
                _ => b'A',
            })
            .collect();
        let r2 = [&rc[..], b"AGATCGGAAGAGCGTC"].concat();
        let (q1, q2) = (vec![b'I'; r1.len()], vec![b'5'; r2.len()]);
        let mut acc = QcAccumulator::new(true);
        acc.add_pair(b"p1/1", (&r1, &q1), (&r2, &q2));
        assert_eq!((acc.read1.reads, acc.read2.reads), (1, 1));
        assert_eq!(acc.insert_sizes.iter().collect::<Vec<_>>(), [(48, 1)]);
        assert_eq!((acc.adapter1.bases, acc.adapter2.bases), (16, 16));
        assert_eq!(acc.adapter1.consensus(), "AGATCGGAAGAGCACA");
        assert_eq!(acc.read1.adapters.reads_with(0), 1);
    }
}
