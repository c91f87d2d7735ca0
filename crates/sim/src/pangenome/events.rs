//! Mutations placed on the branches of the genealogy, in base-genome coordinates.
//!
//! Every event names a half-open interval of one base contig (empty for insertions, which go
//! before the base at `start`) and the branch it arose on; every haplotype below that branch
//! carries it. Events are drawn contig by contig, each kind from a random stream of its own
//! (so changing one rate leaves the other kinds' events where they were), then made
//! compatible: structural variants never overlap one another (at least [`SV_SPACING`] bases
//! apart), small events never overlap one another, and a small event lies wholly inside or
//! wholly outside each structural variant. A small event inside an inversion or duplication
//! is inverted or duplicated with it; one inside a structural deletion disappears with it.

use super::PangenomeConfig;
use super::base::BaseContig;
use super::tree::Genealogy;
use crate::genome::BaseSampler;
use crate::rng::{Geometric, Rng};

/// Smallest distance between two structural variants, in bases.
pub const SV_SPACING: u64 = 100;
/// Longest short indel the event type can hold.
pub const MAX_INDEL: usize = 20;

/// The IUPAC codes of two or three bases, with the bases each stands for.
const AMBIGUITY_CODES: [(u8, &[u8]); 10] = [
    (b'R', b"AG"),
    (b'Y', b"CT"),
    (b'S', b"CG"),
    (b'W', b"AT"),
    (b'K', b"GT"),
    (b'M', b"AC"),
    (b'B', b"CGT"),
    (b'D', b"AGT"),
    (b'H', b"ACT"),
    (b'V', b"ACG"),
];

/// One mutation of the simulated pangenome.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Index of the base contig.
    pub contig: u32,
    /// 0-based start in the base contig.
    pub start: u64,
    /// The node whose branch (the edge above it) the event arose on.
    pub branch: u32,
    /// What happened.
    pub kind: EventKind,
}

/// Where a structural insertion's sequence was copied from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CopySource {
    /// Index of the base contig copied.
    pub contig: u32,
    /// 0-based start of the copied region (its length is the insertion's).
    pub start: u64,
    /// Whether the copy was inserted reverse-complemented.
    pub reverse: bool,
    /// Fraction of the copied bases substituted.
    pub divergence: f32,
}

/// The kinds of mutation; lengths are in bases.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// A substitution of an `ACGT` base (case kept).
    Snp {
        /// The new base, uppercase.
        alt: u8,
    },
    /// A short insertion (1–20 bases, uppercase) before the base at `start`.
    Insertion {
        /// The inserted bases.
        bases: ShortSeq,
    },
    /// A short deletion (1–20 bases).
    Deletion {
        /// Bases deleted.
        length: u32,
    },
    /// An `ACGT` base replaced by an IUPAC ambiguity code that includes it (private to one
    /// haplotype, like an assembly's heterozygous call).
    Ambiguity {
        /// The code (one of `RYSWKMBDHV`).
        code: u8,
    },
    /// Bases replaced by a run of `N` (an assembly gap, private to one haplotype).
    NRun {
        /// Bases replaced.
        length: u32,
    },
    /// A structural deletion.
    SvDeletion {
        /// Bases deleted.
        length: u32,
    },
    /// A structural insertion before the base at `start`: new sequence, or a diverged copy
    /// of another region of the base genome.
    SvInsertion {
        /// Bases inserted.
        length: u32,
        /// Seeds the inserted bases and substitutions.
        seed: u64,
        /// The copied region; `None` for new sequence.
        source: Option<CopySource>,
    },
    /// A region reverse-complemented in place.
    Inversion {
        /// Bases inverted.
        length: u32,
    },
    /// A region followed by a second copy of itself.
    TandemDuplication {
        /// Bases duplicated.
        length: u32,
    },
}

/// Up to [`MAX_INDEL`] bases stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortSeq {
    len: u8,
    bases: [u8; MAX_INDEL],
}

impl ShortSeq {
    /// The bases.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bases[..usize::from(self.len)]
    }
}

