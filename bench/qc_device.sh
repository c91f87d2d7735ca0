#!/usr/bin/env bash
# `seqflow qc -t 2` on the CPU before and after the GPU cycle counter (issue #16), and with
# `--device gpu`, on the same FASTQ. Checks that the three write the same PREFIX.json and
# PREFIX.html, then alternates their runs (so that drift on a shared machine hits all alike)
# and prints medians; the GPU runs also write `--metrics`, whose device split (host packing
# and waiting, device copy and kernel) is printed as medians too. Wall and user+sys CPU time
# come from /usr/bin/time. Raw: bench/results/<UTC date>/qc_device.csv.
#
# Usage: bench/qc_device.sh BASE_SEQFLOW [RUNS] [INPUT]
#   BASE_SEQFLOW  a release `seqflow` built from the commit before `qc --device`
#   RUNS          runs of each (default 7)
#   INPUT         default bench/data/reads_1g.fq (made here: `simulate fastq --seed 42 --bytes
#                 1G`, the input of bench/stats_device.sh; lavapipe takes ~15 s per run of it)
# The GPU runs need a Vulkan driver (lavapipe: apt-get install mesa-vulkan-drivers).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${1:?usage: bench/qc_device.sh BASE_SEQFLOW [RUNS] [INPUT]}"
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
csv="$out/qc_device.csv"
metrics="$out/qc_device_metrics"
mkdir -p "$metrics"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "tool,run,wall_s,cpu_s" > "$csv"
cat "$file" > /dev/null
# The same reports from all three before any timing.
"$base" qc -q -t 2 --sample s -o "$work/before" "$file"
"$seqflow" qc -q -t 2 --sample s -o "$work/after" "$file"
"$seqflow" qc -q -t 2 --sample s --device gpu -o "$work/gpu" "$file"
for ext in json html; do
    cmp "$work/before.$ext" "$work/after.$ext"
    cmp "$work/after.$ext" "$work/gpu.$ext"
done
timed() { # tool command...  (wall and user+sys CPU seconds; CPU time does not depend on load)
    local tool=$1; shift
    local times
    times=$(/usr/bin/time -f "%e %U %S" "$@" 2>&1 > /dev/null | tail -n 1)
    echo "$tool,$run,$(echo "$times" | awk '{ print $1 "," $2 + $3 }')" >> "$csv"
}
for run in $(seq 1 "$runs"); do
    timed cpu-before "$base" qc -q -t 2 -f -o "$work/t" "$file"
    timed cpu-after "$seqflow" qc -q -t 2 -f -o "$work/t" "$file"
    timed gpu "$seqflow" qc -q -t 2 -f -o "$work/t" --device gpu --metrics "$metrics/run$run.json" "$file"
done
python3 - "$csv" "$file" "$metrics" <<'PY'
import csv, glob, json, os, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
size = os.path.getsize(sys.argv[2])
tools = ("cpu-before", "cpu-after", "gpu")
med = {t: statistics.median(float(r["wall_s"]) for r in rows if r["tool"] == t) for t in tools}
cpu = {t: statistics.median(float(r["cpu_s"]) for r in rows if r["tool"] == t) for t in tools}
for tool in tools:
    runs = sorted(float(r["cpu_s"]) for r in rows if r["tool"] == tool)
    print(f"{tool:<10} wall {med[tool]:7.3f} s {size / med[tool] / 1e9:6.3f} GB/s "
          f"{med[tool] / med['cpu-before']:6.2f}x; CPU {cpu[tool]:7.3f} s "
          f"{cpu[tool] / cpu['cpu-before']:6.2f}x (of cpu-before), CPU range {runs[0]:.2f}-{runs[-1]:.2f}")
devices = [json.load(open(p))["device"] for p in glob.glob(os.path.join(sys.argv[3], "*.json"))]
print(f"gpu split (median of {len(devices)} runs, seconds): " + ", ".join(
    f"{key} {statistics.median(d[key] for d in devices if d[key] is not None):.3f}"
    for key in ("pack_secs", "wait_secs", "copy_secs", "kernel_secs")))
print(f"device: {devices[0]['adapter']}, {devices[0]['chunks']} chunks, {devices[0]['bytes'] / 1e9:.3f} GB")
print(f"raw: {sys.argv[1]} ({len(rows) // 3} runs each, medians; GB = 1e9 bytes)")
PY
