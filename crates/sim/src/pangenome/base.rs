//! The base genome every simulated haplotype descends from, held in memory as read.

use std::collections::HashSet;
use std::path::Path;

use seqflow_seqio::{Alphabet, Batch, Format, Reader, ReaderOptions, Validation};

use crate::error::Error;

/// One contig of a [`BaseGenome`]: its name (the FASTA identifier) and its letters, case kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseContig {
    /// The FASTA identifier (the header up to the first whitespace).
    pub name: String,
    /// The letters as they appear in the input (IUPAC nucleotide codes, either case).
    pub seq: Vec<u8>,
}

/// A multi-contig genome, one byte per base: the letters of the input, soft-masking included.
///
/// ```
/// use seqflow_sim::BaseGenome;
///
/// let base = BaseGenome::new(vec![("chr1".into(), b"ACGTacgtNN".to_vec())])?;
/// assert_eq!(base.len(), 10);
/// assert_eq!(base.contigs()[0].name, "chr1");
/// # Ok::<(), seqflow_sim::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaseGenome {
    contigs: Vec<BaseContig>,
    gc_fraction: f64,
}

impl BaseGenome {
    /// A genome from `(name, letters)` pairs, in order.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty or duplicate name, a name with whitespace or `>`,
    /// or a letter that is not an IUPAC nucleotide code.
    pub fn new(contigs: Vec<(String, Vec<u8>)>) -> Result<BaseGenome, Error> {
        let mut names = HashSet::new();
        let mut checked = Vec::with_capacity(contigs.len());
        for (name, seq) in contigs {
            check_name(&name)?;
            if !names.insert(name.clone()) {
                return Err(invalid(format!("contig name `{name}` occurs twice")));
            }
            if let Some(i) = seq.iter().position(|&b| !is_nucleotide(b)) {
                return Err(invalid(format!(
                    "contig `{name}` position {}: '{}' is not an IUPAC nucleotide code",
                    i + 1,
                    seq[i].escape_ascii()
                )));
            }
            checked.push(BaseContig { name, seq });
        }
        Ok(Self::from_checked(checked))
    }

    /// Reads every record of a FASTA file (plain, gzip, BGZF or zstd, detected by magic bytes);
    /// `-` reads standard input. Letters are checked against the IUPAC nucleotide alphabet.
    ///
    /// # Errors
    /// [`Error::Read`] when the file cannot be read or is malformed (the message names the
    /// file, line and record), [`Error::InvalidConfig`] for a duplicate contig name.
    pub fn from_fasta(path: impl AsRef<Path>) -> Result<BaseGenome, Error> {
        let options = ReaderOptions {
            format: Some(Format::Fasta),
            validation: Validation::new().alphabet(Alphabet::Iupac),
            ..ReaderOptions::default()
        };
        let mut reader = Reader::from_path(path.as_ref(), options)?;
        let mut batch = Batch::default();
        let mut names = HashSet::new();
        let mut contigs = Vec::new();
        while reader.read_batch(&mut batch)? > 0 {
            for record in batch.records() {
                let name = String::from_utf8_lossy(record.id()).into_owned();
                if !names.insert(name.clone()) {
                    return Err(invalid(format!(
                        "{} line {}: contig name `{name}` occurs twice",
                        reader.source(),
                        record.line()
                    )));
                }
                contigs.push(BaseContig { name, seq: record.seq().into_owned() });
            }
        }
        Ok(Self::from_checked(contigs))
    }

    fn from_checked(contigs: Vec<BaseContig>) -> BaseGenome {
        let (mut gc, mut acgt) = (0u64, 0u64);
        for contig in &contigs {
            for &b in &contig.seq {
                match b.to_ascii_uppercase() {
                    b'G' | b'C' => (gc, acgt) = (gc + 1, acgt + 1),
                    b'A' | b'T' => acgt += 1,
                    _ => {}
                }
            }
        }
        let gc_fraction = if acgt == 0 { 0.5 } else { gc as f64 / acgt as f64 };
        BaseGenome { contigs, gc_fraction }
    }

    /// The contigs, in input order.
    pub fn contigs(&self) -> &[BaseContig] {
        &self.contigs
    }

    /// Total number of bases.
    pub fn len(&self) -> u64 {
        self.contigs.iter().map(|c| c.seq.len() as u64).sum()
    }

    /// Whether the genome has no bases.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// G+C among the A, C, G and T letters (0.5 when there are none); novel inserted
    /// sequence is drawn with it.
    pub fn gc_fraction(&self) -> f64 {
        self.gc_fraction
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace() || b == b'>') {
        return Err(invalid(format!("contig name `{name}` is empty or has whitespace or `>`")));
    }
    Ok(())
}

fn invalid(reason: String) -> Error {
    Error::InvalidConfig { setting: "base genome", reason }
}

/// Whether `b` is an IUPAC nucleotide code (either case).
fn is_nucleotide(b: u8) -> bool {
    matches!(
        b.to_ascii_uppercase(),
        b'A' | b'C'
            | b'G'
            | b'T'
            | b'U'
            | b'R'
            | b'Y'
            | b'S'
            | b'W'
            | b'K'
            | b'M'
            | b'B'
            | b'D'
            | b'H'
            | b'V'
            | b'N'
    )
}

/// The complement of any IUPAC nucleotide code, case kept (`U` pairs with `A`; anything else
/// maps to itself).
pub(crate) fn complement_iupac(b: u8) -> u8 {
    let upper = match b.to_ascii_uppercase() {
        b'A' => b'T',
        b'T' | b'U' => b'A',
        b'C' => b'G',
        b'G' => b'C',
        b'R' => b'Y',
        b'Y' => b'R',
        b'K' => b'M',
        b'M' => b'K',
        b'B' => b'V',
        b'V' => b'B',
        b'D' => b'H',
        b'H' => b'D',
        other => other,
    };
    if b.is_ascii_lowercase() { upper.to_ascii_lowercase() } else { upper }
}

/// Reverse-complements `seq` in place.
pub(crate) fn reverse_complement(seq: &mut [u8]) {
    seq.reverse();
    for b in seq {
        *b = complement_iupac(*b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complement_is_an_involution_on_every_code_in_both_cases() {
        for &b in b"ACGTRYSWKMBDHVNacgtryswkmbdhvn" {
            assert_eq!(complement_iupac(complement_iupac(b)), b, "{}", b as char);
            assert_eq!(complement_iupac(b).is_ascii_lowercase(), b.is_ascii_lowercase());
        }
        let mut s = b"AcgRYn".to_vec();
        reverse_complement(&mut s);
        assert_eq!(&s, b"nRYcgT");
    }

    #[test]
    fn rejects_bad_letters_and_duplicate_names() {
        let bad = BaseGenome::new(vec![("c".into(), b"ACGZ".to_vec())]).unwrap_err();
        assert!(bad.to_string().contains("position 4"), "{bad}");
        let dup = BaseGenome::new(vec![("c".into(), b"A".to_vec()), ("c".into(), b"C".to_vec())]);
        assert!(dup.unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn gc_fraction_ignores_case_and_other_codes() {
        let g = BaseGenome::new(vec![("c".into(), b"GCgcATatNNRY".to_vec())]).unwrap();
        assert!((g.gc_fraction() - 0.5).abs() < 1e-12);
    }
}
