//! Archives written by `create` checked with the real client, C++ agc 3.2.2.
//!
//! The agc binary and the pan8 fixture live in `shared/` beside the repository (found by
//! walking up from this crate). Without them a test prints `SKIPPED` and passes, unless
//! `SEQFLOW_REQUIRE_TOOLS=1`, when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use seqflow_collection::Error;
use seqflow_collection::create::{CreateOptions, create};
use sha2::{Digest, Sha256};

/// The `shared/` directory beside the repository, if present.
fn shared_dir() -> Option<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared"))
        .find(|s| s.join("tools/agc/agc").exists() || s.join("fixtures").exists())
}

fn required(what: &str) -> Option<PathBuf> {
    let path = shared_dir().map(|s| s.join(what)).filter(|p| p.exists());
    if path.is_none() {
        assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "shared/{what} is required");
        eprintln!("SKIPPED: shared/{what} not found");
    }
    path
}

fn agc() -> Option<PathBuf> {
    required("tools/agc/agc")
}

fn run_agc(agc: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(agc).args(args).output().expect("run agc");
    assert!(out.status.success(), "agc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn options(threads: usize) -> CreateOptions {
    CreateOptions { threads, ..CreateOptions::default() }
}

fn make(inputs: &[PathBuf], out: &Path, options: &CreateOptions) -> Vec<u8> {
    create(inputs, out, options, &|_| {}).expect("create");
    std::fs::read(out).unwrap()
}

/// FASTA as agc prints it: uppercase, 80 columns.
fn agc_fasta(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, seq) in records {
        out.push(b'>');
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        for line in seq.chunks(80) {
            out.extend(line.iter().map(u8::to_ascii_uppercase));
            out.push(b'\n');
        }
    }
    out
}

