//! De novo interspersed-repeat detection in the RepeatScout / REPrise family, built to scale:
//! bounded memory, parallel, and the same output on any number of threads.
//!
//! [`find_repeats`] runs four phases over a [`Genome`]:
//!
//! 1. **Seed index** ([`index`]): canonical k-mers occurring at least `min_freq` times after
//!    low-complexity filtering and tandem collapse, counted in memory-bounded hash buckets.
//! 2. **Discovery**: the most frequent seed first (lazy max-heap, counts re-checked against
//!    the mask of already explained bases); each family's consensus is extended column by
//!    column over a sample of its copies with a banded affine-gap alignment, every copy is
//!    re-aligned to find its boundaries, and the copies are masked. Seeds are built in
//!    parallel rounds and committed in seed order through all-or-nothing claims on a
//!    [`Bitmask`](seqflow_genome::Bitmask), which makes the result independent of scheduling.
//! 3. **Redundancy removal**: consensi ≥ 80% identical over ≥ 80% of the shorter one merge.
//! 4. **Annotation**: every copy of every family, found from the consensi's k-mers and the same
//!    banded alignment, overlaps resolved by score; then each copy aligned whole to its
//!    consensus ([`CopyAlignment`]: consensus range, substitutions, indels, Kimura divergence).
//!
//! ```
//! use seqflow_genome::GenomeBuilder;
//! use seqflow_repeats::{Params, find_repeats};
//!
//! // Four copies of a 120 bp element in a random background.
//! let mut state = 7u64;
//! let mut random = |n: usize| -> Vec<u8> {
//!     (0..n).map(|_| { state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); b"ACGT"[(state >> 62) as usize] }).collect()
//! };
//! let element = random(120);
//! let mut seq = Vec::new();
//! for _ in 0..4 {
//!     seq.extend(random(700));
//!     seq.extend_from_slice(&element);
//! }
//! seq.extend(random(700));
//! let mut builder = GenomeBuilder::new();
//! builder.push_contig("chr1", &seq)?;
//! let genome = builder.build();
//!
//! let repeats = find_repeats(&genome, &Params::default(), &mut |_| {})?;
//! assert_eq!(repeats.families.len(), 1);
//! let family = &repeats.families[0];
//! // The consensus is the element (on either strand), give or take a base at the ends.
//! assert!(family.consensus.len().abs_diff(element.len()) <= 2);
//! assert_eq!(family.copies, 4);
//! assert_eq!(repeats.elements.len(), 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod annotate;
mod copy_alignment;
mod discover;
mod dp;
mod error;
mod family;
mod flank;
pub mod index;
mod landscape;
pub mod output;
mod params;
mod redundancy;
mod seed_queue;
mod tandem;

use std::time::Instant;

use seqflow_genome::{BASES, Bitmask, Genome};

use crate::index::Occurrence;
use seqflow_pipeline::Report;
use serde::Serialize;

pub use copy_alignment::CopyAlignment;
pub use discover::DiscoveryStats;
pub use error::Error;
pub use family::Element;
pub use index::{
    IndexConfig, IndexStats, MIN_ANNOTATION_K, SeedIndex, annotation_seed_length, seed_length,
};
pub use landscape::{FamilyDivergence, LANDSCAPE_BINS, Landscape};
pub use params::{Params, Scoring};
pub use tandem::{MAX_SIMPLE_PERIOD, MAX_TANDEM_PERIOD, consensus_class, tandem_period};

/// A repeat family of the final library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatFamily {
    /// Its name in every output: `fam<N>` for de novo families, the library's for
    /// [`annotate_library`].
    pub name: String,
    /// Its class (RepeatMasker's `name#class`): for de novo families `Unknown` (interspersed,
    /// unclassified), or `Simple_repeat` / `Satellite` when the consensus is a tandem array
    /// ([`consensus_class`]).
    pub class: String,
    /// The seed k-mer it grew from (upper-case letters); `-` for a library family.
    pub seed: String,
    /// Unmasked copies of the seed when the family was built.
    pub seed_copies: usize,
    /// Copies in the final annotation.
    pub copies: usize,
    /// The consensus (upper-case letters).
    pub consensus: Vec<u8>,
}

