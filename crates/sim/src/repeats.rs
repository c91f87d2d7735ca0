//! Simulated genomes with planted repeat families: the benchmark for repeat detectors.
//!
//! A random background receives copies of random consensus sequences ("families"), each copy
//! diverged by substitutions and small indels, some 5'-truncated, on either strand, some nested
//! inside earlier copies; plus tandem arrays and low-complexity runs as decoys. Everything planted
//! is recorded in a truth BED and the consensus library, so a detector's output can be scored by
//! [`crate::evaluate`].

use std::fmt;
use std::io::Write;

use crate::error::{Error, check_probability};
use crate::fasta::push_wrapped;
use crate::genome::{BaseSampler, complement};
use crate::rng::Rng;

/// Bases per FASTA line.
const LINE_WIDTH: usize = 60;
/// Largest divergence the simulator plants (edits per consensus base).
pub const MAX_DIVERGENCE: f64 = 0.35;
/// Shortest part of a consensus a 5'-truncated copy keeps.
const MIN_FRAGMENT: usize = 50;
/// Bytes collected before each call to the FASTA writer.
const WRITE_BUFFER: usize = 1 << 20;

/// Settings for [`write_repeat_genome`]; start from [`RepeatGenomeConfig::new`] and assign fields.
///
/// ```
/// use seqflow_sim::RepeatGenomeConfig;
///
/// let mut config = RepeatGenomeConfig::new(7);
/// config.length = 200_000;
/// config.families = 5;
/// config.max_consensus_length = 1_000;
/// let (mut fa, mut bed, mut lib) = (Vec::new(), Vec::new(), Vec::new());
/// let truth = seqflow_sim::write_repeat_genome(&config, &mut fa, &mut bed, &mut lib)?;
/// assert_eq!(truth.families.len(), 5);
/// assert!(truth.interspersed_fraction() > 0.1);
/// # Ok::<(), seqflow_sim::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RepeatGenomeConfig {
    /// Seeds everything; the same config always yields the same bytes.
    pub seed: u64,
    /// Approximate total genome length in bases (default 20,000,000): the background is this
    /// minus the planted bases.
    pub length: u64,
    /// G+C fraction of the background and of the consensus sequences (default 0.41).
    pub gc_fraction: f64,
    /// Number of interspersed families (default 50).
    pub families: usize,
    /// Shortest consensus (default 80).
    pub min_consensus_length: usize,
    /// Longest consensus (default 8,000); lengths are log-uniform in between.
    pub max_consensus_length: usize,
    /// Fewest copies per family (default 3).
    pub min_copies: usize,
    /// Most copies per family (default 2,000). Copy numbers are skewed (most families small, a
    /// few huge), then scaled together so the planted bases approach `repeat_fraction`.
    pub max_copies: usize,
    /// Skew of copy numbers (default 1.0): raw copy numbers are `min × (max/min)^(u^skew)` for
    /// uniform `u`, so 1.0 is log-uniform and larger values make more families small.
    pub copy_number_skew: f64,
    /// Copies of each family that are planted whole (default 3): never 5'-truncated and never
    /// split by a nested insertion. A de novo detector can only rebuild the part of a consensus
    /// that several copies share; with every copy of a 3-copy family free to be truncated, most
    /// of such a family often exists once in the genome and no method could recover it.
    pub full_length_copies: usize,
    /// Smallest per-copy divergence from the consensus (default 0). Each family draws a
    /// divergence in `min_divergence..=max_divergence`; each copy varies it by ±50%, kept
    /// within the two. Setting both to one value plants every copy at that divergence (old
    /// transposon copies are 20–35% diverged).
    pub min_divergence: f64,
    /// Largest per-copy divergence from the consensus (default 0.15, at most 0.35).
    pub max_divergence: f64,
    /// Fraction of edits that are indels of 1–3 bases rather than substitutions (default 0.1).
    pub indel_fraction: f64,
    /// Fraction of copies that keep only a 3' part of the consensus (default 0.3).
    pub truncated_fraction: f64,
    /// Fraction of copies on the reverse strand (default 0.5).
    pub reverse_fraction: f64,
    /// Fraction of copies inserted inside an earlier copy, splitting it in two (default 0.05).
    pub nested_fraction: f64,
    /// Target fraction of the genome in interspersed family copies (default 0.25).
    pub repeat_fraction: f64,
    /// Tandem arrays per megabase (default 10): a 5–100 bp unit repeated head to tail.
    pub tandem_per_mb: f64,
    /// Low-complexity runs per megabase (default 25): poly-A/T and dinucleotide runs.
    pub low_complexity_per_mb: f64,
    /// Number of contigs (default 1); contigs are cut in the background only.
    pub contigs: usize,
    /// Cut contigs at random points (exponential lengths, many small contigs, like a
    /// fragmented assembly) instead of evenly (default false).
    pub fragmented: bool,
    /// Fraction of the background written in lowercase, in runs of 50–1,000 bases (default 0),
    /// to check that tools ignore case.
    pub lowercase_fraction: f64,
}

