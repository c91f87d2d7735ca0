//! `seqflow stats`: one parser thread feeding N statistics workers per input file.
//!
//! Peak memory: `(threads + channel_depth + 2) × (3 × batch_size + 8 KiB)` for the batches in
//! circulation (a batch holds the partial record carried over from the previous one, at most
//! two batches' worth, plus its fresh input: FASTA records longer than that are read in pieces),
//! plus the decoder's buffers for compressed input (≤ 6 MiB; for parallel BGZF
//! `≈ 6 × threads` MiB), plus one length histogram per worker (≤ 512 KiB plus one entry per
//! distinct length ≥ 65,536). It does not depend on the size of the input or on the length of
//! a FASTA record. A FASTQ record longer than a batch grows the batch holding it to the
//! record's length (at most `--max-record-len`). The bound is checked against the machine's
//! memory (or `--max-memory`) before anything is read.
//!
//! With `--device gpu` (or `auto` on a machine with a GPU) the workers keep everything but
//! the letter counts; the quality histogram and the G/C, N and gap counts are made on the GPU
//! (`seqflow-gpu`): the batches come back from the workers through the pipeline's output queue
//! to the sink, which packs their letters into upload buffers, so the kernel on one chunk runs
//! while the sink packs the next. That adds `2 × (2 × 4 MiB + 4 KiB)` (two chunk slots, each an
//! upload buffer and a device buffer; host memory on a software renderer) and changes nothing
//! else in the bound: the batches in the output queue still come from the same pool.
//!
//! A regular uncompressed file is mapped and parsed in place (see `ReaderOptions::mmap` in
//! `seqflow-seqio`): its batches own no buffer, and the pages of a batch are unmapped when the
//! batch comes back, so the file's pages count in the resident set only while in flight: up to
//! `batch_size + 4 MiB` per mapped batch (its range is released in whole 2 MiB blocks), not
//! more than the bound's `3 × batch_size + 8 KiB` for batches of 2 MiB and up, ≤ 2 MiB more per
//! batch below that.
//! `--no-mmap` reads it with read(2) instead.
//!
//! A mapped four-line FASTQ file is not even parsed on the reader's thread: it only cuts the
//! file into windows where a record starts, and each worker finds the records of its window
//! (`Reader::read_window`, `Batch::parse`), so the parse runs in parallel. Columns that need
//! letters or qualities are counted only when the output shows them (`--all`, JSON). Should a
//! window's parse fail, the file is read again the serial way, which reports the input's
//! first error exactly as before (a bad file costs a second pass, a good one nothing).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use seqflow_pipeline::{Pipeline, PipelineError, Pool, Report, Weighted};
use seqflow_qc::{Accumulator, Summary, render_table, render_tsv};
use seqflow_seqio::{Alphabet, Batch, Reader, ReaderOptions, Validation};

use crate::Global;
use crate::device::{self, Device, DeviceMetrics, GpuCounter};
use crate::limits::{MAX_CHANNEL_DEPTH, MAX_THREADS, times};
use crate::output::{Access, OutputSet, commit};
use crate::size::{count_in, size_in};

/// Per-thread decoder and histogram memory in the bound: parallel BGZF keeps about 6 MiB of
/// blocks per thread, a length histogram up to 512 KiB.
const PER_THREAD_BYTES: u64 = 7 << 20;
/// The single-threaded decoder's buffers (gzip, zstd).
const DECODER_BYTES: u64 = 6 << 20;

/// Output formats of `seqflow stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatsFormat {
    /// Aligned columns with thousands separators.
    Table,
    /// Tab-separated values with a header line.
    Tsv,
    /// A JSON array of objects, one per file.
    Json,
}

/// Alphabets accepted by `--validate-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SeqAlphabet {
    /// A, C, G, T, N (either case).
    Acgtn,
    /// IUPAC nucleotide codes and gaps.
    Iupac,
    /// Amino-acid letters.
    Protein,
}

