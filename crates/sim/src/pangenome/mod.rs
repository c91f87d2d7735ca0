//! A pangenome simulator: haplotypes descending from a base genome along a coalescent tree.
//!
//! [`Pangenome::simulate`] draws a Kingman genealogy of the haplotypes, then mutations on its
//! branches in base-genome coordinates (see [`EventKind`]): SNPs with a transition:
//! transversion ratio, short indels, structural deletions, insertions (new sequence or
//! diverged copies of other regions), inversions and tandem duplications, each carried by
//! every haplotype below its branch; plus IUPAC ambiguity codes and `N` runs private to one
//! haplotype, like an assembly's. [`Pangenome::write_haplotype`] then streams any haplotype
//! as FASTA (contigs named as in the base, unmutated letters in the base's case), and
//! [`Pangenome::write_truth`] lists every event.
//!
//! Rates are per base. `snp_diversity`, `indel_diversity` and `sv_diversity` are the
//! expected number of such differences per base between two haplotypes (the expected path
//! between two leaves of a Kingman tree is 2 units long, so each is half that per base and
//! unit of branch length); the IUPAC and `N`-run rates are per base of each haplotype.
//!
//! Memory: the base genome (1 byte per base, the caller's) plus about 64 bytes per event
//! (with the defaults, `G × (snp + indel diversity) / 2 × total tree length` ≈ 0.006 × G
//! events for 20 haplotypes) plus, while writing, ≤ 2 × `sv_max_length` bytes of scratch and
//! a 1 MiB write buffer. No haplotype is ever held whole.
//!
//! ```
//! use seqflow_sim::{BaseGenome, Pangenome, PangenomeConfig};
//!
//! let letters: Vec<u8> = (0..200_000u32).map(|i| b"ACGTTGCAAC"[(i * 7 % 10) as usize]).collect();
//! let base = BaseGenome::new(vec![("chr1".into(), letters)])?;
//! let mut config = PangenomeConfig::new(42, 4);
//! config.snp_diversity = 0.01;
//! let pangenome = Pangenome::simulate(&base, &config)?;
//! let mut hap = Vec::new();
//! pangenome.write_haplotype(0, &mut hap)?;
//! assert!(hap.starts_with(b">chr1\n"));
//! assert_eq!(pangenome.haplotype_name(0), "hap01");
//! # Ok::<(), seqflow_sim::Error>(())
//! ```

mod base;
mod events;
mod haplotype;
mod tree;

use std::io::Write;

pub use base::{BaseContig, BaseGenome};
pub use events::{CopySource, Event, EventKind, MAX_INDEL, SV_SPACING, ShortSeq};
pub use tree::Genealogy;

use crate::error::{Error, check_probability};
use crate::rng::Rng;
use events::ContigEvents;
use haplotype::{ContigWriter, FastaLines, SeqSink, inserted_sequence};

/// Settings of [`Pangenome::simulate`]; start from [`PangenomeConfig::new`] and assign fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PangenomeConfig {
    /// Seeds the genealogy and every event.
    pub seed: u64,
    /// Number of haplotypes (at least 2).
    pub haplotypes: usize,
    /// Expected SNP differences per base between two haplotypes (default 0.003, as between
    /// A. thaliana accessions).
    pub snp_diversity: f64,
    /// Expected transitions per transversion (default 2.0).
    pub transition_ratio: f64,
    /// Expected short-indel differences per base between two haplotypes (default 0.0004);
    /// lengths 1–20, geometric with mean 2.5; insertions and deletions equally likely.
    pub indel_diversity: f64,
    /// Expected structural-variant differences per base between two haplotypes (default
    /// 2e-6, about 60 per 30 Mb).
    pub sv_diversity: f64,
    /// Shortest structural variant (default 1,000); lengths are log-uniform.
    pub sv_min_length: u64,
    /// Longest structural variant (default 50,000).
    pub sv_max_length: u64,
    /// Relative weights of structural deletions, new-sequence insertions, copy insertions,
    /// inversions and tandem duplications (default 3 : 1 : 2 : 1.5 : 2.5).
    pub sv_weights: [f64; 5],
    /// Copies are inserted with a substitution fraction uniform in `0..this` (default 0.15).
    pub copy_max_divergence: f64,
    /// IUPAC ambiguity codes per base of each haplotype (default 1e-5).
    pub ambiguity_rate: f64,
    /// `N` runs per base of each haplotype (default 2e-6).
    pub n_run_rate: f64,
    /// Longest `N` run (default 1,000); lengths are log-uniform from 1.
    pub n_run_max_length: u64,
    /// Letters per FASTA line (default 80); 0 writes each contig on one line.
    pub line_width: usize,
}

