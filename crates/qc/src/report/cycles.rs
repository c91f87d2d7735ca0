//! The per-cycle counters of one mate: one counter per (cycle, base class, Phred value).
//!
//! Every base costs one increment, so this table is where `qc` spends most of its time. Two
//! things keep that increment cheap:
//!
//! - **Codes first, in bulk.** A read's bases and qualities are turned into counter codes
//!   (`class × QUALITY_LEVELS + Phred`) 16 at a time with SSE2 (a portable loop for short
//!   reads and other CPUs), without table look-ups or branches; the same pass sums the Phred
//!   values and counts G and C.
//! - **Small counters in cache.** Increments go to 16-bit counters, a row of 520 per cycle
//!   (a code masks into its first 512, so no bounds check; see [`ROW`] for the 8 more), which
//!   are added to the 64-bit totals every 65,535 reads: a read adds at most 1 to each of them,
//!   so they cannot overflow. The 16-bit table of 150 cycles takes 156 KB, 28% of the 64-bit
//!   one.
//!
//! Bases at cycle [`MAX_CYCLES`]` − 1` and later all count in the last cycle; they go straight
//! to the totals (a long read can add more than one to that cycle's counters).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use seqflow_seqio::{PHRED33_MAX, PHRED33_MIN};

use crate::report::mate::{COUNTERS_PER_CYCLE, MAX_CYCLES, QUALITY_LEVELS};

/// Codes mask into `0..CODES` ([`COUNTERS_PER_CYCLE`] rounded up to a power of two).
const CODES: usize = 512;
const _: () = assert!(COUNTERS_PER_CYCLE <= CODES);
/// Width of a row of 16-bit counters: more than [`CODES`], so that rows do not start 1 KiB
/// apart (rows a power of two apart share cache sets: measured 1.3–1.6 ns per increment
/// with 512-counter rows against 0.7–0.8 ns with 520 on this project's machines).
const ROW: usize = CODES + 8;
/// Reads counted in the 16-bit counters before they are added to the totals.
const READS_PER_FLUSH: u32 = u16::MAX as u32;
/// Bases encoded at a time, so that a 32-bit Phred sum cannot overflow (93 × 2^16 < 2^32).
const ENCODE_CHUNK: usize = 1 << 16;

/// What encoding a read found besides its codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sums {
    /// Sum of the Phred values.
    pub(crate) phred: u64,
    /// G and C bases.
    pub(crate) gc: u32,
    /// Every base encoded is one of `ACGTNacgtn` and every quality a Phred+33 character.
    pub(crate) plain: bool,
}

/// Counter code of each base: its class (0 A, 1 C, 2 G, 3 T, 4 other) × [`QUALITY_LEVELS`] +
/// its Phred value (Phred+33, clamped to 0..=93). Returns the sum of the Phred values, the
/// number of G and C bases, and whether the bytes are plain (checked in the same pass, so
/// that validation costs no second one). `codes` must be at least as long as `bases` and
/// `quals` (the shorter of the two is encoded).
#[inline]
pub(crate) fn encode(bases: &[u8], quals: &[u8], codes: &mut [u16]) -> Sums {
    let len = bases.len().min(quals.len());
    #[cfg(target_arch = "x86_64")]
    if len >= LANES {
        return encode_sse2(&bases[..len], &quals[..len], &mut codes[..len]);
    }
    encode_portable(&bases[..len], &quals[..len], &mut codes[..len])
}

/// Bytes per SSE2 register.
#[cfg(target_arch = "x86_64")]
const LANES: usize = 16;

