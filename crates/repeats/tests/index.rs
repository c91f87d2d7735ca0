//! Tests of the k-mer seed index against a naive hash-map implementation.

use std::collections::HashMap;

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use seqflow_genome::{Genome, GenomeBuilder, canonical};
use seqflow_repeats::index::{
    IndexConfig, IndexError, Occurrence, SeedIndex, is_low_complexity, seed_length,
};

const BASES: &[u8; 4] = b"ACGT";

fn random_seq(rng: &mut StdRng, len: usize) -> Vec<u8> {
    (0..len).map(|_| BASES[rng.random_range(0..4)]).collect()
}

fn revcomp_seq(seq: &[u8]) -> Vec<u8> {
    seq.iter()
        .rev()
        .map(|&b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            b'T' => b'A',
            other => other,
        })
        .collect()
}

/// A copy of `element`, reverse-complemented half of the time and with about `divergence` of
/// its bases substituted.
fn copy_of(rng: &mut StdRng, element: &[u8], divergence: f64) -> Vec<u8> {
    let mut copy = if rng.random_bool(0.5) { revcomp_seq(element) } else { element.to_vec() };
    for b in &mut copy {
        if divergence > 0.0 && rng.random_bool(divergence) {
            *b = BASES[rng.random_range(0..4)];
        }
    }
    copy
}

/// Contigs of random sequence with planted repeat copies (exact and mutated, both strands),
/// short tandem arrays, low-complexity runs and N runs.
fn planted_genome(seed: u64, contigs: usize, contig_len: usize) -> Genome {
    let mut rng = StdRng::seed_from_u64(seed);
    let families: Vec<Vec<u8>> = (0..4)
        .map(|_| {
            let len = rng.random_range(30..300);
            random_seq(&mut rng, len)
        })
        .collect();
    let mut builder = GenomeBuilder::new();
    for c in 0..contigs {
        let mut seq = Vec::new();
        while seq.len() < contig_len {
            match rng.random_range(0..10) {
                0..=4 => {
                    let len = rng.random_range(50..800);
                    seq.extend(random_seq(&mut rng, len));
                }
                5 | 6 => {
                    let family = &families[rng.random_range(0..families.len())];
                    let divergence = if rng.random_bool(0.5) { 0.0 } else { 0.05 };
                    seq.extend(copy_of(&mut rng, family, divergence));
                }
                7 => {
                    let unit_len = rng.random_range(2..60);
                    let unit = random_seq(&mut rng, unit_len);
                    for _ in 0..rng.random_range(2..20) {
                        seq.extend(&unit);
                    }
                }
                8 => {
                    let len = rng.random_range(1..40);
                    seq.extend(std::iter::repeat_n(b'N', len));
                }
                _ => {
                    let len = rng.random_range(5..40);
                    let b = BASES[rng.random_range(0..4)];
                    seq.extend(std::iter::repeat_n(b, len));
                }
            }
        }
        seq.truncate(contig_len);
        builder.push_contig(&format!("chr{c}"), &seq).unwrap();
    }
    builder.build()
}

/// `(canonical k-mer, kept occurrences)` of every seed, and `(tandem_collapsed,
/// low_complexity_skipped, kmers_scanned)`, computed the obvious way.
fn naive(genome: &Genome, config: &IndexConfig) -> (Vec<(u64, Vec<Occurrence>)>, [u64; 3]) {
    let k = config.k;
    let mut table: HashMap<u64, Vec<Occurrence>> = HashMap::new();
    let (mut scanned, mut low) = (0, 0);
    for pos in 0..genome.len() {
        let Some(kmer) = genome.kmer_at(pos, k) else { continue };
        scanned += 1;
        if is_low_complexity(kmer, k, config.min_entropy) {
            low += 1;
            continue;
        }
        let canon = canonical(kmer, k);
        table.entry(canon).or_default().push(Occurrence::new(pos, canon != kmer));
    }
    let mut collapsed = 0;
    let mut seeds: Vec<(u64, Vec<Occurrence>)> = Vec::new();
    for (kmer, occs) in table {
        let mut kept = Vec::new();
        for strand in [false, true] {
            let mut prev: Option<u64> = None;
            for occ in occs.iter().filter(|o| o.is_reverse() == strand) {
                if prev.is_some_and(|p| occ.pos() - p < config.tandem_dist) {
                    collapsed += 1;
                } else {
                    kept.push(*occ);
                }
                prev = Some(occ.pos());
            }
        }
        kept.sort();
        if kept.len() >= config.min_freq as usize {
            seeds.push((kmer, kept));
        }
    }
    seeds.sort();
    (seeds, [collapsed, low, scanned])
}

