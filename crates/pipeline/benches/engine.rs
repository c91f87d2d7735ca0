//! Benchmarks of the pipeline engine.
//!
//! - `overhead`: per-item cost of the engine for tiny items (a `u64` doubled), against the same
//!   work in a plain loop. Criterion reports elements/s; ns/item = 1e9 / that.
//! - `scaling`: a CPU-bound map of coarse items (~67 µs each) with 1 and 2 workers; the ratio of
//!   the medians is the speed-up.
//!
//! Run: `cargo bench -p seqflow-pipeline --bench engine -- --warm-up-time 1 --measurement-time 3`

use std::convert::Infallible;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use seqflow_pipeline::{Emitter, Pipeline};

const TINY_ITEMS: u64 = 100_000;

fn tiny_source(emit: &mut Emitter<u64>) -> Result<(), Infallible> {
    for i in 0..TINY_ITEMS {
        if emit.send(black_box(i)).is_err() {
            break;
        }
    }
    Ok(())
}

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("overhead");
    group.throughput(Throughput::Elements(TINY_ITEMS));
    group.sample_size(20);
    group.bench_function("plain_loop", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for i in 0..TINY_ITEMS {
                sum = sum.wrapping_add(black_box(black_box(i).wrapping_mul(2)));
            }
            sum
        })
    });
    for (name, workers, ordered) in [
        ("unordered_w1", 1, false),
        ("ordered_w1", 1, true),
        ("unordered_w2", 2, false),
        ("ordered_w2", 2, true),
    ] {
        let pipeline = Pipeline::builder().workers(workers).channel_depth(64).build();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut sum = 0u64;
                let work = |_: &mut (), i: u64| Ok::<_, Infallible>(i.wrapping_mul(2));
                let sink = |v: u64| {
                    sum = sum.wrapping_add(black_box(v));
                    Ok(())
                };
                let outcome = if ordered {
                    pipeline.run_ordered(tiny_source, |_| (), work, sink)
                } else {
                    pipeline.run_unordered(tiny_source, |_| (), work, sink)
                };
                outcome.unwrap();
                sum
            })
        });
    }
    group.finish();
}

const COARSE_ITEMS: u64 = 400;
/// Mixing rounds per item: about 67 µs on the project machine.
const ROUNDS: u64 = 40_000;

/// A CPU-bound, allocation-free function of `seed`.
fn coarse_work(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..black_box(ROUNDS) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    group.throughput(Throughput::Elements(COARSE_ITEMS));
    group.sample_size(20);
    group.bench_function("plain_loop", |b| {
        b.iter(|| (0..COARSE_ITEMS).map(coarse_work).fold(0, u64::wrapping_add))
    });
    // What the machine gives without the engine: two threads, each a fixed half of the items.
    group.bench_function("two_threads_static_split", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let halves = [0..COARSE_ITEMS / 2, COARSE_ITEMS / 2..COARSE_ITEMS];
                let handles = halves.map(|range| {
                    s.spawn(move || range.map(coarse_work).fold(0, u64::wrapping_add))
                });
                handles.into_iter().map(|h| h.join().unwrap()).fold(0, u64::wrapping_add)
            })
        })
    });
    for workers in [1, 2] {
        let pipeline = Pipeline::builder().workers(workers).channel_depth(16).build();
        group.bench_with_input(BenchmarkId::new("ordered", workers), &workers, |b, _| {
            b.iter(|| {
                let mut sum = 0u64;
                pipeline
                    .run_ordered(
                        |emit: &mut Emitter<u64>| -> Result<(), Infallible> {
                            for i in 0..COARSE_ITEMS {
                                if emit.send(i).is_err() {
                                    break;
                                }
                            }
                            Ok(())
                        },
                        |_| (),
                        |_, i| Ok(coarse_work(i)),
                        |v| {
                            sum = sum.wrapping_add(v);
                            Ok(())
                        },
                    )
                    .unwrap();
                sum
            })
        });
    }
    group.finish();
}

criterion_group!(benches, overhead, scaling);
criterion_main!(benches);
