//! Splitter selection from the reference, AGC's rule in bounded memory.
//!
//! AGC's rule (`determine_splitters`): a splitter is a canonical k-mer that occurs exactly
//! once in the whole reference (a *singleton*). Each reference contig is scanned; the first
//! singleton of the contig is a splitter; after a splitter the scan skips until at least
//! `segment_size` bases have passed (counting from the splitter's last base, every symbol
//! counts) and takes the next singleton; the k-mer restarts after each splitter so splitters
//! never overlap. At the contig end, the right-most singleton after the last splitter is
//! taken too.
//!
//! AGC finds singletons by sorting every k-mer of the reference at once (8 bytes per base).
//! Here the k-mers are counted in passes over the reference, each pass taking the k-mers
//! whose hash falls in its share of the hash space: the pass collects only those (at most
//! `memory` bytes of them, 16 bytes per k-mer with its position) into 256 buckets, counts
//! each bucket in a hash table (`CountTable`, on all threads), and marks the positions of
//! the singletons in a bitmap of one bit per reference base. A final pass runs AGC's scan on the bitmap. A reference of at most
//! `memory` bases is read once and kept at 2 bits per base (`PackedContig`) instead of being
//! re-read per pass (for a gzip reference the re-reading cost more than the counting). Peak
//! memory: `memory` + 1 bit per reference base + the largest contig (+ a quarter of `memory`
//! when kept, + `memory / 64` per thread for the count tables); time: one counting pass per `memory` of k-mers, plus, for a reference larger
//! than `memory` bases, one read of the reference per pass + 2.

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::input::ContigReader;
use super::kmer::Kmer;
use crate::Result;

/// Default budget of one counting pass, in bytes.
pub const DEFAULT_MEMORY: usize = 256 << 20;

/// MurMur3 finaliser, to spread k-mers over passes.
fn spread(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A source of the reference's contigs that can be read several times.
trait Contigs {
    fn each(&self, f: &mut dyn FnMut(usize, &[u8])) -> Result<()>;
}

struct FastaContigs<'a>(&'a Path);

impl Contigs for FastaContigs<'_> {
    fn each(&self, f: &mut dyn FnMut(usize, &[u8])) -> Result<()> {
        let mut reader = ContigReader::open(self.0)?;
        let mut i = 0;
        while let Some(contig) = reader.next_contig()? {
            f(i, &contig.codes);
            i += 1;
        }
        Ok(())
    }
}

struct MemoryContigs<'a>(&'a [&'a [u8]]);

impl Contigs for MemoryContigs<'_> {
    fn each(&self, f: &mut dyn FnMut(usize, &[u8])) -> Result<()> {
        for (i, codes) in self.0.iter().enumerate() {
            f(i, codes);
        }
        Ok(())
    }
}

/// A reference contig kept at 2 bits per base: A, C, G, T packed four to a byte, and the runs
/// of any other code (N, IUPAC) listed apart. The k-mer scans only ask whether a code is a
/// base (0..=3) and which, so such runs come back as code 4.
struct PackedContig {
    bases: Vec<u8>,
    len: usize,
    /// `(start, end)` of every run of codes above 3.
    others: Vec<(usize, usize)>,
}

impl PackedContig {
    fn new(codes: &[u8]) -> PackedContig {
        let mut bases = Vec::with_capacity(codes.len().div_ceil(4));
        for four in codes.chunks(4) {
            let byte = four.iter().enumerate().fold(0u8, |b, (i, &c)| b | (c & 3) << (2 * i));
            bases.push(byte);
        }
        let mut others = Vec::new();
        let mut pos = 0;
        while let Some(at) = codes[pos..].iter().position(|&c| c > 3) {
            let start = pos + at;
            let end =
                codes[start..].iter().position(|&c| c <= 3).map_or(codes.len(), |n| start + n);
            others.push((start, end));
            pos = end;
        }
        PackedContig { bases, len: codes.len(), others }
    }

    fn heap_bytes(&self) -> usize {
        self.bases.capacity() + self.others.capacity() * 16
    }

