//! Decoding a zstd stream front to back, as it arrives (a pipe, or a file without a seek
//! table), and checking the seek table and seqflow's metadata when they come at the end.

use std::io::{Read, Write};

use xxhash_rust::xxh64::Xxh64;
use zstd::zstd_safe::{self, DCtx, InBuffer, OutBuffer};

use super::digests::{self, DIGEST_LEN};
use super::index::decode_entry;
use super::metadata::FRAME_LEN as METADATA_FRAME_LEN;
use super::{
    DIGEST_FRAME_MAGIC, EMPTY_CHECKSUM, ENTRY_LEN, FOOTER_LEN, METADATA_FRAME_MAGIC, PackMetadata,
    SEEK_TABLE_FRAME_MAGIC, SEEKABLE_MAGIC, ZSTD_FRAME_MAGIC, entry_layout,
};
use crate::error::{Error, FrameFault, Result};

/// Bytes read from the input at a time.
const READ_SIZE: usize = 128 << 10;

/// What [`decode_stream`] found and checked.
#[derive(Debug, Clone, Default)]
pub struct StreamSummary {
    /// zstd data frames decoded.
    pub data_frames: u64,
    /// Data frames that carried no content checksum of their own.
    pub frames_without_checksum: u64,
    /// Skippable frames passed over (seek table and metadata included).
    pub skippable_frames: u64,
    /// Bytes decoded.
    pub decoded: u64,
    /// Bytes of input read.
    pub compressed: u64,
    /// Whether the stream ended with a seek table, checked against every frame.
    pub seek_table: bool,
    /// Whether that seek table carried checksums (then checked against every data frame).
    pub seek_table_checksums: bool,
    /// seqflow's metadata, when the stream carried it (its frame count, sizes and original
    /// size were checked, and for versions 2 and 3 every frame's BLAKE3 against the digest frame and
    /// the digest frame against the root; for version 1 the caller compares the SHA-256 of
    /// what it was given).
    pub metadata: Option<PackMetadata>,
}

/// One frame seen in the stream, kept to check the seek table against.
struct Seen {
    compressed: u64,
    decompressed: u64,
    checksum: Option<u32>,
    /// BLAKE3 of the decoded frame (data frames only).
    digest: Option<[u8; 32]>,
}

