//! The batched reader: the producer side of a single-producer / many-consumer pipeline.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{Advice, Mmap};

use crate::batch::{Batch, Format, Unparsed};
use crate::compression::{self, Compression, MAGIC_LEN};
use crate::error::{Error, Position, Result};
use crate::scan;
use crate::threaded::ThreadedRead;
use crate::validate::Validation;

/// Settings of a [`Reader`].
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Bytes of fresh input read into each batch (default 1 MiB). A batch holds the complete
    /// records in that window; the partial record at its end moves to the next batch.
    pub batch_size: usize,
    /// Longest record accepted, in bytes of input text (default 4 GiB). A longer record is a
    /// [`Error::RecordTooLong`], not an out-of-memory kill.
    pub max_record_len: usize,
    /// Expected format; `None` detects it from the first non-blank character.
    pub format: Option<Format>,
    /// Content checks applied by [`Reader::read_batch`] (structural checks always apply).
    /// Parallel consumers may instead call [`Batch::validate`] themselves.
    pub validation: Validation,
    /// Threads for decompression: with more than one, BGZF blocks are inflated in parallel.
    /// Any compressed input is decoded on a thread of its own, apart from the parser.
    pub decode_threads: usize,
    /// Hand out a FASTA record longer than a batch in pieces (default false): each piece is a
    /// [`Record`](crate::Record) of its own (see [`Record::is_whole`](crate::Record::is_whole),
    /// [`Record::ends_record`](crate::Record::ends_record)), so memory stays about
    /// `batch_size` whatever the record's length. For consumers that can add up pieces, such
    /// as statistics. `max_record_len` still applies to the whole record. FASTQ records are
    /// always whole.
    pub fasta_pieces: bool,
    /// Map a regular, uncompressed file into memory and parse it in place instead of copying
    /// it with read(2) (default true; only [`Reader::from_path`] maps). Pipes, standard input,
    /// compressed files and files that do not end with a line break are read as before.
    ///
    /// A mapped file that another process truncates while it is read would make the pages past
    /// its new end fault (SIGBUS). The reader checks the file's length before each batch and
    /// stops with an error when it shrank, which closes most of that window but not all of it
    /// (a truncation between the check and the scan, or while consumers still hold batches):
    /// turn this off for files that may be rewritten in place during a run.
    pub mmap: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            batch_size: 1 << 20,
            max_record_len: 4 << 30,
            format: None,
            validation: Validation::new(),
            decode_threads: 1,
            fasta_pieces: false,
            mmap: true,
        }
    }
}

/// Counts the raw (possibly compressed) bytes read, for progress reports.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A regular file mapped into memory: batches point into the map instead of copying it.
struct MappedFile {
    map: Arc<Mmap>,
    /// Kept to check the file's length before each batch.
    file: File,
    /// Offset of the first byte not yet handed out in a batch (the carry, in place).
    pos: usize,
    /// End of the bytes taken into windows so far: `pos..seen` is the carry, and a window
    /// takes `batch_size` bytes after it, as reading does.
    seen: usize,
}

