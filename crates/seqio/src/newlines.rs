//! Positions of line breaks, found 64 bytes at a time.
//!
//! Sequencing files have a line break every 2–150 bytes, so a search that restarts at every
//! match (as `memchr_iter` does) pays its start-up cost tens of millions of times per
//! gigabyte. Instead, each 64-byte block is compared with `\n` at once into a 64-bit mask
//! (SSE2, present on every x86-64 CPU) and matches are popped off the mask with
//! `trailing_zeros`: about one instruction per byte of input is saved for short lines.

/// Iterator over the indices of `\n` in `buf[from..]`, as indices into `buf`.
pub(crate) struct Newlines<'a> {
    buf: &'a [u8],
    /// Index of the first byte of the block `mask` describes.
    block: usize,
    /// Bit `i` set: `buf[block + i]` is a line break not yet returned.
    mask: u64,
}

const BLOCK: usize = 64;

impl<'a> Newlines<'a> {
    /// Starts at `buf[from]`.
    pub(crate) fn new(buf: &'a [u8], from: usize) -> Self {
        let mut iter = Newlines { buf, block: from, mask: 0 };
        iter.mask = iter.mask_at(from);
        iter
    }

    /// Continues the search at `buf[at]`, skipping whatever lies before it.
    #[inline(always)]
    pub(crate) fn restart_at(&mut self, at: usize) {
        self.block = at;
        self.mask = self.mask_at(at);
    }

    /// Line-break mask of the (up to) 64 bytes starting at `at`.
    #[inline(always)]
    fn mask_at(&self, at: usize) -> u64 {
        let rest = &self.buf[at.min(self.buf.len())..];
        if rest.len() >= BLOCK {
            let block: &[u8; BLOCK] = rest[..BLOCK].try_into().expect("64 bytes");
            block_mask(block)
        } else {
            rest.iter().enumerate().filter(|&(_, &b)| b == b'\n').fold(0, |m, (i, _)| m | 1 << i)
        }
    }
}

impl Iterator for Newlines<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.block += BLOCK;
            if self.block >= self.buf.len() {
                return None;
            }
            self.mask = self.mask_at(self.block);
        }
        let bit = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.block + bit)
    }
}

/// True when `bytes` holds a line break. For a quality line whose end is known already, so
/// the only question is whether a break hides inside it: 16 bytes at a time without the
/// start-up cost of a general search (a `memchr` call here was 4% of `qc`'s samples).
#[inline(always)]
pub(crate) fn has_newline(bytes: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() >= 16 {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8, _mm_setzero_si128,
        };
        let last = bytes.len() - 16;
        // SAFETY: SSE2 is part of the x86-64 baseline; every load reads 16 bytes starting at
        // most at `len − 16`, inside `bytes`.
        unsafe {
            let newline = _mm_set1_epi8(b'\n' as i8);
            let mut found = _mm_setzero_si128();
            let mut at = 0;
            while at < bytes.len() {
                let start = at.min(last);
                let block = _mm_loadu_si128(bytes.as_ptr().add(start) as *const __m128i);
                found = _mm_or_si128(found, _mm_cmpeq_epi8(block, newline));
                at = start + 16;
            }
            return _mm_movemask_epi8(found) != 0;
        }
    }
    bytes.contains(&b'\n')
}

/// Bit `i` set where `block[i] == b'\n'`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_mask(block: &[u8; BLOCK]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are always available;
    // each unaligned load reads 16 bytes inside `block`, which is 64 bytes long.
    unsafe {
        let newline = _mm_set1_epi8(b'\n' as i8);
        let ptr = block.as_ptr() as *const __m128i;
        let lane = |i: usize| {
            let bytes = _mm_loadu_si128(ptr.add(i));
            _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, newline)) as u16 as u64
        };
        lane(0) | lane(1) << 16 | lane(2) << 32 | lane(3) << 48
    }
}

/// Bit `i` set where `block[i] == b'\n'` (portable version; vectorised by the compiler).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn block_mask(block: &[u8; BLOCK]) -> u64 {
    block.iter().enumerate().fold(0, |m, (i, &b)| m | ((b == b'\n') as u64) << i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_memchr_on_every_offset_and_density() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for density in [1, 3, 17, 64, 200, 10_000] {
            let buf: Vec<u8> = (0..1000)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    if state % density == 0 { b'\n' } else { b'A' }
                })
                .collect();
            for from in [0, 1, 63, 64, 65, 500, 999, 1000] {
                let expected: Vec<usize> =
                    memchr::memchr_iter(b'\n', &buf[from..]).map(|i| i + from).collect();
                assert_eq!(Newlines::new(&buf, from).collect::<Vec<_>>(), expected);
            }
        }
        assert_eq!(Newlines::new(b"", 0).count(), 0);
        let text = b"ab\ncd\nef\ngh\n";
        let mut iter = Newlines::new(text, 0);
        assert_eq!(iter.next(), Some(2));
        iter.restart_at(6);
        assert_eq!(iter.collect::<Vec<_>>(), [8, 11]);
        assert_eq!(Newlines::new(b"\n", 1).count(), 0);
    }

    #[test]
    fn has_newline_finds_a_break_at_every_place_of_every_length() {
        for len in 0..100 {
            let mut bytes = vec![b'I'; len];
            assert!(!has_newline(&bytes), "{len}");
            for at in 0..len {
                bytes[at] = b'\n';
                assert!(has_newline(&bytes), "{len} {at}");
                bytes[at] = b'\n' ^ 0x80;
                assert!(!has_newline(&bytes), "{len} {at}");
                bytes[at] = b'I';
            }
        }
    }
}
