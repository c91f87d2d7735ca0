//! The finished statistics of one input, with seqkit's definitions and rounding.

use serde::Serialize;

use crate::accumulator::{Accumulator, LengthHistogram};

/// One row of `seqflow stats`: the columns of `seqkit stats -a`.
///
/// Definitions follow seqkit (v2.8 and later):
/// - lengths count every sequence letter, gaps included; `avg_len` is rounded to 1 decimal;
/// - `q1`/`q2`/`q3` are the quartiles of lengths: the median of the lower and upper halves,
///   each half including the middle element when the count is odd;
/// - `sum_gap` counts `-`, `.` and spaces; `sum_n` counts `N`/`n`;
/// - `n50` is the length of the sequence at which the cumulative length of sequences sorted
///   longest first reaches half the total, `n50_num` the number of sequences up to it (L50);
/// - `q20`/`q30` are the percentages of bases with Phred+33 quality ≥ 20 / ≥ 30, and
///   `avg_qual` is the Phred value of the mean error probability over all bases;
/// - `gc` is the percentage of `G`/`C` (either case) among all letters.
///
/// Percentages and averages are rounded half up to 2 decimals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Input name.
    pub file: String,
    /// `FASTA`, `FASTQ`, or empty for an input without records.
    pub format: String,
    /// `DNA`, `RNA`, `Protein`, or empty for an input without records.
    #[serde(rename = "type")]
    pub seq_type: String,
    /// Number of sequences.
    pub num_seqs: u64,
    /// Total length.
    pub sum_len: u64,
    /// Shortest length.
    pub min_len: u64,
    /// Mean length.
    pub avg_len: f64,
    /// Longest length.
    pub max_len: u64,
    /// First quartile of lengths.
    #[serde(rename = "Q1")]
    pub q1: f64,
    /// Median length.
    #[serde(rename = "Q2")]
    pub q2: f64,
    /// Third quartile of lengths.
    #[serde(rename = "Q3")]
    pub q3: f64,
    /// Number of gap letters.
    pub sum_gap: u64,
    /// N50 length.
    #[serde(rename = "N50")]
    pub n50: u64,
    /// Number of sequences up to the N50 (L50).
    #[serde(rename = "N50_num")]
    pub n50_num: u64,
    /// Percentage of bases with quality ≥ 20.
    #[serde(rename = "Q20(%)")]
    pub q20: f64,
    /// Percentage of bases with quality ≥ 30.
    #[serde(rename = "Q30(%)")]
    pub q30: f64,
    /// Average quality (from the mean error probability).
    #[serde(rename = "AvgQual")]
    pub avg_qual: f64,
    /// GC content in percent.
    #[serde(rename = "GC(%)")]
    pub gc: f64,
    /// Number of `N` letters.
    pub sum_n: u64,
}

/// Rounds half up to `digits` decimals, exactly as seqkit does before printing.
pub(crate) fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    ((value + 0.5 / scale) * scale).trunc() / scale
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { round(part as f64 / whole as f64 * 100.0, 2) }
}

impl Accumulator {
    /// Computes the finished row for input `file`.
    pub fn summarize(&self, file: &str) -> Summary {
        let quals = self.quals.totals();
        let lengths = Distribution::new(&self.lengths);
        let sum_len = lengths.total;
        let (n50, n50_num) = lengths.n50();
        let [q1, q2, q3] = lengths.quartiles();
        let quality_bases: u64 = quals.iter().sum();
        let at_least = |q: u8| quals[(33 + q as usize)..].iter().sum::<u64>();
        Summary {
            file: file.to_string(),
            format: self.format.map(|f| f.name().to_string()).unwrap_or_default(),
            seq_type: self.seq_type.map(|t| t.name().to_string()).unwrap_or_default(),
            num_seqs: self.num_seqs,
            sum_len,
            min_len: lengths.min(),
            avg_len: if self.num_seqs == 0 {
                0.0
            } else {
                round(sum_len as f64 / self.num_seqs as f64, 1)
            },
            max_len: lengths.max(),
            q1,
            q2,
            q3,
            sum_gap: self.bases.gaps(),
            n50,
            n50_num,
            q20: percent(at_least(20), sum_len),
            q30: percent(at_least(30), sum_len),
            avg_qual: average_quality(&quals, quality_bases),
            gc: percent(self.bases.gc(), sum_len),
            sum_n: self.bases.n(),
        }
    }
}

/// Phred value of the mean error probability of all bases (Phred+33; below `!` counts as Q0).
fn average_quality(quals: &[u64; 256], bases: u64) -> f64 {
    if bases == 0 {
        return 0.0;
    }
    let error_sum: f64 = quals
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(q, &n)| n as f64 * 10f64.powf(-(q.saturating_sub(33) as f64) / 10.0))
        .sum();
    round(-10.0 * (error_sum / bases as f64).log10(), 2)
}

