//! Running the `seqflow` binary from a test, and the assertions the tests share.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The binary under test.
pub(crate) fn seqflow() -> Command {
    Command::cargo_bin("seqflow").unwrap()
}

/// Its path, for `std::process::Command` and shells.
pub(crate) fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("seqflow")
}

/// A path as a command-line argument.
pub(crate) fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `seqflow ARGS`.
pub(crate) fn run(args: &[&str]) -> Output {
    seqflow().args(args).output().unwrap()
}

/// Runs `seqflow ARGS`, which must succeed; returns its standard output.
pub(crate) fn run_ok(args: &[&str]) -> Vec<u8> {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Asserts a failure with exit code 2 and one line on stderr that contains every `words`.
pub(crate) fn assert_one_line_error(out: &Output, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for word in words {
        assert!(stderr.contains(word), "{word:?} missing from: {stderr}");
    }
}
