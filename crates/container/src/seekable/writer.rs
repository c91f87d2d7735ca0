//! Appends compressed frames in order, then the metadata frame and the seek table.

use std::io::{BufWriter, Write};

use super::digests;
use super::frame_log::{DEFAULT_SPILL_AFTER, FrameLog};
use super::metadata::FRAME_LEN as METADATA_FRAME_LEN;
use super::{
    CHECKSUM_FLAG, EMPTY_CHECKSUM, ENTRY_LEN, FOOTER_LEN, FrameInfo, MAX_FRAME_SIZE, MAX_FRAMES,
    PackMetadata, SEEK_TABLE_FRAME_MAGIC, SEEKABLE_MAGIC, ZSTD_FRAME_MAGIC,
};
use crate::error::{Error, Result};

/// Writes a zstd seekable file from frames made by [`FrameCompressor`](super::FrameCompressor).
///
/// Frames must be given in the order of the original data (an ordered sink does this).
/// [`finish`](Self::finish) appends the digest frame, seqflow's metadata frame and the seek
/// table; a file without them still decompresses with stock `zstd -d` but is rejected by
/// [`SeekableIndex::read`](super::SeekableIndex::read).
///
/// The writer keeps 48 bytes per frame (the seek-table entry and the chunk's BLAKE3 digest),
/// plus 32 per MiB of chunks longer than 1 MiB (their piece values), for `finish`: in memory up
/// to 2^20 frames or 48 MiB, in an unlinked temporary file past that, so its memory does not
/// grow with the input. `finish` streams the trailer.
///
/// ```
/// use seqflow_container::{FrameCompressor, SeekableWriter};
///
/// let data = b"ACGT".repeat(1000);
/// let mut compressor = FrameCompressor::new(3)?;
/// let mut writer = SeekableWriter::new(Vec::new());
/// let mut frame = Vec::new();
/// for chunk in data.chunks(1024) {
///     let info = compressor.compress(chunk, &mut frame)?;
///     writer.write_frame(&frame, info)?;
/// }
/// let file = writer.finish(data.len() as u64, 1024)?;
/// assert_eq!(zstd::decode_all(&file[..])?, data);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SeekableWriter<W: Write> {
    inner: W,
    entries: FrameLog,
    compressed_len: u64,
    original_len: u64,
    largest_frame: u32,
    pieces: u64,
}

impl<W: Write> SeekableWriter<W> {
    /// A writer that appends to `inner`, which should be empty: seek-table offsets count from
    /// its first byte.
    pub fn new(inner: W) -> Self {
        Self::with_spill_after(inner, DEFAULT_SPILL_AFTER)
    }

    /// As [`new`](Self::new), but frame records go to the temporary file once `frames` of
    /// them are in memory (tests use a small number to exercise the spill).
    pub fn with_spill_after(inner: W, frames: usize) -> Self {
        Self {
            inner,
            entries: FrameLog::new(frames),
            compressed_len: 0,
            original_len: 0,
            largest_frame: 0,
            pieces: 0,
        }
    }

    /// Appends one compressed frame described by `info`.
    ///
    /// # Errors
    /// [`Error::Usage`] if `frame` does not match `info`, is not a zstd frame, decodes to no
    /// bytes (empty chunks are not written: an empty original has no data frames), or the file
    /// would exceed the seek table's frame limit; [`Error::Io`] if writing fails.
    pub fn write_frame(&mut self, frame: &[u8], info: FrameInfo) -> Result<()> {
        let usage = |reason: String| Err(Error::Usage { reason });
        let index = self.entries.len();
        if frame.len() != info.compressed_size as usize {
            return usage(format!(
                "frame {index} is {} bytes but its info says {}",
                frame.len(),
                info.compressed_size
            ));
        }
        if frame.len() < 4 || frame[..4] != ZSTD_FRAME_MAGIC.to_le_bytes() {
            return usage(format!("frame {index} is not a zstd frame"));
        }
        if info.decompressed_size == 0 || info.decompressed_size > MAX_FRAME_SIZE {
            return usage(format!(
                "frame {index} decodes to {} bytes, outside 1..={MAX_FRAME_SIZE}",
                info.decompressed_size
            ));
        }
        // Two seek-table entries are reserved for the digest and metadata frames.
        if index + 2 >= u64::from(MAX_FRAMES) {
            return usage(format!("more than {} frames", MAX_FRAMES - 2));
        }
        let pieces = digests::piece_count(u64::from(info.decompressed_size));
        if info.pieces.len() as u64 != pieces {
            return usage(format!(
                "frame {index} of {} bytes comes with {} piece values, not {pieces}",
                info.decompressed_size,
                info.pieces.len()
            ));
        }
        // The digest frame's size field is 32 bits.
        let digest_frame = digests::frame_len(index + 1, self.pieces + pieces);
        if digest_frame - 8 > u64::from(u32::MAX) {
            return usage(format!(
                "frame {index}: the digest frame would exceed 4 GiB (about 128 TiB of input)"
            ));
        }
        self.inner.write_all(frame)?;
        self.compressed_len += frame.len() as u64;
        self.original_len += u64::from(info.decompressed_size);
        self.largest_frame = self.largest_frame.max(info.decompressed_size);
        self.entries.push(info)?;
        self.pieces += pieces;
        Ok(())
    }

    /// Number of data frames written so far.
    pub fn frames_written(&self) -> usize {
        self.entries.len() as usize
    }

