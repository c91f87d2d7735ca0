//! `seqflow pack` / `unpack` / `cat` / `verify` / `keygen`: chunked parallel compression into
//! standard formats (zstd seekable, BGZF), optionally encrypted with Crypt4GH.
//!
//! Pack: the chunk size is given, or (`--chunk-size auto`, the default for zstd) chosen from
//! the input's first 4 MiB by `seqflow_container::choose_chunk_size` (1 to 16 MiB, larger only
//! where the data repeats further apart than 1 MiB frames can see; capped so that the bound
//! below fits the memory limit). The source thread reads `chunk_size` blocks into pooled
//! buffers; workers compress each block with their own reused context and hash it (BLAKE3, for
//! the digest frame); the ordered sink appends frames (encrypting 64 KiB segments when there
//! are recipients).
//! Unpack: the source reads frames by the seek table; workers decompress and check each
//! frame, its BLAKE3 digest included; the ordered sink writes. For files of format version 1
//! (and `verify --sha256`) it hands every chunk to a hashing thread so that the whole-file
//! SHA-256 (≈ 2 GB/s on one core) runs beside the writer instead of inside it.
//!
//! Peak memory of pack: `(threads + channel_depth + 2) × chunk_size` of input buffers, plus at
//! most `reorder window (2 × (channel_depth + threads)) + channel_depth` compressed chunks of
//! ≤ `chunk_size × 1.01 + 64 KiB`, plus per worker a compressor of
//! ≤ `4 × min(chunk_size, 256 MiB) + 8 MiB`:
//! with 1 MiB chunks, 2 threads and depth 4 under 50 MiB (with 16 MiB chunks, the largest
//! `auto` picks, under 550 MiB; measured peak RSS 141 MB), plus the zstd writer's frame
//! records (seek-table entry and BLAKE3 digest, 44 bytes per frame) for at most 2^20 frames,
//! 44 MiB: past that they go to an unlinked temporary file, so memory does not grow with the
//! input.
//!
//! Peak memory of unpack and verify: frames in flight are bounded by *bytes*, not count: at
//! most `max(2 × largest frame, 64 MiB)` of compressed plus decoded frame bytes (source,
//! workers, reorder window, sink and hashing queue together), plus idle recycled buffers of
//! at most 4 MiB each (`2 × threads + 3 × channel_depth + 10` of them; larger frames are
//! allocated per frame and freed). A file packed with `--chunk-size 1G` thus needs about two
//! frames, not one per pool slot. Cat holds one frame.
//!
//! Every command checks its bound against the machine's memory (or `--max-memory`) before it
//! reads anything (`crate::limits`).

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use seqflow_container::{
    AUTO_MAX_CHUNK, AUTO_MIN_CHUNK, AUTO_SAMPLE, BgzfChunk, BgzfCompressor, BgzfReader, BgzfWriter,
    FrameCompressor, FrameDecompressor, FrameEntry, GziIndex, SeekableIndex, SeekableWriter,
    choose_chunk_size,
};
use seqflow_crypt4gh::{
    Encryptor, KeyPair, MAGIC as CRYPT4GH_MAGIC, PublicKey, SecretKey, SeekableDecryptor,
    read_public_key, read_secret_key, write_public_key, write_secret_key,
};
use seqflow_pipeline::{Pipeline, PipelineError, Pool, PoolGuard, Report, Weighted};
use sha2::{Digest, Sha256};

use indicatif::ProgressBar;

use crate::Global;
use crate::credits::{ByteBudget, Credit};
use crate::limits::{MAX_CHANNEL_DEPTH, MAX_THREADS, times};
use crate::output::{Access, Output, OutputSet, commit};
use crate::progress::{bytes_bar, file_size};
use crate::size::{count_in, human_size, size_in};

/// Container formats `seqflow pack` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PackFormat {
    /// zstd seekable format: stock `zstd -d` reads it; seqflow reads ranges in parallel.
    Zstd,
    /// BGZF (bgzip, htslib, samtools faidx), with a `.gzi` index beside the output.
    Bgzf,
}

/// Pipeline flags shared by the commands.
#[derive(Debug, Args)]
pub(crate) struct PipelineArgs {
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(short, long, value_parser = count_in(1, MAX_THREADS), value_name = "N")]
    threads: Option<usize>,
    /// Chunks waiting between stages (1 to 1024).
    #[arg(long, default_value_t = 4, value_parser = count_in(1, MAX_CHANNEL_DEPTH), value_name = "N")]
    channel_depth: usize,
    /// Write per-stage pipeline metrics as JSON to this file.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
}

impl PipelineArgs {
    /// The pipeline, drawing `bar` (if any) from the input bytes the source reports.
    fn pipeline(&self, bar: Option<&ProgressBar>) -> Pipeline {
        let threads = crate::limits::threads(self.threads);
        let builder = Pipeline::builder().workers(threads).channel_depth(self.channel_depth);
        match bar.cloned() {
            Some(bar) => builder.on_progress(move |p| bar.set_position(p.input_bytes)).build(),
            None => builder.build(),
        }
    }

    /// Opens the `--metrics` output, if one was asked for.
    fn metrics_output(&self, outputs: &mut OutputSet) -> Result<Option<Output>> {
        self.metrics.as_deref().map(|path| outputs.create(Some(path), Access::Shared)).transpose()
    }
}

/// Writes the pipeline metrics as JSON into their output, if there is one.
fn write_metrics(output: Option<Output>, report: &Report) -> Result<Option<Output>> {
    let Some(mut output) = output else { return Ok(None) };
    output.write_all((serde_json::to_string_pretty(report)? + "\n").as_bytes())?;
    Ok(Some(output))
}

/// Flags of `seqflow pack`.
#[derive(Debug, Args)]
pub(crate) struct PackArgs {
    /// File to pack (any bytes); `-` is standard input.
    input: PathBuf,
    /// Output file (default: INPUT.zst, INPUT.gz for BGZF, with `.c4gh` added when encrypted;
    /// standard output for standard input).
    #[arg(short, long, conflicts_with = "stdout", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write to standard output, even a terminal.
    #[arg(short = 'c', long)]
    stdout: bool,
    /// Overwrite an existing output.
    #[arg(short, long)]
    force: bool,
    /// Remove INPUT once the output is complete (the default keeps it).
    #[arg(long, conflicts_with_all = ["stdout", "keep"])]
    rm: bool,
    /// Keep INPUT (the default; accepted as zstd and bgzip accept it).
    #[arg(short, long)]
    keep: bool,
    /// Compression level (zstd 1–22, BGZF 0–12).
    #[arg(short, long, default_value_t = 3, allow_negative_numbers = true, value_parser = count_in(0, 22), value_name = "N")]
    level: i32,
    /// Bytes of input per chunk, 1 to 1G (K, M, G suffixes): one zstd frame each; for BGZF,
    /// cut into 64 KiB blocks. `auto`: 1M to 16M for zstd, chosen by how much the input's first
    /// 4 MiB lose when cut into 1 MiB frames (larger only where data repeats far apart); 1M for
    /// BGZF.
    #[arg(long, default_value = "auto", value_parser = parse_chunk_size, value_name = "SIZE")]
    chunk_size: ChunkSize,
    /// Container: `zstd` (seekable; stock `zstd -d` reads it) or `bgzf` (bgzip, htslib,
    /// samtools faidx; with a `.gzi` index beside the output).
    #[arg(long, alias = "format", value_enum, default_value_t = PackFormat::Zstd, hide_possible_values = true)]
    container: PackFormat,
    /// Encrypt with Crypt4GH for this public key file (repeatable; alias `--recipient_pk`).
    #[arg(long, alias = "recipient_pk", value_name = "FILE")]
    recipient: Vec<PathBuf>,
    /// Sign the Crypt4GH header with this secret key (default: a throw-away key; alias `--sk`).
    #[arg(long, alias = "sk", value_name = "FILE")]
    sender_key: Option<PathBuf>,
    #[command(flatten)]
    pipeline: PipelineArgs,
    #[command(flatten)]
    pub(crate) chatter: crate::Chatter,
}

