//! Appends BGZF blocks in order, then the EOF block; builds the `.gzi` index on the way.

use std::io::Write;

use super::{BgzfChunk, EOF_BLOCK, GziIndex};
use crate::error::{Error, Result};

/// Writes a BGZF file from chunks made by [`BgzfCompressor`](super::BgzfCompressor).
///
/// Chunks must be given in the order of the original data. [`finish`](Self::finish) writes the
/// EOF block and returns the `.gzi` index of the file.
///
/// ```
/// use seqflow_container::{BgzfChunk, BgzfCompressor, BgzfWriter, BgzfReader};
///
/// let data = b"ACGT".repeat(50_000);
/// let mut compressor = BgzfCompressor::new(6)?;
/// let mut writer = BgzfWriter::new(Vec::new());
/// let mut blocks = BgzfChunk::new();
/// for chunk in data.chunks(100_000) {
///     compressor.compress(chunk, &mut blocks)?;
///     writer.write_chunk(&blocks)?;
/// }
/// let (file, gzi) = writer.finish()?;
/// let mut reader = BgzfReader::new(std::io::Cursor::new(file), gzi)?;
/// let mut out = Vec::new();
/// reader.read_range(70_000..70_008, &mut out)?;
/// assert_eq!(out, &data[70_000..70_008]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BgzfWriter<W: Write> {
    inner: W,
    index: GziIndex,
    compressed_len: u64,
    uncompressed_len: u64,
}

impl<W: Write> BgzfWriter<W> {
    /// A writer appending to `inner`, which should be empty: index offsets count from its
    /// first byte.
    pub fn new(inner: W) -> Self {
        Self { inner, index: GziIndex::new(), compressed_len: 0, uncompressed_len: 0 }
    }

    /// Appends the blocks of one chunk.
    ///
    /// # Errors
    /// [`Error::Usage`] if the chunk's sizes do not add up to its data; [`Error::Io`] if
    /// writing fails.
    pub fn write_chunk(&mut self, chunk: &BgzfChunk) -> Result<()> {
        let total: u64 = chunk.blocks.iter().map(|b| u64::from(b.compressed_size)).sum();
        if total != chunk.data.len() as u64 {
            return Err(Error::Usage {
                reason: format!(
                    "chunk blocks add up to {total} bytes but it holds {}",
                    chunk.data.len()
                ),
            });
        }
        self.inner.write_all(&chunk.data)?;
        for b in &chunk.blocks {
            if self.compressed_len > 0 {
                self.index.push(self.compressed_len, self.uncompressed_len)?;
            }
            self.compressed_len += u64::from(b.compressed_size);
            self.uncompressed_len += u64::from(b.uncompressed_size);
        }
        Ok(())
    }

    /// Compressed bytes written so far (EOF block excluded).
    pub fn compressed_bytes(&self) -> u64 {
        self.compressed_len
    }

    /// Original bytes written so far.
    pub fn uncompressed_bytes(&self) -> u64 {
        self.uncompressed_len
    }

    /// Writes the EOF block, flushes, and returns the inner writer and the `.gzi` index.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn finish(mut self) -> Result<(W, GziIndex)> {
        self.inner.write_all(&EOF_BLOCK)?;
        self.inner.flush()?;
        Ok((self.inner, self.index))
    }
}
