//! The annotation pass: every copy of every family in the genome, not only the copies that
//! carried a seed (what running RepeatMasker with the library would give).
//!
//! The consensi's k-mers go into one lookup table; the genome is scanned in chunks on the
//! engine's workers, each k-mer hit is extended with the same banded alignment as discovery
//! ([`align_copy`]), and hits inside a copy already aligned from an earlier hit are skipped.
//! Before that costly extension, a hit must show that its diagonal continues: an ungapped
//! extension on each side (at most [`UNGAPPED_SPAN`] bases, stopping [`UNGAPPED_DROP`] below
//! its best) must gain [`UNGAPPED_MIN_GAIN`] between the two sides. A chance k-mer match drifts
//! down by half a point a base and rarely gains that much; a copy 30% diverged from its
//! consensus gains half a point a base until its next indel, and offers several seeds.
//! Candidates from all chunks are then resolved by score: the best first, each later one
//! trimmed to its longest piece not yet annotated and kept if that piece is still at least
//! `min_length`.

use std::collections::BTreeMap;
use std::ops::Range;

use seqflow_genome::{Genome, canonical};
use seqflow_pipeline::{Cost, Emitter, Pipeline, Report};

use crate::error::Error;
use crate::family::{Element, align_copy};
use crate::flank::Flank;
use crate::index::{Occurrence, is_low_complexity};
use crate::params::Params;

/// Genome bases scanned per work item.
const CHUNK: u64 = 1 << 20;
/// Most bases the ungapped pre-check reads on each side of a hit.
const UNGAPPED_SPAN: usize = 48;
/// The ungapped pre-check stops a side once its score falls this far below the side's best.
const UNGAPPED_DROP: i32 = 8;
/// Score the two sides' best ungapped stretches must reach together for a hit to be extended.
const UNGAPPED_MIN_GAIN: i32 = 6;

/// One annotated copy: the family's index and the element.
pub(crate) type Annotation = (u32, Element);

/// Where a k-mer occurs in the library.
#[derive(Debug, Clone, Copy)]
struct LibraryKmer {
    family: u32,
    offset: u32,
    /// Whether the consensus reads the canonical k-mer forward there.
    canonical_forward: bool,
}

/// The library's k-mers: an open-addressing table from canonical k-mer to its run of
/// [`LibraryKmer`]s in one flat array. A slot holds the key and the run, so a lookup that
/// finds its key on the first probe touches one cache line of the table.
struct LibraryTable {
    slots: Vec<Slot>,
    /// `slots.len() - 1` (a power of two minus one).
    mask: usize,
    entries: Vec<LibraryKmer>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The canonical k-mer, or [`EMPTY`].
    key: u64,
    /// Its run in [`LibraryTable::entries`].
    first: u32,
    len: u32,
}

/// No canonical k-mer is all ones: its reverse complement (all zeros) would be smaller.
const EMPTY: u64 = u64::MAX;

/// Genome k-mers looked up together: their first table probes are issued before any of them
/// is compared, so the cache misses overlap instead of following one another.
const LOOKUP_BATCH: usize = 32;

impl LibraryTable {
    /// The table of `(canonical k-mer, entry)` pairs.
    fn new(mut pairs: Vec<(u64, LibraryKmer)>) -> Self {
        pairs.sort_by_key(|&(key, e)| (key, e.family, e.offset));
        let distinct = pairs.chunk_by(|a, b| a.0 == b.0).count();
        let size = (2 * distinct).next_power_of_two().max(16);
        let mut table = Self {
            slots: vec![Slot { key: EMPTY, first: 0, len: 0 }; size],
            mask: size - 1,
            entries: Vec::with_capacity(pairs.len()),
        };
        for run in pairs.chunk_by(|a, b| a.0 == b.0) {
            let first = u32::try_from(table.entries.len()).expect("fewer than 2^32 library k-mers");
            table.entries.extend(run.iter().map(|&(_, e)| e));
            let mut slot = table.home(run[0].0);
            while table.slots[slot].key != EMPTY {
                slot = (slot + 1) & table.mask;
            }
            table.slots[slot] = Slot { key: run[0].0, first, len: run.len() as u32 };
        }
        table
    }

