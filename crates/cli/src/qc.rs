//! `seqflow qc`: fastp-class read QC, single or paired end, as parallel consumers of batches.
//!
//! One source thread reads the input (both mates for pairs, cutting the two batch streams into
//! jobs of equally many records), N workers add jobs to their own `QcAccumulator`, and the
//! states are merged at the end. Output: `PREFIX.json` (fastp's schema, for MultiQC) and
//! `PREFIX.html`; with `--partial`, `PREFIX.partial.json` (the mergeable state), which
//! `seqflow qc merge` turns into the same two files a single run over all shards gives.
//! `--shard I/N` makes one run count only every N-th job of the input (jobs are cut the same
//! way for the same `--batch-size`), so N runs over the same files are the shards.
//!
//! Peak memory: `2 × (threads + channel_depth + 3) × batch_size` for the batches in circulation
//! (one pool per mate; for a mapped file these are resident file pages, up to 4 MiB more per
//! batch: releases cover whole 2 MiB blocks, see `seqflow-seqio`), plus per worker 4.7 KiB of
//! cycle counters per cycle and mate (3.7 KiB of 64-bit totals and a 1 KiB row of 16-bit
//! counters: 700 KiB for 150-base reads, 4.6 MiB at the 1,000-cycle cap), the duplication
//! sample (≤ 131,072 entries in a table of 24-byte slots at most half full: ≤ 6 MiB) and the
//! overrepresented sample (≤ 8,192 sequences of ≤ 150 bases ≈ 3 MiB per mate). None of it
//! grows with the input.
//!
//! With `--device gpu` (or `auto` on a machine with a hardware GPU) the per-cycle counters
//! (per mate, cycle, base class and Phred value: per-position quality and base content) are
//! counted on the GPU (`seqflow_gpu::CycleCounter`); the workers count everything else,
//! including each read's mean quality and GC. The jobs come back from the workers through the
//! pipeline's output queue to the sink, which packs their bases into upload buffers while the
//! device counts the previous chunk. That adds `2 × (2 × 4 MiB + 4 KiB) + 2 × 2 × 1,000 × 470
//! × 4 B` ≈ 23.2 MiB (two chunk slots of an upload and a device buffer each, and the device's
//! `u32` table of both mates with the host buffer it is read back through; host memory on a
//! software renderer), and nothing else: the jobs in the output queue hold batches of the same
//! pools. The workers' own cycle tables stay zero but are still sized to the longest read.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use seqflow_pipeline::{Pipeline, PipelineError, Pool, PoolGuard, Report, Weighted};
use seqflow_qc::report::{QcAccumulator, fastq_bytes_valid, mate_name, render_html};
use seqflow_seqio::{Alphabet, Batch, Format, Reader, ReaderOptions, Record, Validation};
use serde::{Deserialize, Serialize};

use crate::Global;
use crate::device::{self, Device, DeviceMetrics};
use crate::gpu_cycles::GpuCycleCounter;
use crate::limits::{MAX_CHANNEL_DEPTH, MAX_THREADS};
use crate::output::{Access, OutputSet, commit};
use crate::size::{count_in, size_in};

