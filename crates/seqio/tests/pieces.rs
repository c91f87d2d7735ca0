//! FASTA records longer than a batch, read in pieces (`ReaderOptions::fasta_pieces`): the
//! pieces of each record put back together are the record, whatever the batch size, line
//! width or line endings, and `max_record_len` holds for whole records and pieces alike.

use proptest::prelude::*;
use proptest::test_runner::Config;
use seqflow_seqio::{Batch, Error, Reader, ReaderOptions};

/// A record as the pieces give it back: header, letters, full length from `record_seq_len`.
#[derive(Debug, PartialEq, Eq)]
struct Joined {
    header: Vec<u8>,
    seq: Vec<u8>,
    len: u64,
}

fn read_joined(text: &[u8], batch_size: usize, pieces: bool) -> Result<Vec<Joined>, Error> {
    let options = ReaderOptions { batch_size, fasta_pieces: pieces, ..ReaderOptions::default() };
    let mut reader = Reader::new(std::io::Cursor::new(text.to_vec()), "t", options)?;
    let mut batch = Batch::default();
    let mut out: Vec<Joined> = Vec::new();
    let mut open = false;
    while reader.read_batch(&mut batch)? > 0 {
        for record in batch.records() {
            assert_eq!(record.starts_record(), !open, "a piece continues only an open record");
            if record.starts_record() {
                out.push(Joined { header: record.header().to_vec(), seq: Vec::new(), len: 0 });
            } else {
                assert!(record.header().is_empty());
            }
            let last = out.last_mut().unwrap();
            last.seq.extend(record.seq_lines().flatten());
            if !record.ends_record() {
                assert!(!pieces || !record.is_whole());
            }
            open = !record.ends_record();
            last.len = record.record_seq_len();
        }
    }
    assert!(!open, "the input ended inside a record");
    Ok(out)
}

fn fasta(records: &[(String, Vec<u8>)], width: usize, crlf: bool) -> Vec<u8> {
    let newline: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut text = Vec::new();
    for (name, seq) in records {
        text.extend_from_slice(format!(">{name}").as_bytes());
        text.extend_from_slice(newline);
        for line in seq.chunks(width.max(1)) {
            text.extend_from_slice(line);
            text.extend_from_slice(newline);
        }
    }
    text
}

proptest! {
    #![proptest_config(Config::with_cases(64))]

    #[test]
    fn pieces_join_into_the_whole_records(
        records in prop::collection::vec(
            ("[a-z]{1,8}( [a-z ]{0,12})?", prop::collection::vec(prop::sample::select(&b"ACGTNacgtn->"[..]), 0..20_000)),
            1..5,
        ),
        width in prop::sample::select(vec![0usize, 1, 7, 60, 1000, 100_000]),
        crlf in any::<bool>(),
        // From 1 KiB, the smallest batch the CLI accepts: below it (batch 6, lines of 7) the
        // pieces diverge from whole records, an open bug noted on issue #9's closing note.
        batch_size in 1usize..5000,
    ) {
        // '>' is only a letter inside a line: lines never start with it.
        let records: Vec<(String, Vec<u8>)> = records
            .into_iter()
            .map(|(name, seq)| (name, seq.into_iter().map(|b| if b == b'>' { b'A' } else { b }).collect()))
            .collect();
        let text = fasta(&records, if width == 0 { usize::MAX } else { width }, crlf);
        let whole = read_joined(&text, 1 << 20, false).unwrap();
        let pieces = read_joined(&text, batch_size, true).unwrap();
        prop_assert_eq!(&pieces, &whole);
        for (joined, (_, seq)) in whole.iter().zip(&records) {
            prop_assert_eq!(&joined.seq, seq);
            prop_assert_eq!(joined.len, seq.len() as u64);
        }
    }
}

#[test]
fn a_gt_inside_a_line_cut_at_a_piece_boundary_stays_a_letter() {
    let mut text = b">x\n".to_vec();
    text.extend(b"A>".repeat(5000));
    text.extend(b"\n>y\nACGT\n");
    for batch_size in [1000, 1001, 1023, 4096] {
        let joined = read_joined(&text, batch_size, true).unwrap();
        assert_eq!(joined.len(), 2, "batch {batch_size}");
        assert_eq!(joined[0].len, 10_000);
        assert_eq!(joined[1].seq, b"ACGT");
    }
}

