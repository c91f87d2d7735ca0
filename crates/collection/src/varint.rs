//! The integer codings of the format, and a bounds-checked cursor over a byte slice.
//!
//! * **archive varint** (footer, part metadata): one byte `n` (0..=8), then `n` bytes of the
//!   value, most significant first. Zero is the single byte `0x00`.
//! * **cvarint** (collection metadata, `u32`): a prefix-free code of 1 to 5 bytes whose first
//!   byte's leading ones say the length: `0xxxxxxx` (values below 128), `10xxxxxx`+1 byte,
//!   `110xxxxx`+2, `1110xxxx`+3 (each range starting where the previous ended), and `0xF0`
//!   followed by 4 bytes for the rest.
//! * **zigzag around a prediction** ([`zigzag_encode`]): small distances from a predicted
//!   value, on either side, become small numbers; values far above it are kept as they are.

use crate::{Error, Result};

const CVARINT_LIMIT_1: u32 = 1 << 7;
const CVARINT_LIMIT_2: u32 = CVARINT_LIMIT_1 + (1 << 14);
const CVARINT_LIMIT_3: u32 = CVARINT_LIMIT_2 + (1 << 21);
const CVARINT_LIMIT_4: u32 = CVARINT_LIMIT_3 + (1 << 28);

/// Appends `value` as an archive varint.
pub fn write_archive_varint(out: &mut Vec<u8>, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = (value.leading_zeros() / 8) as usize;
    out.push((8 - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// The number of bytes [`write_archive_varint`] writes for `value`.
pub fn archive_varint_len(value: u64) -> usize {
    1 + 8 - (value.leading_zeros() / 8) as usize
}

/// Appends `value` as a cvarint.
pub fn write_cvarint(out: &mut Vec<u8>, value: u32) {
    if value < CVARINT_LIMIT_1 {
        out.push(value as u8);
    } else if value < CVARINT_LIMIT_2 {
        let v = value - CVARINT_LIMIT_1;
        out.extend_from_slice(&[0x80 | (v >> 8) as u8, v as u8]);
    } else if value < CVARINT_LIMIT_3 {
        let v = value - CVARINT_LIMIT_2;
        out.extend_from_slice(&[0xC0 | (v >> 16) as u8, (v >> 8) as u8, v as u8]);
    } else if value < CVARINT_LIMIT_4 {
        let v = value - CVARINT_LIMIT_3;
        out.extend_from_slice(&[0xE0 | (v >> 24) as u8, (v >> 16) as u8, (v >> 8) as u8, v as u8]);
    } else {
        let v = value - CVARINT_LIMIT_4;
        out.push(0xF0);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Encodes `value` relative to the prediction `predicted`: `2(p−x)−1` below it, `2(x−p)` up
/// to twice it, `x` itself beyond.
pub fn zigzag_encode(value: u64, predicted: u64) -> u64 {
    if value < predicted {
        2 * (predicted - value) - 1
    } else if value < predicted.saturating_mul(2) {
        2 * (value - predicted)
    } else {
        value
    }
}

/// Inverts [`zigzag_encode`] for the same prediction.
pub fn zigzag_decode(code: u64, predicted: u64) -> u64 {
    let twice = predicted.saturating_mul(2);
    if code >= twice {
        code
    } else if code & 1 == 1 {
        (twice - code) / 2
    } else {
        (code + twice) / 2
    }
}

/// A bounds-checked reader over a byte slice; errors name `what` is being read and the byte
/// offset (relative to the slice, plus a base the caller gives).
#[derive(Debug, Clone)]
pub struct ByteCursor<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> ByteCursor<'a> {
    /// A cursor at the start of `data`; `what` names the structure in error messages.
    pub fn new(data: &'a [u8], what: &'static str) -> ByteCursor<'a> {
        ByteCursor { data, pos: 0, what }
    }

    /// The current offset from the start of the slice.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos == self.data.len()
    }

    fn truncated(&self, needed: usize) -> Error {
        Error::format(format!(
            "{}: truncated at byte {} (needed {} more bytes, {} left)",
            self.what,
            self.pos,
            needed,
            self.data.len() - self.pos
        ))
    }

    /// An error about the byte at the current position.
    pub fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::format(format!("{}: {} at byte {}", self.what, message, self.pos))
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8> {
        let byte = *self.data.get(self.pos).ok_or_else(|| self.truncated(1))?;
        self.pos += 1;
        Ok(byte)
    }

    /// Reads `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() - self.pos < n {
            return Err(self.truncated(n));
        }
        let slice = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// Reads a little-endian `u32`.
    pub fn u32_le(&mut self) -> Result<u32> {
        let bytes = self.bytes(4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("4 bytes")))
    }

    /// Reads a NUL-terminated string (without the NUL).
    pub fn c_string(&mut self) -> Result<&'a [u8]> {
        let rest = self.remaining();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.error("string without terminating NUL"))?;
        self.pos += len + 1;
        Ok(&rest[..len])
    }

    /// Reads an archive varint.
    pub fn archive_varint(&mut self) -> Result<u64> {
        let len = self.u8()?;
        if len > 8 {
            self.pos -= 1;
            return Err(self.error(format_args!("varint length byte {len} (at most 8)")));
        }
        let bytes = self.bytes(usize::from(len))?;
        Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// Reads a cvarint.
    pub fn cvarint(&mut self) -> Result<u32> {
        let first = self.u8()?;
        let (extra, base, high) = match first {
            0x00..=0x7F => return Ok(u32::from(first)),
            0x80..=0xBF => (1, CVARINT_LIMIT_1, u32::from(first & 0x3F)),
            0xC0..=0xDF => (2, CVARINT_LIMIT_2, u32::from(first & 0x1F)),
            0xE0..=0xEF => (3, CVARINT_LIMIT_3, u32::from(first & 0x0F)),
            0xF0 => (4, CVARINT_LIMIT_4, 0),
            _ => {
                self.pos -= 1;
                return Err(self.error(format_args!("invalid number prefix byte {first:#04x}")));
            }
        };
        let bytes = self.bytes(extra)?;
        let payload = bytes.iter().fold(u64::from(high), |acc, &b| (acc << 8) | u64::from(b));
        u32::try_from(payload + u64::from(base))
            .map_err(|_| self.error("number does not fit in 32 bits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn archive_varint_layout() {
        let mut out = Vec::new();
        write_archive_varint(&mut out, 0);
        write_archive_varint(&mut out, 0x1234);
        assert_eq!(out, [0, 2, 0x12, 0x34]);
        assert_eq!(archive_varint_len(0), 1);
        assert_eq!(archive_varint_len(u64::MAX), 9);
    }

    #[test]
    fn cvarint_boundaries() {
        for (value, len) in [(0u32, 1), (127, 1), (128, 2), (16511, 2), (16512, 3), (u32::MAX, 5)] {
            let mut out = Vec::new();
            write_cvarint(&mut out, value);
            assert_eq!(out.len(), len, "{value}");
        }
        let mut out = Vec::new();
        write_cvarint(&mut out, 128);
        assert_eq!(out, [0x80, 0x00]);
    }

    #[test]
    fn zigzag_examples() {
        // Around 60031 (segment size + k): one shorter is 1, one longer is 2, far values kept.
        assert_eq!(zigzag_encode(60030, 60031), 1);
        assert_eq!(zigzag_encode(60032, 60031), 2);
        assert_eq!(zigzag_encode(200000, 60031), 200000);
        assert_eq!(zigzag_encode(0, 60031), 2 * 60031 - 1);
    }

    #[test]
    fn bad_prefixes_are_errors() {
        assert!(ByteCursor::new(&[0xF8, 0, 0, 0, 0], "t").cvarint().is_err());
        assert!(ByteCursor::new(&[0x80], "t").cvarint().is_err());
        assert!(ByteCursor::new(&[9, 0, 0, 0, 0, 0, 0, 0, 0, 0], "t").archive_varint().is_err());
        assert!(ByteCursor::new(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF], "t").cvarint().is_err());
        assert!(ByteCursor::new(b"abc", "t").c_string().is_err());
    }

    proptest! {
        #[test]
        fn archive_varint_round_trips(values in proptest::collection::vec(any::<u64>(), 0..20)) {
            let mut out = Vec::new();
            for &v in &values {
                write_archive_varint(&mut out, v);
            }
            prop_assert_eq!(out.len(), values.iter().map(|&v| archive_varint_len(v)).sum::<usize>());
            let mut cursor = ByteCursor::new(&out, "t");
            for &v in &values {
                prop_assert_eq!(cursor.archive_varint().unwrap(), v);
            }
            prop_assert!(cursor.is_empty());
        }

        #[test]
        fn cvarint_round_trips(values in proptest::collection::vec(
            prop_oneof![0u32..300, 16000u32..17000, 2_000_000u32..2_200_000, any::<u32>()], 0..20)) {
            let mut out = Vec::new();
            for &v in &values {
                write_cvarint(&mut out, v);
            }
            let mut cursor = ByteCursor::new(&out, "t");
            for &v in &values {
                prop_assert_eq!(cursor.cvarint().unwrap(), v);
            }
            prop_assert!(cursor.is_empty());
        }

        #[test]
        fn zigzag_round_trips(value in 0u64..1 << 40, predicted in 0u64..1 << 40) {
            prop_assert_eq!(zigzag_decode(zigzag_encode(value, predicted), predicted), value);
        }
    }
}
