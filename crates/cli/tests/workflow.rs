//! The Snakemake workflow of `workflows/qc/`: run with `snakemake --cores 2` on the shipped
//! examples in a temporary directory, its sharded samples must give the reports of one
//! `seqflow qc` run, and MultiQC's tables must hold our numbers.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::Value;

mod common;

use common::cli::tool;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The value of `column` for `sample` in a MultiQC data table.
fn multiqc_value(table: &str, sample: &str, column: &str) -> f64 {
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let at = header.iter().position(|h| *h == column).unwrap_or_else(|| panic!("{column}"));
    let row = lines.find(|l| l.split('\t').next() == Some(sample)).expect(sample);
    row.split('\t').nth(at).unwrap().parse().unwrap()
}

#[test]
fn snakemake_runs_the_qc_workflow_on_the_examples() {
    if !tool("snakemake", &["--version"]) || !tool("multiqc", &["--version"]) {
        return;
    }
    let seqflow = assert_cmd::cargo::cargo_bin("seqflow");
    let dir = tempfile::tempdir().unwrap();
    let snakefile = repo().join("workflows/qc/Snakefile");
    // Batches of 64 KiB, so that every shard of the examples gets records.
    let run = Process::new("snakemake")
        .arg("-s")
        .arg(&snakefile)
        .args(["--cores", "2", "--directory"])
        .arg(dir.path())
        .arg("--config")
        .arg(format!("seqflow={}", seqflow.display()))
        .args(["batch_size=64K", "threads=2"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "snakemake: {}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let results = dir.path().join("results");
    // The sample sheet shards `pair` in 3 and `reads100` in 2: each shard counted records, and
    // the merged reports equal one run over the whole sample.
    let examples = repo().join("workflows/qc");
    let data = repo().join("data/examples");
    let samples: [(&str, Vec<PathBuf>, usize); 3] = [
        ("reads", vec![data.join("reads.fq")], 1),
        ("reads100", vec![data.join("reads_100bp.fq.gz")], 2),
        (
            "pair",
            vec![examples.join("example/pair_R1.fq.gz"), examples.join("example/pair_R2.fq.gz")],
            3,
        ),
    ];
    let general =
        fs::read_to_string(results.join("multiqc/multiqc_data/multiqc_general_stats.txt")).unwrap();
    for (sample, reads, shards) in &samples {
        for i in 1..=*shards {
            if *shards > 1 {
                let partial = results.join(format!("shards/{sample}.{i}-of-{shards}.partial.json"));
                let state: Value = serde_json::from_slice(&fs::read(&partial).unwrap()).unwrap();
                let counted = state["state"]["read1"]["reads"].as_u64().unwrap();
                assert!(counted > 0, "{sample} shard {i} of {shards} is empty");
            }
        }
        let whole = dir.path().join(format!("whole_{sample}"));
        let out = Process::new(&seqflow)
            .arg("qc")
            .args(reads)
            .arg("-o")
            .arg(&whole)
            .args(["--sample", sample, "-q"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for ext in ["json", "html"] {
            let ours = fs::read(results.join(format!("qc/{sample}.{ext}"))).unwrap();
            assert!(ours == fs::read(whole.with_extension(ext)).unwrap(), "{sample}.{ext} differs");
        }
        // MultiQC's general statistics hold our numbers.
        let report: Value =
            serde_json::from_slice(&fs::read(whole.with_extension("json")).unwrap()).unwrap();
        let dup = report["duplication"]["rate"].as_f64().unwrap() * 100.0;
        let gc = report["summary"]["after_filtering"]["gc_content"].as_f64().unwrap() * 100.0;
        let length = report["summary"]["before_filtering"]["read1_mean_length"].as_f64().unwrap();
        assert!((multiqc_value(&general, sample, "fastp-pct_duplication") - dup).abs() < 1e-9);
        assert!(
            (multiqc_value(&general, sample, "fastp-after_filtering_gc_content") - gc).abs() < 1e-9
        );
        assert_eq!(
            multiqc_value(&general, sample, "fastp-before_filtering_read1_mean_length"),
            length
        );
    }
    assert!(results.join("multiqc/multiqc_report.html").exists());
}
