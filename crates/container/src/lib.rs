//! On-disk container formats of `seqflow pack`: standard formats that stock tools read.
//!
//! * **zstd seekable format** (the default): one independent zstd frame per chunk, with the
//!   content size and content checksum in each frame, then the BLAKE3 digest of every chunk
//!   and seqflow's metadata (format version, original size, chunk size, the root of the
//!   digests) in skippable frames, then the seek table of facebook/zstd's
//!   `contrib/seekable_format`. Stock `zstd -d` decompresses it;
//!   [`SeekableIndex`] gives random access and the frame list for parallel decoding.
//! * **BGZF** (SAM/BAM specification §4.1): gzip members of at most 64 KiB with the `BC` extra
//!   subfield and the EOF block, readable by `bgzip -d` and htslib, with a `.gzi` index
//!   ([`GziIndex`]) for random access.
//!
//! Compression and decompression state is per worker and reused for every chunk
//! ([`FrameCompressor`], [`FrameDecompressor`], [`BgzfCompressor`]); writers take the results
//! in order ([`SeekableWriter`], [`BgzfWriter`]). Readers validate everything and name the
//! frame or block and the byte offset of the first problem; decoding never allocates more
//! than the chunk size the file declares. The byte layout is specified in
//! `docs/formats/pack.md`.
//!
//! ```
//! use std::io::Cursor;
//! use seqflow_container::{
//!     FrameCompressor, FrameDecompressor, SeekableIndex, SeekableWriter,
//! };
//!
//! let data: Vec<u8> = b"@r1\nACGTACGT\n+\nIIIIIIII\n".repeat(1000);
//! let chunk_size = 4096;
//!
//! // Pack: one frame per chunk (workers would do this in parallel), written in order.
//! let mut compressor = FrameCompressor::new(3)?;
//! let mut writer = SeekableWriter::new(Vec::new());
//! let mut frame = Vec::new();
//! for chunk in data.chunks(chunk_size) {
//!     let info = compressor.compress(chunk, &mut frame)?;
//!     writer.write_frame(&frame, info)?;
//! }
//! // The digest frame (each chunk's BLAKE3), the metadata and the seek table.
//! let file = writer.finish(data.len() as u64, chunk_size as u32)?;
//!
//! // Stock zstd decompresses it...
//! assert_eq!(zstd::decode_all(&file[..])?, data);
//!
//! // ...and the seek table gives random access.
//! let mut reader = Cursor::new(&file);
//! let index = SeekableIndex::read(&mut reader)?;
//! assert_eq!(index.original_size(), data.len() as u64);
//! let mut decompressor = FrameDecompressor::new()?;
//! let mut out = Vec::new();
//! index.read_range(&mut reader, 10_000..10_100, &mut decompressor, &mut out)?;
//! assert_eq!(out, &data[10_000..10_100]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod bgzf;
mod error;
mod huge_pages;
mod seekable;

pub use bgzf::{
    BgzfBlockReader, BgzfChunk, BgzfCompressor, BgzfInflater, BgzfReader, BgzfWriter, BlockInfo,
    EOF_BLOCK, GziIndex, MAX_BLOCK_INPUT, MAX_BLOCK_SIZE,
};
pub use error::{Error, FrameFault, Result};
pub use huge_pages::advise_huge_pages;
pub use seekable::{
    AUTO_LOSS_TARGET, AUTO_MAX_CHUNK, AUTO_MIN_CHUNK, AUTO_SAMPLE, DIGEST_FRAME_MAGIC,
    FrameCompressor, FrameDecompressor, FrameEntry, FrameInfo, MAX_FRAME_SIZE, MAX_FRAMES,
    METADATA_FRAME_MAGIC, OriginalDigest, PIECE_LEN, PackMetadata, SEEK_TABLE_FRAME_MAGIC,
    SEEKABLE_MAGIC, SeekableIndex, SeekableWriter, StreamSummary, ZSTD_FRAME_MAGIC,
    choose_chunk_size, decode_stream,
};
