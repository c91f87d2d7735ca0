//! [`CopyAlignment`]: what one annotated copy looks like against its family's consensus —
//! the consensus range it covers, its score, and the substitutions (transitions and
//! transversions apart), insertions and deletions behind the RepeatMasker-style `.out`
//! columns and the Kimura divergence of the repeat landscape.
//!
//! The annotation pass finds each copy with a narrow band that follows its best diagonal and
//! keeps no traceback; the copy may also have been trimmed since, where a better-scoring copy
//! overlapped it. So every final copy is aligned once more here, end to end in the copy (all of
//! its bases belong to the alignment, so its coordinates are exactly those of the BED and
//! GFF3) and free at both ends in the consensus (where on the consensus it starts and ends is
//! found, not assumed). The dynamic programme is Gotoh's affine-gap one with the run's scores,
//! inside a band around the straight line between the consensus coordinates the annotation
//! gave; when the best path touches the band's edge, or scores below 0 (chance similarity:
//! the hint was wrong), the band is doubled and the copy aligned again, up to a half-width of
//! 512, so the band limits the cost, not the answer.

use std::ops::Range;

use seqflow_genome::{Genome, N_CODE};
use seqflow_pipeline::{Cost, Emitter, Pipeline};

use crate::error::Error;
use crate::family::Element;
use crate::params::{Params, Scoring};

/// One copy aligned to its family's consensus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyAlignment {
    /// Alignment score with the run's scores (match +1, mismatch −1, gap −5 then −1 per base).
    pub score: i32,
    /// First consensus base aligned (0-based), in the consensus's own orientation.
    pub consensus_start: usize,
    /// One past the last consensus base aligned.
    pub consensus_end: usize,
    /// Aligned pairs of identical bases.
    pub matches: u32,
    /// Aligned pairs A↔G or C↔T.
    pub transitions: u32,
    /// Aligned pairs of different bases that are not transitions.
    pub transversions: u32,
    /// Aligned pairs with an N (or other IUPAC code) in the copy: neither match nor mismatch.
    pub ambiguous: u32,
    /// Copy bases opposite a gap in the consensus.
    pub inserted: u32,
    /// Consensus bases opposite a gap in the copy.
    pub deleted: u32,
}

impl CopyAlignment {
    /// Aligned pairs of two known bases (matches and substitutions).
    pub fn compared(&self) -> u32 {
        self.matches + self.transitions + self.transversions
    }

    /// Substitutions per 100 compared pairs: RepeatMasker's `perc div.`,
    /// mismatches / (matches + mismatches).
    pub fn percent_divergence(&self) -> f64 {
        percent(self.transitions + self.transversions, self.compared())
    }

    /// Consensus bases opposite a gap in the copy, per 100 aligned consensus bases
    /// (`perc del.`).
    pub fn percent_deletions(&self) -> f64 {
        percent(self.deleted, (self.consensus_end - self.consensus_start) as u32)
    }

    /// Copy bases opposite a gap in the consensus, per 100 copy bases (`perc ins.`).
    pub fn percent_insertions(&self) -> f64 {
        let copy_len = self.compared() + self.ambiguous + self.inserted;
        percent(self.inserted, copy_len)
    }

    /// Kimura two-parameter distance in percent, `-½ ln((1 − 2p − q) √(1 − 2q))` with `p` and
    /// `q` the transitions and transversions per compared pair, without a CpG adjustment. A
    /// copy too diverged for the formula (the logarithm's operand ≤ 0) gets 100, as
    /// RepeatMasker gives it; one without a compared pair gets 0.
    pub fn kimura_divergence(&self) -> f64 {
        let compared = f64::from(self.compared());
        if compared == 0.0 {
            return 0.0;
        }
        let p = f64::from(self.transitions) / compared;
        let q = f64::from(self.transversions) / compared;
        let operand = (1.0 - 2.0 * p - q) * (1.0 - 2.0 * q).sqrt();
        if operand <= 0.0 { 100.0 } else { (-0.5 * operand.ln()).abs() * 100.0 }
    }
}

fn percent(part: u32, whole: u32) -> f64 {
    if whole == 0 { 0.0 } else { 100.0 * f64::from(part) / f64::from(whole) }
}

