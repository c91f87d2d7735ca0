//! A genome held as one 2-bit packed sequence, and a bitmask of claimed bases.
//!
//! [`Genome`] concatenates every contig of an assembly into one 2-bit sequence (about 0.25 byte
//! per base) with an N-run table and a contig table; [`Genome::contig_of`] is a binary search
//! and [`Genome::kmer_at`] refuses k-mers that cross an N run or a contig end.
//!
//! [`Bitmask`] keeps one bit per base (0.125 byte per base) recording which bases are already
//! explained. [`Bitmask::claim_range`] is all-or-nothing: it either claims every base of a range
//! or, on meeting a claimed base, rolls back exactly the bits it set. The returned
//! [`ClaimGuard`] releases the range when dropped, also while a panic unwinds, unless made
//! permanent with [`ClaimGuard::keep`].
//!
//! ```
//! use seqflow_genome::{Bitmask, ClaimError, GenomeBuilder};
//! let mut builder = GenomeBuilder::new();
//! builder.push_contig("chr1", b"ACGTACGTAC")?;
//! builder.push_contig("chr2", b"GGGGCCCC")?;
//! let genome = builder.build();
//! let mask = Bitmask::for_genome(&genome);
//!
//! let guard = mask.claim(&genome, 0, 2..6)?; // chr1:2..6
//! assert!(matches!(mask.claim_range(4..8), Err(ClaimError::Conflict { position: 4 })));
//! assert!(matches!(mask.claim_range(8..12), Err(ClaimError::SpansContigs { .. })));
//! drop(guard);
//! assert!(mask.is_range_free(0..genome.len()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bitmask;
mod error;
mod genome;
mod kmer;
mod sync;

pub use bitmask::{Bitmask, ClaimGuard};
pub use error::{ClaimError, Error, Result};
pub use genome::{BASES, Contig, Genome, GenomeBuilder, Kmers, N_CODE, NRun};
pub use kmer::{MAX_K, canonical, revcomp};
