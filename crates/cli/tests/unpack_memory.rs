//! Issue #9, item 7: unpack and verify bound the frames in flight by bytes, not by count. A
//! file of 24 frames of 16 MiB is verified; with one buffer per pool slot (the old bound)
//! about 24 decoded frames could wait for the hashing thread at once (≈ 400 MB), with the
//! byte budget `max(2 × largest frame, 64 MiB)` a few. Measured: 74 MB with the budget, 170 MB
//! with the budget lifted (`--max-memory 1T` and a 64 GiB budget).
//!
//! This file holds one test on purpose: `RUSAGE_CHILDREN` covers every child of the process.

use std::process::Command;

mod common;

use common::rusage::children_peak_rss;

const FRAME: usize = 16 << 20;
const FRAMES: usize = 24;
const MAX_RSS_BYTES: i64 = 120 << 20;

#[test]
fn verify_of_16_mib_frames_keeps_a_few_in_flight() {
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: ru_maxrss units differ outside Linux");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let packed = dir.path().join("p.zst");
    pack_in_process(&packed);
    let verify = Command::new(env!("CARGO_BIN_EXE_seqflow"))
        .args(["verify", "-t", "2", "--channel-depth", "4"])
        .arg(&packed)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    let peak = children_peak_rss();
    assert!(peak <= MAX_RSS_BYTES, "peak RSS {} MB", peak >> 20);
}

/// Packs compressible data into `path` in this process (so that only `verify` is a child).
fn pack_in_process(path: &std::path::Path) {
    use seqflow_container::{FrameCompressor, SeekableWriter};
    let line: Vec<u8> = (0..1024u32).map(|i| b"ACGT"[(i * 7 % 4) as usize]).collect();
    let chunk = line.repeat(FRAME / line.len());
    let mut writer = SeekableWriter::new(std::fs::File::create(path).unwrap());
    let mut compressor = FrameCompressor::new(1).unwrap();
    let mut frame = Vec::new();
    for _ in 0..FRAMES {
        frame.clear();
        let info = compressor.compress(&chunk, &mut frame).unwrap();
        writer.write_frame(&frame, info).unwrap();
    }
    writer.finish((FRAME * FRAMES) as u64, FRAME as u32).unwrap();
}
