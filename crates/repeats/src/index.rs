//! [`SeedIndex`]: the frequent canonical k-mers of a genome and where they occur, built in
//! bounded memory.
//!
//! A k-mer is a seed when, after dropping low-complexity k-mers ([`is_low_complexity`]) and
//! collapsing tandem copies (below), it still occurs at least [`IndexConfig::min_freq`] times.
//! Each occurrence records the global position of the k-mer's first base and whether the
//! canonical k-mer lies on the reverse strand there ([`Occurrence`]).
//!
//! # Tandem collapse
//! For each canonical k-mer, occurrences are walked in position order separately per strand;
//! an occurrence closer than [`IndexConfig::tandem_dist`] to the previous occurrence of the same
//! strand is dropped. The distance is measured from the previous occurrence whether it was kept
//! or not, so a whole head-to-tail tandem array collapses to its first copy.
//!
//! # How it is built
//! No table of all k-mers is ever held. Canonical k-mers are hashed (an invertible mix of their
//! 2k bits, high bits) into 1024 *sub-bins*; hashing rather than taking a prefix keeps the
//! sub-bins even although repeats make some prefixes far more frequent than others.
//! Because the hash inverts, an entry stores only the hash bits below the sub-bin beside the
//! [`Occurrence`]: 8 bytes when they fit in 64 bits (k = 16 at 1 Gbp: 22 + 31 bits; k = 18 at
//! 12 Gbp: 26 + 35), else 16 bytes (the whole k-mer and the occurrence).
//!
//! 1. A counting scan tallies, per scanning thread and per sub-bin, the k-mers that pass the
//!    complexity filter.
//! 2. Consecutive sub-bins are grouped greedily into *buckets* of at most
//!    [`IndexConfig::memory_bytes`] of entries.
//! 3. For each bucket, the genome is scanned again; every thread scans one contiguous slice of
//!    the genome and writes each entry straight to its final place (the counts of step 1 give
//!    each thread a disjoint slot range inside every sub-bin, and the threads' ranges follow
//!    genome order), so no per-thread copy is made. Then threads take runs of sub-bins, sort
//!    each sub-bin by k-mer with a stable LSD radix sort (so occurrences stay in position
//!    order; about twice as fast as `sort_unstable` on a `u128` entry), walk runs of equal
//!    k-mers, collapse tandem copies and keep the frequent ones that the caller's filter
//!    accepts ([`SeedIndex::build_filtered`]; discovery drops chance matches there).
//! 4. The seeds are finally sorted by k-mer (buckets follow hash order); their occurrences stay
//!    where they are.
//!
//! The result does not depend on [`IndexConfig::threads`] or [`IndexConfig::memory_bytes`].
//!
//! # Memory
//! While building, on top of the genome itself:
//! - the bucket working set: 8 (or 16) bytes per entry of the bucket being processed, at most
//!   `memory_bytes` ([`IndexStats::peak_bucket_bytes`] records the largest; one buffer is
//!   allocated for the largest bucket and reused);
//! - per thread: 8 KiB of sub-bin counts, 64 KiB of staged entries, and a radix-sort scratch
//!   buffer as large as the largest sub-bin it sorts (8 bytes × about 1/1024 of the valid
//!   k-mers: 8 MB per thread for 1 Gbp);
//! - the result, which grows across buckets: 8 bytes per kept occurrence plus 24 bytes per kept
//!   seed ([`SeedIndex::heap_bytes`]); what a filter turns down is dropped as its bucket is
//!   collected and never held.
//!
//! With the default 768 MiB a 1 Gbp genome takes 10 bucket passes plus the counting scan
//! (each pass re-reads the whole genome, so scanning dominates with many passes). A single
//! sub-bin larger than `memory_bytes` is an error ([`IndexError::MemoryTooSmall`]), never an
//! out-of-memory kill.
//!
//! ```
//! use seqflow_genome::GenomeBuilder;
//! use seqflow_repeats::index::{IndexConfig, SeedIndex};
//!
//! let unit = b"GATTACACGTTGCAGG";
//! let spacer = [b'N'; 600];
//! let mut builder = GenomeBuilder::new();
//! builder.push_contig("chr1", &[&unit[..], &spacer, unit, &spacer, unit].concat())?;
//! let genome = builder.build();
//!
//! let config = IndexConfig { k: 12, ..IndexConfig::default() };
//! let index = SeedIndex::build(&genome, &config)?;
//! // Five 12-mers in the unit, each found three times.
//! assert_eq!(index.seeds().len(), 5);
//! let seed = &index.seeds()[0];
//! let positions: Vec<u64> = index.occurrences(seed).iter().map(|o| o.pos()).collect();
//! assert_eq!(positions.len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ops::Range;

use seqflow_genome::{Genome, MAX_K};
use serde::Serialize;

/// log2 of the number of hash sub-bins buckets are made of.
const SUB_BIN_BITS: u32 = 10;
/// Number of hash sub-bins.
const SUB_BINS: usize = 1 << SUB_BIN_BITS;
/// Bytes staged per sub-bin before they are written to the bucket (one cache line).
const STAGE_BYTES: usize = 64;
/// Sub-bins with fewer entries are sorted by comparison rather than radix sort.
const SMALL_BIN: usize = 64;