/// The packed file to read, and the key to decrypt it.
#[derive(Debug, Args)]
pub(crate) struct PackedArgs {
    /// Packed file: zstd seekable (seqflow's or another writer's) or BGZF, optionally
    /// Crypt4GH-encrypted; a plain `.zst` or `.gz` is decoded front to back. `-` reads
    /// standard input as it arrives (zstd or gzip): a fault found late exits 2, but what was
    /// already written to standard output cannot be taken back.
    input: PathBuf,
    /// Secret key for Crypt4GH input (alias `--sk`; passphrase from SEQFLOW_PASSPHRASE or
    /// C4GH_PASSPHRASE).
    #[arg(long, alias = "sk", value_name = "FILE")]
    secret_key: Option<PathBuf>,
}

/// Flags of `seqflow unpack`.
#[derive(Debug, Args)]
pub(crate) struct UnpackArgs {
    #[command(flatten)]
    packed: PackedArgs,
    /// Output file (default: INPUT without its `.c4gh` and `.zst`/`.gz` suffixes).
    #[arg(short, long, conflicts_with = "stdout", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write to standard output.
    #[arg(short = 'c', long)]
    stdout: bool,
    /// Overwrite an existing output.
    #[arg(short, long)]
    force: bool,
    /// Remove INPUT (and its `.gzi`) once the output is complete (the default keeps them).
    #[arg(long, conflicts_with_all = ["stdout", "keep"])]
    rm: bool,
    /// Keep INPUT (the default; accepted as zstd and bgzip accept it).
    #[arg(short, long)]
    keep: bool,
    /// Skip the end-to-end digest of the original: each frame's BLAKE3 (checked by the
    /// workers, in parallel) or, in files of seqflow's format version 1, the whole-file
    /// SHA-256 (one thread). Every frame is still checked against its zstd content checksum
    /// and the seek table.
    #[arg(long, alias = "skip-sha256")]
    skip_digest: bool,
    #[command(flatten)]
    pipeline: PipelineArgs,
    #[command(flatten)]
    pub(crate) chatter: crate::Chatter,
}

/// Flags of `seqflow verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    packed: PackedArgs,
    /// Also compute the SHA-256 of the original and print it as `sha256sum` does (`HASH
    /// NAME`, NAME without the `.zst`/`.gz`/`.c4gh` suffixes) instead of `FILE: OK`: compare
    /// it with the output of `sha256sum` on the original. One thread, about 2 GB/s.
    #[arg(long)]
    sha256: bool,
    #[command(flatten)]
    pipeline: PipelineArgs,
    #[command(flatten)]
    pub(crate) chatter: crate::Chatter,
}

/// Flags of `seqflow cat`.
#[derive(Debug, Args)]
pub(crate) struct CatArgs {
    #[command(flatten)]
    packed: PackedArgs,
    /// Bytes of the original to print, 0-based, end exclusive: `START-END`, `START-` or
    /// `START` (to the end), `-END` (from the start). An END past the end of the original is
    /// cut there; a START past it is an error.
    /// Default: the whole original.
    #[arg(long, allow_hyphen_values = true, value_name = "RANGE")]
    range: Option<String>,
}

/// Flags of `seqflow keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Secret key file to write (Crypt4GH format, encrypted with a passphrase: from
    /// SEQFLOW_PASSPHRASE or C4GH_PASSPHRASE, else asked on the terminal; alias `--sk`).
    #[arg(long, alias = "sk", value_name = "FILE")]
    secret_key: PathBuf,
    /// Public key file to write (alias `--pk`).
    #[arg(long, alias = "pk", value_name = "FILE")]
    public_key: PathBuf,
    /// Write the secret key unencrypted (alias `--nocrypt`).
    #[arg(long, alias = "nocrypt")]
    no_passphrase: bool,
    /// Overwrite existing files.
    #[arg(short, long)]
    force: bool,
}

/// Largest `--chunk-size`: the largest frame the container format allows.
const MAX_CHUNK_SIZE: u64 = seqflow_container::MAX_FRAME_SIZE as u64;

/// `pack --chunk-size`: a size, or chosen from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkSize {
    /// Chosen by [`seqflow_container::choose_chunk_size`] from the input's first bytes (zstd),
    /// within what `--max-memory` allows.
    Auto,
    /// This many bytes per chunk.
    Fixed(u64),
}

fn parse_chunk_size(text: &str) -> Result<ChunkSize, String> {
    if text.trim() == "auto" {
        return Ok(ChunkSize::Auto);
    }
    size_in(1, MAX_CHUNK_SIZE)(text).map(ChunkSize::Fixed)
}

/// Environment variable holding the passphrase of secret keys.
const PASSPHRASE_VAR: &str = "SEQFLOW_PASSPHRASE";

/// The variable the GA4GH `crypt4gh` tools read the passphrase from, honoured as well.
const C4GH_PASSPHRASE_VAR: &str = "C4GH_PASSPHRASE";

/// The passphrase from `SEQFLOW_PASSPHRASE`, else from `C4GH_PASSPHRASE`, if either is set.
fn env_passphrase() -> Option<Vec<u8>> {
    [PASSPHRASE_VAR, C4GH_PASSPHRASE_VAR]
        .iter()
        .find_map(std::env::var_os)
        .map(|p| p.into_encoded_bytes())
}

/// Asks for a passphrase on the terminal; `None` when there is no terminal to ask on.
fn prompt_passphrase(prompt: &str) -> Result<Option<Vec<u8>>> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(None);
    }
    Ok(Some(rpassword::prompt_password(prompt)?.into_bytes()))
}

/// Reads a secret key file: unencrypted, or with the passphrase from the environment or,
/// failing that, from a prompt.
fn load_secret_key(path: &Path) -> Result<SecretKey> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let given = env_passphrase();
    match read_secret_key(&bytes[..], given.as_deref().unwrap_or_default()) {
        Err(seqflow_crypt4gh::Error::WrongPassphrase) if given.is_none() => {
            let prompt = format!("passphrase for {}: ", path.display());
            let Some(typed) = prompt_passphrase(&prompt)? else {
                bail!(
                    "{}: the key is encrypted; set {PASSPHRASE_VAR} (or {C4GH_PASSPHRASE_VAR})",
                    path.display()
                );
            };
            read_secret_key(&bytes[..], &typed).with_context(|| format!("{}", path.display()))
        }
        other => other.with_context(|| format!("{}", path.display())),
    }
}

fn load_public_key(path: &Path) -> Result<PublicKey> {
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    read_public_key(file).with_context(|| format!("{}", path.display()))
}

