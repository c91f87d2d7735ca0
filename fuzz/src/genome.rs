//! `genome_builder`: FASTA (or FASTQ) text through the batched reader into the 2-bit genome
//! builder, as `seqflow repeats` loads an assembly.
//!
//! Invariants checked on whatever builds: decoding the genome gives back each record's letters
//! uppercased with non-ACGT letters as `N`; every position's contig is the one whose range
//! holds it; `kmer_at` exists exactly where k bases of ACGT lie inside one contig.

use std::io::Cursor;

use seqflow_genome::GenomeBuilder;
use seqflow_seqio::{Batch, Reader, ReaderOptions};

/// Longest input record considered (keeps each run fast).
const MAX_RECORD: usize = 1 << 16;

/// The target body.
pub fn genome_builder(data: &[u8]) {
    let options = ReaderOptions { max_record_len: MAX_RECORD, ..ReaderOptions::default() };
    let Ok(mut reader) = Reader::new(Cursor::new(data.to_vec()), "fuzz.fa", options) else {
        return;
    };
    let mut builder = GenomeBuilder::new();
    let mut expected: Vec<(String, Vec<u8>)> = Vec::new();
    let mut batch = Batch::default();
    loop {
        match reader.read_batch(&mut batch) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        for record in batch.records() {
            let name = String::from_utf8_lossy(record.id()).into_owned();
            let seq = record.seq();
            if builder.push_contig(&name, &seq).is_ok() {
                let normalised = seq
                    .iter()
                    .map(|b| match b.to_ascii_uppercase() {
                        c @ (b'A' | b'C' | b'G' | b'T') => c,
                        _ => b'N',
                    })
                    .collect();
                expected.push((name, normalised));
            }
        }
    }
    let genome = builder.build();
    assert_eq!(genome.contigs().len(), expected.len());
    let mut start = 0u64;
    for (i, ((name, seq), contig)) in expected.iter().zip(genome.contigs()).enumerate() {
        assert_eq!(&*contig.name, name.as_str());
        assert_eq!(contig.len, seq.len() as u64);
        let range = start..start + seq.len() as u64;
        assert_eq!(&genome.decode(range.clone()), seq, "contig {name}");
        for pos in range.clone().step_by(7) {
            assert_eq!(genome.contig_of(pos), Some(i));
            let k = 1 + (pos % 12) as usize;
            let window = &seq[(pos - start) as usize..];
            let whole = window.len() >= k && window[..k].iter().all(|&b| b != b'N');
            assert_eq!(genome.kmer_at(pos, k).is_some(), whole, "kmer at {pos}, k {k}");
        }
        start = range.end;
    }
    assert_eq!(genome.len(), start);
}
