//! [`PackedInput::unpack`] and [`PackedInput::verify`]: decode a packed input with every
//! check its format allows.
//!
//! Seekable zstd: the source reads frames by the seek table; workers decompress and check
//! each frame, its BLAKE3 digest included; the ordered sink writes. For files of format
//! version 1 (and [`UnpackOptions::sha256`]) it hands every chunk to a hashing thread so that
//! the whole-file SHA-256 (≈ 2 GB/s on one core) runs beside the writer instead of inside it.
//! BGZF files are inflated in parallel as well, block by block with libdeflate (`crate::bgzf`,
//! whose docs state its memory bound); zstd and gzip streams are decoded front to back.
//!
//! Peak memory of seekable zstd: frames in flight are bounded by *bytes*, not count: at most
//! `max(2 × largest frame, 64 MiB)` of compressed plus decoded frame bytes (source, workers,
//! reorder window, sink and hashing queue together), plus idle recycled buffers of at most
//! 4 MiB each (`2 × threads + 3 × channel_depth + 10` of them), plus, for frames larger than
//! that, as many idle recycled compressed and decoded buffers as the budget lets frames be in
//! flight, plus one (`budget / largest frame + 1` of each; beyond them a frame gets a fresh
//! buffer). A file packed with 1 GiB chunks thus needs about four frames, not one per pool
//! slot, and one packed with 16 MiB chunks does not pay a fresh 16 MiB of page faults per
//! frame.

use std::io::{self, Write};
use std::sync::mpsc;
use std::thread;

use seqflow_container::{FrameDecompressor, FrameEntry, SeekableIndex};

use crate::buffers::{FrameBuf, POOLED_FRAME_BYTES};
use seqflow_pipeline::{Pool, Report, Weighted};
use sha2::{Digest, Sha256};

use crate::credits::{ByteBudget, Credit};
use crate::error::{Error, InFile, Result};
use crate::input::{Packed, PackedInput, Source, checked_gzi};
use crate::options::{MemoryBound, PipelineOptions, UnpackOptions, approx_size, times};
use crate::stream::decode_streamed;

/// What a successful [`PackedInput::unpack`] or [`PackedInput::verify`] found.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct UnpackSummary {
    /// Bytes of the original restored.
    pub original_size: u64,
    /// The SHA-256 of the original, when [`UnpackOptions::sha256`] asked for it (and
    /// whenever it was computed anyway).
    pub sha256: Option<[u8; 32]>,
    /// Per-stage metrics, for the inputs decoded in parallel.
    pub report: Option<Report>,
    /// What the format of a stream left unchecked (one line each, without the file name),
    /// for the caller to tell the user.
    pub notes: Vec<String>,
}

impl PackedInput {
    /// Decodes the whole original into `out`, checking every frame or block and, unless
    /// [`UnpackOptions::check_digest`] is off, the digest of the original the file records.
    ///
    /// `out` may hold a prefix of the original when this fails: a caller writing a file
    /// should write it under a temporary name and rename it only on success.
    ///
    /// # Errors
    /// [`Error::In`] naming the file around the first fault: [`Error::Container`] for a
    /// damaged frame or block (naming it and its byte offset), [`Error::Corrupt`] for a
    /// digest or size that does not match, [`Error::Io`] if reading or writing fails.
    pub fn unpack(self, out: &mut dyn Write, options: &UnpackOptions) -> Result<UnpackSummary> {
        self.restore(out, options, false)
    }

    /// Checks every frame, segment and checksum as [`unpack`](Self::unpack) does, without
    /// writing the original anywhere; for BGZF also the `.gzi` beside the file, if there is
    /// one.
    ///
    /// # Errors
    /// As [`unpack`](Self::unpack), and [`Error::Corrupt`] for a `.gzi` that does not match
    /// the blocks.
    pub fn verify(self, options: &UnpackOptions) -> Result<UnpackSummary> {
        self.restore(&mut io::sink(), options, true)
    }

