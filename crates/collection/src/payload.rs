//! Part payloads: segment references, delta and raw packs, and the small `params` and
//! `file_type_info` streams.
//!
//! * **Reference part** (`x<g>r`, one per LZ group): metadata 0 → the data are the base codes
//!   themselves. Otherwise the metadata is the number of codes and the last data byte is a
//!   marker: `0` = a ZSTD frame of the codes, `1` = a ZSTD frame of *tuples* (below).
//! * **Tuples**: when every code is below 4 (resp. 6, 16), 4 (3, 2) codes are packed into one
//!   byte in base 4 (6, 16), first code most significant; then one byte for the remaining
//!   codes (0 if none), then `(codes_per_byte << 4) | (len % codes_per_byte)`. Other inputs are
//!   copied with the marker `0x10`.
//! * **Pack part** (`x<g>d`): items each terminated by `0xFF`. Metadata 0 → stored as is;
//!   otherwise the metadata is the pack's size and the data are a ZSTD frame followed by one
//!   marker byte `0`.
//!
//! Decompression never produces, or reserves room for, more than the size the part declares,
//! and a declared size beyond what ZSTD could expand the part's bytes to is refused.

use std::collections::BTreeMap;

use crate::varint::ByteCursor;
use crate::{Error, Result};

/// Item terminator in delta and raw packs.
pub const PACK_SEPARATOR: u8 = 0xFF;
/// Reference marker: a ZSTD frame of plain codes.
const MARKER_PLAIN: u8 = 0;
/// Reference marker: a ZSTD frame of tuples.
const MARKER_TUPLES: u8 = 1;
/// The most one input byte of a ZSTD frame can expand to (an RLE block: 4 bytes → 128 KiB).
const MAX_ZSTD_EXPANSION: u64 = 32 * 1024;

/// ZSTD levels AGC uses: plain references, tuple references, packs.
pub const LEVEL_REFERENCE_PLAIN: i32 = 19;
/// ZSTD level for tuple-packed references.
pub const LEVEL_REFERENCE_TUPLES: i32 = 13;
/// ZSTD level for delta and raw packs.
pub const LEVEL_PACK: i32 = 17;

/// Decompresses the first ZSTD frame of `src` (trailing bytes are ignored) into at most
/// `limit` bytes.
///
/// # Errors
/// [`Error::Format`] naming `what` when `limit` exceeds what the frame could expand to, the
/// frame is corrupt or its content is larger than `limit`.
pub fn decompress_at_most(
    dctx: &mut zstd::bulk::Decompressor<'static>,
    src: &[u8],
    limit: u64,
    what: &dyn std::fmt::Display,
) -> Result<Vec<u8>> {
    if limit > (src.len() as u64).saturating_mul(MAX_ZSTD_EXPANSION) {
        return Err(Error::format(format!(
            "{what}: declared size {limit} is impossible for {} compressed bytes",
            src.len()
        )));
    }
    let frame_len = zstd::zstd_safe::find_frame_compressed_size(src).map_err(|code| {
        Error::format(format!(
            "{what}: corrupt ZSTD frame ({})",
            zstd::zstd_safe::get_error_name(code)
        ))
    })?;
    let mut out = Vec::with_capacity(limit as usize);
    dctx.decompress_to_buffer(&src[..frame_len], &mut out)
        .map_err(|e| Error::format(format!("{what}: corrupt ZSTD data ({e})")))?;
    Ok(out)
}

/// Decodes a reference part (data and metadata) into base codes.
///
/// # Errors
/// [`Error::Format`] naming `what` on a bad marker, corrupt ZSTD data or a size mismatch.
pub fn decode_reference(
    dctx: &mut zstd::bulk::Decompressor<'static>,
    data: &[u8],
    metadata: u64,
    what: &dyn std::fmt::Display,
) -> Result<Vec<u8>> {
    if metadata == 0 {
        return Ok(data.to_vec());
    }
    let (&marker, frame) =
        data.split_last().ok_or_else(|| Error::format(format!("{what}: empty part")))?;
    match marker {
        MARKER_PLAIN => {
            let codes = decompress_at_most(dctx, frame, metadata, what)?;
            if codes.len() as u64 != metadata {
                return Err(Error::format(format!(
                    "{what}: {} codes decoded, {metadata} declared",
                    codes.len()
                )));
            }
            Ok(codes)
        }
        MARKER_TUPLES => {
            // Tuples never take more bytes than the codes plus the two trailing bytes.
            let tuples = decompress_at_most(dctx, frame, metadata + 2, what)?;
            let codes =
                tuples_to_bytes(&tuples).map_err(|e| Error::format(format!("{what}: {e}")))?;
            if codes.len() as u64 != metadata {
                return Err(Error::format(format!(
                    "{what}: {} codes decoded, {metadata} declared",
                    codes.len()
                )));
            }
            Ok(codes)
        }
        other => Err(Error::format(format!("{what}: unknown reference marker {other}"))),
    }
}

