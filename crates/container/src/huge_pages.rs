//! Advice that a large buffer about to be filled be backed by transparent huge pages.
//!
//! Decoding one 16 MiB frame into a fresh buffer takes 4,096 page faults of 4 KiB, about a
//! quarter of a `cat --range` of such a frame (`perf`: 5,100 faults, 32 ms of CPU; with huge
//! pages 1,540 faults, 18 ms); packing with 16 MiB chunks faulted in its eight input buffers
//! 4 KiB at a time (36,600 faults against zstd's 12,400 on the same input). Where the kernel's THP mode is `madvise` (Debian's default), it
//! gives huge pages only to ranges that ask.

/// Buffers whose spare room is smaller than this are not worth a system call.
const MIN_ADVISED: usize = 4 << 20;
/// The huge-page size on x86-64 and on arm64 with 4 KiB pages.
const HUGE_PAGE: usize = 2 << 20;

/// Asks (on Linux) that the whole huge pages inside `buf`'s spare capacity be backed by
/// transparent huge pages when first written. Only advice: it changes no contents, does
/// nothing elsewhere or on small buffers, and its failure is ignored.
///
/// ```
/// let mut chunk: Vec<u8> = Vec::with_capacity(16 << 20);
/// seqflow_container::advise_huge_pages(&mut chunk);
/// chunk.resize(16 << 20, b'A'); // 8 faults of 2 MiB instead of 4,096 of 4 KiB, where THP is on
/// ```
pub fn advise_huge_pages(buf: &mut Vec<u8>) {
    let spare = buf.spare_capacity_mut();
    if spare.len() < MIN_ADVISED {
        return;
    }
    let start = spare.as_mut_ptr() as usize;
    let first = start.next_multiple_of(HUGE_PAGE);
    let end = (start + spare.len()) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        advise(first, end - first);
    }
}

#[cfg(target_os = "linux")]
fn advise(start: usize, len: usize) {
    // SAFETY: `start..start + len` lies inside the spare capacity of a Vec borrowed mutably by
    // the caller, so it is mapped memory of this process that nothing else uses; MADV_HUGEPAGE
    // only marks the range as eligible for huge pages and changes neither contents nor the
    // mapping the allocator owns.
    unsafe {
        libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_start: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_leaves_the_buffer_as_it_was() {
        for capacity in [0, 1 << 20, 5 << 20, 17 << 20] {
            let mut buf = b"kept".to_vec();
            buf.reserve_exact(capacity);
            let before = (buf.as_ptr(), buf.capacity());
            advise_huge_pages(&mut buf);
            assert_eq!((buf.as_ptr(), buf.capacity()), before);
            assert_eq!(buf, b"kept");
            buf.resize(buf.capacity(), 7);
            assert!(buf[4..].iter().all(|&b| b == 7));
        }
    }
}
