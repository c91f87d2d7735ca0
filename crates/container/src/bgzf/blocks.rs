//! Block-level access for parallel decoding: [`BgzfBlockReader`] cuts a BGZF stream into
//! whole blocks without inflating (the reader thread's job), [`BgzfInflater`] inflates and
//! checks them (a worker's state).

use std::io::{self, Read};

use super::{HEADER_LEN, MAX_BLOCK_SIZE, TRAILER_LEN};
use crate::error::{Error, Result};

/// Reads a BGZF stream front to back, one whole block (header to trailer) at a time, checking
/// each header but inflating nothing.
///
/// ```
/// use seqflow_container::{BgzfBlockReader, BgzfInflater, BgzfWriter, BgzfCompressor, BgzfChunk};
///
/// let data = b"ACGT".repeat(50_000);
/// let mut chunk = BgzfChunk::new();
/// BgzfCompressor::new(6)?.compress(&data, &mut chunk)?;
/// let mut writer = BgzfWriter::new(Vec::new());
/// writer.write_chunk(&chunk)?;
/// let (file, _gzi) = writer.finish()?;
///
/// let mut blocks = BgzfBlockReader::new(&file[..], Some(file.len() as u64));
/// let (mut inflater, mut block, mut out) = (BgzfInflater::new(), Vec::new(), Vec::new());
/// loop {
///     let offset = blocks.offset();
///     block.clear();
///     if blocks.read_block(&mut block)? == 0 {
///         break;
///     }
///     inflater.inflate_blocks(&block, offset, &mut out)?;
/// }
/// assert_eq!(out, data);
/// # Ok::<(), seqflow_container::Error>(())
/// ```
#[derive(Debug)]
pub struct BgzfBlockReader<R> {
    inner: R,
    offset: u64,
    file_len: Option<u64>,
}

impl<R: Read> BgzfBlockReader<R> {
    /// A reader of the blocks of `inner`, positioned at the start of a block (byte 0 of the
    /// file). `file_len`, when known, is named in [`Error::Truncated`].
    pub fn new(inner: R, file_len: Option<u64>) -> Self {
        BgzfBlockReader { inner, offset: 0, file_len }
    }

    /// Byte offset of the next block in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Appends the next whole block to `buf` and returns its length; 0 at the end of the
    /// input.
    ///
    /// # Errors
    /// [`Error::Bgzf`] naming the block's offset for a malformed header; [`Error::Truncated`]
    /// when the input ends inside a block (as [`BgzfReader::scan`](crate::BgzfReader::scan)
    /// reports it: the header, or the ISIZE at the block's end, is what is missing);
    /// [`Error::Io`] if reading fails.
    pub fn read_block(&mut self, buf: &mut Vec<u8>) -> Result<usize> {
        let start = buf.len();
        let mut header = [0u8; HEADER_LEN];
        match read_full(&mut self.inner, &mut header)? {
            0 => return Ok(0),
            HEADER_LEN => {}
            _ => return Err(self.truncated(self.offset, HEADER_LEN)),
        }
        let len = block_len(&header, self.offset)?;
        buf.extend_from_slice(&header);
        buf.resize(start + len, 0);
        let body = &mut buf[start + HEADER_LEN..];
        if read_full(&mut self.inner, body)? != body.len() {
            buf.truncate(start);
            return Err(self.truncated(self.offset + len as u64 - 4, 4));
        }
        self.offset += len as u64;
        Ok(len)
    }

    fn truncated(&self, offset: u64, needed: usize) -> Error {
        let file_len = self.file_len.unwrap_or(self.offset);
        Error::Truncated { offset, needed: needed as u64, file_len }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(inner: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match inner.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Io(e)),
        }
    }
    Ok(filled)
}

/// Inflates BGZF blocks with libdeflate and checks each one's ISIZE and CRC32: one per
/// worker, reused for every block.
pub struct BgzfInflater(libdeflater::Decompressor);

impl std::fmt::Debug for BgzfInflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BgzfInflater")
    }
}

impl Default for BgzfInflater {
    fn default() -> Self {
        Self::new()
    }
}