/// Flags of `seqflow qc`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct QcArgs {
    #[command(subcommand)]
    command: Option<QcCommand>,
    /// Read 1 (or the only read) FASTQ, plain, gzip, BGZF or zstd; `-` is stdin.
    #[arg(required = true)]
    read1: Option<PathBuf>,
    /// Read 2 FASTQ for paired end.
    read2: Option<PathBuf>,
    /// Output prefix: writes PREFIX.json and PREFIX.html (PREFIX.partial.json with --partial).
    #[arg(short, long, required = true, value_name = "PREFIX")]
    output: Option<PathBuf>,
    /// Sample name in the reports (default: read 1's file name up to the first dot).
    #[arg(long)]
    sample: Option<String>,
    /// Write only the mergeable state (PREFIX.partial.json) for `seqflow qc merge`.
    #[arg(long)]
    partial: bool,
    /// With --partial: count only shard I of N (1-based), every N-th job of records, so that N
    /// runs over the same input, merged, give the report of one run (same --batch-size).
    #[arg(long, requires = "partial", value_parser = parse_shard, value_name = "I/N")]
    shard: Option<(u64, u64)>,
    /// Skip the checks of sequence letters (IUPAC) and quality characters (Phred+33).
    #[arg(long)]
    no_validate: bool,
    /// Read files with read(2) instead of mapping them into memory (mapping is the default
    /// for regular uncompressed files; use this for files rewritten in place during a run).
    #[arg(long)]
    no_mmap: bool,
    /// Overwrite existing output files.
    #[arg(short, long)]
    force: bool,
    /// Worker threads (default: all cores). The parser runs on one more thread.
    #[arg(short, long, value_parser = count_in(1, MAX_THREADS), value_name = "N")]
    threads: Option<usize>,
    /// Jobs waiting between the parser and the workers.
    #[arg(long, default_value_t = 4, value_parser = count_in(1, MAX_CHANNEL_DEPTH), value_name = "N")]
    channel_depth: usize,
    /// Input bytes per batch (K, M, G suffixes).
    #[arg(long, default_value = "1M", value_parser = size_in(1 << 10, 1 << 30), value_name = "SIZE")]
    batch_size: u64,
    /// Longest record accepted, in bytes (K, M, G suffixes).
    #[arg(long, default_value = "1G", value_parser = size_in(1, 1 << 40), value_name = "SIZE")]
    max_record_len: u64,
    /// Write pipeline metrics (per stage: items, bytes, busy and blocked time) as JSON.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    /// Where per-position qualities and base content are counted: `cpu`, `gpu` (Vulkan, Metal
    /// or DX12; an error without one) or `auto` (a hardware GPU when there is one, else the
    /// CPU, with a note on stderr). The reports are the same on every device.
    #[arg(long, value_enum, default_value_t = Device::Cpu, hide_possible_values = true, value_name = "DEVICE")]
    device: Device,
    #[command(flatten)]
    pub(crate) chatter: crate::Chatter,
}

impl QcArgs {
    /// Where the per-cycle counters are counted (`--device`).
    pub(crate) fn device(&self) -> Device {
        self.device
    }
}

/// Subcommands of `seqflow qc`.
#[derive(Debug, Subcommand)]
enum QcCommand {
    /// Merge `--partial` states into the reports of the whole input.
    Merge(MergeArgs),
}

/// Flags of `seqflow qc merge`.
#[derive(Debug, Args)]
struct MergeArgs {
    /// PREFIX.partial.json files written by `seqflow qc --partial`.
    #[arg(required = true)]
    partials: Vec<PathBuf>,
    /// Output prefix: writes PREFIX.json and PREFIX.html.
    #[arg(short, long, value_name = "PREFIX")]
    output: PathBuf,
    /// Sample name (default: the first partial's).
    #[arg(long)]
    sample: Option<String>,
    /// Overwrite existing output files.
    #[arg(short, long)]
    force: bool,
}

/// The content of PREFIX.partial.json.
#[derive(Serialize, Deserialize)]
struct PartialFile {
    /// Marks the file kind and version.
    seqflow_qc_partial: u32,
    sample: String,
    state: QcAccumulator,
}

/// 2: per-cycle counters per (base class, Phred value) pair. 3: samples chosen by XXH3 hashes
/// (2 used XXH64, so a version-2 file's samples do not mix with a version-3 one's).
const PARTIAL_VERSION: u32 = 3;

/// What `--metrics` writes: the pipeline's report, and what the device did when there was one.
#[derive(Serialize)]
struct QcMetrics<'a> {
    #[serde(flatten)]
    pipeline: &'a Report,
    /// Present when the per-cycle counters were counted on a GPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a DeviceMetrics>,
}

