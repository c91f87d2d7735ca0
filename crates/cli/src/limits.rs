//! Limits every command checks before it starts: the thread count and the peak-memory bound.
//!
//! Each command adds up its peak-memory formula (stated in its module docs and in
//! `docs/architecture.md`) from its flags and calls [`MemoryLimit::check`]; a bound above the
//! machine's memory, or above `--max-memory`, is refused with one line naming the flags to
//! lower, instead of an allocation failure or an out-of-memory kill half-way through.

use std::thread;

use anyhow::{Result, bail};

use crate::size::approx_size;

/// Most worker threads any command accepts (`-t/--threads`). Far above what the pipelines can
/// use (they are bound by one reader or one writer long before), and low enough that the
/// threads' stacks and per-thread buffers stay small.
pub(crate) const MAX_THREADS: usize = 1024;

/// Most items any `--channel-depth` may queue between two stages.
pub(crate) const MAX_CHANNEL_DEPTH: usize = 1024;

/// `--threads` if given, else the available parallelism (at most [`MAX_THREADS`]).
pub(crate) fn threads(given: Option<usize>) -> usize {
    given
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, MAX_THREADS)
}

/// The memory a command may plan to use: `--max-memory`, or the machine's physical memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoryLimit {
    bytes: u64,
    from_flag: bool,
}

impl MemoryLimit {
    /// `--max-memory` if given, else the machine's memory (`MemTotal` of `/proc/meminfo`); no
    /// limit where neither is known.
    pub(crate) fn new(max_memory: Option<u64>) -> MemoryLimit {
        match max_memory {
            Some(bytes) => MemoryLimit { bytes, from_flag: true },
            None => MemoryLimit { bytes: machine_memory().unwrap_or(u64::MAX), from_flag: false },
        }
    }

    /// Whether a run whose peak-memory bound is `bound` fits the limit.
    pub(crate) fn allows(&self, bound: u64) -> bool {
        bound <= self.bytes
    }

    /// Refuses a run whose peak-memory `bound` is above the limit. `formula` shows how the
    /// bound was computed and `lower` names the flags that reduce it.
    pub(crate) fn check(
        &self,
        command: &str,
        bound: u64,
        formula: &str,
        lower: &str,
    ) -> Result<()> {
        if self.allows(bound) {
            return Ok(());
        }
        let limit = if self.from_flag {
            format!("--max-memory {}", approx_size(self.bytes))
        } else {
            format!("the {} of memory of this machine", approx_size(self.bytes))
        };
        bail!(
            "{command} would need up to {} ({formula}), more than {limit}: lower {lower} \
             (or raise --max-memory)",
            approx_size(bound)
        )
    }
}

/// Physical memory of the machine, where the system tells it.
fn machine_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// `a × b` saturating, for memory formulas whose factors come from flags.
pub(crate) fn times(a: u64, b: u64) -> u64 {
    a.saturating_mul(b)
}

/// Makes glibc's allocator hand blocks of 128 KiB or more back to the kernel when they are
/// freed. By default it raises that threshold each time such a block is freed (up to 32 MiB),
/// after which large buffers come from its heap and their pages stay in the process's peak
/// RSS after use: `collection create` on three yeast chromosomes then peaked at 23 MB instead
/// of 17 MB (docs/benchmarks.md). A no-op where the C library is not glibc.
pub(crate) fn return_large_blocks_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: libc::c_int = 128 << 10;
        // SAFETY: mallopt only sets allocator tunables; it is called before the command's
        // threads start and takes no pointers.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryLimit;

    #[test]
    fn a_bound_above_the_limit_names_the_flags_to_lower() {
        let limit = MemoryLimit::new(Some(1 << 30));
        assert!(limit.check("stats", 1 << 30, "f", "--batch-size").is_ok());
        let error = limit.check("stats", 3 << 30, "8 × 384 MiB", "--batch-size").unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("3.0 GiB") && message.contains("--max-memory 1.0 GiB"),
            "{message}"
        );
        assert!(message.contains("lower --batch-size") && !message.contains('\n'), "{message}");
    }

    #[test]
    fn the_machine_limit_is_known_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(super::machine_memory().is_some_and(|m| m > 1 << 20));
        }
    }
}
