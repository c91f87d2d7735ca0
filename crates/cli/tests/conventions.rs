//! The conventions of issue #10 that users know from zstd, bgzip, sha256sum and the GA4GH
//! `crypt4gh` tool, through the real binary: `pack`/`unpack` name their outputs from the input
//! and keep it unless `--rm`, refuse compressed bytes on a terminal unless `-c`, `verify` says
//! `FILE: OK` on standard output, `cat --range` takes open ranges, `C4GH_PASSPHRASE` and the
//! `crypt4gh` tool's flag names work, and size flags take K/M/G everywhere.

use std::fs;
use std::path::Path;

mod common;

use common::bytes::partly_compressible as data;
use common::cli::{assert_one_line_error, on_a_terminal, path, run, run_ok, seqflow};

fn write_input(dir: &Path, name: &str, len: usize) -> (std::path::PathBuf, Vec<u8>) {
    let input = dir.join(name);
    let original = data(len, 7);
    fs::write(&input, &original).unwrap();
    (input, original)
}

#[test]
fn pack_and_unpack_name_outputs_like_zstd_and_bgzip() {
    let dir = tempfile::tempdir().unwrap();
    let (input, original) = write_input(dir.path(), "reads.fq", 20_000);
    let zst = dir.path().join("reads.fq.zst");

    // pack FILE writes FILE.zst and keeps FILE.
    assert!(run_ok(&["pack", path(&input), "--chunk-size", "4K"]).is_empty());
    assert!(zst.exists() && input.exists());
    // unpack FILE.zst writes FILE: here it exists, so -f is needed.
    assert_one_line_error(&run(&["unpack", path(&zst)]), &["reads.fq", "--force"]);
    fs::remove_file(&input).unwrap();
    run_ok(&["unpack", path(&zst)]);
    assert_eq!(fs::read(&input).unwrap(), original);
    assert!(zst.exists(), "unpack keeps its input without --rm");

    // --rm removes the input once the output is complete, in both directions; -k is a no-op.
    run_ok(&["pack", path(&input), "-f", "-k"]);
    assert!(input.exists());
    run_ok(&["pack", path(&input), "-f", "--rm"]);
    assert!(!input.exists() && zst.exists());
    run_ok(&["unpack", path(&zst), "--rm"]);
    assert!(!zst.exists());
    assert_eq!(fs::read(&input).unwrap(), original);

    // BGZF: FILE.gz and its .gzi, both removed by unpack --rm.
    run_ok(&["pack", path(&input), "--container", "bgzf"]);
    let gz = dir.path().join("reads.fq.gz");
    assert!(gz.exists() && dir.path().join("reads.fq.gz.gzi").exists());
    run_ok(&["unpack", path(&gz), "-f", "--rm"]);
    assert!(!gz.exists() && !dir.path().join("reads.fq.gz.gzi").exists());
    assert_eq!(fs::read(&input).unwrap(), original);

    // The old spelling of --container still works.
    run_ok(&["pack", path(&input), "--format", "bgzf", "-f"]);
    assert_eq!(&fs::read(&gz).unwrap()[..2], b"\x1f\x8b");

    // A name without a known suffix needs -o or -c.
    let odd = dir.path().join("packed.bin");
    fs::copy(&gz, &odd).unwrap();
    assert_one_line_error(&run(&["unpack", path(&odd)]), &["packed.bin", "-o", "-c"]);
    assert_eq!(run_ok(&["unpack", path(&odd), "-c"]), original);
}