/// Settings of [`SeedIndex::build`].
#[derive(Debug, Clone, PartialEq)]
pub struct IndexConfig {
    /// k-mer length, 1..=32. No default: 0 must be replaced (see [`seed_length`]).
    pub k: usize,
    /// Fewest occurrences, after tandem collapse, for a k-mer to be kept (default 3).
    pub min_freq: u32,
    /// Occurrences of the same k-mer on the same strand closer than this many bases to the
    /// previous one are tandem copies and dropped (default 500).
    pub tandem_dist: u64,
    /// k-mers whose base composition has a Shannon entropy (natural log) below this are
    /// skipped (default 0.7 nats; the maximum is ln 4 ≈ 1.386).
    pub min_entropy: f64,
    /// Budget for the entries of one bucket pass, in bytes (default 768 MiB).
    pub memory_bytes: usize,
    /// Scanning and sorting threads (default 1; 0 counts as 1).
    pub threads: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            k: 0,
            min_freq: 3,
            tandem_dist: 500,
            min_entropy: 0.7,
            memory_bytes: 768 << 20,
            threads: 1,
        }
    }
}

/// Errors of [`SeedIndex::build`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The k-mer length is 0 or greater than 32.
    #[error("k-mer length {k} is out of range 1..=32")]
    InvalidK {
        /// The rejected length.
        k: usize,
    },
    /// The largest hash sub-bin alone needs more than the memory budget.
    #[error(
        "index memory of {memory_bytes} bytes is too small: the largest k-mer bucket needs \
         {needed} bytes (--memory {}K or more)",
        needed.div_ceil(1024)
    )]
    MemoryTooSmall {
        /// The configured budget.
        memory_bytes: usize,
        /// The bytes of the largest sub-bin, which cannot be split further: a budget of at
        /// least this many bytes succeeds.
        needed: usize,
    },
}

/// The seed length suited to a genome of `genome_bases` bases: one more than the smallest `l`
/// with `4^l > genome_bases` (so a random `l`-mer is expected less than once), capped at 32.
///
/// ```
/// use seqflow_repeats::index::seed_length;
/// assert_eq!(seed_length(230_000), 10);
/// assert_eq!(seed_length(1_000_000_000), 16);
/// ```
pub fn seed_length(genome_bases: u64) -> usize {
    let mut l = 0;
    while l < 32 && 4u128.pow(l as u32) <= u128::from(genome_bases) {
        l += 1;
    }
    (l + 1).min(MAX_K)
}

/// Shortest seed the annotation pass picks by itself.
pub const MIN_ANNOTATION_K: usize = 10;

/// The annotation pass's seed length for a library of `library_bases` consensus bases when
/// discovery used `k`: the smallest l with at most one chance hit per 16 genome positions
/// (`2 × library_bases ≤ 4^(l − 2)`, both strands), at least [`MIN_ANNOTATION_K`] and at most
/// `k`.
///
/// Shorter seeds find more of a diverged copy: at 30% divergence an exact 11-mer occurs once
/// every 50 bases of the copy, a 14-mer once every 150. Chance hits are cheap to reject (an
/// ungapped extension of a few dozen bases, see the annotation pass), so the library's size,
/// not the genome's, sets how short a seed can be. (On a 20 Mb simulated genome, one chance
/// hit per 4 positions made the annotation 1.5× slower than one per 16, for 1.5–2 points of
/// recall on 30% diverged copies: docs/benchmarks.md.)
///
/// ```
/// use seqflow_repeats::annotation_seed_length;
/// assert_eq!(annotation_seed_length(48_476, 13), 11);
/// assert_eq!(annotation_seed_length(4_000_000, 16), 14);
/// assert_eq!(annotation_seed_length(100, 13), 10);
/// assert_eq!(annotation_seed_length(50_000_000, 14), 14);
/// ```
pub fn annotation_seed_length(library_bases: u64, k: usize) -> usize {
    let mut l = 1;
    while l < 32 && 4u128.pow((l as u32).saturating_sub(2)) < 2 * u128::from(library_bases) {
        l += 1;
    }
    l.max(MIN_ANNOTATION_K).min(k)
}

/// Bits 0, 2, 4, ... of a 64-bit word: the low bit of every 2-bit base.
const LOW_BITS: u64 = 0x5555_5555_5555_5555;

/// Numbers of A, C, G and T in a k-mer.
fn composition(kmer: u64, k: usize) -> [usize; 4] {
    let valid = if k == 32 { LOW_BITS } else { LOW_BITS & ((1 << (2 * k)) - 1) };
    let mut counts = [0; 4];
    for (code, n) in (0..4u64).zip(&mut counts) {
        // 2-bit groups equal to `code` become 00.
        let diff = kmer ^ (code * LOW_BITS);
        *n = (!(diff | (diff >> 1)) & valid).count_ones() as usize;
    }
    counts
}

/// Shannon entropy (natural log) of a base composition of `k` bases.
fn entropy(counts: [usize; 4], k: usize) -> f64 {
    let k = k as f64;
    -counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = n as f64 / k;
            p * p.ln()
        })
        .sum::<f64>()
}

