//! Where each of the letters A, C, G and T stands in a read, as bit masks: the known-adapter
//! search tests 64 positions of a read at once against a 12-base adapter with 12 ANDs.
//!
//! The masks are taken over 64-base windows that overlap by the adapter's length less one, so
//! that every letter an adapter starting in a window's first [`STRIDE`] positions needs is in
//! the same word: looking `j` bases ahead is one shift right by `j`, not a shift across two
//! words (`shld`, several times slower than a plain shift on AMD's cores).

/// Positions per mask word.
const WORD: usize = 64;

/// Bases looked ahead of a start position: an adapter's length less one.
pub(crate) const LOOKAHEAD: usize = 11;

/// Start positions each window answers for: windows begin `STRIDE` bases apart, so a window's
/// last [`LOOKAHEAD`] positions are the next window's first ones.
pub(crate) const STRIDE: usize = WORD - LOOKAHEAD;

/// Bit masks of a sequence's A, C, G and T (either case; any other byte is none of them), per
/// window of 64 bases starting every [`STRIDE`] bases.
#[derive(Debug, Clone, Default)]
pub(crate) struct LetterMasks {
    /// `words[w][l]`: bit `i` set when base `STRIDE·w + i` is letter `l` (0 A, 1 C, 2 G, 3 T);
    /// bits past the end of the sequence are clear.
    words: Vec<[u64; 4]>,
}

impl LetterMasks {
    /// Replaces the masks with those of `seq`: enough windows that every start position
    /// followed by [`LOOKAHEAD`] more bases lies in the first [`STRIDE`] positions of one.
    #[inline]
    pub(crate) fn fill(&mut self, seq: &[u8]) {
        self.words.clear();
        let mut start = 0;
        while start + WORD <= seq.len() {
            let block: &[u8; WORD] = seq[start..start + WORD].try_into().expect("64 bytes");
            self.words.push(block_masks(block));
            start += STRIDE;
        }
        if start + LOOKAHEAD < seq.len() {
            // A last window that runs past the end, for the starts left.
            if seq.len() >= WORD {
                // The last 64 bases, shifted so that bit 0 is `start`. (Copying the tail into
                // a zeroed block instead stalls the load that follows the copy: the bytes
                // written one by one cannot be forwarded to it.)
                let last: &[u8; WORD] = seq[seq.len() - WORD..].try_into().expect("64 bytes");
                let skip = start - (seq.len() - WORD);
                self.words.push(block_masks(last).map(|mask| mask >> skip));
            } else {
                let mut padded = [0u8; WORD];
                padded[..seq.len()].copy_from_slice(seq);
                self.words.push(block_masks(&padded));
            }
        }
    }

    /// The windows' masks, in order: window `w` starts at base `STRIDE·w`.
    #[inline(always)]
    pub(crate) fn words(&self) -> &[[u64; 4]] {
        &self.words
    }
}

/// The letters in the order of the masks, lower case.
const LETTERS: [u8; 4] = *b"acgt";

/// Masks of one 64-byte block.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_masks(block: &[u8; WORD]) -> [u64; 4] {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut masks = [0u64; 4];
    // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are always available;
    // each unaligned load reads 16 bytes inside `block`, which is 64 bytes long.
    unsafe {
        let ptr = block.as_ptr() as *const __m128i;
        let fold = _mm_set1_epi8(0x20);
        for lane in 0..4 {
            let bytes = _mm_or_si128(_mm_loadu_si128(ptr.add(lane)), fold);
            for (mask, letter) in masks.iter_mut().zip(LETTERS) {
                let equal = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(letter as i8));
                *mask |= (_mm_movemask_epi8(equal) as u16 as u64) << (16 * lane);
            }
        }
    }
    masks
}

/// Masks of one 64-byte block (portable version).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn block_masks(block: &[u8; WORD]) -> [u64; 4] {
    LETTERS.map(|letter| {
        block.iter().enumerate().fold(0, |m, (i, &b)| m | u64::from(b | 0x20 == letter) << i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_mark_each_letter_in_either_case_and_cover_every_start() {
        for len in [0usize, 1, 11, 12, 13, 63, 64, 65, 75, 76, 117, 118, 150, 300] {
            let seq: Vec<u8> = (0..len).map(|i| b"ACGTacgtN-\x41\xc1"[i % 12]).collect();
            let mut masks = LetterMasks::default();
            masks.fill(&seq);
            let starts = len.saturating_sub(LOOKAHEAD);
            assert_eq!(masks.words().len(), starts.div_ceil(STRIDE), "length {len}");
            for (w, word) in masks.words().iter().enumerate() {
                for (letter, &lower) in LETTERS.iter().enumerate() {
                    for i in 0..WORD {
                        let at = STRIDE * w + i;
                        let expected = seq.get(at).is_some_and(|&b| b | 0x20 == lower);
                        assert_eq!(word[letter] >> i & 1 == 1, expected, "{len}: {w} {letter} {i}");
                    }
                }
            }
        }
    }
}
