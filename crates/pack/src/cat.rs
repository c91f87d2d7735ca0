//! [`PackedInput::cat`]: a byte range of the original, decoding only the frames or blocks it
//! needs (streams are decoded from the start). Memory stays one frame whatever the range.

use std::io::Write;
use std::ops::Range;

use seqflow_container::{BgzfReader, FrameDecompressor};
use sha2::{Digest, Sha256};

use crate::bgzf::{bgzf_original_size, copy_bgzf_range};
use crate::error::{Error, InFile, Result};
use crate::input::{PackedInput, Source, checked_gzi};
use crate::stream::{RangeWriter, decode_streamed};
use crate::unpack::UnpackSummary;

impl PackedInput {
    /// Writes the bytes `range` of the original into `out` (a range that ends past the end of
    /// the original is cut there). A range over the whole original of a seqflow file is also
    /// checked against the SHA-256 recorded when packing (format version 1); a BGZF file's
    /// `.gzi`, if there is one, is checked and used.
    ///
    /// # Errors
    /// [`Error::RangeStart`] for a range that starts past the end of the original (not
    /// wrapped in the file name); otherwise as [`unpack`](Self::unpack).
    pub fn cat(self, range: Range<u64>, out: &mut dyn Write) -> Result<UnpackSummary> {
        let PackedInput { name, path, source } = self;
        match source {
            Source::Stream(stream, kind) => {
                // No index: decode from the start, passing on only the range.
                let mut ranged = RangeWriter { inner: out, range: range.clone(), pos: 0 };
                let (size, _, notes) = decode_streamed(&name, stream, kind, &mut ranged, false)?;
                check_range_start(&range, size)?;
                Ok(UnpackSummary { original_size: size, notes, ..UnpackSummary::default() })
            }
            Source::Seekable(mut packed, index) => {
                check_range_start(&range, index.original_size())?;
                let mut decompressor = FrameDecompressor::new()?;
                let mut decoded = Vec::new();
                // The whole original can be checked against the SHA-256 recorded when packing
                // (frames swapped together with their seek-table entries pass every frame
                // check).
                let mut whole = (range.start == 0 && range.end >= index.original_size())
                    .then(Sha256::new)
                    .filter(|_| index.sha256().is_some());
                for frame in &index.frames()[index.frames_for_range(range.clone())] {
                    let part = frame.decompressed_range();
                    let part = part.start.max(range.start)..part.end.min(range.end);
                    decoded.clear();
                    index
                        .read_range(&mut packed, part, &mut decompressor, &mut decoded)
                        .in_file(&name)?;
                    if let Some(hasher) = whole.as_mut() {
                        hasher.update(&decoded);
                    }
                    out.write_all(&decoded)?;
                }
                if let Some(hasher) = whole {
                    if Some(&<[u8; 32]>::from(hasher.finalize())) != index.sha256() {
                        out.flush()?;
                        return Err(Error::Corrupt(
                            "SHA-256 of the decoded data does not match the one recorded when \
                             packing"
                                .into(),
                        )
                        .in_file(name));
                    }
                }
                Ok(UnpackSummary { original_size: index.original_size(), ..Default::default() })
            }
            Source::Bgzf(mut packed) => {
                let gzi = match &path {
                    Some(path) => checked_gzi(&mut packed, path)?,
                    None => None,
                };
                let mut reader = match gzi {
                    Some(index) => BgzfReader::new(&mut packed, index)?,
                    None => BgzfReader::scan(&mut packed).in_file(&name)?,
                };
                let size = bgzf_original_size(&mut reader).in_file(&name)?;
                check_range_start(&range, size)?;
                copy_bgzf_range(&mut reader, range, out).in_file(&name)?;
                Ok(UnpackSummary { original_size: size, ..Default::default() })
            }
        }
    }
}

/// Refuses a range that starts past the end of the original (one that only ends past it is
/// cut at the end). A range from 0, as the whole original, never starts past the end, even
/// of an empty original.
fn check_range_start(range: &Range<u64>, size: u64) -> Result<()> {
    if range.start >= size && range.end > range.start && range.start > 0 {
        return Err(Error::RangeStart { size });
    }
    Ok(())
}
