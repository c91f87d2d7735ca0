//! The annotation as a RepeatMasker `.out` table, for the tools that read one (repeat
//! landscapes, `RM2Bed.py`, `rmOutToGFF3.pl`, UCSC's `rmsk` loaders, …).

use std::io::{self, Write};

use seqflow_genome::Genome;

use crate::{AnnotatedElement, Repeats};

/// Columns of the table.
const COLUMNS: usize = 15;
/// Labels of the two header lines, column by column.
const HEADER: [[&str; COLUMNS]; 2] = [
    [
        "SW", "perc", "perc", "perc", "query", "position", "in", "query", "", "matching", "repeat",
        "position", "in", "repeat", "",
    ],
    [
        "score",
        "div.",
        "del.",
        "ins.",
        "sequence",
        "begin",
        "end",
        "(left)",
        "",
        "repeat",
        "class/family",
        "begin",
        "end",
        "(left)",
        "ID",
    ],
];
/// Columns written left-aligned (names); the others are right-aligned.
const LEFT_ALIGNED: [usize; 3] = [4, 9, 10];

/// Writes every copy (sorted by position) as a line of RepeatMasker's `.out` table, after its
/// two header lines and a blank one. Columns, separated by spaces and padded to the widest
/// value: alignment score; % divergence (substitutions per 100 compared pairs), % deletions
/// (consensus bases opposite a gap in the copy per 100 aligned consensus bases), % insertions
/// (copy bases opposite a gap in the consensus per 100 copy bases), each to one decimal; contig;
/// 1-based start and end; contig bases past the end, in parentheses; `+` or `C` (the copy is
/// the complement of the consensus); family; class (`Unknown`); then the consensus position in
/// RepeatMasker's order, for `+` begin, end, (bases left past the end) and for `C` (bases left
/// past the end), end, begin; and the copy's ID (1, 2, … as `copy<N>` in the GFF3).
///
/// # Errors
/// Any write error.
pub fn write_repeatmasker_out(
    out: &mut impl Write,
    genome: &Genome,
    repeats: &Repeats,
) -> io::Result<()> {
    // Two passes over the copies: the widths, then the lines (no table held in memory).
    let mut widths = [0usize; COLUMNS];
    for labels in &HEADER {
        for (width, label) in widths.iter_mut().zip(labels) {
            *width = (*width).max(label.len());
        }
    }
    let mut fields: [String; COLUMNS] = Default::default();
    for (i, annotated) in repeats.elements.iter().enumerate() {
        row(&mut fields, genome, repeats, i, annotated);
        for (width, field) in widths.iter_mut().zip(&fields) {
            *width = (*width).max(field.len());
        }
    }
    for labels in &HEADER {
        let labels = labels.map(str::to_owned);
        write_line(out, &labels, &widths)?;
    }
    writeln!(out)?;
    for (i, annotated) in repeats.elements.iter().enumerate() {
        row(&mut fields, genome, repeats, i, annotated);
        write_line(out, &fields, &widths)?;
    }
    Ok(())
}

/// Fills `fields` with the columns of copy `index`.
fn row(
    fields: &mut [String; COLUMNS],
    genome: &Genome,
    repeats: &Repeats,
    index: usize,
    annotated: &AnnotatedElement,
) {
    let e = &annotated.element;
    let a = &annotated.alignment;
    let contig = &genome.contigs()[genome.contig_of(e.start).expect("element inside the genome")];
    let consensus_len = repeats.families[annotated.family].consensus.len();
    let (begin, end, left) = (
        (a.consensus_start + 1).to_string(),
        a.consensus_end.to_string(),
        format!("({})", consensus_len - a.consensus_end),
    );
    let consensus_columns = if e.reverse { [left, end, begin] } else { [begin, end, left] };
    let [c1, c2, c3] = consensus_columns;
    *fields = [
        a.score.to_string(),
        format!("{:.1}", a.percent_divergence()),
        format!("{:.1}", a.percent_deletions()),
        format!("{:.1}", a.percent_insertions()),
        contig.name.to_string(),
        (e.start - contig.start + 1).to_string(),
        (e.end - contig.start).to_string(),
        format!("({})", contig.end() - e.end),
        if e.reverse { "C" } else { "+" }.to_owned(),
        repeats.families[annotated.family].name.clone(),
        repeats.families[annotated.family].class.clone(),
        c1,
        c2,
        c3,
        (index + 1).to_string(),
    ];
}

fn write_line(
    out: &mut impl Write,
    fields: &[String; COLUMNS],
    widths: &[usize; COLUMNS],
) -> io::Result<()> {
    let mut line = String::with_capacity(widths.iter().sum::<usize>() + 2 * COLUMNS);
    for (column, (field, &width)) in fields.iter().zip(widths).enumerate() {
        line.push_str(if column == 0 { " " } else { "  " });
        if LEFT_ALIGNED.contains(&column) {
            line.push_str(&format!("{field:<width$}"));
        } else {
            line.push_str(&format!("{field:>width$}"));
        }
    }
    writeln!(out, "{}", line.trim_end())
}
