//! The cycle counter: per-position quality and base content of reads, counted on the device.
//!
//! Reads are cut into pieces and packed into chunks of three regions of `chunk_bytes / 3`:
//! sequence bytes end to end, quality bytes at the same offsets, and 8 bytes per piece (where
//! it starts, its mate, the cycle of its first base). A read longer than the space left in a
//! chunk continues in the next one as a piece starting at a later cycle. A full chunk is sent
//! like the letter counter's: one command buffer copies the used bytes into device memory and
//! runs the kernel (`cycles.wgsl`), which adds one to the device table's counter of each
//! base's (mate, cycle, base class, Phred value). There are [`SLOTS`] chunk slots, so the
//! device counts one chunk while the caller packs the next.
//!
//! The table stays on the device across chunks: its `u32` counters are read back, added to
//! `u64` totals on the host and cleared only when the counts are taken, or before the chunk
//! that could make a counter overflow. A counter grows by at most one per base counted, so
//! sending at most [`FLUSH_LIMIT`] (`u32::MAX`) bases between two read-backs keeps every count
//! exact.

use std::sync::mpsc;
use std::time::Instant;

use crate::adapter::Adapter;
use crate::counter::{MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, SLOTS, TILE_BYTES};
use crate::counts::DeviceMetrics;
use crate::cycle_counts::{COUNTERS_PER_CYCLE, CycleCounts, MATES};
use crate::device::{Faults, OpenDevice};
use crate::error::Error;

/// Most bases sent between two read-backs of the device table: no `u32` counter can pass it.
pub const FLUSH_LIMIT: u64 = u32::MAX as u64;

/// Most cycles a [`CycleCounter`] keeps apart: the device table of both mates must fit in one
/// storage binding under wgpu's default limit (128 MiB).
pub const MAX_CYCLES_LIMIT: usize = 32_768;

/// Bytes of a piece entry: its start among the chunk's sequence bytes (bit 31: the mate) and
/// the cycle of its first base, two little-endian `u32`s.
const PIECE_BYTES: usize = 8;
/// Most workgroups per launch (wgpu's default limit per dimension).
const MAX_WORKGROUPS: u64 = 65_535;
/// Bytes of the three timestamps (before the copy, after it, after the kernel) of a chunk.
const TIMESTAMP_BYTES: u64 = 3 * 8;

/// Buffers of one chunk slot, and the chunk the device is working on in it, if any.
struct Slot {
    /// Host-visible, mapped for writing while the slot is being filled.
    upload: wgpu::Buffer,
    /// Device memory the kernel reads.
    chunk: wgpu::Buffer,
    params: wgpu::Buffer,
    timestamps: Option<Timestamps>,
    bind_group: wgpu::BindGroup,
    in_flight: Option<InFlight>,
}

struct Timestamps {
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    readback: wgpu::Buffer,
}

/// A submitted chunk: its submission and the mappings requested after it.
struct InFlight {
    submission: wgpu::SubmissionIndex,
    mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
    mappings: usize,
}

/// Counts per-cycle quality values and base classes of FASTQ reads on a GPU.
///
/// The counters are exact integers whatever the device or the order in which its threads run,
/// so [`CycleCounts`] equals what the CPU counts (see [`CycleCounts::add_on_cpu`]).
///
/// # Memory
///
/// [`CycleCounter::resident_bytes`] = `SLOTS × (2 × chunk_bytes + 4 KiB) + 2 × table`, where
/// `table = 2 mates × max_cycles × 470 counters × 4 bytes` is held once on the device (the
/// `u32` counters) and once on the host (the buffer it is read back through): 16 MiB + 7.2 MiB
/// with the [`DEFAULT_CHUNK_BYTES`](crate::DEFAULT_CHUNK_BYTES) and 1,000 cycles, whatever the
/// input. The `u64` totals the host keeps add `8 × 470` bytes per cycle and mate reached.
///
/// ```no_run
/// use seqflow_gpu::{Adapter, CycleCounter, DEFAULT_CHUNK_BYTES};
/// let mut counter = CycleCounter::new(Adapter::find()?, DEFAULT_CHUNK_BYTES, 1000)?;
/// counter.add_reads(0, [(&b"ACGT"[..], &b"II#I"[..])])?;
/// counter.add_reads(1, [(&b"TT"[..], &b"55"[..])])?;
/// let counts = counter.take()?;
/// assert_eq!((counts.cycles(0), counts.cycles(1)), (4, 2));
/// # Ok::<(), seqflow_gpu::Error>(())
/// ```
pub struct CycleCounter {
    adapter: Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
    slots: Vec<Slot>,
    /// The slot being filled.
    current: usize,
    /// Bytes of each region of a chunk (sequence, quality, pieces).
    region_bytes: usize,
    /// Bases and pieces packed into the slot being filled.
    filled_bases: usize,
    filled_pieces: usize,
    max_cycles: usize,
    /// The device's `u32` counters of both mates.
    table: wgpu::Buffer,
    /// Where the table is read back to.
    table_readback: wgpu::Buffer,
    /// Cycles reached per mate since the last `take`.
    cycles: [usize; MATES],
    /// Bases sent since the table was last read back.
    unflushed: u64,
    flush_limit: u64,
    totals: CycleCounts,
    metrics: DeviceMetrics,
    tick_ns: f64,
    faults: Faults,
}

