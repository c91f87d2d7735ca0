//! Simulated multi-record FASTA, e.g. a genome with soft-masked repeats and assembly gaps.

use std::io::Write;

use crate::error::{Error, check_probability};
use crate::genome::BaseSampler;
use crate::header::push_decimal;
use crate::rng::{Geometric, Rng};

/// Bases generated per step; records longer than this are streamed, never held whole.
const CHUNK: usize = 64 * 1024;
/// Bytes collected before each call to the underlying writer.
const WRITE_BUFFER: usize = 1 << 20;

/// Runs of a feature (lowercase soft-masking or `N` gaps) scattered along each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSpec {
    /// Mean number of bases between two runs (geometrically distributed, at least 1).
    pub mean_gap: u64,
    /// Shortest run, in bases (at least 1).
    pub min_length: u64,
    /// Longest run, in bases; lengths are uniform in `min_length..=max_length`.
    pub max_length: u64,
}

impl RunSpec {
    /// Runs `min_length..=max_length` bases long, on average `mean_gap` bases apart.
    pub fn new(mean_gap: u64, min_length: u64, max_length: u64) -> Self {
        Self { mean_gap, min_length, max_length }
    }

    fn validate(&self, setting: &'static str) -> Result<(), Error> {
        if self.mean_gap == 0 || self.min_length == 0 || self.min_length > self.max_length {
            return Err(Error::InvalidConfig {
                setting,
                reason: format!(
                    "needs mean_gap >= 1 and 1 <= min_length <= max_length, got {self:?}"
                ),
            });
        }
        Ok(())
    }
}

/// Settings for [`write_fasta`]; start from [`FastaConfig::new`] and assign fields.
///
/// ```
/// use seqflow_sim::{FastaConfig, RunSpec};
///
/// let mut config = FastaConfig::new(1);
/// config.records = 2;
/// config.min_length = 1_000;
/// config.max_length = 2_000;
/// config.soft_mask = Some(RunSpec::new(300, 20, 200));
/// let mut out = Vec::new();
/// let stats = seqflow_sim::write_fasta(&config, &mut out)?;
/// assert_eq!(stats.records, 2);
/// assert!(out.starts_with(b">chr1\n"));
/// # Ok::<(), seqflow_sim::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FastaConfig {
    /// Seeds record lengths, bases and runs.
    pub seed: u64,
    /// Number of records (default 4).
    pub records: u64,
    /// Shortest record in bases (default 50,000).
    pub min_length: u64,
    /// Longest record in bases (default 500,000); lengths are uniform in between.
    pub max_length: u64,
    /// Bases per line (default 60); 0 puts each sequence on one line.
    pub line_width: usize,
    /// G+C fraction of the bases, in `0.0..=1.0` (default 0.41).
    pub gc_fraction: f64,
    /// Record names are this prefix followed by 1, 2, … (default `chr`).
    pub name_prefix: String,
    /// Lowercase (soft-masked) runs, if any (default none).
    pub soft_mask: Option<RunSpec>,
    /// Runs of `N`, if any (default none); they override soft-masking.
    pub n_runs: Option<RunSpec>,
}

impl FastaConfig {
    /// The defaults with the given seed.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            records: 4,
            min_length: 50_000,
            max_length: 500_000,
            line_width: 60,
            gc_fraction: 0.41,
            name_prefix: "chr".into(),
            soft_mask: None,
            n_runs: None,
        }
    }

    /// Checks every field's range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), Error> {
        if self.min_length > self.max_length {
            return Err(Error::InvalidConfig {
                setting: "min_length",
                reason: format!("{} exceeds max_length {}", self.min_length, self.max_length),
            });
        }
        if self.name_prefix.bytes().any(|b| b.is_ascii_whitespace() || b == b'>') {
            return Err(Error::InvalidConfig {
                setting: "name_prefix",
                reason: "must not contain whitespace or `>`".into(),
            });
        }
        check_probability("gc_fraction", self.gc_fraction, true)?;
        if let Some(spec) = &self.soft_mask {
            spec.validate("soft_mask")?;
        }
        if let Some(spec) = &self.n_runs {
            spec.validate("n_runs")?;
        }
        Ok(())
    }
}

impl Default for FastaConfig {
    /// The defaults with seed 0.
    fn default() -> Self {
        Self::new(0)
    }
}

