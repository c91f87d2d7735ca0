//! Reader behaviour on valid and broken inputs, every compression, and tiny batch windows.

use std::io::Write;

mod common;

use common::bgzf;
use seqflow_seqio::{
    Alphabet, Batch, Compression, Error, Format, Reader, ReaderOptions, Validation,
};

/// One record as owned data: (header, sequence without line breaks, quality).
type Owned = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

fn read_all_with(data: &[u8], options: ReaderOptions) -> Result<Vec<Owned>, Error> {
    let mut reader = Reader::new(std::io::Cursor::new(data.to_vec()), "test.fx", options)?;
    let mut batch = Batch::default();
    let mut out = Vec::new();
    while reader.read_batch(&mut batch)? > 0 {
        for r in batch.records() {
            assert_eq!(r.seq().len(), r.seq_len());
            out.push((r.header().to_vec(), r.seq().into_owned(), r.qual().map(<[u8]>::to_vec)));
        }
    }
    Ok(out)
}

fn read_all(data: &[u8]) -> Result<Vec<Owned>, Error> {
    read_all_with(data, ReaderOptions::default())
}

fn tiny_batches() -> ReaderOptions {
    ReaderOptions { batch_size: 7, ..ReaderOptions::default() }
}

fn fq(header: &str, seq: &str, qual: &str) -> Owned {
    (header.into(), seq.into(), Some(qual.into()))
}

fn fa(header: &str, seq: &str) -> Owned {
    (header.into(), seq.into(), None)
}

#[test]
fn fastq_records_with_crlf_blank_lines_and_no_final_newline() {
    let data = b"@r1 desc\r\nACGT\r\n+\r\nIIII\r\n\r\n@r2\nNN\n+r2\n##";
    let expected = vec![fq("r1 desc", "ACGT", "IIII"), fq("r2", "NN", "##")];
    assert_eq!(read_all(data).unwrap(), expected);
    assert_eq!(read_all_with(data, tiny_batches()).unwrap(), expected);
}

#[test]
fn fasta_multiline_empty_records_and_lowercase_kept() {
    let data = b"\n>chr1 x\nACgt\r\nac\n\n>empty\n>chr2\nNNNN";
    let expected = vec![fa("chr1 x", "ACgtac"), fa("empty", ""), fa("chr2", "NNNN")];
    assert_eq!(read_all(data).unwrap(), expected);
    assert_eq!(read_all_with(data, tiny_batches()).unwrap(), expected);
}

#[test]
fn ids_descriptions_lines_and_offsets() {
    let data = b">a one two\nAC\nGT\n>b\tthree\nGG\n";
    let mut reader = Reader::new(&data[..], "x.fa", ReaderOptions::default()).unwrap();
    let mut batch = Batch::default();
    reader.read_batch(&mut batch).unwrap();
    let (a, b) = (batch.get(0), batch.get(1));
    assert_eq!((a.id(), a.desc()), (&b"a"[..], Some(&b"one two"[..])));
    assert_eq!((b.id(), b.desc()), (&b"b"[..], Some(&b"three"[..])));
    assert_eq!((a.line(), b.line()), (1, 4));
    assert_eq!((a.byte_offset(), b.byte_offset()), (0, 17));
    assert_eq!(a.seq_lines().collect::<Vec<_>>(), vec![&b"AC"[..], &b"GT"[..]]);
}

#[test]
fn empty_and_blank_inputs_have_no_records() {
    assert!(read_all(b"").unwrap().is_empty());
    assert!(read_all(b"\n\n  \n").unwrap().is_empty());
}

fn error_of(data: &[u8]) -> String {
    read_all(data).unwrap_err().to_string()
}

