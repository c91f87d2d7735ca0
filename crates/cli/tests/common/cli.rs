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

/// Runs `seqflow ARGS` with a pseudo-terminal as standard output (through `script`), and
/// returns its exit status and what reached the terminal; `None` without `script`.
pub(crate) fn on_a_terminal(args: &[&str]) -> Option<(bool, String)> {
    let found = std::process::Command::new("script").arg("--version").output().is_ok();
    if !found {
        if std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_some() {
            panic!("script (util-linux) is required with SEQFLOW_REQUIRE_TOOLS");
        }
        eprintln!("SKIPPED: `script` (util-linux) not found to make a terminal");
        return None;
    }
    let command = std::iter::once(path(&binary()).to_owned())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Some((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// True when `name` runs (`name PROBE...` exits 0); otherwise prints SKIPPED, or fails under
/// `SEQFLOW_REQUIRE_TOOLS=1`, where CI has installed every tool.
pub(crate) fn tool(name: &str, probe: &[&str]) -> bool {
    let found =
        std::process::Command::new(name).args(probe).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "{name} is required");
        eprintln!("SKIPPED: {name} not found");
    }
    found
}

/// The reference C++ agc, `shared/tools/agc/agc` in an ancestor of this crate (a worktree has
/// `shared/` further up than a clone has); `None` (SKIPPED) without it, a failure under
/// `SEQFLOW_REQUIRE_TOOLS=1`.
pub(crate) fn agc() -> Option<PathBuf> {
    let found = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/tools/agc/agc"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(),
            "shared/tools/agc/agc is required (SEQFLOW_REQUIRE_TOOLS is set)"
        );
        eprintln!("SKIPPED: shared/tools/agc/agc not found in any ancestor directory");
    }
    found
}
