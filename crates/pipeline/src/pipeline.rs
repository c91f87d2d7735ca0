//! The pipeline: configuration, the run functions, and their stages.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::control::{Control, ErrorSlot, Received};
use crate::cost::Cost;
use crate::emitter::{Emitter, Job, ProgressFn};
use crate::error::{PipelineError, Stage};
use crate::metrics::{Progress, Report, StageAcc};

/// Configures a [`Pipeline`]. Created by [`Pipeline::builder`].
#[derive(Clone)]
pub struct PipelineBuilder {
    workers: usize,
    channel_depth: usize,
    max_queued_bytes: usize,
    reorder_window: Option<usize>,
    on_progress: Option<ProgressFn>,
}

impl PipelineBuilder {
    /// Number of worker threads (default: the available parallelism). 0 is raised to 1.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Capacity in items of the source→workers and workers→sink channels (default 4). 0 is
    /// raised to 1.
    pub fn channel_depth(mut self, depth: usize) -> Self {
        self.channel_depth = depth.max(1);
        self
    }

    /// Budget of summed item [`Cost`] queued between the source and the workers (default
    /// 256 MiB). The source blocks while the queue is over budget; a single item larger than the
    /// budget is admitted when the queue is empty. 0 is raised to 1.
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.max_queued_bytes = bytes.max(1);
        self
    }

    /// Most items an ordered run has in flight between the source and the sink, i.e. the
    /// largest reorder buffer (default: `2 × (channel_depth + workers)`, the least that keeps
    /// every stage busy). A smaller window still works but stalls the source sooner behind a
    /// slow item. Ignored by unordered runs. 0 is raised to 1.
    ///
    /// A source blocked on a full window is woken only once half of it is free again. A sink
    /// that waits for the source to do something (a feedback loop) must therefore use a window
    /// the source never fills, or the two can wait for each other forever.
    pub fn reorder_window(mut self, window: usize) -> Self {
        self.reorder_window = Some(window.max(1));
        self
    }

    /// Calls `callback` from the source thread each time the source reports progress with
    /// [`Emitter::progress`]. Keep it cheap (e.g. update an atomic or a progress bar).
    pub fn on_progress(mut self, callback: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// Builds the pipeline.
    pub fn build(self) -> Pipeline {
        Pipeline {
            workers: self.workers,
            channel_depth: self.channel_depth,
            max_queued_bytes: self.max_queued_bytes,
            reorder_window: self.reorder_window.unwrap_or(2 * (self.channel_depth + self.workers)),
            on_progress: self.on_progress,
        }
    }
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self {
            workers: thread::available_parallelism().map_or(1, |n| n.get()),
            channel_depth: 4,
            max_queued_bytes: 256 << 20,
            reorder_window: None,
            on_progress: None,
        }
    }
}

impl fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("workers", &self.workers)
            .field("channel_depth", &self.channel_depth)
            .field("max_queued_bytes", &self.max_queued_bytes)
            .field("reorder_window", &self.reorder_window)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

/// A configured source → workers → sink pipeline; see the [crate docs](crate).
///
/// A `Pipeline` is only configuration: it can run any number of times, also concurrently.
#[derive(Clone)]
pub struct Pipeline {
    workers: usize,
    channel_depth: usize,
    max_queued_bytes: usize,
    reorder_window: usize,
    on_progress: Option<ProgressFn>,
}

/// The result of a successful run.
#[derive(Debug)]
pub struct Outcome<S> {
    /// The final worker states, by worker index, so per-worker accumulators can be merged
    /// deterministically.
    pub states: Vec<S>,
    /// What each stage did.
    pub report: Report,
}

/// An output on its way from a worker to the sink.
struct Done<O> {
    seq: u64,
    cost: usize,
    out: O,
}

impl Pipeline {
    /// A builder with the defaults.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Capacity in items of each channel.
    pub fn channel_depth(&self) -> usize {
        self.channel_depth
    }

    /// Byte budget of the work queue.
    pub fn max_queued_bytes(&self) -> usize {
        self.max_queued_bytes
    }

    /// Reorder window of ordered runs, in items.
    pub fn reorder_window(&self) -> usize {
        self.reorder_window
    }