    fn restore(
        self,
        out: &mut dyn Write,
        options: &UnpackOptions,
        verify_only: bool,
    ) -> Result<UnpackSummary> {
        let PackedInput { name, path, source } = self;
        match source {
            Source::Stream(stream, kind) => {
                let (decoded, sha256, notes) =
                    decode_streamed(&name, stream, kind, out, options.sha256)?;
                Ok(UnpackSummary { original_size: decoded, sha256, report: None, notes })
            }
            Source::Seekable(mut packed, index) => {
                let (report, sha256) =
                    unpack_zstd(&index, &mut packed, out, options).in_file(&name)?;
                Ok(UnpackSummary {
                    original_size: index.original_size(),
                    sha256,
                    report: Some(report),
                    notes: Vec::new(),
                })
            }
            Source::Bgzf(mut packed) => {
                if let (true, Some(path)) = (verify_only, &path) {
                    checked_gzi(&mut packed, path)?;
                }
                let (report, original_size, sha256) =
                    crate::bgzf::unpack_bgzf(&name, packed, out, options)?;
                Ok(UnpackSummary { original_size, sha256, report: Some(report), notes: Vec::new() })
            }
        }
    }
}

/// Decoded chunks waiting for the hashing thread.
const HASH_QUEUE: usize = 4;

/// Least byte budget of frames in flight; larger frames get room for two.
const MIN_FRAME_BUDGET: u64 = 64 << 20;

/// A frame to decode: its seek-table entry, its compressed bytes and its share of the budget.
type FrameJob = Weighted<(FrameEntry, FrameBuf, Credit)>;

/// Memory plan of unpack and verify: frames in flight are bounded by bytes, idle pooled
/// buffers by count.
pub(crate) struct UnpackPlan {
    /// Byte budget of frames in flight (compressed + decoded bytes of each).
    frame_budget: u64,
    /// Input buffers in the pool.
    inputs: usize,
    /// Output buffers in the pool.
    outputs: usize,
    /// Buffers of each kind (compressed, decoded) in the pools of frames larger than
    /// [`POOLED_FRAME_BYTES`] (none when no frame is).
    large: usize,
    /// Largest frame cost of the file.
    largest_frame: u64,
}

impl UnpackPlan {
    pub(crate) fn new(index: &SeekableIndex, pipeline: &PipelineOptions) -> UnpackPlan {
        let largest_frame = index.frames().iter().map(frame_cost).max().unwrap_or(0);
        let pipeline = pipeline.pipeline();
        let (workers, depth) = (pipeline.workers(), pipeline.channel_depth());
        let frame_budget = times(2, largest_frame).max(MIN_FRAME_BUDGET);
        let large = if largest_frame > POOLED_FRAME_BYTES {
            (frame_budget / largest_frame) as usize + 1
        } else {
            0
        };
        UnpackPlan {
            frame_budget,
            inputs: workers + depth + 2,
            outputs: pipeline.reorder_window() + depth + workers + HASH_QUEUE + 2,
            large,
            largest_frame,
        }
    }

    /// Peak memory: the frames in flight plus the idle pooled buffers.
    pub(crate) fn memory_bound(&self) -> MemoryBound {
        let pooled_buffers = (self.inputs + self.outputs) as u64;
        let pooled = times(pooled_buffers, self.largest_frame.min(POOLED_FRAME_BYTES));
        // A compressed and a decoded buffer of the largest frame cost its frame cost together.
        let large = times(self.large as u64, self.largest_frame);
        MemoryBound {
            bytes: self.frame_budget.saturating_add(pooled).saturating_add(large),
            formula: format!(
                "frames in flight max(2 × largest frame {}, 64 MiB) + {} pooled buffers + {} \
                 pooled pairs of large-frame buffers",
                approx_size(self.largest_frame),
                pooled_buffers,
                self.large
            ),
        }
    }
}

/// Bytes a frame holds while in flight: its compressed and its decoded size.
fn frame_cost(frame: &FrameEntry) -> u64 {
    let compressed = frame.compressed_range();
    let decoded = frame.decompressed_range();
    (compressed.end - compressed.start).saturating_add(decoded.end - decoded.start)
}

