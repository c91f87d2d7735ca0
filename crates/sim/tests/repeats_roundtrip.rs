//! The simulator's truth scored against itself, and against transformed copies of itself.

use seqflow_sim::evaluate::{parse_fasta, reverse_complement};
use seqflow_sim::{EvaluateOptions, RepeatGenomeConfig, evaluate, write_repeat_genome};

fn simulate() -> (Vec<u8>, Vec<u8>) {
    let mut config = RepeatGenomeConfig::new(21);
    config.length = 300_000;
    config.families = 10;
    config.max_consensus_length = 1_500;
    config.max_copies = 100;
    config.contigs = 3;
    let (mut bed, mut lib) = (Vec::new(), Vec::new());
    write_repeat_genome(&config, std::io::sink(), &mut bed, &mut lib).unwrap();
    (bed, lib)
}

#[test]
fn truth_scores_perfectly_against_itself() {
    let (bed, lib) = simulate();
    let e = evaluate(&bed[..], &bed[..], &lib[..], &lib[..], &EvaluateOptions::default()).unwrap();
    assert_eq!((e.precision(), e.recall(), e.f1()), (1.0, 1.0, 1.0));
    assert_eq!(e.element_fraction(), 1.0);
    assert_eq!((e.families.len(), e.families_recovered()), (10, 10));
}

#[test]
fn reverse_complemented_library_and_half_the_bed() {
    let (bed, lib) = simulate();
    let mut rc_lib = Vec::new();
    for (name, seq) in parse_fasta(&lib[..]).unwrap() {
        rc_lib.extend_from_slice(format!(">{name}_rc\n").as_bytes());
        rc_lib.extend_from_slice(&reverse_complement(&seq));
        rc_lib.push(b'\n');
    }
    // Keep only the first half of every interspersed element.
    let text = std::str::from_utf8(&bed).unwrap();
    let mut half = String::new();
    for line in text.lines().filter(|l| l.contains("\tfam")) {
        let f: Vec<&str> = line.split('\t').collect();
        let (start, end): (u64, u64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        half.push_str(&format!("{}\t{}\t{}\n", f[0], start, start + (end - start) / 2));
    }
    let e =
        evaluate(&bed[..], half.as_bytes(), &lib[..], &rc_lib[..], &Default::default()).unwrap();
    assert_eq!(e.precision(), 1.0);
    assert!((e.recall() - 0.5).abs() < 0.01, "recall {}", e.recall());
    assert_eq!(e.families_recovered(), 10);
    assert!(e.families.iter().all(|f| f.best.unwrap().reverse));
}
