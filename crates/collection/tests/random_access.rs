//! Random access is real: a range query reads the footer, the metadata it needs and the parts
//! of the segments the range overlaps — nothing else.

use std::collections::HashSet;
use std::sync::Mutex;

use seqflow_collection::CollectionReader;
use seqflow_collection::container::{CountingReadAt, ReadAt, StreamInfo};
use seqflow_collection::names::{delta_stream_name, reference_stream_name};
use seqflow_collection::reader::RAW_GROUPS;

/// Records every positional read.
struct RecordingSource {
    data: Vec<u8>,
    reads: Mutex<Vec<(u64, usize)>>,
}

impl ReadAt for RecordingSource {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.reads.lock().unwrap().push((offset, buf.len()));
        self.data.as_slice().read_exact_at(offset, buf)
    }
}

fn part_offsets(streams: &[StreamInfo], name: &str, parts: &[usize]) -> Vec<u64> {
    let stream = streams.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("{name}"));
    parts.iter().map(|&p| stream.parts[p].offset).collect()
}

#[test]
fn a_range_query_reads_only_the_parts_it_needs() {
    let data =
        std::fs::read(format!("{}/tests/data/pan8.agc", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let file_len = data.len() as u64;
    let source = RecordingSource { data, reads: Mutex::new(Vec::new()) };
    let reader = CollectionReader::new(source).unwrap();
    let (from, to) = (700_000u64, 709_999u64); // 10 kb in the middle of chr1
    let (_, contig) = reader.find_contig("chr1", Some("hap06")).unwrap();
    let mut decoder = reader.decoder().unwrap();
    let mut codes = Vec::new();
    reader.decode_contig(&mut decoder, &contig, Some((from, to)), &mut codes).unwrap();
    assert_eq!(codes.len(), 10_000);

    // The parts a correct reader may touch: metadata streams (batch 0) and, for each segment
    // overlapping the range, its group's reference and the pack holding it.
    let streams = reader.archive().streams();
    let pack = reader.params().pack_cardinality;
    let k = u64::from(reader.params().kmer_length);
    let mut allowed: HashSet<u64> = HashSet::new();
    for name in [
        "file_type_info",
        "params",
        "collection-samples",
        "collection-contigs",
        "collection-details",
    ] {
        allowed.extend(part_offsets(streams, name, &[0]));
    }
    let mut start = 0u64;
    let mut overlapping = 0;
    for (i, seg) in contig.segments.iter().enumerate() {
        let end = start + u64::from(seg.raw_length) - if i == 0 { 0 } else { k };
        if end > from && start <= to {
            overlapping += 1;
            if seg.group_id < RAW_GROUPS {
                let p = (seg.in_group_id / pack) as usize;
                allowed.extend(part_offsets(streams, &delta_stream_name(seg.group_id), &[p]));
            } else {
                allowed.extend(part_offsets(streams, &reference_stream_name(seg.group_id), &[0]));
                if seg.in_group_id > 0 {
                    let p = ((seg.in_group_id - 1) / pack) as usize;
                    allowed.extend(part_offsets(streams, &delta_stream_name(seg.group_id), &[p]));
                }
            }
        }
        start = end;
    }
    assert!((1..=3).contains(&overlapping), "{overlapping} segments overlap 10 kb");

    let footer_start = file_len - reader.archive().footer_bytes();
    let reads = reader.archive().source().reads.lock().unwrap().clone();
    let mut total = 0u64;
    for &(offset, len) in &reads {
        total += len as u64;
        let is_footer = offset >= footer_start;
        assert!(
            is_footer || allowed.contains(&offset),
            "read of {len} bytes at {offset} is not needed"
        );
    }
    // Footer + tail, and each needed part (+ at most 9 bytes of metadata varint) once.
    let parts_bytes: u64 = streams
        .iter()
        .flat_map(|s| s.parts.iter())
        .filter(|p| allowed.contains(&p.offset))
        .map(|p| p.size + 9)
        .sum();
    assert!(total <= reader.archive().footer_bytes() + 8 + parts_bytes, "{total} bytes read");
    assert!(total * 5 < file_len, "{total} of {file_len} bytes read for a 10 kb range");
    eprintln!("10 kb range: {} reads, {total} of {file_len} bytes", reads.len());

    // The library's counting source sees the same bytes.
    let counting = CountingReadAt::new(reader.archive().source().data.clone());
    let again = CollectionReader::new(counting).unwrap();
    let (_, contig) = again.find_contig("chr1", Some("hap06")).unwrap();
    let mut decoder = again.decoder().unwrap();
    again.decode_contig(&mut decoder, &contig, Some((from, to)), &mut Vec::new()).unwrap();
    assert_eq!(again.archive().source().bytes_read(), total);
    assert_eq!(again.archive().source().reads(), reads.len() as u64);
}
