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
//! the four bases for the next column ([`BandRow::advance`]); [`align_outward`] re-aligns one copy
//! to a finished consensus to find where the copy ends.

use crate::flank::Flank;
use crate::params::Scoring;
use seqflow_genome::Genome;

/// Widest band the fixed-size rows hold (half-width 16).
pub(crate) const MAX_BAND: usize = 16;
const MAX_WIDTH: usize = 2 * MAX_BAND + 1;
/// "Impossible" score, far enough from `i32::MIN` that adding penalties cannot overflow.
pub(crate) const NEG: i32 = i32::MIN / 4;

/// One row of the banded alignment of a consensus with a copy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BandRow {
    h: [i32; MAX_WIDTH],
    e: [i32; MAX_WIDTH],
    f: [i32; MAX_WIDTH],
    /// Copy bases consumed minus consensus bases consumed at the band's middle cell.
    center: i64,
    /// Consensus bases consumed.
    row: usize,
}

/// The best cell of a row: its score and the copy bases consumed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cell {
    pub(crate) score: i32,
    pub(crate) copy_len: usize,
    /// Band index, to steer the centre.
    slot: usize,
}

impl BandRow {
    /// Row 0: nothing consumed (score 0); cells to the right have skipped copy bases.
    pub(crate) fn origin(scoring: &Scoring) -> Self {
        assert!(scoring.band <= MAX_BAND, "band {} exceeds {MAX_BAND}", scoring.band);
        let mut row = BandRow {
            h: [NEG; MAX_WIDTH],
            e: [NEG; MAX_WIDTH],
            f: [NEG; MAX_WIDTH],
            center: 0,
            row: 0,
        };
        row.h[scoring.band] = 0;
        for t in scoring.band + 1..2 * scoring.band + 1 {
            let skipped = (t - scoring.band) as i32;
            let score = scoring.gap_open + scoring.gap_extend * (skipped - 1);
            row.e[t] = score;
            row.h[t] = score;
        }
        row
    }

    /// A row after `row` consensus bases whose only live cell has consumed `copy_len` copy
    /// bases with `score`: restarts a copy on a diagonal found again after it was lost.
    pub(crate) fn anchored(scoring: &Scoring, row: usize, copy_len: usize, score: i32) -> Self {
        let mut anchored = BandRow {
            h: [NEG; MAX_WIDTH],
            e: [NEG; MAX_WIDTH],
            f: [NEG; MAX_WIDTH],
            center: copy_len as i64 - row as i64,
            row,
        };
        anchored.h[scoring.band] = score;
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
        let width = 2 * scoring.band + 1;
        let mut slot = 0;
        for t in 1..width {
            if self.h[t] > self.h[slot] {
                slot = t;
            }
        }
        let copy_len = (self.center_copy_len() + slot as i64 - scoring.band as i64).max(0);
        Cell { score: self.h[slot], copy_len: copy_len as usize, slot }
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
        let band = scoring.band as i64;
        let width = 2 * scoring.band + 1;
        let shift = (steer.slot as i64 - band).signum();
        out.row = self.row + 1;
        out.center = self.center + shift;
        let first_copy_len = out.row as i64 + out.center - band;
        let (mut left_h, mut left_e) = (NEG, NEG);
        let mut best = Cell { score: NEG, copy_len: 0, slot: scoring.band };
        for t in 0..width {
            let copy_len = first_copy_len + t as i64;
            if copy_len < 0 {
                out.h[t] = NEG;
                out.e[t] = NEG;
                out.f[t] = NEG;
                continue;
            }
            // Diagonal predecessor (row - 1, copy_len - 1) sits at slot t + shift of `self`;
            // the vertical one (row - 1, copy_len) one slot further.
            let diagonal = t as i64 + shift;
            let matched = if copy_len >= 1 && (0..width as i64).contains(&diagonal) {
                let copy_base = copy.get(copy_len as usize - 1).copied().unwrap_or(u8::MAX);
                let pair = if copy_base == base { scoring.match_score } else { scoring.mismatch };
                let diag_h = self.h[diagonal as usize];
                if diag_h > NEG { diag_h + pair } else { NEG }
            } else {
                NEG
            };
            let vertical = diagonal + 1;
            let f = if (0..width as i64).contains(&vertical) {
                let v = vertical as usize;
                (self.h[v] + scoring.gap_open).max(self.f[v] + scoring.gap_extend)
            } else {
                NEG
            };
            let e = (left_h + scoring.gap_open).max(left_e + scoring.gap_extend);
            let h = matched.max(e).max(f).max(NEG);
            out.h[t] = h;
            out.e[t] = e.max(NEG);
            out.f[t] = f.max(NEG);
            (left_h, left_e) = (h, e.max(NEG));
            if h > best.score {
                best = Cell { score: h, copy_len: copy_len as usize, slot: t };
            }
        }
        best
    }
}

