//! Optional content checks: sequence alphabet and quality range.
//!
//! Structural checks (markers, equal sequence and quality lengths, truncation) are always done
//! by the reader. The checks here read every byte, so they are opt-in and run wherever the
//! caller wants them — typically in parallel consumers via [`crate::Batch::validate`].

use crate::batch::Record;
use crate::error::Result;

/// Which letters a sequence may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Alphabet {
    /// `ACGTN` in either case.
    Acgtn,
    /// IUPAC nucleotide codes (`ACGTU` and `RYSWKMBDHVN`) in either case, plus `-` and `.`.
    Iupac,
    /// IUPAC amino-acid letters in either case, plus `*`, `-` and `.`.
    Protein,
}

impl Alphabet {
    /// The accepted symbols, uppercase (their lowercase forms are accepted too).
    ///
    /// ```
    /// assert_eq!(seqflow_seqio::Alphabet::Acgtn.letters(), b"ACGTN");
    /// ```
    pub const fn letters(self) -> &'static [u8] {
        match self {
            Alphabet::Acgtn => b"ACGTN",
            Alphabet::Iupac => b"ACGTURYSWKMBDHVN-.",
            Alphabet::Protein => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ*-.",
        }
    }

    fn table(self) -> [bool; 256] {
        let mut table = [false; 256];
        for &b in self.letters() {
            table[b as usize] = true;
            table[b.to_ascii_lowercase() as usize] = true;
        }
        table
    }

    fn name(self) -> &'static str {
        match self {
            Alphabet::Acgtn => "ACGTN",
            Alphabet::Iupac => "IUPAC nucleotide",
            Alphabet::Protein => "protein",
        }
    }
}

/// Lowest valid Phred+33 quality character (`!`, Q0).
pub const PHRED33_MIN: u8 = b'!';
/// Highest valid Phred+33 quality character (`~`, Q93).
pub const PHRED33_MAX: u8 = b'~';

/// Optional content checks for records.
///
/// ```
/// use seqflow_seqio::{Alphabet, Batch, Reader, ReaderOptions, Validation};
/// let data = b">a\nACGT\n>b\nACXT\n";
/// let mut reader = Reader::new(&data[..], "x.fa", ReaderOptions::default())?;
/// let mut batch = Batch::default();
/// reader.read_batch(&mut batch)?;
/// let err = batch.validate(&Validation::new().alphabet(Alphabet::Acgtn)).unwrap_err();
/// assert!(err.to_string().contains("record 'b'"));
/// # Ok::<(), seqflow_seqio::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Validation {
    alphabet: Option<(Alphabet, Box<[bool; 256]>)>,
    quality: bool,
}

impl Default for Validation {
    fn default() -> Self {
        Self::new()
    }
}

impl Validation {
    /// No content checks.
    pub fn new() -> Self {
        Validation { alphabet: None, quality: false }
    }

    /// Requires every sequence letter to belong to `alphabet`.
    pub fn alphabet(mut self, alphabet: Alphabet) -> Self {
        self.alphabet = Some((alphabet, Box::new(alphabet.table())));
        self
    }

    /// Requires every quality character to lie in the Phred+33 range `!`..=`~`.
    pub fn phred33(mut self) -> Self {
        self.quality = true;
        self
    }

    /// True when at least one check is enabled.
    pub fn is_active(&self) -> bool {
        self.alphabet.is_some() || self.quality
    }

    /// Checks one record.
    ///
    /// # Errors
    /// [`crate::Error::Parse`] naming the record, line and byte of the first bad character.
    pub fn check(&self, record: &Record<'_>) -> Result<()> {
        if let Some((alphabet, table)) = &self.alphabet {
            let raw = record.seq_raw();
            let bad = raw.iter().position(|&b| !table[b as usize] && b != b'\n' && b != b'\r');
            if let Some(i) = bad {
                return Err(record.error_in_seq(
                    i,
                    format!("'{}' is not a {} letter", raw[i].escape_ascii(), alphabet.name()),
                ));
            }
        }
        if self.quality {
            if let Some(qual) = record.qual() {
                let bad = qual.iter().position(|&q| !(PHRED33_MIN..=PHRED33_MAX).contains(&q));
                if let Some(i) = bad {
                    return Err(record.error_in_qual(
                        i,
                        format!(
                            "quality character '{}' is outside Phred+33 ('!'..='~')",
                            qual[i].escape_ascii()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}
