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
    let seq_ok = seq.iter().fold(true, |ok, &b| ok & SEQ_OK[b as usize]);
    let qual_ok = qual
        .iter()
        .fold(true, |ok, &q| ok & (q.wrapping_sub(PHRED33_MIN) <= PHRED33_MAX - PHRED33_MIN));
    seq_ok & qual_ok
}

#[cfg(test)]
mod tests {
    use seqflow_seqio::{Alphabet, Batch, Reader, ReaderOptions, Validation};

    use super::*;

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
