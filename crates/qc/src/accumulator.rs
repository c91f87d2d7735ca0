//! Per-worker accumulation of sequence statistics, mergeable in any order.
//!
//! Everything is an integer count (length histogram, byte histograms of sequence and
//! quality), so merging partial results from any number of workers, in any order, gives
//! exactly the same totals: the statistics do not depend on the thread count.

use std::collections::BTreeMap;

use seqflow_seqio::{Batch, Format};

use crate::alphabet::SeqType;

/// Lengths below this are counted in a dense array; longer ones in a sorted map.
const DENSE_LENGTHS: usize = 1 << 16;

/// How many sequence letters the type guess looks at (as seqkit does).
const TYPE_GUESS_LETTERS: usize = 10_000;

/// Counts of sequence lengths: `length → number of sequences`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LengthHistogram {
    dense: Vec<u64>,
    sparse: BTreeMap<u64, u64>,
}

impl LengthHistogram {
    /// Counts one sequence of length `len`.
    #[inline]
    pub fn add(&mut self, len: usize) {
        if len < DENSE_LENGTHS {
            if len >= self.dense.len() {
                self.dense.resize((len + 1).next_power_of_two().min(DENSE_LENGTHS), 0);
            }
            self.dense[len] += 1;
        } else {
            *self.sparse.entry(len as u64).or_default() += 1;
        }
    }

    /// Adds all counts of `other`.
    pub fn merge(&mut self, other: &LengthHistogram) {
        if other.dense.len() > self.dense.len() {
            self.dense.resize(other.dense.len(), 0);
        }
        for (mine, theirs) in self.dense.iter_mut().zip(&other.dense) {
            *mine += theirs;
        }
        for (&len, &count) in &other.sparse {
            *self.sparse.entry(len).or_default() += count;
        }
    }

    /// `(length, count)` pairs in increasing length, zero counts skipped.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, u64)> + '_ {
        let dense = self.dense.iter().enumerate().filter(|(_, c)| **c > 0);
        dense.map(|(len, &c)| (len as u64, c)).chain(self.sparse.iter().map(|(&l, &c)| (l, c)))
    }
}

/// Statistics of one input, accumulated batch by batch.
///
/// ```
/// use seqflow_qc::Accumulator;
/// use seqflow_seqio::{Batch, Reader, ReaderOptions};
/// let mut reader = Reader::new(&b">a\nACGTN\n>b\nGG\n"[..], "x.fa", ReaderOptions::default())?;
/// let (mut batch, mut acc) = (Batch::default(), Accumulator::default());
/// while reader.read_batch(&mut batch)? > 0 {
///     acc.add_batch(&batch);
/// }
/// let summary = acc.summarize("x.fa");
/// assert_eq!((summary.num_seqs, summary.sum_len, summary.sum_n), (2, 7, 1));
/// # Ok::<(), seqflow_seqio::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    pub(crate) format: Option<Format>,
    pub(crate) seq_type: Option<SeqType>,
    pub(crate) num_seqs: u64,
    pub(crate) lengths: LengthHistogram,
    /// Counts of the letter classes the statistics need.
    pub(crate) bases: BaseCounts,
    /// Histogram of the quality bytes.
    pub(crate) quals: ByteHistogram,
}

impl Accumulator {
    /// Adds every record of `batch`.
    pub fn add_batch(&mut self, batch: &Batch) {
        if batch.is_empty() {
            return;
        }
        self.note_input(batch);
        for record in batch.records() {
            // A FASTA record longer than a batch comes in pieces (possibly to different
            // workers): letters are counted per piece, the record once, with its full length,
            // by whoever gets its last piece.
            self.bases.add(record.seq_raw());
            if let Some(qual) = record.qual() {
                self.quals.add(qual);
            }
            if record.ends_record() {
                self.lengths.add(usize::try_from(record.record_seq_len()).unwrap_or(usize::MAX));
                self.num_seqs += 1;
            }
        }
    }

