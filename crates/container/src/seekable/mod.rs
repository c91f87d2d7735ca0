//! The zstd seekable format: independent zstd frames, the chunks' BLAKE3 digests and
//! seqflow's metadata in skippable frames, and the seek table of facebook/zstd's
//! `contrib/seekable_format` at the end.
//!
//! The layout and the reasons behind it are in `docs/formats/pack.md`.

mod chunking;
mod compressor;
mod decompressor;
mod digests;
mod frame_log;
mod index;
mod metadata;
mod stream;
mod writer;

pub use chunking::{
    AUTO_LOSS_TARGET, AUTO_MAX_CHUNK, AUTO_MIN_CHUNK, AUTO_SAMPLE, choose_chunk_size,
};
pub use compressor::{FrameCompressor, FrameInfo};
pub use decompressor::FrameDecompressor;
pub use digests::PIECE_LEN;
pub(crate) use digests::hex;
pub(crate) use index::read_exact_at;
pub use index::{FrameEntry, SeekableIndex};
pub use metadata::{OriginalDigest, PackMetadata};
pub use stream::{StreamSummary, decode_stream};
pub use writer::SeekableWriter;

/// Magic number that starts every zstd frame (little-endian on disk).
pub const ZSTD_FRAME_MAGIC: u32 = 0xFD2F_B528;
/// Skippable-frame magic number of the seek table frame.
pub const SEEK_TABLE_FRAME_MAGIC: u32 = 0x184D_2A5E;
/// Magic number that ends a seekable file (the last four bytes).
pub const SEEKABLE_MAGIC: u32 = 0x8F92_EAB1;
/// Skippable-frame magic number of seqflow's metadata frame.
pub const METADATA_FRAME_MAGIC: u32 = 0x184D_2A5A;
/// Skippable-frame magic number of the digest frame of versions 2 and 3 (the chunks' BLAKE3 digests).
pub const DIGEST_FRAME_MAGIC: u32 = 0x184D_2A5B;
/// Most frames a seek table may list (the reference implementation's limit).
pub const MAX_FRAMES: u32 = 0x0800_0000;
/// Largest decompressed size of one frame, and so the largest chunk size (1 GiB, the
/// reference implementation's conservative limit).
pub const MAX_FRAME_SIZE: u32 = 0x4000_0000;

/// Size of the seek table footer (`Number_Of_Frames`, descriptor, magic).
pub(crate) const FOOTER_LEN: u64 = 9;
/// Size of one seek table entry with checksums.
pub(crate) const ENTRY_LEN: u64 = 12;
/// Descriptor bit 7: entries carry checksums.
pub(crate) const CHECKSUM_FLAG: u8 = 0x80;
/// Descriptor bits 6-2: reserved, must be zero.
pub(crate) const RESERVED_BITS: u8 = 0x7C;
/// Reads the seek table descriptor found at byte `at`: whether entries carry checksums, and
/// the entry length that follows (12 or 8 bytes).
///
/// # Errors
/// [`crate::Error::SeekTable`] when a reserved bit is set.
pub(crate) fn entry_layout(descriptor: u8, at: u64) -> crate::error::Result<(bool, u64)> {
    if descriptor & RESERVED_BITS != 0 {
        return Err(crate::Error::SeekTable {
            offset: at,
            reason: format!("reserved descriptor bits set ({descriptor:#04x})"),
        });
    }
    let checksums = descriptor & CHECKSUM_FLAG != 0;
    Ok((checksums, if checksums { ENTRY_LEN } else { ENTRY_LEN - 4 }))
}

/// Low 32 bits of XXH64 of no bytes (seed 0): the checksum of an empty frame.
pub(crate) const EMPTY_CHECKSUM: u32 = 0x51D8_E999;
