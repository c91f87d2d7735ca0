//! The `container_index` target: seqflow-container's readers (zstd seek table and frames,
//! `.gzi` index, BGZF blocks) on untrusted bytes.

use std::io::Cursor;
use std::ops::Range;

use seqflow_container::{
    BgzfBlockReader, BgzfInflater, BgzfReader, FrameDecompressor, FrameEntry, GziIndex,
    SEEKABLE_MAGIC, SeekableIndex,
};

/// Decoded data kept for comparisons: above this, only lengths and errors are checked.
const MAX_KEEP: u64 = 4 << 20;
/// Largest BGZF block (what `check_isize` allows): the reader's per-block buffers.
const BGZF_BLOCK: usize = 1 << 16;

/// Input layout of `container_index`.
///
/// * byte 0: bits 0–1 the reader (0 seekable zstd, 1 `.gzi` alone, 2 BGZF scanned without an
///   index, 3 BGZF with a `.gzi`); bit 2 (seekable only) repairs the metadata CRC, data-frame
///   count and original size, the digests' root (format versions 2 and 3) and the seek-table
///   checksums before reading, so that mutations of the table get past the CRC and root;
/// * bytes 1–8: seed of the byte ranges read;
/// * the rest: the file; in mode 3 a little-endian `u16` length, that many bytes of `.gzi`,
///   then the BGZF file.
pub fn container_index(data: &[u8]) {
    let Some((&knobs, rest)) = data.split_first() else { return };
    let Some((seed, payload)) = rest.split_first_chunk::<8>() else { return };
    let mut rng = Rng(u64::from_le_bytes(*seed));
    match knobs & 3 {
        0 => {
            let mut file = payload.to_vec();
            if knobs & 4 != 0 {
                repair_seekable(&mut file);
            }
            seekable(&file, &mut rng);
        }
        1 => gzi(payload, &mut rng),
        2 => {
            bgzf(payload, None, &mut rng);
        }
        _ => {
            let Some((len, rest)) = payload.split_first_chunk::<2>() else { return };
            let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
            let (index, file) = rest.split_at(len);
            bgzf(file, Some(index), &mut rng);
        }
    }
}

/// splitmix64: ranges derived from the input, so that a crash replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Original-data ranges to read from data of `size` bytes: whole, past the end, empty,
/// reversed, random, and near each of `anchors` (offsets the file itself claims).
fn ranges(rng: &mut Rng, size: u64, anchors: &[u64]) -> Vec<Range<u64>> {
    let mut out = vec![
        0..size,
        0..u64::MAX,
        size..size.saturating_add(1),
        u64::MAX - 1..u64::MAX,
        size / 2..size / 2,
    ];
    for _ in 0..8 {
        let start = rng.below(size.saturating_add(2));
        let len =
            if rng.next() & 1 == 0 { rng.below(70_000) } else { rng.below(size.saturating_add(2)) };
        let end = start.saturating_add(len);
        out.push(if rng.next() % 8 == 0 { end..start } else { start..end });
    }
    for &a in anchors.iter().take(6) {
        let start = a.saturating_add(rng.below(70_000)).saturating_sub(rng.below(70_000));
        out.push(start..start.saturating_add(rng.below(140_000)));
    }
    out
}

/// The clamped, possibly empty byte range `range` selects from data of `size` bytes.
fn clamp(range: &Range<u64>, size: u64) -> Range<u64> {
    let start = range.start.min(size);
    start..range.end.clamp(start, size)
}