/// Half-width of the first band tried.
const FIRST_BAND: usize = 16;
/// Widest band: past it the alignment found is kept even if it touches the edge.
const MAX_BAND: usize = 512;
/// Most traceback cells (bytes) one alignment may hold; bounds the band of very long copies.
const MAX_TRACEBACK: usize = 64 << 20;
/// "Impossible" score that adding penalties cannot overflow.
const NEG: i32 = i32::MIN / 4;

/// Traceback bits of one cell: where `h` came from, and whether `e` and `f` extended a gap.
const FROM_DIAGONAL: u8 = 0;
// The band kernel picks the traceback choice by multiplying with it.
const _: () = assert!(FROM_DIAGONAL == 0);
const FROM_E: u8 = 1;
const FROM_F: u8 = 2;
const E_EXTENDS: u8 = 1 << 2;
const F_EXTENDS: u8 = 1 << 3;

/// Reusable buffers of the banded alignment (one per worker).
#[derive(Debug, Default)]
pub(crate) struct Aligner {
    h: Vec<i32>,
    f: Vec<i32>,
    previous_h: Vec<i32>,
    previous_f: Vec<i32>,
    traceback: Vec<u8>,
    columns: Vec<u8>,
    diagonal: Vec<i32>,
    copy: Vec<u8>,
}

/// The band of one attempt: for copy row `i`, consensus columns `low(i) .. low(i) + width`.
struct Band {
    hint_start: i64,
    hint_end: i64,
    rows: i64,
    half_width: i64,
    width: usize,
}

impl Band {
    fn low(&self, row: usize) -> i64 {
        let i = row as i64;
        let centre = if self.rows == 0 {
            self.hint_start
        } else {
            self.hint_start + (i * (self.hint_end - self.hint_start) + self.rows / 2) / self.rows
        };
        centre - self.half_width
    }
}

impl Aligner {
    /// Aligns `copy` (2-bit codes, [`N_CODE`] for anything else, in the consensus's
    /// orientation) whole to `consensus`, free at both consensus ends; `hint` is where on the
    /// consensus the copy is thought to lie.
    pub(crate) fn align(
        &mut self,
        copy: &[u8],
        consensus: &[u8],
        hint: Range<usize>,
        scoring: &Scoring,
    ) -> CopyAlignment {
        let widest = (MAX_TRACEBACK / (copy.len() + 1)).saturating_sub(1) / 2;
        let max_band = MAX_BAND.min(widest).max(FIRST_BAND);
        // A copy spans about as many consensus bases as it has; a hint far from that (a copy
        // trimmed to a piece of itself) keeps only its start.
        let n = copy.len();
        let span = hint.end.saturating_sub(hint.start).clamp(n / 2, 2 * n);
        let hint_start = hint.start.min(consensus.len());
        let hint_end = (hint_start + span).min(consensus.len());
        let mut half_width = FIRST_BAND;
        loop {
            let band = Band {
                hint_start: hint_start as i64,
                hint_end: hint_end as i64,
                rows: copy.len() as i64,
                half_width: half_width as i64,
                width: 2 * half_width + 1,
            };
            let (alignment, touched_edge) = self.align_in_band(copy, consensus, &band, scoring);
            // A negative score is what a copy aligned to the wrong part of the consensus gets
            // (chance similarity); a real copy, even 35% diverged, scores above 0.
            let misplaced = alignment.score < 0;
            if !(touched_edge || misplaced) || half_width >= max_band {
                return alignment;
            }
            half_width = (2 * half_width).min(max_band);
        }
    }