/// One annotated copy: the index of its family in [`Repeats::families`], where it lies, and
/// its alignment to the family's consensus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnotatedElement {
    /// Index into [`Repeats::families`].
    pub family: usize,
    /// The copy; its consensus range is the alignment's.
    pub element: Element,
    /// The whole copy aligned to the consensus (divergence, indels, consensus range).
    pub alignment: CopyAlignment,
}

/// A seed of the index, for the seed table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedSummary {
    /// The canonical k-mer.
    pub kmer: u64,
    /// Occurrences after tandem collapse.
    pub count: u32,
    /// Global position of its first occurrence.
    pub first_pos: u64,
}

/// Wall time of each phase, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhaseTimes {
    /// Building the seed index.
    pub index: f64,
    /// Building families.
    pub discovery: f64,
    /// Removing redundant families.
    pub redundancy: f64,
    /// Annotating every copy.
    pub annotation: f64,
}

/// Everything a run found, with its statistics.
#[derive(Debug)]
pub struct Repeats {
    /// The seed length used.
    pub k: usize,
    /// The annotation pass's seed length.
    pub annotation_k: usize,
    /// The library, in discovery order (the most frequent seed first).
    pub families: Vec<RepeatFamily>,
    /// Every annotated copy, sorted by start, not overlapping.
    pub elements: Vec<AnnotatedElement>,
    /// Every seed of the index, the most frequent first.
    pub seeds: Vec<SeedSummary>,
    /// Seed index counters.
    pub index_stats: IndexStats,
    /// Discovery counters.
    pub discovery_stats: DiscoveryStats,
    /// Families dropped as redundant.
    pub redundant_families: usize,
    /// Wall time per phase.
    pub times: PhaseTimes,
    /// Engine metrics of the discovery pipeline.
    pub discovery_report: Report,
    /// Engine metrics of the annotation pipeline.
    pub annotation_report: Report,
}

impl Repeats {
    /// Bases covered by annotated copies.
    pub fn masked_bases(&self) -> u64 {
        self.elements.iter().map(|e| e.element.len()).sum()
    }
}

/// How far [`find_repeats`] has got: the phase, and within it the share of the work done.
///
/// Reported when a phase starts and then as it advances (after each index pass, each round
/// of family building, each annotated chunk), so a caller can draw a progress line. The
/// figures never change the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Counting k-mers: `passes_done` of `passes` genome scans (one counting scan, then one
    /// per index bucket; `passes` is 0 until the counting scan has planned the buckets).
    Indexing {
        /// Scans finished.
        passes_done: usize,
        /// Scans planned (0 while unknown).
        passes: usize,
    },
    /// Building families from seeds, the most frequent first.
    Discovering {
        /// Families accepted so far.
        families: usize,
        /// Seeds still waiting (seeds whose copies collided are queued again, so this may
        /// rise a little).
        seeds_left: u64,
        /// Seeds that could start a family.
        seeds: u64,
    },
    /// Removing redundant families.
    Merging,
    /// Annotating copies: bases of the genome scanned.
    Annotating {
        /// Bases scanned so far.
        bases_done: u64,
        /// Bases in the genome.
        bases: u64,
    },
}

impl Progress {
    /// The share of the current phase done, in `0.0..=1.0`, where the phase can say.
    ///
    /// ```
    /// use seqflow_repeats::Progress;
    /// let p = Progress::Annotating { bases_done: 25, bases: 100 };
    /// assert_eq!(p.fraction(), Some(0.25));
    /// assert_eq!(Progress::Merging.fraction(), None);
    /// ```
    pub fn fraction(&self) -> Option<f64> {
        let share = |done: f64, all: f64| (all > 0.0).then(|| (done / all).clamp(0.0, 1.0));
        match *self {
            Progress::Indexing { passes_done, passes } => share(passes_done as f64, passes as f64),
            Progress::Discovering { seeds_left, seeds, .. } => {
                share(seeds.saturating_sub(seeds_left) as f64, seeds as f64)
            }
            Progress::Merging => None,
            Progress::Annotating { bases_done, bases } => share(bases_done as f64, bases as f64),
        }
    }
}

