//! Choosing the chunk (frame) size from the data: small frames for fast random access, larger
//! ones only where the data repeats itself further apart than a small frame can see.
//!
//! Every frame of a seekable file is an independent zstd frame, so a match can never reach
//! back across a frame boundary: each frame starts with an empty history. On most inputs that
//! costs almost nothing (random reads, binned qualities, an assembly: < 0.5 % at 1 MiB), but
//! where the same bytes recur hundreds of kilobytes apart (an amplicon panel, qualities from a
//! short repeating pattern) the first stretch of every frame is coded without its earlier
//! copies, +9 % and +44 % at 1 MiB against one continuous zstd stream (see
//! `docs/benchmarks.md`, "Data kinds"). That loss falls as 1 / frame size: one history-free
//! stretch per frame.
//!
//! [`choose_chunk_size`] measures it on a sample from the start of the input (2 MiB: the
//! probe runs before packing starts, 10–20 ms on two threads): it compresses the sample as
//! 1 MiB pieces and as one piece at level 3 with a window covering the whole sample, takes the difference as the loss of 1 MiB frames (scaled by the 1 / size
//! model), and returns the smallest power-of-two size from [`AUTO_MIN_CHUNK`] to
//! [`AUTO_MAX_CHUNK`] whose predicted loss is at most [`AUTO_LOSS_TARGET`]. The choice depends
//! on the sample's bytes only, never on threads or timing, so packing stays deterministic.

use zstd::zstd_safe;

use crate::error::{Error, Result};

/// Bytes from the start of the input that [`choose_chunk_size`] looks at.
pub const AUTO_SAMPLE: usize = 2 << 20;
/// Smallest size [`choose_chunk_size`] returns (also the answer for short samples).
pub const AUTO_MIN_CHUNK: usize = 1 << 20;
/// Largest size [`choose_chunk_size`] returns: a `cat --range` decodes (and checks) at most one
/// frame of this size.
pub const AUTO_MAX_CHUNK: usize = 16 << 20;
/// Largest predicted size loss against a continuous stream accepted for a chunk size
/// (a fraction of the compressed size).
pub const AUTO_LOSS_TARGET: f64 = 0.015;

/// The probe's zstd level: the default level's match finder (level 1's small hash table forgets
/// repeats a few hundred kilobytes back, so it sees no loss where level 3 sees 44 %).
const PROBE_LEVEL: i32 = 3;
/// The probe's window: at least the whole sample, so that "one piece" sees every repeat in it.
const PROBE_WINDOW_LOG: u32 = 22;

/// The chunk size for a seekable file whose input starts with `sample` (pass up to
/// [`AUTO_SAMPLE`] bytes; more is ignored).
///
/// Returns [`AUTO_MIN_CHUNK`] for samples shorter than two of it (nothing to compare), else
/// the smallest power of two in `AUTO_MIN_CHUNK..=AUTO_MAX_CHUNK` at which the predicted loss
/// against one continuous zstd stream is at most [`AUTO_LOSS_TARGET`].
///
/// ```
/// use seqflow_container::{AUTO_MAX_CHUNK, AUTO_MIN_CHUNK, choose_chunk_size};
///
/// // Bytes that never repeat: small frames lose nothing.
/// let mut state = 1u64;
/// let noise: Vec<u8> = (0..4 << 20)
///     .map(|_| {
///         state ^= state << 13;
///         state ^= state >> 7;
///         state ^= state << 17;
///         state as u8
///     })
///     .collect();
/// assert_eq!(choose_chunk_size(&noise)?, AUTO_MIN_CHUNK);
///
/// // 300 KB of noise, over and over: every 1 MiB frame would pay for it once.
/// let period = &noise[..300_000];
/// let recurring: Vec<u8> = period.iter().cycle().take(4 << 20).copied().collect();
/// assert_eq!(choose_chunk_size(&recurring)?, AUTO_MAX_CHUNK);
/// # Ok::<(), seqflow_container::Error>(())
/// ```
///
/// # Errors
/// [`Error::Compress`] if zstd cannot allocate its context.
pub fn choose_chunk_size(sample: &[u8]) -> Result<usize> {
    let sample = &sample[..sample.len().min(AUTO_SAMPLE)];
    let pieces = sample.len() / AUTO_MIN_CHUNK;
    if pieces < 2 {
        return Ok(AUTO_MIN_CHUNK);
    }
    let sample = &sample[..pieces * AUTO_MIN_CHUNK];
    // The two measurements are independent: one on a second thread halves the probe's wall time.
    let (whole, split) = std::thread::scope(|scope| {
        let whole = scope.spawn(|| Probe::new()?.compressed_len(sample));
        let split = Probe::new().and_then(|mut probe| {
            sample
                .chunks(AUTO_MIN_CHUNK)
                .try_fold(0, |sum, piece| Ok(sum + probe.compressed_len(piece)?))
        });
        let whole = whole.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (whole, split)
    });
    Ok(size_for_loss(loss_at_min_chunk(split?, whole?, pieces)))
}

