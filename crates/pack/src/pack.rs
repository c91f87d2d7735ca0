//! [`pack`]: chunked parallel compression into zstd seekable or BGZF, optionally encrypted
//! with Crypt4GH.
//!
//! The chunk size is given, or ([`ChunkSize::Auto`], the default) chosen for zstd from the
//! input's first 2 MiB by [`seqflow_container::choose_chunk_size`]: 1 MiB, larger (up to
//! 16 MiB) only where the data repeats itself further apart than 1 MiB frames can see. The
//! source thread reads `chunk_size` blocks into pooled buffers; workers compress each block
//! with their own reused context and hash it (BLAKE3, for the digest frame); the ordered sink
//! appends frames (encrypting 64 KiB segments when there are recipients).
//!
//! Peak memory ([`pack_memory_bound`]): `(threads + read_ahead + 2) × chunk_size` of input
//! buffers (`read_ahead` = `channel_depth`, at most 4 MiB of chunks but at least one), plus at
//! most `reorder window (2 × (channel_depth + threads)) + channel_depth` compressed chunks
//! (recycled buffers, in flight or idle), each ≤ `chunk_size × 1.01 + 64 KiB`,
//! plus per worker a compressor of
//! ≤ `4 × min(chunk_size, 256 MiB) + 8 MiB`:
//! with 1 MiB chunks, 2 threads and depth 4 under 50 MiB (with 16 MiB chunks, the largest
//! `Auto` picks, under 600 MiB; measured peak RSS 59 MB from a mapped file, 0.36 to 6.4 GB
//! of input), plus the zstd writer's frame
//! records (seek-table entry and BLAKE3 digest, 48 bytes per frame, and 32 per MiB of frames
//! longer than 1 MiB) for at most 2^20 frames or 48 MiB: past that they go to an unlinked
//! temporary file, so memory does not grow with the input.

use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::sync::Arc;

use memmap2::{Advice, Mmap};

use seqflow_container::{
    AUTO_MIN_CHUNK, AUTO_SAMPLE, BgzfChunk, BgzfCompressor, BgzfWriter, FrameCompressor,
    SeekableWriter, choose_chunk_size,
};
use seqflow_crypt4gh::{Encryptor, KeyPair};
use seqflow_pipeline::{Pool, PoolGuard, Report, Weighted};

use crate::buffers::FrameBuf;
use crate::error::{Error, Result};
use crate::options::{
    ChunkSize, Container, MAX_CHUNK_SIZE, MemoryBound, PackOptions, human_size, times,
};

/// What [`pack`] gives back: the writers (complete, flushed by the container), the size of
/// the original and the pipeline's metrics.
#[derive(Debug)]
pub struct PackOutcome<W, X> {
    /// The packed output.
    pub output: W,
    /// The `.gzi` index output, when one was given (BGZF only).
    pub index: Option<X>,
    /// Bytes of input packed.
    pub original_size: u64,
    /// Per-stage metrics of the run.
    pub report: Report,
}

/// Packs `input` into `output` with `options`, in parallel; for BGZF, writes the `.gzi` index
/// into `index` when one is given (it is ignored for zstd). `name` names the input in errors.
///
/// The writers are given back in the outcome, so that a caller who wrote to temporary files
/// can commit them.
///
/// # Errors
/// [`Error::InvalidOptions`] for a level or chunk size out of range, or a sender key without
/// recipients; [`Error::In`] (`name: read error`) when reading fails; [`Error::Io`],
/// [`Error::Container`] or [`Error::Crypt4gh`] when writing fails.
pub fn pack<R, W, X>(
    name: &str,
    input: R,
    output: W,
    index: Option<X>,
    options: &PackOptions,
) -> Result<PackOutcome<W, X>>
where
    R: Read + Send,
    W: Write,
    X: Write,
{
    options.validate()?;
    let (chunk_size, mut input) = chunk_size_for(name, input, options)?;
    let pipeline = options.pipeline.pipeline();
    let ahead = read_ahead(pipeline.channel_depth(), chunk_size);
    let buffers = Pool::from_fn(pipeline.workers() + ahead + 2, || {
        let mut buffer = Vec::with_capacity(chunk_size);
        seqflow_container::advise_huge_pages(&mut buffer);
        buffer
    });
    let mut original_size = 0u64;
    let source = |emit: &mut seqflow_pipeline::Emitter<_>| -> Result<()> {
        loop {
            let Ok(mut buf) = buffers.take() else { return Ok(()) };
            let n = read_up_to(&mut input, chunk_size, &mut buf)
                .map_err(|e| Error::Io(e).in_file(format!("{name}: read error")))?;
            if n == 0 {
                return Ok(());
            }
            original_size += n as u64;
            emit.progress(n as u64);
            if emit.send(Weighted::new(n, Chunk::Read(buf))).is_err() {
                return Ok(());
            }
        }
    };
    let (report, output, index) = pack_chunks(source, chunk_size, output, index, options)?;
    Ok(PackOutcome { output, index, original_size, report })
}

