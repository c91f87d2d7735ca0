//! Wrapped (multi-line) FASTQ: sequence and quality over several lines, a quality line that
//! begins with `@` or `+`, a `+` line that repeats the title. The parse of a wrapped file
//! equals the parse of the same records written four-line, whatever the widths and batches.

use proptest::prelude::*;
use proptest::test_runner::Config;
use seqflow_seqio::{Alphabet, Batch, Error, Reader, ReaderOptions, Validation};

/// One record as read: header, sequence, quality, header line number.
type Read = (Vec<u8>, Vec<u8>, Vec<u8>, u64);

fn read_all(text: &[u8], options: ReaderOptions) -> Result<Vec<Read>, Error> {
    let mut reader = Reader::new(std::io::Cursor::new(text.to_vec()), "w.fq", options)?;
    let mut batch = Batch::default();
    let mut out = Vec::new();
    while reader.read_batch(&mut batch)? > 0 {
        for r in batch.records() {
            assert_eq!(r.seq_raw().len(), r.seq_len(), "a FASTQ sequence has no line breaks");
            assert_eq!(r.seq_lines().count(), usize::from(r.seq_len() > 0));
            let qual = r.qual().expect("FASTQ").to_vec();
            out.push((r.header().to_vec(), r.seq_raw().to_vec(), qual, r.line()));
        }
    }
    Ok(out)
}

fn error_of(text: &[u8]) -> String {
    read_all(text, ReaderOptions::default()).unwrap_err().to_string()
}

/// How records are written: line widths (0: one line), title on the `+` line, line ending.
#[derive(Debug, Clone)]
struct Layout {
    seq_width: usize,
    qual_width: usize,
    repeat_title: bool,
    crlf: bool,
}

/// Writes the records; returns the text and each record's header line number.
fn write(records: &[(String, Vec<u8>, Vec<u8>)], layout: &Layout) -> (Vec<u8>, Vec<u64>) {
    let newline: &[u8] = if layout.crlf { b"\r\n" } else { b"\n" };
    let mut text = Vec::new();
    let mut lines = Vec::new();
    let mut line = 1;
    let put = |text: &mut Vec<u8>, bytes: &[u8], line: &mut u64| {
        text.extend_from_slice(bytes);
        text.extend_from_slice(newline);
        *line += 1;
    };
    for (title, seq, qual) in records {
        lines.push(line);
        put(&mut text, format!("@{title}").as_bytes(), &mut line);
        let wrap = |text: &mut Vec<u8>, letters: &[u8], width: usize, line: &mut u64| {
            if letters.is_empty() || width == 0 {
                put(text, letters, line);
            } else {
                for chunk in letters.chunks(width) {
                    put(text, chunk, line);
                }
            }
        };
        wrap(&mut text, seq, layout.seq_width, &mut line);
        let plus = if layout.repeat_title { format!("+{title}") } else { "+".to_string() };
        put(&mut text, plus.as_bytes(), &mut line);
        wrap(&mut text, qual, layout.qual_width, &mut line);
    }
    (text, lines)
}

fn record() -> impl Strategy<Value = (String, Vec<u8>, Vec<u8>)> {
    // Qualities span all of Phred+33, so wrapped quality lines often begin with '@' or '+'.
    let quality = prop_oneof![Just(b'@'), Just(b'+'), b'!'..=b'~'];
    (
        "[A-Za-z0-9_.:-]{1,12}( [ -~]{0,16})?",
        prop::collection::vec((prop::sample::select(&b"ACGTN"[..]), quality), 0..300),
    )
        .prop_map(|(title, pairs)| {
            let (seq, qual) = pairs.into_iter().unzip();
            (title, seq, qual)
        })
}

proptest! {
    #![proptest_config(Config { cases: 128, failure_persistence: None, ..Config::default() })]

    #[test]
    fn a_wrapped_file_reads_as_its_four_line_form(
        records in prop::collection::vec(record(), 1..12),
        seq_width in prop_oneof![Just(0usize), 1usize..8, 1usize..120],
        qual_width in prop_oneof![Just(0usize), 1usize..8, 1usize..120],
        repeat_title in any::<bool>(),
        crlf in any::<bool>(),
        batch_size in prop_oneof![1usize..64, 64usize..4096, Just(1 << 20)],
    ) {
        let layout = Layout { seq_width, qual_width, repeat_title, crlf };
        let (wrapped, lines) = write(&records, &layout);
        let four_line = Layout { seq_width: 0, qual_width: 0, repeat_title: false, crlf: false };
        let (plain, _) = write(&records, &four_line);
        let expected: Vec<Read> = read_all(&plain, ReaderOptions::default())
            .unwrap()
            .into_iter()
            .zip(&lines)
            .map(|((h, s, q, _), &line)| (h, s, q, line))
            .collect();
        for (record, (title, seq, qual)) in expected.iter().zip(&records) {
            prop_assert_eq!((&record.0, &record.1, &record.2), (&title.as_bytes().to_vec(), seq, qual));
        }
        let options = ReaderOptions { batch_size, ..ReaderOptions::default() };
        prop_assert_eq!(read_all(&wrapped, options).unwrap(), expected);
    }
}

#[test]
fn quality_lines_may_begin_with_at_or_plus() {
    let text = b"@r1 x\nACGT\nAC\n+\n@@II\n+I\n@r2\nG\n+r2\n+\n@r3\n\n+\n\n";
    let reads = read_all(text, ReaderOptions::default()).unwrap();
    let expected: Vec<Read> = vec![
        (b"r1 x".to_vec(), b"ACGTAC".to_vec(), b"@@II+I".to_vec(), 1),
        (b"r2".to_vec(), b"G".to_vec(), b"+".to_vec(), 7),
        (b"r3".to_vec(), b"".to_vec(), b"".to_vec(), 11),
    ];
    assert_eq!(reads, expected);
    for batch_size in 1..text.len() + 1 {
        let options = ReaderOptions { batch_size, ..ReaderOptions::default() };
        assert_eq!(read_all(text, options).unwrap(), expected, "batch {batch_size}");
    }
}

