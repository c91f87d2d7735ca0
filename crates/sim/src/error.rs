//! The crate's error type.

use std::io;

/// What can go wrong while simulating data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of range; nothing was written.
    #[error("invalid simulation setting `{setting}`: {reason}")]
    InvalidConfig {
        /// The name of the offending field, e.g. `read_length`.
        setting: &'static str,
        /// Why the value was rejected.
        reason: String,
    },
    /// An input to the evaluator is malformed.
    #[error("{input} line {line}: {reason}")]
    Parse {
        /// Which input, e.g. `truth BED`.
        input: &'static str,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The base genome could not be read (the message names the file, line and record).
    #[error(transparent)]
    Read(#[from] seqflow_seqio::Error),
    /// The writer failed; output written before the failure may be truncated mid-record.
    #[error("failed to write simulated data")]
    Io(#[from] io::Error),
}

/// Checks that a probability lies in `[0, 1)`, or in `[0, 1]` when `allow_one` is set.
pub(crate) fn check_probability(
    setting: &'static str,
    value: f64,
    allow_one: bool,
) -> Result<(), Error> {
    let ok = value >= 0.0 && (value < 1.0 || (allow_one && value == 1.0));
    if ok {
        Ok(())
    } else {
        let range = if allow_one { "0.0..=1.0" } else { "0.0..1.0" };
        Err(Error::InvalidConfig { setting, reason: format!("{value} is not in {range}") })
    }
}
