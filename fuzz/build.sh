#!/bin/sh
# Builds the fuzz targets with stable Rust and no cargo-fuzz (what CI has), then replays the
# seed inputs and saved regressions through them.
#
#   fuzz/build.sh            # from anywhere
#
# 1. `--features libfuzzer` (the default): the binaries cargo-fuzz would build, linked against
#    libFuzzer (libfuzzer-sys compiles it with the system C++ compiler). Not instrumented for
#    coverage here; this checks that the targets compile and link.
# 2. `--no-default-features`: plain binaries that run each file given on the command line
#    once. They replay seeds/ and regressions/, so a fixed crash stays fixed.
set -eu
cd "$(dirname "$0")"
targets="fastx_reader compressed_reader container_index crypt4gh_reader genome_builder agc_reader"

cargo build --release --bins --locked
cargo build --release --bins --locked --no-default-features --target-dir target/plain

for target in $targets; do
    set -- "seeds/$target"
    if [ -d "regressions/$target" ]; then
        set -- "$@" "regressions/$target"
    fi
    echo "replaying $* through $target"
    "target/plain/release/$target" "$@"
done