/// [`pack`] for an open file: a non-empty regular file is mapped into memory and the workers
/// compress straight from the page cache (no copy into buffers of our own, whose first touch
/// cost as much as the copy); anything else is read as [`pack`] reads it. The output is the
/// same either way.
///
/// Each chunk's pages are dropped from the process's mappings once it is compressed (they stay
/// in the page cache), so the resident set does not grow with the file. The file's length is
/// checked before each chunk: a file that shrinks while it is packed is an error. One that
/// shrinks between that check and the read raises `SIGBUS`, the risk of every memory-mapped
/// reader: the `seqflow` CLI catches it, deletes its temporary outputs and exits with one
/// line; a library caller that cannot rule out such a writer should do the same, or use
/// [`pack`] on the file.
///
/// # Errors
/// As [`pack`]; a file that got shorter while it was packed is an [`Error::In`] read error.
pub fn pack_from_file<W, X>(
    name: &str,
    file: File,
    output: W,
    index: Option<X>,
    options: &PackOptions,
) -> Result<PackOutcome<W, X>>
where
    W: Write,
    X: Write,
{
    let Some(mapped) = MappedInput::open(&file) else {
        return pack(name, file, output, index, options);
    };
    options.validate()?;
    let len = mapped.map.len();
    let chunk_size = chunk_size_of_sample(&mapped.map[..len.min(AUTO_SAMPLE)], options)?;
    let mapped = Arc::new(mapped);
    let source = |emit: &mut seqflow_pipeline::Emitter<_>| -> Result<()> {
        for start in (0..len).step_by(chunk_size) {
            mapped.check_len().map_err(|e| Error::Io(e).in_file(format!("{name}: read error")))?;
            let end = (start + chunk_size).min(len);
            emit.progress((end - start) as u64);
            let chunk = Chunk::Mapped(Arc::clone(&mapped), start..end);
            if emit.send(Weighted::new(end - start, chunk)).is_err() {
                return Ok(());
            }
        }
        Ok(())
    };
    let (report, output, index) = pack_chunks(source, chunk_size, output, index, options)?;
    Ok(PackOutcome { output, index, original_size: len as u64, report })
}

/// The output writers with their container, the index writer and the pipeline's report.
type Packed<W, X> = (Report, W, Option<X>);

