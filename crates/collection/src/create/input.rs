//! FASTA input as AGC sees it: headers verbatim, bases as codes, case dropped.
//!
//! Codes: `A0 C1 G2 T3 N4 R5 Y6 S7 W8 K9 M10 B11 D12 H13 V14 U15`, either case. Bytes below
//! 64 (digits, `-`, `*`, ...) are skipped as AGC skips them. Any other letter would be
//! stored by AGC as a code that decodes to a space, so it is refused here with the file,
//! line and record.

use std::path::Path;

use seqflow_seqio::{Batch, Format, Reader, ReaderOptions};

use crate::{Error, Result};

/// Marker in [`CODE_OF`] for a byte that cannot be stored.
const INVALID: u8 = 0xFF;
/// Marker in [`CODE_OF`] for a byte that is skipped.
const SKIPPED: u8 = 0xFE;

/// Byte → base code.
static CODE_OF: [u8; 256] = build_code_table();

const fn build_code_table() -> [u8; 256] {
    let mut table = [INVALID; 256];
    let mut b = 0;
    while b < 64 {
        table[b] = SKIPPED;
        b += 1;
    }
    let letters = b"ACGTNRYSWKMBDHVU";
    let mut code = 0;
    while code < letters.len() {
        table[letters[code] as usize] = code as u8;
        table[letters[code].to_ascii_lowercase() as usize] = code as u8;
        code += 1;
    }
    table
}

/// Byte → code for the fast path when lowercase runs are kept: the code for uppercase
/// letters; anything else (lowercase, skipped, refused) has a bit above the low four set and
/// sends the line to the slow path.
static FAST_CODE_OF: [u8; 256] = build_fast_table(false);

/// The same when case is dropped: lowercase letters take the fast path too (soft-masked
/// assemblies are lowercase for long stretches).
static FAST_ANY_CASE_CODE_OF: [u8; 256] = build_fast_table(true);

const fn build_fast_table(any_case: bool) -> [u8; 256] {
    let mut table = [0x80u8; 256];
    let letters = b"ACGTNRYSWKMBDHVU";
    let mut code = 0;
    while code < letters.len() {
        table[letters[code] as usize] = code as u8;
        if any_case {
            table[letters[code].to_ascii_lowercase() as usize] = code as u8;
        }
        code += 1;
    }
    table
}

/// The letter of each base code (uppercase), as `agc` prints it.
pub const LETTER_OF: &[u8; 16] = b"ACGTNRYSWKMBDHVU";

/// One FASTA record: its full header line and its base codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contig {
    /// Header line without `>` (stored verbatim).
    pub name: String,
    /// Base codes (0..=15).
    pub codes: Vec<u8>,
    /// Lowercase runs as `(start, length)` in base coordinates (for `--keep-case`).
    pub lowercase: Vec<(u64, u64)>,
}

/// Sample name from a file name as `agc` derives it: the file name with `.fna`, `.gz`,
/// `.fa`, `.fasta` suffixes stripped repeatedly (never down to nothing).
pub fn sample_name_of(path: &Path) -> String {
    let mut name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    'strip: loop {
        for suffix in [".fna", ".gz", ".fa", ".fasta"] {
            if name.len() > suffix.len() && name.ends_with(suffix) {
                name.truncate(name.len() - suffix.len());
                continue 'strip;
            }
        }
        break name;
    }
}

/// Reads the contigs of one FASTA file (plain, gzip, BGZF or zstd), one batch at a time.
pub struct ContigReader {
    reader: Reader,
    batch: Batch,
    next_in_batch: usize,
    path: String,
    /// Whether lowercase runs are recorded ([`Contig::lowercase`]).
    keep_case: bool,
}

impl ContigReader {
    /// Opens `path`; its contigs come without lowercase runs (case dropped, as AGC does).
    ///
    /// # Errors
    /// [`Error::Sequence`] when it cannot be opened or its compression is unknown.
    pub fn open(path: &Path) -> Result<ContigReader> {
        ContigReader::open_with_case(path, false)
    }