impl EventKind {
    /// Base-genome bases the event covers (0 for insertions).
    pub fn ref_length(&self) -> u64 {
        match *self {
            EventKind::Snp { .. } | EventKind::Ambiguity { .. } => 1,
            EventKind::Insertion { .. } | EventKind::SvInsertion { .. } => 0,
            EventKind::Deletion { length }
            | EventKind::NRun { length }
            | EventKind::SvDeletion { length }
            | EventKind::Inversion { length }
            | EventKind::TandemDuplication { length } => u64::from(length),
        }
    }

    /// How many bases the event adds to a haplotype carrying it (negative: removes).
    pub fn length_change(&self) -> i64 {
        match self {
            EventKind::Insertion { bases } => bases.as_bytes().len() as i64,
            EventKind::Deletion { length } | EventKind::SvDeletion { length } => {
                -i64::from(*length)
            }
            EventKind::SvInsertion { length, .. } | EventKind::TandemDuplication { length } => {
                i64::from(*length)
            }
            _ => 0,
        }
    }

    /// Whether this is a structural variant (rather than a short event).
    pub fn is_structural(&self) -> bool {
        matches!(
            self,
            EventKind::SvDeletion { .. }
                | EventKind::SvInsertion { .. }
                | EventKind::Inversion { .. }
                | EventKind::TandemDuplication { .. }
        )
    }

    /// The name used in the truth file's `kind` column.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Snp { .. } => "snp",
            EventKind::Insertion { .. } => "ins",
            EventKind::Deletion { .. } => "del",
            EventKind::Ambiguity { .. } => "iupac",
            EventKind::NRun { .. } => "n_run",
            EventKind::SvDeletion { .. } => "sv_del",
            EventKind::SvInsertion { source: None, .. } => "sv_ins",
            EventKind::SvInsertion { source: Some(_), .. } => "sv_ins_copy",
            EventKind::Inversion { .. } => "sv_inv",
            EventKind::TandemDuplication { .. } => "sv_dup",
        }
    }
}

impl Event {
    /// End (exclusive) of the base interval the event covers.
    pub fn end(&self) -> u64 {
        self.start + self.kind.ref_length()
    }

    /// End of the interval that no other event of the same class may share; insertions
    /// occupy the base they precede so that two events never share a position.
    fn occupied_end(&self) -> u64 {
        self.start + self.kind.ref_length().max(1)
    }
}

/// The compatible events of one contig: structural variants and short events, each sorted
/// by start.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContigEvents {
    pub(crate) structural: Vec<Event>,
    pub(crate) short: Vec<Event>,
}

/// Random-stream numbers of the event kinds (the genealogy uses stream 0).
#[derive(Clone, Copy)]
enum Stream {
    Snp = 1,
    Indel = 2,
    Ambiguity = 3,
    NRun = 4,
    Structural = 5,
}

/// Draws the events of every contig of `contigs` on `tree`.
pub(crate) fn draw_events(
    config: &PangenomeConfig,
    tree: &Genealogy,
    contigs: &[BaseContig],
) -> Vec<ContigEvents> {
    let drawer = Drawer::new(config, tree, contigs);
    (0..contigs.len()).map(|c| drawer.contig(c)).collect()
}

struct Drawer<'a> {
    config: &'a PangenomeConfig,
    contigs: &'a [BaseContig],
    cumulative: Vec<f64>,
    total_length: f64,
    leaves: u32,
    genome_length: u64,
}

impl<'a> Drawer<'a> {
    fn new(config: &'a PangenomeConfig, tree: &Genealogy, contigs: &'a [BaseContig]) -> Self {
        Drawer {
            config,
            contigs,
            cumulative: tree.cumulative(),
            total_length: tree.total_length(),
            leaves: tree.leaves() as u32,
            genome_length: contigs.iter().map(|c| c.seq.len() as u64).sum(),
        }
    }

    fn rng(&self, stream: Stream, contig: usize) -> Rng {
        Rng::new(self.config.seed, ((stream as u64) << 32) | contig as u64)
    }

