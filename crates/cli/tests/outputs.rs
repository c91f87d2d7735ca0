//! The output rules every command follows (issue #9), through the real binary: devices, FIFOs
//! and symlinks are written through, never replaced; modes follow the umask (0600 for secret
//! keys and decrypted data); an output that is an input is refused; a command's outputs appear
//! together or not at all, also when a write fails part-way or a signal arrives; and the small
//! silent changes of item 9 are now errors or kept letters.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::bytes::incompressible as data;
use common::cli::{assert_one_line_error, binary, path, run, run_ok, seqflow};

/// Runs seqflow through `sh -c` with `setup` (e.g. `umask 077`, `ulimit -f 100`) first.
fn run_in_shell(setup: &str, args: &[&str]) -> Output {
    Process::new("sh")
        .arg("-c")
        .arg(format!("{setup}; exec \"$0\" \"$@\""))
        .arg(binary())
        .args(args)
        .output()
        .unwrap()
}

/// Files whose name says they are seqflow's temporary files.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".seqflow-"))
        .collect()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn make_fifo(path: &Path) {
    let status = Process::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

fn input_file(dir: &Path, len: usize) -> PathBuf {
    let input = dir.join("in.bin");
    fs::write(&input, data(len, 1)).unwrap();
    input
}

#[test]
fn devices_are_written_through_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 100_000);
    let packed = run_ok(&["pack", path(&input), "-c"]);
    // First on a null device of our own (needs root): a build that still renames over its
    // output fails here, before it could replace the machine's /dev/null below.
    let own_null = dir.path().join("null");
    let made = Process::new("mknod").arg(&own_null).args(["c", "1", "3"]).output();
    if made.is_ok_and(|out| out.status.success()) {
        run_ok(&["pack", path(&input), "-o", path(&own_null), "--force"]);
        let kind = fs::symlink_metadata(&own_null).unwrap().file_type();
        assert!(kind.is_char_device(), "the device node was replaced");
        assert!(leftovers(dir.path()).is_empty());
        // A block device holds data: refused without --force (never opened here).
        let block = dir.path().join("block");
        let made = Process::new("mknod").arg(&block).args(["b", "7", "250"]).status().unwrap();
        assert!(made.success());
        let out = run(&["pack", path(&input), "-o", path(&block)]);
        assert_one_line_error(&out, &["block device", "--force"]);
        assert!(fs::symlink_metadata(&block).unwrap().file_type().is_block_device());
    } else if Process::new("sh").args(["-c", "test -w /dev"]).status().unwrap().success() {
        // Root without mknod: a broken build could replace /dev/null itself; don't risk it.
        eprintln!("SKIPPED: cannot mknod a device of our own, and /dev is writable");
        return;
    }
    let null = Path::new("/dev/null");
    let fasta = dir.path().join("r.fa");
    fs::write(&fasta, ">r\nACGT\n").unwrap();
    for args in [
        vec!["pack", path(&input), "-o", "/dev/null", "--force"],
        vec!["pack", path(&input), "-o", "/dev/null"], // a device holds nothing to protect
        vec!["stats", path(&fasta), "-o", "/dev/null", "--force"],
        vec!["simulate", "fasta", "--records", "1", "--min-length", "10", "-o", "/dev/null"],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
        assert!(fs::symlink_metadata(null).unwrap().file_type().is_char_device(), "{args:?}");
    }
    // /dev/stdout is standard output, whatever it is (a pipe here).
    assert_eq!(run_ok(&["pack", path(&input), "-o", "/dev/stdout"]), packed);
    // /dev/fd/N and /dev/stdout name open files, here regular files the shell opened.
    let (fd3, redirected) = (dir.path().join("fd3.zst"), dir.path().join("stdout.zst"));
    for (setup, output, file) in [
        (format!("exec 3>{}", path(&fd3)), "/dev/fd/3", &fd3),
        (format!("exec >{}", path(&redirected)), "/dev/stdout", &redirected),
    ] {
        let out = run_in_shell(&setup, &["pack", path(&input), "-o", output]);
        assert!(out.status.success(), "{output}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(fs::read(file).unwrap() == packed, "{output}");
    }
}

