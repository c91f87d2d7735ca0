//! Writing one haplotype: the base genome with the events of its lineage applied, streamed.

use std::io::{self, Write};

use super::base::reverse_complement;
use super::events::{CopySource, Event, EventKind};
use crate::genome::BaseSampler;
use crate::rng::{Geometric, Rng};

/// Bytes collected before each call to the underlying writer.
const WRITE_BUFFER: usize = 1 << 20;

/// Where sequence letters go: FASTA lines, or a scratch buffer for a region about to be
/// inverted or duplicated.
pub(crate) trait SeqSink {
    /// Appends `letters`.
    fn put(&mut self, letters: &[u8]) -> io::Result<()>;
}

impl SeqSink for Vec<u8> {
    fn put(&mut self, letters: &[u8]) -> io::Result<()> {
        self.extend_from_slice(letters);
        Ok(())
    }
}

/// FASTA records with wrapped sequence lines, written in blocks of [`WRITE_BUFFER`] bytes.
pub(crate) struct FastaLines<W: Write> {
    out: io::BufWriter<W>,
    width: usize,
    column: usize,
    bytes: u64,
}

impl<W: Write> FastaLines<W> {
    /// Lines of `width` letters (0: one line per record).
    pub(crate) fn new(out: W, width: usize) -> Self {
        FastaLines {
            out: io::BufWriter::with_capacity(WRITE_BUFFER, out),
            width,
            column: 0,
            bytes: 0,
        }
    }

    /// Starts a record named `name`, ending the previous one.
    pub(crate) fn start_record(&mut self, name: &str) -> io::Result<()> {
        self.end_record()?;
        self.write(b">")?;
        self.write(name.as_bytes())?;
        self.write(b"\n")
    }

    /// Ends the current record's last line, if it has letters.
    fn end_record(&mut self) -> io::Result<()> {
        if self.column > 0 {
            self.column = 0;
            self.write(b"\n")?;
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    /// Ends the last record, flushes, and returns the bytes written.
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        self.end_record()?;
        self.out.flush()?;
        Ok(self.bytes)
    }
}

impl<W: Write> SeqSink for FastaLines<W> {
    fn put(&mut self, mut letters: &[u8]) -> io::Result<()> {
        if self.width == 0 {
            self.column += letters.len();
            return self.write(letters);
        }
        while !letters.is_empty() {
            let take = (self.width - self.column).min(letters.len());
            self.write(&letters[..take])?;
            letters = &letters[take..];
            self.column += take;
            if self.column == self.width {
                self.column = 0;
                self.write(b"\n")?;
            }
        }
        Ok(())
    }
}

/// Applies the short events of one contig to the base letters, region by region.
pub(crate) struct ContigWriter<'a> {
    seq: &'a [u8],
    short: Vec<&'a Event>,
    next_short: usize,
    cursor: usize,
}

impl<'a> ContigWriter<'a> {
    /// A writer over `seq` with the carried short events `short` (sorted by start).
    pub(crate) fn new(seq: &'a [u8], short: Vec<&'a Event>) -> Self {
        ContigWriter { seq, short, next_short: 0, cursor: 0 }
    }

    /// Writes the letters from the cursor up to base `end` with short events applied, and
    /// moves the cursor there.
    pub(crate) fn put_until(&mut self, end: u64, sink: &mut impl SeqSink) -> io::Result<()> {
        let end = end as usize;
        while let Some(&event) = self.short.get(self.next_short) {
            let start = event.start as usize;
            if start >= end {
                break;
            }
            self.next_short += 1;
            sink.put(&self.seq[self.cursor..start])?;
            self.cursor = start;
            match &event.kind {
                EventKind::Snp { alt } => {
                    let lower = self.seq[start].is_ascii_lowercase();
                    sink.put(&[if lower { alt.to_ascii_lowercase() } else { *alt }])?;
                    self.cursor += 1;
                }
                EventKind::Ambiguity { code } => {
                    sink.put(&[*code])?;
                    self.cursor += 1;
                }
                EventKind::Insertion { bases } => sink.put(bases.as_bytes())?,
                EventKind::Deletion { length } => self.cursor += *length as usize,
                EventKind::NRun { length } => {
                    put_repeated(b'N', *length as usize, sink)?;
                    self.cursor += *length as usize;
                }
                other => unreachable!("structural event {} among short ones", other.name()),
            }
        }
        sink.put(&self.seq[self.cursor..end])?;
        self.cursor = end;
        Ok(())
    }

    /// Moves the cursor to `end`, dropping the short events before it (a deleted region).
    pub(crate) fn skip_until(&mut self, end: u64) {
        while self.short.get(self.next_short).is_some_and(|e| e.start < end) {
            self.next_short += 1;
        }
        self.cursor = end as usize;
    }
}

fn put_repeated(letter: u8, mut count: usize, sink: &mut impl SeqSink) -> io::Result<()> {
    let block = [letter; 4096];
    while count > 0 {
        let take = count.min(block.len());
        sink.put(&block[..take])?;
        count -= take;
    }
    Ok(())
}

/// The letters of a structural insertion, into `out` (cleared first): new bases drawn with
/// the base genome's G+C fraction, or a copy of the source region (reverse-complemented if
/// so drawn) with a `divergence` fraction of its `ACGT` letters substituted, case kept.
pub(crate) fn inserted_sequence(
    length: u32,
    seed: u64,
    source: Option<&CopySource>,
    contigs: &[super::BaseContig],
    gc_fraction: f64,
    out: &mut Vec<u8>,
) {
    out.clear();
    let mut rng = Rng::new(seed, 0);
    let Some(source) = source else {
        out.resize(length as usize, 0);
        BaseSampler::new(gc_fraction).fill(&mut rng, out);
        return;
    };
    let start = source.start as usize;
    out.extend_from_slice(&contigs[source.contig as usize].seq[start..start + length as usize]);
    if source.reverse {
        reverse_complement(out);
    }
    let gaps = Geometric::new(f64::from(source.divergence).min(0.75));
    let mut pos = 0u64;
    loop {
        pos = pos.saturating_add(gaps.sample(&mut rng));
        if pos >= out.len() as u64 {
            return;
        }
        let b = &mut out[pos as usize];
        let upper = b.to_ascii_uppercase();
        if let Some(i) = b"ACGT".iter().position(|&x| x == upper) {
            let new = b"ACGT"[(i + 1 + rng.below(3) as usize) % 4];
            *b = if b.is_ascii_lowercase() { new.to_ascii_lowercase() } else { new };
        }
        pos += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fasta_lines_wrap_across_puts_and_records() {
        let mut out = Vec::new();
        let mut lines = FastaLines::new(&mut out, 4);
        lines.start_record("a").unwrap();
        lines.put(b"ACG").unwrap();
        lines.put(b"TACGTA").unwrap();
        lines.start_record("b").unwrap();
        lines.put(b"ACGT").unwrap();
        lines.start_record("empty").unwrap();
        let bytes = lines.finish().unwrap();
        assert_eq!(out, b">a\nACGT\nACGT\nA\n>b\nACGT\n>empty\n");
        assert_eq!(bytes, out.len() as u64);
    }

    #[test]
    fn unwrapped_records_are_one_line() {
        let mut out = Vec::new();
        let mut lines = FastaLines::new(&mut out, 0);
        lines.start_record("a").unwrap();
        lines.put(b"ACG").unwrap();
        lines.put(b"T").unwrap();
        lines.finish().unwrap();
        assert_eq!(out, b">a\nACGT\n");
    }
}
