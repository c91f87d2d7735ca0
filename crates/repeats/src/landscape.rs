//! [`Landscape`]: the repeat landscape — how many genome bases the copies cover at each Kimura
//! divergence from their consensus, and each family's average divergence (old families are
//! diverged, recent bursts of transposition are not).

use serde::Serialize;

use crate::Repeats;

/// Bins of [`Landscape::bases_by_divergence`]: 1% wide from 0 to 50%, the last one holding
/// everything from 50% on (saturated copies included).
pub const LANDSCAPE_BINS: usize = 51;

/// Copy bases by Kimura divergence, genome-wide and per family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Landscape {
    /// Width of a bin of `bases_by_divergence`, in percent.
    pub bin_percent: u32,
    /// Genome bases in copies whose Kimura divergence falls in each bin.
    pub bases_by_divergence: Vec<u64>,
    /// One entry per family, in library order.
    pub families: Vec<FamilyDivergence>,
}

/// The divergence of one family's copies from its consensus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyDivergence {
    /// The family's name, as in every output file.
    pub name: String,
    /// Copies in the annotation.
    pub copies: usize,
    /// Genome bases the copies cover.
    pub bases: u64,
    /// Substitutions per 100 compared pairs, over all copies (RepeatMasker's `perc div.`).
    pub divergence: f64,
    /// Mean Kimura two-parameter divergence of the copies, in percent, each copy weighted by
    /// its compared pairs (no CpG adjustment).
    pub kimura_divergence: f64,
}

impl Landscape {
    /// The landscape of a run's annotation.
    pub fn of(repeats: &Repeats) -> Landscape {
        let mut bases_by_divergence = vec![0u64; LANDSCAPE_BINS];
        let mut families: Vec<FamilyDivergence> = (repeats.families.iter())
            .map(|family| FamilyDivergence {
                name: family.name.clone(),
                copies: 0,
                bases: 0,
                divergence: 0.0,
                kimura_divergence: 0.0,
            })
            .collect();
        // Per family: compared pairs, substitutions, Kimura × compared pairs.
        let mut sums = vec![(0u64, 0u64, 0f64); repeats.families.len()];
        for annotated in &repeats.elements {
            let a = &annotated.alignment;
            let kimura = a.kimura_divergence();
            let bin = (kimura.floor() as usize).min(LANDSCAPE_BINS - 1);
            bases_by_divergence[bin] += annotated.element.len();
            let family = &mut families[annotated.family];
            family.copies += 1;
            family.bases += annotated.element.len();
            let sum = &mut sums[annotated.family];
            sum.0 += u64::from(a.compared());
            sum.1 += u64::from(a.transitions + a.transversions);
            sum.2 += kimura * f64::from(a.compared());
        }
        for (family, (compared, substitutions, kimura)) in families.iter_mut().zip(sums) {
            if compared > 0 {
                family.divergence = round2(100.0 * substitutions as f64 / compared as f64);
                family.kimura_divergence = round2(kimura / compared as f64);
            }
        }
        Landscape { bin_percent: 1, bases_by_divergence, families }
    }
}

/// Two decimals: the JSON stays readable and the same on every platform.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
