//! Frame buffers that are recycled through a [`Pool`] where that is possible, so that the
//! pipelines do not pay page faults (and, with huge pages, 2 MiB of zeroing each) for a fresh
//! allocation per frame.

use seqflow_pipeline::{Pool, PoolGuard};

use crate::error::{Error, Result};

/// Frames up to this size (compressed or decoded) use recycled buffers in `unpack`; larger
/// ones get a fresh allocation that is freed after use, so idle pool slots never hold large
/// buffers.
pub(crate) const POOLED_FRAME_BYTES: u64 = 4 << 20;

/// A frame's buffer: recycled from a pool, or owned (and freed after use).
pub(crate) enum FrameBuf {
    Pooled(PoolGuard<Vec<u8>>),
    Owned(Vec<u8>),
}

impl FrameBuf {
    /// A buffer for `bytes`: from the first pool (waiting for one), or, for frames larger
    /// than [`POOLED_FRAME_BYTES`], from the second if one is free right now (else fresh).
    pub(crate) fn take(pools: &(Pool<Vec<u8>>, Pool<Vec<u8>>), bytes: u64) -> Result<FrameBuf> {
        if bytes > POOLED_FRAME_BYTES {
            return Ok(FrameBuf::take_or_new(&pools.1));
        }
        pools
            .0
            .take()
            .map(FrameBuf::Pooled)
            .map_err(|_| Error::Internal("frame buffers closed".into()))
    }

    /// A buffer from `pool` if one is free right now, else a fresh one: never waits, so a
    /// pool smaller than the frames in flight cannot stall the pipeline.
    pub(crate) fn take_or_new(pool: &Pool<Vec<u8>>) -> FrameBuf {
        pool.try_take().map_or_else(|| FrameBuf::Owned(Vec::new()), FrameBuf::Pooled)
    }
}

impl std::ops::Deref for FrameBuf {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        match self {
            FrameBuf::Pooled(buf) => buf,
            FrameBuf::Owned(buf) => buf,
        }
    }
}

impl std::ops::DerefMut for FrameBuf {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        match self {
            FrameBuf::Pooled(buf) => buf,
            FrameBuf::Owned(buf) => buf,
        }
    }
}
