//! [`Flank`]: the bases beside a seed copy, read outward in the copy's own orientation.
//!
//! Every copy of a family is looked at in the *seed frame*: the seed reads as its canonical
//! k-mer, the right flank is what follows it and the left flank what precedes it, both read
//! away from the seed. For a copy on the reverse strand that means reading the genome leftward
//! and complementing for the right flank, rightward and complementing for the left one. Bases
//! are fetched lazily, in reads that double and never past the contig the copy lies in.

use seqflow_genome::{Genome, N_CODE};

use crate::index::Occurrence;

/// Fewest bases fetched at a time.
const MIN_READ: u64 = 32;

/// Bases read outward from one side of a seed copy (2-bit codes, [`N_CODE`] for N).
#[derive(Debug, Clone)]
pub(crate) struct Flank {
    bases: Vec<u8>,
    /// Rightward: next genome position to read; leftward: one past it.
    cursor: u64,
    /// Bases left before the contig boundary.
    remaining: u64,
    rightward: bool,
    complement: bool,
}

impl Flank {
    fn new(cursor: u64, remaining: u64, rightward: bool, complement: bool) -> Self {
        Flank { bases: Vec::new(), cursor, remaining, rightward, complement }
    }

    /// The two flanks of a copy of a k-mer seed: `(left, right)` in the seed frame.
    pub(crate) fn around(genome: &Genome, copy: Occurrence, k: usize) -> (Flank, Flank) {
        let pos = copy.pos();
        let contig =
            &genome.contigs()[genome.contig_of(pos).expect("occurrence inside the genome")];
        let end = pos + k as u64;
        let before = Flank::new(pos, pos - contig.start, false, copy.is_reverse());
        let after = Flank::new(end, contig.end() - end, true, copy.is_reverse());
        if copy.is_reverse() { (after, before) } else { (before, after) }
    }

    /// Makes at least `len` bases available (fewer at a contig end) and returns them.
    pub(crate) fn bases(&mut self, genome: &Genome, len: usize) -> &[u8] {
        while self.bases.len() < len && self.remaining > 0 {
            // Small first read (most flanks are probed and dropped), then doubling.
            let have = self.bases.len() as u64;
            let take = (len as u64 - have).max(have).max(MIN_READ).min(self.remaining);
            let from = self.bases.len();
            if self.rightward {
                genome.codes_into(self.cursor..self.cursor + take, &mut self.bases);
                self.cursor += take;
            } else {
                genome.codes_into(self.cursor - take..self.cursor, &mut self.bases);
                self.bases[from..].reverse();
                self.cursor -= take;
            }
            if self.complement {
                for code in &mut self.bases[from..] {
                    if *code < N_CODE {
                        *code = 3 - *code;
                    }
                }
            }
            self.remaining -= take;
        }
        &self.bases
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqflow_genome::GenomeBuilder;

    fn letters(codes: &[u8]) -> String {
        codes.iter().map(|&c| if c < 4 { b"ACGT"[c as usize] as char } else { 'N' }).collect()
    }

    #[test]
    fn flanks_read_outward_in_the_seed_frame_on_both_strands() {
        let mut builder = GenomeBuilder::new();
        builder.push_contig("x", b"GG").unwrap();
        builder.push_contig("chr", b"AACCNGTTTAC").unwrap();
        let genome = builder.build();
        // Seed "GTT" at local 5 (global 7).
        let (mut left, mut right) = Flank::around(&genome, Occurrence::new(7, false), 3);
        assert_eq!(letters(left.bases(&genome, 100)), "NCCAA");
        assert_eq!(letters(right.bases(&genome, 100)), "TAC");
        // The same place read on the reverse strand: the seed frame is the reverse complement.
        let (mut left, mut right) = Flank::around(&genome, Occurrence::new(7, true), 3);
        assert_eq!(letters(left.bases(&genome, 100)), "ATG");
        assert_eq!(letters(right.bases(&genome, 100)), "NGGTT");
    }
}
