//! The format layer alone (container, names, details, payloads) on the archives C++ agc wrote.

use seqflow_collection::container::ArchiveReader;
use seqflow_collection::details::{decode_details, unpack_details};
use seqflow_collection::names::{decode_contig_names, delta_stream_name, reference_stream_name};
use seqflow_collection::payload::{FileTypeInfo, Params, decode_pack, decode_reference, pack_item};
use seqflow_collection::varint::ByteCursor;

fn archive(name: &str) -> ArchiveReader<Vec<u8>> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    ArchiveReader::open(std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn pan8_metadata_decodes() {
    let reader = archive("pan8.agc");
    let info = reader.read_named_part("file_type_info", 0).unwrap();
    let info = FileTypeInfo::decode(&info.data, info.metadata).unwrap();
    assert_eq!(info.file_version().unwrap(), (3, 0));
    assert_eq!(info.get("producer"), Some("agc"));

    let params = Params::decode(&reader.read_named_part("params", 0).unwrap().data).unwrap();
    assert_eq!(
        params,
        Params { kmer_length: 31, min_match_length: 20, pack_cardinality: 50, segment_size: 60000 }
    );

    let mut dctx = zstd::bulk::Decompressor::new().unwrap();
    let samples = reader.read_named_part("collection-samples", 0).unwrap();
    let raw = zstd::bulk::decompress(&samples.data, samples.metadata as usize).unwrap();
    let mut cursor = ByteCursor::new(&raw, "samples");
    let n = cursor.cvarint().unwrap();
    let names: Vec<String> =
        (0..n).map(|_| String::from_utf8(cursor.c_string().unwrap().to_vec()).unwrap()).collect();
    assert_eq!(names, (1..=8).map(|i| format!("hap{i:02}")).collect::<Vec<_>>());

    let contigs = reader.read_named_part("collection-contigs", 0).unwrap();
    let raw = zstd::bulk::decompress(&contigs.data, contigs.metadata as usize).unwrap();
    let batch = decode_contig_names(&raw).unwrap();
    assert_eq!(batch.len(), 8);
    assert!(batch.iter().all(|contigs| contigs.len() == 2), "{batch:?}");
    assert!(batch[0][0].starts_with("chr1"), "{:?}", batch[0]);

    let details = reader.read_named_part("collection-details", 0).unwrap();
    let streams = unpack_details(&mut dctx, &details.data).unwrap();
    let details = decode_details(&streams, 60000 + 31).unwrap();
    assert_eq!(details.len(), 8);
    // Every segment's group exists; hap01's chr1 (the reference) is 1,219,131 bases long.
    let chr1: u64 = details[0][0].iter().map(|s| u64::from(s.raw_length) - 31).sum::<u64>() + 31;
    assert_eq!(chr1, 1_219_131);
    for seg in details.iter().flatten().flatten() {
        let name = if seg.group_id < 16 || seg.in_group_id > 0 {
            delta_stream_name(seg.group_id)
        } else {
            reference_stream_name(seg.group_id)
        };
        assert!(reader.stream_id(&name).is_some(), "{name} for {seg:?}");
    }

    // The first segment of the reference is member 0 of its group: its reference part has
    // exactly raw_length codes, all below 16.
    let first = details[0][0][0];
    assert_eq!(first.in_group_id, 0);
    let part = reader.read_named_part(&reference_stream_name(first.group_id), 0).unwrap();
    let codes = decode_reference(&mut dctx, &part.data, part.metadata, &"ref").unwrap();
    assert_eq!(codes.len(), first.raw_length as usize);
    assert!(codes.iter().all(|&c| c < 16));

    // A delta pack splits into items.
    let with_deltas =
        details.iter().flatten().flatten().find(|s| s.in_group_id > 0 && s.group_id >= 16).unwrap();
    let deltas = reader.read_named_part(&delta_stream_name(with_deltas.group_id), 0).unwrap();
    let pack = decode_pack(&mut dctx, &deltas.data, deltas.metadata, &"pack").unwrap();
    assert!(!pack_item(&pack, 0).unwrap().is_empty());
}