impl PangenomeConfig {
    /// The defaults for `haplotypes` haplotypes with the given seed.
    pub fn new(seed: u64, haplotypes: usize) -> Self {
        PangenomeConfig {
            seed,
            haplotypes,
            snp_diversity: 0.003,
            transition_ratio: 2.0,
            indel_diversity: 0.0004,
            sv_diversity: 2e-6,
            sv_min_length: 1_000,
            sv_max_length: 50_000,
            sv_weights: [3.0, 1.0, 2.0, 1.5, 2.5],
            copy_max_divergence: 0.15,
            ambiguity_rate: 1e-5,
            n_run_rate: 2e-6,
            n_run_max_length: 1_000,
            line_width: 80,
        }
    }

    /// Checks every field's range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |setting, reason: String| Err(Error::InvalidConfig { setting, reason });
        if !(2..=9_999).contains(&self.haplotypes) {
            return invalid("haplotypes", format!("{} is not in 2..=9999", self.haplotypes));
        }
        for (setting, rate) in [
            ("snp_diversity", self.snp_diversity),
            ("indel_diversity", self.indel_diversity),
            ("sv_diversity", self.sv_diversity),
            ("ambiguity_rate", self.ambiguity_rate),
            ("n_run_rate", self.n_run_rate),
            ("copy_max_divergence", self.copy_max_divergence),
        ] {
            check_probability(setting, rate, false)?;
        }
        if !(self.transition_ratio.is_finite() && self.transition_ratio >= 0.0) {
            return invalid("transition_ratio", format!("{} is not >= 0", self.transition_ratio));
        }
        if self.sv_min_length == 0
            || self.sv_min_length > self.sv_max_length
            || self.sv_max_length > u64::from(u32::MAX)
        {
            return invalid(
                "sv_min_length",
                format!(
                    "needs 1 <= sv_min_length <= sv_max_length < 2^32, got {}..{}",
                    self.sv_min_length, self.sv_max_length
                ),
            );
        }
        if !(1..=u64::from(u32::MAX)).contains(&self.n_run_max_length) {
            return invalid("n_run_max_length", format!("{} is not >= 1", self.n_run_max_length));
        }
        let weights_ok = self.sv_weights.iter().all(|w| w.is_finite() && *w >= 0.0)
            && self.sv_weights.iter().sum::<f64>() > 0.0;
        if !weights_ok {
            return invalid(
                "sv_weights",
                format!("{:?} need >= 0 and a positive sum", self.sv_weights),
            );
        }
        Ok(())
    }
}

/// Refuses rates so high that an event would fall on more than every other base: events are
/// drawn as a Bernoulli process along each contig with at most one per base.
fn check_event_density(config: &PangenomeConfig, tree: &Genealogy) -> Result<(), Error> {
    let along_tree = tree.total_length() / 2.0;
    let leaves = config.haplotypes as f64;
    for (setting, p) in [
        ("snp_diversity", config.snp_diversity * along_tree),
        ("indel_diversity", config.indel_diversity * along_tree),
        ("sv_diversity", config.sv_diversity * along_tree),
        ("ambiguity_rate", config.ambiguity_rate * leaves),
        ("n_run_rate", config.n_run_rate * leaves),
    ] {
        if p > 0.5 {
            return Err(Error::InvalidConfig {
                setting,
                reason: format!(
                    "too high for {} haplotypes: {p:.3} events per base of the base genome \
                     (at most 0.5)",
                    config.haplotypes
                ),
            });
        }
    }
    Ok(())
}