/// Fixes what the fuzzer cannot: the metadata CRC32 (and its data-frame count and original
/// size, from the seek table), each seek-table checksum (from its frame's last 4 bytes) and,
/// in format versions 2 and 3, the root of the digests recorded in the metadata. Leaves the
/// file alone wherever its structure is too broken to find these fields.
fn repair_seekable(file: &mut [u8]) {
    let len = file.len();
    if len < 9 || file[len - 4..] != SEEKABLE_MAGIC.to_le_bytes() {
        return;
    }
    let n = u32::from_le_bytes(file[len - 9..len - 5].try_into().unwrap()) as usize;
    let Some(table_at) = n.checked_mul(12).and_then(|t| len.checked_sub(9 + 8 + t)) else {
        return;
    };
    if n == 0 || table_at < 76 {
        return;
    }
    // The metadata frame sits just before the seek table; versions 2 and 3 list a digest
    // frame before it (version 3's with piece values after the digests).
    let p = table_at - 76 + 8;
    let version = file[p + 8..p + 10].to_vec();
    let digested = version == [2, 0] || version == [3, 0];
    let trailer = if digested { 2 } else { 1 };
    let Some(data_frames) = n.checked_sub(trailer) else { return };
    let entries = table_at + 8;
    let entry = |file: &[u8], i: usize, w: usize| {
        let at = entries + 12 * i + 4 * w;
        u32::from_le_bytes(file[at..at + 4].try_into().unwrap())
    };
    let pieces: usize = if version == [3, 0] {
        let count = |d: u32| if d <= 1 << 20 { 0 } else { (d as usize).div_ceil(1 << 20) };
        (0..data_frames).map(|i| count(entry(file, i, 1))).sum()
    } else {
        0
    };
    let digests_at = data_frames
        .checked_add(pieces)
        .and_then(|k| k.checked_mul(32))
        .and_then(|d| (table_at - 76).checked_sub(8 + d));
    if digested && digests_at.is_none() {
        return;
    }
    // Data-frame checksums: each frame's content-checksum trailer, where the frame is whole.
    let mut offset = 0usize;
    let mut original = 0u64;
    for i in 0..data_frames {
        let (c, d) = (entry(file, i, 0) as usize, entry(file, i, 1));
        original += u64::from(d);
        let end = offset.saturating_add(c);
        if c >= 4 && end <= table_at {
            let tail: [u8; 4] = file[end - 4..end].try_into().unwrap();
            let at = entries + 12 * i + 8;
            file[at..at + 4].copy_from_slice(&tail);
        }
        offset = end;
    }
    if let Some(at) = digests_at.filter(|_| digested) {
        let root = blake3::hash(&file[at + 8..at + 8 + 32 * data_frames]);
        file[p + 32..p + 64].copy_from_slice(root.as_bytes());
    }
    file[p + 20..p + 24].copy_from_slice(&(data_frames as u32).to_le_bytes());
    file[p + 24..p + 32].copy_from_slice(&original.to_le_bytes());
    let crc = libdeflater::crc32(&file[p..p + 64]);
    file[p + 64..p + 68].copy_from_slice(&crc.to_le_bytes());
}

