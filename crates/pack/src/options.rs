//! Typed options of the pipelines: [`PackOptions`], [`UnpackOptions`] and the
//! [`PipelineOptions`] they share.

use std::fmt;
use std::sync::Arc;

use seqflow_crypt4gh::{PublicKey, SecretKey};
use seqflow_pipeline::Pipeline;

/// Containers [`crate::pack`] writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Container {
    /// zstd seekable format: stock `zstd -d` reads it; seqflow reads ranges in parallel.
    #[default]
    Zstd,
    /// BGZF (bgzip, htslib, samtools faidx), with a `.gzi` index.
    Bgzf,
}

/// A progress callback: gets the input bytes read so far (compressed bytes when unpacking).
pub type ProgressFn = Arc<dyn Fn(u64) + Send + Sync>;

/// How many threads a run uses and how much it queues between them.
#[derive(Clone)]
pub struct PipelineOptions {
    /// Worker threads (at least 1; default: the available parallelism).
    pub threads: usize,
    /// Items waiting between stages (at least 1; default 4).
    pub channel_depth: usize,
    /// Called with the input bytes read so far, from the reading thread.
    pub progress: Option<ProgressFn>,
}

impl Default for PipelineOptions {
    fn default() -> PipelineOptions {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        PipelineOptions { threads, channel_depth: 4, progress: None }
    }
}

impl fmt::Debug for PipelineOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineOptions")
            .field("threads", &self.threads)
            .field("channel_depth", &self.channel_depth)
            .field("progress", &self.progress.as_ref().map(|_| "Fn(u64)"))
            .finish()
    }
}

impl PipelineOptions {
    /// The engine these options describe.
    pub(crate) fn pipeline(&self) -> Pipeline {
        let builder = Pipeline::builder()
            .workers(self.threads.max(1))
            .channel_depth(self.channel_depth.max(1));
        match self.progress.clone() {
            Some(progress) => builder.on_progress(move |p| progress(p.input_bytes)).build(),
            None => builder.build(),
        }
    }
}

/// Options of [`crate::pack`] and [`crate::pack_file`].
#[derive(Debug, Clone)]
pub struct PackOptions {
    /// The container to write (default zstd seekable).
    pub container: Container,
    /// Compression level: zstd 1–22, BGZF 0–12 (default 3).
    pub level: i32,
    /// Bytes of input per chunk: one zstd frame each; for BGZF, cut into 64 KiB blocks
    /// (default [`ChunkSize::Auto`] up to 16 MiB).
    pub chunk_size: ChunkSize,
    /// Encrypt with Crypt4GH for these recipients (none: no encryption).
    pub recipients: Vec<PublicKey>,
    /// Sign the Crypt4GH header with this key (default: a throw-away key); only with
    /// recipients.
    pub sender_key: Option<SecretKey>,
    /// Threads and queues.
    pub pipeline: PipelineOptions,
}

/// Largest chunk: the largest frame the container format allows.
pub const MAX_CHUNK_SIZE: usize = seqflow_container::MAX_FRAME_SIZE as usize;

/// How [`crate::pack`] cuts its input into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkSize {
    /// For zstd, chosen from the input's first bytes by
    /// [`seqflow_container::choose_chunk_size`] (1 MiB, or up to 16 MiB where the data repeats
    /// itself further apart than 1 MiB frames can see), at most `largest` (the caller's memory
    /// cap; [`seqflow_container::AUTO_MAX_CHUNK`] by default); 1 MiB for BGZF.
    Auto {
        /// The largest size the choice may take.
        largest: usize,
    },
    /// This many bytes, 1 to [`MAX_CHUNK_SIZE`].
    Fixed(usize),
}

impl Default for ChunkSize {
    fn default() -> ChunkSize {
        ChunkSize::Auto { largest: seqflow_container::AUTO_MAX_CHUNK }
    }
}

impl ChunkSize {
    /// The largest chunk a run with this setting can make in `container` (what its memory
    /// bound counts).
    pub fn largest(self, container: Container) -> usize {
        match (self, container) {
            (ChunkSize::Fixed(size), _) => size,
            (ChunkSize::Auto { .. }, Container::Bgzf) => seqflow_container::AUTO_MIN_CHUNK,
            (ChunkSize::Auto { largest }, Container::Zstd) => {
                largest.max(seqflow_container::AUTO_MIN_CHUNK)
            }
        }
    }
}

impl Default for PackOptions {
    fn default() -> PackOptions {
        PackOptions {
            container: Container::Zstd,
            level: 3,
            chunk_size: ChunkSize::default(),
            recipients: Vec::new(),
            sender_key: None,
            pipeline: PipelineOptions::default(),
        }
    }
}

/// Options of [`crate::PackedInput::unpack`], [`crate::unpack_file`] and
/// [`crate::verify_file`].
#[derive(Debug, Clone)]
pub struct UnpackOptions {
    /// Check the end-to-end digest of the original the file records: each frame's BLAKE3
    /// (format versions 2 and 3, checked by the workers) or the whole-file SHA-256 (version 1).
    /// Every frame is checked against its own checksums either way. Default `true`.
    pub check_digest: bool,
    /// Compute the SHA-256 of the original for the caller (one thread, about 2 GB/s).
    pub sha256: bool,
    /// Secret key for Crypt4GH input, used by [`crate::unpack_file`] and
    /// [`crate::verify_file`].
    pub secret_key: Option<SecretKey>,
    /// Threads and queues.
    pub pipeline: PipelineOptions,
}

impl Default for UnpackOptions {
    fn default() -> UnpackOptions {
        UnpackOptions {
            check_digest: true,
            sha256: false,
            secret_key: None,
            pipeline: PipelineOptions::default(),
        }
    }
}

/// A run's peak-memory bound and how it was computed, to check against a limit before the
/// run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryBound {
    /// Peak bytes.
    pub bytes: u64,
    /// The formula, in words (`"8 input chunks + 16 compressed chunks of 1 MiB + …"`).
    pub formula: String,
}

/// `a × b` saturating, for memory formulas whose factors come from options.
pub(crate) fn times(a: u64, b: u64) -> u64 {
    a.saturating_mul(b)
}

/// A size as seqflow's flags take it: `1M`, `64K`, or bytes when no unit divides it (the
/// notation of this crate's messages, and of the CLI's).
///
/// ```
/// assert_eq!(seqflow_pack::human_size(16 << 20), "16M");
/// assert_eq!(seqflow_pack::human_size(1536), "1536");
/// ```
pub fn human_size(bytes: u64) -> String {
    for (shift, unit) in [(40, 'T'), (30, 'G'), (20, 'M'), (10, 'K')] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// A size rounded for reading: `1.5 GiB`, `23.4 GiB`, `512 KiB`.
///
/// ```
/// assert_eq!(seqflow_pack::approx_size(3 << 29), "1.5 GiB");
/// assert_eq!(seqflow_pack::approx_size(100), "100 bytes");
/// ```
pub fn approx_size(bytes: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift {
            return format!("{:.1} {unit}", bytes as f64 / (1u64 << shift) as f64);
        }
    }
    format!("{bytes} bytes")
}
