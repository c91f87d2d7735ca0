//! The writer's record of every frame written, kept in memory up to a bound and spilled to an
//! anonymous temporary file past it, so that packing holds the same memory for any input size.
//!
//! A record is 48 bytes (seek-table entry, BLAKE3 digest, piece count) plus 32 per piece value
//! of chunks longer than 1 MiB (32 bytes per MiB): at most 2^20 records and 48 MiB stay in
//! memory (1 TiB of input at 1 MiB chunks). Past that the records go to a file created with
//! `tempfile::tempfile()` in the temporary directory (`TMPDIR`), already unlinked, so nothing is
//! left behind whatever happens to the process; `finish` reads it back in order.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use super::FrameInfo;
use super::digests::DIGEST_LEN;
use crate::error::{Error, Result};

/// Records kept in memory before they are spilled.
pub(crate) const DEFAULT_SPILL_AFTER: usize = 1 << 20;
/// Bytes of records kept in memory before they are spilled, whatever their number.
const SPILL_AFTER_BYTES: usize = 48 << 20;
/// Bytes of the fixed part of a spilled record: compressed size, decompressed size, checksum,
/// digest, number of piece values (which follow, 32 bytes each).
const RECORD_LEN: usize = 16 + DIGEST_LEN;

/// Every [`FrameInfo`] written, in order.
#[derive(Debug)]
pub(crate) struct FrameLog {
    recent: Vec<FrameInfo>,
    recent_bytes: usize,
    spill: Option<File>,
    spilled: u64,
    spill_after: usize,
}

impl FrameLog {
    /// An empty log that spills once `spill_after` records (at least 1) are in memory.
    pub(crate) fn new(spill_after: usize) -> Self {
        Self {
            recent: Vec::new(),
            recent_bytes: 0,
            spill: None,
            spilled: 0,
            spill_after: spill_after.max(1),
        }
    }

    /// Number of records.
    pub(crate) fn len(&self) -> u64 {
        self.spilled + self.recent.len() as u64
    }

    /// Appends a record, spilling the ones in memory when they reach the bound.
    pub(crate) fn push(&mut self, info: FrameInfo) -> Result<()> {
        self.recent_bytes += record_len(&info);
        self.recent.push(info);
        if self.recent.len() >= self.spill_after || self.recent_bytes >= SPILL_AFTER_BYTES {
            self.spill_recent()?;
        }
        Ok(())
    }

    /// Calls `each` on every record in order.
    pub(crate) fn for_each(
        &mut self,
        mut each: impl FnMut(&FrameInfo) -> Result<()>,
    ) -> Result<()> {
        if let Some(file) = self.spill.as_mut() {
            file.seek(SeekFrom::Start(0)).map_err(spill_error)?;
            let mut reader = BufReader::with_capacity(1 << 16, file);
            let mut record = [0u8; RECORD_LEN];
            for _ in 0..self.spilled {
                reader.read_exact(&mut record).map_err(spill_error)?;
                let mut info = decode(&record);
                for piece in &mut info.pieces {
                    reader.read_exact(piece).map_err(spill_error)?;
                }
                each(&info)?;
            }
        }
        self.recent.iter().try_for_each(each)
    }

    fn spill_recent(&mut self) -> Result<()> {
        let file = match self.spill.as_mut() {
            Some(file) => file,
            None => self.spill.insert(tempfile::tempfile().map_err(spill_error)?),
        };
        file.seek(SeekFrom::End(0)).map_err(spill_error)?;
        let mut writer = BufWriter::with_capacity(1 << 16, file);
        for info in &self.recent {
            writer.write_all(&encode(info)).map_err(spill_error)?;
            for piece in &info.pieces {
                writer.write_all(piece).map_err(spill_error)?;
            }
        }
        writer.flush().map_err(spill_error)?;
        self.spilled += self.recent.len() as u64;
        self.recent.clear();
        self.recent_bytes = 0;
        Ok(())
    }
}

/// Bytes a record takes spilled (and about what it takes in memory).
fn record_len(info: &FrameInfo) -> usize {
    RECORD_LEN + info.pieces.len() * DIGEST_LEN
}

/// The fixed part of a record; its piece values follow it.
fn encode(info: &FrameInfo) -> [u8; RECORD_LEN] {
    let mut record = [0u8; RECORD_LEN];
    record[0..4].copy_from_slice(&info.compressed_size.to_le_bytes());
    record[4..8].copy_from_slice(&info.decompressed_size.to_le_bytes());
    record[8..12].copy_from_slice(&info.checksum.to_le_bytes());
    // At most 1024 pieces (a 1 GiB frame).
    record[12..16].copy_from_slice(&(info.pieces.len() as u32).to_le_bytes());
    record[16..].copy_from_slice(&info.digest);
    record
}

/// A record from its fixed part, with room for the piece values that follow it.
fn decode(record: &[u8; RECORD_LEN]) -> FrameInfo {
    let word = |i: usize| u32::from_le_bytes(record[i..i + 4].try_into().expect("4 bytes"));
    FrameInfo {
        compressed_size: word(0),
        decompressed_size: word(4),
        checksum: word(8),
        digest: record[16..].try_into().expect("32 bytes"),
        pieces: vec![[0; DIGEST_LEN]; word(12) as usize],
    }
}

/// An I/O error of the spill file, saying which file it is (the output is fine).
fn spill_error(e: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(
        e.kind(),
        format!("temporary file of frame records (in TMPDIR): {e}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(i: u32) -> FrameInfo {
        FrameInfo {
            compressed_size: i,
            decompressed_size: i.wrapping_mul(3),
            checksum: !i,
            digest: [i as u8; DIGEST_LEN],
            pieces: (0..i % 3).map(|p| [(i * 7 + p) as u8; DIGEST_LEN]).collect(),
        }
    }

    #[test]
    fn records_come_back_in_order_across_the_spill() {
        for spill_after in [1, 3, 1000] {
            let mut log = FrameLog::new(spill_after);
            for i in 0..10 {
                log.push(info(i)).unwrap();
            }
            assert_eq!(log.len(), 10);
            assert_eq!(log.spill.is_some(), spill_after <= 10);
            for _ in 0..2 {
                let mut seen = Vec::new();
                log.for_each(|e| {
                    seen.push(e.clone());
                    Ok(())
                })
                .unwrap();
                assert_eq!(seen, (0..10).map(info).collect::<Vec<_>>(), "{spill_after}");
            }
        }
    }
}