impl CycleCounter {
    /// Opens a device on `adapter`, allocates [`SLOTS`] chunk slots of `chunk_bytes`
    /// (clamped to [`MIN_CHUNK_BYTES`] ..= [`MAX_CHUNK_BYTES`]) and a device table of
    /// `max_cycles` cycles per mate (clamped to 1 ..= [`MAX_CYCLES_LIMIT`]); bases at later
    /// cycles count in the last one.
    ///
    /// # Errors
    /// [`Error::Open`] when the driver refuses the device.
    pub fn new(
        adapter: Adapter,
        chunk_bytes: usize,
        max_cycles: usize,
    ) -> Result<CycleCounter, Error> {
        // Three regions, each a multiple of 16 bytes so that every copy is aligned.
        let region_bytes = chunk_bytes.clamp(MIN_CHUNK_BYTES, MAX_CHUNK_BYTES) / 3 / 16 * 16;
        let max_cycles = max_cycles.clamp(1, MAX_CYCLES_LIMIT);
        let OpenDevice { device, queue, with_timestamps, tick_ns, faults } =
            OpenDevice::open(&adapter, "seqflow cycle counter")?;
        let shader = device.create_shader_module(wgpu::include_wgsl!("cycles.wgsl"));
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("count_cycles"),
            layout: None,
            module: &shader,
            entry_point: Some("count_cycles"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            cache: None,
        });
        use wgpu::BufferUsages as Use;
        let table_bytes = table_bytes(max_cycles);
        let table = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("cycle table"),
            size: table_bytes,
            usage: Use::STORAGE | Use::COPY_SRC | Use::COPY_DST,
            mapped_at_creation: false,
        });
        let table_readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("cycle table readback"),
            size: table_bytes,
            usage: Use::MAP_READ | Use::COPY_DST,
            mapped_at_creation: false,
        });
        let slots = (0..SLOTS)
            .map(|_| {
                Slot::new(&device, &pipeline, &table, 3 * region_bytes as u64, with_timestamps)
            })
            .collect();
        let metrics = DeviceMetrics {
            adapter: adapter.to_string(),
            copy_secs: with_timestamps.then_some(0.0),
            kernel_secs: with_timestamps.then_some(0.0),
            ..DeviceMetrics::default()
        };
        let counter = CycleCounter {
            adapter,
            device,
            queue,
            pipeline,
            slots,
            current: 0,
            region_bytes,
            filled_bases: 0,
            filled_pieces: 0,
            max_cycles,
            table,
            table_readback,
            cycles: [0; MATES],
            unflushed: 0,
            flush_limit: FLUSH_LIMIT,
            totals: CycleCounts::default(),
            metrics,
            tick_ns,
            faults,
        };
        counter.faults.check()?;
        Ok(counter)
    }

    /// Memory the counter holds with chunks of `chunk_bytes` and `max_cycles` cycles, host and
    /// device together (see [Memory](CycleCounter#memory)); with a software renderer all of it
    /// is host memory.
    pub fn resident_bytes(chunk_bytes: usize, max_cycles: usize) -> u64 {
        let chunk = chunk_bytes.clamp(MIN_CHUNK_BYTES, MAX_CHUNK_BYTES) as u64;
        SLOTS as u64 * (2 * chunk + (4 << 10))
            + 2 * table_bytes(max_cycles.clamp(1, MAX_CYCLES_LIMIT))
    }

    /// The adapter the counter runs on.
    pub fn adapter(&self) -> &Adapter {
        &self.adapter
    }

    /// Reads the device table back after at most `bases` bases instead of [`FLUSH_LIMIT`]
    /// (values above it are lowered to it). A chunk is never split for it, so a counter can
    /// still reach one chunk's bases. Smaller values only cost time; tests use them to
    /// exercise the read-back.
    pub fn set_flush_limit(&mut self, bases: u64) {
        self.flush_limit = bases.min(FLUSH_LIMIT);
    }

    /// Counts the bases of `reads` of `mate` (0 for read 1 or the only read, 1 for read 2),
    /// each a `(sequence, quality)` pair of which the first `min(seq.len(), qual.len())` bases
    /// are counted.
    ///
    /// The reads are copied into upload buffers before this returns; the device counts them
    /// later, while the caller reads on.
    ///
    /// # Errors
    /// [`Error::Device`] when the device reported an error or was lost.
    ///
    /// # Panics
    /// When `mate` is not 0 or 1.
    pub fn add_reads<'a>(
        &mut self,
        mate: usize,
        reads: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<(), Error> {
        assert!(mate < MATES, "mate {mate} is not 0 or 1");
        let start = Instant::now();
        let waited = self.metrics.wait_secs;
        let mut reads = reads
            .into_iter()
            .map(|(seq, qual)| {
                let bases = seq.len().min(qual.len());
                Piece { seq: &seq[..bases], qual: &qual[..bases], first_cycle: 0 }
            })
            .filter(|piece| !piece.seq.is_empty());
        let mut pending = reads.next();
        while let Some(piece) = pending {
            self.wait_for_slot(self.current)?;
            pending = self.pack(mate, piece, &mut reads);
            if pending.is_some() {
                self.send()?;
            }
        }
        self.metrics.pack_secs += start.elapsed().as_secs_f64() - (self.metrics.wait_secs - waited);
        Ok(())
    }

    /// Sends what is packed, waits for the device and returns the counters of all reads added
    /// since the last call (which start again from zero).
    ///
    /// # Errors
    /// [`Error::Device`] when the device reported an error or was lost.
    pub fn take(&mut self) -> Result<CycleCounts, Error> {
        self.send()?;
        self.flush()?;
        let mut counts = std::mem::take(&mut self.totals);
        for (mate, table) in counts.mates.iter_mut().enumerate() {
            table.resize(self.cycles[mate] * COUNTERS_PER_CYCLE, 0);
        }
        self.cycles = [0; MATES];
        Ok(counts)
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

    /// Packs `piece`, then the following reads, into the slot being filled until it is full;
    /// returns what did not fit (`None` when every read did).
    fn pack<'a>(
        &mut self,
        mate: usize,
        mut piece: Piece<'a>,
        reads: &mut impl Iterator<Item = Piece<'a>>,
    ) -> Option<Piece<'a>> {
        let region = self.region_bytes;
        let max_pieces = region / PIECE_BYTES;
        let mate_bit = (mate as u32) << 31;
        // A handle of our own, so that the view does not borrow `self`.
        let upload = self.slots[self.current].upload.clone();
        let mut view = upload.slice(..).get_mapped_range_mut();
        loop {
            let at = self.filled_bases;
            if at == region || self.filled_pieces == max_pieces {
                return Some(piece);
            }
            let bases = piece.seq.len().min(region - at);
            view[at..at + bases].copy_from_slice(&piece.seq[..bases]);
            view[region + at..region + at + bases].copy_from_slice(&piece.qual[..bases]);
            let entry = 2 * region + PIECE_BYTES * self.filled_pieces;
            // Chunks are under 2 GiB and the cycle is capped, so both fit in 31 and 32 bits.
            let first_cycle = piece.first_cycle.min(self.max_cycles - 1) as u32;
            view[entry..entry + 4].copy_from_slice(&(at as u32 | mate_bit).to_le_bytes());
            view[entry + 4..entry + 8].copy_from_slice(&first_cycle.to_le_bytes());
            self.filled_bases += bases;
            self.filled_pieces += 1;
            let reached = (piece.first_cycle + bases).min(self.max_cycles);
            self.cycles[mate] = self.cycles[mate].max(reached);
            if bases < piece.seq.len() {
                // The rest of a read that did not fit: the next chunk continues it.
                piece = Piece {
                    seq: &piece.seq[bases..],
                    qual: &piece.qual[bases..],
                    first_cycle: piece.first_cycle + bases,
                };
                continue;
            }
            piece = reads.next()?;
        }
    }

    /// Sends the slot being filled to the device (if anything is in it) and moves on to the
    /// next slot; reads the table back first if this chunk could make a counter overflow.
    fn send(&mut self) -> Result<(), Error> {
        let (bases, pieces) = (self.filled_bases, self.filled_pieces);
        if pieces == 0 {
            return Ok(());
        }
        if self.unflushed + bases as u64 > self.flush_limit {
            self.flush()?;
        }
        let region = self.region_bytes as u64;
        let slot = &mut self.slots[self.current];
        slot.upload.unmap();
        let params = [
            bases as u32,
            (region / 4) as u32,
            (2 * region / 4) as u32,
            pieces as u32,
            self.max_cycles as u32,
            (self.max_cycles * COUNTERS_PER_CYCLE) as u32,
            0,
            0,
        ];
        let params: Vec<u8> = params.iter().flat_map(|word| word.to_le_bytes()).collect();
        self.queue.write_buffer(&slot.params, 0, &params);

        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("count the cycles of a chunk"),
        });
        if let Some(timestamps) = &slot.timestamps {
            encoder.write_timestamp(&timestamps.queries, 0);
        }
        let words = (bases as u64).div_ceil(4) * 4;
        let piece_bytes = (pieces * PIECE_BYTES) as u64;
        for (offset, used) in [(0, words), (region, words), (2 * region, piece_bytes)] {
            encoder.copy_buffer_to_buffer(&slot.upload, offset, &slot.chunk, offset, used);
        }
        if let Some(timestamps) = &slot.timestamps {
            encoder.write_timestamp(&timestamps.queries, 1);
        }
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &slot.bind_group, &[]);
            pass.dispatch_workgroups(workgroups(bases), 1, 1);
        }
        if let Some(timestamps) = &slot.timestamps {
            encoder.write_timestamp(&timestamps.queries, 2);
            encoder.resolve_query_set(&timestamps.queries, 0..3, &timestamps.resolved, 0);
            encoder.copy_buffer_to_buffer(
                &timestamps.resolved,
                0,
                &timestamps.readback,
                0,
                TIMESTAMP_BYTES,
            );
        }
        let submission = self.queue.submit([encoder.finish()]);

        let (done, mapped) = mpsc::channel();
        let upload_done = done.clone();
        slot.upload.map_async(wgpu::MapMode::Write, .., move |result| {
            let _ = upload_done.send(result);
        });
        let mut mappings = 1;
        if let Some(timestamps) = &slot.timestamps {
            timestamps.readback.map_async(wgpu::MapMode::Read, .., move |result| {
                let _ = done.send(result);
            });
            mappings += 1;
        }
        slot.in_flight = Some(InFlight { submission, mapped, mappings });
        self.metrics.chunks += 1;
        self.metrics.bytes += 2 * words + piece_bytes;
        self.unflushed += bases as u64;
        self.filled_bases = 0;
        self.filled_pieces = 0;
        self.current = (self.current + 1) % SLOTS;
        self.faults.check()
    }

    /// Waits until the device is done with slot `index`'s chunk, if it has one; the slot can
    /// then be filled again.
    fn wait_for_slot(&mut self, index: usize) -> Result<(), Error> {
        let Some(flight) = self.slots[index].in_flight.take() else {
            return Ok(());
        };
        self.wait_for(flight.submission)?;
        for _ in 0..flight.mappings {
            match flight.mapped.try_recv() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return Err(self.faults.error(error)),
                Err(_) => return Err(self.faults.error("a finished chunk's buffers did not map")),
            }
        }
        if let Some(timestamps) = &self.slots[index].timestamps {
            {
                let view = timestamps.readback.get_mapped_range(..);
                let tick =
                    |i: usize| u64::from_le_bytes(view[8 * i..8 * i + 8].try_into().unwrap());
                let secs = |from: u64, to: u64| to.saturating_sub(from) as f64 * self.tick_ns / 1e9;
                let (copy, kernel) = (secs(tick(0), tick(1)), secs(tick(1), tick(2)));
                *self.metrics.copy_secs.get_or_insert(0.0) += copy;
                *self.metrics.kernel_secs.get_or_insert(0.0) += kernel;
            }
            timestamps.readback.unmap();
        }
        Ok(())
    }

    /// Waits for every chunk in flight, adds the device table to the totals and clears it.
    fn flush(&mut self) -> Result<(), Error> {
        for index in 0..SLOTS {
            self.wait_for_slot(index)?;
        }
        if self.unflushed == 0 {
            return Ok(());
        }
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("read the cycle table back"),
        });
        let mate_bytes = table_bytes(self.max_cycles) / MATES as u64;
        for (mate, &cycles) in self.cycles.iter().enumerate() {
            let (offset, used) =
                (mate as u64 * mate_bytes, (cycles * COUNTERS_PER_CYCLE * 4) as u64);
            if used > 0 {
                encoder.copy_buffer_to_buffer(
                    &self.table,
                    offset,
                    &self.table_readback,
                    offset,
                    used,
                );
            }
        }
        encoder.clear_buffer(&self.table, 0, None);
        let submission = self.queue.submit([encoder.finish()]);
        let (done, mapped) = mpsc::channel();
        self.table_readback.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = done.send(result);
        });
        self.wait_for(submission)?;
        match mapped.try_recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(self.faults.error(error)),
            Err(_) => return Err(self.faults.error("the cycle table did not map")),
        }
        {
            let view = self.table_readback.get_mapped_range(..);
            for (mate, &cycles) in self.cycles.iter().enumerate() {
                let counters = cycles * COUNTERS_PER_CYCLE;
                let totals = &mut self.totals.mates[mate];
                if totals.len() < counters {
                    totals.resize(counters, 0);
                }
                let begin = mate * mate_bytes as usize;
                let words = view[begin..begin + 4 * counters].chunks_exact(4);
                for (total, word) in totals.iter_mut().zip(words) {
                    *total += u64::from(u32::from_le_bytes(word.try_into().unwrap()));
                }
            }
        }
        self.table_readback.unmap();
        self.unflushed = 0;
        Ok(())
    }

    /// Waits until the device has finished `submission`, counting the time as waiting.
    fn wait_for(&mut self, submission: wgpu::SubmissionIndex) -> Result<(), Error> {
        let start = Instant::now();
        let polled = self.device.poll(wgpu::PollType::WaitForSubmissionIndex(submission));
        self.metrics.wait_secs += start.elapsed().as_secs_f64();
        self.faults.check()?;
        polled.map(drop).map_err(|error| self.faults.error(error))
    }
}