    /// The codes, runs of other codes as 4, into `out` (replacing its contents).
    fn unpack_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(self.len);
        for &byte in &self.bases {
            out.extend_from_slice(&[byte & 3, byte >> 2 & 3, byte >> 4 & 3, byte >> 6]);
        }
        out.truncate(self.len);
        for &(start, end) in &self.others {
            out[start..end].fill(4);
        }
    }
}

struct PackedContigs(Vec<PackedContig>);

impl Contigs for PackedContigs {
    fn each(&self, f: &mut dyn FnMut(usize, &[u8])) -> Result<()> {
        let mut codes = Vec::new();
        for (i, contig) in self.0.iter().enumerate() {
            contig.unpack_into(&mut codes);
            f(i, &codes);
        }
        Ok(())
    }
}

/// Calls `f(position, canonical)` for every full k-mer of `codes`.
fn each_kmer(codes: &[u8], k: u32, mut f: impl FnMut(usize, u64)) {
    let mut kmer = Kmer::new(k);
    for (pos, &c) in codes.iter().enumerate() {
        if c > 3 {
            kmer.reset();
        } else {
            kmer.push(c);
            if kmer.is_full() {
                f(pos, kmer.canonical());
            }
        }
    }
}

/// Selects the splitters of the reference FASTA at `reference` (sorted, distinct), counting
/// k-mers in passes of at most `memory` bytes.
///
/// # Errors
/// Any error reading the reference.
pub fn select_splitters(
    reference: &Path,
    k: u32,
    segment_size: u64,
    memory: usize,
    threads: usize,
) -> Result<Vec<u64>> {
    // A reference that takes at most a quarter of the budget at 2 bits per base is read once
    // and kept.
    let mut kept: Vec<PackedContig> = Vec::new();
    let mut kept_bytes = 0usize;
    let mut reader = ContigReader::open(reference)?;
    while let Some(contig) = reader.next_contig()? {
        let packed = PackedContig::new(&contig.codes);
        kept_bytes += packed.heap_bytes();
        if kept_bytes > memory / 4 {
            return select(&FastaContigs(reference), k, segment_size, memory, threads);
        }
        kept.push(packed);
    }
    select(&PackedContigs(kept), k, segment_size, memory, threads)
}

/// Selects splitters from reference contigs held in memory (their codes), counting k-mers in
/// passes of at most `memory` bytes on `threads` threads.
pub fn select_splitters_in(
    contigs: &[&[u8]],
    k: u32,
    segment_size: u64,
    memory: usize,
    threads: usize,
) -> Vec<u64> {
    select(&MemoryContigs(contigs), k, segment_size, memory, threads)
        .expect("in-memory contigs cannot fail")
}

/// Buckets a pass's k-mers are spread over, so that each count table stays in cache.
const BUCKETS: usize = 256;

/// K-mers of a pass staged before they are bucketed (see `collect_pass`).
const STAGE: usize = 4096;

/// Contigs at least this long are collected by all threads, in one chunk each.
const COLLECT_CHUNKED: usize = 1 << 20;

