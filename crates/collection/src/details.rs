//! Segment descriptors of a metadata batch (stream `collection-details`, one part per batch).
//!
//! Every contig is a list of segments; each segment is described by its group, its id inside
//! the group, its length and whether it is stored reverse-complemented. A batch keeps these
//! as five cvarint sub-streams, each ZSTD-compressed on its own:
//!
//! ```text
//! part   = { cvarint(raw_size) cvarint(packed_size) }×5  packed₀ … packed₄
//! [0]      cvarint(n_samples) { cvarint(n_contigs) { cvarint(n_segments) }* }*
//! [1..=4]  one cvarint per segment: group id, coded in-group id, coded length, rc flag
//! ```
//!
//! In-group ids are coded against `last` = the largest non-zero id met so far in this batch
//! for the same group ([`InGroupIdCoder`]): the first one is stored as is, then `0` stays `0`,
//! `last + 1` becomes `1` and anything else `zigzag(id, last + 1) + 1`. Lengths are coded as
//! `zigzag(length, segment_size + k)` ([`crate::varint::zigzag_encode`]).

use std::collections::HashMap;

use crate::payload::decompress_at_most;
use crate::varint::{ByteCursor, write_cvarint, zigzag_decode, zigzag_encode};
use crate::{Error, Result};

/// One segment of a contig, as the collection metadata describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentDesc {
    /// The segment group (0..16 are the raw groups).
    pub group_id: u32,
    /// The segment's id in its group (0 = the group reference in LZ groups).
    pub in_group_id: u32,
    /// The segment's length in bases, including the k bases it shares with the next segment.
    pub raw_length: u32,
    /// Whether the group stores it reverse-complemented.
    pub reverse_complement: bool,
}

/// Segment descriptors of a batch: per sample, per contig, the segments in order.
pub type BatchDetails = Vec<Vec<Vec<SegmentDesc>>>;

/// The coding state of in-group ids within one batch.
#[derive(Debug, Default)]
pub struct InGroupIdCoder {
    last: HashMap<u32, u32>,
}

impl InGroupIdCoder {
    /// A coder at the start of a batch.
    pub fn new() -> InGroupIdCoder {
        InGroupIdCoder::default()
    }

    fn remember(&mut self, group: u32, id: u32, last: Option<u32>) {
        if id > 0 && last.is_none_or(|last| id > last) {
            self.last.insert(group, id);
        }
    }

    /// The code of `id` in `group`.
    pub fn encode(&mut self, group: u32, id: u32) -> u32 {
        let last = self.last.get(&group).copied();
        let code = match last {
            None => id,
            Some(_) if id == 0 => 0,
            Some(last) if u64::from(id) == u64::from(last) + 1 => 1,
            Some(last) => (zigzag_encode(u64::from(id), u64::from(last) + 1) + 1) as u32,
        };
        self.remember(group, id, last);
        code
    }

    /// The id whose code in `group` is `code`, or `None` if no id has it.
    pub fn decode(&mut self, group: u32, code: u32) -> Option<u32> {
        let last = self.last.get(&group).copied();
        let id = match last {
            None => code,
            Some(_) if code == 0 => 0,
            Some(last) if code == 1 => last.checked_add(1)?,
            Some(last) => {
                u32::try_from(zigzag_decode(u64::from(code) - 1, u64::from(last) + 1)).ok()?
            }
        };
        self.remember(group, id, last);
        Some(id)
    }
}

