//! Random access to the original bytes of a BGZF file.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use super::blocks::{BgzfInflater, block_len, check_isize};
use super::{EOF_BLOCK, GziIndex, HEADER_LEN, MAX_BLOCK_SIZE};
use crate::error::{Error, Result};

/// Decodes byte ranges of the original data of a BGZF file, using a `.gzi` index to start at
/// the right block.
///
/// Every block decoded is checked: gzip and `BC` header fields, block size, inflated length
/// against ISIZE, and CRC32. Memory is one block (64 KiB) plus what the caller asks for.
#[derive(Debug)]
pub struct BgzfReader<R: Read + Seek> {
    inner: R,
    index: GziIndex,
    file_len: u64,
    inflater: BgzfInflater,
    block: Vec<u8>,
    decoded: Vec<u8>,
}

impl<R: Read + Seek> BgzfReader<R> {
    /// A reader over `inner` with its `.gzi` index.
    ///
    /// # Errors
    /// [`Error::Io`] if the file length cannot be found.
    pub fn new(mut inner: R, index: GziIndex) -> Result<Self> {
        let file_len = inner.seek(SeekFrom::End(0))?;
        Ok(Self {
            inner,
            index,
            file_len,
            inflater: BgzfInflater::new(),
            block: Vec::with_capacity(MAX_BLOCK_SIZE),
            decoded: Vec::with_capacity(MAX_BLOCK_SIZE),
        })
    }

    /// A reader that builds its index by walking the block headers (no inflating), for files
    /// without a `.gzi`.
    ///
    /// # Errors
    /// [`Error::Bgzf`] if a block header is malformed, [`Error::Io`] if reading fails.
    pub fn scan(mut inner: R) -> Result<Self> {
        let file_len = inner.seek(SeekFrom::End(0))?;
        let mut index = GziIndex::new();
        let (mut c, mut u) = (0u64, 0u64);
        let mut header = [0u8; HEADER_LEN];
        while c < file_len {
            read_at(&mut inner, c, &mut header, file_len)?;
            let len = block_len(&header, c)?;
            let mut isize = [0u8; 4];
            read_at(&mut inner, c + len as u64 - 4, &mut isize, file_len)?;
            let isize = u32::from_le_bytes(isize);
            check_isize(isize, c)?;
            if c > 0 && isize > 0 {
                index.push(c, u)?;
            }
            c += len as u64;
            u += u64::from(isize);
        }
        Self::new(inner, index)
    }

    /// Whether the file ends with the 28-byte EOF block.
    ///
    /// BGZF files always do; a file that does not was probably truncated at a block boundary
    /// (which no block check can notice), so `verify` should treat its absence as an error.
    ///
    /// # Errors
    /// [`Error::Io`] if reading fails.
    pub fn has_eof_block(&mut self) -> Result<bool> {
        let len = EOF_BLOCK.len() as u64;
        if self.file_len < len {
            return Ok(false);
        }
        let mut tail = [0u8; EOF_BLOCK.len()];
        read_at(&mut self.inner, self.file_len - len, &mut tail, self.file_len)?;
        Ok(tail == EOF_BLOCK)
    }

    /// The index in use.
    pub fn index(&self) -> &GziIndex {
        &self.index
    }

    /// Decodes the original bytes `range` and appends them to `out`.
    ///
    /// The part of the range past the end of the data is ignored.
    ///
    /// # Errors
    /// [`Error::Bgzf`] naming the byte offset of a bad block, [`Error::Truncated`] if the file
    /// ends inside a block, [`Error::Io`] if reading fails.
    pub fn read_range(&mut self, range: Range<u64>, out: &mut Vec<u8>) -> Result<()> {
        if range.start >= range.end {
            return Ok(());
        }
        let (mut c, mut u) = self.index.locate(range.start);
        while c < self.file_len && u < range.end {
            let len = self.read_block(c)?;
            let n = self.decoded.len() as u64;
            let block_end = u.checked_add(n).ok_or_else(|| Error::Bgzf {
                offset: c,
                reason: "the index puts this block past the largest possible offset".into(),
            })?;
            if block_end > range.start {
                let from = range.start.saturating_sub(u) as usize;
                let to = (range.end - u).min(n) as usize;
                out.extend_from_slice(&self.decoded[from..to]);
            }
            c += len as u64;
            u = block_end;
        }
        Ok(())
    }

    /// Decodes the block at byte `offset` into the internal buffer; returns its length on disk.
    fn read_block(&mut self, offset: u64) -> Result<usize> {
        let mut header = [0u8; HEADER_LEN];
        read_at(&mut self.inner, offset, &mut header, self.file_len)?;
        let len = block_len(&header, offset)?;
        self.block.resize(len, 0);
        read_at(&mut self.inner, offset, &mut self.block, self.file_len)?;
        self.decoded.clear();
        self.inflater.inflate_block(&self.block, offset, &mut self.decoded)?;
        Ok(len)
    }
}

fn read_at<R: Read + Seek>(r: &mut R, offset: u64, buf: &mut [u8], file_len: u64) -> Result<()> {
    crate::seekable::read_exact_at(r, offset, buf, file_len)
}