impl MappedFile {
    /// Maps `file` if it is a non-empty regular file, uncompressed and ending with a line
    /// break; `None` (read it instead) otherwise, or when mapping fails.
    fn open(file: &File) -> Option<MappedFile> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() == 0 || usize::try_from(meta.len()).is_err() {
            return None;
        }
        // SAFETY: the map is only read, and only while the file is at least as long as the map
        // (`Reader::fill` checks before each batch); a truncation racing with that check is
        // the documented risk of `ReaderOptions::mmap`.
        let map = unsafe { Mmap::map(file) }.ok()?;
        let compression = Compression::detect(&map[..MAGIC_LEN.min(map.len())]);
        if compression != Compression::None || map.last() != Some(&b'\n') {
            return None;
        }
        // Read ahead aggressively and drop pages behind: the parse walks the file once.
        let _ = map.advise(Advice::Sequential);
        let file = file.try_clone().ok()?;
        Some(MappedFile { map: Arc::new(map), file, pos: 0, seen: 0 })
    }

    /// Fails when the file is now shorter than the map: reading the pages past its end would
    /// fault.
    fn check_length(&self, source: &Arc<str>) -> Result<()> {
        let len = self.map.len();
        let now = self.file.metadata().map_err(|e| Error::io(source, e))?.len();
        if now < len as u64 {
            let message = format!("the file shrank from {len} to {now} bytes while being read");
            return Err(Error::io(source, io::Error::other(message)));
        }
        Ok(())
    }

    /// Drops the page table entries of every page a batch touched once the batch comes back:
    /// the pages stay in the page cache, but the process's resident set no longer grows with
    /// the file.
    ///
    /// Edge pages are dropped too, although the neighbouring batch may still be reading them:
    /// on a read-only file mapping that only costs it a fault. Keeping them is what let the
    /// resident set grow: the page cache holds large files in 2 MiB folios, a fault maps a
    /// whole folio with one page-table entry, and a kept edge page was faulted in by the next
    /// batch after the last release that covered its folio, leaving 2 MiB resident for good
    /// (measured: 59 MB peak RSS on 2 GB after a fresh write, 150-250 MB once the file had
    /// been read through the page cache in large folios). For the same reason the range is
    /// widened to whole 2 MiB blocks (`seqflow_mapped::release`; with 64 KiB blocks peak RSS
    /// still grew with the file: qc 58 MB on 0.14 GB, 72-84 MB on 2.15 GB).
    fn release(&self, batch: &Batch) {
        let same = batch.mapped.as_ref().is_some_and(|m| Arc::ptr_eq(m, &self.map));
        if same {
            seqflow_mapped::release(&self.map, batch.start..batch.end);
        }
    }
}

/// Page size for `madvise` ranges (4 KiB on every platform this runs on; a larger real page
/// size only makes the advice round to fewer pages, never to a wrong range).
const PAGE_SIZE: usize = 4096;

/// A FASTA record cut into pieces, between two batches.
#[derive(Debug, Clone, Copy)]
struct OpenPiece {
    /// The cut fell inside a line.
    mid_line: bool,
    /// Sequence letters handed out so far.
    letters: u64,
    /// Input bytes of the record handed out so far, from its `>` on.
    bytes: u64,
    /// Where the record's header is, for a [`Error::RecordTooLong`].
    line: u64,
    byte: u64,
}

/// Reads FASTA or FASTQ, plain or compressed, into [`Batch`]es.
///
/// The reader only splits records: it finds line breaks, records offsets and checks
/// structure. Everything else (statistics, validation of letters) belongs to consumers.
///
/// ```
/// use seqflow_seqio::{Batch, Format, Reader, ReaderOptions};
/// let fasta = b">chr1 first\nACGT\nAC\n>chr2\nGG\n";
/// let mut reader = Reader::new(&fasta[..], "genome.fa", ReaderOptions::default())?;
/// let mut batch = Batch::default();
/// assert_eq!(reader.read_batch(&mut batch)?, 2);
/// assert_eq!(batch.format(), Format::Fasta);
/// let chr1 = batch.get(0);
/// assert_eq!((chr1.id(), chr1.desc()), (&b"chr1"[..], Some(&b"first"[..])));
/// assert_eq!(&*chr1.seq(), b"ACGTAC");
/// assert_eq!(reader.read_batch(&mut batch)?, 0);
/// # Ok::<(), seqflow_seqio::Error>(())
/// ```
pub struct Reader {
    input: Box<dyn Read + Send>,
    source: Arc<str>,
    compression: Compression,
    options: ReaderOptions,
    format: Option<Format>,
    /// The incomplete record left at the end of the previous batch.
    carry: Vec<u8>,
    /// Decompressed offset of `carry[0]`.
    carry_offset: u64,
    /// Line number of `carry[0]`.
    carry_line: u64,
    batches: u64,
    /// The FASTA record being handed out in pieces, if the carry starts inside one.
    piece: Option<OpenPiece>,
    /// Whether the first non-blank line was checked against a given format.
    marker_checked: bool,
    eof: bool,
    finished: bool,
    raw_bytes: Arc<AtomicU64>,
    /// The mapped file, when the input is read in place.
    mapped: Option<MappedFile>,
    /// `carry_line` is out of date: windows were handed out unparsed since it was set.
    lines_unknown: bool,
    /// [`Reader::read_window`] found a place where it could not tell where a record starts,
    /// and reads on with [`Reader::read_batch`].
    windows_off: bool,
}

