//! `PREFIX.html`: one self-contained page (inline CSS and SVG, no scripts from anywhere else,
//! no network) with the report's plots.

use std::fmt::Write;

use crate::report::fastp::{FastpReport, MateReport};

/// Colours of the series, in order.
const COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f"];
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const MARGIN: f64 = 40.0;

/// One named series of `(x, y)` points.
struct Series<'a> {
    name: &'a str,
    points: Vec<(f64, f64)>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An SVG line chart; the y range is `0..=y_max` (or the data's maximum when `None`).
fn line_chart(title: &str, x_label: &str, series: &[Series<'_>], y_max: Option<f64>) -> String {
    let x_max = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(1.0, f64::max);
    let y_top = y_max
        .unwrap_or_else(|| {
            series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max)
        })
        .max(1e-9);
    let (plot_w, plot_h) = (WIDTH - 2.0 * MARGIN, HEIGHT - 2.0 * MARGIN);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<figure><figcaption>{}</figcaption><svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\">\
         <rect x=\"{MARGIN}\" y=\"{MARGIN}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"#fafafa\" stroke=\"#999\"/>\
         <text x=\"{MARGIN}\" y=\"{:.0}\" font-size=\"11\">0</text>\
         <text x=\"2\" y=\"{:.0}\" font-size=\"11\">{}</text>\
         <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"end\">{} {}</text>",
        escape(title),
        HEIGHT - MARGIN + 14.0,
        MARGIN + 4.0,
        format_number(y_top),
        WIDTH - MARGIN,
        HEIGHT - MARGIN + 14.0,
        escape(x_label),
        format_number(x_max),
    );
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut points = String::new();
        // A single point would draw nothing: show it as a spike from the axis.
        let spike;
        let drawn = match s.points.as_slice() {
            [(x, y)] => {
                spike = [(*x, 0.0), (*x, *y)];
                &spike[..]
            }
            all => all,
        };
        for &(x, y) in drawn {
            let px = MARGIN + x / x_max * plot_w;
            let py = MARGIN + plot_h - (y / y_top).clamp(0.0, 1.0) * plot_h;
            let _ = write!(points, "{px:.1},{py:.1} ");
        }
        let _ = write!(
            svg,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" fill=\"{colour}\">{}</text>",
            points.trim_end(),
            MARGIN + 8.0 + 110.0 * i as f64,
            MARGIN - 8.0,
            escape(s.name),
        );
    }
    svg.push_str("</svg></figure>\n");
    svg
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.3}") }
}

fn indexed(values: &[f64]) -> Vec<(f64, f64)> {
    values.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v)).collect()
}

fn counted(values: &[u64]) -> Vec<(f64, f64)> {
    values.iter().enumerate().map(|(i, &v)| (i as f64, v as f64)).collect()
}

fn mate_section(html: &mut String, label: &str, mate: &MateReport) {
    let _ = writeln!(html, "<h2>{label}</h2>");
    let curve = |name: &str| mate.quality_curves.get(name).map(|v| indexed(v)).unwrap_or_default();
    let quartile =
        |v: &[u8]| v.iter().enumerate().map(|(i, &q)| ((i + 1) as f64, f64::from(q))).collect();
    html.push_str(&line_chart(
        "Quality by cycle (mean and quartiles)",
        "cycle",
        &[
            Series { name: "mean", points: curve("mean") },
            Series { name: "Q1", points: quartile(&mate.seqflow.quality_q1) },
            Series { name: "median", points: quartile(&mate.seqflow.quality_median) },
            Series { name: "Q3", points: quartile(&mate.seqflow.quality_q3) },
        ],
        Some(42.0),
    ));
    let content: Vec<Series<'_>> = ["A", "C", "G", "T", "N", "GC"]
        .iter()
        .map(|&name| Series {
            name,
            points: mate.content_curves.get(name).map(|v| indexed(v)).unwrap_or_default(),
        })
        .collect();
    html.push_str(&line_chart("Base content by cycle (share)", "cycle", &content, Some(1.0)));
    html.push_str(&line_chart(
        "Reads by mean quality",
        "Phred",
        &[Series { name: "reads", points: counted(&mate.seqflow.mean_quality_histogram) }],
        None,
    ));
    let lengths =
        mate.seqflow.length_histogram.iter().map(|&(l, c)| (l as f64, c as f64)).collect();
    html.push_str(&line_chart(
        "Reads by length",
        "length",
        &[Series { name: "reads", points: lengths }],
        None,
    ));
    html.push_str(&line_chart(
        "Reads by GC content",
        "GC %",
        &[Series { name: "reads", points: counted(&mate.seqflow.gc_histogram) }],
        None,
    ));
    let adapters: Vec<Series<'_>> = mate
        .seqflow
        .adapter_content
        .iter()
        .map(|(name, shares)| Series { name, points: indexed(shares) })
        .collect();
    html.push_str(&line_chart(
        "Known adapters (cumulative share of reads)",
        "cycle",
        &adapters,
        None,
    ));
    if !mate.overrepresented_sequences.is_empty() {
        html.push_str(
            "<table><tr><th>overrepresented sequence</th><th>reads (estimated)</th></tr>",
        );
        for (seq, count) in &mate.overrepresented_sequences {
            let _ = write!(html, "<tr><td><code>{}</code></td><td>{count}</td></tr>", escape(seq));
        }
        html.push_str("</table>\n");
    }
}

