//! The `.gzi` index of htslib (`bgzip -i` / `bgzip -r`).

use std::io::{Read, Write};

use crate::error::{Error, Result};

/// A `.gzi` index: where each BGZF block starts, in the compressed file and in the original.
///
/// On disk (htslib's `bgzf_index_dump`): a little-endian `u64` count, then that many pairs of
/// little-endian `u64` (compressed offset, uncompressed offset), one per block start in file
/// order, leaving out the first block (which starts at 0, 0) and the EOF block. It costs 16 bytes
/// per 64 KiB block in memory (1/4096 of the original).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GziIndex {
    entries: Vec<(u64, u64)>,
}

/// Entries read before trusting a count from the file (the rest are read as they come).
const PREALLOCATE_LIMIT: u64 = 1 << 16;

impl GziIndex {
    /// An empty index (a file of one block, or none).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that a block starts at `compressed_offset`, holding original bytes from
    /// `uncompressed_offset` on.
    ///
    /// # Errors
    /// [`Error::Gzi`] if the offsets do not increase (compressed strictly, uncompressed weakly).
    pub fn push(&mut self, compressed_offset: u64, uncompressed_offset: u64) -> Result<()> {
        let (c, u) = self.entries.last().copied().unwrap_or((0, 0));
        if compressed_offset <= c || uncompressed_offset < u {
            return Err(Error::Gzi {
                offset: 8 + 16 * self.entries.len() as u64,
                reason: format!(
                    "entry ({compressed_offset}, {uncompressed_offset}) does not follow ({c}, {u})"
                ),
            });
        }
        self.entries.push((compressed_offset, uncompressed_offset));
        Ok(())
    }

    /// The (compressed offset, uncompressed offset) pairs, first block excluded.
    pub fn entries(&self) -> &[(u64, u64)] {
        &self.entries
    }

    /// The start of the block holding original byte `offset`: the last block start at or
    /// before it, as (compressed offset, uncompressed offset).
    pub fn locate(&self, offset: u64) -> (u64, u64) {
        let i = self.entries.partition_point(|&(_, u)| u <= offset);
        if i == 0 { (0, 0) } else { self.entries[i - 1] }
    }

    /// Writes the index in htslib's format.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn write_to<W: Write>(&self, mut writer: W) -> Result<()> {
        let mut buf = Vec::with_capacity(8 + 16 * self.entries.len());
        buf.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for &(c, u) in &self.entries {
            buf.extend_from_slice(&c.to_le_bytes());
            buf.extend_from_slice(&u.to_le_bytes());
        }
        writer.write_all(&buf)?;
        writer.flush()?;
        Ok(())
    }

    /// Reads an index in htslib's format.
    ///
    /// A hostile count cannot make this allocate more than the file holds.
    ///
    /// # Errors
    /// [`Error::Gzi`] if the file is short, has trailing bytes, or its offsets do not increase;
    /// [`Error::Io`] if reading fails.
    pub fn read<R: Read>(mut reader: R) -> Result<Self> {
        let mut word = [0u8; 8];
        read_word(&mut reader, &mut word, 0)?;
        let count = u64::from_le_bytes(word);
        let mut index = Self { entries: Vec::with_capacity(count.min(PREALLOCATE_LIMIT) as usize) };
        for i in 0..count {
            let at = 8 + 16 * i;
            read_word(&mut reader, &mut word, at)?;
            let c = u64::from_le_bytes(word);
            read_word(&mut reader, &mut word, at + 8)?;
            let u = u64::from_le_bytes(word);
            index.push(c, u)?;
        }
        let mut extra = [0u8; 1];
        if reader.read(&mut extra)? != 0 {
            return Err(Error::Gzi {
                offset: 8 + 16 * count,
                reason: format!("trailing bytes after {count} entries"),
            });
        }
        Ok(index)
    }
}

fn read_word<R: Read>(reader: &mut R, word: &mut [u8; 8], offset: u64) -> Result<()> {
    reader.read_exact(word).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::Gzi { offset, reason: "file ends early".into() }
        } else {
            Error::Io(e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_locate() {
        let mut g = GziIndex::new();
        g.push(100, 65280).unwrap();
        g.push(200, 130560).unwrap();
        let mut buf = Vec::new();
        g.write_to(&mut buf).unwrap();
        assert_eq!(buf.len(), 8 + 32);
        assert_eq!(GziIndex::read(&buf[..]).unwrap(), g);
        assert_eq!(g.locate(0), (0, 0));
        assert_eq!(g.locate(65279), (0, 0));
        assert_eq!(g.locate(65280), (100, 65280));
        assert_eq!(g.locate(1 << 40), (200, 130560));
    }

    #[test]
    fn hostile_count_is_an_error_not_an_allocation() {
        let buf = u64::MAX.to_le_bytes();
        let e = GziIndex::read(&buf[..]).unwrap_err();
        assert!(e.to_string().contains("at byte 8"), "{e}");
    }

    #[test]
    fn decreasing_offsets_rejected() {
        let mut buf = 2u64.to_le_bytes().to_vec();
        for v in [100u64, 10, 50, 20] {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        assert!(GziIndex::read(&buf[..]).is_err());
    }
}