impl Reader {
    /// Opens `path`, or standard input for `-`.
    ///
    /// # Errors
    /// The file cannot be opened, or its compression is not supported.
    pub fn from_path(path: impl AsRef<Path>, options: ReaderOptions) -> Result<Reader> {
        let path = path.as_ref();
        let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
        if path.as_os_str() == "-" {
            return Reader::new(io::stdin(), "-", options);
        }
        let file = File::open(path).map_err(|e| Error::io(&name, e))?;
        if options.mmap {
            if let Some(mapped) = MappedFile::open(&file) {
                let mut reader = Reader::new(io::empty(), &name, options)?;
                reader.mapped = Some(mapped);
                return Ok(reader);
            }
        }
        Reader::new(file, &name, options)
    }

    /// True when the input is a file mapped into memory (see [`ReaderOptions::mmap`]).
    pub fn is_mapped(&self) -> bool {
        self.mapped.is_some()
    }

    /// Reads from any byte stream; `name` is used in error messages.
    ///
    /// # Errors
    /// The stream cannot be read, or its compression is not supported.
    pub fn new(
        mut input: impl Read + Send + 'static,
        name: &str,
        options: ReaderOptions,
    ) -> Result<Reader> {
        let source: Arc<str> = Arc::from(name);
        let raw_bytes = Arc::new(AtomicU64::new(0));
        let mut magic = Vec::with_capacity(MAGIC_LEN);
        (&mut input)
            .take(MAGIC_LEN as u64)
            .read_to_end(&mut magic)
            .map_err(|e| Error::io(&source, e))?;
        let compression = Compression::detect(&magic);
        let raw = Counted { inner: io::Cursor::new(magic).chain(input), count: raw_bytes.clone() };
        let input: Box<dyn Read + Send> = match compression {
            Compression::None => Box::new(raw),
            Compression::Bzip2 | Compression::Xz => {
                return Err(Error::UnsupportedCompression {
                    source_name: source,
                    method: compression.name(),
                });
            }
            Compression::Bgzf if options.decode_threads > 1 => {
                Box::new(crate::bgzf::ParallelReader::new(raw, options.decode_threads))
            }
            _ => {
                let decoder = compression::decoder(compression::buffered(raw), compression)
                    .map_err(|e| Error::io(&source, e))?;
                Box::new(ThreadedRead::spawn(decoder))
            }
        };
        Ok(Reader {
            input,
            source,
            compression,
            format: options.format,
            options,
            carry: Vec::new(),
            carry_offset: 0,
            carry_line: 1,
            batches: 0,
            piece: None,
            marker_checked: false,
            eof: false,
            finished: false,
            raw_bytes,
            mapped: None,
            lines_unknown: false,
            windows_off: false,
        })
    }

    /// Compression detected on the input.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Format of the input, once the first batch has been read (or if it was given).
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Display name of the input.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Raw bytes (before decompression) read so far; grows as batches are read.
    pub fn raw_bytes_read(&self) -> u64 {
        self.raw_bytes.load(Ordering::Relaxed)
    }