/// Compresses the chunks `source` emits (of at most `chunk_size` bytes) on the pipeline into
/// the container of `options`, in order.
fn pack_chunks<S, W, X>(
    source: S,
    chunk_size: usize,
    output: W,
    index: Option<X>,
    options: &PackOptions,
) -> Result<Packed<W, X>>
where
    S: FnMut(&mut seqflow_pipeline::Emitter<Weighted<Chunk>>) -> Result<()> + Send,
    W: Write,
    X: Write,
{
    let sealed = if options.recipients.is_empty() {
        Sealed::Plain(output)
    } else {
        let sender = match &options.sender_key {
            Some(key) => key.clone(),
            None => KeyPair::generate().secret,
        };
        Sealed::Encrypted(Encryptor::new(output, &sender, &options.recipients)?)
    };
    let pipeline = options.pipeline.pipeline();
    let level = options.level;
    let (report, output, index) = match options.container {
        Container::Zstd => {
            let mut writer = SeekableWriter::new(sealed);
            // Frames written go back to the workers: a fresh 16 MiB output buffer per chunk
            // cost a tenth of a large-chunk run in page faults. The pool holds as many frames
            // as can be in flight, so that a worker practically never allocates (and the
            // resident set stops at the frames' high-water mark instead of creeping up with
            // the allocator's reuse of freed buffers).
            let depth = pipeline.channel_depth() as u64;
            let frames = frames_in_flight(depth, pipeline.workers() as u64) as usize;
            let spare_frames = Pool::from_fn(frames, Vec::new);
            let outcome = pipeline
                .run_ordered(
                    source,
                    |_| FrameCompressor::new(level),
                    |compressor, chunk| {
                        let compressor = compressor.as_mut().map_err(|e| setup_error(e))?;
                        let mut frame = FrameBuf::take_or_new(&spare_frames);
                        let chunk = chunk.into_inner();
                        let info = compressor.compress(&chunk, &mut frame)?;
                        chunk.release();
                        Ok((frame, info))
                    },
                    |(frame, info)| Ok(writer.write_frame(&frame, info)?),
                )
                .map_err(Error::from_pipeline)?;
            // The workers hashed each chunk (BLAKE3); the writer adds the digest frame.
            let original_size = writer.original_bytes();
            let output = writer.finish(original_size, chunk_size as u32)?.into_output()?;
            (outcome.report, output, None)
        }
        Container::Bgzf => {
            let mut writer = BgzfWriter::new(sealed);
            let outcome = pipeline
                .run_ordered(
                    source,
                    |_| BgzfCompressor::new(level),
                    |compressor, chunk| {
                        let compressor = compressor.as_mut().map_err(|e| setup_error(e))?;
                        let mut blocks = BgzfChunk::new();
                        let chunk = chunk.into_inner();
                        compressor.compress(&chunk, &mut blocks)?;
                        chunk.release();
                        Ok(blocks)
                    },
                    |blocks| Ok(writer.write_chunk(&blocks)?),
                )
                .map_err(Error::from_pipeline)?;
            let (sealed, gzi) = writer.finish()?;
            let index = match index {
                Some(mut index) => {
                    gzi.write_to(&mut index)?;
                    Some(index)
                }
                None => None,
            };
            (outcome.report, sealed.into_output()?, index)
        }
    };
    Ok((report, output, index))
}

/// A chunk of the input: read into a pooled buffer, or a range of the mapped file.
enum Chunk {
    Read(PoolGuard<Vec<u8>>),
    Mapped(Arc<MappedInput>, Range<usize>),
}

impl Chunk {
    /// Done with the chunk: a mapped one's pages leave the process's resident set.
    fn release(self) {
        if let Chunk::Mapped(mapped, range) = self {
            mapped.release(range);
        }
    }
}

impl std::ops::Deref for Chunk {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Chunk::Read(buf) => buf,
            Chunk::Mapped(mapped, range) => &mapped.map[range.clone()],
        }
    }
}

/// A regular file mapped read-only, with the file kept to check its length.
struct MappedInput {
    map: Mmap,
    file: File,
}

impl MappedInput {
    /// Maps `file` if it is a non-empty regular file (`None`: read it instead).
    fn open(file: &File) -> Option<MappedInput> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() == 0 || usize::try_from(meta.len()).is_err() {
            return None;
        }
        // SAFETY: the map is only read, and only while the file is at least as long as the
        // map (`check_len` before each chunk); a truncation racing with that check is the
        // documented risk of `pack_from_file`.
        let map = unsafe { Mmap::map(file) }.ok()?;
        let _ = map.advise(Advice::Sequential);
        Some(MappedInput { map, file: file.try_clone().ok()? })
    }

    /// Fails when the file is now shorter than the map.
    fn check_len(&self) -> io::Result<()> {
        let len = self.file.metadata()?.len();
        if len < self.map.len() as u64 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the file shrank from {} to {len} bytes while it was packed",
                    self.map.len()
                ),
            ));
        }
        Ok(())
    }

    /// Drops the page-table entries of every page `range` touched (widened to whole blocks,
    /// see `seqflow_mapped::release`): they stay in the page cache and fault back in unchanged
    /// if read again.
    fn release(&self, range: Range<usize>) {
        seqflow_mapped::release(&self.map, range);
    }
}

