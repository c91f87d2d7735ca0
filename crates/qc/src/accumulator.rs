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
    /// Histogram of the sequence bytes (line breaks of FASTA included, ignored later).
    pub(crate) bases: ByteHistogram,
    /// Histogram of the quality bytes.
    pub(crate) quals: ByteHistogram,
}

impl Accumulator {
    /// Adds every record of `batch`.
    pub fn add_batch(&mut self, batch: &Batch) {
        if batch.is_empty() {
            return;
        }
        self.format = Some(batch.format());
        if batch.index() == 0 {
            // The type is guessed from the input's first record, whichever worker sees it.
            let first = batch.get(0);
            let seq = first.seq();
            self.seq_type = Some(SeqType::guess(&seq[..seq.len().min(TYPE_GUESS_LETTERS)]));
        }
        for record in batch.records() {
            self.lengths.add(record.seq_len());
            self.bases.add(record.seq_raw());
            if let Some(qual) = record.qual() {
                self.quals.add(qual);
            }
        }
        self.num_seqs += batch.len() as u64;
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

/// A byte histogram spread over four tables, so that runs of equal bytes do not serialise
/// on one counter (a store-to-load dependency); the tables are summed when read.
#[derive(Debug, Clone)]
pub(crate) struct ByteHistogram {
    tables: Box<[[u64; 256]; 4]>,
}

impl Default for ByteHistogram {
    fn default() -> Self {
        ByteHistogram { tables: Box::new([[0; 256]; 4]) }
    }
}

impl ByteHistogram {
    #[inline]
    pub(crate) fn add(&mut self, bytes: &[u8]) {
        let [t0, t1, t2, t3] = &mut *self.tables;
        let mut quads = bytes.chunks_exact(4);
        for q in &mut quads {
            t0[q[0] as usize] += 1;
            t1[q[1] as usize] += 1;
            t2[q[2] as usize] += 1;
            t3[q[3] as usize] += 1;
        }
        for &b in quads.remainder() {
            t0[b as usize] += 1;
        }
    }

    pub(crate) fn merge(&mut self, other: &ByteHistogram) {
        for (mine, theirs) in self.tables.iter_mut().zip(other.tables.iter()) {
            for (sum, count) in mine.iter_mut().zip(theirs) {
                *sum += count;
            }
        }
    }

    /// Count of each byte value.
    pub(crate) fn totals(&self) -> [u64; 256] {
        let mut total = [0; 256];
        for table in self.tables.iter() {
            for (sum, count) in total.iter_mut().zip(table) {
                *sum += count;
            }
        }
        total
    }
}