/// `SeekableIndex::read`, then every frame on its own, then `read_range` over whole, random
/// and odd ranges; all must agree with each other (and with stock zstd when all frames are
/// good). A validated index promises frames that tile the file and decode to at most the
/// chunk size, and decoding must never allocate more than that.
fn seekable(file: &[u8], rng: &mut Rng) {
    let mut reader = Cursor::new(file);
    let Ok(index) = SeekableIndex::read(&mut reader) else { return };

    // What a successful `read` guarantees about the table.
    let chunk = index.chunk_size();
    assert!(chunk >= 1);
    assert_eq!(index.file_len(), file.len() as u64);
    // Other writers' files may list frames that decode to nothing (skippable or empty
    // frames), which the index leaves out: there, frames keep their table position and
    // offset, and only follow each other; seqflow's files have none.
    let seqflow = index.metadata().is_some();
    let (mut c, mut d, mut next) = (0u64, 0u64, 0usize);
    for (i, f) in index.frames().iter().enumerate() {
        if seqflow {
            assert_eq!((f.index, f.compressed_offset), (i, c));
        }
        assert!(f.index >= next && f.compressed_offset >= c, "frame {i} out of order");
        assert_eq!(f.decompressed_offset, d);
        assert!(f.decompressed_size >= 1 && f.decompressed_size <= chunk);
        c = f.compressed_offset + u64::from(f.compressed_size);
        d += u64::from(f.decompressed_size);
        next = f.index + 1;
    }
    assert!(c <= index.data_end(), "frames end past the data");
    if seqflow {
        assert_eq!(c, index.data_end(), "frames do not end where the index says");
    }
    assert!(index.data_end() <= index.metadata_offset());
    // Without seqflow's metadata frame, "metadata offset" is the seek table's.
    if seqflow {
        assert!(index.metadata_offset() < index.seek_table_offset());
    } else {
        assert_eq!(index.metadata_offset(), index.seek_table_offset());
    }
    assert!(index.seek_table_offset() < index.file_len());
    assert_eq!(d, index.original_size());

    // Every frame on its own. `failed[i]`: frame i does not decode (deterministically).
    let size = index.original_size();
    let keep = size <= MAX_KEEP;
    let mut full = Vec::new(); // failed frames stand as zeros
    let mut failed = Vec::with_capacity(index.frames().len());
    let mut decompressor = FrameDecompressor::new().expect("zstd context");
    let (mut compressed, mut out) = (Vec::new(), Vec::new());
    for f in index.frames() {
        index
            .read_frame(&mut reader, f, &mut compressed)
            .expect("a frame of a validated index lies inside the file");
        assert_eq!(compressed.len(), f.compressed_size as usize);
        let result = decompressor.decompress(&compressed, f, &mut out);
        assert!(
            out.capacity() <= chunk as usize,
            "frame {} grew the output to {} bytes, chunk size is {chunk}",
            f.index,
            out.capacity()
        );
        match result {
            Ok(()) => {
                assert_eq!(out.len(), f.decompressed_size as usize);
                // Seek tables of other writers may carry no checksums; where one is given,
                // an accepted frame must match it. A frame with a BLAKE3 digest is checked
                // against that instead of its XXH64 (one pass fewer), and its XXH64 field
                // against the table's: both could be rewritten together over right data.
                match (f.checksum, f.digest) {
                    (Some(expected), None) => {
                        let sum = xxhash_rust::xxh64::xxh64(&out, 0) as u32;
                        assert_eq!(sum, expected, "frame {} wrong checksum", f.index);
                    }
                    (Some(expected), Some(_)) => {
                        let field = u32::from_le_bytes(
                            compressed[compressed.len() - 4..].try_into().unwrap(),
                        );
                        assert_eq!(
                            field, expected,
                            "frame {} XXH64 field not the table's",
                            f.index
                        );
                    }
                    (None, _) => {}
                }
                // Versions 2 and 3: an accepted frame hashes to its digest.
                if let Some(expected) = f.digest {
                    let digest = blake3::hash(&out);
                    assert_eq!(digest.as_bytes(), &expected, "frame {} wrong digest", f.index);
                }
                if keep {
                    full.extend_from_slice(&out);
                }
            }
            Err(_) if keep => full.resize(full.len() + f.decompressed_size as usize, 0),
            Err(_) => {}
        }
        failed.push(result.is_err());
    }
    let all_good = !failed.contains(&true);
    if keep && all_good {
        // Stock zstd skips the metadata and seek-table frames. It may refuse a frame whose
        // window is larger than its streaming limit; it must not decode something else.
        if let Ok(stock) = zstd::decode_all(file) {
            assert!(stock == full, "stock zstd decodes different data");
        }
    }

    for range in ranges(rng, size, &[]) {
        let clamped = clamp(&range, size);
        // Frames holding a byte of the (clamped, possibly empty) range.
        let touches = |f: &&FrameEntry| {
            clamped.start < clamped.end
                && f.decompressed_offset < clamped.end
                && clamped.start < f.decompressed_range().end
        };
        // Positions in `frames()` (which `frames_for_range` returns; `f.index` is the seek
        // table's position, past any empty frames of other writers).
        let got: Vec<usize> =
            (0..index.frames().len()).filter(|&i| touches(&&index.frames()[i])).collect();
        let touches_bad = got.iter().any(|&i| failed[i]);
        let want: Vec<usize> = index.frames_for_range(range.clone()).collect();
        assert_eq!(want, got, "frames_for_range({range:?})");

        let mut out = b"prefix".to_vec();
        let result = index.read_range(&mut reader, range.clone(), &mut decompressor, &mut out);
        assert!(out.starts_with(b"prefix"));
        let out = &out[6..];
        assert!(out.len() as u64 <= clamped.end - clamped.start);
        // Version 3 reads part of a frame with piece values without decoding the rest of it:
        // damage past the range may pass there, but only in such frames, and the bytes it
        // returns are checked against the piece values (below, against the whole frame's
        // decode where that worked).
        let partly_read = |i: usize| {
            let f = &index.frames()[i];
            f.pieces_at.is_some()
                && !(clamped.start <= f.decompressed_offset
                    && f.decompressed_range().end <= clamped.end)
        };
        match result {
            Ok(()) => {
                let bad_read_whole = got.iter().any(|&i| failed[i] && !partly_read(i));
                assert!(!bad_read_whole, "read_range({range:?}) read a bad frame without error");
                assert_eq!(out.len() as u64, clamped.end - clamped.start);
                if keep && !touches_bad {
                    let want = &full[clamped.start as usize..clamped.end as usize];
                    assert!(out == want, "read_range({range:?}) gave other bytes than the frames");
                }
            }
            Err(e) => assert!(
                touches_bad || got.iter().any(|&i| partly_read(i)),
                "read_range({range:?}) failed on good frames: {e}"
            ),
        }
    }
}

/// `GziIndex::read`: what it accepts must write back byte for byte, and `locate` must find
/// the last block start at or before an offset.
fn gzi(bytes: &[u8], rng: &mut Rng) {
    let Ok(index) = GziIndex::read(bytes) else { return };
    let mut again = Vec::new();
    index.write_to(&mut again).expect("writing to a Vec");
    assert!(again == bytes, ".gzi index does not write back as read");
    let entries = index.entries();
    let mut offsets: Vec<u64> = entries.iter().map(|&(_, u)| u).collect();
    offsets.extend([0, u64::MAX]);
    for _ in 0..8 {
        offsets.push(rng.next());
    }
    for &u in entries.iter().map(|(_, u)| u).take(8) {
        offsets.extend([u.saturating_sub(1), u.saturating_add(1)]);
    }
    for x in offsets {
        let found = index.locate(x);
        let want = entries.iter().rev().find(|&&(_, u)| u <= x).copied().unwrap_or((0, 0));
        assert_eq!(found, want, "locate({x})");
    }
}

