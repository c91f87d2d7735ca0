//! `seqflow collection`: read AGC genome-collection archives with the verbs of C++ `agc`
//! (`getset`, `getctg`, `getcol`, `listset`, `listctg`, `listref`, `info`).
//!
//! Every query is resolved against the archive's metadata before any sequence is written, so
//! an unknown sample or contig, or a range past a contig's end, fails before output starts.
//! Sequence is then cut into chunks of whole output lines (about 4 Mb of bases each) that the
//! engine decodes in parallel, each worker with its own ZSTD context and part cache; the
//! ordered sink writes chunks in request order, so the output is the same for any
//! `--threads`. With `--gzip` every chunk becomes one gzip member, compressed by the worker.
//! Plain FASTA files are written by the workers themselves at offsets computed from the
//! metadata; the sink then only renames finished files in order.
//!
//! Peak memory: a pool of `3·threads + 4` reused output buffers of ~4.1 MB (formatted
//! chunks; the engine keeps at most `threads + 2` of them in flight) plus, per worker, 4 MB of
//! codes, a 16 MiB cache of decoded parts and one decoded segment; the archive is read with
//! `pread`, never as a whole.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use flate2::Compression;
use flate2::write::GzEncoder;
use seqflow_collection::container::FileSource;
use seqflow_collection::create::case::{CASE_STREAM, read_case_runs};
use seqflow_collection::query::{ContigQuery, output_header};
use seqflow_collection::reader::CODE_TO_LETTER;
use seqflow_collection::{CollectionReader, Contig, Error as CollectionError, SegmentDecoder};
use seqflow_pipeline::{Emitter, Pipeline, Pool, PoolGuard, Weighted};

use crate::Global;
use crate::limits::MAX_THREADS;
use crate::output::{Access, Output, OutputSet, commit};
use crate::size::{count_in, size_in};

/// Bases decoded per work item (rounded up to whole output lines).
const CHUNK_BASES: u64 = 4 << 20;

/// The `seqflow collection` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum CollectionCommand {
    /// FASTA of whole samples, in the order given (`agc getset`).
    Getset(GetsetArgs),
    /// FASTA of contigs or ranges: `ctg`, `ctg@sample`, `ctg:from-to`, `ctg@sample:from-to`,
    /// 0-based, inclusive (`agc getctg`).
    Getctg(GetctgArgs),
    /// Every sample to `DIR/<sample>.fa`, samples decoded in parallel (`agc getcol`).
    Getcol(GetcolArgs),
    /// Sample names, sorted (`agc listset`).
    Listset(ArchiveArgs),
    /// Full contig headers of samples (`agc listctg`).
    Listctg(ListctgArgs),
    /// The reference (first) sample (`agc listref`).
    Listref(ArchiveArgs),
    /// Parameters and sample count (`agc info`).
    Info(InfoArgs),
    /// A new archive from FASTA files; the first is the reference and first sample
    /// (`agc create`).
    Create(CreateArgs),
    /// A new archive holding an archive plus more samples (`agc append`).
    Append(AppendArgs),
}

impl CollectionCommand {
    /// `-q`/`-v` of the verbs that have a progress bar and a summary (`create`, `append`).
    pub(crate) fn chatter(&self) -> crate::Chatter {
        match self {
            CollectionCommand::Create(args) => args.write.chatter,
            CollectionCommand::Append(args) => args.write.chatter,
            _ => crate::Chatter::default(),
        }
    }
}

/// Just an archive.
#[derive(Debug, Args)]
pub(crate) struct ArchiveArgs {
    /// AGC archive (format 3.x).
    archive: PathBuf,
}

/// How sequence is written.
#[derive(Debug, Args)]
pub(crate) struct SequenceArgs {
    /// Bases per FASTA line (0 = the whole sequence on one line).
    #[arg(short = 'l', long, default_value_t = 80)]
    line_length: usize,
    /// Gzip the output at this level (0-9).
    #[arg(short = 'g', long, value_parser = clap::value_parser!(u32).range(0..=9))]
    gzip: Option<u32>,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(short, long, value_parser = count_in(1, MAX_THREADS), value_name = "N")]
    threads: Option<usize>,
    /// Overwrite existing output files.
    #[arg(short, long)]
    force: bool,
    /// Write every base uppercase, as C++ agc does, even when the archive holds the
    /// lowercase (soft-masked) runs of `create --keep-case`.
    #[arg(long)]
    uppercase: bool,
    /// Bases per work item (tests use small values to exercise chunk boundaries).
    #[arg(long, hide = true, default_value_t = CHUNK_BASES, value_parser = clap::value_parser!(u64).range(1..))]
    chunk_bases: u64,
}

/// Flags of `seqflow collection getset`.
#[derive(Debug, Args)]
pub(crate) struct GetsetArgs {
    /// AGC archive (format 3.x).
    archive: PathBuf,
    /// Samples to write, in this order.
    #[arg(required = true)]
    samples: Vec<String>,
    /// Output file (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    sequence: SequenceArgs,
}