fn select(
    contigs: &dyn Contigs,
    k: u32,
    segment_size: u64,
    memory: usize,
    threads: usize,
) -> Result<Vec<u64>> {
    let threads = threads.max(1);
    let mut offsets = Vec::new();
    let mut total = 0usize;
    let mut kmers = 0usize;
    // K-mers each collecting thread gets (see `collect_pass`), to size its buckets.
    let mut per_thread = vec![0usize; threads];
    contigs.each(&mut |_, codes| {
        offsets.push(total);
        total += codes.len();
        let contig_kmers = codes.len().saturating_sub(k as usize - 1);
        kmers += contig_kmers;
        if codes.len() < COLLECT_CHUNKED {
            per_thread[0] += contig_kmers;
        } else {
            per_thread.iter_mut().for_each(|n| *n += contig_kmers.div_ceil(threads));
        }
    })?;
    // 16 bytes per k-mer: its value and its position.
    let passes = (kmers * 16).div_ceil(memory.max(1 << 16)).max(1) as u64;
    // Set by the counting workers directly (a list of positions would take 8 B per singleton,
    // most of a pass).
    let singletons: Vec<AtomicU64> = (0..total.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
    // One set of buckets per collecting thread, kept (cleared, not freed) from pass to pass:
    // fresh vectors every pass cost more in page faults and regrowth than the counting. Each
    // bucket is sized for its expected share and 5 % more (the spread is uniform: a bucket
    // of n items varies by about √n), so the pass holds ~1.05 × its k-mers, not the up to
    // 2 × of vectors grown by doubling.
    let mut collected: Vec<Buckets> = per_thread
        .iter()
        .map(|&n| {
            let expected = n as u64 / passes / BUCKETS as u64;
            let capacity = (expected + expected / 20 + 64) as usize;
            (0..BUCKETS).map(|_| Vec::with_capacity(capacity)).collect()
        })
        .collect();
    // AGC pads its k-mer array with u64::MAX (the all-T 32-mer): never a singleton.
    let padding = (k == 32).then(|| spread(u64::MAX));
    for pass in 0..passes {
        collected.iter_mut().flatten().for_each(Vec::clear);
        contigs.each(&mut |ci, codes| {
            collect_pass(codes, offsets[ci] as u64, k, (pass, passes), &mut collected);
        })?;
        let next = AtomicUsize::new(0);
        let worker = || {
            let mut table = CountTable::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= BUCKETS {
                    break;
                }
                table.count(collected.iter().map(|buckets| buckets[i].as_slice()));
                for pos in table.singletons(padding) {
                    singletons[(pos / 64) as usize].fetch_or(1 << (pos % 64), Ordering::Relaxed);
                }
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(worker);
            }
            worker();
        });
    }
    let singletons: Vec<u64> = singletons.into_iter().map(AtomicU64::into_inner).collect();
    let mut splitters = Vec::new();
    contigs.each(&mut |ci, codes| {
        scan_contig(codes, &singletons, offsets[ci], k, segment_size, &mut splitters)
    })?;
    splitters.sort_unstable();
    splitters.dedup();
    Ok(splitters)
}

/// Every distinct canonical k-mer of the reference FASTA at `reference`, sorted: what `-a`
/// (adaptive mode) excludes from new splitters. Like AGC, this holds 8 bytes per reference
/// k-mer in memory.
///
/// # Errors
/// Any error reading the reference.
pub fn reference_kmers(reference: &Path, k: u32) -> Result<Vec<u64>> {
    let mut kmers = Vec::new();
    let mut reader = ContigReader::open(reference)?;
    while let Some(contig) = reader.next_contig()? {
        each_kmer(&contig.codes, k, |_, value| kmers.push(value));
    }
    kmers.sort_unstable();
    kmers.dedup();
    Ok(kmers)
}

/// [`reference_kmers`] of reference contigs held in memory (as codes), for `append -a`.
pub fn reference_kmers_in(contigs: &[Vec<u8>], k: u32) -> Vec<u64> {
    let mut kmers = Vec::new();
    for codes in contigs {
        each_kmer(codes, k, |_, value| kmers.push(value));
    }
    kmers.sort_unstable();
    kmers.dedup();
    kmers
}

/// Adaptive mode's new splitters for a contig in which no splitter occurs (AGC's
/// `find_new_splitters`): the k-mers that occur once in the contig and nowhere in the
/// reference (`reference_kmers`, sorted) are the candidates, chosen by the reference rule.
pub fn new_splitters(codes: &[u8], k: u32, segment_size: u64, reference_kmers: &[u64]) -> Vec<u64> {
    let mut kmers: Vec<(u64, usize)> = Vec::new();
    each_kmer(codes, k, |pos, value| kmers.push((value, pos)));
    kmers.sort_unstable();
    let mut bits = vec![0u64; codes.len().div_ceil(64)];
    let mut a = 0;
    while a < kmers.len() {
        let mut b = a + 1;
        while b < kmers.len() && kmers[b].0 == kmers[a].0 {
            b += 1;
        }
        let (value, pos) = kmers[a];
        if b == a + 1 && reference_kmers.binary_search(&value).is_err() {
            bits[pos / 64] |= 1 << (pos % 64);
        }
        a = b;
    }
    let mut splitters = Vec::new();
    scan_contig(codes, &bits, 0, k, segment_size, &mut splitters);
    splitters
}