fn write_fasta(path: &Path, records: &[(String, Vec<u8>)], width: usize) {
    let mut out = Vec::new();
    for (name, seq) in records {
        out.push(b'>');
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        for line in seq.chunks(width.max(1)) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn pan8_is_read_back_by_agc_and_no_larger_than_agc() {
    let Some(pan8) = required("fixtures/agc/pan8") else { return };
    let inputs: Vec<PathBuf> = (1..=8).map(|i| pan8.join(format!("hap{i:02}.fa.gz"))).collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pan8.agc");
    let bytes = make(&inputs, &out, &options(2));
    let agc_size = std::fs::metadata(pan8.join("pan8.agc")).unwrap().len();
    assert!(
        bytes.len() as f64 <= 1.01 * agc_size as f64,
        "{} B vs agc's {agc_size} B",
        bytes.len()
    );

    let Some(agc) = agc() else { return };
    let expected = std::fs::read_to_string(pan8.join("../expected-getset.sha256")).unwrap();
    for i in 1..=8 {
        let sample = format!("hap{i:02}");
        let got = run_agc(&agc, &["getset", out.to_str().unwrap(), &sample]);
        let digest = format!("{:x}", Sha256::digest(&got));
        let line = format!("pan8/pan8.agc {sample} {digest}");
        assert!(expected.lines().any(|l| l == line), "{sample}: {digest}");
    }
}

#[test]
fn archive_bytes_do_not_depend_on_threads_or_queue_budget() {
    let Some(pan8) = required("fixtures/agc/pan8") else { return };
    let inputs: Vec<PathBuf> = (1..=4).map(|i| pan8.join(format!("hap{i:02}.fa.gz"))).collect();
    let dir = tempfile::tempdir().unwrap();
    let reference = make(&inputs, &dir.path().join("t1.agc"), &options(1));
    for (threads, queue_memory) in [(2, 1 << 30), (4, 1 << 30), (2, 1), (3, 5_000_000)] {
        let path = dir.path().join(format!("t{threads}-{queue_memory}.agc"));
        let opts = CreateOptions { threads, queue_memory, ..CreateOptions::default() };
        assert!(make(&inputs, &path, &opts) == reference, "-t {threads}, queue {queue_memory}");
    }
}

#[test]
fn agc_appends_to_our_archive() {
    let (Some(pan8), Some(agc)) = (required("fixtures/agc/pan8"), agc()) else { return };
    let inputs: Vec<PathBuf> = (1..=3).map(|i| pan8.join(format!("hap{i:02}.fa.gz"))).collect();
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("three.agc");
    make(&inputs, &ours, &options(2));
    let appended = dir.path().join("four.agc");
    let hap04 = pan8.join("hap04.fa.gz");
    run_agc(
        &agc,
        &[
            "append",
            "-o",
            appended.to_str().unwrap(),
            ours.to_str().unwrap(),
            hap04.to_str().unwrap(),
        ],
    );
    let expected = std::fs::read_to_string(pan8.join("../expected-getset.sha256")).unwrap();
    for sample in ["hap01", "hap03", "hap04"] {
        let got = run_agc(&agc, &["getset", appended.to_str().unwrap(), sample]);
        let line = format!("pan8/pan8.agc {sample} {:x}", Sha256::digest(&got));
        assert!(expected.lines().any(|l| l == line), "{sample} after agc append");
    }
}

/// A FASTA file and its records (header, sequence).
type SampleFile = (PathBuf, Vec<(String, Vec<u8>)>);

/// A seeded generator of related samples: a base sequence with IUPAC codes and N runs,
/// samples with SNPs, indels, inverted and duplicated stretches, split into contigs.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn base(&mut self, len: usize) -> Vec<u8> {
        let mut s = Vec::with_capacity(len);
        while s.len() < len {
            match self.below(1000) {
                0..=2 => s.extend(std::iter::repeat_n(b'N', 1 + self.below(300) as usize)),
                3..=12 => s.push(b"RYSWKMBDHVUN"[self.below(12) as usize]),
                _ => s.push(b"ACGT"[self.below(4) as usize]),
            }
        }
        s.truncate(len);
        s
    }

    fn mutate(&mut self, base: &[u8]) -> Vec<u8> {
        let mut s = Vec::with_capacity(base.len() + 1000);
        let mut i = 0;
        while i < base.len() {
            match self.below(4000) {
                0..=5 => s.push(b"ACGTRYSWKMN"[self.below(11) as usize]),
                6..=7 => i += 1 + self.below(30) as usize,
                8..=9 => {
                    let len = 1 + self.below(40) as usize;
                    s.extend(self.base(len));
                }
                10 => {
                    let len = (200 + self.below(3000) as usize).min(base.len() - i);
                    let rc = |c: &u8| match c {
                        b'A' => b'T',
                        b'C' => b'G',
                        b'G' => b'C',
                        b'T' => b'A',
                        other => *other,
                    };
                    s.extend(base[i..i + len].iter().rev().map(rc));
                    i += len;
                    continue;
                }
                _ => s.push(base[i]),
            }
            i += 1;
        }
        s
    }
}

/// Writes `samples` related samples of about `len` bases in up to `contigs` contigs each.
fn related_samples(
    dir: &Path,
    seed: u64,
    samples: usize,
    len: usize,
    contigs: usize,
) -> Vec<SampleFile> {
    let mut g = Generator(seed);
    let base = g.base(len);
    (0..samples)
        .map(|i| {
            let genome = if i == 0 { base.clone() } else { g.mutate(&base) };
            let pieces = 1 + g.below(contigs as u64) as usize;
            let cut = genome.len().div_ceil(pieces);
            let mut records: Vec<(String, Vec<u8>)> = genome
                .chunks(cut.max(1))
                .enumerate()
                .map(|(c, piece)| {
                    (format!("ctg{c} sample={i} len={}", piece.len()), piece.to_vec())
                })
                .collect();
            // Lowercase stretches (soft-masking) must not change what agc returns.
            if let Some((_, seq)) = records.first_mut() {
                let end = seq.len().min(500);
                seq[100.min(end)..end].make_ascii_lowercase();
            }
            let path = dir.join(format!("s{i}.fa"));
            write_fasta(&path, &records, 60 + i);
            (path, records)
        })
        .collect()
}

