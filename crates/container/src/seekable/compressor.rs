//! One chunk in, one independent zstd frame out.

use zstd::zstd_safe;

use super::MAX_FRAME_SIZE;
use super::digests::chunk_digest_and_pieces;
use crate::error::{Error, Result};

/// What the seek table needs to know about one compressed frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// Length of the compressed frame in bytes.
    pub compressed_size: u32,
    /// Length of the chunk the frame decodes to.
    pub decompressed_size: u32,
    /// Low 32 bits of XXH64 of the chunk (the frame's own content checksum).
    pub checksum: u32,
    /// BLAKE3 of the chunk, for the digest frame (computed by the worker that compressed it,
    /// so that hashing runs in parallel).
    pub digest: [u8; 32],
    /// BLAKE3 chaining values of the chunk's 1 MiB pieces when it is longer than one piece
    /// (empty otherwise): they merge into `digest`, and let a reader check part of a frame.
    pub pieces: Vec<[u8; 32]>,
}

/// Per-worker zstd compression state: a reused context at a fixed level.
///
/// Each call to [`compress`](Self::compress) turns one chunk into one complete, independent zstd
/// frame with the content size in its header and the content checksum on, as the seekable format
/// wants, and hashes the chunk with BLAKE3 (and its 1 MiB pieces) for the digest frame. Build one per worker and reuse
/// it: creating a context costs far more than resetting one (see `benches/frames.rs`).
pub struct FrameCompressor {
    inner: zstd::bulk::Compressor<'static>,
    level: i32,
}

impl FrameCompressor {
    /// A compressor at `level` (zstd's levels; 0 means zstd's default, 3).
    ///
    /// # Errors
    /// [`Error::Compress`] if zstd rejects the level or cannot allocate a context.
    pub fn new(level: i32) -> Result<Self> {
        let mut inner = zstd::bulk::Compressor::new(level).map_err(compress_error)?;
        inner.set_parameter(zstd_safe::CParameter::ChecksumFlag(true)).map_err(compress_error)?;
        inner
            .set_parameter(zstd_safe::CParameter::ContentSizeFlag(true))
            .map_err(compress_error)?;
        Ok(Self { inner, level })
    }

    /// The compression level.
    pub fn level(&self) -> i32 {
        self.level
    }

    /// Compresses `chunk` into one zstd frame, replacing the contents of `out`.
    ///
    /// `out` grows to zstd's compress bound for the chunk if it is smaller; reuse it between
    /// calls to avoid allocating.
    ///
    /// # Errors
    /// [`Error::Compress`] if the chunk is larger than [`MAX_FRAME_SIZE`] or zstd fails.
    pub fn compress(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<FrameInfo> {
        if chunk.len() > MAX_FRAME_SIZE as usize {
            return Err(Error::Compress {
                reason: format!(
                    "chunk of {} bytes exceeds the largest frame size {MAX_FRAME_SIZE}",
                    chunk.len()
                ),
            });
        }
        out.clear();
        out.reserve(zstd_safe::compress_bound(chunk.len()));
        crate::huge_pages::advise_huge_pages(out);
        let written = self.inner.compress_to_buffer(chunk, out).map_err(compress_error)?;
        debug_assert_eq!(written, out.len());
        frame_info(chunk, out)
    }

    /// Compresses `chunk` with a context built for this call only and dropped after it.
    ///
    /// This is the slow baseline against which per-worker reuse is measured; prefer
    /// [`compress`](Self::compress) on a long-lived compressor.
    ///
    /// # Errors
    /// As [`compress`](Self::compress).
    pub fn compress_with_fresh_context(
        level: i32,
        chunk: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<FrameInfo> {
        Self::new(level)?.compress(chunk, out)
    }
}

impl std::fmt::Debug for FrameCompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameCompressor").field("level", &self.level).finish_non_exhaustive()
    }
}

/// Reads the sizes and the content checksum (the frame's last four bytes) of a fresh frame,
/// and hashes the chunk.
fn frame_info(chunk: &[u8], frame: &[u8]) -> Result<FrameInfo> {
    let compressed_size = u32::try_from(frame.len()).map_err(|_| Error::Compress {
        reason: format!("frame of {} bytes does not fit the seek table", frame.len()),
    })?;
    let tail: [u8; 4] = frame[frame.len() - 4..]
        .try_into()
        .expect("a zstd frame with a checksum is longer than four bytes");
    let mut pieces = Vec::new();
    let digest = chunk_digest_and_pieces(chunk, &mut pieces);
    Ok(FrameInfo {
        compressed_size,
        // Checked against MAX_FRAME_SIZE by the caller.
        decompressed_size: chunk.len() as u32,
        checksum: u32::from_le_bytes(tail),
        digest,
        pieces,
    })
}

fn compress_error(e: std::io::Error) -> Error {
    Error::Compress { reason: format!("zstd: {e}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_low_xxh64_of_the_chunk() {
        let mut c = FrameCompressor::new(3).unwrap();
        let mut out = Vec::new();
        for chunk in [&b""[..], b"a", b"hello hello hello hello"] {
            let info = c.compress(chunk, &mut out).unwrap();
            let want = xxhash_rust::xxh64::xxh64(chunk, 0) as u32;
            assert_eq!(info.checksum, want);
            assert_eq!(info.compressed_size as usize, out.len());
            assert_eq!(info.decompressed_size as usize, chunk.len());
            assert_eq!(&info.digest, blake3::hash(chunk).as_bytes());
            assert_eq!(zstd::decode_all(&out[..]).unwrap(), chunk);
        }
    }

    #[test]
    fn fresh_context_gives_the_same_frame() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut reused = FrameCompressor::new(3).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        reused.compress(b"warm up the context", &mut a).unwrap();
        let ia = reused.compress(&data, &mut a).unwrap();
        let ib = FrameCompressor::compress_with_fresh_context(3, &data, &mut b).unwrap();
        assert_eq!(ia, ib);
        assert_eq!(a, b);
    }

    #[test]
    fn empty_checksum_constant() {
        assert_eq!(xxhash_rust::xxh64::xxh64(b"", 0) as u32, super::super::EMPTY_CHECKSUM);
    }
}