    /// Adds the records of `batch` without counting their letters: the number of sequences,
    /// lengths, format and type, everything [`add_batch`](Self::add_batch) adds except the
    /// quality histogram and the G/C, N and gap counts. The caller adds those later with
    /// [`add_letter_counts`](Self::add_letter_counts) (counted on a GPU, say).
    pub fn add_records(&mut self, batch: &Batch) {
        if batch.is_empty() {
            return;
        }
        self.note_input(batch);
        for record in batch.records() {
            if record.ends_record() {
                self.lengths.add(usize::try_from(record.record_seq_len()).unwrap_or(usize::MAX));
                self.num_seqs += 1;
            }
        }
    }

    /// Notes the format, and the type when `batch` (not empty) is the input's first.
    #[inline]
    fn note_input(&mut self, batch: &Batch) {
        self.format = Some(batch.format());
        if batch.index() == 0 {
            // The type is guessed from the input's first record, whichever worker sees it.
            let first = batch.get(0);
            let seq = first.seq();
            self.seq_type = Some(SeqType::guess(&seq[..seq.len().min(TYPE_GUESS_LETTERS)]));
        }
    }

    /// Adds letter counts made elsewhere: `quality[b]` quality bytes of value `b`, and the
    /// sequence letters `G`/`C`/`g`/`c`, `N`/`n` and gaps (`-`, `.`, space), as
    /// [`add_batch`](Self::add_batch) counts them. Together with
    /// [`add_records`](Self::add_records) this gives the same totals as `add_batch`.
    ///
    /// ```
    /// use seqflow_qc::Accumulator;
    /// use seqflow_seqio::{Batch, Reader, ReaderOptions};
    /// let data = b"@r1\nACGTN\n+\nII#5?\n";
    /// let mut reader = Reader::new(&data[..], "q.fq", ReaderOptions::default())?;
    /// let (mut batch, mut whole, mut split) =
    ///     (Batch::default(), Accumulator::default(), Accumulator::default());
    /// while reader.read_batch(&mut batch)? > 0 {
    ///     whole.add_batch(&batch);
    ///     split.add_records(&batch);
    /// }
    /// let mut quality = [0; 256];
    /// for q in b"II#5?" {
    ///     quality[*q as usize] += 1;
    /// }
    /// split.add_letter_counts(&quality, 2, 1, 0);
    /// assert_eq!(split.summarize("q.fq"), whole.summarize("q.fq"));
    /// # Ok::<(), seqflow_seqio::Error>(())
    /// ```
    pub fn add_letter_counts(&mut self, quality: &[u64; 256], gc: u64, n: u64, gaps: u64) {
        self.quals.add_counts(quality);
        self.bases.add_totals([gc, n, gaps]);
    }

    /// Adds the counts of another accumulator of the same input.
    pub fn merge(&mut self, other: &Accumulator) {
        self.format = self.format.or(other.format);
        self.seq_type = self.seq_type.or(other.seq_type);
        self.num_seqs += other.num_seqs;
        self.lengths.merge(&other.lengths);
        self.bases.merge(&other.bases);
        self.quals.merge(&other.quals);
    }
}

/// Counts of the sequence letters that the statistics use.
///
/// Counting is vectorised: each 32-byte block is compared at once into 8-bit lane counters,
/// which persist across calls (reads are short, so per-call set-up would dominate) and are
/// widened into the 64-bit totals before they can overflow. A final partial block is copied
/// into a zeroed block, so short sequences need no scalar loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct BaseCounts {
    totals: [u64; 3],
    lanes: [[u8; LANES]; 3],
    /// Blocks added to `lanes` since the last flush.
    pending: usize,
}

/// Width of the lane arrays: two SSE2 registers or one AVX2 register.
const LANES: usize = 32;
/// Blocks summed in 8-bit lanes before they could overflow (each block adds at most 1).
const BLOCKS_PER_FLUSH: usize = 255;
const GC: usize = 0;
const N: usize = 1;
const GAPS: usize = 2;

