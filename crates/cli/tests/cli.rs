//! Snapshots of the command line (issue #10): every command's `--help` and a few runs, so that
//! the vocabulary of docs/cli.md cannot drift silently. After an intended change, update them
//! with `TRYCMD=overwrite cargo test -p seqflow-cli --test cli` and review the diff.

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new()
        .register_bin("seqflow", trycmd::cargo::cargo_bin!("seqflow"))
        .env("SEQFLOW_PASSPHRASE", "")
        .case("tests/cli/*.md");
}
