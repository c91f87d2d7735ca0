//! Simulated Illumina-like FASTQ: reads sampled from a random genome with errors and qualities.

use std::io::Write;

use crate::error::{Error, check_probability};
use crate::genome::Genome;
use crate::header::IlluminaHeader;
use crate::quality::{MAX_QUALITY, MIN_QUALITY, PHRED_OFFSET, QualityModel};
use crate::rng::{Geometric, Rng};

/// Bytes collected before each call to the underlying writer.
const WRITE_BUFFER: usize = 1 << 20;

/// How much data to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Amount {
    /// Exactly this many records.
    Reads(u64),
    /// Whole records until at least this many bytes are written; the output overshoots by less
    /// than one record.
    Bytes(u64),
}

/// Settings for [`FastqSimulator`]; start from [`FastqConfig::new`] and assign fields.
///
/// ```
/// use seqflow_sim::{Amount, FastqConfig};
///
/// let mut config = FastqConfig::new(42);
/// config.read_length = 100;
/// config.amount = Amount::Bytes(1 << 20);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FastqConfig {
    /// Seeds everything: the genome, read positions, errors, qualities and header fields.
    pub seed: u64,
    /// Bases per read (default 150); at least 1 and at most `genome_length`.
    pub read_length: usize,
    /// How many records or bytes to write (default 10,000 reads).
    pub amount: Amount,
    /// G+C fraction of the source genome, in `0.0..=1.0` (default 0.41, like human).
    pub gc_fraction: f64,
    /// Per-base probability that a call is `N` (quality `#`), in `0.0..1.0` (default 0.001).
    pub n_rate: f64,
    /// Per-base probability of a substitution error, in `0.0..1.0` (default 0.002).
    pub substitution_rate: f64,
    /// Length of the random source genome in bases (default 10,000,000). It is held in memory
    /// twice (both strands).
    pub genome_length: usize,
    /// NovaSeq-style binned qualities: every quality becomes one of `F` (37), `:` (25), `,`
    /// (11) or `#` (2) (default false: the full range).
    pub binned_qualities: bool,
    /// Amplicon panel: reads start only at this many distinct positions (targets) drawn once
    /// from the genome, so the same few sequences recur with `substitution_rate` errors
    /// (default `None`: reads start anywhere).
    pub amplicon_targets: Option<usize>,
    /// Quality strings recur: read `i` has the quality string of read `i mod period` (before
    /// `N` calls), as instruments with a repeating quality pattern give (default `None`).
    pub quality_period: Option<usize>,
}

impl FastqConfig {
    /// The defaults with the given seed.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            read_length: 150,
            amount: Amount::Reads(10_000),
            gc_fraction: 0.41,
            n_rate: 0.001,
            substitution_rate: 0.002,
            genome_length: 10_000_000,
            binned_qualities: false,
            amplicon_targets: None,
            quality_period: None,
        }
    }

    /// Checks every field's range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), Error> {
        if self.read_length == 0 {
            return Err(Error::InvalidConfig {
                setting: "read_length",
                reason: "must be at least 1".into(),
            });
        }
        if self.genome_length < self.read_length {
            return Err(Error::InvalidConfig {
                setting: "genome_length",
                reason: format!(
                    "{} is shorter than the read length {}",
                    self.genome_length, self.read_length
                ),
            });
        }
        if self.amplicon_targets == Some(0) || self.quality_period == Some(0) {
            return Err(Error::InvalidConfig {
                setting: "amplicon_targets",
                reason: "amplicon targets and the quality period must be at least 1".into(),
            });
        }
        check_probability("gc_fraction", self.gc_fraction, true)?;
        check_probability("n_rate", self.n_rate, false)?;
        check_probability("substitution_rate", self.substitution_rate, false)
    }
}

impl Default for FastqConfig {
    /// The defaults with seed 0.
    fn default() -> Self {
        Self::new(0)
    }
}

/// Totals over the records written so far, handy as expected values in tests of QC code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FastqStats {
    /// Records written.
    pub records: u64,
    /// Bases written (sum of read lengths).
    pub bases: u64,
    /// Bytes written, including headers, separators and newlines.
    pub bytes: u64,
    /// `N` calls among the bases.
    pub n_bases: u64,
    /// `G` and `C` calls among the bases.
    pub gc_bases: u64,
    /// `quality_counts[q]` is the number of bases with Phred quality `q` (only `2..=41` occur).
    pub quality_counts: [u64; 42],
}

