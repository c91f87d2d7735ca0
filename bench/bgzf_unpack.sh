#!/usr/bin/env bash
# `seqflow unpack -t 2` of a BGZF file against stock `bgzip -d -@2` and `bgzip -d -@1`
# (issue #13: BGZF unpack ≥ `bgzip -d -@2`), in alternating rounds. All three decode the same
# file from the page cache to /dev/null; each round runs the three commands in a rotated
# order, so that no command always follows the same one.
#
#   bench/bgzf_unpack.sh [FILE.gz] [ROUNDS] [SEQFLOW]
#
# FILE.gz defaults to a ~1 GB FASTQ from the seeded simulator, packed as BGZF at the default
# level by seqflow (both made here, in /dev/shm). ROUNDS (default 7). SEQFLOW defaults to the
# release build (built here). Every run's wall and CPU seconds (user + sys, of the process and
# its threads) and the 1-minute load average just before it go to
# bench/results/<UTC date>/bgzf_unpack-<time>.csv; the summary gives each command's median
# wall and CPU time, and the median per-round ratio of bgzip -@2's wall time to seqflow's.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${2:-7}
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
  "$SEQFLOW" pack "$WORK/reads.fq" -o "$WORK/reads.fq.gz" --container bgzf -t 2
  rm "$WORK/reads.fq" "$WORK/reads.fq.gz.gzi"
  FILE=$WORK/reads.fq.gz
fi
# All must give the same bytes; this also brings the file into the page cache.
cmp <(bgzip -d -c -@2 "$FILE") <("$SEQFLOW" unpack "$FILE" -c -t 2)

OUT=bench/results/$(date -u +%F)
mkdir -p "$OUT"
CSV=$OUT/bgzf_unpack-$(date -u +%Y%m%dT%H%MZ).csv
echo "round,command,wall_s,cpu_s,load1" > "$CSV"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# "wall cpu" seconds of one run, output to /dev/null (bash's `time` covers the child's threads).
measure() {
  local TIMEFORMAT='%R %U %S' t
  t=$( { time "$@" > /dev/null; } 2>&1 )
  awk '{printf "%s %.3f\n", $1, $2 + $3}' <<< "$t"
}

declare -A cmds=(
  [seqflow_t2]="$SEQFLOW unpack $FILE -c -t 2"
  [bgzip_at2]="bgzip -d -c -@2 $FILE"
  [bgzip_at1]="bgzip -d -c -@1 $FILE"
)
names=(seqflow_t2 bgzip_at2 bgzip_at1)
declare -A walls cpus
ratios=()
for round in $(seq "$ROUNDS"); do
  shift_by=$(( (round - 1) % 3 ))
  order=("${names[@]:shift_by}" "${names[@]:0:shift_by}")
  declare -A wall_of=()
  for name in "${order[@]}"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    read -r wall cpu < <(measure ${cmds[$name]})
    echo "$round,$name,$wall,$cpu,$load" >> "$CSV"
    walls[$name]+="$wall " cpus[$name]+="$cpu "
    wall_of[$name]=$wall
    printf 'round %d: %-10s wall %6.3f s  cpu %6.3f s  load %s\n' "$round" "$name" "$wall" "$cpu" "$load"
  done
  ratios+=("$(echo "${wall_of[bgzip_at2]} / ${wall_of[seqflow_t2]}" | bc -l)")
done
for name in "${names[@]}"; do
  # shellcheck disable=SC2086
  printf 'median %-10s wall %.3f s  cpu %.3f s\n' "$name" \
    "$(median ${walls[$name]})" "$(median ${cpus[$name]})"
done
printf 'median per-round ratio bgzip -d -@2 / seqflow unpack -t 2 (wall): %.2f\n' \
  "$(median "${ratios[@]}")"
echo "raw: $CSV"
