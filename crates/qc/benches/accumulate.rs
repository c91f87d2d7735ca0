//! Throughput of the statistics consumer on one batch of simulated FASTQ (bytes of input/s).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqflow_qc::Accumulator;
use seqflow_qc::report::{KnownAdapters, MateStats, QcAccumulator, fastq_bytes_valid};
use seqflow_seqio::{Batch, Reader, ReaderOptions};

fn simulated_batch() -> Batch {
    let mut fastq = Vec::new();
    let mut config = seqflow_sim::FastqConfig::new(42);
    config.amount = seqflow_sim::Amount::Bytes(4 << 20);
    seqflow_sim::write_fastq(&config, &mut fastq).expect("simulating reads");
    let options = ReaderOptions { batch_size: 4 << 20, ..ReaderOptions::default() };
    let mut reader = Reader::new(std::io::Cursor::new(fastq), "sim.fq", options).unwrap();
    let mut batch = Batch::default();
    reader.read_batch(&mut batch).unwrap();
    batch
}

fn accumulate(c: &mut Criterion) {
    let batch = simulated_batch();
    let mut group = c.benchmark_group("stats");
    group.throughput(Throughput::Bytes(batch.data_len() as u64));
    group.bench_function("add_batch", |b| {
        let mut acc = Accumulator::default();
        b.iter(|| acc.add_batch(&batch));
    });
    group.finish();
}

/// The `qc` consumers, whole and one by one, on the same batch.
fn qc(c: &mut Criterion) {
    let batch = simulated_batch();
    let reads: Vec<_> = batch
        .records()
        .map(|r| (r.id().to_vec(), r.seq_raw().to_vec(), r.qual().unwrap_or_default().to_vec()))
        .collect();
    let mut group = c.benchmark_group("qc");
    group.throughput(Throughput::Bytes(batch.data_len() as u64));
    group.bench_function("add_read", |b| {
        let mut acc = QcAccumulator::new(false);
        b.iter(|| reads.iter().filter(|(id, seq, qual)| acc.add_read(id, seq, qual)).count());
    });
    group.bench_function("mate_add", |b| {
        let mut mate = MateStats::default();
        // Name hashes spread like real ones, so that the overrepresented sample thins.
        let hash = |i: usize| (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        b.iter(|| {
            for (i, (_, seq, qual)) in reads.iter().enumerate() {
                mate.add(seq, qual, hash(i));
            }
        });
    });
    group.bench_function("known_adapters", |b| {
        let mut adapters = KnownAdapters::default();
        b.iter(|| reads.iter().for_each(|(_, seq, _)| adapters.add(seq)));
    });
    group.bench_function("valid", |b| {
        b.iter(|| reads.iter().filter(|(_, seq, qual)| fastq_bytes_valid(seq, qual)).count());
    });
    group.finish();
}

criterion_group!(benches, accumulate, qc);
criterion_main!(benches);
