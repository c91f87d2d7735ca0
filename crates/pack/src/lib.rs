//! Parallel compression of any file into standard containers, and back: the pipelines of
//! `seqflow pack`, `unpack`, `cat` and `verify` as a library.
//!
//! * [`pack`] / [`pack_file`] cut the input into chunks that workers compress in parallel
//!   into the **zstd seekable format** (stock `zstd -d` restores it; the seek table gives
//!   random access; each chunk's BLAKE3 digest is recorded) or **BGZF** (bgzip, htslib,
//!   `samtools faidx`, with a `.gzi` index), optionally encrypted with **Crypt4GH**.
//! * [`PackedInput`] opens a packed file (seqflow's or another writer's seekable zstd, BGZF,
//!   plain zstd or gzip, Crypt4GH-encrypted or not, or standard input) and
//!   [`unpack`](PackedInput::unpack)s it, [`verify`](PackedInput::verify)s it or prints a byte
//!   range of it ([`cat`](PackedInput::cat)); [`unpack_file`] and [`verify_file`] do it in one
//!   call. Seekable zstd frames and BGZF blocks are decoded and checked in parallel, in
//!   bounded memory ([`PackedInput::memory_bound`]); every fault is an [`Error`] naming the
//!   file, the frame or block and its byte offset.
//!
//! The byte layout is specified in `docs/formats/pack.md`; the containers themselves live in
//! `seqflow-container`, the engine in `seqflow-pipeline`.
//!
//! ```
//! use seqflow_pack::{ChunkSize, PackOptions, UnpackOptions, pack_file, unpack_file, verify_file};
//!
//! let dir = tempfile::tempdir()?;
//! let (original, packed, restored) =
//!     (dir.path().join("reads.fq"), dir.path().join("reads.fq.zst"), dir.path().join("out.fq"));
//! let data = b"@r1\nACGTACGTAC\n+\nIIIIIIIIII\n".repeat(10_000);
//! std::fs::write(&original, &data)?;
//!
//! let options = PackOptions { chunk_size: ChunkSize::Fixed(64 << 10), ..PackOptions::default() };
//! let packed_summary = pack_file(&original, &packed, &options)?;
//! assert_eq!(packed_summary.original_size, data.len() as u64);
//!
//! verify_file(&packed, &UnpackOptions::default())?;
//! unpack_file(&packed, &restored, &UnpackOptions::default())?;
//! assert_eq!(std::fs::read(&restored)?, data);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod bgzf;
mod buffers;
mod cat;
mod credits;
mod error;
mod input;
mod options;
mod pack;
mod stream;
mod unpack;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

pub use error::{BoxError, Error, Result};
pub use input::{Format, PackedInput, gzi_path};
pub use options::{
    ChunkSize, Container, MAX_CHUNK_SIZE, MemoryBound, PackOptions, PipelineOptions, ProgressFn,
    UnpackOptions, approx_size, human_size,
};
pub use pack::{PackOutcome, pack, pack_from_file, pack_memory_bound};
/// Crypt4GH keys, for [`PackOptions::recipients`], [`PackOptions::sender_key`] and
/// [`UnpackOptions::secret_key`].
pub use seqflow_crypt4gh::{KeyPair, PublicKey, SecretKey};
/// Per-stage metrics of a run.
pub use seqflow_pipeline::Report;
pub use unpack::UnpackSummary;

use error::InFile;

/// Packs the file `input` into `output` (created or truncated); for BGZF also writes the
/// `.gzi` index beside it ([`gzi_path`]). On failure the outputs are removed.
///
/// # Errors
/// As [`pack`]; [`Error::In`] around [`Error::Io`] when a file cannot be opened or created.
pub fn pack_file(
    input: &Path,
    output: &Path,
    options: &PackOptions,
) -> Result<PackOutcome<(), ()>> {
    let name = input.display().to_string();
    let source = File::open(input).in_file(&name)?;
    let index_path = (options.container == Container::Bgzf).then(|| gzi_path(output));
    let run = || -> Result<PackOutcome<(), ()>> {
        let out = create(output)?;
        let index = index_path.as_deref().map(create).transpose()?;
        let outcome = pack_from_file(&name, source, out, index, options)?;
        finish(outcome.output, output)?;
        if let (Some(index), Some(path)) = (outcome.index, &index_path) {
            finish(index, path)?;
        }
        Ok(PackOutcome {
            output: (),
            index: index_path.as_ref().map(|_| ()),
            original_size: outcome.original_size,
            report: outcome.report,
        })
    };
    run().inspect_err(|_| {
        let _ = fs::remove_file(output);
        if let Some(path) = &index_path {
            let _ = fs::remove_file(path);
        }
    })
}

/// Restores the original of the packed file `input` into `output` (created or truncated),
/// with every check [`PackedInput::unpack`] makes; `options.secret_key` decrypts Crypt4GH
/// input. On failure the output is removed.
///
/// # Errors
/// As [`PackedInput::open`] and [`PackedInput::unpack`].
pub fn unpack_file(input: &Path, output: &Path, options: &UnpackOptions) -> Result<UnpackSummary> {
    let packed = PackedInput::open(input, options.secret_key.as_ref())?;
    let run = || -> Result<UnpackSummary> {
        let mut out = create(output)?;
        let summary = packed.unpack(&mut out, options)?;
        finish(out, output)?;
        Ok(summary)
    };
    run().inspect_err(|_| {
        let _ = fs::remove_file(output);
    })
}

/// Checks every frame, block, segment and digest of the packed file `input` without writing
/// anything ([`PackedInput::verify`]).
///
/// # Errors
/// As [`PackedInput::open`] and [`PackedInput::verify`].
pub fn verify_file(input: &Path, options: &UnpackOptions) -> Result<UnpackSummary> {
    PackedInput::open(input, options.secret_key.as_ref())?.verify(options)
}

/// A buffered new file, its errors naming it.
fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(path).in_file(&path.display().to_string())?))
}

/// Flushes a file written by [`create`].
fn finish(mut file: BufWriter<File>, path: &Path) -> Result<()> {
    file.flush().in_file(&path.display().to_string())
}
