//! Redundant families: two consensi at least 80% identical over at least 80% of the shorter one
//! are one family (the criterion of `cd-hit-est -c 0.8`); the longer consensus stays.
//!
//! Candidate pairs share k-mers; the diagonal (on either strand) with the most shared k-mers
//! anchors a banded local alignment (match +1, mismatch −1, gap −2) that carries, in every cell,
//! the matches and columns of the best path into it, so identity and coverage come without a
//! traceback.

use std::collections::HashMap;

/// Length of the k-mers that propose candidate pairs.
const PAIR_K: usize = 11;
/// Fewest shared k-mers on one diagonal to try an alignment.
const MIN_SHARED: usize = 2;
/// A pair is aligned only if its best diagonal holds at least 1/this of the shorter length in
/// shared k-mers (a quarter of the ~7% expected at the redundancy threshold).
const EXPECTED_SHARED_DIVISOR: usize = 60;
/// Half-width of the band around the anchoring diagonal.
const BAND: i64 = 48;

/// Indices of the families to keep, given consensi as 2-bit codes in discovery order: families
/// are visited longest first (ties: earlier first) and dropped when redundant with one kept.
pub(crate) fn non_redundant(consensi: &[Vec<u8>], identity: f64, coverage: f64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..consensi.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(consensi[i].len()), i));
    let mut kept: Vec<usize> = Vec::new();
    let mut kmer_owners: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
    for i in order {
        let query = &consensi[i];
        let redundant = [false, true].into_iter().any(|reverse| {
            let oriented = if reverse { reverse_complement(query) } else { query.clone() };
            best_diagonals(&oriented, &kmer_owners).into_iter().any(|(family, diagonal, shared)| {
                let target = &consensi[family as usize];
                // 80% identity over 80% of the shorter one leaves, in expectation, about 7% of
                // its 11-mers intact on one diagonal; far fewer shared k-mers cannot qualify.
                if shared * EXPECTED_SHARED_DIVISOR < target.len().min(oriented.len()) {
                    return false;
                }
                let hit = banded_local(target, &oriented, diagonal);
                let shorter = target.len().min(oriented.len()) as f64;
                hit.columns > 0
                    && hit.matches as f64 >= identity * hit.columns as f64
                    && hit.span_a.min(hit.span_b) as f64 >= coverage * shorter
            })
        });
        if !redundant {
            for (pos, kmer) in kmers(query) {
                kmer_owners.entry(kmer).or_default().push((i as u32, pos as u32));
            }
            kept.push(i);
        }
    }
    kept.sort_unstable();
    kept
}

/// The 2-bit reverse complement of a code sequence.
pub(crate) fn reverse_complement(codes: &[u8]) -> Vec<u8> {
    codes.iter().rev().map(|&c| 3 - c).collect()
}

/// Every `PAIR_K`-mer of `codes` with its position (forward only).
fn kmers(codes: &[u8]) -> impl Iterator<Item = (usize, u32)> + '_ {
    codes
        .windows(PAIR_K)
        .enumerate()
        .map(|(pos, w)| (pos, w.iter().fold(0u32, |kmer, &c| (kmer << 2) | u32::from(c))))
}

/// For each kept family sharing k-mers with `query`, its most populated diagonal
/// (`query position − family position`) and its number of hits, if at least `MIN_SHARED`.
fn best_diagonals(query: &[u8], owners: &HashMap<u32, Vec<(u32, u32)>>) -> Vec<(u32, i64, usize)> {
    let mut hits: Vec<(u32, i64)> = Vec::new();
    for (pos, kmer) in kmers(query) {
        if let Some(list) = owners.get(&kmer) {
            hits.extend(list.iter().map(|&(family, at)| (family, pos as i64 - i64::from(at))));
        }
    }
    hits.sort_unstable();
    let mut best: Vec<(u32, i64, usize)> = Vec::new();
    for run in hits.chunk_by(|a, b| a == b) {
        let (family, diagonal) = run[0];
        match best.last_mut() {
            Some(last) if last.0 == family => {
                if run.len() > last.2 {
                    *last = (family, diagonal, run.len());
                }
            }
            _ => best.push((family, diagonal, run.len())),
        }
    }
    best.into_iter().filter(|b| b.2 >= MIN_SHARED).collect()
}

/// The best local alignment of `a` and `b` inside a band around `b_pos − a_pos = diagonal`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LocalHit {
    pub(crate) score: i32,
    pub(crate) matches: u32,
    pub(crate) columns: u32,
    pub(crate) span_a: usize,
    pub(crate) span_b: usize,
}