/// Runs `seqflow keygen`.
pub(crate) fn keygen(args: &KeygenArgs) -> Result<ExitCode> {
    // Outputs first: a refused file should not cost the user a passphrase.
    let mut outputs = OutputSet::new(args.force);
    let mut secret = outputs.create(Some(&args.secret_key), Access::Private)?;
    let mut public = outputs.create(Some(&args.public_key), Access::Shared)?;
    let passphrase = if args.no_passphrase {
        None
    } else if let Some(given) = env_passphrase() {
        Some(given)
    } else {
        let first = prompt_passphrase("passphrase for the new secret key: ")?;
        let Some(first) = first else {
            bail!(
                "no terminal to ask for a passphrase: set {PASSPHRASE_VAR} (or \
                 {C4GH_PASSPHRASE_VAR}) or use --no-passphrase"
            );
        };
        if prompt_passphrase("again: ")?.as_deref() != Some(&first[..]) {
            bail!("the passphrases differ");
        }
        Some(first)
    };
    if passphrase.as_ref().is_some_and(Vec::is_empty) {
        bail!(
            "the passphrase is empty, which would leave the secret key unencrypted: \
             give one, or use --no-passphrase to mean that"
        );
    }
    let pair = KeyPair::generate();
    write_secret_key(&pair.secret, passphrase.as_deref(), &mut secret)?;
    write_public_key(&pair.public, &mut public)?;
    commit([secret, public])?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the input of `pack`.
fn open_input(path: &Path) -> Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin()));
    }
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    Ok(Box::new(file))
}

/// Reads up to `limit` bytes into `buf` (replacing its contents); fewer only at the end.
fn read_up_to(
    input: &mut (impl Read + ?Sized),
    limit: usize,
    buf: &mut Vec<u8>,
) -> io::Result<usize> {
    buf.clear();
    input.take(limit as u64).read_to_end(buf)
}

/// The writer under the container: the output, or a Crypt4GH encryptor over it.
enum Sealed {
    Plain(Output),
    Encrypted(Encryptor<Output>),
}

impl Write for Sealed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sealed::Plain(out) => out.write(buf),
            Sealed::Encrypted(enc) => enc.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealed::Plain(out) => out.flush(),
            Sealed::Encrypted(enc) => enc.flush(),
        }
    }
}

impl Sealed {
    /// Ends the encryption, if any, and gives back the output (still to be committed).
    fn into_output(self) -> Result<Output> {
        match self {
            Sealed::Plain(out) => Ok(out),
            Sealed::Encrypted(enc) => Ok(enc.finish()?),
        }
    }
}

fn pipeline_error(error: PipelineError<anyhow::Error>) -> anyhow::Error {
    match error {
        PipelineError::Panic { stage, message } => {
            anyhow!("internal error: {stage} panicked: {message}")
        }
        other => other.into_inner().unwrap_or_else(|| anyhow!("could not start the pipeline")),
    }
}

