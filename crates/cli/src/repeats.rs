//! `seqflow repeats`: de novo interspersed-repeat families of a genome and every copy of them.
//!
//! Outputs (all written to temporary files and renamed together once everything succeeded):
//! `PREFIX.families.fa`, `PREFIX.bed`, `PREFIX.gff3`, `PREFIX.out`, `PREFIX.seeds.tsv`,
//! `PREFIX.masked.fa`, `PREFIX.summary.json` (formats: `docs/formats/repeats.md`). PREFIX names files: a directory (or a name ending in `/`) is refused.
//! The masked genome is written from a second reading of the input, so that it keeps every
//! letter it does not mask and the whole header lines; standard input and other streams are
//! copied to a temporary file beside the outputs for that.
//!
//! Peak memory ≈ 0.25 byte/base (2-bit genome) + 0.125 byte/base (mask) + the index: its
//! bucket working set (at most `--memory`) and 8 bytes per kept seed occurrence (roughly
//! 8 × repeat bases) + 24 bytes per seed. Discovery adds `round_size` families in flight (each
//! at most `max_sample` copies × 2 × `max_extend` flank bases, counted at 2 bytes per base);
//! the annotation ~100 bytes per annotated copy plus a traceback of at most 64 MiB per thread.
//! The bound is checked against the machine's memory (or `--max-memory`) before the genome is
//! read, and again with the genome's length before the index is built.

use std::fs::{self, File};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use seqflow_genome::Genome;
use seqflow_repeats::output::{
    MaskStyle, MaskedWriter, write_bed, write_families, write_gff3, write_repeatmasker_out,
    write_seeds,
};
use seqflow_repeats::{
    Landscape, LibraryFamily, Params, Progress, Repeats, annotate_library, find_repeats,
};
use seqflow_seqio::{Batch, Reader};
use serde::Serialize;

use crate::Global;
use crate::limits::{MAX_THREADS, times};
use crate::output::{Access, Output, OutputSet, ScratchFile, commit};
use crate::size::{count_in, human_size, size_in};

/// Upper bound of the length-like flags (`--max-extend`, `--min-length`, `--stop-after`).
const MAX_LENGTH_FLAG: u64 = 1 << 20;

/// The parser of the length-like flags: 1 to [`MAX_LENGTH_FLAG`], with the size suffixes.
fn length_flag() -> impl TypedValueParser<Value = usize> {
    size_in(1, MAX_LENGTH_FLAG).map(|value| value as usize)
}
/// Bytes per flank base of a family in flight (sequence plus alignment state), for the bound.
const FLANK_BASE_BYTES: u64 = 2;

/// How `PREFIX.masked.fa` marks repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MaskArg {
    /// Lower-case repeat bases; every other letter as in the input.
    Soft,
    /// Repeat bases become N; every other letter as in the input.
    Hard,
}

