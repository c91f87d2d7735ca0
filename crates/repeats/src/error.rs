//! [`Error`]: everything that can stop a repeat-detection run.

use seqflow_pipeline::PipelineError;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The seed index could not be built.
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Writing an output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The FASTA records given to [`crate::output::MaskedWriter`] are not those the genome was
    /// read from.
    #[error("the genome's FASTA changed during the run: {0}")]
    InputChanged(String),
    /// A pipeline stage panicked or could not start (a bug, reported rather than aborting).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Unwraps the error a pipeline stage returned, or describes a panic.
    pub(crate) fn from_pipeline(error: PipelineError<Error>) -> Error {
        let described = error.to_string();
        error.into_inner().unwrap_or(Error::Internal(described))
    }
}