/// Decodes every frame on the pipeline, checking frames (with their BLAKE3 digests, in the
/// workers), the total size and, for version 1, the SHA-256. Returns the pipeline's report
/// and the SHA-256 of the original, when it was computed.
fn unpack_zstd(
    index: &SeekableIndex,
    packed: &mut Packed,
    output: &mut dyn Write,
    options: &UnpackOptions,
) -> Result<(Report, Option<[u8; 32]>)> {
    let pipeline = options.pipeline.pipeline();
    let plan = UnpackPlan::new(index, &options.pipeline);
    let compare_sha256 = options.check_digest && index.sha256().is_some();
    let hash = compare_sha256 || options.sha256;
    let check_digests = options.check_digest;
    if check_digests {
        // Version 3's piece values, which only a partial `cat` uses, are checked too, so that
        // a verified file has no damaged byte anywhere (16 merges per 16 MiB frame).
        index.check_pieces(packed)?;
    }
    let budget = ByteBudget::new(plan.frame_budget);
    // Buffers are recycled, not allocated per frame: fresh megabyte allocations cost page
    // faults on every frame. Outputs can be held by the out channel, the reorder window, the
    // workers and the hashing queue at once; the pool covers all of them, so a worker never
    // waits for a buffer that only the sink's progress would free. Large frames use pools of
    // their own that are never waited for (see `FrameBuf`); the byte budget bounds every
    // frame in flight either way.
    let inputs = (Pool::from_fn(plan.inputs, Vec::new), Pool::from_fn(plan.large, Vec::new));
    let outputs = (Pool::from_fn(plan.outputs, Vec::new), Pool::from_fn(plan.large, Vec::new));
    let (hash_tx, hash_rx) = mpsc::sync_channel::<(FrameBuf, Credit)>(HASH_QUEUE);
    let hasher = thread::spawn(move || {
        let mut hasher = Sha256::new();
        for (chunk, _credit) in hash_rx {
            hasher.update(&chunk[..]);
        }
        <[u8; 32]>::from(hasher.finalize())
    });
    let mut decoded = 0u64;
    let outcome = pipeline.run_ordered(
        |emit: &mut seqflow_pipeline::Emitter<FrameJob>| {
            for frame in index.frames() {
                let Some(credit) = budget.acquire(frame_cost(frame), || emit.is_cancelled()) else {
                    return Ok(());
                };
                let compressed_len = frame.compressed_range().end - frame.compressed_range().start;
                let mut compressed = FrameBuf::take(&inputs, compressed_len)?;
                index.read_frame(packed, frame, &mut compressed)?;
                emit.progress(compressed.len() as u64);
                let cost = compressed.len();
                if emit.send(Weighted::new(cost, (*frame, compressed, credit))).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        },
        |_| FrameDecompressor::new(),
        |decompressor, item| {
            let decompressor = decompressor.as_mut().map_err(|e| Error::Internal(e.to_string()))?;
            let (mut frame, compressed, credit) = item.into_inner();
            if !check_digests {
                frame.digest = None;
            }
            let decoded_len = frame.decompressed_range().end - frame.decompressed_range().start;
            let mut out = FrameBuf::take(&outputs, decoded_len)?;
            decompressor.decompress(&compressed, &frame, &mut out)?;
            Ok((out, credit))
        },
        |(chunk, credit)| {
            output.write_all(&chunk)?;
            decoded += chunk.len() as u64;
            if hash {
                hash_tx
                    .send((chunk, credit))
                    .map_err(|_| Error::Internal("the hashing thread stopped".into()))?;
            }
            Ok(())
        },
    );
    drop(hash_tx);
    let sha256 =
        hasher.join().map_err(|_| Error::Internal("the hashing thread panicked".into()))?;
    let outcome = outcome.map_err(Error::from_pipeline)?;
    if decoded != index.original_size() {
        return Err(Error::Corrupt(format!(
            "decoded {decoded} bytes but the metadata says {}",
            index.original_size()
        )));
    }
    if compare_sha256 && index.sha256().is_some_and(|recorded| &sha256 != recorded) {
        return Err(Error::Corrupt(
            "SHA-256 of the decoded data does not match the one recorded when packing".into(),
        ));
    }
    Ok((outcome.report, hash.then_some(sha256)))
}
