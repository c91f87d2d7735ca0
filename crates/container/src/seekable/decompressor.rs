//! Decoding one frame with bounded memory and full verification.

use std::io::Read;
use std::ops::Range;

use xxhash_rust::xxh64::xxh64;
use zstd::zstd_safe::{self, DCtx, InBuffer, OutBuffer};

use super::digests::{PIECE_LEN, chunk_digest, piece_count, piece_value};
use super::{FrameEntry, MAX_FRAME_SIZE, ZSTD_FRAME_MAGIC};
use crate::error::{Error, FrameFault, Result};

/// Per-worker zstd decompression state: a reused context.
///
/// Decoding never allocates more than the size the seek table declares for the frame: the
/// output buffer gets exactly that capacity up front, the frame header must declare the same
/// content size, and zstd fails rather than write past the buffer. The seek table's sizes are
/// in turn bounded by the chunk size in the metadata, so a hostile file cannot make a reader
/// allocate without bound.
pub struct FrameDecompressor {
    inner: zstd::bulk::Decompressor<'static>,
    /// Whether zstd checks frames' XXH64 content checksums: off only while decoding a frame
    /// whose BLAKE3 digest is checked instead (one pass over the data fewer).
    content_checksums: bool,
    /// A streaming context for [`decompress_part`](Self::decompress_part), made on first use.
    part: Option<DCtx<'static>>,
    /// Its input buffer ([`PART_INPUT_STEP`] bytes once used).
    part_input: Vec<u8>,
}

/// Why [`FrameDecompressor::decompress_part`] stopped: the frame, or reading it.
enum PartError {
    Fault(FrameFault),
    Io(std::io::Error),
}

impl From<FrameFault> for PartError {
    fn from(fault: FrameFault) -> Self {
        PartError::Fault(fault)
    }
}

