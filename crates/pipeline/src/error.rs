//! Errors of the pipeline and of its blocking building blocks.

use std::any::Any;
use std::fmt;
use std::io;

/// Returned by a blocking operation when the pipeline (or the queue) was cancelled: the caller
/// should stop producing and return.
///
/// It converts into [`std::io::Error`] (kind [`Interrupted`](io::ErrorKind::Interrupted)) and,
/// being a `std::error::Error + Send + Sync`, into `anyhow::Error`, so `emit.send(item)?` works in
/// sources returning either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pipeline cancelled")
    }
}

impl std::error::Error for Cancelled {}

impl From<Cancelled> for io::Error {
    fn from(err: Cancelled) -> Self {
        io::Error::new(io::ErrorKind::Interrupted, err)
    }
}

/// The stage of a pipeline an error comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// The source closure (on its own thread).
    Source,
    /// The worker with this index (its `init` or `work` closure).
    Worker(usize),
    /// The sink closure (on the calling thread).
    Sink,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Source => f.write_str("source"),
            Stage::Worker(index) => write!(f, "worker {index}"),
            Stage::Sink => f.write_str("sink"),
        }
    }
}

/// The first failure of a pipeline run, with the stage it came from.
///
/// Only the first error is returned; errors that happen while the pipeline shuts down because of
/// it are logged with `tracing::debug!`.
#[derive(Debug)]
#[non_exhaustive]
pub enum PipelineError<E> {
    /// The source returned an error.
    Source(E),
    /// A worker's `work` closure returned an error.
    Worker {
        /// Index of the worker (`0..workers`).
        index: usize,
        /// The error it returned.
        error: E,
    },
    /// The sink returned an error.
    Sink(E),
    /// A closure panicked; the panic was caught and the pipeline cancelled.
    Panic {
        /// Where the panic happened.
        stage: Stage,
        /// The panic message (or a placeholder when the payload is not a string).
        message: String,
    },
    /// A pipeline thread could not be started.
    Spawn(io::Error),
}

impl<E> PipelineError<E> {
    /// The stage the error comes from, or `None` for [`Spawn`](Self::Spawn).
    pub fn stage(&self) -> Option<Stage> {
        match self {
            PipelineError::Source(_) => Some(Stage::Source),
            PipelineError::Worker { index, .. } => Some(Stage::Worker(*index)),
            PipelineError::Sink(_) => Some(Stage::Sink),
            PipelineError::Panic { stage, .. } => Some(*stage),
            PipelineError::Spawn(_) => None,
        }
    }

    /// The error returned by a user closure, if this is one.
    pub fn into_inner(self) -> Option<E> {
        match self {
            PipelineError::Source(e) | PipelineError::Sink(e) => Some(e),
            PipelineError::Worker { error, .. } => Some(error),
            PipelineError::Panic { .. } | PipelineError::Spawn(_) => None,
        }
    }

    pub(crate) fn panic(stage: Stage, payload: &(dyn Any + Send)) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_owned()
        };
        PipelineError::Panic { stage, message }
    }
}

/// The alternate form (`{:#}`) is passed on to the closure's error, so an error that prints its
/// causes that way (an `anyhow::Error`) keeps them: `pipeline worker 0 failed: out.fa: write
/// failed: No space left on device (os error 28)`.
impl<E: fmt::Display> fmt::Display for PipelineError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = |f: &mut fmt::Formatter<'_>, prefix: fmt::Arguments<'_>, e: &E| {
            if f.alternate() { write!(f, "{prefix}: {e:#}") } else { write!(f, "{prefix}: {e}") }
        };
        match self {
            PipelineError::Source(e) => inner(f, format_args!("pipeline source failed"), e),
            PipelineError::Worker { index, error } => {
                inner(f, format_args!("pipeline worker {index} failed"), error)
            }
            PipelineError::Sink(e) => inner(f, format_args!("pipeline sink failed"), e),
            PipelineError::Panic { stage, message } => {
                write!(f, "pipeline {stage} panicked: {message}")
            }
            PipelineError::Spawn(e) => write!(f, "could not start a pipeline thread: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for PipelineError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PipelineError::Source(e) | PipelineError::Sink(e) => Some(e),
            PipelineError::Worker { error, .. } => Some(error),
            PipelineError::Spawn(e) => Some(e),
            PipelineError::Panic { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_context() {
        let e: PipelineError<io::Error> =
            PipelineError::Worker { index: 3, error: io::Error::other("boom") };
        assert_eq!(e.to_string(), "pipeline worker 3 failed: boom");
        assert_eq!(e.stage(), Some(Stage::Worker(3)));
        assert!(std::error::Error::source(&e).is_some());
        let p = PipelineError::<io::Error>::panic(Stage::Sink, &"oops");
        assert_eq!(p.to_string(), "pipeline sink panicked: oops");
        let io: io::Error = Cancelled.into();
        assert_eq!(io.kind(), io::ErrorKind::Interrupted);
    }

    /// An error that shows its causes only in the alternate form.
    struct Chained;

    impl fmt::Display for Chained {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if f.alternate() {
                write!(f, "write failed: disk full")
            } else {
                write!(f, "write failed")
            }
        }
    }

    #[test]
    fn the_alternate_form_reaches_the_closure_error() {
        let e = PipelineError::Worker { index: 0, error: Chained };
        assert_eq!(e.to_string(), "pipeline worker 0 failed: write failed");
        assert_eq!(format!("{e:#}"), "pipeline worker 0 failed: write failed: disk full");
        assert_eq!(
            format!("{:#}", PipelineError::Sink(Chained)),
            "pipeline sink failed: write failed: disk full"
        );
    }
}
