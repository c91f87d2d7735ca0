//! A blocking counting budget: the byte bound of the work queue and the credit window of the
//! ordered sink.
//!
//! A producer [`acquire`](Budget::acquire)s the cost of an item before queueing it and the
//! consumer [`release`](Budget::release)s it when the item leaves. An acquire blocks while the
//! budget is in use and the item would push it over capacity; an item larger than the whole
//! capacity is admitted when nothing is in use, so an oversize item never deadlocks. The ordered
//! sink's reorder window is the same thing with a cost of one credit per item: the source takes a
//! credit before emitting, the sink gives it back after writing. The count bound of the work
//! queue is a third budget (one slot per item), so the source never blocks inside the channel.
//!
//! Once an acquirer had to sleep, it is woken only when the amount in use has fallen to half the
//! capacity (or lower if its cost needs it), not at every release: a producer that is faster than
//! its consumers then refills the queue in bursts instead of being woken once per item, which
//! on a busy machine costs a context switch per item.

use std::time::{Duration, Instant};

use crate::error::Cancelled;
use crate::sync::{AtomicBool, AtomicUsize, Condvar, Mutex, Ordering, lock, wait};

/// Set in [`Budget::state`] while an acquirer sleeps; the high bit, so it never mixes with the
/// amount in use (saturating at `WAITING - 1`).
const WAITING: usize = 1 << (usize::BITS - 1);
const IN_USE: usize = WAITING - 1;

/// A counting budget with blocking acquire, see the module docs.
///
/// The fast paths are a single atomic read-modify-write on `state`; the mutex and condvar are
/// used only to sleep. No wake-up is lost because every change of `state` is an RMW, so the
/// release that frees room either sees the `WAITING` bit (and wakes, under the mutex the sleeper
/// holds until it waits) or comes before the sleeper's own RMW, which then sees the room.
#[derive(Debug)]
pub(crate) struct Budget {
    capacity: usize,
    /// Amount in use, plus the `WAITING` bit.
    state: AtomicUsize,
    /// While `WAITING` is set: the amount in use at or below which releases wake the sleepers.
    wake_at: AtomicUsize,
    peak: AtomicUsize,
    cancelled: AtomicBool,
    sleep: Mutex<()>,
    released: Condvar,
}

fn admits(in_use: usize, cost: usize, capacity: usize) -> bool {
    in_use == 0 || in_use.saturating_add(cost) <= capacity
}

