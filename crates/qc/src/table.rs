//! Rendering of [`Summary`] rows: an aligned table for people, TSV for programs.

use std::fmt::Write;

use crate::summary::Summary;

/// Column names, in output order (the same as `seqkit stats -a -T`, newer columns last).
pub const COLUMNS: [&str; 19] = [
    "file", "format", "type", "num_seqs", "sum_len", "min_len", "avg_len", "max_len", "Q1", "Q2",
    "Q3", "sum_gap", "N50", "N50_num", "Q20(%)", "Q30(%)", "AvgQual", "GC(%)", "sum_n",
];

/// Number of leading text columns (left-aligned in the table).
const TEXT_COLUMNS: usize = 3;

/// Columns shown without `all`, as `seqkit stats` without `-a`: file to max_len.
pub const BASIC_COLUMNS: usize = 8;

fn column_count(all: bool) -> usize {
    if all { COLUMNS.len() } else { BASIC_COLUMNS }
}

/// The cells of a row; numbers rendered by `int` and `float(value, decimals)`.
fn cells(
    s: &Summary,
    int: impl Fn(u64) -> String,
    float: impl Fn(f64, usize) -> String,
) -> Vec<String> {
    vec![
        s.file.clone(),
        s.format.clone(),
        s.seq_type.clone(),
        int(s.num_seqs),
        int(s.sum_len),
        int(s.min_len),
        float(s.avg_len, 1),
        int(s.max_len),
        float(s.q1, 1),
        float(s.q2, 1),
        float(s.q3, 1),
        int(s.sum_gap),
        int(s.n50),
        int(s.n50_num),
        float(s.q20, 2),
        float(s.q30, 2),
        float(s.avg_qual, 2),
        float(s.gc, 2),
        int(s.sum_n),
    ]
}

/// Tab-separated values with a header line; fixed decimals, no thousands separators.
/// `all` selects every column, otherwise the first [`BASIC_COLUMNS`].
///
/// ```
/// use seqflow_qc::{Accumulator, render_tsv};
/// let tsv = render_tsv(&[Accumulator::default().summarize("empty.fa")], true);
/// assert!(tsv.starts_with("file\tformat\ttype\tnum_seqs"));
/// assert!(tsv.lines().nth(1).unwrap().starts_with("empty.fa\t\t\t0\t0\t0\t0.0\t0"));
/// ```
pub fn render_tsv(rows: &[Summary], all: bool) -> String {
    let n = column_count(all);
    let mut out = COLUMNS[..n].join("\t");
    out.push('\n');
    for row in rows {
        let line = cells(row, |v| v.to_string(), |v, d| format!("{v:.d$}"));
        out.push_str(&line[..n].join("\t"));
        out.push('\n');
    }
    out
}

/// An aligned table: text left-aligned, numbers right-aligned with thousands separators and
/// without trailing zeros, columns two spaces apart. `all` as for [`render_tsv`].
pub fn render_table(rows: &[Summary], all: bool) -> String {
    let n = column_count(all);
    let mut grid: Vec<Vec<String>> = vec![COLUMNS[..n].iter().map(|c| c.to_string()).collect()];
    grid.extend(rows.iter().map(|row| {
        let mut cells = cells(row, group_thousands_int, |v, _| group_float(v));
        cells.truncate(n);
        cells
    }));
    let widths: Vec<usize> =
        (0..n).map(|c| grid.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &grid {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let width = widths[c];
            if c < TEXT_COLUMNS {
                let _ = write!(line, "{cell:<width$}");
            } else {
                let _ = write!(line, "{cell:>width$}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn group_thousands_int(value: u64) -> String {
    group_thousands(&value.to_string())
}

/// Shortest decimal form of `value` with its integer part grouped by thousands.
fn group_float(value: f64) -> String {
    let text = value.to_string();
    match text.split_once('.') {
        Some((int, frac)) => format!("{}.{frac}", group_thousands(int)),
        None => group_thousands(&text),
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_like_seqkit() {
        assert_eq!(group_thousands_int(3_377_250), "3,377,250");
        assert_eq!(group_thousands_int(999), "999");
        assert_eq!(group_float(2251.5), "2,251.5");
        assert_eq!(group_float(10.0), "10");
        assert_eq!(group_float(46.15), "46.15");
    }
}
