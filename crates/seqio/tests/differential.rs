//! Differential tests against `seq_io` 0.3: on valid input both readers yield the same
//! records; on broken FASTQ both report an error.
//!
//! Where the two readers are *meant* to differ, inputs avoid the difference:
//! - seqflow skips blank lines between FASTQ records; seq_io rejects them (`InvalidStart`),
//!   so valid FASTQ here has blank lines only at the end (seq_io allows those).
//! - seqflow detects the format: a FASTQ whose first `@` is replaced by `>` is read as FASTA.
//!   The broken-input test reads with `format: Some(Fastq)` for that case.
//!
//! Breakage classes (each checked by `broken_fastq_is_an_error_in_both`):
//! - truncated at a random byte: both strict. Cuts that leave a complete file (at a record
//!   boundary, or just before the final line break) are valid, and both then agree on records.
//!   Exception: a last record with an *empty* quality line cut before its final newline
//!   (`@r\n\n+\n`): seq_io accepts it, seqflow reports truncation (see
//!   `empty_last_quality_without_final_newline`); the random inputs here have non-empty
//!   sequences.
//! - seq_io quirk: in a CRLF file whose last line lacks its `\r\n`, seq_io compares the
//!   sequence line with its `\r\n` to the quality line without, and reports `UnequalLengths`;
//!   seqflow reads the record. Tests assert seqflow's result and the quirk separately.
//! - quality line shortened: both strict (`UnequalLengths` / "quality length … differs").
//! - `+` line replaced by a line not starting with `+`: both strict (`InvalidSep`).
//! - `@` replaced by another character: both strict (`InvalidStart`).
//!
//! seq_io is lenient, like seqflow, about the content of the `+` line (it need not repeat the
//! header) and about letters and quality characters (no alphabet checks); those are not
//! breakages here.

use proptest::prelude::*;
use proptest::test_runner::Config;
use seq_io::fasta::Record as _;
use seq_io::fastq::Record as _;
use seqflow_seqio::{Batch, Error, Format, Reader, ReaderOptions};

/// (header, sequence without line breaks, quality).
type Triple = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

fn cases(n: u32) -> Config {
    // No persistence file: it would land in the crate directory; failures print the case.
    Config { cases: n, failure_persistence: None, ..Config::default() }
}

fn seqflow(data: &[u8], options: ReaderOptions) -> Result<Vec<Triple>, Error> {
    let mut reader = Reader::new(std::io::Cursor::new(data.to_vec()), "diff.fx", options)?;
    let mut batch = Batch::default();
    let mut out = Vec::new();
    while reader.read_batch(&mut batch)? > 0 {
        for r in batch.records() {
            out.push((r.header().to_vec(), r.seq().into_owned(), r.qual().map(<[u8]>::to_vec)));
        }
    }
    Ok(out)
}

fn seq_io_fastq(data: &[u8]) -> Result<Vec<Triple>, seq_io::fastq::Error> {
    let mut reader = seq_io::fastq::Reader::new(data);
    let mut out = Vec::new();
    while let Some(record) = reader.next() {
        let r = record?;
        out.push((r.head().to_vec(), r.seq().to_vec(), Some(r.qual().to_vec())));
    }
    Ok(out)
}

fn seq_io_fasta(data: &[u8]) -> Result<Vec<Triple>, seq_io::fasta::Error> {
    let mut reader = seq_io::fasta::Reader::new(data);
    let mut out = Vec::new();
    while let Some(record) = reader.next() {
        let r = record?;
        out.push((r.head().to_vec(), r.full_seq().into_owned(), None));
    }
    Ok(out)
}

// ---- generators ------------------------------------------------------------------------------

fn header() -> impl Strategy<Value = Vec<u8>> {
    ("[A-Za-z0-9_.:|-]{1,16}", prop::option::of(("[ \t]", "[ -~]{0,24}"))).prop_map(|(id, desc)| {
        match desc {
            Some((sep, desc)) => format!("{id}{sep}{desc}").into_bytes(),
            None => id.into_bytes(),
        }
    })
}

