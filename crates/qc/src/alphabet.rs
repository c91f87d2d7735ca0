//! The sequence type column: DNA, RNA or protein, guessed as seqkit does.

use serde::Serialize;

/// Kind of sequences in an input, guessed from the first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SeqType {
    /// IUPAC nucleotide codes with T.
    #[serde(rename = "DNA")]
    Dna,
    /// IUPAC nucleotide codes with U.
    #[serde(rename = "RNA")]
    Rna,
    /// Amino-acid letters.
    Protein,
    /// Anything else.
    Unlimit,
}

const DNA: &[u8] = b"ACGTRYSWKMBDHVN -.";
const RNA: &[u8] = b"ACGURYSWKMBDHVN -.";
const PROTEIN: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ*_ -.";

fn all_in(seq: &[u8], letters: &[u8]) -> bool {
    seq.iter().all(|b| letters.contains(&b.to_ascii_uppercase()))
}

impl SeqType {
    /// Guesses the type of `seq`, trying DNA, then RNA, then protein; case is ignored. An empty
    /// sequence tells nothing and gives `Unlimit` (as in seqkit).
    ///
    /// ```
    /// use seqflow_qc::SeqType;
    /// assert_eq!(SeqType::guess(b"ACGTNacgt"), SeqType::Dna);
    /// assert_eq!(SeqType::guess(b"ACGU"), SeqType::Rna);
    /// assert_eq!(SeqType::guess(b"MKLVEE"), SeqType::Protein);
    /// assert_eq!(SeqType::guess(b""), SeqType::Unlimit);
    /// ```
    pub fn guess(seq: &[u8]) -> SeqType {
        if seq.is_empty() {
            SeqType::Unlimit
        } else if all_in(seq, DNA) {
            SeqType::Dna
        } else if all_in(seq, RNA) {
            SeqType::Rna
        } else if all_in(seq, PROTEIN) {
            SeqType::Protein
        } else {
            SeqType::Unlimit
        }
    }

    /// The name printed in the `type` column.
    pub fn name(self) -> &'static str {
        match self {
            SeqType::Dna => "DNA",
            SeqType::Rna => "RNA",
            SeqType::Protein => "Protein",
            SeqType::Unlimit => "Unlimit",
        }
    }
}
