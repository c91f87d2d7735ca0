//! Which consensi are tandem repeats rather than interspersed families.
//!
//! Discovery grows a family from any frequent seed, and the k-mers of a tandem array (a unit
//! of a few to a hundred bases repeated head to tail) or of a microsatellite are frequent too:
//! on the default 20 Mb simulation 36 of 85 consensi were such arrays (periods 1–96), none of
//! them a planted transposon family. They are real repeats and stay in the library and the
//! annotation, but under RepeatMasker's classes for them (`Simple_repeat`, `Satellite`), so
//! that the interspersed families (`Unknown`) can be counted and used on their own.

/// Longest unit looked for.
pub const MAX_TANDEM_PERIOD: usize = 100;
/// Longest unit called `Simple_repeat` (a microsatellite); longer ones are `Satellite`.
pub const MAX_SIMPLE_PERIOD: usize = 9;
/// Share of the consensus that must equal itself one unit further on.
const SELF_MATCH: f64 = 0.8;

/// The smallest unit length `p` (1 to [`MAX_TANDEM_PERIOD`]) at which the consensus repeats
/// itself: at least [`SELF_MATCH`] of its letters equal the letter `p` further on, over at
/// least two whole units. `None` for an interspersed family's consensus. Only equality of
/// symbols counts, so letters and 2-bit codes give the same answer.
///
/// ```
/// use seqflow_repeats::tandem_period;
/// assert_eq!(tandem_period(&b"CAG".repeat(40)), Some(3));
/// assert_eq!(tandem_period(b"GATTACAGGCTTAACCGTAGGCATCGATCGGATCCTTAGGCCATGC"), None);
/// ```
pub fn tandem_period(consensus: &[u8]) -> Option<usize> {
    (1..=MAX_TANDEM_PERIOD.min(consensus.len() / 2)).find(|&p| {
        let compared = consensus.len() - p;
        let same = consensus.iter().zip(&consensus[p..]).filter(|(a, b)| a == b).count();
        same as f64 >= SELF_MATCH * compared as f64
    })
}

/// RepeatMasker's class for a consensus: `Simple_repeat` or `Satellite` for a tandem one (by
/// its unit length), else `Unknown` (an unclassified interspersed family).
pub fn consensus_class(consensus: &[u8]) -> &'static str {
    match tandem_period(consensus) {
        Some(p) if p <= MAX_SIMPLE_PERIOD => "Simple_repeat",
        Some(_) => "Satellite",
        None => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b"ACGT"[(state >> 30) as usize & 3]
            })
            .collect()
    }

    #[test]
    fn arrays_are_found_by_their_unit_even_when_diverged() {
        assert_eq!(tandem_period(&b"A".repeat(300)), Some(1));
        assert_eq!(consensus_class(&b"AC".repeat(200)), "Simple_repeat");
        let unit = random(66, 5);
        let mut array: Vec<u8> = unit.iter().cycle().take(1_076).copied().collect();
        // 10% of the letters changed: still the same unit.
        for i in (0..array.len()).step_by(10) {
            array[i] = if array[i] == b'A' { b'C' } else { b'A' };
        }
        assert_eq!(tandem_period(&array), Some(66));
        assert_eq!(consensus_class(&array), "Satellite");
    }

    #[test]
    fn interspersed_families_are_not_tandem() {
        for seed in 1..20 {
            let family = random(80 + 200 * seed as usize, seed);
            assert_eq!(tandem_period(&family), None, "seed {seed}");
            assert_eq!(consensus_class(&family), "Unknown");
        }
        // A transposon with a short microsatellite inside is still a transposon.
        let mut with_ssr = random(800, 3);
        with_ssr.splice(300..300, b"CA".repeat(30));
        assert_eq!(tandem_period(&with_ssr), None);
        // One unit, or less than two, is no array.
        assert_eq!(tandem_period(&random(150, 9)), None);
        assert_eq!(tandem_period(b""), None);
    }
}