impl BaseCounts {
    /// Counts the classes in `seq` (FASTA line breaks match no class).
    #[inline]
    pub(crate) fn add(&mut self, seq: &[u8]) {
        let mut blocks = seq.chunks_exact(LANES);
        for block in &mut blocks {
            self.add_block(block.try_into().expect("32 bytes"));
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut padded = [0u8; LANES];
            padded[..rest.len()].copy_from_slice(rest);
            self.add_block(&padded);
        }
    }

    #[inline(always)]
    fn add_block(&mut self, block: &[u8; LANES]) {
        let [gc, n, gaps] = &mut self.lanes;
        for i in 0..LANES {
            let (b, folded) = (block[i], block[i] | 0x20);
            gc[i] += u8::from(folded == b'g') | u8::from(folded == b'c');
            n[i] += u8::from(folded == b'n');
            gaps[i] += u8::from(b == b'-') | u8::from(b == b'.') | u8::from(b == b' ');
        }
        self.pending += 1;
        if self.pending == BLOCKS_PER_FLUSH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for (total, lanes) in self.totals.iter_mut().zip(&mut self.lanes) {
            *total += lanes.iter().map(|&c| u64::from(c)).sum::<u64>();
            *lanes = [0; LANES];
        }
        self.pending = 0;
    }

    fn total(&self, class: usize) -> u64 {
        self.totals[class] + self.lanes[class].iter().map(|&c| u64::from(c)).sum::<u64>()
    }

    /// `G`, `C`, `g`, `c`.
    pub(crate) fn gc(&self) -> u64 {
        self.total(GC)
    }

    /// `N`, `n`.
    pub(crate) fn n(&self) -> u64 {
        self.total(N)
    }

    /// Gap letters: `-`, `.` and space.
    pub(crate) fn gaps(&self) -> u64 {
        self.total(GAPS)
    }

    /// Adds counts of the classes made elsewhere, in the order G/C, N, gaps.
    pub(crate) fn add_totals(&mut self, counts: [u64; 3]) {
        for (total, count) in self.totals.iter_mut().zip(counts) {
            *total += count;
        }
    }

    pub(crate) fn merge(&mut self, other: &BaseCounts) {
        for (class, total) in self.totals.iter_mut().enumerate() {
            *total += other.total(class);
        }
    }
}

/// A byte histogram spread over eight tables of 32-bit counters, so that runs of equal bytes
/// do not serialise on one counter (a store-to-load dependency) and the tables stay small in
/// L1; the bytes are taken eight at a time from one 64-bit load. The tables are added into
/// 64-bit totals before a counter could overflow, and summed when read.
#[derive(Debug, Clone)]
pub(crate) struct ByteHistogram {
    tables: Box<[[u32; 256]; 8]>,
    totals: Box<[u64; 256]>,
    /// Bytes counted in `tables` since they were last added into `totals`.
    pending: u64,
}

/// Bytes counted in the 32-bit tables before they are added into the totals (any one counter
/// then holds at most this many).
const HISTOGRAM_FLUSH: u64 = 1 << 31;

impl Default for ByteHistogram {
    fn default() -> Self {
        ByteHistogram { tables: Box::new([[0; 256]; 8]), totals: Box::new([0; 256]), pending: 0 }
    }
}

