//! The one error type of this crate.

use std::ops::Range;

/// Errors from building a [`Genome`](crate::Genome) or claiming a [`Bitmask`](crate::Bitmask)
/// range.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A sequence holds a letter that is neither ACGT, N nor an IUPAC ambiguity code.
    #[error(
        "contig '{contig}', position {position}: unknown letter {letter:?} (expected ACGT, N or IUPAC codes)"
    )]
    UnknownLetter {
        /// Name of the contig.
        contig: String,
        /// 1-based position of the letter in the contig.
        position: u64,
        /// The offending byte, shown escaped.
        letter: char,
    },
    /// Two contigs share a name.
    #[error("duplicate contig name '{name}'")]
    DuplicateContig {
        /// The repeated name.
        name: String,
    },
    /// The genome file could not be read or parsed.
    #[error(transparent)]
    Read(#[from] seqflow_seqio::Error),
    /// A record of a genome file was rejected by the builder.
    #[error("{path}: line {line}: {cause}")]
    Fasta {
        /// Display name of the file.
        path: String,
        /// 1-based line of the offending letter (of the record's header for other causes).
        line: u64,
        /// Why the record was rejected (it names the contig). Part of the message, not an
        /// error source, so chains print it once.
        cause: Box<Error>,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a [`Bitmask`](crate::Bitmask) claim failed. Nothing is left claimed by a failed call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// Some base of the range was already claimed (or masked).
    #[error("position {position} is already claimed")]
    Conflict {
        /// The first already-claimed position that was seen (global coordinate).
        position: u64,
    },
    /// The range covers bases of two or more contigs; use
    /// [`Bitmask::claim_range_spanning`](crate::Bitmask::claim_range_spanning) to allow that.
    #[error("range {}..{} spans more than one contig", range.start, range.end)]
    SpansContigs {
        /// The requested range (global coordinates).
        range: Range<u64>,
    },
    /// The range reaches past the end of the bitmask (or of the contig, for contig-local claims).
    #[error("range {}..{} is out of bounds (length {len})", range.start, range.end)]
    OutOfBounds {
        /// The requested range.
        range: Range<u64>,
        /// Length of the bitmask or contig.
        len: u64,
    },
}