/// Flags of `seqflow stats`.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// FASTA/FASTQ files, plain, gzip, BGZF or zstd (detected from content); `-` is stdin.
    #[arg(default_value = "-")]
    files: Vec<PathBuf>,
    /// All columns (quartiles, gaps, N50, qualities, GC); the default shows the first eight.
    #[arg(short, long)]
    all: bool,
    /// Style of the table written: `table` (aligned columns, thousands separators), `tsv`
    /// (tab-separated, a header line) or `json` (an array of objects, one per file).
    #[arg(long, value_enum, default_value_t = StatsFormat::Table, hide_possible_values = true)]
    format: StatsFormat,
    /// Same as `--format tsv` (seqkit's flag).
    #[arg(short = 'T', long)]
    tabular: bool,
    /// Write the table here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(short, long)]
    force: bool,
    /// Worker threads, 1 to 1024 (default: all cores). The parser runs on one more thread.
    #[arg(short, long, value_parser = count_in(1, MAX_THREADS), value_name = "N")]
    threads: Option<usize>,
    /// Batches waiting between the parser and the workers (1 to 1024).
    #[arg(long, default_value_t = 4, value_parser = count_in(1, MAX_CHANNEL_DEPTH), value_name = "N")]
    channel_depth: usize,
    /// Input bytes per batch, 1K to 1G (K, M, G suffixes).
    #[arg(long, default_value = "1M", value_parser = size_in(1 << 10, 1 << 30), value_name = "SIZE")]
    batch_size: u64,
    /// Longest record accepted, in bytes of input text from its header on, 1 to 1T (K, M, G, T
    /// suffixes). FASTA records longer than a batch are counted in pieces, so this costs no
    /// memory for FASTA; a FASTQ record needs its whole length in memory.
    #[arg(long, default_value = "4G", value_parser = size_in(1, 1 << 40), value_name = "SIZE")]
    max_record_len: u64,
    /// Read files with read(2) instead of mapping them into memory (mapping is the default
    /// for regular uncompressed files; use this for files rewritten in place during a run).
    #[arg(long)]
    no_mmap: bool,
    /// Also check every sequence letter against this alphabet: `acgtn` (either case), `iupac`
    /// (nucleotide codes and gaps) or `protein` (amino-acid letters).
    #[arg(long, value_enum, hide_possible_values = true, value_name = "ALPHABET")]
    validate_seq: Option<SeqAlphabet>,
    /// Also check that every quality character is Phred+33 (`!` to `~`).
    #[arg(long)]
    validate_qual: bool,
    /// Write pipeline metrics (per stage: items, bytes, busy and blocked time) as JSON.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    /// Where quality values and letters are counted: `cpu`, `gpu` (Vulkan, Metal or DX12; an
    /// error without one) or `auto` (a hardware GPU when there is one, else the CPU, with a note
    /// on stderr). The output is the same on every device. They are counted only for output that
    /// shows them (`--all`, JSON).
    #[arg(long, value_enum, default_value_t = Device::Cpu, hide_possible_values = true, value_name = "DEVICE")]
    device: Device,
    #[command(flatten)]
    pub(crate) chatter: crate::Chatter,
}

impl StatsArgs {
    /// Where letters are counted (`--device`).
    pub(crate) fn device(&self) -> Device {
        self.device
    }

    /// True when the output has columns counted from letters or qualities (G/C, N, gaps,
    /// Q20/Q30, average quality): `--all`, or JSON, which always has every column.
    fn shows_letter_columns(&self) -> bool {
        self.all || (self.format == StatsFormat::Json && !self.tabular)
    }

    fn threads(&self) -> usize {
        crate::limits::threads(self.threads)
    }

    /// Refuses settings whose peak-memory bound (module docs) is above the limit.
    fn check_memory(&self, global: Global) -> Result<()> {
        let threads = self.threads() as u64;
        let batches = threads + self.channel_depth as u64 + 2;
        let per_batch = times(3, self.batch_size) + (8 << 10);
        let bound = times(batches, per_batch)
            .saturating_add(times(threads, PER_THREAD_BYTES))
            .saturating_add(DECODER_BYTES)
            .saturating_add(device::resident_bytes(self.device));
        let on_device = match device::resident_bytes(self.device) {
            0 => String::new(),
            bytes => format!(" + {} for the GPU", crate::size::human_size(bytes)),
        };
        let formula = format!(
            "{batches} batches (threads {threads} + channel depth {} + 2) × 3 × batch size {} \
             + {threads} × 7 MiB + 6 MiB{on_device}",
            self.channel_depth,
            crate::size::human_size(self.batch_size)
        );
        global.memory.check("stats", bound, &formula, "--batch-size, --threads or --channel-depth")
    }

