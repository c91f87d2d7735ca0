//! Scores a repeat detector's output against the truth written by
//! [`write_repeat_genome`](crate::write_repeat_genome).
//!
//! - **Per-base** precision, recall and F1: both BEDs are merged per contig first (overlaps and
//!   strands do not count twice). By default only interspersed families (`fam*`) count as truth;
//!   predicted bases over tandem arrays and low-complexity runs are ignored (neither right nor
//!   wrong). [`EvaluateOptions::include_tandem_and_low_complexity`] counts them as truth.
//! - **Elements**: the fraction of truth intervals at least half covered by the prediction (a
//!   copy split by a nested insertion counts as two intervals).
//! - **Families**: a planted consensus is recovered when some predicted consensus aligns to it,
//!   on either strand, with identity ≥ 80% over ≥ 80% of the planted length.
//!
//! # Alignment
//! [`local_identity`] is a Smith–Waterman local alignment (match +1, mismatch −1, gap −2,
//! linear) whose cells carry the alignment's start row, matches and columns, so identity
//! (matches / columns) and the planted span come out without a traceback; O(m) memory. Run in
//! full it is O(n·m): 64 M cells for 8 kb × 8 kb. [`evaluate`] therefore seeds first: shared
//! exact 11-mers pick the strand and the diagonal (the densest band of hit diagonals), and only
//! a band of ±(32 + 10% of the planted length) around that diagonal is aligned, about 13 M cells
//! for 8 kb. Chosen over a band around the main diagonal because a predicted consensus may be
//! offset from the planted one by kilobases (extra flank, missing 5' part), and over Myers'
//! bit-parallel edit distance because that is global/semiglobal and the match rule is
//! "≥ 80% of the planted one", a local criterion. Pairs whose densest band holds fewer shared
//! 11-mers than 3 + twice the chance expectation are not aligned at all; at 20% random
//! divergence about 9% of 11-mers survive, so this only misses very short or adversarially
//! (periodically) diverged consensi.

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

use crate::error::Error;
use crate::genome::complement;

/// k-mer length of the family prefilter.
const PREFILTER_K: usize = 11;

/// Options for [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EvaluateOptions {
    /// Count tandem arrays and low-complexity runs as truth too (default false: predicted bases
    /// over them are ignored).
    pub include_tandem_and_low_complexity: bool,
    /// Fraction of a truth element that must be covered for it to count as found (default 0.5).
    pub element_coverage: f64,
    /// Identity a predicted consensus needs to recover a family (default 0.8).
    pub family_identity: f64,
    /// Fraction of the planted consensus the alignment must span (default 0.8).
    pub family_coverage: f64,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        Self {
            include_tandem_and_low_complexity: false,
            element_coverage: 0.5,
            family_identity: 0.8,
            family_coverage: 0.8,
        }
    }
}

/// The scores [`evaluate`] computes; `Display` writes them as `metric<TAB>value` lines.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Evaluation {
    /// Truth bases (merged) that count.
    pub truth_bases: u64,
    /// Predicted bases (merged) that count.
    pub predicted_bases: u64,
    /// Bases both predicted and in the truth.
    pub true_positive_bases: u64,
    /// Truth elements that count.
    pub truth_elements: u64,
    /// Truth elements covered at least [`EvaluateOptions::element_coverage`].
    pub elements_covered: u64,
    /// One entry per planted family, in input order.
    pub families: Vec<FamilyMatch>,
}

/// How well one planted family was recovered.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyMatch {
    /// The planted family's name (first word of its FASTA header).
    pub planted: String,
    /// The first predicted consensus that recovers it, if any.
    pub predicted: Option<String>,
    /// The best alignment found (identity and planted coverage), if any pair passed the
    /// prefilter.
    pub best: Option<AlignmentMatch>,
}