    /// Per-site probability of an event somewhere on the tree, for a pairwise rate `d`
    /// (the expected path between two haplotypes is 2 units long, so `d / 2` per unit);
    /// `Pangenome::simulate` has checked that it stays at most 0.5.
    fn tree_wide(&self, pairwise: f64) -> Geometric {
        Geometric::new(pairwise / 2.0 * self.total_length)
    }

    fn branch(&self, rng: &mut Rng) -> u32 {
        Genealogy::pick_branch(&self.cumulative, rng.unit() * self.total_length)
    }

    /// Visits positions of a Bernoulli process along a contig of `len` bases.
    fn walk(rng: &mut Rng, gaps: Geometric, len: u64, mut visit: impl FnMut(&mut Rng, u64)) {
        let mut pos = 0u64;
        loop {
            pos = pos.saturating_add(gaps.sample(rng));
            if pos >= len {
                return;
            }
            visit(rng, pos);
            pos += 1;
        }
    }

    fn contig(&self, c: usize) -> ContigEvents {
        let seq = &self.contigs[c].seq;
        let len = seq.len() as u64;
        let event = |start, branch, kind| Event { contig: c as u32, start, branch, kind };
        let mut short = Vec::new();

        let cfg = self.config;
        let mut rng = self.rng(Stream::Snp, c);
        Self::walk(&mut rng, self.tree_wide(cfg.snp_diversity), len, |rng, pos| {
            let branch = self.branch(rng);
            if let Some(alt) = substitute(seq[pos as usize], cfg.transition_ratio, rng) {
                short.push(event(pos, branch, EventKind::Snp { alt }));
            }
        });

        let sampler = BaseSampler::new(0.5);
        let mut rng = self.rng(Stream::Indel, c);
        Self::walk(&mut rng, self.tree_wide(cfg.indel_diversity), len, |rng, pos| {
            let branch = self.branch(rng);
            let length = indel_length(rng);
            if rng.chance(0.5) {
                let mut bases = ShortSeq { len: length as u8, bases: [0; MAX_INDEL] };
                sampler.fill(rng, &mut bases.bases[..length]);
                short.push(event(pos, branch, EventKind::Insertion { bases }));
            } else if pos + length as u64 <= len {
                short.push(event(pos, branch, EventKind::Deletion { length: length as u32 }));
            }
        });

        let per_leaf = |rate: f64| Geometric::new(rate * f64::from(self.leaves));
        let mut rng = self.rng(Stream::Ambiguity, c);
        Self::walk(&mut rng, per_leaf(cfg.ambiguity_rate), len, |rng, pos| {
            let leaf = rng.below(u64::from(self.leaves)) as u32;
            let base = seq[pos as usize].to_ascii_uppercase();
            let codes: Vec<u8> = AMBIGUITY_CODES
                .iter()
                .filter(|(_, bases)| bases.contains(&base))
                .map(|&(code, _)| code)
                .collect();
            if !codes.is_empty() {
                let code = codes[rng.below(codes.len() as u64) as usize];
                short.push(event(pos, leaf, EventKind::Ambiguity { code }));
            }
        });

        let mut rng = self.rng(Stream::NRun, c);
        Self::walk(&mut rng, per_leaf(cfg.n_run_rate), len, |rng, pos| {
            let leaf = rng.below(u64::from(self.leaves)) as u32;
            let length = log_uniform(rng, 1, cfg.n_run_max_length);
            if pos + length <= len {
                short.push(event(pos, leaf, EventKind::NRun { length: length as u32 }));
            }
        });

        let mut structural = Vec::new();
        let mut rng = self.rng(Stream::Structural, c);
        Self::walk(&mut rng, self.tree_wide(cfg.sv_diversity), len, |rng, pos| {
            let branch = self.branch(rng);
            if let Some(kind) = self.structural_kind(rng, len - pos) {
                structural.push(event(pos, branch, kind));
            }
        });

        make_compatible(structural, short)
    }

