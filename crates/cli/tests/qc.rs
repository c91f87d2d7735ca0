//! `seqflow qc`: determinism, partial + merge, pairing errors, validation, and the readers of
//! its output (MultiQC's fastp and seqkit modules, Debian fastp's numbers, a headless browser).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

use common::cli::{on_a_terminal, tool};
use common::pairs::paired_fastq;

fn seqflow() -> Command {
    Command::cargo_bin("seqflow").unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes a paired example into `dir`: (read 1, read 2).
fn write_pairs(dir: &Path, seed: u64, pairs: usize) -> (PathBuf, PathBuf) {
    let (r1, r2) = paired_fastq(seed, pairs, 150);
    let (p1, p2) = (dir.join("s_R1.fq"), dir.join("s_R2.fq"));
    fs::write(&p1, r1).unwrap();
    fs::write(&p2, r2).unwrap();
    (p1, p2)
}

fn qc(args: &[&str]) {
    let out = seqflow().arg("qc").args(args).arg("-q").output().unwrap();
    assert!(out.status.success(), "qc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[test]
fn output_is_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 7, 3000);
    let mut outputs = Vec::new();
    // Mapped files (the default) and read(2) (`--no-mmap`) give the same report.
    for (threads, reading) in [("1", "--no-mmap"), ("2", "-f"), ("5", "-f"), ("2", "--no-mmap")] {
        let prefix = dir.path().join(format!("t{threads}{reading}"));
        let args = ["-o", path(&prefix), "-t", threads, "--batch-size", "8K", reading];
        qc(&[&[path(&r1), path(&r2)], &args[..]].concat());
        outputs.push((
            fs::read(prefix.with_extension("json")).unwrap(),
            fs::read(prefix.with_extension("html")).unwrap(),
        ));
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
    let report: Value = serde_json::from_slice(&outputs[0].0).unwrap();
    assert_eq!(report["summary"]["before_filtering"]["total_reads"], 6000);
    // ~3% duplicated pairs plus 2% of one overrepresented pair.
    let rate = report["duplication"]["rate"].as_f64().unwrap();
    assert!((0.03..0.08).contains(&rate), "duplication {rate}");
    let overrepresented =
        report["read1_before_filtering"]["overrepresented_sequences"].as_object().unwrap();
    // The one sequence in 2% of pairs stands out (~60 reads); duplicates reach a few reads.
    let mut counts: Vec<u64> = overrepresented.values().map(|v| v.as_u64().unwrap()).collect();
    counts.sort_unstable();
    assert!(counts.pop().unwrap() >= 40 && counts.iter().all(|&c| c < 10), "{overrepresented:?}");
    // Inserts of 60..360 with 150-base reads: 30% of pairs read into the adapter.
    let adapter = &report["adapter_cutting"];
    assert!(
        adapter["read1_adapter_sequence"].as_str().unwrap().starts_with("AGATCGGAAGAGCACACGTC")
    );
    assert!(
        adapter["read2_adapter_sequence"].as_str().unwrap().starts_with("AGATCGGAAGAGCGTCGTGT")
    );
    let insert = &report["insert_size"];
    assert!(insert["unknown"].as_u64().unwrap() > 100);
    let histogram = insert["histogram"].as_array().unwrap();
    let overlapping: u64 = histogram.iter().map(|v| v.as_u64().unwrap()).sum();
    assert!(overlapping > 2000, "{overlapping}");
    assert_eq!(histogram[59].as_u64(), Some(0));
}

#[test]
fn merged_partials_equal_one_run_over_the_whole_input() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 11, 2500);
    let whole = dir.path().join("whole");
    qc(&[path(&r1), path(&r2), "-o", path(&whole), "--sample", "s", "-t", "2"]);
    // Three shards cut at uneven record counts.
    let (t1, t2) = (fs::read(&r1).unwrap(), fs::read(&r2).unwrap());
    let records = |text: &[u8]| -> Vec<Vec<u8>> {
        let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
        lines.chunks(4).map(|c| c.concat()).collect()
    };
    let (rec1, rec2) = (records(&t1), records(&t2));
    let mut partials = Vec::new();
    for (i, range) in [0..100, 100..1801, 1801..2500].into_iter().enumerate() {
        let (s1, s2) =
            (dir.path().join(format!("p{i}_1.fq")), dir.path().join(format!("p{i}_2.fq")));
        fs::write(&s1, rec1[range.clone()].concat()).unwrap();
        fs::write(&s2, rec2[range].concat()).unwrap();
        let prefix = dir.path().join(format!("p{i}"));
        qc(&[path(&s1), path(&s2), "-o", path(&prefix), "--sample", "s", "--partial", "-t", "3"]);
        partials.push(dir.path().join(format!("p{i}.partial.json")));
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["merge"];
    partials.iter().rev().for_each(|p| args.push(path(p)));
    args.extend(["-o", path(&merged)]);
    qc(&args);
    for ext in ["json", "html"] {
        let (a, b) = (whole.with_extension(ext), merged.with_extension(ext));
        assert!(fs::read(&a).unwrap() == fs::read(&b).unwrap(), "{ext} differs");
    }
}

/// A partial file whose counters do not have the shape of this version's (a cycle table of
/// broken or too many cycles, a known-adapter list of another length) is refused in one line,
/// and nothing is written.
#[test]
fn damaged_partial_files_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, _) = write_pairs(dir.path(), 5, 200);
    let prefix = dir.path().join("p");
    qc(&[path(&r1), "-o", path(&prefix), "--partial"]);
    let good = json(&dir.path().join("p.partial.json"));
    let cycles = good["state"]["read1"]["cycles"].as_array().unwrap().len();
    assert_eq!(cycles % 470, 0);
    type Damage = fn(&mut Value);
    let damages: [(&str, Damage); 6] = [
        ("not whole cycles", |v| {
            v["state"]["read1"]["cycles"].as_array_mut().unwrap().pop();
        }),
        ("at most 1000 of them", |v| {
            v["state"]["read1"]["cycles"] = Value::from(vec![0u64; 470 * 1001])
        }),
        ("expected an array of length 6", |v| {
            v["state"]["read1"]["adapters"]["first_hit"].as_array_mut().unwrap().pop();
        }),
        // Counts per name-hash level of one sequence: a short list panicked when thinned.
        ("expected an array of length 24", |v| {
            let copies = v["state"]["read1"]["overrepresented"]["copies"].as_object_mut();
            *copies.unwrap().values_mut().next().unwrap() = Value::from(vec![1u64]);
        }),
        ("a sample level of 4000000000 (at most 23)", |v| {
            v["state"]["read1"]["overrepresented"]["level"] = Value::from(4_000_000_000u64);
        }),
        ("a sample level of 65 (at most 64)", |v| {
            v["state"]["duplication"]["level"] = Value::from(65);
        }),
    ];
    for (expected, damage) in damages {
        let mut bad = good.clone();
        damage(&mut bad);
        let file = dir.path().join("bad.partial.json");
        fs::write(&file, serde_json::to_vec(&bad).unwrap()).unwrap();
        let out = dir.path().join("merged");
        let error = run_err(&["merge", path(&file), "-o", path(&out)]);
        assert!(error.contains("bad.partial.json") && error.contains(expected), "{error}");
        assert!(!out.with_extension("json").exists() && !out.with_extension("html").exists());
    }
}