/// Encodes a batch into the five raw sub-streams. `predicted_length` is
/// `segment_size + kmer_length`.
///
/// # Panics
/// If a count does not fit in 32 bits.
pub fn encode_details(batch: &BatchDetails, predicted_length: u32) -> [Vec<u8>; 5] {
    let mut streams: [Vec<u8>; 5] = Default::default();
    let mut ids = InGroupIdCoder::new();
    let count = |n: usize| u32::try_from(n).expect("count fits u32");
    write_cvarint(&mut streams[0], count(batch.len()));
    for contigs in batch {
        write_cvarint(&mut streams[0], count(contigs.len()));
        for segments in contigs {
            write_cvarint(&mut streams[0], count(segments.len()));
            for seg in segments {
                let length = zigzag_encode(u64::from(seg.raw_length), u64::from(predicted_length));
                write_cvarint(&mut streams[1], seg.group_id);
                write_cvarint(&mut streams[2], ids.encode(seg.group_id, seg.in_group_id));
                write_cvarint(&mut streams[3], length as u32);
                write_cvarint(&mut streams[4], u32::from(seg.reverse_complement));
            }
        }
    }
    streams
}

/// Decodes the five raw sub-streams of a batch.
///
/// # Errors
/// [`Error::Format`] on truncation, counts that cannot fit, or impossible codes.
pub fn decode_details(streams: &[Vec<u8>; 5], predicted_length: u32) -> Result<BatchDetails> {
    let mut structure = ByteCursor::new(&streams[0], "details structure");
    let mut columns = [
        ByteCursor::new(&streams[1], "details group ids"),
        ByteCursor::new(&streams[2], "details in-group ids"),
        ByteCursor::new(&streams[3], "details lengths"),
        ByteCursor::new(&streams[4], "details orientations"),
    ];
    // Each segment takes at least one byte in every column; each count one byte.
    let max_segments = columns.iter().map(|c| c.remaining().len()).min().unwrap_or(0);
    let n_samples = structure.cvarint()? as usize;
    if n_samples > structure.remaining().len() {
        return Err(structure.error(format_args!("{n_samples} samples cannot fit")));
    }
    let mut ids = InGroupIdCoder::new();
    let mut total = 0usize;
    let mut counts: Vec<Vec<usize>> = Vec::with_capacity(n_samples);
    for _ in 0..n_samples {
        let n_contigs = structure.cvarint()? as usize;
        if n_contigs > structure.remaining().len() {
            return Err(structure.error(format_args!("{n_contigs} contigs cannot fit")));
        }
        let mut contigs = Vec::with_capacity(n_contigs);
        for _ in 0..n_contigs {
            let n_segments = structure.cvarint()? as usize;
            total += n_segments;
            if total > max_segments {
                return Err(structure.error(format_args!(
                    "{total} segments cannot fit in columns of {max_segments} bytes"
                )));
            }
            contigs.push(n_segments);
        }
        counts.push(contigs);
    }
    let mut batch = Vec::with_capacity(n_samples);
    for contig_counts in counts {
        let mut contigs = Vec::with_capacity(contig_counts.len());
        for n_segments in contig_counts {
            let mut segments = Vec::with_capacity(n_segments);
            for _ in 0..n_segments {
                let group_id = columns[0].cvarint()?;
                let code = columns[1].cvarint()?;
                let in_group_id = ids.decode(group_id, code).ok_or_else(|| {
                    columns[1].error(format_args!("impossible in-group id code {code}"))
                })?;
                let length = columns[2].cvarint()?;
                let raw_length =
                    u32::try_from(zigzag_decode(u64::from(length), u64::from(predicted_length)))
                        .map_err(|_| columns[2].error("segment length overflows"))?;
                let reverse_complement = match columns[3].cvarint()? {
                    0 => false,
                    1 => true,
                    other => return Err(columns[3].error(format_args!("orientation {other}"))),
                };
                segments.push(SegmentDesc {
                    group_id,
                    in_group_id,
                    raw_length,
                    reverse_complement,
                });
            }
            contigs.push(segments);
        }
        batch.push(contigs);
    }
    Ok(batch)
}

