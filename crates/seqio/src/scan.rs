//! Record boundary scanners: they find where records start and end inside a filled batch
//! buffer, fill the batch's offset table, and check structure. They never copy data.
//!
//! Both scanners walk the buffer's line breaks with one SIMD iterator ([`Newlines`]), so each
//! byte is looked at once and line numbers come for free.

use std::sync::Arc;

use crate::batch::{Batch, Span};
use crate::error::{Error, Position, Result};
use crate::newlines::Newlines;

/// Where a scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// Buffer index just past the last complete record (or skipped blank line).
    pub(crate) consumed: usize,
    /// Lines consumed up to `consumed`.
    pub(crate) lines: u64,
}

/// Builds positions for errors found while scanning a batch.
struct Locator<'a> {
    source: &'a Arc<str>,
    byte_offset: u64,
    start: usize,
}

impl Locator<'_> {
    fn at(&self, line: u64, index: usize, record: Option<&[u8]>) -> Position {
        Position {
            source: Arc::clone(self.source),
            line,
            byte: self.byte_offset + (index - self.start) as u64,
            record: record.map(|header| {
                let id_end = memchr::memchr2(b' ', b'\t', header).unwrap_or(header.len());
                String::from_utf8_lossy(&header[..id_end]).into_owned()
            }),
        }
    }
}

/// End of the line that finishes at the `\n` at `newline`, without a trailing `\r`.
#[inline(always)]
fn trim_cr(buf: &[u8], line_start: usize, newline: usize) -> usize {
    if newline > line_start && buf[newline - 1] == b'\r' { newline - 1 } else { newline }
}

/// Scans FASTQ records in `batch.buf[batch.start..batch.end]`, appending their spans.
///
/// `eof` says no more input follows; the buffer then ends with a line break (the reader adds
/// one if the input lacked it). `first_line` is the line number of `batch.buf[batch.start]`.
pub(crate) fn fastq(batch: &mut Batch, eof: bool, first_line: u64) -> Result<ScanEnd> {
    let (start, end) = (batch.start, batch.end);
    let buf = &batch.buf[..end];
    let spans = &mut batch.spans;
    let locate = Locator { source: &batch.source, byte_offset: batch.byte_offset, start };
    let mut newlines = Newlines::new(buf, start);
    let mut pos = start;
    let mut line = first_line;
    while let Some(e1) = newlines.next() {
        if trim_cr(buf, pos, e1) == pos {
            // Blank line between or after records.
            pos = e1 + 1;
            line += 1;
            continue;
        }
        let header = &buf[pos + 1..trim_cr(buf, pos, e1)];
        if buf[pos] != b'@' {
            let found = buf[pos].escape_ascii();
            return Err(Error::parse(
                locate.at(line, pos, None),
                format!("expected '@' at the start of a FASTQ record, found '{found}'"),
            ));
        }
        let (Some(e2), Some(e3)) = (newlines.next(), newlines.next()) else {
            if eof {
                return Err(truncated(&locate, buf, pos, line, header));
            }
            break;
        };
        // The quality line is as long as the sequence line: look for its end right there, and
        // only confirm that the line holds no other break (one memchr) instead of walking it
        // break by break. Anything else takes the general path, which also reports errors.
        let qual_end = e3 + e2 - e1;
        let e4 = match buf.get(qual_end) {
            Some(b'\n') if memchr::memchr(b'\n', &buf[e3 + 1..qual_end]).is_none() => {
                newlines.restart_at(qual_end + 1);
                Some(qual_end)
            }
            _ => newlines.next(),
        };
        let Some(e4) = e4 else {
            if eof {
                return Err(truncated(&locate, buf, pos, line, header));
            }
            break;
        };
        let seq = (e1 + 1, trim_cr(buf, e1 + 1, e2));
        if buf[e2 + 1] != b'+' {
            return Err(Error::parse(
                locate.at(line + 2, e2 + 1, Some(header)),
                "expected a '+' line after the sequence line (multi-line FASTQ is not supported)",
            ));
        }
        let qual = (e3 + 1, trim_cr(buf, e3 + 1, e4));
        let (seq_len, qual_len) = (seq.1 - seq.0, qual.1 - qual.0);
        if seq_len != qual_len {
            return Err(Error::parse(
                locate.at(line + 3, qual.0, Some(header)),
                format!("quality length {qual_len} differs from sequence length {seq_len}"),
            ));
        }
        spans.push(Span { head: (pos + 1, header.len() + pos + 1), seq, qual, seq_len, line });
        pos = e4 + 1;
        line += 4;
    }
    Ok(ScanEnd { consumed: pos, lines: line - first_line })
}

/// The error for a record cut short by the end of the input.
fn truncated(locate: &Locator<'_>, buf: &[u8], pos: usize, line: u64, header: &[u8]) -> Error {
    let lines = memchr::memchr_iter(b'\n', &buf[pos..]).count();
    Error::parse(
        locate.at(line, pos, Some(header)),
        format!("truncated FASTQ record: {lines} of 4 lines before end of input"),
    )
}

/// Scans FASTA records in `batch.buf[batch.start..batch.end]`, appending their spans.
///
/// A record is complete when the next header (or the end of input) is seen, so without
/// `eof` the last record is left for the next batch.
pub(crate) fn fasta(batch: &mut Batch, eof: bool, first_line: u64) -> Result<ScanEnd> {
    let (start, end) = (batch.start, batch.end);
    let buf = &batch.buf[..end];
    let spans = &mut batch.spans;
    let locate = Locator { source: &batch.source, byte_offset: batch.byte_offset, start };
    let mut open: Option<Span> = None;
    let mut done = ScanEnd { consumed: start, lines: 0 };
    let mut line_start = start;
    let mut line = first_line;
    for newline in Newlines::new(buf, start) {
        let line_end = trim_cr(buf, line_start, newline);
        if buf[line_start] == b'>' {
            if let Some(span) = open.take() {
                spans.push(close_fasta(buf, span, line_start));
                done = ScanEnd { consumed: line_start, lines: line - first_line };
            }
            open = Some(Span {
                head: (line_start + 1, line_end),
                seq: (newline + 1, newline + 1),
                qual: (0, 0),
                seq_len: 0,
                line,
            });
        } else if let Some(span) = open.as_mut() {
            span.seq_len += line_end - line_start;
        } else if line_end > line_start {
            let found = buf[line_start].escape_ascii();
            return Err(Error::parse(
                locate.at(line, line_start, None),
                format!("expected '>' at the start of a FASTA record, found '{found}'"),
            ));
        } else {
            // Blank line before the first record.
            done = ScanEnd { consumed: newline + 1, lines: line + 1 - first_line };
        }
        line_start = newline + 1;
        line += 1;
    }
    if eof {
        if let Some(span) = open.take() {
            spans.push(close_fasta(buf, span, end));
        }
        done = ScanEnd { consumed: end, lines: line - first_line };
    }
    Ok(done)
}

/// Finishes a FASTA span whose sequence runs up to `next` (the next header or the end of the
/// data, which always follows a line break), dropping only that final `\n`.
///
/// Everything else stays in the raw span, so that [`crate::Record::seq_lines`] sees exactly the
/// lines the scanner counted (each minus one trailing `\r`, as `seq_len` counts them).
fn close_fasta(buf: &[u8], mut span: Span, next: usize) -> Span {
    span.seq.1 = if next > span.seq.0 && buf[next - 1] == b'\n' { next - 1 } else { next };
    span
}