#[test]
fn a_plus_line_with_another_title_is_an_error() {
    for text in [
        &b"@r0\nA\n+\nI\n@r1 a\nACGT\n+r1 b\nIIII\n"[..],
        b"@r0\nA\n+\nI\n@r1 a\nAC\nGT\n+r1\nIIII\n",
    ] {
        let msg = error_of(text);
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(
            msg.contains("w.fq: line 7, record 'r1'") || msg.contains("w.fq: line 8, record 'r1'"),
            "{msg}"
        );
        assert!(msg.contains("'+' line repeats a title other than"), "{msg}");
    }
    assert!(error_of(b"@r1 a\nACGT\n+r1 b\nIIII\n").contains("line 3, record 'r1'"));
    assert!(error_of(b"@r1\nAC\nGT\n+r2\nIIII\n").contains("line 4, record 'r1'"));
    // The same title, with or without CRLF, is fine.
    assert_eq!(
        read_all(b"@r1 a\r\nAC\r\nGT\r\n+r1 a\r\nIIII\r\n", ReaderOptions::default())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn broken_wrapped_records_are_one_line_errors() {
    let cases: [(&[u8], &str); 6] = [
        (b"@r1\nAC\nGT\n", "line 1, record 'r1' (byte 0): truncated FASTQ record"),
        (
            b"@r1\nAC\nGT\nAC\n+\n",
            "line 1, record 'r1' (byte 0): truncated FASTQ record: no quality line",
        ),
        (
            b"@r1\nAC\nGT\n+\nII\nI\n",
            "line 5, record 'r1' (byte 12): quality length 3 differs from sequence length 4",
        ),
        (
            b"@r1\nAC\nGT\n+\nII\nIII\n",
            "line 5, record 'r1' (byte 12): quality length 2 differs from sequence length 4 (its next line would make it 5)",
        ),
        (
            b"@r1\nAC\nGT\n+\nII\n\nII\n",
            "line 5, record 'r1' (byte 12): quality length 2 differs from sequence length 4",
        ),
        (
            b"@r1\nACGT\n@r2\nACGT\n+\nIIII\n",
            "line 3, record 'r1' (byte 9): expected a '+' line after the sequence",
        ),
    ];
    for (text, expected) in cases {
        let msg = error_of(text);
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(msg.contains(expected), "{:?}: {msg}", String::from_utf8_lossy(text));
    }
}

#[test]
fn validation_errors_in_wrapped_records_point_at_the_input_byte() {
    let text = b"@a\nA\n+\nI\n@r1\nACG\nTNJ\n+\nIII\nII\x01\n";
    let options = |validation| ReaderOptions { validation, ..ReaderOptions::default() };
    let msg = read_all(text, options(Validation::new().alphabet(Alphabet::Acgtn)))
        .unwrap_err()
        .to_string();
    // 'J' is on line 7, the third byte of "TNJ", which starts at byte 17.
    assert!(msg.contains("line 7, record 'r1' (byte 19)"), "{msg}");
    let msg = read_all(text, options(Validation::new().phred33())).unwrap_err().to_string();
    assert!(msg.contains("line 10, record 'r1' (byte 29)"), "{msg}");
}

/// True when `seqkit` runs; otherwise a visible SKIPPED (a failure under
/// `SEQFLOW_REQUIRE_TOOLS=1`).
fn seqkit_available() -> bool {
    let found = std::process::Command::new("seqkit")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "seqkit is required");
        eprintln!(
            "SKIPPED: seqkit not found on the PATH; install Debian's seqkit to run this test"
        );
    }
    found
}

/// Records from a fixed-seed generator (xorshift), qualities over all of Phred+33.
fn seeded_records(n: usize, mut state: u64) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    (0..n)
        .map(|i| {
            let len = next(400) as usize;
            let seq = (0..len).map(|_| b"ACGTN"[next(5) as usize]).collect();
            let qual = (0..len).map(|_| b'!' + next(94) as u8).collect();
            (format!("read{i} lane={}", next(8)), seq, qual)
        })
        .collect()
}

#[test]
fn wrapped_reads_as_seqkit_seq_unwraps_it() {
    if !seqkit_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let records = seeded_records(300, 0x5eed_f10e);
    for (seq_width, qual_width, repeat_title) in
        [(60, 60, false), (1, 7, true), (0, 13, false), (17, 0, true)]
    {
        let layout = Layout { seq_width, qual_width, repeat_title, crlf: false };
        let (text, _) = write(&records, &layout);
        let path = dir.path().join("wrapped.fq");
        std::fs::write(&path, &text).unwrap();
        let out = std::process::Command::new("seqkit").arg("seq").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let theirs: Vec<_> = read_all(&out.stdout, ReaderOptions::default())
            .unwrap()
            .into_iter()
            .map(|(h, s, q, _)| (h, s, q))
            .collect();
        let ours: Vec<_> =
            read_all(&text, ReaderOptions { batch_size: 4096, ..ReaderOptions::default() })
                .unwrap()
                .into_iter()
                .map(|(h, s, q, _)| (h, s, q))
                .collect();
        assert_eq!(ours.len(), records.len());
        assert_eq!(ours, theirs, "widths {seq_width}/{qual_width}");
    }
}
