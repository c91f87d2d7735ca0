//! A fixed set of reusable objects handed out one at a time.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use crate::cost::Cost;
use crate::sync::{Arc, Condvar, Mutex, lock, wait};

/// A fixed number of reusable objects (typically byte buffers or record batches).
///
/// [`take`](Self::take) blocks until an object is free and returns a [`PoolGuard`] that gives it
/// back when dropped — also when the holder panics. A reader that fills pooled buffers and sends
/// the guards through a pipeline therefore never has more than [`size`](Self::size) buffers
/// alive: memory is bounded by the pool, and allocation happens once.
///
/// The pool is a cheap handle (`Clone` shares it). Guards are `Send` when `T` is, so they can be
/// pipeline items; [`Cost`] is forwarded to the object.
///
/// When a pipeline is cancelled it drops the items it holds, which returns their guards, so a
/// source blocked in `take` wakes up; its next [`Emitter::send`](crate::Emitter::send) then
/// reports the cancellation. [`close`](Self::close) wakes blocked takers with an error.
///
/// ```
/// use seqflow_pipeline::Pool;
///
/// let pool = Pool::from_fn(2, || Vec::<u8>::with_capacity(1024));
/// let mut a = pool.take().unwrap();
/// a.extend_from_slice(b"ACGT");
/// let b = pool.take().unwrap();
/// assert!(pool.try_take().is_none()); // both are out
/// drop(a); // back to the pool, contents kept: clear it before reuse
/// let mut c = pool.take().unwrap();
/// assert_eq!(&c[..], b"ACGT");
/// c.clear();
/// # drop((b, c));
/// ```
pub struct Pool<T> {
    inner: Arc<PoolInner<T>>,
}

struct PoolInner<T> {
    size: usize,
    state: Mutex<PoolState<T>>,
    returned: Condvar,
}

struct PoolState<T> {
    free: Vec<T>,
    waiters: usize,
    closed: bool,
}

/// Returned by [`Pool::take`] on a closed pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PoolClosed;

impl fmt::Display for PoolClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("object pool closed")
    }
}

impl std::error::Error for PoolClosed {}

impl<T> Pool<T> {
    /// A pool holding `objects`.
    pub fn new(objects: impl IntoIterator<Item = T>) -> Self {
        let free: Vec<T> = objects.into_iter().collect();
        Self {
            inner: Arc::new(PoolInner {
                size: free.len(),
                state: Mutex::new(PoolState { free, waiters: 0, closed: false }),
                returned: Condvar::new(),
            }),
        }
    }

    /// A pool of `size` objects made by `make`.
    pub fn from_fn(size: usize, make: impl FnMut() -> T) -> Self {
        Self::new(std::iter::repeat_with(make).take(size))
    }

    /// Takes a free object, blocking until one is returned.
    ///
    /// # Errors
    /// [`PoolClosed`] if the pool is or gets closed while waiting (an empty pool that is never
    /// closed blocks forever).
    pub fn take(&self) -> Result<PoolGuard<T>, PoolClosed> {
        let mut state = lock(&self.inner.state);
        loop {
            if state.closed {
                return Err(PoolClosed);
            }
            if let Some(value) = state.free.pop() {
                return Ok(self.guard(value));
            }
            state.waiters += 1;
            state = wait(&self.inner.returned, state);
            state.waiters -= 1;
        }
    }

    /// Takes a free object if there is one right now (`None` also when closed).
    pub fn try_take(&self) -> Option<PoolGuard<T>> {
        let mut state = lock(&self.inner.state);
        if state.closed {
            return None;
        }
        let value = state.free.pop()?;
        Some(self.guard(value))
    }

    fn guard(&self, value: T) -> PoolGuard<T> {
        PoolGuard { value: ManuallyDrop::new(value), pool: self.inner.clone() }
    }

    /// Closes the pool: blocked and future [`take`](Self::take)s fail. Guards still return their
    /// objects.
    pub fn close(&self) {
        lock(&self.inner.state).closed = true;
        self.inner.returned.notify_all();
    }

