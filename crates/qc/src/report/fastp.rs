//! The finished report in fastp's JSON schema (the parts MultiQC's fastp module reads), plus a
//! `seqflow` section with what fastp does not report.
//!
//! `seqflow qc` filters nothing: `after_filtering` and `read*_after_filtering` repeat the
//! values before filtering, `filtering_result` counts every read as passed, and
//! `adapter_cutting` reports the reads in which an adapter was *detected* (nothing is cut).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::adapter::KNOWN_ADAPTERS;
use crate::report::mate::{MateStats, QUALITY_LEVELS};
use crate::report::{MAX_INSERT, QcAccumulator};

/// Share of sampled reads above which a sequence is reported as overrepresented.
pub(crate) const OVERREPRESENTED_SHARE: f64 = 0.001;
/// Most overrepresented sequences listed per mate.
const OVERREPRESENTED_LISTED: usize = 20;

/// The whole `PREFIX.json`.
#[derive(Debug, Clone, Serialize)]
pub struct FastpReport {
    /// Totals before (and, as nothing is filtered, after) filtering.
    pub summary: Summary,
    /// Every read passes: nothing is filtered.
    pub filtering_result: BTreeMap<&'static str, u64>,
    /// Reads in which an adapter was detected.
    pub adapter_cutting: AdapterCutting,
    /// Duplication estimate from the sequence-hash sample.
    pub duplication: Duplication,
    /// Insert sizes from pair overlaps (paired end only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insert_size: Option<InsertSize>,
    /// Read 1 before filtering.
    pub read1_before_filtering: MateReport,
    /// Read 2 before filtering (paired end only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read2_before_filtering: Option<MateReport>,
    /// Read 1 after filtering (the same: nothing is filtered).
    pub read1_after_filtering: MateReport,
    /// Read 2 after filtering (paired end only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read2_after_filtering: Option<MateReport>,
    /// The command, in the form MultiQC reads the sample name from (`-R NAME`).
    pub command: String,
    /// What fastp does not report.
    pub seqflow: SeqflowSection,
}

/// `summary`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `single end (151 cycles)` or `paired end (151 cycles + 151 cycles)`.
    pub sequencing: String,
    /// Totals of all reads (both mates).
    pub before_filtering: Totals,
    /// The same totals (nothing is filtered).
    pub after_filtering: Totals,
}

/// `summary.before_filtering`.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Reads (both mates counted).
    pub total_reads: u64,
    /// Bases.
    pub total_bases: u64,
    /// Bases with Phred ≥ 20.
    pub q20_bases: u64,
    /// Bases with Phred ≥ 30.
    pub q30_bases: u64,
    /// `q20_bases / total_bases`.
    pub q20_rate: f64,
    /// `q30_bases / total_bases`.
    pub q30_rate: f64,
    /// Mean length of read 1 (rounded down, as fastp).
    pub read1_mean_length: u64,
    /// Mean length of read 2 (paired end only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read2_mean_length: Option<u64>,
    /// `(G + C) / total_bases`.
    pub gc_content: f64,
}

/// `adapter_cutting` (detection only).
#[derive(Debug, Clone, Serialize)]
pub struct AdapterCutting {
    /// Reads with adapter: pairs' reads past a short insert, or, for single end, reads holding
    /// a known adapter (poly-A/G runs excluded).
    pub adapter_trimmed_reads: u64,
    /// Adapter bases (paired end: past the insert; single end: not measured, 0).
    pub adapter_trimmed_bases: u64,
    /// Consensus adapter of read 1 (paired end), or the most frequent known adapter.
    pub read1_adapter_sequence: String,
    /// Consensus adapter of read 2 (paired end only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read2_adapter_sequence: Option<String>,
}

/// `duplication`.
#[derive(Debug, Clone, Serialize)]
pub struct Duplication {
    /// Share of sampled reads that repeat another.
    pub rate: f64,
    /// Distinct sampled sequences seen 1, 2, … times.
    pub histogram: Vec<u64>,
    /// Mean GC share of the reads at each level.
    pub mean_gc: Vec<f64>,
}

/// `insert_size`.
#[derive(Debug, Clone, Serialize)]
pub struct InsertSize {
    /// Most frequent insert size.
    pub peak: u64,
    /// Pairs without overlap.
    pub unknown: u64,
    /// Pairs by insert size 0..=MAX_INSERT.
    pub histogram: Vec<u64>,
}

