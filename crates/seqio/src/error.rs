//! The one error type of this crate: every failure says which input, and where in it.

use std::fmt;
use std::io;
use std::sync::Arc;

/// Where in an input a problem was found.
///
/// Lines are 1-based; byte offsets are 0-based and count decompressed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Display name of the input (a path, or `-` for standard input).
    pub source: Arc<str>,
    /// 1-based line number of the offending line (or of the record's header line).
    pub line: u64,
    /// 0-based byte offset in the decompressed stream.
    pub byte: u64,
    /// Identifier of the record involved, when one could be read.
    pub record: Option<String>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: line {}", self.source, self.line)?;
        if let Some(record) = &self.record {
            write!(f, ", record '{record}'")?;
        }
        write!(f, " (byte {})", self.byte)
    }
}

/// Errors from reading or writing FASTA/FASTQ.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input could not be opened or read.
    #[error("{source_name}: {error}")]
    Io {
        /// Display name of the input.
        source_name: Arc<str>,
        /// The underlying I/O error (shown in the message, so not repeated as a source).
        error: io::Error,
    },
    /// The input is malformed at `position`.
    #[error("{position}: {message}")]
    Parse {
        /// Where the problem is.
        position: Position,
        /// What is wrong, in one line.
        message: String,
    },
    /// A record is longer than the configured limit; raised instead of exhausting memory.
    #[error("{position}: record longer than the limit of {limit} bytes (raise --max-record-len)")]
    RecordTooLong {
        /// Where the record starts.
        position: Position,
        /// The limit in bytes.
        limit: usize,
    },
    /// The input is compressed with a method this crate does not read.
    #[error("{source_name}: unsupported compression ({method}); use gzip, BGZF or zstd")]
    UnsupportedCompression {
        /// Display name of the input.
        source_name: Arc<str>,
        /// The detected method.
        method: &'static str,
    },
}

impl Error {
    /// Wraps an I/O error with the name of the input it came from.
    pub fn io(source_name: &Arc<str>, error: io::Error) -> Self {
        Error::Io { source_name: Arc::clone(source_name), error }
    }

    /// Builds a parse error at `position`.
    pub fn parse(position: Position, message: impl Into<String>) -> Self {
        Error::Parse { position, message: message.into() }
    }

    /// The position of a parse or size error, if this error has one.
    pub fn position(&self) -> Option<&Position> {
        match self {
            Error::Parse { position, .. } | Error::RecordTooLong { position, .. } => Some(position),
            _ => None,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
