//! Issue #9, items 7 and 8: every numeric flag of every command is bounded, and memory does
//! not grow with a flag or with one long record.
//!
//! The table test runs each numeric flag with 0, 1, its maximum, maximum + 1 and an absurd
//! value, each under an address-space limit: the command either runs, or refuses with exit
//! code 2 and one line. Never a panic, an abort or an allocation failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Address space each table run may use (`ulimit -v`, KiB): far below what `-t 100000`,
/// `--batch-size 100G` or `--channel-depth 1000000000` used to reach.
const ADDRESS_SPACE_KIB: u64 = 8 << 20;

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_seqflow")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/examples")
}

/// Runs seqflow with `args` under the address-space limit.
fn run_limited(args: &[String]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {ADDRESS_SPACE_KIB}; exec \"$0\" \"$@\""))
        .arg(binary())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run seqflow")
}

/// The run either succeeded or failed with exit code 2 and exactly one line on stderr.
fn assert_clean(args: &[String], output: &Output) -> bool {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    assert!(
        matches!(code, Some(0) | Some(2)),
        "{args:?}: exit {code:?} (panic or abort?): {stderr}"
    );
    if code == Some(2) {
        assert_eq!(stderr.lines().count(), 1, "{args:?}: not one line: {stderr}");
        assert!(stderr.starts_with("seqflow: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    code == Some(0)
}

/// A flag and the values that must be refused at parse time.
struct Row {
    command: Vec<String>,
    flag: &'static str,
    max: &'static str,
    /// max + 1 and an absurd value.
    over: [&'static str; 2],
    /// Whether 0 is refused.
    zero_refused: bool,
}

fn row(
    command: &[&str],
    flag: &'static str,
    max: &'static str,
    over: [&'static str; 2],
    zero_refused: bool,
) -> Row {
    Row { command: command.iter().map(|s| s.to_string()).collect(), flag, max, over, zero_refused }
}

#[test]
fn every_numeric_flag_is_bounded_at_parse_time() {
    let dir = tempfile::tempdir().unwrap();
    let fq = examples().join("reads.fq");
    let packed = dir.path().join("reads.zst");
    let status = Command::new(binary())
        .args(["pack", fq.to_str().unwrap(), "-o", packed.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    // A small genome keeps each repeats run short: a 60-base unit three times in 1 kb.
    let unit = "GATTACAGGCTTACGATCGGATCCTAGGCATGCAAGCTTGTCGACCTGCAGGCATGCAAG";
    let spacer = |seed: u64| -> String {
        (0..300u64)
            .map(|i| b"ACGT"[((i * 2654435761 + seed * 97) >> 7) as usize % 4] as char)
            .collect()
    };
    let genome = format!(">tiny\n{}{unit}{}{unit}{}{unit}\n", spacer(1), spacer(2), spacer(3));
    std::fs::write(out("tiny.fa"), genome).unwrap();
    let tiny = out("tiny.fa");
    let (fq, packed) = (fq.to_str().unwrap(), packed.to_str().unwrap());
    let stats = ["stats", fq];
    // Packing one byte per frame must stay quick: a small input.
    std::fs::write(out("small.txt"), "ACGT\n".repeat(400)).unwrap();
    let small = out("small.txt");
    let pack_args = ["pack", &small, "-o", &out("p.zst"), "--force"];
    let unpack = ["unpack", packed, "-o", &out("u"), "--force"];
    let verify = ["verify", packed];
    let repeats = ["repeats", &tiny, "-o", &out("rep"), "--force", "--max-families", "2"];
    let fastq = [
        "simulate",
        "fastq",
        "--reads",
        "10",
        "--genome-length",
        "10K",
        "-o",
        &out("s.fq"),
        "--force",
    ];
    let fasta = [
        "simulate",
        "fasta",
        "--records",
        "1",
        "--min-length",
        "10",
        "--max-length",
        "100",
        "-o",
        &out("s.fa"),
        "--force",
    ];
    let rows = vec![
        row(&stats, "--threads", "1024", ["1025", "100000"], true),
        row(&stats, "--channel-depth", "1024", ["1025", "1000000000"], true),
        row(&stats, "--batch-size", "1G", ["1025M", "100G"], true),
        row(&stats, "--max-record-len", "1T", ["1025G", "100P"], true),
        row(&pack_args, "--threads", "1024", ["1025", "100000"], true),
        row(&pack_args, "--channel-depth", "1024", ["1025", "1000000000"], true),
        row(&pack_args, "--chunk-size", "1G", ["1025M", "100G"], true),
        row(&pack_args, "--level", "22", ["23", "100"], true),
        row(&unpack, "--threads", "1024", ["1025", "100000"], true),
        row(&unpack, "--channel-depth", "1024", ["1025", "1000000000"], true),
        row(&verify, "--threads", "1024", ["1025", "100000"], true),
        row(&repeats, "--threads", "1024", ["1025", "100000"], true),
        row(&repeats, "-k", "32", ["33", "1000"], true),
        row(&repeats, "--min-freq", "1000000", ["1000001", "99999999999"], true),
        row(&repeats, "--tandem-dist", "1G", ["1073741825", "99999999999999"], false),
        row(&repeats, "--min-length", "1M", ["1048577", "99999999999"], true),
        row(&repeats, "--max-extend", "1M", ["1048577", "99999999999"], true),
        row(&repeats, "--stop-after", "1M", ["1048577", "99999999999"], true),
        row(&repeats, "--min-improvement", "1000", ["1001", "99999999999"], false),
        row(&repeats, "--max-sample", "65536", ["65537", "99999999999"], true),
        row(&repeats, "--memory", "1T", ["1025G", "100P"], true),
        row(
            &repeats,
            "--max-families",
            "18446744073709551615",
            ["18446744073709551616", "1e99"],
            true,
        ),
        row(&fastq, "--read-length", "1048576", ["1048577", "99999999999"], true),
        row(&fastq, "--genome-length", "4G", ["4097M", "100P"], true),
        row(&fastq, "--bytes", "1024T", ["1025T", "99999T"], true),
        row(&fasta, "--line-width", "1048576", ["1048577", "99999999999"], false),
        row(&fasta, "--min-length", "1099511627776", ["1099511627777", "99999999999999999"], false),
    ];
    for row in &rows {
        let with = |value: &str| {
            let mut args = row.command.clone();
            args.extend([row.flag.to_owned(), value.to_owned()]);
            args
        };
        for value in row.over.iter().chain(row.zero_refused.then_some(&"0")).chain([&"-1"]) {
            let args = with(value);
            let output = run_limited(&args);
            assert!(!assert_clean(&args, &output), "{args:?} was accepted");
            let stderr = String::from_utf8_lossy(&output.stderr);
            let named = stderr.contains(row.flag.trim_start_matches('-'));
            assert!(named || *value == "-1", "{args:?}: {stderr}");
        }
        // Accepted values run (or stop on a clear one-line error, such as a memory bound).
        for value in ["1", row.max] {
            let args = with(value);
            assert_clean(&args, &run_limited(&args));
        }
    }
}

#[test]
fn huge_thread_counts_are_refused_by_every_command_in_one_line() {
    for command in [
        vec!["stats", "x"],
        vec!["pack", "x"],
        vec!["unpack", "x"],
        vec!["verify", "x"],
        vec!["repeats", "x", "-o", "y"],
        vec!["collection", "getset", "x.agc", "s"],
        vec!["collection", "getcol", "x.agc", "-o", "d"],
        vec!["collection", "create", "x.fa", "-o", "y.agc"],
        vec!["collection", "append", "x.agc", "x.fa", "-o", "y.agc"],
    ] {
        let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        args.extend(["-t".into(), "100000".into()]);
        let output = run_limited(&args);
        assert!(!assert_clean(&args, &output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("must be between 1 and 1024"), "{args:?}: {stderr}");
    }
}

#[test]
fn collection_create_refuses_what_agc_would_clamp() {
    for (flag, bad) in [
        ("-k", "16"),
        ("-k", "33"),
        ("-s", "99"),
        ("-s", "1000001"),
        ("-l", "14"),
        ("-l", "33"),
        ("-b", "0"),
    ] {
        let args: Vec<String> = ["collection", "create", "x.fa", "-o", "y.agc", flag, bad]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let output = run_limited(&args);
        assert!(!assert_clean(&args, &output), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("must be between"), "{args:?}: {stderr}");
    }
}

#[test]
fn settings_above_max_memory_are_refused_naming_the_flag_to_lower() {
    let fq = examples().join("reads.fq");
    let fq = fq.to_str().unwrap();
    for (args, flag) in [
        (vec!["stats", fq, "--batch-size", "1G", "--max-memory", "1G"], "--batch-size"),
        (
            vec![
                "stats",
                fq,
                "--channel-depth",
                "1024",
                "--batch-size",
                "64M",
                "--max-memory",
                "4G",
            ],
            "--channel-depth",
        ),
        (vec!["pack", fq, "--chunk-size", "1G", "--max-memory", "2G"], "--chunk-size"),
        (vec!["repeats", fq, "-o", "never", "--memory", "100G", "--max-memory", "8G"], "--memory"),
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let output = run_limited(&args);
        assert!(!assert_clean(&args, &output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("would need up to") && stderr.contains(flag), "{args:?}: {stderr}");
    }
}

/// A huge batch on a small file costs what the file needs, not the batch size.
#[test]
fn a_1g_batch_on_a_small_file_stays_small() {
    let fq = examples().join("reads.fq");
    let output = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576; exec \"$0\" stats --batch-size 1G -t 1 --channel-depth 1 --max-memory 1T \"$1\"")
        .arg(binary())
        .arg(&fq)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("2,000"));
}
