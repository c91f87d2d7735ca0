//! The letter counter: records packed into chunks, chunks double-buffered through the device.
//!
//! A chunk has two halves of `chunk_bytes / 2`: sequence bytes are packed end to end into the
//! first, quality bytes into the second, across records and batches. When a half is full (or
//! the caller [takes](LetterCounter::take) the counts) the chunk is sent: one command buffer
//! copies the used bytes into device memory, clears the chunk's 259 counters, runs the kernel
//! and copies the counters back into a readable buffer. There are [`SLOTS`] chunk slots; while
//! the device works on one, the caller fills the next, and a slot is waited for only when it
//! comes round again. So at most [`SLOTS`] chunks are in flight, and memory stays at
//! [`LetterCounter::resident_bytes`] whatever the input.

use std::sync::mpsc;
use std::time::Instant;

use seqflow_seqio::Batch;

use crate::adapter::Adapter;
use crate::counts::{DeviceMetrics, LetterCounts};
use crate::device::{Faults, OpenDevice};
use crate::error::Error;

/// Chunks in flight at once: one on the device while the next is filled.
pub const SLOTS: usize = 2;

/// Default chunk size: 2 MiB of sequence and 2 MiB of quality bytes, about two default
/// (1 MiB) batches of FASTQ per kernel launch.
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// Smallest chunk accepted (the tests use it to cross chunk boundaries often).
pub const MIN_CHUNK_BYTES: usize = 256;

/// Largest chunk accepted: every count of a chunk must fit in a `u32`, and the chunk in one
/// storage binding under wgpu's default limit (128 MiB).
pub const MAX_CHUNK_BYTES: usize = 64 << 20;

/// Counters per chunk: 256 quality byte values, G/C, N, gaps (the layout of `letters.wgsl`).
const COUNTERS: usize = 259;
const GC: usize = 256;
const N: usize = 257;
const GAPS: usize = 258;
/// Where the three timestamps (before the copy, after it, after the kernel) land in the
/// readback buffer: after the counters, 8-byte aligned.
const TIMESTAMPS_AT: u64 = 1040;
const READBACK_BYTES: u64 = TIMESTAMPS_AT + 3 * 8;
/// Threads per workgroup (`@workgroup_size` in the shader).
const WORKGROUP: u64 = 256;
/// Words each thread counts per launch before the grid-stride loop repeats: a workgroup's
/// tile is `WORKGROUP × WORDS_PER_THREAD × 4` = 16 KiB.
const WORDS_PER_THREAD: u64 = 16;
/// Bytes per workgroup and launch (see [`WORDS_PER_THREAD`]).
pub const TILE_BYTES: usize = (WORKGROUP * WORDS_PER_THREAD * 4) as usize;
/// Most workgroups per launch (wgpu's default limit per dimension).
const MAX_WORKGROUPS: u64 = 65_535;

/// The two halves of a chunk.
#[derive(Debug, Clone, Copy)]
enum Half {
    Sequence = 0,
    Quality = 1,
}

/// Buffers of one chunk slot, and the chunk the device is working on in it, if any.
struct Slot {
    /// Host-visible, mapped for writing while the slot is being filled.
    upload: wgpu::Buffer,
    /// Device memory the kernel reads.
    chunk: wgpu::Buffer,
    counters: wgpu::Buffer,
    params: wgpu::Buffer,
    readback: wgpu::Buffer,
    timestamps: Option<Timestamps>,
    bind_group: wgpu::BindGroup,
    in_flight: Option<InFlight>,
}

struct Timestamps {
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
}

/// A submitted chunk: its submission and the two mappings requested after it.
struct InFlight {
    submission: wgpu::SubmissionIndex,
    mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
}

/// Counts quality values and sequence letters of FASTA/FASTQ batches on a GPU.
///
/// The counts are exact integers whatever the device or the order in which its threads run,
/// so [`LetterCounts`] equals what the CPU computes, byte for byte.
///
/// ```no_run
/// use seqflow_gpu::{Adapter, DEFAULT_CHUNK_BYTES, LetterCounter};
/// use seqflow_seqio::{Batch, Reader, ReaderOptions};
/// let mut counter = LetterCounter::new(Adapter::find()?, DEFAULT_CHUNK_BYTES)?;
/// let data = b"@r1\nACGT\n+\nII#I\n";
/// let mut reader = Reader::new(&data[..], "reads.fq", ReaderOptions::default()).unwrap();
/// let mut batch = Batch::default();
/// while reader.read_batch(&mut batch).unwrap() > 0 {
///     counter.add_batch(&batch)?;
/// }
/// let counts = counter.take()?;
/// assert_eq!((counts.gc, counts.quality[b'I' as usize]), (2, 3));
/// # Ok::<(), seqflow_gpu::Error>(())
/// ```
pub struct LetterCounter {
    adapter: Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
    slots: Vec<Slot>,
    /// The slot being filled.
    current: usize,
    /// Bytes packed into each half of the current slot.
    filled: [usize; 2],
    half_bytes: usize,
    totals: LetterCounts,
    metrics: DeviceMetrics,
    /// Nanoseconds per timestamp tick.
    tick_ns: f64,
    /// The errors the device reported on its own (uncaptured error or loss).
    faults: Faults,
}