    /// Compressed bytes written so far.
    pub fn compressed_bytes(&self) -> u64 {
        self.compressed_len
    }

    /// Original (decompressed) bytes covered by the frames written so far.
    pub fn original_bytes(&self) -> u64 {
        self.original_len
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Writes the digest frame (every chunk's BLAKE3, in order, then the chaining values of the
    /// 1 MiB pieces of chunks longer than that), the version-3 metadata frame (recording the
    /// digests' root) and the seek table, flushes, and returns the inner writer.
    ///
    /// `original_size` is what the caller read (checked against the frames) and `chunk_size`
    /// the largest chunk it could have made.
    ///
    /// # Errors
    /// [`Error::Usage`] if the frames disagree with `original_size` or `chunk_size`;
    /// [`Error::Io`] if writing fails.
    pub fn finish(mut self, original_size: u64, chunk_size: u32) -> Result<W> {
        // The root is BLAKE3 of every digest in order (the piece values merge into them).
        let mut root = blake3::Hasher::new();
        self.entries.for_each(|e| {
            root.update(&e.digest);
            Ok(())
        })?;
        let meta = PackMetadata::version3(original_size, *root.finalize().as_bytes(), chunk_size);
        self.check(&meta)?;
        let data_frames = self.entries.len();
        let mut out = BufWriter::with_capacity(1 << 16, &mut self.inner);
        out.write_all(&digests::frame_header(data_frames, self.pieces))?;
        self.entries.for_each(|e| Ok(out.write_all(&e.digest)?))?;
        self.entries.for_each(|e| Ok(e.pieces.iter().try_for_each(|p| out.write_all(p))?))?;
        out.flush()?;
        drop(out);
        let digest_frame_len = digests::frame_len(data_frames, self.pieces) as u32;
        self.write_trailer(&[digest_frame_len], &meta)
    }

    /// Writes the metadata frame of version 1 (the whole-file SHA-256 `meta` carries, and no
    /// digest frame) and the seek table, as seqflow did before version 2. Kept so that tests
    /// and fuzz seeds can make the files older versions wrote; [`finish`](Self::finish) writes
    /// the current version.
    ///
    /// # Errors
    /// [`Error::Usage`] if `meta` is not version 1 or disagrees with the frames written
    /// (original size, a frame larger than the chunk size, flags this version does not
    /// define); [`Error::Io`] if writing fails.
    pub fn finish_version1(self, meta: &PackMetadata) -> Result<W> {
        if meta.sha256().is_none() {
            return Err(Error::Usage { reason: "version 1 metadata records a SHA-256".into() });
        }
        self.check(meta)?;
        self.write_trailer(&[], meta)
    }

    /// Checks that `meta` agrees with the frames written.
    fn check(&self, meta: &PackMetadata) -> Result<()> {
        let usage = |reason: String| Err(Error::Usage { reason });
        if meta.original_size != self.original_len {
            return usage(format!(
                "metadata says {} original bytes, frames hold {}",
                meta.original_size, self.original_len
            ));
        }
        if meta.chunk_size == 0 || meta.chunk_size > MAX_FRAME_SIZE {
            return usage(format!("chunk size {} outside 1..={MAX_FRAME_SIZE}", meta.chunk_size));
        }
        if self.largest_frame > meta.chunk_size {
            return usage(format!(
                "a frame decodes to {} bytes, more than the chunk size {}",
                self.largest_frame, meta.chunk_size
            ));
        }
        if meta.flags != 0 {
            return usage(format!("unknown flags {:#010x}", meta.flags));
        }
        Ok(())
    }

    /// Writes the metadata frame and the seek table, which lists the data frames, the
    /// skippable frames of `written_lens` (already written after them) and the metadata frame.
    fn write_trailer(mut self, written_lens: &[u32], meta: &PackMetadata) -> Result<W> {
        let data_frames = self.entries.len() as u32;
        self.inner.write_all(&meta.encode_frame(data_frames))?;
        let trailer: Vec<u32> =
            written_lens.iter().copied().chain([METADATA_FRAME_LEN as u32]).collect();
        let n = self.entries.len() + trailer.len() as u64;
        let frame_size = n * ENTRY_LEN + FOOTER_LEN;
        let mut table = BufWriter::with_capacity(1 << 16, &mut self.inner);
        table.write_all(&SEEK_TABLE_FRAME_MAGIC.to_le_bytes())?;
        table.write_all(&(frame_size as u32).to_le_bytes())?;
        let mut entry = |compressed: u32, decompressed: u32, checksum: u32| {
            let mut bytes = [0u8; ENTRY_LEN as usize];
            bytes[0..4].copy_from_slice(&compressed.to_le_bytes());
            bytes[4..8].copy_from_slice(&decompressed.to_le_bytes());
            bytes[8..12].copy_from_slice(&checksum.to_le_bytes());
            table.write_all(&bytes)
        };
        self.entries
            .for_each(|e| Ok(entry(e.compressed_size, e.decompressed_size, e.checksum)?))?;
        for compressed_size in trailer {
            entry(compressed_size, 0, EMPTY_CHECKSUM)?;
        }
        table.write_all(&(n as u32).to_le_bytes())?;
        table.write_all(&[CHECKSUM_FLAG])?;
        table.write_all(&SEEKABLE_MAGIC.to_le_bytes())?;
        table.flush()?;
        drop(table);
        self.inner.flush()?;
        Ok(self.inner)
    }
}
