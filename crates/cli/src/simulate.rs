//! `seqflow simulate`: seeded synthetic reads and genomes, byte-identical for a given seed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use seqflow_sim::{Amount, FastaConfig, FastqConfig, RunSpec, write_fasta, write_fastq};

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
    /// Stop after about this many bytes of FASTQ, 1 to 1P (K, M, G, T suffixes).
    #[arg(long, value_parser = size_in(1, 1 << 50))]
    bytes: Option<u64>,
    /// Read length, 1 to 1048576.
    #[arg(long, default_value_t = 150, value_parser = count_in(1, MAX_READ_LENGTH))]
    read_length: usize,
    /// Length of the random genome the reads come from, 1 to 4G (held in memory).
    #[arg(long, default_value = "10M", value_parser = size_in(1, MAX_GENOME_LENGTH))]
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
    /// Shortest record, 0 to 1T.
    #[arg(long, default_value_t = 50_000, value_parser = count_in(0, MAX_RECORD_LENGTH))]
    min_length: u64,
    /// Longest record, 0 to 1T.
    #[arg(long, default_value_t = 500_000, value_parser = count_in(0, MAX_RECORD_LENGTH))]
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