#[test]
fn a_fifo_output_gets_the_data_and_stays_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 300_000);
    let fifo = dir.path().join("out.fifo");
    make_fifo(&fifo);
    for format in ["zstd", "bgzf"] {
        let expected = run_ok(&["pack", path(&input), "-c", "--container", format]);
        let reader_path = fifo.clone();
        let reader = std::thread::spawn(move || fs::read(reader_path).unwrap());
        run_ok(&["pack", path(&input), "-o", path(&fifo), "--container", format]);
        // Checked first: a replaced FIFO leaves the reader waiting forever.
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "FIFO replaced");
        assert!(reader.join().unwrap() == expected, "{format}: the reader got other bytes");
        // No index beside something that is not a regular file.
        assert!(!dir.path().join("out.fifo.gzi").exists());
    }
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn a_symlink_output_replaces_its_target_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 50_000);
    let expected = run_ok(&["pack", path(&input), "-c"]);
    let targets = dir.path().join("targets");
    fs::create_dir(&targets).unwrap();
    let target = targets.join("t.zst");
    fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.zst");
    std::os::unix::fs::symlink("targets/t.zst", &link).unwrap();

    let refused = run(&["pack", path(&input), "-o", path(&link)]);
    assert_one_line_error(&refused, &["link.zst", "already exists", "--force"]);
    assert_eq!(fs::read(&target).unwrap(), b"old");

    run_ok(&["pack", path(&input), "-o", path(&link), "--force"]);
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "link replaced");
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("targets/t.zst"));
    assert!(fs::read(&target).unwrap() == expected);

    // A dangling link creates its target.
    let dangling = dir.path().join("dangling.zst");
    std::os::unix::fs::symlink("targets/new.zst", &dangling).unwrap();
    run_ok(&["pack", path(&input), "-o", path(&dangling)]);
    assert!(fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
    assert!(fs::read(targets.join("new.zst")).unwrap() == expected);
    assert!(leftovers(dir.path()).is_empty() && leftovers(&targets).is_empty());
}

#[test]
fn modes_follow_the_umask_and_private_outputs_are_0600() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 20_000);
    for (umask, expected) in [("077", 0o600), ("002", 0o664), ("022", 0o644)] {
        let out = dir.path().join(format!("u{umask}.zst"));
        let result =
            run_in_shell(&format!("umask {umask}"), &["pack", path(&input), "-o", path(&out)]);
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        assert_eq!(mode(&out), expected, "umask {umask}");
    }
    // Secret keys and decrypted plaintext: 0600 under the usual umask; public data 0644.
    let (secret, public) = (dir.path().join("k.sec"), dir.path().join("k.pub"));
    let keygen = ["keygen", "--no-passphrase", "--secret-key", path(&secret), "--public-key"];
    let result = run_in_shell("umask 022", &[&keygen[..], &[path(&public)]].concat());
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!((mode(&secret), mode(&public)), (0o600, 0o644));
    let encrypted = dir.path().join("p.c4gh");
    run_ok(&["pack", path(&input), "-o", path(&encrypted), "--recipient", path(&public)]);
    let restored = dir.path().join("restored");
    let unpack = ["unpack", path(&encrypted), "--secret-key", path(&secret), "-o", path(&restored)];
    let result = run_in_shell("umask 022", &unpack);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!(mode(&restored), 0o600, "decrypted data");
    assert!(fs::read(&restored).unwrap() == fs::read(&input).unwrap());
    // A stricter umask wins over 0600 too.
    let strict = dir.path().join("strict.sec");
    let keygen = ["keygen", "--no-passphrase", "--secret-key", path(&strict), "--public-key"];
    let result =
        run_in_shell("umask 277", &[&keygen[..], &[path(&dir.path().join("strict.pub"))]].concat());
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!(mode(&strict), 0o400);
}