impl Evaluation {
    /// Per-base precision: true positives / predicted bases (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positive_bases, self.predicted_bases)
    }

    /// Per-base recall: true positives / truth bases (1 when the truth is empty).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positive_bases, self.truth_bases)
    }

    /// Harmonic mean of precision and recall (0 when both are 0).
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }

    /// Fraction of truth elements covered at least [`EvaluateOptions::element_coverage`].
    pub fn element_fraction(&self) -> f64 {
        ratio(self.elements_covered, self.truth_elements)
    }

    /// Number of planted families recovered.
    pub fn families_recovered(&self) -> usize {
        self.families.iter().filter(|f| f.predicted.is_some()).count()
    }

    /// Fraction of planted families recovered.
    pub fn family_fraction(&self) -> f64 {
        ratio(self.families_recovered() as u64, self.families.len() as u64)
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "truth_bases\t{}", self.truth_bases)?;
        writeln!(f, "predicted_bases\t{}", self.predicted_bases)?;
        writeln!(f, "true_positive_bases\t{}", self.true_positive_bases)?;
        writeln!(f, "precision\t{:.4}", self.precision())?;
        writeln!(f, "recall\t{:.4}", self.recall())?;
        writeln!(f, "f1\t{:.4}", self.f1())?;
        writeln!(f, "truth_elements\t{}", self.truth_elements)?;
        writeln!(f, "elements_covered\t{}", self.elements_covered)?;
        writeln!(f, "element_fraction\t{:.4}", self.element_fraction())?;
        writeln!(f, "planted_families\t{}", self.families.len())?;
        writeln!(f, "families_recovered\t{}", self.families_recovered())?;
        writeln!(f, "family_fraction\t{:.4}", self.family_fraction())
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 { 1.0 } else { num as f64 / den as f64 }
}

/// Scores `predicted_bed` and `predicted_families` against the truth.
///
/// BED input: tab- or space-separated, at least contig, start, end; the name column (4th) of the
/// truth decides its class (`tandem*` and `lowcomplex*` are not interspersed). Empty lines and
/// lines starting with `#`, `track` or `browser` are skipped.
///
/// # Errors
/// [`Error::Parse`] naming the input and line of a malformed record, [`Error::Io`] if a reader
/// fails.
pub fn evaluate(
    truth_bed: impl BufRead,
    predicted_bed: impl BufRead,
    truth_families: impl BufRead,
    predicted_families: impl BufRead,
    options: &EvaluateOptions,
) -> Result<Evaluation, Error> {
    let truth = read_bed(truth_bed, "truth BED")?;
    let predicted = read_bed(predicted_bed, "predicted BED")?;
    let is_other = |name: &str| name.starts_with("tandem") || name.starts_with("lowcomplex");
    let mut counted: HashMap<&str, Vec<(u64, u64)>> = HashMap::new();
    let mut ignored: HashMap<&str, Vec<(u64, u64)>> = HashMap::new();
    let mut elements = Vec::new();
    for r in &truth {
        if !options.include_tandem_and_low_complexity && is_other(&r.name) {
            ignored.entry(&r.contig).or_default().push((r.start, r.end));
        } else {
            counted.entry(&r.contig).or_default().push((r.start, r.end));
            elements.push(r);
        }
    }
    let mut called: HashMap<&str, Vec<(u64, u64)>> = HashMap::new();
    for r in &predicted {
        called.entry(&r.contig).or_default().push((r.start, r.end));
    }
    counted.values_mut().for_each(merge);
    ignored.values_mut().for_each(merge);
    for (contig, list) in &mut called {
        merge(list);
        if let Some(skip) = ignored.get(contig) {
            *list = subtract(list, skip);
        }
    }

    let total = |m: &HashMap<&str, Vec<(u64, u64)>>| -> u64 {
        m.values().flatten().map(|(s, e)| e - s).sum()
    };
    let true_positive_bases = counted
        .iter()
        .map(|(contig, t)| called.get(contig).map_or(0, |p| intersection(t, p)))
        .sum();
    let mut elements_covered = 0;
    for r in &elements {
        let covered =
            called.get(r.contig.as_str()).map_or(0, |p| intersection(&[(r.start, r.end)], p));
        if covered as f64 >= options.element_coverage * (r.end - r.start) as f64 {
            elements_covered += 1;
        }
    }

    let planted = parse_fasta(truth_families)?;
    let candidates = parse_fasta(predicted_families)?;
    let families = match_families(&planted, &candidates, options);

    Ok(Evaluation {
        truth_bases: total(&counted),
        predicted_bases: total(&called),
        true_positive_bases,
        truth_elements: elements.len() as u64,
        elements_covered,
        families,
    })
}

