//! FASTA output exactly as agc writes it: `>` header, then the bases in lines of
//! `line_length` letters, every line (the last one too) ended by `\n`; an empty contig is a
//! header line alone.

use std::io::{self, Write};

use crate::reader::CODE_TO_LETTER;

/// Appends one FASTA record to `out`: the header line and `codes` as letters wrapped at
/// `line_length` (0 = one line).
pub fn append_record(out: &mut Vec<u8>, header: &str, codes: &[u8], line_length: usize) {
    out.reserve(header.len() + 2 + codes.len() + codes.len() / line_length.max(1) + 1);
    out.push(b'>');
    out.extend_from_slice(header.as_bytes());
    out.push(b'\n');
    append_lines(out, codes, line_length);
}

/// Appends `codes` as letters wrapped at `line_length` (0 = one line), each line ended by
/// `\n`; nothing for an empty sequence.
pub fn append_lines(out: &mut Vec<u8>, codes: &[u8], line_length: usize) {
    let width = if line_length == 0 { codes.len().max(1) } else { line_length };
    for line in codes.chunks(width) {
        out.extend(line.iter().map(|&c| CODE_TO_LETTER[usize::from(c)]));
        out.push(b'\n');
    }
}

/// Writes one FASTA record to `out` (see [`append_record`]).
///
/// # Errors
/// Write errors.
pub fn write_record(
    out: &mut impl Write,
    header: &str,
    codes: &[u8],
    line_length: usize,
) -> io::Result<()> {
    let mut buf = Vec::new();
    append_record(&mut buf, header, codes, line_length);
    out.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_like_agc() {
        let mut out = Vec::new();
        append_record(&mut out, "chr1 x", &[0, 1, 2, 3, 4, 5, 30], 3);
        assert_eq!(out, b">chr1 x\nACG\nTNR\n \n");
        let mut out = Vec::new();
        append_record(&mut out, "empty", &[], 80);
        assert_eq!(out, b">empty\n");
        let mut out = Vec::new();
        append_record(&mut out, "e", &[0, 1, 2], 3);
        assert_eq!(out, b">e\nACG\n");
    }
}
