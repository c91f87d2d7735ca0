//! 2-bit k-mer helpers: reverse complement and canonical form.

/// Longest k-mer that fits in a `u64` at 2 bits per base.
pub const MAX_K: usize = 32;

/// The reverse complement of a k-mer packed 2 bits per base (first base in the highest bits,
/// A=0 C=1 G=2 T=3, so complement is `3 - code`).
///
/// ```
/// // ACG (00 01 10) -> CGT (01 10 11)
/// assert_eq!(seqflow_genome::revcomp(0b00_01_10, 3), 0b01_10_11);
/// ```
///
/// # Panics
/// If `k` is 0 or greater than 32.
pub fn revcomp(kmer: u64, k: usize) -> u64 {
    assert!((1..=MAX_K).contains(&k), "k = {k} must be in 1..=32");
    let mut x = !kmer;
    // Reverse the 2-bit groups within each byte, then the bytes.
    x = ((x >> 2) & 0x3333_3333_3333_3333) | ((x & 0x3333_3333_3333_3333) << 2);
    x = ((x >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((x & 0x0F0F_0F0F_0F0F_0F0F) << 4);
    x.swap_bytes() >> (64 - 2 * k)
}

/// The canonical form of a k-mer: the smaller of it and its [`revcomp`].
///
/// # Panics
/// If `k` is 0 or greater than 32.
pub fn canonical(kmer: u64, k: usize) -> u64 {
    kmer.min(revcomp(kmer, k))
}
