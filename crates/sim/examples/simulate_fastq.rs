//! Writes simulated FASTQ, for benchmarks that need data without the `seqflow` CLI.
//!
//! ```text
//! cargo run --release -p seqflow-sim --example simulate_fastq -- \
//!     --seed 42 --bytes 2G --out bench/data/reads_2g.fq
//! ```
//!
//! Flags: `--seed N` (default 42), `--bytes SIZE` (suffixes K, M, G, T: powers of 1024) or
//! `--reads N` (default 10,000 reads), `--read-length N` (default 150), `--genome-length N`
//! (default 10,000,000), `--out PATH` (default `-`, stdout). Totals go to stderr.

mod common;

use std::io::{self, Write};
use std::process::ExitCode;

use seqflow_sim::{Amount, Error, FastqConfig};

fn main() -> ExitCode {
    let (config, out) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("simulate_fastq: {message}");
            return ExitCode::from(2);
        }
    };
    let result = if out == "-" {
        seqflow_sim::write_fastq(&config, io::stdout().lock())
    } else {
        std::fs::File::create(&out)
            .map_err(Error::from)
            .and_then(|file| seqflow_sim::write_fastq(&config, file))
    };
    match result {
        Ok(stats) => {
            eprintln!(
                "simulate_fastq: {} records, {} bases, {} bytes, mean Q {:.2}, Q20 {:.4}, \
                 Q30 {:.4}, GC {:.4}",
                stats.records,
                stats.bases,
                stats.bytes,
                stats.mean_quality(),
                stats.q20_fraction(),
                stats.q30_fraction(),
                stats.gc_fraction()
            );
            ExitCode::SUCCESS
        }
        Err(Error::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let message = common::error_chain(&e);
            let _ = writeln!(io::stderr(), "simulate_fastq: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(FastqConfig, String), String> {
    let mut config = FastqConfig::new(42);
    let mut out = "-".to_string();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seed" => config.seed = parse_number(&value()?)?,
            "--bytes" => config.amount = Amount::Bytes(parse_size(&value()?)?),
            "--reads" => config.amount = Amount::Reads(parse_number(&value()?)?),
            "--read-length" => config.read_length = parse_number(&value()?)? as usize,
            "--genome-length" => config.genome_length = parse_number(&value()?)? as usize,
            "--out" | "-o" => out = value()?,
            "--help" | "-h" => {
                return Err("usage: simulate_fastq [--seed N] [--bytes SIZE | --reads N] \
                            [--read-length N] [--genome-length N] [--out PATH]"
                    .into());
            }
            other => return Err(format!("unknown flag {other:?} (try --help)")),
        }
    }
    Ok((config, out))
}

fn parse_number(text: &str) -> Result<u64, String> {
    text.replace('_', "").parse().map_err(|e| format!("invalid number {text:?}: {e}"))
}

/// `2G`, `500M`, `64k`, `1.5G` or a plain byte count; suffixes are powers of 1024.
fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim_end_matches(['B', 'b', 'i']);
    let (number, unit) = match trimmed.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&trimmed[..i], c.to_ascii_uppercase()),
        _ => (trimmed, ' '),
    };
    let shift = match unit {
        ' ' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => return Err(format!("invalid size {text:?}: unknown unit {unit:?}")),
    };
    let value: f64 = number.parse().map_err(|e| format!("invalid size {text:?}: {e}"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("invalid size {text:?}"));
    }
    Ok((value * (1u64 << shift) as f64) as u64)
}
