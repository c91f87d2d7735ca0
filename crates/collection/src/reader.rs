//! [`CollectionReader`]: samples, contigs and sequence of an AGC archive, with random access.
//!
//! Opening reads the footer, `file_type_info` (the format version must be 3.x), `params` and
//! the sample list. A sample's contig names and segment descriptors live in the metadata batch
//! of `pack_cardinality` samples that holds it; batches are read when first needed and kept.
//! Sequence is decoded segment by segment with a [`SegmentDecoder`] (one per thread: it owns
//! the ZSTD context and a small byte-bounded cache of decoded parts), so a range query reads
//! and decodes only the segments it overlaps.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::container::{ArchiveReader, FileSource, ReadAt};
use crate::details::{BatchDetails, SegmentDesc, decode_details, unpack_details};
use crate::lz_diff;
use crate::names::{
    BatchContigNames, decode_contig_names, decode_sample_names, delta_stream_name,
    reference_stream_name,
};
use crate::payload::{
    FileTypeInfo, Params, decode_pack, decode_reference, decompress_at_most, pack_item,
};
use crate::{Error, Result};

/// Groups below this id hold raw segments (no reference, no LZ-diff).
pub const RAW_GROUPS: u32 = 16;
/// Bytes of decoded parts one [`SegmentDecoder`] keeps for reuse.
const DECODER_CACHE_BYTES: usize = 16 << 20;

/// One contig of a sample: its full stored header and its segments in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contig {
    /// The whole FASTA header as stored (without `>`).
    pub name: String,
    /// The segments, in contig order.
    pub segments: Vec<SegmentDesc>,
}

impl Contig {
    /// The first whitespace-delimited word of the header: what queries match.
    pub fn short_name(&self) -> &str {
        short_contig_name(&self.name)
    }

    /// The contig's length: the segments' lengths minus the `k` bases each shares with the
    /// previous one.
    pub fn length(&self, kmer_length: u32) -> u64 {
        let total: u64 = self.segments.iter().map(|s| u64::from(s.raw_length)).sum();
        let overlaps = self.segments.len().saturating_sub(1) as u64 * u64::from(kmer_length);
        total.saturating_sub(overlaps)
    }
}

/// The part of a header a query matches: up to the first space, tab, CR or LF.
pub fn short_contig_name(header: &str) -> &str {
    header.split([' ', '\t', '\r', '\n']).next().unwrap_or("")
}

/// The contigs of one metadata batch, loaded once.
#[derive(Debug)]
struct Batch {
    names: BatchContigNames,
    details: Option<BatchDetails>,
}

/// Reads an AGC archive (format 3.x).
#[derive(Debug)]
pub struct CollectionReader<R> {
    archive: ArchiveReader<R>,
    params: Params,
    file_type_info: FileTypeInfo,
    samples: Vec<String>,
    sample_ids: HashMap<String, usize>,
    contigs_stream: usize,
    details_stream: usize,
    batches: Vec<Mutex<Option<Arc<Batch>>>>,
}

impl CollectionReader<FileSource> {
    /// Opens the archive at `path` (read with `pread`; the file is never read whole).
    ///
    /// # Errors
    /// As [`CollectionReader::new`], and when the file cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<CollectionReader<FileSource>> {
        CollectionReader::new(FileSource::new(File::open(path)?)?)
    }
}

impl<R: ReadAt> CollectionReader<R> {
    /// Reads the footer, `file_type_info`, `params` and the sample list of an archive.
    ///
    /// # Errors
    /// [`Error::Format`] when it is not an AGC archive or is damaged,
    /// [`Error::UnsupportedVersion`] for format versions other than 3.x.
    pub fn new(source: R) -> Result<CollectionReader<R>> {
        let archive = ArchiveReader::open(source)?;
        let info_id = archive.stream_id("file_type_info").ok_or_else(|| {
            Error::format("not an AGC archive: no file_type_info stream in the footer")
        })?;
        let info = archive.read_part(info_id, 0)?;
        let file_type_info = FileTypeInfo::decode(&info.data, info.metadata)?;
        let (major, minor) = file_type_info.file_version()?;
        if major != 3 {
            return Err(Error::UnsupportedVersion { major, minor });
        }
        let params = Params::decode(&archive.read_named_part("params", 0)?.data)?;

        let mut dctx = new_decompressor()?;
        let samples_part = archive.read_named_part("collection-samples", 0)?;
        let raw = decompress_at_most(
            &mut dctx,
            &samples_part.data,
            samples_part.metadata,
            &"collection-samples",
        )?;
        let samples = decode_sample_names(&raw)?;
        let mut sample_ids = HashMap::with_capacity(samples.len());
        for (id, name) in samples.iter().enumerate() {
            sample_ids.entry(name.clone()).or_insert(id);
        }
        let contigs_stream = archive
            .stream_id("collection-contigs")
            .ok_or_else(|| Error::format("no collection-contigs stream"))?;
        let details_stream = archive
            .stream_id("collection-details")
            .ok_or_else(|| Error::format("no collection-details stream"))?;
        let n_batches = samples.len().div_ceil(params.pack_cardinality as usize);
        for (stream, name) in
            [(contigs_stream, "collection-contigs"), (details_stream, "collection-details")]
        {
            let parts = archive.streams()[stream].parts.len();
            if parts < n_batches {
                return Err(Error::format(format!(
                    "{name}: {parts} parts for {} samples in batches of {} (need {n_batches})",
                    samples.len(),
                    params.pack_cardinality
                )));
            }
        }
        let batches = (0..n_batches).map(|_| Mutex::new(None)).collect();
        Ok(CollectionReader {
            archive,
            params,
            file_type_info,
            samples,
            sample_ids,
            contigs_stream,
            details_stream,
            batches,
        })
    }

