//! Adapter detection: a known-adapter list for any read, and pair overlap for paired end.
//!
//! - **Known adapters** (single and paired end): a read holds an adapter when it contains the
//!   adapter's first 12 bases exactly (the FastQC convention); the position of the first hit
//!   is counted, so the report can show the cumulative share of reads with adapter by cycle.
//! - **Pair overlap** (paired end): read 1 is compared with the reverse complement of read 2
//!   at every offset, as fastp does: an overlap of at least [`MIN_OVERLAP`] bases with at most
//!   [`MAX_MISMATCHES`] mismatches (and at most one mismatch per 5 bases) gives the insert size.
//!   When the insert is shorter than a read, the bases past it are adapter; their base counts
//!   per position build a consensus adapter sequence for each mate.

use serde::{Deserialize, Serialize};

use crate::report::letters::{LOOKAHEAD, LetterMasks, STRIDE};
use crate::report::mate::{BASE_CLASS, BASE_CLASSES, MAX_CYCLES};

/// Known adapters: name and the first 12 bases looked for.
pub const KNOWN_ADAPTERS: [(&str, &[u8; 12]); 6] = [
    ("Illumina Universal Adapter", b"AGATCGGAAGAG"),
    ("Illumina Small RNA 3' Adapter", b"TGGAATTCTCGG"),
    ("Nextera Transposase Sequence", b"CTGTCTCTTATA"),
    ("SOLiD Small RNA Adapter", b"CGCCTTGGCCGT"),
    ("PolyA", b"AAAAAAAAAAAA"),
    ("PolyG", b"GGGGGGGGGGGG"),
];

/// Bits of the adapters that are not homopolymer runs (the first four).
const NOT_POLY: u32 = 0b1111;
/// Every adapter's bit.
const ALL_ADAPTERS: u32 = (1 << KNOWN_ADAPTERS.len()) - 1;
/// Bases of an adapter looked for.
const ADAPTER_LEN: usize = 12;
const _: () = assert!(ADAPTER_LEN == LOOKAHEAD + 1, "the letter windows overlap by an adapter");
/// The start positions a letter window answers for (the first `STRIDE`).
const OWN_STARTS: u64 = (1 << STRIDE) - 1;

/// Shortest overlap accepted between the mates.
pub const MIN_OVERLAP: usize = 30;
/// Most mismatches accepted in an overlap.
pub const MAX_MISMATCHES: usize = 5;
/// Bases of adapter past the insert that build the consensus.
pub const ADAPTER_CONSENSUS_LEN: usize = 64;

/// The adapters' bases as letter indices of [`LetterMasks`] (0 A, 1 C, 2 G, 3 T).
const ADAPTER_LETTERS: [[usize; ADAPTER_LEN]; 6] = {
    let mut letters = [[0; ADAPTER_LEN]; KNOWN_ADAPTERS.len()];
    let mut a = 0;
    while a < KNOWN_ADAPTERS.len() {
        let mut j = 0;
        while j < ADAPTER_LEN {
            letters[a][j] = match KNOWN_ADAPTERS[a].1[j] {
                b'A' => 0,
                b'C' => 1,
                b'G' => 2,
                b'T' => 3,
                _ => panic!("adapters are ACGT"),
            };
            j += 1;
        }
        a += 1;
    }
    letters
};

/// Start positions of a window where the letters of adapter `A` at offsets `FIRST`,
/// `FIRST + 2`, … stand, from the letter masks of the window: the even offsets (`FIRST = 0`)
/// leave about one start in 4,096 on random sequence, so most windows need no look at the odd
/// ones (`FIRST = 1`). Constant `A` and `FIRST` make every letter and shift a constant.
#[inline(always)]
fn adapter_hits<const A: usize, const FIRST: usize>(word: &[u64; 4]) -> u64 {
    let letters = &ADAPTER_LETTERS[A];
    (FIRST..ADAPTER_LEN)
        .step_by(2)
        .fold(!0u64, |hits, offset| hits & word[letters[offset]] >> offset)
}

/// Reads holding each known adapter, by the cycle of the first hit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KnownAdapters {
    /// `first_hit[adapter]`: counts by cycle of the first hit (cycles past the last counted
    /// in it).
    first_hit: [Vec<u64>; KNOWN_ADAPTERS.len()],
    /// Reads holding at least one adapter other than the poly-A/poly-G runs.
    pub reads_with_adapter: u64,
    /// The letters of the read being searched (reused).
    #[serde(skip)]
    masks: LetterMasks,
}