/// `read1_before_filtering` and the like.
#[derive(Debug, Clone, Serialize)]
pub struct MateReport {
    /// Reads.
    pub total_reads: u64,
    /// Bases.
    pub total_bases: u64,
    /// Bases with Phred ≥ 20.
    pub q20_bases: u64,
    /// Bases with Phred ≥ 30.
    pub q30_bases: u64,
    /// Number of cycles (the longest read).
    pub total_cycles: usize,
    /// Mean quality per cycle: of each base (`A`, `T`, `C`, `G`) and of all (`mean`).
    pub quality_curves: BTreeMap<&'static str, Vec<f64>>,
    /// Share of each base per cycle (`A`, `T`, `C`, `G`, `N`, `GC`).
    pub content_curves: BTreeMap<&'static str, Vec<f64>>,
    /// Estimated reads of each overrepresented sequence.
    pub overrepresented_sequences: BTreeMap<String, u64>,
    /// Quality quartiles and histograms (seqflow only).
    pub seqflow: MateExtras,
}

/// Per-mate statistics fastp does not report.
#[derive(Debug, Clone, Serialize)]
pub struct MateExtras {
    /// Lower quartile of quality per cycle.
    pub quality_q1: Vec<u8>,
    /// Median quality per cycle.
    pub quality_median: Vec<u8>,
    /// Upper quartile of quality per cycle.
    pub quality_q3: Vec<u8>,
    /// Reads by mean Phred quality 0..=93.
    pub mean_quality_histogram: Vec<u64>,
    /// `[length, reads]` pairs.
    pub length_histogram: Vec<(u64, u64)>,
    /// Reads by GC percentage 0..=100.
    pub gc_histogram: Vec<u64>,
    /// Reads holding each known adapter (first 12 bases).
    pub known_adapters: BTreeMap<&'static str, u64>,
    /// Share of reads with each known adapter at or before each cycle.
    pub adapter_content: BTreeMap<&'static str, Vec<f64>>,
}

/// Run-wide statistics fastp does not report, and how the samples were drawn.
#[derive(Debug, Clone, Serialize)]
pub struct SeqflowSection {
    /// seqflow's version.
    pub version: &'static str,
    /// Sample name.
    pub sample: String,
    /// Share of distinct sequences in the duplication sample (`2^-level`).
    pub duplication_sampled_share: f64,
    /// Reads (pairs) in the duplication sample.
    pub duplication_sampled_reads: u64,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Smallest Phred value whose cumulative count reaches `share` of `counts`.
fn quantile(counts: &[u64], share: f64) -> u8 {
    let total: u64 = counts.iter().sum();
    let target = (share * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (q, &c) in counts.iter().enumerate() {
        seen += c;
        if seen >= target {
            return q as u8;
        }
    }
    0
}

impl MateReport {
    fn new(mate: &MateStats) -> Self {
        let cycles = mate.cycle_count();
        let mut quality_curves = BTreeMap::new();
        let mut content_curves = BTreeMap::new();
        // fastp's order of classes in the curves: A T C G; ours: A C G T N.
        for (name, class) in [("A", 0), ("T", 3), ("C", 1), ("G", 2)] {
            let quality = (0..cycles)
                .map(|i| ratio(mate.cycle(i).quality_sum(class), mate.cycle(i).bases(class)))
                .collect();
            quality_curves.insert(name, quality);
            let content = (0..cycles)
                .map(|i| ratio(mate.cycle(i).bases(class), mate.cycle(i).total()))
                .collect();
            content_curves.insert(name, content);
        }
        let mean = (0..cycles)
            .map(|i| {
                let c = mate.cycle(i);
                ratio((0..5).map(|k| c.quality_sum(k)).sum(), c.total())
            })
            .collect();
        quality_curves.insert("mean", mean);
        let n = (0..cycles).map(|i| ratio(mate.cycle(i).bases(4), mate.cycle(i).total())).collect();
        content_curves.insert("N", n);
        let gc = (0..cycles)
            .map(|i| {
                let c = mate.cycle(i);
                ratio(c.bases(1) + c.bases(2), c.total())
            })
            .collect();
        content_curves.insert("GC", gc);
        let quartile =
            |share| (0..cycles).map(|i| quantile(mate.cycle(i).qualities(), share)).collect();
        let overrepresented = mate
            .overrepresented
            .overrepresented(OVERREPRESENTED_SHARE)
            .into_iter()
            .take(OVERREPRESENTED_LISTED)
            .collect();
        let known_adapters = KNOWN_ADAPTERS
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (*name, mate.adapters.reads_with(i)))
            .collect();
        let adapter_content = KNOWN_ADAPTERS
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                let shares = mate
                    .adapters
                    .cumulative(i, cycles)
                    .iter()
                    .map(|&c| ratio(c, mate.reads))
                    .collect();
                (*name, shares)
            })
            .collect();
        MateReport {
            total_reads: mate.reads,
            total_bases: mate.bases,
            q20_bases: mate.bases_at_least(20),
            q30_bases: mate.bases_at_least(30),
            total_cycles: cycles,
            quality_curves,
            content_curves,
            overrepresented_sequences: overrepresented,
            seqflow: MateExtras {
                quality_q1: quartile(0.25),
                quality_median: quartile(0.5),
                quality_q3: quartile(0.75),
                mean_quality_histogram: mate.mean_quality.dense_prefix(QUALITY_LEVELS),
                length_histogram: mate.lengths.iter().collect(),
                gc_histogram: mate.gc_percent.dense_prefix(101),
                known_adapters,
                adapter_content,
            },
        }
    }
}

