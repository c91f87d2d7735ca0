//! `agc_reader`: arbitrary bytes opened as an AGC collection archive, every sample listed and
//! its contigs decoded, whole and by range, as `seqflow collection` does.
//!
//! Invariants checked on whatever opens: a whole contig decodes to exactly its declared
//! length; a range decodes to exactly the bases of the whole contig at those positions (or
//! both fail); a range past the end is an error, never a panic or a short answer.

use seqflow_collection::CollectionReader;

/// Longest contig decoded (keeps each run fast; declared lengths may be huge).
const MAX_CONTIG: u64 = 1 << 22;
/// Samples and contigs looked at per input.
const MAX_SAMPLES: usize = 8;
const MAX_CONTIGS: usize = 16;

/// The target body.
pub fn agc_reader(data: &[u8]) {
    let Ok(reader) = CollectionReader::new(data.to_vec()) else { return };
    let k = reader.params().kmer_length;
    let Ok(mut decoder) = reader.decoder() else { return };
    let samples: Vec<String> = reader.samples().iter().take(MAX_SAMPLES).cloned().collect();
    for sample in &samples {
        let names = reader.contig_names(sample);
        let Ok(contigs) = reader.sample_contigs(sample) else { continue };
        if let Ok(names) = names {
            assert_eq!(names.len(), contigs.len(), "names and descriptors disagree");
        }
        for contig in contigs.iter().take(MAX_CONTIGS) {
            let length = contig.length(k);
            if length > MAX_CONTIG {
                continue;
            }
            // Lookups by name find this contig or an earlier one with the same first word.
            if let Ok((found_in, found)) = reader.find_contig(contig.short_name(), Some(sample)) {
                assert_eq!(&found_in, sample);
                assert_eq!(found.short_name(), contig.short_name());
            }
            let mut whole = Vec::new();
            let whole_ok = reader.decode_contig(&mut decoder, contig, None, &mut whole).is_ok();
            if whole_ok {
                assert_eq!(whole.len() as u64, length, "whole contig length");
            }
            if length == 0 {
                assert!(
                    reader
                        .decode_contig(&mut decoder, contig, Some((0, 0)), &mut Vec::new())
                        .is_err()
                );
                continue;
            }
            let from = (data.len() as u64 * 7919) % length;
            let to = (from + (length / 3).max(1)).min(length - 1);
            let mut part = Vec::new();
            let part_ok =
                reader.decode_contig(&mut decoder, contig, Some((from, to)), &mut part).is_ok();
            if whole_ok && part_ok {
                assert!(part == whole[from as usize..=to as usize], "range {from}-{to} differs");
            }
            if part_ok {
                assert_eq!(part.len() as u64, to - from + 1, "range length");
            }
            let past =
                reader.decode_contig(&mut decoder, contig, Some((from, length)), &mut Vec::new());
            assert!(past.is_err(), "a range past the end decoded");
        }
    }
}