fn check_with_agc(agc: &Path, archive: &Path, samples: &[SampleFile]) {
    for (i, (_, records)) in samples.iter().enumerate() {
        let got = run_agc(agc, &["getset", archive.to_str().unwrap(), &format!("s{i}")]);
        assert!(got == agc_fasta(records), "sample s{i} differs");
    }
    let (name, seq) = &samples[1].1[0];
    let contig = name.split(' ').next().unwrap();
    let to = (seq.len() - 1).min(777);
    let got = run_agc(agc, &["getctg", archive.to_str().unwrap(), &format!("{contig}@s1:3-{to}")]);
    let expected = agc_fasta(&[(format!("{name}:3-{to}"), seq[3..=to].to_vec())]);
    assert!(got == expected, "getctg range");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// IUPAC codes and N runs survive on both strands, with small segments so that many
    /// segments are stored reverse-complemented, split, or raw.
    #[test]
    fn iupac_rich_multi_contig_samples_round_trip_through_agc(seed in 0u64..1_000_000, contigs in 1usize..5) {
        let Some(agc) = agc() else { return Ok(()) };
        let dir = tempfile::tempdir().unwrap();
        let samples = related_samples(dir.path(), seed, 4, 40_000, contigs);
        let inputs: Vec<PathBuf> = samples.iter().map(|(p, _)| p.clone()).collect();
        let mut opts = options(2);
        opts.params.segment_size = 1000;
        opts.params.pack_cardinality = 3;
        opts.params.kmer_length = 21;
        let out = dir.path().join("x.agc");
        make(&inputs, &out, &opts);
        check_with_agc(&agc, &out, &samples);
    }
}

#[test]
fn concatenated_mode_makes_one_sample_per_record() {
    let Some(agc) = agc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let samples = related_samples(dir.path(), 7, 3, 30_000, 1);
    // One file holding the records of samples 1 and 2, each record its own sample.
    let records: Vec<(String, Vec<u8>)> = samples[1..]
        .iter()
        .enumerate()
        .map(|(i, (_, r))| (format!("rec{i} from s{}", i + 1), r[0].1.clone()))
        .collect();
    let joined = dir.path().join("joined.fa");
    write_fasta(&joined, &records, 70);
    let mut opts = options(2);
    opts.concatenated = true;
    opts.params.pack_cardinality = 2;
    opts.params.segment_size = 2000;
    let out = dir.path().join("c.agc");
    make(&[samples[0].0.clone(), joined], &out, &opts);
    let listed = String::from_utf8(run_agc(&agc, &["listset", out.to_str().unwrap()])).unwrap();
    assert_eq!(listed.split_whitespace().collect::<Vec<_>>().len(), 3, "{listed}");
    for (i, (name, seq)) in records.iter().enumerate() {
        let got = run_agc(&agc, &["getset", out.to_str().unwrap(), &format!("rec{i}")]);
        assert!(got == agc_fasta(&[(name.clone(), seq.clone())]), "rec{i}");
    }
}

fn expect_input_error(inputs: &[PathBuf], dir: &Path, needles: &[&str]) {
    let out = dir.join("bad.agc");
    let error = create(inputs, &out, &options(2), &|_| {}).expect_err("bad input must fail");
    let message = error.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    for needle in needles {
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
    assert!(!out.exists(), "no archive under the final name");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary file left behind");
    let _ = matches!(error, Error::Input(_) | Error::Sequence(_));
}

#[test]
fn bad_inputs_fail_with_one_line_and_leave_no_archive() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.fa");
    std::fs::write(&good, ">c1\nACGTACGTAC\n").unwrap();
    let bad_letter = dir.path().join("letters.fa");
    std::fs::write(&bad_letter, ">c1\nACGT\n>c2 x\nACGT\nAC1J\n").unwrap();
    expect_input_error(
        &[good.clone(), bad_letter.clone()],
        dir.path(),
        &["letters.fa", "line 5", "'c2'", "'J'"],
    );
    let not_fasta = dir.path().join("reads.fa");
    std::fs::write(&not_fasta, "hello\n").unwrap();
    expect_input_error(&[good.clone(), not_fasta.clone()], dir.path(), &["reads.fa"]);
    let empty = dir.path().join("empty.fa");
    std::fs::write(&empty, "").unwrap();
    expect_input_error(&[good.clone(), empty], dir.path(), &["empty.fa", "empty sample"]);
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let again = sub.join("good.fa.gz");
    std::fs::copy(&good, &again).unwrap();
    expect_input_error(&[good.clone(), again], dir.path(), &["duplicate sample name 'good'"]);
    let twice = dir.path().join("twice.fa");
    std::fs::write(&twice, ">c1\nACGT\n>c1\nACGT\n").unwrap();
    expect_input_error(&[good.clone(), twice], dir.path(), &["twice.fa", "'c1' appears twice"]);
    expect_input_error(&[good, dir.path().join("missing.fa")], dir.path(), &["missing.fa"]);
}

