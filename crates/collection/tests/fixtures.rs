//! The fixture archives written by C++ agc 3.2.2 decode to exactly what agc prints.

use seqflow_collection::query::{ContigQuery, output_header};
use seqflow_collection::{CollectionReader, fasta};
use sha2::{Digest, Sha256};

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The in-repo copy of a fixture archive named by its path under `shared/fixtures/agc`.
fn archive_path(fixture: &str) -> String {
    data(fixture.rsplit('/').next().unwrap())
}

fn getset(
    reader: &CollectionReader<impl seqflow_collection::container::ReadAt>,
    sample: &str,
) -> Vec<u8> {
    let mut decoder = reader.decoder().unwrap();
    let mut out = Vec::new();
    let mut codes = Vec::new();
    for contig in reader.sample_contigs(sample).unwrap() {
        codes.clear();
        reader.decode_contig(&mut decoder, &contig, None, &mut codes).unwrap();
        fasta::append_record(&mut out, &contig.name, &codes, 80);
    }
    out
}

#[test]
fn every_sample_matches_the_recorded_sha256() {
    let expected = std::fs::read_to_string(data("expected-getset.sha256")).unwrap();
    let mut checked = 0;
    for line in expected.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [archive, sample, sha] = fields[..] else { panic!("bad line {line}") };
        let reader = CollectionReader::open(archive_path(archive)).unwrap();
        let digest = Sha256::digest(getset(&reader, sample));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, sha, "{archive} {sample}");
        checked += 1;
    }
    assert_eq!(checked, 11);
}

#[test]
fn every_recorded_range_query_matches() {
    let expected = std::fs::read_to_string(data("expected-getctg.txt")).unwrap();
    let mut checked = 0;
    for block in expected.split("## agc getctg ").filter(|b| !b.trim().is_empty()) {
        let (command, output) = block.split_once('\n').unwrap();
        let mut words = command.split_whitespace();
        let archive = words.next().unwrap();
        let query = ContigQuery::parse(words.next().unwrap()).unwrap();
        let reader = CollectionReader::open(archive_path(archive)).unwrap();
        let (_, contig) = reader.find_contig(&query.contig, query.sample.as_deref()).unwrap();
        let mut codes = Vec::new();
        let mut decoder = reader.decoder().unwrap();
        reader.decode_contig(&mut decoder, &contig, query.range, &mut codes).unwrap();
        let mut ours = Vec::new();
        fasta::append_record(&mut ours, &output_header(&contig.name, query.range), &codes, 80);
        assert_eq!(String::from_utf8(ours).unwrap(), output, "{command}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}
