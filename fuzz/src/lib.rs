//! Fuzz target bodies shared by the `fuzz_targets/` binaries.
//!
//! Each target runs the reader on untrusted bytes (`fastx_reader` and `compressed_reader`
//! here, `container_index` in `container.rs`, `crypt4gh_reader` in `crypt4gh.rs`,
//! `genome_builder` in `genome.rs`). It must
//! never panic, hang or allocate without bound; besides, a few invariants are asserted, so
//! that a wrong answer is a crash too: here `seq().len() == seq_len()`, equal sequence and
//! quality lengths, and (for plain input) the same records whatever the batch window.

mod container;
mod crypt4gh;
mod genome;

pub use container::container_index;
pub use genome::genome_builder;
pub use crypt4gh::{Built, PASSPHRASE, READER_SECRET, WRITER_SECRET, build_file, crypt4gh_reader};

use seqflow_seqio::{Alphabet, Batch, Error, Format, Reader, ReaderOptions, Validation};

/// Records kept for comparisons: (header, sequence, quality, line).
type Owned = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, u64);

/// Largest record accepted: keeps memory bounded on hostile input.
const MAX_RECORD: usize = 1 << 20;

/// Reads `data` to its end with `options`, touching every accessor of every record.
fn read_all(data: &[u8], options: ReaderOptions) -> Result<Vec<Owned>, Error> {
    let validation = Validation::new().alphabet(Alphabet::Iupac).phred33();
    let mut reader = Reader::new(std::io::Cursor::new(data.to_vec()), "fuzz", options)?;
    let mut batch = Batch::default();
    let mut out = Vec::new();
    while reader.read_batch(&mut batch)? > 0 {
        // Content checks may fail on arbitrary bytes; they must not panic.
        let _ = batch.validate(&validation);
        for record in batch.records() {
            let (seq, qual) = (record.seq(), record.qual());
            assert_eq!(seq.len(), record.seq_len(), "seq_len disagrees with seq()");
            assert!(record.seq_raw().len() >= record.seq_len());
            assert_eq!(seq.len(), record.seq_lines().map(<[u8]>::len).sum::<usize>());
            match batch.format() {
                Format::Fastq => {
                    let qual = qual.expect("FASTQ records have qualities");
                    assert_eq!(qual.len(), seq.len(), "quality and sequence lengths differ");
                }
                Format::Fasta => assert!(qual.is_none()),
            }
            let header = record.header();
            assert!(header.starts_with(record.id()));
            if let Some(desc) = record.desc() {
                assert_eq!(record.id().len() + 1 + desc.len(), header.len());
            }
            let _ = (record.line(), record.byte_offset());
            out.push((header.to_vec(), seq.into_owned(), qual.map(<[u8]>::to_vec), record.line()));
        }
    }
    Ok(out)
}

/// Reads `data` with FASTA records possibly in pieces, joining each record's pieces.
fn read_joined(data: &[u8], options: ReaderOptions) -> Result<Vec<Owned>, Error> {
    let mut reader = Reader::new(std::io::Cursor::new(data.to_vec()), "fuzz", options)?;
    let mut batch = Batch::default();
    let mut out: Vec<Owned> = Vec::new();
    let mut open = false;
    while reader.read_batch(&mut batch)? > 0 {
        for record in batch.records() {
            assert_eq!(record.seq().len(), record.seq_len(), "seq_len disagrees with seq()");
            assert_eq!(record.starts_record(), !open, "a piece continues only an open record");
            if record.starts_record() {
                let qual = record.qual().map(<[u8]>::to_vec);
                out.push((record.header().to_vec(), Vec::new(), qual, record.line()));
            }
            let joined = out.last_mut().expect("a continuation follows a record");
            joined.1.extend_from_slice(&record.seq());
            assert_eq!(joined.1.len() as u64, record.record_seq_len(), "record_seq_len is off");
            open = !record.ends_record();
        }
    }
    assert!(!open, "the input ended inside a record");
    Ok(out)
}

/// Arbitrary bytes after a one-byte header: bits 0–5 pick a batch window of 1–64 bytes,
/// bits 6–7 the format (detected, FASTA, FASTQ, detected). The records must be the same as
/// with the default 1 MiB window, and both readings must fail or succeed together. Read with
/// FASTA records in pieces, the joined records must be the same too.
pub fn fastx_reader(data: &[u8]) {
    let Some((&knobs, text)) = data.split_first() else { return };
    let format = match knobs >> 6 {
        1 => Some(Format::Fasta),
        2 => Some(Format::Fastq),
        _ => None,
    };
    let options = |batch_size| ReaderOptions {
        batch_size,
        max_record_len: MAX_RECORD,
        format,
        ..ReaderOptions::default()
    };
    let small = read_all(text, options(1 + (knobs & 0x3f) as usize));
    let large = read_all(text, options(1 << 20));
    // FASTA records longer than the window come in pieces that join into the same records.
    let pieces = ReaderOptions { fasta_pieces: true, ..options(1 + (knobs & 0x3f) as usize) };
    if let (Ok(joined), Ok(whole)) = (read_joined(text, pieces), &large) {
        assert!(&joined == whole, "pieces joined differ from whole records");
    }
    match (&small, &large) {
        (Ok(a), Ok(b)) => assert!(a == b, "small and large windows read different records"),
        (Err(a), Err(b)) => {
            let lines = (a.position().map(|p| p.line), b.position().map(|p| p.line));
            assert!(lines.0 == lines.1, "errors at different lines: {a} / {b}");
        }
        _ => panic!("small window: {small:?}\nlarge window: {large:?}"),
    }
}

/// Raw bytes as they come (so gzip, BGZF and zstd decoders see them), read with 1 and 2
/// decoding threads and a window picked from the input length. When both readings succeed
/// they must agree.
pub fn compressed_reader(data: &[u8]) {
    let batch_size = 1 + data.len() % 61;
    let options = |decode_threads| ReaderOptions {
        batch_size,
        max_record_len: MAX_RECORD,
        decode_threads,
        ..ReaderOptions::default()
    };
    let one = read_all(data, options(1));
    let two = read_all(data, options(2));
    if let (Ok(a), Ok(b)) = (&one, &two) {
        assert!(a == b, "1 and 2 decoding threads read different records");
    }
}

/// Without libFuzzer: runs `target` once on every file named on the command line (a directory
/// stands for the files in it), e.g. a corpus or `regressions/`.
pub fn run_files(target: fn(&[u8])) {
    let mut count = 0;
    for arg in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(arg);
        let mut files = vec![];
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("reading a corpus directory") {
                let file = entry.expect("reading a corpus directory").path();
                // Subdirectories (such as regressions/*/open/, inputs of unfixed bugs) are
                // not replayed.
                if file.is_file() {
                    files.push(file);
                }
            }
            files.sort();
        } else {
            files.push(path);
        }
        for file in files {
            let data = std::fs::read(&file).expect("reading an input file");
            target(&data);
            count += 1;
        }
    }
    eprintln!("ran {count} inputs");
}
