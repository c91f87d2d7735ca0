//! Per-stage counters and the serializable summary of a run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a stage did during a run.
///
/// Blocked times tell which stage is the bottleneck: a source blocked on send and workers blocked
/// on send mean the sink is slow; workers blocked on receive mean the source is slow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageMetrics {
    /// Items the stage handled (source: emitted; workers: processed; sink: written).
    pub items: u64,
    /// Summed [`Cost`](crate::Cost) of those items (for workers and the sink, the cost of the
    /// input item each output came from).
    pub bytes: u64,
    /// Seconds spent in the user's closure (source: its whole run minus blocked time).
    pub busy_secs: f64,
    /// Seconds spent blocked handing items downstream (for the source this includes waiting
    /// for byte budget and reorder-window credits).
    pub blocked_send_secs: f64,
    /// Seconds spent waiting for input.
    pub blocked_recv_secs: f64,
    /// Largest number of items found in the stage's input queue when it took one (0 for the
    /// source).
    pub queue_depth_max: usize,
    /// Mean number of items found in the stage's input queue when it took one.
    pub queue_depth_mean: f64,
    /// Histogram of the waits to hand an item downstream: entry 0 counts waits under 1 µs,
    /// entry `i` waits of `2^(i-1)` to `2^i` µs (trailing empty entries omitted).
    pub wait_send_histogram_us: Vec<u64>,
    /// Histogram of the waits for input, with the buckets of `wait_send_histogram_us`.
    pub wait_recv_histogram_us: Vec<u64>,
}

/// Number of log2 buckets of a wait histogram (the last one holds every wait ≥ 2^30 µs).
const WAIT_BUCKETS: usize = 32;

/// Counts of waits by power-of-two duration in microseconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct WaitHistogram {
    counts: [u64; WAIT_BUCKETS],
}

impl WaitHistogram {
    fn record(&mut self, wait: Duration) {
        let micros = wait.as_micros();
        let bucket = if micros == 0 { 0 } else { (128 - micros.leading_zeros()) as usize };
        self.counts[bucket.min(WAIT_BUCKETS - 1)] += 1;
    }

    fn merge(&mut self, other: &WaitHistogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
    }

    fn to_vec(&self) -> Vec<u64> {
        let used = self.counts.iter().rposition(|&c| c > 0).map_or(0, |i| i + 1);
        self.counts[..used].to_vec()
    }
}

/// The summary of a successful run, returned in [`Outcome::report`](crate::Outcome::report).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Wall-clock seconds of the whole run.
    pub wall_secs: f64,
    /// Number of worker threads.
    pub workers: usize,
    /// Capacity in items of each channel.
    pub channel_depth: usize,
    /// Byte budget of the work queue.
    pub max_queued_bytes: usize,
    /// Reorder window in items (`None` for an unordered run).
    pub reorder_window: Option<usize>,
    /// Input bytes the source reported with [`Emitter::progress`](crate::Emitter::progress).
    pub input_bytes: u64,
    /// Largest summed cost ever queued between source and workers. At most
    /// `max_queued_bytes`, except when a single item costlier than that was admitted alone.
    pub queued_bytes_peak: u64,
    /// Largest number of out-of-order outputs the ordered sink held back at once.
    pub reorder_pending_max: usize,
    /// The source stage.
    pub source: StageMetrics,
    /// All workers together (times summed over workers, queue depth over all samples).
    pub work: StageMetrics,
    /// Each worker, by index.
    pub per_worker: Vec<StageMetrics>,
    /// The sink stage.
    pub sink: StageMetrics,
}

/// Progress of a run, passed to the callback set with
/// [`PipelineBuilder::on_progress`](crate::PipelineBuilder::on_progress).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Input bytes consumed so far, as reported by the source.
    pub input_bytes: u64,
    /// Items emitted by the source so far.
    pub items_sent: u64,
    /// Items written by the sink so far.
    pub items_done: u64,
}

/// Accumulates a stage's counters on its own thread, without synchronisation.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageAcc {
    pub(crate) items: u64,
    pub(crate) bytes: u64,
    pub(crate) busy: Duration,
    pub(crate) blocked_send: Duration,
    pub(crate) blocked_recv: Duration,
    wait_send: WaitHistogram,
    wait_recv: WaitHistogram,
    depth_max: usize,
    depth_sum: u64,
    depth_samples: u64,
}

impl StageAcc {
    /// Records one wait to hand an item downstream.
    pub(crate) fn record_send_wait(&mut self, wait: Duration) {
        self.blocked_send += wait;
        self.wait_send.record(wait);
    }

    /// Records one wait for input.
    pub(crate) fn record_recv_wait(&mut self, wait: Duration) {
        self.blocked_recv += wait;
        self.wait_recv.record(wait);
    }

    /// Records the input queue depth seen when taking an item.
    pub(crate) fn sample_depth(&mut self, depth: usize) {
        self.depth_max = self.depth_max.max(depth);
        self.depth_sum += depth as u64;
        self.depth_samples += 1;
    }

    /// Adds `other` into `self`.
    pub(crate) fn merge(&mut self, other: &StageAcc) {
        self.items += other.items;
        self.bytes += other.bytes;
        self.busy += other.busy;
        self.blocked_send += other.blocked_send;
        self.blocked_recv += other.blocked_recv;
        self.wait_send.merge(&other.wait_send);
        self.wait_recv.merge(&other.wait_recv);
        self.depth_max = self.depth_max.max(other.depth_max);
        self.depth_sum += other.depth_sum;
        self.depth_samples += other.depth_samples;
    }

    pub(crate) fn to_metrics(&self) -> StageMetrics {
        StageMetrics {
            items: self.items,
            bytes: self.bytes,
            busy_secs: self.busy.as_secs_f64(),
            blocked_send_secs: self.blocked_send.as_secs_f64(),
            blocked_recv_secs: self.blocked_recv.as_secs_f64(),
            queue_depth_max: self.depth_max,
            queue_depth_mean: if self.depth_samples == 0 {
                0.0
            } else {
                self.depth_sum as f64 / self.depth_samples as f64
            },
            wait_send_histogram_us: self.wait_send.to_vec(),
            wait_recv_histogram_us: self.wait_recv.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_and_mean() {
        let mut a = StageAcc::default();
        a.sample_depth(2);
        a.items = 1;
        let mut b = StageAcc::default();
        b.sample_depth(4);
        b.sample_depth(0);
        b.items = 2;
        a.merge(&b);
        let m = a.to_metrics();
        assert_eq!(m.items, 3);
        assert_eq!(m.queue_depth_max, 4);
        assert!((m.queue_depth_mean - 2.0).abs() < 1e-9);
        assert_eq!(StageAcc::default().to_metrics().queue_depth_mean, 0.0);
    }

    #[test]
    fn wait_histogram_buckets_are_powers_of_two_microseconds() {
        let mut acc = StageAcc::default();
        for micros in [0, 0, 1, 3, 4, 1000, 1023, 1024] {
            acc.record_recv_wait(Duration::from_micros(micros));
        }
        acc.record_send_wait(Duration::from_secs(100_000));
        let m = acc.to_metrics();
        // <1 µs: 2; [1,2): 1; [2,4): 1; [4,8): 1; [512,1024): 2; [1024,2048): 1.
        assert_eq!(m.wait_recv_histogram_us, [2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1]);
        assert_eq!(m.wait_send_histogram_us.len(), WAIT_BUCKETS);
        assert!((m.blocked_recv_secs - 0.003055).abs() < 1e-9);
    }
}
