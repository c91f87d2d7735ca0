//! `seqflow repeats` through the real binary: quality on a simulated genome, determinism over
//! thread counts, output formats, and what bad input gets.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use seqflow_sim::{EvaluateOptions, RepeatGenomeConfig, evaluate, write_repeat_genome};

mod common;

use common::cli::{on_a_terminal, path};

fn seqflow() -> Command {
    Command::cargo_bin("seqflow").unwrap()
}

/// The outputs that must be identical between runs (the summary holds timings; its landscape
/// is compared on its own).
const COMPARED: [&str; 6] = [".families.fa", ".bed", ".gff3", ".out", ".seeds.tsv", ".masked.fa"];
const ALL: [&str; 7] =
    [".families.fa", ".bed", ".gff3", ".out", ".seeds.tsv", ".masked.fa", ".summary.json"];

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

/// Scores the run at prefix `out` against the simulation at prefix `sim`.
fn score(sim: &Path, out: &Path) -> seqflow_sim::Evaluation {
    let open = |p: PathBuf| std::io::BufReader::new(fs::File::open(p).unwrap());
    evaluate(
        open(with_suffix(sim, ".truth.bed")),
        open(with_suffix(out, ".bed")),
        open(with_suffix(sim, ".families.fa")),
        open(with_suffix(out, ".families.fa")),
        &EvaluateOptions::default(),
    )
    .unwrap()
}

#[test]
fn finds_planted_families_on_a_simulated_genome() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path(), "sim", &small_config(3, 1_500_000));
    let out = dir.path().join("out");
    run_repeats(&with_suffix(&sim, ".fa"), &out, &["-t", "2"]);
    let evaluation = score(&sim, &out);
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
fn a_given_library_annotates_old_diverged_copies_under_its_own_names() {
    let dir = tempfile::tempdir().unwrap();
    // Every copy 30% diverged from its consensus (two copies ~50% from each other): de novo
    // discovery cannot rebuild such families, annotation with their consensi must find them.
    let mut config = small_config(8, 1_000_000);
    config.min_divergence = 0.3;
    config.max_divergence = 0.3;
    let sim = simulate(dir.path(), "old", &config);
    // RepeatMasker-style identifiers: `name#class`, names as the library gives them.
    let truth = fs::read_to_string(with_suffix(&sim, ".families.fa")).unwrap();
    let library = dir.path().join("lib.fa");
    fs::write(&library, truth.replace(" length=", "#LTR/Gypsy length=")).unwrap();
    let out = dir.path().join("out");
    run_repeats(&with_suffix(&sim, ".fa"), &out, &["--library", path(&library), "-t", "2"]);
    let evaluation = score(&sim, &out);
    assert!(evaluation.recall() >= 0.85, "per-base recall {:.3}", evaluation.recall());
    assert!(evaluation.precision() >= 0.95, "precision {:.3}", evaluation.precision());
    let families = fs::read_to_string(with_suffix(&out, ".families.fa")).unwrap();
    assert!(
        families.starts_with(">fam") && families.contains("#LTR/Gypsy seed=- "),
        "{families:.200}"
    );
    let rm_out = fs::read_to_string(with_suffix(&out, ".out")).unwrap();
    assert!(rm_out.lines().skip(3).all(|l| l.contains(" LTR/Gypsy ")), "{rm_out:.400}");
    let bed = fs::read_to_string(with_suffix(&out, ".bed")).unwrap();
    assert!(bed.lines().all(|l| l.split('\t').nth(3).is_some_and(|n| n.starts_with("fam"))));
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(with_suffix(&out, ".summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["library"], path(&library));
    // The same with one thread.
    let one = dir.path().join("one");
    run_repeats(&with_suffix(&sim, ".fa"), &one, &["--library", path(&library), "-t", "1"]);
    for suffix in COMPARED {
        let a = fs::read(with_suffix(&out, suffix)).unwrap();
        assert!(a == fs::read(with_suffix(&one, suffix)).unwrap(), "{suffix} differs at -t 1");
    }
}

#[test]
fn a_bad_library_gets_one_clear_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let genome = dir.path().join("g.fa");
    fs::write(&genome, b">chr1\nACGTACGTTTGACCA\n").unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("empty.fa", b"", "no sequence"),
        ("dup.fa", b">a#DNA\nACGTACGTAC\n>a#LINE\nACGT\n", "record 2 ('a#LINE'): family name 'a'"),
        ("letters.fa", b">x\nACGJ\n", "'J'"),
    ];
    for (name, library, expected) in cases {
        let path_of_library = dir.path().join(name);
        fs::write(&path_of_library, library).unwrap();
        let prefix = dir.path().join(format!("{name}.out"));
        let out = seqflow()
            .args(["repeats", "-o"])
            .arg(&prefix)
            .arg(&genome)
            .arg("--library")
            .arg(&path_of_library)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        assert!(stderr.contains(expected) && stderr.contains(name), "{name}: {stderr}");
        assert_no_outputs(&prefix);
    }
}