/// [`is_low_complexity`] for one k as a table lookup on the A, C and G counts.
struct ComplexityFilter {
    k: usize,
    /// `low[(a * (k + 1) + c) * (k + 1) + g]`.
    low: Vec<bool>,
}

impl ComplexityFilter {
    fn new(k: usize, min_entropy: f64) -> Self {
        let side = k + 1;
        let mut low = vec![false; side * side * side];
        for a in 0..=k {
            for c in 0..=k - a {
                for g in 0..=k - a - c {
                    low[(a * side + c) * side + g] =
                        entropy([a, c, g, k - a - c - g], k) < min_entropy;
                }
            }
        }
        ComplexityFilter { k, low }
    }

    fn is_low(&self, kmer: u64) -> bool {
        let [a, c, g, _] = composition(kmer, self.k);
        let side = self.k + 1;
        self.low[(a * side + c) * side + g]
    }
}

/// Whether the A/C/G/T composition of `kmer` (k bases, 2 bits each) has a Shannon entropy
/// (natural log) below `min_entropy`. A k-mer and its reverse complement get the same answer.
///
/// ```
/// use seqflow_repeats::index::is_low_complexity;
/// assert!(is_low_complexity(0, 14, 0.7)); // AAAAAAAAAAAAAA
/// assert!(!is_low_complexity(0b00_01_10_11, 4, 0.7)); // ACGT: ln 4
/// ```
///
/// # Panics
/// If `k` is 0 or greater than 32.
pub fn is_low_complexity(kmer: u64, k: usize, min_entropy: f64) -> bool {
    assert!((1..=MAX_K).contains(&k), "k = {k} must be in 1..=32");
    entropy(composition(kmer, k), k) < min_entropy
}

/// One occurrence of a canonical k-mer: the global position of its first base and whether the
/// canonical k-mer is read on the reverse strand there.
///
/// Packed as `(pos << 1) | reverse`, so the derived order is position order, forward first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
#[repr(transparent)]
pub struct Occurrence(u64);

impl Occurrence {
    /// An occurrence at global position `pos` (below 2^63), on the reverse strand if `reverse`.
    pub fn new(pos: u64, reverse: bool) -> Self {
        debug_assert!(pos < 1 << 63, "position {pos} too large");
        Occurrence((pos << 1) | u64::from(reverse))
    }

    /// Global position of the k-mer's first base.
    pub fn pos(self) -> u64 {
        self.0 >> 1
    }

    /// Whether the forward k-mer at [`pos`](Self::pos) is the reverse complement of the
    /// canonical k-mer (palindromes count as forward).
    pub fn is_reverse(self) -> bool {
        self.0 & 1 == 1
    }
}

/// A frequent canonical k-mer; its occurrences are in [`SeedIndex::occurrences`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The canonical k-mer (the smaller of it and its reverse complement), 2 bits per base,
    /// first base in the high bits.
    pub kmer: u64,
    /// Occurrences kept after tandem collapse (at least [`IndexConfig::min_freq`]).
    pub count: u32,
    /// Offset of the first occurrence in the index's occurrence table.
    first: usize,
    /// Number of stored occurrences.
    len: u32,
}

/// Counters from [`SeedIndex::build`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// Valid k-mers in the genome (not crossing N runs or contig ends).
    pub kmers_scanned: u64,
    /// k-mer occurrences skipped as low complexity.
    pub low_complexity_skipped: u64,
    /// Seeds kept.
    pub distinct_kept: u64,
    /// Occurrences of kept seeds.
    pub occurrences_kept: u64,
    /// Occurrences dropped as tandem copies (of all k-mers, kept or not).
    pub tandem_collapsed: u64,
    /// Frequent k-mers the caller's filter turned down ([`SeedIndex::build_filtered`]); not
    /// in `distinct_kept`.
    pub filtered_out: u64,
    /// Bucket passes over the genome (the counting scan not included).
    pub buckets: usize,
    /// Bytes of entries in the largest bucket.
    pub peak_bucket_bytes: usize,
}

/// The seeds of a genome: frequent canonical k-mers sorted by k-mer, each with its
/// occurrences sorted by position. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct SeedIndex {
    k: usize,
    seeds: Vec<Seed>,
    positions: Vec<Occurrence>,
    stats: IndexStats,
}

impl SeedIndex {
    /// Builds the index of `genome` with `config`.
    ///
    /// # Errors
    /// [`IndexError::InvalidK`] if `config.k` is not in 1..=32; [`IndexError::MemoryTooSmall`]
    /// if a hash sub-bin holds more than `config.memory_bytes` of entries.
    pub fn build(genome: &Genome, config: &IndexConfig) -> Result<SeedIndex, IndexError> {
        Self::build_with_progress(genome, config, &mut |_, _| {})
    }