/// FASTQ (header, sequence, quality) with sequence lengths in `lengths`.
fn fastq_records(
    lengths: std::ops::Range<usize>,
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>> {
    let base = prop::sample::select(b"ACGTNacgtn".to_vec());
    let record = (header(), prop::collection::vec((base, b'!'..=b'~'), lengths)).prop_map(
        |(head, pairs)| {
            let (seq, qual) = pairs.into_iter().unzip();
            (head, seq, qual)
        },
    );
    prop::collection::vec(record, count)
}

/// Four-line FASTQ text, and the byte offset where each record ends (after its last newline).
fn format_fastq(records: &[(Vec<u8>, Vec<u8>, Vec<u8>)], crlf: bool) -> (Vec<u8>, Vec<usize>) {
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut text = Vec::new();
    let mut ends = Vec::new();
    for (head, seq, qual) in records {
        for part in [b"@", &head[..], eol, seq, eol, b"+", eol, qual, eol] {
            text.extend_from_slice(part);
        }
        ends.push(text.len());
    }
    (text, ends)
}

fn expected_fastq(records: &[(Vec<u8>, Vec<u8>, Vec<u8>)]) -> Vec<Triple> {
    records.iter().map(|(h, s, q)| (h.clone(), s.clone(), Some(q.clone()))).collect()
}

/// FASTA text with sequences wrapped at `width` (0: one line), a blank line after every
/// `blank_every`-th line (0: none), and CRLF endings on request.
fn format_fasta(
    records: &[(Vec<u8>, Vec<u8>)],
    width: usize,
    blank_every: usize,
    crlf: bool,
) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for (head, seq) in records {
        lines.push([&b">"[..], head].concat());
        if width == 0 {
            lines.push(seq.clone());
        } else {
            lines.extend(seq.chunks(width).map(<[u8]>::to_vec));
        }
    }
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut text = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        text.extend_from_slice(line);
        text.extend_from_slice(eol);
        if blank_every > 0 && (i + 1) % blank_every == 0 {
            text.extend_from_slice(eol);
        }
    }
    text
}

fn with_batch_size(batch_size: usize) -> ReaderOptions {
    ReaderOptions { batch_size, ..ReaderOptions::default() }
}

// ---- valid input -----------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn valid_fastq_reads_the_same_in_both(
        records in fastq_records(0..300, 0..16),
        crlf in any::<bool>(),
        trailing_blank_lines in 0..3usize,
        strip_final in 0..3usize,
        batch_size in 1..300usize,
    ) {
        let (mut text, _) = format_fastq(&records, crlf);
        let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        for _ in 0..trailing_blank_lines {
            text.extend_from_slice(eol);
        }
        // 0: keep the final line break; 1: drop its '\n'; 2: drop all of it ('\r\n' or '\n').
        let last_has_qual = records.last().is_some_and(|(_, s, _)| !s.is_empty());
        let strip = if trailing_blank_lines == 0 && last_has_qual { strip_final } else { 0 };
        let cut = match strip {
            0 => 0,
            1 => 1,
            _ => eol.len(),
        };
        text.truncate(text.len() - cut);
        let expected = expected_fastq(&records);
        prop_assert_eq!(&seqflow(&text, with_batch_size(batch_size)).unwrap(), &expected);
        prop_assert_eq!(&seqflow(&text, ReaderOptions::default()).unwrap(), &expected);
        let theirs = seq_io_fastq(&text);
        if crlf && strip == 2 {
            // seq_io quirk: compares the sequence line *with* its "\r\n" to the final
            // quality line without one, and reports unequal lengths.
            let quirk = matches!(theirs, Err(seq_io::fastq::Error::UnequalLengths { .. }));
            prop_assert!(quirk, "seq_io: {:?}", theirs);
        } else {
            prop_assert!(theirs.is_ok(), "seq_io: {:?}", theirs);
            prop_assert_eq!(&theirs.unwrap(), &expected);
        }
    }

    #[test]
    fn valid_fasta_reads_the_same_in_both(
        records in prop::collection::vec(
            (header(), prop::collection::vec(prop::sample::select(b"ACGTNacgtn".to_vec()), 0..300)),
            0..16,
        ),
        width in 0..80usize,
        blank_every in 0..6usize,
        crlf in any::<bool>(),
        batch_size in 1..300usize,
    ) {
        let text = format_fasta(&records, width, blank_every, crlf);
        let theirs = seq_io_fasta(&text);
        prop_assert!(theirs.is_ok(), "seq_io: {:?}", theirs);
        let theirs = theirs.unwrap();
        let expected: Vec<Triple> = records.iter().map(|(h, s)| (h.clone(), s.clone(), None)).collect();
        prop_assert_eq!(&theirs, &expected);
        prop_assert_eq!(&seqflow(&text, with_batch_size(batch_size)).unwrap(), &theirs);
        prop_assert_eq!(&seqflow(&text, ReaderOptions::default()).unwrap(), &theirs);
    }
}