/// Runs `seqflow pack`.
pub(crate) fn pack(args: &PackArgs, global: Global) -> Result<ExitCode> {
    check_level(args.container, args.level)?;
    let largest_chunk = match (args.chunk_size, args.container) {
        (ChunkSize::Fixed(size), _) => size,
        (ChunkSize::Auto, PackFormat::Bgzf) => AUTO_MIN_CHUNK as u64,
        (ChunkSize::Auto, PackFormat::Zstd) => largest_auto_chunk(args, global),
    };
    check_pack_memory(args, largest_chunk, global)?;
    if largest_chunk == 0 || largest_chunk > MAX_CHUNK_SIZE {
        bail!("--chunk-size must be between 1 byte and 1 GiB");
    }
    if args.sender_key.is_some() && args.recipient.is_empty() {
        bail!("--sender-key signs the Crypt4GH header of an encrypted file: give --recipient too");
    }
    let mut outputs = OutputSet::new(args.force);
    for input in [&args.input].into_iter().chain(&args.recipient).chain(&args.sender_key) {
        outputs.reads(input);
    }
    let recipients: Vec<PublicKey> =
        args.recipient.iter().map(|p| load_public_key(p)).collect::<Result<_>>()?;
    let destination = pack_destination(args);
    if destination.is_none() && !args.stdout && io::stdout().is_terminal() {
        bail!(
            "refusing to write compressed data to a terminal: give -o FILE, or -c to write to \
             standard output anyway"
        );
    }
    check_rm(args.rm, &args.input, destination.as_deref())?;
    let mut input = open_input(&args.input)?;
    let output = outputs.create(destination.as_deref(), Access::Shared)?;
    // The `.gzi` goes beside a regular file only (not beside a device, a FIFO or stdout), and
    // appears with it or not at all.
    let index_output = match (args.container, destination.as_deref()) {
        (PackFormat::Bgzf, Some(path)) if output.is_regular_file() => {
            Some(outputs.create(Some(&gzi_path(path)), Access::Shared)?)
        }
        _ => None,
    };
    let metrics_output = args.pipeline.metrics_output(&mut outputs)?;
    let sealed = if recipients.is_empty() {
        Sealed::Plain(output)
    } else {
        let sender = match &args.sender_key {
            Some(path) => load_secret_key(path)?,
            None => KeyPair::generate().secret,
        };
        Sealed::Encrypted(Encryptor::new(output, &sender, &recipients)?)
    };
    let chunk_size = match args.chunk_size {
        ChunkSize::Auto if largest_chunk > AUTO_MIN_CHUNK as u64 => {
            let mut sample = Vec::new();
            read_up_to(&mut input, AUTO_SAMPLE, &mut sample)
                .with_context(|| format!("{}: read error", args.input.display()))?;
            let chosen = choose_chunk_size(&sample)?;
            input = Box::new(io::Cursor::new(sample).chain(input));
            chosen.min(largest_chunk as usize)
        }
        _ => largest_chunk as usize,
    };
    let bar = bytes_bar("pack", file_size(&args.input), global);
    let pipeline = args.pipeline.pipeline(bar.as_ref());
    let buffers = Pool::from_fn(pipeline.workers() + pipeline.channel_depth() + 2, || {
        Vec::with_capacity(chunk_size)
    });
    let mut original_size = 0u64;
    let source = |emit: &mut seqflow_pipeline::Emitter<_>| -> Result<()> {
        loop {
            let Ok(mut buf) = buffers.take() else { return Ok(()) };
            let n = read_up_to(&mut input, chunk_size, &mut buf)
                .with_context(|| format!("{}: read error", args.input.display()))?;
            if n == 0 {
                return Ok(());
            }
            original_size += n as u64;
            emit.progress(n as u64);
            if emit.send(Weighted::new(n, buf)).is_err() {
                return Ok(());
            }
        }
    };
    let (report, output, index_output) = match args.container {
        PackFormat::Zstd => {
            let mut writer = SeekableWriter::new(sealed);
            let outcome = pipeline
                .run_ordered(
                    source,
                    |_| FrameCompressor::new(args.level),
                    |compressor, chunk| {
                        let compressor = compressor.as_mut().map_err(|e| anyhow!("{e}"))?;
                        let mut frame = Vec::new();
                        let info = compressor.compress(&chunk.into_inner(), &mut frame)?;
                        Ok((frame, info))
                    },
                    |(frame, info)| Ok(writer.write_frame(&frame, info)?),
                )
                .map_err(pipeline_error)?;
            // The workers hashed each chunk (BLAKE3); the writer adds the digest frame.
            let output = writer.finish(original_size, chunk_size as u32)?.into_output()?;
            (outcome.report, output, None)
        }
        PackFormat::Bgzf => {
            let mut writer = BgzfWriter::new(sealed);
            let outcome = pipeline
                .run_ordered(
                    source,
                    |_| BgzfCompressor::new(args.level),
                    |compressor, chunk| {
                        let compressor = compressor.as_mut().map_err(|e| anyhow!("{e}"))?;
                        let mut blocks = BgzfChunk::new();
                        compressor.compress(&chunk.into_inner(), &mut blocks)?;
                        Ok(blocks)
                    },
                    |blocks| Ok(writer.write_chunk(&blocks)?),
                )
                .map_err(pipeline_error)?;
            let (sealed, gzi) = writer.finish()?;
            let index_output = match index_output {
                Some(mut index) => {
                    gzi.write_to(&mut index)?;
                    Some(index)
                }
                None => None,
            };
            (outcome.report, sealed.into_output()?, index_output)
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let metrics_output = write_metrics(metrics_output, &report)?;
    commit([Some(output), index_output, metrics_output].into_iter().flatten())?;
    if args.rm {
        remove_input(&args.input)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Where `pack` writes: `-o`, else standard output for `-c` or standard input (`None`), else
/// the input's name with the container's suffix (`.zst`, `.gz`) and `.c4gh` when encrypted,
/// as `zstd FILE`, `bgzip FILE` and the `crypt4gh` tool name their outputs.
fn pack_destination(args: &PackArgs) -> Option<PathBuf> {
    if args.stdout || is_standard(&args.input) {
        return args.output.clone().filter(|path| !is_standard(path));
    }
    if let Some(output) = &args.output {
        return (!is_standard(output)).then(|| output.clone());
    }
    let mut name = args.input.clone().into_os_string();
    name.push(match args.container {
        PackFormat::Zstd => ".zst",
        PackFormat::Bgzf => ".gz",
    });
    if !args.recipient.is_empty() {
        name.push(".c4gh");
    }
    Some(PathBuf::from(name))
}

/// Where `unpack` writes: `-o`, else standard output for `-c` (`None`), else the input's name
/// without `.c4gh` and then without `.zst` or `.gz`; a name with none of them is refused.
fn unpack_destination(args: &UnpackArgs) -> Result<Option<PathBuf>> {
    if let Some(output) = &args.output {
        return Ok((!is_standard(output)).then(|| output.clone()));
    }
    if args.stdout || is_standard(&args.packed.input) {
        return Ok(None);
    }
    let input = &args.packed.input;
    let restored = strip_packed_suffixes(input).ok_or_else(|| {
        anyhow!(
            "{}: has none of the suffixes .zst, .gz, .c4gh to strip for the output name: \
             give -o FILE, or -c for standard output",
            input.display()
        )
    })?;
    Ok(Some(restored))
}

/// `FILE.zst`, `FILE.gz`, `FILE.c4gh`, `FILE.zst.c4gh`, `FILE.gz.c4gh` → `FILE`; `None` when
/// no suffix is known or nothing would be left of the name.
fn strip_packed_suffixes(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let without_c4gh = name.strip_suffix(".c4gh").unwrap_or(name);
    let stem = [".zst", ".gz"]
        .iter()
        .find_map(|suffix| without_c4gh.strip_suffix(suffix))
        .unwrap_or(without_c4gh);
    (stem != name && !stem.is_empty()).then(|| path.with_file_name(stem))
}

/// `-` (standard input or output).
fn is_standard(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// `--rm` removes a file the command read, after writing a file: not standard input, not when
/// the output is standard output.
fn check_rm(rm: bool, input: &Path, destination: Option<&Path>) -> Result<()> {
    if rm && is_standard(input) {
        bail!("--rm removes the input file: not with standard input");
    }
    if rm && destination.is_none() {
        bail!("--rm removes the input once an output file is complete: not with standard output");
    }
    Ok(())
}

/// Removes the input of `--rm` (only called once every output was committed).
fn remove_input(input: &Path) -> Result<()> {
    std::fs::remove_file(input).with_context(|| {
        format!("{}: written, but --rm could not remove the input", input.display())
    })
}

/// Levels each format accepts; the flag parser already bounds them to 0..=22.
fn check_level(format: PackFormat, level: i32) -> Result<()> {
    match format {
        PackFormat::Zstd if !(1..=22).contains(&level) => {
            bail!("--level {level}: zstd levels are 1 to 22")
        }
        PackFormat::Bgzf if !(0..=12).contains(&level) => {
            bail!("--level {level}: BGZF (libdeflate) levels are 0 to 12")
        }
        _ => Ok(()),
    }
}

/// Per-worker compressor state counted in pack's bound: a zstd context sized for the chunk
/// (window and match tables: at most about 4 × the chunk, and zstd's largest window, 128 MiB
/// at level 22, caps what the chunk can ask for) plus 8 MiB.
fn compressor_bytes(chunk_size: u64) -> u64 {
    times(4, chunk_size.min(256 << 20)).saturating_add(8 << 20)
}

/// Refuses pack settings whose peak-memory bound (module docs) is above the limit.
fn check_pack_memory(args: &PackArgs, chunk_size: u64, global: Global) -> Result<()> {
    let (bound, formula) = pack_memory_bound(args, chunk_size);
    global.memory.check("pack", bound, &formula, "--chunk-size, --threads or --channel-depth")
}

/// Pack's peak-memory bound at `chunk_size` (module docs), and how it was computed.
fn pack_memory_bound(args: &PackArgs, chunk_size: u64) -> (u64, String) {
    let threads = crate::limits::threads(args.pipeline.threads) as u64;
    let depth = args.pipeline.channel_depth as u64;
    let inputs = threads + depth + 2;
    let outputs = 2 * (depth + threads) + depth;
    // A compressed chunk is at most the chunk plus zstd's worst-case expansion (< 1/128).
    let output_bytes = chunk_size.saturating_add(chunk_size / 128 + (64 << 10));
    let bound = times(inputs, chunk_size)
        .saturating_add(times(outputs, output_bytes))
        .saturating_add(times(threads, compressor_bytes(chunk_size)));
    let formula = format!(
        "{inputs} input chunks + {outputs} compressed chunks of {} + {threads} compressors",
        human_size(chunk_size)
    );
    (bound, formula)
}

/// The largest size `--chunk-size auto` may choose: [`AUTO_MAX_CHUNK`], halved while pack's
/// bound at it is above the memory limit (down to [`AUTO_MIN_CHUNK`], which is then checked
/// like a given size).
fn largest_auto_chunk(args: &PackArgs, global: Global) -> u64 {
    let mut size = AUTO_MAX_CHUNK as u64;
    while size > AUTO_MIN_CHUNK as u64 && !global.memory.allows(pack_memory_bound(args, size).0) {
        size /= 2;
    }
    size
}

fn gzi_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gzi");
    PathBuf::from(name)
}

/// A packed input opened for reading: plain, or decrypted segment by segment.
enum Packed {
    Plain(BufReader<File>),
    Decrypted(Box<SeekableDecryptor<BufReader<File>>>),
}

impl Read for Packed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Packed::Plain(r) => r.read(buf),
            Packed::Decrypted(r) => r.read(buf),
        }
    }
}

impl Seek for Packed {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Packed::Plain(r) => r.seek(pos),
            Packed::Decrypted(r) => r.seek(pos),
        }
    }
}

/// What kind of container a packed file holds.
enum Kind {
    Zstd,
    Bgzf,
}

/// A packed input, ready to decode.
enum Source {
    /// A seekable zstd file with its validated seek table.
    Seekable(Packed, SeekableIndex),
    /// A BGZF file.
    Bgzf(Packed),
    /// A stream decoded front to back: standard input, or a file without an index.
    Stream(Box<dyn Read>, StreamKind),
}

