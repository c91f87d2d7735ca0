//! A batch of records: one contiguous byte buffer plus a table of offsets into it.
//!
//! Batches are filled by the [`crate::Reader`] and handed whole to consumers; nothing is
//! copied per record. A batch is reused: `read_batch` clears and refills it, keeping its
//! allocations, so a pool of batches bounds the memory of a whole pipeline.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Position, Result};
use crate::validate::Validation;

/// The two text formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `>` header, sequence on any number of lines.
    Fasta,
    /// `@` header, sequence, `+` line, quality as long as the sequence; sequence and quality
    /// are usually one line each but may be wrapped over several.
    Fastq,
}

impl Format {
    /// `FASTA` or `FASTQ`, as tools print it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Fasta => "FASTA",
            Format::Fastq => "FASTQ",
        }
    }
}

/// Offsets of one record inside its batch's buffer (all absolute buffer indices).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    /// Header line without the marker and without the line ending.
    pub(crate) head: (usize, usize),
    /// Sequence bytes; for FASTA this includes the line breaks between sequence lines.
    pub(crate) seq: (usize, usize),
    /// Quality bytes (FASTQ only; empty for FASTA).
    pub(crate) qual: (usize, usize),
    /// Number of sequence letters (line breaks excluded).
    pub(crate) seq_len: usize,
    /// 1-based line number of the header line (of the first byte, for a continued piece).
    pub(crate) line: u64,
    /// A piece of a FASTA record whose header was in an earlier batch.
    pub(crate) continued: bool,
    /// A piece of a FASTA record that goes on in the next batch.
    pub(crate) open: bool,
    /// Sequence letters of the same record in earlier batches.
    pub(crate) prior_letters: u64,
    /// A FASTQ record whose sequence or quality was wrapped over several lines: `seq` and
    /// `qual` index [`Batch::joined`], where the lines are put end to end; its lines in `buf`
    /// are in the batch's [`Wrapped`] table.
    pub(crate) wrapped: bool,
}

/// Where the lines of a wrapped FASTQ record lie in the batch buffer, for error positions and
/// record lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wrapped {
    /// `head.0` of the record's span: the key the table is sorted by.
    pub(crate) head: usize,
    /// First byte of the first sequence line.
    pub(crate) seq: usize,
    /// First byte of the first quality line.
    pub(crate) qual: usize,
    /// End of the last quality line, line ending excluded.
    pub(crate) end: usize,
}

/// Page size assumed for buffer alignment.
const PAGE: usize = 4096;

/// Fresh-input room a new batch buffer gets before input shows it needs more.
pub(crate) const INITIAL_ROOM: usize = 1 << 20;

/// A reusable batch of FASTA or FASTQ records.
///
/// ```
/// use seqflow_seqio::{Batch, Reader, ReaderOptions};
/// let data = b"@r1\nACGT\n+\nIIII\n@r2\nGG\n+\n!!\n";
/// let mut reader = Reader::new(&data[..], "example", ReaderOptions::default())?;
/// let mut batch = Batch::default();
/// let mut lengths = Vec::new();
/// while reader.read_batch(&mut batch)? > 0 {
///     for record in batch.records() {
///         lengths.push(record.seq_len());
///     }
/// }
/// assert_eq!(lengths, [4, 2]);
/// # Ok::<(), seqflow_seqio::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Batch {
    /// Backing storage when the input is read; `start..end` holds the data. `start` is chosen
    /// so that the bytes read from the input land on a page boundary (misaligned reads were
    /// measured ~3× slower).
    pub(crate) buf: Vec<u8>,
    /// The mapped file when the input is mapped: then `start..end` are offsets in it and
    /// `buf` is unused.
    pub(crate) mapped: Option<Arc<memmap2::Mmap>>,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) spans: Vec<Span>,
    /// Sequence and quality of wrapped FASTQ records, each put on one line.
    pub(crate) joined: Vec<u8>,
    /// The input lines of wrapped FASTQ records, in record order.
    pub(crate) wrapped: Vec<Wrapped>,
    pub(crate) format: Format,
    pub(crate) source: Arc<str>,
    /// Offset of `buf[start]` in the decompressed input.
    pub(crate) byte_offset: u64,
    /// Sequence number of this batch in its input, from 0.
    pub(crate) index: u64,
    /// Set while the batch is a window of a mapped FASTQ file whose records are still to be
    /// found: [`Batch::parse`] finds them, on the consumer's thread.
    pub(crate) unparsed: Option<Unparsed>,
    /// The spans' line numbers count from the batch's first line (1) rather than from the
    /// input's: the input's line of the batch's first byte is counted only when asked for.
    pub(crate) relative_lines: bool,
    /// Input line number of `start`, once counted (with `relative_lines`).
    pub(crate) first_line: OnceLock<u64>,
}

