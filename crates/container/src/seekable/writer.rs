//! Appends compressed frames in order, then the metadata frame and the seek table.

use std::io::Write;

use super::metadata::FRAME_LEN as METADATA_FRAME_LEN;
use super::{
    CHECKSUM_FLAG, EMPTY_CHECKSUM, ENTRY_LEN, FOOTER_LEN, FrameInfo, MAX_FRAME_SIZE, MAX_FRAMES,
    PackMetadata, SEEK_TABLE_FRAME_MAGIC, SEEKABLE_MAGIC, ZSTD_FRAME_MAGIC,
};
use crate::error::{Error, Result};

/// Writes a zstd seekable file from frames made by [`FrameCompressor`](super::FrameCompressor).
///
/// Frames must be given in the order of the original data (an ordered sink does this).
/// [`finish`](Self::finish) appends seqflow's metadata frame and the seek table; a file without
/// them still decompresses with stock `zstd -d` but is rejected by
/// [`SeekableIndex::read`](super::SeekableIndex::read).
///
/// The writer keeps 12 bytes per frame in memory until `finish`.
///
/// ```
/// use seqflow_container::{FrameCompressor, PackMetadata, SeekableWriter};
///
/// let data = b"ACGT".repeat(1000);
/// let mut compressor = FrameCompressor::new(3)?;
/// let mut writer = SeekableWriter::new(Vec::new());
/// let mut frame = Vec::new();
/// for chunk in data.chunks(1024) {
///     let info = compressor.compress(chunk, &mut frame)?;
///     writer.write_frame(&frame, info)?;
/// }
/// let file = writer.finish(&PackMetadata::new(data.len() as u64, [0; 32], 1024))?;
/// assert_eq!(zstd::decode_all(&file[..])?, data);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SeekableWriter<W: Write> {
    inner: W,
    entries: Vec<FrameInfo>,
    compressed_len: u64,
    original_len: u64,
    largest_frame: u32,
}

impl<W: Write> SeekableWriter<W> {
    /// A writer that appends to `inner`, which should be empty: seek-table offsets count from
    /// its first byte.
    pub fn new(inner: W) -> Self {
        Self { inner, entries: Vec::new(), compressed_len: 0, original_len: 0, largest_frame: 0 }
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
        // One seek-table entry is reserved for the metadata frame.
        if index as u64 + 1 >= u64::from(MAX_FRAMES) {
            return usage(format!("more than {} frames", MAX_FRAMES - 1));
        }
        self.inner.write_all(frame)?;
        self.entries.push(info);
        self.compressed_len += frame.len() as u64;
        self.original_len += u64::from(info.decompressed_size);
        self.largest_frame = self.largest_frame.max(info.decompressed_size);
        Ok(())
    }

    /// Number of data frames written so far.
    pub fn frames_written(&self) -> usize {
        self.entries.len()
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

    /// Writes the metadata frame and the seek table, flushes, and returns the inner writer.
    ///
    /// # Errors
    /// [`Error::Usage`] if `meta` disagrees with the frames written (original size, a frame
    /// larger than the chunk size, flags this version does not define); [`Error::Io`] if writing
    /// fails.
    pub fn finish(mut self, meta: &PackMetadata) -> Result<W> {
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
        let data_frames = self.entries.len() as u32;
        self.inner.write_all(&meta.encode_frame(data_frames))?;
        self.entries.push(FrameInfo {
            compressed_size: METADATA_FRAME_LEN as u32,
            decompressed_size: 0,
            checksum: EMPTY_CHECKSUM,
        });

        let n = self.entries.len() as u64;
        let frame_size = n * ENTRY_LEN + FOOTER_LEN;
        let mut table = Vec::with_capacity(8 + frame_size as usize);
        table.extend_from_slice(&SEEK_TABLE_FRAME_MAGIC.to_le_bytes());
        table.extend_from_slice(&(frame_size as u32).to_le_bytes());
        for e in &self.entries {
            table.extend_from_slice(&e.compressed_size.to_le_bytes());
            table.extend_from_slice(&e.decompressed_size.to_le_bytes());
            table.extend_from_slice(&e.checksum.to_le_bytes());
        }
        table.extend_from_slice(&(n as u32).to_le_bytes());
        table.push(CHECKSUM_FLAG);
        table.extend_from_slice(&SEEKABLE_MAGIC.to_le_bytes());
        self.inner.write_all(&table)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}