/// Decodes every zstd frame of `input` in order into `output`, skipping skippable frames, as
/// `zstd -d` does; when the stream ends with a seek table (and seqflow's metadata), checks
/// that it lists exactly the frames that came, with their sizes and checksums.
///
/// Memory: one 128 KiB input and output buffer, the zstd window of the frame being decoded
/// (at most `2^window_log_max` bytes; zstd's command line allows 2^27 by default), 64 bytes
/// per frame seen, and the digest frame (32 bytes per data frame seen, and per MiB of frames longer than 1 MiB in version 3).
///
/// Data already written to `output` when a fault is found cannot be taken back.
///
/// # Errors
/// [`Error::Frame`] naming the frame and its byte offset in the stream, [`Error::Truncated`]
/// when the stream ends inside a frame, [`Error::SeekTable`] and [`Error::Metadata`] when the
/// seek table or metadata disagree with the frames, [`Error::Io`] on read or write errors.
pub fn decode_stream<R: Read, W: Write + ?Sized>(
    mut input: R,
    output: &mut W,
    window_log_max: u32,
) -> Result<StreamSummary> {
    let mut dctx = DCtx::try_create()
        .ok_or_else(|| Error::Compress { reason: "zstd: cannot allocate a context".into() })?;
    dctx.set_parameter(zstd_safe::DParameter::WindowLogMax(window_log_max))
        .map_err(|c| Error::Compress { reason: zstd_safe::get_error_name(c).into() })?;
    let mut buf = Input::new();
    let mut out = vec![0u8; READ_SIZE];
    let mut summary = StreamSummary::default();
    let mut seen: Vec<Seen> = Vec::new();
    // The last skippable frames: the seek table, the metadata frame just before it and
    // version 2's digest frame before that (each with its offset; the frames with their index).
    let mut table: Option<(u64, Vec<u8>)> = None;
    let mut metadata: Option<(u64, Vec<u8>, usize)> = None;
    let mut digests: Option<(u64, Vec<u8>, usize)> = None;
    // Piece values a version-3 digest frame holds for the data frames so far.
    let mut pieces_seen = 0u64;
    loop {
        let start = buf.offset();
        if !buf.fill_to(&mut input, 4)? {
            if buf.available().is_empty() {
                break;
            }
            return Err(Error::Truncated {
                offset: start,
                needed: 4,
                file_len: start + buf.available().len() as u64,
            });
        }
        let magic = u32::from_le_bytes(buf.available()[..4].try_into().expect("4 bytes"));
        let frame = seen.len();
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            if !buf.fill_to(&mut input, 8)? {
                return Err(truncated(start, 8, &buf));
            }
            let size = u32::from_le_bytes(buf.available()[4..8].try_into().expect("4 bytes"));
            let size = u64::from(size);
            buf.consume(8);
            // Only seqflow's metadata frame and a seek table listing the frames so far (and
            // itself) are kept; their sizes are bounded, so no stream can make us hold more.
            let keep = match magic {
                SEEK_TABLE_FRAME_MAGIC => size <= (seen.len() as u64 + 1) * ENTRY_LEN + FOOTER_LEN,
                METADATA_FRAME_MAGIC => size + 8 == METADATA_FRAME_LEN as u64,
                // Version 2: one digest per data frame; 3: and the values of their pieces.
                DIGEST_FRAME_MAGIC => [0, pieces_seen]
                    .contains(&(size / DIGEST_LEN as u64).wrapping_sub(summary.data_frames)),
                _ => false,
            };
            let mut payload = Vec::new();
            buf.take(&mut input, size, keep.then_some(&mut payload))
                .map_err(|e| e.unwrap_or_else(|| truncated(start, 8 + size, &buf)))?;
            match magic {
                SEEK_TABLE_FRAME_MAGIC if keep => table = Some((start, payload)),
                METADATA_FRAME_MAGIC if keep => {
                    let mut whole = buf_header(magic, size);
                    whole.extend_from_slice(&payload);
                    metadata = Some((start, whole, frame));
                    table = None;
                }
                DIGEST_FRAME_MAGIC if keep => {
                    let mut whole = buf_header(magic, size);
                    whole.extend_from_slice(&payload);
                    digests = Some((start, whole, frame));
                    table = None;
                }
                _ => table = None,
            }
            summary.skippable_frames += 1;
            seen.push(Seen { compressed: 8 + size, decompressed: 0, checksum: None, digest: None });
            continue;
        }
        table = None;
        if magic != ZSTD_FRAME_MAGIC {
            return Err(Error::Frame {
                frame,
                offset: start,
                reason: FrameFault::BadMagic { found: magic },
            });
        }
        if !buf.fill_to(&mut input, 5)? {
            return Err(truncated(start, 5, &buf));
        }
        let has_checksum = buf.available()[4] & 0x04 != 0;
        let fault = |reason| Error::Frame { frame, offset: start, reason };
        let mut hasher = Xxh64::new(0);
        let mut blake3 = blake3::Hasher::new();
        let mut decoded = 0u64;
        loop {
            if buf.available().is_empty() && !buf.fill_to(&mut input, 1)? {
                return Err(fault(FrameFault::Decode(format!(
                    "the stream ends inside the frame, at byte {}",
                    buf.offset()
                ))));
            }
            let mut src = InBuffer::around(buf.available());
            let mut dst = OutBuffer::around(&mut out[..]);
            let hint = dctx.decompress_stream(&mut dst, &mut src).map_err(|code| {
                let name = zstd_safe::get_error_name(code);
                let hint = if name.contains("emory") || name.contains("indow") {
                    " (the frame's window is larger than this reader allows from a stream)"
                } else {
                    ""
                };
                fault(FrameFault::Decode(format!("{name}{hint}")))
            })?;
            let consumed = src.pos();
            let produced = dst.pos();
            buf.consume(consumed);
            if produced > 0 {
                output.write_all(&out[..produced])?;
                hasher.update(&out[..produced]);
                blake3.update(&out[..produced]);
                decoded += produced as u64;
            }
            // 0: the frame is complete and flushed; the context is ready for the next one.
            if hint == 0 {
                break;
            }
        }
        summary.data_frames += 1;
        pieces_seen += digests::piece_count(decoded);
        summary.frames_without_checksum += u64::from(!has_checksum);
        summary.decoded += decoded;
        seen.push(Seen {
            compressed: buf.offset() - start,
            decompressed: decoded,
            checksum: Some(hasher.digest() as u32),
            digest: Some(*blake3.finalize().as_bytes()),
        });
    }
    summary.compressed = buf.offset();
    if let Some((at, payload)) = table {
        let checksums = check_table(at, &payload, &seen)?;
        summary.seek_table = true;
        summary.seek_table_checksums = checksums;
        if let Some((meta_at, frame, i)) = metadata.filter(|m| m.2 + 2 == seen.len()) {
            let (meta, data_frames) = PackMetadata::decode_frame(&frame, meta_at)?;
            let meta_err = |reason| Error::Metadata { offset: meta_at, reason };
            let trailer = if meta.chunk_digest_root().is_some() { 3 } else { 2 };
            if u64::from(data_frames) != summary.data_frames || summary.skippable_frames != trailer
            {
                return Err(meta_err(format!(
                    "metadata counts {data_frames} data frames, the stream has {} and {} \
                     skippable frames",
                    summary.data_frames, summary.skippable_frames
                )));
            }
            if meta.original_size != summary.decoded {
                return Err(meta_err(format!(
                    "original size is {} bytes but the frames decode to {}",
                    meta.original_size, summary.decoded
                )));
            }
            if let Some(big) =
                seen[..i].iter().position(|f| f.decompressed > u64::from(meta.chunk_size))
            {
                return Err(meta_err(format!(
                    "frame {big} decodes to more than the chunk size {}",
                    meta.chunk_size
                )));
            }
            if let Some(root) = meta.chunk_digest_root() {
                let Some((at, frame, _)) = digests.filter(|d| d.2 + 1 == i) else {
                    return Err(meta_err(
                        "version 2 or 3 metadata, but no digest frame of one digest per data frame \
                         comes before it"
                            .into(),
                    ));
                };
                let pieces = if meta.has_piece_digests() { pieces_seen } else { 0 };
                let head_len = digests::frame_len(u64::from(data_frames), 0) as usize;
                let want = digests::frame_len(u64::from(data_frames), pieces);
                if frame.len() as u64 != want {
                    return Err(Error::Digests {
                        offset: at,
                        reason: format!(
                            "frame is {} bytes, {data_frames} digests and {pieces} piece values \
                             need {want}",
                            frame.len()
                        ),
                    });
                }
                let recorded =
                    digests::check_frame(&frame[..head_len], at, data_frames, pieces, root)?;
                check_digests(&recorded, &seen)?;
                if meta.has_piece_digests() {
                    let values = &frame[head_len..];
                    check_stream_pieces(values, at + head_len as u64, &recorded, &seen)?;
                }
            }
            check_trailer_entries(at, &payload, seen.len() - trailer as usize, seen.len() - 1)?;
            summary.metadata = Some(meta);
        }
    }
    Ok(summary)
}

