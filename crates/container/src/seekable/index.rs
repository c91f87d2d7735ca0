//! Reading and validating the seek table and the metadata frame.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use super::metadata::FRAME_LEN as METADATA_FRAME_LEN;
use super::{
    CHECKSUM_FLAG, EMPTY_CHECKSUM, ENTRY_LEN, FOOTER_LEN, FrameDecompressor, MAX_FRAMES,
    PackMetadata, RESERVED_BITS, SEEK_TABLE_FRAME_MAGIC, SEEKABLE_MAGIC,
};
use crate::error::{Error, Result};

/// One data frame of a seekable file, as listed in its seek table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameEntry {
    /// Position of the frame in the seek table (0-based).
    pub index: usize,
    /// Byte offset of the frame in the compressed file.
    pub compressed_offset: u64,
    /// Byte offset in the original data of the frame's first decoded byte.
    pub decompressed_offset: u64,
    /// Length of the compressed frame.
    pub compressed_size: u32,
    /// Length of the decoded frame.
    pub decompressed_size: u32,
    /// Low 32 bits of XXH64 of the decoded frame.
    pub checksum: u32,
}

impl FrameEntry {
    /// The frame's byte range in the compressed file.
    pub fn compressed_range(&self) -> Range<u64> {
        self.compressed_offset..self.compressed_offset + u64::from(self.compressed_size)
    }

    /// The frame's byte range in the original data.
    pub fn decompressed_range(&self) -> Range<u64> {
        self.decompressed_offset..self.decompressed_offset + u64::from(self.decompressed_size)
    }
}

/// The validated seek table and metadata of a seqflow seekable file.
///
/// [`read`](Self::read) checks the whole structure before returning: footer magic, descriptor
/// bits, frame count limits, that the frames tile the file exactly up to the seek table, that
/// no frame decodes to more than the chunk size, and that the metadata frame (the last
/// seek-table entry) is well formed and agrees with the table. Frame contents are checked when
/// they are decoded ([`FrameDecompressor`]).
#[derive(Debug, Clone)]
pub struct SeekableIndex {
    frames: Vec<FrameEntry>,
    metadata: PackMetadata,
    metadata_offset: u64,
    seek_table_offset: u64,
    file_len: u64,
}

