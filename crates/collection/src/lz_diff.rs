//! The LZ-diff (version 2) decoder: rebuilds a segment from its group reference and its
//! delta text.
//!
//! A delta is a byte text read left to right with a *predicted position* `pred` in the
//! reference (where the copy would continue if the alignment went on; it starts at 0):
//!
//! | bytes | meaning | `pred` after |
//! |---|---|---|
//! | `'A'..='U'` | one base code (`byte − 'A'`) | `pred + 1` |
//! | `'!'` | the reference base at `pred` | `pred + 1` |
//! | `0x1E` digits `0x04` | a run of `digits + 4` N codes | unchanged |
//! | `[-]digits [',' digits] '.'` | a copy from `pred + first` of `second + min_match_len` bases; without the length, up to the reference's end | end of the copy |
//!
//! Decoding is checked: every copy lies inside the reference, and the output never grows past
//! the length the segment descriptor declares.

use std::fmt;

/// Base code of `N`.
pub const N_CODE: u8 = 4;
/// Starts an N run.
const N_RUN_START: u8 = 30;
/// The shortest N run written as a run.
const MIN_N_RUN: u64 = 4;
/// Copies the reference base at the predicted position.
const COPY_REFERENCE_BASE: u8 = b'!';

/// Why a delta could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaError {
    /// Byte offset in the delta text.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for DeltaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LZ-diff byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for DeltaError {}

struct DeltaCursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl DeltaCursor<'_> {
    fn fail(&self, reason: impl Into<String>) -> DeltaError {
        DeltaError { offset: self.pos, reason: reason.into() }
    }

    fn signed_number(&mut self) -> Result<i64, DeltaError> {
        let negative = self.text.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let start = self.pos;
        let mut value: i64 = 0;
        while let Some(&digit) = self.text.get(self.pos).filter(|b| b.is_ascii_digit()) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(digit - b'0')))
                .ok_or_else(|| self.fail("number overflows"))?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.fail("expected a number"));
        }
        Ok(if negative { -value } else { value })
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), DeltaError> {
        if self.text.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(format!("expected {what}")))
        }
    }
}

/// Decodes `delta` against `reference` into `out` (cleared first). `min_match_len` comes from
/// the archive's parameters; `max_len` bounds the output (the segment's declared length).
///
/// # Errors
/// A [`DeltaError`] naming the byte offset in the delta text.
pub fn decode(
    reference: &[u8],
    delta: &[u8],
    min_match_len: u32,
    max_len: usize,
    out: &mut Vec<u8>,
) -> Result<(), DeltaError> {
    out.clear();
    let mut cursor = DeltaCursor { text: delta, pos: 0 };
    let mut pred: u64 = 0;
    let too_long = |cursor: &DeltaCursor<'_>| {
        cursor.fail(format!("decodes to more than the declared {max_len} bases"))
    };
    while let Some(&byte) = delta.get(cursor.pos) {
        if out.len() == max_len && !matches!(byte, b'-' | b'0'..=b'9' | N_RUN_START) {
            return Err(too_long(&cursor));
        }
        match byte {
            b'A'..=b'U' => {
                out.push(byte - b'A');
                cursor.pos += 1;
                pred += 1;
            }
            COPY_REFERENCE_BASE => {
                let base =
                    usize::try_from(pred).ok().and_then(|p| reference.get(p)).ok_or_else(|| {
                        cursor.fail(format!("copies reference base {pred} of {}", reference.len()))
                    })?;
                out.push(*base);
                cursor.pos += 1;
                pred += 1;
            }
            N_RUN_START => {
                cursor.pos += 1;
                let extra = cursor.signed_number()?;
                cursor.expect(N_CODE, "the end of an N run")?;
                let len = u64::try_from(extra)
                    .ok()
                    .and_then(|e| e.checked_add(MIN_N_RUN))
                    .ok_or_else(|| cursor.fail("negative N run"))?;
                if len > (max_len - out.len().min(max_len)) as u64 {
                    return Err(too_long(&cursor));
                }
                out.resize(out.len() + len as usize, N_CODE);
            }
            b'-' | b'0'..=b'9' => {
                let offset = cursor.signed_number()?;
                let start = i64::try_from(pred)
                    .ok()
                    .and_then(|p| p.checked_add(offset))
                    .and_then(|s| usize::try_from(s).ok())
                    .filter(|&s| s <= reference.len())
                    .ok_or_else(|| {
                        cursor.fail(format!(
                            "copy from {pred}{offset:+} outside a reference of {}",
                            reference.len()
                        ))
                    })?;
                let len = if delta.get(cursor.pos) == Some(&b',') {
                    cursor.pos += 1;
                    let extra = cursor.signed_number()?;
                    usize::try_from(extra)
                        .ok()
                        .and_then(|e| e.checked_add(min_match_len as usize))
                        .ok_or_else(|| cursor.fail("negative copy length"))?
                } else {
                    reference.len() - start
                };
                cursor.expect(b'.', "'.' after a copy")?;
                let copied = reference.get(start..start.saturating_add(len)).ok_or_else(|| {
                    cursor.fail(format!(
                        "copy of {len} bases from {start} passes the reference end ({})",
                        reference.len()
                    ))
                })?;
                if copied.len() > max_len - out.len().min(max_len) {
                    return Err(too_long(&cursor));
                }
                out.extend_from_slice(copied);
                pred = (start + len) as u64;
            }
            other => return Err(cursor.fail(format!("unexpected byte {other:#04x}"))),
        }
    }
    Ok(())
}

