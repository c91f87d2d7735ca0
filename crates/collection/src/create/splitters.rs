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
//! whose hash falls in its share of the hash space: the pass sorts only those (at most
//! `memory` bytes of them, 16 bytes per k-mer with its position), sorts them in 256 buckets
//! on all threads, and marks the positions of the singletons in a bitmap of one bit per
//! reference base. A final pass runs AGC's scan on the bitmap. A reference of at most a
//! quarter of `memory` is read once and kept as codes instead of being re-read per pass. Peak memory: `memory` + 1 bit
//! per reference base + the largest contig; time: one read of the reference per pass + 2.

use std::path::Path;

use super::input::ContigReader;
use super::kmer::Kmer;
use crate::Result;

/// Default budget of one counting pass, in bytes.
pub const DEFAULT_MEMORY: usize = 128 << 20;

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

struct MemoryContigs<'a>(&'a [Vec<u8>]);

impl Contigs for MemoryContigs<'_> {
    fn each(&self, f: &mut dyn FnMut(usize, &[u8])) -> Result<()> {
        for (i, codes) in self.0.iter().enumerate() {
            f(i, codes);
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
    // A reference that takes at most a quarter of the budget as codes is read once and kept.
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut kept_bytes = 0usize;
    let mut reader = ContigReader::open(reference)?;
    while let Some(contig) = reader.next_contig()? {
        kept_bytes += contig.codes.len();
        if kept_bytes > memory / 4 {
            return select(&FastaContigs(reference), k, segment_size, memory, threads);
        }
        kept.push(contig.codes);
    }
    select(&MemoryContigs(&kept), k, segment_size, memory, threads)
}

/// Selects splitters from reference contigs held in memory.
pub fn select_splitters_in(
    contigs: &[Vec<u8>],
    k: u32,
    segment_size: u64,
    memory: usize,
) -> Vec<u64> {
    select(&MemoryContigs(contigs), k, segment_size, memory, 2)
        .expect("in-memory contigs cannot fail")
}

/// Buckets a pass's k-mers are spread over, so that each sort works in cache.
const BUCKETS: usize = 256;

fn select(
    contigs: &dyn Contigs,
    k: u32,
    segment_size: u64,
    memory: usize,
    threads: usize,
) -> Result<Vec<u64>> {
    let mut offsets = Vec::new();
    let mut total = 0usize;
    let mut kmers = 0usize;
    contigs.each(&mut |_, codes| {
        offsets.push(total);
        total += codes.len();
        kmers += codes.len().saturating_sub(k as usize - 1);
    })?;
    // 16 bytes per k-mer: its value and its position.
    let passes = (kmers * 16).div_ceil(memory.max(1 << 16)).max(1) as u64;
    let mut singletons = vec![0u64; total.div_ceil(64)];
    for pass in 0..passes {
        // Each bucket is a list of the pieces the collecting threads made for it, moved here
        // rather than copied: the copy into one vector per bucket happens in the sorting
        // workers, in parallel, one bucket at a time (a serial copy of the whole pass used to
        // hold it twice).
        let mut buckets: Vec<Pieces> = (0..BUCKETS).map(|_| Vec::new()).collect();
        contigs.each(&mut |ci, codes| {
            let offset = offsets[ci] as u64;
            let parts = collect_pass(codes, offset, k, pass, passes, threads);
            for part in parts {
                for (pieces, items) in buckets.iter_mut().zip(part) {
                    if !items.is_empty() {
                        pieces.push(items);
                    }
                }
            }
        })?;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let buckets: Vec<std::sync::Mutex<Pieces>> =
            buckets.into_iter().map(std::sync::Mutex::new).collect();
        let found: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());
        let worker = || {
            let mut local = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= buckets.len() {
                    break;
                }
                let pieces = std::mem::take(&mut *buckets[i].lock().expect("bucket"));
                let mut bucket = concatenate(pieces);
                bucket.sort_unstable_by_key(|&(v, _)| v);
                let mut a = 0;
                while a < bucket.len() {
                    let mut b = a + 1;
                    while b < bucket.len() && bucket[b].0 == bucket[a].0 {
                        b += 1;
                    }
                    // AGC pads its k-mer array with u64::MAX (the all-T 32-mer): never a singleton.
                    if b == a + 1 && !(k == 32 && bucket[a].0 == u64::MAX) {
                        local.push(bucket[a].1);
                    }
                    a = b;
                }
            }
            found.lock().expect("found").extend(local);
        };
        std::thread::scope(|scope| {
            for _ in 1..threads.max(1) {
                scope.spawn(worker);
            }
            worker();
        });
        for pos in found.into_inner().expect("found") {
            singletons[(pos / 64) as usize] |= 1 << (pos % 64);
        }
    }
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

