//! [`SeedQueue`]: discovery's max-priority queue of seeds, most copies first, then the smallest
//! slot, popping exactly what a `BinaryHeap<(count, Reverse(slot))>` would.
//!
//! A binary heap of millions of seeds costs a cache miss per level on every pop, and the pops
//! run on the one thread that forms discovery's rounds. Here the seeds are kept by count: each
//! count's initial seeds in one array in slot order, read front to back, and the few seeds
//! pushed later (re-counted, deferred, rejected) in a small heap beside it. A pop reads the
//! highest count's next array entry or its small heap's top, whichever is smaller.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// A seed's position in the index's seed array (seeds sorted by k-mer).
pub(crate) type SeedSlot = u32;

/// The seeds of one count.
#[derive(Debug, Default)]
struct Bucket {
    /// Seeds given at construction, in slot order; those before `next` are popped.
    initial: Vec<SeedSlot>,
    next: usize,
    /// Seeds pushed since.
    pushed: BinaryHeap<Reverse<SeedSlot>>,
}

impl Bucket {
    fn is_empty(&self) -> bool {
        self.next == self.initial.len() && self.pushed.is_empty()
    }

    fn pop(&mut self) -> Option<SeedSlot> {
        let initial = self.initial.get(self.next).copied();
        let pushed = self.pushed.peek().map(|r| r.0);
        match (initial, pushed) {
            (Some(a), Some(b)) if b < a => self.pushed.pop().map(|r| r.0),
            (Some(a), _) => {
                self.next += 1;
                Some(a)
            }
            (None, Some(_)) => self.pushed.pop().map(|r| r.0),
            (None, None) => None,
        }
    }
}

/// Seeds by priority: the highest count first, the smallest slot among equal counts.
#[derive(Debug, Default)]
pub(crate) struct SeedQueue {
    buckets: BTreeMap<u32, Bucket>,
    len: usize,
}

impl SeedQueue {
    /// A queue of every seed slot `0..counts.len()` with its count.
    pub(crate) fn new(counts: impl IntoIterator<Item = u32>) -> Self {
        let mut queue = Self::default();
        // Slots arrive in increasing order, so every `initial` array is sorted.
        for (slot, count) in (0..).zip(counts) {
            queue.buckets.entry(count).or_default().initial.push(slot);
            queue.len += 1;
        }
        queue
    }

    /// Seeds in the queue.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds `slot` with priority `count`.
    pub(crate) fn push(&mut self, count: u32, slot: SeedSlot) {
        self.buckets.entry(count).or_default().pushed.push(Reverse(slot));
        self.len += 1;
    }

    /// Removes the seed with the highest count (the smallest slot among them).
    pub(crate) fn pop(&mut self) -> Option<(u32, SeedSlot)> {
        let mut top = self.buckets.last_entry()?;
        let slot = top.get_mut().pop().expect("empty buckets are removed");
        let count = *top.key();
        if top.get().is_empty() {
            top.remove();
        }
        self.len -= 1;
        Some((count, slot))
    }
}

impl Extend<(u32, SeedSlot)> for SeedQueue {
    fn extend<I: IntoIterator<Item = (u32, SeedSlot)>>(&mut self, items: I) {
        for (count, slot) in items {
            self.push(count, slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any mix of pushes and pops gives the binary heap's pops, in its order.
        #[test]
        fn pops_what_a_binary_heap_pops(
            counts in proptest::collection::vec(0u32..6, 0..60),
            operations in proptest::collection::vec(proptest::option::of((0u32..6, 0u32..80)), 0..200),
        ) {
            let mut queue = SeedQueue::new(counts.iter().copied());
            let mut heap: BinaryHeap<(u32, Reverse<SeedSlot>)> =
                counts.iter().enumerate().map(|(slot, &c)| (c, Reverse(slot as SeedSlot))).collect();
            for operation in operations {
                match operation {
                    Some((count, slot)) => {
                        queue.push(count, slot);
                        heap.push((count, Reverse(slot)));
                    }
                    None => prop_assert_eq!(queue.pop(), heap.pop().map(|(c, r)| (c, r.0))),
                }
                prop_assert_eq!(queue.len(), heap.len());
            }
            while let Some((c, r)) = heap.pop() {
                prop_assert_eq!(queue.pop(), Some((c, r.0)));
            }
            prop_assert_eq!(queue.pop(), None);
        }
    }
}