    /// [`SeedIndex::build`], telling `progress(passes_done, passes)` after each genome scan:
    /// `(1, 1 + buckets)` after the counting scan, then one more after each bucket.
    ///
    /// # Errors
    /// As [`SeedIndex::build`].
    pub fn build_with_progress(
        genome: &Genome,
        config: &IndexConfig,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<SeedIndex, IndexError> {
        Self::build_filtered(genome, config, &|_| true, progress)
    }

    /// [`SeedIndex::build_with_progress`] keeping only the frequent k-mers whose occurrences
    /// (after tandem collapse, in position order) `keep` accepts. The filter runs on each
    /// bucket as it is collected, so what it turns down never takes memory in the result (on
    /// a simulated 1 Gbp genome, two thirds of the frequent 16-mers are chance matches that
    /// discovery would drop anyway).
    ///
    /// ```
    /// use seqflow_genome::GenomeBuilder;
    /// use seqflow_repeats::index::{IndexConfig, SeedIndex};
    ///
    /// let unit = b"GATTACACGTTGCAGG";
    /// let spacer = [b'N'; 600];
    /// let mut builder = GenomeBuilder::new();
    /// builder.push_contig("chr1", &[&unit[..], &spacer, unit, &spacer, unit, &spacer, unit].concat())?;
    /// let genome = builder.build();
    /// let config = IndexConfig { k: 12, ..IndexConfig::default() };
    /// // Only k-mers with an occurrence on the reverse strand.
    /// let index = SeedIndex::build_filtered(&genome, &config, &|occ| occ.iter().any(|o| o.is_reverse()), &mut |_, _| {})?;
    /// assert!(index.seeds().iter().all(|s| index.occurrences(s).iter().any(|o| o.is_reverse())));
    /// assert_eq!(index.seeds().len() as u64 + index.stats().filtered_out, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`SeedIndex::build`].
    pub fn build_filtered(
        genome: &Genome,
        config: &IndexConfig,
        keep: &(dyn Fn(&[Occurrence]) -> bool + Sync),
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<SeedIndex, IndexError> {
        let k = config.k;
        if !(1..=MAX_K).contains(&k) {
            return Err(IndexError::InvalidK { k });
        }
        let builder = Builder::new(genome, config, keep);
        if builder.layout.narrow {
            builder.build::<u64>(progress)
        } else {
            builder.build::<u128>(progress)
        }
    }

    /// The k-mer length.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The seeds, sorted by canonical k-mer.
    pub fn seeds(&self) -> &[Seed] {
        &self.seeds
    }

    /// The occurrences of `seed`, sorted by position.
    ///
    /// # Panics
    /// If `seed` is not from this index (out of range).
    pub fn occurrences(&self, seed: &Seed) -> &[Occurrence] {
        &self.positions[seed.first..seed.first + seed.len as usize]
    }

    /// Counters collected while building.
    pub fn stats(&self) -> &IndexStats {
        &self.stats
    }

    /// Heap bytes held: 24 per seed plus 8 per occurrence (allocated capacity).
    pub fn heap_bytes(&self) -> usize {
        self.seeds.capacity() * size_of::<Seed>()
            + self.positions.capacity() * size_of::<Occurrence>()
    }

    /// The seed of a canonical k-mer, if it was kept (binary search).
    pub fn find(&self, canonical_kmer: u64) -> Option<&Seed> {
        let i = self.seeds.binary_search_by_key(&canonical_kmer, |s| s.kmer).ok()?;
        Some(&self.seeds[i])
    }
}

/// Multipliers of [`Layout::mix`] (odd, so invertible modulo any power of two) and their
/// inverses modulo 2^64.
const MIX: [u64; 2] = [0x9E37_79B9_7F4A_7C15, 0xBF58_476D_1CE4_E5B9];
const UNMIX: [u64; 2] = [inverse(MIX[0]), inverse(MIX[1])];

/// The inverse of an odd number modulo 2^64 (Newton's iteration; each step doubles the bits).
const fn inverse(odd: u64) -> u64 {
    let mut inv = odd;
    let mut i = 0;
    while i < 5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
        i += 1;
    }
    inv
}

/// How k-mers map to sub-bins and how bucket entries are packed, for one k and genome length.
///
/// A canonical k-mer is hashed by an invertible mix of its 2k bits ([`Layout::mix`]); the
/// high [`SUB_BIN_BITS`] of the hash are its sub-bin. Inside a sub-bin those bits are known,
/// so an entry needs only the other `2k − 10` bits of the hash beside the occurrence: when
/// they fit in 64 bits together (`narrow`: k = 16 and 1 Gbp take 22 + 31) an entry is a `u64`
/// (8 bytes), otherwise a `u128` holding the whole k-mer (16 bytes).
#[derive(Debug, Clone, Copy)]
struct Layout {
    k: usize,
    /// `2k` low bits set.
    mask: u64,
    /// Bits of the hash below the sub-bin (0 if `2k` is at most [`SUB_BIN_BITS`]).
    rest_bits: u32,
    /// Bits of a packed occurrence (`pos << 1 | reverse`, pos below the genome length).
    occ_bits: u32,
    /// Whether entries are `u64`.
    narrow: bool,
}

impl Layout {
    fn new(k: usize, genome_len: u64) -> Layout {
        let bits = 2 * k as u32;
        let rest_bits = bits.saturating_sub(SUB_BIN_BITS);
        let occ_bits = u64::BITS - (2 * genome_len).leading_zeros();
        let mask = if k == 32 { u64::MAX } else { (1 << bits) - 1 };
        let narrow = bits >= SUB_BIN_BITS && rest_bits + occ_bits <= u64::BITS;
        Layout { k, mask, rest_bits, occ_bits, narrow }
    }