/// The four rows [`BandRow::advance`] would give for consensus bases A, C, G and T, computed in
/// one pass: the predecessors and the copy base of each cell are looked up once, and the four
/// candidates move together (the inner arrays of four let the compiler use vector lanes).
/// Returns each row's best cell.
pub(crate) fn advance_all(
    row: &BandRow,
    copy: &[u8],
    scoring: &Scoring,
    steer: Cell,
    out: &mut [BandRow; 4],
) -> [Cell; 4] {
    let band = scoring.band as i64;
    let width = 2 * scoring.band + 1;
    let shift = (steer.slot as i64 - band).signum();
    let next_row = row.row + 1;
    let center = row.center + shift;
    let first_copy_len = next_row as i64 + center - band;
    let mut left_h = [NEG; 4];
    let mut left_e = [NEG; 4];
    let mut best = [Cell { score: NEG, copy_len: 0, slot: scoring.band }; 4];
    for o in out.iter_mut() {
        o.row = next_row;
        o.center = center;
    }
    for t in 0..width {
        let copy_len = first_copy_len + t as i64;
        if copy_len < 0 {
            for o in out.iter_mut() {
                (o.h[t], o.e[t], o.f[t]) = (NEG, NEG, NEG);
            }
            continue;
        }
        let diagonal = t as i64 + shift;
        let (diag_h, copy_base) = if copy_len >= 1 && (0..width as i64).contains(&diagonal) {
            let base = copy.get(copy_len as usize - 1).copied().unwrap_or(u8::MAX);
            (row.h[diagonal as usize], base)
        } else {
            (NEG, u8::MAX)
        };
        let vertical = diagonal + 1;
        let f = if (0..width as i64).contains(&vertical) {
            let v = vertical as usize;
            (row.h[v] + scoring.gap_open).max(row.f[v] + scoring.gap_extend).max(NEG)
        } else {
            NEG
        };
        for b in 0..4 {
            let pair = if copy_base == b as u8 { scoring.match_score } else { scoring.mismatch };
            let matched = if diag_h > NEG { diag_h + pair } else { NEG };
            let e = (left_h[b] + scoring.gap_open).max(left_e[b] + scoring.gap_extend).max(NEG);
            let h = matched.max(e).max(f);
            let o = &mut out[b];
            (o.h[t], o.e[t], o.f[t]) = (h, e, f);
            (left_h[b], left_e[b]) = (h, e);
            if h > best[b].score {
                best[b] = Cell { score: h, copy_len: copy_len as usize, slot: t };
            }
        }
    }
    best
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
pub(crate) fn align_outward(
    consensus: &[u8],
    flank: &mut Flank,
    genome: &Genome,
    scoring: &Scoring,
    stop_after: usize,
) -> Reach {
    let mut row = BandRow::origin(scoring);
    let mut next = row;
    let mut steer = row.best(scoring);
    let mut reach = Reach { score: 0, copy_len: 0, consensus_len: 0 };
    for (i, &base) in consensus.iter().enumerate() {
        let copy = flank.bases(genome, row.next_flank_need(scoring));
        steer = row.advance(base, copy, scoring, steer, &mut next);
        std::mem::swap(&mut row, &mut next);
        if steer.score > reach.score {
            reach = Reach { score: steer.score, copy_len: steer.copy_len, consensus_len: i + 1 };
        }
        if i + 1 - reach.consensus_len >= stop_after {
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

    #[test]
    fn advance_all_gives_the_rows_of_advance() {
        let scoring = Scoring::default();
        let copy = codes(b"ACGTTAGCATTACGGATCAGGAC");
        let consensus = codes(b"ACGTAGCATTTACGGTCAGGACC");
        let mut row = BandRow::origin(&scoring);
        let mut steer = row.best(&scoring);
        for &next_base in &consensus {
            let mut all = [row; 4];
            let cells = advance_all(&row, &copy, &scoring, steer, &mut all);
            for base in 0..4u8 {
                let mut one = row;
                let cell = row.advance(base, &copy, &scoring, steer, &mut one);
                let b = usize::from(base);
                assert_eq!(cell, cells[b]);
                assert_eq!(
                    (one.h, one.e, one.f, one.center),
                    (all[b].h, all[b].e, all[b].f, all[b].center)
                );
            }
            row = all[usize::from(next_base)];
            steer = cells[usize::from(next_base)];
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