    /// One attempt; returns the alignment and whether its path touched the band's edge.
    ///
    /// Row buffers are padded: slot `t` of a row is element `t + 1`, and element 0 and those
    /// past the band hold `NEG`, so a cell reads its diagonal and vertical predecessors at
    /// `t + shift` and `t + shift + 1` (`shift` = how far the band moved right since the row
    /// before) without a range check. Cells outside the consensus hold `NEG`.
    fn align_in_band(
        &mut self,
        copy: &[u8],
        consensus: &[u8],
        band: &Band,
        scoring: &Scoring,
    ) -> (CopyAlignment, bool) {
        let width = band.width;
        let m = consensus.len() as i64;
        let most_shift = (1..=copy.len())
            .map(|i| band.low(i) - band.low(i - 1))
            .max()
            .unwrap_or(0)
            .clamp(0, width as i64) as usize;
        let padded = width + 2 + most_shift;
        for buffer in [
            &mut self.h,
            &mut self.f,
            &mut self.previous_h,
            &mut self.previous_f,
            &mut self.diagonal,
        ] {
            buffer.clear();
            buffer.resize(padded, NEG);
        }
        self.traceback.clear();
        self.traceback.resize((copy.len() + 1) * width, 0);
        // The slots of row `low` that are consensus columns 0..=m.
        let inside = |low: i64| -> Range<usize> {
            let first = (-low).clamp(0, width as i64) as usize;
            let end = (m + 1 - low).clamp(0, width as i64) as usize;
            first..end.max(first)
        };
        // Row 0: the alignment may start at any consensus column (free leading deletions).
        let mut previous_low = band.low(0);
        for t in inside(previous_low) {
            self.h[t + 1] = 0;
        }
        // Column j of the consensus at `columns[j]`, behind a base no copy base equals, so
        // the cell of column 0 reads a pair too (its diagonal predecessor is NEG anyway).
        self.columns.clear();
        self.columns.push(u8::MAX);
        self.columns.extend_from_slice(consensus);
        let (open, extend) = (scoring.gap_open, scoring.gap_extend);
        let (matched, mismatched) = (scoring.match_score, scoring.mismatch);
        for i in 1..=copy.len() {
            std::mem::swap(&mut self.h, &mut self.previous_h);
            std::mem::swap(&mut self.f, &mut self.previous_f);
            let low = band.low(i);
            let shift = (low - previous_low) as usize;
            previous_low = low;
            // An N in the copy matches nothing.
            let base = if copy[i - 1] < N_CODE { copy[i - 1] } else { u8::MAX - 1 };
            let Range { start, end } = inside(low);
            let (h, f) = (&mut self.h, &mut self.f);
            h[..=start].fill(NEG);
            f[..=start].fill(NEG);
            h[end + 1..].fill(NEG);
            f[end + 1..].fill(NEG);
            let n = end - start;
            let first_column = (low + start as i64) as usize;
            let columns = &self.columns[first_column..first_column + n];
            let diagonal_h = &self.previous_h[start + shift..][..n];
            let above_h = &self.previous_h[start + shift + 1..][..n];
            let above_f = &self.previous_f[start + shift + 1..][..n];
            let (row_h, row_f) = (&mut h[start + 1..][..n], &mut f[start + 1..][..n]);
            let trace = &mut self.traceback[i * width + start..][..n];
            let diagonal = &mut self.diagonal[..n];
            // First what comes from the row above (no cell depends on its left neighbour)...
            for t in 0..n {
                // Arithmetic, not a branch: on a diverged copy a branch would be mispredicted.
                let pair = mismatched + i32::from(columns[t] == base) * (matched - mismatched);
                diagonal[t] = if diagonal_h[t] > NEG { diagonal_h[t] + pair } else { NEG };
                let (f_open, f_extend) = (above_h[t] + open, above_f[t] + extend);
                row_f[t] = f_open.max(f_extend).max(NEG);
                trace[t] = u8::from(f_extend > f_open) * F_EXTENDS;
            }
            // ...then the gaps along the row, a chain from cell to cell. `e` is not clamped to
            // NEG here: below NEG only where no path reaches, it never wins a comparison there.
            let (mut left_h, mut left_e) = (NEG, NEG);
            for t in 0..n {
                let (e_open, e_extend) = (left_h + open, left_e + extend);
                let cell_e = e_open.max(e_extend);
                let gap = cell_e.max(row_f[t]);
                // FROM_DIAGONAL (0) if the diagonal is at least both gaps, else FROM_E (1) if
                // e is at least f, else FROM_F (2).
                let gap_from = FROM_E + u8::from(cell_e < row_f[t]) * (FROM_F - FROM_E);
                let from = u8::from(diagonal[t] < gap) * gap_from;
                trace[t] |= from | (u8::from(e_extend > e_open) * E_EXTENDS);
                row_h[t] = diagonal[t].max(gap);
                (left_h, left_e) = (row_h[t], cell_e);
            }
        }
        // The best end in the last row (free trailing deletions); the first on ties.
        let last = copy.len();
        let low = band.low(last);
        let mut end = None;
        for t in inside(low) {
            if end.is_none_or(|(_, best)| self.h[t + 1] > best) {
                end = Some((t, self.h[t + 1]));
            }
        }
        let (end_slot, score) = end.expect("the band holds a column of the consensus");
        self.trace_back(copy, consensus, band, last, low + end_slot as i64, score)
    }