    /// Runs the pipeline, handing outputs to `sink` in source order.
    ///
    /// - `source` runs on its own thread and emits items with [`Emitter::send`] until it
    ///   returns.
    /// - Each of the [`workers`](Self::workers) threads builds its state once with
    ///   `init(worker_index)`, then calls `work(&mut state, item)` for each item it takes.
    /// - `sink` runs on the calling thread and gets every output, in the order the source
    ///   emitted the items. Out-of-order outputs wait in a reorder buffer of at most
    ///   [`reorder_window`](Self::reorder_window) items; when it is full the source waits.
    ///
    /// When the source returns `Ok`, the workers drain the queue, the sink gets the last outputs,
    /// and the final worker states come back in [`Outcome::states`].
    ///
    /// # Errors
    /// The first error or panic of any stage, with its stage; the other stages are cancelled
    /// promptly (a stage busy in user code finishes its current item first) and their errors are
    /// logged at `debug` level.
    pub fn run_ordered<I, O, S, E, Src, Init, Work, Snk>(
        &self,
        source: Src,
        init: Init,
        work: Work,
        sink: Snk,
    ) -> Result<Outcome<S>, PipelineError<E>>
    where
        I: Cost + Send,
        O: Send,
        S: Send,
        E: fmt::Debug + Send,
        Src: FnOnce(&mut Emitter<I>) -> Result<(), E> + Send,
        Init: Fn(usize) -> S + Sync,
        Work: Fn(&mut S, I) -> Result<O, E> + Sync,
        Snk: FnMut(O) -> Result<(), E>,
    {
        self.run(true, source, init, work, sink)
    }

    /// Runs the pipeline, handing outputs to `sink` in completion order.
    ///
    /// Same as [`run_ordered`](Self::run_ordered) without the reorder window: a slow item never
    /// holds back the others.
    ///
    /// # Errors
    /// As [`run_ordered`](Self::run_ordered).
    pub fn run_unordered<I, O, S, E, Src, Init, Work, Snk>(
        &self,
        source: Src,
        init: Init,
        work: Work,
        sink: Snk,
    ) -> Result<Outcome<S>, PipelineError<E>>
    where
        I: Cost + Send,
        O: Send,
        S: Send,
        E: fmt::Debug + Send,
        Src: FnOnce(&mut Emitter<I>) -> Result<(), E> + Send,
        Init: Fn(usize) -> S + Sync,
        Work: Fn(&mut S, I) -> Result<O, E> + Sync,
        Snk: FnMut(O) -> Result<(), E>,
    {
        self.run(false, source, init, work, sink)
    }