impl KnownAdapters {
    /// Looks for every known adapter in `seq`: 53 start positions at a time (a 64-base letter
    /// window), each adapter the AND of its 12 letters' masks shifted by their offsets.
    #[inline]
    pub fn add(&mut self, seq: &[u8]) {
        if seq.len() < ADAPTER_LEN {
            return;
        }
        self.masks.fill(seq);
        let mut found = 0u32; // bit per adapter already counted for this read
        for (w, word) in self.masks.words().iter().enumerate() {
            let even = [
                adapter_hits::<0, 0>(word),
                adapter_hits::<1, 0>(word),
                adapter_hits::<2, 0>(word),
                adapter_hits::<3, 0>(word),
                adapter_hits::<4, 0>(word),
                adapter_hits::<5, 0>(word),
            ];
            if even.iter().all(|&hits| hits == 0) {
                continue;
            }
            // Starts past the window's first `STRIDE` positions are the next window's; they
            // fail the odd offsets anyway (offset 11 falls past the window), but the mask
            // says so.
            let all_hits = [
                even[0] & adapter_hits::<0, 1>(word),
                even[1] & adapter_hits::<1, 1>(word),
                even[2] & adapter_hits::<2, 1>(word),
                even[3] & adapter_hits::<3, 1>(word),
                even[4] & adapter_hits::<4, 1>(word),
                even[5] & adapter_hits::<5, 1>(word),
            ]
            .map(|hits| hits & OWN_STARTS);
            for (a, hits) in all_hits.into_iter().enumerate() {
                if hits != 0 && found & (1 << a) == 0 {
                    found |= 1 << a;
                    let cycle = (STRIDE * w + hits.trailing_zeros() as usize).min(MAX_CYCLES - 1);
                    let counts = &mut self.first_hit[a];
                    if counts.len() <= cycle {
                        counts.resize(cycle + 1, 0);
                    }
                    counts[cycle] += 1;
                }
            }
            if found == ALL_ADAPTERS {
                break;
            }
        }
        self.reads_with_adapter += u64::from(found & NOT_POLY != 0);
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &KnownAdapters) {
        self.reads_with_adapter += other.reads_with_adapter;
        for (mine, theirs) in self.first_hit.iter_mut().zip(&other.first_hit) {
            if theirs.len() > mine.len() {
                mine.resize(theirs.len(), 0);
            }
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }

    /// Reads holding adapter `index` (of [`KNOWN_ADAPTERS`]).
    pub fn reads_with(&self, index: usize) -> u64 {
        self.first_hit[index].iter().sum()
    }

    /// Reads whose first hit of adapter `index` starts at or before each cycle.
    pub fn cumulative(&self, index: usize, cycles: usize) -> Vec<u64> {
        let mut total = 0;
        (0..cycles)
            .map(|c| {
                total += self.first_hit[index].get(c).copied().unwrap_or(0);
                total
            })
            .collect()
    }
}

/// Result of comparing the two mates of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// No overlap: the insert is longer than the two reads can show.
    None,
    /// The mates overlap; the insert has this many bases.
    Insert(usize),
}

fn complement(b: u8) -> u8 {
    match b {
        b'A' | b'a' => b'T',
        b'C' | b'c' => b'G',
        b'G' | b'g' => b'C',
        b'T' | b't' => b'A',
        _ => b'N',
    }
}

/// Finds the insert size of a pair from the overlap of read 1 with reverse-complemented read 2.
///
/// Offsets are tried from the longest insert down to the shortest; the first that matches
/// wins. `scratch` holds the reverse complement (reused between calls).
pub fn find_overlap(r1: &[u8], r2: &[u8], scratch: &mut Vec<u8>) -> Overlap {
    scratch.clear();
    scratch.extend(r2.iter().rev().map(|&b| complement(b)));
    let rc2 = &scratch[..];
    let (len1, len2) = (r1.len(), rc2.len());
    let matches = |a: &[u8], b: &[u8]| {
        let limit = MAX_MISMATCHES.min(a.len() / 5);
        let mut mismatches = 0;
        for (&x, &y) in a.iter().zip(b) {
            if (x | 0x20) != (y | 0x20) {
                mismatches += 1;
                if mismatches > limit {
                    return false;
                }
            }
        }
        true
    };
    // Insert ≥ read 2: read 2 starts `offset` bases into read 1.
    for offset in 0..=len1.saturating_sub(MIN_OVERLAP) {
        let overlap = (len1 - offset).min(len2);
        if overlap >= MIN_OVERLAP && matches(&r1[offset..offset + overlap], &rc2[..overlap]) {
            return Overlap::Insert(offset + len2);
        }
    }
    // Insert shorter than read 2: read 1 starts `shift` bases into reverse-complemented read 2.
    for shift in 1..=len2.saturating_sub(MIN_OVERLAP) {
        let overlap = (len2 - shift).min(len1);
        if overlap >= MIN_OVERLAP && matches(&r1[..overlap], &rc2[shift..shift + overlap]) {
            return Overlap::Insert(len2 - shift);
        }
    }
    Overlap::None
}

/// Bases read past the insert (adapter) in one mate, by position: the consensus is the
/// adapter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AdapterTail {
    /// Reads with at least one adapter base.
    pub reads: u64,
    /// Adapter bases.
    pub bases: u64,
    /// `position × 5` base counts.
    counts: Vec<u64>,
}

