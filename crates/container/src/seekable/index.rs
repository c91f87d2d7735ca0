//! Reading and validating the seek table and the metadata frame.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use super::digests;
use super::metadata::FRAME_LEN as METADATA_FRAME_LEN;
use super::{
    EMPTY_CHECKSUM, FOOTER_LEN, FrameDecompressor, MAX_FRAME_SIZE, MAX_FRAMES,
    METADATA_FRAME_MAGIC, PackMetadata, SEEK_TABLE_FRAME_MAGIC, SEEKABLE_MAGIC, entry_layout,
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
    /// Low 32 bits of XXH64 of the decoded frame, when the seek table carries checksums
    /// (seqflow's always do; the format makes them optional).
    pub checksum: Option<u32>,
    /// BLAKE3 of the decoded frame, from the digest frame of a version-2 or 3 file; a decoder
    /// checks it (see [`FrameDecompressor::decompress`]).
    pub digest: Option<[u8; 32]>,
    /// Byte offset in the file of the frame's piece values (version 3, frames longer than
    /// 1 MiB: one 32-byte BLAKE3 chaining value per MiB), read by
    /// [`SeekableIndex::read_pieces`] to check part of the frame.
    pub pieces_at: Option<u64>,
    /// Whether the frame comes from a seqflow file, whose frames must declare their content
    /// size and carry a content checksum; frames of other writers need neither.
    pub seqflow: bool,
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

/// The validated seek table and metadata of a seekable zstd file.
///
/// Files seqflow wrote carry a metadata frame (original size, SHA-256, chunk size) as the last
/// seek-table entry; files of other writers (for example Python `pyzstd`'s
/// `SeekableZstdFile`) have none, and may have a seek table without checksums: both are read,
/// and [`metadata`](Self::metadata) and [`has_checksums`](Self::has_checksums) tell what there
/// is to check.
///
/// [`read`](Self::read) checks the whole structure before returning: footer magic, descriptor
/// bits, frame count limits, that the frames tile the file exactly up to the seek table, that
/// no frame decodes to more than the chunk size, and that the metadata frame (the last
/// seek-table entry) is well formed and agrees with the table. Frame contents are checked when
/// they are decoded ([`FrameDecompressor`]).
#[derive(Debug, Clone)]
pub struct SeekableIndex {
    frames: Vec<FrameEntry>,
    metadata: Option<PackMetadata>,
    metadata_offset: u64,
    data_end: u64,
    checksums: bool,
    original_size: u64,
    chunk_size: u32,
    seek_table_offset: u64,
    file_len: u64,
}

impl SeekableIndex {
    /// Reads the seek table and metadata at the end of `reader`.
    ///
    /// Reads only the end of the file (the seek table and the metadata frame), whatever its
    /// size; memory use is 80 bytes per frame (the entry with, in versions 2 and 3, its BLAKE3
    /// digest), and the digests of the digest frame (32 bytes per frame) are read and hashed once.
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
        let (checksums, entry_len) = entry_layout(footer[4], footer_at + 4)?;
        let n = u32::from_le_bytes(footer[0..4].try_into().expect("4 bytes"));
        if n > MAX_FRAMES {
            return Err(table_err(
                footer_at,
                format!("{n} frames, more than the limit {MAX_FRAMES}"),
            ));
        }
        let frame_size = u64::from(n) * entry_len + FOOTER_LEN;
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
        let mut raw = vec![0u8; (u64::from(n) * entry_len) as usize];
        read_exact_at(reader, table_at + 8, &mut raw, file_len)?;

        // The frames must tile the file exactly from byte 0 to the seek table.
        let total: u64 = raw
            .chunks_exact(entry_len as usize)
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

        // seqflow's files list their metadata frame last; other writers have none.
        let entry_at = |i: usize| table_at + 8 + i as u64 * entry_len;
        let entries: Vec<(u32, u32, Option<u32>)> =
            raw.chunks_exact(entry_len as usize).map(decode_entry).collect();
        let is_metadata_entry = |&(c, d, sum): &(u32, u32, Option<u32>)| {
            c as usize == METADATA_FRAME_LEN && d == 0 && sum == Some(EMPTY_CHECKSUM)
        };
        let metadata_offset = table_at.saturating_sub(METADATA_FRAME_LEN as u64);
        let mut meta_frame = [0u8; METADATA_FRAME_LEN];
        let looks_like_metadata = table_at >= METADATA_FRAME_LEN as u64 && {
            read_exact_at(reader, metadata_offset, &mut meta_frame, file_len)?;
            meta_frame[..8] == METADATA_HEADER
        };
        let (metadata, data_entries, digests) = match entries.last() {
            Some(last) if is_metadata_entry(last) => {
                let (metadata, data_frames) =
                    PackMetadata::decode_frame(&meta_frame, metadata_offset)?;
                // Versions 2 and 3 list its digest frame before the metadata frame.
                let trailer = if metadata.chunk_digest_root().is_some() { 2 } else { 1 };
                if data_frames as usize + trailer != entries.len() {
                    return Err(Error::Metadata {
                        offset: metadata_offset,
                        reason: format!(
                            "metadata counts {data_frames} data frames, seek table lists {}",
                            entries.len().saturating_sub(trailer)
                        ),
                    });
                }
                // Frame sizes decide how many piece values the digest frame holds: check them
                // against the chunk size before reading it.
                let data = &entries[..entries.len() - trailer];
                if let Some(i) = data.iter().position(|e| e.1 > metadata.chunk_size) {
                    return Err(oversized(entry_at(i), i, data, metadata.chunk_size));
                }
                let digests = match metadata.chunk_digest_root() {
                    Some(root) => {
                        let at = entries.len() - 2;
                        let pieces = if metadata.has_piece_digests() {
                            entries[..at].iter().map(|e| digests::piece_count(u64::from(e.1))).sum()
                        } else {
                            0
                        };
                        let trailer = DigestTrailer { entry: entries[at], entry_at: entry_at(at) };
                        Some(trailer.read(
                            reader,
                            metadata_offset,
                            (data_frames, pieces),
                            root,
                            file_len,
                        )?)
                    }
                    None => None,
                };
                (Some(metadata), &entries[..entries.len() - trailer], digests)
            }
            // A seqflow metadata frame right before the table that the table does not list
            // as one: a damaged seqflow file, not another writer's.
            _ if looks_like_metadata => {
                let last = entries.len().saturating_sub(1);
                return Err(table_err(
                    entry_at(last),
                    "a seqflow metadata frame precedes the seek table but its last entry \
                     (or its checksum flag) is not seqflow's metadata frame"
                        .into(),
                ));
            }
            _ => (None, &entries[..], None),
        };
        let chunk_limit = metadata.as_ref().map_or(MAX_FRAME_SIZE, |m| m.chunk_size);
        let seqflow = metadata.is_some();

        let mut frames = Vec::with_capacity(data_entries.len());
        let (mut c_off, mut d_off) = (0u64, 0u64);
        // Version 3's piece values follow the digests in the digest frame, frame by frame.
        let mut pieces_at = digests
            .as_ref()
            .filter(|_| metadata.is_some_and(|m| m.has_piece_digests()))
            .map(|(_, at)| *at);
        for (i, &(c, d, checksum)) in data_entries.iter().enumerate() {
            if d == 0 && seqflow {
                return Err(table_err(
                    entry_at(i),
                    format!("frame {i} at byte {c_off} decodes to no bytes"),
                ));
            }
            if d > chunk_limit {
                return Err(oversized(entry_at(i), i, data_entries, chunk_limit));
            }
            // A zstd frame is at least a magic number, a frame header and a block header; a
            // skippable frame (other writers may list them, decoding to nothing) 8 bytes.
            if c < 9 && (seqflow || d > 0 || c < 8) {
                return Err(table_err(
                    entry_at(i),
                    format!("frame {i} at byte {c_off} is {c} bytes, too short for a zstd frame"),
                ));
            }
            // Frames that decode to nothing (skippable or empty frames of other writers) hold
            // no data to restore.
            if d > 0 {
                let pieces = digests::piece_count(u64::from(d));
                frames.push(FrameEntry {
                    index: i,
                    compressed_offset: c_off,
                    decompressed_offset: d_off,
                    compressed_size: c,
                    decompressed_size: d,
                    checksum,
                    digest: digests.as_ref().map(|(d, _)| d[i]),
                    pieces_at: pieces_at.filter(|_| pieces > 0),
                    seqflow,
                });
                pieces_at = pieces_at.map(|at| at + pieces * digests::DIGEST_LEN as u64);
            }
            c_off += u64::from(c);
            d_off += u64::from(d);
        }
        if let Some(metadata) = &metadata {
            if d_off != metadata.original_size {
                return Err(Error::Metadata {
                    offset: metadata_offset,
                    reason: format!(
                        "original size is {} bytes but the frames decode to {d_off}",
                        metadata.original_size
                    ),
                });
            }
        }
        let chunk_size = frames.iter().map(|f| f.decompressed_size).max().unwrap_or(1);
        Ok(SeekableIndex {
            data_end: c_off,
            chunk_size: metadata.as_ref().map_or(chunk_size, |m| m.chunk_size),
            frames,
            metadata,
            metadata_offset: if seqflow { metadata_offset } else { table_at },
            checksums,
            original_size: d_off,
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

    /// seqflow's metadata record; `None` for a file another writer made.
    pub fn metadata(&self) -> Option<&PackMetadata> {
        self.metadata.as_ref()
    }

    /// Whether the seek table carries a checksum for every frame.
    pub fn has_checksums(&self) -> bool {
        self.checksums
    }

    /// Length of the original data.
    pub fn original_size(&self) -> u64 {
        self.original_size
    }

    /// SHA-256 of the original data, as recorded by seqflow's version 1 (`None` for versions 2 and 3
    /// and other writers).
    pub fn sha256(&self) -> Option<&[u8; 32]> {
        self.metadata.as_ref().and_then(PackMetadata::sha256)
    }

    /// Whether every frame carries a BLAKE3 digest (versions 2 and 3), checked when it is
    /// decoded.
    pub fn has_digests(&self) -> bool {
        self.metadata.as_ref().is_some_and(|m| m.chunk_digest_root().is_some())
    }

    /// The piece values of `frame` (version 3, a frame longer than 1 MiB: the BLAKE3 chaining
    /// value of each of its 1 MiB pieces), read from the digest frame and checked to merge
    /// into the frame's digest, which the root in the metadata covers; `None` for frames
    /// without them.
    ///
    /// # Errors
    /// [`Error::Digests`] when they do not merge into the digest, [`Error::Io`] or
    /// [`Error::Truncated`] when reading fails.
    pub fn read_pieces<R: Read + Seek + ?Sized>(
        &self,
        reader: &mut R,
        frame: &FrameEntry,
    ) -> Result<Option<Vec<[u8; 32]>>> {
        let (Some(at), Some(digest)) = (frame.pieces_at, frame.digest.as_ref()) else {
            return Ok(None);
        };
        let count = digests::piece_count(u64::from(frame.decompressed_size)) as usize;
        let mut values = vec![0u8; count * digests::DIGEST_LEN];
        read_exact_at(reader, at, &mut values, self.file_len)?;
        digests::check_pieces(&values, digest, frame.index, at).map(Some)
    }

    /// Checks every frame's piece values (version 3) against its digest, as
    /// [`read_pieces`](Self::read_pieces) does for one: what `unpack` and `verify` add to
    /// the frames' own digests so that a damaged piece value is found before a `cat` needs it.
    ///
    /// # Errors
    /// As [`read_pieces`](Self::read_pieces).
    pub fn check_pieces<R: Read + Seek + ?Sized>(&self, reader: &mut R) -> Result<()> {
        self.frames.iter().try_for_each(|frame| self.read_pieces(reader, frame).map(drop))
    }

    /// The chunk size: no frame decodes to more than this many bytes (for other writers'
    /// files, the largest frame).
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Byte offset of the metadata frame (of the seek table when there is none).
    pub fn metadata_offset(&self) -> u64 {
        self.metadata_offset
    }

    /// Byte offset where the data frames end: the digest frame (versions 2 and 3), the metadata
    /// frame (version 1) or the seek table (other writers).
    pub fn data_end(&self) -> u64 {
        self.data_end
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
        buf.reserve_exact(frame.compressed_size as usize);
        crate::huge_pages::advise_huge_pages(buf);
        buf.resize(frame.compressed_size as usize, 0);
        read_exact_at(reader, frame.compressed_offset, buf, self.file_len)
    }

    /// Decodes the bytes `range` of the original data, reading only the frames it needs, and
    /// appends them to `out`.
    ///
    /// The range is clamped to the data. Every frame read is verified (length, zstd checksum,
    /// seek-table checksum, BLAKE3 digest); the whole-file SHA-256 of version 1 is not, as it
    /// needs all the data. A version-3 frame of which the range needs only a part is decoded
    /// up to the 1 MiB piece holding the range's end, and the pieces holding the range are
    /// checked against their BLAKE3 values ([`FrameDecompressor::decompress_part`]).
    ///
    /// # Errors
    /// As [`read_frame`](Self::read_frame), [`read_pieces`](Self::read_pieces) and
    /// [`FrameDecompressor::decompress`].
    pub fn read_range<R: Read + Seek + ?Sized>(
        &self,
        reader: &mut R,
        range: Range<u64>,
        decompressor: &mut FrameDecompressor,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let (mut compressed, mut decoded) = (Vec::new(), Vec::new());
        for frame in &self.frames[self.frames_for_range(range.clone())] {
            let start = range.start.saturating_sub(frame.decompressed_offset) as usize;
            let end = (range.end - frame.decompressed_offset)
                .min(u64::from(frame.decompressed_size)) as usize;
            let whole = start == 0 && end == frame.decompressed_size as usize;
            let part = if whole { None } else { self.read_pieces(reader, frame)? };
            if let Some(pieces) = part {
                reader.seek(SeekFrom::Start(frame.compressed_offset))?;
                decompressor.decompress_part(&mut &mut *reader, frame, &pieces, start..end, out)?;
                continue;
            }
            self.read_frame(reader, frame, &mut compressed)?;
            decompressor.decompress(&compressed, frame, &mut decoded)?;
            out.extend_from_slice(&decoded[start..end]);
        }
        Ok(())
    }
}

/// The error for data frame `i` of `entries` (its entry at byte `entry_at`), which decodes
/// to more than `chunk_size` bytes.
fn oversized(
    entry_at: u64,
    i: usize,
    entries: &[(u32, u32, Option<u32>)],
    chunk_size: u32,
) -> Error {
    let at: u64 = entries[..i].iter().map(|e| u64::from(e.0)).sum();
    Error::SeekTable {
        offset: entry_at,
        reason: format!(
            "frame {i} at byte {at} decodes to {} bytes, more than the chunk size {chunk_size}",
            entries[i].1
        ),
    }
}

/// The seek-table entry of version 2's digest frame, and where that entry is.
struct DigestTrailer {
    entry: (u32, u32, Option<u32>),
    entry_at: u64,
}

impl DigestTrailer {
    /// Checks the entry, then reads the start of the digest frame that ends at
    /// `metadata_offset` and checks it against `root`; returns the digests of the
    /// `data_frames` chunks and the byte offset of the `pieces` values that follow them.
    fn read<R: Read + Seek + ?Sized>(
        &self,
        reader: &mut R,
        metadata_offset: u64,
        (data_frames, pieces): (u32, u64),
        root: &[u8; 32],
        file_len: u64,
    ) -> Result<(Vec<[u8; 32]>, u64)> {
        let len = digests::frame_len(u64::from(data_frames), pieces);
        if len > u64::from(u32::MAX) || self.entry != (len as u32, 0, Some(EMPTY_CHECKSUM)) {
            return Err(Error::SeekTable {
                offset: self.entry_at,
                reason: format!(
                    "the entry before the metadata frame is {} -> {} bytes, not the digest \
                     frame of {data_frames} chunks and {pieces} pieces ({len} -> 0 bytes, with \
                     the empty checksum)",
                    self.entry.0, self.entry.1
                ),
            });
        }
        // The frames tile the file up to the seek table, so this lies inside the file.
        let at = metadata_offset.saturating_sub(len);
        let mut head = vec![0u8; digests::frame_len(u64::from(data_frames), 0) as usize];
        read_exact_at(reader, at, &mut head, file_len)?;
        let found = digests::check_frame(&head, at, data_frames, pieces, root)?;
        Ok((found, at + head.len() as u64))
    }
}

/// An entry's compressed size, decompressed size and checksum (when the table has them).
pub(super) fn decode_entry(e: &[u8]) -> (u32, u32, Option<u32>) {
    let word = |i: usize| u32::from_le_bytes(e[i..i + 4].try_into().expect("4 bytes"));
    (word(0), word(4), (e.len() > 8).then(|| word(8)))
}

/// The first 8 bytes of seqflow's metadata frame: skippable magic and `Frame_Size` 68.
const METADATA_HEADER: [u8; 8] = {
    let m = METADATA_FRAME_MAGIC.to_le_bytes();
    let s = (METADATA_FRAME_LEN as u32 - 8).to_le_bytes();
    [m[0], m[1], m[2], m[3], s[0], s[1], s[2], s[3]]
};

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
