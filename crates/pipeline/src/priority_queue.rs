//! A blocking, cost-bounded priority queue.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;

use crate::sync::{Condvar, Mutex, MutexGuard, lock, wait};

/// A multi-producer, multi-consumer priority queue bounded by the summed cost of its items.
///
/// [`pop`](Self::pop) hands out the item with the highest priority, ties in insertion (FIFO)
/// order — e.g. the largest contigs first, so that the last worker does not finish alone.
/// [`push`](Self::push) blocks while the queued cost is over budget; an item costlier than the
/// whole budget is admitted when the queue is empty, so it cannot deadlock. After
/// [`close`](Self::close), pushes fail and consumers drain what is left, then see `None`.
///
/// Share it by reference between scoped threads, or in an `Arc`.
///
/// ```
/// use seqflow_pipeline::PriorityQueue;
///
/// let queue = PriorityQueue::new(1 << 20);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         for (len, name) in [(10u64, "chr3"), (30, "chr1"), (20, "chr2"), (30, "chrX")] {
///             queue.push(len, len as usize, name).unwrap();
///         }
///         queue.close();
///     });
/// });
/// let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
/// assert_eq!(order, ["chr1", "chrX", "chr2", "chr3"]);
/// ```
pub struct PriorityQueue<T, P = u64> {
    max_cost: usize,
    state: Mutex<QueueState<T, P>>,
    not_empty: Condvar,
    not_full: Condvar,
}

struct QueueState<T, P> {
    heap: BinaryHeap<Entry<T, P>>,
    next_seq: u64,
    queued_cost: usize,
    peak_cost: usize,
    waiting_pushers: usize,
    closed: bool,
}

struct Entry<T, P> {
    priority: P,
    seq: u64,
    cost: usize,
    item: T,
}

impl<T, P: Ord> Ord for Entry<T, P> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Highest priority first; among equals, the lowest sequence number (oldest) first.
        self.priority.cmp(&other.priority).then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<T, P: Ord> PartialOrd for Entry<T, P> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T, P: Ord> PartialEq for Entry<T, P> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T, P: Ord> Eq for Entry<T, P> {}

/// Returned by [`PriorityQueue::push`] on a closed queue, with the rejected item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed<T>(pub T);

impl<T> fmt::Display for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue closed")
    }
}

impl<T: fmt::Debug> std::error::Error for Closed<T> {}