    fn run<I, O, S, E, Src, Init, Work, Snk>(
        &self,
        ordered: bool,
        source: Src,
        init: Init,
        work: Work,
        sink: Snk,
    ) -> Result<Outcome<S>, PipelineError<E>>
    where
        I: Cost + Send,
        O: Send,
        S: Send,
        E: fmt::Debug + Send,
        Src: FnOnce(&mut Emitter<I>) -> Result<(), E> + Send,
        Init: Fn(usize) -> S + Sync,
        Work: Fn(&mut S, I) -> Result<O, E> + Sync,
        Snk: FnMut(O) -> Result<(), E>,
    {
        let start = Instant::now();
        let window = ordered.then_some(self.reorder_window);
        let control = Arc::new(Control::new(self.channel_depth, self.max_queued_bytes, window));
        let errors = ErrorSlot::new();
        let (work_tx, work_rx) = bounded::<Job<I>>(self.channel_depth);
        let (out_tx, out_rx) = bounded::<Done<O>>(self.channel_depth);

        let (source_acc, workers, sink_acc, reorder_pending_max) = thread::scope(|scope| {
            let source_handle = {
                let control = control.clone();
                let errors = &errors;
                let on_progress = self.on_progress.clone();
                thread::Builder::new()
                    .name("seqflow-source".into())
                    .spawn_scoped(scope, move || {
                        run_source(source, work_tx, control, on_progress, errors)
                    })
            };
            let source_handle = match source_handle {
                Ok(handle) => Some(handle),
                Err(e) => {
                    errors.fail(&control, PipelineError::Spawn(e));
                    None
                }
            };

            let mut worker_handles = Vec::with_capacity(self.workers);
            for index in 0..self.workers {
                let (control, errors, init, work) = (&*control, &errors, &init, &work);
                let (rx, tx) = (work_rx.clone(), out_tx.clone());
                let spawned = thread::Builder::new()
                    .name(format!("seqflow-worker-{index}"))
                    .spawn_scoped(scope, move || {
                        run_worker(index, control, errors, rx, tx, init, work)
                    });
                match spawned {
                    Ok(handle) => worker_handles.push(handle),
                    Err(e) => {
                        errors.fail(control, PipelineError::Spawn(e));
                        break;
                    }
                }
            }
            drop(out_tx);

            let (sink_acc, reorder_pending_max) = run_sink(&control, &errors, out_rx, window, sink);

            // Whatever is still queued (after a cancellation) is dropped here, which also returns
            // pooled buffers a blocked source may be waiting for, until the source has returned.
            while let Ok(job) = work_rx.recv() {
                control.slots.release(1);
                control.bytes.release(job.cost);
            }
            drop(work_rx);

            let source_acc = source_handle.and_then(|handle| {
                handle.join().unwrap_or_else(|payload| {
                    errors.fail(&control, PipelineError::panic(Stage::Source, &*payload));
                    None
                })
            });
            let workers: Vec<Option<(S, StageAcc)>> = worker_handles
                .into_iter()
                .enumerate()
                .map(|(index, handle)| {
                    handle.join().unwrap_or_else(|payload| {
                        let stage = Stage::Worker(index);
                        errors.fail(&control, PipelineError::panic(stage, &*payload));
                        None
                    })
                })
                .collect();
            (source_acc, workers, sink_acc, reorder_pending_max)
        });

        if let Some(err) = errors.into_inner() {
            return Err(err);
        }
        // Without an error every stage ran to completion and returned its result.
        let source_acc = source_acc.unwrap_or_default();
        let (states, worker_accs): (Vec<S>, Vec<StageAcc>) = workers.into_iter().flatten().unzip();
        let mut work_acc = StageAcc::default();
        for acc in &worker_accs {
            work_acc.merge(acc);
        }
        let report = Report {
            wall_secs: start.elapsed().as_secs_f64(),
            workers: self.workers,
            channel_depth: self.channel_depth,
            max_queued_bytes: self.max_queued_bytes,
            reorder_window: window,
            input_bytes: source_acc.1,
            queued_bytes_peak: control.bytes.peak() as u64,
            reorder_pending_max,
            source: source_acc.0.to_metrics(),
            work: work_acc.to_metrics(),
            per_worker: worker_accs.iter().map(StageAcc::to_metrics).collect(),
            sink: sink_acc.to_metrics(),
        };
        Ok(Outcome { states, report })
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("workers", &self.workers)
            .field("channel_depth", &self.channel_depth)
            .field("max_queued_bytes", &self.max_queued_bytes)
            .field("reorder_window", &self.reorder_window)
            .finish_non_exhaustive()
    }
}

/// The source thread. Returns its counters and the reported input bytes, or `None` if it
/// failed.
fn run_source<I, E, Src>(
    source: Src,
    tx: Sender<Job<I>>,
    control: Arc<Control>,
    on_progress: Option<ProgressFn>,
    errors: &ErrorSlot<E>,
) -> Option<(StageAcc, u64)>
where
    I: Cost,
    E: fmt::Debug,
    Src: FnOnce(&mut Emitter<I>) -> Result<(), E>,
{
    let start = Instant::now();
    let mut emitter = Emitter::new(tx, control.clone(), on_progress);
    let result = catch_unwind(AssertUnwindSafe(|| source(&mut emitter)));
    let input_bytes = emitter.input_bytes();
    let mut acc = std::mem::take(&mut emitter.acc);
    // Dropping the emitter closes the work channel: workers drain it and stop.
    drop(emitter);
    acc.busy = start.elapsed().saturating_sub(acc.blocked_send);
    match result {
        Ok(Ok(())) => Some((acc, input_bytes)),
        Ok(Err(e)) => {
            errors.fail(&control, PipelineError::Source(e));
            None
        }
        Err(payload) => {
            errors.fail(&control, PipelineError::panic(Stage::Source, &*payload));
            None
        }
    }
}

