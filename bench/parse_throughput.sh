#!/usr/bin/env bash
# Single-threaded FASTQ parse throughput of seqflow-seqio and peer crates on the 2 GB file.
# Usage: bench/parse_throughput.sh [--runs N] [--only a,b]   (extra flags go to the harness)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/bench/make_data.sh"
fastq="$root/bench/data/reads_2g.fq"

# Built from its own directory so bench/parsers/.cargo/config.toml (target-cpu=native) applies.
(cd "$root/bench/parsers" && cargo build --release)
cat "$fastq" > /dev/null   # warm the page cache: this measures parsing, not the disk
"$root/bench/parsers/target/release/seqflow-bench-parsers" "$@" "$fastq"