/// Matches every planted family to a predicted consensus that recovers it, or records the best
/// one seen.
///
/// A pair is aligned only if the predicted consensus shares at least 3 exact 11-mers with the
/// planted one (on either strand): [`seeded_identity`] never accepts fewer. The shared counts
/// come from one index of every planted 11-mer and one scan of every predicted consensus, so
/// the scan grows with the bases of the two libraries, not with their product (4,433 predicted
/// × 2,525 planted consensi at 1 Gbp made the pairwise scan run for hours). Candidates are
/// aligned most shared 11-mers first (ties in file order) and the first that recovers the
/// family ends its search: a family split into fragments is tried against its best copy
/// first, not against every fragment before it in the file.
fn match_families(
    planted: &[(String, Vec<u8>)],
    candidates: &[(String, Vec<u8>)],
    options: &EvaluateOptions,
) -> Vec<FamilyMatch> {
    // Distinct 11-mers of each planted family -> the families holding them.
    let mut holders: HashMap<u64, Vec<u32>> = HashMap::new();
    for (family, (_, seq)) in planted.iter().enumerate() {
        for_each_kmer(seq, |fwd, _, _| {
            let list = holders.entry(fwd).or_default();
            if list.last() != Some(&(family as u32)) {
                list.push(family as u32);
            }
        });
    }
    // Per planted family, the candidates worth aligning and their shared 11-mers.
    let mut worth: Vec<Vec<(u32, usize)>> = vec![Vec::new(); planted.len()];
    let mut shared = vec![0u32; planted.len()];
    let mut touched = Vec::new();
    for (c, (_, cand)) in candidates.iter().enumerate() {
        for_each_kmer(cand, |fwd, rev, _| {
            for kmer in [fwd, rev] {
                for &family in holders.get(&kmer).map_or(&[][..], Vec::as_slice) {
                    if shared[family as usize] == 0 {
                        touched.push(family);
                    }
                    shared[family as usize] += 1;
                }
            }
        });
        for family in touched.drain(..) {
            if shared[family as usize] >= MIN_SHARED_KMERS {
                worth[family as usize].push((shared[family as usize], c));
            }
            shared[family as usize] = 0;
        }
    }
    planted
        .iter()
        .zip(&worth)
        .map(|((name, seq), worth)| {
            let tiny = seq.len() < PREFILTER_K;
            let pairs: Box<dyn Iterator<Item = usize>> = if tiny {
                Box::new(0..candidates.len())
            } else {
                // Predicted consensi shorter than a k-mer are aligned in full, as seeding
                // cannot see them.
                let short = (0..candidates.len())
                    .filter(|&c| candidates[c].1.len() < PREFILTER_K)
                    .map(|c| (0, c));
                let mut all: Vec<(u32, usize)> = worth.iter().copied().chain(short).collect();
                all.sort_unstable_by_key(|&(shared, c)| (std::cmp::Reverse(shared), c));
                // A consensus that recovers the family shares most of its 11-mers, so it is
                // among the first few: aligning every candidate of an unrecovered family
                // (tandem-array consensi share k-mers with hundreds of families) made scoring
                // a 1 Gbp run take longer than the run itself.
                all.truncate(MAX_ALIGNED_CANDIDATES);
                Box::new(all.into_iter().map(|(_, c)| c))
            };
            best_match(name, seq, pairs.map(|c| &candidates[c]), options)
        })
        .collect()
}

/// Most candidates aligned to one planted family, in order of shared 11-mers.
const MAX_ALIGNED_CANDIDATES: usize = 16;

/// Fewest shared 11-mers [`seeded_identity`] ever accepts (its threshold is 3 + twice the
/// chance expectation).
const MIN_SHARED_KMERS: u32 = 3;