/// [`encode`] 16 bases at a time (SSE2, part of the x86-64 baseline). Sequences of at least 16
/// bases of equal length; the last block overlaps the one before it and counts only its new
/// lanes in the sums.
#[cfg(target_arch = "x86_64")]
#[inline]
fn encode_sse2(bases: &[u8], quals: &[u8], codes: &mut [u16]) -> Sums {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_add_epi16, _mm_add_epi64, _mm_and_si128, _mm_cmpeq_epi8,
        _mm_cvtsi128_si64, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8, _mm_movemask_epi8,
        _mm_mullo_epi16, _mm_or_si128, _mm_sad_epu8, _mm_set1_epi8, _mm_set1_epi16,
        _mm_setzero_si128, _mm_srli_si128, _mm_storeu_si128, _mm_sub_epi8, _mm_subs_epu8,
        _mm_unpackhi_epi8, _mm_unpacklo_epi8,
    };
    /// `FRESH[16 − k..32 − k]`: lanes `k..16` set.
    const FRESH: [u8; 32] = {
        let mut mask = [0u8; 32];
        let mut i = 16;
        while i < 32 {
            mask[i] = 0xff;
            i += 1;
        }
        mask
    };
    let len = bases.len();
    assert!(len >= LANES && quals.len() == len && codes.len() == len);
    // SAFETY: SSE2 is part of the x86-64 baseline. Every load and store covers 16 bytes (or 8
    // codes) starting at `start ≤ len − 16`, inside `bases`, `quals` and `codes`, all `len`
    // long (asserted above); the mask load starts at `16 − skip` with `skip ≤ 15`.
    unsafe {
        let zero = _mm_setzero_si128();
        let byte = |b: u8| _mm_set1_epi8(b as i8);
        let (mut phred_sums, mut strong_sums) = (zero, zero);
        let mut plain = _mm_set1_epi8(-1);
        let mut at = 0;
        while at < len {
            let start = at.min(len - LANES);
            let skip = at - start;
            let fresh = _mm_loadu_si128(FRESH.as_ptr().add(LANES - skip) as *const __m128i);
            let folded = _mm_or_si128(
                _mm_loadu_si128(bases.as_ptr().add(start) as *const __m128i),
                byte(0x20),
            );
            let is = |letter: u8| _mm_cmpeq_epi8(folded, byte(letter));
            let (a, c, g, t) = (is(b'a'), is(b'c'), is(b'g'), is(b't'));
            // The masks exclude each other, so adding their weights picks one.
            let weight = _mm_add_epi8(
                _mm_add_epi8(_mm_and_si128(a, byte(4)), _mm_and_si128(c, byte(3))),
                _mm_add_epi8(_mm_and_si128(g, byte(2)), _mm_and_si128(t, byte(1))),
            );
            let class = _mm_sub_epi8(byte(4), weight);
            let qual = _mm_loadu_si128(quals.as_ptr().add(start) as *const __m128i);
            let phred =
                _mm_min_epu8(_mm_subs_epu8(qual, byte(33)), byte((QUALITY_LEVELS - 1) as u8));
            // Plain: a letter of ACGTN, and a quality that clamping to `!`..=`~` leaves alone.
            let acgtn =
                _mm_or_si128(_mm_or_si128(_mm_or_si128(a, c), _mm_or_si128(g, t)), is(b'n'));
            let phred33 = _mm_cmpeq_epi8(
                _mm_max_epu8(_mm_min_epu8(qual, byte(PHRED33_MAX)), byte(PHRED33_MIN)),
                qual,
            );
            plain = _mm_and_si128(plain, _mm_and_si128(acgtn, phred33));
            let levels = _mm_set1_epi16(QUALITY_LEVELS as i16);
            let code = |class: __m128i, phred: __m128i| {
                _mm_add_epi16(_mm_mullo_epi16(class, levels), phred)
            };
            let out = codes.as_mut_ptr().add(start) as *mut __m128i;
            _mm_storeu_si128(
                out,
                code(_mm_unpacklo_epi8(class, zero), _mm_unpacklo_epi8(phred, zero)),
            );
            _mm_storeu_si128(
                out.add(1),
                code(_mm_unpackhi_epi8(class, zero), _mm_unpackhi_epi8(phred, zero)),
            );
            phred_sums = _mm_add_epi64(phred_sums, _mm_sad_epu8(_mm_and_si128(phred, fresh), zero));
            let strong = _mm_and_si128(_mm_or_si128(c, g), _mm_and_si128(fresh, byte(1)));
            strong_sums = _mm_add_epi64(strong_sums, _mm_sad_epu8(strong, zero));
            at = start + LANES;
        }
        let total = |sums: __m128i| {
            (_mm_cvtsi128_si64(sums) as u64)
                .wrapping_add(_mm_cvtsi128_si64(_mm_srli_si128(sums, 8)) as u64)
        };
        Sums {
            phred: total(phred_sums),
            gc: total(strong_sums) as u32,
            plain: _mm_movemask_epi8(plain) == 0xffff,
        }
    }
}

/// [`encode`] without intrinsics (short reads, other architectures).
#[inline]
fn encode_portable(bases: &[u8], quals: &[u8], codes: &mut [u16]) -> Sums {
    let mut out = Sums { phred: 0, gc: 0, plain: true };
    let chunks = bases.chunks(ENCODE_CHUNK).zip(quals.chunks(ENCODE_CHUNK));
    for ((bases, quals), codes) in chunks.zip(codes.chunks_mut(ENCODE_CHUNK)) {
        let (mut sum, mut strong, mut plain) = (0u32, 0u32, true);
        for ((&base, &qual), code) in bases.iter().zip(quals).zip(codes.iter_mut()) {
            let folded = base | 0x20;
            let (a, c, g, t) = (
                u8::from(folded == b'a'),
                u8::from(folded == b'c'),
                u8::from(folded == b'g'),
                u8::from(folded == b't'),
            );
            let class = 4 - 4 * a - 3 * c - 2 * g - t;
            let phred = qual.saturating_sub(33).min((QUALITY_LEVELS - 1) as u8);
            *code = u16::from(class) * QUALITY_LEVELS as u16 + u16::from(phred);
            sum += u32::from(phred);
            strong += u32::from(c | g);
            plain &= (class < 4 || folded == b'n') & (PHRED33_MIN..=PHRED33_MAX).contains(&qual);
        }
        out.phred += u64::from(sum);
        out.gc += strong;
        out.plain &= plain;
    }
    out
}