fn run_err(args: &[&str]) -> String {
    let out = seqflow().arg("qc").args(args).arg("-q").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn pairs_out_of_sync_name_both_records() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 3, 50);
    let prefix = dir.path().join("out");
    // Read 2 lacks its last record.
    let text = fs::read_to_string(&r2).unwrap();
    let short: Vec<&str> = text.lines().collect();
    let short_path = dir.path().join("short_R2.fq");
    fs::write(&short_path, short[..short.len() - 4].join("\n") + "\n").unwrap();
    let error = run_err(&[path(&r1), path(&short_path), "-o", path(&prefix)]);
    assert!(
        error.contains("out of sync") && error.contains("line 197, record 'pair49/1'"),
        "{error}"
    );
    assert!(error.contains("short_R2.fq: line 193, record 'pair48/2'"), "{error}");
    // Read 2 in another order: the first pair names differ.
    let swapped = dir.path().join("swapped_R2.fq");
    let lines: Vec<&str> = text.lines().collect();
    let reordered = [&lines[4..8], &lines[0..4], &lines[8..]].concat();
    fs::write(&swapped, reordered.join("\n") + "\n").unwrap();
    let error = run_err(&[path(&r1), path(&swapped), "-o", path(&prefix)]);
    assert!(error.contains("record 'pair0/1'") && error.contains("record 'pair1/2'"), "{error}");
    assert!(!prefix.with_extension("json").exists());
}

