#!/usr/bin/env bash
# `seqflow stats -a -t 2` on the CPU before and after the GPU consumer (issue #16), and with
# `--device gpu`, on the same ~1 GB FASTQ. Checks that the three print the same table, then
# alternates their runs (so that drift on a shared machine hits all alike) and prints medians;
# the GPU runs also write `--metrics`, whose device split (host packing and waiting, device copy
# and kernel) is printed as medians too. Wall and user+sys CPU time come from /usr/bin/time. Raw: bench/results/<UTC date>/stats_device.csv.
#
# Usage: bench/stats_device.sh BASE_SEQFLOW [RUNS] [INPUT]
#   BASE_SEQFLOW  a release `seqflow` built from the commit before the GPU consumer
#   RUNS          runs of each (default 7)
#   INPUT         default bench/data/reads_1g.fq (made here: `simulate fastq --seed 42 --bytes 1G`)
# The GPU runs need a Vulkan driver (lavapipe: apt-get install mesa-vulkan-drivers).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${1:?usage: bench/stats_device.sh BASE_SEQFLOW [RUNS] [INPUT]}"
runs="${2:-7}"
file="${3:-$root/bench/data/reads_1g.fq}"
(cd "$root" && cargo build --release -p seqflow-cli >/dev/null)
seqflow="$root/target/release/seqflow"
if [[ ! -s "$file" ]]; then
    mkdir -p "$(dirname "$file")"
    "$seqflow" simulate fastq --seed 42 --bytes 1G -o "$file.tmp"
    mv "$file.tmp" "$file"
fi
out="$root/bench/results/$(date -u +%Y-%m-%d)"
mkdir -p "$out"
csv="$out/stats_device.csv"
metrics="$out/stats_device_metrics"
mkdir -p "$metrics"
echo "tool,run,wall_s,cpu_s" > "$csv"
cat "$file" > /dev/null
# The same table from all three before any timing.
cmp <("$base" stats -a -T -q -t 2 "$file") <("$seqflow" stats -a -T -q -t 2 "$file")
cmp <("$seqflow" stats -a -T -q -t 2 "$file") <("$seqflow" stats -a -T -q -t 2 --device gpu "$file")
timed() { # tool command...  (wall and user+sys CPU seconds; CPU time does not depend on load)
    local tool=$1; shift
    local times
    times=$(/usr/bin/time -f "%e %U %S" "$@" 2>&1 > /dev/null | tail -n 1)
    echo "$tool,$run,$(echo "$times" | awk '{ print $1 "," $2 + $3 }')" >> "$csv"
}
for run in $(seq 1 "$runs"); do
    timed cpu-before "$base" stats -a -q -t 2 "$file"
    timed cpu-after "$seqflow" stats -a -q -t 2 "$file"
    timed gpu "$seqflow" stats -a -q -t 2 --device gpu -f --metrics "$metrics/run$run.json" "$file"
done
python3 - "$csv" "$file" "$metrics" <<'PY'
import csv, glob, json, os, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
size = os.path.getsize(sys.argv[2])
tools = ("cpu-before", "cpu-after", "gpu")
med = {t: statistics.median(float(r["wall_s"]) for r in rows if r["tool"] == t) for t in tools}
cpu = {t: statistics.median(float(r["cpu_s"]) for r in rows if r["tool"] == t) for t in tools}
for tool, wall in med.items():
    ratio = wall / med["cpu-before"]
    print(f"{tool:<10} wall {wall:7.3f} s {size / wall / 1e9:6.2f} GB/s {ratio:6.2f}x; "
          f"CPU {cpu[tool]:7.3f} s {cpu[tool] / cpu['cpu-before']:6.2f}x (of cpu-before)")
devices = [json.load(open(p))[0]["device"] for p in glob.glob(os.path.join(sys.argv[3], "*.json"))]
print(f"gpu split (median of {len(devices)} runs, seconds): " + ", ".join(
    f"{key} {statistics.median(d[key] for d in devices if d[key] is not None):.3f}"
    for key in ("pack_secs", "wait_secs", "copy_secs", "kernel_secs")))
print(f"device: {devices[0]['adapter']}, {devices[0]['chunks']} chunks, {devices[0]['bytes'] / 1e9:.3f} GB")
print(f"raw: {sys.argv[1]} ({len(rows) // 3} runs each, medians; GB = 1e9 bytes)")
PY