/// The format of a stream decoded front to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamKind {
    /// zstd frames (seekable or not), as `zstd -d` reads them.
    Zstd,
    /// gzip members, as `gzip -d` reads them.
    Gzip,
}

/// Opens `path` (or standard input for `-`) and tells how to decode it.
fn open_source(path: &Path, secret_key: Option<&Path>) -> Result<Source> {
    let name = path.display().to_string();
    if is_standard(path) {
        let mut stdin = io::stdin();
        let mut head = Vec::new();
        read_up_to(&mut stdin, CRYPT4GH_MAGIC.len(), &mut head).context("standard input")?;
        let kind = match &head[..] {
            [] => bail!("standard input is empty (0 bytes), not a packed file"),
            [0x1f, 0x8b, ..] => StreamKind::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] | [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => StreamKind::Zstd,
            _ if head == CRYPT4GH_MAGIC[..] => bail!(
                "standard input is Crypt4GH-encrypted: decrypting needs a file (its segments \
                 are read by the seek table), not a pipe"
            ),
            _ => bail!(
                "standard input is not a packed file: it starts with none of the zstd or gzip \
                 magic bytes"
            ),
        };
        return Ok(Source::Stream(Box::new(io::Cursor::new(head).chain(stdin)), kind));
    }
    let (mut packed, kind) = open_packed(path, secret_key)?;
    match kind {
        Kind::Zstd => match SeekableIndex::read(&mut packed) {
            Ok(index) => Ok(Source::Seekable(packed, index)),
            // No seek table: a plain zstd file (one frame or many), as `zstd` writes.
            Err(seqflow_container::Error::NotSeekable { .. }) => {
                packed.seek(SeekFrom::Start(0)).with_context(|| name.clone())?;
                Ok(Source::Stream(Box::new(packed), StreamKind::Zstd))
            }
            Err(e) => Err(anyhow::Error::new(e).context(name)),
        },
        Kind::Bgzf => {
            // BGZF members carry the `BC` extra subfield; others are plain gzip.
            let mut head = Vec::new();
            read_up_to(&mut packed, 14, &mut head).with_context(|| name.clone())?;
            packed.seek(SeekFrom::Start(0)).with_context(|| name.clone())?;
            let bgzf = head.len() == 14 && head[3] & 0x04 != 0 && head[12..14] == *b"BC";
            if bgzf {
                Ok(Source::Bgzf(packed))
            } else {
                Ok(Source::Stream(Box::new(packed), StreamKind::Gzip))
            }
        }
    }
}

/// zstd's window limit for streams (`zstd -d`'s default, 128 MiB): frames seqflow writes
/// with a larger `--chunk-size` must be read from a file.
const STREAM_WINDOW_LOG: u32 = 27;

/// A writer that hashes what goes through it (SHA-256), when it has a hasher.
struct Hashing<'a> {
    inner: &'a mut dyn Write,
    hasher: Option<Sha256>,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(hasher) = self.hasher.as_mut() {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that passes on only the bytes of `range` of what is written to it.
struct RangeWriter<'a> {
    inner: &'a mut dyn Write,
    range: std::ops::Range<u64>,
    pos: u64,
}

impl Write for RangeWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let end = self.pos + buf.len() as u64;
        let from = self.range.start.clamp(self.pos, end);
        let to = self.range.end.clamp(from, end);
        self.inner.write_all(&buf[(from - self.pos) as usize..(to - self.pos) as usize])?;
        self.pos = end;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Decodes a stream front to back into `out`, with every check its format allows; says on
/// stderr (one line, unless `-q`) what it could not check. Returns the bytes decoded and,
/// when `sha256` asks for it (always for zstd, where a version-1 file may need it), the
/// SHA-256 of what was decoded.
fn decode_streamed(
    name: &str,
    input: Box<dyn Read>,
    kind: StreamKind,
    out: &mut dyn Write,
    sha256: bool,
    global: Global,
) -> Result<(u64, Option<[u8; 32]>)> {
    let note = |what: String| {
        if !global.quiet {
            eprintln!("seqflow: {name}: {what}");
        }
    };
    match kind {
        StreamKind::Zstd => {
            // Whether the stream is version 1, whose SHA-256 is to be compared, shows only at
            // its end: hash all the same (version 2's BLAKE3 digests are checked inside).
            let mut hashing = Hashing { inner: out, hasher: Some(Sha256::new()) };
            let summary = seqflow_container::decode_stream(input, &mut hashing, STREAM_WINDOW_LOG)
                .with_context(|| name.to_string())?;
            let sha256: [u8; 32] = hashing.hasher.expect("a hasher").finalize().into();
            let unchecked = match summary.frames_without_checksum {
                0 => String::new(),
                k => format!("{k} of {} frames carry no checksum; ", summary.data_frames),
            };
            match (&summary.metadata, summary.seek_table) {
                (Some(meta), _) if meta.sha256().is_some_and(|recorded| recorded != &sha256) => {
                    bail!(
                        "{name}: SHA-256 of the decoded data does not match the one recorded when \
                     packing"
                    )
                }
                (Some(_), _) => {}
                (None, true) => note(format!(
                    "seekable zstd not written by seqflow: {unchecked}{}no digest of the \
                     original to compare",
                    if summary.seek_table_checksums {
                        ""
                    } else {
                        "its seek table has no checksums; "
                    }
                )),
                (None, false) => note(format!(
                    "plain zstd ({} frame(s), no seek table): {unchecked}no digest of the \
                     original, and nothing to tell whether the stream was cut between frames",
                    summary.data_frames
                )),
            }
            Ok((summary.decoded, Some(sha256)))
        }
        StreamKind::Gzip => {
            let mut out = Hashing { inner: out, hasher: sha256.then(Sha256::new) };
            let mut counting = Counting { inner: io::BufReader::new(input), count: 0 };
            let mut decoder =
                flate2::bufread::MultiGzDecoder::new(io::BufReader::new(&mut counting));
            let mut buf = vec![0u8; 128 << 10];
            let mut decoded = 0u64;
            loop {
                let n = match decoder.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        drop(decoder);
                        bail!(
                            "{name}: gzip data near byte {} (after {decoded} decoded bytes): {e}",
                            counting.count
                        )
                    }
                };
                out.write_all(&buf[..n])?;
                decoded += n as u64;
            }
            note(
                "gzip: each member's CRC-32 and length checked; no digest of the original, and \
                 nothing to tell whether the stream was cut between members"
                    .into(),
            );
            Ok((decoded, out.hasher.map(|h| h.finalize().into())))
        }
    }
}