impl RepeatGenomeConfig {
    /// The defaults with the given seed: the ~20 Mb, ~25% repeat, ≤ 15% divergence benchmark.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            length: 20_000_000,
            gc_fraction: 0.41,
            families: 50,
            min_consensus_length: 80,
            max_consensus_length: 8_000,
            min_copies: 3,
            max_copies: 2_000,
            copy_number_skew: 1.0,
            full_length_copies: 3,
            min_divergence: 0.0,
            max_divergence: 0.15,
            indel_fraction: 0.1,
            truncated_fraction: 0.3,
            reverse_fraction: 0.5,
            nested_fraction: 0.05,
            repeat_fraction: 0.25,
            tandem_per_mb: 10.0,
            low_complexity_per_mb: 25.0,
            contigs: 1,
            fragmented: false,
            lowercase_fraction: 0.0,
        }
    }

    /// Checks every field's range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |setting, reason: String| Err(Error::InvalidConfig { setting, reason });
        if self.min_consensus_length < 10 || self.min_consensus_length > self.max_consensus_length {
            return invalid(
                "min_consensus_length",
                format!(
                    "needs 10 <= min ({}) <= max ({})",
                    self.min_consensus_length, self.max_consensus_length
                ),
            );
        }
        if self.min_copies == 0 || self.min_copies > self.max_copies {
            return invalid(
                "min_copies",
                format!("needs 1 <= min ({}) <= max ({})", self.min_copies, self.max_copies),
            );
        }
        if !(0.0..=MAX_DIVERGENCE).contains(&self.max_divergence) {
            return invalid(
                "max_divergence",
                format!("{} is not in 0.0..={MAX_DIVERGENCE}", self.max_divergence),
            );
        }
        if !(0.0..=self.max_divergence).contains(&self.min_divergence) {
            return invalid(
                "min_divergence",
                format!(
                    "needs 0 <= min ({}) <= max ({})",
                    self.min_divergence, self.max_divergence
                ),
            );
        }
        if !(0.0..=0.9).contains(&self.repeat_fraction) {
            return invalid(
                "repeat_fraction",
                format!("{} is not in 0.0..=0.9", self.repeat_fraction),
            );
        }
        if self.contigs == 0 {
            return invalid("contigs", "must be at least 1".into());
        }
        if self.length < 2 * self.contigs as u64 {
            return invalid(
                "length",
                format!("{} is too short for {} contigs", self.length, self.contigs),
            );
        }
        if !(self.copy_number_skew > 0.0 && self.copy_number_skew.is_finite()) {
            return invalid("copy_number_skew", format!("{} is not > 0", self.copy_number_skew));
        }
        for (name, value) in [
            ("tandem_per_mb", self.tandem_per_mb),
            ("low_complexity_per_mb", self.low_complexity_per_mb),
        ] {
            if !(value >= 0.0 && value.is_finite()) {
                return invalid(name, format!("{value} is not a finite count >= 0"));
            }
        }
        check_probability("gc_fraction", self.gc_fraction, true)?;
        check_probability("indel_fraction", self.indel_fraction, true)?;
        check_probability("truncated_fraction", self.truncated_fraction, true)?;
        check_probability("reverse_fraction", self.reverse_fraction, true)?;
        check_probability("nested_fraction", self.nested_fraction, true)?;
        check_probability("lowercase_fraction", self.lowercase_fraction, false)?;
        Ok(())
    }
}

