//! Names: the base-64 names of segment-group streams, and the delta coding of contig names.
//!
//! Group `g` keeps its reference in stream `x<B64(g)>r` and its deltas (or, for the raw
//! groups, its segments) in `x<B64(g)>d`, where `B64` writes `g` in base 64 with the digits
//! `0-9A-Za-z_#`, least significant digit first.
//!
//! A metadata batch stores the contig names of its samples as
//! `cvarint(n_samples) { cvarint(n_contigs) { name NUL }* }*`, each name coded against the
//! previous name of the same sample. Names are split on spaces into tokens; when the token
//! count differs from the previous name's, the name is stored as is. Otherwise each token is
//! `0x81` when equal to the previous token, stored as is when its length differs, and else as
//! its differing bytes with runs of 1..=100 equal bytes written as one byte `256 − run`.

use crate::Result;
use crate::varint::{ByteCursor, write_cvarint};

const BASE64_DIGITS: &[u8; 64] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_#";

/// Token marker: same as the previous name's token at this place.
const SAME_TOKEN: u8 = 0x81;
/// The longest run of equal bytes one marker byte stands for.
const MAX_RUN: u8 = 100;

/// The base-64 digits of `group` as AGC writes them (least significant first).
pub fn group_base64(group: u32) -> String {
    let mut n = group;
    let mut out = String::new();
    loop {
        out.push(char::from(BASE64_DIGITS[(n & 63) as usize]));
        n /= 64;
        if n == 0 {
            return out;
        }
    }
}

/// The name of the stream holding group `group`'s reference segment (`x<B64>r`).
pub fn reference_stream_name(group: u32) -> String {
    format!("x{}r", group_base64(group))
}

/// The name of the stream holding group `group`'s delta or raw packs (`x<B64>d`).
pub fn delta_stream_name(group: u32) -> String {
    format!("x{}d", group_base64(group))
}

/// Encodes the sample list (stream `collection-samples`, before ZSTD):
/// `cvarint(n) { name NUL }*`.
///
/// # Panics
/// If there are more than `u32::MAX` samples.
pub fn encode_sample_names(names: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    write_cvarint(&mut out, u32::try_from(names.len()).expect("sample count fits u32"));
    for name in names {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
    }
    out
}

/// Decodes the sample list.
///
/// # Errors
/// [`crate::Error::Format`] on truncation, a count that cannot fit, or a name that is not
/// UTF-8.
pub fn decode_sample_names(raw: &[u8]) -> Result<Vec<String>> {
    let mut cursor = ByteCursor::new(raw, "sample names");
    let n = cursor.cvarint()? as usize;
    if n > cursor.remaining().len() {
        return Err(cursor.error(format_args!("{n} sample names cannot fit")));
    }
    let mut names = Vec::with_capacity(n);
    for _ in 0..n {
        let name = cursor.c_string()?;
        names.push(
            String::from_utf8(name.to_vec())
                .map_err(|_| cursor.error("sample name is not UTF-8"))?,
        );
    }
    Ok(names)
}

/// Contig names of the samples of one metadata batch, in order.
pub type BatchContigNames = Vec<Vec<String>>;

/// Encodes the contig names of a batch (the bytes before ZSTD).
///
/// # Panics
/// If a count does not fit in 32 bits.
pub fn encode_contig_names(batch: &[Vec<String>]) -> Vec<u8> {
    let mut out = Vec::new();
    write_cvarint(&mut out, u32::try_from(batch.len()).expect("sample count fits u32"));
    for contigs in batch {
        write_cvarint(&mut out, u32::try_from(contigs.len()).expect("contig count fits u32"));
        let mut previous: Vec<&[u8]> = Vec::new();
        for name in contigs {
            let current: Vec<&[u8]> = name.as_bytes().split(|&b| b == b' ').collect();
            if current.len() == previous.len() {
                encode_tokens(&previous, &current, &mut out);
            } else {
                out.extend_from_slice(name.as_bytes());
            }
            out.push(0);
            previous = current;
        }
    }
    out
}

fn encode_tokens(previous: &[&[u8]], current: &[&[u8]], out: &mut Vec<u8>) {
    for (i, (prev, cur)) in previous.iter().zip(current).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if prev == cur {
            out.push(SAME_TOKEN);
        } else if prev.len() != cur.len() {
            out.extend_from_slice(cur);
        } else {
            let mut run = 0u8;
            for (&p, &c) in prev.iter().zip(cur.iter()) {
                if p == c {
                    if run == MAX_RUN {
                        out.push(run.wrapping_neg());
                        run = 0;
                    }
                    run += 1;
                } else {
                    if run > 0 {
                        out.push(run.wrapping_neg());
                        run = 0;
                    }
                    out.push(c);
                }
            }
            if run > 0 {
                out.push(run.wrapping_neg());
            }
        }
    }
}

