//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

pub(crate) mod pairs;