/// What [`Batch::parse`] needs to know about a window the reader did not parse.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unparsed {
    /// [`ReaderOptions::max_record_len`](crate::ReaderOptions::max_record_len).
    pub(crate) max_record_len: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            buf: Vec::new(),
            mapped: None,
            start: 0,
            end: 0,
            spans: Vec::new(),
            joined: Vec::new(),
            wrapped: Vec::new(),
            format: Format::Fastq,
            source: Arc::from(""),
            byte_offset: 0,
            index: 0,
            unparsed: None,
            relative_lines: false,
            first_line: OnceLock::new(),
        }
    }
}

impl Batch {
    /// Number of records in the batch (none until [`parse`](Self::parse) for a batch from
    /// [`Reader::read_window`](crate::Reader::read_window)).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Format of the records.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Display name of the input the batch came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Sequence number of this batch within its input (0, 1, 2, …).
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Number of input bytes (decompressed) covered by the records of this batch.
    pub fn data_len(&self) -> usize {
        self.end - self.start
    }

    /// The raw bytes covered by the batch's records, exactly as they were in the input.
    pub fn data(&self) -> &[u8] {
        &self.text()[self.start..self.end]
    }

    /// The storage `start`, `end` and the spans index: the mapped file or the buffer.
    #[inline(always)]
    pub(crate) fn text(&self) -> &[u8] {
        storage(&self.buf, self.mapped.as_deref())
    }