/// Runs `seqflow qc` or `seqflow qc merge`.
pub(crate) fn run(args: &QcArgs, global: Global) -> Result<ExitCode> {
    if let Some(QcCommand::Merge(merge_args)) = &args.command {
        return merge(merge_args);
    }
    let (Some(read1), Some(prefix)) = (&args.read1, &args.output) else {
        bail!("seqflow qc needs READ1 and -o PREFIX");
    };
    let sample = args.sample.clone().unwrap_or_else(|| default_sample(read1));
    let mut outputs = OutputSet::new(args.force);
    outputs.reads(read1);
    if let Some(read2) = &args.read2 {
        outputs.reads(read2);
    }
    let mut created = Vec::new();
    if args.partial {
        created.push(outputs.create(Some(&with_suffix(prefix, ".partial.json")), Access::Shared)?);
    } else {
        created.push(outputs.create(Some(&with_suffix(prefix, ".json")), Access::Shared)?);
        created.push(outputs.create(Some(&with_suffix(prefix, ".html")), Access::Shared)?);
    }
    let mut metrics_output = args
        .metrics
        .as_deref()
        .map(|path| outputs.create(Some(path), Access::Shared))
        .transpose()?;
    let mut gpu = GpuCycleCounter::open(args.device, global.quiet)?;
    let (state, report, device_metrics) =
        qc_of_files(read1, args.read2.as_deref(), args, global, gpu.as_mut())?;
    if global.verbose > 0 {
        let gb_per_s = report.input_bytes as f64 / report.wall_secs.max(1e-9) / 1e9;
        eprintln!("{sample}: {:.3} s, {gb_per_s:.2} GB/s of input", report.wall_secs);
        if let Some(metrics) = &device_metrics {
            eprint!("{}", device::describe(metrics));
        }
    }
    if args.partial {
        let partial = PartialFile { seqflow_qc_partial: PARTIAL_VERSION, sample, state };
        created[0].write_all((serde_json::to_string(&partial)? + "\n").as_bytes())?;
    } else {
        write_reports(&state, &sample, &mut created)?;
    }
    if let Some(metrics) = &mut metrics_output {
        let metrics_json = QcMetrics { pipeline: &report, device: device_metrics.as_ref() };
        metrics.write_all((serde_json::to_string_pretty(&metrics_json)? + "\n").as_bytes())?;
    }
    commit(created.into_iter().chain(metrics_output))?;
    Ok(ExitCode::SUCCESS)
}

fn write_reports(
    state: &QcAccumulator,
    sample: &str,
    outputs: &mut [crate::output::Output],
) -> Result<()> {
    let report = state.report(sample);
    outputs[0].write_all((serde_json::to_string_pretty(&report)? + "\n").as_bytes())?;
    outputs[1].write_all(render_html(&report).as_bytes())?;
    Ok(())
}

/// `seqflow qc merge`.
fn merge(args: &MergeArgs) -> Result<ExitCode> {
    let mut outputs = OutputSet::new(args.force);
    for path in &args.partials {
        outputs.reads(path);
    }
    let mut created = vec![
        outputs.create(Some(&with_suffix(&args.output, ".json")), Access::Shared)?,
        outputs.create(Some(&with_suffix(&args.output, ".html")), Access::Shared)?,
    ];
    let mut total: Option<QcAccumulator> = None;
    let mut sample = args.sample.clone();
    for path in &args.partials {
        let name = path.display();
        let text = std::fs::read(path).with_context(|| format!("reading {name}"))?;
        let partial: PartialFile = serde_json::from_slice(&text)
            .with_context(|| format!("{name}: not a seqflow qc --partial file"))?;
        if partial.seqflow_qc_partial != PARTIAL_VERSION {
            bail!(
                "{name}: partial format {} (this seqflow reads {PARTIAL_VERSION})",
                partial.seqflow_qc_partial
            );
        }
        sample.get_or_insert(partial.sample);
        match &mut total {
            None => total = Some(partial.state),
            Some(total) => {
                if total.paired != partial.state.paired {
                    bail!("{name}: mixes single-end and paired-end partials");
                }
                total.merge(&partial.state);
            }
        }
    }
    let total = total.unwrap_or_default();
    write_reports(&total, sample.as_deref().unwrap_or("sample"), &mut created)?;
    commit(created)?;
    Ok(ExitCode::SUCCESS)
}

/// Parses `I/N` with `1 ≤ I ≤ N ≤ 65,536` into 0-based `(I − 1, N)`.
fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let error = || format!("'{text}' is not I/N with 1 ≤ I ≤ N ≤ 65536");
    let (i, n) = text.split_once('/').ok_or_else(error)?;
    let (i, n): (u64, u64) =
        (i.trim().parse().map_err(|_| error())?, n.trim().parse().map_err(|_| error())?);
    if (1..=n).contains(&i) && n <= 1 << 16 { Ok((i - 1, n)) } else { Err(error()) }
}

/// `PREFIX` + `suffix` (`out/s1` → `out/s1.json`).
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Read 1's file name up to its first dot (`s1_R1.fq.gz` → `s1_R1`).
fn default_sample(read1: &Path) -> String {
    let name = read1.file_name().map_or_else(|| "stdin".into(), |n| n.to_string_lossy());
    let stem = name.split('.').next().unwrap_or_default();
    if stem.is_empty() || stem == "-" { "stdin".to_string() } else { stem.to_string() }
}

