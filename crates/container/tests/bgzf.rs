//! Round trips and corruption handling of BGZF and the `.gzi` index.

mod common;

use std::io::Cursor;

use common::{bgzf, data};
use proptest::prelude::*;
use seqflow_container::{
    BgzfBlockReader, BgzfInflater, BgzfReader, EOF_BLOCK, GziIndex, MAX_BLOCK_INPUT,
};

const CHUNK: usize = 100_000;

fn sizes() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(CHUNK - 1),
        Just(CHUNK),
        Just(CHUNK + 1),
        Just(MAX_BLOCK_INPUT),
        Just(MAX_BLOCK_INPUT + 1),
        0..3 * CHUNK,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn round_trip(len in sizes(), seed in any::<u64>(), start in 0u64..600_000, span in 0u64..200_000) {
        let original = data(len, seed);
        let (file, gzi) = bgzf(&original, CHUNK);
        prop_assert!(file.ends_with(&EOF_BLOCK));
        // A multi-member gzip decoder reads it whole.
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut flate2_free_gunzip(&file), &mut all).unwrap();
        prop_assert_eq!(&all, &original);
        // The index round-trips and matches a header scan.
        let mut idx = Vec::new();
        gzi.write_to(&mut idx).unwrap();
        prop_assert_eq!(&GziIndex::read(&idx[..]).unwrap(), &gzi);
        let scanned = BgzfReader::scan(Cursor::new(&file)).unwrap();
        prop_assert_eq!(scanned.index(), &gzi);
        // Random access, with the index and with the scan.
        let end = start + span;
        let lo = (start as usize).min(len);
        let hi = (end as usize).min(len).max(lo);
        // Block by block, as the parallel unpack reads it: every block, in batches of three.
        prop_assert_eq!(&inflate_in_batches(&file, 3).unwrap(), &original);
        for mut reader in [BgzfReader::new(Cursor::new(&file), gzi.clone()).unwrap(), scanned] {
            let mut out = Vec::new();
            reader.read_range(start..end, &mut out).unwrap();
            prop_assert_eq!(&out[..], &original[lo..hi]);
        }
    }
}

/// Reads `file` with [`BgzfBlockReader`] in batches of `batch` blocks and inflates each batch
/// with [`BgzfInflater`], as the parallel unpack does (a fault the reader finds comes after
/// the blocks it read before it).
fn inflate_in_batches(file: &[u8], batch: usize) -> seqflow_container::Result<Vec<u8>> {
    let mut blocks = BgzfBlockReader::new(file, Some(file.len() as u64));
    let (mut inflater, mut buf, mut out) = (BgzfInflater::new(), Vec::new(), Vec::new());
    loop {
        let offset = blocks.offset();
        buf.clear();
        let mut fault = None;
        for _ in 0..batch {
            match blocks.read_block(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    fault = Some(e);
                    break;
                }
            }
        }
        if buf.is_empty() && fault.is_none() {
            return Ok(out);
        }
        // The blocks read before a fault come first, as in the pipeline's ordered sink.
        inflater.inflate_blocks(&buf, offset, &mut out)?;
        if let Some(fault) = fault {
            return Err(fault);
        }
    }
}

/// Decodes every member with libdeflate's gzip decoder (checks gzip CRC and ISIZE).
fn flate2_free_gunzip(mut file: &[u8]) -> Cursor<Vec<u8>> {
    let mut d = libdeflater::Decompressor::new();
    let mut all = Vec::new();
    while !file.is_empty() {
        let len = u16::from_le_bytes([file[16], file[17]]) as usize + 1;
        let isize = u32::from_le_bytes(file[len - 4..len].try_into().unwrap()) as usize;
        let mut buf = vec![0; isize];
        assert_eq!(d.gzip_decompress(&file[..len], &mut buf).unwrap(), isize);
        all.extend_from_slice(&buf);
        file = &file[len..];
    }
    Cursor::new(all)
}

#[test]
fn flipped_byte_names_the_block() {
    let original = data(3 * MAX_BLOCK_INPUT, 1);
    let (file, gzi) = bgzf(&original, CHUNK);
    let (c1, _) = gzi.entries()[0];
    let (c2, _) = gzi.entries()[1];
    // Every byte of block 1 except MTIME/XFL/OS (which gzip does not protect).
    // Every header and trailer byte, and a sample of the deflate data (decoding is slow in
    // debug builds).
    for i in (c1..c2).filter(|&i| i - c1 < 18 || c2 - i <= 8 || (i - c1) % 101 == 0) {
        if (4..10).contains(&(i - c1)) {
            continue;
        }
        let mut bad = file.clone();
        bad[i as usize] ^= 0x01;
        let mut r = BgzfReader::new(Cursor::new(&bad), gzi.clone()).unwrap();
        let mut out = Vec::new();
        let e = r
            .read_range(MAX_BLOCK_INPUT as u64..MAX_BLOCK_INPUT as u64 + 1, &mut out)
            .expect_err("flipped byte accepted");
        let s = e.to_string();
        assert!(
            s.contains(&format!("at byte {c1}")) || s.starts_with("truncated"),
            "byte {i}: {s}"
        );
        // The block reader and inflater name the same block.
        let blocks = inflate_in_batches(&bad, 2).expect_err("flipped byte accepted").to_string();
        assert!(
            blocks.contains(&format!("at byte {c1}")) || blocks.starts_with("truncated"),
            "byte {i}: {blocks}"
        );
    }
}

#[test]
fn truncated_and_foreign_files() {
    let original = data(2 * MAX_BLOCK_INPUT, 2);
    let (file, _) = bgzf(&original, CHUNK);
    assert!(BgzfReader::scan(Cursor::new(&file)).unwrap().has_eof_block().unwrap());
    // Cut at a block boundary: every block is fine, only the missing EOF block tells.
    let cut = &file[..file.len() - EOF_BLOCK.len()];
    assert!(!BgzfReader::scan(Cursor::new(cut)).unwrap().has_eof_block().unwrap());
    for len in [1, 17, 18, 100, file.len() - 29] {
        let e = BgzfReader::scan(Cursor::new(&file[..len])).unwrap_err();
        assert!(e.to_string().contains("byte"), "{e}");
        // The block reader reports a cut as the scan does.
        let blocks = inflate_in_batches(&file[..len], 2).unwrap_err();
        assert_eq!(blocks.to_string(), e.to_string(), "cut at {len}");
    }
    let plain_gzip = {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        let mut out = vec![0; 1000];
        let n = c.gzip_compress(b"hello", &mut out).unwrap();
        out.truncate(n);
        out
    };
    let e = BgzfReader::scan(Cursor::new(&plain_gzip)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "BGZF block at byte 0: not a BGZF block (compression method or flags)"
    );
    let e = BgzfReader::scan(Cursor::new(b"not compressed at all".to_vec())).unwrap_err();
    assert!(e.to_string().contains("bad magic"), "{e}");
}
