//! Writing the archive file: group parts as they are finished, collection metadata in
//! batches, the small streams and the footer at the end.

use std::io::Write;

use super::compressor::{Compressor, NamedPart, SamplePlaces};
use crate::container::ArchiveWriter;
use crate::details::{BatchDetails, SegmentDesc, encode_details, pack_details};
use crate::names::{delta_stream_name, encode_contig_names, reference_stream_name};
use crate::payload::{FileTypeInfo, Params};
use crate::varint::write_cvarint;

/// zstd levels of the collection streams (as AGC).
const LEVEL_SAMPLES: i32 = 19;
const LEVEL_CONTIG_NAMES: i32 = 18;
const LEVEL_DETAILS: i32 = 19;

/// The archive file being written.
pub struct ArchiveOutput<W: Write> {
    writer: ArchiveWriter<W>,
    params: Params,
    sample_names: Vec<String>,
    /// Samples whose metadata batch is not written yet.
    open_batch: Vec<SamplePlaces>,
    registered_groups: u32,
    names_zstd: zstd::bulk::Compressor<'static>,
    details_zstd: zstd::bulk::Compressor<'static>,
}

impl<W: Write> ArchiveOutput<W> {
    /// Starts an archive on `out`. Streams are registered in AGC's order: the three
    /// collection streams first (C++ `agc append` copies them by stream id and needs them at
    /// ids 0..3), then the raw groups, then the groups as they are created.
    pub fn new(out: W, params: Params, raw_groups: u32) -> ArchiveOutput<W> {
        let mut writer = ArchiveWriter::new(out);
        for name in ["collection-samples", "collection-contigs", "collection-details"] {
            writer.register_stream(name);
        }
        for group in 0..raw_groups {
            writer.register_stream(&delta_stream_name(group));
        }
        ArchiveOutput {
            writer,
            params,
            sample_names: Vec::new(),
            open_batch: Vec::new(),
            registered_groups: raw_groups,
            names_zstd: zstd::bulk::Compressor::new(LEVEL_CONTIG_NAMES).expect("zstd context"),
            details_zstd: zstd::bulk::Compressor::new(LEVEL_DETAILS).expect("zstd context"),
        }
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.writer.position()
    }

    /// Registers the streams of groups up to `group_count` (both streams, as AGC does).
    pub fn register_groups(&mut self, group_count: u32) {
        for group in self.registered_groups..group_count {
            self.writer.register_stream(&reference_stream_name(group));
            self.writer.register_stream(&delta_stream_name(group));
        }
        self.registered_groups = self.registered_groups.max(group_count);
    }

    /// Appends finished group parts in the given order.
    ///
    /// # Errors
    /// Write errors.
    pub fn write_parts(&mut self, parts: Vec<NamedPart>) -> std::io::Result<()> {
        for NamedPart { group, part } in parts {
            let name = if part.is_reference {
                reference_stream_name(group)
            } else {
                delta_stream_name(group)
            };
            let id = self.writer.register_stream(&name);
            self.writer.add_part(id, &part.data, part.metadata)?;
        }
        Ok(())
    }

    /// Writes the lowercase runs of `samples` (one `seqflow-case` part each).
    ///
    /// # Errors
    /// Write errors.
    pub fn add_case_runs(
        &mut self,
        samples: &[super::compressor::SampleContigs],
    ) -> std::io::Result<()> {
        for sample in samples {
            let runs: super::case::CaseRuns =
                sample.contigs.iter().map(|c| c.lowercase.clone()).collect();
            let raw = super::case::encode_case_runs(&sample.name, &runs);
            let packed = zstd::bulk::compress(&raw, LEVEL_SAMPLES)?;
            self.copy_part(super::case::CASE_STREAM, &packed, raw.len() as u64)?;
        }
        Ok(())
    }

    /// Copies a part of an existing archive unchanged.
    ///
    /// # Errors
    /// Write errors.
    pub fn copy_part(&mut self, stream: &str, data: &[u8], metadata: u64) -> std::io::Result<()> {
        let id = self.writer.register_stream(stream);
        self.writer.add_part(id, data, metadata)?;
        Ok(())
    }