impl Default for FastqStats {
    fn default() -> Self {
        Self { records: 0, bases: 0, bytes: 0, n_bases: 0, gc_bases: 0, quality_counts: [0; 42] }
    }
}

impl FastqStats {
    /// Mean Phred quality over all bases (0.0 when there are none).
    pub fn mean_quality(&self) -> f64 {
        let total: u64 = self.quality_counts.iter().enumerate().map(|(q, &n)| q as u64 * n).sum();
        ratio(total, self.bases)
    }

    /// Fraction of bases with quality at least `threshold` (0.0 when there are none).
    pub fn fraction_at_least(&self, threshold: u8) -> f64 {
        let start = usize::from(threshold).min(self.quality_counts.len());
        ratio(self.quality_counts[start..].iter().sum(), self.bases)
    }

    /// Fraction of bases with quality 20 or more.
    pub fn q20_fraction(&self) -> f64 {
        self.fraction_at_least(20)
    }

    /// Fraction of bases with quality 30 or more.
    pub fn q30_fraction(&self) -> f64 {
        self.fraction_at_least(30)
    }

    /// Fraction of bases that are `G` or `C` (`N` included in the denominator).
    pub fn gc_fraction(&self) -> f64 {
        ratio(self.gc_bases, self.bases)
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 { 0.0 } else { numerator as f64 / denominator as f64 }
}

/// Generates reads from a random genome: uniform positions on both strands, substitution
/// errors and `N` calls at configured rates, Illumina-style headers and qualities.
///
/// The same [`FastqConfig`] always produces byte-identical output, on any platform.
///
/// ```
/// use seqflow_sim::{Amount, FastqConfig, FastqSimulator};
///
/// let mut config = FastqConfig::new(7);
/// config.genome_length = 10_000;
/// config.amount = Amount::Reads(3);
/// let mut out = Vec::new();
/// let stats = FastqSimulator::new(&config)?.write_to(&mut out)?;
/// assert_eq!(stats.records, 3);
/// assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 12);
/// # Ok::<(), seqflow_sim::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FastqSimulator {
    amount: Amount,
    read_length: usize,
    genome: Genome,
    rng: Rng,
    quality: QualityModel,
    header: IlluminaHeader,
    substitution_gap: Geometric,
    n_gap: Geometric,
    /// Bases to skip, counted from the start of the next read, before the next substitution.
    until_substitution: u64,
    /// Likewise for the next `N`.
    until_n: u64,
    binned: bool,
    /// Start positions (and strands) of the amplicon targets, if any.
    targets: Vec<(bool, usize)>,
    /// Quality strings of the first `period` reads, reused after.
    period: Option<usize>,
    quality_bank: Vec<Vec<u8>>,
    stats: FastqStats,
}

impl FastqSimulator {
    /// Builds the genome (a few tens of milliseconds per 10 Mb) and the other generators.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if [`FastqConfig::validate`] fails.
    pub fn new(config: &FastqConfig) -> Result<Self, Error> {
        config.validate()?;
        let genome = Genome::generate(
            &mut Rng::new(config.seed, 0),
            config.genome_length,
            config.gc_fraction,
        );
        let mut rng = Rng::new(config.seed, 1);
        let header = IlluminaHeader::new(&mut rng);
        let substitution_gap = Geometric::new(config.substitution_rate);
        let n_gap = Geometric::new(config.n_rate);
        let until_substitution = substitution_gap.sample(&mut rng);
        let until_n = n_gap.sample(&mut rng);
        let mut target_rng = Rng::new(config.seed, 2);
        let targets = (0..config.amplicon_targets.unwrap_or(0))
            .map(|_| {
                let reverse = target_rng.next_u64() & 1 == 1;
                let span = (genome.len() - config.read_length + 1) as u64;
                (reverse, target_rng.below(span) as usize)
            })
            .collect();
        Ok(Self {
            binned: config.binned_qualities,
            targets,
            period: config.quality_period,
            quality_bank: Vec::new(),
            amount: config.amount,
            read_length: config.read_length,
            genome,
            rng,
            quality: QualityModel::new(config.read_length),
            header,
            substitution_gap,
            n_gap,
            until_substitution,
            until_n,
            stats: FastqStats::default(),
        })
    }

