//! Seeded, reproducible generators of realistic sequencing data for tests and benchmarks.
//!
//! - [`FastqSimulator`] / [`write_fastq`]: Illumina-like reads sampled from both strands of a
//!   random genome, with substitution errors, `N` calls, CASAVA 1.8 headers
//!   (`@A00953:153:HVJ5VDSXY:2:1101:1234:1000 1:N:0:ACGTACGT+TTGACCAA`) and position-dependent
//!   Phred+33 qualities (high at the 5' end, declining toward the 3' end, with noise, dips and
//!   occasional `#` tails), so Q20/Q30/mean-quality statistics are non-trivial.
//! - [`write_fasta`]: multi-record FASTA with wrapped lines, soft-masked (lowercase) runs and
//!   `N` gaps.
//! - [`write_repeat_genome`]: a genome with planted interspersed repeat families (diverged,
//!   truncated, nested, both strands), tandem arrays and low-complexity decoys, with a truth BED
//!   and the consensus library; [`evaluate()`] scores a repeat detector against that truth.
//! - [`Pangenome`]: haplotypes of a real base genome along a seeded coalescent tree, with
//!   SNPs, short indels, structural variants, IUPAC codes and `N` runs, and a truth table of
//!   the events ([`pangenome`]).
//!
//! The same configuration produces byte-identical output on every run and platform: the random
//! generator (xoshiro256++) is part of this crate, not a dependency whose stream could change.
//! Output goes to any [`std::io::Write`] in 1 MiB blocks; generation runs at several hundred
//! MB/s on one core.
//!
//! ```
//! use seqflow_sim::{Amount, FastqConfig};
//!
//! let mut config = FastqConfig::new(42);
//! config.genome_length = 100_000;
//! config.amount = Amount::Reads(1_000);
//! let mut fastq = Vec::new();
//! let stats = seqflow_sim::write_fastq(&config, &mut fastq)?;
//! assert_eq!(stats.records, 1_000);
//! assert_eq!(stats.bytes, fastq.len() as u64);
//! assert!(stats.q30_fraction() > 0.5 && stats.q30_fraction() < 1.0);
//! # Ok::<(), seqflow_sim::Error>(())
//! ```

mod error;
pub mod evaluate;
mod fasta;
mod fastq;
mod genome;
mod header;
pub mod pangenome;
mod quality;
mod repeats;
mod rng;

pub use error::Error;
pub use evaluate::{
    AlignmentMatch, EvaluateOptions, Evaluation, FamilyMatch, best_strand_identity, evaluate,
    local_identity,
};
pub use fasta::{FastaConfig, FastaStats, RunSpec, write_fasta};
pub use fastq::{Amount, FastqConfig, FastqSimulator, FastqStats, write_fastq};
pub use pangenome::{BaseGenome, HaplotypeStats, Pangenome, PangenomeConfig};
pub use repeats::{
    MAX_DIVERGENCE, PlantedFamily, RepeatGenomeConfig, RepeatLabel, RepeatTruth, TruthElement,
    write_repeat_genome,
};
