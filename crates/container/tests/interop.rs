//! Stock tools read what we write: `zstd -d` (Debian package zstd) and `bgzip` (tabix).
//!
//! Each test prints SKIPPED when its tool is missing, and fails instead if
//! `SEQFLOW_REQUIRE_TOOLS=1` (CI sets it).

mod common;

use std::process::Command;

use common::{bgzf, data, have_tool, pack, pack_version1};
use seqflow_container::{BgzfChunk, BgzfCompressor, BgzfWriter, GziIndex};

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("tool runs");
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Packs data with a chunk size into a seekable file.
type Packer = fn(&[u8], usize) -> Vec<u8>;

#[test]
fn stock_zstd_decompresses_seekable_files() {
    if !have_tool("zstd", "stock_zstd_decompresses_seekable_files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let chunk = 64 * 1024;
    let lens = [0, 1, chunk - 1, chunk, chunk + 1, 10 * chunk + 12_345];
    // Version 2 (digest frame, metadata, seek table after the data) and version 1.
    let versions: [(&str, Packer); 2] = [("v2", pack), ("v1", pack_version1)];
    for ((version, pack), len) in versions.into_iter().flat_map(|v| lens.map(|len| (v, len))) {
        let original = data(len, len as u64);
        let path = dir.path().join(format!("f{len}.{version}.zst"));
        std::fs::write(&path, pack(&original, chunk)).unwrap();
        let got = run(Command::new("zstd").args(["-d", "-c", "-q"]).arg(&path));
        assert_eq!(got.len(), original.len(), "length, {len} bytes");
        assert!(got == original, "content, {len} bytes");
        run(Command::new("zstd").args(["-t", "-q"]).arg(&path));
    }
}

#[test]
fn bgzip_decompresses_our_bgzf_and_uses_our_gzi() {
    if !have_tool("bgzip", "bgzip_decompresses_our_bgzf_and_uses_our_gzi") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let original = data(1_000_000, 42);
    let (file, gzi) = bgzf(&original, 200_000);
    let path = dir.path().join("f.gz");
    std::fs::write(&path, &file).unwrap();
    let mut idx = Vec::new();
    gzi.write_to(&mut idx).unwrap();
    std::fs::write(dir.path().join("f.gz.gzi"), &idx).unwrap();

    let got = run(Command::new("bgzip").args(["-d", "-c"]).arg(&path));
    assert!(got == original, "bgzip -d output differs");

    for (offset, size) in [(0usize, 10usize), (65_279, 3), (300_000, 200_000), (999_990, 10)] {
        let got = run(Command::new("bgzip")
            .args(["-d", "-c", "-b", &offset.to_string(), "-s", &size.to_string()])
            .arg(&path));
        assert_eq!(got, &original[offset..offset + size], "range {offset}+{size}");
    }

    // bgzip's own index of our file is the same as ours.
    let copy = dir.path().join("g.gz");
    std::fs::write(&copy, &file).unwrap();
    run(Command::new("bgzip").arg("-r").arg(&copy));
    let theirs = std::fs::read(dir.path().join("g.gz.gzi")).unwrap();
    assert_eq!(GziIndex::read(&theirs[..]).unwrap(), gzi);
    assert_eq!(theirs, idx);
}

#[test]
fn bgzip_reads_empty_and_tiny_files() {
    if !have_tool("bgzip", "bgzip_reads_empty_and_tiny_files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for len in [0usize, 1, 65_280, 65_281] {
        let original = data(len, 7);
        let mut c = BgzfCompressor::new(1).unwrap();
        let mut w = BgzfWriter::new(Vec::new());
        let mut blocks = BgzfChunk::new();
        c.compress(&original, &mut blocks).unwrap();
        w.write_chunk(&blocks).unwrap();
        let (file, _) = w.finish().unwrap();
        let path = dir.path().join(format!("t{len}.gz"));
        std::fs::write(&path, &file).unwrap();
        let got = run(Command::new("bgzip").args(["-d", "-c"]).arg(&path));
        assert!(got == original, "{len} bytes");
    }
}

#[test]
fn we_read_files_made_by_bgzip() {
    if !have_tool("bgzip", "we_read_files_made_by_bgzip") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let original = data(500_000, 9);
    let path = dir.path().join("b");
    std::fs::write(&path, &original).unwrap();
    run(Command::new("bgzip").args(["-i", "-k"]).arg(&path));
    let file = std::fs::read(dir.path().join("b.gz")).unwrap();
    let gzi = GziIndex::read(&std::fs::read(dir.path().join("b.gz.gzi")).unwrap()[..]).unwrap();
    let mut r = seqflow_container::BgzfReader::new(std::io::Cursor::new(&file), gzi).unwrap();
    let mut out = Vec::new();
    r.read_range(123_456..234_567, &mut out).unwrap();
    assert_eq!(out, &original[123_456..234_567]);
}
