//! Tests of the whole simulator: an independent replay of the truth events, determinism,
//! sharing along the tree, the Ts:Tv ratio, ambiguity codes, `N` runs and case.

use proptest::prelude::*;

use super::*;
use crate::genome::BaseSampler;
use crate::rng::Rng;

/// A random base genome of `length` letters on one contig, lowercase in one stretch.
fn random_base(seed: u64, contigs: usize, length: usize) -> BaseGenome {
    let mut rng = Rng::new(seed, 99);
    let contigs = (0..contigs)
        .map(|c| {
            let mut seq = vec![0; length];
            BaseSampler::new(0.36).fill(&mut rng, &mut seq);
            seq[length / 3..length / 3 + length / 20].make_ascii_lowercase();
            (format!("chr{}", c + 1), seq)
        })
        .collect();
    BaseGenome::new(contigs).unwrap()
}

fn quiet_config(seed: u64, haplotypes: usize) -> PangenomeConfig {
    let mut config = PangenomeConfig::new(seed, haplotypes);
    config.snp_diversity = 0.0;
    config.indel_diversity = 0.0;
    config.sv_diversity = 0.0;
    config.ambiguity_rate = 0.0;
    config.n_run_rate = 0.0;
    config
}

/// Parses the FASTA a haplotype was written as into `(name, letters)` records.
fn parse_fasta(text: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix(b">") {
            records.push((String::from_utf8(name.to_vec()).unwrap(), Vec::new()));
        } else {
            records.last_mut().unwrap().1.extend_from_slice(line);
        }
    }
    records
}

fn haplotype(pangenome: &Pangenome<'_>, i: usize) -> Vec<u8> {
    let mut out = Vec::new();
    pangenome.write_haplotype(i, &mut out).unwrap();
    out
}

/// Haplotype `i` built independently of the streaming writer: a copy of each base contig
/// edited in place with every carried event, from the last start to the first, so that each
/// edit leaves the coordinates of the ones still to come unchanged. A structural variant's
/// end moves by the length changes of the short events inside it.
fn replay(pangenome: &Pangenome<'_>, i: usize) -> Vec<(String, Vec<u8>)> {
    let base = pangenome.base;
    let mut out = Vec::new();
    for (c, contig) in base.contigs().iter().enumerate() {
        let mut seq = contig.seq.clone();
        let carried: Vec<&Event> = pangenome
            .events()
            .filter(|e| e.contig as usize == c && pangenome.carries(i, e))
            .collect();
        // Last start first; at one start the short event (inside the SV, or after an
        // insertion point) goes first.
        let mut order = carried.clone();
        order.sort_by_key(|e| std::cmp::Reverse((e.start, !e.kind.is_structural())));
        for e in order {
            let (a, b) = (e.start as usize, e.end() as usize);
            let inner: i64 = carried
                .iter()
                .filter(|s| !s.kind.is_structural() && e.kind.is_structural())
                .filter(|s| s.start >= e.start && s.start < e.end())
                .map(|s| s.kind.length_change())
                .sum();
            let b_now = (b as i64 + inner) as usize;
            match &e.kind {
                EventKind::Snp { alt } => {
                    seq[a] =
                        if seq[a].is_ascii_lowercase() { alt.to_ascii_lowercase() } else { *alt }
                }
                EventKind::Ambiguity { code } => seq[a] = *code,
                EventKind::Insertion { bases } => {
                    seq.splice(a..a, bases.as_bytes().iter().copied());
                }
                EventKind::Deletion { .. } | EventKind::SvDeletion { .. } => {
                    seq.drain(a..b_now);
                }
                EventKind::NRun { .. } => seq[a..b].fill(b'N'),
                EventKind::SvInsertion { length, seed, source } => {
                    let mut inserted = Vec::new();
                    let gc = base.gc_fraction();
                    inserted_sequence(
                        *length,
                        *seed,
                        source.as_ref(),
                        base.contigs(),
                        gc,
                        &mut inserted,
                    );
                    seq.splice(a..a, inserted);
                }
                EventKind::Inversion { .. } => base::reverse_complement(&mut seq[a..b_now]),
                EventKind::TandemDuplication { .. } => {
                    let copy = seq[a..b_now].to_vec();
                    seq.splice(b_now..b_now, copy);
                }
            }
        }
        out.push((contig.name.clone(), seq));
    }
    out
}

/// The carried length changes, a short event's counted twice inside a tandem duplication
/// and not at all inside a structural deletion.
fn expected_length_change(pangenome: &Pangenome<'_>, i: usize) -> i64 {
    let carried: Vec<&Event> = pangenome.events().filter(|e| pangenome.carries(i, e)).collect();
    let enclosing = |e: &Event| {
        carried.iter().find(|sv| {
            sv.kind.is_structural()
                && sv.contig == e.contig
                && sv.start <= e.start
                && e.start < sv.end()
        })
    };
    carried
        .iter()
        .map(|e| {
            let copies = match enclosing(e).map(|sv| &sv.kind) {
                Some(EventKind::SvDeletion { .. }) if !e.kind.is_structural() => 0,
                Some(EventKind::TandemDuplication { .. }) if !e.kind.is_structural() => 2,
                _ => 1,
            };
            copies * e.kind.length_change()
        })
        .sum()
}