/// Flags of `seqflow collection getctg`.
#[derive(Debug, Args)]
pub(crate) struct GetctgArgs {
    /// AGC archive (format 3.x).
    archive: PathBuf,
    /// Queries: `ctg`, `ctg@sample`, `ctg:from-to`, `ctg@sample:from-to` (0-based, inclusive).
    #[arg(required = true)]
    queries: Vec<String>,
    /// Output file (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    sequence: SequenceArgs,
}

/// Flags of `seqflow collection getcol`.
#[derive(Debug, Args)]
pub(crate) struct GetcolArgs {
    /// AGC archive (format 3.x).
    archive: PathBuf,
    /// Directory for the `<sample>.fa` files (created if missing).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Skip the reference sample.
    #[arg(short = 'r', long)]
    no_reference: bool,
    #[command(flatten)]
    sequence: SequenceArgs,
}

/// Flags of `seqflow collection listctg`.
#[derive(Debug, Args)]
pub(crate) struct ListctgArgs {
    /// AGC archive (format 3.x).
    archive: PathBuf,
    /// Samples whose contigs to list.
    #[arg(required = true)]
    samples: Vec<String>,
}

/// Flags of `seqflow collection info`.
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// AGC archive (format 3.x).
    archive: PathBuf,
    /// Also print the archive's file-type info (producer, versions), as `agc info -v 1`.
    #[arg(long)]
    file_type_info: bool,
}

type Reader = CollectionReader<FileSource>;

