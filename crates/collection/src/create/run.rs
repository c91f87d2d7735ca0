//! `create`: inputs → reader thread → cost-bounded priority queue → compressor → archive.
//!
//! The reader thread reads one registration unit at a time (a sample, or with `-c` up to
//! `pack_cardinality` records) and queues it in a [`PriorityQueue`] bounded by bytes
//! (`queue_memory`; a unit larger than the budget is admitted alone), earlier units first.
//! The compressor takes units in order; inside a unit its segments are placed and its groups
//! stored by `threads` workers (each with its own zstd contexts); while a unit is stored, the
//! next one is taken from the queue and cut. The archive is written to a temporary file
//! beside the output and renamed only when complete.
//!
//! Peak memory ≈ `queue_memory` + 3 × the largest unit (the one being compressed, as codes
//! and as segments, and the next one, being cut) + the group references with their LZ indexes
//! (≈ 2 B per reference base) + one open pack per group; before that, the splitter
//! selection's passes ([`super::splitters`]).

use std::collections::HashSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use seqflow_pipeline::{PriorityQueue, StageMetrics};

use super::append::reopen;
use super::archive::ArchiveOutput;
use super::compressor::{Compressor, CutUnit, PhaseMetrics, RAW_GROUPS, SampleContigs};
use super::input::{Contig, ContigReader, sample_name_of};
use super::splitters::{
    reference_kmers, reference_kmers_in, select_splitters, select_splitters_in,
};
use crate::payload::Params;
use crate::{Error, Result};

/// Settings of [`create`].
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// k, min match length, pack size, segment size.
    pub params: Params,
    /// Worker threads.
    pub threads: usize,
    /// `-c`: every FASTA record is a sample (named by the record's first word).
    pub concatenated: bool,
    /// Budget of the input queue in bytes of sequence.
    pub queue_memory: usize,
    /// Budget of one k-mer counting pass of the splitter selection, in bytes.
    pub splitter_memory: usize,
    /// Store lowercase runs in the `seqflow-case` stream ([`super::case`]).
    pub keep_case: bool,
    /// `-a`: adaptive mode (new splitters from contigs in which none occurs).
    pub adaptive: bool,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            params: Params {
                kmer_length: 31,
                min_match_length: 20,
                pack_cardinality: 50,
                segment_size: 60_000,
            },
            threads: 1,
            concatenated: false,
            queue_memory: 64 << 20,
            splitter_memory: super::splitters::DEFAULT_MEMORY,
            keep_case: false,
            adaptive: false,
        }
    }
}

/// Progress of a running [`create`], for progress bars.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateProgress {
    /// Samples stored so far.
    pub samples_done: u64,
    /// Bases stored so far.
    pub bases_done: u64,
    /// Input samples in total (0 with `-c`, where it is not known in advance).
    pub samples_total: u64,
    /// Bytes of the input files (as stored on disk, compressed or not) whose sequences are
    /// all stored.
    pub input_bytes_done: u64,
}

/// Per-stage figures of a run, for `--metrics`: the reader thread, the input queue between
/// it and the compressor, the compressor's steps and the archive writer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateStages {
    /// Splitter selection from the reference (before any sample is read; `create` only):
    /// `busy_secs` its wall time, `items` the splitters selected.
    pub splitters: StageMetrics,
    /// Reader thread: `items` units (samples, or batches with `-c`), `bytes` bases; blocked
    /// send is the time it waited for room in the input queue.
    pub read: StageMetrics,
    /// Byte budget of the input queue.
    pub queue_budget_bytes: u64,
    /// Largest summed bases ever queued (over the budget only for a unit admitted alone).
    pub queue_peak_bytes: u64,
    /// The compressor thread taking units: blocked receive is the time it waited for input
    /// (the next unit is taken while the current one is stored, so this wait may overlap
    /// work), the queue depth what it found queued.
    pub compress: StageMetrics,
    /// The compressor's steps (cut, place, register, store).
    pub phases: PhaseMetrics,
    /// Writing group parts and collection metadata: `items` parts, `bytes` their bytes.
    pub write: StageMetrics,
    /// Largest heap bytes of the group references seen after a unit.
    pub group_reference_bytes: u64,
    /// Largest heap bytes of the groups' LZ indexes seen after a unit.
    pub group_index_bytes: u64,
    /// Largest heap bytes of the groups' open packs seen after a unit.
    pub open_pack_bytes: u64,
}

