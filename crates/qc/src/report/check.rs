//! A branch-free pre-check of FASTQ bytes with the acceptance sets of `seqflow_seqio`'s
//! [`Validation`](seqflow_seqio::Validation) (IUPAC nucleotide letters, Phred+33 qualities): a
//! record that passes needs no further check; one that fails goes to `Validation::check`, which
//! names the first bad byte.

use seqflow_seqio::{Alphabet, PHRED33_MAX, PHRED33_MIN};

/// Bytes accepted in a sequence: IUPAC nucleotide letters in either case, `-`, `.`, and the
/// line-break bytes `Validation` skips.
const SEQ_OK: [bool; 256] = {
    let letters = Alphabet::Iupac.letters();
    let mut table = [false; 256];
    let mut i = 0;
    while i < letters.len() {
        table[letters[i] as usize] = true;
        table[letters[i].to_ascii_lowercase() as usize] = true;
        i += 1;
    }
    table[b'\n' as usize] = true;
    table[b'\r' as usize] = true;
    table
};

/// True when every sequence byte is an IUPAC nucleotide letter and every quality byte is
/// Phred+33 (`!`..=`~`). Never true for a record `Validation::check` refuses.
#[inline]
pub fn fastq_bytes_valid(seq: &[u8], qual: &[u8]) -> bool {
    // A, C, G, T, N in either case first, 16 bytes at a time; the table (a load per byte)
    // only for sequences with other letters.
    let seq_ok = acgtn_only(seq) || seq.iter().fold(true, |ok, &b| ok & SEQ_OK[b as usize]);
    seq_ok && phred33_only(qual)
}

/// True when every byte is one of `ACGTNacgtn`.
#[inline]
fn acgtn_only(seq: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if seq.len() >= sse2::LANES {
        return sse2::all_blocks(seq, sse2::acgtn);
    }
    seq.iter().all(|&b| matches!(b | 0x20, b'a' | b'c' | b'g' | b't' | b'n'))
}

/// True when every byte is a Phred+33 quality character.
#[inline]
fn phred33_only(qual: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if qual.len() >= sse2::LANES {
        return sse2::all_blocks(qual, sse2::phred33);
    }
    qual.iter().fold(true, |ok, &q| ok & (q.wrapping_sub(PHRED33_MIN) <= PHRED33_MAX - PHRED33_MIN))
}

/// The byte-class tests 16 bytes at a time (SSE2, part of the x86-64 baseline).
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    use seqflow_seqio::{PHRED33_MAX, PHRED33_MIN};

    pub(super) const LANES: usize = 16;

    /// True when `test` sets every lane of every 16-byte block of `bytes` (at least 16 long;
    /// the last block overlaps the one before it).
    #[inline(always)]
    pub(super) fn all_blocks(bytes: &[u8], test: impl Fn(__m128i) -> __m128i) -> bool {
        assert!(bytes.len() >= LANES);
        let last = bytes.len() - LANES;
        // SAFETY: SSE2 is part of the x86-64 baseline; every load reads 16 bytes starting at
        // most at `len − 16`, inside `bytes`.
        unsafe {
            let mut all = _mm_set1_epi8(-1);
            let mut at = 0;
            while at < bytes.len() {
                let start = at.min(last);
                all = _mm_and_si128(all, test(_mm_loadu_si128(bytes.as_ptr().add(start).cast())));
                at = start + LANES;
            }
            _mm_movemask_epi8(all) == 0xffff
        }
    }

    /// Lanes holding one of `ACGTNacgtn`.
    #[inline(always)]
    pub(super) fn acgtn(bytes: __m128i) -> __m128i {
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe {
            let folded = _mm_or_si128(bytes, _mm_set1_epi8(0x20));
            let is = |letter: u8| _mm_cmpeq_epi8(folded, _mm_set1_epi8(letter as i8));
            _mm_or_si128(
                _mm_or_si128(_mm_or_si128(is(b'a'), is(b'c')), _mm_or_si128(is(b'g'), is(b't'))),
                is(b'n'),
            )
        }
    }

    /// Lanes holding a Phred+33 character: clamping it into the range leaves it unchanged.
    #[inline(always)]
    pub(super) fn phred33(bytes: __m128i) -> __m128i {
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe {
            let low = _mm_set1_epi8(PHRED33_MIN as i8);
            let high = _mm_set1_epi8(PHRED33_MAX as i8);
            _mm_cmpeq_epi8(_mm_max_epu8(_mm_min_epu8(bytes, high), low), bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use seqflow_seqio::{Alphabet, Batch, Reader, ReaderOptions, Validation};

    use super::*;

    /// Every byte value at every place of reads as long as the 16-byte blocks and longer (the
    /// last block overlapping): the vector tests agree with the byte tables.
    #[test]
    fn blocks_agree_with_the_byte_tables_at_every_place() {
        let naive_seq = |seq: &[u8]| seq.iter().all(|&b| SEQ_OK[b as usize]);
        let naive_qual =
            |qual: &[u8]| qual.iter().all(|&q| (PHRED33_MIN..=PHRED33_MAX).contains(&q));
        for len in [16, 17, 31, 32, 33, 150] {
            for at in (0..len).filter(|&i| i < 18 || i + 18 > len) {
                for b in 0..=255u8 {
                    let mut seq = b"ACGTNacgtn".repeat(len).split_off(10 * len - len);
                    let mut qual = vec![b'I'; len];
                    seq[at] = b;
                    assert_eq!(fastq_bytes_valid(&seq, &qual), naive_seq(&seq), "{len} {at} {b}");
                    seq[at] = b'A';
                    qual[at] = b;
                    assert_eq!(fastq_bytes_valid(&seq, &qual), naive_qual(&qual), "{len} {at} {b}");
                }
            }
        }
    }

    /// Every byte value, in the sequence and in the quality: the pre-check agrees with
    /// `Validation::check`.
    #[test]
    fn agrees_with_the_validation_of_seqio_on_every_byte() {
        let validation = Validation::new().alphabet(Alphabet::Iupac).phred33();
        let (mut compared, mut accepted) = (0, 0);
        for b in 0..=255u8 {
            if b == b'\n' || b == b'\r' {
                continue; // line structure, not content
            }
            for in_seq in [true, false] {
                let (seq, qual) =
                    if in_seq { ([b'A', b, b'C'], *b"III") } else { (*b"ACG", [b'I', b, b'I']) };
                let text = [&b"@r\n"[..], &seq, b"\n+\n", &qual, b"\n"].concat();
                let Ok(mut reader) =
                    Reader::new(std::io::Cursor::new(text), "x.fq", ReaderOptions::default())
                else {
                    continue;
                };
                let mut batch = Batch::default();
                if !matches!(reader.read_batch(&mut batch), Ok(1)) {
                    continue; // the parser refuses it already
                }
                let record = batch.get(0);
                let checked = validation.check(&record).is_ok();
                compared += 1;
                accepted += usize::from(checked);
                let quick = fastq_bytes_valid(record.seq_raw(), record.qual().unwrap_or_default());
                assert_eq!(
                    quick,
                    checked,
                    "byte {b:#04x} in the {}",
                    ["quality", "sequence"][in_seq as usize]
                );
            }
        }
        // 16 letters in two cases and `-` `.` in the sequence, 94 quality characters.
        assert!(compared > 400 && accepted == 34 + 94, "{compared} compared, {accepted} accepted");
    }
}