/// A run of records of one batch.
type Slice = (Arc<PoolGuard<Batch>>, Range<usize>);

/// A job: records of read 1, and for pairs as many records of read 2.
struct Job {
    read1: Slice,
    read2: Option<Slice>,
}

/// One mate's input: reader, pool of batches, the batch being cut into jobs.
struct MateInput {
    reader: Reader,
    pool: Pool<Batch>,
    current: Option<(Arc<PoolGuard<Batch>>, usize)>,
    /// Name and line of the last record read, for the out-of-sync message.
    last: Option<(String, u64)>,
    done: bool,
}

impl MateInput {
    /// Makes sure a batch with unread records is at hand; false at the end of the input.
    fn fill(&mut self) -> Result<bool> {
        if let Some((batch, next)) = &self.current {
            if *next < batch.len() {
                return Ok(true);
            }
        }
        self.current = None;
        if self.done {
            return Ok(false);
        }
        let Ok(mut batch) = self.pool.take() else { return Ok(false) };
        if self.reader.read_batch(&mut batch)? == 0 {
            self.done = true;
            return Ok(false);
        }
        let last = batch.get(batch.len() - 1);
        self.last = Some((String::from_utf8_lossy(last.id()).into_owned(), last.line()));
        self.current = Some((Arc::new(batch), 0));
        Ok(true)
    }

    /// Single-end: the next batch, whole; with `windowed`, handed out unparsed where the reader
    /// allows (its worker parses it and sets the range), and `windowed` set when it was.
    fn next_batch(&mut self, windowed: Option<&AtomicBool>) -> Result<Option<Slice>> {
        let Some(windowed) = windowed else {
            if !self.fill()? {
                return Ok(None);
            }
            let n = self.remaining();
            return Ok(Some(self.take(n)));
        };
        if self.done {
            return Ok(None);
        }
        let Ok(mut batch) = self.pool.take() else { return Ok(None) };
        if !self.reader.read_window(&mut batch)? {
            self.done = true;
            return Ok(None);
        }
        if batch.is_unparsed() {
            windowed.store(true, Ordering::Relaxed);
        }
        let n = batch.len();
        Ok(Some((Arc::new(batch), 0..n)))
    }

    fn remaining(&self) -> usize {
        self.current.as_ref().map_or(0, |(batch, next)| batch.len() - next)
    }

    /// Takes the next `n` records.
    fn take(&mut self, n: usize) -> Slice {
        let (batch, next) = self.current.as_mut().expect("filled");
        let slice = (Arc::clone(batch), *next..*next + n);
        *next += n;
        slice
    }

    /// Describes the next record (the first without a mate).
    fn next_record(&self) -> String {
        let (batch, next) = self.current.as_ref().expect("filled");
        describe(&batch.get(*next))
    }

    fn last_record(&self) -> String {
        match &self.last {
            Some((id, line)) => format!("{}: line {line}, record '{id}'", self.reader.source()),
            None => format!("{}: no records", self.reader.source()),
        }
    }
}

fn describe(record: &Record<'_>) -> String {
    format!("line {}, record '{}'", record.line(), String::from_utf8_lossy(record.id()))
}

/// Computes the QC state of one sample on the pipeline, counting the per-cycle counters on
/// `gpu` if given; returns the state, the pipeline's report and the device's.
///
/// Single-end input on the CPU is parsed by the workers where the reader can hand out windows
/// of a mapped file (`Reader::read_window`); if that pass fails, the input is read again with
/// the parse on the reader's thread, which names the input's first error (a window's error may
/// come from a misjudged window start, see `Batch::parse`).
fn qc_of_files(
    read1: &Path,
    read2: Option<&Path>,
    args: &QcArgs,
    global: Global,
    gpu: Option<&mut GpuCycleCounter>,
) -> Result<(QcAccumulator, Report, Option<DeviceMetrics>)> {
    if read2.is_some() || gpu.is_some() {
        return qc_pass(read1, read2, args, global, gpu, None);
    }
    let windowed = AtomicBool::new(false);
    match qc_pass(read1, None, args, global, None, Some(&windowed)) {
        Err(_) if windowed.load(Ordering::Relaxed) => {
            qc_pass(read1, None, args, global, None, None)
        }
        result => result,
    }
}