/// Flags of `seqflow repeats`.
#[derive(Debug, Args)]
pub(crate) struct RepeatsArgs {
    /// Genome FASTA (plain, gzip, BGZF or zstd; `-` for standard input).
    genome: PathBuf,
    /// Output prefix: writes PREFIX.families.fa, .bed, .gff3, .out, .seeds.tsv, .masked.fa,
    /// .summary.json
    /// (`dir/name`, not a directory).
    #[arg(short, long, value_name = "PREFIX")]
    output: PathBuf,
    /// Annotate the copies of this library's families instead of finding families (as
    /// `RepeatMasker -lib`): FASTA, identifiers `name#class` or `name` (class `Unknown`).
    #[arg(long, value_name = "FILE")]
    library: Option<PathBuf>,
    /// Seed length (default: ⌈log4 G⌉ + 1 for a genome of G bases).
    #[arg(short, value_parser = count_in(8usize, 32))]
    k: Option<usize>,
    /// Seed length of the annotation pass, 8 to 32 (default: from the library's size, 10 to
    /// -k: shorter seeds find older, more diverged copies).
    #[arg(long, value_parser = count_in(8usize, 32), value_name = "K")]
    annotation_k: Option<usize>,
    /// Fewest copies of a seed (after tandem collapse and masking), 2 to 1000000.
    #[arg(long, default_value_t = 3, value_parser = count_in(2u32, 1_000_000))]
    min_freq: u32,
    /// Same-strand seed copies closer than this many bases are one tandem copy, 0 to 1G (K,
    /// M, G suffixes).
    #[arg(long, default_value = "500", value_parser = size_in(0, 1 << 30), value_name = "SIZE")]
    tandem_dist: u64,
    /// Shortest consensus and shortest reported element, 1 to 1M bases (K, M suffixes).
    #[arg(long, default_value = "50", value_parser = length_flag(), value_name = "SIZE")]
    min_length: usize,
    /// Longest extension on each side of a seed, 1 to 1M bases (K, M suffixes).
    #[arg(long, default_value = "10000", value_parser = length_flag(), value_name = "SIZE")]
    max_extend: usize,
    /// Stop a side after this many columns without improvement, 1 to 1M (K, M suffixes).
    #[arg(long, default_value = "100", value_parser = length_flag(), value_name = "N")]
    stop_after: usize,
    /// Required family score gain per column (0 to 1000).
    #[arg(long, default_value_t = 3, value_parser = count_in(0i32, 1000))]
    min_improvement: i32,
    /// Most copies used to build one consensus (2 to 65536).
    #[arg(long, default_value_t = 256, value_parser = count_in(2usize, 1 << 16))]
    max_sample: usize,
    /// Stop after this many families (at least 1).
    #[arg(long, value_parser = count_in(1, usize::MAX))]
    max_families: Option<usize>,
    /// Seeds built speculatively per round (changes the output slightly; not the thread count).
    #[arg(long, default_value_t = 16, hide = true, value_parser = count_in(1usize, 1024))]
    round_size: usize,
    /// Memory for the k-mer index buckets, 1K to 1T (K, M, G, T suffixes).
    #[arg(long, default_value = "768M", value_parser = size_in(1 << 10, 1 << 40), value_name = "SIZE")]
    memory: u64,
    /// Worker threads, 1 to 1024 (default: all cores). The output is the same for any value.
    #[arg(short, long, value_parser = count_in(1, MAX_THREADS), value_name = "N")]
    threads: Option<usize>,
    /// How PREFIX.masked.fa marks repeats: `soft` (lower-case) or `hard` (N); every other
    /// letter stays as in the input.
    #[arg(long, value_enum, default_value_t = MaskArg::Soft, hide_possible_values = true)]
    mask: MaskArg,
    /// Write the engine's per-stage metrics (discovery and annotation) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    /// Overwrite existing output files.
    #[arg(short, long)]
    force: bool,
    #[command(flatten)]
    pub(crate) chatter: crate::Chatter,
}

impl RepeatsArgs {
    fn params(&self) -> Params {
        let mut params = Params::default();
        params.k = self.k;
        params.annotation_k = self.annotation_k;
        params.min_freq = self.min_freq;
        params.tandem_dist = self.tandem_dist;
        params.min_length = self.min_length;
        params.max_extend = self.max_extend;
        params.stop_after = self.stop_after;
        params.min_improvement = self.min_improvement;
        params.max_sample = self.max_sample;
        params.round_size = self.round_size;
        params.max_families = self.max_families.unwrap_or(usize::MAX);
        params.memory_bytes = usize::try_from(self.memory).unwrap_or(usize::MAX);
        params.threads = crate::limits::threads(self.threads);
        params
    }

    /// Refuses a prefix that names a directory: `-o dir/` would write hidden files
    /// `dir/.bed`, ….
    fn check_prefix(&self) -> Result<()> {
        let prefix = &self.output;
        if prefix.as_os_str().as_encoded_bytes().ends_with(b"/") || prefix.is_dir() {
            bail!(
                "-o {}: is a directory; PREFIX names the output files (`-o {}/NAME` writes \
                 NAME.families.fa, NAME.bed, … in it)",
                prefix.display(),
                prefix.display().to_string().trim_end_matches('/')
            );
        }
        Ok(())
    }