/// What [`create`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateSummary {
    /// Samples in the archive.
    pub samples: u64,
    /// Contigs in the archive.
    pub contigs: u64,
    /// Bases in the archive.
    pub bases: u64,
    /// Splitters selected from the reference.
    pub splitters: u64,
    /// Segment groups (raw groups included).
    pub groups: u64,
    /// Archive size in bytes.
    pub archive_bytes: u64,
    /// Per-stage figures.
    pub stages: CreateStages,
}

/// One unit of work for the compressor.
struct Unit {
    samples: Vec<SampleContigs>,
    bases: u64,
    /// Bytes of the input files this unit completes.
    file_bytes: u64,
}

/// Creates the archive `output` from `inputs` (the first is the reference and first sample).
///
/// # Errors
/// Unreadable or invalid input (with file, line and record), a duplicate sample name or
/// contig name, an empty sample, or an I/O error writing the output. On error no file is
/// left under `output`.
pub fn create(
    inputs: &[PathBuf],
    output: &Path,
    options: &CreateOptions,
    progress: &(dyn Fn(&CreateProgress) + Sync),
) -> Result<CreateSummary> {
    let reference = inputs.first().ok_or_else(|| Error::Input("no input FASTA given".into()))?;
    let names = sample_names(inputs, options.concatenated)?;
    let params = options.params;
    let selecting = Instant::now();
    // The reference is also the first sample: read it once, for both, when it fits the input
    // queue's budget (where it goes next anyway); a larger one is read again per use.
    let first_sample = read_sample_within(reference, options.keep_case, options.queue_memory)?;
    let (k, segment_size) = (params.kmer_length, u64::from(params.segment_size));
    let splitters = match &first_sample {
        Some(contigs) => {
            let codes: Vec<&[u8]> = contigs.iter().map(|c| c.codes.as_slice()).collect();
            select_splitters_in(&codes, k, segment_size, options.splitter_memory, options.threads)
        }
        None => {
            select_splitters(reference, k, segment_size, options.splitter_memory, options.threads)?
        }
    };
    let selected = selecting.elapsed();
    let temp = TempOutput::new(output)?;
    let mut compressor = Compressor::new(params, &splitters, options.concatenated, options.threads);
    if options.adaptive {
        compressor.set_adaptive(reference_kmers(reference, params.kmer_length)?);
    }
    let archive = ArchiveOutput::new(BufWriter::new(temp.file()?), params, RAW_GROUPS);
    let mut summary =
        CreateSummary { splitters: splitters.len() as u64, ..CreateSummary::default() };
    summary.stages.splitters.busy_secs = selected.as_secs_f64();
    summary.stages.splitters.items = splitters.len() as u64;
    let source = Inputs { paths: inputs, names: &names, first_sample };
    compress_inputs(compressor, archive, source, options, progress, summary, temp)
}

/// Appends `inputs` to the archive `existing`, writing the result to `output` (which may be
/// the same path: the new archive is written under a temporary name and renamed at the end).
/// `k`, segment size, minimum match length and pack size are the archive's.
///
/// # Errors
/// As [`create`], and [`Error::Format`] when `existing` is not a readable AGC archive, or a new
/// sample name is already in it.
pub fn append(
    existing: &Path,
    inputs: &[PathBuf],
    output: &Path,
    options: &CreateOptions,
    progress: &(dyn Fn(&CreateProgress) + Sync),
) -> Result<CreateSummary> {
    let damaged = |e: Error| match e {
        Error::Format(message) => Error::Format(format!("{}: {message}", existing.display())),
        Error::Io(io) => Error::Input(format!("{}: {io}", existing.display())),
        other => other,
    };
    if inputs.is_empty() {
        return Err(Error::Input("no input FASTA given".into()));
    }
    let reader = crate::reader::CollectionReader::open(existing).map_err(damaged)?;
    let names = sample_names(inputs, options.concatenated)?;
    if !options.concatenated {
        for (name, path) in names.iter().zip(inputs) {
            if reader.samples().iter().any(|s| s == name) {
                return Err(Error::Input(format!(
                    "{}: sample '{name}' is already in {}",
                    path.display(),
                    existing.display()
                )));
            }
        }
    }
    // Adaptive mode excludes the reference's k-mers: decode the reference sample, as agc does.
    let adaptive_kmers = if options.adaptive {
        Some(reference_codes(&reader).map_err(damaged)?)
            .map(|codes| reference_kmers_in(&codes, reader.params().kmer_length))
    } else {
        None
    };
    let temp = TempOutput::new(output)?;
    let mut reopened =
        reopen(&reader, BufWriter::new(temp.file()?), options.concatenated, options.threads)
            .map_err(damaged)?;
    if let Some(kmers) = adaptive_kmers {
        reopened.compressor.set_adaptive(kmers);
    }
    let mut options = options.clone();
    options.params = reader.params();
    let summary = CreateSummary {
        splitters: reopened.compressor.sorted_splitters().len() as u64,
        ..CreateSummary::default()
    };
    drop(reader);
    compress_inputs(
        reopened.compressor,
        reopened.output,
        Inputs { paths: inputs, names: &names, first_sample: None },
        &options,
        progress,
        summary,
        temp,
    )
}

