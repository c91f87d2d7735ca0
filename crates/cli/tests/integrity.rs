//! Issue #9, items 5 and 10: what `cat` and `verify` check beyond the frames (the `.gzi` of a
//! BGZF file, the SHA-256 of a whole-range `cat`), and errors that name the file, the line and
//! the cause.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn seqflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqflow"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run seqflow")
}

fn ok(args: &[&str]) -> Vec<u8> {
    let output = seqflow(args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// The one-line error of a run that must fail with exit code 2.
fn error_of(args: &[&str]) -> String {
    let output = seqflow(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    stderr
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Text that compresses but does not repeat exactly.
fn data(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b"ACGT\n"[(state % 5) as usize]
        })
        .collect()
}

fn read_gzi(path: &Path) -> Vec<(u64, u64)> {
    let bytes = std::fs::read(path).unwrap();
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap());
    (0..word(0) as usize).map(|i| (word(8 + 16 * i), word(16 + 16 * i))).collect()
}

fn write_gzi(path: &Path, entries: &[(u64, u64)]) {
    let mut bytes = (entries.len() as u64).to_le_bytes().to_vec();
    for (c, u) in entries {
        bytes.extend(c.to_le_bytes());
        bytes.extend(u.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn an_off_by_one_gzi_is_refused_by_cat_and_verify_naming_the_gzi() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, data(300_000)).unwrap();
    let packed = dir.path().join("p.gz");
    ok(&["pack", path(&input), "--format", "bgzf", "-o", path(&packed)]);
    let gzi = dir.path().join("p.gz.gzi");
    let good = read_gzi(&gzi);
    assert!(good.len() >= 3);
    ok(&["verify", path(&packed)]);
    for (entry, shift) in [((1, 0), 1), ((1, 1), 1), ((2, 1), u64::MAX)] {
        let mut bad = good.clone();
        let ((i, field), delta) = (entry, shift);
        let value = if field == 0 { &mut bad[i].0 } else { &mut bad[i].1 };
        *value = value.wrapping_add(delta);
        write_gzi(&gzi, &bad);
        for args in
            [vec!["cat", path(&packed), "--range", "70000-70010"], vec!["verify", path(&packed)]]
        {
            let error = error_of(&args);
            assert!(error.contains("p.gz.gzi") && error.contains(&format!("entry {i}")), "{error}");
        }
    }
    // A truncated .gzi is named too.
    std::fs::write(&gzi, [1, 0, 0]).unwrap();
    let error = error_of(&["cat", path(&packed), "--range", "0-10"]);
    assert!(error.starts_with(&format!("seqflow: {}", path(&gzi))), "{error}");
}

/// Swaps the first two data frames of a seekable zstd file together with their seek-table
/// entries: every frame and the seek table still check out.
fn swap_first_frames(file: &[u8]) -> Vec<u8> {
    let word = |i: usize| u32::from_le_bytes(file[i..i + 4].try_into().unwrap()) as usize;
    let footer = file.len() - 9;
    let frames = word(footer);
    let entries = footer - 12 * frames;
    let (c0, c1) = (word(entries), word(entries + 12));
    let mut out = Vec::with_capacity(file.len());
    out.extend_from_slice(&file[c0..c0 + c1]);
    out.extend_from_slice(&file[..c0]);
    out.extend_from_slice(&file[c0 + c1..entries]);
    out.extend_from_slice(&file[entries + 12..entries + 24]);
    out.extend_from_slice(&file[entries..entries + 12]);
    out.extend_from_slice(&file[entries + 24..]);
    out
}

#[test]
fn swapped_frames_are_caught_by_every_frame_read_and_by_the_sha256_of_version1() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(64 << 10);
    let input = dir.path().join("in.txt");
    std::fs::write(&input, &original).unwrap();
    let packed = dir.path().join("p.zst");
    ok(&["pack", path(&input), "--chunk-size", "16K", "-o", path(&packed)]);
    let whole = format!("0-{}", original.len());
    assert_eq!(ok(&["cat", path(&packed), "--range", &whole]), original);
    assert_eq!(ok(&["cat", path(&packed), "--range", "0-99999999"]), original);
    // Version 2: each frame read is checked against its BLAKE3 digest, so even a short range
    // inside the swapped frame fails, naming it.
    let swapped = dir.path().join("swapped.zst");
    std::fs::write(&swapped, swap_first_frames(&std::fs::read(&packed).unwrap())).unwrap();
    for range in [&whole[..], "10-20"] {
        let error = error_of(&["cat", path(&swapped), "--range", range]);
        assert!(error.contains("swapped.zst: frame 0 at byte 0: BLAKE3 mismatch"), "{error}");
    }
    // `verify` decodes frames on two workers: the first to fail is reported, and both
    // swapped frames fail (frame 1 now starts where frame 0's bytes end).
    let error = error_of(&["verify", path(&swapped)]);
    let frame1 = format!("frame 1 at byte {}: BLAKE3 mismatch", {
        let file = std::fs::read(&packed).unwrap();
        let footer = file.len() - 9;
        let frames = u32::from_le_bytes(file[footer..footer + 4].try_into().unwrap()) as usize;
        let entry1 = footer - 12 * frames + 12;
        u32::from_le_bytes(file[entry1..entry1 + 4].try_into().unwrap())
    });
    assert!(
        error.contains("frame 0 at byte 0: BLAKE3 mismatch") || error.contains(&frame1),
        "{error}"
    );
    // Version 1 (a file main's seqflow wrote before the format change): only the whole-file
    // SHA-256 tells, so a whole-range `cat` and `verify` compute it.
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/tests/data/version1.fq.zst");
    let v1_swapped = dir.path().join("v1_swapped.zst");
    std::fs::write(&v1_swapped, swap_first_frames(&std::fs::read(v1).unwrap())).unwrap();
    let error = error_of(&["cat", path(&v1_swapped)]);
    assert!(error.contains("v1_swapped.zst") && error.contains("SHA-256"), "{error}");
    let error = error_of(&["verify", path(&v1_swapped)]);
    assert!(error.contains("SHA-256"), "{error}");
}

fn keypair(dir: &Path) -> (PathBuf, PathBuf) {
    let (secret, public) = (dir.join("k.sec"), dir.join("k.pub"));
    ok(&[
        "keygen",
        "--no-passphrase",
        "--secret-key",
        path(&secret),
        "--public-key",
        path(&public),
    ]);
    (secret, public)
}

#[test]
fn crypt4gh_errors_say_what_is_wrong_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = keypair(dir.path());
    let input = dir.path().join("in.txt");
    std::fs::write(&input, data(100_000)).unwrap();
    let packed = dir.path().join("p.c4gh");
    ok(&["pack", path(&input), "--recipient", path(&public), "-o", path(&packed)]);
    let bytes = std::fs::read(&packed).unwrap();

    let mut flipped = bytes.clone();
    flipped[0] ^= 1;
    let flipped_path = dir.path().join("flipped.c4gh");
    std::fs::write(&flipped_path, flipped).unwrap();
    let error = error_of(&["unpack", path(&flipped_path), "--secret-key", path(&secret)]);
    assert!(error.contains("flipped.c4gh: damaged Crypt4GH magic"), "{error}");

    // The first data segment follows the header packets.
    let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
    let mut segment_start = 16;
    for _ in 0..word(12) {
        segment_start += word(segment_start);
    }
    let mut damaged = bytes.clone();
    damaged[segment_start + 40] ^= 1;
    let damaged_path = dir.path().join("seg0.c4gh");
    std::fs::write(&damaged_path, damaged).unwrap();
    for command in ["unpack", "verify"] {
        let error = error_of(&[command, path(&damaged_path), "--secret-key", path(&secret)]);
        assert!(error.contains("seg0.c4gh") && error.contains("segment 0"), "{error}");
    }
}