impl ByteHistogram {
    #[inline]
    pub(crate) fn add(&mut self, bytes: &[u8]) {
        let [t0, t1, t2, t3, t4, t5, t6, t7] = &mut *self.tables;
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            t0[(w & 0xff) as usize] += 1;
            t1[((w >> 8) & 0xff) as usize] += 1;
            t2[((w >> 16) & 0xff) as usize] += 1;
            t3[((w >> 24) & 0xff) as usize] += 1;
            t4[((w >> 32) & 0xff) as usize] += 1;
            t5[((w >> 40) & 0xff) as usize] += 1;
            t6[((w >> 48) & 0xff) as usize] += 1;
            t7[(w >> 56) as usize] += 1;
        }
        for &b in words.remainder() {
            t0[b as usize] += 1;
        }
        self.pending += bytes.len() as u64;
        if self.pending >= HISTOGRAM_FLUSH {
            self.flush();
        }
    }

    /// Adds the 32-bit tables into the totals and clears them.
    fn flush(&mut self) {
        for table in self.tables.iter_mut() {
            for (total, count) in self.totals.iter_mut().zip(table.iter_mut()) {
                *total += u64::from(std::mem::take(count));
            }
        }
        self.pending = 0;
    }

    /// Adds `counts[b]` bytes of each value `b`.
    pub(crate) fn add_counts(&mut self, counts: &[u64; 256]) {
        for (sum, count) in self.totals.iter_mut().zip(counts) {
            *sum += count;
        }
    }

    pub(crate) fn merge(&mut self, other: &ByteHistogram) {
        for (sum, count) in self.totals.iter_mut().zip(other.totals()) {
            *sum += count;
        }
    }

    /// Count of each byte value.
    pub(crate) fn totals(&self) -> [u64; 256] {
        let mut total = *self.totals;
        for table in self.tables.iter() {
            for (sum, &count) in total.iter_mut().zip(table) {
                *sum += u64::from(count);
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(seq: &[u8]) -> [u64; 3] {
        let count = |set: &[u8]| seq.iter().filter(|b| set.contains(b)).count() as u64;
        [count(b"GCgc"), count(b"Nn"), count(b"-. ")]
    }

    fn counted(counts: &BaseCounts) -> [u64; 3] {
        [counts.gc(), counts.n(), counts.gaps()]
    }

    #[test]
    fn byte_histogram_counts_every_byte_once_across_flushes_and_merges() {
        let mut state = 99u64;
        let bytes: Vec<u8> = (0..10_007)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                // Runs of one value as well as every value.
                if state >> 62 == 0 { b'I' } else { (state >> 40) as u8 }
            })
            .collect();
        let mut naive = [0u64; 256];
        for &b in &bytes {
            naive[b as usize] += 1;
        }
        let (mut whole, mut pieces, mut other) =
            (ByteHistogram::default(), ByteHistogram::default(), ByteHistogram::default());
        whole.add(&bytes);
        assert_eq!(whole.totals(), naive);
        // Odd piece lengths (remainders at every offset), a flush in the middle, and the second
        // half counted elsewhere and merged.
        let (first, second) = bytes.split_at(5_003);
        for piece in first.chunks(13) {
            pieces.add(piece);
        }
        pieces.flush();
        for piece in second.chunks(7) {
            other.add(piece);
        }
        pieces.merge(&other);
        assert_eq!(pieces.totals(), naive);
        assert_eq!(pieces.pending, 0, "merging adds totals, not pending counts");
    }

    #[test]
    fn vectorised_counts_equal_naive_counts() {
        let alphabet = b"ACGTNacgtn-. \nRY\xc7\xe7\xce";
        let mut state = 12345u64;
        for len in [0, 1, 31, 32, 33, 127 * 32 - 1, 127 * 32, 127 * 32 + 1, 10_000, 100_003] {
            let seq: Vec<u8> = (0..len)
                .map(|_| {
                    state =
                        state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            let mut counts = BaseCounts::default();
            counts.add(&seq);
            assert_eq!(counted(&counts), naive(&seq), "length {len}");
            // Many short calls share the lane counters.
            let mut pieces = BaseCounts::default();
            seq.chunks(7).for_each(|piece| pieces.add(piece));
            assert_eq!(counted(&pieces), naive(&seq), "length {len} in pieces");
        }
        // A run of a single letter fills every lane as fast as possible.
        let mut counts = BaseCounts::default();
        counts.add(&[b'G'; 200_000]);
        let mut merged = BaseCounts::default();
        merged.merge(&counts);
        merged.merge(&counts);
        assert_eq!((counts.gc(), merged.gc()), (200_000, 400_000));
    }

    #[test]
    fn length_histogram_dense_and_sparse() {
        let mut h = LengthHistogram::default();
        for len in [5, 5, 70_000, 3, 70_000, 1 << 40] {
            h.add(len);
        }
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, [(3, 1), (5, 2), (70_000, 2), (1 << 40, 1)]);
    }
}
