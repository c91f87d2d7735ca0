//! [`Genome`]: every contig in one 2-bit packed sequence, with an N-run table and a contig table.

use std::collections::HashSet;
use std::path::Path;

use seqflow_seqio::{Batch, Format, Reader, ReaderOptions};

use crate::error::{Error, Result};
use crate::kmer::MAX_K;

/// Letter classes: a 2-bit base code, a non-seed letter (N or IUPAC), or unknown.
const INVALID: u8 = 0xFF;
const AMBIGUOUS: u8 = 0xFE;

/// Maps an input byte to its base code (0..=3), [`AMBIGUOUS`] or [`INVALID`]; case is ignored.
const LETTER_CLASS: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        let upper = b'A' + i as u8;
        let class = match upper {
            b'A' => 0,
            b'C' => 1,
            b'G' => 2,
            b'T' => 3,
            b'N' | b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' => AMBIGUOUS,
            _ => INVALID,
        };
        table[upper as usize] = class;
        table[(upper + 32) as usize] = class;
        i += 1;
    }
    table
};

/// The code [`Genome::codes_into`] gives bases of N runs (any value above 3 is "no base").
pub const N_CODE: u8 = 4;

/// Upper-case letter of each 2-bit base code.
pub const BASES: [u8; 4] = *b"ACGT";

/// One contig: its name and where it lies in the concatenated sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contig {
    /// The record identifier (the header up to the first whitespace).
    pub name: Box<str>,
    /// Global position of the contig's first base.
    pub start: u64,
    /// Number of bases, N runs included.
    pub len: u64,
}

impl Contig {
    /// Global position one past the contig's last base.
    pub fn end(&self) -> u64 {
        self.start + self.len
    }
}

/// A maximal run of non-ACGT letters (N or IUPAC codes) inside one contig, in global coordinates.
///
/// Runs never span two contigs: a run that ends a contig and one that starts the next are kept
/// apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NRun {
    /// Global position of the run's first base.
    pub start: u64,
    /// Number of bases in the run (at least 1).
    pub len: u64,
}

impl NRun {
    /// Global position one past the run's last base.
    pub fn end(&self) -> u64 {
        self.start + self.len
    }
}

/// All contigs of an assembly in one 2-bit packed sequence (A=0, C=1, G=2, T=3, four bases per
/// byte, first base in the low bits), a table of N runs (anything that is not ACGT, including
/// IUPAC codes) and a contig table.
///
/// Positions are global: contig `i` occupies `contigs()[i].start .. contigs()[i].end()`.
/// Case is ignored (soft-masking is not kept).
///
/// # Memory
/// `ceil(len / 4)` bytes of packed sequence, plus 16 bytes per N run, plus
/// `32 + name length` bytes per contig (see [`Genome::heap_bytes`]): about 0.25 byte per base,
/// so 250 MB for 1 Gbp and 3 GB for 12 Gbp. While building, the builder also keeps one copy of
/// every contig name for duplicate detection.
///
/// ```
/// use seqflow_genome::GenomeBuilder;
/// let mut builder = GenomeBuilder::new();
/// builder.push_contig("chr1", b"ACGTNNac")?;
/// builder.push_contig("chr2", b"TTGCA")?;
/// let genome = builder.build();
/// assert_eq!(genome.len(), 13);
/// assert_eq!(genome.contig_of(8), Some(1));
/// assert_eq!(genome.base(4), None); // inside the N run
/// assert_eq!(genome.base(6), Some(0)); // 'a' is A
/// assert_eq!(genome.kmer_at(0, 4), Some(0b00_01_10_11)); // ACGT
/// assert_eq!(genome.kmer_at(2, 4), None); // crosses the N run
/// assert_eq!(genome.kmer_at(6, 4), None); // crosses the contig end
/// # Ok::<(), seqflow_genome::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Genome {
    packed: Vec<u8>,
    len: u64,
    n_runs: Vec<NRun>,
    n_bases: u64,
    contigs: Vec<Contig>,
}

/// The 1-based input line of the `position`-th (1-based) sequence letter of `record`.
fn line_of_letter(record: &seqflow_seqio::Record<'_>, position: u64) -> u64 {
    let mut letters = 0u64;
    for (i, line) in record.seq_raw().split(|&b| b == b'\n').enumerate() {
        letters += line.strip_suffix(b"\r").unwrap_or(line).len() as u64;
        if letters >= position {
            return record.line() + 1 + i as u64;
        }
    }
    record.line()
}