/// One collecting thread's `(spread k-mer, position)` items of a pass, by bucket.
type Buckets = Vec<Vec<(u64, u64)>>;

/// Occurrence counts of one bucket's k-mers in an open-addressing table (linear probing,
/// at most half full), indexed by the low bits of the spread value; the pass and the bucket
/// were chosen by its high bits, so these are still uniform. Replaces a sort of the bucket:
/// one probe per k-mer instead of a dozen comparisons, and no copy of the pieces into one
/// vector first.
#[derive(Default)]
struct CountTable {
    /// `(spread value, tag)`: tag 0 empty, `u64::MAX` seen twice or more, else position + 1.
    slots: Vec<(u64, u64)>,
}

impl CountTable {
    const SEEN_TWICE: u64 = u64::MAX;

    fn count<'a>(&mut self, pieces: impl Iterator<Item = &'a [(u64, u64)]> + Clone) {
        let items: usize = pieces.clone().map(<[_]>::len).sum();
        let size = (2 * items).next_power_of_two().max(16);
        self.slots.clear();
        self.slots.resize(size, (0, 0));
        let mask = size - 1;
        for &(value, pos) in pieces.flatten() {
            let mut at = value as usize & mask;
            loop {
                let slot = &mut self.slots[at];
                if slot.1 == 0 {
                    *slot = (value, pos + 1);
                    break;
                }
                if slot.0 == value {
                    slot.1 = Self::SEEN_TWICE;
                    break;
                }
                at = (at + 1) & mask;
            }
        }
    }

    /// Positions of the k-mers counted once, but never the one whose value is `excluded`.
    fn singletons(&self, excluded: Option<u64>) -> impl Iterator<Item = u64> + '_ {
        self.slots
            .iter()
            .filter(move |&&(value, tag)| {
                tag != 0 && tag != Self::SEEN_TWICE && Some(value) != excluded
            })
            .map(|&(_, tag)| tag - 1)
    }
}

/// Adds the k-mers of pass `pass.0` of `pass.1` in `codes` to the threads' buckets; a long
/// contig is cut into one chunk per thread (each chunk starts k-1 bases early so that no
/// k-mer is lost or counted twice), a short one goes to the first thread's buckets.
fn collect_pass(
    codes: &[u8],
    offset: u64,
    k: u32,
    (pass, passes): (u64, u64),
    collected: &mut [Buckets],
) {
    let chunks = if codes.len() < COLLECT_CHUNKED { 1 } else { collected.len() };
    let chunk_len = codes.len().div_ceil(chunks).max(1);
    let collect = |start: usize, buckets: &mut Buckets| {
        let end = (start + chunk_len).min(codes.len());
        let from = start.saturating_sub(k as usize - 1);
        // The k-mers of the pass are staged without a branch (each is written, and the count
        // moves on only for those of the pass), then bucketed: which k-mers belong to a pass
        // is random, and the branch on it was mispredicted for ~1 in `passes` k-mers.
        let mut stage = vec![(0u64, 0u64); STAGE];
        let mut staged = 0;
        let mut flush = |stage: &[(u64, u64)]| {
            for &(h, pos) in stage {
                buckets[(h >> 48) as usize & (BUCKETS - 1)].push((h, pos));
            }
        };
        each_kmer(&codes[from..end], k, |pos, v| {
            if from + pos < start {
                return;
            }
            // The spread value stands for the k-mer (the finaliser is a bijection); its top
            // bits pick the pass (a multiply, not a division), bits 48..56 the bucket.
            let h = spread(v);
            stage[staged] = (h, offset + (from + pos) as u64);
            staged += usize::from((u128::from(h) * u128::from(passes)) >> 64 == u128::from(pass));
            if staged == STAGE {
                flush(&stage);
                staged = 0;
            }
        });
        flush(&stage[..staged]);
    };
    if chunks == 1 {
        collect(0, &mut collected[0]);
        return;
    }
    std::thread::scope(|scope| {
        for (start, buckets) in (0..codes.len()).step_by(chunk_len).zip(collected.iter_mut()) {
            scope.spawn(move || collect(start, buckets));
        }
    });
}

