//! Sequence statistics and quality control over batched FASTA/FASTQ.
//!
//! An [`Accumulator`] per worker consumes [`seqflow_seqio::Batch`]es; accumulators merge in
//! any order to the same totals, and [`Accumulator::summarize`] computes the columns of
//! `seqkit stats -a` ([`Summary`]), rendered by [`render_table`] or [`render_tsv`].
//!
//! ```
//! use seqflow_qc::Accumulator;
//! use seqflow_seqio::{Batch, Reader, ReaderOptions};
//! let data = b"@r1\nACGT\n+\nIIII\n@r2\nGGCCNN\n+\n!!!!!!\n";
//! let mut reader = Reader::new(&data[..], "reads.fq", ReaderOptions::default())?;
//! let (mut batch, mut acc) = (Batch::default(), Accumulator::default());
//! while reader.read_batch(&mut batch)? > 0 {
//!     acc.add_batch(&batch);
//! }
//! let row = acc.summarize("reads.fq");
//! assert_eq!((row.num_seqs, row.sum_len, row.n50, row.q30), (2, 10, 6, 40.0));
//! # Ok::<(), seqflow_seqio::Error>(())
//! ```

mod accumulator;
mod alphabet;
mod summary;
mod table;

pub use accumulator::{Accumulator, LengthHistogram};
pub use alphabet::SeqType;
pub use summary::Summary;
pub use table::{BASIC_COLUMNS, COLUMNS, render_table, render_tsv};
pub mod report;
