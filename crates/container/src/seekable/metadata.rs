//! seqflow's metadata record, stored in its own skippable frame.

use super::{MAX_FRAME_SIZE, METADATA_FRAME_MAGIC};
use crate::error::{Error, Result};

/// Magic at the start of the metadata payload ("SQFLPACK").
const PAYLOAD_MAGIC: &[u8; 8] = b"SQFLPACK";
/// The first version: a whole-file SHA-256 of the original.
const VERSION_SHA256: u16 = 1;
/// Per-chunk BLAKE3 digests in a digest frame, bound by their root.
const VERSION_CHUNK_DIGESTS: u16 = 2;
/// The current version: version 2 with the chaining values of every 1 MiB piece of chunks
/// longer than that after the digests.
const VERSION_PIECE_DIGESTS: u16 = 3;
/// Length of the payload (everything after the skippable frame header).
pub(crate) const PAYLOAD_LEN: usize = 68;
/// Length of the whole metadata frame: skippable magic, frame size, payload.
pub(crate) const FRAME_LEN: usize = 8 + PAYLOAD_LEN;

/// The end-to-end digest of the original a packed file carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginalDigest {
    /// Version 1: SHA-256 of the whole original, which only one thread can check.
    Sha256([u8; 32]),
    /// Version 2: BLAKE3 of the digest frame's payload, the BLAKE3 digests of the chunks in
    /// order. Workers check each chunk against its digest in parallel; the root binds the
    /// digests to their order and number.
    ChunkDigestRoot([u8; 32]),
    /// Version 3: as version 2, and the digest frame also holds the BLAKE3 chaining values of
    /// the 1 MiB pieces of every chunk longer than 1 MiB, which merge into its digest, so that
    /// a reader can check part of a frame.
    PieceDigestRoot([u8; 32]),
}

/// What seqflow records about the original data of a packed file.
///
/// Written by [`SeekableWriter::finish`](super::SeekableWriter::finish) (version 3) or
/// [`SeekableWriter::finish_version1`](super::SeekableWriter::finish_version1), read back by
/// [`SeekableIndex::read`](super::SeekableIndex::read); the byte layout is in
/// `docs/formats/pack.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackMetadata {
    /// Length of the original data in bytes.
    pub original_size: u64,
    /// The end-to-end digest of the original; its kind is the format version.
    pub digest: OriginalDigest,
    /// The chunk size the data was split with: no frame decodes to more than this.
    pub chunk_size: u32,
    /// Feature flags; versions 1 and 2 define none, so this must be 0.
    pub flags: u32,
}

impl PackMetadata {
    /// Version-1 metadata for `original_size` bytes hashing to `sha256`, split into
    /// `chunk_size` chunks: what seqflow wrote before version 2 (kept to write test files).
    pub fn version1(original_size: u64, sha256: [u8; 32], chunk_size: u32) -> Self {
        Self { original_size, digest: OriginalDigest::Sha256(sha256), chunk_size, flags: 0 }
    }

    /// Version-2 metadata whose digests hash to `root` (no piece values).
    #[cfg(test)]
    pub(crate) fn version2(original_size: u64, root: [u8; 32], chunk_size: u32) -> Self {
        let digest = OriginalDigest::ChunkDigestRoot(root);
        Self { original_size, digest, chunk_size, flags: 0 }
    }

    /// Version-3 metadata whose digests hash to `root` (piece values follow them).
    pub(crate) fn version3(original_size: u64, root: [u8; 32], chunk_size: u32) -> Self {
        let digest = OriginalDigest::PieceDigestRoot(root);
        Self { original_size, digest, chunk_size, flags: 0 }
    }

    /// The format version: 1 (SHA-256), 2 (per-chunk BLAKE3) or 3 (and per-piece values).
    pub fn version(&self) -> u16 {
        match self.digest {
            OriginalDigest::Sha256(_) => VERSION_SHA256,
            OriginalDigest::ChunkDigestRoot(_) => VERSION_CHUNK_DIGESTS,
            OriginalDigest::PieceDigestRoot(_) => VERSION_PIECE_DIGESTS,
        }
    }

