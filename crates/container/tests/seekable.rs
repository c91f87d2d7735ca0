//! Round trips and corruption handling of the zstd seekable format.

mod common;

use std::io::Cursor;

use common::{data, fake_sha, pack, pack_version1};
use proptest::prelude::*;
use seqflow_container::{
    Error, FrameCompressor, FrameDecompressor, FrameFault, PackMetadata, SeekableIndex,
    SeekableWriter,
};

/// Decodes every frame through the index, verifying each.
fn unpack(file: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Cursor::new(file);
    let index = SeekableIndex::read(&mut r)?;
    let mut d = FrameDecompressor::new()?;
    let (mut buf, mut out, mut all) = (Vec::new(), Vec::new(), Vec::new());
    for f in index.frames() {
        index.read_frame(&mut r, f, &mut buf)?;
        d.decompress(&buf, f, &mut out)?;
        all.extend_from_slice(&out);
    }
    Ok(all)
}

const CHUNK: usize = 1000;

fn sizes() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(CHUNK - 1),
        Just(CHUNK),
        Just(CHUNK + 1),
        Just(7 * CHUNK),
        0..20 * CHUNK,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(len in sizes(), seed in any::<u64>(), start in 0u64..25_000, span in 0u64..5_000) {
        let original = data(len, seed);
        let file = pack(&original, CHUNK);
        // Stock decoder (libzstd through the zstd crate) and our verified reader agree.
        prop_assert_eq!(&zstd::decode_all(&file[..]).unwrap(), &original);
        prop_assert_eq!(&unpack(&file).unwrap(), &original);
        let mut r = Cursor::new(&file);
        let index = SeekableIndex::read(&mut r).unwrap();
        prop_assert_eq!(index.original_size(), len as u64);
        prop_assert_eq!(index.frames().len(), len.div_ceil(CHUNK));
        // Version 2: no SHA-256, a BLAKE3 digest of each chunk on its frame.
        prop_assert_eq!(index.sha256(), None);
        prop_assert!(index.has_digests());
        for (f, chunk) in index.frames().iter().zip(original.chunks(CHUNK)) {
            prop_assert_eq!(f.digest, Some(*blake3::hash(chunk).as_bytes()));
        }
        prop_assert_eq!(index.chunk_size(), CHUNK as u32);
        // Random access.
        let end = start + span;
        let mut out = Vec::new();
        let mut d = FrameDecompressor::new().unwrap();
        index.read_range(&mut r, start..end, &mut d, &mut out).unwrap();
        let lo = (start as usize).min(len);
        let hi = (end as usize).min(len);
        prop_assert_eq!(&out[..], &original[lo..hi.max(lo)]);
        let frames = index.frames_for_range(start..end);
        if lo < hi {
            prop_assert_eq!(frames, lo / CHUNK..hi.div_ceil(CHUNK));
        } else {
            prop_assert!(frames.is_empty());
        }
    }
}