/// The HTML page of `report`.
pub fn render_html(report: &FastpReport) -> String {
    let totals = &report.summary.before_filtering;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>seqflow qc: {sample}</title><style>\
         body{{font-family:sans-serif;margin:2em;color:#222}} figure{{margin:1em 0}}\
         figcaption{{font-weight:bold}} td,th{{padding:2px 8px;text-align:left}}\
         </style></head><body>\n<h1>seqflow qc: {sample}</h1>\n<table>\
         <tr><td>sequencing</td><td>{seq}</td></tr><tr><td>reads</td><td>{reads}</td></tr>\
         <tr><td>bases</td><td>{bases}</td></tr><tr><td>Q20</td><td>{q20:.2}%</td></tr>\
         <tr><td>Q30</td><td>{q30:.2}%</td></tr><tr><td>GC</td><td>{gc:.2}%</td></tr>\
         <tr><td>duplication (estimated)</td><td>{dup:.2}%</td></tr>\
         <tr><td>reads with adapter</td><td>{adapter}</td></tr></table>\n",
        sample = escape(&report.seqflow.sample),
        seq = escape(&report.summary.sequencing),
        reads = totals.total_reads,
        bases = totals.total_bases,
        q20 = totals.q20_rate * 100.0,
        q30 = totals.q30_rate * 100.0,
        gc = totals.gc_content * 100.0,
        dup = report.duplication.rate * 100.0,
        adapter = report.adapter_cutting.adapter_trimmed_reads,
    );
    mate_section(&mut html, "Read 1", &report.read1_before_filtering);
    if let Some(read2) = &report.read2_before_filtering {
        mate_section(&mut html, "Read 2", read2);
    }
    if let Some(insert) = &report.insert_size {
        let last = insert.histogram.iter().rposition(|&c| c > 0).map_or(0, |i| i + 1);
        html.push_str("<h2>Pairs</h2>\n");
        html.push_str(&line_chart(
            "Pairs by insert size",
            "insert size",
            &[Series { name: "pairs", points: counted(&insert.histogram[..last.max(1)]) }],
            None,
        ));
    }
    html.push_str("<h2>Duplication</h2>\n");
    html.push_str(&line_chart(
        "Distinct sequences by duplication level (sample)",
        "level",
        &[Series {
            name: "sequences",
            points: indexed(
                &report.duplication.histogram.iter().map(|&c| c as f64).collect::<Vec<_>>(),
            ),
        }],
        None,
    ));
    // Marks the page with the number of lines the browser laid out with a non-empty box, so
    // that a headless check can tell drawn plots from merely present markup.
    html.push_str(
        "<script>document.body.dataset.drawn = [...document.querySelectorAll('polyline')]\
         .filter(p => { const b = p.getBBox(); return b.width > 0 || b.height > 0; }).length;\
         </script>\n",
    );
    html.push_str("</body></html>\n");
    html
}
