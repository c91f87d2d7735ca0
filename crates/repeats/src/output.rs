//! Writers for the result files: the consensus library (FASTA), the annotation (BED6), the seed
//! table (TSV) and the masked genome (FASTA).

use std::io::{self, Write};

use seqflow_genome::Genome;

use crate::{Repeats, kmer_string};

/// Bases per FASTA line.
const LINE_WIDTH: usize = 60;
/// Bases of the genome decoded at a time by [`write_masked`].
const BLOCK: u64 = 1 << 20;

/// How [`write_masked`] marks repeat bases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskStyle {
    /// Lower-case letters (everything else upper case).
    Soft,
    /// `N`.
    Hard,
}

/// The name of family `index` in every output: `fam1`, `fam2`, ...
pub fn family_name(index: usize) -> String {
    format!("fam{}", index + 1)
}

/// Writes the library: `>fam<N> seed=<kmer> seed_copies=<n> copies=<n> length=<n>` and the
/// consensus in lines of 60.
///
/// # Errors
/// Any write error.
pub fn write_families(out: &mut impl Write, repeats: &Repeats) -> io::Result<()> {
    for (i, family) in repeats.families.iter().enumerate() {
        writeln!(
            out,
            ">{} seed={} seed_copies={} copies={} length={}",
            family_name(i),
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
            family_name(annotated.family),
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

/// Writes the genome with every annotated base masked: upper case elsewhere (the input's own
/// soft-masking is not kept), `N` for N runs (IUPAC codes become `N` too).
///
/// # Errors
/// Any write error.
pub fn write_masked(
    out: &mut impl Write,
    genome: &Genome,
    repeats: &Repeats,
    style: MaskStyle,
) -> io::Result<()> {
    let mut next = 0; // first element that may reach the current block
    for contig in genome.contigs() {
        writeln!(out, ">{}", contig.name)?;
        let mut column = 0;
        let mut start = contig.start;
        while start < contig.end() {
            let end = (start + BLOCK).min(contig.end());
            let mut bases = genome.decode(start..end);
            while next < repeats.elements.len() && repeats.elements[next].element.end <= start {
                next += 1;
            }
            for annotated in repeats.elements[next..].iter().take_while(|a| a.element.start < end) {
                let from = (annotated.element.start.max(start) - start) as usize;
                let to = (annotated.element.end.min(end) - start) as usize;
                for base in &mut bases[from..to] {
                    *base = match style {
                        MaskStyle::Soft => base.to_ascii_lowercase(),
                        MaskStyle::Hard => b'N',
                    };
                }
            }
            for &base in &bases {
                out.write_all(&[base])?;
                column += 1;
                if column == LINE_WIDTH {
                    out.write_all(b"\n")?;
                    column = 0;
                }
            }
            start = end;
        }
        if column > 0 {
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}
