//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

pub(crate) mod bytes;
pub(crate) mod cli;
pub(crate) mod pairs;
pub(crate) mod rusage;
