//! `seqflow simulate`: seeded synthetic reads and genomes, byte-identical for a given seed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::builder::TypedValueParser;
use clap::{Args, Subcommand};
use seqflow_sim::{
    Amount, BaseGenome, FastaConfig, FastqConfig, Pangenome, PangenomeConfig, RunSpec, write_fasta,
    write_fastq,
};

use crate::Global;
use crate::limits::times;
use crate::output::Output;
use crate::size::{count_in, human_size, size_in};

/// Longest simulated read (and `--line-width`): 1 Mbp.
const MAX_READ_LENGTH: usize = 1 << 20;
/// Largest random genome `simulate fastq` holds in memory: 4 GiB (one byte per base).
const MAX_GENOME_LENGTH: u64 = 4 << 30;
/// Longest simulated FASTA record (streamed, so only bounded to keep files sane): 1 Tbp.
const MAX_RECORD_LENGTH: u64 = 1 << 40;

/// The kinds of data `seqflow simulate` writes.
#[derive(Debug, Subcommand)]
pub(crate) enum SimulateCommand {
    /// Illumina-like FASTQ reads sampled from a random genome.
    Fastq(FastqArgs),
    /// A multi-record FASTA genome.
    Fasta(FastaArgs),
    /// Haplotypes of a base genome along a coalescent tree (SNPs, indels, SVs, IUPAC, N runs).
    Pangenome(PangenomeArgs),
}

/// Where the data goes.
#[derive(Debug, Args)]
pub(crate) struct Destination {
    /// Output file (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(short, long)]
    force: bool,
}

/// Flags of `seqflow simulate fastq`.
#[derive(Debug, Args)]
pub(crate) struct FastqArgs {
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42, value_name = "N")]
    seed: u64,
    /// Number of reads.
    #[arg(long, conflicts_with = "bytes", default_value_t = 10_000)]
    reads: u64,
    /// Stop after about this many bytes of FASTQ, 1 to 1P (K, M, G, T suffixes).
    #[arg(long, value_parser = size_in(1, 1 << 50), value_name = "SIZE")]
    bytes: Option<u64>,
    /// Read length, 1 to 1M (K, M suffixes).
    #[arg(long, default_value = "150", value_parser = size_in(1, MAX_READ_LENGTH as u64).map(|v| v as usize), value_name = "SIZE")]
    read_length: usize,
    /// Length of the random genome the reads come from, 1 to 4G (K, M, G suffixes; held in
    /// memory).
    #[arg(long, default_value = "10M", value_parser = size_in(1, MAX_GENOME_LENGTH), value_name = "SIZE")]
    genome_length: u64,
    /// NovaSeq-style binned qualities (`F`, `:`, `,`, `#`).
    #[arg(long)]
    binned_qualities: bool,
    /// Amplicon panel: reads come from this many distinct targets (with --error-rate errors).
    #[arg(long, value_parser = count_in(1usize, 1 << 30), value_name = "N")]
    amplicons: Option<usize>,
    /// Per-base substitution error rate, 0 to <1.
    #[arg(long, default_value_t = 0.002, value_name = "RATE")]
    error_rate: f64,
    /// Quality strings recur: read i has the qualities of read i mod READS.
    #[arg(long, value_parser = count_in(1usize, 1 << 30), value_name = "READS")]
    quality_period: Option<usize>,
    #[command(flatten)]
    destination: Destination,
}

/// Flags of `seqflow simulate fasta`.
#[derive(Debug, Args)]
pub(crate) struct FastaArgs {
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42, value_name = "N")]
    seed: u64,
    /// Number of records.
    #[arg(long, default_value_t = 4)]
    records: u64,
    /// Shortest record, 0 to 1T (K, M, G, T suffixes).
    #[arg(long, default_value = "50000", value_parser = size_in(0, MAX_RECORD_LENGTH), value_name = "SIZE")]
    min_length: u64,
    /// Longest record, 0 to 1T (K, M, G, T suffixes).
    #[arg(long, default_value = "500000", value_parser = size_in(0, MAX_RECORD_LENGTH), value_name = "SIZE")]
    max_length: u64,
    /// Letters per line, 0 to 1048576 (0: one line per record).
    #[arg(long, default_value_t = 60, value_parser = count_in(0, MAX_READ_LENGTH))]
    line_width: usize,
    /// Add lowercase (soft-masked) runs and N runs.
    #[arg(long)]
    masked: bool,
    #[command(flatten)]
    destination: Destination,
}