#[test]
fn truncated_fastq_names_record_and_line() {
    let msg = error_of(b"@r1\nAC\n+\nII\n@r2\nACGT\n");
    assert!(msg.contains("test.fx: line 5"), "{msg}");
    assert!(msg.contains("record 'r2'"), "{msg}");
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn unequal_lengths_are_an_error_at_the_quality_line() {
    let msg = error_of(b"@r1\nAC\n+\nII\n@r2\nACGT\n+\nIII\n");
    assert!(msg.contains("line 8"), "{msg}");
    assert!(msg.contains("record 'r2'"), "{msg}");
    assert!(msg.contains("quality length 3 differs from sequence length 4"), "{msg}");
}

#[test]
fn multiline_fastq_is_read_and_a_missing_plus_line_is_an_error() {
    let reads = read_all(b"@r1\nACGT\nACGT\n+\nIIIIIIII\n@r2\nA\n+\nI\n").unwrap();
    assert_eq!(reads, [fq("r1", "ACGTACGT", "IIIIIIII"), fq("r2", "A", "I")]);
    let msg = error_of(b"@r1\nACGT\n@r2\nA\n+\nI\n");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("expected a '+' line after the sequence"), "{msg}");
}

#[test]
fn garbage_is_not_fasta_or_fastq() {
    let msg = error_of(b"hello\nworld\n");
    assert!(msg.contains("line 1") && msg.contains("not FASTA or FASTQ"), "{msg}");
    let msg = error_of(b"@r1\nA\n+\nI\nxyz\nA\n+\nI\n");
    assert!(msg.contains("line 5") && msg.contains("expected '@'"), "{msg}");
}