    /// The archive's compression parameters.
    pub fn params(&self) -> Params {
        self.params
    }

    /// The archive's `file_type_info` pairs (producer, versions, comment).
    pub fn file_type_info(&self) -> &FileTypeInfo {
        &self.file_type_info
    }

    /// The container (for byte accounting and low-level access).
    pub fn archive(&self) -> &ArchiveReader<R> {
        &self.archive
    }

    /// Sample names in archive order (the reference first).
    pub fn samples(&self) -> &[String] {
        &self.samples
    }

    /// The reference sample (the first one), if the archive has any sample.
    pub fn reference_sample(&self) -> Option<&str> {
        self.samples.first().map(String::as_str)
    }

    fn sample_id(&self, sample: &str) -> Result<usize> {
        self.sample_ids.get(sample).copied().ok_or_else(|| Error::UnknownSample(sample.to_owned()))
    }

    /// Loads batch `index` (names always; details when `with_details`).
    fn batch(&self, index: usize, with_details: bool) -> Result<Arc<Batch>> {
        let mut slot = self.batches[index].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(batch) = slot.as_ref() {
            if batch.details.is_some() || !with_details {
                return Ok(Arc::clone(batch));
            }
        }
        let mut dctx = new_decompressor()?;
        let names = match slot.as_ref() {
            Some(batch) => batch.names.clone(),
            None => {
                let part = self.archive.read_part(self.contigs_stream, index)?;
                let what = format!("collection-contigs batch {index}");
                let raw = decompress_at_most(&mut dctx, &part.data, part.metadata, &what)?;
                let names = decode_contig_names(&raw)?;
                let expected = self.batch_len(index);
                if names.len() != expected {
                    return Err(Error::format(format!(
                        "{what}: {} samples, {expected} expected",
                        names.len()
                    )));
                }
                names
            }
        };
        let details = if with_details {
            let part = self.archive.read_part(self.details_stream, index)?;
            let streams = unpack_details(&mut dctx, &part.data)?;
            let predicted = self.params.segment_size.wrapping_add(self.params.kmer_length);
            let details = decode_details(&streams, predicted)?;
            let agrees = details.len() == names.len()
                && details.iter().zip(&names).all(|(d, n)| d.len() == n.len());
            if !agrees {
                return Err(Error::format(format!(
                    "collection-details batch {index} does not match the contig names of its \
                     samples"
                )));
            }
            Some(details)
        } else {
            None
        };
        let batch = Arc::new(Batch { names, details });
        *slot = Some(Arc::clone(&batch));
        Ok(batch)
    }

    fn batch_len(&self, index: usize) -> usize {
        let per_batch = self.params.pack_cardinality as usize;
        (self.samples.len() - index * per_batch).min(per_batch)
    }

    /// The full contig headers of `sample`, in archive order (reads its names batch only).
    ///
    /// # Errors
    /// [`Error::UnknownSample`], or a damaged names batch.
    pub fn contig_names(&self, sample: &str) -> Result<Vec<String>> {
        let id = self.sample_id(sample)?;
        let per_batch = self.params.pack_cardinality as usize;
        let batch = self.batch(id / per_batch, false)?;
        Ok(batch.names[id % per_batch].clone())
    }

    /// The contigs of `sample` with their segment descriptors.
    ///
    /// # Errors
    /// [`Error::UnknownSample`], or a damaged metadata batch.
    pub fn sample_contigs(&self, sample: &str) -> Result<Vec<Contig>> {
        let id = self.sample_id(sample)?;
        let per_batch = self.params.pack_cardinality as usize;
        let batch = self.batch(id / per_batch, true)?;
        let names = &batch.names[id % per_batch];
        let details = &batch.details.as_ref().expect("loaded with details")[id % per_batch];
        Ok(names
            .iter()
            .zip(details)
            .map(|(name, segments)| Contig { name: name.clone(), segments: segments.clone() })
            .collect())
    }

