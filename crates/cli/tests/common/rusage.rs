//! Peak memory of child processes, for the tests that bound it (one such test per file:
//! `RUSAGE_CHILDREN` covers every child of the test process).

/// Largest resident set of any waited-for child, in bytes (Linux reports KiB).
pub(crate) fn children_peak_rss() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage; getrusage only writes into it.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: getrusage succeeded, so it initialised the struct (it was zeroed anyway).
    let usage = unsafe { usage.assume_init() };
    usage.ru_maxrss * 1024
}