#[test]
fn max_record_len_is_exact_for_small_records_and_pieces() {
    // ">y\nAAAAAA" is 9 bytes from the marker to the end of its last line.
    let text = b">x\nACGT\n>y\nAAAAAA\n";
    for pieces in [false, true] {
        let options = |limit| ReaderOptions {
            max_record_len: limit,
            fasta_pieces: pieces,
            batch_size: 1024,
            ..ReaderOptions::default()
        };
        let mut batch = Batch::default();
        let mut ok = Reader::new(&text[..], "t", options(9)).unwrap();
        assert_eq!(ok.read_batch(&mut batch).unwrap(), 2);
        let mut refused = Reader::new(&text[..], "t", options(8)).unwrap();
        let err = refused.read_batch(&mut batch).unwrap_err();
        assert!(matches!(err, Error::RecordTooLong { .. }), "{err}");
        assert!(err.to_string().contains("line 3, record 'y'"), "{err}");
    }
    // A record of 1 MiB in pieces of 1 KiB is refused once its pieces pass the limit.
    let mut long = b">z\n".to_vec();
    long.extend(vec![b'C'; 1 << 20]);
    let options = ReaderOptions {
        max_record_len: 100_000,
        fasta_pieces: true,
        batch_size: 1024,
        ..ReaderOptions::default()
    };
    let mut reader = Reader::new(std::io::Cursor::new(long), "t", options).unwrap();
    let mut batch = Batch::default();
    let err = loop {
        match reader.read_batch(&mut batch) {
            Ok(0) => panic!("a 1 MiB record passed a 100 kB limit"),
            Ok(_) => assert!(batch.data_len() < 4096, "a piece is about one batch"),
            Err(err) => break err,
        }
    };
    assert!(matches!(err, Error::RecordTooLong { .. }), "{err}");
}

/// A header that starts exactly where a piece starts, and does not end in that batch, is the
/// next record, not letters of the open one. Both ways in: the piece holding the first
/// record's header (no line break after the header's own), and a piece that continues a
/// record from the previous batch at a line start.
#[test]
fn a_header_cut_at_the_start_of_a_piece_is_not_read_as_letters() {
    let expected = |names: &[&str], seqs: &[&[u8]]| -> Vec<Joined> {
        names
            .iter()
            .zip(seqs)
            .map(|(name, seq)| Joined {
                header: name.as_bytes().to_vec(),
                seq: seq.to_vec(),
                len: seq.len() as u64,
            })
            .collect()
    };
    // Batch 8 ends at ">ab cd\n>": the '>' opens an unfinished line right after the header.
    let text = b">ab cd\n>x\n>y\n";
    for batch_size in [7, 8, 9] {
        let joined = read_joined(text, batch_size, true).unwrap();
        assert_eq!(joined, expected(&["ab cd", "x", "y"], &[b"", b"", b""]), "batch {batch_size}");
    }
    // Batch 8 ends after "ACGT\n"; the next one starts with a header longer than a batch.
    let text = b">a\nACGT\n>bbbbbbbbbbbb\nGG\n";
    for batch_size in [3, 4, 8] {
        let joined = read_joined(text, batch_size, true).unwrap();
        assert_eq!(
            joined,
            expected(&["a", "bbbbbbbbbbbb"], &[b"ACGT", b"GG"]),
            "batch {batch_size}"
        );
    }
    let crlf = b">a\r\nACGT\r\n>bbbbbbbbbbbb\r\nGG\r\n";
    for batch_size in 1..crlf.len() + 1 {
        let joined = read_joined(crlf, batch_size, true).unwrap();
        assert_eq!(
            joined,
            expected(&["a", "bbbbbbbbbbbb"], &[b"ACGT", b"GG"]),
            "batch {batch_size}"
        );
    }
}
