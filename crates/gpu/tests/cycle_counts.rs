//! The device's per-cycle counters against a base-at-a-time count on the CPU, on whatever
//! adapter the machine has (lavapipe in CI).
//!
//! Without an adapter each test prints `SKIPPED` and passes, except under
//! `SEQFLOW_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs lavapipe), where it fails.

use seqflow_gpu::{
    Adapter, COUNTERS_PER_CYCLE, CycleCounter, CycleCounts, MIN_CHUNK_BYTES, QUALITY_LEVELS,
    TILE_BYTES,
};

/// The machine's adapter; `None` (SKIPPED) without one, a failure under SEQFLOW_REQUIRE_TOOLS.
fn adapter() -> Option<Adapter> {
    match Adapter::find() {
        Ok(adapter) => Some(adapter),
        Err(error) => {
            assert!(
                std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(),
                "a GPU adapter (Mesa lavapipe) is required: {error}"
            );
            eprintln!("SKIPPED: {error}");
            None
        }
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }
}

/// Reads of these lengths: letters of every class in either case, and every quality byte from
/// below `!` to above `~` (which count as Phred 0 and 93).
fn reads(lengths: &[usize], seed: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    const LETTERS: &[u8] = b"ACGTNacgtn-.RYx";
    let mut rng = Lcg(seed);
    lengths
        .iter()
        .map(|&len| {
            let seq = (0..len).map(|_| LETTERS[rng.below(LETTERS.len())]).collect();
            let qual = (0..len).map(|_| 30 + rng.below(100) as u8).collect();
            (seq, qual)
        })
        .collect()
}

/// Hands `mates` (read 1's reads, read 2's) to the device in runs of `run` reads, alternating
/// mates like `qc`'s sink, and counts them on the CPU; returns both.
fn device_and_cpu(
    counter: &mut CycleCounter,
    mates: [&[(Vec<u8>, Vec<u8>)]; 2],
    run: usize,
    max_cycles: usize,
) -> (CycleCounts, CycleCounts) {
    let mut cpu = CycleCounts::default();
    let runs = mates[0].len().max(mates[1].len()).div_ceil(run);
    for i in 0..runs {
        for (mate, reads) in mates.iter().enumerate() {
            let part = reads.get(i * run..((i + 1) * run).min(reads.len())).unwrap_or_default();
            counter.add_reads(mate, part.iter().map(|(s, q)| (&s[..], &q[..]))).unwrap();
            for (seq, qual) in part {
                cpu.add_on_cpu(mate, seq, qual, max_cycles);
            }
        }
    }
    (counter.take().unwrap(), cpu)
}

#[test]
fn every_quality_value_base_class_and_mate_is_counted_exactly() {
    let Some(adapter) = adapter() else { return };
    // Small chunks, so that reads are cut across chunks and the piece table fills up too.
    let mut counter = CycleCounter::new(adapter, 4 << 10, 1000).unwrap();
    let lengths: Vec<usize> = (0..3000).map(|i| [0, 1, 2, 3, 5, 150, 151, 99][i % 8]).collect();
    let read1 = reads(&lengths, 1);
    let read2 = reads(&lengths[..2000], 2);
    let (device, cpu) = device_and_cpu(&mut counter, [&read1, &read2], 37, 1000);
    assert_eq!(device, cpu);
    assert_eq!((device.cycles(0), device.cycles(1)), (151, 151));
    // Phred 0 and 93 (bytes clamped into range) and everything between, at cycle 0.
    let phreds = |class: usize| &device.mates[0][class * QUALITY_LEVELS..][..QUALITY_LEVELS];
    assert!((0..QUALITY_LEVELS).all(|q| (0..5).map(|class| phreds(class)[q]).sum::<u64>() > 0));
    assert!(counter.metrics().chunks > 50, "{:?}", counter.metrics());
}

#[test]
fn reads_past_the_last_cycle_and_longer_than_a_tile_or_a_chunk() {
    let Some(adapter) = adapter() else { return };
    let max_cycles = 1000;
    let mut counter = CycleCounter::new(adapter, 64 << 10, max_cycles).unwrap();
    let lengths = [TILE_BYTES + 1, 3 * TILE_BYTES, 200_000, 1, 0, 999, 1000, 1001, 40_000];
    let long = reads(&lengths, 3);
    let (device, cpu) = device_and_cpu(&mut counter, [&long, &[]], 2, max_cycles);
    assert_eq!(device, cpu);
    assert_eq!((device.cycles(0), device.cycles(1)), (max_cycles, 0));
    // The last cycle holds every base from it on: 200,000 − 999 of the longest read alone.
    let last: u64 = device.mates[0][(max_cycles - 1) * COUNTERS_PER_CYCLE..].iter().sum();
    let expected: usize = lengths.iter().map(|&len| len.saturating_sub(max_cycles - 1)).sum();
    assert_eq!(last, expected as u64);
}

#[test]
fn the_table_is_read_back_before_a_counter_could_overflow() {
    let Some(adapter) = adapter() else { return };
    let mut counter = CycleCounter::new(adapter, MIN_CHUNK_BYTES, 50).unwrap();
    // Read back after every chunk instead of every 2^32 − 1 bases: the totals are the same.
    counter.set_flush_limit(1);
    let lengths: Vec<usize> = (0..500).map(|i| 1 + i % 70).collect();
    let read1 = reads(&lengths, 4);
    let (device, cpu) = device_and_cpu(&mut counter, [&read1, &read1], 5, 50);
    assert_eq!(device, cpu);
    assert_eq!(device.cycles(0), 50);
}

#[test]
fn uneven_sequence_and_quality_count_the_shorter_and_take_starts_again() {
    let Some(adapter) = adapter() else { return };
    // Not a multiple of 48: each region is rounded down to a multiple of 16.
    let mut counter = CycleCounter::new(adapter, 1000, 1000).unwrap();
    let reads: [(&[u8], &[u8]); 3] = [(b"ACGTACGT", b"III"), (b"A", b""), (b"GG", b"!!!!!")];
    counter.add_reads(1, reads).unwrap();
    let first = counter.take().unwrap();
    let mut cpu = CycleCounts::default();
    for (seq, qual) in reads {
        cpu.add_on_cpu(1, seq, qual, 1000);
    }
    assert_eq!(first, cpu);
    assert_eq!((first.cycles(0), first.cycles(1)), (0, 3));
    // Nothing added since: nothing counted.
    assert_eq!(counter.take().unwrap(), CycleCounts::default());
    counter.add_reads(1, reads).unwrap();
    assert_eq!(counter.take().unwrap(), first, "take() started again from zero");
}
