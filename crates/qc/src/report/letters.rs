//! Where each of the letters A, C, G and T stands in a read, as bit masks: the known-adapter
//! search tests 64 positions of a read at once against a 12-base adapter with 12 ANDs.

/// Positions per mask word.
const WORD: usize = 64;

/// Bit masks of a sequence's A, C, G and T (either case; any other byte is none of them).
#[derive(Debug, Clone, Default)]
pub(crate) struct LetterMasks {
    /// `words[w][l]`: bit `i` set when base `64w + i` is letter `l` (0 A, 1 C, 2 G, 3 T). Ends
    /// with a zero word, so that [`ahead`] may look past the last base.
    words: Vec<[u64; 4]>,
}

impl LetterMasks {
    /// Replaces the masks with those of `seq`.
    #[inline]
    pub(crate) fn fill(&mut self, seq: &[u8]) {
        self.words.clear();
        let mut blocks = seq.chunks_exact(WORD);
        for block in &mut blocks {
            self.words.push(block_masks(block.try_into().expect("64 bytes")));
        }
        let rest = blocks.remainder().len();
        if rest > 0 && seq.len() >= WORD {
            // The last 64 bases, of which the first `64 − rest` are counted already: shifted
            // out. (Copying the tail into a zeroed block instead stalls the load that follows
            // the copy: the bytes written one by one cannot be forwarded to it.)
            let last: &[u8; WORD] = seq[seq.len() - WORD..].try_into().expect("64 bytes");
            self.words.push(block_masks(last).map(|mask| mask >> (WORD - rest)));
        } else if rest > 0 {
            let mut padded = [0u8; WORD];
            padded[..rest].copy_from_slice(seq);
            self.words.push(block_masks(&padded));
        }
        self.words.push([0; 4]);
    }

    /// Number of words holding bases.
    pub(crate) fn words(&self) -> usize {
        self.words.len() - 1
    }

    /// The masks of word `w` and of the word after it.
    #[inline(always)]
    pub(crate) fn word_and_next(&self, w: usize) -> ([u64; 4], [u64; 4]) {
        (self.words[w], self.words[w + 1])
    }
}

/// Bit `i` set when the base `offset` places after position `i` of a word is the letter whose
/// masks in this word and the next are `now` and `next` (`offset < 64`).
///
/// ```text
/// bases  0 1 2 … 63 | 64 65 …      ahead(now, next, 2): bit i = letter at i + 2
/// ```
#[inline(always)]
pub(crate) fn ahead(now: u64, next: u64, offset: u32) -> u64 {
    if offset == 0 { now } else { now >> offset | next << (64 - offset) }
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
    fn masks_mark_each_letter_in_either_case_and_nothing_past_the_end() {
        let seq: Vec<u8> = (0..150).map(|i| b"ACGTacgtN-\x41\xc1"[i % 12]).collect();
        let mut masks = LetterMasks::default();
        masks.fill(&seq);
        assert_eq!(masks.words(), 3);
        for w in 0..3 {
            for (letter, &lower) in LETTERS.iter().enumerate() {
                for offset in [0u32, 1, 11, 63] {
                    let (now, next) = masks.word_and_next(w);
                    let bits = ahead(now[letter], next[letter], offset);
                    for i in 0..64 {
                        let at = 64 * w + i + offset as usize;
                        let expected = seq.get(at).is_some_and(|&b| b | 0x20 == lower);
                        assert_eq!(
                            bits >> i & 1 == 1,
                            expected,
                            "word {w} letter {letter} +{offset} bit {i}"
                        );
                    }
                }
            }
        }
    }
}
