//! `append`: a new archive holding an existing one plus new samples.
//!
//! The state a fresh `create` would have after the existing samples is rebuilt from the
//! archive: splitters (`splitters`), group keys (`segment-splitters`), every group's
//! reference (decoded, LZ index rebuilt) and its last pack (decoded and re-opened), the sample
//! list and the last metadata batch when it is not full. Every other part is copied as it is.
//! New samples then go through the same steps as in `create`, so an appended sample costs
//! what it would cost in a fresh archive of all the samples.

use std::collections::HashMap;
use std::io::Write;

use super::archive::ArchiveOutput;
use super::compressor::{Compressor, ContigPlaces, RAW_GROUPS, SamplePlaces, SegmentPlace};
use super::group::Group;
use crate::container::{ArchiveReader, ReadAt};
use crate::names::{delta_stream_name, reference_stream_name};
use crate::payload::{decode_pack, decode_reference};
use crate::reader::CollectionReader;
use crate::{Error, Result};

/// What an existing archive contributes to an append.
pub struct Reopened<W: Write> {
    /// The compressor state after the existing samples.
    pub compressor: Compressor,
    /// The output with every copied part written.
    pub output: ArchiveOutput<W>,
    /// Names of the samples already in the archive.
    pub existing_samples: Vec<String>,
}

