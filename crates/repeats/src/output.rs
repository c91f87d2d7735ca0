//! Writers for the result files: the consensus library (FASTA), the annotation (BED6, GFF3 and
//! RepeatMasker's `.out` table), the seed table (TSV) and the masked genome (FASTA).

mod gff3;
mod repeatmasker;

use std::io::{self, Write};

pub use gff3::write_gff3;
pub use repeatmasker::write_repeatmasker_out;

use seqflow_genome::Genome;

use crate::{Error, Repeats, kmer_string};

/// Bases per FASTA line.
const LINE_WIDTH: usize = 60;
/// How [`MaskedWriter`] marks repeat bases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskStyle {
    /// Lower-case letters (the others stay as they were).
    Soft,
    /// `N`.
    Hard,
}

/// The name [`find_repeats`](crate::find_repeats) gives family `index`: `fam1`, `fam2`, ...
pub fn family_name(index: usize) -> String {
    format!("fam{}", index + 1)
}

/// Writes the library in RepeatMasker's custom-library form (`RepeatMasker -lib`): the
/// identifier is `fam<N>#<class>` (name `#` class: `Unknown`, or `Simple_repeat` / `Satellite`
/// for a tandem array), the description after a space is
/// `seed=<kmer> seed_copies=<n> copies=<n> length=<n>`; then the consensus in lines of 60.
///
/// # Errors
/// Any write error.
pub fn write_families(out: &mut impl Write, repeats: &Repeats) -> io::Result<()> {
    for family in &repeats.families {
        writeln!(
            out,
            ">{}#{} seed={} seed_copies={} copies={} length={}",
            family.name,
            family.class,
            family.seed,
            family.seed_copies,
            family.copies,
            family.consensus.len()
        )?;
        for line in family.consensus.chunks(LINE_WIDTH) {
            out.write_all(line)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Writes every element as BED6 (0-based, half-open): contig, start, end, family, score (the
/// alignment score, capped at BED's 1000), strand.
///
/// # Errors
/// Any write error.
pub fn write_bed(out: &mut impl Write, genome: &Genome, repeats: &Repeats) -> io::Result<()> {
    for annotated in &repeats.elements {
        let e = &annotated.element;
        let contig =
            &genome.contigs()[genome.contig_of(e.start).expect("element inside the genome")];
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            contig.name,
            e.start - contig.start,
            e.end - contig.start,
            repeats.families[annotated.family].name,
            e.score.clamp(0, 1000),
            if e.reverse { '-' } else { '+' }
        )?;
    }
    Ok(())
}

/// Writes the seed table: a header, then per seed (most frequent first) the canonical k-mer,
/// its frequency after tandem collapse, and the contig and 0-based position of its first
/// occurrence.
///
/// # Errors
/// Any write error.
pub fn write_seeds(out: &mut impl Write, genome: &Genome, repeats: &Repeats) -> io::Result<()> {
    writeln!(out, "seed\tfrequency\tcontig\tposition")?;
    for seed in &repeats.seeds {
        let (contig, local) = genome.to_local(seed.first_pos).expect("seed inside the genome");
        writeln!(
            out,
            "{}\t{}\t{}\t{}",
            kmer_string(seed.kmer, repeats.k),
            seed.count,
            genome.contigs()[contig].name,
            local
        )?;
    }
    Ok(())
}

/// Writes the masked genome from the records of the FASTA the genome was read from, so that
/// everything but the masked letters stays as it was: whole header lines, IUPAC codes, the case
/// of every letter not masked. [`MaskStyle::Soft`] lower-cases masked letters,
/// [`MaskStyle::Hard`] turns them into `N`. Lines are 60 letters long.
///
/// Give it every record in input order: [`MaskedWriter::begin_record`] with the header line,
/// [`MaskedWriter::write_letters`] with the sequence in pieces of any size (without line
/// breaks), then [`MaskedWriter::finish`]. Records that do not match the genome's contigs
/// (another name, another length, more or fewer records) are an error, not a silently shifted
/// mask. Memory: one line.
#[derive(Debug)]
pub struct MaskedWriter<'a, W: Write> {
    out: W,
    genome: &'a Genome,
    repeats: &'a Repeats,
    style: MaskStyle,
    /// Contigs begun so far (the current one is `begun - 1`).
    begun: usize,
    /// Global position of the next letter.
    pos: u64,
    /// The current output line.
    line: Vec<u8>,
    /// First element that may reach `pos`.
    next_element: usize,
}

impl<'a, W: Write> MaskedWriter<'a, W> {
    /// A writer of the masked genome into `out`.
    pub fn new(out: W, genome: &'a Genome, repeats: &'a Repeats, style: MaskStyle) -> Self {
        let line = Vec::with_capacity(LINE_WIDTH + 1);
        MaskedWriter { out, genome, repeats, style, begun: 0, pos: 0, line, next_element: 0 }
    }

    /// Ends the previous record and starts the next one with its header line (without `>`).
    ///
    /// # Errors
    /// [`Error::InputChanged`] if the previous record was short, or this record is not the
    /// next contig; [`Error::Io`] if writing fails.
    pub fn begin_record(&mut self, header: &[u8]) -> Result<(), Error> {
        self.end_record()?;
        let Some(contig) = self.genome.contigs().get(self.begun) else {
            return Err(Error::InputChanged(format!(
                "a record past the {} the genome was read with",
                self.genome.contigs().len()
            )));
        };
        let id_len = header.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(header.len());
        if &header[..id_len] != contig.name.as_bytes() {
            return Err(Error::InputChanged(format!(
                "record {} is {:?}, not {}",
                self.begun + 1,
                String::from_utf8_lossy(&header[..id_len]),
                contig.name
            )));
        }
        self.begun += 1;
        self.out.write_all(b">")?;
        self.out.write_all(header)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    /// Writes the next letters of the current record, masking those inside repeat elements.
    ///
    /// # Errors
    /// [`Error::InputChanged`] if the record is longer than its contig (or none was begun);
    /// [`Error::Io`] if writing fails.
    pub fn write_letters(&mut self, letters: &[u8]) -> Result<(), Error> {
        let end = self.begun.checked_sub(1).map_or(0, |i| self.genome.contigs()[i].end());
        if self.begun == 0 || self.pos + letters.len() as u64 > end {
            return Err(Error::InputChanged(format!(
                "record {} is longer than when it was read",
                self.begun
            )));
        }
        let elements = &self.repeats.elements;
        let mut rest = letters;
        while !rest.is_empty() {
            while self.next_element < elements.len()
                && elements[self.next_element].element.end <= self.pos
            {
                self.next_element += 1;
            }
            // The letters up to the next element boundary are all masked or all kept.
            let (masked, boundary) = match elements.get(self.next_element) {
                Some(e) if e.element.start <= self.pos => (true, e.element.end),
                Some(e) => (false, e.element.start),
                None => (false, u64::MAX),
            };
            let to_boundary = usize::try_from(boundary - self.pos).unwrap_or(usize::MAX);
            let n = rest.len().min(LINE_WIDTH - self.line.len()).min(to_boundary);
            let (piece, tail) = rest.split_at(n);
            match (masked, self.style) {
                (false, _) => self.line.extend_from_slice(piece),
                (true, MaskStyle::Soft) => {
                    self.line.extend(piece.iter().map(u8::to_ascii_lowercase));
                }
                (true, MaskStyle::Hard) => self.line.resize(self.line.len() + n, b'N'),
            }
            self.pos += n as u64;
            rest = tail;
            if self.line.len() == LINE_WIDTH {
                self.flush_line()?;
            }
        }
        Ok(())
    }

    /// Ends the last record and returns the writer.
    ///
    /// # Errors
    /// [`Error::InputChanged`] if records are missing or the last one was short; [`Error::Io`].
    pub fn finish(mut self) -> Result<W, Error> {
        self.end_record()?;
        if self.begun < self.genome.contigs().len() {
            return Err(Error::InputChanged(format!(
                "{} records where the genome was read with {}",
                self.begun,
                self.genome.contigs().len()
            )));
        }
        Ok(self.out)
    }

    /// Writes the last line of the current record and checks that the record was complete.
    fn end_record(&mut self) -> Result<(), Error> {
        if !self.line.is_empty() {
            self.flush_line()?;
        }
        if let Some(contig) = self.begun.checked_sub(1).map(|i| &self.genome.contigs()[i]) {
            if self.pos != contig.end() {
                return Err(Error::InputChanged(format!(
                    "record {} ({}) is shorter than when it was read",
                    self.begun, contig.name
                )));
            }
        }
        Ok(())
    }

    fn flush_line(&mut self) -> io::Result<()> {
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.line.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Params, find_repeats};
    use seqflow_genome::GenomeBuilder;

    /// Four copies of a 120 bp element in a random background with IUPAC codes and lower case.
    fn genome_with_repeats() -> Vec<u8> {
        let mut state = 11u64;
        let mut random = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    state =
                        state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    b"ACGT"[(state >> 62) as usize]
                })
                .collect()
        };
        let element = random(120);
        let mut seq = Vec::new();
        for _ in 0..4 {
            let mut background = random(700);
            background[100..110].copy_from_slice(b"RYKMSWBDHV");
            background[300..340].make_ascii_lowercase();
            seq.extend(background);
            seq.extend_from_slice(&element);
        }
        seq.extend(random(700));
        seq
    }

    fn masked(seq: &[u8], pieces: usize, style: MaskStyle) -> (Vec<u8>, Repeats) {
        let mut builder = GenomeBuilder::new();
        builder.push_contig("chr1", seq).unwrap();
        builder.push_contig("empty", b"").unwrap();
        let genome = builder.build();
        let repeats = find_repeats(&genome, &Params::default(), &mut |_| {}).unwrap();
        let mut writer = MaskedWriter::new(Vec::new(), &genome, &repeats, style);
        writer.begin_record(b"chr1 the first\tcontig").unwrap();
        for piece in seq.chunks(seq.len().div_ceil(pieces)) {
            writer.write_letters(piece).unwrap();
        }
        writer.begin_record(b"empty").unwrap();
        (writer.finish().unwrap(), repeats)
    }

    #[test]
    fn masked_genome_keeps_every_letter_it_does_not_mask() {
        let seq = genome_with_repeats();
        let (out, repeats) = masked(&seq, 7, MaskStyle::Hard);
        assert_eq!(repeats.elements.len(), 4);
        let text = String::from_utf8(out.clone()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(">chr1 the first\tcontig"));
        let body: Vec<u8> =
            lines.by_ref().take_while(|l| !l.starts_with('>')).flat_map(|l| l.bytes()).collect();
        assert_eq!(body.len(), seq.len());
        assert!(text.lines().all(|l| l.len() <= LINE_WIDTH || l.starts_with('>')));
        assert!(text.ends_with(">empty\n"));
        for (pos, (&input, &output)) in seq.iter().zip(&body).enumerate() {
            let inside = repeats
                .elements
                .iter()
                .any(|e| e.element.start <= pos as u64 && (pos as u64) < e.element.end);
            assert_eq!(output, if inside { b'N' } else { input }, "position {pos}");
        }
        // The same bytes whatever the pieces the sequence comes in.
        assert_eq!(masked(&seq, 1, MaskStyle::Hard).0, out);
        let (soft, _) = masked(&seq, 3, MaskStyle::Soft);
        let soft_body: Vec<u8> = String::from_utf8(soft)
            .unwrap()
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with('>'))
            .flat_map(|l| l.bytes().collect::<Vec<_>>())
            .collect();
        for ((&input, &hard), &soft) in seq.iter().zip(&body).zip(&soft_body) {
            let expected =
                if hard == b'N' && input != b'N' { input.to_ascii_lowercase() } else { input };
            assert_eq!(soft, expected);
        }
    }

    #[test]
    fn records_that_differ_from_the_genome_are_an_error() {
        let mut builder = GenomeBuilder::new();
        builder.push_contig("a", b"ACGT").unwrap();
        let genome = builder.build();
        let repeats = find_repeats(&genome, &Params::default(), &mut |_| {}).unwrap();
        let writer = || MaskedWriter::new(Vec::new(), &genome, &repeats, MaskStyle::Soft);
        let mut renamed = writer();
        assert!(matches!(renamed.begin_record(b"b"), Err(Error::InputChanged(_))));
        let mut longer = writer();
        longer.begin_record(b"a").unwrap();
        assert!(matches!(longer.write_letters(b"ACGTA"), Err(Error::InputChanged(_))));
        let mut shorter = writer();
        shorter.begin_record(b"a").unwrap();
        shorter.write_letters(b"ACG").unwrap();
        assert!(matches!(shorter.finish(), Err(Error::InputChanged(_))));
        let mut extra = writer();
        extra.begin_record(b"a").unwrap();
        extra.write_letters(b"ACGT").unwrap();
        assert!(matches!(extra.begin_record(b"c"), Err(Error::InputChanged(_))));
        assert!(matches!(writer().finish(), Err(Error::InputChanged(_))));
    }
}