    /// Refuses settings whose peak-memory bound (module docs) is above the limit; `bases` is
    /// the genome's length once it is loaded (0 before).
    fn check_memory(&self, params: &Params, bases: u64, global: Global) -> Result<()> {
        let families = times(2, params.round_size as u64);
        let flanks = times(
            times(families, params.max_sample as u64),
            times(2 * FLANK_BASE_BYTES, params.max_extend as u64),
        );
        let genome = bases / 8 * 3 + times(params.threads as u64, bases / 64);
        let bound = self.memory.saturating_add(flanks).saturating_add(genome);
        let formula = format!(
            "--memory {} + {families} families in flight × {} copies × 2 × {} flank bases × {} \
             bytes + 0.375 byte/base of a {bases}-base genome + sort scratch",
            human_size(self.memory),
            params.max_sample,
            params.max_extend,
            FLANK_BASE_BYTES
        );
        global.memory.check(
            "repeats",
            bound,
            &formula,
            "--memory, --max-extend, --max-sample or --threads",
        )
    }

    fn path(&self, suffix: &str) -> PathBuf {
        let mut name = self.output.clone().into_os_string();
        name.push(suffix);
        PathBuf::from(name)
    }
}

/// The run summary written to `PREFIX.summary.json`.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    genome: String,
    /// The `--library` annotated, or `null` for de novo families.
    library: Option<String>,
    genome_bases: u64,
    acgt_bases: u64,
    contigs: usize,
    /// The parameters, with `max_families: null` for "no limit".
    params: serde_json::Value,
    k: usize,
    annotation_k: usize,
    families: usize,
    /// Families of class `Unknown`: not tandem arrays.
    interspersed_families: usize,
    redundant_families_removed: usize,
    elements: usize,
    masked_bases: u64,
    masked_fraction: f64,
    seconds: Seconds,
    peak_rss_bytes: Option<u64>,
    index: &'a seqflow_repeats::IndexStats,
    discovery: &'a seqflow_repeats::DiscoveryStats,
    landscape: Landscape,
}

/// The parameters as JSON, with `null` for the "no limit" of `max_families` (rather than
/// 2^64 − 1).
fn params_json(params: &Params) -> Result<serde_json::Value> {
    let mut value = serde_json::to_value(params)?;
    if params.max_families == usize::MAX {
        if let Some(max) = value.get_mut("max_families") {
            *max = serde_json::Value::Null;
        }
    }
    Ok(value)
}

/// Wall time per phase.
#[derive(Debug, Serialize)]
struct Seconds {
    load: f64,
    index: f64,
    discovery: f64,
    redundancy: f64,
    annotation: f64,
    output: f64,
    total: f64,
}

/// Reads a repeat library: FASTA (plain or compressed), one family per record, identifiers
/// `name#class` (RepeatMasker's form) or `name`; names must be distinct.
fn read_library(path: &Path) -> Result<Vec<LibraryFamily>> {
    let library = Genome::from_fasta(path)?;
    if library.contigs().is_empty() {
        bail!("{}: no sequence: a library needs at least one consensus", path.display());
    }
    let mut families = Vec::with_capacity(library.contigs().len());
    let mut names = std::collections::HashSet::new();
    for (i, contig) in library.contigs().iter().enumerate() {
        let (name, class) = contig.name.split_once('#').unwrap_or((&contig.name, "Unknown"));
        if !names.insert(name) {
            bail!(
                "{}: record {} ('{}'): family name '{name}' given twice",
                path.display(),
                i + 1,
                contig.name
            );
        }
        families.push(LibraryFamily {
            name: name.to_owned(),
            class: class.to_owned(),
            consensus: library.decode(library.contig_range(i)),
        });
    }
    Ok(families)
}