/// The base codes of every contig of the archive's reference (first) sample.
fn reference_codes(
    reader: &crate::reader::CollectionReader<crate::container::FileSource>,
) -> Result<Vec<Vec<u8>>> {
    let Some(reference) = reader.reference_sample() else {
        return Ok(Vec::new());
    };
    let mut decoder = reader.decoder()?;
    let mut contigs = Vec::new();
    for contig in reader.sample_contigs(reference)? {
        let mut codes = Vec::new();
        if contig.length(reader.params().kmer_length) > 0 {
            reader.decode_contig(&mut decoder, &contig, None, &mut codes)?;
        }
        contigs.push(codes);
    }
    Ok(contigs)
}

/// The input files with their sample names, and the first file's contigs when they were
/// already read.
struct Inputs<'a> {
    paths: &'a [PathBuf],
    names: &'a [String],
    first_sample: Option<Vec<Contig>>,
}

/// The shared part of [`create`] and [`append`]: the reader thread, the queue, the units.
fn compress_inputs(
    mut compressor: Compressor,
    mut archive: ArchiveOutput<BufWriter<File>>,
    inputs: Inputs<'_>,
    options: &CreateOptions,
    progress: &(dyn Fn(&CreateProgress) + Sync),
    mut summary: CreateSummary,
    temp: TempOutput,
) -> Result<CreateSummary> {
    let queue: PriorityQueue<Result<Unit>, std::cmp::Reverse<u64>> =
        PriorityQueue::new(options.queue_memory);
    let samples_done = AtomicU64::new(0);
    let bases_done = AtomicU64::new(0);
    let samples_total = if options.concatenated { 0 } else { inputs.paths.len() as u64 };
    let mut input_bytes_done = 0u64;
    let mut compress = StageMetrics::default();
    let mut write = StageMetrics::default();
    let mut held = (0u64, 0u64, 0u64);
    let (outcome, read): (Result<()>, StageMetrics) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_units(inputs, options, &queue));
        let mut result = Ok(());
        // The next unit is taken and cut on a thread of its own while the current one is
        // stored (`Compressor::add_cut_unit`), so the cores do not idle at the end of a unit.
        let mut next = take_unit(&queue, |samples| compressor.cut_unit(samples));
        while let Some(taken) = next.take() {
            let TakenUnit { unit, cut, waited, depth } = match taken {
                Ok(taken) => taken,
                Err(error) => {
                    result = Err(error);
                    break;
                }
            };
            let started = Instant::now();
            compress.blocked_recv_secs += waited.as_secs_f64();
            compress.queue_depth_max = compress.queue_depth_max.max(depth);
            compress.queue_depth_mean += depth as f64;
            if options.keep_case
                && let Err(error) = archive.add_case_runs(&unit.samples)
            {
                result = Err(error.into());
                break;
            }
            let (places, parts, following) =
                compressor.add_cut_unit(&unit.samples, cut, |cutter| {
                    take_unit(&queue, |samples| cutter.cut_unit(samples))
                });
            next = following;
            let (references, indexes, packs) = compressor.group_bytes();
            held.0 = held.0.max(references);
            held.1 = held.1.max(indexes);
            held.2 = held.2.max(packs);
            archive.register_groups(compressor.group_count());
            let writing = Instant::now();
            write.items += parts.len() as u64;
            write.bytes += parts.iter().map(|p| p.part.data.len() as u64).sum::<u64>();
            if let Err(error) =
                archive.write_parts(parts).and_then(|()| archive.add_samples(places))
            {
                result = Err(error.into());
                break;
            }
            write.busy_secs += writing.elapsed().as_secs_f64();
            summary.samples += unit.samples.len() as u64;
            summary.contigs += unit.samples.iter().map(|s| s.contigs.len() as u64).sum::<u64>();
            summary.bases += unit.bases;
            compress.items += 1;
            compress.bytes += unit.bases;
            compress.busy_secs += started.elapsed().as_secs_f64();
            input_bytes_done += unit.file_bytes;
            samples_done.fetch_add(unit.samples.len() as u64, Ordering::Relaxed);
            bases_done.fetch_add(unit.bases, Ordering::Relaxed);
            progress(&CreateProgress {
                samples_done: samples_done.load(Ordering::Relaxed),
                bases_done: bases_done.load(Ordering::Relaxed),
                samples_total,
                input_bytes_done,
            });
        }
        queue.close();
        while queue.try_pop().is_some() {}
        let read = reader.join().expect("reader thread panicked");
        (result, read)
    });
    outcome?;
    if compress.items > 0 {
        compress.queue_depth_mean /= compress.items as f64;
    }
    summary.groups = u64::from(compressor.group_count());
    let finishing = Instant::now();
    let out = archive.finish(&mut compressor)?;
    write.busy_secs += finishing.elapsed().as_secs_f64();
    summary.stages = CreateStages {
        splitters: summary.stages.splitters.clone(),
        read,
        queue_budget_bytes: options.queue_memory as u64,
        queue_peak_bytes: queue.peak_cost() as u64,
        compress,
        phases: compressor.phase_metrics().clone(),
        write,
        group_reference_bytes: held.0,
        group_index_bytes: held.1,
        open_pack_bytes: held.2,
    };
    let file = out.into_inner().map_err(|e| Error::Io(e.into_error()))?;
    file.sync_all()?;
    summary.archive_bytes = file.metadata()?.len();
    drop(file);
    temp.commit()?;
    Ok(summary)
}