impl Genome {
    /// Reads every record of a FASTA file (plain, gzip, BGZF or zstd; detected by magic bytes)
    /// with [`seqflow_seqio::Reader`]. `-` reads standard input.
    ///
    /// An empty file gives an empty genome.
    ///
    /// # Errors
    /// The file cannot be opened or is malformed ([`Error::Read`], which names the file and
    /// line), or a record is rejected ([`Error::Fasta`]: the file, the record's line, and the
    /// contig and position of an unknown letter or a duplicate name).
    pub fn from_fasta(path: impl AsRef<Path>) -> Result<Genome> {
        Genome::from_reader(Reader::from_path(path, Genome::reader_options())?)
    }

    /// The reader options [`Genome::from_fasta`] uses (FASTA only), for callers that open the
    /// input themselves and use [`Genome::from_reader`].
    pub fn reader_options() -> ReaderOptions {
        ReaderOptions { format: Some(Format::Fasta), ..ReaderOptions::default() }
    }

    /// Reads every record of `reader` (open it with [`Genome::reader_options`]); errors name
    /// the reader's source.
    ///
    /// # Errors
    /// As [`Genome::from_fasta`].
    pub fn from_reader(mut reader: Reader) -> Result<Genome> {
        let mut batch = Batch::default();
        let mut builder = GenomeBuilder::new();
        while reader.read_batch(&mut batch)? > 0 {
            for record in batch.records() {
                let name = String::from_utf8_lossy(record.id());
                builder.push_contig(&name, &record.seq()).map_err(|e| {
                    let line = match &e {
                        Error::UnknownLetter { position, .. } => line_of_letter(&record, *position),
                        _ => record.line(),
                    };
                    Error::Fasta { path: reader.source().to_owned(), line, cause: Box::new(e) }
                })?;
            }
        }
        Ok(builder.build())
    }

    /// Total number of bases of all contigs, N runs included.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the genome has no bases (no contigs, or only empty ones).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of ACGT bases (the length minus the bases in N runs).
    pub fn acgt_len(&self) -> u64 {
        self.len - self.n_bases
    }

    /// The contig table, in input order.
    pub fn contigs(&self) -> &[Contig] {
        &self.contigs
    }

    /// The N-run table, sorted by start; runs do not overlap and never span contigs.
    pub fn n_runs(&self) -> &[NRun] {
        &self.n_runs
    }

    /// The global range of contig `i`.
    ///
    /// # Panics
    /// If there is no contig `i`.
    pub fn contig_range(&self, i: usize) -> std::ops::Range<u64> {
        let c = &self.contigs[i];
        c.start..c.end()
    }

    /// Index of the contig holding global position `pos` (binary search), or `None` past the end.
    /// Empty contigs hold no position.
    pub fn contig_of(&self, pos: u64) -> Option<usize> {
        // The last contig starting at or before `pos`; an empty contig shares its start with the
        // next one and so sorts before it.
        let i = self.contigs.partition_point(|c| c.start <= pos).checked_sub(1)?;
        (pos < self.contigs[i].end()).then_some(i)
    }

    /// The contig and the 0-based position within it of global position `pos`.
    pub fn to_local(&self, pos: u64) -> Option<(usize, u64)> {
        let i = self.contig_of(pos)?;
        Some((i, pos - self.contigs[i].start))
    }

    /// Whether `pos` lies inside an N run (also `false` past the end).
    pub fn is_n(&self, pos: u64) -> bool {
        let i = self.n_runs.partition_point(|r| r.start <= pos);
        i > 0 && pos < self.n_runs[i - 1].end()
    }

    /// The 2-bit code (A=0, C=1, G=2, T=3) of the base at `pos`; `None` inside an N run or past
    /// the end.
    pub fn base(&self, pos: u64) -> Option<u8> {
        if pos >= self.len || self.is_n(pos) {
            return None;
        }
        Some(self.packed_base(pos))
    }

    /// Loads the packed byte holding `pos` and discards it: called for several scattered
    /// positions before they are decoded, their cache misses overlap instead of coming one
    /// after another. Does nothing past the end.
    pub fn warm(&self, pos: u64) {
        std::hint::black_box(self.packed.get((pos / 4) as usize).copied());
    }

    /// The code stored at `pos`, without checking N runs (N positions are stored as A).
    fn packed_base(&self, pos: u64) -> u8 {
        (self.packed[(pos / 4) as usize] >> ((pos % 4) * 2)) & 3
    }