/// Runs one `seqflow collection` verb.
pub(crate) fn run(command: &CollectionCommand, global: Global) -> Result<ExitCode> {
    let archive = match command {
        CollectionCommand::Create(args) => return create(args, global),
        CollectionCommand::Append(args) => return append(args, global),
        CollectionCommand::Getset(a) => &a.archive,
        CollectionCommand::Getctg(a) => &a.archive,
        CollectionCommand::Getcol(a) => &a.archive,
        CollectionCommand::Listset(a) | CollectionCommand::Listref(a) => &a.archive,
        CollectionCommand::Listctg(a) => &a.archive,
        CollectionCommand::Info(a) => &a.archive,
    };
    run_on(command, archive).with_context(|| archive.display().to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn run_on(command: &CollectionCommand, archive: &Path) -> Result<()> {
    let reader = CollectionReader::open(archive)?;
    match command {
        CollectionCommand::Getset(args) => getset(&reader, args),
        CollectionCommand::Getctg(args) => getctg(&reader, args),
        CollectionCommand::Getcol(args) => getcol(&reader, args),
        CollectionCommand::Listset(_) => {
            let mut samples = reader.samples().to_vec();
            samples.sort();
            print_lines(samples.iter().map(String::as_str))
        }
        CollectionCommand::Listref(_) => print_lines(reader.reference_sample()),
        CollectionCommand::Listctg(args) => {
            let mut lines = Vec::new();
            for sample in &args.samples {
                lines.push(sample.clone());
                lines.extend(reader.contig_names(sample)?.into_iter().map(|c| format!("   {c}")));
            }
            print_lines(lines.iter().map(String::as_str))
        }
        CollectionCommand::Info(args) => {
            print_lines(info_lines(&reader, args.file_type_info).iter().map(String::as_str))
        }
        CollectionCommand::Create(_) | CollectionCommand::Append(_) => {
            unreachable!("create and append are dispatched in run")
        }
    }
}

fn print_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let mut out = Output::create(None, false)?;
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.finish()
}

/// What `agc info` prints (format 3.0 stores no command lines, so that section is empty).
fn info_lines(reader: &Reader, file_type_info: bool) -> Vec<String> {
    let params = reader.params();
    let mut lines = vec![
        format!("No. samples      : {}", reader.samples().len()),
        format!("k-mer length     : {}", params.kmer_length),
        format!("Min. match length: {}", params.min_match_length),
        format!("Segment size     : {}", params.segment_size),
        format!("Batch size       : {}", params.pack_cardinality),
        format!("Reference name   : {}", reader.reference_sample().unwrap_or("")),
        "Command lines:".to_owned(),
    ];
    if file_type_info {
        lines.push("File type info:".to_owned());
        lines.extend(reader.file_type_info().0.iter().map(|(k, v)| format!("  {k} : {v}")));
    }
    lines
}

/// One FASTA record to write: a header and the range of a contig.
struct Request {
    /// Index of the destination (the sample, for `getcol`; 0 otherwise).
    destination: usize,
    header: String,
    contig: Arc<Contig>,
    /// 0-based inclusive range; `None` for an empty contig.
    range: Option<(u64, u64)>,
    /// Lowercase runs `(start, length)` of the whole contig (`--keep-case` archives).
    case: Option<ContigCase>,
}

/// Lowercase runs `(start, length)` of one whole contig, shared by its chunks.
type ContigCase = Arc<Vec<(u64, u64)>>;

/// The lowercase runs of each contig of a sample, read once per sample; `None` when the
/// archive stores none for it or `--uppercase` asks for agc's output.
struct CaseRunsCache {
    enabled: bool,
    by_sample: HashMap<String, Option<Vec<ContigCase>>>,
}

impl CaseRunsCache {
    fn new(reader: &Reader, uppercase: bool) -> CaseRunsCache {
        let stored = reader.archive().stream_id(CASE_STREAM).is_some();
        CaseRunsCache { enabled: stored && !uppercase, by_sample: HashMap::new() }
    }

    /// The runs of contig `index` of `sample`.
    fn runs(&mut self, reader: &Reader, sample: &str, index: usize) -> Result<Option<ContigCase>> {
        if !self.enabled {
            return Ok(None);
        }
        if !self.by_sample.contains_key(sample) {
            let runs = read_case_runs(reader.archive(), sample)?
                .map(|contigs| contigs.into_iter().map(Arc::new).collect());
            self.by_sample.insert(sample.to_owned(), runs);
        }
        Ok(self.by_sample[sample].as_ref().and_then(|contigs| contigs.get(index).cloned()))
    }
}

fn whole_sample_requests(
    reader: &Reader,
    sample: &str,
    destination: usize,
    case: &mut CaseRunsCache,
) -> Result<Vec<Request>> {
    let k = reader.params().kmer_length;
    let mut requests = Vec::new();
    for (index, contig) in reader.sample_contigs(sample)?.into_iter().enumerate() {
        let length = contig.length(k);
        requests.push(Request {
            destination,
            header: contig.name.clone(),
            range: (length > 0).then(|| (0, length - 1)),
            contig: Arc::new(contig),
            case: case.runs(reader, sample, index)?,
        });
    }
    Ok(requests)
}

fn getset(reader: &Reader, args: &GetsetArgs) -> Result<()> {
    let mut case = CaseRunsCache::new(reader, args.sequence.uppercase);
    let mut requests = Vec::new();
    for sample in &args.samples {
        requests.extend(whole_sample_requests(reader, sample, 0, &mut case)?);
    }
    let target = Target::for_output(&args.archive, args.output.as_deref(), &args.sequence)?;
    write_requests(reader, &requests, &args.sequence, target)
}

fn getctg(reader: &Reader, args: &GetctgArgs) -> Result<()> {
    let k = reader.params().kmer_length;
    let mut case = CaseRunsCache::new(reader, args.sequence.uppercase);
    let mut requests = Vec::new();
    for text in &args.queries {
        let query = ContigQuery::parse(text)?;
        let (sample, contig) = reader.find_contig(&query.contig, query.sample.as_deref())?;
        let case = if case.enabled {
            // find_contig returns the sample's first contig with that name.
            let index = reader.sample_contigs(&sample)?.iter().position(|c| *c == contig);
            match index {
                Some(index) => case.runs(reader, &sample, index)?,
                None => None,
            }
        } else {
            None
        };
        let length = contig.length(k);
        let range = match query.range {
            Some((from, to)) if to >= length => {
                return Err(CollectionError::RangePastEnd {
                    contig: contig.name,
                    from,
                    to,
                    length,
                }
                .into());
            }
            Some(range) => Some(range),
            None => (length > 0).then(|| (0, length - 1)),
        };
        requests.push(Request {
            destination: 0,
            header: output_header(&contig.name, query.range),
            contig: Arc::new(contig),
            range,
            case,
        });
    }
    let target = Target::for_output(&args.archive, args.output.as_deref(), &args.sequence)?;
    write_requests(reader, &requests, &args.sequence, target)
}

fn getcol(reader: &Reader, args: &GetcolArgs) -> Result<()> {
    let skip = usize::from(args.no_reference);
    let samples = &reader.samples()[skip.min(reader.samples().len())..];
    let mut case = CaseRunsCache::new(reader, args.sequence.uppercase);
    let mut requests = Vec::new();
    for (index, sample) in samples.iter().enumerate() {
        if sample.is_empty() || sample.contains(['/', '\\']) || sample == "." || sample == ".." {
            bail!("sample name {sample:?} cannot be used as a file name");
        }
        requests.extend(whole_sample_requests(reader, sample, index, &mut case)?);
    }
    fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create the directory", args.output.display()))?;
    let extension = if args.sequence.gzip.is_some() { "fa.gz" } else { "fa" };
    let paths: Vec<PathBuf> =
        samples.iter().map(|s| args.output.join(format!("{s}.{extension}"))).collect();
    let force = args.sequence.force;
    for path in &paths {
        if path.exists() && !force && !is_written_in_place(path) {
            bail!("{}: already exists (use --force to overwrite)", path.display());
        }
    }
    let mut outputs = OutputSet::new(force);
    outputs.reads(&args.archive);
    // Positional writing needs regular files; a FIFO or device among the outputs gets the
    // stream, in order, like standard output.
    let target = if args.sequence.gzip.is_none() && !paths.iter().any(|p| is_written_in_place(p)) {
        Target::Files(PositionalFiles::new(paths, outputs, GETCOL_BLOCK))
    } else {
        Target::Stream(Destinations {
            count: paths.len(),
            open: Box::new(move |index| outputs.create(Some(&paths[index]), Access::Shared)),
            current: None,
            next: 0,
        })
    };
    write_requests(reader, &requests, &args.sequence, target)
}

/// Samples `getcol` writes side by side: their chunks are interleaved (the first chunk of
/// each, then the second of each, …), so that workers write to different files (two writers
/// of one file queue on its inode lock) and decode the same region of the collection one after
/// the other (its reference segments and packs stay in the decoders' caches). At most this
/// many files are open at once.
const GETCOL_BLOCK: usize = 16;

/// Whether `path` exists and is not a regular file (after following links): a FIFO or a
/// device, written in place by the output rules.
fn is_written_in_place(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| !meta.is_file())
}