    /// Appends the next record (four lines, each ending in `\n`) to `out`.
    pub fn append_record(&mut self, out: &mut Vec<u8>) {
        let start = out.len();
        let len = self.read_length;
        self.header.write_next(&mut self.rng, out);

        let (reverse, position) = if self.targets.is_empty() {
            let reverse = self.rng.next_u64() & 1 == 1;
            (reverse, self.rng.below((self.genome.len() - len + 1) as u64) as usize)
        } else {
            self.targets[self.rng.below(self.targets.len() as u64) as usize]
        };
        let seq_start = out.len();
        out.extend_from_slice(self.genome.slice(reverse, position, len));
        out.extend_from_slice(b"\n+\n");
        let qual_start = out.len();
        out.resize(qual_start + len, 0);
        out.push(b'\n');

        let (seq, rest) = out[seq_start..].split_at_mut(len);
        let qual = &mut rest[3..3 + len];
        let recorded = self.stats.records as usize;
        match self.period {
            Some(period) if recorded >= period => {
                qual.copy_from_slice(&self.quality_bank[recorded % period]);
            }
            _ => {
                self.quality.fill(&mut self.rng, qual);
                if self.binned {
                    qual.iter_mut().for_each(|q| *q = binned(*q));
                }
                if self.period.is_some() {
                    self.quality_bank.push(qual.to_vec());
                }
            }
        }

        let mut i = self.until_substitution;
        while i < len as u64 {
            let base = &mut seq[i as usize];
            let others: &[u8; 3] = match *base {
                b'A' => b"CGT",
                b'C' => b"AGT",
                b'G' => b"ACT",
                _ => b"ACG",
            };
            *base = others[self.rng.below(3) as usize];
            i = i.saturating_add(1).saturating_add(self.substitution_gap.sample(&mut self.rng));
        }
        self.until_substitution = i - len as u64;

        let mut i = self.until_n;
        while i < len as u64 {
            seq[i as usize] = b'N';
            qual[i as usize] = MIN_QUALITY + PHRED_OFFSET;
            self.stats.n_bases += 1;
            i = i.saturating_add(1).saturating_add(self.n_gap.sample(&mut self.rng));
        }
        self.until_n = i - len as u64;

        self.stats.gc_bases += seq.iter().map(|&b| u64::from(b == b'G' || b == b'C')).sum::<u64>();
        for &q in qual.iter() {
            self.stats.quality_counts[usize::from((q - PHRED_OFFSET).min(MAX_QUALITY))] += 1;
        }
        self.stats.records += 1;
        self.stats.bases += len as u64;
        self.stats.bytes += (out.len() - start) as u64;
    }

    /// Totals over the records generated so far.
    pub fn stats(&self) -> &FastqStats {
        &self.stats
    }

    /// Writes the configured [`Amount`] of records to `writer` in large blocks (no need to wrap
    /// it in a `BufWriter`), flushes it, and returns the totals.
    ///
    /// # Errors
    /// [`Error::Io`] if the writer fails.
    pub fn write_to<W: Write>(mut self, mut writer: W) -> Result<FastqStats, Error> {
        let mut buf = Vec::with_capacity(WRITE_BUFFER + 4 * self.read_length + 256);
        loop {
            let done = match self.amount {
                Amount::Reads(n) => self.stats.records >= n,
                Amount::Bytes(n) => self.stats.bytes >= n,
            };
            if done || buf.len() >= WRITE_BUFFER {
                writer.write_all(&buf)?;
                buf.clear();
            }
            if done {
                break;
            }
            self.append_record(&mut buf);
        }
        writer.flush()?;
        Ok(self.stats)
    }
}

/// Writes simulated FASTQ for `config` to `writer`; shorthand for
/// [`FastqSimulator::new`] followed by [`FastqSimulator::write_to`].
///
/// # Errors
/// [`Error::InvalidConfig`] for an out-of-range setting, [`Error::Io`] if the writer fails.
pub fn write_fastq<W: Write>(config: &FastqConfig, writer: W) -> Result<FastqStats, Error> {
    FastqSimulator::new(config)?.write_to(writer)
}

