//! The random source genome that simulated reads are sampled from.

use crate::rng::Rng;

/// Draws random `ACGT` bases with a given G+C fraction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BaseSampler {
    /// A 16-bit draw below this threshold picks G or C, otherwise A or T.
    gc_threshold: u32,
}

impl BaseSampler {
    /// A sampler whose bases are G or C with probability `gc_fraction` (in `0.0..=1.0`).
    pub(crate) fn new(gc_fraction: f64) -> Self {
        Self { gc_threshold: (gc_fraction * 65536.0).round() as u32 }
    }

    /// Overwrites `out` with random uppercase bases; three bases per 64-bit draw.
    pub(crate) fn fill(&self, rng: &mut Rng, out: &mut [u8]) {
        let mut chunks = out.chunks_exact_mut(3);
        for chunk in &mut chunks {
            let mut bits = rng.next_u64();
            for base in chunk {
                *base = self.pick(bits);
                bits >>= 21;
            }
        }
        let mut bits = rng.next_u64();
        for base in chunks.into_remainder() {
            *base = self.pick(bits);
            bits >>= 21;
        }
    }

    /// One base from the low 17 bits of `bits`: 16 for G+C versus A+T, one for which of the pair.
    #[inline]
    fn pick(&self, bits: u64) -> u8 {
        let level = (bits & 0xFFFF) as u32;
        let which = ((bits >> 16) & 1) as usize;
        if level < self.gc_threshold { [b'G', b'C'][which] } else { [b'A', b'T'][which] }
    }
}

/// The complement of an uppercase base (`N` and anything else map to `N`).
#[inline]
pub(crate) fn complement(base: u8) -> u8 {
    match base {
        b'A' => b'T',
        b'C' => b'G',
        b'G' => b'C',
        b'T' => b'A',
        _ => b'N',
    }
}

/// A random genome held on both strands, so a read from either strand is one slice copy.
#[derive(Debug, Clone)]
pub(crate) struct Genome {
    forward: Vec<u8>,
    reverse: Vec<u8>,
}

impl Genome {
    /// Generates `length` bases with the given G+C fraction from `rng`.
    pub(crate) fn generate(rng: &mut Rng, length: usize, gc_fraction: f64) -> Self {
        let mut forward = vec![0; length];
        BaseSampler::new(gc_fraction).fill(rng, &mut forward);
        let reverse = forward.iter().rev().map(|&b| complement(b)).collect();
        Self { forward, reverse }
    }

    /// The genome's length in bases.
    pub(crate) fn len(&self) -> usize {
        self.forward.len()
    }

    /// `length` bases starting at `start` on the forward (`false`) or reverse (`true`) strand.
    ///
    /// # Panics
    /// If `start + length` exceeds the genome length.
    #[inline]
    pub(crate) fn slice(&self, reverse: bool, start: usize, length: usize) -> &[u8] {
        let strand = if reverse { &self.reverse } else { &self.forward };
        &strand[start..start + length]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_fraction_is_respected() {
        let mut rng = Rng::new(11, 0);
        for gc in [0.0, 0.3, 0.5, 0.7, 1.0] {
            let g = Genome::generate(&mut rng, 100_000, gc);
            let n_gc = g.forward.iter().filter(|&&b| b == b'G' || b == b'C').count();
            let observed = n_gc as f64 / g.len() as f64;
            assert!((observed - gc).abs() < 0.01, "gc {gc}: observed {observed}");
            assert!(g.forward.iter().all(|b| b"ACGT".contains(b)));
        }
    }

    #[test]
    fn reverse_strand_is_the_reverse_complement() {
        let mut rng = Rng::new(12, 0);
        let g = Genome::generate(&mut rng, 1000, 0.45);
        let rc: Vec<u8> = g.slice(false, 100, 50).iter().rev().map(|&b| complement(b)).collect();
        assert_eq!(g.slice(true, 1000 - 150, 50), &rc[..]);
    }
}
