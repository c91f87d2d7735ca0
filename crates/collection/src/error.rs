//! The crate's one error type.

use std::io;

/// Everything that can go wrong while reading or writing a collection archive.
///
/// Messages say what is wrong and where (stream name, part index, byte offset); the caller
/// prefixes the archive's path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error from the underlying file.
    #[error("I/O error")]
    Io(#[from] io::Error),

    /// The bytes do not follow the format: what was expected and where.
    #[error("{0}")]
    Format(String),

    /// The archive is an AGC archive of a format version this reader does not read.
    #[error("AGC archive format version {major}.{minor} is not supported (only 3.x)")]
    UnsupportedVersion {
        /// Major format version found.
        major: u32,
        /// Minor format version found.
        minor: u32,
    },

    /// No sample of this name.
    #[error("no sample {0:?} in the archive")]
    UnknownSample(String),

    /// No contig of this name (in the sample, if one was given).
    #[error("no contig {contig:?}{}", sample.as_ref().map(|s| format!(" in sample {s:?}")).unwrap_or_default())]
    UnknownContig {
        /// The contig name asked for.
        contig: String,
        /// The sample it was looked up in, if any.
        sample: Option<String>,
    },

    /// A contig name without a sample matches contigs of several samples.
    #[error("contig {contig:?} is in {samples} samples; name one with {contig}@SAMPLE")]
    AmbiguousContig {
        /// The contig name asked for.
        contig: String,
        /// How many samples have it.
        samples: usize,
    },

    /// A range that does not lie inside the contig.
    #[error(
        "range {from}-{to} of contig {contig:?} is past its end (length {length}; ranges are 0-based, inclusive)"
    )]
    RangePastEnd {
        /// The contig.
        contig: String,
        /// First position asked for (0-based).
        from: u64,
        /// Last position asked for (0-based, inclusive).
        to: u64,
        /// The contig's length.
        length: u64,
    },

    /// An input FASTA could not be read (the seqio error names file, line, byte, record).
    #[error(transparent)]
    Sequence(#[from] seqflow_seqio::Error),

    /// An input is unusable for an archive: what is wrong and where (file, line, record).
    #[error("{0}")]
    Input(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A format error with the given message.
    pub(crate) fn format(message: impl Into<String>) -> Error {
        Error::Format(message.into())
    }
}
