//! Parallel BGZF decoding.
//!
//! BGZF (the block format of samtools/htslib) is a series of independent gzip members of at
//! most 64 KiB, each announcing its compressed size in a `BC` extra field. That makes the
//! blocks decodable in parallel: one thread cuts the raw stream into groups of blocks, a pool
//! of threads inflates them with libdeflate (checking each block's CRC32), and the reader
//! takes the results back in input order.
//!
//! Ordering uses one single-slot channel per group, queued in input order (as noodles does):
//! the queue's capacity bounds the groups in flight, so memory is at most
//! `(queue + threads) × GROUP_BLOCKS × 64 KiB` of output plus as much input.

use std::io::{self, Read};
use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::threaded::read_full;

/// BGZF blocks inflated together as one job (~1 MiB of output).
const GROUP_BLOCKS: usize = 16;
/// Largest inflated size of one block allowed by the BGZF specification.
const MAX_BLOCK: usize = 1 << 16;
/// Length of a BGZF block header up to and including the `BC` subfield.
const HEADER_LEN: usize = 18;

type GroupResult = io::Result<Vec<u8>>;

/// A `Read` over the decompressed contents of a BGZF stream, inflated on `threads` threads.
pub(crate) struct ParallelReader {
    results: Receiver<Receiver<GroupResult>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ParallelReader {
    /// Starts the splitter and `threads` inflater threads on `raw`.
    pub(crate) fn new(raw: impl Read + Send + 'static, threads: usize) -> ParallelReader {
        let threads = threads.max(1);
        let (job_tx, job_rx) = bounded::<(Vec<u8>, Sender<GroupResult>)>(threads * 2);
        let (result_tx, results) = bounded::<Receiver<GroupResult>>(threads * 4);
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            thread::Builder::new()
                .name("bgzf-inflate".into())
                .spawn(move || inflate_jobs(&job_rx))
                .expect("spawning a BGZF inflater thread");
        }
        thread::Builder::new()
            .name("bgzf-split".into())
            .spawn(move || split_blocks(raw, &job_tx, &result_tx))
            .expect("spawning the BGZF splitter thread");
        ParallelReader { results, current: Vec::new(), pos: 0, done: false }
    }
}

/// What the splitter read next.
enum Group {
    /// Complete BGZF blocks (empty at the end of the input).
    Blocks(Vec<u8>),
    /// `blocks` were complete BGZF blocks, then came a gzip member without the `BC` field,
    /// whose first bytes are `member_start`: the rest is decoded sequentially, as the
    /// single-threaded reader would, so the result never depends on the thread count.
    NotBgzf { blocks: Vec<u8>, member_start: Vec<u8> },
}

/// Cuts the raw stream into groups of whole blocks and queues them, in order.
fn split_blocks(
    mut raw: impl Read,
    jobs: &Sender<(Vec<u8>, Sender<GroupResult>)>,
    results: &Sender<Receiver<GroupResult>>,
) {
    let queue = |group: Vec<u8>| {
        let (slot_tx, slot_rx) = bounded(1);
        results.send(slot_rx).is_ok() && jobs.send((group, slot_tx)).is_ok()
    };
    loop {
        match read_group(&mut raw) {
            Ok(Group::Blocks(group)) if group.is_empty() => return,
            Ok(Group::Blocks(group)) => {
                if !queue(group) {
                    return;
                }
            }
            Ok(Group::NotBgzf { blocks, member_start }) => {
                if !blocks.is_empty() && !queue(blocks) {
                    return;
                }
                let rest = io::Cursor::new(member_start).chain(raw);
                return decode_sequentially(flate2::read::MultiGzDecoder::new(rest), results);
            }
            Err(e) => {
                send_ready(results, Err(e));
                return;
            }
        }
    }
}

/// Queues an already computed result.
fn send_ready(results: &Sender<Receiver<GroupResult>>, result: GroupResult) -> bool {
    let (slot_tx, slot_rx) = bounded(1);
    let _ = slot_tx.send(result);
    results.send(slot_rx).is_ok()
}