/// The relative loss of [`AUTO_MIN_CHUNK`] frames: `pieces` frames of it lose
/// `L × (1 − 1 / pieces)` more than one frame of `pieces` times its size, when the loss of a
/// frame size is `L / (size in MiB)`.
fn loss_at_min_chunk(split: usize, whole: usize, pieces: usize) -> f64 {
    let measured = split.saturating_sub(whole) as f64 / whole.max(1) as f64;
    measured * pieces as f64 / (pieces - 1) as f64
}

/// The smallest power-of-two chunk size whose predicted loss is within the target, capped.
fn size_for_loss(loss_at_min: f64) -> usize {
    let mut size = AUTO_MIN_CHUNK;
    let mut loss = loss_at_min;
    while loss > AUTO_LOSS_TARGET && size < AUTO_MAX_CHUNK {
        size *= 2;
        loss /= 2.0;
    }
    size
}

/// A fast zstd context with a window as long as the sample.
struct Probe {
    inner: zstd::bulk::Compressor<'static>,
    out: Vec<u8>,
}

impl Probe {
    fn new() -> Result<Self> {
        let mut inner = zstd::bulk::Compressor::new(PROBE_LEVEL).map_err(probe_error)?;
        inner
            .set_parameter(zstd_safe::CParameter::WindowLog(PROBE_WINDOW_LOG))
            .map_err(probe_error)?;
        Ok(Self { inner, out: Vec::new() })
    }

    fn compressed_len(&mut self, data: &[u8]) -> Result<usize> {
        self.out.clear();
        self.out.reserve(zstd_safe::compress_bound(data.len()));
        self.inner.compress_to_buffer(data, &mut self.out).map_err(probe_error)
    }
}

fn probe_error(e: std::io::Error) -> Error {
    Error::Compress { reason: format!("zstd (chunk-size probe): {e}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_samples_keep_the_smallest_size() {
        assert_eq!(choose_chunk_size(b"").unwrap(), AUTO_MIN_CHUNK);
        let almost_two = vec![b'A'; 2 * AUTO_MIN_CHUNK - 1];
        assert_eq!(choose_chunk_size(&almost_two).unwrap(), AUTO_MIN_CHUNK);
    }

    #[test]
    fn the_loss_halves_with_each_doubling() {
        assert_eq!(size_for_loss(0.0), AUTO_MIN_CHUNK);
        assert_eq!(size_for_loss(AUTO_LOSS_TARGET), AUTO_MIN_CHUNK);
        assert_eq!(size_for_loss(AUTO_LOSS_TARGET * 1.01), 2 * AUTO_MIN_CHUNK);
        assert_eq!(size_for_loss(AUTO_LOSS_TARGET * 7.9), 8 * AUTO_MIN_CHUNK);
        assert_eq!(size_for_loss(AUTO_LOSS_TARGET * 8.1), 16 * AUTO_MIN_CHUNK);
        assert_eq!(size_for_loss(10.0), AUTO_MAX_CHUNK);
    }

    #[test]
    fn measured_loss_is_scaled_to_one_mib_frames() {
        // 4 pieces lose 3/4 of the 1 MiB loss against one 4 MiB piece.
        let loss = loss_at_min_chunk(1075, 1000, 4);
        assert!((loss - 0.1).abs() < 1e-9, "{loss}");
        // Splitting never "gains" below zero.
        assert_eq!(loss_at_min_chunk(900, 1000, 4), 0.0);
    }

    #[test]
    fn repeats_further_apart_than_a_frame_ask_for_larger_frames() {
        let noise = xorshift_bytes(4 << 20, 7);
        assert_eq!(choose_chunk_size(&noise).unwrap(), AUTO_MIN_CHUNK);
        // A 700 KB unit repeated: each 1 MiB frame codes it once from scratch.
        let unit = &noise[..700_000];
        let far: Vec<u8> = unit.iter().cycle().take(4 << 20).copied().collect();
        assert!(choose_chunk_size(&far).unwrap() > AUTO_MIN_CHUNK);
        // Only the sample's first AUTO_SAMPLE bytes count.
        let mut long = noise.clone();
        long.extend_from_slice(&far);
        assert_eq!(choose_chunk_size(&long).unwrap(), AUTO_MIN_CHUNK);
    }

    fn xorshift_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }
}