#[test]
fn an_output_that_is_an_input_or_another_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fastq = dir.path().join("r.fq");
    let original = b"@r1\nACGT\n+\nIIII\n".to_vec();
    fs::write(&fastq, &original).unwrap();
    let out = run(&["stats", path(&fastq), "-o", path(&fastq), "--force"]);
    assert_one_line_error(&out, &["r.fq", "input"]);
    assert_eq!(fs::read(&fastq).unwrap(), original);

    // The same file under another name (a hard link) is still the input.
    let hard = dir.path().join("hard.fq");
    fs::hard_link(&fastq, &hard).unwrap();
    let out = run(&["pack", path(&fastq), "-o", path(&hard), "--force"]);
    assert_one_line_error(&out, &["hard.fq", "input"]);
    assert_eq!(fs::read(&fastq).unwrap(), original);

    // Standard output appended to the input.
    let appended = fs::OpenOptions::new().append(true).open(&fastq).unwrap();
    let out = Process::new(binary())
        .args(["pack", path(&fastq), "-c"])
        .stdout(Stdio::from(appended))
        .output()
        .unwrap();
    assert_one_line_error(&out, &["standard output", "input"]);
    assert_eq!(fs::read(&fastq).unwrap(), original);

    // Two outputs of one command that are the same file, existing or not.
    let key = dir.path().join("k");
    let out =
        run(&["keygen", "--no-passphrase", "--secret-key", path(&key), "--public-key", path(&key)]);
    assert_one_line_error(&out, &["k"]);
    assert!(!key.exists());
    let table = dir.path().join("t.tsv");
    let out = run(&["stats", path(&fastq), "-o", path(&table), "--metrics", path(&table)]);
    assert_one_line_error(&out, &["t.tsv"]);
    assert!(!table.exists() && leftovers(dir.path()).is_empty());
}

/// Waits until a `.seqflow-*.partial` file appears in `dir`.
fn wait_for_temporary_file(dir: &Path) {
    let started = Instant::now();
    while leftovers(dir).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "no temporary file appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn signals_mid_pack_remove_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("slow-input");
    make_fifo(&fifo);
    let out = dir.path().join("out.zst");
    for (name, number) in [("TERM", 15), ("INT", 2), ("HUP", 1)] {
        let mut child = Process::new(binary())
            .args(["pack", path(&fifo), "-o", path(&out), "--chunk-size", "64K"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The input stays open: pack is mid-run, with data written, when the signal comes.
        let mut writer = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        writer.write_all(&data(1 << 20, 5)).unwrap();
        wait_for_temporary_file(dir.path());
        // `kill` of sh, which every machine has (procps' may be missing).
        let kill = format!("kill -s {name} {}", child.id());
        let killed = Process::new("sh").args(["-c", &kill]).status();
        assert!(killed.unwrap().success());
        let status = child.wait().unwrap();
        drop(writer);
        assert_eq!(status.code(), Some(128 + number), "SIG{name}");
        assert!(leftovers(dir.path()).is_empty(), "SIG{name} left {:?}", leftovers(dir.path()));
        assert!(!out.exists());
    }
}

/// `pack` reads a regular file through a memory map. A file cut short while it is packed
/// ends the run with one line and exit status 2, whether the shrink is seen between chunks or
/// as SIGBUS inside one, and the temporary output is deleted (a crash would leave it).
#[test]
fn an_input_cut_short_mid_pack_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 16 << 20);
    let out = dir.path().join("out.zst");
    for threads in ["1", "2"] {
        fs::write(&input, data(16 << 20, 1)).unwrap();
        // Level 19 keeps the run going for seconds: the cut comes in the middle.
        let child = Process::new(binary())
            .args(["pack", path(&input), "-o", path(&out), "-f", "--level", "19"])
            .args(["--chunk-size", "1M", "-t", threads])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_temporary_file(dir.path());
        fs::OpenOptions::new().write(true).open(&input).unwrap().set_len(4096).unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "-t {threads}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("shrank from 16777216 to 4096 bytes")
                || stderr.contains("got shorter while it was being read"),
            "{stderr}"
        );
        assert!(leftovers(dir.path()).is_empty(), "left {:?}", leftovers(dir.path()));
        assert!(!out.exists());
    }
}

#[test]
fn a_size_limited_output_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 1 << 20);
    // `ulimit -f` counts 512-byte blocks in sh: 200 KB, a fifth of the output.
    for format in ["zstd", "bgzf"] {
        let out = dir.path().join(format!("limited.{format}"));
        let result = run_in_shell(
            "ulimit -f 400",
            &["pack", path(&input), "-o", path(&out), "--format", format],
        );
        assert_one_line_error(&result, &["limited", "File too large"]);
        assert!(!out.exists() && !dir.path().join(format!("limited.{format}.gzi")).exists());
        assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
    }
}

#[test]
fn repeats_outputs_appear_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let genome = dir.path().join("g.fa");
    run_ok(
        &["simulate", "fasta", "--records", "2", "--min-length", "200000"]
            .into_iter()
            .chain(["--max-length", "200000", "-o", path(&genome)])
            .collect::<Vec<_>>(),
    );
    // The small outputs fit under the limit, the 400 kb masked genome does not.
    let prefix = dir.path().join("out");
    let result =
        run_in_shell("ulimit -f 400", &["repeats", "-q", path(&genome), "-o", path(&prefix)]);
    assert_one_line_error(&result, &["out.masked.fa", "File too large"]);
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["g.fa"], "nothing but the genome is left");
}