/// Where the FASTA goes.
enum Target<'a> {
    /// The sink writes every chunk, in order, to outputs opened one after the other
    /// (standard output, gzip, FIFOs and devices).
    Stream(Destinations<'a>),
    /// Workers write plain FASTA chunks straight into the destination files at their final
    /// offsets (record sizes follow from the metadata); the sink finishes files in order. The
    /// copy into the page cache then runs on every worker instead of on the sink alone.
    Files(PositionalFiles),
}

impl Target<'static> {
    /// Standard output (`None` or `-`) or one file; a plain FASTA regular file is written by
    /// position.
    fn for_output(
        archive: &Path,
        path: Option<&Path>,
        flags: &SequenceArgs,
    ) -> Result<Target<'static>> {
        let mut outputs = OutputSet::new(flags.force);
        outputs.reads(archive);
        let mut output = Some(outputs.create(path, Access::Shared)?);
        if flags.gzip.is_none() && output.as_ref().is_some_and(Output::is_regular_file) {
            let files = PositionalFiles::opened(output.take().into_iter().collect());
            return Ok(Target::Files(files));
        }
        Ok(Target::Stream(Destinations {
            count: 1,
            open: Box::new(move |_| output.take().ok_or_else(|| anyhow!("output opened twice"))),
            current: None,
            next: 0,
        }))
    }
}

/// Output files written at known offsets by many threads (temporary files by the rules of
/// [`crate::output`]: each appears under its final name only when complete). Files are
/// opened when their block of destinations starts and finished, in order, when it ends.
struct PositionalFiles {
    /// Files still to open, by destination (`None` once opened).
    paths: Vec<Option<PathBuf>>,
    /// Destinations are opened and finished in blocks of this many.
    block: usize,
    state: Mutex<FilesState>,
}

struct FilesState {
    outputs: OutputSet,
    /// Files being written, by destination.
    open: HashMap<usize, Arc<Output>>,
    /// Destinations below this one are complete and renamed.
    finished: usize,
}

impl PositionalFiles {
    fn new(paths: Vec<PathBuf>, outputs: OutputSet, block: usize) -> PositionalFiles {
        PositionalFiles {
            paths: paths.into_iter().map(Some).collect(),
            block: block.max(1),
            state: Mutex::new(FilesState { outputs, open: HashMap::new(), finished: 0 }),
        }
    }

    /// Files already opened (regular files), one per destination, in one block.
    fn opened(files: Vec<Output>) -> PositionalFiles {
        let count = files.len();
        let open = files.into_iter().map(Arc::new).enumerate().collect();
        PositionalFiles {
            paths: vec![None; count],
            block: count.max(1),
            state: Mutex::new(FilesState { outputs: OutputSet::new(false), open, finished: 0 }),
        }
    }

    /// The first destination of the block holding `destination`.
    fn block_start(&self, destination: usize) -> usize {
        destination - destination % self.block
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FilesState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The open output of `destination`, opening it on first use.
    fn output(&self, destination: usize) -> Result<Arc<Output>> {
        let mut state = self.lock();
        if destination < state.finished {
            bail!("destination {destination} written after it was finished");
        }
        if let Some(output) = state.open.get(&destination) {
            return Ok(Arc::clone(output));
        }
        let path = self.paths[destination].as_deref().context("output opened twice")?;
        let output = Arc::new(state.outputs.create(Some(path), Access::Shared)?);
        state.open.insert(destination, Arc::clone(&output));
        Ok(output)
    }

    /// Writes `bytes` at `offset` of `destination`'s file.
    fn write_at(&self, destination: usize, bytes: &[u8], offset: u64) -> Result<()> {
        let output = self.output(destination)?;
        let file = output.positional_file().context("positional output is not a file")?;
        write_all_at(file, bytes, offset)
            .with_context(|| format!("{}: write failed", output.name()))
    }

    /// Finishes every destination before `destination` (all their chunks are written: the
    /// ordered sink has received them), creating those that got no chunk.
    fn finish_before(&self, destination: usize) -> Result<()> {
        let end = destination.min(self.paths.len());
        let first = self.lock().finished;
        let mut done = Vec::new();
        for index in first..end {
            done.push(self.output(index)?);
        }
        let mut state = self.lock();
        for index in state.finished..end {
            state.open.remove(&index);
        }
        state.finished = state.finished.max(end);
        drop(state);
        let outputs = done
            .into_iter()
            .map(|output| {
                Arc::try_unwrap(output).map_err(|o| anyhow!("{}: still being written", o.name()))
            })
            .collect::<Result<Vec<_>>>()?;
        commit(outputs)
    }
}

#[cfg(unix)]
fn write_all_at(file: &fs::File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(windows)]
fn write_all_at(file: &fs::File, mut bytes: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, bytes, offset)?;
        bytes = &bytes[n..];
        offset += n as u64;
    }
    Ok(())
}

