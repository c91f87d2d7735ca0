//! One chunk in, one or more complete BGZF blocks out.

use libdeflater::{CompressionLvl, Compressor};

use super::{HEADER_LEN, MAX_BLOCK_INPUT, MAX_BLOCK_SIZE, TRAILER_LEN};
use crate::error::{Error, Result};

/// Sizes of one BGZF block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Length of the block on disk, header and trailer included (at most 65536).
    pub compressed_size: u32,
    /// Length of the data it decodes to (at most 65280 when written by this crate).
    pub uncompressed_size: u32,
}

/// The BGZF blocks made from one chunk: their bytes back to back and their sizes.
///
/// Reuse one per worker (or recycle them through the pipeline) to avoid allocating per chunk.
#[derive(Debug, Clone, Default)]
pub struct BgzfChunk {
    /// The blocks, concatenated.
    pub data: Vec<u8>,
    /// The size of each block, in order.
    pub blocks: Vec<BlockInfo>,
}

impl BgzfChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the chunk, keeping its allocations.
    pub fn clear(&mut self) {
        self.data.clear();
        self.blocks.clear();
    }

    /// Total length of the original data in these blocks.
    pub fn uncompressed_len(&self) -> u64 {
        self.blocks.iter().map(|b| u64::from(b.uncompressed_size)).sum()
    }
}

/// Per-worker BGZF compression state: a reused libdeflate compressor at a fixed level.
pub struct BgzfCompressor {
    inner: Compressor,
    level: i32,
    scratch: Vec<u8>,
}

impl BgzfCompressor {
    /// A compressor at libdeflate `level` (0 = stored, 1 fastest … 12 smallest; bgzip's
    /// default is 6).
    ///
    /// # Errors
    /// [`Error::Compress`] if the level is outside 0..=12.
    pub fn new(level: i32) -> Result<Self> {
        let lvl = CompressionLvl::new(level).map_err(|_| Error::Compress {
            reason: format!("BGZF level {level} is outside 0..=12"),
        })?;
        let mut inner = Compressor::new(lvl);
        let bound = inner.deflate_compress_bound(MAX_BLOCK_INPUT);
        // The block-size argument of the format: a full block of incompressible input must
        // still fit in 64 KiB.
        assert!(bound + HEADER_LEN + TRAILER_LEN <= MAX_BLOCK_SIZE);
        Ok(Self { inner, level, scratch: vec![0; bound] })
    }

    /// The compression level.
    pub fn level(&self) -> i32 {
        self.level
    }

    /// Compresses `chunk` into complete BGZF blocks of at most [`MAX_BLOCK_INPUT`] input bytes
    /// each, replacing the contents of `out`. An empty chunk gives no blocks.
    ///
    /// # Errors
    /// [`Error::Compress`] if libdeflate fails (it cannot for valid levels).
    pub fn compress(&mut self, chunk: &[u8], out: &mut BgzfChunk) -> Result<()> {
        out.clear();
        out.data.reserve(chunk.len() + chunk.len().div_ceil(MAX_BLOCK_INPUT) * 64);
        for piece in chunk.chunks(MAX_BLOCK_INPUT) {
            let n = self
                .inner
                .deflate_compress(piece, &mut self.scratch)
                .map_err(|e| Error::Compress { reason: format!("libdeflate: {e}") })?;
            let block_len = HEADER_LEN + n + TRAILER_LEN;
            let bsize = (block_len - 1) as u16;
            out.data.extend_from_slice(&[
                0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0x00, b'B', b'C', 0x02, 0x00,
            ]);
            out.data.extend_from_slice(&bsize.to_le_bytes());
            out.data.extend_from_slice(&self.scratch[..n]);
            out.data.extend_from_slice(&libdeflater::crc32(piece).to_le_bytes());
            out.data.extend_from_slice(&(piece.len() as u32).to_le_bytes());
            out.blocks.push(BlockInfo {
                compressed_size: block_len as u32,
                uncompressed_size: piece.len() as u32,
            });
        }
        Ok(())
    }
}

impl std::fmt::Debug for BgzfCompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BgzfCompressor").field("level", &self.level).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incompressible_blocks_stay_under_64k() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let data: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for level in [0, 1, 6, 12] {
            let mut c = BgzfCompressor::new(level).unwrap();
            let mut out = BgzfChunk::new();
            c.compress(&data, &mut out).unwrap();
            assert_eq!(out.blocks.len(), 4);
            assert!(out.blocks.iter().all(|b| b.compressed_size as usize <= MAX_BLOCK_SIZE));
            assert_eq!(out.uncompressed_len(), data.len() as u64);
            let mut d = flate_decode(&out.data);
            assert_eq!(std::mem::take(&mut d), data);
        }
    }

    fn flate_decode(mut data: &[u8]) -> Vec<u8> {
        let mut d = libdeflater::Decompressor::new();
        let mut all = Vec::new();
        while !data.is_empty() {
            let bsize = u16::from_le_bytes([data[16], data[17]]) as usize + 1;
            let isize = u32::from_le_bytes(data[bsize - 4..bsize].try_into().unwrap()) as usize;
            let mut buf = vec![0; isize];
            d.gzip_decompress(&data[..bsize], &mut buf).unwrap();
            all.extend_from_slice(&buf);
            data = &data[bsize..];
        }
        all
    }
}
