#!/usr/bin/env bash
# Data kinds × compressors (issue #13): size, wall time and peak RSS of `seqflow pack --level 3
# -t 2` against `zstd -3 -T2` and `zstd -3 -T2 --long` on simulated inputs of about SIZE each:
# random reads with full-range qualities, NovaSeq-binned qualities, an amplicon panel (5,000
# targets, 0.3% errors, binned), qualities recurring every 1,000 reads (~330 KB), a FASTA
# assembly and an unaligned BAM (`samtools import` of the first FASTQ). Every seqflow output is
# checked with `zstd -d` first. Medians of RUNS runs (the tools alternate within a run); then
# 1 KB `cat --range`s of each packed file (hyperfine, median of 30). Raw CSV in
# bench/results/<date>/.
#
# Usage: bench/pack_kinds.sh [SIZE] [RUNS]     (defaults 340M and 3; SIZE as seqflow takes it)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="${1:-340M}"
runs="${2:-3}"
(cd "$root" && cargo build --release -p seqflow-cli >/dev/null)
seqflow="$root/target/release/seqflow"
for tool in zstd samtools hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "bench/pack_kinds.sh: $tool not found" >&2; exit 1; }
done
work="$root/bench/data/kinds-$size"
mkdir -p "$work"
out="$root/bench/results/$(date -u +%Y-%m-%d)"
mkdir -p "$out"
csv="$out/pack_kinds-$size.csv"
echo "kind,tool,run,wall_s,max_rss_kb,output_bytes,input_bytes" > "$csv"

sim() { [ -s "$work/$1" ] || "$seqflow" simulate "${@:2}" -o "$work/$1"; }
sim random.fq fastq --bytes "$size" --seed 1
sim binned.fq fastq --bytes "$size" --seed 1 --binned-qualities
sim amplicon.fq fastq --bytes "$size" --seed 1 --binned-qualities --amplicons 5000 --error-rate 0.003
sim recurring.fq fastq --bytes "$size" --seed 1 --quality-period 1000
bytes=$(stat -c %s "$work/random.fq")
[ -s "$work/assembly.fa" ] || "$seqflow" simulate fasta --seed 1 --records 8 \
    --min-length $((bytes / 8)) --max-length $((bytes / 8)) -o "$work/assembly.fa"
[ -s "$work/reads.bam" ] || samtools import -0 "$work/random.fq" -o "$work/reads.bam"
kinds="random.fq binned.fq amplicon.fq recurring.fq assembly.fa reads.bam"

measure() { # kind tool run command...
    local kind=$1 tool=$2 run=$3; shift 3
    local log; log=$(mktemp)
    /usr/bin/time -v "$@" < "$work/$kind" 2> "$log" > "$work/out"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$kind,$tool,$run,$wall,$rss,$(stat -c %s "$work/out"),$(stat -c %s "$work/$kind")" >> "$csv"
    rm -f "$log"
}

for kind in $kinds; do
    "$seqflow" pack - -c -t 2 --level 3 < "$work/$kind" | zstd -d -q -c | cmp - "$work/$kind"
done
echo "round trips OK" >&2
for run in $(seq 1 "$runs"); do
    for kind in $kinds; do
        cat "$work/$kind" > /dev/null
        measure "$kind" "seqflow pack -3 -t2" "$run" "$seqflow" pack - -c -t 2 --level 3
        measure "$kind" "zstd -3 -T2" "$run" zstd -3 -T2 -q -c
        measure "$kind" "zstd -3 -T2 --long" "$run" zstd -3 -T2 --long -q -c
    done
done
rm -f "$work/out"

# Random access: a 1 KB `cat --range` of each packed file decodes (and checks) the frame
# holding it, in version 3 only up to the 1 MiB piece holding the range's end: timed at the
# middle of the file, and at the first and last KB of the frame holding the middle (best and
# worst case). hyperfine's median of 30 runs each, plus the largest frame pack chose.
cat_csv="$out/pack_kinds_cat-$size.csv"
echo "kind,frame_bytes,first_kb_ms,middle_ms,last_kb_ms" > "$cat_csv"
for kind in $kinds; do
    packed="$work/$kind.zst"
    "$seqflow" pack "$work/$kind" -o "$packed" -f -t 2 --level 3
    mid=$(( $(stat -c %s "$work/$kind") / 2 ))
    read -r frame first last < <(python3 - "$packed" "$mid" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
mid = int(sys.argv[2])
n = struct.unpack_from("<I", data, len(data) - 9)[0]
table = data[len(data) - 9 - 12 * n:len(data) - 9]
sizes = [struct.unpack_from("<I", table, 12 * i + 4)[0] for i in range(n)]
at = 0
for size in sizes:
    if at <= mid < at + size:
        print(max(sizes), at, at + size)
        break
    at += size
PY
)
    ranges="$first-$((first + 1024)) $mid-$((mid + 1024)) $((last - 1024))-$last"
    row="$kind,$frame"
    for range in $ranges; do
        hyperfine -N -w 3 -r 30 --export-json "$work/cat.json" \
            "$seqflow cat $packed --range $range" > /dev/null 2>&1
        row="$row,$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000, 1))" "$work/cat.json")"
    done
    echo "$row" >> "$cat_csv"
    rm -f "$packed" "$work/cat.json"
done

python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("| input | size | seqflow pack -3 -t2: size, s, RSS MB | zstd -3 -T2 | zstd -3 -T2 --long | seqflow / zstd size | zstd / seqflow time, median per run |")
print("|---|---|---|---|---|---|---|")
for kind in dict.fromkeys(r["kind"] for r in rows):
    cells, sizes = [], {}
    for tool in ("seqflow pack -3 -t2", "zstd -3 -T2", "zstd -3 -T2 --long"):
        rs = [r for r in rows if r["kind"] == kind and r["tool"] == tool]
        m = {k: statistics.median(float(r[k]) for r in rs) for k in ("wall_s", "max_rss_kb", "output_bytes")}
        sizes[tool] = m["output_bytes"]
        cells.append(f"{m['output_bytes'] / 1e6:.2f} MB, {m['wall_s']:.2f} s, {m['max_rss_kb'] / 1024:.0f}")
    inp = int(rs[0]["input_bytes"])
    ratio = sizes["seqflow pack -3 -t2"] / sizes["zstd -3 -T2"]
    wall = {(r["tool"], r["run"]): float(r["wall_s"]) for r in rows if r["kind"] == kind}
    runs = sorted({run for _, run in wall})
    speed = statistics.median(wall[("zstd -3 -T2", run)] / wall[("seqflow pack -3 -t2", run)] for run in runs)
    print(f"| {kind} | {inp / 1e6:.0f} MB | " + " | ".join(cells) + f" | {ratio:.3f} | {speed:.2f}× |")
print(f"raw: {sys.argv[1]}")
PY
echo
echo "| input | largest frame | cat --range of 1 KB, median ms: frame's first KB, file's middle, frame's last KB |"
echo "|---|---|---|"
tail -n +2 "$cat_csv" | while IFS=, read -r kind frame first middle last; do
    echo "| $kind | $((frame >> 20)) MiB | $first, $middle, $last |"
done
echo "raw: $cat_csv"