/// A unit taken from the input queue and cut, with how long the taking waited and how many
/// units the queue held then.
struct TakenUnit {
    unit: Unit,
    cut: CutUnit,
    waited: Duration,
    depth: usize,
}

/// The next unit from `queue`, cut by `cut`; `None` once the queue is closed and empty.
fn take_unit(
    queue: &PriorityQueue<Result<Unit>, std::cmp::Reverse<u64>>,
    cut: impl FnOnce(&[SampleContigs]) -> CutUnit,
) -> Option<Result<TakenUnit>> {
    let depth = queue.len();
    let waiting = Instant::now();
    let unit = queue.pop()?;
    let waited = waiting.elapsed();
    Some(unit.map(|unit| {
        let cut = cut(&unit.samples);
        TakenUnit { unit, cut, waited, depth }
    }))
}

/// Sample names of the inputs (file stems); duplicates are an error.
fn sample_names(inputs: &[PathBuf], concatenated: bool) -> Result<Vec<String>> {
    let names: Vec<String> = inputs.iter().map(|p| sample_name_of(p)).collect();
    if !concatenated {
        let mut seen = HashSet::new();
        for (name, path) in names.iter().zip(inputs) {
            if !seen.insert(name.as_str()) {
                return Err(Error::Input(format!(
                    "{}: duplicate sample name '{name}'",
                    path.display()
                )));
            }
        }
    }
    Ok(names)
}

/// The reader thread: units in order into the queue; the first error ends it. Returns its
/// stage figures.
fn read_units(
    inputs: Inputs<'_>,
    options: &CreateOptions,
    queue: &PriorityQueue<Result<Unit>, std::cmp::Reverse<u64>>,
) -> StageMetrics {
    let started = Instant::now();
    let mut blocked = Duration::ZERO;
    let waiting = std::cell::Cell::new(Duration::ZERO);
    let mut metrics = StageMetrics::default();
    read_units_into(inputs, options, queue, &mut metrics, &mut blocked, &waiting);
    blocked += waiting.get();
    metrics.blocked_send_secs = blocked.as_secs_f64();
    metrics.busy_secs = started.elapsed().saturating_sub(blocked).as_secs_f64();
    metrics
}