/// `collection getcol` writes its files from the workers at known offsets: a failed write
/// there must still name the file and say why (the cause once went missing on its way through
/// the pipeline's error), and leave no file behind.
#[test]
fn a_failed_positional_write_names_its_file_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("../collection/tests/data/pan8.agc");
    let out = dir.path().join("samples");
    let result = run_in_shell(
        "ulimit -f 100",
        &["collection", "getcol", path(&archive), "-o", path(&out), "-t", "2"],
    );
    assert_one_line_error(&result, &["write failed", "File too large"]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains(path(&out)) && stderr.contains(".fa"), "{stderr}");
    let names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.is_empty(), "left {names:?}");
}

#[test]
fn the_bgzf_index_belongs_to_the_output_set() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 100_000);
    let gz = dir.path().join("p.gz");
    let gzi = dir.path().join("p.gz.gzi");
    fs::write(&gzi, b"someone else's index").unwrap();
    let out = run(&["pack", path(&input), "-o", path(&gz), "--format", "bgzf"]);
    assert_one_line_error(&out, &["p.gz.gzi", "already exists"]);
    assert!(!gz.exists());
    assert_eq!(fs::read(&gzi).unwrap(), b"someone else's index");
    // An index that cannot be written at all: the .gz must not appear without it.
    fs::remove_file(&gzi).unwrap();
    fs::create_dir(&gzi).unwrap();
    let out = run(&["pack", path(&input), "-o", path(&gz), "--format", "bgzf", "--force"]);
    assert_one_line_error(&out, &["p.gz.gzi", "directory"]);
    assert!(!gz.exists() && leftovers(dir.path()).is_empty());
    fs::remove_dir(&gzi).unwrap();
    fs::write(&gz, b"old").unwrap();
    fs::write(&gzi, b"old").unwrap();
    run_ok(&["pack", path(&input), "-o", path(&gz), "--format", "bgzf", "--force"]);
    assert!(fs::metadata(&gzi).unwrap().size() > 3 && fs::metadata(&gz).unwrap().size() > 3);
    assert_eq!(run_ok(&["cat", path(&gz), "--range", "5000-5010"]), &data(100_000, 1)[5000..5010]);
}

#[test]
fn keygen_refuses_an_empty_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = (dir.path().join("k.sec"), dir.path().join("k.pub"));
    let out = seqflow()
        .args(["keygen", "--secret-key", path(&secret), "--public-key", path(&public)])
        .env("SEQFLOW_PASSPHRASE", "")
        .output()
        .unwrap();
    assert_one_line_error(&out, &["empty", "--no-passphrase"]);
    assert!(!secret.exists() && !public.exists() && leftovers(dir.path()).is_empty());
}

#[test]
fn cat_of_a_range_that_starts_past_the_end_names_the_size() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 10_000);
    for format in ["zstd", "bgzf"] {
        let packed = dir.path().join(format!("p.{format}"));
        run_ok(&[
            "pack",
            path(&input),
            "-o",
            path(&packed),
            "--format",
            format,
            "--chunk-size",
            "4K",
        ]);
        let out = run(&["cat", path(&packed), "--range", "10000-10001"]);
        assert_one_line_error(&out, &[&format!("p.{format}"), "10000 bytes"]);
        assert!(out.stdout.is_empty());
        let out = run(&["cat", path(&packed), "--range", "20000-30000"]);
        assert_one_line_error(&out, &["10000 bytes"]);
        assert_eq!(
            run_ok(&["cat", path(&packed), "--range", "9990-20000"]),
            &data(10_000, 1)[9990..]
        );
    }
}

