//! [`Params`]: every setting of a run, with the defaults of REPrise where it has one.

use serde::Serialize;

/// Alignment scores of the banded affine-gap extension (REPrise's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scoring {
    /// Score of a matching base (+1).
    pub match_score: i32,
    /// Score of a mismatching base (−1); a copy past its contig end or in an N run mismatches.
    pub mismatch: i32,
    /// Score of the first base of a gap (−5).
    pub gap_open: i32,
    /// Score of each further base of a gap (−1).
    pub gap_extend: i32,
    /// A copy never contributes less than its best score plus this (−20), so copies that have
    /// left the repeat cannot veto its extension.
    pub cap_penalty: i32,
    /// Half-width of the alignment band (5): at most this many net indels between the
    /// consensus and a copy at any point. The band follows each copy's best diagonal, so indels
    /// that accumulate along a long copy do not push it out.
    pub band: usize,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            match_score: 1,
            mismatch: -1,
            gap_open: -5,
            gap_extend: -1,
            cap_penalty: -20,
            band: 5,
        }
    }
}

/// Settings of [`find_repeats`](crate::find_repeats); start from [`Params::default`].
///
/// ```
/// let mut params = seqflow_repeats::Params::default();
/// params.min_freq = 5;
/// params.threads = 2;
/// assert_eq!(params.min_length, 50);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Params {
    /// Seed length; `None` picks the smallest l with fewer than one expected chance occurrence
    /// of an l-mer in the genome, plus 1 ([`seed_length`](crate::seed_length)).
    pub k: Option<usize>,
    /// Seed length of the annotation pass; `None` picks
    /// [`annotation_seed_length`](crate::annotation_seed_length) of the library (shorter
    /// seeds than discovery's: they find old, diverged copies, and the library is far smaller
    /// than the genome).
    pub annotation_k: Option<usize>,
    /// Fewest copies of a seed, after tandem collapse and masking (3).
    pub min_freq: u32,
    /// Same-strand occurrences of a k-mer closer than this collapse into one (500 bp).
    pub tandem_dist: u64,
    /// k-mers whose base composition has a Shannon entropy below this (nats) are never seeds
    /// (0.7).
    pub min_entropy: f64,
    /// Shortest consensus and shortest reported element (50 bp).
    pub min_length: usize,
    /// Longest extension on each side of the seed (10,000 bp).
    pub max_extend: usize,
    /// A side stops after this many columns without the required improvement (100).
    pub stop_after: usize,
    /// Required gain of the family score per column since its last best (3). Families built
    /// from few copies need less: a gain of one per column is what a single copy gives (the
    /// consensus copies it), so `n` copies need `min(min_improvement, 1 + (n - 1) / 20)`, which
    /// stops a family where its copies stop agreeing without ending a three-copy family at its
    /// first diverged stretch.
    pub min_improvement: i32,
    /// Alignment scores.
    pub scoring: Scoring,
    /// Most copies used to build one consensus (256): larger families use a deterministic,
    /// evenly spaced sample. Every copy is still re-aligned to the consensus.
    pub max_sample: usize,
    /// Seeds built speculatively per round (16). Fixed, not derived from `threads`, so the output
    /// does not depend on the thread count.
    pub round_size: usize,
    /// Two consensi at least this identical (0.8) over at least `redundancy_coverage` of the
    /// shorter one are one family (like `cd-hit-est -c 0.8`).
    pub redundancy_identity: f64,
    /// See `redundancy_identity` (0.8).
    pub redundancy_coverage: f64,
    /// Stop after this many families (unlimited).
    pub max_families: usize,
    /// Worker threads (1).
    pub threads: usize,
    /// Memory budget in bytes for the k-mer index buckets (768 MiB).
    pub memory_bytes: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            k: None,
            annotation_k: None,
            min_freq: 3,
            tandem_dist: 500,
            min_entropy: 0.7,
            min_length: 50,
            max_extend: 10_000,
            stop_after: 100,
            min_improvement: 3,
            scoring: Scoring::default(),
            max_sample: 256,
            round_size: 16,
            redundancy_identity: 0.8,
            redundancy_coverage: 0.8,
            max_families: usize::MAX,
            threads: 1,
            memory_bytes: 768 << 20,
        }
    }
}
