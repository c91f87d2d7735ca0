//! BGZF input: the whole original for unpack and verify, inflated in parallel, and ranges for
//! cat.
//!
//! Unpack: the source thread cuts the file into whole blocks ([`BgzfBlockReader`]: each
//! block's length is in its header, BSIZE) and sends them in batches of up to
//! [`BATCH_BLOCKS`] blocks in pooled buffers; workers inflate each batch with their own
//! libdeflate decompressor ([`BgzfInflater`]) into a pooled buffer, checking every block's
//! ISIZE and CRC32; the engine's ordered sink writes the batches in file order. A fault is
//! carried to the sink as a value, so that the one reported is the first in file order
//! whatever the thread count, and the output written before it is the same as well.
//! Before decoding, the file must end with the EOF block; when it does not, the file is
//! walked block by block (as `BgzfReader::scan` does) so that a cut inside a block is
//! reported as such, and only a cut at a block boundary as a missing EOF block.
//!
//! Peak memory ([`memory_bound`]), with `W` threads, `D` the channel depth and `R` the
//! engine's reorder window (`2 × (D + W)`): `W + D + 2` compressed and
//! `R + D + W + 2` decoded batch buffers of at most `BATCH_BLOCKS × 64 KiB` = 1 MiB each,
//! plus per worker a libdeflate decompressor (≈ 11 KB): with the defaults (2 threads,
//! depth 4) 28 buffers, 28 MiB.

use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;

use seqflow_container::{BgzfBlockReader, BgzfInflater, BgzfReader, EOF_BLOCK, MAX_BLOCK_SIZE};
use seqflow_pipeline::{Emitter, Pool, PoolGuard, Report, Weighted};
use sha2::{Digest, Sha256};

use crate::error::{Error, InFile, Result};
use crate::input::Packed;
use crate::options::{MemoryBound, PipelineOptions, UnpackOptions, times};

/// Most blocks per batch: at most 1 MiB compressed and 1 MiB decoded, few enough that two
/// workers stay busy on files of a few blocks, many enough that queue traffic is negligible.
pub(crate) const BATCH_BLOCKS: usize = 16;

/// Bytes of a batch buffer: `BATCH_BLOCKS` blocks of at most 64 KiB.
const BATCH_BYTES: usize = BATCH_BLOCKS * MAX_BLOCK_SIZE;

/// Whole blocks read by the source, or the fault that stopped it.
type Job = Weighted<Result<Batch>>;

/// Consecutive whole blocks, the first at byte `offset` of the file.
struct Batch {
    offset: u64,
    blocks: PoolGuard<Vec<u8>>,
}

/// The number of pooled compressed and decoded batch buffers.
fn pool_sizes(pipeline: &PipelineOptions) -> (usize, usize) {
    let engine = pipeline.pipeline();
    let (workers, depth) = (engine.workers(), engine.channel_depth());
    (workers + depth + 2, engine.reorder_window() + depth + workers + 2)
}

/// The peak-memory bound of a BGZF unpack with `pipeline` (module docs).
pub(crate) fn memory_bound(pipeline: &PipelineOptions) -> MemoryBound {
    let (inputs, outputs) = pool_sizes(pipeline);
    let buffers = (inputs + outputs) as u64;
    let workers = pipeline.threads.max(1) as u64;
    MemoryBound {
        bytes: times(buffers, BATCH_BYTES as u64).saturating_add(times(workers, 64 << 10)),
        formula: format!("{buffers} batch buffers of 1 MiB + {workers} inflaters"),
    }
}