/// Finds the interspersed repeat families of `genome` and annotates their copies.
///
/// A genome without any seed (empty, all N, too short, no repeats) gives an empty result.
///
/// # Errors
/// [`Error::InvalidParameter`] for an out-of-range parameter, [`Error::Index`] if the memory
/// budget cannot hold one index bucket, [`Error::Internal`] if a worker panicked.
pub fn find_repeats(
    genome: &Genome,
    params: &Params,
    progress: &mut dyn FnMut(Progress),
) -> Result<Repeats, Error> {
    validate(params)?;
    let k = params.k.unwrap_or_else(|| seed_length(genome.acgt_len()));
    let mut times = PhaseTimes::default();

    progress(Progress::Indexing { passes_done: 0, passes: 0 });
    let started = Instant::now();
    let config = IndexConfig {
        k,
        min_freq: params.min_freq,
        tandem_dist: params.tandem_dist,
        min_entropy: params.min_entropy,
        memory_bytes: params.memory_bytes,
        threads: params.threads,
    };
    // A chance k-mer whose copies share nothing beside it cannot grow into a family; dropping
    // it while the index is built keeps it out of memory (most seeds of a large genome).
    let viable = |copies: &[Occurrence]| family::may_extend(genome, k, copies);
    let index = SeedIndex::build_filtered(genome, &config, &viable, &mut |passes_done, passes| {
        progress(Progress::Indexing { passes_done, passes });
    })?;
    times.index = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mask = Bitmask::for_genome(genome);
    let discovery =
        discover::discover(genome, &index, &mask, params, &mut |families, left, all| {
            progress(Progress::Discovering { families, seeds_left: left, seeds: all });
        })?;
    let index_stats = index.stats().clone();
    drop(mask);
    // Taken only now, so that the seed table (24 bytes a seed: 345 MB for a simulated 1 Gbp
    // genome) is not held beside discovery's heap and mask.
    let seeds: Vec<SeedSummary> = index
        .seeds()
        .iter()
        .map(|s| SeedSummary {
            kmer: s.kmer,
            count: s.count,
            first_pos: index.occurrences(s)[0].pos(),
        })
        .collect();
    drop(index);
    times.discovery = started.elapsed().as_secs_f64();

    progress(Progress::Merging);
    let started = Instant::now();
    let consensi: Vec<Vec<u8>> =
        discovery.families.iter().map(|d| d.family.consensus.clone()).collect();
    // The seed table is sorted beside redundancy removal, which runs on one thread.
    let by_count = |mut seeds: Vec<SeedSummary>| {
        seeds.sort_by_key(|s| (std::cmp::Reverse(s.count), s.kmer));
        seeds
    };
    let non_redundant = || {
        redundancy::non_redundant(&consensi, params.redundancy_identity, params.redundancy_coverage)
    };
    let (kept, seeds) = if params.threads > 1 {
        std::thread::scope(|scope| {
            let sorted = scope.spawn(|| by_count(seeds));
            let kept = non_redundant();
            (kept, sorted.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        })
    } else {
        (non_redundant(), by_count(seeds))
    };
    let redundant_families = consensi.len() - kept.len();
    let kept_consensi: Vec<Vec<u8>> = kept.iter().map(|&i| consensi[i].clone()).collect();
    times.redundancy = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let annotated = annotate_consensi(genome, k, &kept_consensi, params, progress)?;
    let annotation_k = annotated.k;
    let families = annotated
        .kept
        .iter()
        .enumerate()
        .map(|(name_index, &(slot, copies))| {
            let found = &discovery.families[kept[slot]].family;
            RepeatFamily {
                name: output::family_name(name_index),
                class: consensus_class(&found.consensus).to_owned(),
                seed: kmer_string(found.seed, k),
                seed_copies: found.seed_copies,
                copies,
                consensus: letters(&found.consensus),
            }
        })
        .collect();
    times.annotation = started.elapsed().as_secs_f64();
    Ok(Repeats {
        k,
        annotation_k,
        families,
        elements: annotated.elements,
        seeds,
        index_stats,
        discovery_stats: discovery.stats,
        redundant_families,
        times,
        discovery_report: discovery.report,
        annotation_report: annotated.report,
    })
}

/// A consensus of a given library, for [`annotate_library`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryFamily {
    /// Its name in the outputs.
    pub name: String,
    /// Its class (`Unknown` when the library does not say).
    pub class: String,
    /// The consensus letters: ACGT in any case; any other letter (N, IUPAC codes) matches
    /// nothing and starts no seed.
    pub consensus: Vec<u8>,
}

