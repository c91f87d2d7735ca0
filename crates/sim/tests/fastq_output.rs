//! Whole-output properties of the FASTQ simulator: reproducibility and validity.

use seqflow_sim::{Amount, FastqConfig, FastqStats, write_fastq};

fn generate(seed: u64, amount: Amount) -> (Vec<u8>, FastqStats) {
    let mut config = FastqConfig::new(seed);
    config.genome_length = 200_000;
    config.amount = amount;
    let mut out = Vec::new();
    let stats = write_fastq(&config, &mut out).unwrap();
    (out, stats)
}

/// Checks every record and returns the number of records.
fn validate(fastq: &[u8], read_length: usize) -> usize {
    assert!(fastq.ends_with(b"\n"));
    let lines: Vec<&[u8]> = fastq[..fastq.len() - 1].split(|&b| b == b'\n').collect();
    assert_eq!(lines.len() % 4, 0);
    for record in lines.chunks_exact(4) {
        let [header, seq, plus, qual] = record else { unreachable!() };
        assert!(header.starts_with(b"@"), "{}", String::from_utf8_lossy(header));
        assert!(!header.contains(&b'\r'));
        assert_eq!(*plus, b"+");
        assert_eq!(seq.len(), read_length);
        assert_eq!(seq.len(), qual.len());
        assert!(seq.iter().all(|b| b"ACGTN".contains(b)));
        assert!(qual.iter().all(|&q| (b'#'..=b'J').contains(&q)));
        for (&b, &q) in seq.iter().zip(qual.iter()) {
            if b == b'N' {
                assert_eq!(q, b'#');
            }
        }
    }
    lines.len() / 4
}

#[test]
fn same_seed_gives_identical_bytes() {
    let (a, stats_a) = generate(42, Amount::Bytes(2 << 20));
    let (b, stats_b) = generate(42, Amount::Bytes(2 << 20));
    assert!(a == b, "same seed produced different output");
    assert_eq!(stats_a, stats_b);
}

#[test]
fn different_seeds_differ() {
    let (a, _) = generate(1, Amount::Reads(1000));
    let (b, _) = generate(2, Amount::Reads(1000));
    assert_ne!(a, b);
    // Not just the headers: the reads themselves differ.
    let seqs = |x: &[u8]| -> Vec<Vec<u8>> {
        x.split(|&c| c == b'\n').skip(1).step_by(4).map(<[u8]>::to_vec).collect()
    };
    let (sa, sb) = (seqs(&a), seqs(&b));
    assert!(sa.iter().zip(&sb).filter(|(x, y)| x == y).count() < 10);
}

#[test]
fn every_record_is_valid_fastq() {
    let (out, stats) = generate(7, Amount::Reads(5000));
    assert_eq!(validate(&out, 150), 5000);
    assert_eq!(stats.records, 5000);

    for read_length in [1, 2, 36, 251] {
        let mut config = FastqConfig::new(8);
        config.genome_length = 10_000;
        config.read_length = read_length;
        config.amount = Amount::Reads(300);
        config.n_rate = 0.05;
        let mut out = Vec::new();
        write_fastq(&config, &mut out).unwrap();
        assert_eq!(validate(&out, read_length), 300);
    }
}

#[test]
fn quality_statistics_are_not_trivial() {
    let (_, stats) = generate(9, Amount::Reads(20_000));
    let distinct = stats.quality_counts.iter().filter(|&&n| n > 0).count();
    assert!(distinct >= 20, "only {distinct} distinct quality values");
    assert!(stats.quality_counts[2] > 0, "no '#' qualities");
    let (q20, q30, mean) = (stats.q20_fraction(), stats.q30_fraction(), stats.mean_quality());
    assert!((0.85..0.99).contains(&q20), "Q20 {q20}");
    assert!((0.6..0.95).contains(&q30), "Q30 {q30}");
    assert!(q30 < q20);
    assert!((28.0..38.0).contains(&mean), "mean {mean}");
    let gc = stats.gc_fraction();
    assert!((0.38..0.44).contains(&gc), "GC {gc}");
}