impl SeekableIndex {
    /// Reads the seek table and metadata at the end of `reader`.
    ///
    /// Reads only the end of the file (the seek table and the metadata frame), whatever its
    /// size; memory use is 40 bytes per frame.
    ///
    /// # Errors
    /// [`Error::NotSeekable`] if the file does not end with a seek table,
    /// [`Error::SeekTable`], [`Error::Metadata`] or [`Error::Truncated`] naming the byte offset
    /// of the first inconsistency, [`Error::Io`] if reading fails.
    pub fn read<R: Read + Seek + ?Sized>(reader: &mut R) -> Result<SeekableIndex> {
        let file_len = reader.seek(SeekFrom::End(0))?;
        if file_len < FOOTER_LEN {
            return Err(Error::NotSeekable {
                offset: 0,
                reason: format!("file is {file_len} bytes, too short for a seek table"),
            });
        }
        let footer_at = file_len - FOOTER_LEN;
        let mut footer = [0u8; FOOTER_LEN as usize];
        read_exact_at(reader, footer_at, &mut footer, file_len)?;
        let magic = u32::from_le_bytes(footer[5..9].try_into().expect("4 bytes"));
        if magic != SEEKABLE_MAGIC {
            return Err(Error::NotSeekable {
                offset: file_len - 4,
                reason: format!(
                    "last four bytes are {magic:#010x}, not the seekable magic {SEEKABLE_MAGIC:#010x}"
                ),
            });
        }
        let table_err = |offset: u64, reason: String| Error::SeekTable { offset, reason };
        let descriptor = footer[4];
        if descriptor & RESERVED_BITS != 0 {
            return Err(table_err(
                footer_at + 4,
                format!("reserved descriptor bits set ({descriptor:#04x})"),
            ));
        }
        if descriptor & CHECKSUM_FLAG == 0 {
            return Err(table_err(
                footer_at + 4,
                "entries carry no checksums; seqflow files always have them".into(),
            ));
        }
        let n = u32::from_le_bytes(footer[0..4].try_into().expect("4 bytes"));
        if n == 0 {
            return Err(table_err(footer_at, "no entries: the metadata frame is missing".into()));
        }
        if n > MAX_FRAMES {
            return Err(table_err(
                footer_at,
                format!("{n} frames, more than the limit {MAX_FRAMES}"),
            ));
        }
        let frame_size = u64::from(n) * ENTRY_LEN + FOOTER_LEN;
        let Some(table_at) = file_len.checked_sub(8 + frame_size) else {
            return Err(Error::Truncated { offset: 0, needed: 8 + frame_size, file_len });
        };
        let mut header = [0u8; 8];
        read_exact_at(reader, table_at, &mut header, file_len)?;
        let skip_magic = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
        let skip_size = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        if skip_magic != SEEK_TABLE_FRAME_MAGIC {
            return Err(table_err(
                table_at,
                format!(
                    "frame magic {skip_magic:#010x} is not {SEEK_TABLE_FRAME_MAGIC:#010x} \
                     (truncated file or wrong frame count {n})"
                ),
            ));
        }
        if u64::from(skip_size) != frame_size {
            return Err(table_err(
                table_at + 4,
                format!("frame size {skip_size} does not match {n} entries ({frame_size})"),
            ));
        }
        let mut raw = vec![0u8; (u64::from(n) * ENTRY_LEN) as usize];
        read_exact_at(reader, table_at + 8, &mut raw, file_len)?;

        // The frames must tile the file exactly from byte 0 to the seek table.
        let total: u64 = raw
            .chunks_exact(ENTRY_LEN as usize)
            .map(|e| u64::from(u32::from_le_bytes(e[0..4].try_into().expect("4 bytes"))))
            .sum();
        if total != table_at {
            return Err(table_err(
                table_at,
                format!(
                    "frames add up to {total} bytes but the seek table starts at byte {table_at}"
                ),
            ));
        }

        // The last entry is the metadata frame.
        let entry_at = |i: usize| table_at + 8 + i as u64 * ENTRY_LEN;
        let last = &raw[raw.len() - ENTRY_LEN as usize..];
        let (meta_c, meta_d, meta_sum) = decode_entry(last);
        let last_i = n as usize - 1;
        if meta_c as usize != METADATA_FRAME_LEN || meta_d != 0 || meta_sum != EMPTY_CHECKSUM {
            return Err(table_err(
                entry_at(last_i),
                format!(
                    "last entry ({meta_c} bytes -> {meta_d} bytes, checksum {meta_sum:#010x}) \
                     is not seqflow's metadata frame"
                ),
            ));
        }
        let metadata_offset = table_at - u64::from(meta_c);
        let mut meta_frame = [0u8; METADATA_FRAME_LEN];
        read_exact_at(reader, metadata_offset, &mut meta_frame, file_len)?;
        let (metadata, data_frames) = PackMetadata::decode_frame(&meta_frame, metadata_offset)?;
        if data_frames as usize != last_i {
            return Err(Error::Metadata {
                offset: metadata_offset,
                reason: format!(
                    "metadata counts {data_frames} data frames, seek table lists {last_i}"
                ),
            });
        }

        let mut frames = Vec::with_capacity(last_i);
        let (mut c_off, mut d_off) = (0u64, 0u64);
        for (i, e) in raw.chunks_exact(ENTRY_LEN as usize).take(last_i).enumerate() {
            let (c, d, checksum) = decode_entry(e);
            if d == 0 {
                return Err(table_err(
                    entry_at(i),
                    format!("frame {i} at byte {c_off} decodes to no bytes"),
                ));
            }
            if d > metadata.chunk_size {
                return Err(table_err(
                    entry_at(i),
                    format!(
                        "frame {i} at byte {c_off} decodes to {d} bytes, more than the chunk size {}",
                        metadata.chunk_size
                    ),
                ));
            }
            // A zstd frame is at least a magic number, a frame header and a block header.
            if c < 9 {
                return Err(table_err(
                    entry_at(i),
                    format!("frame {i} at byte {c_off} is {c} bytes, too short for a zstd frame"),
                ));
            }
            frames.push(FrameEntry {
                index: i,
                compressed_offset: c_off,
                decompressed_offset: d_off,
                compressed_size: c,
                decompressed_size: d,
                checksum,
            });
            c_off += u64::from(c);
            d_off += u64::from(d);
        }
        if d_off != metadata.original_size {
            return Err(Error::Metadata {
                offset: metadata_offset,
                reason: format!(
                    "original size is {} bytes but the frames decode to {d_off}",
                    metadata.original_size
                ),
            });
        }
        Ok(SeekableIndex {
            frames,
            metadata,
            metadata_offset,
            seek_table_offset: table_at,
            file_len,
        })
    }