    /// A structural variant of a log-uniform length; `None` if it would run past the contig
    /// end (`room` bases remain from its start).
    fn structural_kind(&self, rng: &mut Rng, room: u64) -> Option<EventKind> {
        let cfg = self.config;
        let length = log_uniform(rng, cfg.sv_min_length, cfg.sv_max_length);
        let w = &cfg.sv_weights;
        let mut draw = rng.unit() * w.iter().sum::<f64>();
        let mut which = 0;
        while which < w.len() - 1 && draw >= w[which] {
            draw -= w[which];
            which += 1;
        }
        let seed = rng.next_u64();
        let fits = length <= room;
        let length32 = length as u32;
        match which {
            0 => fits.then_some(EventKind::SvDeletion { length: length32 }),
            1 => Some(EventKind::SvInsertion { length: length32, seed, source: None }),
            2 => {
                let source = self.copy_source(rng, length)?;
                let copy_length = length.min(self.contigs[source.contig as usize].seq.len() as u64);
                Some(EventKind::SvInsertion {
                    length: copy_length as u32,
                    seed,
                    source: Some(source),
                })
            }
            3 => fits.then_some(EventKind::Inversion { length: length32 }),
            _ => fits.then_some(EventKind::TandemDuplication { length: length32 }),
        }
    }

    /// A region to copy, on a contig chosen in proportion to its length.
    fn copy_source(&self, rng: &mut Rng, length: u64) -> Option<CopySource> {
        if self.genome_length == 0 {
            return None;
        }
        let mut at = rng.below(self.genome_length);
        let mut contig = 0;
        while at >= self.contigs[contig].seq.len() as u64 {
            at -= self.contigs[contig].seq.len() as u64;
            contig += 1;
        }
        let contig_length = self.contigs[contig].seq.len() as u64;
        let start = rng.below(contig_length.saturating_sub(length) + 1);
        let divergence = (rng.unit() * self.config.copy_max_divergence) as f32;
        Some(CopySource { contig: contig as u32, start, reverse: rng.chance(0.5), divergence })
    }
}

/// A substitute for an `ACGT` base (either case; `None` for other letters): a transition
/// with probability `ratio / (ratio + 1)`, else one of the two transversions, so that the
/// expected transition:transversion count ratio is `ratio`.
fn substitute(base: u8, ratio: f64, rng: &mut Rng) -> Option<u8> {
    let upper = base.to_ascii_uppercase();
    let (transition, transversions): (u8, [u8; 2]) = match upper {
        b'A' => (b'G', [b'C', b'T']),
        b'G' => (b'A', [b'C', b'T']),
        b'C' => (b'T', [b'A', b'G']),
        b'T' => (b'C', [b'A', b'G']),
        _ => return None,
    };
    let draw = rng.unit() * (ratio + 1.0);
    Some(if draw < ratio { transition } else { transversions[usize::from(draw >= ratio + 0.5)] })
}

/// A short indel length: geometric (mean 2.5), redrawn while above [`MAX_INDEL`].
fn indel_length(rng: &mut Rng) -> usize {
    let gaps = Geometric::new(0.4);
    loop {
        let length = 1 + gaps.sample(rng);
        if length <= MAX_INDEL as u64 {
            return length as usize;
        }
    }
}

/// A length whose logarithm is uniform between those of `lo` and `hi`.
pub(crate) fn log_uniform(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    let (lo_f, hi_f) = ((lo as f64).ln(), ((hi + 1) as f64).ln());
    let x = (lo_f + rng.unit() * (hi_f - lo_f)).exp() as u64;
    x.clamp(lo, hi)
}