#[test]
fn bad_quality_and_letters_are_refused_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.fq");
    let prefix = dir.path().join("out");
    fs::write(&input, "@a\nACGT\n+\nIIII\n@b\nACGT\n+\nII\x7fI\n").unwrap();
    let error = run_err(&[path(&input), "-o", path(&prefix)]);
    assert!(error.contains("line 8, record 'b'") && error.contains("Phred+33"), "{error}");
    fs::write(&input, "@a\nACGT\n+\nIIII\n@b\nAC!T\n+\nIIII\n").unwrap();
    let error = run_err(&[path(&input), "-o", path(&prefix)]);
    assert!(error.contains("record 'b'") && error.contains("IUPAC"), "{error}");
    qc(&[path(&input), "-o", path(&prefix), "--no-validate"]);
}

fn largest_difference(ours: &Value, theirs: &Value) -> f64 {
    let (a, b) = (ours.as_array().unwrap(), theirs.as_array().unwrap());
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x.as_f64().unwrap() - y.as_f64().unwrap()).abs())
        .fold(0.0, f64::max)
}

/// Compares our report with Debian fastp's where the definitions coincide. Allowed differences:
/// - fastp prints per-cycle curves with 4 decimals and rates with 6: curves within 1e-4,
///   rates within 1e-6; counts (reads, bases, Q20/Q30 bases) exactly;
/// - duplication: fastp 0.23 sets bits of every read's (pair's) whole sequence in a 1 GB Bloom
///   filter and counts the reads whose bits were all set before, i.e. `1 − distinct / reads`
///   plus its false positives (≈ (distinct / 2^32)², nil here). We count the same ratio exactly
///   while the input has at most `DUPLICATION_CAPACITY` distinct sequences (these inputs), so
///   within 1e-6; sampled estimates are compared in `sampled_duplication_agrees_with_fastp`;
/// - `read*_mean_length`, insert sizes, adapters and overrepresented sequences are not
///   compared (fastp trims, and reports sequences after its own sampling).
fn assert_same_as_fastp(ours: &Value, fastp: &Value, mates: &[&str]) {
    let (a, b) = (&ours["summary"]["before_filtering"], &fastp["summary"]["before_filtering"]);
    for key in ["total_reads", "total_bases", "q20_bases", "q30_bases"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    for key in ["q20_rate", "q30_rate", "gc_content"] {
        let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
        assert!((x - y).abs() <= 1e-6, "{key}: {x} vs fastp {y}");
    }
    for mate in mates {
        let (a, b) = (&ours[mate], &fastp[mate]);
        for key in ["total_reads", "total_bases", "q20_bases", "q30_bases", "total_cycles"] {
            assert_eq!(a[key], b[key], "{mate} {key}");
        }
        for curve in ["mean", "A", "C", "G", "T"] {
            let d = largest_difference(&a["quality_curves"][curve], &b["quality_curves"][curve]);
            assert!(d <= 1e-4, "{mate} quality {curve}: {d}");
        }
        for curve in ["A", "C", "G", "T", "N", "GC"] {
            let d = largest_difference(&a["content_curves"][curve], &b["content_curves"][curve]);
            assert!(d <= 1e-4, "{mate} content {curve}: {d}");
        }
    }
    let (x, y) = (
        ours["duplication"]["rate"].as_f64().unwrap(),
        fastp["duplication"]["rate"].as_f64().unwrap(),
    );
    assert!((x - y).abs() <= 1e-6, "duplication {x} vs fastp {y}");
    assert_eq!(ours["seqflow"]["duplication_sampled_share"], 1.0);
}

#[test]
fn numbers_agree_with_fastp() {
    if !tool("fastp", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 5, 4000);
    let fastp = |args: &[&str], json: &Path| {
        let out = Process::new("fastp")
            .args(args)
            .args(["-A", "-G", "-Q", "-L", "-w", "2", "-j", path(json), "-h"])
            .arg(dir.path().join("fastp.html"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let single = dir.path().join("single");
    qc(&[path(&r1), "-o", path(&single)]);
    fastp(&["-i", path(&r1)], &dir.path().join("fastp_se.json"));
    assert_same_as_fastp(
        &json(&single.with_extension("json")),
        &json(&dir.path().join("fastp_se.json")),
        &["read1_before_filtering"],
    );
    let paired = dir.path().join("paired");
    qc(&[path(&r1), path(&r2), "-o", path(&paired)]);
    fastp(&["-i", path(&r1), "-I", path(&r2)], &dir.path().join("fastp_pe.json"));
    assert_same_as_fastp(
        &json(&paired.with_extension("json")),
        &json(&dir.path().join("fastp_pe.json")),
        &["read1_before_filtering", "read2_before_filtering"],
    );
}

/// The value of `column` for `sample` in a MultiQC data table.
fn multiqc_value(table: &str, sample: &str, column: &str) -> Option<String> {
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next()?.split('\t').collect();
    let at = header.iter().position(|h| *h == column)?;
    let row = lines.find(|l| l.split('\t').next() == Some(sample))?;
    row.split('\t').nth(at).map(str::to_string)
}

#[test]
fn multiqc_reads_our_fastp_json_and_seqkit_table() {
    if !tool("multiqc", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 9, 1500);
    let reports = dir.path().join("reports");
    fs::create_dir(&reports).unwrap();
    qc(&[path(&r1), path(&r2), "-o", path(&reports.join("pe")), "--sample", "pairsample"]);
    let out = seqflow()
        .args(["stats", "-a", "-T", path(&r1), "-o"])
        .arg(reports.join("r1.stats.tsv"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let out_dir = dir.path().join("multiqc");
    let run = Process::new("multiqc")
        .args(["-f", "-q", path(&reports), "-o", path(&out_dir)])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let ours = json(&reports.join("pe.json"));
    let data = out_dir.join("multiqc_data");
    let general = fs::read_to_string(data.join("multiqc_general_stats.txt")).unwrap();
    let value = |column: &str| -> f64 {
        multiqc_value(&general, "pairsample", column)
            .unwrap_or_else(|| panic!("{column}: {general}"))
            .parse()
            .unwrap()
    };
    let dup = ours["duplication"]["rate"].as_f64().unwrap() * 100.0;
    assert!((value("fastp-pct_duplication") - dup).abs() < 1e-9);
    let gc = ours["summary"]["after_filtering"]["gc_content"].as_f64().unwrap() * 100.0;
    assert!((value("fastp-after_filtering_gc_content") - gc).abs() < 1e-9);
    let adapter =
        ours["adapter_cutting"]["adapter_trimmed_reads"].as_f64().unwrap() / 3000.0 * 100.0;
    assert!((value("fastp-pct_adapter") - adapter).abs() < 1e-9 && adapter > 10.0);
    // The per-cycle plots hold our curve; the insert-size plot is there for pairs.
    let quality =
        fs::read_to_string(data.join("fastp-seq-quality-plot_Read_2_Before_filtering.txt"))
            .unwrap();
    let first_mean = ours["read2_before_filtering"]["quality_curves"]["mean"][0].as_f64().unwrap();
    let cell = multiqc_value(&quality, "pairsample", "0").unwrap();
    assert_eq!(cell, format!("(1, {first_mean})"));
    assert!(data.join("fastp-insert-size-plot.txt").exists());
    // seqkit module: our `stats -T` row.
    let seqkit = fs::read_to_string(data.join("multiqc_seqkit_stats.txt")).unwrap();
    let sample = seqkit.lines().nth(1).unwrap().split('\t').next().unwrap().to_string();
    assert_eq!(multiqc_value(&seqkit, &sample, "num_seqs").as_deref(), Some("1500.0"));
    assert_eq!(multiqc_value(&seqkit, &sample, "sum_len").as_deref(), Some("225000.0"));
}

#[test]
fn html_report_draws_its_plots_in_headless_chromium() {
    if !tool("chromium", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 13, 1000);
    let prefix = dir.path().join("report");
    qc(&[path(&r1), path(&r2), "-o", path(&prefix)]);
    let html = prefix.with_extension("html");
    let text = fs::read_to_string(&html).unwrap();
    assert!(!text.contains("src=") && !text.contains("href="), "the page must not load anything");
    let chromium = |extra: &[&str], profile: &str| {
        Process::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--virtual-time-budget=3000",
            ])
            .arg(format!("--user-data-dir={}", dir.path().join(profile).display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap()
    };
    let screenshot = dir.path().join("shot.png");
    let out = chromium(
        &[&format!("--screenshot={}", screenshot.display()), "--window-size=1000,2000"],
        "p1",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = fs::read(&screenshot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(png.len() > 20_000, "screenshot of {} bytes: blank page?", png.len());
    // The browser's own layout: every drawn line has a non-empty box.
    let out = chromium(&["--dump-dom"], "p2");
    let dom = String::from_utf8_lossy(&out.stdout);
    let drawn: usize = dom
        .split("data-drawn=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no data-drawn attribute: the script did not run"));
    let series = text.matches("<polyline").count();
    assert!(series >= 20 && drawn == series, "{drawn} of {series} lines drawn");
}

#[test]
fn compressed_inputs_give_the_report_of_plain_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 17, 4000);
    let plain = dir.path().join("plain");
    qc(&[path(&r1), path(&r2), "-o", path(&plain), "--sample", "s", "--batch-size", "32K"]);
    let expected =
        (fs::read(plain.with_extension("json")).unwrap(), fs::read(plain.with_extension("html")));
    // gzip (one member), BGZF (seqflow pack, many members) and zstd.
    let compress = |name: &str, input: &Path| -> PathBuf {
        let text = fs::read(input).unwrap();
        let stem = input.file_stem().unwrap().to_str().unwrap();
        let out = dir.path().join(format!("{stem}.{name}"));
        match name {
            "gz" => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(&text).unwrap();
                fs::write(&out, encoder.finish().unwrap()).unwrap();
            }
            "bgzf.gz" => {
                let run = seqflow()
                    .args(["pack", path(input), "--container", "bgzf", "-q", "-o", path(&out)])
                    .output()
                    .unwrap();
                assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
                let bytes = fs::read(&out).unwrap();
                // BGZF: gzip members with the BC extra field.
                assert_eq!((&bytes[..4], &bytes[12..14]), (&b"\x1f\x8b\x08\x04"[..], &b"BC"[..]));
            }
            _ => fs::write(&out, zstd::encode_all(&text[..], 3).unwrap()).unwrap(),
        }
        out
    };
    for name in ["gz", "bgzf.gz", "zst"] {
        let (c1, c2) = (compress(name, &r1), compress(name, &r2));
        for threads in ["1", "2"] {
            let prefix = dir.path().join(format!("{}_{threads}", name.replace('.', "_")));
            qc(&[path(&c1), path(&c2), "-o", path(&prefix), "--sample", "s", "-t", threads]);
            let got = (
                fs::read(prefix.with_extension("json")).unwrap(),
                fs::read(prefix.with_extension("html")),
            );
            assert!(got.0 == expected.0, "{name} with {threads} threads: JSON differs");
            assert!(got.1.unwrap() == *expected.1.as_ref().unwrap(), "{name}: HTML differs");
        }
    }
}

/// Wrapped (multi-line) FASTQ, whose quality lines may start with `@` or `+`, reads as the
/// same records: the report equals the four-line file's.
#[test]
fn wrapped_fastq_gives_the_report_of_four_line_fastq() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 31, 3000);
    let four = dir.path().join("four");
    qc(&[path(&r1), path(&r2), "-o", path(&four), "--sample", "s"]);
    let wrap = |input: &Path, width: usize| -> PathBuf {
        let text = fs::read_to_string(input).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut out = String::new();
        for record in lines.chunks(4) {
            out.push_str(record[0]);
            out.push('\n');
            for (i, part) in [record[1], record[3]].into_iter().enumerate() {
                if i == 1 {
                    out.push_str("+\n");
                }
                for piece in part.as_bytes().chunks(width) {
                    out.push_str(std::str::from_utf8(piece).unwrap());
                    out.push('\n');
                }
            }
        }
        let wrapped =
            dir.path().join(format!("w{width}_{}", input.file_name().unwrap().to_str().unwrap()));
        fs::write(&wrapped, out).unwrap();
        wrapped
    };
    for width in [37, 60] {
        let (w1, w2) = (wrap(&r1, width), wrap(&r2, width));
        let prefix = dir.path().join(format!("wrapped{width}"));
        qc(&[path(&w1), path(&w2), "-o", path(&prefix), "--sample", "s", "-t", "2"]);
        assert!(
            fs::read(prefix.with_extension("json")).unwrap()
                == fs::read(four.with_extension("json")).unwrap(),
            "wrapped at {width}: the JSON differs from the four-line file's"
        );
    }
}

#[test]
fn metrics_file_reports_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 19, 2000);
    let metrics = dir.path().join("m.json");
    let prefix = dir.path().join("out");
    qc(&[path(&r1), path(&r2), "-o", path(&prefix), "-t", "2", "--batch-size", "16K"]);
    let before = fs::read(prefix.with_extension("json")).unwrap();
    qc(&[
        path(&r1),
        path(&r2),
        "-o",
        path(&prefix),
        "-t",
        "2",
        "--batch-size",
        "16K",
        "-f",
        "--metrics",
        path(&metrics),
    ]);
    assert_eq!(fs::read(prefix.with_extension("json")).unwrap(), before);
    let report = json(&metrics);
    assert_eq!(report["workers"], 2);
    let jobs = report["source"]["items"].as_u64().unwrap();
    assert!(jobs > 10, "{report}");
    assert_eq!(report["work"]["items"].as_u64(), Some(jobs));
    assert_eq!(report["per_worker"].as_array().unwrap().len(), 2);
    let size = fs::metadata(&r1).unwrap().len() + fs::metadata(&r2).unwrap().len();
    assert_eq!(report["input_bytes"].as_u64(), Some(size), "{report}");
    assert!(report["wall_secs"].as_f64().unwrap() > 0.0);
    // The metrics file is an output like the others: not overwritten without --force.
    let again = seqflow()
        .arg("qc")
        .args([path(&r1), "-o", path(&dir.path().join("other")), "--metrics", path(&metrics), "-q"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
}

#[test]
fn progress_bar_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 23, 20_000);
    let prefix = dir.path().join("tty");
    let args = ["qc", path(&r1), path(&r2), "-o", path(&prefix), "-t", "1", "--batch-size", "4K"];
    let Some((ok, said)) = on_a_terminal(&args) else { return };
    assert!(ok, "{said}");
    // The bar names read 1 and counts bytes towards the size of both files.
    let size = fs::metadata(&r1).unwrap().len() + fs::metadata(&r2).unwrap().len();
    let total = format!("{:.2} MiB", size as f64 / (1 << 20) as f64);
    assert!(said.contains("s_R1.fq") && said.contains(&total), "{said:?}");
    assert!(prefix.with_extension("json").exists());
    // Not a terminal (a pipe here), or -q: nothing on stderr.
    let piped =
        seqflow().args(["qc", path(&r1), "-o", path(&dir.path().join("piped"))]).output().unwrap();
    assert!(piped.status.success() && piped.stderr.is_empty());
    let Some((ok, said)) = on_a_terminal(&[&args[..], &["-q", "-f"]].concat()) else { return };
    assert!(ok && said.is_empty(), "{said:?}");
}