/// A piece of one request: whole output lines of its range.
struct Chunk {
    destination: usize,
    header: Option<String>,
    contig: Arc<Contig>,
    range: Option<(u64, u64)>,
    /// Lowercase runs of the whole contig.
    case: Option<ContigCase>,
    /// Whether this is the record's last chunk.
    last: bool,
    /// Where the chunk's FASTA starts in its destination (plain output).
    offset: u64,
}

/// The bytes of plain FASTA for `bases` bases: lines of `line_length` (0 = one line), each
/// ended by a newline.
fn sequence_bytes(bases: u64, line_length: usize) -> u64 {
    let lines =
        if line_length == 0 { u64::from(bases > 0) } else { bases.div_ceil(line_length as u64) };
    bases + lines
}

/// Splits every request into chunks of whole lines, in order, each with its offset in its
/// destination's plain FASTA.
fn chunks(
    requests: &[Request],
    line_length: usize,
    target_bases: u64,
) -> impl Iterator<Item = Chunk> + '_ {
    let line = line_length.max(1) as u64;
    let chunk_bases = target_bases.div_ceil(line) * line;
    let mut destination = usize::MAX;
    let mut record_offset = 0u64;
    requests.iter().flat_map(move |request| {
        if request.destination != destination {
            destination = request.destination;
            record_offset = 0;
        }
        let header_bytes = request.header.len() as u64 + 2;
        let start_of_record = record_offset;
        let pieces: Vec<Option<(u64, u64)>> = match request.range {
            None => vec![None],
            Some((from, to)) => (from..=to)
                .step_by(chunk_bases as usize)
                .map(|start| Some((start, (start + chunk_bases - 1).min(to))))
                .collect(),
        };
        let bases = request.range.map_or(0, |(from, to)| to - from + 1);
        record_offset += header_bytes + sequence_bytes(bases, line_length);
        let first_base = request.range.map_or(0, |(from, _)| from);
        let n = pieces.len();
        pieces.into_iter().enumerate().map(move |(i, range)| {
            // Chunks start at whole lines, so the bases before one fill whole lines.
            let before = range.map_or(0, |(start, _)| start - first_base);
            let lines_before = if line_length == 0 { 0 } else { before / line_length as u64 };
            Chunk {
                destination: request.destination,
                header: (i == 0).then(|| request.header.clone()),
                contig: Arc::clone(&request.contig),
                range,
                case: request.case.clone(),
                last: i + 1 == n,
                offset: if i == 0 {
                    start_of_record
                } else {
                    start_of_record + header_bytes + before + lines_before
                },
            }
        })
    })
}

/// The chunks of `requests` in the order the workers take them: request order, or with
/// `block`, block by block of that many destinations, interleaved inside a block (the first
/// chunk of each destination, then the second of each, …; see [`GETCOL_BLOCK`]).
fn chunks_in_work_order(
    requests: &[Request],
    line_length: usize,
    chunk_bases: u64,
    block: Option<usize>,
) -> Box<dyn Iterator<Item = Chunk> + '_> {
    let Some(block) = block.filter(|&b| b > 1) else {
        return Box::new(chunks(requests, line_length, chunk_bases));
    };
    let blocks = requests.chunk_by(move |a, b| a.destination / block == b.destination / block);
    Box::new(blocks.flat_map(move |requests| {
        let mut ordinals: HashMap<usize, usize> = HashMap::new();
        let mut keyed: Vec<(usize, Chunk)> = chunks(requests, line_length, chunk_bases)
            .map(|chunk| {
                let ordinal = ordinals.entry(chunk.destination).or_default();
                *ordinal += 1;
                (*ordinal, chunk)
            })
            .collect();
        keyed.sort_by_key(|(ordinal, chunk)| (*ordinal, chunk.destination));
        keyed.into_iter().map(|(_, chunk)| chunk)
    }))
}

/// Per-worker state: the decoder (its own ZSTD context and part cache) and scratch buffers.
struct Worker {
    decoder: SegmentDecoder,
    codes: Vec<u8>,
}

/// Where the FASTA of each destination goes: opened when its first chunk arrives (or when a
/// later destination starts), finished when the next one starts or the run ends.
struct Destinations<'a> {
    count: usize,
    open: Box<dyn FnMut(usize) -> Result<Output> + 'a>,
    current: Option<(usize, Output)>,
    next: usize,
}