impl Budget {
    /// A budget of `capacity` (at least 1).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.clamp(1, IN_USE),
            state: AtomicUsize::new(0),
            wake_at: AtomicUsize::new(IN_USE),
            peak: AtomicUsize::new(0),
            cancelled: AtomicBool::new(false),
            sleep: Mutex::new(()),
            released: Condvar::new(),
        }
    }

    /// Takes `cost` if it fits now. `Err` carries the state seen.
    fn try_take(&self, cost: usize) -> Result<usize, usize> {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            let in_use = current & IN_USE;
            if !admits(in_use, cost, self.capacity) {
                return Err(current);
            }
            let new = (in_use.saturating_add(cost)).min(IN_USE) | (current & WAITING);
            match self.state.compare_exchange_weak(
                current,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(new & IN_USE),
                Err(seen) => current = seen,
            }
        }
    }

    /// Takes `cost` from the budget, blocking while it does not fit. Time spent blocked is added
    /// to `blocked`.
    ///
    /// # Errors
    /// [`Cancelled`] if the budget is or gets cancelled before the cost fits.
    pub(crate) fn acquire(&self, cost: usize, blocked: &mut Duration) -> Result<(), Cancelled> {
        let cost = cost.min(IN_USE);
        if self.cancelled.load(Ordering::Acquire) {
            return Err(Cancelled);
        }
        let in_use = match self.try_take(cost) {
            Ok(in_use) => in_use,
            Err(_) => {
                let start = Instant::now();
                let result = self.acquire_slow(cost);
                *blocked += start.elapsed();
                result?
            }
        };
        if in_use > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(in_use, Ordering::Relaxed);
        }
        Ok(())
    }

    fn acquire_slow(&self, cost: usize) -> Result<usize, Cancelled> {
        // Where `cost` fits, lowered to half the capacity for the burst refill.
        let threshold = self.capacity.saturating_sub(cost).min(self.capacity / 2);
        let mut guard = lock(&self.sleep);
        loop {
            // `cancel` sets the flag under the mutex, so it cannot slip in before the wait.
            if self.cancelled.load(Ordering::Acquire) {
                return Err(Cancelled);
            }
            let seen = match self.try_take(cost) {
                Ok(in_use) => return Ok(in_use),
                Err(seen) => seen,
            };
            // Published before the WAITING bit, so a release that sees the bit sees it too.
            self.wake_at.fetch_min(threshold, Ordering::Release);
            if seen & WAITING == 0
                && self
                    .state
                    .compare_exchange(seen, seen | WAITING, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
            {
                continue; // changed meanwhile: look again
            }
            guard = wait(&self.released, guard);
        }
    }

    /// Gives `cost` back and wakes blocked acquirers.
    pub(crate) fn release(&self, cost: usize) {
        let cost = cost.min(IN_USE);
        let previous = self.state.fetch_sub(cost, Ordering::AcqRel);
        debug_assert!(previous & IN_USE >= cost, "released more than acquired");
        if previous & WAITING != 0
            && (previous & IN_USE).saturating_sub(cost) <= self.wake_at.load(Ordering::Acquire)
        {
            // Taking the mutex waits until the sleeper is really waiting.
            let _guard = lock(&self.sleep);
            self.wake_at.store(IN_USE, Ordering::Release);
            self.state.fetch_and(IN_USE, Ordering::AcqRel);
            self.released.notify_all();
        }
    }

    /// Makes every current and future [`acquire`](Self::acquire) fail with [`Cancelled`].
    pub(crate) fn cancel(&self) {
        let _guard = lock(&self.sleep);
        self.cancelled.store(true, Ordering::Release);
        self.released.notify_all();
    }

    /// The largest amount ever in use at once.
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// The amount in use now.
    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        self.state.load(Ordering::Acquire) & IN_USE
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;

    #[test]
    fn admits_oversize_only_when_empty() {
        let b = Budget::new(10);
        let mut t = Duration::ZERO;
        b.acquire(4, &mut t).unwrap();
        b.acquire(6, &mut t).unwrap();
        assert_eq!(b.in_use(), 10);
        b.release(10);
        b.acquire(100, &mut t).unwrap();
        assert_eq!(b.peak(), 100);
        b.release(100);
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn sleeper_wakes_at_half_capacity_not_at_first_release() {
        let b = Arc::new(Budget::new(10));
        b.acquire(10, &mut Duration::default()).unwrap();
        let h = {
            let b = b.clone();
            thread::spawn(move || b.acquire(1, &mut Duration::default()))
        };
        thread::sleep(Duration::from_millis(30));
        for _ in 0..4 {
            b.release(1); // 6 in use: room for it, but above the low-water mark
        }
        thread::sleep(Duration::from_millis(30));
        assert!(!h.is_finished(), "woken above the low-water mark");
        b.release(1); // 5 in use: half the capacity
        h.join().unwrap().unwrap();
        assert_eq!(b.in_use(), 6);
    }

    #[test]
    fn blocks_until_released_and_wakes_on_cancel() {
        let b = Arc::new(Budget::new(10));
        let mut t = Duration::ZERO;
        b.acquire(8, &mut t).unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let h = {
            let (b, done) = (b.clone(), done.clone());
            thread::spawn(move || {
                let mut t = Duration::ZERO;
                b.acquire(5, &mut t).unwrap();
                done.store(true, Ordering::SeqCst);
                t
            })
        };
        thread::sleep(Duration::from_millis(50));
        assert!(!done.load(Ordering::SeqCst), "acquire did not block over budget");
        b.release(8);
        let blocked = h.join().unwrap();
        assert!(blocked >= Duration::from_millis(30), "blocked time not measured: {blocked:?}");
        assert_eq!(b.in_use(), 5);

        let h = {
            let b = b.clone();
            thread::spawn(move || b.acquire(20, &mut Duration::default()))
        };
        thread::sleep(Duration::from_millis(20));
        b.cancel();
        assert_eq!(h.join().unwrap(), Err(Cancelled));
        assert_eq!(b.acquire(0, &mut t), Err(Cancelled));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::priority_queue::PriorityQueue;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    /// The ordered sink's credit protocol: the source takes a credit per item before handing it
    /// over, the sink returns it after "writing". Never more than `WINDOW` items in flight, every
    /// item arrives, in order, and no interleaving deadlocks (loom fails on a deadlock).
    #[test]
    fn loom_credit_window_bounds_in_flight() {
        credit_window_model::<1, 3>(None);
    }

    /// The same with a window of 2, where the source sleeps until the window is half free.
    /// Explored with at most 2 preemptions per execution: unbounded, it takes ~4 minutes.
    #[test]
    fn loom_credit_window_of_two() {
        credit_window_model::<2, 3>(Some(2));
    }

    fn credit_window_model<const WINDOW: usize, const ITEMS: u64>(preemption_bound: Option<usize>) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = preemption_bound;
        builder.check(|| {
            let credits = Arc::new(Budget::new(WINDOW));
            let queue = Arc::new(PriorityQueue::<u64, u64>::new(usize::MAX));
            let in_flight = Arc::new(AtomicUsize::new(0));
            let source = {
                let (credits, queue, in_flight) =
                    (credits.clone(), queue.clone(), in_flight.clone());
                thread::spawn(move || {
                    for seq in 0..ITEMS {
                        credits.acquire(1, &mut Duration::default()).unwrap();
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(now <= WINDOW, "{now} items in flight, window {WINDOW}");
                        // FIFO: every item gets the same priority.
                        queue.push(0, 1, seq).unwrap();
                    }
                    queue.close();
                })
            };
            let mut expected = 0;
            while let Some(seq) = queue.pop() {
                assert_eq!(seq, expected);
                expected += 1;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                credits.release(1);
            }
            assert_eq!(expected, ITEMS);
            source.join().unwrap();
            assert_eq!(credits.in_use(), 0);
        });
    }

    /// A source blocked on an exhausted window is woken by cancellation, whatever the
    /// interleaving of cancel with the blocking acquire.
    #[test]
    fn loom_credit_window_cancel_wakes_blocked_source() {
        loom::model(|| {
            let credits = Arc::new(Budget::new(1));
            credits.acquire(1, &mut Duration::default()).unwrap();
            let source = {
                let credits = credits.clone();
                thread::spawn(move || credits.acquire(1, &mut Duration::default()))
            };
            credits.cancel();
            assert_eq!(source.join().unwrap(), Err(Cancelled));
        });
    }

    /// A sleeper waits for the low-water mark (half the capacity): the releases that cross it
    /// wake it whatever the interleaving, the ones above it do not need to.
    #[test]
    fn loom_budget_wakes_at_low_water() {
        loom::model(|| {
            let budget = Arc::new(Budget::new(4));
            budget.acquire(4, &mut Duration::default()).unwrap();
            let producer = {
                let budget = budget.clone();
                thread::spawn(move || budget.acquire(1, &mut Duration::default()))
            };
            budget.release(1);
            budget.release(1);
            assert_eq!(producer.join().unwrap(), Ok(()));
            assert_eq!(budget.in_use(), 3);
        });
    }

    /// Byte budget: a release racing with a blocked oversize acquire always admits it once the
    /// budget is empty, and never admits it while something else is in use.
    #[test]
    fn loom_byte_budget_admits_oversize_when_empty() {
        loom::model(|| {
            let budget = Arc::new(Budget::new(4));
            budget.acquire(3, &mut Duration::default()).unwrap();
            let producer = {
                let budget = budget.clone();
                thread::spawn(move || {
                    budget.acquire(10, &mut Duration::default()).unwrap();
                    budget.in_use()
                })
            };
            budget.release(3);
            assert_eq!(producer.join().unwrap(), 10);
            assert_eq!(budget.peak(), 10);
        });
    }
}