    /// The data frames, in file order (the metadata frame is not included).
    pub fn frames(&self) -> &[FrameEntry] {
        &self.frames
    }

    /// Frame `i`, if there is one.
    pub fn frame(&self, i: usize) -> Option<&FrameEntry> {
        self.frames.get(i)
    }

    /// Byte offset of frame `i` in the compressed file, if there is such a frame.
    pub fn compressed_offset(&self, i: usize) -> Option<u64> {
        self.frames.get(i).map(|f| f.compressed_offset)
    }

    /// The metadata record.
    pub fn metadata(&self) -> &PackMetadata {
        &self.metadata
    }

    /// Length of the original data.
    pub fn original_size(&self) -> u64 {
        self.metadata.original_size
    }

    /// SHA-256 of the original data, as recorded by the writer.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.metadata.sha256
    }

    /// The chunk size: no frame decodes to more than this many bytes.
    pub fn chunk_size(&self) -> u32 {
        self.metadata.chunk_size
    }

    /// Byte offset of the metadata frame.
    pub fn metadata_offset(&self) -> u64 {
        self.metadata_offset
    }

    /// Length of the whole file, seek table included.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Byte offset of the seek table frame.
    pub fn seek_table_offset(&self) -> u64 {
        self.seek_table_offset
    }

    /// Indices of the frames that hold any byte of `range` (original-data offsets).
    ///
    /// The part of `range` beyond the end of the data is ignored; an empty or out-of-bounds
    /// range gives an empty range of indices.
    pub fn frames_for_range(&self, range: Range<u64>) -> Range<usize> {
        let first = self.frames.partition_point(|f| {
            f.decompressed_offset + u64::from(f.decompressed_size) <= range.start
        });
        if range.start >= range.end {
            return first..first;
        }
        let end = self.frames.partition_point(|f| f.decompressed_offset < range.end);
        first..end.max(first)
    }

    /// Reads the compressed bytes of `frame` from `reader` into `buf` (replacing its contents).
    ///
    /// # Errors
    /// [`Error::Io`] if reading fails, [`Error::Truncated`] if the file ends early.
    pub fn read_frame<R: Read + Seek + ?Sized>(
        &self,
        reader: &mut R,
        frame: &FrameEntry,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        buf.clear();
        buf.resize(frame.compressed_size as usize, 0);
        read_exact_at(reader, frame.compressed_offset, buf, self.file_len)
    }

    /// Decodes the bytes `range` of the original data, reading only the frames it needs, and
    /// appends them to `out`.
    ///
    /// The range is clamped to the data. Every frame read is verified (length, zstd checksum,
    /// seek-table checksum); the whole-file SHA-256 is not, as it needs all the data.
    ///
    /// # Errors
    /// As [`read_frame`](Self::read_frame) and [`FrameDecompressor::decompress`].
    pub fn read_range<R: Read + Seek + ?Sized>(
        &self,
        reader: &mut R,
        range: Range<u64>,
        decompressor: &mut FrameDecompressor,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let (mut compressed, mut decoded) = (Vec::new(), Vec::new());
        for frame in &self.frames[self.frames_for_range(range.clone())] {
            self.read_frame(reader, frame, &mut compressed)?;
            decompressor.decompress(&compressed, frame, &mut decoded)?;
            let start = range.start.saturating_sub(frame.decompressed_offset) as usize;
            let end = (range.end - frame.decompressed_offset)
                .min(u64::from(frame.decompressed_size)) as usize;
            out.extend_from_slice(&decoded[start..end]);
        }
        Ok(())
    }
}

fn decode_entry(e: &[u8]) -> (u32, u32, u32) {
    let word = |i: usize| u32::from_le_bytes(e[i..i + 4].try_into().expect("4 bytes"));
    (word(0), word(4), word(8))
}

/// Reads exactly `buf.len()` bytes at `offset`, reporting a short file as [`Error::Truncated`].
pub(crate) fn read_exact_at<R: Read + Seek + ?Sized>(
    reader: &mut R,
    offset: u64,
    buf: &mut [u8],
    file_len: u64,
) -> Result<()> {
    reader.seek(SeekFrom::Start(offset))?;
    reader.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::Truncated { offset, needed: buf.len() as u64, file_len }
        } else {
            Error::Io(e)
        }
    })
}