    /// Copies a full metadata batch of an existing archive unchanged.
    ///
    /// # Errors
    /// Write errors.
    pub fn copy_batch(
        &mut self,
        names: &[u8],
        names_metadata: u64,
        details: &[u8],
        details_metadata: u64,
    ) -> std::io::Result<()> {
        self.copy_part("collection-contigs", names, names_metadata)?;
        self.copy_part("collection-details", details, details_metadata)
    }

    /// Restores the sample list of an existing archive: `written` samples whose batches were
    /// copied, then the samples of its last, partial batch (rewritten with the new ones).
    pub fn restore_samples(&mut self, written: Vec<String>, open: Vec<SamplePlaces>) {
        self.sample_names = written;
        self.open_batch.clear();
        for sample in open {
            self.sample_names.push(sample.name.clone());
            self.open_batch.push(sample);
        }
    }

    /// Records finished samples; writes a metadata batch each `pack_cardinality` samples.
    ///
    /// # Errors
    /// Write errors.
    pub fn add_samples(&mut self, samples: Vec<SamplePlaces>) -> std::io::Result<()> {
        for sample in samples {
            self.sample_names.push(sample.name.clone());
            self.open_batch.push(sample);
            if self.open_batch.len() == self.params.pack_cardinality as usize {
                self.write_batch()?;
            }
        }
        Ok(())
    }

    fn write_batch(&mut self) -> std::io::Result<()> {
        if self.open_batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.open_batch);
        let names: Vec<Vec<String>> =
            batch.iter().map(|s| s.contigs.iter().map(|c| c.name.clone()).collect()).collect();
        let raw_names = encode_contig_names(&names);
        let packed_names = self.names_zstd.compress(&raw_names)?;
        let id = self.writer.register_stream("collection-contigs");
        self.writer.add_part(id, &packed_names, raw_names.len() as u64)?;
        let details: BatchDetails = batch
            .iter()
            .map(|s| {
                s.contigs
                    .iter()
                    .map(|c| {
                        c.segments
                            .iter()
                            .map(|p| SegmentDesc {
                                group_id: p.group,
                                in_group_id: p.in_group,
                                raw_length: p.raw_len,
                                reverse_complement: p.reverse_complemented,
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let streams = encode_details(&details, self.params.segment_size + self.params.kmer_length);
        let part = pack_details(&mut self.details_zstd, &streams)?;
        let id = self.writer.register_stream("collection-details");
        self.writer.add_part(id, &part, 0)?;
        Ok(())
    }

    /// Writes the last batch, the last packs, `params`, `splitters`, `segment-splitters`,
    /// `collection-samples`, `file_type_info` and the footer.
    ///
    /// # Errors
    /// Write errors.
    pub fn finish(mut self, compressor: &mut Compressor) -> std::io::Result<W> {
        self.write_batch()?;
        let last_packs = compressor.finish();
        self.write_parts(last_packs)?;
        let id = self.writer.register_stream("params");
        self.writer.add_part(id, &self.params.encode(), 0)?;
        let splitters = compressor.sorted_splitters();
        let data: Vec<u8> = splitters.iter().flat_map(|s| s.to_le_bytes()).collect();
        let id = self.writer.register_stream("splitters");
        self.writer.add_part(id, &data, splitters.len() as u64)?;
        let keys = compressor.sorted_keys();
        let mut data = Vec::with_capacity(keys.len() * 20);
        for ((k1, k2), group) in &keys {
            data.extend_from_slice(&k1.to_le_bytes());
            data.extend_from_slice(&k2.to_le_bytes());
            data.extend_from_slice(&group.to_le_bytes());
        }
        let id = self.writer.register_stream("segment-splitters");
        self.writer.add_part(id, &data, keys.len() as u64)?;
        let mut raw = Vec::new();
        write_cvarint(&mut raw, self.sample_names.len() as u32);
        for name in &self.sample_names {
            raw.extend_from_slice(name.as_bytes());
            raw.push(0);
        }
        let packed = zstd::bulk::compress(&raw, LEVEL_SAMPLES)?;
        let id = self.writer.register_stream("collection-samples");
        self.writer.add_part(id, &packed, raw.len() as u64)?;
        let (data, pairs) =
            FileTypeInfo::agc_3_0("seqflow", concat!("seqflow ", env!("CARGO_PKG_VERSION")))
                .encode();
        let id = self.writer.register_stream("file_type_info");
        self.writer.add_part(id, &data, pairs)?;
        self.writer.finish()
    }
}
