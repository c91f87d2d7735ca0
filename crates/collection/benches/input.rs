//! Single-threaded throughput of `ContigReader` (FASTA → base codes, case dropped) on a
//! seeded random genome in 60-column lines, with some lowercase runs and N runs (bytes/s).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqflow_collection::create::input::ContigReader;

fn genome_fasta(bases: usize) -> Vec<u8> {
    let mut state = 0x5EED_u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        state >> 33
    };
    let mut seq: Vec<u8> = (0..bases).map(|_| b"ACGT"[(next() & 3) as usize]).collect();
    let mut pos = 0;
    while pos + 5_000 < seq.len() {
        let run = 200 + (next() % 2_000) as usize;
        if next() % 8 == 0 {
            seq[pos..pos + run].fill(b'N');
        } else {
            seq[pos..pos + run].make_ascii_lowercase();
        }
        pos += run + (next() % 20_000) as usize;
    }
    let mut text = b">chr1 simulated\n".to_vec();
    for line in seq.chunks(60) {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    text
}

fn read_codes(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("genome.fa");
    let fasta = genome_fasta(32 << 20);
    std::fs::write(&path, &fasta).expect("writing the FASTA");
    let mut group = c.benchmark_group("contig_reader");
    group.throughput(Throughput::Bytes(fasta.len() as u64));
    group.sample_size(20);
    group.bench_function("fasta_60col_32mb", |b| {
        b.iter(|| {
            let mut reader = ContigReader::open(&path).expect("open");
            let mut bases = 0;
            while let Some(contig) = reader.next_contig().expect("read") {
                bases += contig.codes.len();
            }
            bases
        })
    });
    group.finish();
}

criterion_group!(benches, read_codes);
criterion_main!(benches);