/// Totals over a generated FASTA file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FastaStats {
    /// Records written.
    pub records: u64,
    /// Sequence bases written (newlines excluded).
    pub bases: u64,
    /// Bytes written, including headers and newlines.
    pub bytes: u64,
    /// `N` bases.
    pub n_bases: u64,
    /// Lowercase (soft-masked) bases.
    pub lowercase_bases: u64,
}

/// Writes simulated FASTA for `config` to `writer` in large blocks and flushes it.
///
/// # Errors
/// [`Error::InvalidConfig`] for an out-of-range setting, [`Error::Io`] if the writer fails.
pub fn write_fasta<W: Write>(config: &FastaConfig, mut writer: W) -> Result<FastaStats, Error> {
    config.validate()?;
    let mut rng = Rng::new(config.seed, 2);
    let sampler = BaseSampler::new(config.gc_fraction);
    let mut stats = FastaStats::default();
    let mut out = Vec::with_capacity(WRITE_BUFFER + 2 * CHUNK);
    let mut chunk = vec![0u8; CHUNK];

    for index in 1..=config.records {
        let length = rng.between(config.min_length, config.max_length);
        out.push(b'>');
        out.extend_from_slice(config.name_prefix.as_bytes());
        push_decimal(&mut out, index);
        out.push(b'\n');

        let mut mask = config.soft_mask.map(|spec| RunState::new(spec, &mut rng));
        let mut gaps = config.n_runs.map(|spec| RunState::new(spec, &mut rng));
        let mut column = 0;
        let mut remaining = length;
        while remaining > 0 {
            let n = remaining.min(CHUNK as u64) as usize;
            let bases = &mut chunk[..n];
            sampler.fill(&mut rng, bases);
            if let Some(mask) = &mut mask {
                mask.apply(&mut rng, bases, |b| *b = b.to_ascii_lowercase());
            }
            if let Some(gaps) = &mut gaps {
                gaps.apply(&mut rng, bases, |b| *b = b'N');
            }
            stats.n_bases += bases.iter().map(|&b| u64::from(b == b'N')).sum::<u64>();
            stats.lowercase_bases += bases.iter().map(|&b| u64::from(b >= b'a')).sum::<u64>();
            push_wrapped(&mut out, bases, config.line_width, &mut column);
            remaining -= n as u64;
            if out.len() >= WRITE_BUFFER {
                writer.write_all(&out)?;
                stats.bytes += out.len() as u64;
                out.clear();
            }
        }
        if column > 0 || (config.line_width == 0 && length > 0) {
            out.push(b'\n');
        }
        stats.records += 1;
        stats.bases += length;
    }
    writer.write_all(&out)?;
    stats.bytes += out.len() as u64;
    writer.flush()?;
    Ok(stats)
}

/// Appends `bases` to `out`, breaking lines every `width` bases (`column` carries the position
/// in the current line across calls; `width` 0 means no breaks).
pub(crate) fn push_wrapped(out: &mut Vec<u8>, mut bases: &[u8], width: usize, column: &mut usize) {
    if width == 0 {
        out.extend_from_slice(bases);
        return;
    }
    while !bases.is_empty() {
        let take = (width - *column).min(bases.len());
        out.extend_from_slice(&bases[..take]);
        bases = &bases[take..];
        *column += take;
        if *column == width {
            out.push(b'\n');
            *column = 0;
        }
    }
}

/// Where the next run of a feature starts, carried across chunks of one record.
#[derive(Debug)]
struct RunState {
    spec: RunSpec,
    gap: Geometric,
    /// Bases left in the current run (0 when between runs).
    in_run: u64,
    /// Bases left before the next run starts (meaningful when `in_run` is 0).
    until_run: u64,
}

impl RunState {
    fn new(spec: RunSpec, rng: &mut Rng) -> Self {
        let gap = Geometric::new(1.0 / (spec.mean_gap as f64 + 1.0));
        let until_run = gap.sample(rng);
        Self { spec, gap, in_run: 0, until_run }
    }

