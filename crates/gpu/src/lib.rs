//! Read statistics on a GPU: quality histograms, letter counts and per-cycle counters in wgpu
//! compute shaders.
//!
//! `seqflow stats --device gpu` hands the batches its parser reads to a [`LetterCounter`],
//! which packs their sequence and quality bytes into chunks and counts them on the device
//! (`letters.wgsl`): a histogram of the 256 quality byte values and the counts of G/C, N and
//! gap letters, the integers behind Q20(%), Q30(%), AvgQual, GC(%), sum_gap and sum_n. The
//! device only adds integers, so [`LetterCounts`] equals the CPU's counts exactly; the
//! floating-point columns are computed from them on the CPU, as without a GPU.
//!
//! `seqflow qc --device gpu` hands its reads to a [`CycleCounter`], which counts each base in
//! a device table of `u32` counters per (mate, cycle, base class, Phred value)
//! (`cycles.wgsl`): the table behind per-position quality and base content. The table is read
//! back into `u64` [`CycleCounts`] before any counter could overflow (at most [`FLUSH_LIMIT`]
//! bases between read-backs), so these counts too equal the CPU's exactly.
//!
//! wgpu talks to Vulkan, Metal or DX12 drivers loaded at run time, so nothing GPU-specific is
//! needed to build. [`Adapter::find`] picks the device; Mesa's lavapipe (a Vulkan driver that
//! runs on the CPU) is enough to run and test everything.
//!
//! # Memory
//!
//! [`SLOTS`] chunk slots, each an upload buffer and a device buffer of `chunk_bytes`:
//! [`LetterCounter::resident_bytes`] = `SLOTS × (2 × chunk_bytes + 4 KiB)`, 16 MiB with the
//! [`DEFAULT_CHUNK_BYTES`], whatever the input or the batch size.
//! [`CycleCounter::resident_bytes`] adds the device table and the host buffer it is read back
//! through, `2 × (2 mates × max_cycles × 470 × 4 B)`: 16 MiB + 7.2 MiB with 1,000 cycles.
//!
//! # Example
//!
//! ```no_run
//! use seqflow_gpu::{Adapter, DEFAULT_CHUNK_BYTES, LetterCounter};
//! use seqflow_seqio::{Batch, Reader, ReaderOptions};
//! let adapter = Adapter::find()?;
//! println!("counting on {adapter}");
//! let mut counter = LetterCounter::new(adapter, DEFAULT_CHUNK_BYTES)?;
//! let data = b"@r1\nACGTN\n+\nII#5?\n";
//! let mut reader = Reader::new(&data[..], "reads.fq", ReaderOptions::default()).unwrap();
//! let mut batch = Batch::default();
//! while reader.read_batch(&mut batch).unwrap() > 0 {
//!     counter.add_batch(&batch)?;
//! }
//! let counts = counter.take()?;
//! assert_eq!((counts.gc, counts.n, counts.quality[b'I' as usize]), (2, 1, 2));
//! # Ok::<(), seqflow_gpu::Error>(())
//! ```

#![deny(missing_docs)]

mod adapter;
mod counter;
mod counts;
mod cycle_counter;
mod cycle_counts;
mod device;
mod error;

pub use adapter::Adapter;
pub use counter::{
    DEFAULT_CHUNK_BYTES, LetterCounter, MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, SLOTS, TILE_BYTES,
};
pub use counts::{DeviceMetrics, LetterCounts};
pub use cycle_counter::{CycleCounter, FLUSH_LIMIT, MAX_CYCLES_LIMIT};
pub use cycle_counts::{BASE_CLASSES, COUNTERS_PER_CYCLE, CycleCounts, MATES, QUALITY_LEVELS};
pub use error::Error;
