//! Compressing 1 MiB chunks of simulated FASTQ at level 3: a per-worker reused zstd context
//! against a new context per chunk (the "context reuse" question), plus BGZF and
//! frame decompression for reference. Reports bytes/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqflow_container::{BgzfChunk, BgzfCompressor, FrameCompressor, FrameDecompressor};
use seqflow_sim::{Amount, FastqConfig};

const CHUNK: usize = 1 << 20;
const CHUNKS: usize = 8;

fn fastq() -> Vec<u8> {
    let mut config = FastqConfig::new(7);
    config.amount = Amount::Bytes((CHUNK * CHUNKS) as u64);
    config.genome_length = 1_000_000;
    let mut data = Vec::new();
    seqflow_sim::write_fastq(&config, &mut data).expect("simulated FASTQ");
    data.truncate(CHUNK * CHUNKS);
    assert_eq!(data.len(), CHUNK * CHUNKS, "simulated too little FASTQ");
    data
}

fn frames(c: &mut Criterion) {
    let data = fastq();
    let mut group = c.benchmark_group("zstd-frame-level3-1MiB");
    group.throughput(Throughput::Bytes(data.len() as u64));

    let mut compressor = FrameCompressor::new(3).unwrap();
    let mut out = Vec::new();
    group.bench_function("reused-context", |b| {
        b.iter(|| {
            for chunk in data.chunks(CHUNK) {
                black_box(compressor.compress(chunk, &mut out).unwrap());
            }
        })
    });
    group.bench_function("new-context-per-chunk", |b| {
        b.iter(|| {
            for chunk in data.chunks(CHUNK) {
                black_box(
                    FrameCompressor::compress_with_fresh_context(3, chunk, &mut out).unwrap(),
                );
            }
        })
    });

    // The same comparison with 64 KiB chunks, where context set-up is a larger share.
    const SMALL: usize = 64 << 10;
    group.bench_function("reused-context-64KiB-chunks", |b| {
        b.iter(|| {
            for chunk in data.chunks(SMALL) {
                black_box(compressor.compress(chunk, &mut out).unwrap());
            }
        })
    });
    group.bench_function("new-context-per-chunk-64KiB-chunks", |b| {
        b.iter(|| {
            for chunk in data.chunks(SMALL) {
                black_box(
                    FrameCompressor::compress_with_fresh_context(3, chunk, &mut out).unwrap(),
                );
            }
        })
    });

    let compressed: Vec<_> = data
        .chunks(CHUNK)
        .map(|chunk| {
            let mut frame = Vec::new();
            compressor.compress(chunk, &mut frame).unwrap();
            frame
        })
        .collect();
    let ratio = data.len() as f64 / compressed.iter().map(Vec::len).sum::<usize>() as f64;
    eprintln!("zstd level 3, 1 MiB frames: ratio {ratio:.2}");
    let mut decompressor = FrameDecompressor::new().unwrap();
    group.bench_function("decompress-reused-context", |b| {
        b.iter(|| {
            for frame in &compressed {
                black_box(decompressor.decompress_raw(frame, CHUNK, &mut out).unwrap());
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("bgzf-level6-1MiB");
    group.throughput(Throughput::Bytes(data.len() as u64));
    let mut bgzf = BgzfCompressor::new(6).unwrap();
    let mut blocks = BgzfChunk::new();
    group.bench_function("reused-compressor", |b| {
        b.iter(|| {
            for chunk in data.chunks(CHUNK) {
                bgzf.compress(chunk, &mut blocks).unwrap();
                black_box(&blocks);
            }
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = frames
}
criterion_main!(benches);