/// `cycle × (base class × Phred value)` counters, mergeable and serialised as one flat list of
/// 64-bit counts ([`COUNTERS_PER_CYCLE`] per cycle).
#[derive(Clone, Default)]
pub(crate) struct CycleTable {
    totals: Vec<u64>,
    /// 16-bit counters of cycles `0..MAX_CYCLES − 1`, one row per cycle seen.
    pending: Vec<[u16; ROW]>,
    /// Reads counted in `pending` since it was last added to `totals`.
    pending_reads: u32,
    /// Codes of the read being counted (reused).
    codes: Vec<u16>,
}

impl CycleTable {
    /// Number of cycles seen.
    pub(crate) fn cycle_count(&self) -> usize {
        self.totals.len() / COUNTERS_PER_CYCLE
    }

    /// Makes room for `cycles` cycles (at most [`MAX_CYCLES`]).
    #[inline]
    pub(crate) fn grow(&mut self, cycles: usize) {
        let cycles = cycles.min(MAX_CYCLES);
        if self.totals.len() < cycles * COUNTERS_PER_CYCLE {
            self.totals.resize(cycles * COUNTERS_PER_CYCLE, 0);
            self.pending.resize(cycles.min(MAX_CYCLES - 1), [0; ROW]);
        }
    }

    /// Counts one read's bases (with their qualities) at cycles 0, 1, …; returns the read's
    /// Phred sum, G/C count and plainness as [`encode`] does. With `COUNT` false the counters
    /// are left alone (another device counts them) and only the sums are made.
    #[inline]
    pub(crate) fn add<const COUNT: bool>(&mut self, bases: &[u8], quals: &[u8]) -> Sums {
        let len = bases.len().min(quals.len());
        if self.codes.len() < len {
            self.codes.resize(len, 0);
        }
        let sums = encode(bases, quals, &mut self.codes);
        if !COUNT {
            return sums;
        }
        let codes = &self.codes[..len];
        let head = len.min(MAX_CYCLES - 1);
        for (row, &code) in self.pending.iter_mut().zip(&codes[..head]) {
            row[usize::from(code) & (CODES - 1)] += 1;
        }
        if len > head {
            let last = &mut self.totals[(MAX_CYCLES - 1) * COUNTERS_PER_CYCLE..];
            for &code in &codes[head..] {
                last[usize::from(code)] += 1;
            }
        }
        self.pending_reads += 1;
        if self.pending_reads == READS_PER_FLUSH {
            self.flush();
        }
        sums
    }

    /// Adds the 16-bit counters to the totals and clears them.
    fn flush(&mut self) {
        for (totals, row) in self.totals.chunks_exact_mut(COUNTERS_PER_CYCLE).zip(&mut self.pending)
        {
            for (total, count) in totals.iter_mut().zip(row.iter()) {
                *total += u64::from(*count);
            }
            *row = [0; ROW];
        }
        self.pending_reads = 0;
    }

    /// The counters of cycle `i` (the code of (class `b`, Phred `q`) at `b × QUALITY_LEVELS + q`).
    pub(crate) fn counters(&self, i: usize) -> [u64; COUNTERS_PER_CYCLE] {
        let mut counters = [0; COUNTERS_PER_CYCLE];
        counters
            .copy_from_slice(&self.totals[i * COUNTERS_PER_CYCLE..(i + 1) * COUNTERS_PER_CYCLE]);
        if let Some(row) = self.pending.get(i) {
            for (counter, &pending) in counters.iter_mut().zip(row.iter()) {
                *counter += u64::from(pending);
            }
        }
        counters
    }

    /// Adds counts made elsewhere, laid out like the totals.
    pub(crate) fn add_totals(&mut self, table: &[u64]) {
        self.grow(table.len() / COUNTERS_PER_CYCLE);
        for (mine, theirs) in self.totals.iter_mut().zip(table) {
            *mine += theirs;
        }
    }

    /// Adds every count of `other`.
    pub(crate) fn merge(&mut self, other: &CycleTable) {
        self.add_totals(&other.flat());
    }

    /// All counts as one list, cycle after cycle.
    fn flat(&self) -> Vec<u64> {
        (0..self.cycle_count()).flat_map(|i| self.counters(i)).collect()
    }
}

impl fmt::Debug for CycleTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CycleTable").field(&self.flat()).finish()
    }
}

