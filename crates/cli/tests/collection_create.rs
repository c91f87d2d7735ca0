//! `seqflow collection create` / `append` through the binary: exit codes, one-line errors,
//! no output under the final name on failure or when killed, metrics.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

mod common;

use common::cli::{agc, on_a_terminal};

fn seqflow() -> Command {
    Command::cargo_bin("seqflow").unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn genome(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            b"ACGT"[(state >> 62) as usize]
        })
        .collect()
}

fn write_sample(dir: &Path, name: &str, seq: &[u8]) -> PathBuf {
    let p = dir.join(name);
    let mut text = b">chr1 test\n".to_vec();
    for line in seq.chunks(70) {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn fails(args: &[&str]) -> String {
    let out = seqflow().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn create_append_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let base = genome(1, 200_000);
    let mut other = base.clone();
    for p in (1000..190_000).step_by(5003) {
        other[p] = b'A' + (other[p] == b'A') as u8 * 2;
    }
    let a = write_sample(dir.path(), "a.fa", &base);
    let b = write_sample(dir.path(), "b.fa", &other);
    let out = dir.path().join("x.agc");
    let metrics = dir.path().join("m.json");
    seqflow()
        .args(["collection", "create", path(&a), "-o", path(&out), "-t", "2", "-s", "5000"])
        .args(["--metrics", path(&metrics)])
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    assert_eq!(json["samples"], 1);
    assert!(json["stages"]["input_queue"]["peak_bytes"].as_u64().unwrap() >= 200_000);
    // Per-stage figures as `pack` has them: items, bytes, busy and blocked times.
    for stage in ["read", "compress", "cut", "place", "register", "store", "write"] {
        let figures = &json["stages"][stage];
        assert!(figures["busy_secs"].as_f64().is_some(), "{stage}: {json}");
        assert!(figures["items"].as_u64().unwrap() >= 1, "{stage}: {json}");
    }
    assert_eq!(json["stages"]["read"]["bytes"], 200_000);
    assert_eq!(json["stages"]["compress"]["bytes"], 200_000);
    assert!(json["stages"]["compress"]["blocked_recv_secs"].as_f64().is_some());
    assert!(json["stages"]["write"]["bytes"].as_u64().unwrap() > 0);
    let appended = dir.path().join("y.agc");
    seqflow()
        .args(["collection", "append", path(&out), path(&b), "-o", path(&appended)])
        .assert()
        .success();
    let listed = seqflow().args(["collection", "listset", path(&appended)]).output().unwrap();
    assert_eq!(String::from_utf8(listed.stdout).unwrap(), "a\nb\n");
    let got = seqflow()
        .args(["collection", "getset", path(&appended), "b", "-l", "70"])
        .output()
        .unwrap();
    assert_eq!(got.stdout, std::fs::read(&b).unwrap());
    let err = fails(&[
        "collection",
        "append",
        path(&appended),
        path(&b),
        "-o",
        path(&dir.path().join("z.agc")),
    ]);
    assert!(err.contains("already in"), "{err}");
    assert!(!dir.path().join("z.agc").exists());
}

#[test]
fn bad_input_exits_2_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_sample(dir.path(), "good.fa", &genome(2, 5_000));
    let bad = dir.path().join("bad.fa");
    std::fs::write(&bad, ">c1\nACGT\nACXT\n").unwrap();
    let out = dir.path().join("o.agc");
    let err = fails(&["collection", "create", path(&good), path(&bad), "-o", path(&out)]);
    assert!(err.contains("bad.fa") && err.contains("line 3") && err.contains("'c1'"), "{err}");
    assert!(!out.exists());
    let damaged = dir.path().join("damaged.agc");
    std::fs::write(&damaged, b"not an archive at all, not even close").unwrap();
    let err = fails(&["collection", "append", path(&damaged), path(&good), "-o", path(&out)]);
    assert!(err.contains("damaged.agc"), "{err}");
    assert!(!out.exists());
}

#[test]
fn killed_create_leaves_nothing_under_the_final_name() {
    let dir = tempfile::tempdir().unwrap();
    let base = genome(3, 3_000_000);
    let inputs: Vec<PathBuf> = (0..6)
        .map(|i| {
            let mut s = base.clone();
            s.rotate_left(i * 1000);
            write_sample(dir.path(), &format!("s{i}.fa"), &s)
        })
        .collect();
    let out = dir.path().join("k.agc");
    let bin = assert_cmd::cargo::cargo_bin("seqflow");
    let mut child = std::process::Command::new(bin)
        .args(["collection", "create", "-o", path(&out), "-t", "1"])
        .args(inputs.iter().map(|p| path(p)))
        .spawn()
        .unwrap();
    // Kill it while it writes: as soon as its temporary file appears.
    let started = std::time::Instant::now();
    let writing = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(".k.agc.tmp"))
    };
    while !writing() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(child.try_wait().unwrap().is_none(), "create ended before it could be killed");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(writing(), "the temporary file was never seen");
    assert!(!out.exists(), "a killed create left a file under the final name");
}

