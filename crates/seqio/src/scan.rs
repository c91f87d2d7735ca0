//! Record boundary scanners: they find where records start and end inside a filled batch
//! buffer, fill the batch's offset table, and check structure. They never copy data.
//!
//! Both scanners walk the buffer's line breaks with one SIMD iterator ([`Newlines`]), so each
//! byte is looked at once and line numbers come for free.

use std::sync::Arc;

use crate::batch::{Batch, Span, Wrapped, storage};
use crate::error::{Error, Position, Result};
use crate::newlines::{Newlines, has_newline};

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
    let buf = &storage(&batch.buf, batch.mapped.as_deref())[..end];
    let spans = &mut batch.spans;
    let locate = Locator { source: &batch.source, byte_offset: batch.byte_offset, start };
    let mut wrapped = Side { joined: &mut batch.joined, lines: &mut batch.wrapped };
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
        // only confirm that the line holds no other break (one vector pass) instead of walking it
        // break by break. Anything else takes the general path, which also reports errors.
        let qual_end = e3 + e2 - e1;
        let e4 = match buf.get(qual_end) {
            Some(b'\n') if !has_newline(&buf[e3 + 1..qual_end]) => {
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
        let qual = (e3 + 1, trim_cr(buf, e3 + 1, e4));
        let (seq_len, qual_len) = (seq.1 - seq.0, qual.1 - qual.0);
        if buf[e2 + 1] != b'+' || qual_len < seq_len {
            // Not a four-line record: the sequence or the quality goes on over more lines.
            newlines.restart_at(e1 + 1);
            let record = Record { start: pos, header: (pos + 1, pos + 1 + header.len()), line };
            match wrapped_fastq(buf, &mut newlines, record, eof, &locate, &mut wrapped)? {
                Some((span, next, lines)) => {
                    spans.push(span);
                    pos = next;
                    line += lines;
                    continue;
                }
                None => break,
            }
        }
        check_plus_line(buf, (e2 + 1, trim_cr(buf, e2 + 1, e3)), header, &locate, line + 2)?;
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

/// Where a batch that starts at the record at `start` and reads input up to `limit` ends: at
/// the start of the first record that does not end by `limit` (its line break at `limit - 1`
/// or earlier), as [`fastq`] finds it. Looks for a four-line record among the few lines up to
/// `limit` and walks on from there; `None` when the lines there are not four-line records.
///
/// Only a guess on its own: a quality line that begins with `@`, two lines before a sequence
/// line that begins with `+`, looks like a record start too. The parse of the batch that ends
/// here confirms it (it must end exactly here).
pub(crate) fn fastq_boundary(buf: &[u8], start: usize, limit: usize) -> Option<usize> {
    /// Lines looked at before `limit`: a four-line record starts among any four.
    const LINES_BACK: usize = 8;
    /// Records walked past the one found before giving up (blank lines count).
    const STEPS: usize = 8;
    let mut search_end = limit.min(buf.len());
    for _ in 0..LINES_BACK {
        let line = memchr::memrchr(b'\n', &buf[start..search_end]).map_or(start, |i| start + i + 1);
        if let Some(mut end) = four_line_record_end(buf, line) {
            let mut at = line;
            for _ in 0..STEPS {
                if end > limit {
                    return Some(at);
                }
                // Blank lines go with the batch they end in, as in `fastq`.
                at = end;
                while let Some(blank_end) = blank_line_end(buf, at) {
                    if blank_end > limit {
                        return Some(at);
                    }
                    at = blank_end;
                }
                end = four_line_record_end(buf, at)?;
            }
            return None;
        }
        if line == start {
            return None;
        }
        search_end = line - 1;
    }
    None
}

/// End (past its last line break) of the four-line FASTQ record at `at`, if one is there.
fn four_line_record_end(buf: &[u8], at: usize) -> Option<usize> {
    if buf.get(at) != Some(&b'@') {
        return None;
    }
    let line_end = |from: usize| memchr::memchr(b'\n', buf.get(from..)?).map(|i| from + i);
    let e1 = line_end(at)?;
    let e2 = line_end(e1 + 1)?;
    if buf.get(e2 + 1) != Some(&b'+') {
        return None;
    }
    let e3 = line_end(e2 + 1)?;
    let qual_end = e3 + e2 - e1;
    (buf.get(qual_end) == Some(&b'\n') && !has_newline(&buf[e3 + 1..qual_end]))
        .then_some(qual_end + 1)
}

/// The first line at or after the line start `at` that is not blank.
pub(crate) fn skip_blank_lines(buf: &[u8], mut at: usize) -> usize {
    while let Some(end) = blank_line_end(buf, at) {
        at = end;
    }
    at
}

/// End of the blank line (empty, or a lone `\r`) at `at`, if it is one.
fn blank_line_end(buf: &[u8], at: usize) -> Option<usize> {
    match buf.get(at..at + 2) {
        Some([b'\n', _]) => Some(at + 1),
        Some(b"\r\n") => Some(at + 2),
        _ => (buf.get(at) == Some(&b'\n')).then_some(at + 1),
    }
}

/// Where the batch keeps wrapped FASTQ records.
struct Side<'a> {
    joined: &'a mut Vec<u8>,
    lines: &'a mut Vec<Wrapped>,
}

/// The start of a FASTQ record: its `@`, its header (without marker and line ending), and
/// the header's line number.
#[derive(Clone, Copy)]
struct Record {
    start: usize,
    header: (usize, usize),
    line: u64,
}

/// Checks the `+` line (`plus`: its text without line ending): bare, or repeating the title.
#[inline(always)]
fn check_plus_line(
    buf: &[u8],
    plus: (usize, usize),
    header: &[u8],
    locate: &Locator<'_>,
    line: u64,
) -> Result<()> {
    let title = &buf[plus.0 + 1..plus.1];
    if title.is_empty() || title == header {
        return Ok(());
    }
    Err(Error::parse(
        locate.at(line, plus.0, Some(header)),
        format!(
            "the '+' line repeats a title other than the '@' line's: '+{}'",
            String::from_utf8_lossy(title)
        ),
    ))
}

/// Reads a FASTQ record whose sequence or quality is wrapped over several lines, as the
/// format's definition allows: sequence lines up to the `+` line, then quality lines until the
/// quality is as long as the sequence (a quality line may begin with `@` or `+`). `newlines`
/// must stand at the line after the header. The lines are put end to end in `side.joined`.
///
/// Returns the span, the index after the record and the lines it took; `None` when the
/// record goes on past the data and more input follows.
#[cold]
#[inline(never)]
fn wrapped_fastq(
    buf: &[u8],
    newlines: &mut Newlines<'_>,
    record: Record,
    eof: bool,
    locate: &Locator<'_>,
    side: &mut Side<'_>,
) -> Result<Option<(Span, usize, u64)>> {
    let header = &buf[record.header.0..record.header.1];
    let joined_before = side.joined.len();
    let mut at = record.header.1 + usize::from(buf[record.header.1] == b'\r') + 1;
    let mut line = record.line + 1;
    let seq_at = at;
    // Sequence lines, up to the '+' line.
    let plus = loop {
        let Some(newline) = newlines.next() else {
            side.joined.truncate(joined_before);
            if !eof {
                return Ok(None);
            }
            return Err(Error::parse(
                locate.at(record.line, record.start, Some(header)),
                "truncated FASTQ record: no '+' line before end of input",
            ));
        };
        let line_end = trim_cr(buf, at, newline);
        if line_end > at && buf[at] == b'+' {
            break (at, line_end, newline);
        }
        if line_end > at && buf[at] == b'@' {
            side.joined.truncate(joined_before);
            return Err(Error::parse(
                locate.at(line, at, Some(header)),
                "expected a '+' line after the sequence, found a line starting with '@'",
            ));
        }
        side.joined.extend_from_slice(&buf[at..line_end]);
        at = newline + 1;
        line += 1;
    };
    let seq = (joined_before, side.joined.len());
    let seq_len = seq.1 - seq.0;
    if let Err(err) = check_plus_line(buf, (plus.0, plus.1), header, locate, line) {
        side.joined.truncate(joined_before);
        return Err(err);
    }
    at = plus.2 + 1;
    line += 1;
    let (qual_at, qual_line) = (at, line);
    // A quality of the wrong length is reported at its first line, with the length it has
    // before the line that breaks it (a short quality followed by the next record's header
    // reads as a quality line that overshoots).
    let mismatch = |qual_len: usize, overshoot: Option<usize>| {
        let mut message =
            format!("quality length {qual_len} differs from sequence length {seq_len}");
        if let Some(total) = overshoot {
            message.push_str(&format!(" (its next line would make it {total})"));
        }
        Error::parse(locate.at(qual_line, qual_at, Some(header)), message)
    };
    // Quality lines (at least one, which is empty for an empty sequence), until the quality is
    // as long as the sequence.
    let qual_start = side.joined.len();
    loop {
        let Some(newline) = newlines.next() else {
            let qual_len = side.joined.len() - qual_start;
            side.joined.truncate(joined_before);
            if !eof {
                return Ok(None);
            }
            if at == qual_at {
                return Err(Error::parse(
                    locate.at(record.line, record.start, Some(header)),
                    "truncated FASTQ record: no quality line before end of input",
                ));
            }
            return Err(mismatch(qual_len, None));
        };
        let line_end = trim_cr(buf, at, newline);
        let before = side.joined.len() - qual_start;
        side.joined.extend_from_slice(&buf[at..line_end]);
        let qual_len = side.joined.len() - qual_start;
        if qual_len > seq_len || (qual_len < seq_len && line_end == at) {
            side.joined.truncate(joined_before);
            return Err(if at == qual_at || line_end == at {
                mismatch(qual_len, None)
            } else {
                mismatch(before, Some(qual_len))
            });
        }
        at = newline + 1;
        line += 1;
        if qual_len == seq_len {
            side.lines.push(Wrapped {
                head: record.header.0,
                seq: seq_at,
                qual: qual_at,
                end: line_end,
            });
            let span = Span {
                head: record.header,
                seq,
                qual: (qual_start, side.joined.len()),
                seq_len,
                line: record.line,
                wrapped: true,
                ..Span::default()
            };
            return Ok(Some((span, at, line - record.line)));
        }
    }
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
    let buf = &storage(&batch.buf, batch.mapped.as_deref())[..end];
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
    let buf = &storage(&batch.buf, batch.mapped.as_deref())[..end];
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