    /// A shared counter of raw bytes read, for a progress display on another thread.
    pub fn raw_bytes_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.raw_bytes)
    }

    /// Clears `batch` and fills it with the next complete records.
    ///
    /// Returns the number of records read; 0 means the input is exhausted.
    ///
    /// # Errors
    /// I/O errors, malformed records (with line, byte and record name), records longer than
    /// [`ReaderOptions::max_record_len`], and failed [`ReaderOptions::validation`] checks.
    pub fn read_batch(&mut self, batch: &mut Batch) -> Result<usize> {
        if let Some(mapped) = &self.mapped {
            mapped.release(batch);
        }
        batch.clear();
        if self.finished {
            return Ok(0);
        }
        if self.lines_unknown {
            if let Some(mapped) = &self.mapped {
                self.carry_line = 1 + crate::batch::lines_between(&mapped.map, 0, mapped.pos);
            }
            self.lines_unknown = false;
        }
        batch.source = Arc::clone(&self.source);
        batch.byte_offset = self.carry_offset;
        batch.index = self.batches;
        let mut filled = match &self.mapped {
            Some(mapped) => {
                batch.mapped = Some(Arc::clone(&mapped.map));
                (batch.start, batch.end) = (mapped.pos, mapped.seen);
                mapped.seen
            }
            None => batch.reset_with(&self.carry, self.options.batch_size),
        };
        let mut limit = filled + self.options.batch_size;
        let mut cut_mid_line = None;
        let end = loop {
            filled = self.fill(batch, filled, limit)?;
            batch.end = filled;
            let Some(format) = self.detect_format(batch)? else {
                if self.eof {
                    self.finished = true;
                    return Ok(0);
                }
                // Only blank text so far: the format is still unknown; read on.
                limit = self.grow(batch)?;
                continue;
            };
            batch.format = format;
            let continuing = self.piece.map(|p| p.mid_line);
            let end = match format {
                Format::Fastq => scan::fastq(batch, self.eof, self.carry_line)?,
                Format::Fasta => scan::fasta(batch, self.eof, self.carry_line, continuing)?,
            };
            if !batch.spans.is_empty() || self.eof {
                break end;
            }
            if self.options.fasta_pieces && format == Format::Fasta {
                if let Some((end, mid_line)) = scan::fasta_piece(batch, self.carry_line, continuing)
                {
                    cut_mid_line = Some(mid_line);
                    break end;
                }
            }
            limit = self.grow(batch)?;
        };
        self.check_record_lengths(batch, end.consumed, cut_mid_line)?;
        match &mut self.mapped {
            Some(mapped) => mapped.pos = end.consumed,
            None => {
                self.carry.clear();
                self.carry.extend_from_slice(&batch.buf[end.consumed..batch.end]);
            }
        }
        self.carry_offset += (end.consumed - batch.start) as u64;
        self.carry_line += end.lines;
        batch.end = end.consumed;
        self.batches += 1;
        if self.eof {
            self.finished = true;
        }
        batch.validate(&self.options.validation)?;
        Ok(batch.len())
    }

    /// Like [`read_batch`](Self::read_batch), but may leave finding the records to the
    /// consumer, which calls [`Batch::parse`] on its own thread: then the parse, the larger
    /// part of reading, runs in parallel instead of on the reader's thread. Returns false when
    /// the input is exhausted.
    ///
    /// Only a mapped, four-line FASTQ file read without [`ReaderOptions::validation`] is
    /// handed out in windows, and never its first batch (which settles the format). The reader
    /// ends each window where the [`read_batch`](Self::read_batch) batch would end: at the
    /// first record that does not end inside the batch size, recognised as a four-line record
    /// (a `@` line, one line, a `+` line, a line as long as the second). Where no such record
    /// is found near the window's end (wrapped records, a record longer than the window) it
    /// reads on with `read_batch` for the rest of the input. Each window's parse ends exactly at
    /// the window's end or fails, so a misjudged start cannot go unnoticed (see
    /// [`Batch::parse`]).
    ///
    /// ```
    /// use std::io::Write;
    /// use seqflow_seqio::{Batch, Reader, ReaderOptions};
    /// let mut file = tempfile::NamedTempFile::new().unwrap();
    /// for i in 0..1000 {
    ///     writeln!(file, "@read{i}\nACGTACGT\n+\nIIIIIIII").unwrap();
    /// }
    /// let options = ReaderOptions { batch_size: 4096, ..ReaderOptions::default() };
    /// let mut reader = Reader::from_path(file.path(), options)?;
    /// let (mut batch, mut reads) = (Batch::default(), 0);
    /// while reader.read_window(&mut batch)? {
    ///     reads += batch.parse()?; // on a worker thread, in a pipeline
    /// }
    /// assert_eq!(reads, 1000);
    /// # Ok::<(), seqflow_seqio::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`read_batch`](Self::read_batch) for the batches it parses itself; for a window, only
    /// I/O errors (the file shrank).
    pub fn read_window(&mut self, batch: &mut Batch) -> Result<bool> {
        let windowed = self.mapped.is_some()
            && !self.windows_off
            && !self.finished
            && self.batches > 0
            && self.format == Some(Format::Fastq)
            && self.piece.is_none()
            && !self.options.validation.is_active();
        if !windowed {
            return Ok(self.read_batch(batch)? > 0);
        }
        let mapped = self.mapped.as_mut().expect("checked");
        mapped.release(batch);
        batch.clear();
        mapped.check_length(&self.source)?;
        let (start, len) = (mapped.pos, mapped.map.len());
        if scan::skip_blank_lines(&mapped.map, start) >= len {
            self.finished = true; // blank lines only are left
            return Ok(false);
        }
        let limit = mapped.seen.saturating_add(self.options.batch_size);
        let end = if limit >= len {
            len
        } else {
            // A window must hold a record: before one that does not fit in the batch size,
            // `read_batch` widens its window instead (so do the rest of the input with it).
            match scan::fastq_boundary(&mapped.map, start, limit) {
                Some(end) if end > scan::skip_blank_lines(&mapped.map, start) => end,
                _ => {
                    self.windows_off = true;
                    return Ok(self.read_batch(batch)? > 0);
                }
            }
        };
        let seen = limit.min(len);
        self.raw_bytes.fetch_add((seen - mapped.seen) as u64, Ordering::Relaxed);
        (mapped.seen, mapped.pos) = (seen, end);
        batch.mapped = Some(Arc::clone(&mapped.map));
        (batch.start, batch.end) = (start, end);
        batch.source = Arc::clone(&self.source);
        batch.byte_offset = self.carry_offset;
        batch.index = self.batches;
        batch.format = Format::Fastq;
        batch.unparsed = Some(Unparsed { max_record_len: self.options.max_record_len });
        self.carry_offset += (end - start) as u64;
        self.batches += 1;
        self.lines_unknown = true;
        self.finished = end == len;
        self.eof = self.finished;
        Ok(true)
    }

    /// Enforces `max_record_len` on every record of the batch (whole records, and the pieces
    /// of one so far), and keeps track of a record cut into pieces: `cut_mid_line` is `Some`
    /// when the batch's last span is a piece that goes on in the next batch.
    fn check_record_lengths(
        &mut self,
        batch: &mut Batch,
        consumed: usize,
        cut_mid_line: Option<bool>,
    ) -> Result<()> {
        let limit = self.options.max_record_len as u64;
        let continued = self.piece.take();
        if let (Some(piece), Some(first)) = (continued, batch.spans.first_mut()) {
            first.prior_letters = piece.letters;
        }
        for (i, span) in batch.spans.iter().enumerate() {
            // A record's length runs from its marker to the end of its last line, line break
            // excluded; an open piece counts up to the end of its sequence so far.
            let (piece_start, earlier) = match continued.filter(|_| i == 0) {
                Some(piece) => (batch.start, piece),
                None => {
                    // Line and byte of the header's marker, without building a `Position`
                    // (its record name is an allocation per record; errors build it below).
                    let marker = span.head.0 - 1;
                    let here = OpenPiece {
                        mid_line: false,
                        letters: 0,
                        bytes: 0,
                        line: span.line,
                        byte: batch.byte_offset + (marker - batch.start) as u64,
                    };
                    (span.head.0 - 1, here)
                }
            };
            let record_end = batch.record_end(span);
            let bytes = earlier.bytes + (record_end - piece_start) as u64;
            if bytes > limit {
                let position = Position {
                    source: Arc::clone(&self.source),
                    line: earlier.line,
                    byte: earlier.byte,
                    record: (!span.continued)
                        .then(|| String::from_utf8_lossy(batch.get(i).id()).into_owned()),
                };
                return Err(Error::RecordTooLong { position, limit: self.options.max_record_len });
            }
            if span.open {
                self.piece = Some(OpenPiece {
                    mid_line: cut_mid_line.unwrap_or(false),
                    letters: span.prior_letters + span.seq_len as u64,
                    bytes: earlier.bytes + (consumed - piece_start) as u64,
                    ..earlier
                });
            }
        }
        Ok(())
    }

    /// Reads input into `batch.buf[filled..limit]` until the window is full or the input
    /// ends; at the end, makes sure the data ends with a line break.
    ///
    /// The buffer grows (doubling) only as input arrives, so a window larger than the input
    /// never costs its full size.
    fn fill(&mut self, batch: &mut Batch, mut filled: usize, limit: usize) -> Result<usize> {
        if let Some(mapped) = &mut self.mapped {
            mapped.check_length(&self.source)?;
            let len = mapped.map.len();
            let end = limit.clamp(filled, len);
            // Map the window's pages in one call rather than one fault per few pages.
            let from = filled / PAGE_SIZE * PAGE_SIZE;
            if end > from {
                let _ = mapped.map.advise_range(Advice::PopulateRead, from, end - from);
            }
            self.raw_bytes.fetch_add((end - filled) as u64, Ordering::Relaxed);
            mapped.seen = end;
            self.eof = end == len;
            return Ok(end);
        }
        while filled < limit && !self.eof {
            let room_end = batch.buf.len() - 1; // keep room for a final '\n'
            if filled >= room_end {
                let new_len = batch.buf.len().saturating_mul(2).min(limit + 1).max(filled + 2);
                batch.buf.resize(new_len, 0);
                continue;
            }
            match self.input.read(&mut batch.buf[filled..limit.min(room_end)]) {
                Ok(0) => self.eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&self.source, e)),
            }
        }
        if self.eof && filled > batch.start && batch.buf[filled - 1] != b'\n' {
            batch.buf[filled] = b'\n';
            filled += 1;
        }
        Ok(filled)
    }

    /// Decides the format from the first non-blank byte; `None` while all of it is blank.
    fn detect_format(&mut self, batch: &Batch) -> Result<Option<Format>> {
        if let Some(format) = self.format {
            // A given format is still checked against the first record's marker.
            // A batch that continues a record cut into pieces starts with its letters.
            if !self.marker_checked && self.piece.is_none() {
                self.check_marker(batch, format)?;
            }
            return Ok(Some(format));
        }
        let data = batch.data();
        let Some(first) = data.iter().position(|b| !b.is_ascii_whitespace()) else {
            return Ok(None);
        };
        let format = match data[first] {
            b'>' => Format::Fasta,
            b'@' => Format::Fastq,
            other => {
                return Err(Error::parse(
                    self.position(batch, first),
                    format!(
                        "not FASTA or FASTQ: first character is '{}', expected '>' or '@'",
                        other.escape_ascii()
                    ),
                ));
            }
        };
        self.format = Some(format);
        self.marker_checked = true;
        Ok(Some(format))
    }

    /// Checks that the first non-blank line starts with the given format's marker. Blank means
    /// what it means to the scanners: empty, or a lone `\r`.
    fn check_marker(&mut self, batch: &Batch, format: Format) -> Result<()> {
        let data = batch.data();
        let marker = if format == Format::Fasta { b'>' } else { b'@' };
        let mut line_start = 0;
        for newline in memchr::memchr_iter(b'\n', data) {
            let line = &data[line_start..newline];
            if !matches!(line, b"" | b"\r") {
                self.marker_checked = true;
                if line[0] != marker {
                    return Err(Error::parse(
                        self.position(batch, line_start),
                        format!(
                            "expected {} record starting with '{}'",
                            format.name(),
                            marker as char
                        ),
                    ));
                }
                return Ok(());
            }
            line_start = newline + 1;
        }
        Ok(())
    }

    /// Doubles the batch window when not even one record fits in it; returns the new limit.
    fn grow(&mut self, batch: &mut Batch) -> Result<usize> {
        let data_len = batch.end - batch.start;
        if data_len >= self.options.max_record_len {
            return Err(Error::RecordTooLong {
                position: self.position(batch, 0),
                limit: self.options.max_record_len,
            });
        }
        if self.mapped.is_some() {
            // The whole file is there: only the window widens (doubling, up to the limit).
            let cap = batch.start.saturating_add(self.options.max_record_len).saturating_add(1);
            return Ok(batch.end.saturating_add(data_len.max(1)).min(cap));
        }
        let cap = batch.start.saturating_add(self.options.max_record_len).saturating_add(2);
        let new_len = batch.end.saturating_mul(2).min(cap).max(batch.end + 2);
        if batch.buf.len() < new_len {
            batch.buf.resize(new_len, 0);
        }
        Ok(new_len - 1)
    }

    fn position(&self, batch: &Batch, data_index: usize) -> Position {
        let before = &batch.data()[..data_index];
        Position {
            source: Arc::clone(&self.source),
            line: self.carry_line + memchr::memchr_iter(b'\n', before).count() as u64,
            byte: self.carry_offset + data_index as u64,
            record: None,
        }
    }
}