#[test]
fn long_records_grow_the_window_up_to_the_limit() {
    let seq = "ACGT".repeat(10_000);
    let data = format!(">long\n{seq}\n>short\nA\n");
    let options = ReaderOptions { batch_size: 64, ..ReaderOptions::default() };
    let got = read_all_with(data.as_bytes(), options).unwrap();
    assert_eq!(got, vec![fa("long", &seq), fa("short", "A")]);

    let options = ReaderOptions { batch_size: 64, max_record_len: 1000, ..Default::default() };
    let err = read_all_with(data.as_bytes(), options).unwrap_err();
    assert!(matches!(err, Error::RecordTooLong { limit: 1000, .. }), "{err}");
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn batches_are_numbered_and_cover_the_input_exactly() {
    let mut data = Vec::new();
    for i in 0..1000 {
        writeln!(data, "@read{i}\nACGTACGTAC\n+\nIIIIIIIIII").unwrap();
    }
    let options = ReaderOptions { batch_size: 1000, ..Default::default() };
    let mut reader = Reader::new(std::io::Cursor::new(data.clone()), "r.fq", options).unwrap();
    let mut batch = Batch::default();
    let (mut index, mut covered, mut records) = (0, Vec::new(), 0);
    while reader.read_batch(&mut batch).unwrap() > 0 {
        assert_eq!(batch.index(), index);
        index += 1;
        covered.extend_from_slice(batch.data());
        records += batch.len();
    }
    assert!(index > 10);
    assert_eq!(records, 1000);
    assert_eq!(covered, data);
}

#[test]
fn validation_flags_letters_and_qualities() {
    let options = |v: Validation| ReaderOptions { validation: v, ..Default::default() };
    let data = b"@r1\nACGT\n+\nIIII\n@r2\nACxT\n+\nII I\n";
    let err = read_all_with(data, options(Validation::new().alphabet(Alphabet::Acgtn)));
    let msg = err.unwrap_err().to_string();
    assert!(msg.contains("record 'r2'") && msg.contains("'x' is not a ACGTN letter"), "{msg}");
    assert!(msg.contains("byte 22"), "{msg}");
    let err = read_all_with(data, options(Validation::new().phred33()));
    let msg = err.unwrap_err().to_string();
    assert!(msg.contains("line 8") && msg.contains("outside Phred+33"), "{msg}");
    assert!(read_all_with(data, options(Validation::new())).is_ok());
}

#[test]
fn given_format_must_match() {
    let options = ReaderOptions { format: Some(Format::Fasta), ..Default::default() };
    let err = read_all_with(b"@r\nA\n+\nI\n", options).unwrap_err();
    assert!(err.to_string().contains("expected FASTA"), "{err}");
}

// ---- compression -------------------------------------------------------------------------

fn sample_fastq(n: usize) -> Vec<u8> {
    let mut data = Vec::new();
    for i in 0..n {
        let len = 50 + i % 101;
        let seq: String = (0..len).map(|j| b"ACGTN"[(i * 7 + j * 3) % 5] as char).collect();
        let qual: String = (0..len).map(|j| (b'!' + ((i + j) % 42) as u8) as char).collect();
        writeln!(data, "@read{i} sample=x\n{seq}\n+\n{qual}").unwrap();
    }
    data
}

/// Input bytes per BGZF block in these tests.
const BGZF_BLOCK: usize = 60 << 10;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn every_compression_reads_the_same_records() {
    let plain = sample_fastq(3000);
    let expected = read_all(&plain).unwrap();
    assert_eq!(expected.len(), 3000);
    let mut multi_member = gzip(&plain[..plain.len() / 2]);
    multi_member.extend(gzip(&plain[plain.len() / 2..]));
    let zstd = zstd::encode_all(&plain[..], 3).unwrap();
    let inputs = [
        (Compression::Gzip, multi_member),
        (Compression::Bgzf, bgzf(&plain, BGZF_BLOCK)),
        (Compression::Zstd, zstd),
    ];
    for (compression, bytes) in inputs {
        for threads in [1, 3] {
            let options = ReaderOptions { decode_threads: threads, ..Default::default() };
            let reader = Reader::new(std::io::Cursor::new(bytes.clone()), "c", options.clone());
            assert_eq!(reader.unwrap().compression(), compression);
            let got = read_all_with(&bytes, options).unwrap();
            assert!(got == expected, "{compression:?} with {threads} threads differs");
        }
    }
}

#[test]
fn corrupt_and_truncated_compressed_input_is_an_error() {
    let plain = sample_fastq(2000);
    for threads in [1, 2] {
        let options = ReaderOptions { decode_threads: threads, ..Default::default() };
        let mut block = bgzf(&plain, BGZF_BLOCK);
        let mid = block.len() / 2;
        block[mid] ^= 0xff;
        assert!(read_all_with(&block, options.clone()).is_err(), "corrupt BGZF, {threads}");
        let gz = gzip(&plain);
        let cut = &gz[..gz.len() - 100];
        assert!(read_all_with(cut, options.clone()).is_err(), "truncated gzip, {threads}");
        let bz = bgzf(&plain, BGZF_BLOCK);
        let cut = &bz[..bz.len() / 3];
        assert!(read_all_with(cut, options).is_err(), "truncated BGZF, {threads}");
    }
}

#[test]
fn unsupported_compression_is_named() {
    let err = read_all(b"BZh91AY&SY").unwrap_err();
    assert!(err.to_string().contains("bzip2"), "{err}");
}

#[test]
fn missing_file_error_names_the_path() {
    let err = Reader::from_path("/nonexistent/reads.fq", ReaderOptions::default()).err().unwrap();
    assert!(err.to_string().starts_with("/nonexistent/reads.fq: "), "{err}");
}

#[test]
fn bgzf_followed_by_plain_gzip_reads_the_same_with_any_threads() {
    let plain = sample_fastq(2000);
    let half = plain.len() / 2;
    let cut = half + plain[half..].iter().position(|&b| b == b'@').unwrap();
    let mut mixed = bgzf(&plain[..cut], BGZF_BLOCK);
    mixed.extend(gzip(&plain[cut..]));
    let expected = read_all(&plain).unwrap();
    for threads in [1, 2, 4] {
        let options = ReaderOptions { decode_threads: threads, ..Default::default() };
        assert!(read_all_with(&mixed, options).unwrap() == expected, "{threads} threads");
    }
}

#[test]
fn raw_bytes_read_counts_each_input_byte_once() {
    let text = b"@r1\nACGT\n+\nIIII\n@r2\nAC\n+\nII\n".repeat(50);
    let gz = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&text).unwrap();
        encoder.finish().unwrap()
    };
    for (input, options) in [(text.clone(), tiny_batches()), (gz, ReaderOptions::default())] {
        let mut reader = Reader::new(std::io::Cursor::new(input.clone()), "t", options).unwrap();
        let mut batch = Batch::default();
        while reader.read_batch(&mut batch).unwrap() > 0 {}
        assert_eq!(reader.raw_bytes_read(), input.len() as u64);
    }
}
