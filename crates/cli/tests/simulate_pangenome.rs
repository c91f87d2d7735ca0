//! `seqflow simulate pangenome` through the real binary: the files it writes, identical
//! bytes for a seed, refusal to overwrite, one-line errors for a bad base genome, and the
//! reference C++ agc reading the haplotypes back exactly (uppercased, as agc stores them).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

fn seqflow() -> Command {
    Command::cargo_bin("seqflow").unwrap()
}

mod common;

use common::cli::agc;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A two-contig base genome with soft-masked runs and N gaps, from the repo's generator.
fn write_base(dir: &Path) -> PathBuf {
    let mut config = seqflow_sim::FastaConfig::new(3);
    config.records = 2;
    config.min_length = 60_000;
    config.max_length = 90_000;
    config.soft_mask = Some(seqflow_sim::RunSpec::new(2_000, 50, 500));
    config.n_runs = Some(seqflow_sim::RunSpec::new(30_000, 10, 100));
    let mut fasta = Vec::new();
    seqflow_sim::write_fasta(&config, &mut fasta).unwrap();
    let base = dir.join("base.fa");
    fs::write(&base, fasta).unwrap();
    base
}

fn simulate(base: &Path, out: &Path, seed: &str, extra: &[&str]) -> std::process::Output {
    let args = ["simulate", "pangenome", "--base", path(base), "-n", "3", "--seed", seed];
    seqflow()
        .args(args)
        .args(["-o", path(out), "--sv-diversity", "1e-4", "--ambiguity-rate", "1e-3"])
        .args(extra)
        .output()
        .unwrap()
}

const FILES: [&str; 5] = ["hap01.fa", "hap02.fa", "hap03.fa", "truth.tsv", "tree.nwk"];

#[test]
fn writes_every_file_identically_for_a_seed_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let base = write_base(dir.path());
    let (first, second) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&first, &second] {
        let run = simulate(&base, out, "9", &[]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let mut listed: Vec<String> = fs::read_dir(&first)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listed.sort();
    let mut expected = FILES.map(String::from).to_vec();
    expected.sort();
    assert_eq!(listed, expected, "no temporary file may remain");
    for name in FILES {
        assert!(
            fs::read(first.join(name)).unwrap() == fs::read(second.join(name)).unwrap(),
            "{name}"
        );
    }
    let hap = fs::read_to_string(first.join("hap02.fa")).unwrap();
    let names: Vec<&str> = hap.lines().filter(|l| l.starts_with('>')).collect();
    assert_eq!(names, [">chr1", ">chr2"]);
    assert!(hap.lines().all(|l| l.len() <= 80));

    let before = fs::read(first.join("hap01.fa")).unwrap();
    let again = simulate(&base, &first, "10", &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(fs::read(first.join("hap01.fa")).unwrap(), before);
    let forced = simulate(&base, &first, "10", &["--force"]);
    assert!(forced.status.success());
    assert_ne!(fs::read(first.join("hap01.fa")).unwrap(), before);
}

#[test]
fn a_bad_base_genome_is_one_line_naming_file_and_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("bad.fa");
    fs::write(&base, ">c1\nACGT\n>c2\nACGT\nAC@T\n").unwrap();
    let out = dir.path().join("out");
    let run = simulate(&base, &out, "9", &[]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.fa") && stderr.contains("line 5"), "{stderr}");
    assert!(!out.exists());
}

fn letters(fasta: &str) -> String {
    fasta.lines().filter(|l| !l.starts_with('>')).collect::<String>()
}

#[test]
fn agc_archives_the_haplotypes_and_returns_them_uppercased() {
    let Some(agc) = agc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let base = write_base(dir.path());
    let out = dir.path().join("haps");
    assert!(simulate(&base, &out, "9", &[]).status.success());
    let archive = dir.path().join("haps.agc");
    let haps: Vec<PathBuf> = FILES[..3].iter().map(|f| out.join(f)).collect();
    let create =
        Process::new(&agc).args(["create", "-o", path(&archive)]).args(&haps).output().unwrap();
    assert!(create.status.success(), "{}", String::from_utf8_lossy(&create.stderr));
    for (name, hap) in ["hap01", "hap02", "hap03"].iter().zip(&haps) {
        let get = Process::new(&agc).args(["getset", path(&archive), name]).output().unwrap();
        assert!(get.status.success());
        let ours = fs::read_to_string(hap).unwrap();
        assert!(ours.bytes().any(|b| b.is_ascii_lowercase()), "soft-masking lost");
        assert!(ours.bytes().any(|b| b"RYSWKMBDHV".contains(&b)), "no IUPAC code");
        let restored = String::from_utf8(get.stdout).unwrap();
        assert!(letters(&restored) == letters(&ours).to_ascii_uppercase(), "{name} differs");
    }
}