#[test]
fn offsets_are_cumulative() {
    let original = data(5 * CHUNK + 3, 1);
    let file = pack(&original, CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    let mut c = 0;
    for (i, f) in index.frames().iter().enumerate() {
        assert_eq!(index.compressed_offset(i), Some(c));
        assert_eq!(f.decompressed_offset, (i * CHUNK) as u64);
        c += u64::from(f.compressed_size);
    }
    // The digest frame (8 + 32 bytes per data frame), then the metadata frame (76 bytes).
    assert_eq!(index.data_end(), c);
    assert_eq!(index.metadata_offset(), c + 8 + 6 * 32);
    assert_eq!(index.seek_table_offset(), c + 8 + 6 * 32 + 76);
    assert_eq!(index.compressed_offset(6), None);
}

#[test]
fn frame_records_spilled_to_a_temporary_file_give_the_same_file() {
    let original = data(10 * CHUNK + 7, 9);
    let reference = pack(&original, CHUNK);
    for spill_after in [1, 2, 5, 11, 12] {
        let mut c = FrameCompressor::new(3).unwrap();
        let mut w = SeekableWriter::with_spill_after(Vec::new(), spill_after);
        let mut frame = Vec::new();
        for chunk in original.chunks(CHUNK) {
            let info = c.compress(chunk, &mut frame).unwrap();
            w.write_frame(&frame, info).unwrap();
        }
        assert_eq!(w.frames_written(), 11);
        let file = w.finish(original.len() as u64, CHUNK as u32).unwrap();
        assert!(file == reference, "spill after {spill_after} frames");
    }
    assert_eq!(unpack(&reference).unwrap(), original);
}

fn expect_err(file: &[u8]) -> String {
    let err = unpack(file).expect_err("corrupt file accepted");
    err.to_string()
}

#[test]
fn flipped_byte_in_a_frame_names_the_frame() {
    let original = data(10 * CHUNK, 2);
    let file = pack(&original, CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    let f = index.frames()[4];
    // Flip every byte of frame 4 in turn: each must be an error naming frame 4.
    for i in f.compressed_range() {
        let mut bad = file.clone();
        bad[i as usize] ^= 0x01;
        let e = unpack(&bad).expect_err("flipped byte accepted");
        let want = format!("frame 4 at byte {}", f.compressed_offset);
        assert!(e.to_string().starts_with(&want), "byte {i}: {e}");
    }
}

#[test]
fn truncated_file_is_rejected_at_every_length() {
    let file = pack(&data(3 * CHUNK, 3), CHUNK);
    for len in 0..file.len() {
        let e = expect_err(&file[..len]);
        assert!(e.contains("byte"), "len {len}: {e}");
    }
}

#[test]
fn missing_seek_table() {
    let original = data(3 * CHUNK, 4);
    let mut c = FrameCompressor::new(3).unwrap();
    let mut w = SeekableWriter::new(Vec::new());
    let mut frame = Vec::new();
    for chunk in original.chunks(CHUNK) {
        let info = c.compress(chunk, &mut frame).unwrap();
        w.write_frame(&frame, info).unwrap();
    }
    // A plain multi-frame zstd file: never finished.
    let file = w.get_ref().clone();
    let e = expect_err(&file);
    assert!(e.starts_with("not a seekable zstd file"), "{e}");
    assert!(e.contains(&format!("at byte {}", file.len() - 4)), "{e}");
}

#[test]
fn wrong_magic_and_reserved_bits() {
    let file = pack(&data(2 * CHUNK, 5), CHUNK);
    let n = file.len();
    let mut bad = file.clone();
    bad[n - 1] ^= 0xff;
    assert!(expect_err(&bad).starts_with("not a seekable zstd file"));

    let mut bad = file.clone();
    bad[n - 5] |= 0x04; // a reserved descriptor bit
    let e = expect_err(&bad);
    assert!(e.contains(&format!("seek table at byte {}", n - 5)), "{e}");
    assert!(e.contains("reserved"), "{e}");

    let mut bad = file.clone();
    bad[n - 5] |= 0x01; // an unused bit: the spec says to ignore it
    assert_eq!(unpack(&bad).unwrap(), data(2 * CHUNK, 5));

    let mut bad = file.clone();
    bad[n - 5] = 0; // no checksums: the entries no longer line up with the table frame
    assert!(expect_err(&bad).starts_with("seek table at byte"));
}

#[test]
fn swapped_frames_are_caught_by_the_seek_table() {
    // Equal-sized chunks of the same compressibility: swap two frames of equal length so the
    // offsets still line up and only the checksums tell.
    let chunk = vec![b'A'; CHUNK];
    let mut original = chunk.clone();
    original.extend(vec![b'C'; CHUNK]);
    let file = pack(&original, CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    let (a, b) = (index.frames()[0], index.frames()[1]);
    assert_eq!(a.compressed_size, b.compressed_size);
    let mut bad = file.clone();
    let (ra, rb) = (a.compressed_range(), b.compressed_range());
    let fa = file[ra.start as usize..ra.end as usize].to_vec();
    let fb = file[rb.start as usize..rb.end as usize].to_vec();
    bad[ra.start as usize..ra.end as usize].copy_from_slice(&fb);
    bad[rb.start as usize..rb.end as usize].copy_from_slice(&fa);
    let err = unpack(&bad).unwrap_err();
    assert!(
        matches!(err, Error::Frame { frame: 0, offset: 0, reason: FrameFault::Checksum { .. } }),
        "{err}"
    );
    assert!(err.to_string().starts_with("frame 0 at byte 0: checksum mismatch"));
}

#[test]
fn swapped_frames_of_different_sizes() {
    let original = data(3 * CHUNK, 6);
    let file = pack(&original, CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    let (a, b) = (index.frames()[0], index.frames()[1]);
    let (ra, rb) = (a.compressed_range(), b.compressed_range());
    let mut bad = file[rb.start as usize..rb.end as usize].to_vec();
    bad.extend_from_slice(&file[ra.start as usize..ra.end as usize]);
    bad.extend_from_slice(&file[rb.end as usize..]);
    let e = expect_err(&bad);
    assert!(e.starts_with("frame 0 at byte 0:"), "{e}");
}

#[test]
fn not_our_file() {
    for file in [
        &b""[..],
        b"hello world, this is not a container at all",
        &[0u8; 100][..],
        &zstd::encode_all(&b"plain zstd"[..], 3).unwrap()[..],
        &common::bgzf(b"bgzf", 10).0[..],
    ] {
        let e = expect_err(file);
        assert!(e.starts_with("not a seekable zstd file"), "{e}");
    }
}

#[test]
fn stock_seekable_file_without_metadata_is_read() {
    // A valid seek table (2 frames, checksums) but no seqflow metadata entry.
    let original = data(2 * CHUNK, 7);
    let mut c = FrameCompressor::new(3).unwrap();
    let mut file = Vec::new();
    let mut entries = Vec::new();
    let mut frame = Vec::new();
    for chunk in original.chunks(CHUNK) {
        let info = c.compress(chunk, &mut frame).unwrap();
        file.extend_from_slice(&frame);
        entries.push(info);
    }
    let table_at = file.len();
    file.extend_from_slice(&0x184D_2A5Eu32.to_le_bytes());
    file.extend_from_slice(&(2u32 * 12 + 9).to_le_bytes());
    for e in &entries {
        for w in [e.compressed_size, e.decompressed_size, e.checksum] {
            file.extend_from_slice(&w.to_le_bytes());
        }
    }
    file.extend_from_slice(&2u32.to_le_bytes());
    file.push(0x80);
    file.extend_from_slice(&0x8F92_EAB1u32.to_le_bytes());
    assert_eq!(zstd::decode_all(&file[..]).unwrap(), original);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    assert!(index.metadata().is_none() && index.sha256().is_none() && index.has_checksums());
    assert_eq!(index.seek_table_offset(), table_at as u64);
    assert_eq!(unpack(&file).unwrap(), original);
    let mut streamed = Vec::new();
    let summary = seqflow_container::decode_stream(&file[..], &mut streamed, 27).unwrap();
    assert_eq!(streamed, original);
    assert!(summary.seek_table && summary.seek_table_checksums && summary.metadata.is_none());
    // A wrong checksum in the table is still caught.
    let mut bad = file.clone();
    bad[table_at + 8 + 12 + 8] ^= 1;
    let e = expect_err(&bad);
    assert!(
        e.starts_with(&format!(
            "frame 1 at byte {}: checksum mismatch",
            entries[0].compressed_size
        )),
        "{e}"
    );
}

#[test]
fn streams_check_the_seek_table_and_metadata_at_the_end() {
    let original = data(5 * CHUNK + 3, 8);
    let file = pack(&original, CHUNK);
    let mut out = Vec::new();
    let summary = seqflow_container::decode_stream(&file[..], &mut out, 27).unwrap();
    assert_eq!(out, original);
    assert_eq!(summary.data_frames, 6);
    assert_eq!(summary.metadata.unwrap().original_size, original.len() as u64);
    // Swapped frames, a truncation and a flipped byte are caught, naming the place.
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    let (a, b) = (index.frames()[0], index.frames()[1]);
    let (ra, rb) = (a.compressed_range(), b.compressed_range());
    let mut swapped = file[rb.start as usize..rb.end as usize].to_vec();
    swapped.extend_from_slice(&file[ra.start as usize..ra.end as usize]);
    swapped.extend_from_slice(&file[rb.end as usize..]);
    let e = seqflow_container::decode_stream(&swapped[..], &mut Vec::new(), 27).unwrap_err();
    assert!(
        e.to_string().starts_with("seek table at byte")
            || e.to_string().starts_with("frame 0 at byte 0"),
        "{e}"
    );
    for cut in [1, 10, file.len() / 2, file.len() - 1] {
        let e = seqflow_container::decode_stream(&file[..cut], &mut Vec::new(), 27);
        assert!(e.is_err(), "cut at {cut}");
    }
    let mut flipped = file.clone();
    flipped[ra.end as usize + 20] ^= 0x10;
    let e = seqflow_container::decode_stream(&flipped[..], &mut Vec::new(), 27).unwrap_err();
    assert!(e.to_string().starts_with(&format!("frame 1 at byte {}", ra.end)), "{e}");
}

/// Rewrites seek-table entry `i` of `file` (fields: compressed, decompressed, checksum).
fn patch_entry(file: &mut [u8], i: usize, field: usize, value: u32) {
    let n = u32::from_le_bytes(file[file.len() - 9..file.len() - 5].try_into().unwrap()) as usize;
    let table_at = file.len() - 9 - n * 12;
    let at = table_at + i * 12 + field * 4;
    file[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn impossible_sizes_in_the_seek_table() {
    let original = data(3 * CHUNK + 10, 8);
    let file = pack(&original, CHUNK);

    // A frame larger than the chunk size (hostile: would make readers allocate more).
    let mut bad = file.clone();
    patch_entry(&mut bad, 1, 1, u32::MAX);
    let e = expect_err(&bad);
    assert!(e.contains("more than the chunk size"), "{e}");

    // Compressed sizes that no longer tile the file.
    let mut bad = file.clone();
    patch_entry(&mut bad, 0, 0, 1 << 30);
    let e = expect_err(&bad);
    assert!(e.contains("frames add up to"), "{e}");

    // A frame count beyond the file.
    let mut bad = file.clone();
    let n = bad.len();
    bad[n - 9..n - 5].copy_from_slice(&0x07ff_ffffu32.to_le_bytes());
    let e = expect_err(&bad);
    assert!(e.starts_with("truncated file"), "{e}");

    // A frame count beyond the format's limit.
    let mut bad = file.clone();
    bad[n - 9..n - 5].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = expect_err(&bad);
    assert!(e.contains("more than the limit"), "{e}");

    // A decompressed size that disagrees with the frame header.
    let mut bad = file.clone();
    patch_entry(&mut bad, 3, 1, 9);
    let e = expect_err(&bad);
    assert!(e.contains("original size is"), "{e}");
}

#[test]
fn metadata_version_mismatch() {
    let file = pack(&data(CHUNK, 9), CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    let at = index.metadata_offset() as usize;
    let mut bad = file.clone();
    bad[at + 8 + 8] = 4; // version field
    // Keep the CRC valid so that the version check is the one that fires.
    let crc = libdeflater_crc(&bad[at + 8..at + 8 + 64]);
    bad[at + 8 + 64..at + 8 + 68].copy_from_slice(&crc.to_le_bytes());
    let e = expect_err(&bad);
    assert_eq!(
        e,
        format!(
            "metadata frame at byte {at}: unsupported version 4 (this reader knows versions 1 to 3)"
        )
    );
}

fn libdeflater_crc(b: &[u8]) -> u32 {
    // CRC-32 (IEEE), bitwise, to keep the test independent of the implementation's choice.
    let mut crc = !0u32;
    for &x in b {
        crc ^= u32::from(x);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn writer_rejects_inconsistent_metadata() {
    let mut c = FrameCompressor::new(1).unwrap();
    let mut frame = Vec::new();
    let info = c.compress(&[1; 100], &mut frame).unwrap();
    let mut w = SeekableWriter::new(Vec::new());
    w.write_frame(&frame, info.clone()).unwrap();
    assert!(w.finish(99, 100).is_err());
    let mut w = SeekableWriter::new(Vec::new());
    w.write_frame(&frame, info.clone()).unwrap();
    assert!(w.finish(100, 50).is_err());
    let mut w = SeekableWriter::new(Vec::new());
    w.write_frame(&frame, info.clone()).unwrap();
    assert!(w.finish_version1(&PackMetadata::version1(99, [0; 32], 100)).is_err());
    let mut w = SeekableWriter::new(Vec::new());
    assert!(w.write_frame(&frame[1..], info.clone()).is_err());
    // A frame whose piece values are missing or extra is refused.
    let big = vec![3u8; 3 << 20];
    let mut big_frame = Vec::new();
    let big_info = c.compress(&big, &mut big_frame).unwrap();
    assert_eq!(big_info.pieces.len(), 3);
    let stripped = seqflow_container::FrameInfo { pieces: Vec::new(), ..big_info.clone() };
    assert!(w.write_frame(&big_frame, stripped).is_err());
    let padded = seqflow_container::FrameInfo { pieces: vec![[0; 32]], ..info };
    assert!(w.write_frame(&frame, padded).is_err());
    w.write_frame(&big_frame, big_info).unwrap();
    let empty = c.compress(&[], &mut frame).unwrap();
    assert!(w.write_frame(&frame, empty).is_err());
}

#[test]
fn hostile_frame_header_cannot_force_an_allocation() {
    // A well-formed file whose frame 0 is replaced by a same-length frame whose header
    // claims 1 TiB: rejected before decoding, naming the frame.
    let original = data(CHUNK, 10);
    let mut file = pack(&original, CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    assert_eq!(index.frames()[0].compressed_offset, 0);
    // FHD: FCS field 8 bytes, single segment, checksum; then the 8-byte size.
    let mut hostile = vec![0x28, 0xB5, 0x2F, 0xFD, 0b1110_0100];
    hostile.extend_from_slice(&(1u64 << 40).to_le_bytes());
    file[..hostile.len()].copy_from_slice(&hostile);
    let err = unpack(&file).unwrap_err();
    assert!(
        matches!(err, Error::Frame { frame: 0, offset: 0, reason: FrameFault::DeclaredSize { declared, .. } } if declared == 1 << 40),
        "{err}"
    );
}

/// Swaps frames 0 and 1 of `file` together with their seek-table entries, so that the frames
/// tile the file and each matches its entry's sizes and checksum.
fn swap_frames_and_entries(file: &[u8]) -> Vec<u8> {
    let index = SeekableIndex::read(&mut Cursor::new(file)).unwrap();
    let (a, b) = (index.frames()[0], index.frames()[1]);
    let (ra, rb) = (a.compressed_range(), b.compressed_range());
    let mut out = file[rb.start as usize..rb.end as usize].to_vec();
    out.extend_from_slice(&file[ra.start as usize..ra.end as usize]);
    out.extend_from_slice(&file[rb.end as usize..]);
    let n = u32::from_le_bytes(file[file.len() - 9..file.len() - 5].try_into().unwrap()) as usize;
    let entries = file.len() - 9 - n * 12;
    let (e0, e1) = (entries..entries + 12, entries + 12..entries + 24);
    out[e0.clone()].copy_from_slice(&file[e1.clone()]);
    out[e1].copy_from_slice(&file[e0]);
    out
}

#[test]
fn frames_swapped_with_their_entries_fail_the_digest_naming_the_frame() {
    let original = data(4 * CHUNK, 11);
    let bad = swap_frames_and_entries(&pack(&original, CHUNK));
    let err = unpack(&bad).unwrap_err();
    assert!(
        matches!(err, Error::Frame { frame: 0, offset: 0, reason: FrameFault::Digest { .. } }),
        "{err}"
    );
    assert!(err.to_string().starts_with("frame 0 at byte 0: BLAKE3 mismatch"), "{err}");
    // The same through a stream: the digest frame at the end tells.
    let e = seqflow_container::decode_stream(&bad[..], &mut Vec::new(), 27).unwrap_err();
    assert!(e.to_string().starts_with("frame 0 at byte 0: BLAKE3 mismatch"), "{e}");
    // Version 1 has no per-frame digest: only the caller's SHA-256 would tell.
    let v1 = swap_frames_and_entries(&pack_version1(&original, CHUNK));
    assert_eq!(unpack(&v1).unwrap().len(), original.len());
}

#[test]
fn swapped_digests_fail_the_root_before_any_frame_is_decoded() {
    let original = data(3 * CHUNK, 12);
    let file = pack(&original, CHUNK);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    let at = index.data_end() as usize;
    let mut bad = file.clone();
    let (d0, d1) = (at + 8..at + 40, at + 40..at + 72);
    bad[d0.clone()].copy_from_slice(&file[d1.clone()]);
    bad[d1].copy_from_slice(&file[d0]);
    let e = SeekableIndex::read(&mut Cursor::new(&bad)).unwrap_err().to_string();
    assert!(e.starts_with(&format!("digest frame at byte {at}: BLAKE3 of the digests")), "{e}");
    let e = seqflow_container::decode_stream(&bad[..], &mut Vec::new(), 27).unwrap_err();
    assert!(e.to_string().starts_with(&format!("digest frame at byte {at}")), "{e}");
}

/// Everything after the data frames (digest frame, metadata frame, seek table) is checked:
/// a flipped bit anywhere there fails on open and through a stream, naming a byte offset.
#[test]
fn every_byte_after_the_data_frames_is_checked() {
    for len in [0, 1, 3 * CHUNK + 5] {
        let file = pack(&data(len, 13), CHUNK);
        let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
        for i in index.data_end() as usize..file.len() {
            // Not bits 1-0: the seek table descriptor's are unused, and readers ignore them.
            for bit in [0x04, 0x80] {
                let mut bad = file.clone();
                bad[i] ^= bit;
                let e = unpack(&bad).map(|_| format!("len {len}, byte {i} accepted"));
                let e = e.expect_err("flipped trailer byte accepted").to_string();
                assert!(e.contains("byte"), "len {len}, byte {i}: {e}");
                let mut out = Vec::new();
                let e = seqflow_container::decode_stream(&bad[..], &mut out, 27);
                // A stream may end in what now reads as another writer's skippable frames,
                // but it never passes seqflow's metadata that does not hold.
                if let Ok(summary) = e {
                    assert!(summary.metadata.is_none(), "len {len}, byte {i}: stream accepted");
                }
            }
        }
    }
}

#[test]
fn version1_files_are_still_read() {
    let original = data(3 * CHUNK + 7, 14);
    let file = pack_version1(&original, CHUNK);
    assert_eq!(zstd::decode_all(&file[..]).unwrap(), original);
    let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
    assert_eq!(index.metadata().map(|m| m.version()), Some(1));
    assert_eq!(index.sha256(), Some(&fake_sha(&original)));
    assert!(!index.has_digests() && index.frames().iter().all(|f| f.digest.is_none()));
    assert_eq!(index.data_end(), index.metadata_offset());
    assert_eq!(unpack(&file).unwrap(), original);
    let mut out = Vec::new();
    let summary = seqflow_container::decode_stream(&file[..], &mut out, 27).unwrap();
    assert_eq!(out, original);
    assert_eq!(summary.metadata.and_then(|m| m.sha256().copied()), Some(fake_sha(&original)));
}

/// Files the previous version's `seqflow pack` wrote (checked in, made by the binary of main
/// at 2c37cb4): `version1.fq.zst` (two 1 KiB frames) and `version1_empty.zst` (no frames).
#[test]
fn files_written_by_version1_still_unpack() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let original = std::fs::read(dir.join("version1.fq")).unwrap();
    for (packed, original) in [("version1.fq.zst", &original[..]), ("version1_empty.zst", &[])] {
        let file = std::fs::read(dir.join(packed)).unwrap();
        let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
        assert_eq!(index.metadata().map(|m| m.version()), Some(1), "{packed}");
        assert!(index.sha256().is_some() && !index.has_digests(), "{packed}");
        assert_eq!(unpack(&file).unwrap(), original, "{packed}");
        let mut out = Vec::new();
        seqflow_container::decode_stream(&file[..], &mut out, 27).unwrap();
        assert_eq!(out, original, "{packed}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The reader of version 2's new bytes: any change to the digest frame or the metadata
    /// (a byte set to any other value) is refused, on open and through a stream.
    #[test]
    fn a_changed_digest_or_metadata_byte_is_refused(
        len in sizes(), seed in any::<u64>(), pick in any::<prop::sample::Index>(), delta in 1u8..,
    ) {
        let file = pack(&data(len, seed), CHUNK);
        let index = SeekableIndex::read(&mut Cursor::new(&file)).unwrap();
        let trailer = index.data_end() as usize..index.seek_table_offset() as usize;
        let at = trailer.start + pick.index(trailer.len());
        let mut bad = file.clone();
        bad[at] = bad[at].wrapping_add(delta);
        let e = unpack(&bad).expect_err("changed byte accepted").to_string();
        prop_assert!(
            e.starts_with("digest frame at byte") || e.starts_with("metadata frame at byte")
                || e.starts_with("seek table at byte"),
            "byte {}: {}", at, e
        );
        let streamed = seqflow_container::decode_stream(&bad[..], &mut Vec::new(), 27);
        prop_assert!(streamed.map_or(true, |s| s.metadata.is_none()), "byte {}", at);
    }
}