/// One pass of [`qc_of_files`] over the input: with `windowed`, single-end batches parsed by
/// the workers where possible (and `windowed` set when a window went out).
fn qc_pass(
    read1: &Path,
    read2: Option<&Path>,
    args: &QcArgs,
    global: Global,
    mut gpu: Option<&mut GpuCycleCounter>,
    windowed: Option<&AtomicBool>,
) -> Result<(QcAccumulator, Report, Option<DeviceMetrics>)> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let options = ReaderOptions {
        batch_size: args.batch_size as usize,
        max_record_len: args.max_record_len as usize,
        decode_threads: threads,
        format: Some(Format::Fastq),
        mmap: !args.no_mmap,
        ..ReaderOptions::default()
    };
    let pool_size = threads + args.channel_depth + 3;
    let open = |path: &Path| -> Result<MateInput> {
        Ok(MateInput {
            reader: Reader::from_path(path, options.clone())?,
            pool: Pool::from_fn(pool_size, Batch::default),
            current: None,
            last: None,
            done: false,
        })
    };
    let mut mate1 = open(read1)?;
    let mut mate2 = read2.map(open).transpose()?;
    let counters: Vec<Arc<AtomicU64>> = std::iter::once(&mate1)
        .chain(mate2.as_ref())
        .map(|m| m.reader.raw_bytes_counter())
        .collect();
    let total_size = crate::progress::file_size(read1)
        .and_then(|a| read2.map_or(Some(a), |p| crate::progress::file_size(p).map(|b| a + b)));
    let progress = crate::progress::bytes_bar(mate1.reader.source(), total_size, global);
    let paired = mate2.is_some();
    let validation =
        (!args.no_validate).then(|| Validation::new().alphabet(Alphabet::Iupac).phred33());
    let on_device = gpu.is_some();
    let pipeline = Pipeline::builder()
        .workers(threads)
        .channel_depth(args.channel_depth)
        .max_queued_bytes((args.channel_depth as u64 * args.batch_size * 4) as usize)
        .build();
    let outcome = pipeline.run_unordered(
        |emit| -> Result<()> {
            let mut reported = 0;
            let (shard, shards) = args.shard.unwrap_or((0, 1));
            for job_index in 0u64.. {
                let job = match &mut mate2 {
                    None => match mate1.next_batch(windowed)? {
                        Some(read1) => Job { read1, read2: None },
                        None => return Ok(()),
                    },
                    Some(mate2) => {
                        let has1 = mate1.fill()?;
                        let has2 = mate2.fill()?;
                        match (has1, has2) {
                            (false, false) => return Ok(()),
                            (true, false) => bail!(
                                "paired files out of sync: {}: {} has no mate ({} is the last record of read 2)",
                                mate1.reader.source(),
                                mate1.next_record(),
                                mate2.last_record()
                            ),
                            (false, true) => bail!(
                                "paired files out of sync: {}: {} has no mate ({} is the last record of read 1)",
                                mate2.reader.source(),
                                mate2.next_record(),
                                mate1.last_record()
                            ),
                            (true, true) => {
                                let n = mate1.remaining().min(mate2.remaining());
                                Job { read1: mate1.take(n), read2: Some(mate2.take(n)) }
                            }
                        }
                    }
                };
                let consumed: u64 = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
                emit.progress(consumed - reported);
                reported = consumed;
                if let Some(bar) = &progress {
                    bar.set_position(consumed);
                }
                if job_index % shards != shard {
                    continue; // another shard's records
                }
                let cost = slice_bytes(&job.read1) + job.read2.as_ref().map_or(0, slice_bytes);
                if emit.send(Weighted::new(cost, job)).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        },
        |_| QcAccumulator::new(paired),
        |acc, job| {
            let mut job = job.into_inner();
            if job.read1.0.is_unparsed() {
                // A window is sent whole to one worker, its range set here: never skip it.
                let batch = Arc::get_mut(&mut job.read1.0).expect("a window has one owner");
                job.read1.1 = 0..batch.parse()?;
            }
            if on_device {
                add_job::<false>(acc, &job, validation.as_ref())?;
                Ok(Some(job)) // to the sink, which hands its bases to the GPU
            } else {
                add_job::<true>(acc, &job, validation.as_ref())?;
                Ok(None)
            }
        },
        |job| match (job, gpu.as_deref_mut()) {
            (Some(job), Some(gpu)) => add_job_to_device(gpu, &job),
            _ => Ok(()),
        },
    );
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let outcome = outcome.map_err(|error| match error {
        PipelineError::Panic { stage, message } => {
            anyhow!("{}: internal error: {stage} panicked: {message}", read1.display())
        }
        other => other.into_inner().unwrap_or_else(|| anyhow!("could not start the pipeline")),
    })?;
    let mut total = QcAccumulator::new(paired);
    for state in &outcome.states {
        total.merge(state);
    }
    let device = gpu
        .map(|gpu| gpu.finish(&mut total).with_context(|| read1.display().to_string()))
        .transpose()?;
    Ok((total, outcome.report, device))
}