/// Opens a packed file, decrypting if it is Crypt4GH, and tells its container kind.
fn open_packed(path: &Path, secret_key: Option<&Path>) -> Result<(Packed, Kind)> {
    let name = path.display();
    let mut file = File::open(path).with_context(|| format!("{name}"))?;
    let len = match file.seek(SeekFrom::End(0)) {
        Ok(len) => len,
        Err(e) if e.raw_os_error() == Some(29) || e.kind() == io::ErrorKind::NotSeekable => bail!(
            "{name}: not a seekable file (a pipe?): unpack, cat and verify read the seek table \
             at the end of a regular file"
        ),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("{name}"))),
    };
    if len == 0 {
        bail!("{name}: empty file (0 bytes), not a packed file");
    }
    file.seek(SeekFrom::Start(0)).with_context(|| format!("{name}"))?;
    let mut file = BufReader::new(file);
    let mut magic = Vec::new();
    read_up_to(&mut file, CRYPT4GH_MAGIC.len(), &mut magic).with_context(|| format!("{name}"))?;
    file.seek(SeekFrom::Start(0)).with_context(|| format!("{name}"))?;
    let mut packed = if magic == CRYPT4GH_MAGIC[..] {
        let key = secret_key
            .ok_or_else(|| anyhow!("{name}: is Crypt4GH-encrypted; give --secret-key"))?;
        let secret = load_secret_key(key)?;
        let decryptor = SeekableDecryptor::new(file, &secret).with_context(|| format!("{name}"))?;
        Packed::Decrypted(Box::new(decryptor))
    } else if looks_like_damaged_crypt4gh(&magic) {
        bail!(
            "{name}: damaged Crypt4GH magic: starts with \"{}\", expected \"crypt4gh\"",
            magic.escape_ascii()
        );
    } else {
        Packed::Plain(file)
    };
    // Decrypting segment 0 happens here: its failure must name the file too.
    let mut head = Vec::new();
    read_up_to(&mut packed, 4, &mut head).with_context(|| format!("{name}"))?;
    packed.seek(SeekFrom::Start(0)).with_context(|| format!("{name}"))?;
    let kind = match &head[..] {
        [0x1f, 0x8b, ..] => Kind::Bgzf,
        // A zstd frame, or a skippable frame (an empty original has only seqflow's metadata).
        [0x28, 0xb5, 0x2f, 0xfd] | [0x50..=0x5f, 0x2a, 0x4d, 0x18] => Kind::Zstd,
        _ => bail!(
            "{name}: not a packed file: it starts with none of the zstd, BGZF (gzip) or \
             Crypt4GH magic bytes"
        ),
    };
    Ok((packed, kind))
}

/// Eight bytes that differ from `crypt4gh` in one or two places: a flipped bit or byte in an
/// encrypted file's magic, not some other format.
fn looks_like_damaged_crypt4gh(magic: &[u8]) -> bool {
    magic.len() == CRYPT4GH_MAGIC.len()
        && magic.iter().zip(CRYPT4GH_MAGIC.iter()).filter(|(a, b)| a != b).count() <= 2
}

/// Reads the `.gzi` beside a BGZF file and checks every entry against the blocks it points
/// to (walking the block headers, without inflating): an entry that is off by a byte would
/// otherwise make `cat` return shifted bytes. Returns the checked index, or `None` without a
/// `.gzi`.
fn checked_gzi<R: Read + Seek>(packed: &mut R, path: &Path) -> Result<Option<GziIndex>> {
    let gzi = gzi_path(path);
    let file = match File::open(&gzi) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("{}", gzi.display()))),
    };
    let given =
        GziIndex::read(BufReader::new(file)).with_context(|| format!("{}", gzi.display()))?;
    let blocks = BgzfReader::scan(&mut *packed).with_context(|| format!("{}", path.display()))?;
    let starts = blocks.index().entries();
    for (i, &(compressed, original)) in given.entries().iter().enumerate() {
        match starts.binary_search_by_key(&compressed, |&(c, _)| c) {
            Ok(j) if starts[j].1 == original => {}
            Ok(j) => bail!(
                "{}: entry {i} says the block at byte {compressed} of {} starts at original \
                 byte {original}, but the blocks before it hold {} bytes",
                gzi.display(),
                path.display(),
                starts[j].1
            ),
            Err(_) => bail!(
                "{}: entry {i} points to byte {compressed} of {}, which is not the start of a \
                 BGZF block",
                gzi.display(),
                path.display()
            ),
        }
    }
    Ok(Some(given))
}