    /// Finds a contig by the first word of its header, in `sample` or, without one, in the one
    /// sample that has it (scanning every names batch, as agc does). Returns the sample name
    /// and the contig.
    ///
    /// # Errors
    /// [`Error::UnknownSample`], [`Error::UnknownContig`], [`Error::AmbiguousContig`].
    pub fn find_contig(&self, contig: &str, sample: Option<&str>) -> Result<(String, Contig)> {
        let wanted = short_contig_name(contig);
        let sample = match sample {
            Some(sample) => sample.to_owned(),
            None => {
                let mut found = Vec::new();
                let per_batch = self.params.pack_cardinality as usize;
                for index in 0..self.batches.len() {
                    let batch = self.batch(index, false)?;
                    for (offset, names) in batch.names.iter().enumerate() {
                        if names.iter().any(|n| short_contig_name(n) == wanted) {
                            found.push(index * per_batch + offset);
                        }
                    }
                }
                match found.as_slice() {
                    [] => {
                        return Err(Error::UnknownContig {
                            contig: contig.to_owned(),
                            sample: None,
                        });
                    }
                    [one] => self.samples[*one].clone(),
                    more => {
                        return Err(Error::AmbiguousContig {
                            contig: contig.to_owned(),
                            samples: more.len(),
                        });
                    }
                }
            }
        };
        let found = self
            .sample_contigs(&sample)?
            .into_iter()
            .find(|c| c.short_name() == wanted)
            .ok_or_else(|| Error::UnknownContig {
                contig: contig.to_owned(),
                sample: Some(sample.clone()),
            })?;
        Ok((sample, found))
    }

    /// A decoder for this archive (one per thread).
    ///
    /// # Errors
    /// When ZSTD cannot create a context.
    pub fn decoder(&self) -> Result<SegmentDecoder> {
        Ok(SegmentDecoder {
            dctx: new_decompressor()?,
            cache: VecDeque::new(),
            cached_bytes: 0,
            segment: Vec::new(),
        })
    }

    /// Decodes one segment into `out` (base codes, as stored: before reverse complement).
    ///
    /// # Errors
    /// [`Error::Format`] naming the group stream and part on any damage, and when the segment
    /// does not decode to its declared length.
    pub fn decode_segment(
        &self,
        decoder: &mut SegmentDecoder,
        segment: &SegmentDesc,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let per_pack = self.params.pack_cardinality;
        let group = segment.group_id;
        let expected = segment.raw_length as usize;
        if group < RAW_GROUPS {
            let (pack, slot) = (segment.in_group_id / per_pack, segment.in_group_id % per_pack);
            let stream = delta_stream_name(group);
            let data = self.cached_pack(decoder, &stream, pack as usize)?;
            let item = pack_item(&data, slot as usize)
                .map_err(|e| Error::format(format!("stream {stream} part {pack}: {e}")))?;
            out.clear();
            out.extend_from_slice(item);
        } else {
            let ref_stream = reference_stream_name(group);
            let reference = self.cached_reference(decoder, &ref_stream)?;
            if segment.in_group_id == 0 {
                out.clear();
                out.extend_from_slice(&reference);
            } else {
                let id = segment.in_group_id - 1;
                let (pack, slot) = (id / per_pack, id % per_pack);
                let stream = delta_stream_name(group);
                let data = self.cached_pack(decoder, &stream, pack as usize)?;
                let delta = pack_item(&data, slot as usize)
                    .map_err(|e| Error::format(format!("stream {stream} part {pack}: {e}")))?;
                lz_diff::decode(&reference, delta, self.params.min_match_length, expected, out)
                    .map_err(|e| {
                        Error::format(format!("stream {stream} part {pack} item {slot}: {e}"))
                    })?;
            }
        }
        if out.len() != expected {
            return Err(Error::format(format!(
                "segment {} of group {group} decodes to {} bases, its descriptor says {expected}",
                segment.in_group_id,
                out.len()
            )));
        }
        Ok(())
    }

    fn cached_reference(&self, decoder: &mut SegmentDecoder, stream: &str) -> Result<Arc<Vec<u8>>> {
        let key = (stream.to_owned(), usize::MAX);
        if let Some(hit) = decoder.lookup(&key) {
            return Ok(hit);
        }
        let part = self.archive.read_named_part(stream, 0)?;
        let what = format!("stream {stream} part 0");
        let codes = decode_reference(&mut decoder.dctx, &part.data, part.metadata, &what)?;
        Ok(decoder.insert(key, codes))
    }