impl Destinations<'_> {
    /// The output of `destination`, finishing (and creating, if they got no chunk) those before.
    fn get(&mut self, destination: usize) -> Result<&mut Output> {
        while self.current.as_ref().is_none_or(|(index, _)| *index != destination) {
            if let Some((_, done)) = self.current.take() {
                done.finish()?;
            }
            let index = self.next;
            self.current = Some((index, (self.open)(index)?));
            self.next += 1;
        }
        Ok(&mut self.current.as_mut().expect("just opened").1)
    }

    fn finish(mut self) -> Result<()> {
        if self.count > 0 {
            self.get(self.count - 1)?;
        }
        if let Some((_, done)) = self.current.take() {
            done.finish()?;
        }
        Ok(())
    }
}

/// Decodes and writes `requests` on the engine into `target`, in request order.
fn write_requests(
    reader: &Reader,
    requests: &[Request],
    flags: &SequenceArgs,
    target: Target<'_>,
) -> Result<()> {
    let (mut stream, files) = match target {
        Target::Stream(destinations) => (Some(destinations), None),
        Target::Files(files) => (None, Some(files)),
    };
    let files = files.as_ref();
    let threads = flags
        .threads
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    // Chunks differ in cost (a segment's first chunk decodes its pack), so a window of a few
    // chunks per worker keeps both workers busy past a slow one: `getcol` of 20 samples went
    // from 1.63-1.69x to 1.78-1.90x on 2 threads (docs/benchmarks.md). In-flight chunks are
    // bounded by the window, each at most `chunk_bases` of FASTA.
    let pipeline = Pipeline::builder()
        .workers(threads)
        .channel_depth(2 * threads + 2)
        .reorder_window(4 * threads + 4)
        .build();
    let line_length = flags.line_length;
    let gzip = flags.gzip;
    let chunk_capacity = flags.chunk_bases.min(CHUNK_BASES) as usize + line_length;
    // Output buffers are reused: fresh multi-megabyte allocations cost page faults and unmap
    // shootdowns that stop two workers from scaling. Every output alive at once (reorder
    // window, output channel, one per worker, the sink's) has a buffer.
    let buffers = Pool::from_fn(7 * threads + 7, Vec::new);
    pipeline
        .run_ordered(
            |emit: &mut Emitter<Weighted<Chunk>>| -> Result<()> {
                let block = files.map(|f| f.block);
                for chunk in chunks_in_work_order(requests, line_length, flags.chunk_bases, block) {
                    if emit.send(Weighted::new(64, chunk)).is_err() {
                        break;
                    }
                }
                Ok(())
            },
            |_| -> Result<Worker> {
                // A chunk's codes fit from the start: growing a multi-megabyte buffer moves
                // it (mremap), and each move stops the other workers for a TLB flush.
                let codes = Vec::with_capacity(chunk_capacity);
                Ok(Worker { decoder: reader.decoder()?, codes })
            },
            |worker: &mut Result<Worker>, item: Weighted<Chunk>| -> Result<(usize, Fasta)> {
                let worker = worker.as_mut().map_err(|e| anyhow!("{e:#}"))?;
                let chunk = item.into_inner();
                worker.codes.clear();
                if chunk.range.is_some() {
                    reader.decode_contig(
                        &mut worker.decoder,
                        &chunk.contig,
                        chunk.range,
                        &mut worker.codes,
                    )?;
                }
                let mut fasta = buffers.take().map_err(|_| anyhow!("output buffers closed"))?;
                format_chunk(&chunk, &worker.codes, line_length, &mut fasta);
                if let Some(files) = files {
                    files.write_at(chunk.destination, &fasta, chunk.offset)?;
                    return Ok((chunk.destination, Fasta::Written));
                }
                let bytes = match gzip {
                    Some(level) => {
                        let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
                        encoder.write_all(&fasta)?;
                        Fasta::Gzip(encoder.finish()?)
                    }
                    None => Fasta::Plain(fasta),
                };
                Ok((chunk.destination, bytes))
            },
            |(destination, bytes): (usize, Fasta)| -> Result<()> {
                let bytes = match &bytes {
                    Fasta::Plain(buffer) => &buffer[..],
                    Fasta::Gzip(compressed) => &compressed[..],
                    Fasta::Written => {
                        return files
                            .map_or(Ok(()), |f| f.finish_before(f.block_start(destination)));
                    }
                };
                if let Some(stream) = stream.as_mut() {
                    stream.get(destination)?.write_all(bytes)?;
                }
                Ok(())
            },
        )
        .map_err(|e| anyhow!("{e:#}"))?;
    match (stream, files) {
        (Some(stream), _) => stream.finish(),
        (None, Some(files)) => files.finish_before(usize::MAX),
        (None, None) => Ok(()),
    }
}

/// A formatted chunk: plain FASTA in a pooled buffer, one gzip member, or already written
/// into its file by the worker.
enum Fasta {
    Plain(PoolGuard<Vec<u8>>),
    Gzip(Vec<u8>),
    Written,
}

