#!/usr/bin/env bash
# Reading an AGC collection: seqflow collection vs C++ agc 3.2.2 on the same archive, in one
# run. Checks that outputs agree, then reports medians (wall time including process start).
#
#   bench/collection_read.sh [ARCHIVE] [RUNS]
#
# ARCHIVE defaults to the 20 × 30 Mb A. thaliana haplotype collection made by the pangenome
# simulator (/work/benchdata/athal20/athal20.agc, or $ATHAL20); RUNS (default 21) is the
# number of timed runs per command for the short queries (5 for whole samples and getcol).
# Then PAIRS (default 15) alternating pairs of `getcol -t 1` / `getcol -t 2` into a fresh
# directory each, and the median of the per-pair ratios t1/t2: robust to the VM's drifting
# speed, which moves both runs of a pair alike.
# Needs ../shared/tools/agc/agc (or $AGC) and a release build of seqflow (built here).
set -euo pipefail
cd "$(dirname "$0")/.."

ARCHIVE=${1:-${ATHAL20:-/work/benchdata/athal20/athal20.agc}}
RUNS=${2:-21}
AGC=${AGC:-}
if [ -z "$AGC" ]; then
  for dir in .. ../.. ../../..; do
    if [ -x "$dir/shared/tools/agc/agc" ]; then AGC="$dir/shared/tools/agc/agc"; break; fi
  done
fi
[ -x "$AGC" ] || { echo "agc not found (set AGC=...)" >&2; exit 1; }
[ -f "$ARCHIVE" ] || { echo "archive $ARCHIVE not found" >&2; exit 1; }

cargo build --release -q -p seqflow-cli
SEQFLOW=target/release/seqflow
WORK=$(mktemp -d -p "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )")
trap 'rm -rf "$WORK"' EXIT

# The median of numbers (one per argument).
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Median wall time in milliseconds of RUNS runs of a command (output to /dev/null).
median_ms() {
  local runs=$1; shift
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  median "${times[@]}" | awk '{printf "%.1f", $1 / 1000}'
}

SAMPLE=$("$SEQFLOW" collection listset "$ARCHIVE" | sed -n 2p)
CONTIG=$("$SEQFLOW" collection listctg "$ARCHIVE" "$SAMPLE" | sed -n '2{s/^ *//; s/ .*//; p}')
LENGTH=$("$SEQFLOW" collection getctg "$ARCHIVE" "$CONTIG@$SAMPLE" -l 0 | sed -n 2p | tr -d '\n' | wc -c)
FROM=$(( LENGTH / 2 ))
TO=$(( FROM + 9999 ))
QUERY="$CONTIG@$SAMPLE:$FROM-$TO"
echo "archive $ARCHIVE ($(stat -c %s "$ARCHIVE") bytes), sample $SAMPLE, contig $CONTIG ($LENGTH bases)"
echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"

# Outputs must agree before anything is timed.
cmp <("$SEQFLOW" collection getctg "$ARCHIVE" "$QUERY") <("$AGC" getctg "$ARCHIVE" "$QUERY") \
  || { echo "getctg outputs differ" >&2; exit 1; }
cmp <("$SEQFLOW" collection getset "$ARCHIVE" "$SAMPLE") <("$AGC" getset -s "$ARCHIVE" "$SAMPLE") \
  || { echo "getset outputs differ" >&2; exit 1; }
echo "outputs agree"

echo
echo "| command | median ms |"
echo "|---|---|"
row() { local label=$1 runs=$2; shift 2; echo "| \`$label\` | $(median_ms "$runs" "$@") |"; }
row "seqflow collection getctg $QUERY" "$RUNS" "$SEQFLOW" collection getctg "$ARCHIVE" "$QUERY"
row "agc getctg -p $QUERY" "$RUNS" "$AGC" getctg -p "$ARCHIVE" "$QUERY"
row "agc getctg $QUERY" "$RUNS" "$AGC" getctg "$ARCHIVE" "$QUERY"
row "seqflow collection getset $SAMPLE (2 threads)" 5 "$SEQFLOW" collection getset "$ARCHIVE" "$SAMPLE" -t 2
row "seqflow collection getset $SAMPLE -t 1" 5 "$SEQFLOW" collection getset "$ARCHIVE" "$SAMPLE" -t 1
row "agc getset -s $SAMPLE" 5 "$AGC" getset -s "$ARCHIVE" "$SAMPLE"
row "agc getset $SAMPLE" 5 "$AGC" getset "$ARCHIVE" "$SAMPLE"

mkdir -p "$WORK/t1" "$WORK/t2" "$WORK/agc"
row "seqflow collection getcol -t 1" 3 "$SEQFLOW" collection getcol "$ARCHIVE" -o "$WORK/t1" -t 1 --force
row "seqflow collection getcol -t 2" 3 "$SEQFLOW" collection getcol "$ARCHIVE" -o "$WORK/t2" -t 2 --force
row "agc getcol -t 2" 3 "$AGC" getcol -t 2 -o "$WORK/agc" "$ARCHIVE"
diff -r "$WORK/t1" "$WORK/t2" >/dev/null && diff -r "$WORK/t1" "$WORK/agc" >/dev/null \
  && echo "getcol: 1 thread, 2 threads and agc wrote identical files"

# Thread scaling of getcol: alternating pairs, each into a fresh directory (removed after).
PAIRS=${PAIRS:-15}
wall_ms() {
  local dir start end
  dir=$(mktemp -d -p "$WORK")
  start=$(date +%s%N)
  "$SEQFLOW" collection getcol "$ARCHIVE" -o "$dir" -t "$1" >/dev/null 2>&1
  end=$(date +%s%N)
  rm -rf "$dir"
  echo $(( (end - start) / 1000000 ))
}
ratios=() t1s=() t2s=()
for _ in $(seq "$PAIRS"); do
  t1=$(wall_ms 1); t2=$(wall_ms 2)
  t1s+=("$t1"); t2s+=("$t2")
  ratios+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.3f", a / b}')")
done
echo
echo "getcol scaling, $PAIRS alternating pairs (load after: $(cut -d' ' -f1-3 /proc/loadavg)):"
echo "  median 1 thread $(median "${t1s[@]}") ms, 2 threads $(median "${t2s[@]}") ms," \
  "median per-pair ratio $(median "${ratios[@]}")x" \
  "(pairs from $(printf '%s\n' "${ratios[@]}" | sort -g | sed -n '1p;$p' | paste -sd' ' | sed 's/ /x to /')x)"
