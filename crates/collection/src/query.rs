//! Contig queries as agc's `getctg` takes them: `ctg`, `ctg@sample`, `ctg:from-to`,
//! `ctg@sample:from-to`, with 0-based inclusive positions.
//!
//! As in agc, the split is greedy from the left: the sample starts after the last `@` that is
//! followed by a range or a sample, the range after the last `:` and its end after the last
//! `-`. Unlike agc, a range whose bounds are not numbers, or whose start is past its end, is
//! an error rather than silently the whole contig.

use std::fmt;

/// One parsed contig query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContigQuery {
    /// The contig name (matched against the first word of stored headers).
    pub contig: String,
    /// The sample, when given.
    pub sample: Option<String>,
    /// The 0-based inclusive range, when given.
    pub range: Option<(u64, u64)>,
}

/// Why a query could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// The query text.
    pub query: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "contig query {:?}: {}", self.query, self.reason)
    }
}

impl std::error::Error for QueryError {}

impl ContigQuery {
    /// Parses a query.
    ///
    /// # Errors
    /// An empty query or contig, a range with bounds that are not numbers, or `from > to`.
    pub fn parse(query: &str) -> Result<ContigQuery, QueryError> {
        let fail = |reason| QueryError { query: query.to_owned(), reason };
        let (head, range) = match split_range(query) {
            Some((head, from, to)) => {
                let from: u64 = from.parse().map_err(|_| fail("range start is not a number"))?;
                let to: u64 = to.parse().map_err(|_| fail("range end is not a number"))?;
                if from > to {
                    return Err(fail("range start is after its end"));
                }
                (head, Some((from, to)))
            }
            None => (query, None),
        };
        let (contig, sample) = match head.rfind('@') {
            Some(at) if at > 0 && at + 1 < head.len() => {
                (&head[..at], Some(head[at + 1..].to_owned()))
            }
            _ => (head, None),
        };
        if contig.is_empty() {
            return Err(fail("empty contig name"));
        }
        Ok(ContigQuery { contig: contig.to_owned(), sample, range })
    }
}

/// `name:from-to` → `(name, from, to)` when the text after the last `:` holds a `-` with text
/// on both sides.
fn split_range(query: &str) -> Option<(&str, &str, &str)> {
    let colon = query.rfind(':')?;
    let (head, tail) = (&query[..colon], &query[colon + 1..]);
    let dash = tail.rfind('-')?;
    let (from, to) = (&tail[..dash], &tail[dash + 1..]);
    (!head.is_empty() && !from.is_empty() && !to.is_empty()).then_some((head, from, to))
}

/// The header agc writes for a contig (and range): the full stored header, then `:from-to`.
pub fn output_header(full_name: &str, range: Option<(u64, u64)>) -> String {
    match range {
        Some((from, to)) => format!("{full_name}:{from}-{to}"),
        None => full_name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(text: &str) -> ContigQuery {
        ContigQuery::parse(text).unwrap()
    }

    #[test]
    fn all_four_forms() {
        assert_eq!(q("chr1"), ContigQuery { contig: "chr1".into(), sample: None, range: None });
        assert_eq!(q("chr1@hap01").sample.as_deref(), Some("hap01"));
        assert_eq!(q("chr1:5-10").range, Some((5, 10)));
        let full = q("chr2@hap05:1000-1099");
        assert_eq!(
            (full.contig.as_str(), full.sample.as_deref(), full.range),
            ("chr2", Some("hap05"), Some((1000, 1099)))
        );
        // Names with '@', ':' or '-' inside keep them.
        assert_eq!(q("HLA-A:1@s:0-0").contig, "HLA-A:1");
        assert_eq!(q("a-b").contig, "a-b");
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(ContigQuery::parse("chr1:10-5").is_err());
        assert!(ContigQuery::parse("chr1:x-5").is_err());
        assert!(ContigQuery::parse("").is_err());
    }

    proptest! {
        #[test]
        fn formatted_queries_parse_back(contig in "[A-Za-z0-9_.]{1,10}", sample in proptest::option::of("[A-Za-z0-9_.]{1,10}"),
                                        range in proptest::option::of((0u64..1000, 0u64..1000))) {
            let range = range.map(|(a, b)| (a.min(b), a.max(b)));
            let mut text = contig.clone();
            if let Some(s) = &sample { text.push('@'); text.push_str(s); }
            if let Some((a, b)) = range { text.push_str(&format!(":{a}-{b}")); }
            prop_assert_eq!(q(&text), ContigQuery { contig, sample, range });
        }
    }
}
