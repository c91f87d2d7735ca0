//! `seqflow repeats` through the real binary: quality on a simulated genome, determinism over
//! thread counts, output formats, and what bad input gets.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use seqflow_sim::{EvaluateOptions, RepeatGenomeConfig, evaluate, write_repeat_genome};

fn seqflow() -> Command {
    Command::cargo_bin("seqflow").unwrap()
}

/// The outputs that must be identical between runs (the summary holds timings).
const COMPARED: [&str; 4] = [".families.fa", ".bed", ".seeds.tsv", ".masked.fa"];
const ALL: [&str; 5] = [".families.fa", ".bed", ".seeds.tsv", ".masked.fa", ".summary.json"];

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", prefix.display()))
}

/// Writes a simulated genome (`PREFIX.fa`, `PREFIX.truth.bed`, `PREFIX.families.fa`).
fn simulate(dir: &Path, name: &str, config: &RepeatGenomeConfig) -> PathBuf {
    let prefix = dir.join(name);
    let open = |suffix: &str| fs::File::create(with_suffix(&prefix, suffix)).unwrap();
    write_repeat_genome(config, open(".fa"), open(".truth.bed"), open(".families.fa")).unwrap();
    prefix
}

fn run_repeats(genome: &Path, prefix: &Path, extra: &[&str]) {
    let out = seqflow()
        .args(["repeats", "-q", "--force", "-o"])
        .arg(prefix)
        .arg(genome)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn small_config(seed: u64, length: u64) -> RepeatGenomeConfig {
    let mut config = RepeatGenomeConfig::new(seed);
    config.length = length;
    config.families = 12;
    config.max_consensus_length = 2_000;
    config.min_copies = 6;
    config.max_copies = 60;
    config.copy_number_skew = 1.0;
    config.max_divergence = 0.12;
    config
}

#[test]
fn finds_planted_families_on_a_simulated_genome() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path(), "sim", &small_config(3, 1_500_000));
    let out = dir.path().join("out");
    run_repeats(&with_suffix(&sim, ".fa"), &out, &["-t", "2"]);
    let open = |p: PathBuf| std::io::BufReader::new(fs::File::open(p).unwrap());
    let evaluation = evaluate(
        open(with_suffix(&sim, ".truth.bed")),
        open(with_suffix(&out, ".bed")),
        open(with_suffix(&sim, ".families.fa")),
        open(with_suffix(&out, ".families.fa")),
        &EvaluateOptions::default(),
    )
    .unwrap();
    assert!(evaluation.f1() >= 0.9, "per-base F1 {:.3}", evaluation.f1());
    assert!(evaluation.precision() >= 0.95, "precision {:.3}", evaluation.precision());
    assert!(
        evaluation.family_fraction() >= 0.8,
        "families recovered {}/{}",
        evaluation.families_recovered(),
        evaluation.families.len()
    );
}

#[test]
fn output_is_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut fragmented = small_config(11, 600_000);
    fragmented.contigs = 40;
    fragmented.fragmented = true;
    fragmented.lowercase_fraction = 0.3;
    let genomes = [
        simulate(dir.path(), "a", &small_config(5, 700_000)),
        simulate(dir.path(), "b", &fragmented),
    ];
    for genome in genomes {
        let fasta = with_suffix(&genome, ".fa");
        let reference = dir.path().join("t1");
        run_repeats(&fasta, &reference, &["-t", "1"]);
        let families = fs::read_to_string(with_suffix(&reference, ".families.fa")).unwrap();
        assert!(families.matches('>').count() >= 3, "{families}");
        for threads in ["2", "3"] {
            let other = dir.path().join(format!("t{threads}"));
            run_repeats(&fasta, &other, &["-t", threads]);
            for suffix in COMPARED {
                assert!(
                    fs::read(with_suffix(&reference, suffix)).unwrap()
                        == fs::read(with_suffix(&other, suffix)).unwrap(),
                    "{} differs between 1 and {threads} threads",
                    suffix
                );
            }
        }
    }
}