/// The first of `candidates` that recovers the planted family `seq`, else the best seen.
fn best_match<'a>(
    name: &str,
    seq: &[u8],
    candidates: impl Iterator<Item = &'a (String, Vec<u8>)>,
    options: &EvaluateOptions,
) -> FamilyMatch {
    let index = kmer_index(seq);
    let mut found = FamilyMatch { planted: name.to_owned(), predicted: None, best: None };
    for (cand_name, cand) in candidates {
        let Some(m) = seeded_identity(seq, &index, cand) else { continue };
        let better = found
            .best
            .as_ref()
            .is_none_or(|b| (m.identity * m.planted_coverage) > (b.identity * b.planted_coverage));
        if m.identity >= options.family_identity && m.planted_coverage >= options.family_coverage {
            found.predicted = Some(cand_name.clone());
            found.best = Some(m);
            break;
        }
        if better {
            found.best = Some(m);
        }
    }
    found
}

/// One BED record's first four columns.
#[derive(Debug)]
struct BedRecord {
    contig: String,
    start: u64,
    end: u64,
    name: String,
}

fn read_bed(reader: impl BufRead, input: &'static str) -> Result<Vec<BedRecord>, Error> {
    let mut records = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        let parse_error = |reason: String| Error::Parse { input, line: index as u64 + 1, reason };
        if line.trim().is_empty()
            || line.starts_with('#')
            || line.starts_with("track")
            || line.starts_with("browser")
        {
            continue;
        }
        let fields: Vec<&str> = line.split(['\t', ' ']).filter(|f| !f.is_empty()).collect();
        if fields.len() < 3 {
            return Err(parse_error(format!("expected at least 3 columns, got {}", fields.len())));
        }
        let number = |s: &str| {
            s.parse::<u64>().map_err(|_| parse_error(format!("`{s}` is not a coordinate")))
        };
        let (start, end) = (number(fields[1])?, number(fields[2])?);
        if start > end {
            return Err(parse_error(format!("start {start} exceeds end {end}")));
        }
        records.push(BedRecord {
            contig: fields[0].to_string(),
            start,
            end,
            name: fields.get(3).unwrap_or(&"").to_string(),
        });
    }
    Ok(records)
}

/// Parses FASTA into (first word of the header, uppercase sequence) pairs.
///
/// # Errors
/// [`Error::Parse`] when sequence comes before the first header, [`Error::Io`] if the reader
/// fails.
pub fn parse_fasta(reader: impl BufRead) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        if let Some(header) = line.strip_prefix('>') {
            let name = header.split_whitespace().next().unwrap_or("").to_string();
            records.push((name, Vec::new()));
        } else if let Some((_, seq)) = records.last_mut() {
            seq.extend(line.trim_end().bytes().map(|b| b.to_ascii_uppercase()));
        } else if !line.trim().is_empty() {
            return Err(Error::Parse {
                input: "FASTA",
                line: index as u64 + 1,
                reason: "sequence before the first `>` header".into(),
            });
        }
    }
    Ok(records)
}

/// The reverse complement of `seq`, uppercased (anything but `ACGT` becomes `N`).
pub fn reverse_complement(seq: &[u8]) -> Vec<u8> {
    seq.iter().rev().map(|&b| complement(b.to_ascii_uppercase())).collect()
}

/// Sorts and merges overlapping or touching intervals in place.
fn merge(list: &mut Vec<(u64, u64)>) {
    list.retain(|(s, e)| s < e);
    list.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(list.len());
    for &(s, e) in list.iter() {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    *list = out;
}

/// Bases in both of two sorted, merged interval lists.
fn intersection(a: &[(u64, u64)], b: &[(u64, u64)]) -> u64 {
    let (mut i, mut j, mut total) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        total += hi.saturating_sub(lo);
        if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
    }
    total
}

/// `a` minus `b`, both sorted and merged.
fn subtract(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &(mut s, e) in a {
        while j < b.len() && b[j].1 <= s {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].0 < e {
            if b[k].0 > s {
                out.push((s, b[k].0));
            }
            s = s.max(b[k].1);
            k += 1;
        }
        if s < e {
            out.push((s, e));
        }
    }
    out
}