/// A length histogram as sorted `(length, count)` pairs, for order statistics.
struct Distribution {
    pairs: Vec<(u64, u64)>,
    n: u64,
    total: u64,
}

impl Distribution {
    fn new(histogram: &LengthHistogram) -> Self {
        let pairs: Vec<_> = histogram.iter().collect();
        let n = pairs.iter().map(|&(_, c)| c).sum();
        let total = pairs.iter().map(|&(l, c)| l * c).sum();
        Distribution { pairs, n, total }
    }

    fn min(&self) -> u64 {
        self.pairs.first().map_or(0, |&(l, _)| l)
    }

    fn max(&self) -> u64 {
        self.pairs.last().map_or(0, |&(l, _)| l)
    }

    /// The `i`-th smallest length (0-based).
    fn nth(&self, i: u64) -> u64 {
        let mut seen = 0;
        for &(len, count) in &self.pairs {
            seen += count;
            if seen > i {
                return len;
            }
        }
        self.max()
    }

    /// Median of the `len` sorted lengths starting at rank `from`.
    fn median_of(&self, from: u64, len: u64) -> f64 {
        if len % 2 == 0 {
            (self.nth(from + len / 2 - 1) + self.nth(from + len / 2)) as f64 / 2.0
        } else {
            self.nth(from + len / 2) as f64
        }
    }

    fn quartiles(&self) -> [f64; 3] {
        if self.n == 0 {
            return [0.0; 3];
        }
        let half = self.n.div_ceil(2);
        [self.median_of(0, half), self.median_of(0, self.n), self.median_of(self.n / 2, half)]
    }

    fn n50(&self) -> (u64, u64) {
        let (mut cumulative, mut sequences) = (0u64, 0u64);
        for &(len, count) in self.pairs.iter().rev() {
            if (cumulative + len * count) * 2 >= self.total {
                // Smallest k with (cumulative + k × len) × 2 ≥ total.
                let missing = self.total.saturating_sub(cumulative * 2);
                let k = if len == 0 { 1 } else { missing.div_ceil(2 * len).max(1) };
                return (len, sequences + k);
            }
            cumulative += len * count;
            sequences += count;
        }
        (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distribution(lengths: &[usize]) -> Distribution {
        let mut h = LengthHistogram::default();
        for &l in lengths {
            h.add(l);
        }
        Distribution::new(&h)
    }

    #[test]
    fn quartiles_match_seqkit_cases() {
        let cases: &[(&[usize], [f64; 3])] = &[
            (&[], [0.0, 0.0, 0.0]),
            (&[2], [2.0, 2.0, 2.0]),
            (&[1, 2], [1.0, 1.5, 2.0]),
            (&[1, 2, 3], [1.5, 2.0, 2.5]),
            (&[1, 2, 3, 4], [1.5, 2.5, 3.5]),
            (&[2, 3, 4, 5, 6, 7, 8, 9], [3.5, 5.5, 7.5]),
            (&[0, 4, 10], [2.0, 4.0, 7.0]),
            (&[150, 150, 150, 100_000], [150.0, 150.0, 50_075.0]),
        ];
        for (lengths, expected) in cases {
            assert_eq!(distribution(lengths).quartiles(), *expected, "{lengths:?}");
        }
    }

    #[test]
    fn n50_and_l50() {
        // Sorted longest first: 10, 8, 5, 3, 2 (total 28): 10+8 = 18 ≥ 14 at the second.
        assert_eq!(distribution(&[2, 3, 5, 8, 10]).n50(), (8, 2));
        // Ties inside one histogram bin: 4 × 100 + 1; half is 200.5 → third copy of 100.
        assert_eq!(distribution(&[100, 100, 100, 100, 1]).n50(), (100, 3));
        assert_eq!(distribution(&[7]).n50(), (7, 1));
        assert_eq!(distribution(&[]).n50(), (0, 0));
        assert_eq!(distribution(&[0, 0]).n50(), (0, 1));
    }

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(round(46.153846, 2), 46.15);
        assert_eq!(round(2.25, 1), 2.3);
        assert_eq!(round(4.666, 1), 4.7);
    }

    #[test]
    fn average_quality_uses_error_probabilities() {
        let mut quals = [0u64; 256];
        quals[33 + 40] = 2;
        quals[33 + 2] = 2;
        // Mean error = (2×1e-4 + 2×10^-0.2) / 4 ≈ 0.3155 → Q ≈ 5.01, far from the Phred mean 21.
        let q = average_quality(&quals, 4);
        assert!((q - 5.01).abs() < 0.01, "{q}");
    }
}