#[test]
fn output_is_identical_for_any_thread_count_and_memory_budget() {
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
        // A small --memory splits the index into many buckets: the same result too.
        for (threads, memory) in [("2", "1G"), ("3", "1G"), ("2", "2M")] {
            let other = dir.path().join(format!("t{threads}m{memory}"));
            run_repeats(&fasta, &other, &["-t", threads, "--memory", memory]);
            let summary: serde_json::Value =
                serde_json::from_slice(&fs::read(with_suffix(&other, ".summary.json")).unwrap())
                    .unwrap();
            let buckets = summary["index"]["buckets"].as_u64().unwrap();
            assert_eq!(buckets > 1, memory == "2M", "{buckets} index buckets with {memory}");
            for suffix in COMPARED {
                assert!(
                    fs::read(with_suffix(&reference, suffix)).unwrap()
                        == fs::read(with_suffix(&other, suffix)).unwrap(),
                    "{suffix} differs between 1 and {threads} threads (--memory {memory})"
                );
            }
            assert_eq!(
                landscape(&reference),
                landscape(&other),
                "the landscape differs between 1 and {threads} threads (--memory {memory})"
            );
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
    assert_eq!(re_fields[0], ">fam1#Unknown", "RepeatMasker's name#class");
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

/// The landscape of a run's summary.
fn landscape(prefix: &Path) -> serde_json::Value {
    let text = fs::read_to_string(with_suffix(prefix, ".summary.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["landscape"].clone()
}

/// One copy as a file describes it: contig, 0-based start, end, strand, family, and where it
/// is on the consensus (0-based start, end) where the file says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Copy {
    contig: String,
    start: u64,
    end: u64,
    reverse: bool,
    family: String,
    consensus: Option<(u64, u64)>,
}

fn bed_copies(text: &str) -> Vec<Copy> {
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Copy {
                contig: f[0].to_owned(),
                start: f[1].parse().unwrap(),
                end: f[2].parse().unwrap(),
                reverse: f[5] == "-",
                family: f[3].to_owned(),
                consensus: None,
            }
        })
        .collect()
}

/// GFF3 features; checks the columns that do not vary and the ID numbering.
fn gff3_copies(text: &str) -> Vec<Copy> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("##gff-version 3"));
    let features: Vec<&str> = lines.filter(|l| !l.starts_with("##")).collect();
    features
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 9, "{line}");
            assert_eq!((f[1], f[2], f[7]), ("seqflow", "dispersed_repeat", "."), "{line}");
            let attributes: Vec<(&str, &str)> =
                f[8].split(';').map(|a| a.split_once('=').unwrap()).collect();
            let get = |key: &str| attributes.iter().find(|(k, _)| *k == key).unwrap().1;
            assert_eq!(get("ID"), format!("copy{}", i + 1));
            let target: Vec<&str> = get("Target").split(' ').collect();
            assert_eq!((target[0], target[3]), (get("Name"), "+"), "{line}");
            let start: u64 = f[3].parse().unwrap();
            Copy {
                contig: f[0].to_owned(),
                start: start - 1,
                end: f[4].parse().unwrap(),
                reverse: f[6] == "-",
                family: get("Name").to_owned(),
                consensus: Some((
                    target[1].parse::<u64>().unwrap() - 1,
                    target[2].parse().unwrap(),
                )),
            }
        })
        .collect()
}

/// `.out` lines (after the three header lines); checks the columns that follow from others.
fn out_copies(
    text: &str,
    genome_lengths: &HashMap<String, u64>,
    library: &HashMap<String, u64>,
) -> Vec<Copy> {
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].split_whitespace().next() == Some("SW") && lines[2].is_empty());
    lines[3..]
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 15, "{line}");
            let number = |s: &str| -> u64 { s.trim_matches(['(', ')']).parse().unwrap() };
            let percent = |s: &str| -> f64 { s.parse().unwrap() };
            for p in &f[1..4] {
                assert!((0.0..=100.0).contains(&percent(p)), "{line}");
            }
            let (contig, begin, end) = (f[4], number(f[5]), number(f[6]));
            assert_eq!(number(f[7]), genome_lengths[contig] - end, "(left) in the query: {line}");
            assert_eq!(f[10], "Unknown");
            assert_eq!(number(f[14]), i as u64 + 1, "IDs count the copies: {line}");
            let reverse = f[8] == "C";
            assert!(reverse || f[8] == "+", "{line}");
            // RepeatMasker's order: + begin end (left); C (left) end begin.
            let (c_begin, c_end, c_left) = if reverse {
                (number(f[13]), number(f[12]), f[11])
            } else {
                (number(f[11]), number(f[12]), f[13])
            };
            assert!(c_left.starts_with('('), "{line}");
            assert_eq!(number(c_left), library[f[9]] - c_end, "(left) in the consensus: {line}");
            Copy {
                contig: contig.to_owned(),
                start: begin - 1,
                end,
                reverse,
                family: f[9].to_owned(),
                consensus: Some((c_begin - 1, c_end)),
            }
        })
        .collect()
}

