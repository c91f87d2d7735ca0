//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;

use seqflow_container::{
    BgzfChunk, BgzfCompressor, BgzfWriter, FrameCompressor, GziIndex, PackMetadata, SeekableWriter,
};

/// Deterministic pseudo-random bytes: FASTQ-ish text mixed with noise.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 97 < 60 { b"ACGT"[(x & 3) as usize] } else { x as u8 }
        })
        .collect()
}

/// Packs `data` into a seekable file with `chunk_size` chunks (the current version, 3).
pub fn pack(data: &[u8], chunk_size: usize) -> Vec<u8> {
    frames(data, chunk_size).finish(data.len() as u64, chunk_size as u32).unwrap()
}

/// Packs `data` as version 1 did: no digest frame, the (stand-in) SHA-256 in the metadata.
pub fn pack_version1(data: &[u8], chunk_size: usize) -> Vec<u8> {
    let meta = PackMetadata::version1(data.len() as u64, fake_sha(data), chunk_size as u32);
    frames(data, chunk_size).finish_version1(&meta).unwrap()
}

/// A writer holding the frames of `data` cut into `chunk_size` chunks.
fn frames(data: &[u8], chunk_size: usize) -> SeekableWriter<Vec<u8>> {
    let mut c = FrameCompressor::new(3).unwrap();
    let mut w = SeekableWriter::new(Vec::new());
    let mut frame = Vec::new();
    for chunk in data.chunks(chunk_size) {
        let info = c.compress(chunk, &mut frame).unwrap();
        w.write_frame(&frame, info).unwrap();
    }
    w
}

/// A stand-in for the SHA-256 (the container stores whatever the caller computed).
pub fn fake_sha(data: &[u8]) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&(data.len() as u64).to_le_bytes());
    s[8..16].copy_from_slice(&xxhash_rust::xxh64::xxh64(data, 0).to_le_bytes());
    s
}

/// Compresses `data` to BGZF with `chunk_size` chunks; returns the file and its index.
pub fn bgzf(data: &[u8], chunk_size: usize) -> (Vec<u8>, GziIndex) {
    let mut c = BgzfCompressor::new(6).unwrap();
    let mut w = BgzfWriter::new(Vec::new());
    let mut blocks = BgzfChunk::new();
    for chunk in data.chunks(chunk_size) {
        c.compress(chunk, &mut blocks).unwrap();
        w.write_chunk(&blocks).unwrap();
    }
    w.finish().unwrap()
}

/// Whether the stock tool `name` can be run; panics if it is missing and
/// `SEQFLOW_REQUIRE_TOOLS=1`, otherwise prints SKIPPED.
pub fn have_tool(name: &str, test: &str) -> bool {
    let found = std::process::Command::new(name).arg("--version").output().is_ok();
    if !found {
        if std::env::var("SEQFLOW_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{test}: `{name}` is required (SEQFLOW_REQUIRE_TOOLS=1) but not found");
        }
        // Written to the real stderr, not through eprintln!, so that libtest's output capture
        // does not hide it when the test passes.
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: `{name}` not found");
    }
    found
}
