//! `seqflow stats` through the real binary: values, formats, errors, determinism.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn seqflow() -> Command {
    Command::cargo_bin("seqflow").unwrap()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/examples")
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn stdout_of(args: &[&str]) -> String {
    let out = seqflow().args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn values_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    // Lengths 5 and 8; G/C: 2 + 4 of 13; N: 1; qualities ≥ 20: I,I,5(20),?(30) + IIII = 8 of 13,
    // ≥ 30: I,I,?,IIII = 7 of 13.
    let fq = write(dir.path(), "q.fq", b"@r1\nACGTN\n+\nII#5?\n@r2\nGGCCAAAA\n+\n!!!!IIII\n");
    let tsv = stdout_of(&["stats", "-a", "-T", fq.to_str().unwrap()]);
    let row: Vec<&str> = tsv.lines().nth(1).unwrap().split('\t').collect();
    let expected = [
        fq.to_str().unwrap(),
        "FASTQ",
        "DNA",
        "2",
        "13",
        "5",
        "6.5",
        "8",
        "5.0",
        "6.5",
        "8.0",
        "0",
        "8",
        "1",
        "61.54",
        "53.85",
        "4.47",
        "46.15",
        "1",
    ];
    assert_eq!(row, expected);
}

#[test]
fn table_tsv_and_json_agree() {
    let path = examples().join("contigs.fa");
    let path = path.to_str().unwrap();
    let tsv = stdout_of(&["stats", "-a", "--format", "tsv", path]);
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&["stats", "--format", "json", path])).unwrap();
    let table = stdout_of(&["stats", "-a", path]);
    let row: Vec<&str> = tsv.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(json[0]["num_seqs"].as_u64().unwrap().to_string(), row[3]);
    assert_eq!(json[0]["sum_len"].as_u64().unwrap().to_string(), row[4]);
    assert_eq!(json[0]["N50"].as_u64().unwrap().to_string(), row[12]);
    assert!(table.lines().nth(1).unwrap().contains("FASTA"));
    // Without -a only the first eight columns are shown.
    let basic = stdout_of(&["stats", "-T", path]);
    assert_eq!(basic.lines().next().unwrap().split('\t').count(), 8);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    child.wait_with_output().unwrap().stdout
}

#[test]
fn same_output_for_any_thread_count_and_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let reads = std::fs::read(examples().join("reads.fq")).unwrap();
    let gz = write(dir.path(), "reads.fq.gz", &gzip(&reads));
    let inputs = [
        examples().join("reads.fq"),
        examples().join("contigs.fa"),
        examples().join("yeast_chrI.fa.gz"),
        examples().join("reads_100bp.fq.gz"),
        gz,
    ];
    let names: Vec<&str> = inputs.iter().map(|p| p.to_str().unwrap()).collect();
    let reference = {
        let mut args = vec!["stats", "-a", "-T", "-t", "1"];
        args.extend(&names);
        stdout_of(&args)
    };
    assert_eq!(reference.lines().count(), 6);
    for threads in ["2", "3", "8"] {
        for batch in ["4K", "64K", "1M"] {
            let mut args = vec!["stats", "-a", "-T", "-t", threads, "--batch-size", batch];
            args.extend(&names);
            assert_eq!(stdout_of(&args), reference, "threads {threads}, batch {batch}");
        }
    }
}

#[test]
fn malformed_file_is_reported_and_others_still_counted() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.fq", b"@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nIII\n");
    let good = examples().join("reads.fq");
    let assert = seqflow()
        .args(["stats", "-T", bad.to_str().unwrap(), good.to_str().unwrap()])
        .assert()
        .code(2);
    let out = assert.get_output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("seqflow: "), "{stderr}");
    assert!(stderr.contains("bad.fq: line 8, record 'r2' (byte 27)"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("reads.fq\tFASTQ\tDNA\t2000\t300000"), "{stdout}");
}

