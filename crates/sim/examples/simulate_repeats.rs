//! Writes a genome with planted repeat families, its truth BED and the consensus library.
//!
//! ```text
//! cargo run --release -p seqflow-sim --example simulate_repeats -- \
//!     --seed 1 --length 20000000 --out-prefix bench/data/repeats20m
//! ```
//!
//! Flags: `--seed N` (default 1), `--length N` (default 20,000,000), `--families N` (default 50),
//! `--max-divergence F` (default 0.15, at most 0.35), `--min-divergence F` (default 0; equal to
//! the max plants every copy at that divergence), `--contigs N` (default 1),
//! `--copy-skew F` (default 1.0, log-uniform), `--full-length-copies N` (default 3, copies
//! planted whole), `--fragmented` (random contig cuts), `--lowercase F` (fraction of background
//! lowercased),
//! `--out-prefix PREFIX` (required). Writes `PREFIX.fa`, `PREFIX.truth.bed` and
//! `PREFIX.families.fa`; a summary goes to stderr.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;
use std::time::Instant;

use seqflow_sim::RepeatGenomeConfig;

fn main() -> ExitCode {
    let (config, prefix) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("simulate_repeats: {message}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let result = (|| -> Result<_, seqflow_sim::Error> {
        let open = |suffix: &str| File::create(format!("{prefix}{suffix}")).map(BufWriter::new);
        seqflow_sim::write_repeat_genome(
            &config,
            open(".fa")?,
            open(".truth.bed")?,
            open(".families.fa")?,
        )
    })();
    match result {
        Ok(truth) => {
            eprintln!(
                "simulate_repeats: {} bp in {} contigs, {} families, {} elements, \
                 interspersed {:.4}, tandem {} bp, low-complexity {} bp, {:.2} s",
                truth.length,
                truth.contigs.len(),
                truth.families.len(),
                truth.elements.len(),
                truth.interspersed_fraction(),
                truth.tandem_bases,
                truth.low_complexity_bases,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            let message = common::error_chain(&e);
            eprintln!("simulate_repeats: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> Result<(RepeatGenomeConfig, String), String> {
    let mut config = RepeatGenomeConfig::new(1);
    let mut prefix = None;
    while let Some(flag) = args.next() {
        if flag == "--fragmented" {
            config.fragmented = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: cannot parse `{value}`");
        match flag.as_str() {
            "--seed" => config.seed = value.parse().map_err(|_| bad())?,
            "--length" => config.length = value.parse().map_err(|_| bad())?,
            "--families" => config.families = value.parse().map_err(|_| bad())?,
            "--max-divergence" => config.max_divergence = value.parse().map_err(|_| bad())?,
            "--min-divergence" => config.min_divergence = value.parse().map_err(|_| bad())?,
            "--copy-skew" => config.copy_number_skew = value.parse().map_err(|_| bad())?,
            "--full-length-copies" => {
                config.full_length_copies = value.parse().map_err(|_| bad())?;
            }
            "--contigs" => config.contigs = value.parse().map_err(|_| bad())?,
            "--lowercase" => config.lowercase_fraction = value.parse().map_err(|_| bad())?,
            "--out-prefix" => prefix = Some(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let prefix = prefix.ok_or("--out-prefix is required")?;
    Ok((config, prefix))
}