/// Reads `reader`'s archive, copies what stays unchanged into `out`, and rebuilds the state.
///
/// # Errors
/// [`Error::Format`] when the archive is damaged (a part that does not decode, a missing
/// stream); write errors.
pub fn reopen<R: ReadAt, W: Write>(
    reader: &CollectionReader<R>,
    out: W,
    concatenated: bool,
    threads: usize,
) -> Result<Reopened<W>> {
    let params = reader.params();
    let archive = reader.archive();
    let splitters = read_splitters(archive)?;
    let keys = read_keys(archive)?;
    let b = params.pack_cardinality as usize;
    let mut output = ArchiveOutput::new(out, params, RAW_GROUPS);
    let mut dctx = zstd::bulk::Decompressor::new()?;
    let mut groups = Vec::new();
    let mut group = 0u32;
    loop {
        let ref_stream = archive.stream_id(&reference_stream_name(group));
        let delta_stream = archive.stream_id(&delta_stream_name(group));
        if ref_stream.is_none() && delta_stream.is_none() {
            break;
        }
        output.register_groups(group + 1);
        let mut members = 0u32;
        let mut reference = None;
        if let Some(id) = ref_stream.filter(|&id| !archive.streams()[id].parts.is_empty()) {
            let part = archive.read_part(id, 0)?;
            let what = format!("{} part 0", reference_stream_name(group));
            reference = Some(decode_reference(&mut dctx, &part.data, part.metadata, &what)?);
            output.copy_part(&reference_stream_name(group), &part.data, part.metadata)?;
            members = 1;
        }
        let mut open_pack = Vec::new();
        if let Some(id) = delta_stream {
            let parts = archive.streams()[id].parts.len();
            for index in 0..parts {
                let part = archive.read_part(id, index)?;
                if index + 1 < parts {
                    output.copy_part(&delta_stream_name(group), &part.data, part.metadata)?;
                    members += b as u32;
                } else {
                    let what = format!("{} part {index}", delta_stream_name(group));
                    let pack = decode_pack(&mut dctx, &part.data, part.metadata, &what)?;
                    let mut items: Vec<Vec<u8>> =
                        pack.split(|&x| x == 0xFF).map(<[u8]>::to_vec).collect();
                    // The piece after the last separator is not an item.
                    items.pop();
                    if items.len() > b {
                        return Err(Error::format(format!(
                            "{what}: {} items in a pack of {b}",
                            items.len()
                        )));
                    }
                    members += items.len() as u32;
                    open_pack = items;
                }
            }
        }
        groups.push(if group < RAW_GROUPS {
            Group::reopen_raw(params.pack_cardinality, members, open_pack)
        } else {
            match reference {
                Some(reference) => Group::reopen_lz(
                    params.pack_cardinality,
                    params.min_match_length,
                    &reference,
                    members,
                    open_pack,
                ),
                None => Group::new_lz(params.pack_cardinality, params.min_match_length),
            }
        });
        group += 1;
    }
    if groups.len() < RAW_GROUPS as usize {
        return Err(Error::format(format!("{} raw groups, {RAW_GROUPS} expected", groups.len())));
    }
    if let Some(((k1, k2), id)) = keys.iter().find(|(_, id)| *id as usize >= groups.len()) {
        return Err(Error::format(format!(
            "segment-splitters: key ({k1:#x}, {k2:#x}) names group {id}, which has no stream"
        )));
    }
    // Lowercase runs of `--keep-case` archives are kept.
    if let Some(id) = archive.stream_id(super::case::CASE_STREAM) {
        for index in 0..archive.streams()[id].parts.len() {
            let part = archive.read_part(id, index)?;
            output.copy_part(super::case::CASE_STREAM, &part.data, part.metadata)?;
        }
    }
    let samples = reader.samples().to_vec();
    let full_batches = samples.len() / b;
    let contigs_stream = archive
        .stream_id("collection-contigs")
        .ok_or_else(|| Error::format("no collection-contigs stream"))?;
    let details_stream = archive
        .stream_id("collection-details")
        .ok_or_else(|| Error::format("no collection-details stream"))?;
    for batch in 0..full_batches {
        let names = archive.read_part(contigs_stream, batch)?;
        let details = archive.read_part(details_stream, batch)?;
        output.copy_batch(&names.data, names.metadata, &details.data, details.metadata)?;
    }
    let mut open = Vec::new();
    for name in &samples[full_batches * b..] {
        let contigs = reader.sample_contigs(name)?;
        open.push(SamplePlaces {
            name: name.clone(),
            contigs: contigs
                .into_iter()
                .map(|c| ContigPlaces {
                    name: c.name,
                    segments: c
                        .segments
                        .iter()
                        .map(|s| SegmentPlace {
                            group: s.group_id,
                            in_group: s.in_group_id,
                            reverse_complemented: s.reverse_complement,
                            raw_len: s.raw_length,
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    output.restore_samples(samples[..full_batches * b].to_vec(), open);
    let compressor = Compressor::reopen(params, &splitters, keys, groups, concatenated, threads);
    Ok(Reopened { compressor, output, existing_samples: samples })
}

fn read_splitters<R: ReadAt>(archive: &ArchiveReader<R>) -> Result<Vec<u64>> {
    let part = archive.read_named_part("splitters", 0)?;
    if part.data.len() as u64 != part.metadata.saturating_mul(8) {
        return Err(Error::format(format!(
            "splitters: {} bytes for {} splitters",
            part.data.len(),
            part.metadata
        )));
    }
    Ok(part
        .data
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

fn read_keys<R: ReadAt>(archive: &ArchiveReader<R>) -> Result<Vec<((u64, u64), u32)>> {
    let part = archive.read_named_part("segment-splitters", 0)?;
    if part.data.len() as u64 != part.metadata.saturating_mul(20) {
        return Err(Error::format(format!(
            "segment-splitters: {} bytes for {} keys",
            part.data.len(),
            part.metadata
        )));
    }
    let mut keys: HashMap<(u64, u64), u32> = HashMap::new();
    for record in part.data.chunks_exact(20) {
        let k1 = u64::from_le_bytes(record[0..8].try_into().expect("8 bytes"));
        let k2 = u64::from_le_bytes(record[8..16].try_into().expect("8 bytes"));
        let id = u32::from_le_bytes(record[16..20].try_into().expect("4 bytes"));
        keys.insert((k1, k2), id);
    }
    let mut keys: Vec<((u64, u64), u32)> = keys.into_iter().collect();
    keys.sort_unstable();
    Ok(keys)
}