/// The FASTA bytes of one chunk into `out` (cleared first): the header line for the first
/// chunk of a record, then the bases in lines (chunks start at whole lines); the last line of
/// a record ends with `\n`.
fn format_chunk(chunk: &Chunk, codes: &[u8], line_length: usize, out: &mut Vec<u8>) {
    let header = chunk.header.as_ref().map_or(0, |h| h.len() + 2);
    let width = if line_length == 0 { codes.len().max(1) } else { line_length };
    let lines = codes.len().div_ceil(width);
    out.clear();
    // Appended, not zero-filled first and overwritten: the buffer is written once.
    out.reserve(header + codes.len() + lines);
    if let Some(name) = &chunk.header {
        out.push(b'>');
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    for line in codes.chunks(width) {
        out.extend(line.iter().map(|&code| CODE_TO_LETTER[usize::from(code)]));
        out.push(b'\n');
    }
    if let (Some(runs), Some((first, last))) = (&chunk.case, chunk.range) {
        lowercase_runs(&mut out[header..], runs, first, last, width);
    }
    if line_length == 0 && !chunk.last && !codes.is_empty() {
        out.pop(); // the line goes on in the next chunk
    }
}

/// Lowercases, in `lines` (the bases `first..=last` of a contig in lines of `width` bases,
/// each followed by a newline), the bases that fall in the sorted `runs` of the contig.
fn lowercase_runs(lines: &mut [u8], runs: &[(u64, u64)], first: u64, last: u64, width: usize) {
    let width = width as u64;
    let from = runs.partition_point(|&(start, length)| start + length <= first);
    for &(start, length) in runs[from..].iter().take_while(|&&(start, _)| start <= last) {
        for base in start.max(first)..(start + length).min(last + 1) {
            let i = base - first;
            lines[(i + i / width) as usize].make_ascii_lowercase();
        }
    }
}

// ---------------------------------------------------------------------------------------
// `create` and `append`
// ---------------------------------------------------------------------------------------

/// Flags shared by `create` and `append`.
#[derive(Debug, Args)]
pub(crate) struct WriteArgs {
    /// Output archive (written under a temporary name, renamed when complete).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// File listing more input FASTA files (whitespace separated).
    #[arg(short = 'i', long = "input-list", value_name = "FILE")]
    input_list: Option<PathBuf>,
    /// Every FASTA record is a sample (named by its first word).
    #[arg(short = 'c', long)]
    concatenated: bool,
    /// Adaptive mode (agc -a): contigs in which no splitter occurs give new splitters (k-mers
    /// unique in them and absent from the reference; holds the reference k-mers, 8 B each).
    #[arg(short = 'a', long)]
    adaptive: bool,
    /// Keep lowercase (soft-masking) runs in an extra stream `seqflow-case`, which other AGC
    /// readers ignore.
    #[arg(long)]
    keep_case: bool,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(short, long, value_parser = count_in(1, MAX_THREADS), value_name = "N")]
    threads: Option<usize>,
    /// Budget of the input queue (bytes of sequence; suffixes K, M, G).
    #[arg(long, default_value = "64M", value_parser = size_in(1, 1 << 40), value_name = "SIZE")]
    queue_memory: u64,
    /// Budget of one k-mer counting pass of the splitter selection (suffixes K, M, G).
    #[arg(long, default_value = "256M", value_parser = size_in(1 << 20, 1 << 40), value_name = "SIZE")]
    splitter_memory: u64,
    /// Write a JSON summary (sizes, counts, wall time) with per-stage figures (items, bytes, busy
    /// and blocked seconds, queue budget and peak) to this file.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) chatter: crate::Chatter,
}

/// Flags of `seqflow collection create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// FASTA files (plain, gzip, BGZF or zstd); the first is the reference.
    inputs: Vec<PathBuf>,
    /// k-mer length of the splitters, 17 to 32 (agc clamps values outside; seqflow refuses them).
    #[arg(short = 'k', long, default_value_t = 31, value_parser = count_in(17u32, 32))]
    kmer_length: u32,
    /// Expected segment size, 100 to 1000000.
    #[arg(short = 's', long, default_value_t = 60_000, value_parser = count_in(100u32, 1_000_000))]
    segment_size: u32,
    /// Minimum LZ match length, 15 to 32.
    #[arg(short = 'l', long, default_value_t = 20, value_parser = count_in(15u32, 32))]
    min_match_length: u32,
    /// Pack size and metadata batch size, 1 to 1000000000.
    #[arg(short = 'b', long, default_value_t = 50, value_parser = count_in(1u32, 1_000_000_000), value_name = "N")]
    batch_size: u32,
    #[command(flatten)]
    write: WriteArgs,
}

/// Flags of `seqflow collection append`.
#[derive(Debug, Args)]
pub(crate) struct AppendArgs {
    /// The archive to extend (it is not modified; `-o` may name it to replace it).
    archive: PathBuf,
    /// FASTA files of the new samples.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    write: WriteArgs,
}

fn write_inputs(inputs: &[PathBuf], write: &WriteArgs) -> Result<Vec<PathBuf>> {
    let mut all = inputs.to_vec();
    if let Some(list) = &write.input_list {
        let text =
            fs::read_to_string(list).with_context(|| format!("{}: cannot read", list.display()))?;
        all.extend(text.split_whitespace().map(PathBuf::from));
    }
    // agc drops repeated file names.
    let mut seen = std::collections::HashSet::new();
    all.retain(|p| seen.insert(p.clone()));
    if all.is_empty() {
        bail!("no input FASTA files given");
    }
    Ok(all)
}