#[test]
fn a_sender_key_without_recipients_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_file(dir.path(), 1_000);
    let (secret, public) = (dir.path().join("k.sec"), dir.path().join("k.pub"));
    run_ok(&[
        "keygen",
        "--no-passphrase",
        "--secret-key",
        path(&secret),
        "--public-key",
        path(&public),
    ]);
    let out = run(&["pack", path(&input), "--sender-key", path(&secret)]);
    assert_one_line_error(&out, &["--sender-key", "--recipient"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn a_repeats_prefix_that_is_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let genome = dir.path().join("g.fa");
    fs::write(&genome, ">c\nACGTACGTAC\n").unwrap();
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    for prefix in [format!("{}/", sub.display()), sub.display().to_string()] {
        let out = run(&["repeats", path(&genome), "-o", &prefix]);
        assert_one_line_error(&out, &["is a directory", "NAME"]);
        assert_eq!(fs::read_dir(&sub).unwrap().count(), 0, "{prefix}: files written");
    }
    // A prefix ending in `/` that does not exist yet is refused the same way.
    let out = run(&["repeats", path(&genome), "-o", &format!("{}/new/", dir.path().display())]);
    assert_one_line_error(&out, &["is a directory"]);
}

/// The sequence letters of each record of a FASTA text, with its header line.
fn records(fasta: &str) -> Vec<(String, Vec<u8>)> {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    for line in fasta.lines() {
        match line.strip_prefix('>') {
            Some(header) => records.push((header.to_owned(), Vec::new())),
            None => records.last_mut().unwrap().1.extend(line.bytes()),
        }
    }
    records
}

#[test]
fn the_masked_genome_keeps_every_letter_it_does_not_mask() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.fa");
    let mut config = seqflow_sim::RepeatGenomeConfig::new(9);
    config.length = 300_000;
    config.families = 6;
    config.min_copies = 6;
    config.max_copies = 30;
    config.max_consensus_length = 1_500;
    let open = |name: &str| fs::File::create(dir.path().join(name)).unwrap();
    seqflow_sim::write_repeat_genome(&config, open("plain.fa"), open("t.bed"), open("t.fa"))
        .unwrap();
    // Descriptions in the headers, IUPAC codes and soft-masked stretches in the sequence.
    let mut genome = records(&fs::read_to_string(&plain).unwrap());
    for (i, (header, seq)) in genome.iter_mut().enumerate() {
        header.push_str(&format!(" description {i}\twith a tab"));
        for (j, code) in b"RYKMSWBDHVN".iter().enumerate() {
            seq[1_000 + 7_919 * j] = *code;
        }
        seq[5_000..9_000].make_ascii_lowercase();
    }
    let mut text = String::new();
    for (header, seq) in &genome {
        text.push_str(&format!(">{header}\n"));
        for line in seq.chunks(70) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push('\n');
        }
    }
    let fasta = dir.path().join("g.fa");
    fs::write(&fasta, &text).unwrap();
    let prefix = dir.path().join("out");
    run_ok(&["repeats", "-q", path(&fasta), "-o", path(&prefix)]);
    let masked = records(&fs::read_to_string(dir.path().join("out.masked.fa")).unwrap());
    let bed = fs::read_to_string(dir.path().join("out.bed")).unwrap();
    assert!(bed.lines().count() > 10, "the simulated genome has repeats");
    assert_eq!(masked.len(), genome.len());
    for ((header, input), (masked_header, output)) in genome.iter().zip(&masked) {
        assert_eq!(header, masked_header, "whole header lines");
        let name = header.split([' ', '\t']).next().unwrap();
        let mut inside = vec![false; input.len()];
        for f in bed.lines().map(|l| l.split('\t').collect::<Vec<_>>()).filter(|f| f[0] == name) {
            let (start, end): (usize, usize) = (f[1].parse().unwrap(), f[2].parse().unwrap());
            inside[start..end].fill(true);
        }
        assert_eq!(input.len(), output.len());
        for (pos, ((&a, &b), &masked)) in input.iter().zip(output).zip(&inside).enumerate() {
            let expected = if masked { a.to_ascii_lowercase() } else { a };
            assert_eq!(b, expected, "{name}:{pos}");
        }
    }
    // From standard input the same (the input is copied beside the outputs, then removed).
    let from_stdin = dir.path().join("stdin");
    let out = Process::new(binary())
        .args(["repeats", "-q", "-", "-o", path(&from_stdin)])
        .stdin(fs::File::open(&fasta).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut stdin_masked = Vec::new();
    fs::File::open(dir.path().join("stdin.masked.fa"))
        .unwrap()
        .read_to_end(&mut stdin_masked)
        .unwrap();
    assert!(stdin_masked == fs::read(dir.path().join("out.masked.fa")).unwrap());
    assert!(leftovers(dir.path()).is_empty());
}