/// Runs `seqflow unpack`.
pub(crate) fn unpack(args: &UnpackArgs, global: Global) -> Result<ExitCode> {
    let destination = unpack_destination(args)?;
    check_rm(args.rm, &args.packed.input, destination.as_deref())?;
    let checks = EndToEnd { check: !args.skip_digest, sha256: false };
    let destination = Some(destination.as_deref());
    restore(&args.packed, &args.pipeline, destination, args.force, checks, global)?;
    if args.rm {
        remove_input(&args.packed.input)?;
        let gzi = gzi_path(&args.packed.input);
        if gzi.exists() {
            remove_input(&gzi)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `seqflow verify`: every check of `unpack`, writing nothing but `FILE: OK` on standard
/// output (as `sha256sum -c` does; not with `-q`, as `sha256sum -c --quiet`), or with
/// `--sha256` the original's SHA-256 as `sha256sum` prints it (also with `-q`).
pub(crate) fn verify(args: &VerifyArgs, global: Global) -> Result<ExitCode> {
    let checks = EndToEnd { check: true, sha256: args.sha256 };
    let sha256 = restore(&args.packed, &args.pipeline, None, false, checks, global)?;
    let mut stdout = io::stdout().lock();
    let input = &args.packed.input;
    match sha256 {
        Some(sha256) if args.sha256 => {
            let original = strip_packed_suffixes(input).unwrap_or_else(|| input.clone());
            writeln!(stdout, "{}  {}", hex(&sha256), original.display())?;
        }
        _ if global.quiet => return Ok(ExitCode::SUCCESS),
        _ => writeln!(stdout, "{}: OK", input.display())?,
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Lower-case hexadecimal, as `sha256sum` prints digests.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The end-to-end checks `restore` runs besides each frame's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EndToEnd {
    /// Check the digest of the original the file records: each frame's BLAKE3 (version 2),
    /// the whole-file SHA-256 (version 1). `unpack --skip-digest` clears it.
    check: bool,
    /// Compute the SHA-256 of the original for the caller (`verify --sha256`).
    sha256: bool,
}

/// Decodes a packed file with every check, into `output` (`Some(None)`: standard output;
/// `None`: nowhere, for `verify`). Returns the SHA-256 of the original when `checks.sha256`
/// asks for it (and whenever it was computed anyway).
fn restore(
    packed_args: &PackedArgs,
    pipeline: &PipelineArgs,
    output: Option<Option<&Path>>,
    force: bool,
    checks: EndToEnd,
    global: Global,
) -> Result<Option<[u8; 32]>> {
    let input = &packed_args.input;
    let verify_only = output.is_none();
    let name = input.display().to_string();
    let mut outputs = OutputSet::new(force);
    outputs.reads(input);
    if let Some(key) = &packed_args.secret_key {
        outputs.reads(key);
    }
    let source = open_source(input, packed_args.secret_key.as_deref())?;
    // Decrypted data is as private as a secret key.
    let access = match &source {
        Source::Seekable(Packed::Decrypted(_), _) | Source::Bgzf(Packed::Decrypted(_)) => {
            Access::Private
        }
        _ if packed_args.secret_key.is_some() && !is_standard(input) => Access::Private,
        _ => Access::Shared,
    };
    let mut output = match output {
        None => None,
        Some(path) => Some(outputs.create(path, access)?),
    };
    let mut metrics_output = None;
    let sha256 = match source {
        Source::Stream(stream, kind) => {
            let sink: &mut dyn Write = match output.as_mut() {
                Some(output) => output,
                None => &mut io::sink(),
            };
            decode_streamed(&name, stream, kind, sink, checks.sha256, global)?.1
        }
        Source::Seekable(mut packed, index) => {
            metrics_output = pipeline.metrics_output(&mut outputs)?;
            if index.metadata().is_none() && !global.quiet {
                eprintln!(
                    "seqflow: {name}: seekable zstd not written by seqflow: {}no digest of \
                     the original to compare",
                    if index.has_checksums() { "" } else { "its seek table has no checksums; " }
                );
            }
            let bar = bytes_bar(&name, Some(index.seek_table_offset()), global);
            let decode = Decode { pipeline, checks, bar: bar.as_ref(), global };
            let (report, hashed) = unpack_zstd(&index, &mut packed, output.as_mut(), &decode)
                .with_context(|| name.clone())?;

            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            metrics_output = write_metrics(metrics_output, &report)?;
            hashed
        }
        Source::Bgzf(mut packed) => {
            if verify_only {
                checked_gzi(&mut packed, input)?;
            }
            let mut reader = BgzfReader::scan(&mut packed).with_context(|| name.clone())?;
            if !reader.has_eof_block()? {
                bail!("{name}: BGZF file has no EOF block (truncated?)");
            }
            let sink: &mut dyn Write = match output.as_mut() {
                Some(output) => output,
                None => &mut io::sink(),
            };
            let mut hashing = Hashing { inner: sink, hasher: checks.sha256.then(Sha256::new) };
            copy_bgzf_range(&mut reader, 0..u64::MAX, &mut hashing)
                .with_context(|| name.clone())?;
            hashing.hasher.map(|h| h.finalize().into())
        }
    };
    commit(output.into_iter().chain(metrics_output))?;
    Ok(sha256)
}

/// How `unpack_zstd` runs: the pipeline flags, the end-to-end checks and the progress bar.
struct Decode<'a> {
    pipeline: &'a PipelineArgs,
    checks: EndToEnd,
    bar: Option<&'a ProgressBar>,
    global: Global,
}

/// A frame to decode: its seek-table entry, its compressed bytes and its share of the budget.
type FrameJob = Weighted<(FrameEntry, FrameBuf, Credit)>;

/// Decoded chunks waiting for the hashing thread.
const HASH_QUEUE: usize = 4;

/// Frames up to this size (compressed or decoded) use recycled buffers; larger ones get a fresh
/// allocation that is freed after use, so idle pool slots never hold large buffers.
const POOLED_FRAME_BYTES: u64 = 4 << 20;

/// Least byte budget of frames in flight; larger frames get room for two.
const MIN_FRAME_BUDGET: u64 = 64 << 20;

/// A frame's buffer: recycled for ordinary frames, owned (and freed) for large ones.
enum FrameBuf {
    Pooled(PoolGuard<Vec<u8>>),
    Owned(Vec<u8>),
}

impl FrameBuf {
    /// A buffer for `bytes` from `pool` (waiting for one), or a fresh one for large frames.
    fn take(pool: &Pool<Vec<u8>>, bytes: u64) -> Result<FrameBuf> {
        if bytes > POOLED_FRAME_BYTES {
            return Ok(FrameBuf::Owned(Vec::new()));
        }
        pool.take().map(FrameBuf::Pooled).map_err(|_| anyhow!("frame buffers closed"))
    }
}

impl std::ops::Deref for FrameBuf {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        match self {
            FrameBuf::Pooled(buf) => buf,
            FrameBuf::Owned(buf) => buf,
        }
    }
}

impl std::ops::DerefMut for FrameBuf {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        match self {
            FrameBuf::Pooled(buf) => buf,
            FrameBuf::Owned(buf) => buf,
        }
    }
}

/// Memory plan of unpack and verify: frames in flight are bounded by bytes, idle pooled
/// buffers by count.
struct UnpackPlan {
    /// Byte budget of frames in flight (compressed + decoded bytes of each).
    frame_budget: u64,
    /// Pooled buffers, each at most [`POOLED_FRAME_BYTES`].
    pooled_buffers: u64,
    /// Largest frame cost of the file.
    largest_frame: u64,
}

impl UnpackPlan {
    fn new(index: &SeekableIndex, pipeline: &Pipeline) -> UnpackPlan {
        let largest_frame = index.frames().iter().map(frame_cost).max().unwrap_or(0);
        let workers = pipeline.workers() as u64;
        let depth = pipeline.channel_depth() as u64;
        let inputs = workers + depth + 2;
        let outputs = pipeline.reorder_window() as u64 + depth + workers + HASH_QUEUE as u64 + 2;
        UnpackPlan {
            frame_budget: times(2, largest_frame).max(MIN_FRAME_BUDGET),
            pooled_buffers: inputs + outputs,
            largest_frame,
        }
    }

    /// Peak memory: the frames in flight plus the idle pooled buffers.
    fn bound(&self) -> u64 {
        let pooled = times(self.pooled_buffers, self.largest_frame.min(POOLED_FRAME_BYTES));
        self.frame_budget.saturating_add(pooled)
    }

    fn check(&self, global: Global) -> Result<()> {
        let formula = format!(
            "frames in flight max(2 × largest frame {}, 64 MiB) + {} pooled buffers",
            crate::size::approx_size(self.largest_frame),
            self.pooled_buffers
        );
        global.memory.check("unpack", self.bound(), &formula, "--threads or --channel-depth")
    }
}

/// Bytes a frame holds while in flight: its compressed and its decoded size.
fn frame_cost(frame: &FrameEntry) -> u64 {
    let compressed = frame.compressed_range();
    let decoded = frame.decompressed_range();
    (compressed.end - compressed.start).saturating_add(decoded.end - decoded.start)
}

/// Decodes every frame on the pipeline, checking frames (with their BLAKE3 digests, in the
/// workers), the total size and, for version 1, the SHA-256. Returns the pipeline's report
/// and the SHA-256 of the original, when it was computed.
fn unpack_zstd(
    index: &SeekableIndex,
    packed: &mut Packed,
    mut output: Option<&mut Output>,
    decode: &Decode<'_>,
) -> Result<(Report, Option<[u8; 32]>)> {
    let pipeline = decode.pipeline.pipeline(decode.bar);
    let plan = UnpackPlan::new(index, &pipeline);
    plan.check(decode.global)?;
    let compare_sha256 = decode.checks.check && index.sha256().is_some();
    let hash = compare_sha256 || decode.checks.sha256;
    let check_digests = decode.checks.check;
    let budget = ByteBudget::new(plan.frame_budget);
    // Buffers are recycled, not allocated per frame: fresh megabyte allocations cost page
    // faults on every frame. Outputs can be held by the out channel, the reorder window, the
    // workers and the hashing queue at once; the pool covers all of them, so a worker never
    // waits for a buffer that only the sink's progress would free. Large frames bypass the
    // pools (see `FrameBuf`); the byte budget bounds every frame in flight either way.
    let inputs = Pool::from_fn(pipeline.workers() + pipeline.channel_depth() + 2, Vec::new);
    let outputs = Pool::from_fn(
        pipeline.reorder_window() + pipeline.channel_depth() + pipeline.workers() + HASH_QUEUE + 2,
        Vec::new,
    );
    let (hash_tx, hash_rx) = mpsc::sync_channel::<(FrameBuf, Credit)>(HASH_QUEUE);
    let hasher = thread::spawn(move || {
        let mut hasher = Sha256::new();
        for (chunk, _credit) in hash_rx {
            hasher.update(&chunk[..]);
        }
        <[u8; 32]>::from(hasher.finalize())
    });
    let mut decoded = 0u64;
    let outcome = pipeline.run_ordered(
        |emit: &mut seqflow_pipeline::Emitter<FrameJob>| {
            for frame in index.frames() {
                let Some(credit) = budget.acquire(frame_cost(frame), || emit.is_cancelled()) else {
                    return Ok(());
                };
                let compressed_len = frame.compressed_range().end - frame.compressed_range().start;
                let mut compressed = FrameBuf::take(&inputs, compressed_len)?;
                index.read_frame(packed, frame, &mut compressed)?;
                emit.progress(compressed.len() as u64);
                let cost = compressed.len();
                if emit.send(Weighted::new(cost, (*frame, compressed, credit))).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        },
        |_| FrameDecompressor::new(),
        |decompressor, item| {
            let decompressor = decompressor.as_mut().map_err(|e| anyhow!("{e}"))?;
            let (mut frame, compressed, credit) = item.into_inner();
            if !check_digests {
                frame.digest = None;
            }
            let decoded_len = frame.decompressed_range().end - frame.decompressed_range().start;
            let mut out = FrameBuf::take(&outputs, decoded_len)?;
            decompressor.decompress(&compressed, &frame, &mut out)?;
            Ok((out, credit))
        },
        |(chunk, credit)| {
            if let Some(output) = output.as_deref_mut() {
                output.write_all(&chunk)?;
            }
            decoded += chunk.len() as u64;
            if hash {
                hash_tx.send((chunk, credit)).map_err(|_| anyhow!("the hashing thread stopped"))?;
            }
            Ok(())
        },
    );
    drop(hash_tx);
    let sha256 = hasher.join().map_err(|_| anyhow!("the hashing thread panicked"))?;
    let outcome = outcome.map_err(pipeline_error)?;
    if decoded != index.original_size() {
        bail!("decoded {decoded} bytes but the metadata says {}", index.original_size());
    }
    if compare_sha256 && index.sha256().is_some_and(|recorded| &sha256 != recorded) {
        bail!("SHA-256 of the decoded data does not match the one recorded when packing");
    }
    Ok((outcome.report, hash.then_some(sha256)))
}

/// Parses `START-END`, `START-`, `START` (both: to the end of the original) or `-END` (from
/// its start), as the `crypt4gh` tool's `--range` does.
fn parse_range(text: &str) -> Result<std::ops::Range<u64>> {
    let bound = |part: &str, what: &str, open: u64| -> Result<u64> {
        let part = part.trim();
        if part.is_empty() {
            return Ok(open);
        }
        part.parse().map_err(|_| {
            anyhow!(
                "--range {text}: {what} '{part}' is not a byte offset (START-END, START-, -END)"
            )
        })
    };
    let (start, end) = text.split_once('-').unwrap_or((text, ""));
    if start.trim().is_empty() && end.trim().is_empty() {
        bail!("--range {text}: give START-END, START- or -END");
    }
    let start = bound(start, "start", 0)?;
    let end = bound(end, "end", u64::MAX)?;
    if end < start {
        bail!("--range {text}: end {end} is before start {start}");
    }
    Ok(start..end)
}

/// Runs `seqflow cat`.
pub(crate) fn cat(args: &CatArgs, global: Global) -> Result<ExitCode> {
    let input = &args.packed.input;
    let name = input.display().to_string();
    let given = args.range.as_deref().unwrap_or("0-");
    let range = parse_range(given)?;
    let mut outputs = OutputSet::new(false);
    outputs.reads(input);
    let source = open_source(input, args.packed.secret_key.as_deref())?;
    let mut stdout = outputs.create(None, Access::Shared)?;
    match source {
        Source::Stream(stream, kind) => {
            // No index: decode from the start, passing on only the range.
            let mut ranged = RangeWriter { inner: &mut stdout, range: range.clone(), pos: 0 };
            let (size, _) = decode_streamed(&name, stream, kind, &mut ranged, false, global)?;
            check_range_start(&name, given, &range, size)?;
        }
        Source::Seekable(mut packed, index) => {
            // Frame by frame, so memory stays one frame whatever the range.
            check_range_start(&name, given, &range, index.original_size())?;
            let mut decompressor = FrameDecompressor::new()?;
            let mut out = Vec::new();
            // The whole original can be checked against the SHA-256 recorded when packing
            // (frames swapped together with their seek-table entries pass every frame check).
            let mut whole = (range.start == 0 && range.end >= index.original_size())
                .then(Sha256::new)
                .filter(|_| index.sha256().is_some());
            for frame in &index.frames()[index.frames_for_range(range.clone())] {
                let part = frame.decompressed_range();
                let part = part.start.max(range.start)..part.end.min(range.end);
                out.clear();
                index
                    .read_range(&mut packed, part, &mut decompressor, &mut out)
                    .with_context(|| name.clone())?;
                if let Some(hasher) = whole.as_mut() {
                    hasher.update(&out);
                }
                stdout.write_all(&out)?;
            }
            if let Some(hasher) = whole {
                if Some(&<[u8; 32]>::from(hasher.finalize())) != index.sha256() {
                    stdout.flush()?;
                    bail!(
                        "{name}: SHA-256 of the decoded data does not match the one recorded \
                         when packing"
                    );
                }
            }
        }
        Source::Bgzf(mut packed) => {
            let mut reader = match checked_gzi(&mut packed, input)? {
                Some(index) => BgzfReader::new(&mut packed, index)?,
                None => BgzfReader::scan(&mut packed).with_context(|| name.clone())?,
            };
            let size = bgzf_original_size(&mut reader).with_context(|| name.clone())?;
            check_range_start(&name, given, &range, size)?;
            copy_bgzf_range(&mut reader, range, &mut stdout).with_context(|| name.clone())?;
        }
    }
    stdout.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses a `--range` that starts past the end of the original (one that only ends past it
/// is cut at the end). A range from 0, as the default whole original, never starts past
/// the end, even of an empty original.
fn check_range_start(
    name: &str,
    given: &str,
    range: &std::ops::Range<u64>,
    size: u64,
) -> Result<()> {
    if range.start >= size && range.end > range.start && range.start > 0 {
        bail!(
            "{name}: --range {given} starts past the end of the original, which has {size} bytes"
        );
    }
    Ok(())
}

/// The size of the original of a BGZF file: decodes only what follows the last index entry.
fn bgzf_original_size<R: Read + Seek>(reader: &mut BgzfReader<R>) -> Result<u64> {
    const WINDOW: u64 = 4 << 20;
    let mut size = reader.index().entries().last().map_or(0, |&(_, uncompressed)| uncompressed);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        reader.read_range(size..size.saturating_add(WINDOW), &mut buf)?;
        size += buf.len() as u64;
        if (buf.len() as u64) < WINDOW {
            return Ok(size);
        }
    }
}

/// Decodes `range` of a BGZF file into `out` in windows of 4 MiB, so memory stays bounded
/// whatever the range.
fn copy_bgzf_range<R: Read + Seek>(
    reader: &mut BgzfReader<R>,
    range: std::ops::Range<u64>,
    out: &mut (impl Write + ?Sized),
) -> Result<()> {
    const WINDOW: u64 = 4 << 20;
    let (mut pos, mut buf) = (range.start, Vec::new());
    while pos < range.end {
        buf.clear();
        reader.read_range(pos..range.end.min(pos.saturating_add(WINDOW)), &mut buf)?;
        if buf.is_empty() {
            break;
        }
        out.write_all(&buf)?;
        pos += buf.len() as u64;
    }
    Ok(())
}