fn busy_config(seed: u64, haplotypes: usize) -> PangenomeConfig {
    let mut config = PangenomeConfig::new(seed, haplotypes);
    config.snp_diversity = 0.05;
    config.indel_diversity = 0.02;
    config.sv_diversity = 0.003;
    config.sv_min_length = 5;
    config.sv_max_length = 300;
    config.ambiguity_rate = 0.005;
    config.n_run_rate = 0.002;
    config.n_run_max_length = 30;
    config
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The streamed haplotype equals the truth events replayed on the base, its length is the
    /// base's plus the carried length changes, and the FASTA lines have the configured width.
    #[test]
    fn streamed_haplotypes_equal_the_replayed_truth(
        seed in any::<u64>(),
        haplotypes in 2usize..6,
        contigs in prop::collection::vec(
            prop::collection::vec(prop::sample::select(&b"ACGTacgtNNRy"[..]), 0..3_000), 1..4),
        line_width in 0usize..100,
    ) {
        let base = BaseGenome::new(
            contigs.into_iter().enumerate().map(|(i, s)| (format!("c{i}"), s)).collect(),
        ).unwrap();
        let mut config = busy_config(seed, haplotypes);
        config.line_width = line_width;
        let pangenome = Pangenome::simulate(&base, &config).unwrap();
        for i in 0..haplotypes {
            let text = haplotype(&pangenome, i);
            let expected = replay(&pangenome, i);
            let change = expected_length_change(&pangenome, i);
            let written = parse_fasta(&text);
            prop_assert_eq!(&written, &expected);
            let total: usize = written.iter().map(|(_, s)| s.len()).sum();
            prop_assert_eq!(total as i64, base.len() as i64 + change);
            if line_width > 0 {
                prop_assert!(text.split(|&b| b == b'\n').all(|l| l.first() == Some(&b'>') || l.len() <= line_width));
            }
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_others() {
    let base = random_base(1, 2, 60_000);
    let run = |seed| {
        let pangenome = Pangenome::simulate(&base, &busy_config(seed, 5)).unwrap();
        let mut all = Vec::new();
        pangenome.write_truth(&mut all).unwrap();
        all.extend_from_slice(pangenome.newick().as_bytes());
        for i in 0..5 {
            all.extend(haplotype(&pangenome, i));
        }
        all
    };
    let first = run(7);
    assert_eq!(first, run(7));
    assert_ne!(first, run(8));
}

#[test]
fn structural_variants_are_shared_by_the_clade_below_their_branch() {
    let base = random_base(2, 1, 1_000_000);
    let mut config = quiet_config(11, 6);
    config.sv_diversity = 1e-4;
    config.sv_max_length = 5_000;
    let pangenome = Pangenome::simulate(&base, &config).unwrap();
    let haps: Vec<Vec<u8>> =
        (0..6).map(|i| parse_fasta(&haplotype(&pangenome, i)).remove(0).1).collect();
    let svs: Vec<&Event> = pangenome.events().filter(|e| e.kind.is_structural()).collect();
    for kind in ["sv_del", "sv_ins", "sv_ins_copy", "sv_inv", "sv_dup"] {
        assert!(svs.iter().any(|e| e.kind.name() == kind), "no {kind} among {}", svs.len());
    }
    let tree = pangenome.genealogy();
    let shared = svs.iter().filter(|e| (0..6).filter(|&i| pangenome.carries(i, e)).count() >= 2);
    assert!(shared.count() > 0, "every SV is private");
    let seq = &base.contigs()[0].seq;
    let mut probes_checked = 0;
    for e in &svs {
        for i in 0..6 {
            assert_eq!(pangenome.carries(i, e), tree.is_below(i, e.branch as usize));
        }
        // The junctions only a carrier can contain: the inverted start of an inversion, the
        // end of a duplicated region joined to its start, the flanks of a deletion joined.
        let (a, b) = (e.start as usize, e.end() as usize);
        if a < 40 || b + 40 > seq.len() || probes_checked == 24 {
            continue;
        }
        let probe: Vec<u8> = match e.kind {
            EventKind::Inversion { .. } => {
                let mut inverted = seq[b - 40..b].to_vec();
                base::reverse_complement(&mut inverted);
                [&seq[a - 20..a], &inverted[..20]].concat()
            }
            EventKind::TandemDuplication { .. } => [&seq[b - 20..b], &seq[a..a + 20]].concat(),
            EventKind::SvDeletion { .. } => [&seq[a - 20..a], &seq[b..b + 20]].concat(),
            _ => continue,
        };
        for (i, hap) in haps.iter().enumerate() {
            let found = memchr::memmem::find(hap, &probe).is_some();
            assert_eq!(found, pangenome.carries(i, e), "{} at {a} in hap {i}", e.kind.name());
        }
        probes_checked += 1;
    }
    assert!(probes_checked >= 10, "{probes_checked}");
}

#[test]
fn transitions_outnumber_transversions_two_to_one() {
    let base = random_base(3, 1, 1_000_000);
    let mut config = quiet_config(5, 4);
    config.snp_diversity = 0.01;
    let pangenome = Pangenome::simulate(&base, &config).unwrap();
    let seq = &base.contigs()[0].seq;
    let purine = |b: u8| matches!(b.to_ascii_uppercase(), b'A' | b'G');
    let (mut ts, mut tv) = (0u64, 0u64);
    for i in 0..4 {
        let hap = parse_fasta(&haplotype(&pangenome, i)).remove(0).1;
        assert_eq!(hap.len(), seq.len());
        for (&h, &b) in hap.iter().zip(seq) {
            assert_eq!(h.is_ascii_lowercase(), b.is_ascii_lowercase(), "case changed");
            if !h.eq_ignore_ascii_case(&b) {
                if purine(h) == purine(b) { ts += 1 } else { tv += 1 }
            }
        }
    }
    let ratio = ts as f64 / tv as f64;
    assert!(ts + tv > 10_000, "{ts} + {tv} substitutions");
    assert!((1.85..2.15).contains(&ratio), "Ts:Tv {ratio} ({ts}:{tv})");
}

#[test]
fn defaults_give_every_ambiguity_code_n_runs_soft_masking_and_plausible_lengths() {
    let base = random_base(4, 2, 1_500_000);
    let pangenome = Pangenome::simulate(&base, &PangenomeConfig::new(42, 6)).unwrap();
    let mut seen = [false; 256];
    let mut n_runs = 0;
    for i in 0..6 {
        let text = haplotype(&pangenome, i);
        let records = parse_fasta(&text);
        assert_eq!(records.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["chr1", "chr2"]);
        for ((_, hap), contig) in records.iter().zip(base.contigs()) {
            let ratio = hap.len() as f64 / contig.seq.len() as f64;
            assert!((0.9..1.1).contains(&ratio), "hap {i}: length ratio {ratio}");
            assert!(hap.iter().any(u8::is_ascii_lowercase), "soft-masking lost");
            for &b in hap {
                seen[usize::from(b)] = true;
            }
            n_runs += hap.windows(2).filter(|w| w[0] != b'N' && w[1] == b'N').count();
        }
    }
    for &code in b"RYSWKMBDHV" {
        assert!(seen[usize::from(code)], "no {}", code as char);
    }
    assert!(n_runs >= 5, "{n_runs} N runs");
}

#[test]
fn truth_table_has_a_row_per_event_with_its_carriers() {
    let base = random_base(5, 2, 50_000);
    let pangenome = Pangenome::simulate(&base, &busy_config(3, 4)).unwrap();
    let mut truth = Vec::new();
    pangenome.write_truth(&mut truth).unwrap();
    let text = String::from_utf8(truth).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("#contig\tstart\tend\tkind"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    let events: Vec<&Event> = pangenome.events().collect();
    assert_eq!(rows.len(), events.len());
    for (row, event) in rows.iter().zip(&events) {
        assert_eq!(row.len(), 10);
        assert_eq!(row[1].parse::<u64>().unwrap(), event.start);
        assert_eq!(row[3], event.kind.name());
        let carriers: String =
            (0..4).map(|i| if pangenome.carries(i, event) { '1' } else { '0' }).collect();
        assert_eq!(row[8], carriers);
        assert_eq!(
            row[9] != ".",
            matches!(event.kind, EventKind::SvInsertion { source: Some(_), .. })
        );
    }
    assert!(rows.iter().any(|r| r[3] == "snp" && r[5].len() == 1 && r[6].len() == 1));
}

#[test]
fn invalid_settings_are_refused() {
    let base = random_base(6, 1, 1_000);
    let mut config = PangenomeConfig::new(1, 1);
    assert!(Pangenome::simulate(&base, &config).unwrap_err().to_string().contains("haplotypes"));
    config.haplotypes = 3;
    config.sv_min_length = 10;
    config.sv_max_length = 5;
    assert!(Pangenome::simulate(&base, &config).is_err());
    let mut config = PangenomeConfig::new(1, 50);
    config.snp_diversity = 0.2;
    let dense = Pangenome::simulate(&base, &config).unwrap_err().to_string();
    assert!(dense.contains("snp_diversity") && dense.contains("too high"), "{dense}");
}