    /// The k-mer starting at `pos`, 2 bits per base, first base in the highest bits (so numeric
    /// order is lexicographic order). `None` if `pos + k` passes the end of the contig holding
    /// `pos`, if the k-mer overlaps an N run, or if `k` is 0.
    ///
    /// # Panics
    /// If `k > 32`.
    pub fn kmer_at(&self, pos: u64, k: usize) -> Option<u64> {
        assert!(k <= MAX_K, "k = {k} exceeds the maximum of {MAX_K}");
        if k == 0 {
            return None;
        }
        let contig = &self.contigs[self.contig_of(pos)?];
        let end = pos + k as u64;
        if end > contig.end() {
            return None;
        }
        // The first run ending after `pos` must start at or after `end`.
        let i = self.n_runs.partition_point(|r| r.end() <= pos);
        if self.n_runs.get(i).is_some_and(|r| r.start < end) {
            return None;
        }
        let mut kmer = 0u64;
        for p in pos..end {
            kmer = (kmer << 2) | u64::from(self.packed_base(p));
        }
        Some(kmer)
    }

    /// The canonical k-mer at `pos`: the smaller of the k-mer and its reverse complement (see
    /// [`canonical`](crate::canonical)). `None` as for [`Genome::kmer_at`].
    ///
    /// # Panics
    /// If `k > 32`.
    pub fn canonical_kmer_at(&self, pos: u64, k: usize) -> Option<u64> {
        self.kmer_at(pos, k).map(|kmer| crate::kmer::canonical(kmer, k))
    }

    /// Every valid k-mer starting in `range`, as `(global position, k-mer)` in position order:
    /// the same values as [`Genome::kmer_at`] returns `Some` for, computed with a rolling window
    /// (one step per base instead of k).
    ///
    /// ```
    /// use seqflow_genome::GenomeBuilder;
    /// let mut builder = GenomeBuilder::new();
    /// builder.push_contig("a", b"ACGNTT")?.push_contig("b", b"GA")?;
    /// let genome = builder.build();
    /// let kmers: Vec<(u64, u64)> = genome.kmers(0..genome.len(), 2).collect();
    /// assert_eq!(kmers, [(0, 0b00_01), (1, 0b01_10), (4, 0b11_11), (6, 0b10_00)]);
    /// # Ok::<(), seqflow_genome::Error>(())
    /// ```
    ///
    /// # Panics
    /// If `k` is 0 or greater than 32, or the range reaches past the end.
    pub fn kmers(&self, range: std::ops::Range<u64>, k: usize) -> Kmers<'_> {
        assert!((1..=MAX_K).contains(&k), "k = {k} must be in 1..=32");
        assert!(
            range.start <= range.end && range.end <= self.len,
            "range {range:?} past the end ({})",
            self.len
        );
        let k = k as u64;
        Kmers {
            genome: self,
            k,
            mask: if k == 32 { u64::MAX } else { (1 << (2 * k)) - 1 },
            pos: range.start,
            scan_end: if range.is_empty() {
                range.start
            } else {
                (range.end + k - 1).min(self.len)
            },
            valid: 0,
            kmer: 0,
            reverse: 0,
            top_shift: 2 * (k as u32 - 1),
            contig: self.contigs.partition_point(|c| c.end() <= range.start),
            run: self.n_runs.partition_point(|r| r.end() <= range.start),
            segment_end: range.start,
        }
    }

    /// The bases of `range` as upper-case letters, `N` for every base of an N run (the original
    /// IUPAC letter is not kept).
    ///
    /// # Panics
    /// If the range reaches past the end.
    pub fn decode(&self, range: std::ops::Range<u64>) -> Vec<u8> {
        assert!(range.end <= self.len, "range {range:?} past the end ({})", self.len);
        let mut out: Vec<u8> = range.clone().map(|p| BASES[self.packed_base(p) as usize]).collect();
        let first = self.n_runs.partition_point(|r| r.end() <= range.start);
        for run in self.n_runs[first..].iter().take_while(|r| r.start < range.end) {
            let from = run.start.max(range.start) - range.start;
            let to = run.end().min(range.end) - range.start;
            out[from as usize..to as usize].fill(b'N');
        }
        out
    }

    /// Appends the 2-bit codes (A=0, C=1, G=2, T=3) of `range` to `out`, with [`N_CODE`] for
    /// every base of an N run: the form alignment code wants (one byte per base, no letters).
    ///
    /// ```
    /// use seqflow_genome::{GenomeBuilder, N_CODE};
    /// let mut builder = GenomeBuilder::new();
    /// builder.push_contig("a", b"ACNT")?;
    /// let genome = builder.build();
    /// let mut codes = Vec::new();
    /// genome.codes_into(1..4, &mut codes);
    /// assert_eq!(codes, [1, N_CODE, 3]);
    /// # Ok::<(), seqflow_genome::Error>(())
    /// ```
    ///
    /// # Panics
    /// If the range reaches past the end.
    pub fn codes_into(&self, range: std::ops::Range<u64>, out: &mut Vec<u8>) {
        assert!(range.end <= self.len, "range {range:?} past the end ({})", self.len);
        let base = out.len();
        self.unpack_into(range.clone(), out);
        let first = self.n_runs.partition_point(|r| r.end() <= range.start);
        for run in self.n_runs[first..].iter().take_while(|r| r.start < range.end) {
            let from = (run.start.max(range.start) - range.start) as usize;
            let to = (run.end().min(range.end) - range.start) as usize;
            out[base + from..base + to].fill(N_CODE);
        }
    }

    /// Appends the 2-bit codes of `range` (N runs not applied): single bases up to a byte
    /// boundary, then four bases per packed byte.
    fn unpack_into(&self, range: std::ops::Range<u64>, out: &mut Vec<u8>) {
        let mut pos = range.start;
        while pos < range.end && pos % 4 != 0 {
            out.push(self.packed_base(pos));
            pos += 1;
        }
        let whole = (range.end - pos) / 4;
        let bytes = &self.packed[(pos / 4) as usize..(pos / 4 + whole) as usize];
        out.reserve(bytes.len() * 4 + 3);
        for &byte in bytes {
            out.extend_from_slice(&[byte & 3, (byte >> 2) & 3, (byte >> 4) & 3, byte >> 6]);
        }
        pos += whole * 4;
        while pos < range.end {
            out.push(self.packed_base(pos));
            pos += 1;
        }
    }

    /// Heap bytes held: `ceil(len / 4)` packed bytes + 16 per N run + (32 + name length) per
    /// contig, counting allocated capacity.
    pub fn heap_bytes(&self) -> usize {
        self.packed.capacity()
            + self.n_runs.capacity() * size_of::<NRun>()
            + self.contigs.capacity() * size_of::<Contig>()
            + self.contigs.iter().map(|c| c.name.len()).sum::<usize>()
    }
}

