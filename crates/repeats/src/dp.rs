//! Banded affine-gap alignment, one consensus column at a time.
//!
//! A [`BandRow`] is one row of the dynamic programme aligning a consensus (rows: consensus bases
//! consumed) with one copy's flank (columns: copy bases consumed), kept only inside a band of
//! `2 × band + 1` cells around a centre diagonal. Rows are computed with Gotoh's three states:
//! `h` (best of all), `e` (ending in a gap in the consensus: the copy has an extra base) and `f`
//! (ending in a gap in the copy). After each row the band centre moves one diagonal towards the
//! row's best cell, so a copy whose indels accumulate stays inside the band.
//!
//! Two users: [`crate::family`] extends a consensus against many copies at once, trying each of
//! the four bases for the next column ([`advance_all`] into [`FourRows`], then
//! [`FourRows::pick_into`]); [`align_outward`] re-aligns one copy to a finished consensus to find
//! where the copy ends.
//!
//! A row stores only `h` and `f` (a row's `e` depends on its own cells alone), with dead
//! sentinel cells on both sides of the band, so a cell's predecessors never need a range check.
//! Dead cells are not pinned to [`NEG`]: they never fall below it and rise by at most one match
//! per row, so over any feasible number of rows (a consensus side is at most a few million
//! bases) they stay hundreds of millions below every live score. Every row keeps a live cell
//! (the best cell's diagonal successor stays in the band), so no decision rests on a dead value.

use crate::flank::Flank;
use crate::params::Scoring;
use seqflow_genome::Genome;

/// Widest band the fixed-size rows hold (half-width 16).
pub(crate) const MAX_BAND: usize = 16;
const MAX_WIDTH: usize = 2 * MAX_BAND + 1;
/// Stored cells of a row: slot `t` of the band at index `t + 1`, one dead sentinel before the
/// band and two after it (a cell's diagonal predecessor is at most one slot to either side, its
/// vertical one a slot further right).
const STORED: usize = MAX_WIDTH + 3;
/// "Impossible" score, far enough from `i32::MIN` that adding penalties cannot overflow.
pub(crate) const NEG: i32 = i32::MIN / 4;

/// `N` rows of the banded alignment of a consensus with a copy that share their `f` states and
/// band: the rows for `N` candidate consensus bases after the same row. Lane `b` of `h[i]` is
/// row `b`'s cell at index `i`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rows<const N: usize> {
    h: [[i32; N]; STORED],
    f: [i32; STORED],
    /// Copy bases consumed minus consensus bases consumed at the band's middle cell.
    center: i64,
    /// Consensus bases consumed.
    row: usize,
}

/// One row of the banded alignment of a consensus with a copy.
pub(crate) type BandRow = Rows<1>;

/// The four rows after one row, for consensus bases A, C, G and T ([`advance_all`]).
pub(crate) type FourRows = Rows<4>;

/// The best cell of a row: its score and the copy bases consumed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cell {
    pub(crate) score: i32,
    pub(crate) copy_len: usize,
    /// Band index, to steer the centre.
    slot: usize,
}

impl<const N: usize> Rows<N> {
    /// Rows with every cell dead.
    fn dead(center: i64, row: usize) -> Self {
        Rows { h: [[NEG; N]; STORED], f: [NEG; STORED], center, row }
    }

    /// The slot of lane `lane`'s best cell in a band of `width` slots (first one on ties).
    fn best_slot(&self, lane: usize, width: usize) -> usize {
        (1..width)
            .fold(0, |best, t| if self.h[t + 1][lane] > self.h[best + 1][lane] { t } else { best })
    }
}

impl BandRow {
    /// Row 0: nothing consumed (score 0); cells to the right have skipped copy bases.
    pub(crate) fn origin(scoring: &Scoring) -> Self {
        assert!(scoring.band <= MAX_BAND, "band {} exceeds {MAX_BAND}", scoring.band);
        let mut row = BandRow::dead(0, 0);
        row.h[scoring.band + 1] = [0];
        for t in scoring.band + 1..2 * scoring.band + 1 {
            let skipped = (t - scoring.band) as i32;
            row.h[t + 1] = [scoring.gap_open + scoring.gap_extend * (skipped - 1)];
        }
        row
    }

    /// A row after `row` consensus bases whose only live cell has consumed `copy_len` copy
    /// bases with `score`: restarts a copy on a diagonal found again after it was lost.
    pub(crate) fn anchored(scoring: &Scoring, row: usize, copy_len: usize, score: i32) -> Self {
        let mut anchored = BandRow::dead(copy_len as i64 - row as i64, row);
        anchored.h[scoring.band + 1] = [score];
        anchored
    }