    /// The `i`-th record.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn get(&self, i: usize) -> Record<'_> {
        Record { batch: self, span: &self.spans[i] }
    }

    /// Iterates over the records in input order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = Record<'_>> + '_ {
        self.spans.iter().map(move |span| Record { batch: self, span })
    }

    /// Checks every record against `validation` (alphabet, quality range).
    ///
    /// Structural checks are always done by the reader; this is the optional, costlier part,
    /// meant to run in parallel consumers.
    ///
    /// # Errors
    /// The first offending record, with its line and byte position.
    pub fn validate(&self, validation: &Validation) -> Result<()> {
        if !validation.is_active() {
            return Ok(());
        }
        for record in self.records() {
            validation.check(&record)?;
        }
        Ok(())
    }

    /// Finds the records of a batch that [`Reader::read_window`](crate::Reader::read_window)
    /// handed out unparsed, checking their structure and length as the reader does; returns
    /// the number of records. Does nothing to a batch already parsed.
    ///
    /// A window starts where the reader judged a record to begin. When the input is
    /// malformed near that point the judgement can be wrong, and the error returned here then
    /// describes the misread text rather than the input's first fault: re-reading the input
    /// with [`Reader::read_batch`](crate::Reader::read_batch) gives the exact first error.
    /// For well-formed input (sequence lines that do not begin with `+`) it is always right,
    /// and a wrong judgement is never silent: it shows as an error in this batch or the one
    /// before it.
    ///
    /// # Errors
    /// Malformed records and records longer than the reader's `max_record_len`.
    pub fn parse(&mut self) -> Result<usize> {
        let Some(unparsed) = self.unparsed.take() else { return Ok(self.len()) };
        // No `MADV_POPULATE_READ` here (the serial path's fill has one): page by page through
        // GUP it cost more system time than the faults it saves, which map up to 16 cached
        // pages each (stats on 1 GB: 0.18 s wall, 0.16 s system with it; 0.14 s, 0.12 s without).
        self.relative_lines = true;
        let scanned = crate::scan::fastq(self, true, 1);
        if scanned.is_err() {
            // Scan again with the input's line numbers, for the error's position.
            let first_line = self.first_line();
            self.spans.clear();
            self.joined.clear();
            self.wrapped.clear();
            self.relative_lines = false;
            crate::scan::fastq(self, true, first_line)?;
            return scanned.map(|_| 0);
        }
        debug_assert!(scanned.is_ok_and(|end| end.consumed == self.end), "eof scans take all");
        let limit = unparsed.max_record_len;
        for span in &self.spans {
            if self.record_end(span) - (span.head.0 - 1) > limit {
                let position = self.position_of(span, span.head.0 - 1);
                return Err(Error::RecordTooLong { position, limit });
            }
        }
        Ok(self.len())
    }

    /// True for a batch from [`Reader::read_window`](crate::Reader::read_window) that still
    /// needs [`parse`](Self::parse).
    pub fn is_unparsed(&self) -> bool {
        self.unparsed.is_some()
    }

    /// Input line number of the batch's first byte (counted from the start of the input, once,
    /// for a batch parsed by a consumer).
    fn first_line(&self) -> u64 {
        *self.first_line.get_or_init(|| 1 + lines_between(self.text(), 0, self.start))
    }

    /// Input line number of a span's line `line`.
    #[inline]
    pub(crate) fn input_line(&self, line: u64) -> u64 {
        if self.relative_lines { self.first_line() + line - 1 } else { line }
    }

    /// Empties the batch, keeping its allocations.
    pub(crate) fn clear(&mut self) {
        self.unparsed = None;
        self.relative_lines = false;
        self.first_line = OnceLock::new();
        self.spans.clear();
        self.joined.clear();
        self.wrapped.clear();
        self.start = 0;
        self.end = 0;
    }

    /// Prepares the buffer to receive `carry` followed by up to `room` fresh bytes, arranged so
    /// that the fresh bytes start on a page boundary. Returns the index where fresh bytes go.
    ///
    /// The buffer starts with room for at most [`INITIAL_ROOM`] fresh bytes and grows as input
    /// arrives (see `Reader::fill`), so a large batch size costs memory only when the input
    /// fills it.
    pub(crate) fn reset_with(&mut self, carry: &[u8], room: usize) -> usize {
        self.mapped = None;
        let needed = carry.len() + room.min(INITIAL_ROOM) + 2 * PAGE;
        if self.buf.len() < needed {
            self.buf.resize(needed, 0);
        }
        let base = self.buf.as_ptr() as usize;
        // Smallest start >= 0 such that base + start + carry.len() is a multiple of PAGE.
        let start = (PAGE - (base + carry.len()) % PAGE) % PAGE;
        self.start = start;
        self.end = start + carry.len();
        self.buf[start..self.end].copy_from_slice(carry);
        self.end
    }

    /// The input lines of a wrapped FASTQ record.
    pub(crate) fn wrapped_lines(&self, span: &Span) -> &Wrapped {
        let i = self.wrapped.partition_point(|w| w.head < span.head.0);
        &self.wrapped[i]
    }

    /// End of the record's text in the buffer, line ending excluded.
    pub(crate) fn record_end(&self, span: &Span) -> usize {
        if span.wrapped {
            self.wrapped_lines(span).end
        } else if span.qual.1 > 0 {
            span.qual.1
        } else {
            span.seq.1
        }
    }

    /// Position of the start of a record, for error messages.
    pub(crate) fn position_of(&self, span: &Span, at: usize) -> Position {
        let record = (!span.continued)
            .then(|| String::from_utf8_lossy(id_of(&self.text()[span.head.0..span.head.1])));
        Position {
            source: Arc::clone(&self.source),
            line: self.input_line(span.line) + lines_between(self.text(), span.head.0, at),
            byte: self.byte_offset + (at - self.start) as u64,
            record: record.map(|r| r.into_owned()),
        }
    }

    /// An error about the record `span` at buffer index `at`.
    pub(crate) fn error_at(&self, span: &Span, at: usize, message: impl Into<String>) -> Error {
        Error::parse(self.position_of(span, at), message)
    }
}