/// Decodes the contig names of a batch. Counts are checked against the bytes left before
/// anything is allocated for them.
///
/// # Errors
/// [`Error::Format`] on truncation, a run reaching past the previous token, or a name that
/// is not UTF-8.
pub fn decode_contig_names(raw: &[u8]) -> Result<BatchContigNames> {
    let mut cursor = ByteCursor::new(raw, "contig names");
    let n_samples = cursor.cvarint()? as usize;
    // Every sample takes at least one byte (its contig count).
    if n_samples > cursor.remaining().len() {
        return Err(cursor.error(format_args!("{n_samples} samples cannot fit")));
    }
    let mut batch = Vec::with_capacity(n_samples);
    for _ in 0..n_samples {
        let n_contigs = cursor.cvarint()? as usize;
        // Every name takes at least its NUL.
        if n_contigs > cursor.remaining().len() {
            return Err(cursor.error(format_args!("{n_contigs} contig names cannot fit")));
        }
        let mut names = Vec::with_capacity(n_contigs);
        let mut previous: Vec<Vec<u8>> = Vec::new();
        for _ in 0..n_contigs {
            let encoded = cursor.c_string()?;
            let tokens: Vec<&[u8]> = encoded.split(|&b| b == b' ').collect();
            let current: Vec<Vec<u8>> = if tokens.len() == previous.len() {
                decode_tokens(&previous, &tokens).map_err(|e| cursor.error(e))?
            } else {
                tokens.iter().map(|t| t.to_vec()).collect()
            };
            let name = current.join(&b' ');
            let name =
                String::from_utf8(name).map_err(|_| cursor.error("contig name is not UTF-8"))?;
            names.push(name);
            previous = current;
        }
        batch.push(names);
    }
    Ok(batch)
}

fn decode_tokens(previous: &[Vec<u8>], tokens: &[&[u8]]) -> Result<Vec<Vec<u8>>, String> {
    let mut current = Vec::with_capacity(tokens.len());
    for (prev, token) in previous.iter().zip(tokens) {
        if token == &[SAME_TOKEN] {
            current.push(prev.clone());
            continue;
        }
        let mut decoded = Vec::with_capacity(token.len());
        let mut at = 0usize;
        for &byte in *token {
            if byte < 0x80 {
                decoded.push(byte);
                at += 1;
            } else {
                let run = usize::from(byte.wrapping_neg());
                let copied = prev.get(at..at + run).ok_or_else(|| {
                    format!("name token copies {run} bytes from byte {at} of a shorter token")
                })?;
                decoded.extend_from_slice(copied);
                at += run;
            }
        }
        current.push(decoded);
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64_names_match_agc() {
        assert_eq!(group_base64(0), "0");
        assert_eq!(reference_stream_name(16), "xGr");
        assert_eq!(delta_stream_name(64), "x01d");
        assert_eq!(delta_stream_name(63), "x#d");
    }

    #[test]
    fn similar_names_are_delta_coded() {
        let batch = vec![vec![
            "chr1 len=1000 sample A".to_owned(),
            "chr2 len=1000 sample A".to_owned(),
            "chrUn_123 x".to_owned(),
        ]];
        let raw = encode_contig_names(&batch);
        // The second name: token 1 differs in one byte, the others are equal.
        assert!(raw.windows(3).any(|w| w == [0xFD, b'2', b' ']), "{raw:?}");
        assert_eq!(decode_contig_names(&raw).unwrap(), batch);
    }

    #[test]
    fn runs_longer_than_100_are_split() {
        let a = format!("{}A", "x".repeat(250));
        let b = format!("{}B", "x".repeat(250));
        let batch = vec![vec![a, b]];
        assert_eq!(decode_contig_names(&encode_contig_names(&batch)).unwrap(), batch);
    }

    #[test]
    fn runs_past_the_previous_token_are_errors() {
        // Sample with 2 names; second is one token copying 5 bytes from a 1-byte token.
        let raw = [1, 2, b'a', 0, 0xFB, 0];
        assert!(decode_contig_names(&raw).is_err());
        assert!(decode_contig_names(&[200]).is_err());
    }

    proptest! {
        #[test]
        fn contig_names_round_trip(batch in proptest::collection::vec(
            proptest::collection::vec("[a-zA-Z0-9_=.|:-]{0,12}( [a-zA-Z0-9_=]{0,8}){0,3}", 0..6), 0..4)) {
            let raw = encode_contig_names(&batch);
            prop_assert_eq!(decode_contig_names(&raw).unwrap(), batch);
        }

        #[test]
        fn sample_names_round_trip(names in proptest::collection::vec("[a-zA-Z0-9_.#-]{0,20}", 0..10)) {
            prop_assert_eq!(decode_sample_names(&encode_sample_names(&names)).unwrap(), names);
        }

        #[test]
        fn decoding_garbage_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_contig_names(&raw);
            let _ = decode_sample_names(&raw);
        }
    }
}
