//! Shared run state: cancellation, the first error, and cancellable channel operations.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select, Sender, TryRecvError, TrySendError, bounded};
use crossbeam_utils::Backoff;

use crate::budget::Budget;
use crate::error::{Cancelled, PipelineError};

/// Cancellation and budgets shared by every stage of one run.
pub(crate) struct Control {
    cancelled: AtomicBool,
    /// Dropped on cancel, which makes `cancel_rx` ready in every `Select`.
    cancel_tx: Mutex<Option<Sender<()>>>,
    cancel_rx: Receiver<()>,
    /// Item slots of the work queue (its channel has exactly this capacity, so sends into it
    /// never block): taken by the source, given back by the worker that dequeues the item.
    pub(crate) slots: Budget,
    /// Byte budget of the work queue: taken by the source, given back by the worker that
    /// dequeues the item.
    pub(crate) bytes: Budget,
    /// Reorder-window credits (ordered runs only): taken by the source, given back by the sink.
    pub(crate) credits: Option<Budget>,
    /// Items written by the sink, for progress reports.
    pub(crate) items_done: AtomicU64,
}

/// What a cancellable receive got.
pub(crate) enum Received<T> {
    Item(T),
    Disconnected,
    Cancelled,
}

impl Control {
    pub(crate) fn new(
        channel_depth: usize,
        max_queued_bytes: usize,
        reorder_window: Option<usize>,
    ) -> Self {
        let (cancel_tx, cancel_rx) = bounded(0);
        Self {
            cancelled: AtomicBool::new(false),
            cancel_tx: Mutex::new(Some(cancel_tx)),
            cancel_rx,
            slots: Budget::new(channel_depth),
            bytes: Budget::new(max_queued_bytes),
            credits: reorder_window.map(Budget::new),
            items_done: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Cancels the run: wakes every blocked stage. Idempotent.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        drop(self.cancel_tx.lock().unwrap_or_else(PoisonError::into_inner).take());
        self.slots.cancel();
        self.bytes.cancel();
        if let Some(credits) = &self.credits {
            credits.cancel();
        }
    }

    /// Sends `msg`, blocking while the channel is full unless the run is cancelled.
    pub(crate) fn send<T>(
        &self,
        tx: &Sender<T>,
        msg: T,
        blocked: &mut Duration,
    ) -> Result<(), Cancelled> {
        let mut msg = match tx.try_send(msg) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(_)) => return Err(Cancelled),
            Err(TrySendError::Full(msg)) => msg,
        };
        let start = Instant::now();
        // As in `recv`: a receiver that is running frees a slot within a few microseconds.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            msg = match tx.try_send(msg) {
                Ok(()) => {
                    *blocked += start.elapsed();
                    return Ok(());
                }
                Err(TrySendError::Disconnected(_)) => return Err(Cancelled),
                Err(TrySendError::Full(msg)) => msg,
            };
        }
        let mut select = Select::new();
        let send_index = select.send(tx);
        select.recv(&self.cancel_rx);
        let oper = select.select();
        let result = if oper.index() == send_index {
            oper.send(tx, msg).map_err(|_| Cancelled)
        } else {
            let _ = oper.recv(&self.cancel_rx);
            Err(Cancelled)
        };
        *blocked += start.elapsed();
        result
    }

    /// Receives from `rx`, blocking while it is empty unless the run is cancelled.
    ///
    /// It spins and yields briefly before parking in a `Select` (which does not spin by
    /// itself): with small items the next one usually arrives within that time, and parking and
    /// waking a thread per item would dominate the cost. Being woken by cancellation matters: a
    /// cancelled worker must stop even if its upstream source is blocked, for instance on a
    /// [`Pool`](crate::Pool) whose objects sit in a queue the worker keeps alive.
    pub(crate) fn recv<T>(&self, rx: &Receiver<T>, blocked: &mut Duration) -> Received<T> {
        match rx.try_recv() {
            Ok(msg) => return Received::Item(msg),
            Err(TryRecvError::Disconnected) => return Received::Disconnected,
            Err(TryRecvError::Empty) => {}
        }
        let start = Instant::now();
        let result = self.recv_slow(rx);
        *blocked += start.elapsed();
        result
    }

    fn recv_slow<T>(&self, rx: &Receiver<T>) -> Received<T> {
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            match rx.try_recv() {
                Ok(msg) => return Received::Item(msg),
                Err(TryRecvError::Disconnected) => return Received::Disconnected,
                Err(TryRecvError::Empty) => {}
            }
        }
        let mut select = Select::new();
        let recv_index = select.recv(rx);
        select.recv(&self.cancel_rx);
        let oper = select.select();
        if oper.index() == recv_index {
            match oper.recv(rx) {
                Ok(msg) => Received::Item(msg),
                Err(_) => Received::Disconnected,
            }
        } else {
            let _ = oper.recv(&self.cancel_rx);
            Received::Cancelled
        }
    }
}

/// The first error of a run; later ones are logged and dropped.
pub(crate) struct ErrorSlot<E> {
    first: Mutex<Option<PipelineError<E>>>,
}

impl<E: fmt::Debug> ErrorSlot<E> {
    pub(crate) fn new() -> Self {
        Self { first: Mutex::new(None) }
    }

    /// Records `err` (if it is the first) and cancels the run.
    pub(crate) fn fail(&self, control: &Control, err: PipelineError<E>) {
        {
            let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
            if first.is_none() {
                *first = Some(err);
            } else {
                tracing::debug!(error = ?err, "seqflow-pipeline: further error while cancelling");
            }
        }
        control.cancel();
    }

    pub(crate) fn into_inner(self) -> Option<PipelineError<E>> {
        self.first.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}
