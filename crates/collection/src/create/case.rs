//! `--keep-case`: lowercase (soft-masked) runs in an extra stream, `seqflow-case`.
//!
//! AGC stores bases uppercase. With `--keep-case` every sample gets one part of the stream
//! `seqflow-case`: zstd (level 19) of `name NUL`, then `cvarint(n_contigs)` and per contig
//! `cvarint(n_runs)` and per run `cvarint(gap)`, `cvarint(length)` (gap = start minus the end
//! of the previous run); the part's metadata is the raw size. C++ agc 3.2.2 ignores streams it
//! does not know (`getset`, `getctg`; `append` works and drops the stream), so such archives
//! stay readable by every AGC reader; [`read_case_runs`] and [`apply_case`] restore the case.

use crate::container::{ArchiveReader, ReadAt};
use crate::payload::decompress_at_most;
use crate::varint::{ByteCursor, write_cvarint};
use crate::{Error, Result};

/// Name of the stream.
pub const CASE_STREAM: &str = "seqflow-case";

/// Lowercase runs `(start, length)` of each contig of a sample, in contig order.
pub type CaseRuns = Vec<Vec<(u64, u64)>>;

/// The raw (uncompressed) part for one sample.
///
/// # Panics
/// If a run start, gap or length does not fit in 32 bits (contigs of 4 Gb and more).
pub fn encode_case_runs(sample: &str, runs: &CaseRuns) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(sample.as_bytes());
    out.push(0);
    let u32_of = |x: u64| u32::try_from(x).expect("case runs fit in 32 bits");
    write_cvarint(&mut out, u32_of(runs.len() as u64));
    for contig in runs {
        write_cvarint(&mut out, u32_of(contig.len() as u64));
        let mut end = 0u64;
        for &(start, len) in contig {
            write_cvarint(&mut out, u32_of(start - end));
            write_cvarint(&mut out, u32_of(len));
            end = start + len;
        }
    }
    out
}

fn decode_case_runs(raw: &[u8]) -> Result<(String, CaseRuns)> {
    let mut cursor = ByteCursor::new(raw, CASE_STREAM);
    let name = String::from_utf8_lossy(cursor.c_string()?).into_owned();
    let contigs = cursor.cvarint()?;
    let mut runs = Vec::new();
    for _ in 0..contigs {
        let n = cursor.cvarint()?;
        if n as usize > cursor.remaining().len() {
            return Err(cursor.error(format_args!("{n} runs cannot fit")));
        }
        let mut end = 0u64;
        let mut contig = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let start = end + u64::from(cursor.cvarint()?);
            let len = u64::from(cursor.cvarint()?);
            contig.push((start, len));
            end = start + len;
        }
        runs.push(contig);
    }
    Ok((name, runs))
}

/// The lowercase runs stored for `sample`, or `None` when the archive has none for it.
///
/// # Errors
/// [`Error::Format`] when a part of the stream is damaged.
pub fn read_case_runs<R: ReadAt>(
    archive: &ArchiveReader<R>,
    sample: &str,
) -> Result<Option<CaseRuns>> {
    let Some(id) = archive.stream_id(CASE_STREAM) else {
        return Ok(None);
    };
    let mut dctx = zstd::bulk::Decompressor::new()?;
    for index in 0..archive.streams()[id].parts.len() {
        let part = archive.read_part(id, index)?;
        let what = format!("{CASE_STREAM} part {index}");
        let raw = decompress_at_most(&mut dctx, &part.data, part.metadata, &what)?;
        let (name, runs) =
            decode_case_runs(&raw).map_err(|e| Error::format(format!("{what}: {e}")))?;
        if name == sample {
            return Ok(Some(runs));
        }
    }
    Ok(None)
}

/// Lowercases the runs of one contig in its (uppercase) FASTA letters; runs past the end are
/// clipped.
pub fn apply_case(letters: &mut [u8], runs: &[(u64, u64)]) {
    for &(start, len) in runs {
        let start = (start as usize).min(letters.len());
        let end = (start + len as usize).min(letters.len());
        letters[start..end].make_ascii_lowercase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_round_trip() {
        let runs: CaseRuns = vec![vec![(0, 3), (10, 1), (100_000, 70_000)], vec![], vec![(5, 5)]];
        let raw = encode_case_runs("s1", &runs);
        assert_eq!(decode_case_runs(&raw).unwrap(), ("s1".to_owned(), runs));
        let mut letters = b"ACGTACGTACGT".to_vec();
        apply_case(&mut letters, &[(1, 2), (10, 5)]);
        assert_eq!(letters, b"AcgTACGTACgt");
    }
}