/// A read, or the rest of one, waiting to be packed.
struct Piece<'a> {
    seq: &'a [u8],
    qual: &'a [u8],
    /// The cycle of its first base (0 for a whole read).
    first_cycle: usize,
}

/// Bytes of the device table: `u32` counters of both mates.
fn table_bytes(max_cycles: usize) -> u64 {
    (MATES * max_cycles * COUNTERS_PER_CYCLE * 4) as u64
}

/// Workgroups for a chunk of `bases`: one per tile of words, at least one, at most the
/// dispatch limit (the kernel's grid-stride loop covers the rest).
fn workgroups(bases: usize) -> u32 {
    (bases as u64).div_ceil(TILE_BYTES as u64).clamp(1, MAX_WORKGROUPS) as u32
}

impl Slot {
    fn new(
        device: &wgpu::Device,
        pipeline: &wgpu::ComputePipeline,
        table: &wgpu::Buffer,
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
        let params = buffer("params", 32, Use::UNIFORM | Use::COPY_DST, false);
        let timestamps = with_timestamps.then(|| Timestamps {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("copy and kernel"),
                ty: wgpu::QueryType::Timestamp,
                count: 3,
            }),
            resolved: buffer(
                "timestamps",
                TIMESTAMP_BYTES,
                Use::QUERY_RESOLVE | Use::COPY_SRC,
                false,
            ),
            readback: buffer(
                "timestamps readback",
                TIMESTAMP_BYTES,
                Use::MAP_READ | Use::COPY_DST,
                false,
            ),
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("cycle chunk"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: chunk.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: table.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: params.as_entire_binding() },
            ],
        });
        Slot { upload, chunk, params, timestamps, bind_group, in_flight: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_device_is_an_error_on_one_line() {
        let Ok(adapter) = Adapter::find() else {
            assert!(std::env::var_os("SEQFLOW_REQUIRE_TOOLS").is_none(), "an adapter is required");
            eprintln!("SKIPPED: no GPU adapter");
            return;
        };
        let mut counter = CycleCounter::new(adapter, MIN_CHUNK_BYTES, 1000).unwrap();
        let read = (&b"ACGTACGTAC"[..], &b"IIIIIIIIII"[..]);
        // What a driver reset or an unplugged GPU does to a device in use.
        counter.device.destroy();
        let error = counter
            .add_reads(0, std::iter::repeat_n(read, 1000))
            .and_then(|()| counter.take().map(drop))
            .unwrap_err();
        assert!(matches!(error, Error::Device { .. }), "{error:?}");
        let message = error.to_string();
        assert_eq!(message.lines().count(), 1, "{message}");
    }

    #[test]
    fn workgroups_cover_a_chunk_in_tiles() {
        assert_eq!(workgroups(0), 1);
        assert_eq!(workgroups(TILE_BYTES), 1);
        assert_eq!(workgroups(TILE_BYTES + 1), 2);
    }
}