/// Drops the events that would clash: structural variants closer than [`SV_SPACING`] to an
/// earlier one, short events overlapping an earlier short event, and short events crossing
/// a structural variant's boundary. Input lists are each sorted by start.
fn make_compatible(structural: Vec<Event>, mut short: Vec<Event>) -> ContigEvents {
    let mut kept_sv: Vec<Event> = Vec::with_capacity(structural.len());
    for sv in structural {
        let clear = kept_sv.last().is_none_or(|prev| sv.start >= prev.occupied_end() + SV_SPACING);
        if clear {
            kept_sv.push(sv);
        }
    }
    let boundaries: Vec<u64> = kept_sv.iter().flat_map(|sv| [sv.start, sv.end()]).collect();
    // Kinds drawn from separate streams interleave; order by start, then by stream order
    // (the sort is stable), so the first-drawn kind wins a tie.
    short.sort_by_key(|e| e.start);
    let mut kept_short: Vec<Event> = Vec::with_capacity(short.len());
    for event in short {
        if kept_short.last().is_some_and(|prev| event.start < prev.occupied_end()) {
            continue;
        }
        let next_boundary = boundaries.partition_point(|&b| b <= event.start);
        if boundaries.get(next_boundary).is_some_and(|&b| b < event.end()) {
            continue;
        }
        kept_short.push(event);
    }
    ContigEvents { structural: kept_sv, short: kept_short }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_change_the_base_and_keep_the_transition_ratio() {
        let mut rng = Rng::new(2, 0);
        let (mut ts, mut tv) = (0u32, 0u32);
        for _ in 0..30_000 {
            for &b in b"ACGT" {
                let alt = substitute(b, 2.0, &mut rng).unwrap();
                assert_ne!(alt, b);
                let purine = |x: u8| x == b'A' || x == b'G';
                if purine(alt) == purine(b) { ts += 1 } else { tv += 1 }
            }
        }
        let ratio = f64::from(ts) / f64::from(tv);
        assert!((1.95..2.05).contains(&ratio), "ts:tv {ratio}");
        assert_eq!(substitute(b'N', 2.0, &mut rng), None);
    }

    #[test]
    fn indel_lengths_are_geometric_and_bounded() {
        let mut rng = Rng::new(3, 0);
        let lengths: Vec<usize> = (0..20_000).map(|_| indel_length(&mut rng)).collect();
        assert!(lengths.iter().all(|&l| (1..=MAX_INDEL).contains(&l)));
        let ones = lengths.iter().filter(|&&l| l == 1).count() as f64 / 20_000.0;
        assert!((0.38..0.42).contains(&ones), "P(1) = {ones}");
        assert!(lengths.iter().any(|&l| l >= 12), "no long indel");
    }

    #[test]
    fn compatible_events_never_clash() {
        let ev = |start, kind| Event { contig: 0, start, branch: 0, kind };
        let sv = vec![
            ev(100, EventKind::Inversion { length: 50 }),
            ev(200, EventKind::SvDeletion { length: 10 }), // too close to the inversion
            ev(300, EventKind::SvInsertion { length: 9, seed: 0, source: None }),
        ];
        let short = vec![
            ev(98, EventKind::Deletion { length: 3 }), // crosses the inversion's start
            ev(100, EventKind::Snp { alt: b'A' }),     // inside, kept
            ev(100, EventKind::Ambiguity { code: b'R' }), // same base as the SNP
            ev(149, EventKind::Deletion { length: 2 }), // crosses the inversion's end
            ev(299, EventKind::Deletion { length: 2 }), // crosses the insertion point
            ev(300, EventKind::Snp { alt: b'C' }),     // after the insertion, kept
        ];
        let kept = make_compatible(sv, short);
        let starts = |v: &[Event]| v.iter().map(|e| e.start).collect::<Vec<_>>();
        assert_eq!(starts(&kept.structural), [100, 300]);
        assert_eq!(starts(&kept.short), [100, 300]);
        assert!(matches!(kept.short[0].kind, EventKind::Snp { .. }));
    }

    #[test]
    fn log_uniform_spans_its_range() {
        let mut rng = Rng::new(4, 0);
        let xs: Vec<u64> = (0..10_000).map(|_| log_uniform(&mut rng, 1_000, 50_000)).collect();
        assert!(xs.iter().all(|&x| (1_000..=50_000).contains(&x)));
        let below_7k = xs.iter().filter(|&&x| x < 7_071).count() as f64 / 10_000.0;
        assert!((0.47..0.53).contains(&below_7k), "median fraction {below_7k}");
    }
}