/// The index as plain data.
fn flatten(index: &SeedIndex) -> Vec<(u64, Vec<Occurrence>)> {
    index
        .seeds()
        .iter()
        .map(|s| {
            let occs = index.occurrences(s).to_vec();
            assert_eq!(occs.len(), s.count as usize);
            (s.kmer, occs)
        })
        .collect()
}

fn check_against_naive(genome: &Genome, config: &IndexConfig) -> SeedIndex {
    let index = SeedIndex::build(genome, config).unwrap();
    let (want, [collapsed, low, scanned]) = naive(genome, config);
    let got = flatten(&index);
    assert_eq!(got.len(), want.len(), "number of seeds, {config:?}");
    assert_eq!(got, want, "{config:?}");
    let stats = index.stats();
    assert_eq!(stats.kmers_scanned, scanned);
    assert_eq!(stats.low_complexity_skipped, low);
    assert_eq!(stats.tandem_collapsed, collapsed);
    assert_eq!(stats.distinct_kept, want.len() as u64);
    assert_eq!(stats.occurrences_kept, want.iter().map(|(_, o)| o.len() as u64).sum::<u64>());
    for (kmer, _) in &want {
        assert_eq!(index.find(*kmer).map(|s| s.kmer), Some(*kmer));
    }
    index
}

#[test]
fn matches_naive_on_planted_repeats() {
    let genome = planted_genome(7, 5, 20_000);
    for (k, min_freq, tandem_dist) in [(12, 3, 500), (9, 2, 100), (16, 3, 0), (5, 1, 500)] {
        for threads in [1, 2, 3] {
            let config = IndexConfig {
                k,
                min_freq,
                tandem_dist,
                threads,
                memory_bytes: 16 << 10,
                ..IndexConfig::default()
            };
            let index = check_against_naive(&genome, &config);
            assert!(index.stats().buckets > 10, "{:?}", index.stats());
            assert!(index.stats().peak_bucket_bytes <= 16 << 10);
        }
    }
}

#[test]
fn seeds_found_on_both_strands() {
    let genome = planted_genome(11, 3, 30_000);
    let config = IndexConfig { k: 14, ..IndexConfig::default() };
    let index = check_against_naive(&genome, &config);
    let occs = index.seeds().iter().flat_map(|s| index.occurrences(s));
    let reverse = occs.clone().filter(|o| o.is_reverse()).count();
    let forward = occs.count() - reverse;
    assert!(reverse > 100 && forward > 100, "forward {forward}, reverse {reverse}");
}

#[test]
fn k_32_and_k_1() {
    let genome = planted_genome(3, 2, 5_000);
    for k in [32, 31, 1, 2] {
        let config = IndexConfig { k, min_entropy: 0.0, ..IndexConfig::default() };
        check_against_naive(&genome, &config);
    }
}

