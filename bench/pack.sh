#!/usr/bin/env bash
# Whole-program comparison for `seqflow pack/unpack/cat` against stock zstd and bgzip on the
# same 2 GB FASTQ, in one run: checks round trips first, then times each command RUNS times
# (interleaved) with /usr/bin/time -v and prints medians and ratios. Raw CSV goes to
# bench/results/<UTC date>/pack.csv.
#
# Usage: bench/pack.sh [RUNS]        (default 3; input made by bench/make_data.sh; then the
# data-kinds table of bench/pack_kinds.sh at KINDS_SIZE, default 340M)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-3}"
"$root/bench/make_data.sh"
(cd "$root" && cargo build --release -p seqflow-cli >/dev/null)
seqflow="$root/target/release/seqflow"
for tool in zstd bgzip; do
    command -v "$tool" >/dev/null || { echo "bench/pack.sh: $tool not found" >&2; exit 1; }
done
input="$root/bench/data/reads_2g.fq"
work="$root/bench/data/pack"
mkdir -p "$work"
out="$root/bench/results/$(date -u +%Y-%m-%d)"
mkdir -p "$out"
csv="$out/pack.csv"
echo "case,run,wall_s,cpu_percent,max_rss_kb,output_bytes" > "$csv"
threads=2
size=$(stat -c %s "$input")

"$seqflow" keygen --no-passphrase --secret-key "$work/bench.sec" --public-key "$work/bench.pub" --force

measure() { # case run output command...
    local name=$1 run=$2 output=$3; shift 3
    local log; log=$(mktemp)
    /usr/bin/time -v "$@" 2> "$log" > "${output:-/dev/null}"
    local wall cpu rss bytes=0
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
    cpu=$(awk -F': ' '/Percent of CPU/ {gsub("%","",$2); print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    [ -n "$output" ] && bytes=$(stat -c %s "$output")
    echo "$name,$run,$wall,$cpu,$rss,$bytes" >> "$csv"
    rm -f "$log"
}

cat "$input" > /dev/null
# Correctness first.
"$seqflow" pack "$input" -c -t $threads --level 3 > "$work/p.zst"
zstd -d -c "$work/p.zst" | cmp - "$input"
"$seqflow" unpack "$work/p.zst" -c -t $threads | cmp - "$input"
zstd -3 -T$threads -q -c "$input" > "$work/z.zst"
"$seqflow" pack "$input" -t $threads --container bgzf --level 6 -o "$work/p.gz" --force
bgzip -d -c "$work/p.gz" | cmp - "$input"
"$seqflow" pack "$input" -c -t $threads --recipient "$work/bench.pub" > "$work/p.c4gh"
"$seqflow" unpack "$work/p.c4gh" -c -t $threads --secret-key "$work/bench.sec" | cmp - "$input"
echo "round trips OK" >&2

mid=$((size / 2))
for run in $(seq 1 "$runs"); do
    measure "pack zstd-3 (seqflow)" "$run" "$work/p.zst" "$seqflow" pack "$input" -c -t $threads --level 3
    measure "pack zstd-3 (zstd -T2)" "$run" "$work/z.zst" zstd -3 -T$threads -q -c "$input"
    measure "pack zstd-3 + crypt4gh (seqflow)" "$run" "$work/p.c4gh" "$seqflow" pack "$input" -c -t $threads --level 3 --recipient "$work/bench.pub"
    measure "pack bgzf-6 (seqflow)" "$run" "" "$seqflow" pack "$input" -t $threads --container bgzf --level 6 -o "$work/p.gz" --force
    measure "pack bgzf-6 (bgzip -@2)" "$run" "$work/b.gz" bgzip -@ $threads -l 6 -c "$input"
    measure "unpack (seqflow)" "$run" "" "$seqflow" unpack "$work/p.zst" -c -t $threads
    measure "unpack --skip-sha256 (seqflow)" "$run" "" "$seqflow" unpack "$work/p.zst" -c -t $threads --skip-sha256
    measure "unpack (zstd -d)" "$run" "" zstd -d -q -c "$work/p.zst"
    measure "unpack crypt4gh (seqflow)" "$run" "" "$seqflow" unpack "$work/p.c4gh" -c -t $threads --secret-key "$work/bench.sec"
done

# cat --range is too quick for /usr/bin/time's 10 ms resolution: hyperfine, whole process.
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs 30 --export-json "$out/cat.json" \
        -n "cat 1 MB mid" "$seqflow cat $work/p.zst --range $mid-$((mid + 1000000))" \
        -n "cat 1 MB mid, crypt4gh" "$seqflow cat $work/p.c4gh --secret-key $work/bench.sec --range $mid-$((mid + 1000000))" \
        > /dev/null
    python3 - "$out/cat.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']:<34} median {r['median'] * 1000:6.1f} ms (min {r['min'] * 1000:.1f}, max {r['max'] * 1000:.1f}; 30 runs)")
PY
fi

python3 - "$csv" "$size" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
size = int(sys.argv[2])
med = {}
for name in dict.fromkeys(r["case"] for r in rows):
    rs = [r for r in rows if r["case"] == name]
    med[name] = {k: statistics.median(float(r[k]) for r in rs) for k in ("wall_s", "cpu_percent", "max_rss_kb", "output_bytes")}
print(f"{'case':<34} {'wall s':>8} {'MB/s':>8} {'CPU %':>6} {'RSS MB':>7} {'ratio':>6}")
for name, m in med.items():
    ratio = f"{size / m['output_bytes']:6.3f}" if m["output_bytes"] else "     -"
    mb_s = size / max(m['wall_s'], 1e-3) / 1e6
    print(f"{name:<34} {m['wall_s']:8.3f} {mb_s:8.0f} {m['cpu_percent']:6.0f} {m['max_rss_kb'] / 1024:7.1f} {ratio}")
def r(a, b): return med[b]["wall_s"] / med[a]["wall_s"]
print(f"pack speed vs zstd -3 -T2: {r('pack zstd-3 (seqflow)', 'pack zstd-3 (zstd -T2)'):.2f}x")
print(f"unpack speed vs zstd -d: {r('unpack (seqflow)', 'unpack (zstd -d)'):.2f}x with SHA-256, "
      f"{r('unpack --skip-sha256 (seqflow)', 'unpack (zstd -d)'):.2f}x with frame checksums only")
print(f"BGZF pack speed vs bgzip -@2: {r('pack bgzf-6 (seqflow)', 'pack bgzf-6 (bgzip -@2)'):.2f}x")
enc = med['pack zstd-3 + crypt4gh (seqflow)']['wall_s'] / med['pack zstd-3 (seqflow)']['wall_s'] - 1
print(f"encryption overhead on pack: {enc * 100:+.1f}%")
print(f"raw: {sys.argv[1]} (MB/s = MB of original per second)")
PY

# Data kinds (issue #13): seqflow against zstd -3 -T2 and zstd --long on six kinds of input.
"$root/bench/pack_kinds.sh" "${KINDS_SIZE:-340M}" "$runs"
