#!/usr/bin/env bash
# Whole-program comparison: `seqflow qc -t 2` against `fastp -w 2` in QC-only use (no trimming
# or filtering: -A -G -Q -L; reports to /dev/null, no read output), on the same FASTQ in page
# cache, in one run. Checks that the numbers agree (reads, bases, Q20/Q30 bases, GC) before
# timing, then alternates the tools RUNS times (wall, user+sys CPU, peak RSS via
# /usr/bin/time -v) and prints medians and the ratio. It also runs seqflow on a quarter of the
# input to show that peak RSS does not grow with the input. Raw measurements go to
# bench/results/<UTC date>/qc-<UTC time>.csv.
#
# Usage: bench/qc.sh [RUNS] [INPUT]
#   default input: bench/data/qc_2g.fq, made here with `seqflow simulate fastq --seed 42
#   --bytes 2G` (150-base reads) unless it exists.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-3}"
input="${2:-$root/bench/data/qc_2g.fq}"
(cd "$root" && cargo build --release -p seqflow-cli >/dev/null)
seqflow="$root/target/release/seqflow"
command -v fastp >/dev/null || { echo "bench/qc.sh: fastp not found (apt-get install fastp)" >&2; exit 1; }
if [ ! -s "$input" ]; then
    mkdir -p "$(dirname "$input")"
    "$seqflow" simulate fastq --seed 42 --bytes 2G -o "$input.tmp"
    mv "$input.tmp" "$input"
fi
out="$root/bench/results/$(date -u +%Y-%m-%d)"
mkdir -p "$out"
csv="$out/qc-$(date -u +%Y%m%dT%H%MZ).csv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "tool,input,run,wall_s,cpu_s,max_rss_kb" > "$csv"

measure() { # tool input run command...
    local tool=$1 name=$2 run=$3; shift 3
    local log="$work/time.log"
    /usr/bin/time -v "$@" > /dev/null 2> "$log"
    local wall cpu rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
    cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$tool,$name,$run,$wall,$cpu,$rss" >> "$csv"
}

cat "$input" > /dev/null  # page cache: measure the tools, not the disk
quarter="$work/quarter.fq"
head -n $(( $(wc -l < "$input") / 16 * 4 )) "$input" > "$quarter"

# Agreement first: a fast wrong answer is not a result.
"$seqflow" qc "$input" -o "$work/ours" -t 2 -q
fastp -i "$input" -A -G -Q -L -w 2 -j "$work/fastp.json" -h /dev/null 2> /dev/null
python3 - "$work/ours.json" "$work/fastp.json" <<'PY'
import json, sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:])
a, b = ours["summary"]["before_filtering"], theirs["summary"]["before_filtering"]
bad = [k for k in ("total_reads", "total_bases", "q20_bases", "q30_bases") if a[k] != b[k]]
bad += [k for k in ("gc_content",) if abs(a[k] - b[k]) > 1e-6]
d = abs(ours["duplication"]["rate"] - theirs["duplication"]["rate"])
if bad or d > 0.003:
    sys.exit(f"reports differ: {bad}, duplication {ours['duplication']['rate']} vs {theirs['duplication']['rate']}")
print(f"agree: {a['total_reads']} reads, {a['total_bases']} bases; duplication "
      f"{ours['duplication']['rate']:.6f} vs fastp {theirs['duplication']['rate']:.6f}", file=sys.stderr)
PY

name=$(basename "$input")
for run in $(seq 1 "$runs"); do  # interleaved, so drifting load hits both tools alike
    measure seqflow "$name" "$run" "$seqflow" qc "$input" -o "$work/s" -t 2 -f -q
    measure fastp "$name" "$run" fastp -i "$input" -A -G -Q -L -w 2 -j /dev/null -h /dev/null
    measure seqflow "quarter" "$run" "$seqflow" qc "$quarter" -o "$work/s" -t 2 -f -q
done

python3 - "$csv" "$input" "$quarter" <<'PY'
import csv, os, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
size, quarter = os.path.getsize(sys.argv[2]), os.path.getsize(sys.argv[3])
name = os.path.basename(sys.argv[2])
def med(tool, inp):
    rs = [r for r in rows if r["tool"] == tool and r["input"] == inp]
    return {k: statistics.median(float(r[k]) for r in rs) for k in ("wall_s", "cpu_s", "max_rss_kb")}
s, f, q = med("seqflow", name), med("fastp", name), med("seqflow", "quarter")
print(f"{'tool':<22} {'wall s':>8} {'MB/s':>8} {'CPU s':>8} {'RSS MB':>8}")
for label, m, n in ((f"seqflow qc -t 2", s, size), ("fastp -w 2", f, size), ("seqflow, 1/4 input", q, quarter)):
    print(f"{label:<22} {m['wall_s']:8.2f} {n / m['wall_s'] / 1e6:8.0f} {m['cpu_s']:8.2f} {m['max_rss_kb'] / 1024:8.1f}")
print(f"speed-up (fastp wall / seqflow wall): {f['wall_s'] / s['wall_s']:.1f}x; "
      f"CPU ratio: {f['cpu_s'] / s['cpu_s']:.1f}x; input {size / 1e9:.2f} GB, {len(rows) // 3} runs each")
print(f"raw: {sys.argv[1]}")
PY
