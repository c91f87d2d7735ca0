//! `seqflow stats --device` and `seqflow qc --device`: the GPU's output is byte-identical to the
//! CPU's, and the GPU's absence is one line on stderr.
//!
//! Tests that need a GPU adapter run on whatever the machine has; CI installs Mesa's software
//! Vulkan driver (lavapipe). Without an adapter they print `SKIPPED` and pass, except under
//! `SEQFLOW_REQUIRE_TOOLS=1` (set by `.ci/run`), where they fail.
#![cfg(feature = "gpu")]

mod common;

use std::path::{Path, PathBuf};

use common::cli::{assert_one_line_error, path, run, run_ok, seqflow};
use common::pairs::paired_fastq;

/// Hides every Vulkan driver from the loader: the machine then has no adapter.
const NO_DRIVER: (&str, &str) = ("VK_ICD_FILENAMES", "/nonexistent/icd.json");

/// True when `stats --device gpu` finds an adapter; otherwise SKIPPED, or a failure under
/// SEQFLOW_REQUIRE_TOOLS=1 (CI installs lavapipe).
fn gpu() -> bool {
    let out = run(&["stats", "--device", "gpu", "-q", "-"]);
    let found = out.status.success();
    if !found {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(),
            "a GPU adapter (Debian: mesa-vulkan-drivers) is required: {stderr}"
        );
        eprintln!("SKIPPED: no GPU adapter ({})", stderr.trim());
    }
    found
}

/// `stats ARGS` on the CPU and on the GPU: the same bytes on stdout, nothing on stderr.
fn assert_same_on_both(args: &[&str]) -> Vec<u8> {
    let on = |device| {
        let out = seqflow().args(["stats", "--device", device]).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && stderr.is_empty(), "{device} {args:?}: {stderr}");
        out.stdout
    };
    let cpu = on("cpu");
    let gpu = on("gpu");
    assert!(
        cpu == gpu,
        "{args:?}\ncpu:\n{}gpu:\n{}",
        String::from_utf8_lossy(&cpu),
        String::from_utf8_lossy(&gpu)
    );
    cpu
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/examples");
    let mut files: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    files
}

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }
}

/// FASTQ with reads of these lengths: letters of every class the statistics count (either
/// case, gaps, IUPAC codes) and every Phred+33 quality from `!` to `~`.
fn fastq(lengths: &[usize], seed: u64) -> Vec<u8> {
    const LETTERS: &[u8] = b"ACGTNacgtn-. RYSWKM";
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    for (i, &len) in lengths.iter().enumerate() {
        out.extend_from_slice(format!("@read{i} length={len}\n").as_bytes());
        out.extend((0..len).map(|_| LETTERS[rng.below(LETTERS.len())]));
        out.extend_from_slice(b"\n+\n");
        out.extend((0..len).map(|_| b'!' + rng.below(94) as u8));
        out.push(b'\n');
    }
    out
}

#[test]
fn shipped_examples_give_the_same_table() {
    if !gpu() {
        return;
    }
    let files = examples();
    assert!(files.len() >= 4, "{files:?}");
    let mut args: Vec<&str> = vec!["-a", "-T"];
    args.extend(files.iter().map(|file| path(file)));
    let table = assert_same_on_both(&args);
    assert!(String::from_utf8_lossy(&table).contains("FASTQ"), "the examples have reads");
    let mut json: Vec<&str> = vec!["--format", "json", "-t", "1"];
    json.extend(files.iter().map(|file| path(file)));
    assert_same_on_both(&json);
}

#[test]
fn every_quality_value_and_edge_cases() {
    if !gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Empty reads, single bases, reads longer than a workgroup's 16 KiB tile, and one read
    // longer than a chunk's 2 MiB half, among ordinary ones.
    let mut lengths: Vec<usize> = (0..4000).map(|i| [150, 0, 1, 151, 2, 75][i % 6]).collect();
    lengths.extend([16 << 10, (16 << 10) + 1, 100_000, 0, 1, (2 << 20) + 3, 150]);
    let every = dir.path().join("every.fq");
    std::fs::write(&every, fastq(&lengths, 7)).unwrap();
    let empty = dir.path().join("empty.fq");
    std::fs::write(&empty, b"").unwrap();
    let one = dir.path().join("one.fq");
    std::fs::write(&one, b"@only\nG\n+\n~\n").unwrap();
    let blank = dir.path().join("blank.fq");
    std::fs::write(&blank, b"@e1\n\n+\n\n@e2\n\n+\n\n").unwrap();
    let files = [&every, &empty, &one, &blank].map(|file| path(file));
    for batch_size in ["1K", "64K", "1M"] {
        for threads in ["1", "2"] {
            let mut args = vec!["-a", "-T", "--batch-size", batch_size, "-t", threads];
            args.extend(files);
            assert_same_on_both(&args);
        }
    }
    // All 94 quality values are in the input, so each one reached the device's histogram.
    let text = std::fs::read(&every).unwrap();
    assert!((b'!'..=b'~').all(|q| text.contains(&q)));
}

