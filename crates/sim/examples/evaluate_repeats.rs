//! Scores a repeat detector's BED and consensus library against a simulated truth.
//!
//! ```text
//! cargo run --release -p seqflow-sim --example evaluate_repeats -- \
//!     TRUTH.bed PREDICTED.bed TRUTH.families.fa PREDICTED.families.fa [--include-tandem]
//! ```
//!
//! Prints `metric<TAB>value` lines on stdout (see `seqflow_sim::Evaluation`); with
//! `--families` also one `family<TAB>planted<TAB>predicted<TAB>identity<TAB>coverage` line per
//! planted family.

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use seqflow_sim::{EvaluateOptions, evaluate};

fn main() -> ExitCode {
    let mut options = EvaluateOptions::default();
    let mut per_family = false;
    let mut paths = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--include-tandem" => options.include_tandem_and_low_complexity = true,
            "--families" => per_family = true,
            _ => paths.push(arg),
        }
    }
    if paths.len() != 4 {
        eprintln!(
            "usage: evaluate_repeats TRUTH.bed PREDICTED.bed TRUTH.families.fa \
             PREDICTED.families.fa [--include-tandem] [--families]"
        );
        return ExitCode::from(2);
    }
    let open = |path: &str| {
        File::open(path).map(BufReader::new).map_err(|e| format!("cannot open {path}: {e}"))
    };
    let result = (|| -> Result<_, String> {
        evaluate(open(&paths[0])?, open(&paths[1])?, open(&paths[2])?, open(&paths[3])?, &options)
            .map_err(|e| {
                let source = std::error::Error::source(&e).map(|s| format!(": {s}"));
                format!("{e}{}", source.unwrap_or_default())
            })
    })();
    match result {
        Ok(evaluation) => {
            print!("{evaluation}");
            if per_family {
                for f in &evaluation.families {
                    let (identity, coverage) =
                        f.best.map_or((0.0, 0.0), |m| (m.identity, m.planted_coverage));
                    println!(
                        "family\t{}\t{}\t{identity:.4}\t{coverage:.4}",
                        f.planted,
                        f.predicted.as_deref().unwrap_or("-")
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("evaluate_repeats: {message}");
            ExitCode::from(2)
        }
    }
}