fn write_options(
    write: &WriteArgs,
    params: seqflow_collection::payload::Params,
) -> seqflow_collection::create::CreateOptions {
    seqflow_collection::create::CreateOptions {
        params,
        threads: write
            .threads
            .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        concatenated: write.concatenated,
        queue_memory: usize::try_from(write.queue_memory).unwrap_or(usize::MAX),
        splitter_memory: usize::try_from(write.splitter_memory).unwrap_or(usize::MAX),
        keep_case: write.keep_case,
        adaptive: write.adaptive,
    }
}

fn create(args: &CreateArgs, global: Global) -> Result<ExitCode> {
    crate::limits::return_large_blocks_when_freed();
    let inputs = write_inputs(&args.inputs, &args.write)?;
    let params = seqflow_collection::payload::Params {
        kmer_length: args.kmer_length,
        min_match_length: args.min_match_length,
        pack_cardinality: args.batch_size,
        segment_size: args.segment_size,
    };
    let options = write_options(&args.write, params);
    let start = std::time::Instant::now();
    let bar = samples_bar(&inputs, args.write.concatenated, global);
    let summary =
        seqflow_collection::create::create(&inputs, &args.write.output, &options, &|p| {
            update_bar(bar.as_ref(), p)
        })?;
    finish_write(&args.write, &summary, start, bar, global)
}

fn append(args: &AppendArgs, global: Global) -> Result<ExitCode> {
    crate::limits::return_large_blocks_when_freed();
    let inputs = write_inputs(&args.inputs, &args.write)?;
    let options =
        write_options(&args.write, seqflow_collection::create::CreateOptions::default().params);
    let start = std::time::Instant::now();
    let bar = samples_bar(&inputs, args.write.concatenated, global);
    let summary = seqflow_collection::create::append(
        &args.archive,
        &inputs,
        &args.write.output,
        &options,
        &|p| update_bar(bar.as_ref(), p),
    )?;
    finish_write(&args.write, &summary, start, bar, global)
}

/// A bar over the input bytes (file sizes), with samples and bases done in its message.
fn samples_bar(
    inputs: &[PathBuf],
    concatenated: bool,
    global: Global,
) -> Option<indicatif::ProgressBar> {
    let total: u64 = inputs.iter().filter_map(|p| crate::progress::file_size(p)).sum();
    let bar = crate::progress::bytes_bar("collection", (!concatenated).then_some(total), global)?;
    bar.set_message(format!("0/{} samples", inputs.len()));
    Some(bar)
}

fn update_bar(
    bar: Option<&indicatif::ProgressBar>,
    progress: &seqflow_collection::create::CreateProgress,
) {
    if let Some(bar) = bar {
        let bases = indicatif::HumanCount(progress.bases_done);
        if progress.samples_total > 0 {
            bar.set_position(progress.input_bytes_done);
            bar.set_message(format!(
                "{}/{} samples, {bases} bases",
                progress.samples_done, progress.samples_total
            ));
        } else {
            bar.set_position(progress.bases_done);
            bar.set_message(format!("{} samples, {bases} bases", progress.samples_done));
        }
    }
}

fn finish_write(
    write: &WriteArgs,
    summary: &seqflow_collection::create::CreateSummary,
    start: std::time::Instant,
    bar: Option<indicatif::ProgressBar>,
    global: Global,
) -> Result<ExitCode> {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let seconds = start.elapsed().as_secs_f64();
    if let Some(path) = &write.metrics {
        let json = serde_json::json!({
            "samples": summary.samples,
            "contigs": summary.contigs,
            "bases": summary.bases,
            "splitters": summary.splitters,
            "groups": summary.groups,
            "archive_bytes": summary.archive_bytes,
            "wall_seconds": seconds,
            "stages": {
                "splitters": summary.stages.splitters,
                "read": summary.stages.read,
                "input_queue": {
                    "budget_bytes": summary.stages.queue_budget_bytes,
                    "peak_bytes": summary.stages.queue_peak_bytes,
                },
                "compress": summary.stages.compress,
                "cut": summary.stages.phases.cut,
                "place": summary.stages.phases.place,
                "register": summary.stages.phases.register,
                "store": summary.stages.phases.store,
                "write": summary.stages.write,
            },
            "memory": {
                "group_reference_bytes": summary.stages.group_reference_bytes,
                "group_index_bytes": summary.stages.group_index_bytes,
                "open_pack_bytes": summary.stages.open_pack_bytes,
            },
        });
        fs::write(path, serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("{}: cannot write metrics", path.display()))?;
    }
    if global.verbose > 0 && !global.quiet {
        eprintln!(
            "{} samples, {} contigs, {} bases -> {} bytes ({} groups, {} splitters) in {seconds:.2} s",
            summary.samples,
            summary.contigs,
            summary.bases,
            summary.archive_bytes,
            summary.groups,
            summary.splitters
        );
    }
    Ok(ExitCode::SUCCESS)
}
