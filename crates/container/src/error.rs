//! The crate's one error type.

use std::io;

/// Everything that can go wrong while writing or reading a container.
///
/// Messages name where the problem is: a frame or block index and a byte offset in the
/// compressed file (for example `frame 17 at byte 18874368: checksum mismatch ...`), so that a
/// user can tell which chunk of a large file is bad.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error from the underlying reader or writer.
    #[error("I/O error")]
    Io(#[from] io::Error),

    /// The file is too short to hold what its structure promises.
    #[error("truncated file: needed {needed} bytes at byte {offset}, file has {file_len}")]
    Truncated {
        /// Where the missing bytes should have started.
        offset: u64,
        /// How many bytes were needed there.
        needed: u64,
        /// The length of the file.
        file_len: u64,
    },

    /// The file ends without a zstd seek table, or is not a seqflow container at all.
    #[error("not a seekable zstd file: {reason} (at byte {offset})")]
    NotSeekable {
        /// Byte offset of the bytes that were examined.
        offset: u64,
        /// What was found instead.
        reason: String,
    },

    /// The seek table is present but malformed or inconsistent with the file.
    #[error("seek table at byte {offset}: {reason}")]
    SeekTable {
        /// Byte offset of the offending field or entry.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// seqflow's metadata frame is missing, malformed or inconsistent with the seek table.
    #[error("metadata frame at byte {offset}: {reason}")]
    Metadata {
        /// Byte offset of the metadata frame.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// The digest frame (versions 2 and 3) is malformed or does not hash to the root in the metadata.
    #[error("digest frame at byte {offset}: {reason}")]
    Digests {
        /// Byte offset of the digest frame.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// A zstd data frame failed to decode or to verify.
    #[error("frame {frame} at byte {offset}: {reason}")]
    Frame {
        /// Index of the frame in the seek table.
        frame: usize,
        /// Byte offset of the frame in the compressed file.
        offset: u64,
        /// What is wrong.
        reason: FrameFault,
    },

    /// A BGZF block failed to decode or to verify.
    #[error("BGZF block at byte {offset}: {reason}")]
    Bgzf {
        /// Byte offset of the block in the compressed file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// A `.gzi` index is malformed.
    #[error(".gzi index at byte {offset}: {reason}")]
    Gzi {
        /// Byte offset in the index file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// A compressor was given invalid settings or input.
    #[error("compression failed: {reason}")]
    Compress {
        /// What is wrong.
        reason: String,
    },

    /// A writer was used in a way that would produce an invalid file.
    #[error("invalid use of writer: {reason}")]
    Usage {
        /// What is wrong.
        reason: String,
    },
}

/// Why a zstd data frame was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameFault {
    /// The frame does not start with the zstd frame magic number.
    #[error("not a zstd frame (magic {found:#010x})")]
    BadMagic {
        /// The first four bytes, little-endian.
        found: u32,
    },
    /// The frame header is malformed or its content size is missing.
    #[error("bad frame header: {0}")]
    BadHeader(String),
    /// The frame header declares a different content size than the seek table.
    #[error("frame header declares {declared} bytes, seek table says {expected}")]
    DeclaredSize {
        /// Size declared in the frame header.
        declared: u64,
        /// Size declared in the seek table.
        expected: u64,
    },
    /// The frame's compressed length differs from the seek table's.
    #[error("frame is {actual} bytes long, seek table says {expected}")]
    CompressedSize {
        /// Length found by parsing the frame.
        actual: u64,
        /// Length from the seek table.
        expected: u64,
    },
    /// zstd rejected the frame (corrupt data, or its own content checksum failed).
    #[error("zstd could not decode the frame: {0}")]
    Decode(String),
    /// The frame decoded to a different length than declared.
    #[error("decoded {actual} bytes, expected {expected}")]
    DecodedSize {
        /// Bytes produced.
        actual: u64,
        /// Bytes expected.
        expected: u64,
    },
    /// The checksum of the decoded data differs from the seek table's.
    #[error("checksum mismatch: data has {actual:#010x}, seek table says {expected:#010x}")]
    Checksum {
        /// Checksum of the decoded data.
        actual: u32,
        /// Checksum recorded in the seek table.
        expected: u32,
    },
    /// The BLAKE3 digest of the decoded data differs from the digest frame's (versions 2 and 3).
    #[error(
        "BLAKE3 mismatch: data has {}…, digest frame says {}…",
        crate::seekable::hex(&actual[..8]),
        crate::seekable::hex(&expected[..8])
    )]
    Digest {
        /// BLAKE3 of the decoded data.
        actual: [u8; 32],
        /// The digest recorded for this frame.
        expected: [u8; 32],
    },
    /// A 1 MiB piece of the decoded data differs from its BLAKE3 chaining value in the
    /// digest frame (version 3, checked when only part of a frame is decoded).
    #[error(
        "BLAKE3 mismatch in piece {piece} (bytes {} of the frame): data has {}…, digest frame \
         says {}…",
        piece * crate::seekable::PIECE_LEN,
        crate::seekable::hex(&actual[..8]),
        crate::seekable::hex(&expected[..8])
    )]
    PieceDigest {
        /// Index of the piece within the frame.
        piece: usize,
        /// Chaining value of the decoded piece.
        actual: [u8; 32],
        /// The value recorded for it.
        expected: [u8; 32],
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
