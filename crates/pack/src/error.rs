//! [`Error`]: everything that can stop a pack, unpack, cat or verify run.

use std::io;

use seqflow_pipeline::PipelineError;

/// An error of a caller-supplied key loader (see [`crate::PackedInput::open_with`]).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a run failed.
///
/// Messages name the file and, for damaged data, the frame or block and its byte offset
/// (`data.zst: frame 17 at byte 18874368: checksum mismatch …`): the file name is an
/// [`Error::In`] around the cause, so that `source()` walks from the file to the fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The error below happened in this file (or `-` for standard input).
    #[error("{name}")]
    In {
        /// The file name as the caller gave it.
        name: String,
        /// What went wrong in it.
        #[source]
        source: Box<Error>,
    },
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The container (zstd seekable, BGZF, `.gzi`) is malformed or its data is damaged.
    #[error(transparent)]
    Container(#[from] seqflow_container::Error),
    /// Crypt4GH encryption or decryption failed (wrong key, damaged segment, …).
    #[error(transparent)]
    Crypt4gh(#[from] seqflow_crypt4gh::Error),
    /// The caller's key loader failed.
    #[error(transparent)]
    Key(BoxError),
    /// The input is encrypted and no secret key was given.
    #[error("is Crypt4GH-encrypted; a secret key is needed")]
    SecretKeyNeeded,
    /// The input is not something these pipelines read (empty, unknown magic bytes, a pipe
    /// where a file is needed).
    #[error("{0}")]
    NotPacked(String),
    /// The decoded data does not match what the file records about it (its size, its
    /// SHA-256), or the file is incomplete in a way no frame check notices.
    #[error("{0}")]
    Corrupt(String),
    /// An option is out of range (level, chunk size, sender key without recipients).
    #[error("{0}")]
    InvalidOptions(String),
    /// A byte range of [`crate::PackedInput::cat`] starts past the end of the original.
    #[error("range starts past the end of the original, which has {size} bytes")]
    RangeStart {
        /// Size of the original.
        size: u64,
    },
    /// A pipeline stage panicked or could not start (a bug, reported rather than aborting).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The same error, said to have happened in the file `name`.
    pub fn in_file(self, name: impl Into<String>) -> Error {
        Error::In { name: name.into(), source: Box::new(self) }
    }

    /// The error under the file names of [`Error::In`].
    pub fn root(&self) -> &Error {
        match self {
            Error::In { source, .. } => source.root(),
            other => other,
        }
    }

    /// Whether the cause is a closed output (`seqflow unpack -c … | head`), which a command
    /// line tool ends quietly on.
    pub fn is_broken_pipe(&self) -> bool {
        match self.root() {
            Error::Io(e) => e.kind() == io::ErrorKind::BrokenPipe,
            Error::Container(seqflow_container::Error::Io(e)) => {
                e.kind() == io::ErrorKind::BrokenPipe
            }
            _ => false,
        }
    }

    /// Unwraps the error a pipeline stage returned, or describes a panic.
    pub(crate) fn from_pipeline(error: PipelineError<Error>) -> Error {
        match error {
            PipelineError::Panic { stage, message } => {
                Error::Internal(format!("internal error: {stage} panicked: {message}"))
            }
            other => other
                .into_inner()
                .unwrap_or_else(|| Error::Internal("could not start the pipeline".into())),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Names the file an error happened in, as `anyhow`'s `with_context` would.
pub(crate) trait InFile<T> {
    /// Wraps the error in [`Error::In`] with `name`.
    fn in_file(self, name: &str) -> Result<T>;
}

impl<T, E: Into<Error>> InFile<T> for std::result::Result<T, E> {
    fn in_file(self, name: &str) -> Result<T> {
        self.map_err(|e| e.into().in_file(name))
    }
}