/// Annotates the copies of the families of a given library in `genome`, as RepeatMasker's
/// `-lib` does: no discovery, the annotation phase of [`find_repeats`] on these consensi.
///
/// Families without a copy are left out of [`Repeats::families`] (as in [`find_repeats`]);
/// the seed and discovery fields of the result are empty.
///
/// ```
/// use seqflow_genome::GenomeBuilder;
/// use seqflow_repeats::{LibraryFamily, Params, annotate_library};
///
/// let element = b"GATTACAGGCTTAACCGTAGGCATCGATCGGATCCTTAGGCCATGCAAGTTCGAGCTAGCTAACGGTACC";
/// let mut seq = b"TTTTGGGGCCCCAAAA".repeat(20);
/// seq.extend_from_slice(element);
/// seq.extend(b"ACCAGTTGCAATGCCT".repeat(20));
/// let mut builder = GenomeBuilder::new();
/// builder.push_contig("chr1", &seq)?;
/// let library = [LibraryFamily {
///     name: "Gypsy7".into(),
///     class: "LTR/Gypsy".into(),
///     consensus: element.to_vec(),
/// }];
/// let repeats = annotate_library(&builder.build(), &library, &Params::default(), &mut |_| {})?;
/// assert_eq!(repeats.families[0].name, "Gypsy7");
/// assert_eq!(repeats.elements.len(), 1);
/// assert_eq!(repeats.elements[0].element.start, 320);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`find_repeats`].
pub fn annotate_library(
    genome: &Genome,
    library: &[LibraryFamily],
    params: &Params,
    progress: &mut dyn FnMut(Progress),
) -> Result<Repeats, Error> {
    validate(params)?;
    let k = params.k.unwrap_or_else(|| seed_length(genome.acgt_len()));
    let started = Instant::now();
    let consensi: Vec<Vec<u8>> = library.iter().map(|f| library_codes(&f.consensus)).collect();
    let annotated = annotate_consensi(genome, k, &consensi, params, progress)?;
    let families = annotated
        .kept
        .iter()
        .map(|&(slot, copies)| RepeatFamily {
            name: library[slot].name.clone(),
            class: library[slot].class.clone(),
            seed: "-".to_owned(),
            seed_copies: 0,
            copies,
            consensus: library[slot].consensus.to_ascii_uppercase(),
        })
        .collect();
    let times = PhaseTimes { annotation: started.elapsed().as_secs_f64(), ..PhaseTimes::default() };
    Ok(Repeats {
        k,
        annotation_k: annotated.k,
        families,
        elements: annotated.elements,
        seeds: Vec::new(),
        index_stats: IndexStats::default(),
        discovery_stats: DiscoveryStats::default(),
        redundant_families: 0,
        times,
        discovery_report: Report::default(),
        annotation_report: annotated.report,
    })
}

/// Code of a library letter that is not ACGT: above every genome code ([`seqflow_genome::N_CODE`]
/// included), so it never matches a genome base, and above 3, so no seed k-mer holds it.
const UNMATCHABLE: u8 = seqflow_genome::N_CODE + 1;

