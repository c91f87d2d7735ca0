//! [`Bitmask`]: one bit per base, with all-or-nothing range claims and RAII release.

use std::fmt;
use std::ops::Range;

use crate::error::ClaimError;
use crate::genome::Genome;
use crate::sync::{AtomicU64, Ordering};

/// One bit per base of a genome, set while the base is claimed (or permanently, once masked).
///
/// Claims are all-or-nothing and safe to race from many threads: words are set with `fetch_or`
/// (Acquire/Release), and a claim that finds a base already taken clears exactly the bits it set
/// before returning [`ClaimError::Conflict`]. Two racing claims of overlapping ranges may both
/// fail when a third claim interferes, but never both succeed. A release publishes (Release)
/// what the holder wrote about its range to the next claimant (Acquire).
///
/// The bitmask knows the contig boundaries it was built with ([`Bitmask::for_genome`]) and
/// refuses ranges that span two contigs unless asked ([`Bitmask::claim_range_spanning`]).
///
/// # Memory
/// `8 * ceil(len / 64)` bytes (1/8 byte per base: 1.5 GB for 12 Gbp) plus 8 bytes per contig.
pub struct Bitmask {
    words: Box<[AtomicU64]>,
    len: u64,
    /// Start of every non-empty contig, ascending; empty for a single-contig mask.
    contig_starts: Box<[u64]>,
}

impl fmt::Debug for Bitmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bitmask")
            .field("len", &self.len)
            .field("contigs", &self.contig_starts.len().max(1))
            .finish_non_exhaustive()
    }
}

/// Bits `lo..hi` (0 ≤ lo < hi ≤ 64) of a word.
fn word_mask(lo: u64, hi: u64) -> u64 {
    let high = if hi == 64 { u64::MAX } else { (1u64 << hi) - 1 };
    high & !((1u64 << lo) - 1)
}

/// The words covered by `range` (non-empty) with the mask of the range's bits in each.
fn word_masks(range: Range<u64>) -> impl Iterator<Item = (usize, u64)> {
    let first = range.start / 64;
    let last = (range.end - 1) / 64;
    (first..=last).map(move |w| {
        let lo = range.start.max(w * 64) - w * 64;
        let hi = range.end.min((w + 1) * 64) - w * 64;
        (w as usize, word_mask(lo, hi))
    })
}

