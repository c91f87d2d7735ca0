//! How much memory an item holds: the unit of the byte budgets.

use std::mem::size_of;

/// The memory an item accounts for while it is queued, in bytes (or any unit consistent with the
/// budget it is checked against).
///
/// The pipeline and the [`PriorityQueue`](crate::PriorityQueue) block a producer while the summed
/// cost of the queued items is over budget. A cost does not have to be exact, but it must not
/// change while the item is queued.
///
/// ```
/// use seqflow_pipeline::{Cost, Weighted};
/// assert_eq!(Weighted::new(7, "anything").cost(), 7);
/// assert_eq!(vec![0u8; 10].into_boxed_slice().cost(), 10);
/// ```
pub trait Cost {
    /// The cost of this item.
    fn cost(&self) -> usize;
}

/// Counts the allocated capacity, which is what the buffer actually holds in memory.
impl Cost for Vec<u8> {
    fn cost(&self) -> usize {
        self.capacity()
    }
}

impl Cost for Box<[u8]> {
    fn cost(&self) -> usize {
        self.len()
    }
}

/// Counts the allocated capacity.
impl Cost for String {
    fn cost(&self) -> usize {
        self.capacity()
    }
}

impl Cost for () {
    fn cost(&self) -> usize {
        0
    }
}

macro_rules! cost_of_size {
    ($($t:ty),*) => {$(
        /// The size of the value itself.
        impl Cost for $t {
            fn cost(&self) -> usize {
                size_of::<$t>()
            }
        }
    )*};
}
cost_of_size!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

/// Any value with an explicit cost chosen by the caller.
///
/// Use it when the item type has no [`Cost`] impl, or when the interesting cost is not the
/// value's own size (for instance, a range of a genome that a worker will expand).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Weighted<T> {
    /// The cost reported for `value`.
    pub cost: usize,
    /// The wrapped value.
    pub value: T,
}

impl<T> Weighted<T> {
    /// Wraps `value` with the given `cost`.
    pub fn new(cost: usize, value: T) -> Self {
        Self { cost, value }
    }

    /// Returns the wrapped value.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Cost for Weighted<T> {
    fn cost(&self) -> usize {
        self.cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs() {
        let mut v = Vec::with_capacity(32);
        v.push(1u8);
        assert_eq!(v.cost(), 32);
        assert_eq!(String::from("abc").into_boxed_str().len(), 3);
        assert_eq!(5u64.cost(), 8);
        assert_eq!(().cost(), 0);
        assert_eq!(Weighted::new(3, 'x').into_inner(), 'x');
    }
}