/// A filter sees each frequent k-mer's occurrences after tandem collapse, exactly what the
/// unfiltered index holds, and the result is the unfiltered index minus what it turned down,
/// for any thread count and bucket size.
#[test]
fn filtered_index_is_the_index_minus_what_the_filter_drops() {
    let genome = planted_genome(5, 4, 20_000);
    // Decided on the occurrences themselves: wrong if the filter saw another list (uncollapsed,
    // another k-mer's, or a truncated one) than the index keeps.
    let keep = |occs: &[Occurrence]| occs.iter().map(|o| o.pos()).sum::<u64>() % 3 != 0;
    for (threads, memory_bytes) in [(1, 1 << 30), (3, 16 << 10)] {
        let config = IndexConfig { k: 10, threads, memory_bytes, ..IndexConfig::default() };
        let all = flatten(&SeedIndex::build(&genome, &config).unwrap());
        let filtered = SeedIndex::build_filtered(&genome, &config, &keep, &mut |_, _| {}).unwrap();
        let want: Vec<_> = all.iter().filter(|(_, occs)| keep(occs)).cloned().collect();
        assert!(want.len() > 50 && want.len() < all.len(), "{} of {}", want.len(), all.len());
        assert_eq!(flatten(&filtered), want);
        let stats = filtered.stats();
        assert_eq!(stats.distinct_kept, want.len() as u64);
        assert_eq!(stats.filtered_out, (all.len() - want.len()) as u64);
        assert_eq!(stats.occurrences_kept, want.iter().map(|(_, o)| o.len() as u64).sum::<u64>());
        for (kmer, occs) in &all {
            assert_eq!(filtered.find(*kmer).is_some(), keep(occs));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Same result for any thread count and memory budget.
    #[test]
    fn independent_of_threads_and_memory(
        seed in any::<u64>(),
        contigs in 1..5usize,
        len in 0..6_000usize,
        k in 4..20usize,
        threads in 1..5usize,
        memory_kib in 4..64usize,
    ) {
        let genome = planted_genome(seed, contigs, len);
        let reference = IndexConfig { k, min_freq: 2, ..IndexConfig::default() };
        let want = SeedIndex::build(&genome, &reference).unwrap();
        let config = IndexConfig { threads, memory_bytes: memory_kib << 10, ..reference.clone() };
        match SeedIndex::build(&genome, &config) {
            Ok(got) => {
                prop_assert_eq!(flatten(&got), flatten(&want));
                prop_assert!(got.stats().peak_bucket_bytes <= memory_kib << 10);
                let (mut a, mut b) = (got.stats().clone(), want.stats().clone());
                (a.buckets, a.peak_bucket_bytes, b.buckets, b.peak_bucket_bytes) = (0, 0, 0, 0);
                prop_assert_eq!(a, b);
            }
            // A very repetitive sub-bin may not fit a tiny budget.
            Err(IndexError::MemoryTooSmall { needed, .. }) => prop_assert!(needed > memory_kib << 10),
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}

#[test]
fn empty_and_all_n_genomes() {
    let config = IndexConfig { k: 8, ..IndexConfig::default() };
    let empty = GenomeBuilder::new().build();
    let index = SeedIndex::build(&empty, &config).unwrap();
    assert!(index.seeds().is_empty());
    assert_eq!(index.stats().buckets, 0);
    let mut builder = GenomeBuilder::new();
    builder.push_contig("gap", b"NNNNNNNNNNNN").unwrap().push_contig("short", b"ACG").unwrap();
    let index = SeedIndex::build(&builder.build(), &config).unwrap();
    assert!(index.seeds().is_empty());
    assert_eq!(index.stats().kmers_scanned, 0);
}

#[test]
fn seed_length_examples() {
    assert_eq!(seed_length(230_000), 10);
    assert_eq!(seed_length(20_000_000), 14);
    assert_eq!(seed_length(1_000_000_000), 16);
    assert_eq!(seed_length(12_000_000_000), 18);
    assert_eq!(seed_length(0), 1);
    assert_eq!(seed_length(1), 2);
    assert_eq!(seed_length(u64::MAX), 32);
}

fn pack(seq: &[u8]) -> u64 {
    seq.iter().fold(0, |acc, &b| (acc << 2) | BASES.iter().position(|&x| x == b).unwrap() as u64)
}

#[test]
fn low_complexity() {
    assert!(is_low_complexity(pack(b"AAAAAAAAAAAAAA"), 14, 0.7));
    assert!(is_low_complexity(pack(b"ACACACACACAC"), 12, 0.7));
    assert!(is_low_complexity(pack(b"TGTGTGTGTGTGTG"), 14, 0.7));
    assert!(!is_low_complexity(pack(b"GATTACACGTTGCA"), 14, 0.7));
    assert!(!is_low_complexity(pack(b"ACGTACGTACGTACGTACGTACGTACGTACGT"), 32, 1.38));
    // Two letters, evenly: ln 2 = 0.693.
    assert!(!is_low_complexity(pack(b"ACACACACACAC"), 12, 0.69));
    // A reverse complement has the same composition, mirrored.
    let kmer = pack(b"AAAAAAAAAACGTC");
    assert_eq!(
        is_low_complexity(kmer, 14, 1.0),
        is_low_complexity(seqflow_genome::revcomp(kmer, 14), 14, 1.0)
    );
    // Low-complexity k-mers never become seeds.
    let mut builder = GenomeBuilder::new();
    let seq: Vec<u8> = [&[b'A'; 3000][..], &b"AC".repeat(1000)].concat();
    builder.push_contig("low", &seq).unwrap();
    let config = IndexConfig { k: 12, tandem_dist: 0, min_freq: 1, ..IndexConfig::default() };
    let index = SeedIndex::build(&builder.build(), &config).unwrap();
    assert!(index.seeds().is_empty());
    assert!(index.stats().low_complexity_skipped > 4000);
}

/// Random background with `insert` written at each of `at` (reverse-complemented where the flag
/// says so).
fn with_insertions(len: usize, insert: &[u8], at: &[(usize, bool)]) -> Genome {
    let mut rng = StdRng::seed_from_u64(99);
    let mut seq = random_seq(&mut rng, len);
    for &(pos, reverse) in at {
        let copy = if reverse { revcomp_seq(insert) } else { insert.to_vec() };
        seq[pos..pos + copy.len()].copy_from_slice(&copy);
    }
    let mut builder = GenomeBuilder::new();
    builder.push_contig("chr1", &seq).unwrap();
    builder.build()
}

#[test]
fn tandem_array_collapses_to_first_copy() {
    let mut rng = StdRng::seed_from_u64(5);
    let unit = random_seq(&mut rng, 40);
    let mut seq = random_seq(&mut rng, 2000);
    let array_start = seq.len() as u64;
    for _ in 0..30 {
        seq.extend(&unit);
    }
    seq.extend(random_seq(&mut rng, 2000));
    let mut builder = GenomeBuilder::new();
    builder.push_contig("chr1", &seq).unwrap();
    let genome = builder.build();
    let k = 12;
    let config = IndexConfig { k, min_freq: 1, ..IndexConfig::default() };
    let index = check_against_naive(&genome, &config);
    for offset in 0..40 {
        let kmer = canonical(genome.kmer_at(array_start + offset, k).unwrap(), k);
        let seed = index.find(kmer).unwrap();
        assert_eq!(seed.count, 1, "offset {offset}");
        assert_eq!(index.occurrences(seed)[0].pos(), array_start + offset);
    }
    assert!(index.stats().tandem_collapsed >= 29 * 40 - k as u64);
}

#[test]
fn distant_copies_are_kept() {
    let insert = b"GATTACACGTTG";
    let k = insert.len();
    let kmer = pack(insert);
    let canon = canonical(kmer, k);
    let config = IndexConfig { k, min_freq: 1, ..IndexConfig::default() };

    let genome = with_insertions(5000, insert, &[(100, false), (1100, false), (2100, false)]);
    let index = SeedIndex::build(&genome, &config).unwrap();
    let seed = index.find(canon).unwrap();
    assert_eq!(seed.count, 3);
    let occs = index.occurrences(seed);
    assert_eq!(occs.iter().map(|o| o.pos()).collect::<Vec<_>>(), [100, 1100, 2100]);
    assert!(occs.iter().all(|o| o.is_reverse() == (canon != kmer)));

    // Alternating strands 200 bp apart: no two neighbours on the same strand are close.
    let genome = with_insertions(5000, insert, &[(100, false), (300, true), (700, false)]);
    let index = SeedIndex::build(&genome, &config).unwrap();
    let seed = index.find(canon).unwrap();
    assert_eq!(seed.count, 3);
    let strands: Vec<bool> = index.occurrences(seed).iter().map(|o| o.is_reverse()).collect();
    assert_eq!(strands, [canon != kmer, canon == kmer, canon != kmer]);

    // Same strand, 400 bp steps: the distance chains from the dropped copy.
    let genome = with_insertions(5000, insert, &[(100, false), (500, false), (900, false)]);
    let index = check_against_naive(&genome, &config);
    assert_eq!(index.find(canon).unwrap().count, 1);
    assert!(index.stats().tandem_collapsed >= 2);
}

#[test]
fn palindromes_are_forward() {
    let insert = b"GATTACGTAATC"; // its own reverse complement
    let k = insert.len();
    assert_eq!(seqflow_genome::revcomp(pack(insert), k), pack(insert));
    let genome = with_insertions(5000, insert, &[(100, false), (1100, true), (2100, false)]);
    let config = IndexConfig { k, ..IndexConfig::default() };
    let index = SeedIndex::build(&genome, &config).unwrap();
    let seed = index.find(pack(insert)).unwrap();
    assert_eq!(seed.count, 3);
    assert!(index.occurrences(seed).iter().all(|o| !o.is_reverse()));
}

#[test]
fn occurrence_packing() {
    let occ = Occurrence::new(123_456_789_012, true);
    assert_eq!((occ.pos(), occ.is_reverse()), (123_456_789_012, true));
    assert!(Occurrence::new(5, false) < Occurrence::new(5, true));
    assert!(Occurrence::new(5, true) < Occurrence::new(6, false));
}

#[test]
fn invalid_k_and_tiny_memory_are_errors() {
    let genome = planted_genome(1, 1, 1000);
    for k in [0, 33] {
        let config = IndexConfig { k, ..IndexConfig::default() };
        let err = SeedIndex::build(&genome, &config).unwrap_err();
        assert!(matches!(err, IndexError::InvalidK { k: got } if got == k), "{err}");
    }
    let config = IndexConfig { k: 8, memory_bytes: 8, ..IndexConfig::default() };
    let err = SeedIndex::build(&genome, &config).unwrap_err();
    assert!(matches!(err, IndexError::MemoryTooSmall { memory_bytes: 8, .. }), "{err}");
}

#[test]
fn heap_bytes_counts_seeds_and_occurrences() {
    let genome = planted_genome(2, 2, 10_000);
    let index =
        SeedIndex::build(&genome, &IndexConfig { k: 12, ..IndexConfig::default() }).unwrap();
    let occs = index.stats().occurrences_kept as usize;
    assert_eq!(index.heap_bytes(), index.seeds().len() * 24 + occs * 8);
}

/// Build time on a 20 Mb genome (random background with planted families):
/// `cargo test --release -p seqflow-repeats --test index -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release mode"]
fn timing_20_mb() {
    let start = std::time::Instant::now();
    let genome = planted_genome(42, 4, 5_000_000);
    eprintln!("genome: {} bases in {:?}", genome.len(), start.elapsed());
    let k = seed_length(genome.acgt_len());
    for (threads, memory_bytes) in [(1, 1 << 30), (2, 1 << 30), (2, 64 << 20)] {
        let config = IndexConfig { k, threads, memory_bytes, ..IndexConfig::default() };
        let start = std::time::Instant::now();
        let index = SeedIndex::build(&genome, &config).unwrap();
        eprintln!(
            "k {k} threads {threads} memory {memory_bytes}: {:?}, heap {} bytes, {:?}",
            start.elapsed(),
            index.heap_bytes(),
            index.stats()
        );
    }
}

/// Many bucket passes: a 200 Mb genome with a 200 MiB budget takes about as many passes (16) as
/// 1 Gbp with the default 1 GiB.
#[test]
#[ignore = "timing; run in release mode"]
fn timing_200_mb_many_buckets() {
    let genome = planted_genome(43, 8, 25_000_000);
    let k = seed_length(genome.acgt_len());
    let config = IndexConfig { k, threads: 2, memory_bytes: 200 << 20, ..IndexConfig::default() };
    let start = std::time::Instant::now();
    let index = SeedIndex::build(&genome, &config).unwrap();
    eprintln!("k {k}, 200 Mb, 200 MiB: {:?}, {:?}", start.elapsed(), index.stats());
}