    /// An invertible hash of a canonical k-mer within its 2k bits: xor-shift by k (its own
    /// inverse at half the width), multiply by an odd constant, twice.
    fn mix(&self, kmer: u64) -> u64 {
        let k = self.k as u32;
        let mut x = kmer ^ (kmer >> k);
        x = x.wrapping_mul(MIX[0]) & self.mask;
        x ^= x >> k;
        x.wrapping_mul(MIX[1]) & self.mask
    }

    /// The k-mer whose [`Layout::mix`] is `hash`.
    fn unmix(&self, hash: u64) -> u64 {
        let k = self.k as u32;
        let mut x = hash.wrapping_mul(UNMIX[1]) & self.mask;
        x ^= x >> k;
        x = x.wrapping_mul(UNMIX[0]) & self.mask;
        x ^ (x >> k)
    }

    /// The sub-bin of a hash.
    fn sub_bin(&self, hash: u64) -> usize {
        let bits = 2 * self.k as u32;
        if bits >= SUB_BIN_BITS {
            (hash >> self.rest_bits) as usize
        } else {
            (hash << (SUB_BIN_BITS - bits)) as usize
        }
    }
}

/// A bucket entry: a canonical k-mer (or the part of its hash the sub-bin does not give) and
/// an occurrence, ordered by k-mer first.
trait Entry: Copy + Default + Ord + Send + Sync {
    /// Bytes per entry.
    const BYTES: usize;
    /// The entry of the k-mer with hash `hash` at `occ`.
    fn pack(layout: &Layout, kmer: u64, hash: u64, occ: Occurrence) -> Self;
    /// What identifies the k-mer within its sub-bin (the sort key).
    fn key(self, layout: &Layout) -> u64;
    /// Bits of [`Entry::key`] that can be set.
    fn key_bits(layout: &Layout) -> u32;
    /// The canonical k-mer of an entry of sub-bin `sub_bin`.
    fn kmer(self, layout: &Layout, sub_bin: usize) -> u64;
    /// The occurrence.
    fn occurrence(self, layout: &Layout) -> Occurrence;
}

impl Entry for u64 {
    const BYTES: usize = 8;

    fn pack(layout: &Layout, _: u64, hash: u64, occ: Occurrence) -> Self {
        let rest = hash & ((1 << layout.rest_bits) - 1);
        rest.checked_shl(layout.occ_bits).unwrap_or(0) | occ.0
    }

    fn key(self, layout: &Layout) -> u64 {
        self.checked_shr(layout.occ_bits).unwrap_or(0)
    }

    fn key_bits(layout: &Layout) -> u32 {
        layout.rest_bits
    }

    fn kmer(self, layout: &Layout, sub_bin: usize) -> u64 {
        layout.unmix(((sub_bin as u64) << layout.rest_bits) | self.key(layout))
    }

    fn occurrence(self, layout: &Layout) -> Occurrence {
        Occurrence(self & u64::MAX.checked_shr(u64::BITS - layout.occ_bits).unwrap_or(0))
    }
}

impl Entry for u128 {
    const BYTES: usize = 16;

    fn pack(_: &Layout, kmer: u64, _: u64, occ: Occurrence) -> Self {
        (u128::from(kmer) << 64) | u128::from(occ.0)
    }

    fn key(self, _: &Layout) -> u64 {
        (self >> 64) as u64
    }

    fn key_bits(layout: &Layout) -> u32 {
        2 * layout.k as u32
    }

    fn kmer(self, layout: &Layout, _: usize) -> u64 {
        self.key(layout)
    }

    fn occurrence(self, _: &Layout) -> Occurrence {
        Occurrence(self as u64)
    }
}

/// Groups consecutive sub-bins into buckets of at most `memory_bytes` of entries; empty
/// sub-bins at the end join the last bucket, and an empty genome has no bucket.
fn plan_buckets(
    totals: &[u64],
    memory_bytes: usize,
    entry_bytes: usize,
) -> Result<Vec<Range<usize>>, IndexError> {
    let capacity = (memory_bytes / entry_bytes) as u64;
    // The largest sub-bin decides: reporting the first one that does not fit would ask for a
    // budget that then fails again on a larger one.
    let largest = totals.iter().copied().max().unwrap_or(0);
    if largest > capacity {
        let needed = usize::try_from(largest).unwrap_or(usize::MAX).saturating_mul(entry_bytes);
        return Err(IndexError::MemoryTooSmall { memory_bytes, needed });
    }
    let mut buckets = Vec::new();
    let mut start = 0;
    let mut size = 0u64;
    for (s, &n) in totals.iter().enumerate() {
        if size + n > capacity {
            buckets.push(start..s);
            start = s;
            size = 0;
        }
        size += n;
    }
    if size > 0 {
        buckets.push(start..totals.len());
    }
    Ok(buckets)
}

/// Result of the counting scan.
struct Counts {
    /// `per_thread[t][s]`: entries of sub-bin `s` found by thread `t`.
    per_thread: Vec<Vec<u64>>,
    kmers_scanned: u64,
    low_complexity_skipped: u64,
}

impl Counts {
    /// Entries per sub-bin over all threads.
    fn totals(&self) -> Vec<u64> {
        let mut totals = vec![0u64; SUB_BINS];
        for counts in &self.per_thread {
            for (t, c) in totals.iter_mut().zip(counts) {
                *t += c;
            }
        }
        totals
    }
}

/// Shared state of one [`SeedIndex::build`].
struct Builder<'a> {
    genome: &'a Genome,
    config: &'a IndexConfig,
    /// The caller's filter on a frequent k-mer's occurrences.
    keep: &'a (dyn Fn(&[Occurrence]) -> bool + Sync),
    layout: Layout,
    /// The genome slice each thread scans.
    chunks: Vec<Range<u64>>,
    complexity: ComplexityFilter,
}