    /// Opens `path`, recording the lowercase runs of its contigs when `keep_case`.
    ///
    /// # Errors
    /// As [`ContigReader::open`].
    pub fn open_with_case(path: &Path, keep_case: bool) -> Result<ContigReader> {
        let options = ReaderOptions { format: Some(Format::Fasta), ..ReaderOptions::default() };
        let reader = Reader::from_path(path, options)?;
        Ok(ContigReader {
            reader,
            batch: Batch::default(),
            next_in_batch: 0,
            path: path.display().to_string(),
            keep_case,
        })
    }

    /// The next contig, or `None` at the end of the file.
    ///
    /// # Errors
    /// [`Error::Sequence`] for malformed FASTA, [`Error::Input`] for a letter AGC cannot store.
    pub fn next_contig(&mut self) -> Result<Option<Contig>> {
        while self.next_in_batch >= self.batch.len() {
            if self.reader.read_batch(&mut self.batch)? == 0 {
                return Ok(None);
            }
            self.next_in_batch = 0;
        }
        let record = self.batch.get(self.next_in_batch);
        self.next_in_batch += 1;
        let name = String::from_utf8_lossy(record.header()).into_owned();
        let mut codes = Vec::with_capacity(record.seq_len());
        let mut lowercase: Vec<(u64, u64)> = Vec::new();
        let fast = if self.keep_case { &FAST_CODE_OF } else { &FAST_ANY_CASE_CODE_OF };
        for (line_index, line) in lines(record.seq_raw()).enumerate() {
            let start = codes.len();
            // Fast path: map the whole line, then look at it again only if it held a byte
            // that is skipped or refused, or a lowercase letter (kept case).
            let mut seen = 0u8;
            codes.extend(line.iter().map(|&b| {
                let v = fast[b as usize];
                seen |= v;
                v
            }));
            if seen & !0x0F == 0 {
                continue;
            }
            codes.truncate(start);
            for &byte in line {
                let code = CODE_OF[byte as usize];
                if code < 16 {
                    if self.keep_case && byte.is_ascii_lowercase() {
                        let pos = codes.len() as u64;
                        match lowercase.last_mut() {
                            Some((start, len)) if *start + *len == pos => *len += 1,
                            _ => lowercase.push((pos, 1)),
                        }
                    }
                    codes.push(code);
                } else if code == INVALID {
                    return Err(Error::Input(format!(
                        "{}: line {}, record '{}': character {:?} is not a nucleotide code AGC can store",
                        self.path,
                        record.line() + 1 + line_index as u64,
                        String::from_utf8_lossy(record.id()),
                        char::from(byte)
                    )));
                }
            }
        }
        Ok(Some(Contig { name, codes, lowercase }))
    }
}

/// The lines of a record's sequence (separated by `\n`), found with `memchr`.
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match memchr::memchr(b'\n', text) {
            Some(end) => {
                rest = Some(&text[end + 1..]);
                Some(&text[..end])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_names_follow_agc() {
        assert_eq!(sample_name_of(Path::new("/x/hap01.fa.gz")), "hap01");
        assert_eq!(sample_name_of(Path::new("a.fasta.fna")), "a");
        assert_eq!(sample_name_of(Path::new(".fa")), ".fa");
        assert_eq!(sample_name_of(Path::new("x.fa.txt")), "x.fa.txt");
    }

    #[test]
    fn codes_case_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.fa");
        std::fs::write(&path, ">c1 desc\nACgtNn\nRYSWKMBDHVU*-\n>c2\nAXA\n").unwrap();
        for keep_case in [true, false] {
            let mut reader = ContigReader::open_with_case(&path, keep_case).unwrap();
            let c1 = reader.next_contig().unwrap().unwrap();
            assert_eq!(c1.name, "c1 desc");
            assert_eq!(c1.codes, vec![0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
            let runs = if keep_case { vec![(2, 2), (5, 1)] } else { vec![] };
            assert_eq!(c1.lowercase, runs);
            let err = reader.next_contig().unwrap_err().to_string();
            assert!(err.contains("line 5") && err.contains("'c2'") && err.contains("'X'"), "{err}");
        }
    }
}
