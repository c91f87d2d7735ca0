//! `seqflow collection create` / `append` through the binary: exit codes, one-line errors,
//! no output under the final name on failure or when killed, metrics.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

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
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out.exists(), "a killed create left a file under the final name");
}