    /// Applies `f` to the bases of `chunk` that fall inside runs.
    fn apply(&mut self, rng: &mut Rng, chunk: &mut [u8], f: impl Fn(&mut u8)) {
        let mut i = 0;
        while i < chunk.len() {
            let left = (chunk.len() - i) as u64;
            if self.in_run > 0 {
                let n = self.in_run.min(left);
                chunk[i..i + n as usize].iter_mut().for_each(&f);
                i += n as usize;
                self.in_run -= n;
                if self.in_run == 0 {
                    self.until_run = self.gap.sample(rng);
                }
            } else {
                let n = self.until_run.min(left);
                i += n as usize;
                self.until_run -= n;
                if self.until_run == 0 {
                    self.in_run = rng.between(self.spec.min_length, self.spec.max_length);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Vec<(String, Vec<u8>, Vec<usize>)> {
        let text = std::str::from_utf8(text).unwrap();
        assert!(text.ends_with('\n'));
        let mut records = Vec::new();
        for block in text.split('>').skip(1) {
            let mut lines = block.lines();
            let name = lines.next().unwrap().to_string();
            let lines: Vec<&str> = lines.collect();
            let widths = lines.iter().map(|l| l.len()).collect();
            records.push((name, lines.concat().into_bytes(), widths));
        }
        records
    }

    #[test]
    fn records_are_wrapped_and_counted() {
        let mut config = FastaConfig::new(8);
        config.records = 5;
        config.min_length = 1;
        config.max_length = 200_000;
        config.line_width = 70;
        let mut out = Vec::new();
        let stats = write_fasta(&config, &mut out).unwrap();
        let records = parse(&out);
        assert_eq!(records.len(), 5);
        assert_eq!(stats.bytes, out.len() as u64);
        let mut bases = 0;
        for (i, (name, seq, widths)) in records.iter().enumerate() {
            assert_eq!(name, &format!("chr{}", i + 1));
            assert!((1..=200_000).contains(&seq.len()));
            assert!(seq.iter().all(|b| b"ACGT".contains(b)));
            let (last, full) = widths.split_last().unwrap();
            assert!(full.iter().all(|&w| w == 70) && (1..=70).contains(last));
            bases += seq.len() as u64;
        }
        assert_eq!(stats.bases, bases);
        assert_eq!((stats.n_bases, stats.lowercase_bases), (0, 0));
    }

    #[test]
    fn runs_of_lowercase_and_n() {
        let mut config = FastaConfig::new(9);
        config.records = 3;
        config.min_length = 100_000;
        config.max_length = 150_000;
        config.soft_mask = Some(RunSpec::new(500, 50, 300));
        config.n_runs = Some(RunSpec::new(20_000, 100, 1000));
        let mut out = Vec::new();
        let stats = write_fasta(&config, &mut out).unwrap();
        let seq: Vec<u8> = parse(&out).into_iter().flat_map(|r| r.1).collect();
        assert!(seq.iter().all(|b| b"ACGTacgtN".contains(b)));
        let lower = seq.iter().filter(|b| b.is_ascii_lowercase()).count() as u64;
        let n = seq.iter().filter(|&&b| b == b'N').count() as u64;
        assert_eq!((stats.lowercase_bases, stats.n_bases), (lower, n));
        // Runs average 175 bases every ~675: roughly a quarter masked.
        let masked = lower as f64 / seq.len() as f64;
        assert!((0.15..0.35).contains(&masked), "{masked}");
        assert!(n > 0 && n < seq.len() as u64 / 10);
    }

    #[test]
    fn unwrapped_and_empty_records() {
        let mut config = FastaConfig::new(10);
        config.records = 2;
        config.min_length = 0;
        config.max_length = 0;
        let mut out = Vec::new();
        write_fasta(&config, &mut out).unwrap();
        assert_eq!(out, b">chr1\n>chr2\n");

        config.min_length = 100;
        config.max_length = 100;
        config.line_width = 0;
        out.clear();
        write_fasta(&config, &mut out).unwrap();
        let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        assert_eq!(lines.iter().map(|l| l.len()).collect::<Vec<_>>(), [5, 100, 5, 100, 0]);
    }

    #[test]
    fn same_seed_same_bytes() {
        let mut config = FastaConfig::new(11);
        config.soft_mask = Some(RunSpec::new(100, 5, 50));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_fasta(&config, &mut a).unwrap();
        write_fasta(&config, &mut b).unwrap();
        assert_eq!(a, b);
        config.seed = 12;
        b.clear();
        write_fasta(&config, &mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let mut config = FastaConfig::new(1);
        config.min_length = 10;
        config.max_length = 5;
        assert!(write_fasta(&config, std::io::sink()).is_err());
        let mut config = FastaConfig::new(1);
        config.n_runs = Some(RunSpec::new(0, 1, 1));
        assert!(write_fasta(&config, std::io::sink()).is_err());
        config.n_runs = None;
        config.name_prefix = "a b".into();
        assert!(write_fasta(&config, std::io::sink()).is_err());
    }
}