/// Reverse-complements base codes in place the way AGC does: A↔T and C↔G swap, every other
/// code (N and the IUPAC codes) keeps its value, so stored and restored bytes are identical.
pub fn reverse_complement(codes: &mut [u8]) {
    codes.reverse();
    // 3 - c is c ^ 3 for the bases 0..4; written without a branch so that it vectorises.
    for code in codes {
        *code ^= u8::from(*code < 4) * 3;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(reference: &[u8], delta: &[u8]) -> Result<Vec<u8>, DeltaError> {
        let mut out = Vec::new();
        decode(reference, delta, 20, 1 << 20, &mut out).map(|()| out)
    }

    #[test]
    fn tokens_decode() {
        let reference: Vec<u8> = (0..60).map(|i| (i % 4) as u8).collect();
        // Two literals, a copy of 20+5 bases from pred(2)+3 = 5, an N run of 6, a '!' at
        // pred 30, a copy to the end from pred(31)-1 = 30.
        let delta = b"AB3,5.\x1e2\x04!-1.";
        let out = run(&reference, delta).unwrap();
        let mut expected = vec![0, 1];
        expected.extend_from_slice(&reference[5..30]);
        expected.extend_from_slice(&[N_CODE; 6]);
        expected.push(reference[30]);
        expected.extend_from_slice(&reference[30..]);
        assert_eq!(out, expected);
    }

    #[test]
    fn corrupt_deltas_are_errors() {
        let reference = vec![0u8; 40];
        for bad in
            [&b"100,0."[..], b"-5.", b"0,30.", b"5,0", b"\x1e3", b"\x1e-9\x04", b"A\xff", b","]
        {
            assert!(run(&reference, bad).is_err(), "{bad:?}");
        }
        let mut out = Vec::new();
        assert!(decode(&reference, b"\x1e999999\x04", 20, 1000, &mut out).is_err());
        assert!(decode(&reference, b"0.-40.", 20, 50, &mut out).is_err());
    }

    #[test]
    fn reverse_complement_keeps_iupac_codes() {
        // A C G T N R Y S W K M B D H V U
        let mut codes: Vec<u8> = (0..16).collect();
        reverse_complement(&mut codes);
        assert_eq!(codes, [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0, 1, 2, 3]);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(reference in proptest::collection::vec(0u8..16, 0..100),
                                delta in proptest::collection::vec(prop_oneof![
                                    Just(b'.'), Just(b','), Just(b'-'), Just(b'!'), Just(30u8),
                                    Just(4u8), b'0'..=b'9', b'A'..=b'U', any::<u8>()], 0..40)) {
            let mut out = Vec::new();
            let _ = decode(&reference, &delta, 20, 500, &mut out);
            prop_assert!(out.len() <= 500);
        }
    }
}