// ---- broken FASTQ ----------------------------------------------------------------------------

/// Ways to break a valid FASTQ file.
#[derive(Debug, Clone)]
enum Breakage {
    /// Cut the text at this fraction (per mille) of its length.
    Truncate(u32),
    /// Remove this many (≥ 1, clamped) characters from the end of a quality line.
    ShortenQuality(usize),
    /// Replace a `+` line by this line (never starting with `+`).
    ReplacePlus(Vec<u8>),
    /// Replace an `@` by this character (never `@`).
    ReplaceAt(u8),
}

fn breakage() -> impl Strategy<Value = Breakage> {
    prop_oneof![
        (0..=1000u32).prop_map(Breakage::Truncate),
        (1..50usize).prop_map(Breakage::ShortenQuality),
        "([!-*,-~][ -~]{0,10})?".prop_map(|s| Breakage::ReplacePlus(s.into_bytes())),
        (b' '..=b'~').prop_filter("not '@'", |&b| b != b'@').prop_map(Breakage::ReplaceAt),
    ]
}

/// Line-level surgery on record `k` of well-formed FASTQ text.
fn break_fastq(
    records: &[(Vec<u8>, Vec<u8>, Vec<u8>)],
    crlf: bool,
    k: usize,
    breakage: &Breakage,
) -> Vec<u8> {
    let mut records = records.to_vec();
    match breakage {
        Breakage::Truncate(per_mille) => {
            let (text, _) = format_fastq(&records, crlf);
            let cut = text.len() * *per_mille as usize / 1000;
            return text[..cut].to_vec();
        }
        Breakage::ShortenQuality(n) => {
            let qual = &mut records[k].2;
            qual.truncate(qual.len() - (*n).clamp(1, qual.len()));
        }
        Breakage::ReplacePlus(_) | Breakage::ReplaceAt(_) => {}
    }
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut text = Vec::new();
    for (i, (head, seq, qual)) in records.iter().enumerate() {
        let marker = match breakage {
            Breakage::ReplaceAt(b) if i == k => *b,
            _ => b'@',
        };
        let plus = match breakage {
            Breakage::ReplacePlus(line) if i == k => &line[..],
            _ => b"+",
        };
        for part in [&[marker][..], head, eol, seq, eol, plus, eol, qual, eol] {
            text.extend_from_slice(part);
        }
    }
    text
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn broken_fastq_is_an_error_in_both(
        records in fastq_records(1..60, 1..8),
        crlf in any::<bool>(),
        pick in any::<prop::sample::Index>(),
        breakage in breakage(),
        batch_size in 1..300usize,
    ) {
        let k = pick.index(records.len());
        let text = break_fastq(&records, crlf, k, &breakage);
        let theirs = seq_io_fastq(&text);
        let auto = seqflow(&text, with_batch_size(batch_size));
        let given = seqflow(
            &text,
            ReaderOptions { format: Some(Format::Fastq), ..with_batch_size(batch_size) },
        );
        let eol_len = if crlf { 2 } else { 1 };
        // Line numbers of record k: header, '+' line, quality line.
        let (head_line, plus_line, qual_line) = (4 * k as u64 + 1, 4 * k as u64 + 3, 4 * k as u64 + 4);
        match &breakage {
            Breakage::Truncate(_) => {
                let (full, ends) = format_fastq(&records, crlf);
                prop_assert!(full.starts_with(&text));
                let cut = text.len();
                // Harmless cuts: at a record boundary, or inside the final line break of a
                // record. The records before the cut then read back.
                let kept = ends.iter().position(|&end| (end - eol_len..=end).contains(&cut));
                if cut == 0 || kept.is_some() {
                    let n = kept.map_or(0, |i| i + 1);
                    let expected = expected_fastq(&records[..n]);
                    prop_assert_eq!(&auto.unwrap(), &expected);
                    prop_assert_eq!(&given.unwrap(), &expected);
                    if crlf && kept.is_some_and(|i| cut == ends[i] - 2) {
                        // The seq_io quirk of `valid_fastq_reads_the_same_in_both`.
                        prop_assert!(theirs.is_err());
                    } else {
                        prop_assert_eq!(&theirs.unwrap(), &expected);
                    }
                } else {
                    prop_assert!(theirs.is_err(), "seq_io accepted a cut at {}", cut);
                    prop_assert!(auto.is_err(), "seqflow accepted a cut at {}", cut);
                    prop_assert!(given.is_err(), "seqflow accepted a cut at {}", cut);
                }
            }
            Breakage::ShortenQuality(n) => {
                prop_assert!(
                    matches!(theirs, Err(seq_io::fastq::Error::UnequalLengths { .. })),
                    "seq_io: {:?}", theirs
                );
                // In wrapped FASTQ the line after a short quality (the next header) may go on
                // with it: seqflow reports the length at the quality line, unless the two
                // happen to add up to the sequence length, and the error comes later.
                let err = match auto {
                    Err(err) => err,
                    Ok(read) => {
                        // Or never: the short line and whole lines after it add up to the
                        // sequence length and the rest is well formed, so the text is valid
                        // wrapped FASTQ whose record k swallowed the lines of later records.
                        let expected = expected_fastq(&records);
                        prop_assert!(read.len() < records.len());
                        prop_assert_eq!(&read[..k], &expected[..k]);
                        let (head, seq, qual) = &read[k];
                        prop_assert_eq!((head, seq), (&expected[k].0, &expected[k].1));
                        let qual = qual.as_ref().expect("FASTQ has qualities");
                        let short = records[k].2.len() - (*n).clamp(1, records[k].2.len());
                        prop_assert_eq!(qual.len(), seq.len());
                        prop_assert_eq!(&qual[..short], &records[k].2[..short]);
                        prop_assert_eq!(given.ok(), Some(read));
                        return Ok(());
                    }
                };
                let line = err.position().map(|p| p.line).unwrap_or(0);
                prop_assert!(line >= qual_line, "{}", err);
                if line == qual_line {
                    prop_assert!(err.to_string().contains("quality length"), "{}", err);
                }
                prop_assert!(given.is_err());
            }
            Breakage::ReplacePlus(_) => {
                prop_assert!(
                    matches!(theirs, Err(seq_io::fastq::Error::InvalidSep { .. })),
                    "seq_io: {:?}", theirs
                );
                // seq_io reads four-line FASTQ only; seqflow also reads wrapped records, where
                // a line that is not '+' after the sequence continues it. The error then comes
                // where that reading breaks: at the line (a '@' among sequence lines, a '+'
                // line with another title, a quality of the wrong length) or at the record
                // (no '+' line before the end).
                let err = auto.unwrap_err();
                let line = err.position().map(|p| p.line).unwrap_or(0);
                prop_assert!(line == head_line || line >= plus_line, "{}", err);
                prop_assert!(given.is_err());
            }
            Breakage::ReplaceAt(b) => {
                prop_assert!(
                    matches!(theirs, Err(seq_io::fastq::Error::InvalidStart { .. })),
                    "seq_io: {:?}", theirs
                );
                let err = given.unwrap_err();
                prop_assert_eq!(err.position().map(|p| p.line), Some(head_line), "{}", err);
                if k == 0 && *b == b'>' {
                    // Detected as FASTA: a legitimate reading of the text.
                } else {
                    let err = auto.unwrap_err();
                    prop_assert_eq!(err.position().map(|p| p.line), Some(head_line), "{}", err);
                }
            }
        }
    }
}