    /// The number of objects the pool was made with.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// The number of objects free right now.
    pub fn available(&self) -> usize {
        lock(&self.inner.state).free.len()
    }
}

impl<T> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<T> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("size", &self.size())
            .field("available", &self.available())
            .finish()
    }
}

/// An object taken from a [`Pool`]; dereferences to it and gives it back on drop.
pub struct PoolGuard<T> {
    value: ManuallyDrop<T>,
    pool: Arc<PoolInner<T>>,
}

impl<T> Deref for PoolGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for PoolGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T> Drop for PoolGuard<T> {
    fn drop(&mut self) {
        // SAFETY: `value` is never used again: this is the guard's drop.
        let value = unsafe { ManuallyDrop::take(&mut self.value) };
        let mut state = lock(&self.pool.state);
        state.free.push(value);
        if state.waiters > 0 {
            self.pool.returned.notify_one();
        }
    }
}

impl<T: Cost> Cost for PoolGuard<T> {
    fn cost(&self) -> usize {
        (**self).cost()
    }
}

impl<T: fmt::Debug> fmt::Debug for PoolGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PoolGuard").field(&*self.value).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;
    use std::time::Duration;

    fn assert_send<T: Send>() {}

    #[test]
    fn guard_is_send() {
        assert_send::<PoolGuard<Vec<u8>>>();
        assert_send::<Pool<Vec<u8>>>();
    }

    #[test]
    fn never_more_than_size_live() {
        const SIZE: usize = 3;
        let pool = Pool::from_fn(SIZE, || 0u64);
        let live = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        thread::scope(|s| {
            for t in 0..8 {
                let (pool, live, peak) = (&pool, &live, &peak);
                s.spawn(move || {
                    for i in 0..200 {
                        let mut g = pool.take().unwrap();
                        let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        *g += 1;
                        if (i + t) % 17 == 0 {
                            thread::sleep(Duration::from_micros(200));
                        }
                        live.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= SIZE, "{peak} objects live at once, pool of {SIZE}");
        assert_eq!(pool.available(), SIZE);
        // Every increment landed on one of the SIZE objects, none was lost or duplicated.
        let guards: Vec<_> = (0..SIZE).map(|_| pool.take().unwrap()).collect();
        assert_eq!(guards.iter().map(|g| **g).sum::<u64>(), 8 * 200);
    }

    #[test]
    fn take_blocks_until_returned_and_close_wakes() {
        let pool = Pool::new([1u8]);
        let g = pool.take().unwrap();
        thread::scope(|s| {
            let h = s.spawn(|| *pool.take().unwrap());
            thread::sleep(Duration::from_millis(30));
            assert!(!h.is_finished(), "take on an empty pool did not block");
            drop(g);
            assert_eq!(h.join().unwrap(), 1);
        });
        let g = pool.take().unwrap();
        thread::scope(|s| {
            let h = s.spawn(|| pool.take().map(|_| ()));
            thread::sleep(Duration::from_millis(20));
            pool.close();
            assert_eq!(h.join().unwrap(), Err(PoolClosed));
        });
        drop(g);
        assert_eq!(pool.available(), 1);
        assert!(pool.try_take().is_none());
    }

    #[test]
    fn returned_on_panic() {
        let pool = Pool::new([vec![0u8; 4], vec![0u8; 4]]);
        let r = thread::scope(|s| {
            s.spawn(|| {
                let _g = pool.take().unwrap();
                let _h = pool.take().unwrap();
                panic!("holder panics");
            })
            .join()
        });
        assert!(r.is_err());
        assert_eq!(pool.available(), 2);
        assert_eq!(pool.take().unwrap().cost(), 4);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// Two takers and one object: both eventually get it, never both at once.
    #[test]
    fn loom_pool_take_and_return() {
        loom::model(|| {
            let pool = Pool::new([0u32]);
            let other = {
                let pool = pool.clone();
                thread::spawn(move || {
                    let mut g = pool.take().unwrap();
                    *g += 1;
                })
            };
            {
                let mut g = pool.take().unwrap();
                *g += 1;
            }
            other.join().unwrap();
            assert_eq!(*pool.take().unwrap(), 2);
        });
    }
}