impl BgzfInflater {
    /// A new inflater.
    pub fn new() -> Self {
        BgzfInflater(libdeflater::Decompressor::new())
    }

    /// Inflates `blocks`, whole consecutive blocks as [`BgzfBlockReader`] reads them, the
    /// first at byte `offset` of the file, appending the original bytes to `out`. Returns the
    /// number of blocks.
    ///
    /// # Errors
    /// [`Error::Bgzf`] naming the offset of the first bad block: malformed header, deflate
    /// data that does not decode, a length other than ISIZE, a CRC32 mismatch; [`Error::Truncated`]
    /// if `blocks` ends inside a block.
    pub fn inflate_blocks(
        &mut self,
        blocks: &[u8],
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        let (mut at, mut count) = (0usize, 0usize);
        while at < blocks.len() {
            let block_offset = offset + at as u64;
            let rest = &blocks[at..];
            let header: &[u8; HEADER_LEN] = rest
                .get(..HEADER_LEN)
                .and_then(|h| h.try_into().ok())
                .ok_or_else(|| truncated(block_offset, HEADER_LEN, offset, blocks))?;
            let len = block_len(header, block_offset)?;
            let block = rest
                .get(..len)
                .ok_or_else(|| truncated(block_offset + len as u64 - 4, 4, offset, blocks))?;
            self.inflate_block(block, block_offset, out)?;
            at += len;
            count += 1;
        }
        Ok(count)
    }

    /// Inflates one whole block found at byte `offset`, appending to `out`; returns its
    /// original length.
    pub(crate) fn inflate_block(
        &mut self,
        block: &[u8],
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        let len = block.len();
        let word = |at: usize| u32::from_le_bytes(block[at..at + 4].try_into().expect("4"));
        let crc = word(len - 8);
        let isize = word(len - 4);
        check_isize(isize, offset)?;
        let start = out.len();
        out.resize(start + isize as usize, 0);
        let bad = |reason: String| Error::Bgzf { offset, reason };
        let decoded = &mut out[start..];
        let n = self
            .0
            .deflate_decompress(&block[HEADER_LEN..len - TRAILER_LEN], decoded)
            .map_err(|e| bad(format!("deflate data does not decode: {e}")))?;
        if n != isize as usize {
            out.truncate(start);
            return Err(bad(format!("inflates to {n} bytes, ISIZE says {isize}")));
        }
        let actual = libdeflater::crc32(&out[start..]);
        if actual != crc {
            return Err(bad(format!(
                "CRC32 mismatch: data has {actual:#010x}, block says {crc:#010x}"
            )));
        }
        Ok(n)
    }
}

fn truncated(offset: u64, needed: usize, first: u64, blocks: &[u8]) -> Error {
    Error::Truncated { offset, needed: needed as u64, file_len: first + blocks.len() as u64 }
}

/// Validates a BGZF block header at `offset` and returns the block's length on disk.
pub(crate) fn block_len(h: &[u8; HEADER_LEN], offset: u64) -> Result<usize> {
    let bad = |reason: &str| Err(Error::Bgzf { offset, reason: reason.to_string() });
    if h[0..2] != [0x1f, 0x8b] {
        return bad("not a gzip member (bad magic)");
    }
    if h[2] != 8 || h[3] != 4 {
        return bad("not a BGZF block (compression method or flags)");
    }
    if u16::from_le_bytes([h[10], h[11]]) != 6 || h[12..16] != [b'B', b'C', 2, 0] {
        return bad("not a BGZF block (no BC extra subfield)");
    }
    let len = usize::from(u16::from_le_bytes([h[16], h[17]])) + 1;
    if len < HEADER_LEN + TRAILER_LEN + 2 {
        return bad("block size too small");
    }
    Ok(len)
}

/// Refuses an ISIZE larger than a block can hold, before allocating for it.
pub(crate) fn check_isize(isize: u32, offset: u64) -> Result<()> {
    if isize as usize > MAX_BLOCK_SIZE {
        return Err(Error::Bgzf {
            offset,
            reason: format!("ISIZE {isize} is more than a block can hold"),
        });
    }
    Ok(())
}