impl<T, P: Ord> PriorityQueue<T, P> {
    /// An empty queue admitting up to `max_cost` of queued cost (at least 1).
    pub fn new(max_cost: usize) -> Self {
        Self {
            max_cost: max_cost.max(1),
            state: Mutex::new(QueueState {
                heap: BinaryHeap::new(),
                next_seq: 0,
                queued_cost: 0,
                peak_cost: 0,
                waiting_pushers: 0,
                closed: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        }
    }

    /// Queues `item` with `priority` and `cost`, blocking while the queue is non-empty and the
    /// item would bring the queued cost over the budget.
    ///
    /// # Errors
    /// [`Closed`] with the item if the queue is or gets closed before the item fits.
    pub fn push(&self, priority: P, cost: usize, item: T) -> Result<(), Closed<T>> {
        let mut state = self.lock_with_room(cost);
        if state.closed {
            return Err(Closed(item));
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        state.queued_cost = state.queued_cost.saturating_add(cost);
        state.peak_cost = state.peak_cost.max(state.queued_cost);
        state.heap.push(Entry { priority, seq, cost, item });
        drop(state);
        self.not_empty.notify_one();
        Ok(())
    }

    /// Blocks until an item of `cost` would be admitted at once (the queue is empty or has
    /// room for it) and returns true, or returns false when the queue is or gets closed. A
    /// producer calls it before building an item it can size in advance (e.g. by the last
    /// one), so that it does not hold a finished item while blocked in [`push`](Self::push).
    pub fn wait_for_room(&self, cost: usize) -> bool {
        !self.lock_with_room(cost).closed
    }

    /// The locked state once an item of `cost` would be admitted or the queue is closed.
    fn lock_with_room(&self, cost: usize) -> MutexGuard<'_, QueueState<T, P>> {
        let mut state = lock(&self.state);
        while !state.closed && !state.admits(cost, self.max_cost) {
            state.waiting_pushers += 1;
            state = wait(&self.not_full, state);
            state.waiting_pushers -= 1;
        }
        state
    }

    /// Removes the item with the highest priority (the oldest among equals), blocking while the
    /// queue is empty. Returns `None` once the queue is closed and drained.
    pub fn pop(&self) -> Option<T> {
        let mut state = lock(&self.state);
        loop {
            if let Some(item) = self.take(&mut state) {
                return Some(item);
            }
            if state.closed {
                return None;
            }
            state = wait(&self.not_empty, state);
        }
    }

    /// Like [`pop`](Self::pop) but never blocks: `None` if the queue is empty right now.
    pub fn try_pop(&self) -> Option<T> {
        self.take(&mut lock(&self.state))
    }

    fn take(&self, state: &mut QueueState<T, P>) -> Option<T> {
        let entry = state.heap.pop()?;
        state.queued_cost -= entry.cost;
        if state.waiting_pushers > 0 {
            // Pushers wait for different amounts; let each re-check.
            self.not_full.notify_all();
        }
        Some(entry.item)
    }

    /// Closes the queue: pending and future pushes fail, consumers drain the remaining items and
    /// then get `None`. Idempotent.
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        lock(&self.state).heap.len()
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Summed cost of the queued items.
    pub fn queued_cost(&self) -> usize {
        lock(&self.state).queued_cost
    }

    /// The largest queued cost seen so far.
    pub fn peak_cost(&self) -> usize {
        lock(&self.state).peak_cost
    }

    /// The cost budget given to [`new`](Self::new).
    pub fn max_cost(&self) -> usize {
        self.max_cost
    }
}

impl<T, P> QueueState<T, P> {
    fn admits(&self, cost: usize, max_cost: usize) -> bool {
        self.heap.is_empty() || self.queued_cost.saturating_add(cost) <= max_cost
    }
}

impl<T, P> fmt::Debug for PriorityQueue<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("PriorityQueue")
            .field("len", &state.heap.len())
            .field("queued_cost", &state.queued_cost)
            .field("max_cost", &self.max_cost)
            .field("closed", &state.closed)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
    use std::thread;
    use std::time::Duration;

    #[test]
    fn highest_priority_first_ties_fifo() {
        let q = PriorityQueue::new(usize::MAX);
        for (p, v) in [(1, 'a'), (5, 'b'), (1, 'c'), (5, 'd'), (3, 'e'), (5, 'f')] {
            q.push(p, 0, v).unwrap();
        }
        q.close();
        let got: String = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(got, "bdfeac");
        assert!(q.is_empty());
    }

    #[test]
    fn push_blocks_over_budget_and_admits_oversize_into_empty_queue() {
        let q = PriorityQueue::new(10);
        q.push(0, 6, 1).unwrap();
        q.push(0, 4, 2).unwrap();
        assert_eq!(q.queued_cost(), 10);
        let pushed = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                q.push(0, 1, 3).unwrap();
                pushed.store(true, AtomicOrdering::SeqCst);
            });
            thread::sleep(Duration::from_millis(50));
            assert!(!pushed.load(AtomicOrdering::SeqCst), "push over budget did not block");
            assert_eq!(q.pop(), Some(1));
        });
        assert!(pushed.load(AtomicOrdering::SeqCst));
        assert_eq!(q.queued_cost(), 5);
        assert_eq!(q.peak_cost(), 10);
        // Oversize: waits for the queue to empty, then goes in alone.
        thread::scope(|s| {
            s.spawn(|| q.push(0, 100, 4).unwrap());
            thread::sleep(Duration::from_millis(20));
            assert_eq!(q.pop(), Some(2));
            assert_eq!(q.pop(), Some(3));
        });
        assert_eq!(q.queued_cost(), 100);
        assert_eq!(q.pop(), Some(4));
        assert_eq!(q.peak_cost(), 100);
    }

    #[test]
    fn close_drains_then_ends_and_fails_pushes() {
        let q: PriorityQueue<u32> = PriorityQueue::new(1);
        q.push(0, 1, 7).unwrap();
        let blocked_push = thread::scope(|s| {
            let h = s.spawn(|| q.push(0, 1, 8));
            thread::sleep(Duration::from_millis(20));
            q.close();
            h.join().unwrap()
        });
        assert_eq!(blocked_push, Err(Closed(8)));
        assert_eq!(q.push(0, 0, 9), Err(Closed(9)));
        assert_eq!(q.pop(), Some(7));
        assert_eq!(q.pop(), None);
        assert_eq!(q.try_pop(), None);
    }

    proptest::proptest! {
        /// Draining gives a stable sort by descending priority.
        #[test]
        fn drains_as_stable_sort_by_priority(items in proptest::collection::vec((0u8..4, 0u32..1000), 0..64)) {
            let q = PriorityQueue::new(usize::MAX);
            for &(p, v) in &items {
                q.push(p, 1, v).unwrap();
            }
            q.close();
            let got: Vec<u32> = std::iter::from_fn(|| q.pop()).collect();
            let mut expected = items.clone();
            expected.sort_by_key(|&(p, _)| std::cmp::Reverse(p)); // stable: FIFO among equals
            proptest::prop_assert_eq!(got, expected.into_iter().map(|(_, v)| v).collect::<Vec<_>>());
        }
    }

    /// Several producers and consumers: every item comes out exactly once and the queued cost
    /// never exceeds the budget (all items fit it).
    #[test]
    fn concurrent_producers_and_consumers() {
        const PER_PRODUCER: u64 = 2000;
        let q = PriorityQueue::new(50);
        let producers_left = std::sync::atomic::AtomicUsize::new(3);
        let seen = std::sync::Mutex::new(Vec::new());
        thread::scope(|s| {
            for p in 0..3u64 {
                let (q, left) = (&q, &producers_left);
                s.spawn(move || {
                    for i in 0..PER_PRODUCER {
                        let value = p * PER_PRODUCER + i;
                        q.push(value % 7, (value % 10 + 1) as usize, value).unwrap();
                    }
                    if left.fetch_sub(1, AtomicOrdering::SeqCst) == 1 {
                        q.close();
                    }
                });
            }
            for _ in 0..2 {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    while let Some(v) = q.pop() {
                        mine.push(v);
                    }
                    seen.lock().unwrap().extend(mine);
                });
            }
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..3 * PER_PRODUCER).collect::<Vec<_>>());
        assert!(q.peak_cost() <= 50, "peak {}", q.peak_cost());
        assert_eq!(q.queued_cost(), 0);
    }

    #[test]
    fn pop_blocks_until_push_or_close() {
        let q: PriorityQueue<u32> = PriorityQueue::new(8);
        thread::scope(|s| {
            let a = s.spawn(|| q.pop());
            let b = s.spawn(|| q.pop());
            thread::sleep(Duration::from_millis(20));
            assert!(!a.is_finished() && !b.is_finished(), "pop on empty queue did not block");
            q.push(1, 1, 42).unwrap();
            thread::sleep(Duration::from_millis(20));
            q.close();
            let mut got = [a.join().unwrap(), b.join().unwrap()];
            got.sort();
            assert_eq!(got, [None, Some(42)]);
        });
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A pusher blocked on the budget is released by a pop; items come out by priority.
    #[test]
    fn loom_priority_queue_push_blocks_on_budget() {
        loom::model(|| {
            let q = Arc::new(PriorityQueue::<u32, u32>::new(2));
            q.push(1, 2, 10).unwrap();
            let pusher = {
                let q = q.clone();
                thread::spawn(move || q.push(2, 1, 20).unwrap())
            };
            let first = q.pop();
            pusher.join().unwrap();
            // The push cannot go in while 10 is queued, so 10 always comes out first.
            assert_eq!(first, Some(10));
            assert_eq!(q.pop(), Some(20));
            assert_eq!(q.queued_cost(), 0);
        });
    }

    /// Close racing with a blocked pop and a blocked push: the pop drains the item then sees
    /// the end, the push either got in before the close (and is popped) or fails.
    #[test]
    fn loom_priority_queue_close_wakes_everyone() {
        loom::model(|| {
            let q = Arc::new(PriorityQueue::<u32, u32>::new(1));
            q.push(0, 1, 1).unwrap();
            let pusher = {
                let q = q.clone();
                thread::spawn(move || q.push(0, 1, 2).is_ok())
            };
            let popper = {
                let q = q.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Some(v) = q.pop() {
                        got.push(v);
                    }
                    got
                })
            };
            q.close();
            let pushed = pusher.join().unwrap();
            let got = popper.join().unwrap();
            if pushed {
                assert_eq!(got, [1, 2]);
            } else {
                assert_eq!(got, [1]);
            }
        });
    }
}

#[cfg(test)]
mod room_tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

    #[test]
    fn wait_for_room_returns_once_an_item_of_that_cost_fits() {
        let queue: PriorityQueue<u32> = PriorityQueue::new(100);
        assert!(queue.wait_for_room(1000), "an empty queue admits anything");
        queue.push(0, 60, 1).unwrap();
        assert!(queue.wait_for_room(40));
        let popped = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                popped.store(true, AtomicOrdering::SeqCst);
                assert_eq!(queue.pop(), Some(1));
            });
            assert!(queue.wait_for_room(50));
            assert!(popped.load(AtomicOrdering::SeqCst), "returned before room was made");
        });
        queue.push(0, 60, 2).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(20));
                queue.close();
            });
            assert!(!queue.wait_for_room(50), "closed while waiting");
        });
    }
}
