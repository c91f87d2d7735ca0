//! `seqflow`: genome-scale jobs as memory-bounded, parallel streaming pipelines.
//!
//! This binary only parses flags and wires the library crates together; every command lives
//! in a module of its own.

mod collection;
mod device;
mod gpu_cycles;
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

use clap::{Args, Parser, Subcommand};

/// Command-line interface.
#[derive(Debug, Parser)]
#[command(name = "seqflow", version, about, max_term_width = 100, next_line_help = true, after_help = output::RULES)]
struct Cli {
    /// Refuse to start when the command's peak-memory bound is above this, 1M to 1P (K, M, G,
    /// T suffixes; default: the machine's memory).
    #[arg(long, global = true, value_name = "SIZE", help_heading = GLOBAL_OPTIONS, value_parser = size::size_in(1 << 20, 1 << 50))]
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
    /// Restore a packed file byte for byte, checking every frame and its digest.
    Unpack(pack::UnpackArgs),
    /// Print a byte range of the original, decoding only the chunks it needs.
    Cat(pack::CatArgs),
    /// Check every frame, segment and checksum of a packed file without writing.
    Verify(pack::VerifyArgs),
    /// Write a Crypt4GH key pair (passphrase from SEQFLOW_PASSPHRASE or C4GH_PASSPHRASE).
    Keygen(pack::KeygenArgs),
    /// Find interspersed repeat families de novo and annotate every copy.
    Repeats(repeats::RepeatsArgs),
    /// AGC genome-collection archives: create, append, getset, getctg, getcol, listset, …
    #[command(subcommand)]
    Collection(collection::CollectionCommand),
    /// Write reproducible synthetic data (seeded).
    #[command(subcommand)]
    Simulate(simulate::SimulateCommand),
}

/// The help heading of the flags every command takes.
const GLOBAL_OPTIONS: &str = "Global options";

/// `-q` and `-v`, on the commands that have a progress bar or a summary to quiet or detail
/// (`global` within the command, so that `qc merge -q` is accepted as `qc -q` is).
#[derive(Debug, Clone, Copy, Default, Args)]
pub(crate) struct Chatter {
    /// No progress bar and no summary on stderr.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// More on stderr: -v the summary and per-stage timings where the command has them, -vv
    /// the debug log.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
}

impl Command {
    /// True when the command may look for a GPU (`stats` or `qc` with `--device gpu|auto`).
    fn may_use_gpu(&self) -> bool {
        let device = match self {
            Command::Stats(args) => args.device(),
            Command::Qc(args) => args.device(),
            _ => return false,
        };
        device != device::Device::Cpu
    }

    /// The command's `-q`/`-v` (none for commands without progress or summaries).
    fn chatter(&self) -> Chatter {
        match self {
            Command::Stats(args) => args.chatter,
            Command::Qc(args) => args.chatter,
            Command::Pack(args) => args.chatter,
            Command::Unpack(args) => args.chatter,
            Command::Verify(args) => args.chatter,
            Command::Repeats(args) => args.chatter,
            Command::Collection(command) => command.chatter(),
            Command::Cat(_) | Command::Keygen(_) | Command::Simulate(_) => Chatter::default(),
        }
    }
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
    if cli.command.may_use_gpu() {
        device::quiet_wayland_probe();
    }
    let chatter = cli.command.chatter();
    let level = match chatter.verbose {
        // wgpu logs every Vulkan extension a driver lacks as a warning.
        0 | 1 => "warn,wgpu_hal=error,wgpu_core=error,naga=error",
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
        quiet: chatter.quiet,
        verbose: chatter.verbose,
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
        Command::Unpack(args) => pack::unpack(&args, global),
        Command::Cat(args) => pack::cat(&args, global),
        Command::Verify(args) => pack::verify(&args, global),
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
            || cause.downcast_ref::<seqflow_pack::Error>().is_some_and(|e| e.is_broken_pipe())
    })
}