impl Default for RepeatGenomeConfig {
    /// The defaults with seed 0.
    fn default() -> Self {
        Self::new(0)
    }
}

/// What a planted element is: a copy of a family, a tandem array or a low-complexity run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RepeatLabel {
    /// A copy of interspersed family `n` (1-based), written `fam<n>`.
    Family(u32),
    /// Tandem array `n`, written `tandem<n>`; not a family to recover.
    Tandem(u32),
    /// Low-complexity run `n`, written `lowcomplex<n>`; not a family to recover.
    LowComplexity(u32),
}

impl fmt::Display for RepeatLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Family(n) => write!(f, "fam{n}"),
            Self::Tandem(n) => write!(f, "tandem{n}"),
            Self::LowComplexity(n) => write!(f, "lowcomplex{n}"),
        }
    }
}

/// One planted interval, as written to the truth BED.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthElement {
    /// Index of the contig in [`RepeatTruth::contigs`].
    pub contig: usize,
    /// 0-based start on the contig.
    pub start: u64,
    /// End on the contig (exclusive).
    pub end: u64,
    /// What was planted.
    pub label: RepeatLabel,
    /// `true` when the copy is the reverse complement of its consensus.
    pub reverse: bool,
    /// Start of the consensus part this copy derives from (for families; 0 otherwise).
    pub consensus_start: usize,
    /// End (exclusive) of that consensus part (for families; the length otherwise).
    pub consensus_end: usize,
    /// Divergence the copy was drawn with (fraction of consensus bases edited, on average).
    pub divergence: f64,
}

/// A planted interspersed family.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedFamily {
    /// 1-based id: the family is `fam<id>`.
    pub id: u32,
    /// The consensus sequence (uppercase `ACGT`).
    pub consensus: Vec<u8>,
    /// Copies planted (a nested-into copy counts once, though written as two BED lines).
    pub copies: usize,
    /// The family's base divergence.
    pub divergence: f64,
}

/// Everything [`write_repeat_genome`] planted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RepeatTruth {
    /// Contig names and lengths, in output order.
    pub contigs: Vec<(String, u64)>,
    /// The planted families, `fam1` first.
    pub families: Vec<PlantedFamily>,
    /// The truth BED's intervals, sorted by contig then start, never overlapping.
    pub elements: Vec<TruthElement>,
    /// Total genome length.
    pub length: u64,
    /// Bases in family copies.
    pub interspersed_bases: u64,
    /// Bases in tandem arrays.
    pub tandem_bases: u64,
    /// Bases in low-complexity runs.
    pub low_complexity_bases: u64,
}

impl RepeatTruth {
    /// Fraction of the genome in family copies.
    pub fn interspersed_fraction(&self) -> f64 {
        self.interspersed_bases as f64 / self.length.max(1) as f64
    }
}

/// A piece of planted sequence in genome orientation.
#[derive(Debug)]
struct Segment {
    label: RepeatLabel,
    reverse: bool,
    seq: Vec<u8>,
    /// Consensus position of each base (families only; empty otherwise).
    map: Vec<u32>,
    divergence: f64,
    /// Planted whole: a nested insertion must not split it.
    intact: bool,
}

impl Segment {
    fn consensus_range(&self) -> (usize, usize) {
        match (self.map.iter().min(), self.map.iter().max()) {
            (Some(&lo), Some(&hi)) => (lo as usize, hi as usize + 1),
            _ => (0, self.seq.len()),
        }
    }
}

