//! `seqflow pack` / `unpack` / `cat` / `verify` through the real binary: byte-exact round
//! trips, identical output for any thread count, stock-tool and Crypt4GH interoperability,
//! and clear errors for damaged input.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

mod common;

use common::bytes::partly_compressible as data;
use common::cli::{path, run_ok, seqflow};

const CHUNK: usize = 4096;

#[test]
fn round_trip_is_byte_exact_for_edge_sizes_formats_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 10 * CHUNK + 17] {
        let original = data(len, len as u64);
        let input = dir.path().join(format!("in{len}"));
        std::fs::write(&input, &original).unwrap();
        for format in ["zstd", "bgzf"] {
            let mut reference: Option<Vec<u8>> = None;
            for threads in ["1", "2", "4"] {
                for depth in ["1", "4"] {
                    let packed = dir.path().join(format!("p{len}-{format}-{threads}-{depth}"));
                    run_ok(
                        &["pack", path(&input), "-o", path(&packed), "--format", format]
                            .into_iter()
                            .chain(["--chunk-size", "4K", "-t", threads, "--channel-depth", depth])
                            .collect::<Vec<_>>(),
                    );
                    let bytes = std::fs::read(&packed).unwrap();
                    match &reference {
                        None => reference = Some(bytes),
                        Some(r) => assert!(r == &bytes, "{format} output differs at -t {threads}"),
                    }
                    let restored = dir.path().join(format!("r{len}-{format}-{threads}-{depth}"));
                    run_ok(&["unpack", path(&packed), "-o", path(&restored), "-t", threads]);
                    assert!(std::fs::read(&restored).unwrap() == original, "{len} {format}");
                }
            }
        }
    }
}

/// Sizes of the data frames of a seekable file.
fn frame_sizes(packed: &Path) -> Vec<u32> {
    let mut file = std::fs::File::open(packed).unwrap();
    let index = seqflow_container::SeekableIndex::read(&mut file).unwrap();
    index
        .frames()
        .iter()
        .map(|frame| frame.decompressed_range())
        .map(|r| (r.end - r.start) as u32)
        .collect()
}

#[test]
fn default_chunks_grow_only_where_data_repeats_further_apart_than_a_frame() {
    const MIB: usize = 1 << 20;
    let dir = tempfile::tempdir().unwrap();
    let noise = common::bytes::incompressible(6 * MIB, 5);
    // 300 KB recurring: every 1 MiB frame would code it from scratch once.
    let recurring: Vec<u8> = noise[..300_000].iter().cycle().take(40 * MIB).copied().collect();
    let cases = [
        ("noise", &noise, vec![MIB as u32; 6]),
        ("recurring", &recurring, vec![16 * MIB as u32; 3]),
    ];
    for (name, original, mut expected) in cases {
        let input = dir.path().join(name);
        std::fs::write(&input, original).unwrap();
        let packed = dir.path().join(format!("{name}.zst"));
        run_ok(&["pack", path(&input), "-o", path(&packed)]);
        if name == "recurring" {
            expected[2] = 8 * MIB as u32;
        }
        assert_eq!(frame_sizes(&packed), expected, "{name}");
        let again = dir.path().join(format!("{name}-t1.zst"));
        run_ok(&["pack", path(&input), "-o", path(&again), "-t", "1"]);
        assert!(std::fs::read(&packed).unwrap() == std::fs::read(&again).unwrap(), "{name} -t 1");
        let restored = run_ok(&["cat", path(&packed)]);
        assert!(&restored == original, "{name}");
    }
    // The choice stays within --max-memory: the bound at 16 MiB chunks is above 256M.
    let input = dir.path().join("recurring");
    let packed = dir.path().join("capped.zst");
    run_ok(&["pack", path(&input), "-o", path(&packed), "--max-memory", "256M"]);
    let sizes = frame_sizes(&packed);
    assert!(sizes[0] < 16 * MIB as u32 && sizes[0] > MIB as u32, "{sizes:?}");
}

fn tool(name: &str) -> bool {
    let found = Process::new(name).arg("--version").output().is_ok();
    if !found {
        assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "{name} is required");
        eprintln!("SKIPPED: {name} not found");
    }
    found
}