#[test]
fn append_costs_what_a_fresh_create_costs_and_agc_reads_it() {
    let Some(pan8) = required("fixtures/agc/pan8") else { return };
    let inputs: Vec<PathBuf> = (1..=5).map(|i| pan8.join(format!("hap{i:02}.fa.gz"))).collect();
    let dir = tempfile::tempdir().unwrap();
    let four = dir.path().join("four.agc");
    let mut opts = options(2);
    // A batch size of 3 makes the appended archive rewrite a partial metadata batch.
    opts.params.pack_cardinality = 3;
    let four_bytes = make(&inputs[..4], &four, &opts).len();
    let fresh_bytes = make(&inputs, &dir.path().join("five.agc"), &opts).len();
    let appended = dir.path().join("appended.agc");
    seqflow_collection::create::append(&four, &inputs[4..], &appended, &opts, &|_| {}).unwrap();
    let appended_bytes = std::fs::metadata(&appended).unwrap().len() as usize;
    let fresh_cost = fresh_bytes - four_bytes;
    let append_cost = appended_bytes - four_bytes;
    assert!(
        append_cost as f64 <= 1.10 * fresh_cost as f64,
        "append {append_cost} B vs fresh {fresh_cost} B"
    );
    // Appending in place (output = input) works too.
    seqflow_collection::create::append(&four, &inputs[4..], &four, &opts, &|_| {}).unwrap();
    assert_eq!(std::fs::metadata(&four).unwrap().len() as usize, appended_bytes);

    let Some(agc) = agc() else { return };
    let expected = std::fs::read_to_string(pan8.join("../expected-getset.sha256")).unwrap();
    for i in 1..=5 {
        let sample = format!("hap{i:02}");
        let got = run_agc(&agc, &["getset", appended.to_str().unwrap(), &sample]);
        let line = format!("pan8/pan8.agc {sample} {:x}", Sha256::digest(&got));
        assert!(expected.lines().any(|l| l == line), "{sample} after append");
    }
    // Our append to an archive agc made.
    let theirs = dir.path().join("theirs.agc");
    let mut args = vec![
        "create".to_owned(),
        "-t".into(),
        "2".into(),
        "-o".into(),
        theirs.to_str().unwrap().into(),
    ];
    args.extend(inputs[..4].iter().map(|p| p.to_str().unwrap().to_owned()));
    run_agc(&agc, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let both = dir.path().join("both.agc");
    seqflow_collection::create::append(&theirs, &inputs[4..], &both, &options(2), &|_| {}).unwrap();
    for sample in ["hap01", "hap05"] {
        let got = run_agc(&agc, &["getset", both.to_str().unwrap(), sample]);
        let line = format!("pan8/pan8.agc {sample} {:x}", Sha256::digest(&got));
        assert!(expected.lines().any(|l| l == line), "{sample} after append to agc's archive");
    }
}

#[test]
fn append_refuses_damaged_archives_and_known_samples() {
    let dir = tempfile::tempdir().unwrap();
    let samples = related_samples(dir.path(), 3, 3, 20_000, 2);
    let inputs: Vec<PathBuf> = samples.iter().map(|(p, _)| p.clone()).collect();
    let archive = dir.path().join("a.agc");
    let bytes = make(&inputs[..2], &archive, &options(1));
    let out = dir.path().join("out.agc");
    let err =
        seqflow_collection::create::append(&archive, &inputs[1..2], &out, &options(1), &|_| {})
            .unwrap_err()
            .to_string();
    assert!(err.contains("'s1' is already in"), "{err}");
    assert!(!out.exists());
    for (what, damaged) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("footer", {
            let mut b = bytes.clone();
            let n = b.len();
            b[n - 3] ^= 0x40;
            b
        }),
        ("not an archive", b">c\nACGT\n".to_vec()),
    ] {
        let broken = dir.path().join("broken.agc");
        std::fs::write(&broken, &damaged).unwrap();
        let err =
            seqflow_collection::create::append(&broken, &inputs[2..], &out, &options(1), &|_| {})
                .expect_err(what)
                .to_string();
        assert!(err.contains("broken.agc") && !err.contains('\n'), "{what}: {err}");
        assert!(!out.exists(), "{what}: no output");
    }
}