/// Runs `seqflow repeats`.
pub(crate) fn run(args: &RepeatsArgs, global: Global) -> Result<ExitCode> {
    let params = args.params();
    args.check_memory(&params, 0, global)?;
    let started = Instant::now();
    args.check_prefix()?;
    // Refuse existing outputs, and outputs that are the genome, before spending any time.
    let mut files = OutputSet::new(args.force);
    files.reads(&args.genome);
    if let Some(library) = &args.library {
        files.reads(library);
    }
    let mut outputs = Vec::new();
    for suffix in SUFFIXES {
        outputs.push(files.create(Some(&args.path(suffix)), Access::Shared)?);
    }
    let metrics_output =
        args.metrics.as_deref().map(|path| files.create(Some(path), Access::Shared)).transpose()?;
    let bar = spinner(global);
    set_message(bar.as_ref(), "reading genome");
    let source = GenomeSource::open(&args.genome, &args.path(SUFFIXES[0]))?;
    let genome = Genome::from_reader(source.reader()?)?;
    args.check_memory(&params, genome.len(), global)?;
    let load = started.elapsed().as_secs_f64();

    let mut on_progress = |progress| set_message(bar.as_ref(), &progress_message(progress));
    let repeats = match &args.library {
        Some(path) => annotate_library(&genome, &read_library(path)?, &params, &mut on_progress),
        None => find_repeats(&genome, &params, &mut on_progress),
    }
    .with_context(|| args.genome.display().to_string())?;

    set_message(bar.as_ref(), "writing");
    let writing = Instant::now();
    let [mut families, mut bed, mut gff3, mut rm_out, mut seeds, mut masked, mut summary_out] =
        <[Output; SUFFIXES.len()]>::try_from(outputs)
            .map_err(|_| anyhow::anyhow!("an output per suffix"))?;
    let style = match args.mask {
        MaskArg::Soft => MaskStyle::Soft,
        MaskArg::Hard => MaskStyle::Hard,
    };
    // The masked genome, the largest output, is written beside the other three. Write errors
    // name their file (the outputs do that).
    std::thread::scope(|scope| -> Result<()> {
        let masked_job =
            scope.spawn(|| write_masked(&mut masked, &source, &genome, &repeats, style));
        write_families(&mut families, &repeats)?;
        write_bed(&mut bed, &genome, &repeats)?;
        write_gff3(&mut gff3, &genome, &repeats)?;
        write_repeatmasker_out(&mut rm_out, &genome, &repeats)?;
        write_seeds(&mut seeds, &genome, &repeats)?;
        masked_job.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    let output = writing.elapsed().as_secs_f64();

    let masked_bases = repeats.masked_bases();
    let summary = Summary {
        genome: args.genome.display().to_string(),
        library: args.library.as_ref().map(|path| path.display().to_string()),
        genome_bases: genome.len(),
        acgt_bases: genome.acgt_len(),
        contigs: genome.contigs().len(),
        params: params_json(&params)?,
        k: repeats.k,
        annotation_k: repeats.annotation_k,
        families: repeats.families.len(),
        interspersed_families: repeats.families.iter().filter(|f| f.class == "Unknown").count(),
        redundant_families_removed: repeats.redundant_families,
        elements: repeats.elements.len(),
        masked_bases,
        masked_fraction: if genome.is_empty() {
            0.0
        } else {
            masked_bases as f64 / genome.len() as f64
        },
        seconds: Seconds {
            load,
            index: repeats.times.index,
            discovery: repeats.times.discovery,
            redundancy: repeats.times.redundancy,
            annotation: repeats.times.annotation,
            output,
            total: started.elapsed().as_secs_f64(),
        },
        peak_rss_bytes: peak_rss_bytes(),
        index: &repeats.index_stats,
        discovery: &repeats.discovery_stats,
        landscape: Landscape::of(&repeats),
    };
    serde_json::to_writer_pretty(&mut summary_out, &summary)?;
    summary_out.write_all(b"\n")?;
    let metrics_output = write_metrics(metrics_output, &repeats)?;
    let written = [families, bed, gff3, rm_out, seeds, masked, summary_out];
    commit(written.into_iter().chain(metrics_output))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report(&summary, global);
    Ok(ExitCode::SUCCESS)
}

/// The summary on stderr: one line, and with `-v` the timings, the index and the discovery in
/// words.
fn report(summary: &Summary<'_>, global: Global) {
    if global.quiet {
        return;
    }
    eprintln!(
        "seqflow repeats: {} families, {} elements, {} bp masked ({:.2}%) in {:.2} s",
        summary.families,
        summary.elements,
        summary.masked_bases,
        100.0 * summary.masked_fraction,
        summary.seconds.total
    );
    if global.verbose > 0 {
        for line in verbose_lines(summary) {
            eprintln!("  {line}");
        }
    }
}

/// The `-v` lines: what each phase did and how long it took, in words.
fn verbose_lines(summary: &Summary<'_>) -> Vec<String> {
    let s = &summary.seconds;
    let index = summary.index;
    let discovery = summary.discovery;
    let peak = summary.peak_rss_bytes.map_or("unknown".to_owned(), crate::size::approx_size);
    // Merged families are redundant with a kept one; of the rest, those whose every copy went
    // to better-scoring families are dropped at annotation.
    let without_copies = (discovery.families as usize)
        .saturating_sub(summary.redundant_families_removed)
        .saturating_sub(summary.families);
    vec![
        format!(
            "time: load {:.2} s, index {:.2} s, discovery {:.2} s, redundancy {:.2} s, \
             annotation {:.2} s, output {:.2} s; peak memory (RSS) {peak}",
            s.load, s.index, s.discovery, s.redundancy, s.annotation, s.output
        ),
        format!(
            "index (k = {}): {} k-mers scanned, {} skipped as low complexity, {} tandem copies \
             collapsed; {} chance matches dropped, {} seeds kept with {} copies; {} bucket \
             passes, largest bucket {}",
            summary.k,
            index.kmers_scanned,
            index.low_complexity_skipped,
            index.tandem_collapsed,
            index.filtered_out,
            index.distinct_kept,
            index.occurrences_kept,
            index.buckets,
            crate::size::approx_size(index.peak_bucket_bytes as u64)
        ),
        format!(
            "discovery: {} viable seeds, {} built in {} rounds; {} families found, {} merged as \
             redundant, {} left without a copy → {} families ({} seeds lost a copy to a family \
             of their round, {} deferred, {} recounted)",
            discovery.viable_seeds,
            discovery.seeds_built,
            discovery.rounds,
            discovery.families,
            summary.redundant_families_removed,
            without_copies,
            summary.families,
            discovery.conflicts,
            discovery.deferred,
            discovery.recounted
        ),
    ]
}

fn write_metrics(output: Option<Output>, repeats: &Repeats) -> Result<Option<Output>> {
    let Some(mut output) = output else { return Ok(None) };
    #[derive(Serialize)]
    struct Metrics<'a> {
        discovery: &'a seqflow_pipeline::Report,
        annotation: &'a seqflow_pipeline::Report,
    }
    let metrics =
        Metrics { discovery: &repeats.discovery_report, annotation: &repeats.annotation_report };
    serde_json::to_writer_pretty(&mut output, &metrics)?;
    Ok(Some(output))
}

/// The suffixes of the output files, in the order they are created.
const SUFFIXES: [&str; 7] =
    [".families.fa", ".bed", ".gff3", ".out", ".seeds.tsv", ".masked.fa", ".summary.json"];

/// The genome FASTA, readable twice (for the genome, then for the masked copy): the file
/// itself, or for standard input and other streams (FIFOs, `<(…)`) a copy of their bytes, as
/// they came (compressed stays compressed), in a temporary file beside the outputs.
struct GenomeSource {
    path: PathBuf,
    name: String,
    copy: Option<ScratchFile>,
}

impl GenomeSource {
    /// `genome` as given on the command line; `beside` is an output, where a copy goes.
    fn open(genome: &Path, beside: &Path) -> Result<GenomeSource> {
        let name = genome.display().to_string();
        let regular = genome.as_os_str() != "-" && fs::metadata(genome).is_ok_and(|m| m.is_file());
        if regular {
            return Ok(GenomeSource { path: genome.to_owned(), name, copy: None });
        }
        let mut input: Box<dyn Read> = if genome.as_os_str() == "-" {
            Box::new(io::stdin().lock())
        } else {
            Box::new(File::open(genome).with_context(|| name.clone())?)
        };
        let mut copy = ScratchFile::beside(beside)?;
        io::copy(&mut input, copy.file()).with_context(|| {
            format!("{name}: copying it to a temporary file beside the outputs")
        })?;
        Ok(GenomeSource { path: genome.to_owned(), name, copy: Some(copy) })
    }

    /// A FASTA reader from the start; errors name the input as given.
    fn reader(&self) -> Result<Reader> {
        Ok(match &self.copy {
            None => Reader::from_path(&self.path, Genome::reader_options())?,
            Some(copy) => {
                let file = copy.reopen().with_context(|| format!("{}: the copy", self.name))?;
                Reader::new(file, &self.name, Genome::reader_options())?
            }
        })
    }
}

/// Writes the masked genome from a second reading of the input (see [`MaskedWriter`]).
fn write_masked(
    out: &mut Output,
    source: &GenomeSource,
    genome: &Genome,
    repeats: &Repeats,
    style: MaskStyle,
) -> Result<()> {
    let named = |error: seqflow_repeats::Error| match error {
        seqflow_repeats::Error::InputChanged(_) => {
            anyhow::Error::new(error).context(source.name.clone())
        }
        other => other.into(),
    };
    let mut reader = source.reader()?;
    let mut writer = MaskedWriter::new(out, genome, repeats, style);
    let mut batch = Batch::default();
    while reader.read_batch(&mut batch)? > 0 {
        for record in batch.records() {
            writer.begin_record(record.header()).map_err(named)?;
            for line in record.seq_lines() {
                writer.write_letters(line).map_err(named)?;
            }
        }
    }
    writer.finish().map_err(named)?;
    Ok(())
}

/// The process's peak resident set size (`VmHWM` in `/proc/self/status`), where available.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The progress line for a phase: its name and how much of it is done.
fn progress_message(progress: Progress) -> String {
    let percent = progress.fraction().map(|f| format!("{:.0}%", f * 100.0));
    match (progress, percent) {
        (Progress::Indexing { passes_done, passes }, Some(percent)) => {
            format!("1/4 indexing k-mers: {percent} (scan {passes_done} of {passes})")
        }
        (Progress::Indexing { .. }, None) => "1/4 indexing k-mers: counting".to_owned(),
        (Progress::Discovering { families, .. }, percent) => format!(
            "2/4 building families: {} of the seeds, {families} families",
            percent.as_deref().unwrap_or("0%")
        ),
        (Progress::Merging, _) => "3/4 removing redundant families".to_owned(),
        (Progress::Annotating { .. }, percent) => {
            format!("4/4 annotating copies: {} of the genome", percent.as_deref().unwrap_or("0%"))
        }
    }
}

fn spinner(global: Global) -> Option<ProgressBar> {
    if global.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn set_message(bar: Option<&ProgressBar>, message: &str) {
    if let Some(bar) = bar {
        bar.set_message(message.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_name_the_phase_and_the_share_done() {
        let line = progress_message(Progress::Indexing { passes_done: 3, passes: 12 });
        assert_eq!(line, "1/4 indexing k-mers: 25% (scan 3 of 12)");
        let line =
            progress_message(Progress::Discovering { families: 7, seeds_left: 10, seeds: 40 });
        assert_eq!(line, "2/4 building families: 75% of the seeds, 7 families");
        let line = progress_message(Progress::Annotating { bases_done: 1, bases: 3 });
        assert_eq!(line, "4/4 annotating copies: 33% of the genome");
        assert!(progress_message(Progress::Merging).contains("redundant"));
    }
}