/// Calls `f(forward code, reverse-complement code, position)` for every 11-mer of `seq` made of
/// `ACGT` only (2 bits per base).
fn for_each_kmer(seq: &[u8], mut f: impl FnMut(u64, u64, usize)) {
    let mask = (1u64 << (2 * PREFILTER_K)) - 1;
    let (mut fwd, mut rev, mut valid) = (0u64, 0u64, 0usize);
    for (i, &b) in seq.iter().enumerate() {
        let code = match b {
            b'A' => 0,
            b'C' => 1,
            b'G' => 2,
            b'T' => 3,
            _ => {
                valid = 0;
                continue;
            }
        };
        fwd = ((fwd << 2) | code) & mask;
        rev = (rev >> 2) | ((3 - code) << (2 * (PREFILTER_K - 1)));
        valid += 1;
        if valid >= PREFILTER_K {
            f(fwd, rev, i + 1 - PREFILTER_K);
        }
    }
}

/// First position of each forward 11-mer of `seq`.
fn kmer_index(seq: &[u8]) -> HashMap<u64, usize> {
    let mut index = HashMap::with_capacity(seq.len());
    for_each_kmer(seq, |fwd, _, pos| {
        index.entry(fwd).or_insert(pos);
    });
    index
}

/// The largest number of `diagonals` within `2 × half_width` of each other, and their median.
fn densest(diagonals: &mut [i64], half_width: i64) -> (usize, i64) {
    diagonals.sort_unstable();
    let (mut best, mut center, mut lo) = (0, 0, 0);
    for hi in 0..diagonals.len() {
        while diagonals[hi] - diagonals[lo] > 2 * half_width {
            lo += 1;
        }
        if hi + 1 - lo > best {
            best = hi + 1 - lo;
            center = diagonals[(lo + hi) / 2];
        }
    }
    (best, center)
}

/// Seeded, banded version of [`best_strand_identity`]: shared 11-mers (planted `index` from
/// [`kmer_index`]) pick the strand and the diagonal; a band of ±(32 + 10% of the planted length)
/// around it is aligned. `None` when neither strand has more shared 11-mers on one diagonal band
/// than chance would give (3 + twice the expected random hits).
fn seeded_identity(
    planted: &[u8],
    index: &HashMap<u64, usize>,
    predicted: &[u8],
) -> Option<AlignmentMatch> {
    let (n, m) = (planted.len(), predicted.len());
    if n < PREFILTER_K || m < PREFILTER_K {
        return Some(best_strand_identity(planted, predicted));
    }
    let (mut forward, mut reverse) = (Vec::new(), Vec::new());
    for_each_kmer(predicted, |fwd, rev, pos| {
        if let Some(&i) = index.get(&fwd) {
            forward.push(pos as i64 - i as i64);
        }
        if let Some(&i) = index.get(&rev) {
            reverse.push((m - pos - PREFILTER_K) as i64 - i as i64);
        }
    });
    let half_width = 32 + n as i64 / 10;
    let chance = (n * m) as f64 / (1u64 << (2 * PREFILTER_K)) as f64 * (2 * half_width + 1) as f64
        / (n + m) as f64;
    let needed = (3.0 + 2.0 * chance).ceil() as usize;
    let mut best: Option<AlignmentMatch> = None;
    for (diagonals, reverse) in [(&mut forward, false), (&mut reverse, true)] {
        let (count, center) = densest(diagonals, half_width);
        if count < needed {
            continue;
        }
        let m = if reverse {
            let mut m =
                banded_identity(planted, &reverse_complement(predicted), center, half_width);
            m.reverse = true;
            m
        } else {
            banded_identity(planted, predicted, center, half_width)
        };
        if best.is_none_or(|b| m.identity * m.planted_coverage > b.identity * b.planted_coverage) {
            best = Some(m);
        }
    }
    best
}

/// The result of aligning a predicted consensus to a planted one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignmentMatch {
    /// Matches / alignment columns (gaps count as columns).
    pub identity: f64,
    /// Fraction of the planted sequence the alignment spans.
    pub planted_coverage: f64,
    /// `true` when the predicted sequence matched reverse-complemented.
    pub reverse: bool,
}

