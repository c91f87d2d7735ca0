#!/usr/bin/env python3
"""Per-base overlap of a `seqflow repeats` BED with a real genome's own repeat annotation.

Real genomes have no complete truth, so these are weak checks (issue #15):

  repeat_overlap.py gff ANNOTATION.gff[.gz] PRED.bed [FEATURE ...]
      bases of the GFF features of the given types (default: long_terminal_repeat,
      mobile_genetic_element: yeast's Ty elements and their LTRs) that PRED covers;
  repeat_overlap.py softmask GENOME.fa[.gz] PRED.bed
      bases of the genome's lowercase (soft-masked by its submitter) that PRED covers, and the
      share of PRED's bases that are lowercase.

Prints `name<TAB>value` lines. GFF coordinates are 1-based inclusive, BED 0-based half-open.
"""
import gzip
import sys
from collections import defaultdict


def open_text(path):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def merged(intervals):
    """Sorted, non-overlapping (start, end) per contig."""
    out = {}
    for contig, spans in intervals.items():
        spans.sort()
        joined = []
        for start, end in spans:
            if joined and start <= joined[-1][1]:
                joined[-1][1] = max(joined[-1][1], end)
            else:
                joined.append([start, end])
        out[contig] = joined
    return out


def total(intervals):
    return sum(end - start for spans in intervals.values() for start, end in spans)


def intersection(a, b):
    shared = 0
    for contig, spans in a.items():
        other = b.get(contig, [])
        j = 0
        for start, end in spans:
            while j < len(other) and other[j][1] <= start:
                j += 1
            k = j
            while k < len(other) and other[k][0] < end:
                shared += min(end, other[k][1]) - max(start, other[k][0])
                k += 1
    return shared


def read_bed(path):
    spans = defaultdict(list)
    with open_text(path) as lines:
        for line in lines:
            fields = line.split("\t")
            if len(fields) >= 3 and not line.startswith(("#", "track")):
                spans[fields[0]].append((int(fields[1]), int(fields[2])))
    return merged(spans)


def read_gff(path, types):
    spans = defaultdict(list)
    with open_text(path) as lines:
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 5 and not line.startswith("#") and fields[2] in types:
                spans[fields[0]].append((int(fields[3]) - 1, int(fields[4])))
    return merged(spans)


def read_lowercase(path):
    spans = defaultdict(list)
    contig, pos, run = None, 0, None
    with open_text(path) as lines:
        for line in lines:
            if line.startswith(">"):
                if run is not None:
                    spans[contig].append((run, pos))
                contig, pos, run = line[1:].split()[0], 0, None
                continue
            for ch in line.rstrip("\n"):
                if ch.islower():
                    if run is None:
                        run = pos
                elif run is not None:
                    spans[contig].append((run, pos))
                    run = None
                pos += 1
    if run is not None:
        spans[contig].append((run, pos))
    return merged(spans)


def main(argv):
    if len(argv) < 3 or argv[0] not in ("gff", "softmask"):
        sys.exit(__doc__)
    predicted = read_bed(argv[2])
    if argv[0] == "gff":
        types = set(argv[3:]) or {"long_terminal_repeat", "mobile_genetic_element"}
        truth = read_gff(argv[1], types)
    else:
        truth = read_lowercase(argv[1])
    shared = intersection(truth, predicted)
    print(f"truth_bases\t{total(truth)}")
    print(f"predicted_bases\t{total(predicted)}")
    print(f"truth_covered\t{shared / max(total(truth), 1):.4f}")
    print(f"predicted_in_truth\t{shared / max(total(predicted), 1):.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