    /// Whether the digest frame holds piece values after the digests (version 3).
    pub fn has_piece_digests(&self) -> bool {
        matches!(self.digest, OriginalDigest::PieceDigestRoot(_))
    }

    /// The SHA-256 of the original, which version 1 records.
    pub fn sha256(&self) -> Option<&[u8; 32]> {
        match &self.digest {
            OriginalDigest::Sha256(sha256) => Some(sha256),
            OriginalDigest::ChunkDigestRoot(_) | OriginalDigest::PieceDigestRoot(_) => None,
        }
    }

    /// The root of the chunk digests, which versions 2 and 3 record.
    pub fn chunk_digest_root(&self) -> Option<&[u8; 32]> {
        match &self.digest {
            OriginalDigest::Sha256(_) => None,
            OriginalDigest::ChunkDigestRoot(root) | OriginalDigest::PieceDigestRoot(root) => {
                Some(root)
            }
        }
    }

    /// Encodes the whole metadata frame; `data_frames` is the number of data frames before it.
    pub(crate) fn encode_frame(&self, data_frames: u32) -> [u8; FRAME_LEN] {
        let mut f = [0u8; FRAME_LEN];
        f[0..4].copy_from_slice(&METADATA_FRAME_MAGIC.to_le_bytes());
        f[4..8].copy_from_slice(&(PAYLOAD_LEN as u32).to_le_bytes());
        let p = &mut f[8..];
        p[0..8].copy_from_slice(PAYLOAD_MAGIC);
        p[8..10].copy_from_slice(&self.version().to_le_bytes());
        // p[10..12] reserved, zero.
        p[12..16].copy_from_slice(&self.flags.to_le_bytes());
        p[16..20].copy_from_slice(&self.chunk_size.to_le_bytes());
        p[20..24].copy_from_slice(&data_frames.to_le_bytes());
        p[24..32].copy_from_slice(&self.original_size.to_le_bytes());
        let (OriginalDigest::Sha256(digest)
        | OriginalDigest::ChunkDigestRoot(digest)
        | OriginalDigest::PieceDigestRoot(digest)) = &self.digest;
        p[32..64].copy_from_slice(digest);
        let crc = libdeflater::crc32(&p[..64]);
        p[64..68].copy_from_slice(&crc.to_le_bytes());
        f
    }

