//! The device's counts against a byte-at-a-time count on the CPU, on whatever adapter the
//! machine has (lavapipe in CI).
//!
//! Without an adapter each test prints `SKIPPED` and passes, except under
//! `SEQFLOW_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs lavapipe), where it fails.

use seqflow_gpu::{Adapter, LetterCounter, LetterCounts, MIN_CHUNK_BYTES, TILE_BYTES};
use seqflow_seqio::{Batch, Reader, ReaderOptions};

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

/// Counts `data` (FASTA or FASTQ text) batch by batch on the device and on the CPU.
fn device_and_cpu(
    counter: &mut LetterCounter,
    data: &[u8],
    batch_size: usize,
) -> (LetterCounts, LetterCounts) {
    let options = ReaderOptions { batch_size, fasta_pieces: true, ..ReaderOptions::default() };
    let mut reader = Reader::new(std::io::Cursor::new(data.to_vec()), "test", options).unwrap();
    let (mut batch, mut cpu) = (Batch::default(), LetterCounts::default());
    while reader.read_batch(&mut batch).unwrap() > 0 {
        counter.add_batch(&batch).unwrap();
        for record in batch.records() {
            cpu.add_on_cpu(record.seq_raw(), record.qual().unwrap_or_default());
        }
    }
    (counter.take().unwrap(), cpu)
}

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// FASTQ with these read lengths; sequence letters from `letters`, every quality from `!` to `~`.
fn fastq(lengths: &[usize], letters: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    for (i, &len) in lengths.iter().enumerate() {
        out.extend_from_slice(format!("@r{i}\n").as_bytes());
        out.extend((0..len).map(|_| letters[rng.next() as usize % letters.len()]));
        out.extend_from_slice(b"\n+\n");
        out.extend((0..len).map(|_| b'!' + (rng.next() % 94) as u8));
        out.push(b'\n');
    }
    out
}

const LETTERS: &[u8] = b"ACGTNacgtn-. RYKM*";

#[test]
fn every_quality_value_and_letter_class_is_counted_exactly() {
    let Some(adapter) = adapter() else { return };
    // Small chunks, so that packing crosses chunk boundaries inside reads and batches.
    let mut counter = LetterCounter::new(adapter, 4 << 10).unwrap();
    let lengths: Vec<usize> = (0..3000).map(|i| [0, 1, 2, 3, 5, 150, 151, 999][i % 8]).collect();
    let (device, cpu) = device_and_cpu(&mut counter, &fastq(&lengths, LETTERS, 1), 1 << 12);
    assert!((b'!'..=b'~').all(|q| cpu.quality[q as usize] > 0), "every quality value occurs");
    assert_eq!(device, cpu);
    assert!(counter.metrics().chunks > 10, "{:?}", counter.metrics());
}

#[test]
fn reads_longer_than_a_tile_and_a_chunk() {
    let Some(adapter) = adapter() else { return };
    let mut counter = LetterCounter::new(adapter, 64 << 10).unwrap();
    let lengths = [TILE_BYTES + 1, 3 * TILE_BYTES, 200_000, 1, 0, 40_000];
    let (device, cpu) = device_and_cpu(&mut counter, &fastq(&lengths, LETTERS, 2), 1 << 16);
    assert_eq!(device, cpu);
}

#[test]
fn empty_reads_and_single_bases() {
    let Some(adapter) = adapter() else { return };
    let mut counter = LetterCounter::new(adapter, MIN_CHUNK_BYTES).unwrap();
    let data = b"@e\n\n+\n\n@one\nG\n+\n~\n@e2\n\n+\n\n@n\nn\n+\n!\n";
    let (device, cpu) = device_and_cpu(&mut counter, data, 1 << 10);
    assert_eq!(device, cpu);
    assert_eq!((device.gc, device.n, device.quality[b'~' as usize]), (1, 1, 1));
    // Nothing at all: zero counts, no chunk sent.
    let (nothing, _) = device_and_cpu(&mut counter, b"", 1 << 10);
    assert_eq!(nothing, LetterCounts::default());
}

#[test]
fn fasta_line_breaks_count_as_nothing_and_take_starts_again() {
    let Some(adapter) = adapter() else { return };
    // Not a multiple of 16: rounded down (a half not on a mapping boundary would panic).
    let mut counter = LetterCounter::new(adapter, 1000).unwrap();
    let mut fasta = b">a\n".to_vec();
    for i in 0..5_000u32 {
        fasta.extend_from_slice(if i % 7 == 0 { b"GGCCNN--..\r\n" } else { b"ACGTACGTAC\n" });
    }
    let (first, cpu) = device_and_cpu(&mut counter, &fasta, 1 << 12);
    assert_eq!(first, cpu);
    let (second, _) = device_and_cpu(&mut counter, &fasta, 1 << 12);
    assert_eq!(second, first, "take() returned the counts and started from zero");
}
