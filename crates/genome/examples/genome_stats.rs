//! Loads a FASTA file into a `Genome` and prints its size, memory and load/scan times.
//!
//! `cargo run --release -p seqflow-genome --example genome_stats -- GENOME.fa[.gz|.zst] [K]`

use std::time::Instant;

use seqflow_genome::{Bitmask, Genome};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: genome_stats GENOME.fa [K]")?;
    let k: usize = args.next().map_or(Ok(16), |s| s.parse())?;
    let t = Instant::now();
    let genome = Genome::from_fasta(&path)?;
    let load = t.elapsed();
    let t = Instant::now();
    let (mut n, mut xor) = (0u64, 0u64);
    for (_, kmer) in genome.kmers(0..genome.len(), k) {
        n += 1;
        xor ^= seqflow_genome::canonical(kmer, k);
    }
    let scan = t.elapsed();
    let mask = Bitmask::for_genome(&genome);
    println!("bases\t{}", genome.len());
    println!("acgt_bases\t{}", genome.acgt_len());
    println!("contigs\t{}", genome.contigs().len());
    println!("n_runs\t{}", genome.n_runs().len());
    println!("genome_heap_bytes\t{}", genome.heap_bytes());
    println!("bitmask_bytes\t{}", mask.len().div_ceil(64) * 8);
    println!("load_seconds\t{:.3}", load.as_secs_f64());
    println!("kmers_k{k}\t{n}\t(xor {xor:x})");
    println!("kmer_scan_seconds\t{:.3}", scan.as_secs_f64());
    Ok(())
}
