//! The atomics the bitmask is built on: `std` normally, `loom` under `cfg(loom)` so that the
//! claim protocol can be model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