/// Flags of `seqflow simulate pangenome`.
#[derive(Debug, Args)]
pub(crate) struct PangenomeArgs {
    /// Base genome FASTA (plain, gzip, BGZF or zstd): the common ancestor of the haplotypes.
    #[arg(long, value_name = "FILE")]
    base: PathBuf,
    /// Number of haplotypes.
    #[arg(short = 'n', long, default_value_t = 20)]
    haplotypes: usize,
    /// Random seed: the same seed and base give the same bytes.
    #[arg(long, default_value_t = 42, value_name = "N")]
    seed: u64,
    /// Output directory: hapNN.fa per haplotype, truth.tsv (events), tree.nwk (genealogy).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Expected SNP differences per base between two haplotypes.
    #[arg(long, default_value_t = 0.003)]
    snp_diversity: f64,
    /// Expected short-indel differences per base between two haplotypes.
    #[arg(long, default_value_t = 0.0004)]
    indel_diversity: f64,
    /// Expected structural-variant differences per base between two haplotypes.
    #[arg(long, default_value_t = 2e-6)]
    sv_diversity: f64,
    /// IUPAC ambiguity codes per base of each haplotype.
    #[arg(long, default_value_t = 1e-5)]
    ambiguity_rate: f64,
    /// N runs per base of each haplotype.
    #[arg(long, default_value_t = 2e-6)]
    n_run_rate: f64,
    /// Letters per line (0: one line per contig).
    #[arg(long, default_value_t = 80)]
    line_width: usize,
    /// Overwrite existing output files.
    #[arg(short, long)]
    force: bool,
}

/// Runs `seqflow simulate`.
///
/// Peak memory: `simulate fastq` holds its random genome (1 byte per base) and a few reads'
/// worth of buffers (`64 × read length + 2 MiB`); `simulate fasta` streams, about 2 MiB.
pub(crate) fn run(command: &SimulateCommand, global: Global) -> Result<ExitCode> {
    match command {
        SimulateCommand::Fastq(args) => {
            let bound = args
                .genome_length
                .saturating_add(times(64, args.read_length as u64))
                .saturating_add(2 << 20);
            let formula = format!(
                "genome {} + 64 × read length {} + 2 MiB",
                human_size(args.genome_length),
                args.read_length
            );
            global.memory.check("simulate fastq", bound, &formula, "--genome-length")?;
            let mut config = FastqConfig::new(args.seed);
            config.read_length = args.read_length;
            config.genome_length = args.genome_length as usize;
            config.amount = args.bytes.map_or(Amount::Reads(args.reads), Amount::Bytes);
            config.binned_qualities = args.binned_qualities;
            config.amplicon_targets = args.amplicons;
            config.substitution_rate = args.error_rate;
            config.quality_period = args.quality_period;
            let mut out =
                Output::create(args.destination.output.as_deref(), args.destination.force)?;
            write_fastq(&config, &mut out)?;
            out.finish()?;
        }
        SimulateCommand::Fasta(args) => {
            let mut config = FastaConfig::new(args.seed);
            config.records = args.records;
            config.min_length = args.min_length;
            config.max_length = args.max_length;
            config.line_width = args.line_width;
            if args.masked {
                config.soft_mask = Some(RunSpec::new(2_000, 50, 1_000));
                config.n_runs = Some(RunSpec::new(50_000, 10, 500));
            }
            let mut out =
                Output::create(args.destination.output.as_deref(), args.destination.force)?;
            write_fasta(&config, &mut out)?;
            out.finish()?;
        }
        SimulateCommand::Pangenome(args) => simulate_pangenome(args)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes every haplotype, the truth table and the tree; each file appears under its final
/// name only when complete.
fn simulate_pangenome(args: &PangenomeArgs) -> Result<()> {
    let mut config = PangenomeConfig::new(args.seed, args.haplotypes);
    config.snp_diversity = args.snp_diversity;
    config.indel_diversity = args.indel_diversity;
    config.sv_diversity = args.sv_diversity;
    config.ambiguity_rate = args.ambiguity_rate;
    config.n_run_rate = args.n_run_rate;
    config.line_width = args.line_width;
    config.validate()?;
    let base = BaseGenome::from_fasta(&args.base)?;
    let pangenome = Pangenome::simulate(&base, &config)?;
    let names: Vec<String> = ["truth.tsv".to_owned(), "tree.nwk".to_owned()]
        .into_iter()
        .chain((0..pangenome.haplotypes()).map(|i| format!("{}.fa", pangenome.haplotype_name(i))))
        .collect();
    if let Some(existing) = names.iter().map(|n| args.output.join(n)).find(|p| p.exists()) {
        if !args.force {
            bail!("{}: already exists (use --force to overwrite)", existing.display());
        }
    }
    fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create the directory", args.output.display()))?;
    let create = |name: &str| Output::create(Some(&args.output.join(name)), args.force);
    let mut truth = create("truth.tsv")?;
    pangenome.write_truth(&mut truth)?;
    truth.finish()?;
    let mut tree = create("tree.nwk")?;
    std::io::Write::write_all(&mut tree, pangenome.newick().as_bytes())?;
    tree.finish()?;
    for (i, name) in names[2..].iter().enumerate() {
        let mut out = create(name)?;
        pangenome
            .write_haplotype(i, &mut out)
            .with_context(|| format!("{}", Path::new(&args.output).join(name).display()))?;
        out.finish()?;
    }
    Ok(())
}