impl Bitmask {
    /// A clear bitmask of `len` bits forming one contig.
    pub fn new(len: u64) -> Self {
        let words = (0..len.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
        Bitmask { words, len, contig_starts: Box::new([]) }
    }

    /// A clear bitmask covering `genome`, which refuses claims spanning two of its contigs.
    pub fn for_genome(genome: &Genome) -> Self {
        let mut mask = Bitmask::new(genome.len());
        mask.contig_starts =
            genome.contigs().iter().filter(|c| c.len > 0).map(|c| c.start).collect();
        mask
    }

    /// Number of bits.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the mask has no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether bit `pos` is set (Acquire).
    ///
    /// # Panics
    /// If `pos >= len`.
    pub fn is_set(&self, pos: u64) -> bool {
        assert!(pos < self.len, "position {pos} out of bounds ({})", self.len);
        self.words[(pos / 64) as usize].load(Ordering::Acquire) & (1 << (pos % 64)) != 0
    }

    /// Whether no bit of `range` is set, read with Relaxed loads: a cheap pre-filter whose answer
    /// may be stale by the time it returns. Only a claim decides.
    ///
    /// # Panics
    /// If the range reaches past the end.
    pub fn is_range_free(&self, range: Range<u64>) -> bool {
        self.check_bounds(&range).expect("range out of bounds");
        range.is_empty()
            || word_masks(range).all(|(w, mask)| self.words[w].load(Ordering::Relaxed) & mask == 0)
    }

    /// Number of set bits (Relaxed; exact only when no claim is in flight).
    pub fn count_set(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.load(Ordering::Relaxed).count_ones())).sum()
    }

    fn check_bounds(&self, range: &Range<u64>) -> Result<(), ClaimError> {
        if range.start > range.end || range.end > self.len {
            return Err(ClaimError::OutOfBounds { range: range.clone(), len: self.len });
        }
        Ok(())
    }

    /// Claims a range of contig `contig` given in contig-local coordinates.
    ///
    /// `genome` must be the genome this mask was built for.
    ///
    /// # Panics
    /// If `genome` is not as long as the mask.
    ///
    /// # Errors
    /// [`ClaimError::OutOfBounds`] if the range passes the contig's end (or `contig` does not
    /// exist); [`ClaimError::Conflict`] if a base is already claimed.
    pub fn claim(
        &self,
        genome: &Genome,
        contig: usize,
        local: Range<u64>,
    ) -> Result<ClaimGuard<'_>, ClaimError> {
        assert_eq!(genome.len(), self.len, "bitmask and genome lengths differ");
        let Some(c) = genome.contigs().get(contig) else {
            return Err(ClaimError::OutOfBounds { range: local, len: 0 });
        };
        if local.start > local.end || local.end > c.len {
            return Err(ClaimError::OutOfBounds { range: local, len: c.len });
        }
        self.claim_range_spanning(c.start + local.start..c.start + local.end)
    }

    /// Claims every base of `range` (global coordinates), or none.
    ///
    /// An empty range always succeeds.
    ///
    /// # Errors
    /// [`ClaimError::OutOfBounds`], [`ClaimError::SpansContigs`] if the range covers bases of two
    /// contigs, or [`ClaimError::Conflict`] if a base is already claimed; then no bit is changed
    /// by this call.
    pub fn claim_range(&self, range: Range<u64>) -> Result<ClaimGuard<'_>, ClaimError> {
        self.check_bounds(&range)?;
        if !range.is_empty() && !self.contig_starts.is_empty() {
            let i = self.contig_starts.partition_point(|&s| s <= range.start);
            if self.contig_starts.get(i).is_some_and(|&next| next < range.end) {
                return Err(ClaimError::SpansContigs { range });
            }
        }
        self.claim_range_spanning(range)
    }

    /// Like [`Bitmask::claim_range`] but allows the range to span contigs.
    ///
    /// # Errors
    /// [`ClaimError::OutOfBounds`] or [`ClaimError::Conflict`]; then no bit is changed by this
    /// call.
    pub fn claim_range_spanning(&self, range: Range<u64>) -> Result<ClaimGuard<'_>, ClaimError> {
        self.check_bounds(&range)?;
        if range.is_empty() {
            return Ok(ClaimGuard { mask: self, range, active: false });
        }
        for (w, mask) in word_masks(range.clone()) {
            let prev = self.words[w].fetch_or(mask, Ordering::AcqRel);
            let taken = prev & mask;
            if taken != 0 {
                // Roll back: in this word only the bits that were clear; before it, whole masks
                // (every earlier word was claimed completely, or we would have stopped there).
                let ours = mask & !prev;
                if ours != 0 {
                    self.words[w].fetch_and(!ours, Ordering::Release);
                }
                let first_word = (range.start / 64) as usize;
                if w > first_word {
                    self.release_range(range.start..w as u64 * 64);
                }
                let position = w as u64 * 64 + u64::from(taken.trailing_zeros());
                return Err(ClaimError::Conflict { position });
            }
        }
        Ok(ClaimGuard { mask: self, range, active: true })
    }

    /// Clears every bit of `range` (Release). Idempotent: clearing clear bits does nothing.
    ///
    /// Only the holder of a claim (or of a permanent mask it wants to undo) should release it.
    ///
    /// # Panics
    /// If the range reaches past the end.
    pub fn release_range(&self, range: Range<u64>) {
        self.check_bounds(&range).expect("range out of bounds");
        if range.is_empty() {
            return;
        }
        for (w, mask) in word_masks(range) {
            self.words[w].fetch_and(!mask, Ordering::Release);
        }
    }

    /// Sets every bit of `range` permanently, whether or not some were set (masking known
    /// repeats, say). Unlike a claim this never fails and is not undone.
    ///
    /// # Panics
    /// If the range reaches past the end.
    pub fn set_range(&self, range: Range<u64>) {
        self.check_bounds(&range).expect("range out of bounds");
        if range.is_empty() {
            return;
        }
        for (w, mask) in word_masks(range) {
            self.words[w].fetch_or(mask, Ordering::AcqRel);
        }
    }
}

