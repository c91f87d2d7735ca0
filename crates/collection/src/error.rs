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