fn totals(acc: &QcAccumulator) -> Totals {
    let mates: &[&MateStats] = if acc.paired { &[&acc.read1, &acc.read2] } else { &[&acc.read1] };
    let sum = |f: &dyn Fn(&MateStats) -> u64| mates.iter().map(|m| f(m)).sum::<u64>();
    let total_bases = sum(&|m| m.bases);
    let q20_bases = sum(&|m| m.bases_at_least(20));
    let q30_bases = sum(&|m| m.bases_at_least(30));
    let gc = sum(&|m| m.class_total(1) + m.class_total(2));
    let mean_length = |m: &MateStats| m.bases.checked_div(m.reads).unwrap_or(0);
    Totals {
        total_reads: sum(&|m| m.reads),
        total_bases,
        q20_bases,
        q30_bases,
        q20_rate: ratio(q20_bases, total_bases),
        q30_rate: ratio(q30_bases, total_bases),
        read1_mean_length: mean_length(&acc.read1),
        read2_mean_length: acc.paired.then(|| mean_length(&acc.read2)),
        gc_content: ratio(gc, total_bases),
    }
}

impl QcAccumulator {
    /// The finished report; `sample` names the sample for MultiQC.
    pub fn report(&self, sample: &str) -> FastpReport {
        let totals = totals(self);
        let read1 = MateReport::new(&self.read1);
        let read2 = self.paired.then(|| MateReport::new(&self.read2));
        let sequencing = match &read2 {
            Some(r2) => {
                format!("paired end ({} cycles + {} cycles)", read1.total_cycles, r2.total_cycles)
            }
            None => format!("single end ({} cycles)", read1.total_cycles),
        };
        let adapter_cutting = if self.paired {
            AdapterCutting {
                adapter_trimmed_reads: self.adapter1.reads + self.adapter2.reads,
                adapter_trimmed_bases: self.adapter1.bases + self.adapter2.bases,
                read1_adapter_sequence: self.adapter1.consensus(),
                read2_adapter_sequence: Some(self.adapter2.consensus()),
            }
        } else {
            let most = (0..KNOWN_ADAPTERS.len())
                .max_by_key(|&i| (self.read1.adapters.reads_with(i), std::cmp::Reverse(i)));
            let sequence = most
                .filter(|&i| self.read1.adapters.reads_with(i) > 0)
                .map(|i| String::from_utf8_lossy(KNOWN_ADAPTERS[i].1).into_owned())
                .unwrap_or_default();
            AdapterCutting {
                adapter_trimmed_reads: self.read1.adapters.reads_with_adapter,
                adapter_trimmed_bases: 0,
                read1_adapter_sequence: sequence,
                read2_adapter_sequence: None,
            }
        };
        let (histogram, mean_gc) = self.duplication.histogram();
        let insert_size = self.paired.then(|| InsertSize {
            peak: self.insert_sizes.mode(),
            unknown: self.insert_unknown,
            histogram: self.insert_sizes.dense_prefix(MAX_INSERT + 1),
        });
        let filtering_result = [
            ("passed_filter_reads", totals.total_reads),
            ("low_quality_reads", 0),
            ("too_many_N_reads", 0),
            ("too_short_reads", 0),
            ("too_long_reads", 0),
        ]
        .into_iter()
        .collect();
        FastpReport {
            summary: Summary {
                sequencing,
                before_filtering: totals.clone(),
                after_filtering: totals,
            },
            filtering_result,
            adapter_cutting,
            duplication: Duplication { rate: self.duplication.rate(), histogram, mean_gc },
            insert_size,
            read1_after_filtering: read1.clone(),
            read1_before_filtering: read1,
            read2_after_filtering: read2.clone(),
            read2_before_filtering: read2,
            command: format!("seqflow qc -R {sample}"),
            seqflow: SeqflowSection {
                version: env!("CARGO_PKG_VERSION"),
                sample: sample.to_string(),
                duplication_sampled_share: self.duplication.sampled_share(),
                duplication_sampled_reads: self.duplication.sampled_reads(),
            },
        }
    }
}