/// The bytes a batch's offsets index: the mapped file if there is one, else the buffer.
#[inline(always)]
pub(crate) fn storage<'a>(buf: &'a [u8], mapped: Option<&'a memmap2::Mmap>) -> &'a [u8] {
    match mapped {
        Some(map) => map,
        None => buf,
    }
}

/// Buffer index of the `i`-th character of the text whose lines start at `from`, line
/// endings (`\n`, `\r\n`) skipped.
fn nth_char(buf: &[u8], from: usize, i: usize) -> usize {
    let (mut at, mut left) = (from, i);
    while let Some(newline) = memchr::memchr(b'\n', &buf[at..]).map(|n| at + n) {
        let line_end =
            if newline > at && buf[newline - 1] == b'\r' { newline - 1 } else { newline };
        if left < line_end - at {
            break;
        }
        left -= line_end - at;
        at = newline + 1;
    }
    at + left
}

/// Number of line breaks in `buf[from..to]`.
pub(crate) fn lines_between(buf: &[u8], from: usize, to: usize) -> u64 {
    memchr::memchr_iter(b'\n', &buf[from..to.max(from)]).count() as u64
}

/// The identifier: the header up to the first space or tab.
#[inline]
fn id_of(header: &[u8]) -> &[u8] {
    &header[..id_end(header)]
}

/// Index of the first space or tab of `header`, or its length. Inline, 16 bytes at a time:
/// headers are tens of bytes, where the start-up of a `memchr2` call was most of its cost
/// (1.7% of `qc`'s samples).
#[inline(always)]
fn id_end(header: &[u8]) -> usize {
    let mut at = 0;
    #[cfg(target_arch = "x86_64")]
    while at + 16 <= header.len() {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of the x86-64 baseline; the load reads `header[at..at + 16]`.
        let mask = unsafe {
            let block = _mm_loadu_si128(header.as_ptr().add(at) as *const __m128i);
            let space = _mm_cmpeq_epi8(block, _mm_set1_epi8(b' ' as i8));
            let tab = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\t' as i8));
            _mm_movemask_epi8(_mm_or_si128(space, tab))
        };
        if mask != 0 {
            return at + mask.trailing_zeros() as usize;
        }
        at += 16;
    }
    header[at..].iter().position(|&b| b == b' ' || b == b'\t').map_or(header.len(), |i| at + i)
}

/// One record, borrowed from its batch.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    batch: &'a Batch,
    span: &'a Span,
}