    /// Copy bases consumed at the band's middle cell.
    pub(crate) fn center_copy_len(&self) -> i64 {
        self.row as i64 + self.center
    }

    /// Copy bases the flank must hold for the next row to see every base it can use.
    pub(crate) fn next_flank_need(&self, scoring: &Scoring) -> usize {
        (self.center_copy_len() + scoring.band as i64 + 2).max(0) as usize
    }

    /// The best cell of this row (first one on ties).
    pub(crate) fn best(&self, scoring: &Scoring) -> Cell {
        let slot = self.best_slot(0, 2 * scoring.band + 1);
        let copy_len = (self.center_copy_len() + slot as i64 - scoring.band as i64).max(0);
        Cell { score: self.h[slot + 1][0], copy_len: copy_len as usize, slot }
    }

    /// Computes into `out` the next row, in which the consensus base is `base`, against the
    /// copy bases `copy` (codes; missing or N bases mismatch). `steer` is the best cell of this
    /// row: the band moves one diagonal towards it. Returns the new row's best cell.
    pub(crate) fn advance(
        &self,
        base: u8,
        copy: &[u8],
        scoring: &Scoring,
        steer: Cell,
        out: &mut BandRow,
    ) -> Cell {
        step(self, copy, scoring, steer, [base], out)[0]
    }
}

impl FourRows {
    /// Rows with every cell dead, to be filled by [`advance_all`].
    pub(crate) fn empty() -> Self {
        FourRows::dead(0, 0)
    }

    /// Makes `row` the row of consensus base `base`, copying only the cells of the band: `row`
    /// must be a row of `scoring`'s band (its cells outside the band are dead, as every row's
    /// are).
    pub(crate) fn pick_into(&self, base: usize, scoring: &Scoring, row: &mut BandRow) {
        let end = 2 * scoring.band + 2;
        for (one, four) in row.h[1..end].iter_mut().zip(&self.h[1..end]) {
            *one = [four[base]];
        }
        row.f[1..end].copy_from_slice(&self.f[1..end]);
        (row.center, row.row) = (self.center, self.row);
    }
}

/// The four rows [`BandRow::advance`] would give for consensus bases A, C, G and T, computed in
/// one pass: the predecessors and the copy base of each cell are looked up once, and the four
/// candidates move together in the lanes of one array. Returns each row's best cell.
pub(crate) fn advance_all(
    row: &BandRow,
    copy: &[u8],
    scoring: &Scoring,
    steer: Cell,
    out: &mut FourRows,
) -> [Cell; 4] {
    step(row, copy, scoring, steer, [0, 1, 2, 3], out)
}

/// The rows after `row` for each of the consensus `bases`, into the lanes of `out`, with each
/// row's best cell (first one on ties).
fn step<const N: usize>(
    row: &BandRow,
    copy: &[u8],
    scoring: &Scoring,
    steer: Cell,
    bases: [u8; N],
    out: &mut Rows<N>,
) -> [Cell; N] {
    let band = scoring.band;
    let width = 2 * band + 1;
    let (gap_open, gap_extend) = (scoring.gap_open, scoring.gap_extend);
    let shift = (steer.slot as i64 - band as i64).signum();
    out.row = row.row + 1;
    out.center = row.center + shift;
    let first_copy_len = out.row as i64 + out.center - band as i64;

    // The copy base consumed by a diagonal step into each slot (u8::MAX, never equal to a
    // consensus base, where the copy has none).
    let mut copy_bases = [u8::MAX; MAX_WIDTH];
    let lo = (1 - first_copy_len).clamp(0, width as i64) as usize;
    let hi = (copy.len() as i64 + 1 - first_copy_len).clamp(lo as i64, width as i64) as usize;
    if lo < hi {
        let from = (first_copy_len + lo as i64 - 1) as usize;
        copy_bases[lo..hi].copy_from_slice(&copy[from..from + (hi - lo)]);
    }
    // Slot t's diagonal predecessor is the previous row's slot t + shift (stored at
    // t + shift + 1), its vertical one the slot after that.
    let diagonal_from = (shift + 1) as usize;
    let vertical_from = diagonal_from + 1;
    for t in 0..width {
        let v = vertical_from + t;
        out.f[t + 1] = (row.h[v][0] + gap_open).max(row.f[v] + gap_extend).max(NEG);
    }
    // Each cell's best without a gap in the consensus (independent across the band), then the
    // one sequential part: gaps in the consensus run along the row.
    let (match_score, mismatch) = (scoring.match_score, scoring.mismatch);
    for (t, &copy_base) in copy_bases[..width].iter().enumerate() {
        let diagonal = row.h[diagonal_from + t][0];
        let f = out.f[t + 1];
        for (cell, &base) in out.h[t + 1].iter_mut().zip(&bases) {
            let pair = if copy_base == base { match_score } else { mismatch };
            *cell = (diagonal + pair).max(f);
        }
    }
    // A dead cell's `e` may sink a few points below NEG within a row; it never reaches a live
    // score, and `h` stays at least NEG through `f`.
    let mut left_h = [NEG; N];
    let mut left_e = [NEG; N];
    for cell in &mut out.h[1..=width] {
        for b in 0..N {
            let e = (left_h[b] + gap_open).max(left_e[b] + gap_extend);
            let h = cell[b].max(e);
            cell[b] = h;
            (left_h[b], left_e[b]) = (h, e);
        }
    }
    std::array::from_fn(|lane| {
        let slot = out.best_slot(lane, width);
        let copy_len = (first_copy_len + slot as i64).max(0) as usize;
        Cell { score: out.h[slot + 1][lane], copy_len, slot }
    })
}

