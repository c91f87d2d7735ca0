//! Throughput of Crypt4GH segment encryption and decryption on one core (plain bytes/s),
//! 16 full 64 KiB segments per iteration.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqflow_crypt4gh::{CIPHER_SEGMENT_SIZE, SEGMENT_SIZE, SegmentCipher};

const SEGMENTS: usize = 16;

fn segments(c: &mut Criterion) {
    let plain: Vec<u8> = (0..SEGMENT_SIZE * SEGMENTS).map(|i| (i * 31 % 251) as u8).collect();
    let cipher = SegmentCipher::new(&[0x5a; 32]);
    let mut sealed = Vec::with_capacity(CIPHER_SEGMENT_SIZE * SEGMENTS);
    for chunk in plain.chunks(SEGMENT_SIZE) {
        cipher.encrypt_segment(chunk, &mut sealed);
    }

    let mut group = c.benchmark_group("crypt4gh_segments");
    group.throughput(Throughput::Bytes(plain.len() as u64));
    group.bench_function("encrypt_64KiB", |b| {
        let mut out = Vec::with_capacity(sealed.len());
        b.iter(|| {
            out.clear();
            for chunk in plain.chunks(SEGMENT_SIZE) {
                cipher.encrypt_segment(black_box(chunk), &mut out);
            }
            black_box(&out);
        });
    });
    group.bench_function("decrypt_64KiB", |b| {
        let mut out = Vec::with_capacity(plain.len());
        b.iter(|| {
            out.clear();
            for (i, segment) in sealed.chunks(CIPHER_SEGMENT_SIZE).enumerate() {
                cipher
                    .decrypt_segment_at(i as u64, black_box(segment), &mut out)
                    .expect("authentic segment");
            }
            black_box(&out);
        });
    });
    group.finish();
}

criterion_group!(benches, segments);
criterion_main!(benches);