/// Generates the genome for `config` and writes the genome FASTA (60 columns), the truth BED6
/// (0-based half-open; contig, start, end, label, 0, strand) and the consensus library FASTA.
/// The genome FASTA is streamed; the background (1 byte per base) and the planted copies (5
/// bytes per base, with their consensus coordinates) are held in memory: about 700 MB for
/// 300 Mb.
///
/// # Errors
/// [`Error::InvalidConfig`] for an out-of-range setting, [`Error::Io`] if a writer fails.
pub fn write_repeat_genome(
    config: &RepeatGenomeConfig,
    mut fasta: impl Write,
    mut truth_bed: impl Write,
    mut families_fasta: impl Write,
) -> Result<RepeatTruth, Error> {
    config.validate()?;
    let mut rng = Rng::new(config.seed, 0x5EED_0004);
    let sampler = BaseSampler::new(config.gc_fraction);

    let mut families = draw_families(config, &mut rng, &sampler);
    let mut blocks: Vec<Vec<Segment>> = Vec::new();
    let (mut seq, mut map) = (Vec::new(), Vec::new());
    for family in &mut families {
        for copy in 0..family.copies {
            let cons = &family.consensus;
            let intact = copy < config.full_length_copies;
            let start = if rng.chance(config.truncated_fraction) && !intact {
                let keep = rng.between(MIN_FRAGMENT.min(cons.len()) as u64, cons.len() as u64);
                cons.len() - keep as usize
            } else {
                0
            };
            let divergence = (family.divergence * (0.5 + rng.unit()))
                .min(config.max_divergence)
                .max(config.min_divergence);
            mutate(
                &mut rng,
                &cons[start..],
                start,
                divergence,
                config.indel_fraction,
                &mut seq,
                &mut map,
            );
            let reverse = rng.chance(config.reverse_fraction);
            if reverse {
                seq.reverse();
                seq.iter_mut().for_each(|b| *b = complement(*b));
                map.reverse();
            }
            let segment = Segment {
                label: RepeatLabel::Family(family.id),
                reverse,
                seq: std::mem::take(&mut seq),
                map: std::mem::take(&mut map),
                divergence,
                intact,
            };
            nest_or_push(&mut rng, config.nested_fraction, &mut blocks, segment);
        }
    }
    let mb = config.length as f64 / 1e6;
    for id in 1..=(config.tandem_per_mb * mb).round() as u32 {
        blocks.push(vec![tandem_array(&mut rng, &sampler, id)]);
    }
    for id in 1..=(config.low_complexity_per_mb * mb).round() as u32 {
        blocks.push(vec![low_complexity_run(&mut rng, id)]);
    }
    // Fisher–Yates, so families are interleaved along the genome.
    for i in (1..blocks.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        blocks.swap(i, j);
    }

    let planted: u64 = blocks.iter().flatten().map(|s| s.seq.len() as u64).sum();
    let background_len = config.length.saturating_sub(planted).max(2 * config.contigs as u64);
    let mut background = vec![0u8; background_len as usize];
    sampler.fill(&mut rng, &mut background);
    lowercase_runs(&mut rng, &mut background, config.lowercase_fraction);
    let mut points: Vec<u64> = blocks.iter().map(|_| rng.below(background_len + 1)).collect();
    points.sort_unstable();
    let cuts = contig_cuts(&mut rng, background_len, config.contigs, config.fragmented);

    // Lay out contigs: background interleaved with blocks, cut in the background.
    let mut truth = RepeatTruth {
        contigs: Vec::new(),
        families: Vec::new(),
        elements: Vec::new(),
        length: 0,
        interspersed_bases: 0,
        tandem_bases: 0,
        low_complexity_bases: 0,
    };
    // Contigs are streamed: bases go through `out` (flushed every MiB), never held whole.
    let mut out = Vec::with_capacity(WRITE_BUFFER + 2 * LINE_WIDTH);
    let (mut column, mut contig_len) = (0usize, 0u64);
    let mut push = |out: &mut Vec<u8>, bases: &[u8], column: &mut usize| -> std::io::Result<()> {
        for piece in bases.chunks(WRITE_BUFFER) {
            push_wrapped(out, piece, LINE_WIDTH, column);
            if out.len() >= WRITE_BUFFER {
                fasta.write_all(out)?;
                out.clear();
            }
        }
        Ok(())
    };
    let (mut bi, mut ci, mut pos) = (0usize, 0usize, 0u64);
    let mut blocks = blocks.into_iter();
    out.extend_from_slice(b">chr1\n");
    loop {
        let cut = cuts.get(ci).copied().unwrap_or(background_len);
        let ins = points.get(bi).copied().unwrap_or(u64::MAX);
        if ins < cut || (ci == cuts.len() && bi < points.len()) {
            push(&mut out, &background[pos as usize..ins as usize], &mut column)?;
            contig_len += ins - pos;
            pos = ins;
            let block = blocks.next().expect("one block per insertion point");
            for segment in block {
                let start = contig_len;
                push(&mut out, &segment.seq, &mut column)?;
                let len = segment.seq.len() as u64;
                contig_len += len;
                match segment.label {
                    RepeatLabel::Family(_) => truth.interspersed_bases += len,
                    RepeatLabel::Tandem(_) => truth.tandem_bases += len,
                    RepeatLabel::LowComplexity(_) => truth.low_complexity_bases += len,
                }
                let (consensus_start, consensus_end) = segment.consensus_range();
                truth.elements.push(TruthElement {
                    contig: truth.contigs.len(),
                    start,
                    end: start + len,
                    label: segment.label,
                    reverse: segment.reverse,
                    consensus_start,
                    consensus_end,
                    divergence: segment.divergence,
                });
            }
            bi += 1;
        } else {
            push(&mut out, &background[pos as usize..cut as usize], &mut column)?;
            contig_len += cut - pos;
            pos = cut;
            if column > 0 {
                out.push(b'\n');
                column = 0;
            }
            truth.length += contig_len;
            truth.contigs.push((format!("chr{}", truth.contigs.len() + 1), contig_len));
            contig_len = 0;
            ci += 1;
            if ci > cuts.len() {
                break;
            }
            writeln!(out, ">chr{}", truth.contigs.len() + 1)?;
        }
    }
    fasta.write_all(&out)?;
    fasta.flush()?;
    out.clear();

    for e in &truth.elements {
        let strand = if e.reverse { '-' } else { '+' };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t0\t{strand}",
            truth.contigs[e.contig].0, e.start, e.end, e.label
        )?;
        if out.len() >= 1 << 20 {
            truth_bed.write_all(&out)?;
            out.clear();
        }
    }
    truth_bed.write_all(&out)?;
    truth_bed.flush()?;
    out.clear();

    for family in &families {
        let name = format!(
            "fam{} length={} copies={} divergence={:.3}",
            family.id,
            family.consensus.len(),
            family.copies,
            family.divergence
        );
        write_record(&mut out, &name, &family.consensus);
    }
    families_fasta.write_all(&out)?;
    families_fasta.flush()?;
    truth.families = families;
    Ok(truth)
}

