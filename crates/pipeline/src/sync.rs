//! Synchronisation primitives used by the blocking building blocks ([`Budget`](crate::budget),
//! [`PriorityQueue`](crate::PriorityQueue), [`Pool`](crate::Pool)).
//!
//! Under `--cfg loom` they are loom's model-checked versions, so the blocking logic of those
//! components can be explored exhaustively by the `loom_*` tests; otherwise they are `std`'s.
//! Lock poisoning is ignored on purpose: no critical section in this crate leaves its state
//! half-updated when user code (a `Drop` or an `Ord` impl) panics inside it.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use std::sync::PoisonError;

/// Locks `mutex`, ignoring poisoning.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits on `condvar`, ignoring poisoning.
pub(crate) fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)
}