/// AGC's scan of one contig, with the singleton k-mers marked (by end position) in `bits`.
///
/// The scan as AGC runs it rolls a k-mer over every base, restarting it at non-ACGT codes
/// and after each splitter, and takes the first singleton at least `segment_size` bases after
/// the last splitter. Here the marks do the walking: a mark is only ever set where a full
/// k-mer ends (its k bases are all ACGT), so the next splitter is the first mark at or after
/// `last + max(segment_size, k)` (`k`: the restarted k-mer must be full again), found a word
/// of the bitmap at a time, and only the chosen k-mers are built. The right-most singleton
/// after the last splitter is then the last mark at or after `last + k`.
fn scan_contig(
    codes: &[u8],
    bits: &[u64],
    offset: usize,
    k: u32,
    segment_size: u64,
    splitters: &mut Vec<u64>,
) {
    let k = k as usize;
    let gap = usize::try_from(segment_size).unwrap_or(usize::MAX).max(k);
    let canonical_at = |end: usize| {
        let mut kmer = Kmer::new(k as u32);
        codes[end + 1 - k..=end].iter().for_each(|&c| kmer.push(c));
        debug_assert!(kmer.is_full() && codes[end + 1 - k..=end].iter().all(|&c| c <= 3));
        kmer.canonical()
    };
    let mut from = 0;
    let mut last = None;
    while let Some(at) = next_mark(bits, offset + from, offset + codes.len()) {
        let pos = at - offset;
        splitters.push(canonical_at(pos));
        last = Some(pos);
        from = pos.saturating_add(gap);
        if from >= codes.len() {
            break;
        }
    }
    if let Some(last) = last {
        let after = (last + k).min(codes.len());
        if let Some(at) = last_mark(bits, offset + after, offset + codes.len()) {
            splitters.push(canonical_at(at - offset));
        }
    }
}

/// The first set bit of `bits` in `from..to`.
fn next_mark(bits: &[u64], from: usize, to: usize) -> Option<usize> {
    let mut word = from / 64;
    let mut value = bits.get(word)? & (u64::MAX << (from % 64));
    loop {
        if value != 0 {
            let at = word * 64 + value.trailing_zeros() as usize;
            return (at < to).then_some(at);
        }
        word += 1;
        if word * 64 >= to {
            return None;
        }
        value = bits[word];
    }
}

/// The last set bit of `bits` in `from..to`.
fn last_mark(bits: &[u64], from: usize, to: usize) -> Option<usize> {
    if from >= to {
        return None;
    }
    let end = to - 1;
    let mut word = end / 64;
    let mut value = bits[word] & (u64::MAX >> (63 - end % 64));
    loop {
        if value != 0 {
            let at = word * 64 + 63 - value.leading_zeros() as usize;
            return (at >= from).then_some(at);
        }
        if word * 64 <= from {
            return None;
        }
        word -= 1;
        value = bits[word];
    }
}

#[cfg(test)]
mod tests {
    use super::super::kmer::canonical_kmers;
    use super::*;