fn read_units_into(
    inputs: Inputs<'_>,
    options: &CreateOptions,
    queue: &PriorityQueue<Result<Unit>, std::cmp::Reverse<u64>>,
    metrics: &mut StageMetrics,
    blocked: &mut Duration,
    waiting: &std::cell::Cell<Duration>,
) {
    let mut next_unit = 0u64;
    let mut push = |unit: Result<Unit>| -> bool {
        let cost = unit.as_ref().map_or(0, |u| u.bases as usize);
        let failed = unit.is_err();
        let waited = Instant::now();
        let accepted = queue.push(std::cmp::Reverse(next_unit), cost, unit).is_ok();
        *blocked += waited.elapsed();
        if accepted && !failed {
            metrics.items += 1;
            metrics.bytes += cost as u64;
        }
        next_unit += 1;
        accepted && !failed
    };
    let mut seen_samples: HashSet<String> = HashSet::new();
    let mut pending: Vec<SampleContigs> = Vec::new();
    let mut pending_bases = 0u64;
    let mut pending_file_bytes = 0u64;
    let mut last_unit = 0usize;
    let mut first_sample = inputs.first_sample;
    for (path, name) in inputs.paths.iter().zip(inputs.names) {
        // Read the next sample only when the queue has room for one as large as the last:
        // the reader then never holds a whole sample while blocked on a full queue.
        let waited = Instant::now();
        let open = queue.wait_for_room(last_unit);
        waiting.set(waiting.get() + waited.elapsed());
        if !open {
            return;
        }
        let read = first_sample.take().map_or_else(|| read_sample(path, options.keep_case), Ok);
        let contigs = match read {
            Ok(contigs) => contigs,
            Err(error) => {
                push(Err(error));
                return;
            }
        };
        let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        if options.concatenated {
            for contig in contigs {
                let sample = contig.name.split_whitespace().next().unwrap_or("").to_owned();
                if !seen_samples.insert(sample.clone()) {
                    push(Err(Error::Input(format!(
                        "{}: duplicate sample name '{sample}' (-c: one sample per record)",
                        path.display()
                    ))));
                    return;
                }
                pending_bases += contig.codes.len() as u64;
                pending.push(SampleContigs { name: sample, contigs: vec![contig] });
                if pending.len() == options.params.pack_cardinality as usize {
                    last_unit = pending_bases as usize;
                    let unit = Unit {
                        samples: std::mem::take(&mut pending),
                        bases: std::mem::take(&mut pending_bases),
                        file_bytes: std::mem::take(&mut pending_file_bytes),
                    };
                    if !push(Ok(unit)) {
                        return;
                    }
                }
            }
            pending_file_bytes += file_bytes;
        } else {
            let bases = contigs.iter().map(|c| c.codes.len() as u64).sum();
            last_unit = bases as usize;
            let samples = vec![SampleContigs { name: name.clone(), contigs }];
            let unit = Unit { samples, bases, file_bytes };
            if !push(Ok(unit)) {
                return;
            }
        }
    }
    if !pending.is_empty() {
        push(Ok(Unit { samples: pending, bases: pending_bases, file_bytes: pending_file_bytes }));
    }
    queue.close();
}

/// All contigs of one file; an empty file or a repeated contig name is an error.
fn read_sample(path: &Path, keep_case: bool) -> Result<Vec<Contig>> {
    Ok(read_sample_within(path, keep_case, usize::MAX)?.expect("no budget to exceed"))
}

/// [`read_sample`], or `None` as soon as the contigs exceed `budget` bases.
fn read_sample_within(path: &Path, keep_case: bool, budget: usize) -> Result<Option<Vec<Contig>>> {
    let mut reader = ContigReader::open_with_case(path, keep_case)?;
    let mut contigs = Vec::new();
    let mut seen = HashSet::new();
    let mut bases = 0usize;
    while let Some(contig) = reader.next_contig()? {
        bases += contig.codes.len();
        if bases > budget {
            return Ok(None);
        }
        if !seen.insert(contig.name.clone()) {
            return Err(Error::Input(format!(
                "{}: contig '{}' appears twice",
                path.display(),
                contig.name
            )));
        }
        contigs.push(contig);
    }
    if contigs.is_empty() {
        return Err(Error::Input(format!("{}: no sequences (empty sample)", path.display())));
    }
    Ok(Some(contigs))
}

/// The output under a temporary name beside it, renamed when complete, removed otherwise.
struct TempOutput {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempOutput {
    fn new(target: &Path) -> Result<TempOutput> {
        let file_name = target
            .file_name()
            .ok_or_else(|| Error::Input(format!("{}: not a file name", target.display())))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(format!(".tmp{}", std::process::id()));
        let temp = target.with_file_name(temp_name);
        Ok(TempOutput { temp, target: target.to_path_buf(), committed: false })
    }

    fn file(&self) -> Result<File> {
        File::create(&self.temp)
            .map_err(|e| Error::Input(format!("{}: cannot create: {e}", self.temp.display())))
    }

    fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.temp, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