impl LetterCounter {
    /// Opens a device on `adapter` and allocates [`SLOTS`] chunk slots of `chunk_bytes`
    /// (clamped to [`MIN_CHUNK_BYTES`] ..= [`MAX_CHUNK_BYTES`] and rounded down to a multiple
    /// of 16, so that both halves of a chunk start on a mapping boundary).
    ///
    /// # Errors
    /// [`Error::Open`] when the driver refuses the device.
    pub fn new(adapter: Adapter, chunk_bytes: usize) -> Result<LetterCounter, Error> {
        let chunk_bytes = chunk_bytes.clamp(MIN_CHUNK_BYTES, MAX_CHUNK_BYTES) / 16 * 16;
        let OpenDevice { device, queue, with_timestamps, tick_ns, faults } =
            OpenDevice::open(&adapter, "seqflow letter counter")?;
        let shader = device.create_shader_module(wgpu::include_wgsl!("letters.wgsl"));
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("count_letters"),
            layout: None,
            module: &shader,
            entry_point: Some("count_letters"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            cache: None,
        });
        let slots = (0..SLOTS)
            .map(|_| Slot::new(&device, &pipeline, chunk_bytes as u64, with_timestamps))
            .collect();
        let metrics = DeviceMetrics {
            adapter: adapter.to_string(),
            copy_secs: with_timestamps.then_some(0.0),
            kernel_secs: with_timestamps.then_some(0.0),
            ..DeviceMetrics::default()
        };
        let counter = LetterCounter {
            tick_ns,
            adapter,
            device,
            queue,
            pipeline,
            slots,
            current: 0,
            filled: [0, 0],
            half_bytes: chunk_bytes / 2,
            totals: LetterCounts::default(),
            metrics,
            faults,
        };
        counter.faults.check()?;
        Ok(counter)
    }

    /// Memory the counter holds with chunks of `chunk_bytes`, host and device together:
    /// per slot an upload buffer and a device chunk of `chunk_bytes` each, plus 4 KiB of
    /// counters, readback and timestamps. With a software renderer both live in host memory.
    pub fn resident_bytes(chunk_bytes: usize) -> u64 {
        let chunk = chunk_bytes.clamp(MIN_CHUNK_BYTES, MAX_CHUNK_BYTES) as u64;
        SLOTS as u64 * (2 * chunk + (4 << 10))
    }

    /// The adapter the counter runs on.
    pub fn adapter(&self) -> &Adapter {
        &self.adapter
    }

    /// Counts the sequence letters (all bytes of [`Record::seq_raw`], so FASTA line breaks
    /// count as nothing) and quality bytes of every record of `batch`.
    ///
    /// The batch is copied into upload buffers before this returns; the device counts it later,
    /// while the caller reads on.
    ///
    /// [`Record::seq_raw`]: seqflow_seqio::Record::seq_raw
    ///
    /// # Errors
    /// [`Error::Device`] when the device reported an error or was lost.
    pub fn add_batch(&mut self, batch: &Batch) -> Result<(), Error> {
        let start = Instant::now();
        let waited = self.metrics.wait_secs;
        self.pack(Half::Sequence, batch.records().map(|record| record.seq_raw()))?;
        self.pack(Half::Quality, batch.records().filter_map(|record| record.qual()))?;
        self.metrics.pack_secs += start.elapsed().as_secs_f64() - (self.metrics.wait_secs - waited);
        Ok(())
    }

    /// Sends what is packed, waits for every chunk in flight and returns the counts of all
    /// batches added since the last call (which start again from zero).
    ///
    /// # Errors
    /// [`Error::Device`] when the device reported an error or was lost.
    pub fn take(&mut self) -> Result<LetterCounts, Error> {
        self.send()?;
        for _ in 0..SLOTS {
            self.wait_for_current()?;
            self.current = (self.current + 1) % SLOTS;
        }
        Ok(std::mem::take(&mut self.totals))
    }

    /// Where the time went so far.
    pub fn metrics(&self) -> &DeviceMetrics {
        &self.metrics
    }

    /// Where the time went so far; the counts and times start again from zero.
    pub fn take_metrics(&mut self) -> DeviceMetrics {
        let fresh = DeviceMetrics {
            adapter: self.metrics.adapter.clone(),
            copy_secs: self.metrics.copy_secs.map(|_| 0.0),
            kernel_secs: self.metrics.kernel_secs.map(|_| 0.0),
            ..DeviceMetrics::default()
        };
        std::mem::replace(&mut self.metrics, fresh)
    }

    /// Copies `parts` end to end into `half` of the slot being filled, sending the chunk each
    /// time that half is full.
    fn pack<'a>(&mut self, half: Half, parts: impl Iterator<Item = &'a [u8]>) -> Result<(), Error> {
        let mut parts = parts.filter(|part| !part.is_empty());
        let Some(mut part) = parts.next() else { return Ok(()) };
        loop {
            self.wait_for_current()?;
            // A handle of our own, so that the view does not borrow `self`.
            let upload = self.slots[self.current].upload.clone();
            let begin = (half as usize * self.half_bytes) as u64;
            let mut view =
                upload.slice(begin..begin + self.half_bytes as u64).get_mapped_range_mut();
            let mut at = self.filled[half as usize];
            let more = loop {
                let length = part.len().min(self.half_bytes - at);
                view[at..at + length].copy_from_slice(&part[..length]);
                at += length;
                part = &part[length..];
                if at == self.half_bytes {
                    break true;
                }
                match parts.next() {
                    Some(next) => part = next,
                    None => break false,
                }
            };
            drop(view);
            self.filled[half as usize] = at;
            if at == self.half_bytes {
                self.send()?;
            }
            if !more {
                return Ok(());
            }
            if part.is_empty() {
                match parts.next() {
                    Some(next) => part = next,
                    None => return Ok(()),
                }
            }
        }
    }

    /// Sends the slot being filled to the device (if anything is in it) and moves on to the
    /// next slot.
    fn send(&mut self) -> Result<(), Error> {
        let [sequence, quality] = self.filled;
        if sequence == 0 && quality == 0 {
            return Ok(());
        }
        let slot = &mut self.slots[self.current];
        slot.upload.unmap();
        let half = self.half_bytes as u64;
        let params = [sequence as u32, half as u32, quality as u32, 0];
        let params: Vec<u8> = params.iter().flat_map(|word| word.to_le_bytes()).collect();
        self.queue.write_buffer(&slot.params, 0, &params);

        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("count a chunk"),
        });
        if let Some(timestamps) = &slot.timestamps {
            encoder.write_timestamp(&timestamps.queries, 0);
        }
        for (offset, used) in [(0, sequence), (half, quality)] {
            if used > 0 {
                let words = (used as u64).div_ceil(4) * 4;
                encoder.copy_buffer_to_buffer(&slot.upload, offset, &slot.chunk, offset, words);
            }
        }
        if let Some(timestamps) = &slot.timestamps {
            encoder.write_timestamp(&timestamps.queries, 1);
        }
        encoder.clear_buffer(&slot.counters, 0, None);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &slot.bind_group, &[]);
            pass.dispatch_workgroups(workgroups(sequence, quality), 1, 1);
        }
        let counter_bytes = (COUNTERS * 4) as u64;
        encoder.copy_buffer_to_buffer(&slot.counters, 0, &slot.readback, 0, counter_bytes);
        if let Some(timestamps) = &slot.timestamps {
            encoder.write_timestamp(&timestamps.queries, 2);
            encoder.resolve_query_set(&timestamps.queries, 0..3, &timestamps.resolved, 0);
            encoder.copy_buffer_to_buffer(
                &timestamps.resolved,
                0,
                &slot.readback,
                TIMESTAMPS_AT,
                3 * 8,
            );
        }
        let submission = self.queue.submit([encoder.finish()]);

        let (done, mapped) = mpsc::channel();
        let upload_done = done.clone();
        slot.upload.map_async(wgpu::MapMode::Write, .., move |result| {
            let _ = upload_done.send(result);
        });
        slot.readback.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = done.send(result);
        });
        slot.in_flight = Some(InFlight { submission, mapped });
        self.metrics.chunks += 1;
        self.metrics.bytes += (sequence + quality) as u64;
        self.filled = [0, 0];
        self.current = (self.current + 1) % SLOTS;
        self.faults.check()
    }

    /// Waits until the device is done with the current slot's chunk, if it has one, and adds
    /// its counts to the totals; the slot can then be filled again.
    fn wait_for_current(&mut self) -> Result<(), Error> {
        let Some(flight) = self.slots[self.current].in_flight.take() else {
            return Ok(());
        };
        let start = Instant::now();
        let polled = self.device.poll(wgpu::PollType::WaitForSubmissionIndex(flight.submission));
        self.metrics.wait_secs += start.elapsed().as_secs_f64();
        self.faults.check()?;
        if let Err(error) = polled {
            return Err(self.faults.error(error));
        }
        for _ in 0..2 {
            match flight.mapped.try_recv() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return Err(self.faults.error(error)),
                Err(_) => return Err(self.faults.error("a finished chunk's buffers did not map")),
            }
        }
        let slot = &self.slots[self.current];
        {
            let view = slot.readback.get_mapped_range(..);
            let word = |i: usize| {
                u64::from(u32::from_le_bytes(view[4 * i..4 * i + 4].try_into().unwrap()))
            };
            for (value, total) in self.totals.quality.iter_mut().enumerate() {
                *total += word(value);
            }
            self.totals.gc += word(GC);
            self.totals.n += word(N);
            self.totals.gaps += word(GAPS);
            if slot.timestamps.is_some() {
                let at = TIMESTAMPS_AT as usize;
                let tick = |i: usize| {
                    u64::from_le_bytes(view[at + 8 * i..at + 8 * i + 8].try_into().unwrap())
                };
                let secs = |from: u64, to: u64| to.saturating_sub(from) as f64 * self.tick_ns / 1e9;
                let (copy, kernel) = (secs(tick(0), tick(1)), secs(tick(1), tick(2)));
                *self.metrics.copy_secs.get_or_insert(0.0) += copy;
                *self.metrics.kernel_secs.get_or_insert(0.0) += kernel;
            }
        }
        slot.readback.unmap();
        Ok(())
    }
}