    fn cached_pack(
        &self,
        decoder: &mut SegmentDecoder,
        stream: &str,
        index: usize,
    ) -> Result<Arc<Vec<u8>>> {
        let key = (stream.to_owned(), index);
        if let Some(hit) = decoder.lookup(&key) {
            return Ok(hit);
        }
        let part = self.archive.read_named_part(stream, index)?;
        let what = format!("stream {stream} part {index}");
        let pack = decode_pack(&mut decoder.dctx, &part.data, part.metadata, &what)?;
        Ok(decoder.insert(key, pack))
    }

    /// Appends the base codes of `contig` (or of the 0-based inclusive `range` of it) to
    /// `out`, decoding only the segments the range overlaps.
    ///
    /// # Errors
    /// [`Error::RangePastEnd`] when the range does not lie inside the contig; decoding errors
    /// as [`CollectionReader::decode_segment`].
    pub fn decode_contig(
        &self,
        decoder: &mut SegmentDecoder,
        contig: &Contig,
        range: Option<(u64, u64)>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let k = u64::from(self.params.kmer_length);
        let length = contig.length(self.params.kmer_length);
        let (from, to) = match range {
            None if length == 0 => return Ok(()),
            None => (0, length - 1),
            Some((from, to)) if from <= to && to < length => (from, to),
            Some((from, to)) => {
                return Err(Error::RangePastEnd { contig: contig.name.clone(), from, to, length });
            }
        };
        let mut segment = std::mem::take(&mut decoder.segment);
        // `start` is the contig position of the first base a segment adds (all of the first
        // segment, then everything after the k bases it shares with the previous one).
        let mut start = 0u64;
        for (i, desc) in contig.segments.iter().enumerate() {
            let skip = if i == 0 { 0 } else { k };
            let len = u64::from(desc.raw_length);
            if len < skip {
                return Err(Error::format(format!(
                    "contig {:?}: segment {i} is {len} bases, shorter than the {k}-base overlap",
                    contig.name
                )));
            }
            let end = start + (len - skip);
            if end > from && start <= to {
                self.decode_segment(decoder, desc, &mut segment)?;
                if desc.reverse_complement {
                    lz_diff::reverse_complement(&mut segment);
                }
                let first = (skip + from.saturating_sub(start)) as usize;
                let last = (skip + (to + 1).min(end) - start) as usize;
                out.extend_from_slice(&segment[first..last]);
            }
            start = end;
            if start > to {
                break;
            }
        }
        decoder.segment = segment;
        Ok(())
    }
}

/// A cached decoded part: `(stream name, part index or usize::MAX for a reference)`.
type CacheKey = (String, usize);

/// Per-thread decoding state: a ZSTD context, scratch space and a byte-bounded cache of
/// decoded references and packs (consecutive segments often share a pack).
pub struct SegmentDecoder {
    dctx: zstd::bulk::Decompressor<'static>,
    cache: VecDeque<(CacheKey, Arc<Vec<u8>>)>,
    cached_bytes: usize,
    segment: Vec<u8>,
}

impl std::fmt::Debug for SegmentDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentDecoder")
            .field("cached_parts", &self.cache.len())
            .field("cached_bytes", &self.cached_bytes)
            .finish()
    }
}

impl SegmentDecoder {
    fn lookup(&self, key: &CacheKey) -> Option<Arc<Vec<u8>>> {
        self.cache.iter().find(|(k, _)| k == key).map(|(_, v)| Arc::clone(v))
    }

    fn insert(&mut self, key: CacheKey, value: Vec<u8>) -> Arc<Vec<u8>> {
        let value = Arc::new(value);
        if value.len() <= DECODER_CACHE_BYTES {
            while self.cached_bytes + value.len() > DECODER_CACHE_BYTES {
                let (_, old) = self.cache.pop_front().expect("bytes imply entries");
                self.cached_bytes -= old.len();
            }
            self.cached_bytes += value.len();
            self.cache.push_back((key, Arc::clone(&value)));
        }
        value
    }
}

fn new_decompressor() -> Result<zstd::bulk::Decompressor<'static>> {
    Ok(zstd::bulk::Decompressor::new()?)
}

/// FASTA letters of the base codes: `ACGTNRYSWKMBDHVU` for 0..16, a space for anything else
/// (what agc prints for letters it did not know).
pub const CODE_TO_LETTER: [u8; 256] = {
    let letters = *b"ACGTNRYSWKMBDHVU";
    let mut table = [b' '; 256];
    let mut i = 0;
    while i < 16 {
        table[i] = letters[i];
        i += 1;
    }
    table
};
