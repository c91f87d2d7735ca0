//! Bugs found by the `container_index` fuzz target (`fuzz/src/container.rs`); each input is in
//! `fuzz/regressions/container_index/`, replayed by `fuzz/build.sh`; all fixed.

// Reversed ranges are what two of these bugs are about.
#![allow(clippy::reversed_empty_ranges)]

mod common;

use std::io::Cursor;

use common::{bgzf, data, pack};
use seqflow_container::{BgzfReader, FrameDecompressor, GziIndex, SeekableIndex};

/// Three frames of 100 bytes: 0..100, 100..200, 200..300.
fn three_frames() -> (Vec<u8>, Vec<u8>) {
    let original = data(300, 7);
    (pack(&original, 100), original)
}

/// `frames_for_range` documents that "an empty or out-of-bounds range gives an empty range of
/// indices"; an empty (or reversed) range whose start lies inside a frame gives that frame.
#[test]
fn frames_for_empty_range_is_empty() {
    let (file, _) = three_frames();
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    assert_eq!(index.frames_for_range(100..100), 1..1); // at a frame start: fine
    assert_eq!(index.frames_for_range(150..150), 1..1, "empty range inside frame 1");
    assert_eq!(index.frames_for_range(150..120), 1..1, "reversed range inside frame 1");
}

/// Consequence: `read_range` of an empty range decodes the frame around it, and fails when
/// that frame is corrupt, although it has no byte to return.
#[test]
fn read_range_of_empty_range_reads_no_frame() {
    let (mut file, _) = three_frames();
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    let frame = *index.frame(1).unwrap();
    // Corrupt the middle of frame 1's compressed bytes; the table stays valid.
    let middle = (frame.compressed_offset + u64::from(frame.compressed_size) / 2) as usize;
    file[middle] ^= 0xff;
    let mut reader = Cursor::new(&file);
    let index = SeekableIndex::read(&mut reader).unwrap();
    let mut d = FrameDecompressor::new().unwrap();
    let mut out = Vec::new();
    assert!(index.read_range(&mut reader, 150..151, &mut d, &mut out).is_err(), "frame 1 is bad");
    out.clear();
    index
        .read_range(&mut reader, 150..150, &mut d, &mut out)
        .expect("an empty range reads nothing");
    assert!(out.is_empty());
}

/// Worse: a reversed range whose start lies inside a frame panics (`slice index starts at 50
/// but ends at 20` in `read_range`), where the doc says the range is clamped to the data.
#[test]
fn read_range_of_reversed_range_does_not_panic() {
    let (file, _) = three_frames();
    let mut reader = Cursor::new(&file);
    let index = SeekableIndex::read(&mut reader).unwrap();
    let mut d = FrameDecompressor::new().unwrap();
    let mut out = Vec::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        index.read_range(&mut reader, 150..120, &mut d, &mut out)
    }));
    let result = result.expect("read_range panicked on the reversed range 150..120");
    assert!(result.is_ok() && out.is_empty(), "{result:?}, {} bytes", out.len());
}

/// A `.gzi` is untrusted input too (`GziIndex::read` guards against hostile counts), but
/// `BgzfReader::read_range` adds each block's length to the index's uncompressed offset
/// unchecked: with an offset within a block of `u64::MAX` that overflows — a panic with
/// overflow checks (debug builds, cargo fuzz), silently wrapped offsets in release.
#[test]
fn bgzf_read_range_with_huge_gzi_offset_does_not_overflow() {
    let (file, real) = bgzf(&data(300, 3), 100);
    let second_block = real.entries()[0].0;
    let mut hostile = GziIndex::new();
    hostile.push(second_block, u64::MAX - 5).unwrap();
    let mut reader = BgzfReader::new(Cursor::new(file), hostile).unwrap();
    let mut out = Vec::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader.read_range(u64::MAX - 3..u64::MAX, &mut out)
    }));
    let result = result.expect("read_range panicked (u + n overflowed)");
    // An error would do; so would the 3 bytes the index claims are there.
    assert!(result.is_err() || out.len() == 3, "{result:?}, {} bytes", out.len());
}