/// Decodes the rest of the stream on the splitter thread, in chunks of a group's size.
fn decode_sequentially(mut decoder: impl Read, results: &Sender<Receiver<GroupResult>>) {
    loop {
        let mut chunk = vec![0; GROUP_BLOCKS * MAX_BLOCK];
        match read_full(&mut decoder, &mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                if !send_ready(results, Ok(chunk)) {
                    return;
                }
            }
            Err(e) => {
                send_ready(results, Err(e));
                return;
            }
        }
    }
}

/// Reads up to [`GROUP_BLOCKS`] complete blocks.
fn read_group(raw: &mut impl Read) -> io::Result<Group> {
    let mut group = Vec::with_capacity(GROUP_BLOCKS * MAX_BLOCK / 2);
    for _ in 0..GROUP_BLOCKS {
        let start = group.len();
        group.resize(start + HEADER_LEN, 0);
        let got = read_full(raw, &mut group[start..])?;
        if got == 0 {
            group.truncate(start);
            break;
        }
        let header = &group[start..start + got];
        let is_bgzf = got == HEADER_LEN
            && header[..4] == [0x1f, 0x8b, 0x08, 0x04]
            && header[12..16] == [b'B', b'C', 2, 0];
        if !is_bgzf {
            if header.starts_with(&[0x1f, 0x8b]) {
                // Plain gzip (or a cut header, which the gzip decoder reports).
                let member_start = group[start..start + got].to_vec();
                group.truncate(start);
                return Ok(Group::NotBgzf { blocks: group, member_start });
            }
            return Err(invalid("not a BGZF block (no gzip header)"));
        }
        let block_size = u16::from_le_bytes([header[16], header[17]]) as usize + 1;
        if block_size < HEADER_LEN + 8 {
            return Err(invalid("BGZF block size too small"));
        }
        group.resize(start + block_size, 0);
        if read_full(raw, &mut group[start + HEADER_LEN..])? < block_size - HEADER_LEN {
            return Err(invalid("truncated BGZF block"));
        }
    }
    Ok(Group::Blocks(group))
}

/// Inflater thread: decodes groups until the job channel closes.
fn inflate_jobs(jobs: &Receiver<(Vec<u8>, Sender<GroupResult>)>) {
    let mut decompressor = libdeflater::Decompressor::new();
    for (group, slot) in jobs {
        let _ = slot.send(inflate_group(&mut decompressor, &group));
    }
}

/// Inflates every block of a group, checking sizes and CRC32s.
fn inflate_group(decompressor: &mut libdeflater::Decompressor, group: &[u8]) -> GroupResult {
    let mut out = Vec::with_capacity(GROUP_BLOCKS * MAX_BLOCK);
    let mut pos = 0;
    while pos < group.len() {
        let block_size = u16::from_le_bytes([group[pos + 16], group[pos + 17]]) as usize + 1;
        let block = &group[pos..pos + block_size];
        let xlen = u16::from_le_bytes([block[10], block[11]]) as usize;
        let trailer = &block[block_size - 8..];
        let crc = u32::from_le_bytes(trailer[..4].try_into().expect("4 bytes"));
        let isize = u32::from_le_bytes(trailer[4..].try_into().expect("4 bytes")) as usize;
        if isize > MAX_BLOCK || 12 + xlen > block_size - 8 {
            return Err(invalid("corrupt BGZF block header"));
        }
        let start = out.len();
        out.resize(start + isize, 0);
        let n = decompressor
            .deflate_decompress(&block[12 + xlen..block_size - 8], &mut out[start..])
            .map_err(|e| invalid(&format!("corrupt BGZF block: {e:?}")))?;
        if n != isize || libdeflater::crc32(&out[start..]) != crc {
            return Err(invalid("BGZF block fails its size or CRC32 check"));
        }
        pos += block_size;
    }
    Ok(out)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

impl Read for ParallelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            let Ok(slot) = self.results.recv() else {
                self.done = true;
                return Ok(0);
            };
            match slot.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Err(io::Error::other("a BGZF inflater thread stopped unexpectedly"));
                }
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