/// Consensus length by family name (the part of the FASTA identifier before `#`).
fn library_lengths(library: &str) -> HashMap<String, u64> {
    seqflow_sim::evaluate::parse_fasta(library.as_bytes())
        .unwrap()
        .into_iter()
        .map(|(id, seq)| {
            let (name, class) = id.split_once('#').unwrap();
            assert_eq!(class, "Unknown");
            (name.to_owned(), seq.len() as u64)
        })
        .collect()
}

#[test]
fn out_gff3_and_bed_agree_on_every_copy() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = small_config(21, 500_000);
    config.contigs = 5;
    let sim = simulate(dir.path(), "sim", &config);
    let fasta = with_suffix(&sim, ".fa");
    let out = dir.path().join("out");
    run_repeats(&fasta, &out, &[]);
    let read = |suffix: &str| fs::read_to_string(with_suffix(&out, suffix)).unwrap();
    let genome_lengths: HashMap<String, u64> = seqflow_sim::evaluate::parse_fasta(
        std::io::BufReader::new(fs::File::open(&fasta).unwrap()),
    )
    .unwrap()
    .into_iter()
    .map(|(name, seq)| (name, seq.len() as u64))
    .collect();
    let library = library_lengths(&read(".families.fa"));

    let bed = bed_copies(&read(".bed"));
    let gff3 = gff3_copies(&read(".gff3"));
    let out_table = out_copies(&read(".out"), &genome_lengths, &library);
    assert!(bed.len() >= 20, "{} copies", bed.len());
    assert_eq!(gff3.len(), bed.len());
    assert_eq!(out_table.len(), bed.len());
    for ((b, g), o) in bed.iter().zip(&gff3).zip(&out_table) {
        let located = |c: &Copy| (c.contig.clone(), c.start, c.end, c.reverse, c.family.clone());
        assert_eq!(located(g), located(b), "GFF3 and BED");
        assert_eq!(located(o), located(b), ".out and BED");
        assert_eq!(g.consensus, o.consensus, "GFF3 Target and .out consensus columns");
        let (c_start, c_end) = o.consensus.unwrap();
        assert!(c_start < c_end && c_end <= library[&b.family], "{o:?}");
    }

    // The landscape covers exactly the annotated bases, family by family.
    let summary: serde_json::Value = serde_json::from_str(&read(".summary.json")).unwrap();
    let landscape = &summary["landscape"];
    let masked = summary["masked_bases"].as_u64().unwrap();
    let binned: u64 = landscape["bases_by_divergence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .sum();
    assert_eq!(binned, masked);
    let families = landscape["families"].as_array().unwrap();
    assert_eq!(families.len(), library.len());
    let family_bases: u64 = families.iter().map(|f| f["bases"].as_u64().unwrap()).sum();
    assert_eq!(family_bases, masked);
    for family in families {
        let (divergence, kimura) =
            (family["divergence"].as_f64().unwrap(), family["kimura_divergence"].as_f64().unwrap());
        // Planted copies are at most 12% diverged; Kimura's correction only adds.
        assert!(divergence <= 20.0 && kimura >= divergence - 0.01, "{family}");
    }
}

/// Whether an external tool runs; without it a test prints SKIPPED (or fails in CI).
fn tool(name: &str, version_flag: &str) -> bool {
    let found = std::process::Command::new(name).arg(version_flag).output().is_ok();
    if !found {
        assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "{name} is required");
        eprintln!("SKIPPED: {name} not found");
    }
    found
}

