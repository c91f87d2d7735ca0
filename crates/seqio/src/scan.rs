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
        spans.push(Span {
            head: (pos + 1, header.len() + pos + 1),
            seq,
            qual,
            seq_len,
            line,
            ..Span::default()
        });
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
///
/// `continuing` is `Some` when the batch starts inside a record cut into pieces
/// ([`fasta_piece`]): its lines up to the next header are that record's, and `Some(true)`
/// says the first of them is the rest of a line (so even a `>` there is a letter).
pub(crate) fn fasta(
    batch: &mut Batch,
    eof: bool,
    first_line: u64,
    continuing: Option<bool>,
) -> Result<ScanEnd> {
    let (start, end) = (batch.start, batch.end);
    let buf = &batch.buf[..end];
    let spans = &mut batch.spans;
    let locate = Locator { source: &batch.source, byte_offset: batch.byte_offset, start };
    let mut open: Option<Span> = continuing.map(|_| Span {
        head: (start, start),
        seq: (start, start),
        line: first_line,
        continued: true,
        ..Span::default()
    });
    let mut mid_line = continuing == Some(true);
    let mut done = ScanEnd { consumed: start, lines: 0 };
    let mut line_start = start;
    let mut line = first_line;
    for newline in Newlines::new(buf, start) {
        let line_end = trim_cr(buf, line_start, newline);
        let starts_header = buf[line_start] == b'>' && !mid_line;
        mid_line = false;
        if starts_header {
            if let Some(span) = open.take() {
                spans.push(close_fasta(buf, span, line_start));
                done = ScanEnd { consumed: line_start, lines: line - first_line };
            }
            open = Some(Span {
                head: (line_start + 1, line_end),
                seq: (newline + 1, newline + 1),
                line,
                ..Span::default()
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

/// Cuts the FASTA record that fills a whole batch window into a piece: called when
/// [`fasta`] found no complete record and more input follows. The piece takes the header (if
/// the record starts here) and every sequence byte of the window, except a final `\r` (it may
/// pair with a `\n` in the next batch) and an unfinished last line that starts with `>` (the
/// next header). Returns where the piece ends and whether it ends inside a line; `None` when
/// not even the header line is complete (the window must grow instead).
pub(crate) fn fasta_piece(
    batch: &mut Batch,
    first_line: u64,
    continuing: Option<bool>,
) -> Option<(ScanEnd, bool)> {
    let (start, end) = (batch.start, batch.end);
    let buf = &batch.buf[..end];
    let (head, seq_start, mut line) = match continuing {
        Some(_) => ((start, start), start, first_line),
        None => {
            // Blank lines, then the header (the scan already checked the structure).
            let mut pos = start;
            let mut line = first_line;
            loop {
                let newline = pos + memchr::memchr(b'\n', &buf[pos..])?;
                let line_end = trim_cr(buf, pos, newline);
                if line_end > pos {
                    break ((pos + 1, line_end), newline + 1, line);
                }
                pos = newline + 1;
                line += 1;
            }
        }
    };
    let mut cut = end;
    // The unfinished last line starts after the window's last line break or, when the
    // sequence part of the window holds none, at `seq_start` itself, which is a line start
    // unless this batch resumes a line cut mid-way. Missing that second case once let a
    // header that began exactly at a piece's start be read as letters.
    let last_line_start = match memchr::memrchr(b'\n', &buf[seq_start..cut]) {
        Some(i) => Some(seq_start + i + 1),
        None if continuing != Some(true) => Some(seq_start),
        None => None,
    };
    match last_line_start {
        Some(i) if i < cut && buf[i] == b'>' => cut = i,
        _ => {}
    }
    if cut > seq_start && buf[cut - 1] == b'\r' {
        cut -= 1;
    }
    if cut <= seq_start {
        return None;
    }
    let mut letters = cut - seq_start;
    for newline in memchr::memchr_iter(b'\n', &buf[seq_start..cut]) {
        let at = seq_start + newline;
        letters -= 1 + usize::from(at > seq_start && buf[at - 1] == b'\r');
    }
    let ends_mid_line = buf[cut - 1] != b'\n';
    let seq_end = if ends_mid_line { cut } else { cut - 1 };
    if continuing.is_some() {
        line = first_line;
    }
    batch.spans.push(Span {
        head,
        seq: (seq_start, seq_end),
        seq_len: letters,
        line,
        continued: continuing.is_some(),
        open: true,
        ..Span::default()
    });
    let lines = memchr::memchr_iter(b'\n', &buf[start..cut]).count() as u64;
    Some((ScanEnd { consumed: cut, lines }, ends_mid_line))
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
