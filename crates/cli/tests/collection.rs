//! `seqflow collection` through the real binary: the fixture archives, determinism across
//! thread counts, damaged archives, and archives made by the C++ agc binary from seeded
//! IUPAC-rich inputs (plain, `-a`, `-c`, small batches, `agc append`) read back exactly as agc
//! reads them.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqflow_collection::CollectionReader;
use seqflow_collection::container::{ArchiveReader, ArchiveWriter};
use seqflow_collection::payload::{FileTypeInfo, decode_pack, encode_pack, join_pack};

mod common;

use common::cli::agc;

fn seqflow() -> Command {
    Command::cargo_bin("seqflow").unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../collection/tests/data").join(name)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run_ok(args: &[&str]) -> Vec<u8> {
    let out = seqflow().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Runs a command that must fail: exit code 2 and exactly one line on stderr, returned.
fn run_fails(args: &[&str]) -> String {
    let out = seqflow().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail with exit code 2");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line expected, got {stderr:?}");
    stderr
}

fn agc_ok(agc: &Path, args: &[&str]) -> Vec<u8> {
    let out = Process::new(agc).args(args).output().unwrap();
    assert!(out.status.success(), "agc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn info_and_listings_match_agc_output() {
    let pan8 = fixture("pan8.agc");
    let info = run_ok(&["collection", "info", path(&pan8)]);
    assert_eq!(info, std::fs::read(fixture("info-pan8.txt")).unwrap());
    let samples = run_ok(&["collection", "listset", path(&pan8)]);
    let expected: String = (1..=8).map(|i| format!("hap{i:02}\n")).collect();
    assert_eq!(String::from_utf8(samples).unwrap(), expected);
    assert_eq!(run_ok(&["collection", "listref", path(&pan8)]), b"hap01\n");
    let contigs = run_ok(&["collection", "listctg", path(&pan8), "hap02", "hap05"]);
    assert_eq!(contigs, b"hap02\n   chr1\n   chr2\nhap05\n   chr1\n   chr2\n");
    let versions = run_ok(&["collection", "info", "--file-type-info", path(&pan8)]);
    assert!(String::from_utf8(versions).unwrap().contains("  file_version_major : 3\n"));
}

#[test]
fn output_is_identical_for_any_thread_count_and_gzip_restores_it() {
    let yeast = fixture("yeast3.agc");
    let samples = ["SmikIFO1815", "ScerR64", "SkudIFO1802"];
    let mut args = vec!["collection", "getset", path(&yeast), "-t", "1"];
    args.extend(samples);
    let one = run_ok(&args);
    for threads in ["2", "3", "5"] {
        args[4] = threads;
        assert_eq!(run_ok(&args), one, "{threads} threads");
    }
    // Line length and chunking: a tiny line length stays consistent across threads.
    let narrow1 = run_ok(&["collection", "getset", path(&yeast), "ScerR64", "-l", "7", "-t", "1"]);
    let narrow3 = run_ok(&["collection", "getset", path(&yeast), "ScerR64", "-l", "7", "-t", "3"]);
    assert_eq!(narrow1, narrow3);
    assert!(narrow1.split(|&b| b == b'\n').skip(1).all(|line| line.len() <= 7));

    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("out.fa.gz");
    args[4] = "2";
    args.extend(["--gzip", "6", "-o", path(&gz)]);
    run_ok(&args);
    let mut restored = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&gz).unwrap()),
        &mut restored,
    )
    .unwrap();
    assert_eq!(restored, one);
}

#[test]
fn files_written_by_position_equal_the_stream_at_every_chunk_size() {
    let yeast = fixture("yeast3.agc");
    let dir = tempfile::tempdir().unwrap();
    for line in ["80", "7", "0"] {
        let stream =
            run_ok(&["collection", "getset", path(&yeast), "ScerR64", "SkudIFO1802", "-l", line]);
        for (chunk, threads) in [("1000", "3"), ("333", "2"), ("4000000", "1")] {
            let file = dir.path().join(format!("{line}-{chunk}.fa"));
            run_ok(&[
                "collection",
                "getset",
                path(&yeast),
                "ScerR64",
                "SkudIFO1802",
                "-l",
                line,
                "-t",
                threads,
                "--chunk-bases",
                chunk,
                "-o",
                path(&file),
            ]);
            assert!(std::fs::read(&file).unwrap() == stream, "-l {line} --chunk-bases {chunk}");
            let piped = run_ok(&[
                "collection",
                "getset",
                path(&yeast),
                "ScerR64",
                "SkudIFO1802",
                "-l",
                line,
                "-t",
                threads,
                "--chunk-bases",
                chunk,
            ]);
            assert!(piped == stream, "stdout -l {line} --chunk-bases {chunk}");
        }
    }
}