/// Decodes a delta or raw pack part into the pack's bytes (items terminated by `0xFF`).
///
/// # Errors
/// [`Error::Format`] naming `what` on corrupt ZSTD data or a size mismatch.
pub fn decode_pack(
    dctx: &mut zstd::bulk::Decompressor<'static>,
    data: &[u8],
    metadata: u64,
    what: &dyn std::fmt::Display,
) -> Result<Vec<u8>> {
    if metadata == 0 {
        return Ok(data.to_vec());
    }
    let pack = decompress_at_most(dctx, data, metadata, what)?;
    if pack.len() as u64 != metadata {
        return Err(Error::format(format!(
            "{what}: {} bytes decoded, {metadata} declared",
            pack.len()
        )));
    }
    Ok(pack)
}

/// Item `slot` of a pack: the bytes between the `slot`-th separator and the next.
///
/// # Errors
/// When the pack has fewer items.
pub fn pack_item(pack: &[u8], slot: usize) -> Result<&[u8], String> {
    let mut separators = memchr::memchr_iter(PACK_SEPARATOR, pack);
    let start = match slot {
        0 => Some(0),
        _ => separators.nth(slot - 1).map(|p| p + 1),
    };
    match (start, separators.next()) {
        (Some(start), Some(end)) => Ok(&pack[start..end]),
        _ => Err(format!(
            "pack has {} items, slot {slot} requested",
            memchr::memchr_iter(PACK_SEPARATOR, pack).count()
        )),
    }
}

/// Builds a pack: every item followed by `0xFF`.
pub fn join_pack<I: AsRef<[u8]>>(items: &[I]) -> Vec<u8> {
    let total: usize = items.iter().map(|i| i.as_ref().len() + 1).sum();
    let mut pack = Vec::with_capacity(total);
    for item in items {
        pack.extend_from_slice(item.as_ref());
        pack.push(PACK_SEPARATOR);
    }
    pack
}

/// Encodes a pack part: `(data, metadata)`. Stored as is (metadata 0) unless ZSTD saves at
/// least two bytes, as AGC does.
///
/// # Errors
/// ZSTD errors.
pub fn encode_pack(
    cctx: &mut zstd::bulk::Compressor<'static>,
    pack: &[u8],
) -> std::io::Result<(Vec<u8>, u64)> {
    let mut packed = cctx.compress(pack)?;
    packed.push(MARKER_PLAIN);
    Ok(if packed.len() < pack.len() { (packed, pack.len() as u64) } else { (pack.to_vec(), 0) })
}

/// Whether AGC would store these reference codes as plain ZSTD (a repetitive sequence) rather
/// than as tuples: some shift `p` in 4..32 has `codes[j] == codes[j+p]` for at least half of
/// the ACGT positions.
pub fn is_repetitive(codes: &[u8]) -> bool {
    // The ACGT count over the first `len - shift` codes is kept from one shift to the next
    // instead of counted again for each.
    let mut acgt = codes[..codes.len().saturating_sub(4)].iter().filter(|&&c| c < 4).count();
    for shift in 4..32usize {
        let Some(n) = codes.len().checked_sub(shift).filter(|&n| n > 0) else {
            return false; // no pair of positions this far apart, nor farther
        };
        if shift > 4 {
            acgt -= usize::from(codes[n] < 4);
        }
        let equal = count_equal(&codes[..n], &codes[shift..]);
        if acgt > 0 && equal as f64 / acgt as f64 >= 0.5 {
            return true;
        }
    }
    false
}

