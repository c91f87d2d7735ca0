#!/usr/bin/env bash
# Whole-program comparison: `seqflow stats -a` against `seqkit stats -a` on the same inputs, in
# one run. Checks the outputs agree (all columns seqkit 2.3.0 prints except its defective Q1/Q3),
# then times each tool N times (wall, CPU %, peak RSS via /usr/bin/time -v) and prints medians
# and ratios. Raw measurements go to bench/results/<UTC date>/stats.csv.
#
# Usage: bench/stats.sh [RUNS] [INPUT...]
#   default inputs: bench/data/reads_2g.fq (made by bench/make_data.sh), plus its gzip and
#   BGZF versions when bench/data/reads_2g.fq.gz / .bgz exist (make them with
#   `gzip -k` / `bgzip -k -@2` -- slow, so not automatic).
#
#   bench/stats.sh --reader [RUNS] FILE
#   the reader's own figure: `cat FILE > /dev/null` against `seqflow stats -t 2` (default
#   columns: lengths only, the parse in the workers) and `seqflow stats -a -t 2` with the file
#   mapped (default) and read with read(2) (`--no-mmap`), the file in page cache, alternating
#   runs, medians and ratios to cat (and the median of the per-round ratios). Raw:
#   bench/results/<UTC date>/reader-<UTC time>.csv.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = "--reader" ]; then
    shift
    runs="${1:-7}"
    file="${2:?usage: bench/stats.sh --reader RUNS FILE}"
    (cd "$root" && cargo build --release -p seqflow-cli >/dev/null)
    seqflow="$root/target/release/seqflow"
    out="$root/bench/results/$(date -u +%Y-%m-%d)"
    mkdir -p "$out"
    csv="$out/reader-$(date -u +%Y%m%dT%H%MZ).csv"
    echo "tool,run,wall_s" > "$csv"
    cat "$file" > /dev/null
    # Same answer both ways before any timing.
    cmp <("$seqflow" stats -a -T -q -t 2 "$file") <("$seqflow" stats -a -T -q -t 2 --no-mmap "$file")
    timed() { # tool command...
        local tool=$1; shift
        local t0 t1
        t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
        echo "$tool,$run,$(echo "$t1 - $t0" | bc)" >> "$csv"
    }
    for run in $(seq 1 "$runs"); do
        timed cat cat "$file"
        timed stats "$seqflow" stats -q -t 2 "$file"
        timed stats-a-mmap "$seqflow" stats -a -q -t 2 "$file"
        timed stats-a-read "$seqflow" stats -a -q -t 2 --no-mmap "$file"
    done
    python3 - "$csv" "$file" <<'PY'
import csv, os, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
size = os.path.getsize(sys.argv[2])
med = {t: statistics.median(float(r["wall_s"]) for r in rows if r["tool"] == t)
       for t in ("cat", "stats", "stats-a-mmap", "stats-a-read")}
# Per round: the tools ran back to back, so the ratio within a round is the least noisy figure.
runs = {}
for r in rows:
    runs.setdefault(r["run"], {})[r["tool"]] = float(r["wall_s"])
for tool, wall in med.items():
    pairs = statistics.median(t["cat"] / t[tool] * 100 for t in runs.values())
    print(f"{tool:<12} {wall:7.3f} s {size / wall / 1e9:6.2f} GB/s  {med['cat'] / wall * 100:5.1f}% of cat"
          f"  (per-round median {pairs:5.1f}%)")
print(f"raw: {sys.argv[1]} ({len(rows) // 4} runs each, medians; GB = 1e9 bytes)")
PY
    exit 0
fi
runs="${1:-5}"
shift || true
inputs=("$@")
if [ ${#inputs[@]} -eq 0 ]; then
    "$root/bench/make_data.sh"
    inputs=("$root/bench/data/reads_2g.fq")
    for extra in reads_2g.fq.gz reads_2g.fq.bgz; do
        [ -s "$root/bench/data/$extra" ] && inputs+=("$root/bench/data/$extra")
    done
fi
(cd "$root" && cargo build --release -p seqflow-cli >/dev/null)
seqflow="$root/target/release/seqflow"
command -v seqkit >/dev/null || { echo "bench/stats.sh: seqkit not found (apt-get install seqkit)" >&2; exit 1; }
threads=$(nproc)
out="$root/bench/results/$(date -u +%Y-%m-%d)"
mkdir -p "$out"
csv="$out/stats.csv"
echo "tool,input,run,wall_s,cpu_percent,max_rss_kb" > "$csv"

measure() { # tool input run command...
    local tool=$1 input=$2 run=$3; shift 3
    local log; log=$(mktemp)
    /usr/bin/time -v "$@" > /dev/null 2> "$log"
    local wall cpu rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
    cpu=$(awk -F': ' '/Percent of CPU/ {gsub("%","",$2); print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$tool,$(basename "$input"),$run,$wall,$cpu,$rss" >> "$csv"
    rm -f "$log"
}

for input in "${inputs[@]}"; do
    cat "$input" > /dev/null  # page cache: measure the tools, not the disk
    # Agreement first: a fast wrong answer is not a result.
    python3 - "$seqflow" "$input" "$threads" <<'PY'
import subprocess, sys
seqflow, path, threads = sys.argv[1:]
def table(cmd):
    lines = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
    return dict(zip(lines[0].split("\t"), lines[1].split("\t")))
ours = table([seqflow, "stats", "-a", "-T", "-q", "-t", threads, path])
theirs = table(["seqkit", "stats", "-a", "-T", "-j", threads, path])
bad = [c for c in theirs if c not in ("Q1", "Q3") and ours.get(c) != theirs[c]]
if bad:
    sys.exit(f"outputs differ on {path}: " + ", ".join(f"{c}: {ours.get(c)} vs {theirs[c]}" for c in bad))
print(f"agree: {path} ({len(theirs) - 2} columns)", file=sys.stderr)
PY
    for run in $(seq 1 "$runs"); do  # interleaved, so drifting load hits both tools alike
        measure seqflow "$input" "$run" "$seqflow" stats -a -q -t "$threads" "$input"
        measure seqkit "$input" "$run" seqkit stats -a -j "$threads" "$input"
    done
done

python3 - "$csv" "${inputs[@]}" <<'PY'
import csv, os, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sizes = {os.path.basename(p): os.path.getsize(p) for p in sys.argv[2:]}
print(f"{'input':<22} {'tool':<8} {'wall s':>8} {'GB/s':>7} {'CPU %':>6} {'RSS MB':>7} {'speed-up':>9}")
for name, size in sizes.items():
    med = {}
    for tool in ("seqflow", "seqkit"):
        rs = [r for r in rows if r["input"] == name and r["tool"] == tool]
        med[tool] = {k: statistics.median(float(r[k]) for r in rs)
                     for k in ("wall_s", "cpu_percent", "max_rss_kb")}
    for tool in ("seqflow", "seqkit"):
        m = med[tool]
        ratio = med["seqkit"]["wall_s"] / m["wall_s"]
        print(f"{name:<22} {tool:<8} {m['wall_s']:8.3f} {size / m['wall_s'] / 1e9:7.2f} "
              f"{m['cpu_percent']:6.0f} {m['max_rss_kb'] / 1024:7.1f} {ratio:8.2f}x")
print(f"raw: {sys.argv[1]} (GB = 1e9 bytes of input file; speed-up = seqkit wall / tool wall)")
PY