/// A claimed range of a [`Bitmask`], released when dropped (also while a panic unwinds).
///
/// Call [`ClaimGuard::keep`] or [`ClaimGuard::into_permanent`] to leave the bits set for good.
#[must_use = "dropping a ClaimGuard releases the claim at once"]
#[derive(Debug)]
pub struct ClaimGuard<'a> {
    mask: &'a Bitmask,
    range: Range<u64>,
    /// Whether dropping releases the range.
    active: bool,
}

impl ClaimGuard<'_> {
    /// The claimed range, in global coordinates.
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }

    /// Makes the claim permanent: the bits stay set after the guard is gone.
    pub fn keep(self) {
        let _ = self.into_permanent();
    }

    /// Makes the claim permanent and returns the range.
    pub fn into_permanent(mut self) -> Range<u64> {
        self.active = false;
        self.range.clone()
    }

    /// Releases the claim now (the same as dropping the guard).
    pub fn release(self) {}
}

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        if self.active {
            self.mask.release_range(self.range.clone());
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::genome::GenomeBuilder;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Barrier;

    fn bits(mask: &Bitmask) -> Vec<bool> {
        (0..mask.len()).map(|p| mask.is_set(p)).collect()
    }

    #[test]
    fn claim_release_conflict() {
        let mask = Bitmask::new(200);
        let a = mask.claim_range(10..130).unwrap();
        assert_eq!(a.range(), 10..130);
        assert_eq!(mask.count_set(), 120);
        assert!(!mask.is_range_free(0..11));
        assert!(mask.is_range_free(0..10));
        assert!(mask.is_range_free(130..200));
        assert_eq!(mask.claim_range(0..11).unwrap_err(), ClaimError::Conflict { position: 10 });
        assert_eq!(mask.claim_range(129..140).unwrap_err(), ClaimError::Conflict { position: 129 });
        let b = mask.claim_range(130..200).unwrap();
        drop(a);
        assert_eq!(mask.count_set(), 70);
        b.release();
        assert_eq!(mask.count_set(), 0);
    }

    #[test]
    fn empty_and_out_of_bounds() {
        let mask = Bitmask::new(64);
        let g = mask.claim_range(5..5).unwrap();
        drop(g);
        assert_eq!(
            mask.claim_range(60..65).unwrap_err(),
            ClaimError::OutOfBounds { range: 60..65, len: 64 }
        );
        mask.claim_range(0..64).unwrap().keep();
        assert_eq!(mask.count_set(), 64);
        let empty = Bitmask::new(0);
        assert!(empty.is_empty());
        assert!(empty.claim_range(0..0).is_ok());
        assert!(empty.claim_range(0..1).is_err());
    }

    #[test]
    fn release_is_idempotent() {
        let mask = Bitmask::new(100);
        let range = mask.claim_range(3..90).unwrap().into_permanent();
        assert_eq!(mask.count_set(), 87);
        mask.release_range(range.clone());
        mask.release_range(range);
        mask.release_range(0..100);
        assert_eq!(mask.count_set(), 0);
        mask.set_range(0..10);
        mask.set_range(5..15);
        assert_eq!(mask.count_set(), 15);
    }

    #[test]
    fn guard_releases_during_panic() {
        let mask = Bitmask::new(300);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let _guard = mask.claim_range(50..250).unwrap();
            assert_eq!(mask.count_set(), 200);
            panic!("worker failed");
        }));
        assert!(result.is_err());
        assert_eq!(mask.count_set(), 0);
        // A kept claim survives a later panic.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            mask.claim_range(0..10).unwrap().keep();
            panic!("after keep");
        }));
        assert_eq!(mask.count_set(), 10);
    }

    #[test]
    fn claims_never_span_contigs() {
        let mut builder = GenomeBuilder::new();
        builder.push_contig("a", &[b'A'; 100]).unwrap();
        builder.push_contig("gap", b"").unwrap();
        builder.push_contig("b", &[b'C'; 50]).unwrap();
        let genome = builder.build();
        let mask = Bitmask::for_genome(&genome);
        assert_eq!(
            mask.claim_range(90..110).unwrap_err(),
            ClaimError::SpansContigs { range: 90..110 }
        );
        assert_eq!(mask.count_set(), 0);
        let a_end = mask.claim_range(90..100).unwrap();
        let b_start = mask.claim_range(100..110).unwrap();
        drop((a_end, b_start));
        let spanning = mask.claim_range_spanning(90..110).unwrap();
        assert_eq!(mask.count_set(), 20);
        drop(spanning);
        // Contig-local claims.
        let g = mask.claim(&genome, 2, 0..50).unwrap();
        assert_eq!(g.range(), 100..150);
        assert!(matches!(
            mask.claim(&genome, 2, 40..51),
            Err(ClaimError::OutOfBounds { len: 50, .. })
        ));
        assert!(matches!(mask.claim(&genome, 9, 0..1), Err(ClaimError::OutOfBounds { .. })));
        assert_eq!(mask.claim(&genome, 1, 0..0).unwrap().range(), 100..100);
        assert!(mask.claim(&genome, 0, 0..100).is_ok());
    }

    proptest! {
        /// A failed claim leaves every bit as it was; a successful one sets exactly its range.
        #[test]
        fn exact_rollback(
            held in proptest::collection::vec((0..300u64, 0..80u64), 0..6),
            start in 0..300u64,
            len in 0..200u64,
        ) {
            let mask = Bitmask::new(300);
            for (s, l) in held {
                mask.set_range(s..(s + l).min(300));
            }
            let before = bits(&mask);
            let range = start..(start + len).min(300);
            let free = before[range.start as usize..range.end as usize].iter().all(|b| !b);
            match mask.claim_range(range.clone()) {
                Ok(guard) => {
                    prop_assert!(free);
                    let mut want = before.clone();
                    want[range.start as usize..range.end as usize].fill(true);
                    prop_assert_eq!(bits(&mask), want);
                    drop(guard);
                    let mut want = before.clone();
                    want[range.start as usize..range.end as usize].fill(false);
                    prop_assert_eq!(bits(&mask), want);
                }
                Err(ClaimError::Conflict { position }) => {
                    prop_assert!(!free);
                    prop_assert!(range.contains(&position) && before[position as usize]);
                    prop_assert!(before[range.start as usize..position as usize].iter().all(|b| !b));
                    prop_assert_eq!(bits(&mask), before);
                }
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }

    /// Threads claim random overlapping ranges; winners record them while holding the guard.
    /// Ranges held at the same time must be disjoint, and every bit ends clear.
    #[test]
    fn stress_claims_are_exclusive() {
        const LEN: u64 = 1024;
        const THREADS: usize = 4;
        const ROUNDS: usize = 20_000;
        let mask = Bitmask::new(LEN);
        // Per base, the number of holders; must never exceed 1.
        let owners: Vec<std::sync::atomic::AtomicU32> =
            (0..LEN).map(|_| std::sync::atomic::AtomicU32::new(0)).collect();
        let barrier = Barrier::new(THREADS);
        let wins = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (mask, owners, barrier, wins) = (&mask, &owners, &barrier, &wins);
                s.spawn(move || {
                    let mut rng = StdRng::seed_from_u64(t as u64);
                    let mut winners = Vec::new();
                    barrier.wait();
                    for _ in 0..ROUNDS {
                        let start = rng.random_range(0..LEN);
                        let len = rng.random_range(1..200).min(LEN - start);
                        let Ok(guard) = mask.claim_range(start..start + len) else { continue };
                        for p in guard.range() {
                            let prev = owners[p as usize]
                                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            assert_eq!(prev, 0, "base {p} claimed twice");
                        }
                        std::hint::spin_loop();
                        for p in guard.range() {
                            owners[p as usize].fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        winners.push(guard.range());
                    }
                    wins.fetch_add(winners.len(), std::sync::atomic::Ordering::Relaxed);
                });
            }
        });
        assert!(wins.into_inner() > 0);
        assert_eq!(mask.count_set(), 0);
    }

    /// Winners keep their claims for good: all kept ranges must be pairwise disjoint and the set
    /// bits must be exactly their union.
    #[test]
    fn stress_permanent_winners_are_disjoint() {
        const LEN: u64 = 4096;
        const THREADS: usize = 4;
        let mask = Bitmask::new(LEN);
        let barrier = Barrier::new(THREADS);
        let mut winners: Vec<Range<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (mask, barrier) = (&mask, &barrier);
                    s.spawn(move || {
                        let mut rng = StdRng::seed_from_u64(100 + t as u64);
                        barrier.wait();
                        let mut won = Vec::new();
                        for _ in 0..5_000 {
                            let start = rng.random_range(0..LEN);
                            let len = rng.random_range(1..100).min(LEN - start);
                            if mask.is_range_free(start..start + len) {
                                if let Ok(g) = mask.claim_range(start..start + len) {
                                    won.push(g.into_permanent());
                                }
                            }
                        }
                        won
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        winners.sort_by_key(|r| r.start);
        for pair in winners.windows(2) {
            assert!(pair[0].end <= pair[1].start, "{:?} overlaps {:?}", pair[0], pair[1]);
        }
        let total: u64 = winners.iter().map(|r| r.end - r.start).sum();
        assert_eq!(mask.count_set(), total);
        for r in &winners {
            mask.release_range(r.clone());
        }
        assert_eq!(mask.count_set(), 0);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    fn set_bits(mask: &Bitmask) -> Vec<u64> {
        (0..mask.len()).filter(|&p| mask.is_set(p)).collect()
    }

    /// Two threads claim overlapping two-word ranges: exactly one wins, and the set bits are
    /// exactly the winner's range (the loser left nothing behind).
    #[test]
    fn loom_overlapping_claims_one_winner() {
        loom::model(|| {
            let mask = Arc::new(Bitmask::new(128));
            let ranges = [10..100, 70..120];
            let handles: Vec<_> = ranges
                .iter()
                .cloned()
                .map(|range| {
                    let mask = Arc::clone(&mask);
                    loom::thread::spawn(move || {
                        mask.claim_range(range).map(ClaimGuard::keep).is_ok()
                    })
                })
                .collect();
            let won: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            assert_eq!(won.iter().filter(|&&w| w).count(), 1, "{won:?}");
            let winner = ranges[won.iter().position(|&w| w).unwrap()].clone();
            assert_eq!(set_bits(&mask), winner.collect::<Vec<_>>());
        });
    }

    /// A guard dropped while its thread unwinds releases the range; a concurrent claimant either
    /// wins (and keeps its range) or loses and leaves nothing.
    #[test]
    fn loom_drop_during_unwind_releases() {
        loom::model(|| {
            let mask = Arc::new(Bitmask::new(64));
            let panicker = {
                let mask = Arc::clone(&mask);
                loom::thread::spawn(move || {
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        if let Ok(_guard) = mask.claim_range(0..40) {
                            panic!("worker failed while holding a claim");
                        }
                    }));
                    drop(result);
                })
            };
            let other = {
                let mask = Arc::clone(&mask);
                loom::thread::spawn(move || mask.claim_range(30..50).map(ClaimGuard::keep).is_ok())
            };
            panicker.join().unwrap();
            let other_won = other.join().unwrap();
            let want: Vec<u64> = if other_won { (30..50).collect() } else { Vec::new() };
            assert_eq!(set_bits(&mask), want);
        });
    }
}