    /// The slot a key's probe starts at.
    fn home(&self, key: u64) -> usize {
        ((key ^ (key >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & self.mask
    }

    /// The entries of `key`, probing from its first slot `slot`.
    fn get(&self, key: u64, mut slot: usize) -> &[LibraryKmer] {
        loop {
            let found = self.slots[slot];
            if found.key == key {
                return &self.entries[found.first as usize..][..found.len as usize];
            }
            if found.key == EMPTY {
                return &[];
            }
            slot = (slot + 1) & self.mask;
        }
    }
}

/// A genome range to scan.
struct Chunk(Range<u64>);

impl Cost for Chunk {
    fn cost(&self) -> usize {
        1
    }
}

/// Annotates every copy of `consensi` (2-bit codes) in `genome`; returns them sorted by start,
/// not overlapping, with the engine's report of the scan. `on_progress` sees the bases
/// scanned so far, in genome order.
pub(crate) fn annotate(
    genome: &Genome,
    k: usize,
    consensi: &[Vec<u8>],
    params: &Params,
    on_progress: &mut dyn FnMut(u64),
) -> Result<(Vec<Annotation>, Report), Error> {
    let library = library(consensi, k, params.min_entropy);
    let reversed: Vec<Vec<u8>> =
        consensi.iter().map(|c| c.iter().rev().copied().collect()).collect();
    let pipeline = Pipeline::builder()
        .workers(params.threads)
        .channel_depth(2 * params.threads.max(1))
        .reorder_window(4 * params.threads.max(1))
        .build();
    let mut candidates: Vec<Annotation> = Vec::new();
    let outcome = pipeline.run_ordered(
        |emit: &mut Emitter<Chunk>| -> Result<(), Error> {
            let mut start = 0;
            while start < genome.len() {
                let end = (start + CHUNK).min(genome.len());
                if emit.send(Chunk(start..end)).is_err() {
                    break;
                }
                start = end;
            }
            Ok(())
        },
        |_| (),
        |_: &mut (), chunk: Chunk| -> Result<(u64, Vec<Annotation>), Error> {
            let end = chunk.0.end;
            Ok((end, scan_chunk(genome, k, chunk.0, &library, consensi, &reversed, params)))
        },
        |(end, found): (u64, Vec<Annotation>)| -> Result<(), Error> {
            candidates.extend(found);
            on_progress(end);
            Ok(())
        },
    );
    let outcome = outcome.map_err(Error::from_pipeline)?;
    Ok((resolve_overlaps(candidates, params.min_length as u64), outcome.report))
}

/// The k-mers of every consensus (low-complexity ones and those over a code above 3 left out),
/// keyed by canonical k-mer.
fn library(consensi: &[Vec<u8>], k: usize, min_entropy: f64) -> LibraryTable {
    let mut pairs = Vec::new();
    for (family, consensus) in consensi.iter().enumerate() {
        for (offset, window) in consensus.windows(k).enumerate() {
            // A given library's consensus may hold letters that are not bases (above 3).
            if window.iter().any(|&c| c > 3) {
                continue;
            }
            let kmer = window.iter().fold(0u64, |km, &c| (km << 2) | u64::from(c));
            if is_low_complexity(kmer, k, min_entropy) {
                continue;
            }
            let key = canonical(kmer, k);
            pairs.push((
                key,
                LibraryKmer {
                    family: family as u32,
                    offset: offset as u32,
                    canonical_forward: key == kmer,
                },
            ));
        }
    }
    LibraryTable::new(pairs)
}

/// A library hit: a family's k-mer at a genome position, in the orientation of the consensus.
/// Packed into one integer whose order is that of (family, strand, position, offset), so a
/// chunk's hits sort by plain integer comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Hit(u128);

impl Hit {
    fn new(family: u32, reverse: bool, pos: u64, offset: u32) -> Self {
        debug_assert!(pos < 1 << 63, "genome positions fit 63 bits");
        Self(
            u128::from(family) << 96
                | u128::from(reverse) << 95
                | u128::from(pos) << 32
                | u128::from(offset),
        )
    }

    fn family(self) -> u32 {
        (self.0 >> 96) as u32
    }

    fn reverse(self) -> bool {
        (self.0 >> 95) & 1 == 1
    }

    fn pos(self) -> u64 {
        (self.0 >> 32) as u64 & (u64::MAX >> 1)
    }

    fn offset(self) -> u32 {
        self.0 as u32
    }
}

/// Aligns the library hits of k-mers starting in `range` into candidate annotations.
fn scan_chunk(
    genome: &Genome,
    k: usize,
    range: Range<u64>,
    library: &LibraryTable,
    consensi: &[Vec<u8>],
    reversed: &[Vec<u8>],
    params: &Params,
) -> Vec<Annotation> {
    let mut hits = Vec::new();
    let mut kmers = genome.kmers(range, k);
    let mut batch: Vec<(u64, u64, u64, usize)> = Vec::with_capacity(LOOKUP_BATCH);
    loop {
        batch.clear();
        while batch.len() < LOOKUP_BATCH {
            let Some((pos, kmer)) = kmers.next() else { break };
            let key = kmer.min(kmers.last_reverse());
            batch.push((pos, kmer, key, library.home(key)));
        }
        if batch.is_empty() {
            break;
        }
        // Independent loads of every first probe; the lookups below then find them cached.
        let warm = batch.iter().fold(0u64, |acc, b| acc ^ library.slots[b.3].key);
        std::hint::black_box(warm);
        for &(pos, kmer, key, slot) in &batch {
            let genome_forward = key == kmer;
            hits.extend(
                library.get(key, slot).iter().map(|e| {
                    Hit::new(e.family, e.canonical_forward != genome_forward, pos, e.offset)
                }),
            );
        }
    }
    hits.sort_unstable();
    let min_score = 2 * k as i32 * params.scoring.match_score;
    let mut found: Vec<Annotation> = Vec::new();
    let mut covered: Option<(u32, bool, u64)> = None;
    for hit in hits {
        let (family, reverse, pos) = (hit.family(), hit.reverse(), hit.pos());
        if covered.is_some_and(|(f, r, end)| f == family && r == reverse && pos < end) {
            continue;
        }
        let f = family as usize;
        let offset = hit.offset() as usize;
        let len = consensi[f].len();
        let left = &reversed[f][len - offset..];
        let right = &consensi[f][offset + k..];
        let copy = Occurrence::new(pos, reverse);
        if !diagonal_continues(genome, k, copy, left, right, params) {
            continue;
        }
        let element = align_copy(genome, k, copy, left, right, params);
        covered = Some((family, reverse, element.end));
        if element.score >= min_score && element.len() >= params.min_length as u64 {
            found.push((family, element));
        }
    }
    found
}

/// Whether the hit's diagonal gains [`UNGAPPED_MIN_GAIN`] in ungapped extensions of its two
/// sides (`left` and `right` are the consensus beside the k-mer, read outward).
fn diagonal_continues(
    genome: &Genome,
    k: usize,
    copy: Occurrence,
    left: &[u8],
    right: &[u8],
    params: &Params,
) -> bool {
    let (mut left_flank, mut right_flank) = Flank::around(genome, copy, k);
    let scoring = &params.scoring;
    let gain = |consensus: &[u8], flank: &mut Flank| {
        let span = consensus.len().min(UNGAPPED_SPAN);
        let (mut score, mut best) = (0, 0);
        for (&c, &b) in consensus[..span].iter().zip(flank.bases(genome, span)) {
            score += if c == b { scoring.match_score } else { scoring.mismatch };
            best = best.max(score);
            if score < best - UNGAPPED_DROP {
                break;
            }
        }
        best
    };
    gain(left, &mut left_flank) + gain(right, &mut right_flank) >= UNGAPPED_MIN_GAIN
}

/// Best-scoring candidates first; each later one keeps its longest part not yet annotated if
/// that part is at least `min_length`. Returns the kept annotations sorted by start.
fn resolve_overlaps(mut candidates: Vec<Annotation>, min_length: u64) -> Vec<Annotation> {
    candidates.sort_by(|(fa, a), (fb, b)| {
        b.score.cmp(&a.score).then(a.start.cmp(&b.start)).then(a.end.cmp(&b.end)).then(fa.cmp(fb))
    });
    // Accepted intervals by start; they never overlap.
    let mut taken: BTreeMap<u64, u64> = BTreeMap::new();
    let mut kept = Vec::new();
    for (family, element) in candidates {
        let Some(piece) = longest_free_piece(&taken, element.start..element.end) else { continue };
        if piece.end - piece.start < min_length {
            continue;
        }
        taken.insert(piece.start, piece.end);
        kept.push((family, trimmed(&element, piece)));
    }
    kept.sort_by_key(|(family, e)| (e.start, e.end, *family));
    kept
}

/// `element` cut to `piece` (a sub-range of it), its consensus range cut in proportion: the
/// genome end of a copy on the reverse strand is the consensus's start.
fn trimmed(element: &Element, piece: Range<u64>) -> Element {
    let span = element.len().max(1);
    let consensus_span = (element.consensus_end - element.consensus_start) as u64;
    let scaled = |bases: u64| (bases * consensus_span / span) as usize;
    let (cut_left, cut_right) =
        (scaled(piece.start - element.start), scaled(element.end - piece.end));
    let (cut_start, cut_end) =
        if element.reverse { (cut_right, cut_left) } else { (cut_left, cut_right) };
    Element {
        start: piece.start,
        end: piece.end,
        consensus_start: element.consensus_start + cut_start,
        consensus_end: element.consensus_end - cut_end,
        ..*element
    }
}

/// The longest sub-range of `range` that no interval of `taken` covers.
fn longest_free_piece(taken: &BTreeMap<u64, u64>, range: Range<u64>) -> Option<Range<u64>> {
    let mut cursor = range.start;
    // An interval starting before the range may still cover its beginning.
    if let Some((_, &end)) = taken.range(..range.start).next_back() {
        cursor = cursor.max(end);
    }
    let mut best: Option<Range<u64>> = None;
    let mut consider = |piece: Range<u64>| {
        if piece.start < piece.end
            && best.as_ref().is_none_or(|b| piece.end - piece.start > b.end - b.start)
        {
            best = Some(piece);
        }
    };
    for (&start, &end) in taken.range(range.start..range.end) {
        consider(cursor..start.min(range.end));
        cursor = cursor.max(end);
    }
    consider(cursor..range.end);
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqflow_genome::GenomeBuilder;

    #[test]
    fn only_hits_whose_diagonal_continues_are_extended() {
        let mut state = 3u64;
        let mut random = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 20) as u8 & 3
                })
                .collect()
        };
        let codes = random(2_000);
        let letters: Vec<u8> = codes.iter().map(|&c| b"ACGT"[c as usize]).collect();
        let mut builder = GenomeBuilder::new();
        builder.push_contig("chr1", &letters).unwrap();
        let genome = builder.build();
        let (k, params) = (10, Params::default());
        // The consensus is genome 500..900; a hit of its k-mer at offset 200 (genome 700).
        let consensus = &codes[500..900];
        let reversed: Vec<u8> = consensus.iter().rev().copied().collect();
        let (left, right) = (&reversed[400 - 200..], &consensus[200 + k..]);
        let copy = Occurrence::new(700, false);
        assert!(diagonal_continues(&genome, k, copy, left, right, &params));
        // 30% of the flank bases changed: still a true diagonal.
        let diverged = |side: &[u8]| -> Vec<u8> {
            side.iter()
                .enumerate()
                .map(|(i, &c)| if i % 10 < 3 { (c + 1) & 3 } else { c })
                .collect()
        };
        let (left30, right30) = (diverged(left), diverged(right));
        assert!(diagonal_continues(&genome, k, copy, &left30, &right30, &params));
        // The same k-mer matched by chance: unrelated flanks on both sides.
        let (other_left, other_right) = (random(200), random(200));
        assert!(!diagonal_continues(&genome, k, copy, &other_left, &other_right, &params));
    }

    proptest::proptest! {
        /// Packed hits keep their fields and sort as the tuple (family, strand, position,
        /// offset) does.
        #[test]
        fn packed_hits_sort_as_their_fields(
            a in (proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>(), 0u64..1 << 63, proptest::prelude::any::<u32>()),
            b in (proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>(), 0u64..1 << 63, proptest::prelude::any::<u32>()),
        ) {
            let pack = |(f, r, p, o): (u32, bool, u64, u32)| Hit::new(f, r, p, o);
            let (x, y) = (pack(a), pack(b));
            proptest::prop_assert_eq!((x.family(), x.reverse(), x.pos(), x.offset()), a);
            proptest::prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        }
    }

    fn element(start: u64, end: u64, score: i32) -> Element {
        Element { start, end, reverse: false, score, consensus_start: 0, consensus_end: 0 }
    }

    #[test]
    fn trimming_a_copy_trims_its_consensus_range_on_the_right_side() {
        let forward = Element { consensus_start: 10, consensus_end: 310, ..element(100, 400, 50) };
        let piece = trimmed(&forward, 150..400);
        assert_eq!((piece.consensus_start, piece.consensus_end), (60, 310));
        let reverse = Element { reverse: true, ..forward };
        let piece = trimmed(&reverse, 150..400);
        assert_eq!((piece.consensus_start, piece.consensus_end), (10, 260));
    }

    #[test]
    fn overlaps_go_to_the_best_score_and_leftovers_are_trimmed() {
        let candidates = vec![
            (0, element(100, 400, 200)),
            (1, element(350, 700, 250)), // best
            (2, element(120, 380, 150)), // inside family 0's copy: dropped
            (3, element(650, 720, 40)),  // 20 bases left over: too short
            (4, element(0, 200, 90)),    // 100..200 taken: keeps 0..100
        ];
        let kept = resolve_overlaps(candidates, 50);
        let got: Vec<(u32, u64, u64)> = kept.iter().map(|(f, e)| (*f, e.start, e.end)).collect();
        assert_eq!(got, vec![(4, 0, 100), (0, 100, 350), (1, 350, 700)]);
    }
}
