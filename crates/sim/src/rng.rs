//! The generator's random source: xoshiro256++ seeded through SplitMix64.
//!
//! Implemented here rather than taken from `rand` so that the byte stream a seed produces can
//! never change under a dependency upgrade: reproducible test data is this crate's contract.

/// A xoshiro256++ generator (Blackman & Vigna), fast enough to draw a byte of noise per base.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// Seeds an independent stream: the same `(seed, stream)` always yields the same numbers.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut sm = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        // SplitMix64 never yields four zero words in a row, so the state is never all zero.
        Self { s: [next(), next(), next(), next()] }
    }

    /// The next 64 uniformly distributed bits.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A number in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for any `n` used
    /// here). Returns 0 when `n` is 0.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`; `lo` must not exceed `hi`.
    #[inline]
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// A float in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Gaps between events of a Bernoulli process with rate `p`: lets the generator jump from one
/// error (or N, or masked run) to the next instead of drawing a number per base.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometric {
    /// `1 / ln(1 - p)`, or 0 when `p` is 0 (no event ever happens).
    inv_log_q: f64,
}

impl Geometric {
    /// A process where each trial succeeds with probability `p` (`0 <= p < 1`).
    pub(crate) fn new(p: f64) -> Self {
        let inv_log_q = if p > 0.0 { 1.0 / (-p).ln_1p() } else { 0.0 };
        Self { inv_log_q }
    }

    /// The number of failures before the next success; `u64::MAX` if successes never happen.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rng) -> u64 {
        if self.inv_log_q == 0.0 {
            return u64::MAX;
        }
        // 1 - unit() lies in (0, 1], so the logarithm is finite and <= 0.
        let u = 1.0 - rng.unit();
        let gap = u.ln() * self.inv_log_q;
        if gap >= u64::MAX as f64 { u64::MAX } else { gap as u64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7, 0);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7, 0);
                move |_| r.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7, 1);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn below_and_between_stay_in_range() {
        let mut r = Rng::new(1, 0);
        for n in [1u64, 2, 3, 10, 1000] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
                let x = r.between(5, 5 + n);
                assert!((5..=5 + n).contains(&x));
            }
        }
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn geometric_mean_matches_rate() {
        let mut r = Rng::new(3, 0);
        let g = Geometric::new(0.01);
        let n = 20_000;
        let mean = (0..n).map(|_| g.sample(&mut r) as f64).sum::<f64>() / f64::from(n);
        // Mean number of failures is (1 - p) / p = 99.
        assert!((90.0..108.0).contains(&mean), "mean gap {mean}");
        assert_eq!(Geometric::new(0.0).sample(&mut r), u64::MAX);
    }
}