/// The `(k-mer, position)` pieces of one bucket, one per collecting thread and contig.
type Pieces = Vec<Vec<(u64, u64)>>;

/// The pieces in one vector (the first one reused when it is the only one).
fn concatenate(mut pieces: Pieces) -> Vec<(u64, u64)> {
    if pieces.len() == 1 {
        return pieces.pop().expect("one piece");
    }
    let mut all = Vec::with_capacity(pieces.iter().map(Vec::len).sum());
    for piece in pieces {
        all.extend_from_slice(&piece);
    }
    all
}

/// The k-mers of one pass in `codes`, bucketed; long contigs are cut into one chunk per
/// thread (each chunk starts k-1 bases early so that no k-mer is lost or counted twice).
fn collect_pass(
    codes: &[u8],
    offset: u64,
    k: u32,
    pass: u64,
    passes: u64,
    threads: usize,
) -> Vec<Vec<Vec<(u64, u64)>>> {
    let chunks = if codes.len() < 1 << 20 { 1 } else { threads.max(1) };
    let chunk_len = codes.len().div_ceil(chunks).max(1);
    let collect = |start: usize| {
        let end = (start + chunk_len).min(codes.len());
        let from = start.saturating_sub(k as usize - 1);
        let mut buckets: Vec<Vec<(u64, u64)>> = (0..BUCKETS).map(|_| Vec::new()).collect();
        each_kmer(&codes[from..end], k, |pos, v| {
            if from + pos < start {
                return;
            }
            let h = spread(v);
            if passes == 1 || h % passes == pass {
                buckets[(h >> 56) as usize].push((v, offset + (from + pos) as u64));
            }
        });
        buckets
    };
    if chunks == 1 {
        return vec![collect(0)];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..codes.len())
            .step_by(chunk_len)
            .map(|start| scope.spawn(move || collect(start)))
            .collect();
        handles.into_iter().map(|h| h.join().expect("k-mer collection thread")).collect()
    })
}

/// AGC's scan of one contig, with the singleton k-mers marked (by end position) in `bits`.
fn scan_contig(
    codes: &[u8],
    bits: &[u64],
    offset: usize,
    k: u32,
    segment_size: u64,
    splitters: &mut Vec<u64>,
) {
    let is_singleton = |pos: usize| {
        let at = offset + pos;
        bits[at / 64] >> (at % 64) & 1 == 1
    };
    let mut kmer = Kmer::new(k);
    let mut since_splitter = segment_size;
    let mut rightmost: Option<u64> = None;
    for (pos, &c) in codes.iter().enumerate() {
        if c > 3 {
            kmer.reset();
        } else {
            kmer.push(c);
            if kmer.is_full() && is_singleton(pos) {
                if since_splitter >= segment_size {
                    splitters.push(kmer.canonical());
                    since_splitter = 0;
                    kmer.reset();
                    rightmost = None;
                } else {
                    rightmost = Some(kmer.canonical());
                }
            }
        }
        since_splitter += 1;
    }
    splitters.extend(rightmost);
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
            for (k, seg) in [(15u32, 1000u64), (21, 500), (31, 3000), (17, 100)] {
                // Many small passes and a single pass must agree with the full sort.
                for memory in [1 << 16, 1 << 30] {
                    assert_eq!(
                        select_splitters_in(&contigs, k, seg, memory),
                        reference_rule(&contigs, k, seg),
                        "seed {seed} k {k} s {seg} memory {memory}"
                    );
                }
            }
        }
    }

    #[test]
    fn long_contigs_collected_in_chunks_agree() {
        let contigs = vec![repetitive_contig(9, 2_500_000), repetitive_contig(10, 1_200_000)];
        for memory in [1 << 24, 1 << 30] {
            assert_eq!(
                select_splitters_in(&contigs, 21, 60_000, memory),
                reference_rule(&contigs, 21, 60_000)
            );
        }
    }
}