/// What [`Pangenome::write_haplotype`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HaplotypeStats {
    /// Sequence letters written.
    pub bases: u64,
    /// FASTA bytes written.
    pub bytes: u64,
    /// Events the haplotype carries.
    pub events: u64,
}

/// A simulated pangenome: the genealogy and the events, over a borrowed base genome.
#[derive(Debug, Clone)]
pub struct Pangenome<'a> {
    base: &'a BaseGenome,
    config: PangenomeConfig,
    tree: Genealogy,
    events: Vec<ContigEvents>,
}

impl<'a> Pangenome<'a> {
    /// Draws the genealogy and the events.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a setting is out of range.
    pub fn simulate(base: &'a BaseGenome, config: &PangenomeConfig) -> Result<Self, Error> {
        config.validate()?;
        let tree = Genealogy::kingman(config.haplotypes, &mut Rng::new(config.seed, 0));
        check_event_density(config, &tree)?;
        let events = events::draw_events(config, &tree, base.contigs());
        Ok(Pangenome { base, config: config.clone(), tree, events })
    }

    /// The genealogy.
    pub fn genealogy(&self) -> &Genealogy {
        &self.tree
    }

    /// Number of haplotypes.
    pub fn haplotypes(&self) -> usize {
        self.config.haplotypes
    }

    /// The name of haplotype `i` (0-based): `hap01`, `hap02`, …, zero-padded to at least two
    /// digits and to the width of the largest number.
    pub fn haplotype_name(&self, i: usize) -> String {
        let width = self.config.haplotypes.to_string().len().max(2);
        format!("hap{:0width$}", i + 1)
    }

