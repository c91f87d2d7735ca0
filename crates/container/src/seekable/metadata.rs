//! seqflow's metadata record, stored in its own skippable frame.

use super::{MAX_FRAME_SIZE, METADATA_FRAME_MAGIC};
use crate::error::{Error, Result};

/// Magic at the start of the metadata payload ("SQFLPACK").
const PAYLOAD_MAGIC: &[u8; 8] = b"SQFLPACK";
/// The only metadata version this crate writes and reads.
const VERSION: u16 = 1;
/// Length of the payload (everything after the skippable frame header).
pub(crate) const PAYLOAD_LEN: usize = 68;
/// Length of the whole metadata frame: skippable magic, frame size, payload.
pub(crate) const FRAME_LEN: usize = 8 + PAYLOAD_LEN;

/// What seqflow records about the original data of a packed file.
///
/// Written by [`SeekableWriter::finish`](super::SeekableWriter::finish) and read back by
/// [`SeekableIndex::read`](super::SeekableIndex::read); the byte layout is in
/// `docs/formats/pack.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackMetadata {
    /// Length of the original data in bytes.
    pub original_size: u64,
    /// SHA-256 of the original data.
    pub sha256: [u8; 32],
    /// The chunk size the data was split with: no frame decodes to more than this.
    pub chunk_size: u32,
    /// Feature flags; version 1 defines none, so this must be 0.
    pub flags: u32,
}

impl PackMetadata {
    /// Metadata for `original_size` bytes hashing to `sha256`, split into `chunk_size` chunks.
    pub fn new(original_size: u64, sha256: [u8; 32], chunk_size: u32) -> Self {
        Self { original_size, sha256, chunk_size, flags: 0 }
    }

    /// Encodes the whole metadata frame; `data_frames` is the number of data frames before it.
    pub(crate) fn encode_frame(&self, data_frames: u32) -> [u8; FRAME_LEN] {
        let mut f = [0u8; FRAME_LEN];
        f[0..4].copy_from_slice(&METADATA_FRAME_MAGIC.to_le_bytes());
        f[4..8].copy_from_slice(&(PAYLOAD_LEN as u32).to_le_bytes());
        let p = &mut f[8..];
        p[0..8].copy_from_slice(PAYLOAD_MAGIC);
        p[8..10].copy_from_slice(&VERSION.to_le_bytes());
        // p[10..12] reserved, zero.
        p[12..16].copy_from_slice(&self.flags.to_le_bytes());
        p[16..20].copy_from_slice(&self.chunk_size.to_le_bytes());
        p[20..24].copy_from_slice(&data_frames.to_le_bytes());
        p[24..32].copy_from_slice(&self.original_size.to_le_bytes());
        p[32..64].copy_from_slice(&self.sha256);
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
        if version != VERSION {
            return Err(bad(format!(
                "unsupported version {version} (this reader knows version {VERSION})"
            )));
        }
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
        let sha256 = p[32..64].try_into().expect("32 bytes");
        Ok((Self { original_size, sha256, chunk_size, flags }, data_frames))
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = PackMetadata::new(123_456_789_012, [7; 32], 1 << 20);
        let f = m.encode_frame(42);
        assert_eq!(PackMetadata::decode_frame(&f, 9).unwrap(), (m, 42));
    }

    #[test]
    fn any_flipped_byte_is_rejected() {
        let f = PackMetadata::new(5, [1; 32], 4096).encode_frame(1);
        for i in 0..f.len() {
            let mut g = f;
            g[i] ^= 0x10;
            let e = PackMetadata::decode_frame(&g, 100).unwrap_err();
            assert!(e.to_string().contains("at byte 100"), "{e}");
        }
    }
}