#[test]
fn keep_case_runs_survive_and_agc_ignores_their_stream() {
    use seqflow_collection::container::{ArchiveReader, FileSource};
    use seqflow_collection::create::case::{apply_case, read_case_runs};
    let dir = tempfile::tempdir().unwrap();
    let samples = related_samples(dir.path(), 11, 3, 30_000, 3);
    let inputs: Vec<PathBuf> = samples.iter().map(|(p, _)| p.clone()).collect();
    let mut opts = options(2);
    opts.keep_case = true;
    let out = dir.path().join("case.agc");
    make(&inputs[..2], &out, &opts);
    let appended = dir.path().join("case3.agc");
    seqflow_collection::create::append(&out, &inputs[2..], &appended, &opts, &|_| {}).unwrap();
    let archive =
        ArchiveReader::open(FileSource::new(std::fs::File::open(&appended).unwrap()).unwrap())
            .unwrap();
    for (i, (_, records)) in samples.iter().enumerate() {
        let runs = read_case_runs(&archive, &format!("s{i}")).unwrap().expect("runs stored");
        assert_eq!(runs.len(), records.len());
        for ((_, seq), contig_runs) in records.iter().zip(&runs) {
            let mut letters = seq.to_ascii_uppercase();
            apply_case(&mut letters, contig_runs);
            assert!(letters == *seq, "s{i}: case restored");
        }
    }
    let Some(agc) = agc() else { return };
    check_with_agc(&agc, &appended, &samples);
}

#[test]
fn adaptive_mode_splits_divergent_contigs_deterministically_and_agc_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut samples = related_samples(dir.path(), 21, 3, 40_000, 2);
    // A contig unrelated to the reference: no splitter occurs in it, so only adaptive mode
    // can cut it (with new splitters from its own unique k-mers).
    for (i, (path, records)) in samples.iter_mut().enumerate().skip(1) {
        records.push((format!("novel{i}"), Generator(99).base(25_000)));
        write_fasta(path, records, 70);
    }
    let inputs: Vec<PathBuf> = samples.iter().map(|(p, _)| p.clone()).collect();
    let adaptive = |threads: usize| {
        let mut opts = options(threads);
        opts.params.segment_size = 2000;
        opts.params.kmer_length = 21;
        opts.adaptive = true;
        opts
    };
    let out = dir.path().join("a.agc");
    let summary = create(&inputs, &out, &adaptive(1), &|_| {}).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    for threads in [2, 4] {
        let other = dir.path().join(format!("a{threads}.agc"));
        assert!(make(&inputs, &other, &adaptive(threads)) == bytes, "-a -t {threads}");
    }
    let mut plain = adaptive(2);
    plain.adaptive = false;
    let plain_out = dir.path().join("plain.agc");
    let plain_summary = create(&inputs, &plain_out, &plain, &|_| {}).unwrap();
    // The novel contigs are cut at new splitters into groups of their own (without -a they
    // are one raw segment each).
    assert!(summary.groups > plain_summary.groups + 5, "{summary:?} vs {plain_summary:?}");
    // append -a rebuilds the reference k-mers from the archive: the same archive as a create.
    let two = dir.path().join("two.agc");
    make(&inputs[..2], &two, &adaptive(2));
    let appended = dir.path().join("appended.agc");
    seqflow_collection::create::append(&two, &inputs[2..], &appended, &adaptive(2), &|_| {})
        .unwrap();
    let appended_len = std::fs::read(&appended).unwrap().len();
    assert!(appended_len <= bytes.len() + bytes.len() / 100, "{appended_len} vs {}", bytes.len());
    let Some(agc) = agc() else { return };
    check_with_agc(&agc, &out, &samples);
    check_with_agc(&agc, &appended, &samples);
}
