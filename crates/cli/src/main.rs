//! `seqflow`: genome-scale jobs as memory-bounded, parallel streaming pipelines.
//!
//! This binary only parses flags and wires the library crates together; every command lives
//! in a module of its own.

mod collection;
mod credits;
mod limits;
mod output;
mod pack;
mod progress;
mod qc;
mod repeats;
mod simulate;
mod size;
mod stats;

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command-line interface.
#[derive(Debug, Parser)]
#[command(name = "seqflow", version, about, max_term_width = 100, after_help = output::RULES)]
struct Cli {
    /// No progress bar, no summary on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// More detail on stderr (-v: per-stage timings; -vv: debug log).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Refuse to start when the command's peak-memory bound is above this (K, M, G, T
    /// suffixes; default: the machine's memory).
    #[arg(long, global = true, value_parser = size::size_in(1 << 20, 1 << 50))]
    max_memory: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Statistics of FASTA/FASTQ files (the columns of `seqkit stats -a`).
    Stats(stats::StatsArgs),
    /// Read QC of FASTQ (fastp's JSON schema for MultiQC, and an HTML report).
    Qc(qc::QcArgs),
    /// Compress (and optionally encrypt) any file in parallel: zstd seekable or BGZF.
    Pack(pack::PackArgs),
    /// Restore a packed file byte for byte, checking every frame and the SHA-256.
    Unpack(pack::UnpackArgs),
    /// Print a byte range of the original, decoding only the chunks it needs.
    Cat(pack::CatArgs),
    /// Check every frame, segment and checksum of a packed file without writing.
    Verify(pack::UnpackArgs),
    /// Write a Crypt4GH key pair (passphrase from SEQFLOW_PASSPHRASE, if set).
    Keygen(pack::KeygenArgs),
    /// Find interspersed repeat families de novo and annotate every copy.
    Repeats(repeats::RepeatsArgs),
    /// Read AGC genome-collection archives: getset, getctg, getcol, listset, listctg, listref, info.
    #[command(subcommand)]
    Collection(collection::CollectionCommand),
    /// Write reproducible synthetic data (seeded).
    #[command(subcommand)]
    Simulate(simulate::SimulateCommand),
}

/// What every command gets besides its own flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Global {
    /// Suppress progress and summaries.
    pub(crate) quiet: bool,
    /// Verbosity level.
    pub(crate) verbose: u8,
    /// What the command may plan to use at its peak.
    pub(crate) memory: limits::MemoryLimit,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let level = match cli.verbose {
        0 | 1 => "warn",
        2 => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_writer(io::stderr)
        .init();
    let global = Global {
        quiet: cli.quiet,
        verbose: cli.verbose,
        memory: limits::MemoryLimit::new(cli.max_memory),
    };
    if let Err(error) = output::remove_temporary_files_on_signals() {
        eprintln!("seqflow: cannot install signal handlers: {error}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Stats(args) => stats::run(&args, global),
        Command::Qc(args) => qc::run(&args, global),
        Command::Pack(args) => pack::pack(&args, global),
        Command::Unpack(args) => pack::unpack(&args, false, global),
        Command::Cat(args) => pack::cat(&args, global),
        Command::Verify(args) => pack::unpack(&args, true, global),
        Command::Keygen(args) => pack::keygen(&args),
        Command::Repeats(args) => repeats::run(&args, global),
        Command::Simulate(command) => simulate::run(&command, global),
        Command::Collection(command) => collection::run(&command, global),
    };
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("seqflow: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// A usage error (a flag value out of its bounds, an unknown flag, a missing argument) is one
/// line (`seqflow: invalid value …`), exit code 2, like every other error; help and version go
/// to standard output as usual.
fn usage_error(error: clap::Error) -> ExitCode {
    if !error.use_stderr() {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    let text = error.to_string();
    let paragraph: Vec<&str> =
        text.lines().take_while(|line| !line.trim().is_empty()).map(str::trim).collect();
    let line = paragraph.join(" ");
    eprintln!("seqflow: {}", line.strip_prefix("error: ").unwrap_or(&line));
    ExitCode::from(2)
}

/// A closed standard output (`seqflow stats … | head`) ends the program quietly.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