    /// Follows the traceback from the end cell and counts what the path does.
    fn trace_back(
        &self,
        copy: &[u8],
        consensus: &[u8],
        band: &Band,
        last_row: usize,
        end_column: i64,
        score: i32,
    ) -> (CopyAlignment, bool) {
        let width = band.width as i64;
        let m = consensus.len() as i64;
        let mut alignment =
            CopyAlignment { score, consensus_end: end_column as usize, ..Default::default() };
        let (mut i, mut j) = (last_row, end_column);
        let mut touched_edge = false;
        #[derive(PartialEq)]
        enum State {
            H,
            E,
            F,
        }
        let mut state = State::H;
        loop {
            let slot = j - band.low(i);
            debug_assert!((0..width).contains(&slot));
            // An edge the consensus ends do not explain: a wider band might find a better path.
            if (slot == 0 && j > 0) || (slot == width - 1 && j < m) {
                touched_edge = true;
            }
            if i == 0 {
                break;
            }
            let cell = self.traceback[i * band.width + slot as usize];
            match state {
                State::H => match cell & 3 {
                    FROM_DIAGONAL => {
                        let (a, b) = (copy[i - 1], consensus[j as usize - 1]);
                        if a >= N_CODE {
                            alignment.ambiguous += 1;
                        } else if a == b {
                            alignment.matches += 1;
                        } else if a ^ b == 2 {
                            alignment.transitions += 1;
                        } else {
                            alignment.transversions += 1;
                        }
                        i -= 1;
                        j -= 1;
                    }
                    FROM_E => state = State::E,
                    _ => state = State::F,
                },
                State::E => {
                    alignment.deleted += 1;
                    if cell & E_EXTENDS == 0 {
                        state = State::H;
                    }
                    j -= 1;
                }
                State::F => {
                    alignment.inserted += 1;
                    if cell & F_EXTENDS == 0 {
                        state = State::H;
                    }
                    i -= 1;
                }
            }
        }
        alignment.consensus_start = j as usize;
        (alignment, touched_edge)
    }

    /// The copy's bases in the consensus's orientation, from the genome.
    fn copy_of(&mut self, genome: &Genome, element: &Element) -> Vec<u8> {
        let mut copy = std::mem::take(&mut self.copy);
        copy.clear();
        genome.codes_into(element.start..element.end, &mut copy);
        if element.reverse {
            copy.reverse();
            for code in &mut copy {
                if *code < N_CODE {
                    *code = 3 - *code;
                }
            }
        }
        copy
    }
}

/// Copy bases aligned per work item.
const BASES_PER_ITEM: u64 = 1 << 20;

/// A run of annotations to align.
struct Batch(Range<usize>);

impl Cost for Batch {
    fn cost(&self) -> usize {
        1
    }
}