/// Cells of one band row, a field per array (slot `t` at index `t`; index `WIDTH` is a sentinel
/// that stays empty). A cell's best path into it: score, matches and columns so far, and where
/// it started. An empty cell has score 0 (no path worth extending); its other fields are stale.
#[derive(Debug, Clone)]
struct BandCells {
    score: [i32; WIDTH + 1],
    matches: [u32; WIDTH + 1],
    columns: [u32; WIDTH + 1],
    start_a: [u32; WIDTH + 1],
    start_b: [u32; WIDTH + 1],
}

/// Cells across the band.
const WIDTH: usize = (2 * BAND + 1) as usize;

impl BandCells {
    fn empty() -> Self {
        BandCells {
            score: [0; WIDTH + 1],
            matches: [0; WIDTH + 1],
            columns: [0; WIDTH + 1],
            start_a: [0; WIDTH + 1],
            start_b: [0; WIDTH + 1],
        }
    }
}

/// Banded Smith-Waterman of `a` (rows) against `b` (columns) around `diagonal` (match +1,
/// mismatch −1, gap −2). Each row is computed in two passes: the diagonal and vertical steps
/// of every cell (independent across the band), then the horizontal steps, which run along the
/// row. Ties keep the diagonal step, then the vertical one; the best hit is the first cell
/// reaching the top score.
pub(crate) fn banded_local(a: &[u8], b: &[u8], diagonal: i64) -> LocalHit {
    let (mut rows, mut other_rows) = (BandCells::empty(), BandCells::empty());
    // Swapped by reference after each row: the rows themselves are 2.4 kB each.
    let (mut prev, mut cur) = (&mut rows, &mut other_rows);
    let mut best = LocalHit::default();
    for i in 1..=a.len() {
        // Slot t is column j = first_j + t (1-based, bases of b consumed); cells with j
        // outside 1..=b.len() stay empty.
        let first_j = i as i64 + diagonal - BAND;
        let lo = (1 - first_j).clamp(0, WIDTH as i64) as usize;
        let hi = (b.len() as i64 + 1 - first_j).clamp(lo as i64, WIDTH as i64) as usize;
        cur.score[..lo].fill(0);
        cur.score[hi..WIDTH].fill(0);
        if lo < hi {
            let base = a[i - 1];
            let from_b = (first_j + lo as i64 - 1) as usize;
            let row_start = i as u32 - 1;
            for (t, &other) in (lo..hi).zip(&b[from_b..from_b + (hi - lo)]) {
                let same = base == other;
                let (mut score, mut matches, mut columns, mut start_a, mut start_b) =
                    if prev.score[t] > 0 {
                        (
                            prev.score[t],
                            prev.matches[t],
                            prev.columns[t],
                            prev.start_a[t],
                            prev.start_b[t],
                        )
                    } else {
                        (0, 0, 0, row_start, (first_j + t as i64 - 1) as u32)
                    };
                score += if same { 1 } else { -1 };
                matches += u32::from(same);
                columns += 1;
                // Gap in b (a base of a alone): from (i - 1, j), one slot right in the previous
                // row (the sentinel past the band is empty).
                if prev.score[t + 1] - 2 > score {
                    score = prev.score[t + 1] - 2;
                    matches = prev.matches[t + 1];
                    columns = prev.columns[t + 1] + 1;
                    start_a = prev.start_a[t + 1];
                    start_b = prev.start_b[t + 1];
                }
                cur.score[t] = score;
                cur.matches[t] = matches;
                cur.columns[t] = columns;
                cur.start_a[t] = start_a;
                cur.start_b[t] = start_b;
            }
            for t in lo..hi {
                // Gap in a: from (i, j - 1), one slot left in this row (never from an empty
                // cell: -2 loses to any step above).
                if t > lo && cur.score[t - 1] - 2 > cur.score[t] {
                    cur.score[t] = cur.score[t - 1] - 2;
                    cur.matches[t] = cur.matches[t - 1];
                    cur.columns[t] = cur.columns[t - 1] + 1;
                    cur.start_a[t] = cur.start_a[t - 1];
                    cur.start_b[t] = cur.start_b[t - 1];
                }
                if cur.score[t] <= 0 {
                    cur.score[t] = 0;
                } else if cur.score[t] > best.score {
                    let j = (first_j + t as i64) as usize;
                    best = LocalHit {
                        score: cur.score[t],
                        matches: cur.matches[t],
                        columns: cur.columns[t],
                        span_a: i - cur.start_a[t] as usize,
                        span_b: j - cur.start_b[t] as usize,
                    };
                }
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn random(rng: &mut StdRng, n: usize) -> Vec<u8> {
        (0..n).map(|_| rng.random_range(0..4u8)).collect()
    }

    fn mutate(rng: &mut StdRng, seq: &[u8], rate: f64) -> Vec<u8> {
        seq.iter()
            .map(|&c| if rng.random_bool(rate) { (c + rng.random_range(1..4)) % 4 } else { c })
            .collect()
    }

    #[derive(Debug, Clone, Copy, Default)]
    struct Path {
        score: i32,
        matches: u32,
        columns: u32,
        start_a: u32,
        start_b: u32,
    }

    /// The cell-by-cell form the two-pass rows replaced.
    fn reference_local(a: &[u8], b: &[u8], diagonal: i64) -> LocalHit {
        let width = (2 * BAND + 1) as usize;
        let empty = Path::default();
        let mut prev = vec![empty; width];
        let mut cur = vec![empty; width];
        let mut best = LocalHit::default();
        // Cell (i, t): row i of a (1-based, bases consumed), column j = i + diagonal + t - BAND.
        for i in 1..=a.len() {
            for t in 0..width {
                let j = i as i64 + diagonal + t as i64 - BAND;
                cur[t] = empty;
                if j < 1 || j > b.len() as i64 {
                    continue;
                }
                let j = j as usize;
                let same = a[i - 1] == b[j - 1];
                let start = Path {
                    score: 0,
                    matches: 0,
                    columns: 0,
                    start_a: i as u32 - 1,
                    start_b: j as u32 - 1,
                };
                let diag = if prev[t].score > 0 { prev[t] } else { start };
                let mut path = Path {
                    score: diag.score + if same { 1 } else { -1 },
                    matches: diag.matches + u32::from(same),
                    columns: diag.columns + 1,
                    ..diag
                };
                // Gap in b (a base of a alone): from (i - 1, j), one slot right in the previous row.
                if t + 1 < width && prev[t + 1].score - 2 > path.score {
                    let p = prev[t + 1];
                    path = Path { score: p.score - 2, columns: p.columns + 1, ..p };
                }
                // Gap in a: from (i, j - 1), one slot left in this row.
                if t > 0 && cur[t - 1].score - 2 > path.score {
                    let p = cur[t - 1];
                    path = Path { score: p.score - 2, columns: p.columns + 1, ..p };
                }
                if path.score <= 0 {
                    continue;
                }
                cur[t] = path;
                if path.score > best.score {
                    best = LocalHit {
                        score: path.score,
                        matches: path.matches,
                        columns: path.columns,
                        span_a: i - path.start_a as usize,
                        span_b: j - path.start_b as usize,
                    };
                }
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        best
    }

    #[test]
    fn two_pass_rows_give_the_cell_by_cell_hit() {
        let mut rng = StdRng::seed_from_u64(21);
        for round in 0..400 {
            let (len_a, before, after) =
                (rng.random_range(0..300), rng.random_range(0..60), rng.random_range(0..60));
            let rate = rng.random_range(0.0..0.4);
            let a = random(&mut rng, len_a);
            let from = rng.random_range(0..=a.len());
            let mut b = random(&mut rng, before);
            b.extend(mutate(&mut rng, &a[from..], rate));
            b.extend(random(&mut rng, after));
            if rng.random_bool(0.3) {
                // Indels: drop or repeat a few bases.
                let at = rng.random_range(0..=b.len());
                let piece: Vec<u8> = b[at..(at + 4).min(b.len())].to_vec();
                b.splice(at..at, piece);
            }
            let diagonal = rng.random_range(-120..120);
            assert_eq!(
                banded_local(&a, &b, diagonal),
                reference_local(&a, &b, diagonal),
                "round {round}"
            );
        }
    }

    #[test]
    fn identity_and_spans_of_a_diverged_piece() {
        let mut rng = StdRng::seed_from_u64(3);
        let a = random(&mut rng, 1000);
        let mut b = random(&mut rng, 100);
        b.extend(mutate(&mut rng, &a[200..800], 0.1));
        b.extend(random(&mut rng, 100));
        let hit = banded_local(&a, &b, -100);
        let identity = f64::from(hit.matches) / f64::from(hit.columns);
        assert!((0.85..0.95).contains(&identity), "{hit:?}");
        assert!(hit.span_a > 560 && hit.span_a <= 600, "{hit:?}");
    }

    #[test]
    fn redundant_families_collapse_to_the_longest_on_either_strand() {
        let mut rng = StdRng::seed_from_u64(8);
        let long = random(&mut rng, 1200);
        let close = reverse_complement(&mutate(&mut rng, &long[100..1100], 0.08));
        let distant = mutate(&mut rng, &long[100..1100], 0.35);
        let unrelated = random(&mut rng, 900);
        let part = long[0..400].to_vec(); // all of the shorter one matches: redundant
        let kept = non_redundant(&[close, long, distant, unrelated, part], 0.8, 0.8);
        assert_eq!(kept, vec![1, 2, 3]);
    }
}
