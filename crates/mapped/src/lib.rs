//! Keeping a streamed file mapping out of the resident set.
//!
//! A reader that walks a large file through a read-only memory map (`seqio`'s batches, `pack`'s
//! chunks) drops the page-table entries of each range once it is done with it, so that the
//! process's resident set stays about the ranges in flight, not the file. The pages stay in
//! the page cache; a later access faults them back in with the same contents.
//!
//! The range dropped must cover every page the range's own accesses could have mapped, not
//! just its bytes: a fault maps the cached pages around it — the aligned 64 KiB block
//! (`fault_around_bytes`), or the whole large folio that holds the page, up to a PMD's 2 MiB
//! in the page cache of a file read through it in large folios. Such a fault may reach into a
//! neighbouring range that was released already, and only this range's release comes after
//! its own faults; so ranges are widened to whole [`RELEASE_BLOCK`]s. A neighbour still reading
//! inside the widened part takes a fault (one per folio) and releases it again itself.
//! Measured in `seqflow-seqio`'s `mapped_rss` test (192 MiB file, two 1 MiB batches in use):
//! 4-6 MiB of file pages at peak with 2 MiB blocks, 26-38 MiB and growing with the file with
//! 64 KiB ones.

use std::ops::Range;

use memmap2::{Mmap, UncheckedAdvice};

/// Ranges are released in whole blocks of this size (aligned to it): the largest block of
/// pages one fault can map on Linux (a PMD-mapped 2 MiB folio).
pub const RELEASE_BLOCK: usize = 2 << 20;

/// Drops the page-table entries of `range` of `map`, widened to whole [`RELEASE_BLOCK`]s and
/// clipped to the map; an empty range does nothing. Failure is ignored: the advice only saves
/// memory.
///
/// `map` must be a read-only mapping of a file nobody modifies while it is mapped (so that the
/// pages fault back in unchanged), as the mapped readers of `seqflow` require anyway.
///
/// ```
/// use std::io::Write;
/// let mut file = tempfile::tempfile().unwrap();
/// file.write_all(&[b'A'; 10_000]).unwrap();
/// // SAFETY: a temporary file only this process writes, and not after this point.
/// let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
/// let sum: u64 = map[..5_000].iter().map(|&b| u64::from(b)).sum();
/// seqflow_mapped::release(&map, 0..5_000);
/// assert_eq!(map[4_999], b'A'); // faults back in, unchanged
/// # assert_eq!(sum, 65 * 5_000);
/// ```
pub fn release(map: &Mmap, range: Range<usize>) {
    if range.is_empty() {
        return;
    }
    let from = range.start / RELEASE_BLOCK * RELEASE_BLOCK;
    let to = range.end.next_multiple_of(RELEASE_BLOCK).min(map.len());
    if to > from {
        // SAFETY: a read-only, unmodified file mapping (the caller's promise above): dropped
        // pages fault back in from the page cache with the same contents on the next access.
        let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, from, to - from) };
    }
}
