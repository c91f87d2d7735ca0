//! `Reader::read_window` + `Batch::parse` (the parse moved to the consumer) gives exactly what
//! `Reader::read_batch` gives: the same batches, the same records with the same lines and
//! offsets, the same first error; and a window whose start was misjudged never passes silently.

use std::io::Write;

use proptest::prelude::*;
use proptest::test_runner::Config;
use seqflow_seqio::{Batch, Reader, ReaderOptions};

/// One batch as (first byte offset, data length, records as (header, seq, qual, line, byte)).
type SeenBatch = (u64, usize, Vec<(Vec<u8>, Vec<u8>, Vec<u8>, u64, u64)>);

/// Reads `path` batch by batch, through windows parsed afterwards or through `read_batch`;
/// also returns how many batches came as windows.
fn read(
    path: &std::path::Path,
    batch_size: usize,
    windows: bool,
) -> (Result<Vec<SeenBatch>, String>, usize) {
    let options = ReaderOptions { batch_size, ..ReaderOptions::default() };
    let mut reader = Reader::from_path(path, options).unwrap();
    assert!(reader.is_mapped());
    let (mut batch, mut out, mut windowed) = (Batch::default(), Vec::new(), 0);
    let result = loop {
        let more = if windows {
            reader.read_window(&mut batch).and_then(|more| {
                windowed += usize::from(batch.is_unparsed());
                batch.parse().map(|_| more)
            })
        } else {
            reader.read_batch(&mut batch).map(|n| n > 0)
        };
        match more {
            Ok(false) => break Ok(out),
            Ok(true) => {
                let first = batch.records().next().map_or(0, |r| r.byte_offset());
                let records = batch
                    .records()
                    .map(|r| {
                        let qual = r.qual().unwrap_or_default().to_vec();
                        (r.header().to_vec(), r.seq().into_owned(), qual, r.line(), r.byte_offset())
                    })
                    .collect();
                out.push((first, batch.data_len(), records));
            }
            Err(err) => break Err(err.to_string()),
        }
    };
    (result, windowed)
}

/// Prints where two readings differ (batch offsets, lengths and record counts) and the input.
fn explain(
    windows: &Result<Vec<SeenBatch>, String>,
    batches: &Result<Vec<SeenBatch>, String>,
    text: &[u8],
    batch_size: usize,
) {
    if windows == batches {
        return;
    }
    let brief = |r: &Result<Vec<SeenBatch>, String>| match r {
        Ok(b) => b
            .iter()
            .map(|(f, l, recs)| format!("{f}+{l}:{}", recs.len()))
            .collect::<Vec<_>>()
            .join(" "),
        Err(e) => e.clone(),
    };
    let text = String::from_utf8_lossy(text);
    eprintln!(
        "batch size {batch_size}\nwindows {}\nbatches {}\n{}",
        brief(windows),
        brief(batches),
        text.escape_debug()
    );
}

/// True when a line that is not a record's header begins with `@` and the line two further
/// down begins with `+`, as a header's `+` line does.
fn has_false_record_start(text: &[u8], batches: &[SeenBatch]) -> bool {
    let headers: std::collections::HashSet<u64> =
        batches.iter().flat_map(|(_, _, records)| records.iter().map(|r| r.3)).collect();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    (0..lines.len().saturating_sub(2)).any(|i| {
        lines[i].first() == Some(&b'@')
            && lines[i + 2].first() == Some(&b'+')
            && !headers.contains(&(i as u64 + 1))
    })
}

fn file_with(text: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text).unwrap();
    file.flush().unwrap();
    file
}

/// A FASTQ record in one of the shapes the format allows.
#[derive(Debug, Clone)]
struct Shape {
    name: String,
    seq: Vec<u8>,
    qual: Vec<u8>,
    /// Wrap sequence and quality at this width (0: four lines).
    wrap: usize,
    repeat_title: bool,
    crlf: bool,
    blank_after: bool,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        "[a-z0-9]{1,8}",
        "[ACGTN]{0,120}",
        prop_oneof![8 => Just(0usize), 1 => 1usize..40],
        any::<bool>(),
        prop_oneof![6 => Just(false), 1 => Just(true)],
        prop_oneof![6 => Just(false), 1 => Just(true)],
        any::<u64>(),
    )
        .prop_map(|(name, seq, wrap, repeat_title, crlf, blank_after, seed)| {
            // Qualities over the whole Phred+33 range, '@' and '+' included, often first.
            let qual = (0..seq.len())
                .map(|i| {
                    let x = seed.wrapping_mul(i as u64 * 2 + 1).rotate_left(i as u32 % 64);
                    if i == 0 && x % 3 == 0 {
                        if x % 2 == 0 { b'@' } else { b'+' }
                    } else {
                        b'!' + (x % 94) as u8
                    }
                })
                .collect();
            Shape { name, seq: seq.into_bytes(), qual, wrap, repeat_title, crlf, blank_after }
        })
}