// ---- documented divergences ------------------------------------------------------------------

/// `@r\n\n+\n`: a last record with an empty sequence whose (empty) quality line lost its line
/// break. seq_io reads it as a record with empty quality; seqflow counts 3 of 4 lines and
/// reports truncation. The text is ambiguous (a missing quality line looks the same), but
/// seqflow otherwise accepts a missing final newline, so it is flagged for the owner.
#[test]
#[ignore = "divergence: seqflow rejects '@r\\n\\n+\\n' (empty last quality, no final newline); seq_io accepts it"]
fn empty_last_quality_without_final_newline() {
    let text = b"@a\nAC\n+\nII\n@r\n\n+\n";
    let theirs = seq_io_fastq(text).unwrap();
    assert_eq!(theirs.len(), 2);
    assert_eq!(seqflow(text, ReaderOptions::default()).unwrap(), theirs);
}

/// The same record with its final newline reads the same in both.
#[test]
fn empty_last_quality_with_final_newline() {
    let text = b"@a\nAC\n+\nII\n@r\n\n+\n\n";
    let theirs = seq_io_fastq(text).unwrap();
    assert_eq!(theirs.len(), 2);
    assert_eq!(seqflow(text, ReaderOptions::default()).unwrap(), theirs);
}

/// Blank lines between FASTQ records: seqflow skips them by design, seq_io rejects them.
#[test]
fn blank_line_between_fastq_records_is_seqflow_only() {
    let text = b"@a\nAC\n+\nII\n\n@b\nG\n+\nI\n";
    assert!(matches!(seq_io_fastq(text), Err(seq_io::fastq::Error::InvalidStart { .. })));
    assert_eq!(seqflow(text, ReaderOptions::default()).unwrap().len(), 2);
}

/// A quality line shortened so that it and the four lines of the next record add up to the
/// sequence length is valid wrapped FASTQ (quality lines may start with `@` or be `+`):
/// seqflow reads one record fewer, seq_io (four-line FASTQ only) reports unequal lengths.
#[test]
fn short_quality_that_swallows_a_whole_record_is_wrapped_fastq() {
    let text = b"@a\nACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIII\n@x\nAC\n+\nII\n@b\nG\n+\nI\n";
    assert!(matches!(seq_io_fastq(text), Err(seq_io::fastq::Error::UnequalLengths { .. })));
    let ours = seqflow(text, ReaderOptions::default()).unwrap();
    let swallowed = (b"IIIIIIIIIIIII@xAC+II".to_vec(), b"ACGTACGTACGTACGTACGT".to_vec());
    assert_eq!(ours.len(), 2);
    assert_eq!((&ours[0].1, ours[0].2.as_ref()), (&swallowed.1, Some(&swallowed.0)));
    assert_eq!(ours[1], (b"b".to_vec(), b"G".to_vec(), Some(b"I".to_vec())));
}