/// Draws each family's consensus, divergence and copy number; copy numbers are skewed, then
/// scaled together so the expected planted bases approach `repeat_fraction × length`.
fn draw_families(
    config: &RepeatGenomeConfig,
    rng: &mut Rng,
    sampler: &BaseSampler,
) -> Vec<PlantedFamily> {
    let (lo, hi) = (config.min_consensus_length as f64, config.max_consensus_length as f64);
    let (cmin, cmax) = (config.min_copies as f64, config.max_copies as f64);
    let mut raw = Vec::with_capacity(config.families);
    let mut families = Vec::with_capacity(config.families);
    for id in 1..=config.families as u32 {
        let len = (lo * (hi / lo).powf(rng.unit())).round() as usize;
        let mut consensus = vec![0u8; len];
        sampler.fill(rng, &mut consensus);
        let divergence =
            config.min_divergence + (config.max_divergence - config.min_divergence) * rng.unit();
        // u^skew (default u³) puts most of the mass near the minimum: most families small,
        // a few huge.
        raw.push(cmin * (cmax / cmin).powf(rng.unit().powf(config.copy_number_skew)));
        families.push(PlantedFamily { id, consensus, copies: 0, divergence });
    }
    let target = config.repeat_fraction * config.length as f64;
    let mean_copy = |f: &PlantedFamily| {
        let len = f.consensus.len() as f64;
        let fragment = (len + MIN_FRAGMENT.min(f.consensus.len()) as f64) / 2.0;
        len * (1.0 - config.truncated_fraction) + fragment * config.truncated_fraction
    };
    let copies = |scale: f64, r: f64| (r * scale).round().clamp(cmin, cmax);
    let mut scale = 1.0;
    for _ in 0..20 {
        let total: f64 =
            families.iter().zip(&raw).map(|(f, &r)| copies(scale, r) * mean_copy(f)).sum();
        if total <= 0.0 {
            break;
        }
        scale *= target / total;
    }
    for (f, &r) in families.iter_mut().zip(&raw) {
        f.copies = if target > 0.0 { copies(scale, r) as usize } else { 0 };
    }
    families
}