fn render(records: &[Shape]) -> Vec<u8> {
    let mut text = Vec::new();
    for r in records {
        let end: &[u8] = if r.crlf { b"\r\n" } else { b"\n" };
        let lines = |bytes: &[u8], text: &mut Vec<u8>| {
            if r.wrap == 0 || bytes.is_empty() {
                text.extend_from_slice(bytes);
                text.extend_from_slice(end);
            } else {
                for line in bytes.chunks(r.wrap) {
                    text.extend_from_slice(line);
                    text.extend_from_slice(end);
                }
            }
        };
        text.extend(format!("@{} x", r.name).bytes());
        text.extend_from_slice(end);
        lines(&r.seq, &mut text);
        text.push(b'+');
        if r.repeat_title {
            text.extend(format!("{} x", r.name).bytes());
        }
        text.extend_from_slice(end);
        lines(&r.qual, &mut text);
        if r.blank_after {
            text.extend_from_slice(end);
        }
    }
    text
}

proptest! {
    #![proptest_config(Config { cases: 256, failure_persistence: None, ..Config::default() })]

    #[test]
    fn windows_parsed_later_equal_batches(
        records in prop::collection::vec(shape(), 1..120),
        batch_size in prop_oneof![1usize..64, 64usize..4000],
    ) {
        let file = file_with(&render(&records));
        let (windows, _) = read(file.path(), batch_size, true);
        let (batches, _) = read(file.path(), batch_size, false);
        explain(&windows, &batches, &render(&records), batch_size);
        prop_assert_eq!(windows, batches);
    }

    #[test]
    fn damaged_files_give_the_first_error_or_the_same_records(
        records in prop::collection::vec(shape(), 1..80),
        batch_size in 64usize..2000,
        cut in any::<prop::sample::Index>(),
        damage in 0u8..4,
    ) {
        let mut text = render(&records);
        let at = cut.index(text.len());
        match damage {
            0 => { text.remove(at); }
            1 => text[at] = b'\n',
            2 => text[at] = b'@',
            _ => text.insert(at, b'+'),
        }
        if text.last() != Some(&b'\n') {
            text.push(b'\n');
        }
        let file = file_with(&text);
        let (windows, _) = read(file.path(), batch_size, true);
        let (batches, _) = read(file.path(), batch_size, false);
        explain(&windows, &batches, &text, batch_size);
        match (&windows, &batches) {
            // Whatever the damage, never other records than `read_batch`'s.
            (Ok(_), _) => prop_assert_eq!(&windows, &batches),
            // A window may begin at a false record start (a quality line beginning with '@' two
            // lines before a sequence line beginning with '+'): that shows as an error.
            (Err(_), Ok(batches)) => prop_assert!(has_false_record_start(&text, batches)),
            // Both fail: the windows' error may describe a misread window instead.
            (Err(_), Err(_)) => {}
        }
    }
}

#[test]
fn a_plain_fastq_file_goes_out_in_windows() {
    let records: Vec<Shape> = (0..2000)
        .map(|i| Shape {
            name: format!("r{i}"),
            seq: b"ACGT".repeat(1 + i % 40),
            qual: b"I#+@".repeat(1 + i % 40),
            wrap: 0,
            repeat_title: i % 7 == 0,
            crlf: false,
            blank_after: false,
        })
        .collect();
    let file = file_with(&render(&records));
    let (windows, windowed) = read(file.path(), 4096, true);
    let (batches, _) = read(file.path(), 4096, false);
    let batches = batches.unwrap();
    assert!(batches.len() > 20);
    // Every batch but the first (which settles the format) was parsed by its consumer.
    assert_eq!(windowed, batches.len() - 1);
    assert_eq!(windows.unwrap(), batches);
}