#[test]
fn unclear_errors_of_the_issue_now_name_file_line_and_cause() {
    let dir = tempfile::tempdir().unwrap();

    // An empty file is empty, not "not a seekable zstd file".
    let empty = dir.path().join("empty.gz");
    std::fs::write(&empty, b"").unwrap();
    let error = error_of(&["unpack", path(&empty)]);
    assert!(error.contains("empty.gz: empty file"), "{error}");

    // A pipe cannot be unpacked: say so instead of "Illegal seek (os error 29)".
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqflow"))
        .args(["unpack", "/dev/stdin", "-c"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(b"(\xb5/\xfd not really");
    let output = child.wait_with_output().unwrap();
    let error = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(error.contains("/dev/stdin: not a seekable file"), "{error}");
    assert!(!error.contains("os error 29"), "{error}");

    // Standard input twice is refused, not reported as an empty second file.
    let error = error_of(&["stats", "-", "-"]);
    assert!(error.contains("standard input"), "{error}");

    // repeats names the line of the bad letter, not the header's.
    let genome = dir.path().join("bad.fa");
    std::fs::write(&genome, b">chr1\nACGTACGT\nACGTACGT\nACGT?CGT\n").unwrap();
    let error = error_of(&["repeats", path(&genome), "-o", path(&dir.path().join("r"))]);
    assert!(error.contains("bad.fa: line 4"), "{error}");
}

#[test]
fn the_memory_the_repeats_error_asks_for_is_enough() {
    let dir = tempfile::tempdir().unwrap();
    let genome = dir.path().join("g.fa");
    let mut text = b">g\n".to_vec();
    text.extend(data(200_000).into_iter().filter(|&b| b != b'\n'));
    text.push(b'\n');
    std::fs::write(&genome, text).unwrap();
    let prefix = dir.path().join("r");
    let error = error_of(&["repeats", path(&genome), "-o", path(&prefix), "--memory", "1K"]);
    let asked = error
        .split("--memory ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no --memory suggestion in: {error}"));
    ok(&["repeats", path(&genome), "-o", path(&prefix), "--memory", asked, "--force", "-q"]);
}

/// Format version 3 (issue #13): a `cat --range` inside a frame longer than 1 MiB decodes the
/// frame only as far as it needs and checks the 1 MiB pieces it returns against their BLAKE3
/// values; a damaged value is one line naming the digest frame's byte and the frame, from
/// `cat --range`, `unpack` and `verify` alike, and nothing is left behind.
#[test]
fn a_damaged_piece_value_is_caught_by_a_range_cat_unpack_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("reads.txt");
    let original = data(9 << 20);
    std::fs::write(&input, &original).unwrap();
    let packed = dir.path().join("reads.txt.zst");
    ok(&["pack", path(&input), "-o", path(&packed), "--chunk-size", "4M"]);
    // Ranges inside frames, across pieces and frames: the original's bytes.
    for (start, end) in [(10, 1034), ((1 << 20) - 5, (1 << 20) + 5), ((4 << 20) - 3, (5 << 20) + 9)]
    {
        let got = ok(&["cat", path(&packed), "--range", &format!("{start}-{end}")]);
        assert!(got == original[start..end], "{start}-{end}");
    }
    let file = std::fs::read(&packed).unwrap();
    let index = seqflow_container::SeekableIndex::read(&mut std::io::Cursor::new(&file)).unwrap();
    let at = index.frames()[1].pieces_at.unwrap() as usize;
    let mut bad = file.clone();
    bad[at + 40] ^= 1;
    let damaged = dir.path().join("damaged.zst");
    std::fs::write(&damaged, &bad).unwrap();
    let range = format!("{}-{}", (4 << 20) + 100, (4 << 20) + 200);
    let want = format!("digest frame at byte {at}: the 4 piece values recorded for frame 1");
    let e = error_of(&["cat", path(&damaged), "--range", &range]);
    assert!(e.contains(&want), "{e}");
    let out = dir.path().join("out.txt");
    let e = error_of(&["unpack", path(&damaged), "-o", path(&out)]);
    assert!(e.contains(&want), "{e}");
    assert!(!out.exists());
    let e = error_of(&["verify", path(&damaged)]);
    assert!(e.contains(&want), "{e}");
    // Through a pipe the values are checked when the digest frame comes, at the end.
    let piped = Command::new(env!("CARGO_BIN_EXE_seqflow"))
        .args(["verify", "-"])
        .stdin(std::fs::File::open(&damaged).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert_eq!(piped.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the 4 piece values recorded for frame 1"), "{stderr}");
    // Frame 0 does not depend on frame 1's values.
    assert!(ok(&["cat", path(&damaged), "--range", "0-100"]) == original[..100]);
}
