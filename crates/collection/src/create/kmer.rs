//! Canonical k-mers in AGC's bit layout.
//!
//! AGC keeps the forward and the reverse-complement 2-bit codes of the last `k` bases
//! left-aligned in a `u64` (first base in bits 63–62, i.e. the classic value shifted left by
//! `64 - 2k`). The canonical value is the smaller of the two. This exact layout is what the
//! `splitters` and `segment-splitters` streams store, so the writer reproduces it.

/// A k-mer being extended base by base, forward and reverse-complement at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kmer {
    forward: u64,
    reverse: u64,
    filled: u32,
    k: u32,
    /// `64 - 2k`: where the last base sits in the left-aligned word.
    shift: u32,
}

impl Kmer {
    /// An empty k-mer of length `k` (1..=32).
    pub fn new(k: u32) -> Kmer {
        debug_assert!((1..=32).contains(&k));
        Kmer { forward: 0, reverse: 0, filled: 0, k, shift: 64 - 2 * k }
    }

    /// Forgets every base (after a non-ACGT code or a splitter).
    pub fn reset(&mut self) {
        self.forward = 0;
        self.reverse = 0;
        self.filled = 0;
    }

    fn mask(&self) -> u64 {
        u64::MAX << self.shift
    }

    /// Appends one base code (0..=3).
    pub fn push(&mut self, code: u8) {
        let code = u64::from(code & 3);
        self.reverse = ((self.reverse >> 2) + ((3 - code) << 62)) & self.mask();
        if self.filled == self.k {
            self.forward = (self.forward << 2) + (code << self.shift);
        } else {
            self.filled += 1;
            self.forward += code << (64 - 2 * self.filled);
        }
    }

    /// True once `k` bases have been pushed since the last reset.
    pub fn is_full(&self) -> bool {
        self.filled == self.k
    }

    /// The canonical value: `min(forward, reverse)`.
    pub fn canonical(&self) -> u64 {
        self.forward.min(self.reverse)
    }

    /// True when the forward code is not larger than the reverse-complement code.
    pub fn is_forward_oriented(&self) -> bool {
        self.forward <= self.reverse
    }

    /// The same k-mer read on the other strand.
    pub fn swapped(self) -> Kmer {
        Kmer { forward: self.reverse, reverse: self.forward, ..self }
    }
}

/// Canonical k-mer values of every full k-mer of `codes`, with their end positions.
///
/// Non-ACGT codes reset the k-mer, exactly as AGC's scanners do.
pub fn canonical_kmers(codes: &[u8], k: u32) -> impl Iterator<Item = (usize, u64)> + '_ {
    let mut kmer = Kmer::new(k);
    codes.iter().enumerate().filter_map(move |(pos, &code)| {
        if code > 3 {
            kmer.reset();
            None
        } else {
            kmer.push(code);
            kmer.is_full().then(|| (pos, kmer.canonical()))
        }
    })
}

/// Reverse complement of base codes as AGC does it: 0..=3 complemented, other codes kept
/// (a copy; [`crate::lz_diff::reverse_complement`] works in place).
pub fn reverse_complement(codes: &[u8]) -> Vec<u8> {
    let mut copy = codes.to_vec();
    crate::lz_diff::reverse_complement(&mut copy);
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classic(bases: &[u8]) -> u64 {
        bases.iter().fold(0u64, |acc, &b| (acc << 2) | u64::from(b))
    }

    #[test]
    fn layout_is_left_aligned_and_canonical() {
        let k = 5;
        let seq = [0u8, 1, 2, 3, 3, 1, 0];
        let mut kmer = Kmer::new(k);
        for (i, &c) in seq.iter().enumerate() {
            kmer.push(c);
            if i + 1 >= k as usize {
                let window = &seq[i + 1 - k as usize..=i];
                let fwd = classic(window) << (64 - 2 * k);
                let rc = classic(&reverse_complement(window)) << (64 - 2 * k);
                assert_eq!(kmer.canonical(), fwd.min(rc));
                assert_eq!(kmer.is_forward_oriented(), fwd <= rc);
            }
        }
    }

    #[test]
    fn non_acgt_resets() {
        let codes = [0u8, 1, 2, 4, 0, 1, 2];
        let found: Vec<usize> = canonical_kmers(&codes, 3).map(|(p, _)| p).collect();
        assert_eq!(found, vec![2, 6]);
    }

    #[test]
    fn k32_uses_the_whole_word() {
        let codes = vec![3u8; 32];
        let (_, v) = canonical_kmers(&codes, 32).next().unwrap();
        // all-T reverse complement is all-A, the canonical value is 0.
        assert_eq!(v, 0);
    }
}