#[test]
fn a_wrapped_record_at_a_window_end_turns_windows_off_and_reads_on() {
    let mut records: Vec<Shape> = (0..400)
        .map(|i| Shape {
            name: format!("r{i}"),
            seq: b"ACGTACGTAC".to_vec(),
            qual: b"IIIIIIIIII".to_vec(),
            wrap: 0,
            repeat_title: false,
            crlf: false,
            blank_after: false,
        })
        .collect();
    for r in &mut records[100..] {
        r.wrap = 3;
    }
    let file = file_with(&render(&records));
    let (windows, windowed) = read(file.path(), 1024, true);
    let (batches, _) = read(file.path(), 1024, false);
    assert!(windowed > 0, "the four-line part goes out in windows");
    assert_eq!(windows.unwrap(), batches.unwrap());
}

#[test]
fn an_error_in_a_window_names_the_input_line() {
    let mut text = Vec::new();
    for i in 0..500 {
        text.extend(format!("@r{i}\nACGTACGT\n+\nIIIIIIII\n").bytes());
    }
    // Record r400 (lines 1601-1604) gets a quality one letter short.
    let bad = text.windows(6).position(|w| w == b"@r400\n").unwrap();
    let qual = bad + "@r400\nACGTACGT\n+\n".len();
    text.remove(qual);
    let file = file_with(&text);
    let (windows, windowed) = read(file.path(), 1024, true);
    let (batches, _) = read(file.path(), 1024, false);
    assert!(windowed > 0);
    let error = windows.unwrap_err();
    assert_eq!(error, batches.unwrap_err());
    assert!(error.contains("line 1604") && error.contains("'r400'"), "{error}");
}

#[test]
fn a_misjudged_window_start_fails_instead_of_reading_other_records() {
    // A quality line that begins with '@' followed by a sequence that begins with '+' looks
    // like a record start: a window may begin there. The parse must not accept it.
    let mut text = Vec::new();
    for i in 0..300 {
        // The '+' line repeats the title, so the header and '+' lines are equally long, as a
        // quality line must be as long as its sequence line.
        text.extend(format!("@r{i}\n+CGTACGT\n+r{i}\n@IIIIIII\n").bytes());
    }
    let file = file_with(&text);
    let mut caught = 0;
    for batch_size in [100, 257, 1000, 4096] {
        let (windows, _) = read(file.path(), batch_size, true);
        let (batches, _) = read(file.path(), batch_size, false);
        match windows {
            Ok(windows) => assert_eq!(windows, batches.unwrap(), "batch size {batch_size}"),
            Err(_) => caught += 1,
        }
    }
    assert!(caught > 0, "some window began at a false record start and was caught");
}

#[test]
fn long_reads_go_out_in_windows_too() {
    // Records of 5-30 kb: finding a window's end reads ever more bytes around it.
    let records: Vec<Shape> = (0..120)
        .map(|i| {
            let len = 5_000 + (i * 7_919) % 25_000; // records shorter than the batch size
            Shape {
                name: format!("long{i}"),
                seq: (0..len).map(|j| b"ACGT"[(i + j * 7) % 4]).collect(),
                qual: (0..len).map(|j| b'!' + ((i * 3 + j) % 60) as u8).collect(),
                wrap: 0,
                repeat_title: false,
                crlf: false,
                blank_after: false,
            }
        })
        .collect();
    let file = file_with(&render(&records));
    for batch_size in [64 << 10, 200 << 10] {
        let (windows, windowed) = read(file.path(), batch_size, true);
        let (batches, _) = read(file.path(), batch_size, false);
        let batches = batches.unwrap();
        assert_eq!(windowed, batches.len() - 1, "batch size {batch_size}");
        assert_eq!(windows.unwrap(), batches);
    }
}

#[test]
fn a_record_over_the_length_limit_in_a_window_is_the_same_error() {
    let mut text = Vec::new();
    for i in 0..400 {
        let len = if i == 300 { 80 } else { 20 };
        text.extend(format!("@r{i}\n{}\n+\n{}\n", "A".repeat(len), "I".repeat(len)).bytes());
    }
    let file = file_with(&text);
    let read_limited = |windows: bool| {
        let options =
            ReaderOptions { batch_size: 1024, max_record_len: 100, ..ReaderOptions::default() };
        let mut reader = Reader::from_path(file.path(), options).unwrap();
        let mut batch = Batch::default();
        loop {
            let more = if windows {
                reader.read_window(&mut batch).and_then(|more| batch.parse().map(|_| more))
            } else {
                reader.read_batch(&mut batch).map(|n| n > 0)
            };
            match more {
                Ok(true) => {}
                Ok(false) => return String::new(),
                Err(err) => return err.to_string(),
            }
        }
    };
    let error = read_limited(true);
    assert_eq!(error, read_limited(false));
    assert!(error.contains("'r300'") && error.contains("line 1201"), "{error}");
}
