//! What the device hands back: exact integer counts, and where the time went.

use serde::Serialize;

/// Letter counts of every record added since the last [`take`](crate::LetterCounter::take):
/// the integers that Q20(%), Q30(%), AvgQual, GC(%), sum_gap and sum_n are computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterCounts {
    /// How many quality bytes had each value (Phred+33 text, so `quality[33 + q]` counts Q`q`).
    pub quality: [u64; 256],
    /// Sequence letters `G`, `C`, `g`, `c`.
    pub gc: u64,
    /// Sequence letters `N`, `n`.
    pub n: u64,
    /// Gap letters `-`, `.` and space.
    pub gaps: u64,
}

impl Default for LetterCounts {
    fn default() -> Self {
        LetterCounts { quality: [0; 256], gc: 0, n: 0, gaps: 0 }
    }
}

impl LetterCounts {
    /// The same counts computed on the CPU, one byte at a time: the reference the device's
    /// results are tested against.
    ///
    /// ```
    /// use seqflow_gpu::LetterCounts;
    /// let mut counts = LetterCounts::default();
    /// counts.add_on_cpu(b"ACGTN-", b"II#II!");
    /// assert_eq!((counts.gc, counts.n, counts.gaps, counts.quality[b'I' as usize]), (2, 1, 1, 4));
    /// ```
    pub fn add_on_cpu(&mut self, seq: &[u8], qual: &[u8]) {
        for &letter in seq {
            let folded = letter | 0x20;
            self.gc += u64::from(folded == b'g' || folded == b'c');
            self.n += u64::from(folded == b'n');
            self.gaps += u64::from(matches!(letter, b'-' | b'.' | b' '));
        }
        for &q in qual {
            self.quality[q as usize] += 1;
        }
    }
}

/// Where a [`LetterCounter`](crate::LetterCounter)'s or a [`CycleCounter`](crate::CycleCounter)'s
/// time went, for `--metrics`.
///
/// Host times are wall time on the thread that feeds the device; device times come from GPU
/// timestamps and are `None` when the adapter cannot write timestamps inside a command encoder.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceMetrics {
    /// The adapter, as [`Adapter`](crate::Adapter) displays it.
    pub adapter: String,
    /// Chunks sent to the device (each one copy and one kernel launch).
    pub chunks: u64,
    /// Bytes sent: sequence and quality bytes, and for the cycle counter 8 more per piece of a
    /// read (one piece per read, one more each time a read is cut at a chunk's end).
    pub bytes: u64,
    /// Host: copying sequence and quality bytes into the mapped upload buffers.
    pub pack_secs: f64,
    /// Host: waiting for the device to finish a chunk before its buffers could be reused (and,
    /// for the cycle counter, for the table to be read back).
    pub wait_secs: f64,
    /// Device: copying chunks from the upload buffers into device memory (the transfer).
    pub copy_secs: Option<f64>,
    /// Device: the counting kernel.
    pub kernel_secs: Option<f64>,
}
