//! BGZF input: the whole original for unpack and verify, and ranges for cat.

use std::io::{Read, Seek, Write};
use std::ops::Range;

use seqflow_container::BgzfReader;
use sha2::{Digest, Sha256};

use crate::error::{Error, InFile, Result};
use crate::input::Packed;
use crate::options::UnpackOptions;
use crate::stream::Hashing;

/// Decodes a whole BGZF file into `out`, checking every block and the EOF block. Returns the
/// size of the original and its SHA-256 when `options.sha256` asks for it.
pub(crate) fn unpack_bgzf(
    name: &str,
    mut packed: Packed,
    out: &mut dyn Write,
    options: &UnpackOptions,
) -> Result<(u64, Option<[u8; 32]>)> {
    let mut reader = BgzfReader::scan(&mut packed).in_file(name)?;
    if !reader.has_eof_block()? {
        return Err(Error::Corrupt("BGZF file has no EOF block (truncated?)".into()).in_file(name));
    }
    let mut hashing = Hashing { inner: out, hasher: options.sha256.then(Sha256::new) };
    let size = copy_bgzf_range(&mut reader, 0..u64::MAX, &mut hashing).in_file(name)?;
    Ok((size, hashing.hasher.map(|h| h.finalize().into())))
}

/// The size of the original of a BGZF file: decodes only what follows the last index entry.
pub(crate) fn bgzf_original_size<R: Read + Seek>(reader: &mut BgzfReader<R>) -> Result<u64> {
    const WINDOW: u64 = 4 << 20;
    let mut size = reader.index().entries().last().map_or(0, |&(_, uncompressed)| uncompressed);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        reader.read_range(size..size.saturating_add(WINDOW), &mut buf)?;
        size += buf.len() as u64;
        if (buf.len() as u64) < WINDOW {
            return Ok(size);
        }
    }
}

/// Decodes `range` of a BGZF file into `out` in windows of 4 MiB, so memory stays bounded
/// whatever the range. Returns the bytes written.
pub(crate) fn copy_bgzf_range<R: Read + Seek>(
    reader: &mut BgzfReader<R>,
    range: Range<u64>,
    out: &mut (impl Write + ?Sized),
) -> Result<u64> {
    const WINDOW: u64 = 4 << 20;
    let (mut pos, mut buf) = (range.start, Vec::new());
    while pos < range.end {
        buf.clear();
        reader.read_range(pos..range.end.min(pos.saturating_add(WINDOW)), &mut buf)?;
        if buf.is_empty() {
            break;
        }
        out.write_all(&buf)?;
        pos += buf.len() as u64;
    }
    Ok(pos - range.start)
}
