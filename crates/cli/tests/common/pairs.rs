//! A seeded generator of paired-end FASTQ with the features QC must see: inserts shorter than
//! the reads (adapter read-through), duplicated pairs, an overrepresented sequence, N bases
//! and a quality decline along the read.

/// Adapter read after a short insert in read 1 and in read 2 (Illumina TruSeq).
pub(crate) const ADAPTER1: &[u8] = b"AGATCGGAAGAGCACACGTCTGAACTCCAGTCACGGATCTCGTATGCCGTCTTCTGCTTG";
/// Adapter read after a short insert in read 2.
pub(crate) const ADAPTER2: &[u8] = b"AGATCGGAAGAGCGTCGTGTAGGGAAAGAGTGTAGATCTCGGTGGTCGCCGTATCATT";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn revcomp(seq: &[u8]) -> Vec<u8> {
    seq.iter()
        .rev()
        .map(|&b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            b'T' => b'A',
            other => other,
        })
        .collect()
}

/// `pairs` read pairs of `len` bases: the two FASTQ texts (read 1, read 2).
pub(crate) fn paired_fastq(seed: u64, pairs: usize, len: usize) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng(seed);
    let genome: Vec<u8> = (0..50_000).map(|_| b"ACGT"[rng.below(4) as usize]).collect();
    let overrepresented: Vec<u8> = (0..len).map(|_| b"ACGT"[rng.below(4) as usize]).collect();
    let (mut out1, mut out2) = (Vec::new(), Vec::new());
    let mut previous: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for i in 0..pairs {
        let roll = rng.below(100);
        let (mut r1, mut r2) = if roll < 3 && !previous.is_empty() {
            previous[rng.below(previous.len() as u64) as usize].clone()
        } else if roll < 5 {
            (overrepresented.clone(), revcomp(&overrepresented))
        } else {
            let insert_len = 60 + rng.below(300) as usize;
            let start = rng.below((genome.len() - insert_len) as u64) as usize;
            let insert = &genome[start..start + insert_len];
            let mut r1 = insert.to_vec();
            r1.extend_from_slice(ADAPTER1);
            let mut r2 = revcomp(insert);
            r2.extend_from_slice(ADAPTER2);
            while r1.len() < len {
                r1.push(b"ACGT"[rng.below(4) as usize]);
            }
            while r2.len() < len {
                r2.push(b"ACGT"[rng.below(4) as usize]);
            }
            r1.truncate(len);
            r2.truncate(len);
            (r1, r2)
        };
        if previous.len() < 1000 {
            previous.push((r1.clone(), r2.clone()));
        }
        for read in [&mut r1, &mut r2] {
            if rng.below(20) == 0 {
                let at = rng.below(len as u64) as usize;
                read[at] = b'N';
            }
        }
        for (n, (out, read)) in [(&mut out1, &r1), (&mut out2, &r2)].into_iter().enumerate() {
            let qual: Vec<u8> = (0..read.len())
                .map(|p| {
                    let top = 41u64.saturating_sub(p as u64 * 15 / len as u64);
                    let q = if read[p] == b'N' { 2 } else { top - rng.below(top.min(20)) };
                    33 + q as u8
                })
                .collect();
            out.extend_from_slice(format!("@pair{i}/{} extra\n", n + 1).as_bytes());
            out.extend_from_slice(read);
            out.extend_from_slice(b"\n+\n");
            out.extend_from_slice(&qual);
            out.push(b'\n');
        }
    }
    (out1, out2)
}