/// The NovaSeq bin of a Phred+33 quality character: `F` (37) for 30 and up, `:` (25) for
/// 20–29, `,` (11) for 3–19, `#` (2) below.
fn binned(q: u8) -> u8 {
    match q.saturating_sub(PHRED_OFFSET) {
        30.. => b'F',
        20..=29 => b':',
        3..=19 => b',',
        _ => b'#',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64, reads: u64) -> FastqConfig {
        let mut config = FastqConfig::new(seed);
        config.genome_length = 50_000;
        config.amount = Amount::Reads(reads);
        config
    }

    #[test]
    fn validation_names_the_field() {
        let mut config = small(1, 1);
        config.read_length = 0;
        assert!(matches!(
            config.validate(),
            Err(Error::InvalidConfig { setting: "read_length", .. })
        ));
        let mut config = small(1, 1);
        config.genome_length = 10;
        assert!(matches!(
            FastqSimulator::new(&config),
            Err(Error::InvalidConfig { setting: "genome_length", .. })
        ));
        for (field, value) in [("gc", 1.5), ("n", 1.0), ("sub", -0.1), ("sub", f64::NAN)] {
            let mut config = small(1, 1);
            match field {
                "gc" => config.gc_fraction = value,
                "n" => config.n_rate = value,
                _ => config.substitution_rate = value,
            }
            assert!(config.validate().is_err(), "{field} = {value}");
        }
    }

    #[test]
    fn stats_match_the_output() {
        let mut out = Vec::new();
        let stats = write_fastq(&small(3, 500), &mut out).unwrap();
        assert_eq!(stats.records, 500);
        assert_eq!(stats.bases, 500 * 150);
        assert_eq!(stats.bytes, out.len() as u64);
        let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        let seqs = lines.iter().skip(1).step_by(4).take(500);
        let n: usize = seqs.clone().map(|s| s.iter().filter(|&&b| b == b'N').count()).sum();
        let gc: usize = seqs.map(|s| s.iter().filter(|&&b| b == b'G' || b == b'C').count()).sum();
        assert_eq!(stats.n_bases, n as u64);
        assert_eq!(stats.gc_bases, gc as u64);
        assert_eq!(stats.quality_counts.iter().sum::<u64>(), stats.bases);
    }

    #[test]
    fn error_rates_are_roughly_as_configured() {
        let mut config = small(4, 2000);
        config.n_rate = 0.01;
        config.substitution_rate = 0.0;
        let stats = write_fastq(&config, std::io::sink()).unwrap();
        let n_rate = stats.n_bases as f64 / stats.bases as f64;
        assert!((0.008..0.012).contains(&n_rate), "{n_rate}");

        config.n_rate = 0.0;
        let stats = write_fastq(&config, std::io::sink()).unwrap();
        assert_eq!(stats.n_bases, 0);
    }

    #[test]
    fn byte_target_overshoots_by_less_than_a_record() {
        let mut config = small(5, 0);
        config.amount = Amount::Bytes(100_000);
        let mut out = Vec::new();
        let stats = write_fastq(&config, &mut out).unwrap();
        assert!(out.len() >= 100_000 && out.len() < 100_000 + 400, "{}", out.len());
        assert_eq!(stats.bytes, out.len() as u64);

        config.amount = Amount::Bytes(0);
        assert_eq!(write_fastq(&config, std::io::sink()).unwrap().records, 0);
    }

    #[test]
    fn data_kinds_binned_amplicon_and_recurring_qualities() {
        let mut config = FastqConfig::new(9);
        config.amount = Amount::Reads(400);
        config.binned_qualities = true;
        config.amplicon_targets = Some(5);
        config.quality_period = Some(50);
        config.substitution_rate = 0.0;
        config.n_rate = 0.0;
        let mut out = Vec::new();
        write_fastq(&config, &mut out).unwrap();
        let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        let seqs: std::collections::HashSet<&[u8]> =
            lines.iter().skip(1).step_by(4).copied().filter(|l| !l.is_empty()).collect();
        // 5 targets and no errors: at most 5 distinct reads.
        assert!(seqs.len() <= 5, "{}", seqs.len());
        let quals: Vec<&[u8]> = lines.iter().skip(3).step_by(4).copied().collect();
        assert!(quals.iter().flat_map(|q| q.iter()).all(|q| b"F:,#".contains(q)));
        assert!((50..400).all(|i| quals[i] == quals[i % 50]));
        let mut again = Vec::new();
        write_fastq(&config, &mut again).unwrap();
        assert_eq!(out, again);
    }
}
