//! Single-threaded parse throughput of the batched reader on in-memory input (bytes/s).

use std::io::Read;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqflow_seqio::{Batch, Reader, ReaderOptions};

fn simulated(bytes: u64) -> Vec<u8> {
    let mut fastq = Vec::new();
    let mut config = seqflow_sim::FastqConfig::new(7);
    config.amount = seqflow_sim::Amount::Bytes(bytes);
    seqflow_sim::write_fastq(&config, &mut fastq).expect("simulating reads");
    fastq
}

fn fasta(bytes: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(bytes + 100);
    let line = [b"ACGTTGCAAC".as_slice(); 6].concat();
    let mut record = 0;
    while text.len() < bytes {
        text.extend_from_slice(format!(">contig{record}\n").as_bytes());
        for _ in 0..2_000 {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        record += 1;
    }
    text
}

/// Reads a shared buffer without copying it first (the reader wants a `'static` input).
struct Shared(Arc<Vec<u8>>, usize);

impl Read for Shared {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = (&self.0[self.1..]).read(out)?;
        self.1 += n;
        Ok(n)
    }
}

fn parse_all(data: &Arc<Vec<u8>>) -> usize {
    let input = Shared(Arc::clone(data), 0);
    let mut reader = Reader::new(input, "bench", ReaderOptions::default()).unwrap();
    let mut batch = Batch::default();
    let mut letters = 0;
    while reader.read_batch(&mut batch).unwrap() > 0 {
        letters += batch.records().map(|r| r.seq_len()).sum::<usize>();
    }
    letters
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, data) in [("fastq_150bp", simulated(64 << 20)), ("fasta_60col", fasta(64 << 20))] {
        let data = Arc::new(data);
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(name, |b| b.iter(|| parse_all(&data)));
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