impl Serialize for CycleTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.flat().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CycleTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let totals = Vec::<u64>::deserialize(deserializer)?;
        if totals.len() % COUNTERS_PER_CYCLE != 0 || totals.len() > MAX_CYCLES * COUNTERS_PER_CYCLE
        {
            return Err(serde::de::Error::custom(format!(
                "a cycle table of {} counters is not whole cycles of {COUNTERS_PER_CYCLE}, at most {MAX_CYCLES} of them",
                totals.len()
            )));
        }
        let mut table = CycleTable::default();
        table.add_totals(&totals);
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::mate::BASE_CLASS;

    /// The table-driven definition the vectorised loop must match.
    fn naive_code(base: u8, qual: u8) -> u16 {
        let phred = (qual.saturating_sub(33)).min(93);
        u16::from(BASE_CLASS[base as usize]) * 94 + u16::from(phred)
    }

    #[test]
    fn codes_match_the_tables_for_every_byte_pair() {
        let bases: Vec<u8> = (0..=255u8).flat_map(|b| [b; 256]).collect();
        let quals: Vec<u8> = (0..256 * 256).map(|i| i as u8).collect();
        let mut codes = vec![0; bases.len()];
        let sums = encode(&bases, &quals, &mut codes);
        for ((&b, &q), &code) in bases.iter().zip(&quals).zip(&codes) {
            assert_eq!(code, naive_code(b, q), "base {b:#04x}, quality {q:#04x}");
        }
        let phred_sum: u64 = quals.iter().map(|&q| u64::from(q.saturating_sub(33).min(93))).sum();
        assert_eq!((sums.phred, sums.gc, sums.plain), (phred_sum, 4 * 256, false));
    }

    /// Every byte value at every place near the ends of reads as long as the 16-byte blocks
    /// and longer (the last block overlapping): plain means `ACGTN` in either case and
    /// Phred+33, in both loops.
    #[test]
    fn plain_means_acgtn_letters_and_phred33_qualities() {
        for len in [1, 15, 16, 17, 31, 32, 33, 150] {
            let mut codes = vec![0; len];
            for at in (0..len).filter(|&i| i < 18 || i + 18 > len) {
                for b in 0..=255u8 {
                    let mut bases: Vec<u8> =
                        b"ACGTNacgtn".iter().cycle().take(len).copied().collect();
                    let mut quals = vec![b'I'; len];
                    bases[at] = b;
                    let letter = matches!(b | 0x20, b'a' | b'c' | b'g' | b't' | b'n');
                    assert_eq!(encode(&bases, &quals, &mut codes).plain, letter, "{len} {at} {b}");
                    assert_eq!(encode_portable(&bases, &quals, &mut codes).plain, letter);
                    bases[at] = b'A';
                    quals[at] = b;
                    let phred33 = (b'!'..=b'~').contains(&b);
                    assert_eq!(encode(&bases, &quals, &mut codes).plain, phred33, "{len} {at} {b}");
                    assert_eq!(encode_portable(&bases, &quals, &mut codes).plain, phred33);
                }
            }
        }
    }

    #[test]
    fn every_length_encodes_like_the_portable_loop() {
        let mut state = 99u64;
        for len in 0..200 {
            let mut byte = || {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 56) as u8
            };
            let bases: Vec<u8> = (0..len).map(|_| b"ACGTNacgtn"[byte() as usize % 10]).collect();
            let quals: Vec<u8> = (0..len).map(|_| byte()).collect();
            let (mut fast, mut plain) = (vec![0; len], vec![0; len]);
            let sums = encode(&bases, &quals, &mut fast);
            assert_eq!(sums, encode_portable(&bases, &quals, &mut plain), "length {len}");
            assert_eq!(fast, plain, "length {len}");
        }
    }

    #[test]
    fn sixteen_bit_counters_roll_into_the_totals_exactly() {
        let mut table = CycleTable::default();
        table.grow(3);
        // More reads than one flush holds, so the count crosses into the totals.
        for _ in 0..READS_PER_FLUSH + 10 {
            table.add::<true>(b"ACg", b"I#~");
        }
        let n = u64::from(READS_PER_FLUSH + 10);
        assert_eq!(table.counters(0)[40], n); // A, Phred 40
        assert_eq!(table.counters(1)[94 + 2], n); // C, Phred 2
        assert_eq!(table.counters(2)[2 * 94 + 93], n); // g, Phred 93
        let json = serde_json::to_string(&table).unwrap();
        let back: CycleTable = serde_json::from_str(&json).unwrap();
        assert_eq!(format!("{back:?}"), format!("{table:?}"));
        let mut merged = back.clone();
        merged.merge(&table);
        assert_eq!(merged.counters(1)[96], 2 * n);
    }
}