#[test]
fn bad_records_name_file_line_byte_and_record() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = write_pairs(dir.path(), 29, 300);
    let prefix = dir.path().join("out");
    // Record 201 of read 2 (lines 801..804) loses a quality byte; the byte named is the start
    // of the line at fault.
    let text = fs::read_to_string(&r2).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[803].pop();
    let byte: usize = lines[..803].iter().map(|l| l.len() + 1).sum();
    let bad = dir.path().join("bad_R2.fq");
    fs::write(&bad, lines.join("\n") + "\n").unwrap();
    for threads in ["1", "2"] {
        let error = run_err(&[path(&r1), path(&bad), "-o", path(&prefix), "-t", threads]);
        let expected = format!("bad_R2.fq: line 804, record 'pair200/2' (byte {byte})");
        assert!(error.contains(&expected) && error.contains("quality length"), "{error}");
        assert!(!error.contains("panicked"));
    }
    // Nothing is written under the output names.
    assert!(!prefix.with_extension("json").exists() && !prefix.with_extension("html").exists());
    let leftovers = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 3, "only the inputs remain");
    // A truncated last record of read 1, in gzip.
    let mut text = fs::read(&r1).unwrap();
    text.truncate(text.len() - 10);
    let cut = dir.path().join("cut_R1.fq.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &text).unwrap();
    fs::write(&cut, encoder.finish().unwrap()).unwrap();
    let error = run_err(&[path(&cut), "-o", path(&prefix)]);
    assert!(
        error.contains("cut_R1.fq.gz: line 1200, record 'pair299/1'")
            && error.contains("quality length 141"),
        "{error}"
    );
}