/// Positions at which `a` and `b` hold the same byte. Counted in blocks of 255 with a byte
/// per lane, so that the loop vectorises 16 or 32 bytes at a time.
fn count_equal(a: &[u8], b: &[u8]) -> usize {
    a.chunks(255)
        .zip(b.chunks(255))
        .map(|(x, y)| {
            let same = x.iter().zip(y).map(|(p, q)| u8::from(p == q));
            usize::from(same.fold(0u8, u8::wrapping_add))
        })
        .sum()
}

/// Encodes a reference part: `(data, metadata)`, choosing plain or tuples as AGC does.
///
/// # Errors
/// ZSTD errors.
pub fn encode_reference(
    plain: &mut zstd::bulk::Compressor<'static>,
    tuples: &mut zstd::bulk::Compressor<'static>,
    codes: &[u8],
) -> std::io::Result<(Vec<u8>, u64)> {
    let mut packed = if is_repetitive(codes) {
        let mut packed = plain.compress(codes)?;
        packed.push(MARKER_PLAIN);
        packed
    } else {
        let mut packed = tuples.compress(&bytes_to_tuples(codes))?;
        packed.push(MARKER_TUPLES);
        packed
    };
    Ok(if packed.len() < codes.len() {
        packed.shrink_to_fit();
        (packed, codes.len() as u64)
    } else {
        (codes.to_vec(), 0)
    })
}

/// Packs codes into tuples (see the module documentation).
pub fn bytes_to_tuples(codes: &[u8]) -> Vec<u8> {
    let max = codes.iter().copied().max().unwrap_or(0);
    let (per_byte, base) = match max {
        0..=3 => (4usize, 4u8),
        4..=5 => (3, 6),
        6..=15 => (2, 16),
        _ => {
            let mut out = codes.to_vec();
            out.push(0x10);
            return out;
        }
    };
    let mut out = Vec::with_capacity(codes.len() / per_byte + 2);
    let mut chunks = codes.chunks_exact(per_byte);
    for chunk in &mut chunks {
        out.push(chunk.iter().fold(0u8, |acc, &c| acc * base + c));
    }
    out.push(chunks.remainder().iter().fold(0u8, |acc, &c| acc * base + c));
    out.push(((per_byte as u8) << 4) | (codes.len() % per_byte) as u8);
    out
}

/// Unpacks tuples into codes.
///
/// # Errors
/// A bad marker, or fewer tuple bytes than the marker needs.
pub fn tuples_to_bytes(tuples: &[u8]) -> Result<Vec<u8>, String> {
    let (&marker, body) = tuples.split_last().ok_or("empty tuple data")?;
    let per_byte = usize::from(marker >> 4);
    let remainder = usize::from(marker & 0x0F);
    if per_byte == 1 && remainder == 0 {
        return Ok(body.to_vec());
    }
    if !matches!(per_byte, 2..=4) || remainder >= per_byte {
        return Err(format!("bad tuple marker {marker:#04x}"));
    }
    let (&last, full) = body.split_last().ok_or("tuple data without the partial byte")?;
    let mut out = vec![0u8; full.len() * per_byte + remainder];
    let (whole, tail) = out.split_at_mut(full.len() * per_byte);
    match per_byte {
        4 => unpack_tuples::<4>(full, 4, whole),
        3 => unpack_tuples::<3>(full, 6, whole),
        _ => unpack_tuples::<2>(full, 16, whole),
    }
    let base = [0u8, 0, 16, 6, 4][per_byte];
    let mut byte = last;
    for code in tail.iter_mut().rev() {
        *code = byte % base;
        byte /= base;
    }
    Ok(out)
}

/// Unpacks whole tuples of `N` codes in base `base` with a 256-entry table.
fn unpack_tuples<const N: usize>(tuples: &[u8], base: u8, out: &mut [u8]) {
    let mut table = [[0u8; N]; 256];
    for (value, entry) in table.iter_mut().enumerate() {
        let mut byte = value as u8;
        for code in entry.iter_mut().rev() {
            *code = byte % base;
            byte /= base;
        }
    }
    for (codes, &byte) in out.chunks_exact_mut(N).zip(tuples) {
        codes.copy_from_slice(&table[usize::from(byte)]);
    }
}

/// The compression parameters of an archive (stream `params`: four `u32` LE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Splitter k-mer length (also the overlap between consecutive segments).
    pub kmer_length: u32,
    /// Minimum LZ-diff match length.
    pub min_match_length: u32,
    /// Items per delta/raw pack, and samples per metadata batch.
    pub pack_cardinality: u32,
    /// Expected segment size.
    pub segment_size: u32,
}