/// The codes of a library consensus.
fn library_codes(letters: &[u8]) -> Vec<u8> {
    letters
        .iter()
        .map(|b| match b.to_ascii_uppercase() {
            b'A' => 0,
            b'C' => 1,
            b'G' => 2,
            b'T' => 3,
            _ => UNMATCHABLE,
        })
        .collect()
}

/// What the annotation phase gives: the families that kept a copy as `(slot in the consensi,
/// copies)` in order, the copies renumbered to those, and the engine's report.
struct Annotated {
    k: usize,
    kept: Vec<(usize, usize)>,
    elements: Vec<AnnotatedElement>,
    report: Report,
}

/// The annotation phase: every copy of `consensi` (codes), aligned whole; families left
/// without a copy (all taken by better-scoring families) are dropped and the rest renumbered.
fn annotate_consensi(
    genome: &Genome,
    k: usize,
    consensi: &[Vec<u8>],
    params: &Params,
    progress: &mut dyn FnMut(Progress),
) -> Result<Annotated, Error> {
    let bases = genome.len();
    let library_bases = consensi.iter().map(|c| c.len() as u64).sum();
    let k = params.annotation_k.unwrap_or_else(|| annotation_seed_length(library_bases, k));
    let (annotations, report) =
        annotate::annotate(genome, k, consensi, params, &mut |bases_done| {
            progress(Progress::Annotating { bases_done, bases });
        })?;
    let alignments = copy_alignment::align_copies(genome, consensi, &annotations, params)?;
    let mut copies = vec![0usize; consensi.len()];
    for (family, _) in &annotations {
        copies[*family as usize] += 1;
    }
    let mut renumber = vec![usize::MAX; consensi.len()];
    let mut kept = Vec::new();
    for (slot, &n) in copies.iter().enumerate() {
        if n > 0 {
            renumber[slot] = kept.len();
            kept.push((slot, n));
        }
    }
    let elements = annotations
        .into_iter()
        .zip(alignments)
        .map(|((family, element), alignment)| AnnotatedElement {
            family: renumber[family as usize],
            element: Element {
                consensus_start: alignment.consensus_start,
                consensus_end: alignment.consensus_end,
                ..element
            },
            alignment,
        })
        .collect();
    Ok(Annotated { k, kept, elements, report })
}

fn validate(params: &Params) -> Result<(), Error> {
    let bad = |message: String| Err(Error::InvalidParameter(message));
    if let Some(k) = params.k {
        if !(8..=32).contains(&k) {
            return bad(format!("-k {k}: the seed length must be in 8..=32"));
        }
    }
    if let Some(k) = params.annotation_k {
        if !(8..=32).contains(&k) {
            return bad(format!("--annotation-k {k}: the seed length must be in 8..=32"));
        }
    }
    if params.min_freq < 2 {
        return bad(format!("--min-freq {}: a family needs at least 2 copies", params.min_freq));
    }
    if params.scoring.band == 0 || params.scoring.band > dp::MAX_BAND {
        return bad(format!("band {} must be in 1..={}", params.scoring.band, dp::MAX_BAND));
    }
    if params.round_size == 0 || params.max_sample < 2 {
        return bad("round size and sample size must be positive".into());
    }
    if params.stop_after == 0 {
        return bad("--stop-after must be at least 1".into());
    }
    Ok(())
}

/// The 2-bit codes of a k-mer, first base first.
fn kmer_codes(kmer: u64, k: usize) -> Vec<u8> {
    (0..k).rev().map(|i| ((kmer >> (2 * i)) & 3) as u8).collect()
}

/// Upper-case letters of 2-bit codes.
fn letters(codes: &[u8]) -> Vec<u8> {
    codes.iter().map(|&c| BASES[usize::from(c)]).collect()
}

/// The upper-case letters of a k-mer, first base first.
pub fn kmer_string(kmer: u64, k: usize) -> String {
    String::from_utf8(letters(&kmer_codes(kmer, k))).expect("ASCII")
}
