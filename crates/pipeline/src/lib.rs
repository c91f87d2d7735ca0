//! A memory-bounded parallel streaming pipeline: one source, N workers, one sink.
//!
//! `seqflow-pipeline` holds no domain code. It runs the shape every seqflow command shares:
//!
//! ```text
//!  source thread ──[work queue: ≤ channel_depth items, ≤ max_queued_bytes]──▶ N workers
//!      (Emitter)                                                          (state per worker)
//!                                                                               │
//!  sink (calling thread) ◀──[≤ channel_depth items]── (ordered: reorder buffer ≤ window)
//! ```
//!
//! - The **source** is the only reader of the input. It emits items with [`Emitter::send`],
//!   which blocks while the work queue is full by count or by summed [`Cost`] (an item larger
//!   than the whole byte budget is still admitted into an empty queue, so nothing deadlocks).
//! - Each **worker** builds its state once with `init(worker_index)` (compressor contexts,
//!   scratch buffers...) and reuses it for every item. Workers are scoped threads, so the
//!   closures may borrow from the caller.
//! - The **sink** runs on the calling thread. [`Pipeline::run_ordered`] gives it the outputs in
//!   source order, [`Pipeline::run_unordered`] in completion order. Ordered runs bound the
//!   reorder buffer with credits: the source takes one before emitting an item and the sink gives
//!   it back after writing it, so a slow item stalls the source instead of growing memory.
//! - **Errors**: the first error or panic anywhere cancels every stage and is returned as a
//!   [`PipelineError`] saying where it happened. [`Emitter::send`] then returns [`Cancelled`];
//!   later errors are logged with `tracing::debug!`.
//! - **Metrics**: the [`Report`] in the [`Outcome`] has, per stage, items, bytes, busy time,
//!   time blocked on send and on receive, and queue depths; it is `serde::Serialize`. A progress
//!   callback ([`PipelineBuilder::on_progress`]) sees the input bytes the source reports with
//!   [`Emitter::progress`].
//!
//! Two building blocks are usable on their own: [`PriorityQueue`], a blocking queue bounded by
//! cost that hands out the highest priority first, and [`Pool`], a fixed set of reusable objects
//! (buffers) that bounds memory between a reader and its consumers.
//!
//! # Example
//!
//! ```
//! use seqflow_pipeline::{Emitter, Pipeline};
//!
//! let pipeline = Pipeline::builder()
//!     .workers(2)
//!     .channel_depth(4)
//!     .max_queued_bytes(1 << 20)
//!     .reorder_window(8)
//!     .build();
//! let mut lines = Vec::new();
//! let outcome = pipeline.run_ordered(
//!     |emit: &mut Emitter<Vec<u8>>| -> Result<(), std::io::Error> {
//!         for chunk in ["ACGT", "GATTACA", "TTT"] {
//!             emit.send(chunk.as_bytes().to_vec())?;
//!             emit.progress(chunk.len() as u64);
//!         }
//!         Ok(())
//!     },
//!     |_worker_index| 0usize, // per-worker state: bases seen by this worker
//!     |seen: &mut usize, chunk: Vec<u8>| {
//!         *seen += chunk.len();
//!         Ok(chunk.iter().filter(|&&b| b == b'A').count())
//!     },
//!     |count: usize| {
//!         lines.push(count);
//!         Ok(())
//!     },
//! )?;
//! assert_eq!(lines, [1, 3, 0]); // source order
//! assert_eq!(outcome.states.iter().sum::<usize>(), 14);
//! assert_eq!(outcome.report.input_bytes, 14);
//! assert_eq!(outcome.report.sink.items, 3);
//! # Ok::<(), seqflow_pipeline::PipelineError<std::io::Error>>(())
//! ```
//!
//! # Peak memory
//!
//! With `C_in` the largest input item (its [`Cost`]), `C_out` the largest output, `S` a worker
//! state, `D` = `channel_depth`, `W` = `workers`, `B` = `max_queued_bytes` and `R` =
//! `reorder_window`, the items alive at once are bounded by
//!
//! ```text
//! unordered:  min(D·C_in, B + C_in)      work queue (byte budget; one oversize item alone)
//!           + C_in                       the item the source is building / blocked sending
//!           + W·(C_in + C_out + S)       workers: item in hand, its output, their state
//!           + (D + 1)·C_out              output queue and the output the sink is writing
//! ordered:    the same, and at most R + 1 items in flight between source and sink, so the
//!             reorder buffer never exceeds R·C_out: total ≤ (R + 1)·(C_in + C_out) + W·S
//! ```
//!
//! plus fixed structures: two channels of `D` slots, `R` reorder slots, and one stack per thread
//! (`W + 1`). Rule of thumb: `(D + W + R) × max item cost + fixed`. Objects taken from a
//! [`Pool`] are bounded by the pool size instead, whatever the settings.

mod budget;
mod control;
mod cost;
mod emitter;
mod error;
mod metrics;
mod pipeline;
mod pool;
mod priority_queue;
mod sync;

pub use cost::{Cost, Weighted};
pub use emitter::Emitter;
pub use error::{Cancelled, PipelineError, Stage};
pub use metrics::{Progress, Report, StageMetrics};
pub use pipeline::{Outcome, Pipeline, PipelineBuilder};
pub use pool::{Pool, PoolClosed, PoolGuard};
pub use priority_queue::{Closed, PriorityQueue};