impl From<std::io::Error> for PartError {
    fn from(e: std::io::Error) -> Self {
        PartError::Io(e)
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Compressed bytes handed to zstd at a time when decoding part of a frame: it stops within
/// this much input past the bytes it needs.
const PART_INPUT_STEP: usize = 64 << 10;

impl FrameDecompressor {
    /// A decompressor accepting frames of up to [`MAX_FRAME_SIZE`] bytes.
    ///
    /// # Errors
    /// [`Error::Compress`] if zstd cannot allocate a context.
    pub fn new() -> Result<Self> {
        let mut inner = zstd::bulk::Decompressor::new()
            .map_err(|e| Error::Compress { reason: format!("zstd: {e}") })?;
        // Single-segment frames have a window as large as their content: allow up to the
        // largest frame we accept (memory is bounded by the output buffer anyway).
        inner
            .set_parameter(zstd_safe::DParameter::WindowLogMax(30))
            .map_err(|e| Error::Compress { reason: format!("zstd: {e}") })?;
        Ok(Self { inner, content_checksums: true, part: None, part_input: Vec::new() })
    }

    /// Decodes `frame`, the compressed bytes of the seek-table entry `entry`, into `out`
    /// (replacing its contents), and verifies it.
    ///
    /// Checks that the frame is exactly one zstd frame of `entry.compressed_size` bytes, that
    /// its header declares `entry.decompressed_size` bytes and carries a content checksum, that
    /// zstd's own checksum holds, that it equals the seek table's checksum (which catches
    /// frames that are valid but out of place), and, when the entry has one (versions 2 and 3), that
    /// the BLAKE3 of the decoded bytes equals its digest.
    ///
    /// # Errors
    /// [`Error::Frame`] naming the frame index and byte offset.
    pub fn decompress(
        &mut self,
        frame: &[u8],
        entry: &FrameEntry,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let fault =
            |reason| Error::Frame { frame: entry.index, offset: entry.compressed_offset, reason };
        if frame.len() != entry.compressed_size as usize {
            return Err(fault(FrameFault::CompressedSize {
                actual: frame.len() as u64,
                expected: u64::from(entry.compressed_size),
            }));
        }
        let expected_len = entry.decompressed_size as usize;
        let checksum = if entry.seqflow {
            // A frame with a BLAKE3 digest (versions 2 and 3) is checked against it below, which
            // covers what zstd's XXH64 of the same bytes would: zstd skips that pass, and the
            // frame's XXH64 field is then only compared with the seek table's.
            self.check_content_checksums(entry.digest.is_none()).map_err(fault)?;
            Some(self.decode_seqflow_frame(frame, expected_len, out).map_err(fault)?)
        } else {
            self.decompress_lenient(frame, expected_len, out).map_err(fault)?
        };
        if let Some(expected) = entry.checksum {
            // A frame without a content checksum is checked against the table all the same.
            let actual = checksum.unwrap_or_else(|| xxh64(out, 0) as u32);
            if actual != expected {
                return Err(fault(FrameFault::Checksum { actual, expected }));
            }
        }
        if let Some(expected) = entry.digest {
            let actual = chunk_digest(out);
            if actual != expected {
                return Err(fault(FrameFault::Digest { actual, expected }));
            }
        }
        Ok(())
    }

    /// Appends the bytes `wanted` (offsets within the frame) of a frame that has piece values
    /// (version 3: `pieces`, one BLAKE3 chaining value per MiB, already checked to merge into
    /// the frame's digest by [`SeekableIndex::read_pieces`](super::SeekableIndex::read_pieces))
    /// to `out`, reading (from `frame`, positioned at the frame's first byte) and decoding the
    /// frame only up to the end of the last piece holding them, and checking each piece that
    /// holds them against its value.
    ///
    /// This is how `cat --range` reads a few bytes of a 16 MiB frame in the time of the part
    /// before them: the bytes it returns are checked as strictly as by
    /// [`decompress`](Self::decompress) (BLAKE3 of every byte returned, bound to the root), but
    /// the rest of the frame is not looked at (zstd's own XXH64 of the whole frame is not
    /// checked). `wanted` is cut at the end of the frame.
    ///
    /// # Errors
    /// [`Error::Frame`] naming the frame and byte offset: bad header, a frame that does not
    /// decode as far as the pieces, or a piece that does not match its value; [`Error::Io`]
    /// when reading fails.
    pub fn decompress_part(
        &mut self,
        frame: &mut dyn Read,
        entry: &FrameEntry,
        pieces: &[[u8; 32]],
        wanted: Range<usize>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let fault =
            |reason| Error::Frame { frame: entry.index, offset: entry.compressed_offset, reason };
        let expected_len = entry.decompressed_size as usize;
        if pieces.len() as u64 != piece_count(expected_len as u64) {
            return Err(Error::Usage {
                reason: format!(
                    "frame {} of {expected_len} bytes has {} piece values",
                    entry.index,
                    pieces.len()
                ),
            });
        }
        let wanted = wanted.start.min(expected_len)..wanted.end.min(expected_len);
        if wanted.is_empty() {
            return Ok(());
        }
        let first = wanted.start / PIECE_LEN;
        let last = (wanted.end - 1) / PIECE_LEN;
        let needed = ((last + 1) * PIECE_LEN).min(expected_len);
        let mut decoded = Vec::new();
        let mut frame = frame.take(u64::from(entry.compressed_size));
        self.decode_prefix(&mut frame, expected_len, needed, &mut decoded).map_err(
            |e| match e {
                PartError::Fault(reason) => fault(reason),
                PartError::Io(e) => Error::Io(e),
            },
        )?;
        for (piece, expected) in pieces.iter().enumerate().take(last + 1).skip(first) {
            let bytes = &decoded[piece * PIECE_LEN..((piece + 1) * PIECE_LEN).min(expected_len)];
            let actual = piece_value(piece, bytes);
            if &actual != expected {
                return Err(fault(FrameFault::PieceDigest { piece, actual, expected: *expected }));
            }
        }
        out.extend_from_slice(&decoded[wanted]);
        Ok(())
    }

    /// Reads and decodes the frame `input` (a seqflow frame declaring `expected_len` bytes)
    /// into `out` until at least `needed` bytes are out, reading [`PART_INPUT_STEP`] bytes at
    /// a time and letting zstd write straight into `out` (its stable output buffer).
    fn decode_prefix(
        &mut self,
        input: &mut dyn Read,
        expected_len: usize,
        needed: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), PartError> {
        let zstd_fault = |code| FrameFault::Decode(zstd_safe::get_error_name(code).to_string());
        let mut buf = std::mem::take(&mut self.part_input);
        buf.resize(PART_INPUT_STEP, 0);
        let mut filled = read_full(input, &mut buf)?;
        check_seqflow_header(&buf[..filled], expected_len)?;
        let dctx = self.part_context()?;
        dctx.reset(zstd_safe::ResetDirective::SessionOnly).map_err(zstd_fault)?;
        out.clear();
        out.reserve_exact(expected_len);
        crate::huge_pages::advise_huge_pages(out);
        let (mut consumed, mut out_pos) = (0, 0);
        while out_pos < needed {
            if consumed == filled {
                (filled, consumed) = (read_full(input, &mut buf)?, 0);
                if filled == 0 {
                    break;
                }
            }
            let mut source = InBuffer::around(&buf[..filled]);
            source.set_pos(consumed);
            let mut output = OutBuffer::around_pos(out, out_pos);
            let hint = dctx.decompress_stream(&mut output, &mut source).map_err(zstd_fault)?;
            (consumed, out_pos) = (source.pos(), output.pos());
            if hint == 0 {
                break;
            }
        }
        self.part_input = buf;
        if out_pos < needed {
            return Err(FrameFault::DecodedSize {
                actual: out_pos as u64,
                expected: needed as u64,
            }
            .into());
        }
        Ok(())
    }

    /// The streaming context of [`decompress_part`](Self::decompress_part), made on first use.
    fn part_context(&mut self) -> Result<&mut DCtx<'static>, FrameFault> {
        if self.part.is_none() {
            let zstd_fault = |code| FrameFault::Decode(zstd_safe::get_error_name(code).to_string());
            let mut dctx = DCtx::try_create()
                .ok_or_else(|| FrameFault::Decode("zstd: cannot allocate a context".into()))?;
            for parameter in [
                zstd_safe::DParameter::WindowLogMax(30),
                zstd_safe::DParameter::StableOutBuffer(true),
                // The pieces are checked with BLAKE3; the XXH64 needs the whole frame.
                zstd_safe::DParameter::ForceIgnoreChecksum(true),
            ] {
                dctx.set_parameter(parameter).map_err(zstd_fault)?;
            }
            self.part = Some(dctx);
        }
        Ok(self.part.as_mut().expect("just made"))
    }

    /// Decodes one frame of another writer into exactly `expected_len` bytes of `out`
    /// (replacing its contents): the frame need not declare its content size (if it does, it
    /// must be `expected_len`) nor carry a content checksum (if it does, zstd checks it, and it
    /// is returned).
    ///
    /// As in [`decompress_raw`](Self::decompress_raw), nothing beyond `expected_len` bytes is
    /// allocated: a frame that decodes to more fails.
    ///
    /// # Errors
    /// The [`FrameFault`] describing why the frame was rejected.
    pub fn decompress_lenient(
        &mut self,
        frame: &[u8],
        expected_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<Option<u32>, FrameFault> {
        self.check_content_checksums(true)?;
        check_magic(frame)?;
        match zstd_safe::get_frame_content_size(frame) {
            Ok(Some(declared)) if declared != expected_len as u64 => {
                return Err(FrameFault::DeclaredSize { declared, expected: expected_len as u64 });
            }
            Ok(_) => {}
            Err(_) => return Err(FrameFault::BadHeader("corrupt frame header".into())),
        }
        if expected_len > MAX_FRAME_SIZE as usize {
            return Err(FrameFault::DeclaredSize {
                declared: expected_len as u64,
                expected: u64::from(MAX_FRAME_SIZE),
            });
        }
        let has_checksum = frame[4] & 0x04 != 0;
        self.decode_exactly(frame, expected_len, out)?;
        Ok(has_checksum
            .then(|| u32::from_le_bytes(frame[frame.len() - 4..].try_into().expect("4 bytes"))))
    }

    /// Checks that `frame` is exactly one frame and decodes it into `out`, whose capacity is
    /// set to `expected_len` first; the result must be exactly that long.
    fn decode_exactly(
        &mut self,
        frame: &[u8],
        expected_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), FrameFault> {
        match zstd_safe::find_frame_compressed_size(frame) {
            Ok(len) if len == frame.len() => {}
            Ok(len) => {
                return Err(FrameFault::CompressedSize {
                    actual: len as u64,
                    expected: frame.len() as u64,
                });
            }
            Err(code) => {
                return Err(FrameFault::Decode(zstd_safe::get_error_name(code).to_string()));
            }
        }
        out.clear();
        out.reserve_exact(expected_len);
        crate::huge_pages::advise_huge_pages(out);
        self.inner
            .decompress_to_buffer(frame, out)
            .map_err(|e| FrameFault::Decode(e.to_string()))?;
        if out.len() != expected_len {
            return Err(FrameFault::DecodedSize {
                actual: out.len() as u64,
                expected: expected_len as u64,
            });
        }
        Ok(())
    }

    /// Decodes one frame of `expected_len` bytes into `out` (replacing its contents) and
    /// returns its content checksum (low 32 bits of XXH64 of the decoded bytes, verified by
    /// zstd).
    ///
    /// `out` is given a capacity of `expected_len` before decoding and nothing more is
    /// allocated. Use [`decompress`](Self::decompress) when a seek-table entry is at hand: its
    /// errors say which frame failed, and it checks the seek table's checksum.
    ///
    /// # Errors
    /// The [`FrameFault`] describing why the frame was rejected.
    pub fn decompress_raw(
        &mut self,
        frame: &[u8],
        expected_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<u32, FrameFault> {
        self.check_content_checksums(true)?;
        self.decode_seqflow_frame(frame, expected_len, out)
    }

    /// Tells zstd whether to check frames' content checksums (it does unless told not to).
    fn check_content_checksums(&mut self, check: bool) -> Result<(), FrameFault> {
        if self.content_checksums != check {
            self.inner
                .set_parameter(zstd_safe::DParameter::ForceIgnoreChecksum(!check))
                .map_err(|e| FrameFault::Decode(format!("zstd: {e}")))?;
            self.content_checksums = check;
        }
        Ok(())
    }

    /// [`decompress_raw`](Self::decompress_raw) with zstd's content checksum check as set.
    fn decode_seqflow_frame(
        &mut self,
        frame: &[u8],
        expected_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<u32, FrameFault> {
        check_seqflow_header(frame, expected_len)?;
        self.decode_exactly(frame, expected_len, out)?;
        // zstd has checked the data against this trailer (unless told not to).
        let tail = frame[frame.len() - 4..].try_into().expect("4 bytes");
        Ok(u32::from_le_bytes(tail))
    }
}

/// Checks the header of a frame seqflow wrote: magic, a content size of `expected_len` bytes
/// (at most [`MAX_FRAME_SIZE`]) and a content checksum.
fn check_seqflow_header(frame: &[u8], expected_len: usize) -> Result<(), FrameFault> {
    check_magic(frame)?;
    let declared = match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) => size,
        Ok(None) => {
            return Err(FrameFault::BadHeader("frame header has no content size".into()));
        }
        Err(_) => return Err(FrameFault::BadHeader("corrupt frame header".into())),
    };
    if declared != expected_len as u64 || expected_len > MAX_FRAME_SIZE as usize {
        return Err(FrameFault::DeclaredSize { declared, expected: expected_len as u64 });
    }
    // Frame_Header_Descriptor bit 2: Content_Checksum_flag.
    if frame[4] & 0x04 == 0 {
        return Err(FrameFault::BadHeader("frame has no content checksum".into()));
    }
    Ok(())
}

/// Checks that `frame` starts with the zstd magic and is long enough for a frame header.
fn check_magic(frame: &[u8]) -> Result<(), FrameFault> {
    let Some(magic) = frame.get(..5) else {
        return Err(FrameFault::BadHeader(format!(
            "{} bytes is too short for a frame",
            frame.len()
        )));
    };
    let magic = u32::from_le_bytes(magic[..4].try_into().expect("4 bytes"));
    if magic != ZSTD_FRAME_MAGIC {
        return Err(FrameFault::BadMagic { found: magic });
    }
    Ok(())
}

impl std::fmt::Debug for FrameDecompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameDecompressor").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FrameCompressor;

    #[test]
    fn rejects_frame_claiming_huge_size_without_allocating() {
        // A frame whose header claims 2^40 bytes: rejected before any allocation.
        let mut c = zstd::bulk::Compressor::new(3).unwrap();
        c.set_pledged_src_size(Some(5)).unwrap();
        let mut frame = c.compress(b"hello").unwrap();
        // Rewrite the header: FHD with an 8-byte content size field, single segment.
        let mut hostile = vec![0x28, 0xB5, 0x2F, 0xFD, 0b1110_0100];
        hostile.extend_from_slice(&(1u64 << 40).to_le_bytes());
        hostile.extend_from_slice(&frame.split_off(frame.len().min(6)));
        let mut d = FrameDecompressor::new().unwrap();
        let mut out = Vec::new();
        let err = d.decompress_raw(&hostile, 5, &mut out).unwrap_err();
        assert!(matches!(err, FrameFault::DeclaredSize { declared, .. } if declared == 1 << 40));
        assert_eq!(out.capacity(), 0);
    }

    #[test]
    fn capacity_is_exactly_the_expected_length() {
        let mut c = FrameCompressor::new(3).unwrap();
        let mut frame = Vec::new();
        let data = vec![b'A'; 100_000];
        let info = c.compress(&data, &mut frame).unwrap();
        let mut d = FrameDecompressor::new().unwrap();
        let mut out = Vec::new();
        let sum = d.decompress_raw(&frame, data.len(), &mut out).unwrap();
        assert_eq!(sum, info.checksum);
        assert_eq!(out, data);
        assert_eq!(out.capacity(), data.len());
        // Claiming fewer bytes than the header declares fails before decoding.
        assert!(matches!(
            d.decompress_raw(&frame, 10, &mut out),
            Err(FrameFault::DeclaredSize { .. })
        ));
    }

    #[test]
    fn zstd_checks_content_checksums_again_after_a_frame_with_a_digest() {
        let data = vec![b'C'; 50_000];
        let mut frame = Vec::new();
        let info = FrameCompressor::new(3).unwrap().compress(&data, &mut frame).unwrap();
        let entry = FrameEntry {
            index: 0,
            compressed_offset: 0,
            decompressed_offset: 0,
            compressed_size: info.compressed_size,
            decompressed_size: info.decompressed_size,
            checksum: Some(info.checksum),
            digest: Some(info.digest),
            pieces_at: None,
            seqflow: true,
        };
        let mut d = FrameDecompressor::new().unwrap();
        let mut out = Vec::new();
        d.decompress(&frame, &entry, &mut out).unwrap();
        assert_eq!(out, data);
        // A wrong digest fails even though zstd skipped its XXH64 pass.
        let wrong = FrameEntry { digest: Some([0; 32]), ..entry };
        let err = d.decompress(&frame, &wrong, &mut out).unwrap_err();
        assert!(matches!(err, Error::Frame { reason: FrameFault::Digest { .. }, .. }), "{err}");
        // A frame whose XXH64 trailer is wrong: caught by zstd again once no digest covers it.
        let mut bad = frame.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(matches!(d.decompress_raw(&bad, data.len(), &mut out), Err(FrameFault::Decode(_))));
        let no_digest = FrameEntry { digest: None, checksum: None, ..entry };
        let err = d.decompress(&bad, &no_digest, &mut out).unwrap_err();
        assert!(matches!(err, Error::Frame { reason: FrameFault::Decode(_), .. }), "{err}");
    }
}