#[test]
fn gff3_passes_genometools_validation() {
    if !tool("gt", "-version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = small_config(23, 300_000);
    config.contigs = 4;
    let sim = simulate(dir.path(), "sim", &config);
    let out = dir.path().join("out");
    run_repeats(&with_suffix(&sim, ".fa"), &out, &[]);
    let gff3 = with_suffix(&out, ".gff3");
    assert!(fs::read_to_string(&gff3).unwrap().contains("Target="));
    let validation = std::process::Command::new("gt")
        .args(["gff3validator", "-typecheck", "so"])
        .arg(&gff3)
        .output()
        .unwrap();
    assert!(
        validation.status.success(),
        "gt gff3validator: {}",
        String::from_utf8_lossy(&validation.stderr)
    );
}

#[test]
fn bedtools_reads_the_bed_and_pairs_it_with_the_gff3() {
    if !tool("bedtools", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path(), "sim", &small_config(25, 300_000));
    let out = dir.path().join("out");
    run_repeats(&with_suffix(&sim, ".fa"), &out, &[]);
    let bed = with_suffix(&out, ".bed");
    let bed_lines = fs::read_to_string(&bed).unwrap().lines().count();
    assert!(bed_lines > 0);
    let bedtools = |args: &[&str]| -> String {
        let run = std::process::Command::new("bedtools").args(args).output().unwrap();
        assert!(
            run.status.success(),
            "bedtools {args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        String::from_utf8(run.stdout).unwrap()
    };
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    // Copies do not overlap: merging keeps every base and every interval.
    let merged = bedtools(&["merge", "-i", &path(&bed)]);
    assert_eq!(merged.lines().count(), bed_lines - count_touching(&bed));
    // Each BED copy meets exactly one GFF3 feature with the same extent and strand, of its family.
    let pairs = bedtools(&[
        "intersect",
        "-a",
        &path(&bed),
        "-b",
        &path(&with_suffix(&out, ".gff3")),
        "-f",
        "1.0",
        "-r",
        "-s",
        "-wa",
        "-wb",
    ]);
    assert_eq!(pairs.lines().count(), bed_lines);
    for line in pairs.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f[1].parse::<u64>().unwrap() + 1, f[9].parse::<u64>().unwrap(), "{line}");
        assert_eq!(f[2], f[10], "{line}");
        assert!(f[14].contains(&format!("Name={};", f[3])), "{line}");
    }
}

/// BED intervals that start where the previous one ends (bedtools merge joins those).
fn count_touching(bed: &Path) -> usize {
    let copies = bed_copies(&fs::read_to_string(bed).unwrap());
    copies.windows(2).filter(|w| w[0].contig == w[1].contig && w[0].end == w[1].start).count()
}

#[test]
fn verbose_summary_is_in_words_and_no_limit_is_null() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path(), "sim", &small_config(5, 300_000));
    let out = dir.path().join("out");
    let output = seqflow()
        .args(["repeats", "-v", "-t", "2", "-o"])
        .arg(&out)
        .arg(with_suffix(&sim, ".fa"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // No Rust debug structs: the index and discovery statistics are sentences.
    assert!(!stderr.contains("IndexStats") && !stderr.contains(" { "), "{stderr}");
    assert!(
        stderr.contains("k-mers scanned") && stderr.contains("merged as redundant"),
        "{stderr}"
    );
    // Words of one sentence split across source lines keep single spaces.
    assert!(stderr.contains("chance matches dropped") && stderr.contains(" bucket passes, "));
    assert!(stderr.lines().all(|line| !line.trim_start().contains("  ")), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(with_suffix(&out, ".summary.json")).unwrap())
            .unwrap();
    let found = summary["discovery"]["families"].as_u64().unwrap();
    let merged = summary["redundant_families_removed"].as_u64().unwrap();
    let kept = summary["families"].as_u64().unwrap();
    assert!(found - merged >= kept, "{found} - {merged} < {kept}");
    let without = found - merged - kept;
    let said = format!(
        "{found} families found, {merged} merged as redundant, {without} left without a copy → \
         {kept} families"
    );
    assert!(stderr.contains(&said), "{said:?} missing from: {stderr}");
    // "No limit" is null, not 2^64 − 1; a given limit is a number.
    assert!(summary["params"]["max_families"].is_null(), "{}", summary["params"]);
    run_repeats(&with_suffix(&sim, ".fa"), &out, &["--max-families", "2"]);
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(with_suffix(&out, ".summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["params"]["max_families"], 2);
}

#[test]
fn a_terminal_sees_each_phase_and_how_much_of_it_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let genome = simulate(dir.path(), "g", &small_config(21, 400_000));
    let (prefix, fasta) = (dir.path().join("out"), with_suffix(&genome, ".fa"));
    let args = ["repeats", "-t", "2", "-o", path(&prefix), path(&fasta)];
    let Some((ok, said)) = on_a_terminal(&args) else { return };
    assert!(ok, "{said}");
    for phase in ["indexing k-mers", "building families", "annotating copies"] {
        assert!(said.contains(phase), "{phase:?} missing from {said:?}");
    }
    assert!(said.contains("100% (scan"), "the index reports its scans: {said:?}");
    assert!(said.contains("% of the genome"), "{said:?}");
    // Quiet runs and runs without a terminal draw nothing.
    let Some((ok, said)) = on_a_terminal(&[&args[..], &["-q", "-f"]].concat()) else { return };
    assert!(ok && !said.contains("k-mers"), "{said:?}");
}