/// Above `DUPLICATION_CAPACITY` (131,072) distinct sequences we keep the sequences whose hash
/// falls in a `p = 2^-level` share, with all their copies, and estimate `1 − distinct / reads`
/// on them. Its standard error is about `√((1/p − 1) · Σ (c − c̄)²) / N` over the distinct
/// sequences' copy numbers `c` (`N` reads): 0.1 percentage point here (p = 1/4, copies of 1
/// and 2); sequences with thousands of copies (adapter dimers) dominate the sum. The test
/// allows 0.3 percentage point.
#[test]
fn sampled_duplication_agrees_with_fastp() {
    if !tool("fastp", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 300,000 reads of 40 random bases, 1 in 10 a copy of one of the last 5,000 reads: about
    // 270,000 distinct, so the sample is thinned (to a quarter).
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
    let random = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<u8> {
        (0..40).map(|_| b"ACGT"[rng.random_range(0..4)]).collect()
    };
    let (mut reads, mut text): (Vec<Vec<u8>>, Vec<u8>) = (Vec::new(), Vec::new());
    for i in 0..300_000 {
        let roll = rng.random_range(0..100);
        let read = if roll < 10 && reads.len() > 5000 {
            reads[reads.len() - 1 - rng.random_range(0..5000)].clone()
        } else {
            random(&mut rng)
        };
        text.extend_from_slice(format!("@r{i}\n").as_bytes());
        text.extend_from_slice(&read);
        text.extend_from_slice(b"\n+\nIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIII\n");
        reads.push(read);
    }
    let input = dir.path().join("many.fq");
    fs::write(&input, text).unwrap();
    let prefix = dir.path().join("many");
    qc(&[path(&input), "-o", path(&prefix), "-t", "2"]);
    let fastp_json = dir.path().join("fastp.json");
    let out = Process::new("fastp")
        .args(["-i", path(&input), "-A", "-G", "-Q", "-L", "-w", "2", "-j", path(&fastp_json)])
        .arg("-h")
        .arg(dir.path().join("fastp.html"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (ours, theirs) = (json(&prefix.with_extension("json")), json(&fastp_json));
    let share = ours["seqflow"]["duplication_sampled_share"].as_f64().unwrap();
    assert!(share < 1.0, "not sampled: {share}");
    let (x, y) = (
        ours["duplication"]["rate"].as_f64().unwrap(),
        theirs["duplication"]["rate"].as_f64().unwrap(),
    );
    eprintln!("duplication: ours {x} (sampled share {share}), fastp {y}");
    assert!(y > 0.02 && (x - y).abs() <= 0.003, "duplication {x} vs fastp {y} (sampled {share})");
}

#[test]
fn single_end_reports_are_the_same_with_the_parse_in_the_workers() {
    // Single-end mapped FASTQ is parsed by the workers (`Reader::read_window`); read(2)
    // (`--no-mmap`) parses on the reader's thread. Same report, same shard partials, same
    // first error.
    let dir = tempfile::tempdir().unwrap();
    let (r1, _) = write_pairs(dir.path(), 11, 3000);
    let run = |name: &str, extra: &[&str]| {
        let prefix = dir.path().join(name);
        qc(&[&[path(&r1), "-o", path(&prefix), "--batch-size", "8K"], extra].concat());
        fs::read(prefix.with_extension("json")).unwrap()
    };
    let reference = run("serial", &["--no-mmap", "-t", "1"]);
    for threads in ["1", "2", "5"] {
        assert_eq!(run(&format!("t{threads}"), &["-t", threads]), reference, "-t {threads}");
    }
    let partial = |name: &str, reading: &str| {
        let prefix = dir.path().join(name);
        let args = [path(&r1), "-o", path(&prefix), "--batch-size", "8K", "--partial"];
        qc(&[&args[..], &["--shard", "1/3", reading]].concat());
        fs::read(dir.path().join(format!("{name}.partial.json"))).unwrap()
    };
    assert_eq!(partial("mapped", "-f"), partial("read", "--no-mmap"));
    // Two damaged reads far apart: the first is named, as the serial parse names it.
    let text = fs::read_to_string(&r1).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for read in [1000, 2800] {
        lines[read * 4 + 3].pop();
    }
    let bad = dir.path().join("bad.fq");
    fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("bad");
    let errors: Vec<String> = ["-f", "--no-mmap"]
        .iter()
        .map(|reading| {
            run_err(&[path(&bad), "-o", path(&out), "--batch-size", "8K", "-t", "2", reading])
        })
        .collect();
    assert_eq!(errors[0], errors[1]);
    assert!(errors[0].contains(&format!("line {}", 1000 * 4 + 4)), "{}", errors[0]);
}

#[test]
fn windows_that_begin_at_a_false_record_start_still_give_the_right_report() {
    // Qualities beginning with '@' before sequences beginning with '+' (let through by
    // `--no-validate`) make quality lines look like record starts: a window may begin at one.
    // Its parse fails, and the input is read again the serial way.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..3000 {
        text += &format!("@r{i}\n+CGTACGTAC\n+r{i}\n@IIIII5{}##\n", i % 10);
    }
    let file = dir.path().join("odd.fq");
    fs::write(&file, text).unwrap();
    let run = |name: &str, extra: &[&str]| {
        let prefix = dir.path().join(name);
        qc(&[&[path(&file), "-o", path(&prefix), "--no-validate"], extra].concat());
        fs::read(prefix.with_extension("json")).unwrap()
    };
    let reference = run("serial", &["--no-mmap"]);
    for batch_size in ["1K", "1500", "4K"] {
        assert_eq!(run(batch_size, &["--batch-size", batch_size]), reference, "{batch_size}");
    }
}
