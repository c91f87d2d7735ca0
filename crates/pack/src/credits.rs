//! A byte budget for items in flight across several stages (source → workers → sink → hashing
//! thread): the source takes an item's cost before reading it, and the [`Credit`] travels with
//! the item's buffers and gives the bytes back when the last of them is dropped.
//!
//! Pools bound the *number* of buffers; this bounds their *bytes*, so a file packed with 1 GiB
//! frames holds two of them in flight, not one per pool slot.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// The shared budget; cloning shares it.
#[derive(Debug, Clone)]
pub(crate) struct ByteBudget {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    capacity: u64,
    in_use: Mutex<u64>,
    released: Condvar,
}

/// Bytes taken from a [`ByteBudget`], given back on drop.
#[derive(Debug)]
pub(crate) struct Credit {
    shared: Arc<Shared>,
    bytes: u64,
}

impl ByteBudget {
    /// A budget of `capacity` bytes.
    pub(crate) fn new(capacity: u64) -> ByteBudget {
        ByteBudget {
            shared: Arc::new(Shared { capacity, in_use: Mutex::new(0), released: Condvar::new() }),
        }
    }

    /// Takes `bytes`, waiting while they would push the budget over its capacity. An item
    /// larger than the whole capacity is admitted when nothing else is in flight, so it never
    /// waits forever. Returns `None` once `cancelled()` says the run stopped.
    pub(crate) fn acquire(&self, bytes: u64, cancelled: impl Fn() -> bool) -> Option<Credit> {
        let shared = &self.shared;
        let mut in_use = shared.in_use.lock().unwrap_or_else(PoisonError::into_inner);
        while *in_use > 0 && in_use.saturating_add(bytes) > shared.capacity {
            if cancelled() {
                return None;
            }
            // Woken by every release; the timeout only lets a cancelled run stop waiting.
            in_use = shared
                .released
                .wait_timeout(in_use, Duration::from_millis(50))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *in_use += bytes;
        Some(Credit { shared: Arc::clone(shared), bytes })
    }

    /// Bytes in flight now.
    #[cfg(test)]
    fn in_use(&self) -> u64 {
        *self.shared.in_use.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Credit {
    fn drop(&mut self) {
        let mut in_use = self.shared.in_use.lock().unwrap_or_else(PoisonError::into_inner);
        *in_use -= self.bytes;
        self.shared.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::thread;

    use super::ByteBudget;

    #[test]
    fn bytes_in_flight_never_exceed_the_capacity() {
        let budget = ByteBudget::new(100);
        let peak = AtomicU64::new(0);
        thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(64);
            scope.spawn(|| {
                for credit in rx {
                    peak.fetch_max(budget.in_use(), Ordering::Relaxed);
                    thread::yield_now();
                    drop(credit);
                }
            });
            for i in 0..1000u64 {
                let credit = budget.acquire(1 + i % 60, || false).unwrap();
                tx.send(credit).unwrap();
            }
        });
        assert!(peak.load(Ordering::Relaxed) <= 100);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn an_oversize_item_waits_for_an_empty_budget_then_passes() {
        let budget = ByteBudget::new(10);
        let small = budget.acquire(5, || false).unwrap();
        let waiter = {
            let budget = budget.clone();
            thread::spawn(move || budget.acquire(1000, || false).map(|c| c.bytes))
        };
        thread::sleep(std::time::Duration::from_millis(20));
        assert!(!waiter.is_finished());
        drop(small);
        assert_eq!(waiter.join().unwrap(), Some(1000));
    }

    #[test]
    fn a_cancelled_run_stops_waiting() {
        let budget = ByteBudget::new(10);
        let _held = budget.acquire(10, || false).unwrap();
        assert!(budget.acquire(5, || true).is_none());
    }
}
