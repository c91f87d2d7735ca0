//! Files read through a memory map (`ReaderOptions::mmap`, the default for `from_path`) give
//! exactly what read(2) gives, whatever the batch size; inputs that cannot be mapped fall
//! back to reading; a file that shrinks while mapped is an error, not a crash.

use std::io::Write;

use proptest::prelude::*;
use proptest::test_runner::Config;
use seqflow_seqio::{Batch, Error, Reader, ReaderOptions};

/// Every record as (header, sequence, quality, line, byte offset, starts, ends), its pieces
/// joined.
type Seen = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, u64, u64, bool, bool);

fn read_path(path: &std::path::Path, options: ReaderOptions) -> (bool, Result<Vec<Seen>, Error>) {
    let mut reader = match Reader::from_path(path, options) {
        Ok(reader) => reader,
        Err(err) => return (false, Err(err)),
    };
    let mapped = reader.is_mapped();
    let mut batch = Batch::default();
    let mut out = Vec::new();
    let result = loop {
        match reader.read_batch(&mut batch) {
            Ok(0) => break Ok(out),
            Ok(_) => {
                for r in batch.records() {
                    // Pieces of a FASTA record are put back together: where a window ends
                    // may differ between the two paths (the read path grows its buffer by
                    // page-aligned steps), the records may not.
                    if !r.starts_record() {
                        let last: &mut Seen = out.last_mut().expect("a piece continues a record");
                        last.1.extend_from_slice(&r.seq());
                        last.6 = r.ends_record();
                        continue;
                    }
                    out.push((
                        r.header().to_vec(),
                        r.seq().into_owned(),
                        r.qual().map(<[u8]>::to_vec),
                        r.line(),
                        r.byte_offset(),
                        r.starts_record(),
                        r.ends_record(),
                    ));
                }
            }
            Err(err) => break Err(err),
        }
    };
    (mapped, result)
}

fn file_with(text: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text).unwrap();
    file.flush().unwrap();
    file
}

fn options(batch_size: usize, mmap: bool, fasta_pieces: bool) -> ReaderOptions {
    ReaderOptions { batch_size, mmap, fasta_pieces, ..ReaderOptions::default() }
}

proptest! {
    #![proptest_config(Config { cases: 48, failure_persistence: None, ..Config::default() })]

    #[test]
    fn mapped_reads_equal_read2_reads(
        records in prop::collection::vec(("[a-z0-9]{1,6}", "[ACGTN]{0,300}"), 1..40),
        fastq in any::<bool>(),
        wrap in prop_oneof![Just(0usize), 1usize..80],
        blank_lines in any::<bool>(),
        batch_size in prop_oneof![1usize..64, 64usize..3000],
        fasta_pieces in any::<bool>(),
    ) {
        let mut text = Vec::new();
        for (name, seq) in &records {
            let lines: Vec<&[u8]> = if wrap == 0 || seq.is_empty() {
                vec![seq.as_bytes()]
            } else {
                seq.as_bytes().chunks(wrap).collect()
            };
            if fastq {
                text.extend(format!("@{name}\n").bytes());
                lines.iter().for_each(|l| { text.extend_from_slice(l); text.push(b'\n'); });
                text.extend(b"+\n");
                lines.iter().for_each(|l| { text.extend(vec![b'I'; l.len()]); text.push(b'\n'); });
            } else {
                text.extend(format!(">{name}\n").bytes());
                lines.iter().for_each(|l| { text.extend_from_slice(l); text.push(b'\n'); });
            }
            if blank_lines {
                text.push(b'\n');
            }
        }
        let file = file_with(&text);
        let (mapped, ours) = read_path(file.path(), options(batch_size, true, fasta_pieces));
        let (read, theirs) = read_path(file.path(), options(batch_size, false, fasta_pieces));
        prop_assert!(mapped && !read);
        prop_assert_eq!(ours.unwrap(), theirs.unwrap());
    }
}

#[test]
fn inputs_that_cannot_be_mapped_are_read() {
    // No final line break, empty, and compressed files take the read(2) path.
    for text in [&b">a\nACGT"[..], b""] {
        let file = file_with(text);
        let (mapped, result) = read_path(file.path(), options(1 << 20, true, false));
        assert!(!mapped);
        assert_eq!(result.unwrap().len(), usize::from(!text.is_empty()));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"@r\nAC\n+\nII\n").unwrap();
    let file = file_with(&gz.finish().unwrap());
    let (mapped, result) = read_path(file.path(), options(1 << 20, true, false));
    assert!(!mapped);
    assert_eq!(result.unwrap()[0].1, b"AC");
    let file = file_with(b"@r\nAC\n+\nII\n");
    assert!(read_path(file.path(), options(1 << 20, true, false)).0);
}

#[test]
fn a_file_that_shrinks_while_mapped_is_an_error() {
    let mut text = Vec::new();
    for i in 0..2000 {
        text.extend(format!("@r{i}\nACGTACGTAC\n+\nIIIIIIIIII\n").bytes());
    }
    let file = file_with(&text);
    let mut reader = Reader::from_path(file.path(), options(4096, true, false)).unwrap();
    assert!(reader.is_mapped());
    let mut batch = Batch::default();
    assert!(reader.read_batch(&mut batch).unwrap() > 0);
    file.as_file().set_len(8192).unwrap();
    let err = loop {
        match reader.read_batch(&mut batch) {
            Ok(0) => panic!("a shrunken file read to its old end"),
            Ok(_) => {}
            Err(err) => break err,
        }
    };
    let msg = err.to_string();
    assert!(msg.contains("shrank from") && msg.lines().count() == 1, "{msg}");
}

#[test]
fn the_error_positions_of_a_mapped_file_are_those_of_a_read_one() {
    let text = b"@a\nAC\n+\nII\n@b\nACGT\n+\nIII\n";
    let file = file_with(text);
    let (_, mapped) = read_path(file.path(), options(1024, true, false));
    let (_, read) = read_path(file.path(), options(1024, false, false));
    let (mapped, read) = (mapped.unwrap_err().to_string(), read.unwrap_err().to_string());
    assert_eq!(mapped, read);
    assert!(mapped.contains("line 8, record 'b'"), "{mapped}");
}
