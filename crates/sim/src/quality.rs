//! Position-dependent Phred quality model loosely shaped like Illumina short reads.

use crate::rng::Rng;

/// Lowest quality the model emits (Phred 2, `#`), also used for N bases and failed tails.
pub(crate) const MIN_QUALITY: u8 = 2;
/// Highest quality the model emits (Phred 41, `J`).
pub(crate) const MAX_QUALITY: u8 = 41;
/// The Phred+33 offset.
pub(crate) const PHRED_OFFSET: u8 = 33;

/// Per-base noise around the positional mean: a table indexed by one random byte, so the
/// weights below sum to 256. Skewed downwards: Illumina errors pull quality down, rarely up.
const NOISE_WEIGHTS: [(i8, u16); 13] = [
    (3, 10),
    (2, 20),
    (1, 35),
    (0, 60),
    (-1, 40),
    (-2, 25),
    (-3, 18),
    (-4, 12),
    (-6, 10),
    (-9, 8),
    (-13, 8),
    (-18, 6),
    (-25, 4),
];

/// Read-level offsets: most clusters are good, a few are dim throughout.
const READ_OFFSETS: [(i16, f64); 4] = [(0, 0.75), (-2, 0.15), (-5, 0.07), (-10, 0.03)];

/// Probability that a read has a short low-quality dip somewhere (a bubble or a bad cycle).
const DIP_RATE: f64 = 0.06;
/// Probability that a read ends in a run of Phred 2 (`#`), Illumina's "do not trust" tail.
const TAIL_RATE: f64 = 0.03;

/// Produces one quality string per read.
#[derive(Debug, Clone)]
pub(crate) struct QualityModel {
    /// Mean quality per position: high after the first few cycles, declining towards the 3' end.
    profile: Vec<i16>,
    /// Noise for the first two thirds of the read, and a wider one for the last third.
    noise: [[i8; 256]; 2],
    /// First position that uses the wider noise table.
    late_start: usize,
}

impl QualityModel {
    /// A model for reads of `read_length` bases.
    pub(crate) fn new(read_length: usize) -> Self {
        let last = read_length.saturating_sub(1).max(1) as f64;
        let profile = (0..read_length)
            .map(|i| {
                let t = i as f64 / last;
                let warmup = if i < 5 { 3.0 * (1.0 - i as f64 / 5.0) } else { 0.0 };
                (38.5 - warmup - 7.0 * t * t).round() as i16
            })
            .collect();
        let mut noise = [[0i8; 256]; 2];
        let mut k = 0;
        for &(delta, weight) in &NOISE_WEIGHTS {
            for _ in 0..weight {
                noise[0][k] = delta;
                // Later cycles: the same shape, with downward deviations half as large again.
                noise[1][k] = if delta < 0 { delta + delta / 2 } else { delta };
                k += 1;
            }
        }
        debug_assert_eq!(k, 256);
        Self { profile, noise, late_start: read_length * 2 / 3 }
    }

    /// Overwrites `out` (one byte per base, `out.len()` equal to the read length) with Phred+33
    /// qualities in `MIN_QUALITY..=MAX_QUALITY`.
    pub(crate) fn fill(&self, rng: &mut Rng, out: &mut [u8]) {
        debug_assert_eq!(out.len(), self.profile.len());
        let len = out.len();

        let u = rng.unit();
        let mut cumulative = 0.0;
        let mut offset = 0;
        for &(delta, p) in &READ_OFFSETS {
            cumulative += p;
            offset = delta;
            if u < cumulative {
                break;
            }
        }

        let mut i = 0;
        while i < len {
            let mut bits = rng.next_u64();
            let end = (i + 8).min(len);
            for (j, q) in out[i..end].iter_mut().enumerate() {
                let pos = i + j;
                let table = &self.noise[usize::from(pos >= self.late_start)];
                let value = self.profile[pos] + offset + i16::from(table[(bits & 0xFF) as usize]);
                bits >>= 8;
                *q = value.clamp(i16::from(MIN_QUALITY), i16::from(MAX_QUALITY)) as u8
                    + PHRED_OFFSET;
            }
            i = end;
        }

        if len > 0 && rng.chance(DIP_RATE) {
            let start = rng.below(len as u64) as usize;
            let end = (start + rng.between(1, 8) as usize).min(len);
            let depth = rng.between(8, 20) as u8;
            for q in &mut out[start..end] {
                *q = q.saturating_sub(depth).max(MIN_QUALITY + PHRED_OFFSET);
            }
        }
        if len > 1 && rng.chance(TAIL_RATE) {
            let start = rng.between(len as u64 / 2, len as u64 - 1) as usize;
            out[start..].fill(MIN_QUALITY + PHRED_OFFSET);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualities_are_in_range_and_decline() {
        let model = QualityModel::new(150);
        let mut rng = Rng::new(5, 0);
        let mut qual = vec![0; 150];
        let (mut head, mut tail) = (0u64, 0u64);
        for _ in 0..2000 {
            model.fill(&mut rng, &mut qual);
            for &q in &qual {
                assert!((MIN_QUALITY + PHRED_OFFSET..=MAX_QUALITY + PHRED_OFFSET).contains(&q));
            }
            head += qual[10..30].iter().map(|&q| u64::from(q)).sum::<u64>();
            tail += qual[130..150].iter().map(|&q| u64::from(q)).sum::<u64>();
        }
        assert!(head > tail + 2000 * 20 * 3, "head {head} tail {tail}");
    }

    #[test]
    fn tiny_reads_are_fine() {
        let mut rng = Rng::new(5, 0);
        for len in 0..4 {
            let model = QualityModel::new(len);
            let mut qual = vec![0; len];
            for _ in 0..100 {
                model.fill(&mut rng, &mut qual);
            }
        }
    }
}