/// Iterator over the valid k-mers of a range of a [`Genome`]; see [`Genome::kmers`].
#[derive(Debug, Clone)]
pub struct Kmers<'a> {
    genome: &'a Genome,
    k: u64,
    mask: u64,
    /// Next base to read.
    pos: u64,
    /// One past the last base to read.
    scan_end: u64,
    /// Consecutive ACGT bases of the current contig ending at `pos - 1`.
    valid: u64,
    kmer: u64,
    /// The reverse complement of `kmer`, rolled along with it.
    reverse: u64,
    /// Where a base's complement enters `reverse`: 2(k − 1).
    top_shift: u32,
    /// First contig ending after `pos`.
    contig: usize,
    /// First N run ending after `pos`.
    run: usize,
    /// Bases before this position are ACGT of the current contig and inside the scan: no
    /// contig or N-run check until `pos` reaches it.
    segment_end: u64,
}

impl Kmers<'_> {
    /// The reverse complement of the k-mer `next` returned last (rolled base by base, cheaper
    /// than [`crate::revcomp`]); meaningless before the first.
    ///
    /// ```
    /// use seqflow_genome::{GenomeBuilder, revcomp};
    /// let mut builder = GenomeBuilder::new();
    /// builder.push_contig("a", b"ACGTTGCA")?;
    /// let genome = builder.build();
    /// let mut kmers = genome.kmers(0..genome.len(), 3);
    /// while let Some((_, kmer)) = kmers.next() {
    ///     assert_eq!(kmers.last_reverse(), revcomp(kmer, 3));
    /// }
    /// # Ok::<(), seqflow_genome::Error>(())
    /// ```
    #[inline]
    pub fn last_reverse(&self) -> u64 {
        self.reverse
    }

    /// Moves past contig starts and N runs at `pos` and sets how far the bases ahead need no
    /// such check; `false` once the scan is over.
    #[inline(never)]
    fn enter_segment(&mut self) -> bool {
        let genome = self.genome;
        while self.pos < self.scan_end {
            while genome.contigs[self.contig].end() <= self.pos {
                self.contig += 1;
                self.valid = 0;
            }
            if let Some(run) = genome.n_runs.get(self.run).filter(|r| r.start <= self.pos) {
                self.pos = run.end();
                self.run += 1;
                self.valid = 0;
                continue;
            }
            let next_run = genome.n_runs.get(self.run).map_or(u64::MAX, |r| r.start);
            self.segment_end = genome.contigs[self.contig].end().min(next_run).min(self.scan_end);
            return true;
        }
        false
    }
}

