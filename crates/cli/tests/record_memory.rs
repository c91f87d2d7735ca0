//! Issue #9, item 8: memory of `seqflow stats` does not grow with the length of one FASTA
//! record. A 200 MB single-line record is streamed through standard input and the child's
//! peak RSS (`getrusage(RUSAGE_CHILDREN)`) must stay under 64 MB; before records were read
//! in pieces it was more than twice the record's length.
//!
//! This file holds one test on purpose: `RUSAGE_CHILDREN` covers every child of the process.

use std::io::Write;
use std::process::{Command, Stdio};

mod common;

use common::rusage::children_peak_rss;

const RECORD_LETTERS: usize = 200 << 20;
const MAX_RSS_BYTES: i64 = 64 << 20;

#[test]
fn stats_of_one_200_mb_record_from_stdin_stays_under_64_mb() {
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: ru_maxrss units differ outside Linux");
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqflow"))
        .args(["stats", "-T", "-a", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        stdin.write_all(b">one record\n").unwrap();
        let block = b"ACGTTGCANN".repeat(1 << 16);
        for _ in 0..RECORD_LETTERS / block.len() {
            stdin.write_all(&block).unwrap();
        }
        stdin.write_all(b"\n").unwrap();
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let row: Vec<&str> = stdout.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(row[3..8], ["1", "209715200", "209715200", "209715200.0", "209715200"]);
    assert_eq!(row[18], "41943040", "sum_n"); // two N in every ten letters
    let peak = children_peak_rss();
    assert!(peak <= MAX_RSS_BYTES, "peak RSS {} MB", peak >> 20);
}