/// Writes a mutated copy of `cons` (whose first base is consensus position `offset`) into `seq`,
/// with each base's consensus position in `map`. Edit events hit a base with probability
/// `divergence / mean cost`, so on average `divergence × len` bases are edited.
fn mutate(
    rng: &mut Rng,
    cons: &[u8],
    offset: usize,
    divergence: f64,
    indel_fraction: f64,
    seq: &mut Vec<u8>,
    map: &mut Vec<u32>,
) {
    seq.clear();
    map.clear();
    // Substitutions cost 1, indels 1–3 (mean 2).
    let event = divergence / (1.0 + indel_fraction);
    let mut i = 0;
    while i < cons.len() {
        let here = (offset + i) as u32;
        if !rng.chance(event) {
            seq.push(cons[i]);
            map.push(here);
            i += 1;
        } else if rng.chance(indel_fraction) {
            let len = rng.between(1, 3) as usize;
            if rng.chance(0.5) {
                for _ in 0..len {
                    seq.push(b"ACGT"[rng.below(4) as usize]);
                    map.push(here);
                }
                seq.push(cons[i]);
                map.push(here);
                i += 1;
            } else {
                i += len;
            }
        } else {
            let code = b"ACGT".iter().position(|&b| b == cons[i]).unwrap_or(0);
            seq.push(b"ACGT"[(code + 1 + rng.below(3) as usize) % 4]);
            map.push(here);
            i += 1;
        }
    }
}

/// Inserts `segment` inside an earlier un-nested family copy with probability `p`, splitting it;
/// otherwise (or if the chosen copy cannot host it) adds it as a block of its own.
fn nest_or_push(rng: &mut Rng, p: f64, blocks: &mut Vec<Vec<Segment>>, segment: Segment) {
    if !blocks.is_empty() && rng.chance(p) {
        let h = rng.below(blocks.len() as u64) as usize;
        if blocks[h].len() == 1 && blocks[h][0].seq.len() >= 40 && !blocks[h][0].intact {
            let mut host = blocks[h].pop().expect("one segment");
            let k = rng.between(20, host.seq.len() as u64 - 20) as usize;
            let right = Segment {
                label: host.label,
                reverse: host.reverse,
                seq: host.seq.split_off(k),
                map: host.map.split_off(k),
                divergence: host.divergence,
                intact: false,
            };
            blocks[h] = vec![host, segment, right];
            return;
        }
    }
    blocks.push(vec![segment]);
}

/// A 5–100 bp unit repeated head to tail over 200–5,000 bases, with up to 5% substitutions.
fn tandem_array(rng: &mut Rng, sampler: &BaseSampler, id: u32) -> Segment {
    let mut unit = vec![0u8; rng.between(5, 100) as usize];
    sampler.fill(rng, &mut unit);
    let len = rng.between(200, 5_000) as usize;
    let divergence = 0.05 * rng.unit();
    let mut seq: Vec<u8> = unit.iter().copied().cycle().take(len).collect();
    for base in &mut seq {
        if rng.chance(divergence) {
            *base = b"ACGT"[rng.below(4) as usize];
        }
    }
    Segment {
        label: RepeatLabel::Tandem(id),
        reverse: false,
        seq,
        map: Vec::new(),
        divergence,
        intact: false,
    }
}

/// A 30–500 bp poly-A, poly-T or dinucleotide run.
fn low_complexity_run(rng: &mut Rng, id: u32) -> Segment {
    const MOTIFS: [&[u8]; 8] = [b"A", b"T", b"CA", b"TG", b"GA", b"TC", b"AT", b"GC"];
    let motif = MOTIFS[rng.below(MOTIFS.len() as u64) as usize];
    let len = rng.between(30, 500) as usize;
    let seq = motif.iter().copied().cycle().take(len).collect();
    Segment {
        label: RepeatLabel::LowComplexity(id),
        reverse: false,
        seq,
        map: Vec::new(),
        divergence: 0.0,
        intact: false,
    }
}

/// Lowercases runs of 50–1,000 bases covering about `fraction` of `bases`.
fn lowercase_runs(rng: &mut Rng, bases: &mut [u8], fraction: f64) {
    if fraction <= 0.0 {
        return;
    }
    let mean_gap = 525.0 * (1.0 - fraction) / fraction;
    let mut pos = 0usize;
    loop {
        pos += (2.0 * mean_gap * rng.unit()) as usize;
        let run = rng.between(50, 1_000) as usize;
        if pos >= bases.len() {
            break;
        }
        let end = (pos + run).min(bases.len());
        bases[pos..end].make_ascii_lowercase();
        pos = end;
    }
}

