#!/usr/bin/env bash
# Verified `seqflow unpack -t 2` against stock single-threaded `zstd -d`, in alternating pairs
# (issue #13's acceptance figure: ≥ 1.8×). Both decode the same seqflow file from the page
# cache to /dev/null; seqflow checks every frame's BLAKE3 digest (the default).
#
#   bench/unpack_pairs.sh [FILE.zst] [PAIRS] [SEQFLOW]
#
# FILE.zst defaults to a ~1 GB FASTQ from the seeded simulator, packed at level 3 with the
# default 1 MiB chunks (both made here, in /dev/shm). PAIRS (default 7) alternating runs;
# reports each command's median wall time, the ratio of the medians and the median of the
# per-pair ratios (robust to a shared machine's drifting speed). SEQFLOW defaults to the
# release build (built here). Extra seqflow flags can be given in UNPACK_FLAGS (e.g.
# `--skip-digest`).
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${2:-7}
SEQFLOW=${3:-}
if [ -z "$SEQFLOW" ]; then
  cargo build --release -q -p seqflow-cli
  SEQFLOW=target/release/seqflow
fi
WORK=$(mktemp -d -p "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )")
trap 'rm -rf "$WORK"' EXIT
FILE=${1:-}
if [ -z "$FILE" ]; then
  "$SEQFLOW" simulate fastq --seed 42 --bytes 1G -o "$WORK/reads.fq"
  "$SEQFLOW" pack "$WORK/reads.fq" -o "$WORK/reads.fq.zst" -t 2
  rm "$WORK/reads.fq"
  FILE=$WORK/reads.fq.zst
fi
# Both must give the same bytes; this also brings the file into the page cache.
cmp <(zstd -d -c -q "$FILE") <("$SEQFLOW" unpack "$FILE" -c -t 2 ${UNPACK_FLAGS:-})

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Wall seconds of one run, output to /dev/null.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

zstd_times=() seqflow_times=() ratios=()
for i in $(seq "$PAIRS"); do
  z=$(seconds zstd -d -c -q "$FILE")
  s=$(seconds "$SEQFLOW" unpack "$FILE" -c -t 2 ${UNPACK_FLAGS:-})
  zstd_times+=("$z") seqflow_times+=("$s") ratios+=("$(echo "$z / $s" | bc -l)")
  printf 'pair %d: zstd -d %.3f s, seqflow unpack -t 2 %.3f s, ratio %.2f\n' \
    "$i" "$z" "$s" "${ratios[-1]}"
done
zm=$(median "${zstd_times[@]}") sm=$(median "${seqflow_times[@]}")
printf 'medians: zstd -d %.3f s, seqflow unpack -t 2 %s%.3f s; ratio of medians %.2f, median ratio %.2f\n' \
  "$zm" "${UNPACK_FLAGS:+($UNPACK_FLAGS) }" "$sm" "$(echo "$zm / $sm" | bc -l)" "$(median "${ratios[@]}")"