#[test]
fn stock_zstd_and_bgzip_read_what_we_write() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(300_000, 7);
    let input = dir.path().join("in.bin");
    std::fs::write(&input, &original).unwrap();
    let zst = dir.path().join("in.bin.zst");
    let gz = dir.path().join("in.bin.gz");
    run_ok(&["pack", path(&input), "-o", path(&zst), "--chunk-size", "64K"]);
    run_ok(&["pack", path(&input), "-o", path(&gz), "--format", "bgzf"]);
    assert!(Path::new(&format!("{}.gzi", path(&gz))).exists());
    if tool("zstd") {
        let out = Process::new("zstd").args(["-d", "-c", path(&zst)]).output().unwrap();
        assert!(out.status.success() && out.stdout == original);
    }
    if tool("bgzip") {
        let out = Process::new("bgzip").args(["-d", "-c", path(&gz)]).output().unwrap();
        assert!(out.status.success() && out.stdout == original);
        let out = Process::new("bgzip")
            .args(["-d", "-c", "-b", "150000", "-s", "1000", path(&gz)])
            .output()
            .unwrap();
        assert_eq!(out.stdout, &original[150_000..151_000]);
    }
}

#[test]
fn samtools_faidx_reads_a_bgzf_packed_fasta() {
    if !tool("samtools") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("g.fa");
    run_ok(
        &["simulate", "fasta", "--seed", "3", "--records", "3", "--min-length", "5000"]
            .into_iter()
            .chain(["--max-length", "90000", "-o", path(&fasta)])
            .collect::<Vec<_>>(),
    );
    let packed = dir.path().join("g.fa.gz");
    run_ok(&["pack", path(&fasta), "--format", "bgzf", "-o", path(&packed), "--chunk-size", "64K"]);
    let faidx = |file: &Path, region: &str| {
        let out = Process::new("samtools").args(["faidx", path(file), region]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    for region in ["chr1:1-70", "chr2:100-160", "chr3:4900-5100"] {
        let from_packed = faidx(&packed, region);
        assert!(from_packed.len() > 60, "{region}");
        assert_eq!(from_packed, faidx(&fasta, region), "{region}");
    }
}

#[test]
fn cat_range_decodes_the_right_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(200_000, 3);
    let input = dir.path().join("in.bin");
    std::fs::write(&input, &original).unwrap();
    for format in ["zstd", "bgzf"] {
        let packed = dir.path().join(format!("p.{format}"));
        run_ok(&[
            "pack",
            path(&input),
            "-o",
            path(&packed),
            "--format",
            format,
            "--chunk-size",
            "8K",
        ]);
        for (start, end) in [(0, 1), (8191, 8193), (100_000, 150_000), (199_990, 250_000)] {
            let range = format!("{start}-{end}");
            let got = run_ok(&["cat", path(&packed), "--range", &range]);
            assert_eq!(got, &original[start..end.min(original.len())], "{format} {range}");
        }
    }
}

#[test]
fn standard_streams_work() {
    let original = data(50_000, 9);
    let packed = seqflow()
        .args(["pack", "-", "--chunk-size", "4K"])
        .write_stdin(original.clone())
        .output()
        .unwrap();
    assert!(packed.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.zst");
    std::fs::write(&file, &packed.stdout).unwrap();
    assert_eq!(run_ok(&["unpack", path(&file), "-c"]), original);
}

fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (secret, public) = (dir.join(format!("{name}.sec")), dir.join(format!("{name}.pub")));
    run_ok(&[
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
fn encrypted_packs_round_trip_and_random_access_works() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(500_000, 11);
    let input = dir.path().join("in.bin");
    std::fs::write(&input, &original).unwrap();
    let (alice_sec, alice_pub) = keypair(dir.path(), "alice");
    let (bob_sec, bob_pub) = keypair(dir.path(), "bob");
    let (eve_sec, _) = keypair(dir.path(), "eve");
    let packed = dir.path().join("p.c4gh");
    run_ok(
        &["pack", path(&input), "-o", path(&packed), "--chunk-size", "32K"]
            .into_iter()
            .chain(["--recipient", path(&alice_pub), "--recipient", path(&bob_pub)])
            .collect::<Vec<_>>(),
    );
    for secret in [&alice_sec, &bob_sec] {
        let restored = run_ok(&["unpack", path(&packed), "-c", "--secret-key", path(secret)]);
        assert!(restored == original);
        let got = run_ok(&[
            "cat",
            path(&packed),
            "--secret-key",
            path(secret),
            "--range",
            "300000-300100",
        ]);
        assert_eq!(got, &original[300_000..300_100]);
    }
    let out = seqflow()
        .args(["unpack", path(&packed), "-c", "--secret-key", path(&eve_sec)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no header packet could be decrypted"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn passphrase_protected_keys_need_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = (dir.path().join("k.sec"), dir.path().join("k.pub"));
    let keygen = ["keygen", "--secret-key", path(&secret), "--public-key", path(&public)];
    // No terminal and no passphrase: refuse rather than silently write an unprotected key.
    let out = seqflow().args(keygen).env_remove("SEQFLOW_PASSPHRASE").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-passphrase"));
    seqflow().args(keygen).env("SEQFLOW_PASSPHRASE", "correct horse").assert().success();
    let input = dir.path().join("in.bin");
    std::fs::write(&input, data(1000, 1)).unwrap();
    let packed = dir.path().join("p.c4gh");
    run_ok(&["pack", path(&input), "-o", path(&packed), "--recipient", path(&public)]);
    let unpack = ["unpack", path(&packed), "-c", "--secret-key", path(&secret)];
    let out = seqflow().args(unpack).env_remove("SEQFLOW_PASSPHRASE").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("set SEQFLOW_PASSPHRASE"));
    let out = seqflow().args(unpack).env("SEQFLOW_PASSPHRASE", "wrong").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = seqflow().args(unpack).env("SEQFLOW_PASSPHRASE", "correct horse").output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, data(1000, 1));
}

#[test]
fn python_crypt4gh_decrypts_our_packs() {
    let has_crypt4gh = Process::new("python3")
        .args(["-c", "import crypt4gh"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_crypt4gh {
        assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "crypt4gh is required");
        eprintln!("SKIPPED: python crypt4gh package not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let original = data(150_000, 5);
    let input = dir.path().join("in.bin");
    std::fs::write(&input, &original).unwrap();
    let (secret, public) = keypair(dir.path(), "k");
    let packed = dir.path().join("p.c4gh");
    run_ok(&["pack", path(&input), "-o", path(&packed), "--recipient", path(&public)]);
    let decrypted = Process::new("python3")
        .args(["-m", "crypt4gh", "decrypt", "--sk", path(&secret)])
        .stdin(std::fs::File::open(&packed).unwrap())
        .output()
        .unwrap();
    assert!(decrypted.status.success(), "{}", String::from_utf8_lossy(&decrypted.stderr));
    let container = dir.path().join("p.zst");
    std::fs::write(&container, &decrypted.stdout).unwrap();
    assert_eq!(run_ok(&["unpack", path(&container), "-c"]), original);
}

/// Runs `unpack` and `verify` on a damaged file: both must fail with one line naming the
/// problem, and unpack must leave no output file behind.
fn assert_rejected(packed: &Path, expected: &str) {
    let out_path = packed.with_extension("restored");
    let unpack = ["unpack", path(packed), "-o", path(&out_path)];
    for args in [&unpack[..], &["verify", path(packed)]] {
        let command = args[0];
        let out = seqflow().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command} {}", packed.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{command}: expected '{expected}' in: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out_path.exists(), "a partial output was left behind");
    }
}

#[test]
fn damaged_packs_are_rejected_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(100_000, 13);
    let input = dir.path().join("in.bin");
    std::fs::write(&input, &original).unwrap();
    let packed = dir.path().join("p.zst");
    run_ok(&["pack", path(&input), "-o", path(&packed), "--chunk-size", "8K"]);
    let bytes = std::fs::read(&packed).unwrap();
    let write = |name: &str, data: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let mut flipped = bytes.clone();
    flipped[2000] ^= 0x40;
    assert_rejected(&write("flipped.zst", &flipped), "frame 0 at byte 0");
    // Version 2's new bytes: a digest (frame 3's), the digest frame's header, the root in the
    // metadata. 13 data frames of 8 KiB: the table lists 15 frames.
    let table = 8 + 15 * 12 + 9;
    let metadata = bytes.len() - table - 76;
    let digests = metadata - 8 - 13 * 32;
    for (name, at) in [("digest.zst", digests + 8 + 3 * 32 + 7), ("header.zst", digests + 5)] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        assert_rejected(&write(name, &bad), &format!("digest frame at byte {digests}"));
    }
    let mut bad = bytes.clone();
    bad[metadata + 8 + 40] ^= 0x01;
    assert_rejected(&write("root.zst", &bad), &format!("metadata frame at byte {metadata}"));
    assert_rejected(&write("truncated.zst", &bytes[..bytes.len() - 5]), "truncated.zst");
    let table_start = bytes.len() - 200; // inside the seek table: its magic or sizes break
    assert_rejected(&write("no_table.zst", &bytes[..table_start]), "no_table.zst");
    assert_rejected(&write("text.zst", b"hello, this is not a packed file\n"), "text.zst");
    let out = seqflow().args(["unpack", path(&packed), "-o", path(&input)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&input).unwrap(), original);
}

/// True when Python has the `pyzstd` package; otherwise SKIPPED (or a failure under
/// SEQFLOW_REQUIRE_TOOLS=1, as CI installs it).
fn pyzstd() -> bool {
    let found = Process::new("python3")
        .args(["-c", "import pyzstd"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "pyzstd is required");
        eprintln!("SKIPPED: Python package pyzstd not found");
    }
    found
}

/// Runs seqflow with `stdin` as standard input.
fn piped(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Process::new(common::cli::binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Unpack, verify, cat (a range and the whole) and the same through a pipe all restore
/// `original` from `file`, and stderr says what could not be checked.
fn reads_foreign(dir: &Path, file: &Path, original: &[u8], note: &str) {
    let restored = dir.join("restored");
    let out = seqflow().args(["unpack", path(file), "-f", "-o", path(&restored)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", file.display());
    assert!(std::fs::read(&restored).unwrap() == original, "{}", file.display());
    assert!(stderr.contains(note) && stderr.lines().count() == 1, "{stderr}");
    let out = seqflow().args(["verify", path(file)]).output().unwrap();
    assert!(out.status.success() && out.stdout.ends_with(b": OK\n"));
    let out = seqflow().args(["cat", path(file), "--range", "1000-2000"]).output().unwrap();
    assert!(out.status.success() && out.stdout == original[1000..2000]);
    let bytes = std::fs::read(file).unwrap();
    for args in [&["unpack", "-"][..], &["cat", "-"], &["unpack", "-", "-c", "-t", "1"]] {
        let out = piped(args, &bytes);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout == original, "{args:?} {}", file.display());
    }
    let out = piped(&["verify", "-", "-q"], &bytes);
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn files_of_other_writers_unpack_verify_and_cat() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(700_000, 21);
    let input = dir.path().join("orig");
    std::fs::write(&input, &original).unwrap();
    if pyzstd() {
        let file = dir.path().join("py.zst");
        let script = "import sys, pyzstd\n\
            with pyzstd.SeekableZstdFile(sys.argv[2], 'w', max_frame_content_size=65536) as f:\n\
            \x20   f.write(open(sys.argv[1], 'rb').read())\n";
        let status = Process::new("python3")
            .args(["-c", script, path(&input), path(&file)])
            .status()
            .unwrap();
        assert!(status.success());
        reads_foreign(dir.path(), &file, &original, "not written by seqflow");
        // Nothing in it has a checksum (a flipped literal byte would go unnoticed, as with
        // `zstd -d`), but a cut file is still refused.
        let mut bad = std::fs::read(&file).unwrap();
        bad.truncate(bad.len() / 2);
        let damaged = dir.path().join("bad.zst");
        std::fs::write(&damaged, &bad).unwrap();
        let out = seqflow().args(["verify", path(&damaged)]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    }
    if tool("zstd") {
        // Stock zstd: one frame per MiB block with -B, and two files concatenated.
        let big = data(3 << 20, 22);
        let big_input = dir.path().join("big");
        std::fs::write(&big_input, &big).unwrap();
        let file = dir.path().join("blocks.zst");
        let status = Process::new("zstd")
            .args(["-q", "-f", "-B1M", path(&big_input), "-o", path(&file)])
            .status()
            .unwrap();
        assert!(status.success());
        reads_foreign(dir.path(), &file, &big, "plain zstd");
        let one = dir.path().join("one.zst");
        let status = Process::new("zstd")
            .args(["-q", "-f", path(&input), "-o", path(&one)])
            .status()
            .unwrap();
        assert!(status.success());
        let two = dir.path().join("two.zst");
        let mut bytes = std::fs::read(&one).unwrap();
        bytes.extend_from_slice(&std::fs::read(&one).unwrap());
        std::fs::write(&two, &bytes).unwrap();
        reads_foreign(dir.path(), &two, &[&original[..], &original[..]].concat(), "2 frame(s)");
    }
    if tool("gzip") {
        let gz = Process::new("gzip").args(["-c", path(&input)]).output().unwrap().stdout;
        let file = dir.path().join("two.gz");
        std::fs::write(&file, [&gz[..], &gz[..]].concat()).unwrap();
        reads_foreign(dir.path(), &file, &[&original[..], &original[..]].concat(), "gzip");
        let mut bad = gz.clone();
        let at = bad.len() - 6; // inside the CRC-32
        bad[at] ^= 1;
        let out = piped(&["unpack", "-"], &bad);
        assert_eq!(out.status.code(), Some(2));
    }
}

#[test]
fn pipes_check_the_seek_table_and_metadata_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(10 * CHUNK + 5, 23);
    let input = dir.path().join("in");
    std::fs::write(&input, &original).unwrap();
    let packed = dir.path().join("in.zst");
    run_ok(&["pack", path(&input), "-o", path(&packed), "--chunk-size", "4K"]);
    let bytes = std::fs::read(&packed).unwrap();
    let out = piped(&["unpack", "-"], &bytes);
    assert!(out.status.success() && out.stdout == original && out.stderr.is_empty());
    let out = piped(&["verify", "-"], &bytes);
    assert!(out.status.success() && out.stdout == b"-: OK\n");
    // A flipped byte in a frame, in the seek table, in the metadata; a truncation.
    let mut faults = Vec::new();
    // 11 data frames: the seek table lists 13 (with the digest and metadata frames); before
    // it come the metadata frame (76 bytes) and the digest frame (8 + 11 × 32 bytes).
    let table = 8 + 13 * 12 + 9;
    let (metadata, digests) = (bytes.len() - table - 76, bytes.len() - table - 76 - 8 - 11 * 32);
    for at in [100, bytes.len() - 20, metadata + 40, digests + 3, digests + 8 + 5 * 32] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        faults.push(bad);
    }
    faults.push(bytes[..bytes.len() / 2].to_vec());
    faults.push(bytes[..bytes.len() - 3].to_vec());
    for (i, bad) in faults.iter().enumerate() {
        for command in ["unpack", "verify"] {
            let out = piped(&[command, "-"], bad);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "fault {i} {command}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains("byte"), "{stderr}");
        }
    }
}

#[test]
fn simulated_data_kinds_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    for (i, kind) in [
        &["--binned-qualities"][..],
        &["--amplicons", "20", "--error-rate", "0.003"],
        &["--quality-period", "100"],
    ]
    .iter()
    .enumerate()
    {
        let fastq = dir.path().join(format!("k{i}.fq"));
        run_ok(&[&["simulate", "fastq", "--reads", "2000", "-o", path(&fastq)][..], kind].concat());
        let packed = dir.path().join(format!("k{i}.zst"));
        run_ok(&["pack", path(&fastq), "-o", path(&packed), "--chunk-size", "64K"]);
        let restored = run_ok(&["unpack", path(&packed), "-c"]);
        assert!(restored == std::fs::read(&fastq).unwrap(), "{kind:?}");
    }
}

/// The checked-in files of format version 1 (written by main's seqflow before version 2):
/// unpack, verify and cat read them from a file and from a pipe, checking their SHA-256.
#[test]
fn files_of_format_version1_still_unpack_verify_and_cat() {
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/tests/data");
    let original = std::fs::read(data_dir.join("version1.fq")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, original) in [("version1.fq.zst", &original[..]), ("version1_empty.zst", &[])] {
        let packed = data_dir.join(name);
        let restored = dir.path().join(name).with_extension("out");
        run_ok(&["unpack", path(&packed), "-o", path(&restored)]);
        assert!(std::fs::read(&restored).unwrap() == original, "{name}");
        assert_eq!(
            run_ok(&["verify", path(&packed)]),
            format!("{}: OK\n", path(&packed)).as_bytes()
        );
        assert!(run_ok(&["cat", path(&packed)]) == original, "{name}");
        let bytes = std::fs::read(&packed).unwrap();
        let out = piped(&["unpack", "-"], &bytes);
        assert!(out.status.success() && out.stdout == original, "{name} through a pipe");
    }
}

/// The checked-in file of format version 2 (written by main's seqflow before version 3, with
/// a 2 MiB frame, which version 2 records no piece values for): unpack, verify and cat, whole
/// and in part, from a file and from a pipe.
#[test]
fn files_of_format_version2_still_unpack_verify_and_cat() {
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/tests/data");
    // The original: version1.fq repeated to 2,621,447 bytes (`--chunk-size 2M`).
    let unit = std::fs::read(data_dir.join("version1.fq")).unwrap();
    let original: Vec<u8> = unit.iter().copied().cycle().take(2_621_447).collect();
    let packed = data_dir.join("version2.fq.zst");
    let dir = tempfile::tempdir().unwrap();
    let restored = dir.path().join("version2.fq");
    run_ok(&["unpack", path(&packed), "-o", path(&restored)]);
    assert!(std::fs::read(&restored).unwrap() == original);
    assert_eq!(run_ok(&["verify", path(&packed)]), format!("{}: OK\n", path(&packed)).as_bytes());
    assert!(run_ok(&["cat", path(&packed)]) == original);
    let part = run_ok(&["cat", path(&packed), "--range", "1048000-1049000"]);
    assert!(part == original[1_048_000..1_049_000]);
    let out = piped(&["unpack", "-"], &std::fs::read(&packed).unwrap());
    assert!(out.status.success() && out.stdout == original, "through a pipe");
}

/// `verify --sha256` prints what `sha256sum` prints for the original, for both format
/// versions, BGZF and a pipe; the file name is the original's (suffixes stripped).
#[test]
fn verify_sha256_prints_what_sha256sum_prints_for_the_original() {
    use sha2::{Digest, Sha256};
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let dir = tempfile::tempdir().unwrap();
    let original = data(50_000, 29);
    let input = dir.path().join("reads.fq");
    std::fs::write(&input, &original).unwrap();
    let want = hex(&Sha256::digest(&original));
    for format in ["zstd", "bgzf"] {
        run_ok(&["pack", path(&input), "--format", format, "--chunk-size", "8K", "-f"]);
        let packed = dir.path().join(if format == "zstd" { "reads.fq.zst" } else { "reads.fq.gz" });
        let line = format!("{want}  {}\n", path(&input));
        assert_eq!(
            String::from_utf8(run_ok(&["verify", "--sha256", path(&packed)])).unwrap(),
            line
        );
        let out = piped(&["verify", "--sha256", "-"], &std::fs::read(&packed).unwrap());
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{want}  -\n"), "{format} pipe");
    }
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/tests/data");
    let v1 = std::fs::read(data_dir.join("version1.fq")).unwrap();
    let line =
        String::from_utf8(run_ok(&["verify", "--sha256", path(&data_dir.join("version1.fq.zst"))]))
            .unwrap();
    assert!(line.starts_with(&format!("{}  ", hex(&Sha256::digest(&v1)))), "{line}");
    assert!(line.trim_end().ends_with("version1.fq"), "{line}");
}

/// A regular file is packed from a memory map (the path, or standard input redirected from
/// it), anything else is read: the packed bytes are the same whichever way the input comes,
/// for both containers and at a chunk size that leaves a short last chunk; a redirect that
/// another program has already read into is packed from where it stands.
#[test]
fn mapped_read_and_piped_input_pack_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(5 * 65_536 + 1234, 77);
    let input = dir.path().join("in.fq");
    std::fs::write(&input, &original).unwrap();
    for format in ["zstd", "bgzf"] {
        let args = ["pack", "-c", "--format", format, "--chunk-size", "64K", "-t", "2"];
        let from_path = run_ok(&[&args[..], &[path(&input)]].concat());
        let redirected = Process::new(common::cli::binary())
            .args([&args[..], &["-"]].concat())
            .stdin(std::fs::File::open(&input).unwrap())
            .output()
            .unwrap();
        assert!(redirected.status.success());
        let through_pipe = piped(&[&args[..], &["-"]].concat(), &original);
        assert!(through_pipe.status.success());
        assert!(from_path == redirected.stdout, "{format}: path vs redirect");
        assert!(from_path == through_pipe.stdout, "{format}: path vs pipe");
        let restored = piped(&["unpack", "-", "-c"], &from_path);
        assert!(restored.stdout == original, "{format}");
    }
    // Standard input at byte 1000 of the file (a shell group that read the head first).
    let mut file = std::fs::File::open(&input).unwrap();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(1000)).unwrap();
    let out =
        Process::new(common::cli::binary()).args(["pack", "-c", "-"]).stdin(file).output().unwrap();
    assert!(out.status.success());
    assert!(piped(&["unpack", "-", "-c"], &out.stdout).stdout == original[1000..]);
}