#[test]
fn simulated_reads_and_gzip_input() {
    if !gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reads = dir.path().join("reads.fq");
    let binned = dir.path().join("binned.fq");
    run_ok(&["simulate", "fastq", "--seed", "3", "--reads", "20000", "-o", path(&reads)]);
    run_ok(&[
        "simulate",
        "fastq",
        "--seed",
        "4",
        "--reads",
        "3000",
        "--read-length",
        "20K",
        "--binned-qualities",
        "-o",
        path(&binned),
    ]);
    assert_same_on_both(&["-a", "-T", path(&reads), path(&binned)]);
    let gz = examples().into_iter().find(|file| path(file).ends_with(".fq.gz")).unwrap();
    assert_same_on_both(&["-a", "--no-mmap", "-t", "2", path(&gz)]);
}

#[test]
fn a_failed_file_leaves_nothing_on_the_device_for_the_next() {
    if !gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Many batches of good reads, then a record whose quality is too short: the run fails
    // after the device has been handed letters of this file.
    let broken = dir.path().join("broken.fq");
    let good = dir.path().join("good.fq");
    std::fs::write(&broken, &{
        let mut data = fastq(&[150; 2000], 11);
        data.extend_from_slice(b"@bad\nACGT\n+\nII\n");
        data
    })
    .unwrap();
    std::fs::write(&good, fastq(&[100; 50], 12)).unwrap();
    let on = |device| {
        let args = ["stats", "-a", "-T", "--batch-size", "1K", "--device", device];
        let out = seqflow().args(args).args([path(&broken), path(&good)]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let (cpu, gpu) = (on("cpu"), on("gpu"));
    assert!(String::from_utf8_lossy(&cpu).contains("good.fq"));
    assert_eq!(String::from_utf8_lossy(&gpu), String::from_utf8_lossy(&cpu));
}

#[test]
fn metrics_split_the_device_time() {
    if !gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("metrics.json");
    let reads = examples().into_iter().find(|file| path(file).ends_with("reads.fq")).unwrap();
    run_ok(&["stats", "-a", "--device", "gpu", "--metrics", path(&metrics), path(&reads)]);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    let device = &json[0]["device"];
    assert!(device["chunks"].as_u64().unwrap() >= 1, "{json}");
    let size = std::fs::metadata(&reads).unwrap().len();
    let bytes = device["bytes"].as_u64().unwrap();
    assert!(bytes > size / 2 && bytes < size, "sequence and quality bytes only: {json}");
    for key in ["pack_secs", "wait_secs", "copy_secs", "kernel_secs", "adapter"] {
        assert!(device.get(key).is_some(), "{key} missing: {json}");
    }
    // On the CPU there is no device object.
    run_ok(&["stats", "-f", "--metrics", path(&metrics), path(&reads)]);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    assert!(json[0].get("device").is_none(), "{json}");
}

#[test]
fn gpu_without_an_adapter_is_a_one_line_error() {
    let reads = examples().into_iter().find(|file| path(file).ends_with("reads.fq")).unwrap();
    let out = seqflow()
        .args(["stats", "--device", "gpu", path(&reads)])
        .env(NO_DRIVER.0, NO_DRIVER.1)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["--device gpu", "no GPU adapter"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn auto_without_an_adapter_falls_back_with_one_line() {
    let reads = examples().into_iter().find(|file| path(file).ends_with("reads.fq")).unwrap();
    let cpu = run_ok(&["stats", "-a", path(&reads)]);
    let out = seqflow()
        .args(["stats", "-a", "--device", "auto", path(&reads)])
        .env(NO_DRIVER.0, NO_DRIVER.1)
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no GPU adapter") && stderr.contains("on the CPU"), "{stderr}");
    assert_eq!(out.stdout, cpu);
    // -q silences the note.
    let quiet = seqflow()
        .args(["stats", "-q", "--device", "auto", path(&reads)])
        .env(NO_DRIVER.0, NO_DRIVER.1)
        .output()
        .unwrap();
    assert!(quiet.status.success() && quiet.stderr.is_empty());
}

#[test]
fn auto_with_only_a_software_renderer_uses_the_cpu_with_one_line() {
    if !gpu() {
        return;
    }
    let reads = examples().into_iter().find(|file| path(file).ends_with("reads.fq")).unwrap();
    // Also without XDG_RUNTIME_DIR, where Mesa's Wayland probe would print two lines of its own.
    let out = seqflow()
        .args(["stats", "--device", "auto", path(&reads)])
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // lavapipe in CI; a machine with a hardware GPU uses it silently.
    assert!(stderr.lines().count() <= 1, "{stderr}");
    if stderr.contains("software renderer") {
        assert!(stderr.contains("on the CPU"), "{stderr}");
    }
}

/// `qc INPUTS ARGS` on the CPU and on the GPU: the same PREFIX.json and PREFIX.html, nothing on
/// stderr. Returns the JSON report.
fn assert_qc_same_on_both(inputs: &[&Path], args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let on = |device: &str| {
        let prefix = dir.path().join(device);
        let out = seqflow()
            .arg("qc")
            .args(inputs.iter().map(|input| path(input)))
            .args(["--device", device, "--sample", "s", "-o", path(&prefix)])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && stderr.is_empty(), "{device} {args:?}: {stderr}");
        let read = |extension| std::fs::read(prefix.with_extension(extension)).unwrap();
        (read("json"), read("html"))
    };
    let cpu = on("cpu");
    let gpu = on("gpu");
    assert!(
        cpu.0 == gpu.0,
        "{inputs:?} {args:?}: the JSON differs\ncpu:\n{}\ngpu:\n{}",
        String::from_utf8_lossy(&cpu.0),
        String::from_utf8_lossy(&gpu.0)
    );
    assert!(cpu.1 == gpu.1, "{inputs:?} {args:?}: the HTML differs");
    serde_json::from_slice(&cpu.0).unwrap()
}

/// Mean quality per cycle of read 1, from a qc report.
fn mean_quality_curve(report: &serde_json::Value) -> Vec<f64> {
    let curve = &report["read1_before_filtering"]["quality_curves"]["mean"];
    curve.as_array().unwrap().iter().map(|value| value.as_f64().unwrap()).collect()
}

#[test]
fn qc_of_the_shipped_reads_is_the_same_on_the_gpu() {
    if !gpu() {
        return;
    }
    let reads: Vec<PathBuf> =
        examples().into_iter().filter(|file| path(file).contains(".fq")).collect();
    assert_eq!(reads.len(), 2, "plain and gzip reads: {reads:?}");
    for reads in &reads {
        for threads in ["1", "2"] {
            let report = assert_qc_same_on_both(&[reads], &["-t", threads]);
            let cycles = report["read1_before_filtering"]["total_cycles"].as_u64().unwrap();
            assert!(cycles >= 100, "{cycles}");
            assert_eq!(mean_quality_curve(&report).len() as u64, cycles);
        }
    }
}

#[test]
fn qc_of_pairs_is_the_same_on_the_gpu() {
    if !gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Read 2 longer than read 1, so that the mates' tables differ in size.
    let (r1, _) = paired_fastq(5, 3000, 150);
    let (_, r2) = paired_fastq(5, 3000, 251);
    let (p1, p2) = (dir.path().join("s_R1.fq"), dir.path().join("s_R2.fq"));
    std::fs::write(&p1, &r1).unwrap();
    std::fs::write(&p2, &r2).unwrap();
    let mut gzipped = Vec::new();
    for (plain, text) in [(&p1, &r1), (&p2, &r2)] {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text).unwrap();
        let gz = plain.with_extension("fq.gz");
        std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
        gzipped.push(gz);
    }
    for threads in ["1", "2"] {
        for batch_size in ["8K", "1M"] {
            let args = ["-t", threads, "--batch-size", batch_size];
            let report = assert_qc_same_on_both(&[&p1, &p2], &args);
            let mates = [&report["read1_before_filtering"], &report["read2_before_filtering"]];
            assert_eq!(mates.map(|mate| mate["total_cycles"].as_u64()), [Some(150), Some(251)]);
        }
        assert_qc_same_on_both(&[&gzipped[0], &gzipped[1]], &["-t", threads]);
    }
}

#[test]
fn qc_of_every_quality_value_and_edge_cases_is_the_same_on_the_gpu() {
    if !gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Empty reads and single bases among ordinary ones; reads longer than a workgroup's 16 KiB
    // tile, than the 1,000 cycles the report tells apart (later bases count in the last), and
    // than a chunk's 1.33 MiB third, so that one read spans chunks.
    let mut lengths: Vec<usize> = (0..4000).map(|i| [150, 0, 1, 151, 2, 999, 75][i % 7]).collect();
    lengths.extend([1000, 1001, 16 << 10, (16 << 10) + 1, 100_000, 0, 1, (2 << 20) + 3, 150]);
    let every = dir.path().join("every.fq");
    std::fs::write(&every, fastq(&lengths, 7)).unwrap();
    let text = std::fs::read(&every).unwrap();
    assert!((b'!'..=b'~').all(|q| text.contains(&q)), "every Phred+33 quality occurs");
    let one = dir.path().join("one.fq");
    std::fs::write(&one, b"@only\nG\n+\n~\n").unwrap();
    let blank = dir.path().join("blank.fq");
    std::fs::write(&blank, b"@e1\n\n+\n\n@e2\n\n+\n\n").unwrap();
    let empty = dir.path().join("empty.fq");
    std::fs::write(&empty, b"").unwrap();
    for threads in ["1", "2"] {
        // Gaps and spaces are not IUPAC letters: this input is read without the checks.
        let args = ["--no-validate", "-t", threads, "--batch-size", "64K"];
        let report = assert_qc_same_on_both(&[&every], &args);
        assert_eq!(report["read1_before_filtering"]["total_cycles"], 1000);
        for small in [&one, &blank, &empty] {
            assert_qc_same_on_both(&[small], &["-t", threads]);
        }
    }
    // Partial states too: their per-cycle counters come from the device.
    let partial = |device: &str| {
        let prefix = dir.path().join(format!("partial_{device}"));
        let args = ["qc", path(&every), "--no-validate", "--partial", "--device", device];
        run_ok(&[&args[..], &["--sample", "s", "-o", path(&prefix)]].concat());
        std::fs::read(prefix.with_extension("partial.json")).unwrap()
    };
    assert!(partial("cpu") == partial("gpu"), "the partial states differ");
}

#[test]
fn qc_metrics_split_the_device_time() {
    if !gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reads = examples().into_iter().find(|file| path(file).ends_with("reads.fq")).unwrap();
    let (metrics, prefix) = (dir.path().join("metrics.json"), dir.path().join("out"));
    let args = ["qc", path(&reads), "-o", path(&prefix), "--metrics", path(&metrics)];
    run_ok(&[&args[..], &["--device", "gpu"]].concat());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    // The pipeline's report as on the CPU, and the device's beside it.
    assert!(json["source"]["items"].as_u64().unwrap() >= 1, "{json}");
    let device = &json["device"];
    assert!(device["chunks"].as_u64().unwrap() >= 1, "{json}");
    let size = std::fs::metadata(&reads).unwrap().len();
    let bytes = device["bytes"].as_u64().unwrap();
    assert!(bytes > size / 2 && bytes < size, "sequence, quality and 8 B per read: {json}");
    for key in ["pack_secs", "wait_secs", "copy_secs", "kernel_secs", "adapter"] {
        assert!(device.get(key).is_some(), "{key} missing: {json}");
    }
    run_ok(&[&args[..], &["-f"]].concat());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    assert!(json.get("device").is_none(), "no device object on the CPU: {json}");
}

#[test]
fn qc_without_an_adapter_fails_on_gpu_and_falls_back_on_auto() {
    let dir = tempfile::tempdir().unwrap();
    let reads = examples().into_iter().find(|file| path(file).ends_with("reads.fq")).unwrap();
    let prefix = |name: &str| dir.path().join(name);
    let out = seqflow()
        .args(["qc", path(&reads), "--device", "gpu", "-o", path(&prefix("gpu"))])
        .env(NO_DRIVER.0, NO_DRIVER.1)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["--device gpu", "no GPU adapter"]);
    assert!(!prefix("gpu").with_extension("json").exists(), "no report after the error");
    run_ok(&["qc", path(&reads), "-o", path(&prefix("cpu"))]);
    let out = seqflow()
        .args(["qc", path(&reads), "--device", "auto", "-o", path(&prefix("auto"))])
        .env(NO_DRIVER.0, NO_DRIVER.1)
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no GPU adapter") && stderr.contains("on the CPU"), "{stderr}");
    for extension in ["json", "html"] {
        let read = |name: &str| std::fs::read(prefix(name).with_extension(extension)).unwrap();
        assert!(read("auto") == read("cpu"), "{extension} differs");
    }
}

#[test]
fn qc_auto_with_only_a_software_renderer_uses_the_cpu_with_one_line() {
    if !gpu() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reads = examples().into_iter().find(|file| path(file).ends_with("reads.fq")).unwrap();
    let (auto, metrics) = (dir.path().join("auto"), dir.path().join("metrics.json"));
    let out = seqflow()
        .args(["qc", path(&reads), "--device", "auto", "-o", path(&auto)])
        .args(["--metrics", path(&metrics)])
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // lavapipe in CI: the CPU counts, and says so once; a hardware GPU is used silently.
    assert!(stderr.lines().count() <= 1, "{stderr}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    if stderr.contains("software renderer") {
        assert!(stderr.contains("on the CPU"), "{stderr}");
        assert!(json.get("device").is_none(), "counted on the CPU: {json}");
    } else {
        assert!(json["device"]["chunks"].as_u64().unwrap() >= 1, "{json}");
    }
}