/// The most a row's best score can exceed the previous row's: one diagonal step's best score
/// (gaps only lose while their penalties are not positive; `None` if one is, and no bound holds).
pub(crate) fn max_row_gain(scoring: &Scoring) -> Option<i64> {
    (scoring.gap_open <= 0 && scoring.gap_extend <= 0)
        .then(|| i64::from(scoring.match_score.max(scoring.mismatch).max(0)))
}

/// Where a copy's alignment to one side of a consensus ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reach {
    /// Best score of the side (0 when nothing beyond the seed aligns).
    pub(crate) score: i32,
    /// Copy bases consumed at the best cell.
    pub(crate) copy_len: usize,
    /// Consensus bases consumed at the best cell.
    pub(crate) consensus_len: usize,
}

/// Aligns `consensus` (one side of a consensus, read outward from the seed) with a copy's flank
/// and returns the best-scoring end; gives up `stop_after` rows past the best.
///
/// It also stops as soon as no row it would still compute can beat the best: a row's best score
/// exceeds the previous row's by at most [`max_row_gain`], so the answer is the same as running
/// to the end of the rule, without the rows of a copy that has plainly ended.
pub(crate) fn align_outward(
    consensus: &[u8],
    flank: &mut Flank,
    genome: &Genome,
    scoring: &Scoring,
    stop_after: usize,
) -> Reach {
    let (mut rows, mut other_rows) = (BandRow::origin(scoring), BandRow::origin(scoring));
    // Swapped by reference after each row (a row is a few hundred bytes).
    let (mut row, mut next) = (&mut rows, &mut other_rows);
    let mut steer = row.best(scoring);
    let mut reach = Reach { score: 0, copy_len: 0, consensus_len: 0 };
    let gain = max_row_gain(scoring);
    for (i, &base) in consensus.iter().enumerate() {
        let copy = flank.bases(genome, row.next_flank_need(scoring));
        steer = row.advance(base, copy, scoring, steer, next);
        std::mem::swap(&mut row, &mut next);
        let rows = i + 1;
        if steer.score > reach.score {
            reach = Reach { score: steer.score, copy_len: steer.copy_len, consensus_len: rows };
        }
        if rows - reach.consensus_len >= stop_after {
            break;
        }
        // Rows still to come: up to `stop_after` past the best, within the consensus.
        let left = (reach.consensus_len + stop_after).min(consensus.len()) - rows;
        if let Some(gain) = gain
            && i64::from(steer.score) + gain * left as i64 <= i64::from(reach.score)
        {
            break;
        }
    }
    reach
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Occurrence;
    use seqflow_genome::GenomeBuilder;

    fn codes(s: &[u8]) -> Vec<u8> {
        s.iter().map(|&b| b"ACGT".iter().position(|&x| x == b).unwrap() as u8).collect()
    }

    /// Aligns `consensus` against what follows a 1-base seed at position 0 of `copy`.
    fn reach(consensus: &[u8], copy: &[u8]) -> Reach {
        let mut builder = GenomeBuilder::new();
        builder.push_contig("c", copy).unwrap();
        let genome = builder.build();
        let (_, mut right) = Flank::around(&genome, Occurrence::new(0, false), 1);
        align_outward(&codes(consensus), &mut right, &genome, &Scoring::default(), 100)
    }

    #[test]
    fn identical_copy_aligns_to_the_end() {
        let r = reach(b"ACGTTGCAAC", b"GACGTTGCAACTTTTTTTT");
        assert_eq!(r, Reach { score: 10, copy_len: 10, consensus_len: 10 });
    }

    #[test]
    fn deletion_and_insertion_move_the_copy_end_not_the_consensus_end() {
        // Copy lacks "GG" (a 2-base deletion): 24 matches - 5 - 1.
        let consensus = b"ACGTTGCAACGGTACCATGACGTAGCA";
        let copy = b"TACGTTGCAACTACCATGACGTAGCAAAAAAAAA";
        let r = reach(consensus, copy);
        assert_eq!(r.consensus_len, 27);
        assert_eq!(r.copy_len, 25);
        assert_eq!(r.score, 25 - 6);
        // Copy has 3 extra bases.
        let copy = b"TACGTTGCAACGGTTTTACCATGACGTAGCAGGGGGGGG";
        let r = reach(consensus, copy);
        assert_eq!((r.consensus_len, r.copy_len, r.score), (27, 30, 27 - 7));
    }

    /// The direct formulation of one row (every predecessor range-checked, dead cells exactly
    /// [`NEG`]): the reference the padded kernel must agree with on every live cell.
    struct Reference {
        h: [i32; MAX_WIDTH],
        f: [i32; MAX_WIDTH],
        center: i64,
        row: usize,
    }

    impl Reference {
        fn origin(scoring: &Scoring) -> Self {
            let mut h = [NEG; MAX_WIDTH];
            h[scoring.band] = 0;
            for skipped in 1..=scoring.band {
                h[scoring.band + skipped] =
                    scoring.gap_open + scoring.gap_extend * (skipped as i32 - 1);
            }
            Reference { h, f: [NEG; MAX_WIDTH], center: 0, row: 0 }
        }

        fn advance(&self, base: u8, copy: &[u8], scoring: &Scoring, steer_slot: usize) -> Self {
            let band = scoring.band as i64;
            let width = 2 * scoring.band + 1;
            let shift = (steer_slot as i64 - band).signum();
            let (row, center) = (self.row + 1, self.center + shift);
            let mut next = Reference { h: [NEG; MAX_WIDTH], f: [NEG; MAX_WIDTH], center, row };
            let (mut left_h, mut left_e) = (NEG, NEG);
            for t in 0..width {
                let copy_len = row as i64 + center - band + t as i64;
                if copy_len < 0 {
                    continue;
                }
                let diagonal = t as i64 + shift;
                let inside = |slot: i64| (0..width as i64).contains(&slot);
                let matched =
                    if copy_len >= 1 && inside(diagonal) && self.h[diagonal as usize] > NEG {
                        let copy_base = copy.get(copy_len as usize - 1).copied().unwrap_or(u8::MAX);
                        let pair =
                            if copy_base == base { scoring.match_score } else { scoring.mismatch };
                        self.h[diagonal as usize] + pair
                    } else {
                        NEG
                    };
                let f = if inside(diagonal + 1) {
                    let v = (diagonal + 1) as usize;
                    (self.h[v] + scoring.gap_open).max(self.f[v] + scoring.gap_extend).max(NEG)
                } else {
                    NEG
                };
                let e = (left_h + scoring.gap_open).max(left_e + scoring.gap_extend).max(NEG);
                let h = matched.max(e).max(f);
                (next.h[t], next.f[t]) = (h, f);
                (left_h, left_e) = (h, e);
            }
            next
        }

        /// First best slot and its score.
        fn best(&self, scoring: &Scoring) -> (usize, i32) {
            let width = 2 * scoring.band + 1;
            let slot = (1..width).fold(0, |s, t| if self.h[t] > self.h[s] { t } else { s });
            (slot, self.h[slot])
        }
    }

    /// Live cells equal; dead ones stay far below any live score.
    fn same_cells(padded: &BandRow, reference: &Reference, width: usize) {
        assert_eq!((padded.center, padded.row), (reference.center, reference.row));
        for t in 0..width {
            for (got, want) in
                [(padded.h[t + 1][0], reference.h[t]), (padded.f[t + 1], reference.f[t])]
            {
                if want > NEG {
                    assert_eq!(got, want, "slot {t}");
                } else {
                    assert!(got < NEG / 2, "slot {t}: dead cell at {got}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        /// The padded kernel (and each lane of `advance_all`) against the direct formulation,
        /// for any band, any copy (short ones included: the flank may end) and N bases (code 4).
        #[test]
        fn kernel_agrees_with_the_direct_formulation(
            band in 1usize..=MAX_BAND,
            consensus in proptest::collection::vec(0u8..4, 1..120),
            copy in proptest::collection::vec(0u8..5, 0..140),
            anchor in proptest::option::of((0usize..40, -10i32..30)),
        ) {
            let scoring = Scoring { band, ..Scoring::default() };
            let width = 2 * band + 1;
            let (mut row, mut reference) = match anchor {
                None => (BandRow::origin(&scoring), Reference::origin(&scoring)),
                Some((copy_len, score)) => {
                    let mut reference = Reference::origin(&scoring);
                    reference.h = [NEG; MAX_WIDTH];
                    reference.h[band] = score;
                    reference.center = copy_len as i64;
                    (BandRow::anchored(&scoring, 0, copy_len, score), reference)
                }
            };
            let mut steer = row.best(&scoring);
            for &base in &consensus {
                let (slot, score) = reference.best(&scoring);
                proptest::prop_assert_eq!((steer.slot, steer.score), (slot, score));
                let mut four = FourRows::empty();
                let cells = advance_all(&row, &copy, &scoring, steer, &mut four);
                let mut one = row;
                let cell = row.advance(base, &copy, &scoring, steer, &mut one);
                reference = reference.advance(base, &copy, &scoring, steer.slot);
                same_cells(&one, &reference, width);
                let mut picked = row;
                four.pick_into(usize::from(base), &scoring, &mut picked);
                same_cells(&picked, &reference, width);
                proptest::prop_assert_eq!(cell, cells[usize::from(base)]);
                proptest::prop_assert_eq!(cell, one.best(&scoring));
                row = one;
                steer = cell;
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Stopping when no later row can beat the best gives what running the rule to its end
        /// gives: a copy that matches the consensus for a while, then random bases.
        #[test]
        fn early_stop_changes_no_reach(
            consensus in proptest::collection::vec(0u8..4, 1..400),
            kept in 0usize..400,
            tail in proptest::collection::vec(0u8..4, 0..300),
            stop_after in 1usize..120,
        ) {
            let mut copy = vec![0u8];
            copy.extend(consensus.iter().take(kept).copied());
            copy.extend(tail);
            let letters: Vec<u8> = copy.iter().map(|&c| b"ACGT"[usize::from(c)]).collect();
            let mut builder = GenomeBuilder::new();
            builder.push_contig("c", &letters).unwrap();
            let genome = builder.build();
            let scoring = Scoring::default();
            let (_, mut flank) = Flank::around(&genome, Occurrence::new(0, false), 1);
            let got = align_outward(&consensus, &mut flank, &genome, &scoring, stop_after);
            let (_, mut flank) = Flank::around(&genome, Occurrence::new(0, false), 1);
            let mut row = BandRow::origin(&scoring);
            let mut next = row;
            let mut steer = row.best(&scoring);
            let mut want = Reach { score: 0, copy_len: 0, consensus_len: 0 };
            for (i, &base) in consensus.iter().enumerate() {
                let bases = flank.bases(&genome, row.next_flank_need(&scoring));
                steer = row.advance(base, bases, &scoring, steer, &mut next);
                std::mem::swap(&mut row, &mut next);
                if steer.score > want.score {
                    let (score, copy_len) = (steer.score, steer.copy_len);
                    want = Reach { score, copy_len, consensus_len: i + 1 };
                }
                if i + 1 - want.consensus_len >= stop_after {
                    break;
                }
            }
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn band_follows_accumulating_indels() {
        // Eight separate 2-base insertions: 16 net, beyond a fixed band of 5.
        let unit = b"ACGTTGCAACGGTACCATGACGTAGCATTGACCA";
        let consensus: Vec<u8> = unit.iter().cycle().take(unit.len() * 8).copied().collect();
        let mut copy = b"T".to_vec();
        for chunk in consensus.chunks(unit.len()) {
            copy.extend_from_slice(chunk);
            copy.extend_from_slice(b"TT");
        }
        let r = reach(&consensus, &copy);
        assert_eq!(r.consensus_len, consensus.len());
        assert!(r.copy_len >= consensus.len() + 14, "{r:?}");
    }
}