    /// Every event, contig by contig, structural variants before short events of the same
    /// start.
    pub fn events(&self) -> impl Iterator<Item = &Event> + '_ {
        self.events.iter().flat_map(|c| merge_by_start(&c.structural, &c.short))
    }

    /// Whether haplotype `i` carries `event`.
    pub fn carries(&self, i: usize, event: &Event) -> bool {
        self.tree.is_below(i, event.branch as usize)
    }

    /// Writes haplotype `i` (0-based) as FASTA with the configured line width.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    ///
    /// # Panics
    /// If `i` is not below [`Pangenome::haplotypes`].
    pub fn write_haplotype(&self, i: usize, out: impl Write) -> Result<HaplotypeStats, Error> {
        assert!(i < self.haplotypes(), "no haplotype {i}");
        let lineage = self.tree.lineage_of(i);
        let carried = |e: &&Event| lineage[e.branch as usize];
        let mut lines = FastaLines::new(out, self.config.line_width);
        let mut stats = HaplotypeStats::default();
        let mut scratch = Vec::new();
        let mut inserted = Vec::new();
        let mut counted = CountingSink { inner: &mut lines, letters: 0 };
        for (contig, events) in self.base.contigs().iter().zip(&self.events) {
            counted.inner.start_record(&contig.name)?;
            let short: Vec<&Event> = events.short.iter().filter(carried).collect();
            stats.events += short.len() as u64;
            let mut writer = ContigWriter::new(&contig.seq, short);
            for sv in events.structural.iter().filter(carried) {
                stats.events += 1;
                writer.put_until(sv.start, &mut counted)?;
                match &sv.kind {
                    EventKind::SvDeletion { .. } => writer.skip_until(sv.end()),
                    EventKind::SvInsertion { length, seed, source } => {
                        let (contigs, gc) = (self.base.contigs(), self.base.gc_fraction());
                        inserted_sequence(
                            *length,
                            *seed,
                            source.as_ref(),
                            contigs,
                            gc,
                            &mut inserted,
                        );
                        counted.put(&inserted)?;
                    }
                    EventKind::Inversion { .. } => {
                        scratch.clear();
                        writer.put_until(sv.end(), &mut scratch)?;
                        base::reverse_complement(&mut scratch);
                        counted.put(&scratch)?;
                    }
                    EventKind::TandemDuplication { .. } => {
                        scratch.clear();
                        writer.put_until(sv.end(), &mut scratch)?;
                        counted.put(&scratch)?;
                        counted.put(&scratch)?;
                    }
                    other => unreachable!("short event {} among structural ones", other.name()),
                }
            }
            writer.put_until(contig.seq.len() as u64, &mut counted)?;
        }
        stats.bases = counted.letters;
        stats.bytes = lines.finish()?;
        Ok(stats)
    }

    /// Writes the truth table: a `#`-prefixed header line, then one line per event, in
    /// base-genome coordinates (0-based, half-open), with the columns
    /// `contig start end kind length ref alt branch carriers source`:
    /// `length` is the bases inserted, deleted, inverted, duplicated or replaced; `ref` and
    /// `alt` are the letters for short events (`.` otherwise); `branch` is the node of
    /// [`Pangenome::newick`] above which the event arose; `carriers` has one `1` or `0` per
    /// haplotype in order; `source` is `contig:start-end:strand:divergence` for copy
    /// insertions, `.` otherwise.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_truth(&self, out: impl Write) -> Result<(), Error> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
        writeln!(out, "#contig\tstart\tend\tkind\tlength\tref\talt\tbranch\tcarriers\tsource")?;
        let contigs = self.base.contigs();
        let mut carriers = Vec::with_capacity(self.haplotypes());
        for event in self.events() {
            let contig = &contigs[event.contig as usize];
            let (start, end) = (event.start as usize, event.end() as usize);
            let short_ref =
                !event.kind.is_structural() && !matches!(event.kind, EventKind::NRun { .. });
            let reference = if short_ref && end > start { &contig.seq[start..end] } else { b"." };
            let code;
            let (length, alt): (u64, &[u8]) = match &event.kind {
                EventKind::Snp { alt } | EventKind::Ambiguity { code: alt } => {
                    code = [*alt];
                    (1, &code)
                }
                EventKind::Insertion { bases } => (bases.as_bytes().len() as u64, bases.as_bytes()),
                EventKind::SvInsertion { length, .. } => (u64::from(*length), b"."),
                other => (other.ref_length(), b"."),
            };
            carriers.clear();
            carriers.extend(
                (0..self.haplotypes()).map(|i| if self.carries(i, event) { b'1' } else { b'0' }),
            );
            write!(out, "{}\t{start}\t{end}\t{}\t{length}\t", contig.name, event.kind.name())?;
            out.write_all(if reference.is_empty() { b"." } else { reference })?;
            out.write_all(b"\t")?;
            out.write_all(alt)?;
            write!(out, "\tnode{}\t", event.branch)?;
            out.write_all(&carriers)?;
            match &event.kind {
                EventKind::SvInsertion { length, source: Some(s), .. } => writeln!(
                    out,
                    "\t{}:{}-{}:{}:{:.4}",
                    contigs[s.contig as usize].name,
                    s.start,
                    s.start + u64::from(*length),
                    if s.reverse { '-' } else { '+' },
                    s.divergence
                )?,
                _ => writeln!(out, "\t.")?,
            }
        }
        out.flush()?;
        Ok(())
    }

    /// The genealogy in Newick format, leaves named as the haplotypes, internal nodes `nodeN`
    /// as in the truth table's `branch` column (leaf `i` is `node{i}` there).
    pub fn newick(&self) -> String {
        self.tree.newick(|i| self.haplotype_name(i))
    }
}

/// Counts the letters passing through to the FASTA lines.
struct CountingSink<'s, W: Write> {
    inner: &'s mut FastaLines<W>,
    letters: u64,
}

impl<W: Write> SeqSink for CountingSink<'_, W> {
    fn put(&mut self, letters: &[u8]) -> std::io::Result<()> {
        self.letters += letters.len() as u64;
        self.inner.put(letters)
    }
}

/// Merges two start-sorted lists, the first list's events first at equal starts.
fn merge_by_start<'e>(a: &'e [Event], b: &'e [Event]) -> impl Iterator<Item = &'e Event> + 'e {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let take_a = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.start <= y.start,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_a {
            i += 1;
            Some(&a[i - 1])
        } else {
            j += 1;
            Some(&b[j - 1])
        }
    })
}

#[cfg(test)]
mod tests;