impl<'a> Builder<'a> {
    fn new(
        genome: &'a Genome,
        config: &'a IndexConfig,
        keep: &'a (dyn Fn(&[Occurrence]) -> bool + Sync),
    ) -> Self {
        let threads = config.threads.max(1) as u64;
        let len = genome.len();
        let chunks = (0..threads).map(|t| len * t / threads..len * (t + 1) / threads).collect();
        let complexity = ComplexityFilter::new(config.k, config.min_entropy);
        Builder { genome, config, keep, chunks, complexity, layout: Layout::new(config.k, len) }
    }

    /// Counts, plans the buckets and collects them with entries of type `E`.
    fn build<E: Entry>(
        &self,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<SeedIndex, IndexError> {
        let counts = self.count();
        let mut stats = IndexStats {
            kmers_scanned: counts.kmers_scanned,
            low_complexity_skipped: counts.low_complexity_skipped,
            ..IndexStats::default()
        };
        let totals = counts.totals();
        let buckets = plan_buckets(&totals, self.config.memory_bytes, E::BYTES)?;
        stats.buckets = buckets.len();
        let passes = 1 + buckets.len();
        progress(1, passes);
        let mut seeds = Vec::new();
        let mut positions = Vec::new();
        // One allocation for the largest bucket, reused by every pass. `vec![0; n]` takes
        // zeroed pages from the allocator without writing them, so the pages are first touched
        // by the filling threads, in parallel, not zeroed here on one thread.
        let bucket_len = |b: &Range<usize>| totals[b.clone()].iter().sum::<u64>() as usize;
        let largest = buckets.iter().map(bucket_len).max().unwrap_or(0);
        let mut buffer = vec![E::default(); largest];
        for (done, bucket) in buckets.into_iter().enumerate() {
            let entries = &mut buffer[..bucket_len(&bucket)];
            self.fill(&counts.per_thread, bucket.clone(), entries);
            stats.peak_bucket_bytes = stats.peak_bucket_bytes.max(entries.len() * E::BYTES);
            self.collect(entries, &counts, bucket, &mut seeds, &mut positions, &mut stats);
            progress(2 + done, passes);
        }
        drop(buffer);
        seeds.sort_unstable_by_key(|s: &Seed| s.kmer);
        seeds.shrink_to_fit();
        positions.shrink_to_fit();
        stats.distinct_kept = seeds.len() as u64;
        stats.occurrences_kept = positions.len() as u64;
        Ok(SeedIndex { k: self.config.k, seeds, positions, stats })
    }

    /// Calls `keep(sub-bin − bins.start, canonical, hash, occurrence)` for the k-mers of a chunk
    /// whose canonical form is in sub-bins `bins` and passes the complexity filter, and
    /// `skipped` for those in `bins` that do not.
    fn scan(
        &self,
        chunk: Range<u64>,
        bins: Range<usize>,
        mut keep: impl FnMut(usize, u64, u64, Occurrence),
        mut skipped: impl FnMut(),
    ) {
        let k = self.config.k;
        let width = bins.len();
        let mut kmers = self.genome.kmers(chunk, k);
        while let Some((pos, kmer)) = kmers.next() {
            let canon = kmer.min(kmers.last_reverse());
            let hash = self.layout.mix(canon);
            let bin = self.layout.sub_bin(hash).wrapping_sub(bins.start);
            if bin >= width {
                continue;
            }
            if self.complexity.is_low(kmer) {
                skipped();
                continue;
            }
            keep(bin, canon, hash, Occurrence::new(pos, canon != kmer));
        }
    }

    /// The counting scan: entries per thread and sub-bin.
    fn count(&self) -> Counts {
        let results: Vec<(Vec<u64>, u64, u64)> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .chunks
                .iter()
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut counts = vec![0u64; SUB_BINS];
                        let (mut scanned, mut skipped) = (0u64, 0u64);
                        self.scan(
                            chunk.clone(),
                            0..SUB_BINS,
                            |bin, _, _, _| {
                                counts[bin] += 1;
                                scanned += 1;
                            },
                            || skipped += 1,
                        );
                        (counts, scanned + skipped, skipped)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        let mut counts =
            Counts { per_thread: Vec::new(), kmers_scanned: 0, low_complexity_skipped: 0 };
        for (per_bin, scanned, skipped) in results {
            counts.per_thread.push(per_bin);
            counts.kmers_scanned += scanned;
            counts.low_complexity_skipped += skipped;
        }
        counts
    }

    /// Scans the genome for the entries of the sub-bins in `bucket`, laid out sub-bin by
    /// sub-bin and, within a sub-bin, thread by thread (so in position order). `entries` has
    /// exactly the bucket's length; every slot is overwritten (what it held does not matter).
    fn fill<E: Entry>(&self, per_thread: &[Vec<u64>], bucket: Range<usize>, entries: &mut [E]) {
        // Give each thread its own slot range inside every sub-bin of the bucket.
        let mut slots: Vec<Vec<&mut [E]>> = (0..per_thread.len()).map(|_| Vec::new()).collect();
        let mut rest = entries;
        for s in bucket.clone() {
            for (t, counts) in per_thread.iter().enumerate() {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(counts[s] as usize);
                slots[t].push(head);
                rest = tail;
            }
        }
        let width = bucket.len();
        let stage = STAGE_BYTES / E::BYTES;
        let layout = &self.layout;
        std::thread::scope(|scope| {
            for (chunk, mut slots) in self.chunks.iter().zip(slots) {
                let bucket = bucket.clone();
                scope.spawn(move || {
                    // Entries are staged a cache line at a time per sub-bin, so the scattered
                    // writes touch far fewer lines and pages.
                    let mut staged = vec![E::default(); width * stage];
                    let mut staged_len = vec![0usize; width];
                    let mut cursors = vec![0usize; width];
                    self.scan(
                        chunk.clone(),
                        bucket.clone(),
                        |s, canon, hash, occ| {
                            let n = staged_len[s];
                            staged[s * stage + n] = E::pack(layout, canon, hash, occ);
                            if n + 1 == stage {
                                let at = cursors[s];
                                slots[s][at..at + stage]
                                    .copy_from_slice(&staged[s * stage..(s + 1) * stage]);
                                cursors[s] = at + stage;
                                staged_len[s] = 0;
                            } else {
                                staged_len[s] = n + 1;
                            }
                        },
                        || {},
                    );
                    for s in 0..width {
                        let (at, n) = (cursors[s], staged_len[s]);
                        slots[s][at..at + n].copy_from_slice(&staged[s * stage..s * stage + n]);
                        cursors[s] = at + n;
                    }
                    let filled = cursors.iter().zip(&slots).all(|(&c, slot)| c == slot.len());
                    assert!(filled, "counting and filling scans disagree");
                });
            }
        });
    }

    /// Sorts the sub-bins of a filled bucket, collapses tandem copies and appends the frequent
    /// k-mers to `seeds` and `positions`, in sub-bin order.
    fn collect<E: Entry>(
        &self,
        entries: &mut [E],
        counts: &Counts,
        bucket: Range<usize>,
        seeds: &mut Vec<Seed>,
        positions: &mut Vec<Occurrence>,
        stats: &mut IndexStats,
    ) {
        let totals: Vec<usize> =
            bucket.clone().map(|s| counts.per_thread.iter().map(|c| c[s] as usize).sum()).collect();
        // Split the sub-bins into one contiguous run per thread with about equal entries.
        let threads = self.chunks.len();
        let mut parts: Vec<Vec<usize>> = Vec::with_capacity(threads);
        let (mut offset, mut s) = (0usize, 0usize);
        for t in 0..threads {
            let goal = entries.len() * (t + 1) / threads;
            let mut sizes = Vec::new();
            while s < totals.len() && (offset < goal || t + 1 == threads) {
                sizes.push(totals[s]);
                offset += totals[s];
                s += 1;
            }
            parts.push(sizes);
        }
        let (config, keep, layout) = (self.config, self.keep, &self.layout);
        let results: Vec<Collected> = std::thread::scope(|scope| {
            let mut rest = entries;
            let mut bins_before = 0;
            let handles: Vec<_> = parts
                .into_iter()
                .map(|sizes| {
                    let (part, tail) = std::mem::take(&mut rest).split_at_mut(sizes.iter().sum());
                    rest = tail;
                    let first_bin = bucket.start + bins_before;
                    bins_before += sizes.len();
                    scope.spawn(move || collect_part(part, first_bin, &sizes, config, layout, keep))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        for part in results {
            let base = positions.len();
            seeds.extend(
                part.seeds.into_iter().map(|seed| Seed { first: seed.first + base, ..seed }),
            );
            positions.extend(part.positions);
            stats.tandem_collapsed += part.collapsed;
            stats.filtered_out += part.filtered_out;
        }
    }
}

/// What one thread keeps from its sub-bins.
struct Collected {
    seeds: Vec<Seed>,
    positions: Vec<Occurrence>,
    collapsed: u64,
    filtered_out: u64,
}

/// Sorts each sub-bin (of `sizes` entries, consecutive in `entries`, the first one numbered
/// `first_bin`) and keeps the frequent k-mers, after tandem collapse, that `keep` accepts.
fn collect_part<E: Entry>(
    entries: &mut [E],
    first_bin: usize,
    sizes: &[usize],
    config: &IndexConfig,
    layout: &Layout,
    keep: &(dyn Fn(&[Occurrence]) -> bool + Sync),
) -> Collected {
    let mut out =
        Collected { seeds: Vec::new(), positions: Vec::new(), collapsed: 0, filtered_out: 0 };
    let mut scratch = Vec::new();
    let mut rest = entries;
    for (sub_bin, &size) in (first_bin..).zip(sizes) {
        let (bin, tail) = std::mem::take(&mut rest).split_at_mut(size);
        rest = tail;
        // Both orders are (k-mer, position): an entry's low bits are its occurrence.
        if bin.len() < SMALL_BIN {
            bin.sort_unstable();
        } else {
            radix_sort_by_key(bin, &mut scratch, layout);
        }
        for group in bin.chunk_by(|a, b| a.key(layout) == b.key(layout)) {
            let kmer = group[0].kmer(layout, sub_bin);
            let first = out.positions.len();
            let mut last = [None::<u64>; 2];
            for &entry in group.iter() {
                let occ = entry.occurrence(layout);
                let strand = &mut last[usize::from(occ.is_reverse())];
                let pos = occ.pos();
                if strand.is_some_and(|prev| pos - prev < config.tandem_dist) {
                    out.collapsed += 1;
                } else {
                    out.positions.push(occ);
                }
                *strand = Some(pos);
            }
            let count = out.positions.len() - first;
            if count < config.min_freq as usize {
                out.positions.truncate(first);
            } else if !keep(&out.positions[first..]) {
                out.filtered_out += 1;
                out.positions.truncate(first);
            } else {
                let count = u32::try_from(count).expect("fewer than 2^32 occurrences of a k-mer");
                out.seeds.push(Seed { kmer, count, first, len: count });
            }
        }
    }
    out
}

/// Stable LSD radix sort of entries by their [`Entry::key`], at most 11 bits per pass;
/// `scratch` is resized to the length of `bin`.
fn radix_sort_by_key<E: Entry>(bin: &mut [E], scratch: &mut Vec<E>, layout: &Layout) {
    let bits = E::key_bits(layout);
    let passes = bits.div_ceil(11);
    if passes == 0 {
        return;
    }
    let digit = bits.div_ceil(passes);
    let mask = (1usize << digit) - 1;
    scratch.clear();
    scratch.resize(bin.len(), E::default());
    let mut offsets = vec![0usize; mask + 1];
    let mut in_bin = true;
    for pass in 0..passes {
        let shift = pass * digit;
        let (src, dst): (&[E], &mut [E]) =
            if in_bin { (&*bin, &mut scratch[..]) } else { (&scratch[..], &mut *bin) };
        offsets.fill(0);
        for &e in src {
            offsets[(e.key(layout) >> shift) as usize & mask] += 1;
        }
        let mut sum = 0;
        for o in &mut offsets {
            (*o, sum) = (sum, sum + *o);
        }
        for &e in src {
            let d = (e.key(layout) >> shift) as usize & mask;
            dst[offsets[d]] = e;
            offsets[d] += 1;
        }
        in_bin = !in_bin;
    }
    if !in_bin {
        bin.copy_from_slice(scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::{IndexError, Layout, plan_buckets};

    const ENTRY_BYTES: usize = 16;

    /// The sub-bin hash is a bijection on the k-mer's 2k bits for every k, so an 8-byte entry
    /// that keeps only the hash bits below the sub-bin gives its k-mer back.
    #[test]
    fn the_sub_bin_hash_inverts_for_every_k() {
        for k in 1..=32 {
            let layout = Layout::new(k, 1_000_000);
            let mut x = 0x0123_4567_89AB_CDEFu64;
            for _ in 0..2_000 {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let kmer = x & layout.mask;
                let hash = layout.mix(kmer);
                assert!(hash <= layout.mask && layout.sub_bin(hash) < super::SUB_BINS);
                assert_eq!(layout.unmix(hash), kmer, "k = {k}");
            }
        }
        // Small k: every k-mer, and the hashes are all different.
        for k in 1..=7 {
            let layout = Layout::new(k, 100);
            let mut seen: Vec<u64> = (0..1u64 << (2 * k)).map(|x| layout.mix(x)).collect();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), 1 << (2 * k));
        }
        // 8-byte entries where the hash rest and the occurrence fit: k = 16 at 1 Gbp, not k = 32.
        assert!(Layout::new(16, 1_000_000_000).narrow);
        assert!(Layout::new(18, 12_000_000_000).narrow);
        assert!(!Layout::new(32, 1_000_000).narrow);
        assert!(!Layout::new(4, 1_000_000).narrow);
    }

    /// The budget the error asks for is enough: it names the largest sub-bin, not the first
    /// one that did not fit (issue #9, item 10).
    #[test]
    fn the_memory_the_error_asks_for_is_enough() {
        let totals = [10, 60, 100, 50];
        let err = plan_buckets(&totals, 50 * ENTRY_BYTES, ENTRY_BYTES).unwrap_err();
        let IndexError::MemoryTooSmall { needed, .. } = err else { panic!("{err}") };
        assert_eq!(needed, 100 * ENTRY_BYTES);
        assert!(err.to_string().contains(&format!("--memory {}K", needed.div_ceil(1024))));
        assert!(plan_buckets(&totals, needed, ENTRY_BYTES).is_ok());
    }
}
