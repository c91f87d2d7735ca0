//! `seqflow unpack` and `verify` of BGZF files, inflated in parallel: the same bytes on any
//! thread count, files bgzip wrote, and one-line errors naming the block for each kind of
//! damage (the first in file order, whatever the thread count).

use std::path::Path;
use std::process::Command as Process;

mod common;

use common::bytes::partly_compressible as data;
use common::cli::{assert_one_line_error, path, run, run_ok};

/// Byte offsets of the BGZF blocks of `file` (from each header's BSIZE).
fn block_offsets(file: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 0;
    while at < file.len() {
        offsets.push(at);
        at += usize::from(u16::from_le_bytes([file[at + 16], file[at + 17]])) + 1;
    }
    offsets
}

/// Packs `original` as BGZF into `dir/name`; returns the packed bytes.
fn pack_bgzf(dir: &Path, name: &str, original: &[u8]) -> Vec<u8> {
    let input = dir.join(format!("{name}.orig"));
    std::fs::write(&input, original).unwrap();
    let packed = dir.join(name);
    run_ok(&["pack", path(&input), "-o", path(&packed), "--container", "bgzf", "-t", "2"]);
    std::fs::remove_file(dir.join(format!("{name}.gzi"))).unwrap();
    std::fs::read(packed).unwrap()
}

/// `unpack -c` on `threads` threads.
fn unpack(file: &Path, threads: &str) -> std::process::Output {
    run(&["unpack", path(file), "-c", "-t", threads])
}

#[test]
fn output_is_byte_identical_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    // About 3 MB: 50 blocks, several batches in flight.
    let original = data(3_000_000, 5);
    pack_bgzf(dir.path(), "p.gz", &original);
    let file = dir.path().join("p.gz");
    for threads in ["1", "2", "3"] {
        let out = unpack(&file, threads);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout == original, "-t {threads}");
    }
    let restored = dir.path().join("restored");
    run_ok(&["unpack", path(&file), "-o", path(&restored), "-t", "2"]);
    assert!(std::fs::read(&restored).unwrap() == original);
    assert_eq!(
        run_ok(&["verify", path(&file), "-t", "2"]),
        format!("{}: OK\n", path(&file)).as_bytes()
    );
}

fn bgzip() -> bool {
    let found = Process::new("bgzip").arg("--version").output().is_ok();
    if !found {
        assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "bgzip is required");
        eprintln!("SKIPPED: bgzip not found");
    }
    found
}

#[test]
fn files_bgzip_wrote_unpack_in_parallel() {
    if !bgzip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let original = data(2_500_000, 9);
    let input = dir.path().join("reads.fq");
    std::fs::write(&input, &original).unwrap();
    for (name, extra) in [("one.gz", &[][..]), ("threads.gz", &["-@", "2"][..])] {
        let out = Process::new("bgzip").args(["-c"]).args(extra).arg(&input).output().unwrap();
        assert!(out.status.success());
        let file = dir.path().join(name);
        std::fs::write(&file, &out.stdout).unwrap();
        for threads in ["1", "2"] {
            let out = unpack(&file, threads);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(out.stdout == original, "{name} -t {threads}");
            assert!(
                out.stderr.is_empty(),
                "BGZF needs no note: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        run_ok(&["verify", path(&file)]);
    }
}

#[test]
fn a_bad_crc_names_the_first_bad_block_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(3_000_000, 11);
    let bytes = pack_bgzf(dir.path(), "p.gz", &original);
    let offsets = block_offsets(&bytes);
    assert!(offsets.len() > 40);
    // Two damaged blocks far apart (different batches): the first is reported.
    let mut bad = bytes.clone();
    for &block in [offsets[20], offsets[37]].iter() {
        let crc = offsets[offsets.iter().position(|&o| o == block).unwrap() + 1] - 8;
        bad[crc] ^= 0x01;
    }
    let file = dir.path().join("crc.gz");
    std::fs::write(&file, &bad).unwrap();
    let expected = format!("BGZF block at byte {}: CRC32 mismatch", offsets[20]);
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = unpack(&file, threads);
        assert_one_line_error(&out, &[path(&file), &expected]);
        outputs.push(out.stdout);
        let out = run(&["verify", path(&file), "-t", threads]);
        assert_one_line_error(&out, &[path(&file), &expected]);
    }
    // What was written before the fault is the same too: never a block past it.
    assert_eq!(outputs[0], outputs[1]);
    assert!(outputs[0].len() <= 20 * 0xff00 && original.starts_with(&outputs[0]));
    let restored = dir.path().join("restored");
    let out = run(&["unpack", path(&file), "-o", path(&restored)]);
    assert_one_line_error(&out, &[&expected]);
    assert!(!restored.exists(), "a partial output was left behind");
}

#[test]
fn damaged_deflate_data_and_cut_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(1_000_000, 12);
    let bytes = pack_bgzf(dir.path(), "p.gz", &original);
    let offsets = block_offsets(&bytes);
    let write = |name: &str, data: &[u8]| {
        let file = dir.path().join(name);
        std::fs::write(&file, data).unwrap();
        file
    };
    // A flipped byte inside block 3's deflate data.
    let mut bad = bytes.clone();
    bad[offsets[3] + 100] ^= 0x55;
    let file = write("deflate.gz", &bad);
    for threads in ["1", "2"] {
        assert_one_line_error(
            &unpack(&file, threads),
            &[&format!("BGZF block at byte {}", offsets[3])],
        );
    }
    // Cut inside block 5: as before the parallel reader, a truncated file, named by offset.
    let cut = offsets[5] + 1000;
    let file = write("cut.gz", &bytes[..cut]);
    let block_end = offsets[6];
    let expected =
        format!("truncated file: needed 4 bytes at byte {}, file has {cut}", block_end - 4);
    for threads in ["1", "2"] {
        let out = unpack(&file, threads);
        assert_one_line_error(&out, &[path(&file), &expected]);
        assert!(out.stdout.is_empty(), "nothing is written before the cut is found");
    }
    // Cut at a block boundary: only the missing EOF block tells.
    let file = write("boundary.gz", &bytes[..offsets[5]]);
    for threads in ["1", "2"] {
        let out = unpack(&file, threads);
        assert_one_line_error(&out, &[path(&file), "BGZF file has no EOF block (truncated?)"]);
        assert!(out.stdout.is_empty());
    }
}