    fn validation(&self) -> Validation {
        let mut validation = Validation::new();
        if let Some(alphabet) = self.validate_seq {
            validation = validation.alphabet(match alphabet {
                SeqAlphabet::Acgtn => Alphabet::Acgtn,
                SeqAlphabet::Iupac => Alphabet::Iupac,
                SeqAlphabet::Protein => Alphabet::Protein,
            });
        }
        if self.validate_qual {
            validation = validation.phred33();
        }
        validation
    }
}

/// Metrics of one file, as written by `--metrics`.
#[derive(serde::Serialize)]
struct FileMetrics<'a> {
    file: &'a str,
    pipeline: &'a Report,
    /// Present when the letters were counted on a GPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a DeviceMetrics>,
}

/// What one file's run reports besides its row.
struct FileReport {
    pipeline: Report,
    device: Option<DeviceMetrics>,
}

/// Runs `seqflow stats`.
pub(crate) fn run(args: &StatsArgs, global: Global) -> Result<ExitCode> {
    args.check_memory(global)?;
    check_inputs(&args.files)?;
    let mut gpu = GpuCounter::open(args.device, global.quiet)?;
    let mut outputs = OutputSet::new(args.force);
    for path in &args.files {
        outputs.reads(path);
    }
    let mut output = outputs.create(args.output.as_deref(), Access::Shared)?;
    let mut metrics_output = args
        .metrics
        .as_deref()
        .map(|path| outputs.create(Some(path), Access::Shared))
        .transpose()?;
    let mut rows = Vec::new();
    let mut reports = Vec::new();
    let mut failed = 0;
    for path in &args.files {
        let name = path.to_string_lossy();
        match stats_of_file(path, args, global, gpu.as_mut()) {
            Ok((summary, report)) => {
                if global.verbose > 0 {
                    eprint!("{}", describe(&name, &report.pipeline));
                    if let Some(metrics) = &report.device {
                        eprint!("{}", device::describe(metrics));
                    }
                }
                rows.push(summary);
                reports.push((name.into_owned(), report));
            }
            Err(error) => {
                failed += 1;
                eprintln!("seqflow: {error:#}");
            }
        }
    }
    let text = match (args.format, args.tabular) {
        (_, true) | (StatsFormat::Tsv, _) => render_tsv(&rows, args.all),
        (StatsFormat::Json, _) => serde_json::to_string_pretty(&rows)? + "\n",
        (StatsFormat::Table, _) => render_table(&rows, args.all),
    };
    output.write_all(text.as_bytes())?;
    if let Some(metrics_output) = &mut metrics_output {
        let metrics: Vec<_> = reports
            .iter()
            .map(|(file, report)| FileMetrics {
                file,
                pipeline: &report.pipeline,
                device: report.device.as_ref(),
            })
            .collect();
        metrics_output.write_all((serde_json::to_string_pretty(&metrics)? + "\n").as_bytes())?;
    }
    commit([Some(output), metrics_output].into_iter().flatten())?;
    Ok(if failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// Standard input can be read once: `stats - -` would report the second as an empty file.
fn check_inputs(files: &[PathBuf]) -> Result<()> {
    if files.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        anyhow::bail!("standard input ('-') can be given only once");
    }
    Ok(())
}

/// Computes the statistics of one file on the pipeline, counting letters on `gpu` if given.
///
/// The file's windows are parsed by the workers where the reader can hand them out; if that
/// fails, the file is read again with the parse on the reader's thread, which names the input's
/// first error (a window's error may come from a misjudged window start, see `Batch::parse`).
fn stats_of_file(
    path: &Path,
    args: &StatsArgs,
    global: Global,
    mut gpu: Option<&mut GpuCounter>,
) -> Result<(Summary, FileReport)> {
    let windowed = AtomicBool::new(false);
    match stats_pass(path, args, global, gpu.as_deref_mut(), Some(&windowed)) {
        Err(_) if windowed.load(Ordering::Relaxed) => stats_pass(path, args, global, gpu, None),
        result => result,
    }
}

/// One pass of [`stats_of_file`] over the file: with `windowed`, parsed by the workers where
/// possible (and `windowed` set when a window went out).
fn stats_pass(
    path: &Path,
    args: &StatsArgs,
    global: Global,
    mut gpu: Option<&mut GpuCounter>,
    windowed: Option<&AtomicBool>,
) -> Result<(Summary, FileReport)> {
    let name = path.to_string_lossy();
    let threads = args.threads();
    let options = ReaderOptions {
        batch_size: args.batch_size as usize,
        max_record_len: args.max_record_len as usize,
        decode_threads: threads,
        fasta_pieces: true,
        mmap: !args.no_mmap,
        ..ReaderOptions::default()
    };
    let mut reader = Reader::from_path(path, options)?;
    let progress =
        crate::progress::bytes_bar(reader.source(), crate::progress::file_size(path), global);
    let raw_bytes = reader.raw_bytes_counter();
    let batches = Pool::from_fn(threads + args.channel_depth + 2, Batch::default);
    let validation = args.validation();
    // Letters and qualities are counted only when the output shows them: the default table
    // has none of those columns, and skipping them leaves the workers only the lengths.
    let count_letters = args.shows_letter_columns();
    let on_device = gpu.is_some() && count_letters;
    let pipeline = Pipeline::builder()
        .workers(threads)
        .channel_depth(args.channel_depth)
        .max_queued_bytes(
            usize::try_from(times(times(args.channel_depth as u64, args.batch_size), 2))
                .unwrap_or(usize::MAX),
        )
        .build();
    let outcome = pipeline.run_unordered(
        |emit| {
            let mut reported = 0;
            loop {
                let Ok(mut batch) = batches.take() else { return Ok(()) };
                let more = match windowed {
                    Some(windowed) => {
                        let more = reader.read_window(&mut batch)?;
                        if batch.is_unparsed() {
                            windowed.store(true, Ordering::Relaxed);
                        }
                        more
                    }
                    None => reader.read_batch(&mut batch)? > 0,
                };
                if !more {
                    return Ok(());
                }
                let consumed = raw_bytes.load(Ordering::Relaxed);
                emit.progress(consumed - reported);
                reported = consumed;
                if let Some(bar) = &progress {
                    bar.set_position(consumed);
                }
                if emit.send(Weighted::new(batch.data_len(), batch)).is_err() {
                    return Ok(()); // cancelled: the run reports the original error
                }
            }
        },
        |_| Accumulator::default(),
        |acc, batch| {
            let mut batch = batch.into_inner();
            batch.parse()?;
            batch.validate(&validation)?;
            if !count_letters {
                acc.add_records(&batch);
                Ok(None)
            } else if on_device {
                acc.add_records(&batch);
                Ok(Some(batch)) // to the sink, which hands its letters to the GPU
            } else {
                acc.add_batch(&batch);
                Ok(None)
            }
        },
        |batch| match (batch, gpu.as_deref_mut()) {
            (Some(batch), Some(gpu)) => gpu.add_batch(&batch).with_context(|| name.to_string()),
            _ => Ok(()),
        },
    );
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            // The next file must not inherit this one's letters still on the device.
            if let Some(gpu) = gpu {
                gpu.discard();
            }
            return Err(unwrap_pipeline_error(error, &name));
        }
    };
    let mut total = Accumulator::default();
    for state in &outcome.states {
        total.merge(state);
    }
    let device =
        gpu.map(|gpu| gpu.finish_file(&mut total).with_context(|| name.to_string())).transpose()?;
    Ok((total.summarize(&name), FileReport { pipeline: outcome.report, device }))
}

/// Turns a pipeline failure into the reader's own error where there is one: it already names
/// the file, line and record.
fn unwrap_pipeline_error(error: PipelineError<anyhow::Error>, name: &str) -> anyhow::Error {
    match error {
        PipelineError::Panic { stage, message } => {
            anyhow::anyhow!("{name}: internal error: {stage} panicked: {message}")
        }
        other => match other.into_inner() {
            Some(inner) => inner,
            None => anyhow::anyhow!("{name}: could not start the pipeline"),
        },
    }
}

/// Per-stage summary printed with `-v`: which stage waited, which worked.
fn describe(name: &str, report: &Report) -> String {
    let gb_per_s = report.input_bytes as f64 / report.wall_secs.max(1e-9) / 1e9;
    format!(
        "{name}: {:.3} s, {:.2} GB/s of input; parser busy {:.3} s, blocked on send {:.3} s; \
         workers busy {:.3} s, waiting for batches {:.3} s\n",
        report.wall_secs,
        gb_per_s,
        report.source.busy_secs,
        report.source.blocked_send_secs,
        report.work.busy_secs,
        report.work.blocked_recv_secs,
    )
}