/// Checks a seek table (the payload of its skippable frame, at byte `at`) against the frames
/// that came before it; returns whether it carried checksums.
fn check_table(at: u64, payload: &[u8], seen: &[Seen]) -> Result<bool> {
    let table_err = |offset: u64, reason: String| Error::SeekTable { offset, reason };
    let n = payload.len();
    if n < FOOTER_LEN as usize
        || u32::from_le_bytes(payload[n - 4..].try_into().expect("4 bytes")) != SEEKABLE_MAGIC
    {
        return Err(table_err(at, "the last frame is a seek table frame without a footer".into()));
    }
    let count = u32::from_le_bytes(payload[n - 9..n - 5].try_into().expect("4 bytes")) as usize;
    let footer_at = at + 8 + (n as u64 - FOOTER_LEN);
    let (checksums, entry_len) = entry_layout(payload[n - 5], footer_at + 4)?;
    let entry_len = entry_len as usize;
    let listed = seen.len() - 1;
    if count != listed || count * entry_len + FOOTER_LEN as usize != n {
        return Err(table_err(
            footer_at,
            format!(
                "lists {count} frames in {} bytes, but {listed} frames came before it",
                n - FOOTER_LEN as usize
            ),
        ));
    }
    let mut offset = 0u64;
    let entries = &payload[..count * entry_len];
    for (i, (entry, frame)) in entries.chunks_exact(entry_len).zip(seen).enumerate() {
        let (compressed, decompressed, expected) = decode_entry(entry);
        let entry_at = at + 8 + (i * entry_len) as u64;
        if u64::from(compressed) != frame.compressed
            || u64::from(decompressed) != frame.decompressed
        {
            return Err(table_err(
                entry_at,
                format!(
                    "entry {i} says {compressed} -> {decompressed} bytes, but frame {i} at byte \
                     {offset} is {} -> {}",
                    frame.compressed, frame.decompressed
                ),
            ));
        }
        if let (Some(expected), Some(actual)) = (expected, frame.checksum) {
            if actual != expected {
                return Err(Error::Frame {
                    frame: i,
                    offset,
                    reason: FrameFault::Checksum { actual, expected },
                });
            }
        }
        offset += frame.compressed;
    }
    Ok(checksums)
}