/// The input with the bytes read ahead of it to choose the chunk size put back in front.
type Resampled<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// The chunk size of a run, and the input to read from: for [`ChunkSize::Auto`] with zstd, the
/// first [`AUTO_SAMPLE`] bytes are read to choose it and put back in front of the rest.
fn chunk_size_for<R: Read>(
    name: &str,
    mut input: R,
    options: &PackOptions,
) -> Result<(usize, Resampled<R>)> {
    let mut sample = Vec::new();
    if chooses_chunk_size(options) {
        read_up_to(&mut input, AUTO_SAMPLE, &mut sample)
            .map_err(|e| Error::Io(e).in_file(format!("{name}: read error")))?;
    }
    let chosen = chunk_size_of_sample(&sample, options)?;
    Ok((chosen, io::Cursor::new(sample).chain(input)))
}

/// Whether the chunk size is chosen from the input's first [`AUTO_SAMPLE`] bytes.
fn chooses_chunk_size(options: &PackOptions) -> bool {
    matches!(options.chunk_size, ChunkSize::Auto { .. })
        && options.chunk_size.largest(options.container) > AUTO_MIN_CHUNK
}

/// The chunk size of a run whose input starts with `sample` (at most [`AUTO_SAMPLE`] bytes).
fn chunk_size_of_sample(sample: &[u8], options: &PackOptions) -> Result<usize> {
    let largest = options.chunk_size.largest(options.container);
    if chooses_chunk_size(options) {
        return Ok(choose_chunk_size(sample)?.min(largest));
    }
    Ok(largest)
}

/// A worker's failed context set-up (each worker reports its own, as a message).
fn setup_error(error: &seqflow_container::Error) -> Error {
    Error::Internal(error.to_string())
}

impl PackOptions {
    /// Refuses levels and chunk sizes the container does not take, and a sender key without
    /// recipients ([`pack`] checks this first; a caller may check earlier).
    ///
    /// # Errors
    /// [`Error::InvalidOptions`], naming the command-line flag of the option.
    pub fn validate(&self) -> Result<()> {
        let level = self.level;
        match self.container {
            Container::Zstd if !(1..=22).contains(&level) => {
                return Err(invalid(format!("--level {level}: zstd levels are 1 to 22")));
            }
            Container::Bgzf if !(0..=12).contains(&level) => {
                return Err(invalid(format!(
                    "--level {level}: BGZF (libdeflate) levels are 0 to 12"
                )));
            }
            _ => {}
        }
        let largest = self.chunk_size.largest(self.container);
        if largest == 0 || largest > MAX_CHUNK_SIZE {
            return Err(invalid("--chunk-size must be between 1 byte and 1 GiB".into()));
        }
        if self.sender_key.is_some() && self.recipients.is_empty() {
            return Err(invalid(
                "--sender-key signs the Crypt4GH header of an encrypted file: give --recipient \
                 too"
                .into(),
            ));
        }
        Ok(())
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidOptions(message)
}

impl PackOptions {
    /// Lowers the largest size [`ChunkSize::Auto`] may choose, halving it down to 1 MiB, until
    /// `fits` accepts [`pack_memory_bound`] (a caller's memory limit); a fixed size is left as
    /// it is (check its bound as for any run).
    pub fn fit_auto_chunk_size(&mut self, fits: impl Fn(u64) -> bool) {
        while let ChunkSize::Auto { largest } = self.chunk_size {
            if largest <= AUTO_MIN_CHUNK || fits(pack_memory_bound(self).bytes) {
                return;
            }
            self.chunk_size = ChunkSize::Auto { largest: largest / 2 };
        }
    }
}

/// The peak-memory bound of [`pack`] with `options` (module docs), to check before packing:
/// at the largest chunk the options can make.
pub fn pack_memory_bound(options: &PackOptions) -> MemoryBound {
    let chunk_size = options.chunk_size.largest(options.container) as u64;
    let threads = options.pipeline.threads.max(1) as u64;
    let depth = options.pipeline.channel_depth.max(1) as u64;
    let inputs = threads + read_ahead(depth as usize, chunk_size as usize) as u64 + 2;
    let outputs = frames_in_flight(depth, threads);
    // A compressed chunk is at most the chunk plus zstd's worst-case expansion (< 1/128).
    let output_bytes = chunk_size.saturating_add(chunk_size / 128 + (64 << 10));
    let bytes = times(inputs, chunk_size)
        .saturating_add(times(outputs, output_bytes))
        .saturating_add(times(threads, compressor_bytes(chunk_size)));
    let formula = format!(
        "{inputs} input chunks + {outputs} compressed chunks of {} + {threads} compressors",
        human_size(chunk_size)
    );
    MemoryBound { bytes, formula }
}

/// Chunks the source may read ahead of the workers: `channel_depth`, but no more than
/// [`READ_AHEAD_BYTES`] of them when chunks are large (at least one). Every buffer is touched
/// once and kept; on this project's VMs first-touching memory is what 16 MiB chunks cost most
/// beside compression (a third more page clearing than zstd itself with eight of them).
fn read_ahead(channel_depth: usize, chunk_size: usize) -> usize {
    channel_depth.min((READ_AHEAD_BYTES / chunk_size.max(1)).max(1))
}

/// Compressed frames that can be alive at once (in the workers, the out channel, the reorder
/// window and the sink), all from one pool of recycled buffers.
fn frames_in_flight(channel_depth: u64, workers: u64) -> u64 {
    2 * (channel_depth + workers) + channel_depth
}

/// Bytes of input the source reads ahead of the workers when chunks are large.
const READ_AHEAD_BYTES: usize = 4 << 20;

/// Per-worker compressor state counted in pack's bound: a zstd context sized for the chunk
/// (window and match tables: at most about 4 × the chunk, and zstd's largest window, 128 MiB
/// at level 22, caps what the chunk can ask for) plus 8 MiB.
fn compressor_bytes(chunk_size: u64) -> u64 {
    times(4, chunk_size.min(256 << 20)).saturating_add(8 << 20)
}

/// Reads up to `limit` bytes into `buf` (replacing its contents); fewer only at the end.
pub(crate) fn read_up_to(
    input: &mut (impl Read + ?Sized),
    limit: usize,
    buf: &mut Vec<u8>,
) -> io::Result<usize> {
    buf.clear();
    input.take(limit as u64).read_to_end(buf)
}

/// The writer under the container: the output, or a Crypt4GH encryptor over it.
enum Sealed<W: Write> {
    Plain(W),
    Encrypted(Encryptor<W>),
}

impl<W: Write> Write for Sealed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sealed::Plain(out) => out.write(buf),
            Sealed::Encrypted(enc) => enc.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealed::Plain(out) => out.flush(),
            Sealed::Encrypted(enc) => enc.flush(),
        }
    }
}