#[test]
fn errors_are_one_line_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 5] = [
        ("trunc.fq", b"@r1\nACGT\n+\n", "truncated FASTQ record"),
        ("plus.fq", b"@r1\nAC\nGT\n+r2\nIIII\n", "plus.fq: line 4, record 'r1'"),
        ("text.txt", b"hello world\n", "not FASTA or FASTQ"),
        ("bz.fq.bz2", b"BZh91AY&SYxxxx", "unsupported compression (bzip2)"),
        ("cut.fq.gz", &gzip(&[b'@'; 5000])[..30], "cut.fq.gz"),
    ];
    for (name, data, message) in cases {
        let path = write(dir.path(), name, data);
        let out = seqflow().args(["stats", path.to_str().unwrap()]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn validation_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.fa", b">a\nACGT\n>b\nACGJ\n");
    seqflow()
        .args(["stats", "--validate-seq", "acgtn", path.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("record 'b'").and(predicate::str::contains("'J'")));
    seqflow().args(["stats", path.to_str().unwrap()]).assert().success();
}

#[test]
fn reads_standard_input() {
    let data = std::fs::read(examples().join("reads.fq")).unwrap();
    let out = seqflow().args(["stats", "-T", "-"]).write_stdin(data).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("-\tFASTQ\tDNA\t2000\t300000"));
}

#[test]
fn output_file_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = write(dir.path(), "stats.tsv", b"keep me");
    let input = examples().join("reads.fq");
    let args = ["stats", "-T", input.to_str().unwrap(), "-o", out.to_str().unwrap()];
    seqflow().args(args).assert().code(2).stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    seqflow().args(args).arg("--force").assert().success();
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("file\tformat"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn metrics_file_reports_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m.json");
    let input = examples().join("reads.fq");
    seqflow()
        .args(["stats", "-t", "2", "--batch-size", "16K", input.to_str().unwrap()])
        .args(["--metrics", metrics.to_str().unwrap()])
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    let pipeline = &json[0]["pipeline"];
    assert_eq!(pipeline["workers"], 2);
    assert!(pipeline["source"]["items"].as_u64().unwrap() > 10);
    assert_eq!(pipeline["work"]["items"], pipeline["source"]["items"]);
}

#[test]
fn simulate_is_reproducible() {
    let a = stdout_of(&["simulate", "fastq", "--seed", "5", "--reads", "50"]);
    let b = stdout_of(&["simulate", "fastq", "--seed", "5", "--reads", "50"]);
    let c = stdout_of(&["simulate", "fastq", "--seed", "6", "--reads", "50"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.lines().count(), 200);
}

#[test]
fn wrapped_fastq_has_the_numbers_of_its_four_line_form() {
    let dir = tempfile::tempdir().unwrap();
    let four = b"@r1\nACGTAC\n+\n@@II+I\n@r2\nGGN\n+r2\n+#I\n";
    let wrapped = b"@r1\nACGT\nAC\n+\n@@II\n+I\n@r2\nG\nGN\n+r2\n+\n#I\n";
    let stats = |name: &str, data: &[u8]| {
        let path = write(dir.path(), name, data);
        let out = seqflow().args(["stats", "-a", "-T", path.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().nth(1).unwrap().split_once('\t').unwrap().1.to_string()
    };
    assert_eq!(stats("wrapped.fq", wrapped), stats("four.fq", four));
}

/// Single-end FASTQ of `n` reads whose lengths vary; `damage` replaces the quality lines of
/// the given reads with one letter too few.
fn varied_fastq(n: usize, damage: &[usize]) -> Vec<u8> {
    let mut text = Vec::new();
    for i in 0..n {
        let len = 20 + (i * 7919) % 130;
        let seq: String = (0..len).map(|j| b"ACGT"[(i * 31 + j * 17) % 4] as char).collect();
        let qual: String = (0..len).map(|j| (b'!' + ((i + j * 13) % 41) as u8) as char).collect();
        let qual = if damage.contains(&i) { &qual[1..] } else { &qual[..] };
        text.extend(format!("@read{i} x\n{seq}\n+\n{qual}\n").bytes());
    }
    text
}

#[test]
fn the_parse_in_the_workers_changes_no_value_and_no_error() {
    // A mapped four-line FASTQ file is parsed by the workers (`Reader::read_window`); read(2)
    // (`--no-mmap`) parses on the reader's thread. Same table, same first error.
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.fq", &varied_fastq(4000, &[]));
    let good = good.to_str().unwrap();
    let serial = stdout_of(&["stats", "-a", "-T", "--no-mmap", "-t", "1", good]);
    for threads in ["1", "2", "5"] {
        // The default columns (letters not counted), all columns, and JSON.
        for columns in [&["-T"][..], &["-T", "-a"], &["--format", "json"]] {
            let reference = stdout_of(&[&["stats", "--no-mmap", good], columns].concat());
            let args = [&["stats", "--batch-size", "4K", "-t", threads, good], columns].concat();
            assert_eq!(stdout_of(&args), reference, "{args:?}");
        }
    }
    assert!(serial.contains("4,000") || serial.contains("4000"), "{serial}");
    // Two damaged reads far apart: the first one is reported, whichever worker saw what.
    let bad = write(dir.path(), "bad.fq", &varied_fastq(4000, &[1500, 3500]));
    let errors: Vec<String> = ["--batch-size=4K", "--no-mmap"]
        .iter()
        .map(|reading| {
            let out = seqflow()
                .args(["stats", "-t", "2", reading, bad.to_str().unwrap()])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2));
            String::from_utf8(out.stderr).unwrap()
        })
        .collect();
    assert_eq!(errors[0], errors[1]);
    assert!(errors[0].contains("'read1500'") && errors[0].lines().count() == 1, "{}", errors[0]);
}

#[test]
fn windows_that_begin_at_a_false_record_start_still_give_the_right_table() {
    // Qualities beginning with '@' before sequences beginning with '+' (letters stats does not
    // check) make quality lines look like record starts: a window may begin at one. Its parse
    // fails, and the file is read again the serial way.
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    for i in 0..3000 {
        text.extend(format!("@r{i}\n+CGTACGT\n+r{i}\n@IIIIII{}\n", i % 10).bytes());
    }
    let file = write(dir.path(), "odd.fq", &text);
    let file = file.to_str().unwrap();
    let reference = stdout_of(&["stats", "-a", "-T", "--no-mmap", file]);
    for batch_size in ["1K", "1500", "4K"] {
        let args = ["stats", "-a", "-T", "--batch-size", batch_size, file];
        assert_eq!(stdout_of(&args), reference, "{args:?}");
    }
}