#[test]
fn outputs_follow_their_formats() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path(), "sim", &small_config(9, 400_000));
    let fasta = with_suffix(&sim, ".fa");
    let out = dir.path().join("out");
    run_repeats(&fasta, &out, &[]);

    let library = fs::read_to_string(with_suffix(&out, ".families.fa")).unwrap();
    let header = library.lines().next().unwrap();
    let re_fields: Vec<&str> = header.split(' ').collect();
    assert_eq!(re_fields[0], ">fam1");
    assert!(re_fields[1].starts_with("seed=") && re_fields[2].starts_with("seed_copies="));
    assert!(re_fields[3].starts_with("copies=") && re_fields[4].starts_with("length="));

    let bed = fs::read_to_string(with_suffix(&out, ".bed")).unwrap();
    let mut last = (String::new(), 0u64);
    let mut masked_bases = 0;
    for line in bed.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 6, "BED6: {line}");
        let (start, end): (u64, u64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        assert!(start < end && end - start >= 50, "{line}");
        assert!(f[3].starts_with("fam") && (f[5] == "+" || f[5] == "-"), "{line}");
        assert!((0..=1000).contains(&f[4].parse::<i32>().unwrap()));
        if f[0] == last.0 {
            assert!(start >= last.1, "sorted and not overlapping: {line}");
        }
        last = (f[0].to_owned(), end);
        masked_bases += end - start;
    }

    let masked = fs::read_to_string(with_suffix(&out, ".masked.fa")).unwrap();
    let lower = masked
        .lines()
        .filter(|l| !l.starts_with('>'))
        .flat_map(|l| l.bytes())
        .filter(u8::is_ascii_lowercase)
        .count();
    assert_eq!(lower as u64, masked_bases, "soft-masked bases are the BED's bases");

    let seeds = fs::read_to_string(with_suffix(&out, ".seeds.tsv")).unwrap();
    assert_eq!(seeds.lines().next(), Some("seed\tfrequency\tcontig\tposition"));
    let counts: Vec<u32> =
        seeds.lines().skip(1).map(|l| l.split('\t').nth(1).unwrap().parse().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]) && counts.iter().all(|&c| c >= 3));

    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(with_suffix(&out, ".summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["masked_bases"], masked_bases);
    assert_eq!(summary["families"], library.matches('>').count());
    assert!(summary["seconds"]["discovery"].is_number() && summary["k"].as_u64().unwrap() >= 8);

    let hard = dir.path().join("hard");
    run_repeats(&fasta, &hard, &["--mask", "hard"]);
    let hard_masked = fs::read_to_string(with_suffix(&hard, ".masked.fa")).unwrap();
    let n_hard = hard_masked
        .lines()
        .filter(|l| !l.starts_with('>'))
        .flat_map(|l| l.bytes())
        .filter(|&b| b == b'N')
        .count();
    let n_soft = masked
        .lines()
        .filter(|l| !l.starts_with('>'))
        .flat_map(|l| l.bytes())
        .filter(|&b| b == b'N')
        .count();
    assert_eq!((n_hard - n_soft) as u64, masked_bases);
}

/// Runs on `fasta` (bytes) and returns the command's result.
fn run_on(dir: &Path, name: &str, fasta: &[u8]) -> (std::process::Output, PathBuf) {
    let path = dir.join(name);
    fs::write(&path, fasta).unwrap();
    let prefix = dir.join(format!("{name}.out"));
    let out = seqflow().args(["repeats", "-o"]).arg(&prefix).arg(&path).output().unwrap();
    (out, prefix)
}

fn assert_no_outputs(prefix: &Path) {
    for suffix in ALL {
        assert!(!with_suffix(prefix, suffix).exists(), "{suffix} left behind");
    }
    let dir = prefix.parent().unwrap();
    let leftovers: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn bad_input_gets_one_clear_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("dup.fa", b">a\nACGTACGTAC\n>b\nACGT\n>a\nGGGG\n", "duplicate contig name 'a'"),
        ("letters.fa", b">chr1\nACGTACGT\nACGJACGT\n", "chr1"),
        ("fastq.fa", b"@r1\nACGT\n+\nIIII\n", "fastq.fa"),
        ("bad.fa.gz", &gzip_truncated(), "bad.fa.gz"),
    ];
    for (name, fasta, expected) in cases {
        let (out, prefix) = run_on(dir.path(), name, fasta);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        assert!(stderr.contains(expected) && stderr.contains(name), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_no_outputs(&prefix);
    }
    // The unknown letter is located: contig and 1-based position (line 2, column 4 = 12).
    let (out, _) = run_on(dir.path(), "where.fa", b">chr1\nACGTACGT\nACGJACGT\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("'J'") && stderr.contains("position 12"), "{stderr}");
}

fn gzip_truncated() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..2000 {
        writeln!(encoder, ">c{i}\nACGTTGCATGCATGCAGTCAGTCGATCGATCGTAGCTAGCTAGCTAGCATCG").unwrap();
    }
    let mut gz = encoder.finish().unwrap();
    gz.truncate(gz.len() / 2);
    gz
}

#[test]
fn degenerate_genomes_give_an_empty_result() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 4] = [
        ("empty.fa", b""),
        ("all_n.fa", b">n1\nNNNNNNNNNNNNNNNNNNNN\n>n2\nNNNN\n"),
        ("short.fa", b">s1\nACG\n>s2\nT\n"),
        ("unique.fa", b">u\nACGTTGCAGGCATCGATTACAGGATCCATGCAAGTCAGT\n"),
    ];
    for (name, fasta) in cases {
        let (out, prefix) = run_on(dir.path(), name, fasta);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(fs::read_to_string(with_suffix(&prefix, ".families.fa")).unwrap(), "", "{name}");
        assert_eq!(fs::read_to_string(with_suffix(&prefix, ".bed")).unwrap(), "", "{name}");
        let summary = fs::read_to_string(with_suffix(&prefix, ".summary.json")).unwrap();
        assert!(summary.contains("\"families\": 0"), "{summary}");
    }
}

#[test]
fn existing_outputs_are_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("g.fa");
    fs::write(&fasta, b">a\nACGTACGTTT\n").unwrap();
    let prefix = dir.path().join("out");
    fs::write(with_suffix(&prefix, ".bed"), b"keep me").unwrap();
    seqflow()
        .args(["repeats", "-o"])
        .arg(&prefix)
        .arg(&fasta)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(fs::read(with_suffix(&prefix, ".bed")).unwrap(), b"keep me");
    assert!(!with_suffix(&prefix, ".families.fa").exists());
}
