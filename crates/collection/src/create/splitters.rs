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
//! AGC finds singletons by sorting every k-mer of the reference (8 bytes per base). Here
//! only the k-mers the scan actually asks about are counted, so memory does not grow with the
//! reference: the scan is *simulated* with the statuses known so far; where it meets a
//! k-mer of unknown status it asks for that k-mer and the next [`WINDOW`] ones (a stretch
//! usually starts on a singleton, and when it does not the answer is close by) and goes on
//! as if it were a singleton. One pass over the reference then counts exactly the asked
//! k-mers (saturating at 2). Rounds repeat until a simulation meets no unknown status; its
//! splitters are then exactly AGC's. Memory: the counted k-mers (≈ `WINDOW` × 16 B per
//! `segment_size` bases of reference, ≈ 70 B per kb at the defaults) plus one contig.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::input::ContigReader;
use super::kmer::Kmer;
use crate::Result;

/// K-mers asked about after an unknown status at a splitter candidate.
pub const WINDOW: usize = 256;

/// Occurrence count of an asked k-mer, saturating at 2.
type Counts = HashMap<u64, u8>;

/// Selects the splitters of the reference FASTA at `reference` (sorted, distinct).
///
/// # Errors
/// Any error reading the reference.
pub fn select_splitters(reference: &Path, k: u32, segment_size: u64) -> Result<Vec<u64>> {
    let mut known: Counts = HashMap::new();
    loop {
        let mut asked = HashSet::new();
        let mut splitters = Vec::new();
        let mut reader = ContigReader::open(reference)?;
        while let Some(contig) = reader.next_contig()? {
            simulate_scan(&contig.codes, k, segment_size, &known, &mut asked, &mut splitters);
        }
        if asked.is_empty() {
            splitters.sort_unstable();
            splitters.dedup();
            return Ok(splitters);
        }
        let mut counts: Counts = asked.into_iter().map(|v| (v, 0)).collect();
        let mut reader = ContigReader::open(reference)?;
        while let Some(contig) = reader.next_contig()? {
            count_asked(&contig.codes, k, &mut counts);
        }
        known.extend(counts);
    }
}

/// Selects splitters from reference contigs held in memory (tests, small references).
pub fn select_splitters_in(contigs: &[Vec<u8>], k: u32, segment_size: u64) -> Vec<u64> {
    let mut known: Counts = HashMap::new();
    loop {
        let mut asked = HashSet::new();
        let mut splitters = Vec::new();
        for codes in contigs {
            simulate_scan(codes, k, segment_size, &known, &mut asked, &mut splitters);
        }
        if asked.is_empty() {
            splitters.sort_unstable();
            splitters.dedup();
            return splitters;
        }
        let mut counts: Counts = asked.into_iter().map(|v| (v, 0)).collect();
        for codes in contigs {
            count_asked(codes, k, &mut counts);
        }
        known.extend(counts);
    }
}

/// Adds one occurrence to every asked k-mer of `codes`.
fn count_asked(codes: &[u8], k: u32, counts: &mut Counts) {
    let mut kmer = Kmer::new(k);
    for &c in codes {
        if c > 3 {
            kmer.reset();
            continue;
        }
        kmer.push(c);
        if kmer.is_full()
            && let Some(count) = counts.get_mut(&kmer.canonical())
        {
            *count = (*count + 1).min(2);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Singleton,
    Repeated,
    Unknown,
}

fn status(known: &Counts, k: u32, value: u64) -> Status {
    match known.get(&value) {
        // AGC pads its k-mer array with u64::MAX, which is the all-T 32-mer: never a singleton.
        Some(1) if !(k == 32 && value == u64::MAX) => Status::Singleton,
        Some(_) => Status::Repeated,
        None => Status::Unknown,
    }
}

/// One contig of AGC's splitter scan with the statuses in `known`; unknown statuses are
/// added to `asked` (with the following window) and taken optimistically as singletons.
fn simulate_scan(
    codes: &[u8],
    k: u32,
    segment_size: u64,
    known: &Counts,
    asked: &mut HashSet<u64>,
    splitters: &mut Vec<u64>,
) {
    let mut scan = Kmer::new(k);
    // Never restarted at a splitter: the k-mers the scan would see had it not taken one.
    let mut shadow = Kmer::new(k);
    let mut since_splitter = segment_size;
    let mut window_left = 0usize;
    let mut recent: Vec<u64> = Vec::new();
    for &c in codes {
        if c > 3 {
            scan.reset();
            shadow.reset();
        } else {
            scan.push(c);
            shadow.push(c);
            if shadow.is_full() && window_left > 0 {
                window_left -= 1;
                let value = shadow.canonical();
                if status(known, k, value) == Status::Unknown {
                    asked.insert(value);
                }
            }
            if scan.is_full() {
                let value = scan.canonical();
                recent.push(value);
                if since_splitter >= segment_size {
                    let take = match status(known, k, value) {
                        Status::Singleton => true,
                        Status::Repeated => false,
                        Status::Unknown => {
                            asked.insert(value);
                            window_left = WINDOW;
                            true
                        }
                    };
                    if take {
                        splitters.push(value);
                        since_splitter = 0;
                        scan.reset();
                        recent.clear();
                    }
                }
            }
        }
        since_splitter += 1;
    }
    // The right-most singleton after the last splitter; unknown statuses to its right must
    // be asked first.
    let mut asked_at_end = 0;
    for &value in recent.iter().rev() {
        match status(known, k, value) {
            Status::Singleton => {
                if asked_at_end == 0 {
                    splitters.push(value);
                }
                break;
            }
            Status::Repeated => {}
            Status::Unknown => {
                asked.insert(value);
                asked_at_end += 1;
                if asked_at_end == WINDOW {
                    break;
                }
            }
        }
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
                assert_eq!(
                    select_splitters_in(&contigs, k, seg),
                    reference_rule(&contigs, k, seg),
                    "seed {seed} k {k} s {seg}"
                );
            }
        }
    }
}
