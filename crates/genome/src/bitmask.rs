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
    /// # Errors
    /// [`ClaimError::OutOfBounds`] if the range passes the contig's end (or `contig` does not
    /// exist); [`ClaimError::Conflict`] if a base is already claimed.
    pub fn claim(
        &self,
        genome: &Genome,
        contig: usize,
        local: Range<u64>,
    ) -> Result<ClaimGuard<'_>, ClaimError> {
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
