//! The source's handle for emitting items.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Sender;

use crate::control::Control;
use crate::cost::Cost;
use crate::error::Cancelled;
use crate::metrics::{Progress, StageAcc};

/// A callback receiving progress reports.
pub(crate) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// An item on its way from the source to a worker.
pub(crate) struct Job<I> {
    pub(crate) seq: u64,
    pub(crate) cost: usize,
    pub(crate) item: I,
}

/// Handed to the source closure to emit items into the pipeline.
///
/// Items get sequence numbers in emission order; an ordered run writes the outputs in that order.
pub struct Emitter<I> {
    tx: Sender<Job<I>>,
    control: Arc<Control>,
    on_progress: Option<ProgressFn>,
    seq: u64,
    input_bytes: u64,
    pub(crate) acc: StageAcc,
}

impl<I: Cost> Emitter<I> {
    pub(crate) fn new(
        tx: Sender<Job<I>>,
        control: Arc<Control>,
        on_progress: Option<ProgressFn>,
    ) -> Self {
        Self { tx, control, on_progress, seq: 0, input_bytes: 0, acc: StageAcc::default() }
    }

    /// Emits `item`. Blocks while the pipeline is full: the work queue at `channel_depth` items
    /// or over `max_queued_bytes` of [`Cost`], or (ordered runs) the reorder window out of
    /// credits. Once it had to wait, it resumes when that bound is half free rather than at the
    /// first free slot, so a source faster than its workers refills the queue in bursts instead
    /// of being woken once per item.
    ///
    /// # Errors
    /// [`Cancelled`] when the pipeline was cancelled (another stage failed): the item is dropped
    /// and the source should return promptly; the run reports the original error.
    pub fn send(&mut self, item: I) -> Result<(), Cancelled> {
        if self.control.is_cancelled() {
            return Err(Cancelled);
        }
        let cost = item.cost();
        let mut blocked = Duration::ZERO;
        let result = self.admit_and_send(cost, item, &mut blocked);
        self.acc.record_send_wait(blocked);
        if result.is_ok() {
            self.seq += 1;
            self.acc.items += 1;
            self.acc.bytes += cost as u64;
        }
        result
    }

    fn admit_and_send(
        &self,
        cost: usize,
        item: I,
        blocked: &mut Duration,
    ) -> Result<(), Cancelled> {
        if let Some(credits) = &self.control.credits {
            credits.acquire(1, blocked)?;
        }
        self.control.slots.acquire(1, blocked)?;
        self.control.bytes.acquire(cost, blocked)?;
        let job = Job { seq: self.seq, cost, item };
        self.control.send(&self.tx, job, blocked)
    }

    /// Reports that `bytes` more input were consumed, and calls the progress callback (if any)
    /// with the totals. Cheap; call it once per read or batch.
    pub fn progress(&mut self, bytes: u64) {
        self.input_bytes += bytes;
        if let Some(callback) = &self.on_progress {
            callback(&Progress {
                input_bytes: self.input_bytes,
                items_sent: self.seq,
                items_done: self.control.items_done.load(std::sync::atomic::Ordering::Relaxed),
            });
        }
    }

    /// Whether the pipeline was cancelled. A source that can spend long stretches without
    /// calling [`send`](Self::send) (e.g. skipping input) should poll this and return early.
    pub fn is_cancelled(&self) -> bool {
        self.control.is_cancelled()
    }

    /// Number of items emitted so far.
    pub fn items_sent(&self) -> u64 {
        self.seq
    }

    /// Input bytes reported so far with [`progress`](Self::progress).
    pub fn input_bytes(&self) -> u64 {
        self.input_bytes
    }
}

impl<I> std::fmt::Debug for Emitter<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("items_sent", &self.seq)
            .field("input_bytes", &self.input_bytes)
            .finish_non_exhaustive()
    }
}