/// Approximate input bytes of a slice (its share of the batch).
fn slice_bytes((batch, range): &Slice) -> usize {
    if batch.is_unparsed() {
        return batch.data_len(); // a whole window, its records not yet found
    }
    batch.data_len() * range.len() / batch.len().max(1)
}

/// Checks a record: a quick pass over its bytes, and `Validation::check` (which names the bad
/// byte) only when that pass finds something.
#[inline]
fn check(validation: Option<&Validation>, record: &Record<'_>) -> Result<()> {
    if let Some(validation) = validation {
        if !fastq_bytes_valid(record.seq_raw(), record.qual().unwrap_or_default()) {
            validation.check(record)?;
        }
    }
    Ok(())
}

/// Counts the reads of `job` and checks those whose bytes counting did not find plain (the
/// check of plain bytes comes with the counting, in the same pass); with `CYCLES` false, all
/// but their per-cycle counters (which [`add_job_to_device`] hands to the GPU). A read that
/// fails its check was counted, but the error ends the run, so no report holds it.
fn add_job<const CYCLES: bool>(
    acc: &mut QcAccumulator,
    job: &Job,
    validation: Option<&Validation>,
) -> Result<()> {
    let (batch1, range1) = &job.read1;
    match &job.read2 {
        None => {
            for i in range1.clone() {
                let record = batch1.get(i);
                let (id, seq, qual) = (record.id(), record.seq_raw(), record.qual());
                let plain = if CYCLES {
                    acc.add_read(id, seq, qual.unwrap_or_default())
                } else {
                    acc.add_read_except_cycles(id, seq, qual.unwrap_or_default())
                };
                if !plain {
                    check(validation, &record)?;
                }
            }
        }
        Some((batch2, range2)) => {
            for (i, j) in range1.clone().zip(range2.clone()) {
                let (r1, r2) = (batch1.get(i), batch2.get(j));
                if mate_name(r1.id()) != mate_name(r2.id()) {
                    check(validation, &r1)?;
                    check(validation, &r2)?;
                    bail!(
                        "paired files out of sync: {}: {} and {}: {} have different names",
                        batch1.source(),
                        describe(&r1),
                        batch2.source(),
                        describe(&r2)
                    );
                }
                let (q1, q2) = (r1.qual().unwrap_or_default(), r2.qual().unwrap_or_default());
                let plain = if CYCLES {
                    acc.add_pair(r1.id(), (r1.seq_raw(), q1), (r2.seq_raw(), q2))
                } else {
                    acc.add_pair_except_cycles(r1.id(), (r1.seq_raw(), q1), (r2.seq_raw(), q2))
                };
                if !plain {
                    check(validation, &r1)?;
                    check(validation, &r2)?;
                }
            }
        }
    }
    Ok(())
}

/// Hands the bases of a job the workers have counted (all but the per-cycle counters) to the
/// GPU: read 1 as mate 0, read 2 as mate 1.
fn add_job_to_device(gpu: &mut GpuCycleCounter, job: &Job) -> Result<()> {
    gpu.add_reads(0, bases_of(&job.read1)).with_context(|| job.read1.0.source().to_string())?;
    if let Some(read2) = &job.read2 {
        gpu.add_reads(1, bases_of(read2)).with_context(|| read2.0.source().to_string())?;
    }
    Ok(())
}

/// The `(sequence, quality)` pairs of a slice's records.
fn bases_of((batch, range): &Slice) -> impl Iterator<Item = (&[u8], &[u8])> {
    range.clone().map(move |i| {
        let record = batch.get(i);
        (record.seq_raw(), record.qual().unwrap_or_default())
    })
}