    /// Decodes a metadata frame found at byte `offset`; returns it and its data frame count.
    ///
    /// # Errors
    /// [`Error::Metadata`] naming `offset` for anything unexpected.
    pub(crate) fn decode_frame(frame: &[u8], offset: u64) -> Result<(Self, u32)> {
        let bad = |reason: String| Error::Metadata { offset, reason };
        if frame.len() != FRAME_LEN {
            return Err(bad(format!("frame is {} bytes, expected {FRAME_LEN}", frame.len())));
        }
        let magic = u32_at(frame, 0);
        if magic != METADATA_FRAME_MAGIC {
            return Err(bad(format!(
                "magic {magic:#010x} is not seqflow's {METADATA_FRAME_MAGIC:#010x}"
            )));
        }
        let size = u32_at(frame, 4);
        if size as usize != PAYLOAD_LEN {
            return Err(bad(format!("frame size field is {size}, expected {PAYLOAD_LEN}")));
        }
        let p = &frame[8..];
        if &p[0..8] != PAYLOAD_MAGIC {
            return Err(bad("payload magic is not SQFLPACK".into()));
        }
        let crc = u32_at(p, 64);
        let actual = libdeflater::crc32(&p[..64]);
        if crc != actual {
            return Err(bad(format!(
                "CRC32 mismatch: payload has {actual:#010x}, stored {crc:#010x}"
            )));
        }
        let version = u16::from_le_bytes([p[8], p[9]]);
        let digest: [u8; 32] = p[32..64].try_into().expect("32 bytes");
        let digest = match version {
            VERSION_SHA256 => OriginalDigest::Sha256(digest),
            VERSION_CHUNK_DIGESTS => OriginalDigest::ChunkDigestRoot(digest),
            VERSION_PIECE_DIGESTS => OriginalDigest::PieceDigestRoot(digest),
            _ => {
                return Err(bad(format!(
                    "unsupported version {version} (this reader knows versions \
                     {VERSION_SHA256} to {VERSION_PIECE_DIGESTS})"
                )));
            }
        };
        if p[10..12] != [0, 0] {
            return Err(bad("reserved bytes are not zero".into()));
        }
        let flags = u32_at(p, 12);
        if flags != 0 {
            return Err(bad(format!("unknown flags {flags:#010x}")));
        }
        let chunk_size = u32_at(p, 16);
        if chunk_size == 0 || chunk_size > MAX_FRAME_SIZE {
            return Err(bad(format!("chunk size {chunk_size} outside 1..={MAX_FRAME_SIZE}")));
        }
        let data_frames = u32_at(p, 20);
        let original_size = u64::from_le_bytes(p[24..32].try_into().expect("8 bytes"));
        Ok((Self { original_size, digest, chunk_size, flags }, data_frames))
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_every_version() {
        for m in [
            PackMetadata::version1(123_456_789_012, [7; 32], 1 << 20),
            PackMetadata::version2(123_456_789_012, [7; 32], 1 << 20),
            PackMetadata::version3(123_456_789_012, [7; 32], 1 << 20),
        ] {
            let f = m.encode_frame(42);
            assert_eq!(PackMetadata::decode_frame(&f, 9).unwrap(), (m, 42));
        }
        let v2 = PackMetadata::version2(5, [3; 32], 7);
        assert_eq!((v2.version(), v2.sha256(), v2.chunk_digest_root()), (2, None, Some(&[3; 32])));
        let v1 = PackMetadata::version1(5, [3; 32], 7);
        assert_eq!((v1.version(), v1.sha256(), v1.chunk_digest_root()), (1, Some(&[3; 32]), None));
        let v3 = PackMetadata::version3(5, [3; 32], 7);
        assert_eq!((v3.version(), v3.chunk_digest_root()), (3, Some(&[3; 32])));
        assert!(v3.has_piece_digests() && !v2.has_piece_digests() && !v1.has_piece_digests());
    }

    #[test]
    fn the_version_field_is_at_payload_byte_8() {
        let f = PackMetadata::version3(5, [1; 32], 4096).encode_frame(1);
        assert_eq!(f[16..18], [3, 0]);
        let f = PackMetadata::version2(5, [1; 32], 4096).encode_frame(1);
        assert_eq!(f[16..18], [2, 0]);
        let f = PackMetadata::version1(5, [1; 32], 4096).encode_frame(1);
        assert_eq!(f[16..18], [1, 0]);
    }

    #[test]
    fn an_unknown_version_with_a_good_crc_is_refused() {
        let mut f = PackMetadata::version2(5, [1; 32], 4096).encode_frame(1);
        f[16] = 4;
        let crc = libdeflater::crc32(&f[8..72]);
        f[72..76].copy_from_slice(&crc.to_le_bytes());
        let e = PackMetadata::decode_frame(&f, 100).unwrap_err().to_string();
        assert!(e.contains("unsupported version 4"), "{e}");
    }

    #[test]
    fn any_flipped_byte_is_rejected() {
        for m in [
            PackMetadata::version1(5, [1; 32], 4096),
            PackMetadata::version2(5, [1; 32], 4096),
            PackMetadata::version3(5, [1; 32], 4096),
        ] {
            let f = m.encode_frame(1);
            for i in 0..f.len() {
                let mut g = f;
                g[i] ^= 0x10;
                let e = PackMetadata::decode_frame(&g, 100).unwrap_err();
                assert!(e.to_string().contains("at byte 100"), "{e}");
            }
        }
    }
}
