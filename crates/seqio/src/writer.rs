//! FASTA and FASTQ writers.

use std::io::{self, Write};

use crate::batch::Record;

/// Writes FASTA records, wrapping sequences at a fixed width.
///
/// ```
/// use seqflow_seqio::FastaWriter;
/// let mut out = FastaWriter::new(Vec::new()).line_width(4);
/// out.write_record(b"chr1 first", b"ACGTACG")?;
/// assert_eq!(out.into_inner()?, b">chr1 first\nACGT\nACG\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct FastaWriter<W: Write> {
    inner: io::BufWriter<W>,
    line_width: usize,
}

impl<W: Write> FastaWriter<W> {
    /// A writer with 60 letters per line.
    pub fn new(inner: W) -> Self {
        FastaWriter { inner: io::BufWriter::with_capacity(1 << 16, inner), line_width: 60 }
    }

    /// Sets the letters per line; 0 writes each sequence on one line.
    pub fn line_width(mut self, width: usize) -> Self {
        self.line_width = width;
        self
    }

    /// Writes one record; `header` excludes the `>`.
    ///
    /// # Errors
    /// Errors of the underlying writer.
    pub fn write_record(&mut self, header: &[u8], seq: &[u8]) -> io::Result<()> {
        self.inner.write_all(b">")?;
        self.inner.write_all(header)?;
        self.inner.write_all(b"\n")?;
        if self.line_width == 0 {
            self.inner.write_all(seq)?;
            return self.inner.write_all(b"\n");
        }
        for line in seq.chunks(self.line_width) {
            self.inner.write_all(line)?;
            self.inner.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Writes a record read by a [`crate::Reader`], re-wrapping its sequence.
    ///
    /// # Errors
    /// Errors of the underlying writer.
    pub fn write(&mut self, record: &Record<'_>) -> io::Result<()> {
        self.write_record(record.header(), &record.seq())
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    /// The final flush failed.
    pub fn into_inner(self) -> io::Result<W> {
        self.inner.into_inner().map_err(io::IntoInnerError::into_error)
    }
}

/// Writes four-line FASTQ records.
///
/// ```
/// use seqflow_seqio::FastqWriter;
/// let mut out = FastqWriter::new(Vec::new());
/// out.write_record(b"r1", b"ACGT", b"IIII")?;
/// assert_eq!(out.into_inner()?, b"@r1\nACGT\n+\nIIII\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct FastqWriter<W: Write> {
    inner: io::BufWriter<W>,
}

impl<W: Write> FastqWriter<W> {
    /// A new writer.
    pub fn new(inner: W) -> Self {
        FastqWriter { inner: io::BufWriter::with_capacity(1 << 16, inner) }
    }

    /// Writes one record; `header` excludes the `@`.
    ///
    /// # Errors
    /// `InvalidInput` if `seq` and `qual` differ in length; errors of the underlying writer.
    pub fn write_record(&mut self, header: &[u8], seq: &[u8], qual: &[u8]) -> io::Result<()> {
        if seq.len() != qual.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("sequence length {} differs from quality length {}", seq.len(), qual.len()),
            ));
        }
        for part in [b"@", header, b"\n", seq, b"\n+\n", qual, b"\n"] {
            self.inner.write_all(part)?;
        }
        Ok(())
    }

    /// Writes a FASTQ record read by a [`crate::Reader`].
    ///
    /// # Errors
    /// `InvalidInput` for a FASTA record (no qualities); errors of the underlying writer.
    pub fn write(&mut self, record: &Record<'_>) -> io::Result<()> {
        let qual = record.qual().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "a FASTA record has no qualities")
        })?;
        self.write_record(record.header(), record.seq_raw(), qual)
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    /// The final flush failed.
    pub fn into_inner(self) -> io::Result<W> {
        self.inner.into_inner().map_err(io::IntoInnerError::into_error)
    }
}