/// Checks that the seek-table entries `from..to` (seqflow's digest and metadata frames) carry
/// the checksum of no bytes, as the writer puts there and a file reader requires.
fn check_trailer_entries(at: u64, payload: &[u8], from: usize, to: usize) -> Result<()> {
    let (_, entry_len) = entry_layout(payload[payload.len() - 5], at)?;
    let entry_len = entry_len as usize;
    for k in from..to {
        let (_, _, checksum) = decode_entry(&payload[k * entry_len..(k + 1) * entry_len]);
        if checksum != Some(EMPTY_CHECKSUM) {
            return Err(Error::SeekTable {
                offset: at + 8 + (k * entry_len) as u64,
                reason: format!(
                    "entry {k}, seqflow's skippable frame, does not carry the empty checksum"
                ),
            });
        }
    }
    Ok(())
}

/// Compares the BLAKE3 of every data frame that came with the digests recorded for them.
fn check_digests(recorded: &[[u8; 32]], seen: &[Seen]) -> Result<()> {
    let mut offset = 0u64;
    let data = seen.iter().enumerate().filter_map(|(i, f)| {
        let at = offset;
        offset += f.compressed;
        f.digest.map(|digest| (i, at, digest))
    });
    for ((frame, at, actual), &expected) in data.zip(recorded) {
        if actual != expected {
            let reason = FrameFault::Digest { actual, expected };
            return Err(Error::Frame { frame, offset: at, reason });
        }
    }
    Ok(())
}

/// Checks version 3's piece values (`values`, found at byte `at`) against the digests
/// recorded for the data frames, frame by frame.
fn check_stream_pieces(
    values: &[u8],
    mut at: u64,
    recorded: &[[u8; 32]],
    seen: &[Seen],
) -> Result<()> {
    let mut rest = values;
    let data = seen.iter().filter(|f| f.digest.is_some());
    for (frame, (f, digest)) in data.zip(recorded).enumerate() {
        let len = digests::piece_count(f.decompressed) as usize * DIGEST_LEN;
        if len > 0 {
            let Some((mine, after)) = rest.split_at_checked(len) else {
                let reason = format!("no piece values left for frame {frame}");
                return Err(Error::Digests { offset: at, reason });
            };
            digests::check_pieces(mine, digest, frame, at)?;
            (rest, at) = (after, at + len as u64);
        }
    }
    Ok(())
}

fn buf_header(magic: u32, size: u64) -> Vec<u8> {
    let mut v = magic.to_le_bytes().to_vec();
    v.extend_from_slice(&(size as u32).to_le_bytes());
    v
}

fn truncated(start: u64, needed: u64, buf: &Input) -> Error {
    Error::Truncated {
        offset: start,
        needed,
        file_len: buf.offset() + buf.available().len() as u64,
    }
}

/// A read buffer that knows the stream offset of its first unconsumed byte.
struct Input {
    data: Vec<u8>,
    pos: usize,
    /// Stream offset of `data[0]`.
    base: u64,
}

impl Input {
    fn new() -> Input {
        Input { data: Vec::with_capacity(READ_SIZE), pos: 0, base: 0 }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn available(&self) -> &[u8] {
        &self.data[self.pos..]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }

    /// Reads until at least `want` bytes are available; false if the stream ends first.
    fn fill_to<R: Read>(&mut self, input: &mut R, want: usize) -> Result<bool> {
        if self.pos > 0 {
            self.data.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        while self.data.len() < want {
            let have = self.data.len();
            self.data.resize(have + READ_SIZE, 0);
            let n = loop {
                match input.read(&mut self.data[have..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.data.truncate(have);
                        return Err(e.into());
                    }
                }
            };
            self.data.truncate(have + n);
            if n == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Consumes `len` bytes, appending them to `keep` if given; `Err(None)` if the stream
    /// ends first.
    fn take<R: Read>(
        &mut self,
        input: &mut R,
        mut len: u64,
        mut keep: Option<&mut Vec<u8>>,
    ) -> std::result::Result<(), Option<Error>> {
        while len > 0 {
            if self.available().is_empty() && !self.fill_to(input, 1).map_err(Some)? {
                return Err(None);
            }
            let n = (self.available().len() as u64).min(len) as usize;
            if let Some(keep) = keep.as_deref_mut() {
                keep.extend_from_slice(&self.available()[..n]);
            }
            self.consume(n);
            len -= n as u64;
        }
        Ok(())
    }
}