impl<W: Write> Sealed<W> {
    /// Ends the encryption, if any, and gives back the output (still to be committed).
    fn into_output(self) -> Result<W> {
        match self {
            Sealed::Plain(out) => Ok(out),
            Sealed::Encrypted(enc) => Ok(enc.finish()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_file_that_shrinks_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input");
        std::fs::write(&path, vec![b'A'; 3 * seqflow_mapped::RELEASE_BLOCK]).unwrap();
        let file = File::open(&path).unwrap();
        let mapped = MappedInput::open(&file).unwrap();
        mapped.check_len().unwrap();
        mapped.release(10..2 * seqflow_mapped::RELEASE_BLOCK + 10);
        assert_eq!(
            mapped.map[seqflow_mapped::RELEASE_BLOCK],
            b'A',
            "released pages read back from the file"
        );
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(100).unwrap();
        let e = mapped.check_len().unwrap_err().to_string();
        assert!(
            e.contains(&format!("shrank from {} to 100 bytes", 3 * seqflow_mapped::RELEASE_BLOCK)),
            "{e}"
        );
        // Empty files and non-files are read, not mapped.
        std::fs::write(&path, b"").unwrap();
        assert!(MappedInput::open(&File::open(&path).unwrap()).is_none());
        assert!(MappedInput::open(&File::open(dir.path()).unwrap()).is_none());
    }

    #[test]
    fn pack_from_file_writes_what_pack_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input");
        let data: Vec<u8> = (0..300_000u64).map(|i| b"ACGT\n"[(i * i % 7 % 5) as usize]).collect();
        std::fs::write(&path, &data).unwrap();
        let options = PackOptions { chunk_size: ChunkSize::Fixed(65_536), ..Default::default() };
        let read = pack("in", &data[..], Vec::new(), None::<Vec<u8>>, &options).unwrap();
        let file = File::open(&path).unwrap();
        let mapped = pack_from_file("in", file, Vec::new(), None::<Vec<u8>>, &options).unwrap();
        assert!(read.output == mapped.output);
        assert_eq!(mapped.original_size, data.len() as u64);
    }
}