    /// AGC's rule with a full sort of all k-mers, as the C++ code does it.
    fn reference_rule(contigs: &[Vec<u8>], k: u32, segment_size: u64) -> Vec<u64> {
        let mut all: Vec<u64> =
            contigs.iter().flat_map(|c| canonical_kmers(c, k).map(|(_, v)| v)).collect();
        all.sort_unstable();
        let mut singletons = Vec::new();
        let mut i = 0;
        while i < all.len() {
            let mut j = i + 1;
            while j < all.len() && all[j] == all[i] {
                j += 1;
            }
            if j == i + 1 {
                singletons.push(all[i]);
            }
            i = j;
        }
        let mut splitters = Vec::new();
        for codes in contigs {
            let mut kmer = Kmer::new(k);
            let mut since = segment_size;
            let mut recent = Vec::new();
            for &c in codes {
                if c > 3 {
                    kmer.reset();
                } else {
                    kmer.push(c);
                    if kmer.is_full() {
                        recent.push(kmer.canonical());
                        if since >= segment_size
                            && singletons.binary_search(&kmer.canonical()).is_ok()
                        {
                            splitters.push(kmer.canonical());
                            since = 0;
                            kmer.reset();
                            recent.clear();
                        }
                    }
                }
                since += 1;
            }
            if let Some(v) = recent.iter().rev().find(|v| singletons.binary_search(v).is_ok()) {
                splitters.push(*v);
            }
        }
        splitters.sort_unstable();
        splitters.dedup();
        splitters
    }

    fn slices(contigs: &[Vec<u8>]) -> Vec<&[u8]> {
        contigs.iter().map(Vec::as_slice).collect()
    }

    fn repetitive_contig(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed;
        let unit: Vec<u8> = (0..300)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 62) as u8
            })
            .collect();
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if (state >> 60) < 5 {
                out.extend_from_slice(&unit);
            } else if (state >> 58) == 0 {
                out.extend_from_slice(&[4; 20]);
            } else {
                out.push((state >> 40) as u8 & 3);
            }
        }
        out.truncate(len);
        out
    }

    #[test]
    fn equals_the_full_sort_rule() {
        for seed in 0..6 {
            let contigs = vec![
                repetitive_contig(seed, 30_000),
                repetitive_contig(seed + 100, 7_000),
                vec![0, 1, 2],
            ];
            for (k, seg) in [(15u32, 1000u64), (21, 500), (31, 3000), (17, 100), (21, 10), (5, 0)] {
                // Many small passes and a single pass must agree with the full sort.
                for memory in [1 << 16, 1 << 30] {
                    assert_eq!(
                        select_splitters_in(&slices(&contigs), k, seg, memory, 2),
                        reference_rule(&contigs, k, seg),
                        "seed {seed} k {k} s {seg} memory {memory}"
                    );
                }
            }
        }
    }

    #[test]
    fn packed_contigs_give_back_every_base_and_mark_other_codes() {
        for len in [0usize, 1, 3, 4, 5, 1001] {
            let codes: Vec<u8> = (0..len).map(|i| ((i * 7 + i / 5) % 16) as u8).collect();
            let mut out = vec![9; 3];
            PackedContig::new(&codes).unpack_into(&mut out);
            let expected: Vec<u8> = codes.iter().map(|&c| if c > 3 { 4 } else { c }).collect();
            assert_eq!(out, expected, "length {len}");
        }
    }

    #[test]
    fn packed_reference_selects_as_the_codes_do() {
        let contigs = vec![repetitive_contig(3, 40_000), repetitive_contig(4, 9_001)];
        let packed = PackedContigs(contigs.iter().map(|c| PackedContig::new(c)).collect());
        for memory in [1 << 16, 1 << 30] {
            assert_eq!(
                select(&packed, 21, 2_000, memory, 2).unwrap(),
                reference_rule(&contigs, 21, 2_000),
                "memory {memory}"
            );
        }
    }

    #[test]
    fn long_contigs_collected_in_chunks_agree() {
        let contigs = vec![repetitive_contig(9, 2_500_000), repetitive_contig(10, 1_200_000)];
        for memory in [1 << 24, 1 << 30] {
            assert_eq!(
                select_splitters_in(&slices(&contigs), 21, 60_000, memory, 2),
                reference_rule(&contigs, 21, 60_000)
            );
        }
    }
}
