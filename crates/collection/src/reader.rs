//! [`CollectionReader`]: samples, contigs and sequence of an AGC archive, with random access.
//!
//! Opening reads the footer, `file_type_info` (the format version must be 3.x), `params` and
//! the sample list. A sample's contig names and segment descriptors live in the metadata batch
//! of `pack_cardinality` samples that holds it; batches are read when first needed and kept.
//! Sequence is decoded segment by segment with a [`SegmentDecoder`] (one per thread: it owns
//! the ZSTD context and scratch space), so a range query reads and decodes only the segments it
//! overlaps. Decoded references and packs go to a byte-bounded cache shared by the reader's
//! decoders: a part that two threads need at the same time is decoded once.

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
/// Bytes of decoded parts the shared cache keeps for reuse, per decoder created.
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
    parts: PartCache,
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
            parts: PartCache::default(),
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
        let decoder = SegmentDecoder { dctx: new_decompressor()?, segment: Vec::new() };
        self.parts.grow_budget(DECODER_CACHE_BYTES);
        Ok(decoder)
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
        self.parts.get_or_decode((stream.to_owned(), usize::MAX), || {
            let part = self.archive.read_named_part(stream, 0)?;
            let what = format!("stream {stream} part 0");
            decode_reference(&mut decoder.dctx, &part.data, part.metadata, &what)
        })
    }

    fn cached_pack(
        &self,
        decoder: &mut SegmentDecoder,
        stream: &str,
        index: usize,
    ) -> Result<Arc<Vec<u8>>> {
        self.parts.get_or_decode((stream.to_owned(), index), || {
            let part = self.archive.read_named_part(stream, index)?;
            let what = format!("stream {stream} part {index}");
            decode_pack(&mut decoder.dctx, &part.data, part.metadata, &what)
        })
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

/// Per-thread decoding state: a ZSTD context and scratch space.
pub struct SegmentDecoder {
    dctx: zstd::bulk::Decompressor<'static>,
    segment: Vec<u8>,
}

impl std::fmt::Debug for SegmentDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentDecoder").field("scratch_bytes", &self.segment.capacity()).finish()
    }
}

/// Decoded references and packs shared by the decoders of one reader, oldest evicted first
/// once their bytes pass the budget (16 MiB per decoder). Each entry has its own lock, held
/// while the part is decoded: a thread that needs a part another one is decoding waits for it
/// instead of decoding it again. Entries are found by hash: the cache holds a thousand parts
/// or more, and every segment decoded looks up two.
#[derive(Debug, Default)]
struct PartCache {
    state: Mutex<PartCacheState>,
}

#[derive(Debug, Default)]
struct PartCacheState {
    entries: HashMap<CacheKey, CacheEntry>,
    /// Keys in insertion order, each with the ticket of its entry then (a key whose entry was
    /// removed and made again appears twice; only the record with the live ticket counts).
    order: VecDeque<(CacheKey, u64)>,
    next_ticket: u64,
    bytes: usize,
    budget: usize,
}

#[derive(Debug)]
struct CacheEntry {
    slot: Arc<PartSlot>,
    /// Bytes counted for the part (0 until decoded).
    bytes: usize,
    ticket: u64,
}

/// One cached part: `None` until decoded.
type PartSlot = Mutex<Option<Arc<Vec<u8>>>>;

impl PartCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, PartCacheState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn grow_budget(&self, bytes: usize) {
        let mut state = self.lock();
        state.budget = state.budget.saturating_add(bytes);
    }

    /// The part `key`, decoded by `decode` unless cached (or being decoded by another thread,
    /// which is then waited for).
    fn get_or_decode(
        &self,
        key: CacheKey,
        decode: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<Arc<Vec<u8>>> {
        let slot = {
            let mut state = self.lock();
            match state.entries.get(&key) {
                Some(entry) => Arc::clone(&entry.slot),
                None => {
                    let slot = Arc::new(Mutex::new(None));
                    let ticket = state.next_ticket;
                    state.next_ticket += 1;
                    state.order.push_back((key.clone(), ticket));
                    let entry = CacheEntry { slot: Arc::clone(&slot), bytes: 0, ticket };
                    state.entries.insert(key.clone(), entry);
                    slot
                }
            }
        };
        let mut value = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(part) = value.as_ref() {
            return Ok(Arc::clone(part));
        }
        match decode() {
            Ok(part) => {
                let part = Arc::new(part);
                *value = Some(Arc::clone(&part));
                drop(value);
                self.count(&key, &slot, part.len());
                Ok(part)
            }
            Err(error) => {
                drop(value);
                let mut state = self.lock();
                if state.entries.get(&key).is_some_and(|e| Arc::ptr_eq(&e.slot, &slot)) {
                    let entry = state.entries.remove(&key).expect("entry just seen");
                    state.bytes -= entry.bytes;
                }
                Err(error)
            }
        }
    }

    /// Counts the bytes of a newly decoded part (if its entry is still cached) and evicts the
    /// oldest entries over the budget, keeping at least the newest.
    fn count(&self, key: &CacheKey, slot: &Arc<PartSlot>, bytes: usize) {
        let mut state = self.lock();
        let Some(entry) = state.entries.get_mut(key).filter(|e| Arc::ptr_eq(&e.slot, slot)) else {
            return;
        };
        entry.bytes = bytes;
        state.bytes += bytes;
        while state.bytes > state.budget && state.entries.len() > 1 {
            let Some((old, ticket)) = state.order.pop_front() else { break };
            if state.entries.get(&old).is_some_and(|e| e.ticket == ticket) {
                let entry = state.entries.remove(&old).expect("entry just seen");
                state.bytes -= entry.bytes;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(part: usize) -> CacheKey {
        ("x_1".to_owned(), part)
    }

    #[test]
    fn threads_needing_one_part_at_once_decode_it_once() {
        let cache = PartCache::default();
        cache.grow_budget(1 << 20);
        let decodes = AtomicUsize::new(0);
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    barrier.wait();
                    let part = cache
                        .get_or_decode(key(7), || {
                            decodes.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            Ok(vec![7; 100])
                        })
                        .unwrap();
                    assert_eq!(*part, vec![7; 100]);
                });
            }
        });
        assert_eq!(decodes.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_cache_keeps_its_budget_and_forgets_failed_decodes() {
        let cache = PartCache::default();
        cache.grow_budget(1000);
        for part in 0..10 {
            cache.get_or_decode(key(part), || Ok(vec![0; 300])).unwrap();
            let state = cache.lock();
            assert!(state.bytes <= 1000, "{} bytes cached", state.bytes);
            assert_eq!(state.bytes, state.entries.values().map(|e| e.bytes).sum::<usize>());
        }
        // The newest three are cached, older ones decode again.
        let again = AtomicUsize::new(0);
        let decode = || {
            again.fetch_add(1, Ordering::SeqCst);
            Ok(vec![0; 300])
        };
        cache.get_or_decode(key(9), decode).unwrap();
        assert_eq!(again.load(Ordering::SeqCst), 0);
        cache.get_or_decode(key(0), decode).unwrap();
        assert_eq!(again.load(Ordering::SeqCst), 1);
        // A failed decode is not cached: the next request tries again.
        let failed = cache.get_or_decode(key(50), || Err(Error::format("damaged")));
        assert!(failed.is_err());
        assert!(cache.get_or_decode(key(50), || Ok(vec![1])).is_ok_and(|p| *p == vec![1]));
    }
}