#[test]
fn rm_keeps_the_input_when_the_command_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = write_input(dir.path(), "data", 50_000);
    run_ok(&["pack", path(&input), "--chunk-size", "4K"]);
    let zst = dir.path().join("data.zst");
    let mut damaged = fs::read(&zst).unwrap();
    damaged[100] ^= 0x40;
    fs::write(&zst, damaged).unwrap();
    fs::remove_file(&input).unwrap();
    let out = run(&["unpack", path(&zst), "--rm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(zst.exists(), "a failed unpack must not remove its input");
    assert!(!input.exists(), "nor leave an output");
    // --rm with standard input or output is refused before anything is done.
    assert!(!run(&["unpack", path(&zst), "--rm", "-c"]).status.success());
    assert_one_line_error(&run(&["pack", "-", "--rm"]), &["--rm", "standard input"]);
}

#[test]
fn pack_refuses_a_terminal_unless_asked_with_c() {
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = write_input(dir.path(), "x", 1000);
    let Some((ok, said)) = on_a_terminal(&["pack", path(&input), "-o", "-"]) else { return };
    assert!(!ok && said.contains("terminal") && said.contains("-c"), "{said}");
    let Some((ok, said)) = on_a_terminal(&["pack", path(&input), "-c"]) else { return };
    assert!(ok, "{said}");
    // zstd's magic bytes reached the terminal.
    assert!(said.as_bytes().windows(3).any(|w| w == b"/\xef\xbf" || w == b"(\xef\xbf"), "{said:?}");
    // Not a terminal: standard output is fine without -c (a pipe here).
    assert!(!run_ok(&["pack", path(&input), "-o", "-"]).is_empty());
}

#[test]
fn verify_says_ok_on_standard_output_like_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = write_input(dir.path(), "v", 10_000);
    run_ok(&["pack", path(&input)]);
    let zst = dir.path().join("v.zst");
    let out = run(&["verify", path(&zst)]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{}: OK\n", zst.display()));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // -q: nothing at all on success, as `sha256sum -c --quiet`.
    let out = run(&["verify", path(&zst), "-q"]);
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
    // verify has none of unpack's output flags.
    for flag in ["-o", "--force", "--skip-sha256", "--rm", "-c"] {
        assert_eq!(run(&["verify", path(&zst), flag]).status.code(), Some(2), "{flag}");
    }
}

#[test]
fn cat_takes_open_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let (input, original) = write_input(dir.path(), "r", 30_000);
    for container in ["zstd", "bgzf"] {
        let packed = dir.path().join(format!("r.{container}"));
        run_ok(&["pack", path(&input), "--container", container, "-o", path(&packed)]);
        let cat = |range: &str| run_ok(&["cat", path(&packed), "--range", range]);
        assert_eq!(cat("29000-"), &original[29_000..]);
        assert_eq!(cat("29000"), &original[29_000..]);
        assert_eq!(cat("-1000"), &original[..1000]);
        assert_eq!(cat("0-"), original);
        assert_eq!(cat("100-200"), &original[100..200]);
        for bad in ["-", "x-", "5-x", "10-5"] {
            let out = run(&["cat", path(&packed), "--range", bad]);
            assert_one_line_error(&out, &["--range"]);
        }
        let out = run(&["cat", path(&packed), "--range", "40000-"]);
        assert_one_line_error(&out, &["40000-", "30000 bytes"]);
    }
}

#[test]
fn crypt4gh_passphrase_variable_and_flag_names_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let (input, original) = write_input(dir.path(), "secret.txt", 5000);
    let (sk, pk) = (dir.path().join("me.sec"), dir.path().join("me.pub"));
    // keygen with the crypt4gh-keygen names and the passphrase from C4GH_PASSPHRASE.
    let out = seqflow()
        .args(["keygen", "--sk", path(&sk), "--pk", path(&pk)])
        .env_remove("SEQFLOW_PASSPHRASE")
        .env("C4GH_PASSPHRASE", "open sesame")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // pack with --recipient_pk writes FILE.zst.c4gh; unpack strips both suffixes.
    run_ok(&["pack", path(&input), "--recipient_pk", path(&pk)]);
    let sealed = dir.path().join("secret.txt.zst.c4gh");
    assert_eq!(&fs::read(&sealed).unwrap()[..8], b"crypt4gh");
    fs::remove_file(&input).unwrap();
    let unpack = |passphrase: &str| {
        seqflow()
            .args(["unpack", path(&sealed), "--sk", path(&sk)])
            .env_remove("SEQFLOW_PASSPHRASE")
            .env("C4GH_PASSPHRASE", passphrase)
            .output()
            .unwrap()
    };
    assert_eq!(unpack("wrong").status.code(), Some(2));
    assert!(!input.exists());
    let out = unpack("open sesame");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fs::read(&input).unwrap(), original);
    // SEQFLOW_PASSPHRASE wins over C4GH_PASSPHRASE when both are set.
    let out = seqflow()
        .args(["cat", path(&sealed), "--sk", path(&sk), "--range", "0-10"])
        .env("SEQFLOW_PASSPHRASE", "open sesame")
        .env("C4GH_PASSPHRASE", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.stdout, &original[..10]);
}

#[test]
fn size_flags_take_suffixes_everywhere() {
    let out = run_ok(&[
        "simulate",
        "fasta",
        "--records",
        "1",
        "--min-length",
        "1K",
        "--max-length",
        "1K",
        "--line-width",
        "0",
    ]);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().nth(1).unwrap().len(), 1024);
    let out = run_ok(&["simulate", "fastq", "--reads", "1", "--read-length", "1K"]);
    assert_eq!(String::from_utf8(out).unwrap().lines().nth(1).unwrap().len(), 1024);
    let out = run(&["simulate", "fasta", "--min-length", "1X"]);
    assert_one_line_error(&out, &["--min-length", "unknown size unit"]);
}