impl Params {
    /// The stream's bytes.
    pub fn encode(&self) -> Vec<u8> {
        [self.kmer_length, self.min_match_length, self.pack_cardinality, self.segment_size]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    /// Parses the stream's bytes.
    ///
    /// # Errors
    /// Fewer than 16 bytes, or values no archive can have (k = 0, pack cardinality 0).
    pub fn decode(data: &[u8]) -> Result<Params> {
        let mut cursor = ByteCursor::new(data, "params");
        let params = Params {
            kmer_length: cursor.u32_le()?,
            min_match_length: cursor.u32_le()?,
            pack_cardinality: cursor.u32_le()?,
            segment_size: cursor.u32_le()?,
        };
        if params.kmer_length == 0 || params.kmer_length > 64 || params.pack_cardinality == 0 {
            return Err(Error::format(format!("params: impossible values {params:?}")));
        }
        Ok(params)
    }
}

/// The `file_type_info` stream: `key NUL value NUL` pairs, the pair count as metadata. AGC
/// writes the keys sorted, as kept here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTypeInfo(pub BTreeMap<String, String>);

impl FileTypeInfo {
    /// The file-type info AGC 3.2.2 writes.
    pub fn agc_3_0(producer: &str, comment: &str) -> FileTypeInfo {
        let pairs = [
            ("producer", producer),
            ("producer_version_major", "3"),
            ("producer_version_minor", "2"),
            ("producer_version_build", "2"),
            ("file_version_major", "3"),
            ("file_version_minor", "0"),
            ("comment", comment),
        ];
        FileTypeInfo(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    /// The stream's data and metadata (the pair count).
    pub fn encode(&self) -> (Vec<u8>, u64) {
        let mut data = Vec::new();
        for (key, value) in &self.0 {
            data.extend_from_slice(key.as_bytes());
            data.push(0);
            data.extend_from_slice(value.as_bytes());
            data.push(0);
        }
        (data, self.0.len() as u64)
    }

    /// Parses the stream's data with `pairs` pairs.
    ///
    /// # Errors
    /// Truncated data or strings that are not UTF-8.
    pub fn decode(data: &[u8], pairs: u64) -> Result<FileTypeInfo> {
        let mut cursor = ByteCursor::new(data, "file_type_info");
        let mut map = BTreeMap::new();
        for _ in 0..pairs {
            let key = cursor.c_string()?;
            let value = cursor.c_string()?;
            let text = |b: &[u8]| {
                String::from_utf8(b.to_vec()).map_err(|_| cursor.error("text is not UTF-8"))
            };
            map.insert(text(key)?, text(value)?);
        }
        Ok(FileTypeInfo(map))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The archive format version as `(major, minor)`.
    ///
    /// # Errors
    /// When the version keys are missing or not numbers.
    pub fn file_version(&self) -> Result<(u32, u32)> {
        let number = |key: &str| -> Result<u32> {
            let text =
                self.get(key).ok_or_else(|| Error::format(format!("file_type_info: no {key}")))?;
            text.trim()
                .parse()
                .map_err(|_| Error::format(format!("file_type_info: {key} is {text:?}")))
        };
        Ok((number("file_version_major")?, number("file_version_minor")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dctx() -> zstd::bulk::Decompressor<'static> {
        zstd::bulk::Decompressor::new().unwrap()
    }

    fn cctx(level: i32) -> zstd::bulk::Compressor<'static> {
        zstd::bulk::Compressor::new(level).unwrap()
    }

    #[test]
    fn tuple_layout_matches_agc() {
        // ACGT codes: 4 per byte, base 4, first code most significant.
        assert_eq!(bytes_to_tuples(&[0, 1, 2, 3, 3]), [0b00_01_10_11, 3, 0x41]);
        // With N (4): 3 per byte, base 6.
        assert_eq!(bytes_to_tuples(&[4, 0, 1]), [4 * 36 + 1, 0, 0x30]);
        // Codes above 15: copied, marker 0x10.
        assert_eq!(bytes_to_tuples(&[30, 1]), [30, 1, 0x10]);
        assert_eq!(bytes_to_tuples(&[]), [0, 0x40]);
    }

    #[test]
    fn pack_items_are_found_by_slot() {
        let pack = join_pack(&[b"AB".as_slice(), b"", b"C"]);
        assert_eq!(pack_item(&pack, 0).unwrap(), b"AB");
        assert_eq!(pack_item(&pack, 1).unwrap(), b"");
        assert_eq!(pack_item(&pack, 2).unwrap(), b"C");
        assert!(pack_item(&pack, 3).is_err());
    }

    #[test]
    fn impossible_declared_sizes_are_refused_before_allocating() {
        let frame = zstd::bulk::compress(&[7u8; 100], 3).unwrap();
        let err = decompress_at_most(&mut dctx(), &frame, u64::MAX / 2, &"t").unwrap_err();
        assert!(err.to_string().contains("impossible"), "{err}");
        // A declared size smaller than the content is an error, not a truncation.
        assert!(decompress_at_most(&mut dctx(), &frame, 50, &"t").is_err());
    }

    #[test]
    fn params_and_file_type_info_round_trip() {
        let params = Params {
            kmer_length: 31,
            min_match_length: 20,
            pack_cardinality: 50,
            segment_size: 60000,
        };
        assert_eq!(Params::decode(&params.encode()).unwrap(), params);
        let info = FileTypeInfo::agc_3_0("seqflow", "test");
        let (data, pairs) = info.encode();
        let back = FileTypeInfo::decode(&data, pairs).unwrap();
        assert_eq!(back, info);
        assert_eq!(back.file_version().unwrap(), (3, 0));
    }

    /// AGC's test as first written: one pass per shift counting both figures.
    fn is_repetitive_by_definition(codes: &[u8]) -> bool {
        (4..32usize).any(|shift| {
            let (mut equal, mut acgt) = (0u32, 0u32);
            for j in 0..codes.len().saturating_sub(shift) {
                equal += u32::from(codes[j] == codes[j + shift]);
                acgt += u32::from(codes[j] < 4);
            }
            acgt > 0 && f64::from(equal) / f64::from(acgt) >= 0.5
        })
    }

    proptest! {
        #[test]
        fn repetitiveness_matches_its_definition(
            unit in proptest::collection::vec(0u8..16, 1..40),
            copies in 0usize..20,
            noise in proptest::collection::vec(0u8..16, 0..300),
        ) {
            let mut codes: Vec<u8> = unit.iter().cycle().take(unit.len() * copies).copied().collect();
            codes.extend(&noise);
            prop_assert_eq!(is_repetitive(&codes), is_repetitive_by_definition(&codes));
            prop_assert_eq!(is_repetitive(&noise), is_repetitive_by_definition(&noise));
        }
    }

    proptest! {
        #[test]
        fn tuples_round_trip(codes in prop_oneof![
            proptest::collection::vec(0u8..4, 0..200),
            proptest::collection::vec(0u8..6, 0..200),
            proptest::collection::vec(0u8..16, 0..200),
            proptest::collection::vec(0u8..31, 0..200),
        ]) {
            prop_assert_eq!(tuples_to_bytes(&bytes_to_tuples(&codes)).unwrap(), codes);
        }

        #[test]
        fn references_round_trip(codes in prop_oneof![
            proptest::collection::vec(0u8..4, 0..3000),
            proptest::collection::vec(0u8..16, 0..3000),
            proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8)], 0..3000),
        ]) {
            let (data, meta) = encode_reference(&mut cctx(19), &mut cctx(13), &codes).unwrap();
            prop_assert_eq!(decode_reference(&mut dctx(), &data, meta, &"t").unwrap(), codes);
        }

        #[test]
        fn packs_round_trip(items in proptest::collection::vec(
            proptest::collection::vec(0u8..0xFF, 0..300), 1..50)) {
            let pack = join_pack(&items);
            let (data, meta) = encode_pack(&mut cctx(17), &pack).unwrap();
            let back = decode_pack(&mut dctx(), &data, meta, &"t").unwrap();
            for (slot, item) in items.iter().enumerate() {
                prop_assert_eq!(pack_item(&back, slot).unwrap(), item.as_slice());
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..100), meta in 0u64..5000) {
            let _ = decode_reference(&mut dctx(), &data, meta, &"t");
            let _ = decode_pack(&mut dctx(), &data, meta, &"t");
            let _ = tuples_to_bytes(&data);
        }
    }
}
