#!/usr/bin/env bash
# Writes the seeded benchmark inputs into bench/data/ (git-ignored) unless they already exist.
# Usage: bench/make_data.sh            (from anywhere inside the repository)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/bench/data"
mkdir -p "$data"

fastq="$data/reads_2g.fq"
if [[ -s "$fastq" ]]; then
    echo "make_data: $fastq exists, keeping it" >&2
else
    (cd "$root" && cargo build --release -p seqflow-sim --example simulate_fastq)
    # Write to a temporary name first so an interrupted run never leaves a truncated file behind.
    "$root/target/release/examples/simulate_fastq" --seed 42 --bytes 2G --out "$fastq.tmp"
    mv "$fastq.tmp" "$fastq"
fi