/// One worker thread. Returns its final state and counters, or `None` if it failed.
fn run_worker<I, O, S, E, Init, Work>(
    index: usize,
    control: &Control,
    errors: &ErrorSlot<E>,
    rx: Receiver<Job<I>>,
    tx: Sender<Done<O>>,
    init: &Init,
    work: &Work,
) -> Option<(S, StageAcc)>
where
    E: fmt::Debug,
    Init: Fn(usize) -> S,
    Work: Fn(&mut S, I) -> Result<O, E>,
{
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut state = init(index);
        let mut acc = StageAcc::default();
        loop {
            let mut waited = Duration::ZERO;
            let received = control.recv(&rx, &mut waited);
            acc.record_recv_wait(waited);
            let job = match received {
                Received::Item(job) => job,
                Received::Disconnected | Received::Cancelled => break,
            };
            control.slots.release(1);
            control.bytes.release(job.cost);
            acc.sample_depth(rx.len());
            if control.is_cancelled() {
                break;
            }
            let start = Instant::now();
            let result = work(&mut state, job.item);
            acc.busy += start.elapsed();
            acc.items += 1;
            acc.bytes += job.cost as u64;
            match result {
                Ok(out) => {
                    let done = Done { seq: job.seq, cost: job.cost, out };
                    let mut waited = Duration::ZERO;
                    let sent = control.send(&tx, done, &mut waited);
                    acc.record_send_wait(waited);
                    if sent.is_err() {
                        break;
                    }
                }
                Err(error) => {
                    errors.fail(control, PipelineError::Worker { index, error });
                    return None;
                }
            }
        }
        Some((state, acc))
    }));
    match result {
        Ok(Some(done)) if !control.is_cancelled() => Some(done),
        Ok(_) => None,
        Err(payload) => {
            errors.fail(control, PipelineError::panic(Stage::Worker(index), &*payload));
            None
        }
    }
}

/// The sink, on the calling thread. Returns its counters and the largest reorder backlog.
fn run_sink<O, E, Snk>(
    control: &Control,
    errors: &ErrorSlot<E>,
    rx: Receiver<Done<O>>,
    window: Option<usize>,
    mut sink: Snk,
) -> (StageAcc, usize)
where
    E: fmt::Debug,
    Snk: FnMut(O) -> Result<(), E>,
{
    let mut acc = StageAcc::default();
    let mut write = |acc: &mut StageAcc, done: Done<O>| -> bool {
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| sink(done.out)));
        acc.busy += start.elapsed();
        match result {
            Ok(Ok(())) => {
                acc.items += 1;
                acc.bytes += done.cost as u64;
                control.items_done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                true
            }
            Ok(Err(e)) => {
                errors.fail(control, PipelineError::Sink(e));
                false
            }
            Err(payload) => {
                errors.fail(control, PipelineError::panic(Stage::Sink, &*payload));
                false
            }
        }
    };
    let mut reorder = window.map(Reorder::new);
    let mut pending_max = 0;
    loop {
        let mut waited = Duration::ZERO;
        let received = control.recv(&rx, &mut waited);
        acc.record_recv_wait(waited);
        let done = match received {
            Received::Item(done) => done,
            Received::Disconnected | Received::Cancelled => break,
        };
        acc.sample_depth(rx.len());
        if control.is_cancelled() {
            break;
        }
        let Some(reorder) = &mut reorder else {
            if write(&mut acc, done) {
                continue;
            }
            break;
        };
        reorder.insert(done);
        pending_max = pending_max.max(reorder.pending);
        let credits = control.credits.as_ref();
        let mut ok = true;
        while let Some(next) = reorder.pop_next() {
            ok = write(&mut acc, next);
            if !ok {
                break;
            }
            if let Some(credits) = credits {
                credits.release(1);
            }
        }
        if !ok {
            break;
        }
    }
    // Free held-back outputs and unblock workers before the caller waits for them.
    drop(reorder);
    drop(rx);
    (acc, pending_max)
}

/// The ordered sink's reorder buffer: a ring of `window` slots indexed by sequence number.
///
/// The credit window guarantees every pending sequence number lies in `next..next + window`, so
/// each has its own slot.
struct Reorder<O> {
    slots: Vec<Option<Done<O>>>,
    next: u64,
    pending: usize,
}

impl<O> Reorder<O> {
    fn new(window: usize) -> Self {
        Self { slots: (0..window).map(|_| None).collect(), next: 0, pending: 0 }
    }

    fn slot(&self, seq: u64) -> usize {
        (seq % self.slots.len() as u64) as usize
    }

    fn insert(&mut self, done: Done<O>) {
        debug_assert!(
            done.seq >= self.next && done.seq < self.next + self.slots.len() as u64,
            "sequence number outside the credit window"
        );
        let slot = self.slot(done.seq);
        debug_assert!(self.slots[slot].is_none(), "two items in one reorder slot");
        self.slots[slot] = Some(done);
        self.pending += 1;
    }

    fn pop_next(&mut self) -> Option<Done<O>> {
        let slot = self.slot(self.next);
        let done = self.slots[slot].take()?;
        self.next += 1;
        self.pending -= 1;
        Some(done)
    }
}