/// Decodes a whole BGZF file into `out` on the pipeline, checking every block and the EOF
/// block. Returns the pipeline's report, the size of the original and its SHA-256 when
/// `options.sha256` asks for it.
pub(crate) fn unpack_bgzf(
    name: &str,
    mut packed: Packed,
    out: &mut dyn Write,
    options: &UnpackOptions,
) -> Result<(Report, u64, Option<[u8; 32]>)> {
    let file_len = packed.seek(SeekFrom::End(0)).in_file(name)?;
    if !ends_with_eof_block(&mut packed, file_len).in_file(name)? {
        // Tell a cut inside a block (or a damaged header) from a cut between blocks.
        BgzfReader::scan(&mut packed).in_file(name)?;
        return Err(Error::Corrupt("BGZF file has no EOF block (truncated?)".into()).in_file(name));
    }
    packed.seek(SeekFrom::Start(0)).in_file(name)?;
    let pipeline = options.pipeline.pipeline();
    let (inputs, outputs) = pool_sizes(&options.pipeline);
    let inputs = Pool::from_fn(inputs, || Vec::with_capacity(BATCH_BYTES));
    let outputs = Pool::from_fn(outputs, || Vec::with_capacity(BATCH_BYTES));
    let mut hasher = options.sha256.then(Sha256::new);
    let mut decoded = 0u64;
    let mut blocks = BgzfBlockReader::new(packed, Some(file_len));
    let outcome = pipeline.run_ordered(
        |emit: &mut Emitter<Job>| {
            loop {
                let Ok(mut buf) = inputs.take() else { return Ok(()) };
                buf.clear();
                let offset = blocks.offset();
                let mut fault = None;
                for _ in 0..BATCH_BLOCKS {
                    match blocks.read_block(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => {
                            fault = Some(Error::from(e));
                            break;
                        }
                    }
                }
                let (len, end) = (buf.len(), buf.is_empty() && fault.is_none());
                emit.progress(len as u64);
                if end {
                    return Ok(());
                }
                if len > 0
                    && emit.send(Weighted::new(len, Ok(Batch { offset, blocks: buf }))).is_err()
                {
                    return Ok(());
                }
                if let Some(fault) = fault {
                    // In order behind the blocks before it: the sink reports it.
                    let _ = emit.send(Weighted::new(0, Err(fault)));
                    return Ok(());
                }
            }
        },
        |_| BgzfInflater::new(),
        |inflater, job: Job| {
            let batch = match job.into_inner() {
                Ok(batch) => batch,
                Err(fault) => return Ok(Err(fault)),
            };
            let mut out =
                outputs.take().map_err(|_| Error::Internal("batch buffers closed".into()))?;
            out.clear();
            match inflater.inflate_blocks(&batch.blocks, batch.offset, &mut out) {
                Ok(_) => Ok(Ok(out)),
                Err(fault) => Ok(Err(Error::from(fault))),
            }
        },
        |result: Result<PoolGuard<Vec<u8>>>| {
            let chunk = result?;
            out.write_all(&chunk)?;
            if let Some(hasher) = hasher.as_mut() {
                hasher.update(&chunk[..]);
            }
            decoded += chunk.len() as u64;
            Ok(())
        },
    );
    let outcome = outcome.map_err(Error::from_pipeline).in_file(name)?;
    Ok((outcome.report, decoded, hasher.map(|h| h.finalize().into())))
}

/// Whether the file ends with the 28-byte EOF block.
fn ends_with_eof_block(packed: &mut Packed, file_len: u64) -> std::io::Result<bool> {
    let len = EOF_BLOCK.len() as u64;
    if file_len < len {
        return Ok(false);
    }
    let mut tail = [0u8; EOF_BLOCK.len()];
    packed.seek(SeekFrom::Start(file_len - len))?;
    packed.read_exact(&mut tail)?;
    Ok(tail == EOF_BLOCK)
}

/// The size of the original of a BGZF file: decodes only what follows the last index entry.
pub(crate) fn bgzf_original_size<R: Read + Seek>(reader: &mut BgzfReader<R>) -> Result<u64> {
    const WINDOW: u64 = 4 << 20;
    let mut size = reader.index().entries().last().map_or(0, |&(_, uncompressed)| uncompressed);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        reader.read_range(size..size.saturating_add(WINDOW), &mut buf)?;
        size += buf.len() as u64;
        if (buf.len() as u64) < WINDOW {
            return Ok(size);
        }
    }
}

/// Decodes `range` of a BGZF file into `out` in windows of 4 MiB, so memory stays bounded
/// whatever the range. Returns the bytes written.
pub(crate) fn copy_bgzf_range<R: Read + Seek>(
    reader: &mut BgzfReader<R>,
    range: Range<u64>,
    out: &mut (impl Write + ?Sized),
) -> Result<u64> {
    const WINDOW: u64 = 4 << 20;
    let (mut pos, mut buf) = (range.start, Vec::new());
    while pos < range.end {
        buf.clear();
        reader.read_range(pos..range.end.min(pos.saturating_add(WINDOW)), &mut buf)?;
        if buf.is_empty() {
            break;
        }
        out.write_all(&buf)?;
        pos += buf.len() as u64;
    }
    Ok(pos - range.start)
}