/// `contigs - 1` strictly increasing cut points in `1..len`: even, or uniformly random.
fn contig_cuts(rng: &mut Rng, len: u64, contigs: usize, fragmented: bool) -> Vec<u64> {
    let n = contigs as u64;
    if !fragmented {
        return (1..n).map(|i| len * i / n).collect();
    }
    let mut cuts = Vec::with_capacity(contigs);
    while (cuts.len() as u64) < n - 1 {
        let missing = n - 1 - cuts.len() as u64;
        cuts.extend((0..missing).map(|_| rng.between(1, len - 1)));
        cuts.sort_unstable();
        cuts.dedup();
    }
    cuts
}

/// Appends a FASTA record with 60-column lines.
fn write_record(out: &mut Vec<u8>, name: &str, seq: &[u8]) {
    out.push(b'>');
    out.extend_from_slice(name.as_bytes());
    out.push(b'\n');
    for line in seq.chunks(LINE_WIDTH) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{parse_fasta, reverse_complement};

    fn small(seed: u64) -> RepeatGenomeConfig {
        let mut c = RepeatGenomeConfig::new(seed);
        c.length = 400_000;
        c.families = 12;
        c.max_consensus_length = 600;
        c.max_copies = 200;
        c.nested_fraction = 0.1;
        c.contigs = 7;
        c.fragmented = true;
        c.lowercase_fraction = 0.1;
        c
    }

    fn run(c: &RepeatGenomeConfig) -> (Vec<u8>, Vec<u8>, Vec<u8>, RepeatTruth) {
        let (mut fa, mut bed, mut lib) = (Vec::new(), Vec::new(), Vec::new());
        let truth = write_repeat_genome(c, &mut fa, &mut bed, &mut lib).unwrap();
        (fa, bed, lib, truth)
    }

    /// Global edit distance (unit costs), O(n·m): fine for test-sized copies.
    fn edit_distance(a: &[u8], b: &[u8]) -> usize {
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        let mut cur = vec![0; b.len() + 1];
        for (i, &x) in a.iter().enumerate() {
            cur[0] = i + 1;
            for (j, &y) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(x != y)).min(prev[j + 1] + 1).min(cur[j] + 1);
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        prev[b.len()]
    }

    #[test]
    fn same_seed_same_bytes() {
        let c = small(3);
        let a = run(&c);
        let b = run(&c);
        assert_eq!((&a.0, &a.1, &a.2), (&b.0, &b.1, &b.2));
        let mut d = c.clone();
        d.seed = 4;
        assert_ne!(a.0, run(&d).0);
    }

    #[test]
    fn intervals_match_planted_copies() {
        let c = small(5);
        let (fa, bed, lib, truth) = run(&c);
        let contigs = parse_fasta(&fa[..]).unwrap();
        assert_eq!(contigs.len(), 7);
        let text = std::str::from_utf8(&fa).unwrap();
        assert!(text.lines().all(|l| l.starts_with('>') || l.len() <= 60));
        assert!(text.bytes().any(|b| b.is_ascii_lowercase()));
        let consensus = parse_fasta(&lib[..]).unwrap();
        assert_eq!(consensus.len(), 12);
        let bed = std::str::from_utf8(&bed).unwrap();
        assert_eq!(bed.lines().count(), truth.elements.len());
        let fraction = truth.interspersed_fraction();
        assert!((0.15..0.35).contains(&fraction), "repeat fraction {fraction}");
        let mut nested = 0;
        let mut previous: Option<(usize, u64)> = None;
        for (line, e) in bed.lines().zip(&truth.elements) {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 6);
            let (name, seq) = &contigs[e.contig];
            assert_eq!(f[0], name);
            assert_eq!(
                (f[1].parse::<u64>().unwrap(), f[2].parse::<u64>().unwrap()),
                (e.start, e.end)
            );
            assert!(e.start < e.end && e.end <= seq.len() as u64);
            if let Some((pc, pe)) = previous {
                assert!(pc < e.contig || pe <= e.start, "overlap at {line}");
                nested += usize::from(pc == e.contig && pe == e.start);
            }
            previous = Some((e.contig, e.end));
            let RepeatLabel::Family(id) = e.label else { continue };
            assert_eq!(f[3], format!("fam{id}"));
            let piece = &seq[e.start as usize..e.end as usize];
            let piece =
                if e.reverse { reverse_complement(piece) } else { piece.to_ascii_uppercase() };
            let cons = &consensus[id as usize - 1].1[e.consensus_start..e.consensus_end];
            let d = edit_distance(&piece, cons);
            // Edits are random: allow four standard deviations above the expected count.
            let expected = e.divergence * cons.len() as f64;
            let allowed = expected + 4.0 * (1.5 * expected).sqrt() + 4.0;
            assert!(
                (d as f64) <= allowed,
                "{line}: distance {d} over {} bases, divergence {}",
                cons.len(),
                e.divergence
            );
        }
        assert!(nested > 0, "no nested insertions");
        assert!(truth.elements.iter().any(|e| matches!(e.label, RepeatLabel::Tandem(_))));
        assert!(truth.elements.iter().any(|e| matches!(e.label, RepeatLabel::LowComplexity(_))));
        assert!(truth.elements.iter().any(|e| e.reverse));
    }

    #[test]
    fn every_family_keeps_its_whole_copies() {
        let mut c = small(13);
        c.truncated_fraction = 0.6;
        c.nested_fraction = 0.3;
        let (_, _, lib, truth) = run(&c);
        let consensus = parse_fasta(&lib[..]).unwrap();
        for (id, (_, cons)) in consensus.iter().enumerate() {
            // Indels at a copy's ends may shift its consensus range by a base or two.
            let whole = truth
                .elements
                .iter()
                .filter(|e| e.label == RepeatLabel::Family(id as u32 + 1))
                .filter(|e| e.consensus_start <= 3 && e.consensus_end + 3 >= cons.len())
                .count();
            assert!(whole >= c.full_length_copies, "family {}: {whole} whole copies", id + 1);
        }
    }

    #[test]
    fn copy_numbers_are_skewed_and_bounded() {
        let mut c = RepeatGenomeConfig::new(9);
        c.length = 2_000_000;
        c.families = 40;
        let (mut lib, mut bed) = (Vec::new(), Vec::new());
        let truth = write_repeat_genome(&c, std::io::sink(), &mut bed, &mut lib).unwrap();
        let mut copies: Vec<usize> = truth.families.iter().map(|f| f.copies).collect();
        copies.sort_unstable();
        assert!(copies.iter().all(|&n| (3..=2000).contains(&n)));
        assert!(copies[20] * 3 < copies[39], "not skewed: {copies:?}");
    }

    #[test]
    fn equal_divergence_bounds_plant_every_copy_at_that_divergence() {
        let mut c = RepeatGenomeConfig::new(4);
        c.length = 300_000;
        c.families = 6;
        c.max_consensus_length = 2_000;
        c.min_divergence = 0.3;
        c.max_divergence = 0.3;
        let (mut lib, mut bed) = (Vec::new(), Vec::new());
        let truth = write_repeat_genome(&c, std::io::sink(), &mut bed, &mut lib).unwrap();
        let planted: Vec<&TruthElement> =
            truth.elements.iter().filter(|e| matches!(e.label, RepeatLabel::Family(_))).collect();
        assert!(planted.len() > 20);
        assert!(planted.iter().all(|e| e.divergence == 0.3), "a copy off 0.3");
        assert!(truth.families.iter().all(|f| f.divergence == 0.3));
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let mut c = RepeatGenomeConfig::new(1);
        c.max_divergence = 0.3;
        assert!(c.validate().is_ok());
        c.max_divergence = 0.36;
        assert!(c.validate().is_err());
        let mut c = RepeatGenomeConfig::new(1);
        c.min_divergence = 0.2;
        assert!(c.validate().is_err(), "min above the default max 0.15");
        let mut c = RepeatGenomeConfig::new(1);
        c.contigs = 0;
        assert!(c.validate().is_err());
        let mut c = RepeatGenomeConfig::new(1);
        c.min_copies = 0;
        assert!(c.validate().is_err());
    }
}