impl<'a> Record<'a> {
    /// The identifier: the header up to the first space or tab.
    pub fn id(&self) -> &'a [u8] {
        id_of(self.header())
    }

    /// The whole header line, without the `>`/`@` marker and line ending.
    pub fn header(&self) -> &'a [u8] {
        &self.batch.text()[self.span.head.0..self.span.head.1]
    }

    /// The description: the header after the identifier and its separator, if any.
    pub fn desc(&self) -> Option<&'a [u8]> {
        let header = self.header();
        let id_len = self.id().len();
        (id_len < header.len()).then(|| &header[id_len + 1..])
    }

    /// The sequence as stored in the input. For FASTA it may contain line breaks
    /// (`\n`, `\r\n`); for FASTQ it is exactly the sequence (the lines of a wrapped
    /// record put end to end). Case is preserved.
    pub fn seq_raw(&self) -> &'a [u8] {
        let text = if self.span.wrapped { &self.batch.joined } else { self.batch.text() };
        &text[self.span.seq.0..self.span.seq.1]
    }

    /// Number of sequence letters, line breaks excluded.
    pub fn seq_len(&self) -> usize {
        self.span.seq_len
    }

    /// The sequence without line breaks; borrowed when it has none.
    pub fn seq(&self) -> Cow<'a, [u8]> {
        let raw = self.seq_raw();
        if raw.len() == self.span.seq_len {
            Cow::Borrowed(raw)
        } else {
            let mut joined = Vec::with_capacity(self.span.seq_len);
            for line in self.seq_lines() {
                joined.extend_from_slice(line);
            }
            Cow::Owned(joined)
        }
    }

    /// The sequence lines (one for FASTQ), without line endings; blank lines are skipped.
    pub fn seq_lines(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.seq_raw()
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .filter(|line| !line.is_empty())
    }

    /// Quality string (Phred+33 text) for FASTQ records, on one line even when the input
    /// wrapped it; `None` for FASTA.
    pub fn qual(&self) -> Option<&'a [u8]> {
        let text = if self.span.wrapped { &self.batch.joined } else { self.batch.text() };
        match self.batch.format {
            Format::Fastq => Some(&text[self.span.qual.0..self.span.qual.1]),
            Format::Fasta => None,
        }
    }

    /// 1-based line number of the header line in the input (for a piece whose header was in
    /// an earlier batch, the line of the piece's first byte).
    pub fn line(&self) -> u64 {
        self.batch.input_line(self.span.line)
    }

    /// True for a whole record; false for a piece of a FASTA record longer than a batch (only
    /// with [`ReaderOptions::fasta_pieces`](crate::ReaderOptions::fasta_pieces)).
    pub fn is_whole(&self) -> bool {
        !self.span.continued && !self.span.open
    }

    /// False for a piece that continues a record begun in an earlier batch: its
    /// [`header`](Self::header) is empty.
    pub fn starts_record(&self) -> bool {
        !self.span.continued
    }

    /// False for a piece whose record goes on in the next batch.
    pub fn ends_record(&self) -> bool {
        !self.span.open
    }

    /// Sequence letters of the whole record up to the end of this piece: for a whole record
    /// (or the last piece of one) its full length.
    pub fn record_seq_len(&self) -> u64 {
        self.span.prior_letters + self.span.seq_len as u64
    }

    /// Offset of the header line in the decompressed input (of the piece's first byte, for a
    /// piece whose header was in an earlier batch).
    pub fn byte_offset(&self) -> u64 {
        let first = if self.span.continued { self.span.head.0 } else { self.span.head.0 - 1 };
        self.batch.byte_offset + (first - self.batch.start) as u64
    }

    /// Builds an error about this record at index `i` of its sequence (`Some`) or quality.
    pub(crate) fn error_in_seq(&self, i: usize, message: impl Into<String>) -> Error {
        let at = if self.span.wrapped {
            nth_char(self.batch.text(), self.batch.wrapped_lines(self.span).seq, i)
        } else {
            self.span.seq.0 + i
        };
        self.batch.error_at(self.span, at, message)
    }

    /// Builds an error about this record at index `i` of its quality string.
    pub(crate) fn error_in_qual(&self, i: usize, message: impl Into<String>) -> Error {
        let at = if self.span.wrapped {
            nth_char(self.batch.text(), self.batch.wrapped_lines(self.span).qual, i)
        } else {
            self.span.qual.0 + i
        };
        self.batch.error_at(self.span, at, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_ends_at_the_first_space_or_tab_at_every_place() {
        for len in 0..70 {
            let mut header = vec![b'x'; len];
            assert_eq!(id_end(&header), len);
            for at in 0..len {
                for sep in [b' ', b'\t'] {
                    header[at] = sep;
                    assert_eq!(id_end(&header), at, "{len} {at}");
                    if at + 1 < len {
                        header[at + 1] = b' ';
                        assert_eq!(id_end(&header), at, "{len} {at} twice");
                        header[at + 1] = b'x';
                    }
                    header[at] = b' ' | 0x80;
                    assert_eq!(id_end(&header), len, "{len} {at} high bit");
                    header[at] = b'x';
                }
            }
        }
    }
}