/// [`local_identity`] on both strands of `predicted`; the better of the two (by identity ×
/// coverage), forward on a tie.
pub fn best_strand_identity(planted: &[u8], predicted: &[u8]) -> AlignmentMatch {
    let forward = local_identity(planted, predicted);
    let mut reverse = local_identity(planted, &reverse_complement(predicted));
    reverse.reverse = true;
    let score = |m: &AlignmentMatch| m.identity * m.planted_coverage;
    if score(&reverse) > score(&forward) { reverse } else { forward }
}

/// The best local alignment of `predicted` to `planted` (same strand, case-sensitive bytes):
/// Smith–Waterman with match +1, mismatch −1, gap −2; identity and planted span are carried in
/// the DP cells. O(len(planted) × len(predicted)) time, O(len(predicted)) memory.
///
/// ```
/// use seqflow_sim::local_identity;
///
/// let m = local_identity(b"ACGTACGTTTGACCA", b"GGGACGTACGTTTGACCAGGG");
/// assert_eq!((m.identity, m.planted_coverage), (1.0, 1.0));
/// ```
pub fn local_identity(planted: &[u8], predicted: &[u8]) -> AlignmentMatch {
    banded_identity(planted, predicted, 0, i64::MAX / 4)
}

/// [`local_identity`] restricted to cells with `|j - i - center| <= half_width` (`i` in
/// `planted`, `j` in `predicted`).
fn banded_identity(
    planted: &[u8],
    predicted: &[u8],
    center: i64,
    half_width: i64,
) -> AlignmentMatch {
    #[derive(Clone, Copy, Default)]
    struct Cell {
        score: i32,
        start: u32,
        matches: u32,
        columns: u32,
    }
    let m = predicted.len();
    let mut prev = vec![Cell::default(); m + 1];
    let mut cur = vec![Cell::default(); m + 1];
    let (mut best, mut best_end) = (Cell::default(), 0usize);
    for (i, &a) in planted.iter().enumerate() {
        let lo = (i as i64 + center - half_width).clamp(0, m as i64) as usize;
        let hi = (i as i64 + center + half_width + 1).clamp(0, m as i64) as usize;
        // Cells just outside the band read as "no alignment" (score 0).
        cur[lo] = Cell::default();
        if hi < m {
            cur[hi + 1] = Cell::default();
        }
        for j in lo..hi {
            let hit = a == predicted[j];
            let d = prev[j];
            let mut cell = Cell {
                score: d.score + if hit { 1 } else { -1 },
                start: if d.score == 0 { i as u32 } else { d.start },
                matches: if d.score == 0 { 0 } else { d.matches } + u32::from(hit),
                columns: if d.score == 0 { 0 } else { d.columns } + 1,
            };
            let up = prev[j + 1];
            if up.score - 2 > cell.score {
                cell = Cell { score: up.score - 2, columns: up.columns + 1, ..up };
            }
            let left = cur[j];
            if left.score - 2 > cell.score {
                cell = Cell { score: left.score - 2, columns: left.columns + 1, ..left };
            }
            if cell.score <= 0 {
                cell = Cell::default();
            } else if cell.score > best.score {
                best = cell;
                best_end = i + 1;
            }
            cur[j + 1] = cell;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    if best.score == 0 {
        return AlignmentMatch { identity: 0.0, planted_coverage: 0.0, reverse: false };
    }
    AlignmentMatch {
        identity: f64::from(best.matches) / f64::from(best.columns),
        planted_coverage: (best_end - best.start as usize) as f64 / planted.len() as f64,
        reverse: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(seed: u64, len: usize) -> Vec<u8> {
        let mut rng = Rng::new(seed, 9);
        (0..len).map(|_| b"ACGT"[rng.below(4) as usize]).collect()
    }

    /// Substitutes every base whose index is `≡ 0 mod every`.
    fn diverge(seq: &[u8], every: usize) -> Vec<u8> {
        seq.iter()
            .enumerate()
            .map(|(i, &b)| if i % every == 0 { if b == b'A' { b'C' } else { b'A' } } else { b })
            .collect()
    }

    fn fasta(records: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, seq) in records {
            out.extend_from_slice(format!(">{name} x=1\n").as_bytes());
            out.extend_from_slice(seq);
            out.push(b'\n');
        }
        out
    }

    fn run(truth: &str, predicted: &str, opts: &EvaluateOptions) -> Evaluation {
        evaluate(truth.as_bytes(), predicted.as_bytes(), &b""[..], &b""[..], opts).unwrap()
    }

    const TRUTH: &str = "c1\t100\t200\tfam1\t0\t+\nc1\t300\t400\tfam2\t0\t-\n\
                         c1\t500\t600\ttandem1\t0\t+\nc2\t0\t100\tfam1\t0\t+\n";

    #[test]
    fn perfect_prediction_scores_one() {
        let e = run(TRUTH, TRUTH, &EvaluateOptions::default());
        assert_eq!((e.truth_bases, e.predicted_bases, e.true_positive_bases), (300, 300, 300));
        assert_eq!((e.precision(), e.recall(), e.f1()), (1.0, 1.0, 1.0));
        assert_eq!((e.truth_elements, e.elements_covered), (3, 3));
        let opts =
            EvaluateOptions { include_tandem_and_low_complexity: true, ..Default::default() };
        let e = run(TRUTH, TRUTH, &opts);
        assert_eq!((e.truth_bases, e.f1()), (400, 1.0));
    }

    #[test]
    fn half_coverage_is_half_recall() {
        // Overlapping predictions are merged; the tandem array is neither right nor wrong.
        let predicted = "c1 100 150\nc1 120 150 x\nc1 300 350\nc2 0 50\nc1 500 600\n";
        let e = run(TRUTH, predicted, &EvaluateOptions::default());
        assert_eq!(e.recall(), 0.5);
        assert_eq!(e.precision(), 1.0);
        assert!((e.f1() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.elements_covered, 3, "exactly half covered counts");
        let e = run(TRUTH, "c1 0 100\nc3 0 10\n", &EvaluateOptions::default());
        assert_eq!((e.precision(), e.recall(), e.f1()), (0.0, 0.0, 0.0));
    }

    #[test]
    fn interval_helpers() {
        let mut v = vec![(5, 10), (0, 3), (3, 4), (8, 12), (20, 20)];
        merge(&mut v);
        assert_eq!(v, [(0, 4), (5, 12)]);
        assert_eq!(intersection(&v, &[(2, 6), (11, 30)]), 4);
        assert_eq!(subtract(&[(0, 10), (20, 30)], &[(2, 4), (8, 22)]), [(0, 2), (4, 8), (22, 30)]);
    }

    #[test]
    fn bad_bed_names_the_line() {
        let err =
            evaluate(&b"c1 1 2\nc1 x 3\n"[..], &b""[..], &b""[..], &b""[..], &Default::default())
                .unwrap_err();
        assert!(err.to_string().contains("truth BED line 2"), "{err}");
    }

    #[test]
    fn seeded_band_agrees_with_full_alignment() {
        // ~10% random substitutions plus an 8-base deletion and a 6-base insertion, behind 300 bases
        // of unrelated flank: the diagonal moves, the band must follow.
        let planted = random(4, 3_000);
        let mut predicted = random(5, 300);
        let mut rng = Rng::new(7, 0);
        let diverged: Vec<u8> = planted
            .iter()
            .map(|&b| if rng.chance(0.1) { if b == b'A' { b'C' } else { b'A' } } else { b })
            .collect();
        predicted.extend_from_slice(&diverged[..1_000]);
        predicted.extend_from_slice(&diverged[1_008..2_000]);
        predicted.extend_from_slice(b"GATTAC");
        predicted.extend_from_slice(&diverged[2_000..]);
        let full = local_identity(&planted, &predicted);
        let seeded = seeded_identity(&planted, &kmer_index(&planted), &predicted).unwrap();
        assert_eq!(full, seeded);
        assert!(full.identity > 0.85 && full.planted_coverage > 0.99, "{full:?}");
        let rc = reverse_complement(&predicted);
        let seeded_rc = seeded_identity(&planted, &kmer_index(&planted), &rc).unwrap();
        assert!(seeded_rc.reverse && seeded_rc.identity == full.identity, "{seeded_rc:?}");
        assert_eq!(seeded_identity(&planted, &kmer_index(&planted), &random(6, 3_000)), None);
    }

    #[test]
    fn indexed_matching_agrees_with_aligning_every_pair() {
        let planted: Vec<(String, Vec<u8>)> = (0..12u64)
            .map(|i| (format!("fam{i}"), random(100 + i, 60 + 150 * i as usize)))
            .chain([("tiny".to_owned(), b"ACGTAC".to_vec())])
            .collect();
        // Close copies, far copies, pieces, reverse complements, noise and tiny consensi.
        let mut candidates: Vec<(String, Vec<u8>)> = Vec::new();
        for (i, (_, seq)) in planted.iter().enumerate() {
            let variant = match i % 4 {
                0 => diverge(seq, 12),
                1 => reverse_complement(&diverge(seq, 25)),
                2 => diverge(&seq[..seq.len() / 2], 7),
                _ => diverge(seq, 3),
            };
            candidates.push((format!("c{i}"), variant));
            candidates.push((format!("n{i}"), random(500 + i as u64, 300)));
        }
        candidates.push(("short".to_owned(), b"ACGTA".to_vec()));
        candidates.push(("same".to_owned(), planted[7].1.clone()));
        let options = EvaluateOptions::default();
        let indexed = match_families(&planted, &candidates, &options);
        let recovers = |seq: &[u8], cand: &str| {
            let (_, c) = candidates.iter().find(|(n, _)| n == cand).unwrap();
            let m = best_strand_identity(seq, c);
            m.identity >= options.family_identity && m.planted_coverage >= options.family_coverage
        };
        for ((name, seq), got) in planted.iter().zip(&indexed) {
            let every = best_match(name, seq, candidates.iter(), &options);
            // Recovered or not as when every pair is aligned; the name may be another
            // candidate that recovers it too; unrecovered, the same best alignment.
            assert_eq!(got.predicted.is_some(), every.predicted.is_some(), "{name}");
            match &got.predicted {
                Some(cand) => assert!(recovers(seq, cand), "{name}: {cand} does not recover it"),
                None => assert_eq!(got.best, every.best, "{name}"),
            }
        }
        assert!(indexed.iter().filter(|m| m.predicted.is_some()).count() >= 6);
    }

    #[test]
    fn families_are_recovered_on_both_strands() {
        let planted = random(1, 1_000);
        let other = random(2, 600);
        // 95% identical, with extra flank and a missing 5% at the start.
        let mut close = random(3, 200);
        close.extend_from_slice(&diverge(&planted[50..], 20));
        let close_rc = reverse_complement(&close);
        let far = diverge(&planted, 3); // about 67% identical
        let partial = planted[..500].to_vec();
        let truth = fasta(&[("fam1", &planted), ("fam2", &other)]);

        let m = best_strand_identity(&planted, &close_rc);
        assert!(m.reverse && m.identity > 0.9 && m.planted_coverage > 0.9, "{m:?}");
        assert!(local_identity(&planted, &far).identity < 0.8);

        let check = |preds: &[(&str, &[u8])], expect: Option<&str>| {
            let e =
                evaluate(&b""[..], &b""[..], &truth[..], &fasta(preds)[..], &Default::default())
                    .unwrap();
            assert_eq!(e.families.len(), 2);
            assert_eq!(e.families[0].predicted.as_deref(), expect);
            assert_eq!(e.families[1].predicted, None);
            e
        };
        check(&[("a", &close)], Some("a"));
        check(&[("x", &other[..100]), ("b", &close_rc)], Some("b"));
        check(&[("c", &far)], None);
        check(&[("d", &partial)], None);
        let e = check(&[("e", &planted)], Some("e"));
        assert_eq!(e.family_fraction(), 0.5);
        assert!(e.to_string().contains("families_recovered\t1\n"));
    }
}
