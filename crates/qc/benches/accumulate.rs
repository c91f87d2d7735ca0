//! Throughput of the statistics consumer on one batch of simulated FASTQ (bytes of input/s).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqflow_qc::Accumulator;
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

criterion_group!(benches, accumulate);
criterion_main!(benches);