/// Aligns every annotated copy (`(family, element)`, families indexing `consensi`, 2-bit codes)
/// to its consensus on the engine's workers; the result is in the order of `annotations`, the
/// same for any number of threads.
pub(crate) fn align_copies(
    genome: &Genome,
    consensi: &[Vec<u8>],
    annotations: &[(u32, Element)],
    params: &Params,
) -> Result<Vec<CopyAlignment>, Error> {
    let pipeline = Pipeline::builder()
        .workers(params.threads)
        .channel_depth(2 * params.threads.max(1))
        .reorder_window(4 * params.threads.max(1))
        .build();
    let mut alignments = Vec::with_capacity(annotations.len());
    pipeline
        .run_ordered(
            |emit: &mut Emitter<Batch>| -> Result<(), Error> {
                let mut start = 0;
                while start < annotations.len() {
                    let mut end = start;
                    let mut bases = 0;
                    while end < annotations.len() && (end == start || bases < BASES_PER_ITEM) {
                        bases += annotations[end].1.len();
                        end += 1;
                    }
                    if emit.send(Batch(start..end)).is_err() {
                        break;
                    }
                    start = end;
                }
                Ok(())
            },
            |_| Aligner::default(),
            |aligner: &mut Aligner, batch: Batch| -> Result<Vec<CopyAlignment>, Error> {
                Ok(annotations[batch.0]
                    .iter()
                    .map(|(family, element)| {
                        let consensus = &consensi[*family as usize];
                        let copy = aligner.copy_of(genome, element);
                        let hint = element.consensus_start..element.consensus_end;
                        let alignment = aligner.align(&copy, consensus, hint, &params.scoring);
                        aligner.copy = copy;
                        alignment
                    })
                    .collect())
            },
            |batch: Vec<CopyAlignment>| -> Result<(), Error> {
                alignments.extend(batch);
                Ok(())
            },
        )
        .map_err(Error::from_pipeline)?;
    Ok(alignments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codes(s: &[u8]) -> Vec<u8> {
        s.iter()
            .map(|&b| b"ACGT".iter().position(|&x| x == b).map_or(N_CODE, |p| p as u8))
            .collect()
    }

    fn align(copy: &[u8], consensus: &[u8], hint: Range<usize>) -> CopyAlignment {
        Aligner::default().align(&codes(copy), &codes(consensus), hint, &Scoring::default())
    }

    /// The band kernel as first written, cell by cell with every range check: what
    /// [`Aligner::align_in_band`] must equal.
    #[allow(clippy::needless_range_loop)]
    fn align_in_band_direct(
        aligner: &mut Aligner,
        copy: &[u8],
        consensus: &[u8],
        band: &Band,
        scoring: &Scoring,
    ) -> (CopyAlignment, bool) {
        let width = band.width;
        let m = consensus.len() as i64;
        let inside = |j: i64| (0..=m).contains(&j);
        let (mut row_h, mut row_e, mut row_f) =
            (vec![NEG; width], vec![NEG; width], vec![NEG; width]);
        let (mut prev_h, mut prev_f) = (vec![NEG; width], vec![NEG; width]);
        aligner.traceback.clear();
        aligner.traceback.resize((copy.len() + 1) * width, 0);
        // Row 0: the alignment may start at any consensus column (free leading deletions).
        let low = band.low(0);
        for t in 0..width {
            if inside(low + t as i64) {
                row_h[t] = 0;
            }
        }
        for i in 1..=copy.len() {
            std::mem::swap(&mut row_h, &mut prev_h);
            std::mem::swap(&mut row_f, &mut prev_f);
            let previous_low = band.low(i - 1);
            let low = band.low(i);
            let base = copy[i - 1];
            let row = &mut aligner.traceback[i * width..(i + 1) * width];
            let (mut left_h, mut left_e) = (NEG, NEG);
            for (t, trace) in row.iter_mut().enumerate() {
                let j = low + t as i64;
                if !inside(j) {
                    (row_h[t], row_e[t], row_f[t]) = (NEG, NEG, NEG);
                    (left_h, left_e) = (NEG, NEG);
                    continue;
                }
                let previous = |column: i64| -> Option<usize> {
                    let slot = column - previous_low;
                    (0..width as i64).contains(&slot).then_some(slot as usize)
                };
                let diagonal = match previous(j - 1) {
                    Some(p) if j >= 1 && prev_h[p] > NEG => {
                        let pair = if base == consensus[j as usize - 1] && base < N_CODE {
                            scoring.match_score
                        } else {
                            scoring.mismatch
                        };
                        prev_h[p] + pair
                    }
                    _ => NEG,
                };
                let (f, f_extends) = match previous(j) {
                    Some(p) => {
                        let open = prev_h[p] + scoring.gap_open;
                        let extend = prev_f[p] + scoring.gap_extend;
                        if extend > open { (extend, true) } else { (open, false) }
                    }
                    None => (NEG, false),
                };
                let open = left_h + scoring.gap_open;
                let extend = left_e + scoring.gap_extend;
                let (e, e_extends) = if extend > open { (extend, true) } else { (open, false) };
                let (e, f) = (e.max(NEG), f.max(NEG));
                let (h, from) = if diagonal >= e && diagonal >= f {
                    (diagonal, FROM_DIAGONAL)
                } else if e >= f {
                    (e, FROM_E)
                } else {
                    (f, FROM_F)
                };
                *trace = from
                    | if e_extends { E_EXTENDS } else { 0 }
                    | if f_extends { F_EXTENDS } else { 0 };
                (row_h[t], row_e[t], row_f[t]) = (h, e, f);
                (left_h, left_e) = (h, e);
            }
        }
        // The best end in the last row (free trailing deletions); the first on ties.
        let last = copy.len();
        let low = band.low(last);
        let mut end = None;
        for t in 0..width {
            if inside(low + t as i64) && end.is_none_or(|(_, best)| row_h[t] > best) {
                end = Some((t, row_h[t]));
            }
        }
        let (end_slot, score) = end.expect("the band holds a column of the consensus");
        aligner.trace_back(copy, consensus, band, last, low + end_slot as i64, score)
    }

    proptest! {
        /// The padded band kernel gives the alignment (and edge contact) of the direct one for
        /// bands as [`Aligner::align`] lays them (ends on the consensus, a slope of 0 to 2
        /// consensus columns per copy base) at any position and width, with N in the copy and
        /// bands hanging over either end of the consensus.
        #[test]
        fn the_padded_kernel_equals_the_direct_one(
            copy in "[ACGTN]{1,120}",
            consensus in "[ACGT]{1,120}",
            start in 0.0f64..=1.0,
            slope in 0.0f64..=2.0,
            half_width in 2i64..40,
        ) {
            let (copy, consensus) = (codes(copy.as_bytes()), codes(consensus.as_bytes()));
            let m = consensus.len() as i64;
            let hint_start = (start * m as f64) as i64;
            let hint_end = (hint_start + (slope * copy.len() as f64) as i64).min(m);
            let band = Band {
                hint_start,
                hint_end,
                rows: copy.len() as i64,
                half_width,
                width: 2 * half_width as usize + 1,
            };
            let scoring = Scoring::default();
            let mut aligner = Aligner::default();
            let fast = aligner.align_in_band(&copy, &consensus, &band, &scoring);
            let direct = align_in_band_direct(&mut aligner, &copy, &consensus, &band, &scoring);
            prop_assert_eq!(fast, direct);
        }
    }

    const CONSENSUS: &[u8] = b"ACGTTGCAACGGTACCATGACGTAGCATTGACCAGTTACGGATCCAGT";

    #[test]
    fn an_exact_piece_is_found_where_it_lies_on_the_consensus() {
        let a = align(&CONSENSUS[10..40], CONSENSUS, 0..CONSENSUS.len());
        assert_eq!((a.consensus_start, a.consensus_end), (10, 40));
        assert_eq!((a.matches, a.transitions, a.transversions), (30, 0, 0));
        assert_eq!((a.inserted, a.deleted, a.score), (0, 0, 30));
        assert_eq!(a.kimura_divergence(), 0.0);
    }

    #[test]
    fn substitutions_insertions_and_deletions_are_counted() {
        let mut copy = CONSENSUS.to_vec();
        copy[5] = b'A'; // G -> A: a transition
        copy[20] = b'A'; // C -> A: a transversion
        copy[30] = b'G'; // A -> G: a transition
        copy.drain(40..43); // 3 consensus bases deleted
        copy.splice(12..12, *b"TTTT"); // 4 bases inserted
        let a = align(&copy, CONSENSUS, 0..CONSENSUS.len());
        assert_eq!((a.consensus_start, a.consensus_end), (0, CONSENSUS.len()));
        assert_eq!((a.transitions, a.transversions), (2, 1));
        assert_eq!((a.inserted, a.deleted), (4, 3));
        assert_eq!(a.matches as usize, CONSENSUS.len() - 3 - 3);
        assert_eq!(a.score, a.matches as i32 - 3 - (5 + 3) - (5 + 2));
        let expected_div = 100.0 * 3.0 / f64::from(a.compared());
        assert!((a.percent_divergence() - expected_div).abs() < 1e-9);
        assert!((a.percent_deletions() - 300.0 / CONSENSUS.len() as f64).abs() < 1e-9);
        assert!((a.percent_insertions() - 400.0 / copy.len() as f64).abs() < 1e-9);
    }

    #[test]
    fn a_wrong_hint_widens_the_band_instead_of_misaligning() {
        let mut state = 3u64;
        let consensus: Vec<u8> = (0..2000)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                b"ACGT"[(state >> 62) as usize]
            })
            .collect();
        let piece = consensus[1100..1400].to_vec();
        // 200 bases off: far outside the first band.
        let a = align(&piece, &consensus, 900..1200);
        assert_eq!((a.consensus_start, a.consensus_end), (1100, 1400));
        assert_eq!((a.matches, a.score), (300, 300));
    }

    #[test]
    fn kimura_distance_follows_the_formula_and_saturates() {
        let a =
            CopyAlignment { matches: 80, transitions: 15, transversions: 5, ..Default::default() };
        let (p, q) = (0.15f64, 0.05f64);
        let expected = -0.5 * ((1.0 - 2.0 * p - q) * (1.0 - 2.0 * q).sqrt()).ln() * 100.0;
        assert!((a.kimura_divergence() - expected).abs() < 1e-9);
        assert!(a.kimura_divergence() > a.percent_divergence());
        let saturated =
            CopyAlignment { matches: 10, transitions: 50, transversions: 40, ..Default::default() };
        assert_eq!(saturated.kimura_divergence(), 100.0);
    }

    /// Copies on both strands with a few substitutions: each annotated copy, read on the
    /// consensus's strand, is the consensus range its alignment names, with exactly the
    /// substitutions it counts.
    #[test]
    fn annotated_copies_align_to_the_right_consensus_range_on_both_strands() {
        use crate::{Params, find_repeats};
        use seqflow_genome::GenomeBuilder;
        let mut state = 17u64;
        let mut random = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    state =
                        state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    b"ACGT"[(state >> 62) as usize]
                })
                .collect()
        };
        let element = random(400);
        let revcomp = |s: &[u8]| -> Vec<u8> {
            s.iter()
                .rev()
                .map(|&b| match b {
                    b'A' => b'T',
                    b'C' => b'G',
                    b'G' => b'C',
                    _ => b'A',
                })
                .collect()
        };
        let mut seq = Vec::new();
        for copy in 0..5 {
            seq.extend(random(800));
            let mut planted = element.clone();
            for site in [37 + 50 * copy, 211 + 13 * copy] {
                planted[site] = if planted[site] == b'A' { b'C' } else { b'A' };
            }
            seq.extend(if copy % 2 == 1 { revcomp(&planted) } else { planted });
        }
        seq.extend(random(800));
        let mut builder = GenomeBuilder::new();
        builder.push_contig("chr", &seq).unwrap();
        let genome = builder.build();
        let repeats = find_repeats(&genome, &Params::default(), &mut |_| {}).unwrap();
        assert_eq!(repeats.elements.len(), 5);
        assert!(repeats.elements.iter().any(|e| e.element.reverse));
        assert!(repeats.elements.iter().any(|e| !e.element.reverse));
        for annotated in &repeats.elements {
            let (e, a) = (&annotated.element, &annotated.alignment);
            let consensus = &repeats.families[annotated.family].consensus;
            let bases = &seq[e.start as usize..e.end as usize];
            let copy = if e.reverse { revcomp(bases) } else { bases.to_vec() };
            let range = &consensus[a.consensus_start..a.consensus_end];
            assert_eq!(copy.len(), range.len(), "{a:?}");
            let differences = copy.iter().zip(range).filter(|(x, y)| x != y).count() as u32;
            assert_eq!(a.transitions + a.transversions, differences, "{a:?}");
            assert_eq!((a.inserted, a.deleted), (0, 0));
            assert!(differences <= 2 && a.score == copy.len() as i32 - 2 * differences as i32);
            assert_eq!((e.consensus_start, e.consensus_end), (a.consensus_start, a.consensus_end));
        }
    }

    proptest! {
        /// Whatever the copy, every copy base is accounted for once, the consensus range is
        /// what the path consumed, and the score is what the counts add up to.
        #[test]
        fn counts_add_up(copy in "[ACGTN]{1,200}", consensus in "[ACGT]{1,200}", start in 0usize..200, len in 0usize..200) {
            let hint = start.min(consensus.len())..(start + len).min(consensus.len());
            let a = align(copy.as_bytes(), consensus.as_bytes(), hint);
            prop_assert_eq!(a.compared() + a.ambiguous + a.inserted, copy.len() as u32);
            prop_assert_eq!(
                a.compared() + a.ambiguous + a.deleted,
                (a.consensus_end - a.consensus_start) as u32
            );
            prop_assert!(a.consensus_end <= consensus.len());
            let mismatches = (a.transitions + a.transversions + a.ambiguous) as i32;
            // Gap openings are not counted, so the score is at most the gap-extension total.
            prop_assert!(a.score <= a.matches as i32 - mismatches - (a.inserted + a.deleted) as i32);
        }
    }
}
