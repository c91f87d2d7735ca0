//! The one parser of numeric flags: byte sizes (`4096`, `64K`, `1M`, `2G`, powers of 1024) and
//! plain counts, each checked against the bounds the flag states in its help.
//!
//! Every numeric flag goes through [`size_in`] or [`count_in`], so a value outside its bounds
//! is refused while the command line is parsed, with one line naming the allowed range.

use std::fmt::Display;
use std::str::FromStr;

/// Parses a size such as `1M` or `2g` (binary multiples), without bounds.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown size unit '{c}' (use K, M, G or T)")),
            };
            (&text[..i], shift)
        }
        _ => (text, 0),
    };
    let value: u64 = digits.parse().map_err(|_| format!("'{text}' is not a size"))?;
    value.checked_shl(shift).filter(|v| v >> shift == value).ok_or_else(|| "size too large".into())
}

/// A flag parser for sizes in `min..=max` bytes.
pub(crate) fn size_in(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |text| {
        let value = parse_size(text)?;
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(format!("must be between {} and {}", human_size(min), human_size(max)))
        }
    }
}

/// A flag parser for integers in `min..=max`.
pub(crate) fn count_in<T>(
    min: T,
    max: T,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: FromStr + PartialOrd + Display + Copy + Send + Sync + 'static,
{
    move |text| {
        let value: T =
            text.trim().parse().map_err(|_| format!("'{text}' is not a whole number"))?;
        if value >= min && value <= max {
            Ok(value)
        } else {
            Err(format!("must be between {min} and {max}"))
        }
    }
}

// Sizes print as the pack library prints them in its own messages: one notation for both.
pub(crate) use seqflow_pack::{approx_size, human_size};

#[cfg(test)]
mod tests {
    use super::{count_in, human_size, parse_size, size_in};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("1X").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("-1").is_err());
        assert_eq!(parse_size("99999999999T"), Err("size too large".into()));
    }

    #[test]
    fn bounds_are_inclusive_and_named_in_the_error() {
        let batch = size_in(1 << 10, 1 << 30);
        assert_eq!(batch("1K"), Ok(1024));
        assert_eq!(batch("1G"), Ok(1 << 30));
        assert_eq!(batch("1025M"), Err("must be between 1K and 1G".into()));
        assert_eq!(batch("1023"), Err("must be between 1K and 1G".into()));
        let threads = count_in(1usize, 1024);
        assert_eq!(threads("1024"), Ok(1024));
        assert_eq!(threads("0"), Err("must be between 1 and 1024".into()));
        assert!(threads("100000").is_err());
        assert!(threads("-1").unwrap_err().contains("not a whole number"));
        let level = count_in(-5i32, 22);
        assert_eq!(level("-5"), Ok(-5));
        assert!(level("23").is_err());
    }

    #[test]
    fn human_sizes_round_trip() {
        for bytes in [1, 1000, 1024, 1536, 1 << 20, 3 << 30, 1 << 40] {
            assert_eq!(parse_size(&human_size(bytes)), Ok(bytes));
        }
    }
}
