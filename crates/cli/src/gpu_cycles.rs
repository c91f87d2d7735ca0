//! `seqflow qc --device gpu`: per-position qualities and base content counted on a GPU.
//!
//! With the `gpu` cargo feature the per-cycle table of each mate (one counter per cycle, base
//! class and Phred value, the table behind per-position mean quality, quartiles and A/C/G/T/N
//! percentages) is counted by a [`seqflow_gpu::CycleCounter`] and added to the merged state at
//! the end; the workers count everything else. Without the feature, `--device gpu` is an error
//! and `--device auto` falls back to the CPU (see [`crate::device::choose_adapter`]).

use anyhow::Result;
use seqflow_qc::report::QcAccumulator;

use crate::device::{Adapter, Device, DeviceMetrics, choose_adapter};

// The device's table has the layout of MateStats's, so it is added as it comes back.
#[cfg(feature = "gpu")]
const _: () = {
    use seqflow_qc::report::{BASE_CLASSES, COUNTERS_PER_CYCLE, QUALITY_LEVELS};
    assert!(seqflow_gpu::QUALITY_LEVELS == QUALITY_LEVELS);
    assert!(seqflow_gpu::BASE_CLASSES == BASE_CLASSES);
    assert!(seqflow_gpu::COUNTERS_PER_CYCLE == COUNTERS_PER_CYCLE);
    assert!(seqflow_qc::report::MAX_CYCLES <= seqflow_gpu::MAX_CYCLES_LIMIT);
};

/// The GPU cycle counter of a `qc` run.
#[cfg(feature = "gpu")]
pub(crate) struct GpuCycleCounter(seqflow_gpu::CycleCounter);

/// Without the `gpu` feature there is never a counter: this type has no values.
#[cfg(not(feature = "gpu"))]
pub(crate) enum GpuCycleCounter {}

impl GpuCycleCounter {
    /// The counter `device` asks for: `None` for the CPU, and for `auto` without a hardware
    /// GPU (after one line on stderr unless `quiet`).
    ///
    /// # Errors
    /// `--device gpu` without an adapter, or a device that cannot be opened.
    pub(crate) fn open(device: Device, quiet: bool) -> Result<Option<GpuCycleCounter>> {
        choose_adapter(device, quiet)?.map(Self::open_on).transpose()
    }

    #[cfg(feature = "gpu")]
    fn open_on(adapter: Adapter) -> Result<GpuCycleCounter> {
        let chunk_bytes = seqflow_gpu::DEFAULT_CHUNK_BYTES;
        let max_cycles = seqflow_qc::report::MAX_CYCLES;
        let counter = seqflow_gpu::CycleCounter::new(adapter, chunk_bytes, max_cycles)?;
        Ok(GpuCycleCounter(counter))
    }

    #[cfg(not(feature = "gpu"))]
    fn open_on(adapter: Adapter) -> Result<GpuCycleCounter> {
        match adapter {}
    }

    /// Hands the bases of `reads` (`(sequence, quality)` pairs) of `mate` (0 read 1, 1 read 2)
    /// to the device, which counts them while the caller reads on.
    #[cfg(feature = "gpu")]
    pub(crate) fn add_reads<'a>(
        &mut self,
        mate: usize,
        reads: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<()> {
        Ok(self.0.add_reads(mate, reads)?)
    }

    /// Hands the bases of `reads` to the device.
    #[cfg(not(feature = "gpu"))]
    pub(crate) fn add_reads<'a>(
        &mut self,
        _mate: usize,
        _reads: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<()> {
        match *self {}
    }

    /// Waits for the device, adds its cycle tables to `total` (whose reads were counted with
    /// the `*_except_cycles` methods) and returns what the device did.
    #[cfg(feature = "gpu")]
    pub(crate) fn finish(&mut self, total: &mut QcAccumulator) -> Result<DeviceMetrics> {
        let counts = self.0.take()?;
        total.read1.add_cycle_table(&counts.mates[0]);
        total.read2.add_cycle_table(&counts.mates[1]);
        Ok(self.0.take_metrics())
    }

    /// Waits for the device and adds its cycle tables to `total`.
    #[cfg(not(feature = "gpu"))]
    pub(crate) fn finish(&mut self, _total: &mut QcAccumulator) -> Result<DeviceMetrics> {
        match *self {}
    }
}