/// Reads `file` with `BgzfBlockReader` in batches of `batch` blocks and inflates each batch with
/// `BgzfInflater`, as `seqflow unpack` does on its threads.
fn inflate_in_batches(file: &[u8], batch: usize) -> seqflow_container::Result<Vec<u8>> {
    let mut blocks = BgzfBlockReader::new(file, Some(file.len() as u64));
    let (mut inflater, mut buf, mut out) = (BgzfInflater::new(), Vec::new(), Vec::new());
    loop {
        let offset = blocks.offset();
        buf.clear();
        for _ in 0..batch {
            if blocks.read_block(&mut buf)? == 0 {
                break;
            }
        }
        if buf.is_empty() {
            return Ok(out);
        }
        inflater.inflate_blocks(&buf, offset, &mut out)?;
    }
}

/// `BgzfReader::scan` (and, given a `.gzi`, `BgzfReader::new` with it), then `read_range` over
/// whole, random and odd ranges. With the scanned index every range inside the data that
/// decoded in the whole-file read must decode to the same bytes; a range touching only
/// bad blocks may fail. With a foreign `.gzi` nothing is promised but no panic and no more
/// output than asked for — and the same answers as the scan when the indexes are equal.
fn bgzf(file: &[u8], gzi: Option<&[u8]>, rng: &mut Rng) {
    let scanned = BgzfReader::scan(Cursor::new(file));
    let given =
        gzi.map(|bytes| GziIndex::read(bytes).map(|i| BgzfReader::new(Cursor::new(file), i)));

    let given = given.map(|g| g.map(|r| r.map(Some)));
    let Ok(mut reader) = scanned else {
        if let Some(Ok(Ok(Some(mut reader)))) = given {
            let anchors: Vec<u64> = reader.index().entries().iter().map(|&(_, u)| u).collect();
            let _ = reader.has_eof_block();
            for range in ranges(rng, 1 << 20, &anchors) {
                let mut out = Vec::new();
                let _ = reader.read_range(range.clone(), &mut out);
                assert!(out.len() as u64 <= range.end.saturating_sub(range.start));
            }
        }
        return;
    };
    let has_eof = reader.has_eof_block().expect("reading a Cursor");
    assert_eq!(has_eof, file.ends_with(&seqflow_container::EOF_BLOCK));

    let mut full = Vec::new();
    let complete = reader.read_range(0..u64::MAX, &mut full).is_ok();
    let decoded = full.len() as u64;
    // The parallel unpack's path (whole blocks cut by the reader, inflated in batches)
    // accepts exactly what the scan and read_range accept, with the same bytes.
    match inflate_in_batches(file, 3) {
        Ok(bytes) => assert!(complete && bytes == full, "block reader accepted a bad file"),
        Err(_) => assert!(!complete, "block reader refused a file read_range decodes"),
    }
    // Blocks are at most 64 KiB and at least 28 bytes long.
    assert!(full.len() <= file.len().div_ceil(28) * BGZF_BLOCK);

    let mut given = match given {
        Some(Ok(Ok(r))) => r,
        _ => None,
    };
    let same_index = given.as_ref().is_some_and(|g| g.index() == reader.index());
    let mut anchors: Vec<u64> = reader.index().entries().iter().map(|&(_, u)| u).collect();
    if let Some(g) = &given {
        anchors.extend(g.index().entries().iter().map(|&(_, u)| u));
    }

    for range in ranges(rng, decoded, &anchors) {
        let len = range.end.saturating_sub(range.start);
        let mut out = Vec::new();
        let result = reader.read_range(range.clone(), &mut out);
        assert!(out.len() as u64 <= len);
        let clamped = clamp(&range, decoded);
        // Known answers: anything when the whole file decoded; inside the good prefix
        // otherwise (the whole-file read appends up to the first bad block).
        if complete || range.end <= decoded || range.start >= range.end {
            assert!(result.is_ok(), "read_range({range:?}) failed on good blocks: {result:?}");
            let want = &full[clamped.start as usize..clamped.end as usize];
            assert!(out == want, "read_range({range:?}) gave other bytes than the whole file");
        }
        if let Some(g) = given.as_mut() {
            let mut other = Vec::new();
            let other_result = g.read_range(range.clone(), &mut other);
            assert!(other.len() as u64 <= len);
            if same_index {
                assert_eq!(result.is_ok(), other_result.is_ok(), "{range:?}");
                assert!(out == other, "same index, different bytes for {range:?}");
            }
        }
    }
}
