//! Batched FASTA/FASTQ reading for memory-bounded parallel pipelines.
//!
//! One thread runs a [`Reader`], which only splits the input into [`Batch`]es: one contiguous
//! byte buffer per batch plus a table of record offsets (identifier, sequence, quality). The
//! batches go whole to consumer threads and come back to be refilled, so no record is copied
//! or allocated on its own, and the number of batches in circulation bounds memory.
//!
//! - FASTA (any line width) and FASTQ, four-line or wrapped (sequence and quality over several
//!   lines, read on a separate path only when a record is not four-line); `\r\n` endings;
//!   blank lines between records.
//! - Compression detected from magic bytes: plain, gzip (multi-member), BGZF (inflated in
//!   parallel with libdeflate when given threads), zstd. Decoding runs on its own thread.
//! - Structural checks always (markers, sequence/quality length, truncation); alphabet and
//!   quality-range checks on request ([`Validation`]). Errors name the input, line, byte and
//!   record; a record over [`ReaderOptions::max_record_len`] is an error, not an OOM kill.
//! - Case is preserved: nothing here treats lowercase as meaningful.
//!
//! ```
//! use seqflow_seqio::{Batch, Reader, ReaderOptions};
//! let fastq = b"@r1 lane=1\nACGTN\n+\nIIII#\n@r2\nGGC\n+\n!!!\n";
//! let mut reader = Reader::new(&fastq[..], "reads.fq", ReaderOptions::default())?;
//! let mut batch = Batch::default();
//! let mut bases = 0;
//! while reader.read_batch(&mut batch)? > 0 {
//!     bases += batch.records().map(|r| r.seq_len()).sum::<usize>();
//! }
//! assert_eq!(bases, 8);
//! # Ok::<(), seqflow_seqio::Error>(())
//! ```

mod batch;
mod bgzf;
mod compression;
mod error;
mod newlines;
mod reader;
mod scan;
mod threaded;
mod validate;
mod writer;

pub use batch::{Batch, Format, Record};
pub use compression::Compression;
pub use error::{Error, Position, Result};
pub use reader::{Reader, ReaderOptions};
pub use validate::{Alphabet, PHRED33_MAX, PHRED33_MIN, Validation};
pub use writer::{FastaWriter, FastqWriter};