impl AdapterTail {
    /// Counts `tail`, the bases of a read past its insert.
    pub fn add(&mut self, tail: &[u8]) {
        if tail.is_empty() {
            return;
        }
        self.reads += 1;
        self.bases += tail.len() as u64;
        let len = tail.len().min(ADAPTER_CONSENSUS_LEN);
        if self.counts.len() < len * BASE_CLASSES {
            self.counts.resize(len * BASE_CLASSES, 0);
        }
        for (i, &b) in tail[..len].iter().enumerate() {
            self.counts[i * BASE_CLASSES + BASE_CLASS[b as usize] as usize] += 1;
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &AdapterTail) {
        self.reads += other.reads;
        self.bases += other.bases;
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (m, t) in self.counts.iter_mut().zip(&other.counts) {
            *m += t;
        }
    }

    /// The consensus adapter: the majority base at each position, while at least half of the
    /// reads with adapter reach the position and the majority holds ≥ 60% of them.
    pub fn consensus(&self) -> String {
        let mut out = String::new();
        for cell in self.counts.chunks_exact(BASE_CLASSES) {
            let depth: u64 = cell.iter().sum();
            let (best, &count) =
                cell.iter().enumerate().max_by_key(|&(i, c)| (c, -(i as i64))).unwrap();
            if depth * 2 < self.reads || count * 10 < depth * 6 || best == 4 {
                break;
            }
            out.push(b"ACGTN"[best] as char);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revcomp(seq: &[u8]) -> Vec<u8> {
        seq.iter().rev().map(|&b| complement(b)).collect()
    }

    #[test]
    fn known_adapters_are_found_at_their_first_position() {
        let mut adapters = KnownAdapters::default();
        adapters.add(b"ACGTACGTNNAGATCGGAAGAGCACACGTAGATCGGAAGAG");
        adapters.add(b"AGATCGGAAGA");
        adapters.add(b"GGGGGGGGGGGGG");
        assert_eq!(adapters.reads_with(0), 1);
        assert_eq!(adapters.cumulative(0, 12)[10], 1);
        assert_eq!(adapters.cumulative(0, 12)[9], 0);
        assert_eq!(adapters.reads_with(5), 1);
        assert_eq!(adapters.reads_with(4), 0);
    }

    #[test]
    fn overlap_gives_the_insert_size() {
        let random = |seed: u64, len: u64| -> Vec<u8> {
            (0..len)
                .map(|i| {
                    let mut x = (i + seed * 1_000_003).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                    b"ACGT"[((x ^ (x >> 31)) % 4) as usize]
                })
                .collect()
        };
        let insert = random(1, 200);
        let mut scratch = Vec::new();
        // Insert 200, reads of 150: overlap 100.
        let (r1, r2) = (&insert[..150], revcomp(&insert[50..]));
        assert_eq!(find_overlap(r1, &r2, &mut scratch), Overlap::Insert(200));
        // Insert 120 with adapters past it in both reads.
        let short = &insert[..120];
        let mut r1 = short.to_vec();
        r1.extend_from_slice(b"AGATCGGAAGAGCACACGTCTGAACTCCAGTC");
        let mut r2 = revcomp(short);
        r2.extend_from_slice(b"AGATCGGAAGAGCGTCGTGTAGGGAAAGAGTG");
        assert_eq!(find_overlap(&r1, &r2, &mut scratch), Overlap::Insert(120));
        // Unrelated reads do not overlap.
        let other = random(1000, 150);
        assert_eq!(find_overlap(&insert[..150], &other, &mut scratch), Overlap::None);
    }

    #[test]
    fn adapter_consensus_is_the_majority_tail() {
        let mut tail = AdapterTail::default();
        tail.add(b"AGATCGGAAG");
        tail.add(b"AGATCGGTAG");
        tail.add(b"AGATCGGAA");
        tail.add(b"AGAT");
        assert_eq!(tail.consensus(), "AGATCGGAAG");
    }

    #[test]
    fn known_adapters_match_a_naive_search() {
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let mut adapters = KnownAdapters::default();
        let mut expected = vec![vec![0u64; 300]; KNOWN_ADAPTERS.len()];
        for _ in 0..5000 {
            // Lengths across the 64-base words of the search, adapters across their borders.
            let len = 1 + next() % 299;
            let mut seq: Vec<u8> = (0..len).map(|_| b"ACGTacgtN"[next() % 9]).collect();
            for _ in 0..next() % 3 {
                let (_, adapter) = KNOWN_ADAPTERS[next() % KNOWN_ADAPTERS.len()];
                let at = next() % len;
                let end = (at + 12).min(seq.len());
                seq[at..end].copy_from_slice(&adapter[..end - at]);
            }
            for (a, (_, adapter)) in KNOWN_ADAPTERS.iter().enumerate() {
                let upper: Vec<u8> = seq.to_ascii_uppercase();
                if let Some(at) = upper.windows(12).position(|w| w == &adapter[..]) {
                    expected[a][at] += 1;
                }
            }
            adapters.add(&seq);
        }
        for (a, counts) in expected.iter().enumerate() {
            assert!(counts.iter().sum::<u64>() > 0 || a >= 4, "adapter {a} never planted");
            assert_eq!(adapters.cumulative(a, 300), {
                let mut total = 0;
                counts
                    .iter()
                    .map(|c| {
                        total += c;
                        total
                    })
                    .collect::<Vec<_>>()
            });
        }
    }
}