#[test]
fn getcol_writes_every_sample_in_parallel_like_getset() {
    let pan8 = fixture("pan8.agc");
    let dir = tempfile::tempdir().unwrap();
    // Small chunks make many work items per sample, interleaved across the samples of a block
    // and written at their offsets by different workers.
    let runs = [("1", "4194304"), ("2", "4194304"), ("1", "1000"), ("3", "1000"), ("2", "777")];
    for (threads, chunk) in runs {
        let out = dir.path().join(format!("col{threads}-{chunk}"));
        let args = ["-t", threads, "--chunk-bases", chunk];
        run_ok(&[&["collection", "getcol", path(&pan8), "-o", path(&out)], &args[..]].concat());
    }
    for i in 1..=8 {
        let name = format!("hap{i:02}.fa");
        let getset = run_ok(&["collection", "getset", path(&pan8), &name[..5]]);
        for (threads, chunk) in runs {
            let written =
                std::fs::read(dir.path().join(format!("col{threads}-{chunk}")).join(&name));
            assert!(written.unwrap() == getset, "{name} with -t {threads} --chunk-bases {chunk}");
        }
    }
    // No temporary file is left beside the outputs.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("col2-777"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.ends_with(".fa"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Existing files are not overwritten without --force.
    let existing = dir.path().join("col1-1000");
    let err = run_fails(&["collection", "getcol", path(&pan8), "-o", path(&existing)]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn getcol_writes_through_a_fifo_among_its_outputs() {
    let pan8 = fixture("pan8.agc");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("hap03.fa");
    let status = Process::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let args = ["collection", "getcol", path(&pan8), "-o", path(dir.path()), "-t", "2"];
    run_ok(&[&args[..], &["--chunk-bases", "1000"]].concat());
    use std::os::unix::fs::FileTypeExt;
    // Checked before joining: a replaced FIFO would leave the reader waiting forever.
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO stays a FIFO");
    let through_fifo = reader.join().unwrap();
    assert!(through_fifo == run_ok(&["collection", "getset", path(&pan8), "hap03"]));
    let hap04 = std::fs::read(dir.path().join("hap04.fa")).unwrap();
    assert!(hap04 == run_ok(&["collection", "getset", path(&pan8), "hap04"]));
}

/// Copies an archive part by part, letting `edit` replace any part's `(data, metadata)`.
fn rewrite_archive(
    source: &Path,
    target: &Path,
    edit: impl Fn(&str, usize, &[u8], u64) -> Option<(Vec<u8>, u64)>,
) {
    let reader = ArchiveReader::open(std::fs::read(source).unwrap()).unwrap();
    let mut writer = ArchiveWriter::new(Vec::new());
    for (id, stream) in reader.streams().iter().enumerate() {
        let new_id = writer.register_stream(&stream.name);
        writer.set_raw_size(new_id, stream.raw_size);
        for index in 0..stream.parts.len() {
            let part = reader.read_part(id, index).unwrap();
            let (data, metadata) = edit(&stream.name, index, &part.data, part.metadata)
                .unwrap_or((part.data, part.metadata));
            writer.add_part(new_id, &data, metadata).unwrap();
        }
    }
    std::fs::write(target, writer.finish().unwrap()).unwrap();
}

#[test]
fn damaged_archives_and_bad_queries_fail_with_one_line_and_no_output_file() {
    let pan8 = fixture("pan8.agc");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.fa");
    let pan8_bytes = std::fs::read(&pan8).unwrap();

    let not_agc = dir.path().join("not.agc");
    std::fs::write(&not_agc, b">chr1\nACGT\n".repeat(10)).unwrap();
    let truncated = dir.path().join("truncated.agc");
    std::fs::write(&truncated, &pan8_bytes[..pan8_bytes.len() / 2]).unwrap();

    // The largest reference part among hap01's chr1 segments with its ZSTD frame header
    // damaged. (AGC writes frames without checksums, so damage inside the entropy-coded data
    // can decode to other bases of the right length: no reader can see that.)
    let reader = CollectionReader::open(&pan8).unwrap();
    let (_, chr1) = reader.find_contig("chr1", Some("hap01")).unwrap();
    let ref_name = chr1
        .segments
        .iter()
        .filter(|seg| seg.group_id >= 16)
        .map(|seg| seqflow_collection::names::reference_stream_name(seg.group_id))
        .max_by_key(|name| reader.archive().stream(name).unwrap().parts[0].size)
        .unwrap();
    let bad_zstd = dir.path().join("bad-zstd.agc");
    rewrite_archive(&pan8, &bad_zstd, |name, _, data, meta| {
        (name == ref_name).then(|| {
            let mut data = data.to_vec();
            for byte in &mut data[..4] {
                *byte ^= 0xA5;
            }
            (data, meta)
        })
    });

    // Every delta of every pack gets a copy token pointing far outside its reference.
    let bad_delta = dir.path().join("bad-delta.agc");
    rewrite_archive(&pan8, &bad_delta, |name, index, data, meta| {
        let group_stream = name.starts_with('x') && name.ends_with('d') && name.len() > 2;
        (group_stream && name != "x0d").then(|| {
            let mut dctx = zstd::bulk::Decompressor::new().unwrap();
            let pack = decode_pack(&mut dctx, data, meta, &format!("{name} {index}")).unwrap();
            let items: Vec<Vec<u8>> = pack
                .split(|&b| b == 0xFF)
                .take(pack.iter().filter(|&&b| b == 0xFF).count())
                .map(|item| [b"99999999,0.".as_slice(), item].concat())
                .collect();
            let mut cctx = zstd::bulk::Compressor::new(3).unwrap();
            encode_pack(&mut cctx, &join_pack(&items)).unwrap()
        })
    });

    let old_version = dir.path().join("v2.agc");
    rewrite_archive(&pan8, &old_version, |name, _, _, _| {
        (name == "file_type_info").then(|| {
            let mut info = FileTypeInfo::agc_3_0("agc", "old");
            info.0.insert("file_version_major".into(), "2".into());
            info.0.insert("file_version_minor".into(), "1".into());
            info.encode()
        })
    });

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["getset", path(&not_agc), "hap01"], "not an AGC archive"),
        (vec!["getset", path(&truncated), "hap01"], "not an AGC archive (or truncated)"),
        (vec!["getset", path(&bad_zstd), "hap01"], "corrupt ZSTD"),
        (vec!["getset", path(&bad_delta), "hap02", "hap03"], "LZ-diff"),
        (vec!["getset", path(&old_version), "hap01"], "format version 2.1 is not supported"),
        (vec!["getset", path(&pan8), "hap01", "nosuch"], "no sample \"nosuch\""),
        (vec!["getctg", path(&pan8), "chr9@hap01"], "no contig \"chr9\" in sample \"hap01\""),
        (vec!["getctg", path(&pan8), "chr1"], "is in 8 samples"),
        (vec!["getctg", path(&pan8), "chr1@hap01:1219000-1219131"], "past its end (length 1219131"),
        (vec!["getctg", path(&pan8), "chr1@hap01:50-10"], "start is after its end"),
    ];
    for (args, expected) in cases {
        let mut full = vec!["collection"];
        full.extend(&args);
        full.extend(["-o", path(&out)]);
        let err = run_fails(&full);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(err.contains(args[1]), "{args:?}: the archive is not named in {err}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.ends_with(".agc"))
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}

/// Complement of a FASTA letter, as a biologist would write the reverse strand (IUPAC codes
/// complemented too: the archive must store whatever the input says).
fn complement(base: u8) -> u8 {
    match base {
        b'A' => b'T',
        b'C' => b'G',
        b'G' => b'C',
        b'T' => b'A',
        b'R' => b'Y',
        b'Y' => b'R',
        b'K' => b'M',
        b'M' => b'K',
        b'B' => b'V',
        b'V' => b'B',
        b'D' => b'H',
        b'H' => b'D',
        other => other,
    }
}

const IUPAC: &[u8] = b"RYSWKMBDHVUN";

/// A seeded pangenome: a random base genome, haplotypes with SNPs, indels, inversions, a
/// fully reverse-complemented contig, N runs and every IUPAC code sprinkled in, soft-masked
/// stretches, and headers with several space-separated tokens.
struct Pangenome {
    /// Per sample: `(header, sequence)` records.
    samples: Vec<Vec<(String, Vec<u8>)>>,
}

impl Pangenome {
    fn new(seed: u64, n_samples: usize) -> Pangenome {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let lengths = [260_000usize, 90_000, 4_000, 50];
        let base: Vec<Vec<u8>> = lengths
            .iter()
            .map(|&n| (0..n).map(|_| b"ACGT"[rng.random_range(0..4)]).collect())
            .collect();
        let mut samples = Vec::new();
        for s in 0..n_samples {
            let mut records = Vec::new();
            for (c, contig) in base.iter().enumerate() {
                let mut seq = Vec::with_capacity(contig.len());
                let mut i = 0;
                while i < contig.len() {
                    let roll: f64 = rng.random();
                    if s > 0 && roll < 0.004 {
                        seq.push(b"ACGT"[rng.random_range(0..4)]); // SNP (or not)
                        i += 1;
                    } else if s > 0 && roll < 0.0045 {
                        i += rng.random_range(1..6); // deletion
                    } else if s > 0 && roll < 0.005 {
                        seq.extend(
                            (0..rng.random_range(1..6)).map(|_| b"ACGT"[rng.random_range(0..4)]),
                        );
                    } else if roll < 0.0065 {
                        seq.push(IUPAC[rng.random_range(0..IUPAC.len())]);
                        i += 1;
                    } else if roll < 0.0067 {
                        seq.extend(std::iter::repeat_n(b'N', rng.random_range(1..400)));
                        i += 1;
                    } else {
                        seq.push(contig[i]);
                        i += 1;
                    }
                }
                // An inversion in some haplotypes, and one contig wholly on the other strand.
                if s % 2 == 1 && seq.len() > 100_000 {
                    let start = rng.random_range(10_000..seq.len() - 60_000);
                    let region = &mut seq[start..start + 40_000];
                    region.reverse();
                    region.iter_mut().for_each(|b| *b = complement(*b));
                }
                if s == n_samples - 1 && c == 1 {
                    seq.reverse();
                    seq.iter_mut().for_each(|b| *b = complement(*b));
                }
                // Soft-masking: agc drops case, so output is upper case.
                if seq.len() > 5_000 {
                    let start = rng.random_range(0..seq.len() - 2_000);
                    seq[start..start + 1_000].make_ascii_lowercase();
                }
                let header = format!("ctg{} sample=h{s} len={} note=seeded", c + 1, seq.len());
                records.push((header, seq));
            }
            // Every IUPAC code on both strands in one small contig, reverse-complemented in
            // the next haplotype's copy.
            let mut iupac: Vec<u8> = (0..2_000).map(|_| b"ACGT"[rng.random_range(0..4)]).collect();
            for (j, &code) in IUPAC.iter().cycle().take(120).enumerate() {
                iupac[100 + j * 13] = code;
            }
            if s % 2 == 1 {
                iupac.reverse();
                iupac.iter_mut().for_each(|b| *b = complement(*b));
            }
            records.push((format!("iupac h{s}"), iupac));
            samples.push(records);
        }
        Pangenome { samples }
    }

    fn write_sample(&self, s: usize, file: &Path) {
        let mut text = Vec::new();
        for (header, seq) in &self.samples[s] {
            text.extend_from_slice(format!(">{header}\n").as_bytes());
            for line in seq.chunks(61) {
                text.extend_from_slice(line);
                text.push(b'\n');
            }
        }
        std::fs::write(file, text).unwrap();
    }

    /// What agc (and seqflow) must print for sample `s`: upper case, 80 bases per line.
    fn expected_fasta(&self, s: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for (header, seq) in &self.samples[s] {
            out.extend_from_slice(format!(">{header}\n").as_bytes());
            for line in seq.chunks(80) {
                out.extend(line.iter().map(u8::to_ascii_uppercase));
                out.push(b'\n');
            }
        }
        out
    }
}

/// Checks every sample and a set of seeded range queries of `archive` against agc and the
/// input; returns how many reverse-complemented segments hold IUPAC codes other than N.
fn compare_with_agc(
    agc: &Path,
    archive: &Path,
    genome: Option<&Pangenome>,
    names: &[String],
) -> usize {
    let listed = String::from_utf8(agc_ok(agc, &["listset", path(archive)])).unwrap();
    let ours = String::from_utf8(run_ok(&["collection", "listset", path(archive)])).unwrap();
    assert_eq!(ours, listed);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let reader = CollectionReader::open(archive).unwrap();
    let mut iupac_rc = 0;
    for (s, sample) in names.iter().enumerate() {
        let theirs = agc_ok(agc, &["getset", path(archive), sample]);
        let ours = run_ok(&["collection", "getset", path(archive), sample, "-t", "2"]);
        assert!(ours == theirs, "{}: sample {sample} differs from agc", archive.display());
        if let Some(genome) = genome {
            assert!(ours == genome.expected_fasta(s), "sample {sample} differs from its input");
        }
        let mut decoder = reader.decoder().unwrap();
        let mut segment = Vec::new();
        let mut queries = Vec::new();
        for contig in reader.sample_contigs(sample).unwrap() {
            for seg in contig.segments.iter().filter(|seg| seg.reverse_complement) {
                reader.decode_segment(&mut decoder, seg, &mut segment).unwrap();
                // Codes 5..=10 are R, Y, S, W, K, M.
                iupac_rc += usize::from(segment.iter().any(|c| (5..=10).contains(c)));
            }
            let length = contig.length(reader.params().kmer_length);
            for _ in 0..3 {
                let from = rng.random_range(0..length);
                let to = (from + rng.random_range(0..70_000)).min(length - 1);
                queries.push(format!("{}@{sample}:{from}-{to}", contig.short_name()));
            }
            queries.push(format!("{}@{sample}", contig.short_name()));
        }
        let mut ours_args = vec!["collection", "getctg", path(archive)];
        ours_args.extend(queries.iter().map(String::as_str));
        let mut agc_args = vec!["getctg", path(archive)];
        agc_args.extend(queries.iter().map(String::as_str));
        assert!(
            run_ok(&ours_args) == agc_ok(agc, &agc_args),
            "{}: getctg {queries:?}",
            archive.display()
        );
    }
    iupac_rc
}

#[test]
fn archives_written_by_agc_read_back_exactly_as_agc_reads_them() {
    let Some(agc) = agc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let genome = Pangenome::new(2024, 6);
    let files: Vec<PathBuf> = (0..6)
        .map(|s| {
            let file = dir.path().join(format!("h{s}.fa"));
            genome.write_sample(s, &file);
            file
        })
        .collect();
    let names: Vec<String> = (0..6).map(|s| format!("h{s}")).collect();
    let file_args: Vec<&str> = files.iter().map(|f| path(f)).collect();

    let mut iupac_rc = 0;
    for (label, options) in [
        ("default", vec![]),
        ("adaptive", vec!["-a"]),
        ("small", vec!["-s", "5000", "-b", "2", "-k", "21", "-l", "16"]),
    ] {
        let archive = dir.path().join(format!("{label}.agc"));
        let mut args = vec!["create", "-t", "2", "-o", path(&archive)];
        args.extend(options);
        args.extend(&file_args);
        agc_ok(&agc, &args);
        iupac_rc += compare_with_agc(&agc, &archive, Some(&genome), &names);
    }
    assert!(iupac_rc > 0, "no reverse-complemented segment holds R/Y/S/W/K/M: the test is vacuous");

    // Appended: 4 samples, then 2 more with `agc append` (batches re-opened, groups extended).
    let first = dir.path().join("first.agc");
    let mut args = vec!["create", "-t", "2", "-b", "3", "-o", path(&first)];
    args.extend(&file_args[..4]);
    agc_ok(&agc, &args);
    let appended = dir.path().join("appended.agc");
    let mut args = vec!["append", "-t", "2", "-o", path(&appended), path(&first)];
    args.extend(&file_args[4..]);
    agc_ok(&agc, &args);
    compare_with_agc(&agc, &appended, Some(&genome), &names);

    // Concatenated genomes (`-c`): every record of the second file is a sample of its own.
    let concatenated = dir.path().join("concatenated.agc");
    agc_ok(
        &agc,
        &["create", "-c", "-t", "2", "-o", path(&concatenated), file_args[0], file_args[1]],
    );
    let mut samples: Vec<String> =
        String::from_utf8(agc_ok(&agc, &["listset", path(&concatenated)]))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
    samples.sort();
    assert!(samples.len() > 2, "{samples:?}");
    compare_with_agc(&agc, &concatenated, None, &samples);
}