impl Iterator for Kmers<'_> {
    type Item = (u64, u64);

    // Inlined into the caller's loop: the fields then stay in registers across k-mers.
    #[inline]
    fn next(&mut self) -> Option<(u64, u64)> {
        loop {
            if self.pos >= self.segment_end && !self.enter_segment() {
                return None;
            }
            let base = u64::from(self.genome.packed_base(self.pos));
            self.kmer = ((self.kmer << 2) | base) & self.mask;
            self.reverse = (self.reverse >> 2) | ((3 ^ base) << self.top_shift);
            self.pos += 1;
            self.valid += 1;
            if self.valid >= self.k {
                return Some((self.pos - self.k, self.kmer));
            }
        }
    }
}

/// Builds a [`Genome`] one contig at a time.
#[derive(Debug, Default)]
pub struct GenomeBuilder {
    genome: Genome,
    names: HashSet<Box<str>>,
}

impl GenomeBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a contig. `seq` is the whole sequence without line breaks; letters are ACGT (any
    /// case), N or IUPAC ambiguity codes (kept as N runs). Empty sequences are allowed.
    ///
    /// On error the builder is left as it was before the call.
    ///
    /// # Errors
    /// [`Error::DuplicateContig`] if the name was pushed before; [`Error::UnknownLetter`] naming
    /// the contig and the 1-based position of the first letter that is not ACGT, N or IUPAC.
    pub fn push_contig(&mut self, name: &str, seq: &[u8]) -> Result<&mut Self> {
        if self.names.contains(name) {
            return Err(Error::DuplicateContig { name: name.to_owned() });
        }
        if let Some(i) = seq.iter().position(|&b| LETTER_CLASS[b as usize] == INVALID) {
            return Err(Error::UnknownLetter {
                contig: name.to_owned(),
                position: i as u64 + 1,
                letter: char::from(seq[i]),
            });
        }
        self.names.insert(name.into());
        let genome = &mut self.genome;
        let start = genome.len;
        let end = start + seq.len() as u64;
        genome.packed.resize(end.div_ceil(4) as usize, 0);
        let mut run: Option<NRun> = None;
        for (pos, &b) in (start..).zip(seq) {
            let class = LETTER_CLASS[b as usize];
            if class == AMBIGUOUS {
                match &mut run {
                    Some(r) => r.len += 1,
                    None => run = Some(NRun { start: pos, len: 1 }),
                }
            } else {
                if let Some(r) = run.take() {
                    genome.n_runs.push(r);
                }
                genome.packed[(pos / 4) as usize] |= class << ((pos % 4) * 2);
            }
        }
        genome.n_runs.extend(run);
        genome.n_bases = genome
            .n_runs
            .iter()
            .rev()
            .take_while(|r| r.start >= start)
            .fold(genome.n_bases, |n, r| n + r.len);
        genome.len = end;
        genome.contigs.push(Contig { name: name.into(), start, len: seq.len() as u64 });
        Ok(self)
    }

    /// Number of contigs pushed so far.
    pub fn contig_count(&self) -> usize {
        self.genome.contigs.len()
    }

    /// Finishes the genome, trimming spare capacity.
    pub fn build(self) -> Genome {
        let mut genome = self.genome;
        genome.packed.shrink_to_fit();
        genome.n_runs.shrink_to_fit();
        genome.contigs.shrink_to_fit();
        genome
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::kmer::{canonical, revcomp};
    use proptest::prelude::*;

    fn genome(contigs: &[(&str, &[u8])]) -> Genome {
        let mut builder = GenomeBuilder::new();
        for (name, seq) in contigs {
            builder.push_contig(name, seq).unwrap();
        }
        builder.build()
    }

    /// What the genome should decode to: upper case, IUPAC codes as N.
    fn expected(seq: &[u8]) -> Vec<u8> {
        seq.iter()
            .map(|&b| match b.to_ascii_uppercase() {
                b @ (b'A' | b'C' | b'G' | b'T') => b,
                _ => b'N',
            })
            .collect()
    }

    fn naive_kmer(seq: &[u8], pos: usize, k: usize) -> Option<u64> {
        if k == 0 || pos + k > seq.len() {
            return None;
        }
        seq[pos..pos + k].iter().try_fold(0u64, |acc, &b| {
            let code = BASES.iter().position(|&x| x == b.to_ascii_uppercase())?;
            Some((acc << 2) | code as u64)
        })
    }

    fn naive_revcomp(kmer: u64, k: usize) -> u64 {
        (0..k).fold(0, |acc, i| (acc << 2) | (3 - ((kmer >> (2 * i)) & 3)))
    }

    /// Sequences of ACGT in both cases, with N and IUPAC runs.
    fn seq_strategy(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                8 => proptest::sample::select(b"ACGTacgt".to_vec()).prop_map(|b| vec![b]),
                1 => (proptest::sample::select(b"NnRYKMSWBDHV".to_vec()), 1..20usize)
                    .prop_map(|(b, n)| vec![b; n]),
            ],
            0..max_len,
        )
        .prop_map(|parts| parts.concat())
    }

    fn contigs_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
        proptest::collection::vec(seq_strategy(120), 0..6)
    }

    fn build(seqs: &[Vec<u8>]) -> Genome {
        let mut builder = GenomeBuilder::new();
        for (i, seq) in seqs.iter().enumerate() {
            builder.push_contig(&format!("c{i}"), seq).unwrap();
        }
        builder.build()
    }

    proptest! {
        #[test]
        fn round_trip(seqs in contigs_strategy()) {
            let g = build(&seqs);
            let joined: Vec<u8> = seqs.concat();
            prop_assert_eq!(g.len(), joined.len() as u64);
            prop_assert_eq!(g.decode(0..g.len()), expected(&joined));
            for (i, seq) in seqs.iter().enumerate() {
                prop_assert_eq!(g.decode(g.contig_range(i)), expected(seq));
            }
            for (pos, &b) in joined.iter().enumerate() {
                let want = BASES.iter().position(|&x| x == b.to_ascii_uppercase()).map(|c| c as u8);
                prop_assert_eq!(g.base(pos as u64), want);
            }
            let n = joined.iter().filter(|&&b| !b"ACGTacgt".contains(&b)).count() as u64;
            prop_assert_eq!(g.acgt_len(), g.len() - n);
            // Runs: sorted, disjoint, non-empty, within one contig.
            for pair in g.n_runs().windows(2) {
                prop_assert!(pair[0].end() <= pair[1].start);
            }
            for run in g.n_runs() {
                prop_assert!(run.len > 0);
                prop_assert_eq!(g.contig_of(run.start), g.contig_of(run.end() - 1));
            }
        }

        #[test]
        fn codes_of_any_range_are_the_bases_one_by_one(
            seqs in contigs_strategy(),
            from in 0..400u64,
            len in 0..200u64,
            prefix in 0..3usize,
        ) {
            let g = build(&seqs);
            let start = from.min(g.len());
            let end = (start + len).min(g.len());
            let mut codes = vec![9u8; prefix];
            g.codes_into(start..end, &mut codes);
            let want: Vec<u8> = std::iter::repeat_n(9u8, prefix)
                .chain((start..end).map(|p| g.base(p).unwrap_or(N_CODE)))
                .collect();
            prop_assert_eq!(codes, want);
        }

        #[test]
        fn contig_of_every_position(lens in proptest::collection::vec(0..70usize, 0..8)) {
            let seqs: Vec<Vec<u8>> = lens.iter().map(|&n| vec![b'A'; n]).collect();
            let g = build(&seqs);
            let mut pos = 0u64;
            for (i, &n) in lens.iter().enumerate() {
                for local in 0..n as u64 {
                    prop_assert_eq!(g.contig_of(pos), Some(i));
                    prop_assert_eq!(g.to_local(pos), Some((i, local)));
                    pos += 1;
                }
            }
            prop_assert_eq!(pos, g.len());
            prop_assert_eq!(g.contig_of(pos), None);
            prop_assert_eq!(g.contig_of(u64::MAX), None);
        }

        #[test]
        fn kmer_at_matches_naive(seqs in contigs_strategy(), k in 1..=32usize) {
            let g = build(&seqs);
            for (c, seq) in g.contigs().iter().zip(&seqs) {
                for local in 0..seq.len() {
                    let pos = c.start + local as u64;
                    let want = naive_kmer(seq, local, k);
                    prop_assert_eq!(g.kmer_at(pos, k), want, "pos {} k {}", pos, k);
                    prop_assert_eq!(g.canonical_kmer_at(pos, k), want.map(|x| canonical(x, k)));
                }
            }
            prop_assert_eq!(g.kmer_at(g.len(), k), None);
        }

        #[test]
        fn kmers_match_kmer_at(seqs in contigs_strategy(), k in 1..=32usize, a in 0..1000u64, b in 0..1000u64) {
            let g = build(&seqs);
            let (a, b) = (a.min(b).min(g.len()), a.max(b).min(g.len()));
            let want: Vec<(u64, u64)> =
                (a..b).filter_map(|p| g.kmer_at(p, k).map(|x| (p, x))).collect();
            prop_assert_eq!(g.kmers(a..b, k).collect::<Vec<_>>(), want);
            let mut kmers = g.kmers(a..b, k);
            while let Some((_, kmer)) = kmers.next() {
                prop_assert_eq!(kmers.last_reverse(), revcomp(kmer, k));
            }
        }

        #[test]
        fn canonical_is_min_of_revcomp(kmer in any::<u64>(), k in 1..=32usize) {
            let kmer = if k == 32 { kmer } else { kmer & ((1u64 << (2 * k)) - 1) };
            let rc = revcomp(kmer, k);
            prop_assert_eq!(rc, naive_revcomp(kmer, k));
            prop_assert_eq!(revcomp(rc, k), kmer);
            prop_assert_eq!(canonical(kmer, k), kmer.min(rc));
            prop_assert_eq!(canonical(rc, k), canonical(kmer, k));
        }
    }

    #[test]
    fn boundaries_with_empty_contigs() {
        let g = genome(&[
            ("e0", b""),
            ("a", b"ACG"),
            ("e1", b""),
            ("e2", b""),
            ("b", b"T"),
            ("e3", b""),
        ]);
        assert_eq!(g.len(), 4);
        assert_eq!(g.contig_of(0), Some(1));
        assert_eq!(g.contig_of(2), Some(1));
        assert_eq!(g.contig_of(3), Some(4));
        assert_eq!(g.contig_of(4), None);
        assert_eq!(g.kmer_at(2, 2), None, "k-mer across contigs a and b");
        assert_eq!(g.kmer_at(0, 3), Some(0b00_01_10));
    }

    #[test]
    fn empty_genome() {
        let g = GenomeBuilder::new().build();
        assert!(g.is_empty());
        assert_eq!(g.contig_of(0), None);
        assert_eq!(g.base(0), None);
        assert_eq!(g.kmer_at(0, 1), None);
        assert_eq!(g.decode(0..0), b"");
        assert_eq!(g.heap_bytes(), 0);
    }

    #[test]
    fn all_n_contig() {
        let g = genome(&[("gap", b"NNNNnnnnRY")]);
        assert_eq!(g.len(), 10);
        assert_eq!(g.acgt_len(), 0);
        assert_eq!(g.n_runs(), &[NRun { start: 0, len: 10 }]);
        assert!((0..10).all(|p| g.base(p).is_none() && g.kmer_at(p, 1).is_none()));
    }

    #[test]
    fn contig_shorter_than_k() {
        let g = genome(&[("short", b"ACGTA"), ("next", b"CCCCCCCC")]);
        assert!((0..5).all(|p| g.kmer_at(p, 6).is_none()));
        assert_eq!(g.kmer_at(0, 5), Some(0b00_01_10_11_00));
        assert_eq!(g.kmer_at(5, 6), Some(0b01_01_01_01_01_01));
    }

    #[test]
    fn n_runs_do_not_span_contigs() {
        let g = genome(&[("a", b"ACNN"), ("b", b"NNAC")]);
        assert_eq!(g.n_runs(), &[NRun { start: 2, len: 2 }, NRun { start: 4, len: 2 }]);
    }

    #[test]
    fn duplicate_names_are_an_error() {
        let mut builder = GenomeBuilder::new();
        builder.push_contig("chr1", b"ACGT").unwrap();
        let err = builder.push_contig("chr1", b"GG").unwrap_err();
        assert!(matches!(&err, Error::DuplicateContig { name } if name == "chr1"));
        assert_eq!(err.to_string(), "duplicate contig name 'chr1'");
        // The builder is unchanged.
        assert_eq!(builder.contig_count(), 1);
        assert_eq!(builder.build().len(), 4);
    }

    #[test]
    fn unknown_letters_name_contig_and_position() {
        for (seq, position, letter) in
            [(&b"ACGT*A"[..], 5, '*'), (b"1", 1, '1'), (b"acgtn-", 6, '-'), (b"ACU", 3, 'U')]
        {
            let mut builder = GenomeBuilder::new();
            builder.push_contig("ok", b"ACGT").unwrap();
            let err = builder.push_contig("chr7", seq).unwrap_err();
            match &err {
                Error::UnknownLetter { contig, position: p, letter: l } => {
                    assert_eq!((contig.as_str(), *p, *l), ("chr7", position, letter));
                }
                other => panic!("unexpected {other:?}"),
            }
            let msg = err.to_string();
            assert!(
                msg.contains("'chr7'") && msg.contains(&format!("position {position}")),
                "{msg}"
            );
            assert_eq!(builder.contig_count(), 1);
            // The failed contig's name stays free.
            builder.push_contig("chr7", b"AC").unwrap();
            assert_eq!(builder.build().len(), 6);
        }
    }

    #[test]
    fn packed_memory_is_a_quarter_byte_per_base() {
        let g = genome(&[("a", &[b'A'; 1000][..]), ("b", &[b'C'; 1001][..])]);
        assert_eq!(g.packed.len(), 2001usize.div_ceil(4));
        let names = 2;
        assert_eq!(g.heap_bytes(), 501 + 2 * size_of::<Contig>() + names);
        assert_eq!(size_of::<Contig>(), 32);
        assert_eq!(size_of::<NRun>(), 16);
    }

    fn write_fasta(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn from_fasta_plain_gzip_zstd() {
        use std::io::Write;
        let text = b">chr1 desc\nACGT\nacgN\n>chr2\nNNNN\nTT\n>empty\n";
        let dir = tempfile::tempdir().unwrap();
        let plain = write_fasta(&dir, "g.fa", text);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text).unwrap();
        let gz = write_fasta(&dir, "g.fa.gz", &gz.finish().unwrap());
        let zst = write_fasta(&dir, "g.fa.zst", &zstd::encode_all(&text[..], 3).unwrap());
        for path in [plain, gz, zst] {
            let g = Genome::from_fasta(&path).unwrap();
            let names: Vec<&str> = g.contigs().iter().map(|c| &*c.name).collect();
            assert_eq!(names, ["chr1", "chr2", "empty"]);
            assert_eq!(g.decode(0..g.len()), b"ACGTACGNNNNNTT");
            assert_eq!(g.n_runs(), &[NRun { start: 7, len: 1 }, NRun { start: 8, len: 4 }]);
        }
    }

    #[test]
    fn from_fasta_errors_name_file_and_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_fasta(&dir, "bad.fa", b">chr1\nACGT\n>chr2\nAC\nG?T\n");
        let err = Genome::from_fasta(&path).unwrap_err().to_string();
        // The line of the letter itself, not the record's header (issue #9, item 10).
        assert!(err.contains("bad.fa") && err.contains("line 5"), "{err}");
        assert!(err.contains("'chr2'") && err.contains("position 4"), "{err}");
        let path = write_fasta(&dir, "crlf.fa", b">chr1\r\nACGT\r\n\r\nAC\r\nGG?\r\n");
        let err = Genome::from_fasta(&path).unwrap_err().to_string();
        assert!(err.contains("line 5") && err.contains("position 9"), "{err}");

        let path = write_fasta(&dir, "dup.fa", b">chr1\nACGT\n>chr1\nAC\n");
        let err = Genome::from_fasta(&path).unwrap_err().to_string();
        assert!(err.contains("dup.fa") && err.contains("duplicate contig name 'chr1'"), "{err}");

        let path = write_fasta(&dir, "empty.fa", b"");
        assert!(Genome::from_fasta(&path).unwrap().is_empty());

        let missing = dir.path().join("missing.fa");
        let err = Genome::from_fasta(&missing).unwrap_err().to_string();
        assert!(err.contains("missing.fa"), "{err}");
    }
}