/// Workgroups for a chunk: one per tile of words, at least one, at most the dispatch limit
/// (the kernel's grid-stride loop covers the rest).
fn workgroups(sequence: usize, quality: usize) -> u32 {
    let words = (sequence as u64).div_ceil(4) + (quality as u64).div_ceil(4);
    words.div_ceil(WORKGROUP * WORDS_PER_THREAD).clamp(1, MAX_WORKGROUPS) as u32
}

impl Slot {
    fn new(
        device: &wgpu::Device,
        pipeline: &wgpu::ComputePipeline,
        chunk_bytes: u64,
        with_timestamps: bool,
    ) -> Slot {
        let buffer = |label, size, usage, mapped_at_creation| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation,
            })
        };
        use wgpu::BufferUsages as Use;
        let upload = buffer("upload", chunk_bytes, Use::MAP_WRITE | Use::COPY_SRC, true);
        let chunk = buffer("chunk", chunk_bytes, Use::STORAGE | Use::COPY_DST, false);
        let counters = buffer(
            "counters",
            (COUNTERS * 4) as u64,
            Use::STORAGE | Use::COPY_SRC | Use::COPY_DST,
            false,
        );
        let params = buffer("params", 16, Use::UNIFORM | Use::COPY_DST, false);
        let readback = buffer("readback", READBACK_BYTES, Use::MAP_READ | Use::COPY_DST, false);
        let timestamps = with_timestamps.then(|| Timestamps {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("copy and kernel"),
                ty: wgpu::QueryType::Timestamp,
                count: 3,
            }),
            resolved: buffer("timestamps", 3 * 8, Use::QUERY_RESOLVE | Use::COPY_SRC, false),
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("chunk"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: chunk.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: counters.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: params.as_entire_binding() },
            ],
        });
        Slot { upload, chunk, counters, params, readback, timestamps, bind_group, in_flight: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqflow_seqio::{Reader, ReaderOptions};

    #[test]
    fn a_lost_device_is_an_error_on_one_line() {
        let Ok(adapter) = Adapter::find() else {
            assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "an adapter is required");
            eprintln!("SKIPPED: no GPU adapter");
            return;
        };
        let mut counter = LetterCounter::new(adapter, 1 << 10).unwrap();
        let data = b"@r\nACGT\n+\nIIII\n".repeat(1000);
        let mut reader =
            Reader::new(std::io::Cursor::new(data), "lost", ReaderOptions::default()).unwrap();
        let mut batch = Batch::default();
        reader.read_batch(&mut batch).unwrap();
        // What a driver reset or an unplugged GPU does to a device in use.
        counter.device.destroy();
        let error = counter.add_batch(&batch).and_then(|()| counter.take().map(drop)).unwrap_err();
        assert!(matches!(error, Error::Device { .. }), "{error:?}");
        let message = error.to_string();
        assert_eq!(message.lines().count(), 1, "{message}");
    }
}
