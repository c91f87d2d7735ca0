//! `seqflow simulate`: seeded synthetic reads and genomes, byte-identical for a given seed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use seqflow_sim::{Amount, FastaConfig, FastqConfig, RunSpec, write_fasta, write_fastq};

use crate::Global;
use crate::output::Output;
use crate::size::parse_size;

/// The kinds of data `seqflow simulate` writes.
#[derive(Debug, Subcommand)]
pub(crate) enum SimulateCommand {
    /// Illumina-like FASTQ reads sampled from a random genome.
    Fastq(FastqArgs),
    /// A multi-record FASTA genome.
    Fasta(FastaArgs),
}

/// Where the data goes.
#[derive(Debug, Args)]
pub(crate) struct Destination {
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
}

/// Flags of `seqflow simulate fastq`.
#[derive(Debug, Args)]
pub(crate) struct FastqArgs {
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of reads.
    #[arg(long, conflicts_with = "bytes", default_value_t = 10_000)]
    reads: u64,
    /// Stop after about this many bytes of FASTQ (K, M, G suffixes).
    #[arg(long, value_parser = parse_size)]
    bytes: Option<u64>,
    /// Read length.
    #[arg(long, default_value_t = 150)]
    read_length: usize,
    /// Length of the random genome the reads come from.
    #[arg(long, default_value = "10M", value_parser = parse_size)]
    genome_length: u64,
    #[command(flatten)]
    destination: Destination,
}

/// Flags of `seqflow simulate fasta`.
#[derive(Debug, Args)]
pub(crate) struct FastaArgs {
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of records.
    #[arg(long, default_value_t = 4)]
    records: u64,
    /// Shortest record.
    #[arg(long, default_value_t = 50_000)]
    min_length: u64,
    /// Longest record.
    #[arg(long, default_value_t = 500_000)]
    max_length: u64,
    /// Letters per line (0: one line per record).
    #[arg(long, default_value_t = 60)]
    line_width: usize,
    /// Add lowercase (soft-masked) runs and N runs.
    #[arg(long)]
    masked: bool,
    #[command(flatten)]
    destination: Destination,
}

/// Runs `seqflow simulate`.
pub(crate) fn run(command: &SimulateCommand, _global: Global) -> Result<ExitCode> {
    match command {
        SimulateCommand::Fastq(args) => {
            let mut config = FastqConfig::new(args.seed);
            config.read_length = args.read_length;
            config.genome_length = args.genome_length as usize;
            config.amount = args.bytes.map_or(Amount::Reads(args.reads), Amount::Bytes);
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
    }
    Ok(ExitCode::SUCCESS)
}