/// Compresses the five sub-streams into a `collection-details` part (ZSTD level 19 in AGC).
///
/// # Errors
/// ZSTD errors.
///
/// # Panics
/// If a size does not fit in 32 bits.
pub fn pack_details(
    cctx: &mut zstd::bulk::Compressor<'static>,
    streams: &[Vec<u8>; 5],
) -> std::io::Result<Vec<u8>> {
    let mut packed = Vec::with_capacity(5);
    for stream in streams {
        packed.push(cctx.compress(stream)?);
    }
    let mut part = Vec::new();
    for (raw, packed) in streams.iter().zip(&packed) {
        write_cvarint(&mut part, u32::try_from(raw.len()).expect("size fits u32"));
        write_cvarint(&mut part, u32::try_from(packed.len()).expect("size fits u32"));
    }
    for packed in &packed {
        part.extend_from_slice(packed);
    }
    Ok(part)
}

/// Splits and decompresses a `collection-details` part into the five raw sub-streams.
///
/// # Errors
/// [`Error::Format`] on truncation, corrupt ZSTD data or size mismatches.
pub fn unpack_details(
    dctx: &mut zstd::bulk::Decompressor<'static>,
    part: &[u8],
) -> Result<[Vec<u8>; 5]> {
    let mut cursor = ByteCursor::new(part, "collection-details part");
    let mut sizes = [(0u32, 0u32); 5];
    for size in &mut sizes {
        *size = (cursor.cvarint()?, cursor.cvarint()?);
    }
    let mut streams: [Vec<u8>; 5] = Default::default();
    for (i, (raw, packed)) in sizes.into_iter().enumerate() {
        let what = format!("collection-details sub-stream {i}");
        let bytes = cursor.bytes(packed as usize)?;
        let data = if raw == 0 && bytes.is_empty() {
            Vec::new()
        } else {
            decompress_at_most(dctx, bytes, u64::from(raw), &what)?
        };
        if data.len() != raw as usize {
            return Err(Error::format(format!(
                "{what}: {} bytes decoded, {raw} declared",
                data.len()
            )));
        }
        streams[i] = data;
    }
    Ok(streams)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn in_group_ids_follow_agc_coding() {
        let mut coder = InGroupIdCoder::new();
        // First occurrence raw; then next id → 1; reference → 0; a jump back → zigzag + 1.
        assert_eq!(coder.encode(20, 5), 5);
        assert_eq!(coder.encode(20, 6), 1);
        assert_eq!(coder.encode(20, 0), 0);
        assert_eq!(coder.encode(20, 3), (zigzag_encode(3, 7) + 1) as u32);
        // The largest id stays the prediction base.
        assert_eq!(coder.encode(20, 7), 1);
        // A first occurrence of id 0 does not start the state.
        assert_eq!(coder.encode(21, 0), 0);
        assert_eq!(coder.encode(21, 4), 4);
    }

    fn segment() -> impl Strategy<Value = SegmentDesc> {
        (
            0u32..40,
            prop_oneof![0u32..5, 0u32..200, any::<u32>()],
            prop_oneof![59990u32..60100, any::<u32>()],
            any::<bool>(),
        )
            .prop_map(|(group_id, in_group_id, raw_length, reverse_complement)| {
                SegmentDesc {
                    group_id,
                    in_group_id: in_group_id % (1 << 30),
                    raw_length,
                    reverse_complement,
                }
            })
    }

    proptest! {
        #[test]
        fn details_round_trip(batch in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(segment(), 0..8), 0..4), 0..4)) {
            let streams = encode_details(&batch, 60031);
            prop_assert_eq!(decode_details(&streams, 60031).unwrap(), batch.clone());
            let mut cctx = zstd::bulk::Compressor::new(19).unwrap();
            let mut dctx = zstd::bulk::Decompressor::new().unwrap();
            let part = pack_details(&mut cctx, &streams).unwrap();
            let back = unpack_details(&mut dctx, &part).unwrap();
            prop_assert_eq!(decode_details(&back, 60031).unwrap(), batch);
        }

        #[test]
        fn garbage_never_panics(parts in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..30), 5)) {
            let streams: [Vec<u8>; 5] = parts.try_into().unwrap();
            let _ = decode_details(&streams, 60031);
            let mut dctx = zstd::bulk::Decompressor::new().unwrap();
            let _ = unpack_details(&mut dctx, &streams[0]);
        }
    }
}