/// `seq` with soft-masked (lowercase) runs of varied lengths, some across 70-base lines.
fn soft_masked(mut seq: Vec<u8>, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut pos = 0usize;
    while pos < seq.len() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let gap = (state >> 52) as usize % 3000;
        let run = 1 + (state >> 20) as usize % 700;
        let start = (pos + gap).min(seq.len());
        let end = (start + run).min(seq.len());
        seq[start..end].make_ascii_lowercase();
        pos = end + 1;
    }
    seq
}

#[test]
fn keep_case_survives_getset_and_getctg_ranges_and_agc_reads_uppercase() {
    let dir = tempfile::tempdir().unwrap();
    let base = genome(7, 120_000);
    let mut other = base.clone();
    for p in (500..110_000).step_by(4001) {
        other[p] = b'A' + (other[p] == b'A') as u8 * 2;
    }
    let (base, other) = (soft_masked(base, 1), soft_masked(other, 2));
    assert!(base.iter().any(u8::is_ascii_lowercase) && base.iter().any(u8::is_ascii_uppercase));
    let a = write_sample(dir.path(), "a.fa", &base);
    let b = write_sample(dir.path(), "b.fa", &other);
    let out = dir.path().join("case.agc");
    seqflow()
        .args(["collection", "create", path(&a), path(&b), "-o", path(&out), "--keep-case"])
        .args(["-t", "2", "-s", "5000"])
        .assert()
        .success();
    for (sample, seq) in [("a", &base), ("b", &other)] {
        let input = std::fs::read(dir.path().join(format!("{sample}.fa"))).unwrap();
        let uppercase = write_sample(dir.path(), "upper.fa", &seq.to_ascii_uppercase());
        // Small chunks put chunk boundaries inside lowercase runs.
        let got = seqflow()
            .args(["collection", "getset", path(&out), sample, "-l", "70"])
            .args(["--chunk-bases", "1000", "-t", "2"])
            .output()
            .unwrap();
        assert!(got.status.success());
        assert!(got.stdout == input, "{sample}: soft-masking restored by getset");
        let upper = seqflow()
            .args(["collection", "getset", path(&out), sample, "-l", "70", "--uppercase"])
            .output()
            .unwrap();
        assert!(upper.stdout == std::fs::read(&uppercase).unwrap(), "{sample}: as agc");
    }
    for (from, to) in [(0u64, 99u64), (1234, 56_789), (119_000, 119_999), (70, 70)] {
        let query = format!("chr1@b:{from}-{to}");
        let got = seqflow()
            .args(["collection", "getctg", path(&out), &query, "-l", "0"])
            .args(["--chunk-bases", "333"])
            .output()
            .unwrap();
        assert!(got.status.success(), "{query}");
        let text = String::from_utf8(got.stdout).unwrap();
        let seq = text.lines().nth(1).unwrap();
        assert!(seq.as_bytes() == &other[from as usize..=to as usize], "{query}: case kept");
    }
    let Some(agc) = agc() else { return };
    let got = std::process::Command::new(&agc)
        .args(["getset", "-l", "70", path(&out), "b"])
        .output()
        .unwrap();
    assert!(got.status.success(), "agc reads a --keep-case archive");
    let expected =
        std::fs::read(write_sample(dir.path(), "upper.fa", &other.to_ascii_uppercase())).unwrap();
    assert!(got.stdout == expected, "agc getset gives the uppercase sample");
}

/// On a terminal (a pty made by `script`) create draws a bar with samples and bases; through a
/// pipe it draws nothing.
#[test]
fn progress_bar_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let base = genome(3, 2_000_000);
    let mut inputs = Vec::new();
    for i in 0..4u8 {
        let mut seq = base.clone();
        for p in (usize::from(i) * 7..seq.len()).step_by(997) {
            seq[p] = b'A' + (seq[p] == b'A') as u8 * 2;
        }
        inputs.push(write_sample(dir.path(), &format!("s{i}.fa"), &seq));
    }
    let out = dir.path().join("t.agc");
    let mut args = vec!["collection", "create", "-t", "2", "-o", path(&out)];
    args.extend(inputs.iter().map(|p| path(p)));
    let Some((ok, shown)) = on_a_terminal(&args) else { return };
    assert!(ok, "{shown}");
    assert!(shown.contains("/4 samples") && shown.contains("bases"), "{shown:?}");
    let piped = seqflow()
        .args(["collection", "create", "-t", "2", "-o", path(&out)])
        .args(inputs.iter().map(|p| path(p)))
        .output()
        .unwrap();
    assert!(piped.status.success() && piped.stderr.is_empty(), "{piped:?}");
}
