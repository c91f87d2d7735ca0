//! Version 3's piece values: reading part of a frame longer than 1 MiB decodes it only up to
//! the piece holding the range's end and checks the pieces holding the range, and every kind
//! of damage is still caught — by the partial read where it touches the bytes returned, by a
//! whole read or `check_pieces` everywhere.

mod common;

use std::io::Cursor;

use common::{data, pack};
use seqflow_container::{Error, FrameDecompressor, FrameFault, PIECE_LEN, SeekableIndex};

/// 4 MiB chunks: frames of 4 pieces, and a last one of 2 pieces and a bit.
const CHUNK: usize = 4 * PIECE_LEN;

fn read_range(file: &[u8], range: std::ops::Range<u64>) -> Result<Vec<u8>, Error> {
    let mut r = Cursor::new(file);
    let index = SeekableIndex::read(&mut r)?;
    let mut out = Vec::new();
    index.read_range(&mut r, range, &mut FrameDecompressor::new()?, &mut out)?;
    Ok(out)
}

fn original() -> Vec<u8> {
    data(2 * CHUNK + 2 * PIECE_LEN + 12_345, 31)
}

#[test]
fn every_kind_of_range_reads_back_the_original() {
    let original = original();
    let file = pack(&original, CHUNK);
    let len = original.len() as u64;
    let m = PIECE_LEN as u64;
    let c = CHUNK as u64;
    for (start, end) in [
        (0, 1),
        (0, 1024),
        (m - 10, m + 10),       // across a piece boundary
        (3 * m + 5, 3 * m + 6), // last piece of a frame
        (c - 1, c + 1),         // across frames: a partial end and a partial start
        (c, 2 * c),             // one whole frame
        (c + 7, 3 * c),         // to past the end
        (len - 1, len),
        (2 * c + 2 * m, len), // the short last piece
        (0, len),
    ] {
        let out = read_range(&file, start..end).unwrap();
        let hi = end.min(len) as usize;
        assert!(out == original[start as usize..hi], "range {start}..{end}");
    }
}

#[test]
fn the_index_knows_where_each_frames_piece_values_are() {
    let file = pack(&original(), CHUNK);
    let mut r = Cursor::new(&file[..]);
    let index = SeekableIndex::read(&mut r).unwrap();
    assert_eq!(index.metadata().unwrap().version(), 3);
    let counts: Vec<usize> = index
        .frames()
        .iter()
        .map(|f| index.read_pieces(&mut r, f).unwrap().map_or(0, |p| p.len()))
        .collect();
    assert_eq!(counts, [4, 4, 3]);
    index.check_pieces(&mut r).unwrap();
    // Small frames have none: their digest covers them.
    let small = pack(&data(3 * PIECE_LEN, 2), PIECE_LEN);
    let mut r = Cursor::new(&small[..]);
    let index = SeekableIndex::read(&mut r).unwrap();
    assert!(index.frames().iter().all(|f| f.pieces_at.is_none()));
}

#[test]
fn a_damaged_piece_value_is_caught_by_a_partial_read_and_by_check_pieces() {
    let file = pack(&original(), CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file[..])).unwrap();
    let frame = index.frames()[1];
    let at = frame.pieces_at.unwrap() as usize;
    // Any byte of frame 1's four values.
    for i in [0, 31, 32, 127] {
        let mut bad = file.clone();
        bad[at + i] ^= 0x20;
        let start = frame.decompressed_offset;
        let e = read_range(&bad, start + 10..start + 20).unwrap_err().to_string();
        assert!(e.contains("piece values recorded for frame 1"), "{e}");
        let mut r = Cursor::new(&bad[..]);
        let index = SeekableIndex::read(&mut r).unwrap();
        assert!(index.check_pieces(&mut r).is_err());
        // Frame 0 is untouched: reading it still works.
        assert!(read_range(&bad, 5..10).is_ok());
    }
}

#[test]
fn damaged_frame_data_is_caught_where_the_returned_bytes_depend_on_it() {
    let original = original();
    let file = pack(&original, CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file[..])).unwrap();
    let frame = index.frames()[0];
    let range = frame.compressed_range();
    // A byte early in the frame: a range decoded past it either fails with an error naming
    // frame 0 (zstd's own, or a piece that does not match its value) or, when the damage
    // does not reach the returned bytes, returns them right: never wrong bytes.
    let wanted = 3 * PIECE_LEN as u64..3 * PIECE_LEN as u64 + 100;
    let mut failed = 0;
    for offset in (range.start + 20..range.start + 60_000).step_by(997) {
        let mut bad = file.clone();
        bad[offset as usize] ^= 0x01;
        match read_range(&bad, wanted.clone()) {
            Err(Error::Frame { frame: 0, reason, .. }) => {
                assert!(
                    matches!(reason, FrameFault::Decode(_) | FrameFault::PieceDigest { .. }),
                    "{reason}"
                );
                failed += 1;
            }
            Ok(out) => assert!(out == original[wanted.start as usize..wanted.end as usize]),
            Err(other) => panic!("byte {offset}: {other}"),
        }
    }
    assert!(failed > 0);
    // A byte in the frame's last block does not touch the first piece, which a partial read
    // returns unchanged (only checked bytes are returned); a whole read fails.
    let mut bad = file.clone();
    bad[(range.end - 10) as usize] ^= 0x01;
    assert_eq!(read_range(&bad, 0..100).unwrap(), original[..100]);
    let whole = read_range(&bad, 0..CHUNK as u64).unwrap_err().to_string();
    assert!(whole.starts_with(&format!("frame 0 at byte {}", range.start)), "{whole}");
}

#[test]
fn a_frame_that_ends_before_the_pieces_it_should_hold_is_refused() {
    // A frame cut short: its header still declares 4 MiB, the data runs out. The entry is
    // patched to match the cut, so that only the decoder can notice.
    let original = data(CHUNK, 5);
    let file = pack(&original, CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file[..])).unwrap();
    let frame = index.frames()[0];
    let mut d = FrameDecompressor::new().unwrap();
    let pieces = index.read_pieces(&mut Cursor::new(&file[..]), &frame).unwrap().unwrap();
    let half = frame.compressed_size / 2;
    let cut = seqflow_container::FrameEntry { compressed_size: half, ..frame };
    let mut out = Vec::new();
    let e = d.decompress_part(&mut &file[..], &cut, &pieces, CHUNK - 10..CHUNK, &mut out);
    assert!(matches!(e, Err(Error::Frame { frame: 0, .. })), "{e:?}");
    assert!(out.is_empty());
    // A reader that fails: the I/O error, not a frame fault.
    let mut failing = FailAfter { good: &file[..4096] };
    let e = d.decompress_part(&mut failing, &frame, &pieces, CHUNK - 10..CHUNK, &mut out);
    assert!(matches!(e, Err(Error::Io(_))), "{e:?}");
    // The same decompressor still reads a good frame afterwards.
    d.decompress_part(&mut &file[..], &frame, &pieces, CHUNK - 10..CHUNK, &mut out).unwrap();
    assert_eq!(out, original[CHUNK - 10..]);
}

/// Gives `good`, then fails.
struct FailAfter<'a> {
    good: &'a [u8],
}

impl std::io::Read for FailAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.good.is_empty() {
            return Err(std::io::Error::other("disk on fire"));
        }
        self.good.read(buf)
    }
}
