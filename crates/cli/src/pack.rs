//! `seqflow pack` / `unpack` / `cat` / `verify` / `keygen`: the flags, output names, keys,
//! progress bars and messages around the pipelines of `seqflow-pack` (chunked parallel
//! compression into zstd seekable or BGZF, optionally encrypted with Crypt4GH; their peak
//! memory is stated in that crate's docs).
//!
//! Every command checks its bound against the machine's memory (or `--max-memory`) before it
//! reads anything (`crate::limits`).

use std::fs::File;
use std::io::{self, IsTerminal, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use seqflow_crypt4gh::{
    KeyPair, PublicKey, SecretKey, read_public_key, read_secret_key, write_public_key,
    write_secret_key,
};
use seqflow_pack::{
    ChunkSize, Container, PackOptions, PackedInput, PipelineOptions, ProgressFn, UnpackOptions,
    gzi_path,
};
use seqflow_pipeline::Report;

use indicatif::ProgressBar;

use crate::Global;
use crate::limits::{MAX_CHANNEL_DEPTH, MAX_THREADS};
use crate::output::{Access, Output, OutputSet, commit};
use crate::progress::{bytes_bar, file_size};
use crate::size::{count_in, size_in};

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
    /// The library's pipeline options, drawing `bar` (if any) from the input bytes the source
    /// reports.
    fn options(&self, bar: Option<&ProgressBar>) -> PipelineOptions {
        let progress: Option<ProgressFn> = match bar.cloned() {
            Some(bar) => Some(Arc::new(move |bytes| bar.set_position(bytes))),
            None => None,
        };
        PipelineOptions {
            threads: crate::limits::threads(self.threads),
            channel_depth: self.channel_depth,
            progress,
        }
    }

    /// Opens the `--metrics` output, if one was asked for.
    fn metrics_output(&self, outputs: &mut OutputSet) -> Result<Option<Output>> {
        self.metrics.as_deref().map(|path| outputs.create(Some(path), Access::Shared)).transpose()
    }
}

/// Writes the pipeline metrics as JSON into their output, if there is one.
fn write_metrics(output: Option<Output>, report: Option<&Report>) -> Result<Option<Output>> {
    let (Some(mut output), Some(report)) = (output, report) else { return Ok(None) };
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
    /// 2 MiB lose when cut into 1 MiB frames (larger only where data repeats far apart); 1M for
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
const MAX_CHUNK_SIZE: u64 = seqflow_pack::MAX_CHUNK_SIZE as u64;

/// `--chunk-size`: `auto` (up to the largest size the library picks) or a size.
fn parse_chunk_size(text: &str) -> Result<ChunkSize, String> {
    if text.trim() == "auto" {
        return Ok(ChunkSize::default());
    }
    size_in(1, MAX_CHUNK_SIZE)(text).map(|size| ChunkSize::Fixed(size as usize))
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
/// The input of `pack`: a file (which `pack_from_file` maps when it is a regular one, standard
/// input included when it is redirected from a file), or standard input as a stream.
enum PackInput {
    File(File),
    Stream(io::Stdin),
}

fn open_input(path: &Path) -> Result<PackInput> {
    if path.as_os_str() == "-" {
        use std::os::fd::AsFd;
        let stdin = io::stdin();
        let file = stdin.as_fd().try_clone_to_owned().map(File::from);
        // A file read from its start only: a redirect another program has read into is
        // packed from where it stands, as a stream.
        return Ok(match file {
            Ok(file)
                if file.metadata().is_ok_and(|m| m.is_file())
                    && (&file).stream_position().is_ok_and(|at| at == 0) =>
            {
                PackInput::File(file)
            }
            _ => PackInput::Stream(stdin),
        });
    }
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    Ok(PackInput::File(file))
}

impl From<PackFormat> for Container {
    fn from(format: PackFormat) -> Container {
        match format {
            PackFormat::Zstd => Container::Zstd,
            PackFormat::Bgzf => Container::Bgzf,
        }
    }
}

/// Runs `seqflow pack`.
pub(crate) fn pack(args: &PackArgs, global: Global) -> Result<ExitCode> {
    let mut options = PackOptions {
        container: args.container.into(),
        level: args.level,
        chunk_size: args.chunk_size,
        recipients: Vec::new(),
        sender_key: None,
        pipeline: args.pipeline.options(None),
    };
    options.validate()?;
    options.fit_auto_chunk_size(|bytes| global.memory.allows(bytes));
    let bound = seqflow_pack::pack_memory_bound(&options);
    let lower = "--chunk-size, --threads or --channel-depth";
    global.memory.check("pack", bound.bytes, &bound.formula, lower)?;
    if args.sender_key.is_some() && args.recipient.is_empty() {
        bail!("--sender-key signs the Crypt4GH header of an encrypted file: give --recipient too");
    }
    let mut outputs = OutputSet::new(args.force);
    for input in [&args.input].into_iter().chain(&args.recipient).chain(&args.sender_key) {
        outputs.reads(input);
    }
    options.recipients =
        args.recipient.iter().map(|p| load_public_key(p)).collect::<Result<_>>()?;
    let destination = pack_destination(args);
    if destination.is_none() && !args.stdout && io::stdout().is_terminal() {
        bail!(
            "refusing to write compressed data to a terminal: give -o FILE, or -c to write to \
             standard output anyway"
        );
    }
    check_rm(args.rm, &args.input, destination.as_deref())?;
    let input = open_input(&args.input)?;
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
    if !options.recipients.is_empty() {
        options.sender_key = Some(match &args.sender_key {
            Some(path) => load_secret_key(path)?,
            None => KeyPair::generate().secret,
        });
    }
    let bar = bytes_bar("pack", file_size(&args.input), global);
    options.pipeline = args.pipeline.options(bar.as_ref());
    let name = args.input.display().to_string();
    let outcome = match input {
        PackInput::File(file) => {
            seqflow_pack::pack_from_file(&name, file, output, index_output, &options)?
        }
        PackInput::Stream(stdin) => {
            seqflow_pack::pack(&name, stdin, output, index_output, &options)?
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let metrics_output = write_metrics(metrics_output, Some(&outcome.report))?;
    commit([Some(outcome.output), outcome.index, metrics_output].into_iter().flatten())?;
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

/// Opens the packed input of `unpack`, `cat` and `verify`: standard input for `-`, else the
/// file, loading the secret key (and asking for its passphrase) only if the file is
/// encrypted.
fn open_packed(args: &PackedArgs) -> Result<PackedInput> {
    let input = &args.input;
    if is_standard(input) {
        return Ok(PackedInput::stdin()?);
    }
    let load_key = || -> Result<SecretKey, seqflow_pack::BoxError> {
        let key = args.secret_key.as_deref().ok_or_else(|| {
            anyhow!("{}: is Crypt4GH-encrypted; give --secret-key", input.display())
        })?;
        Ok(load_secret_key(key)?)
    };
    Ok(PackedInput::open_with(input, load_key)?)
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
    /// Check the digest of the original the file records: each frame's BLAKE3 (versions 2 and 3),
    /// the whole-file SHA-256 (version 1). `unpack --skip-digest` clears it.
    check: bool,
    /// Compute the SHA-256 of the original for the caller (`verify --sha256`).
    sha256: bool,
}

/// Prints what the format left unchecked, one line each, unless `-q`.
fn print_notes(name: &str, notes: &[String], global: Global) {
    if !global.quiet {
        for note in notes {
            eprintln!("seqflow: {name}: {note}");
        }
    }
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
    let name = input.display().to_string();
    let mut outputs = OutputSet::new(force);
    outputs.reads(input);
    if let Some(key) = &packed_args.secret_key {
        outputs.reads(key);
    }
    let packed = open_packed(packed_args)?;
    // Decrypted data is as private as a secret key.
    let access =
        if packed.is_encrypted() || (packed_args.secret_key.is_some() && !is_standard(input)) {
            Access::Private
        } else {
            Access::Shared
        };
    let mut output = match output {
        None => None,
        Some(path) => Some(outputs.create(path, access)?),
    };
    let mut metrics_output = None;
    let mut bar = None;
    let mut options = UnpackOptions {
        check_digest: checks.check,
        sha256: checks.sha256,
        secret_key: None,
        pipeline: pipeline.options(None),
    };
    if packed.is_parallel() {
        metrics_output = pipeline.metrics_output(&mut outputs)?;
        if let Some(note) = packed.unchecked_note() {
            print_notes(&name, &[note], global);
        }
        if let Some(bound) = packed.memory_bound(&options.pipeline) {
            let lower = "--threads or --channel-depth";
            global
                .memory
                .check("unpack", bound.bytes, &bound.formula, lower)
                .with_context(|| name.clone())?;
        }
        bar = bytes_bar(&name, packed.compressed_size(), global);
        options.pipeline = pipeline.options(bar.as_ref());
    }
    let summary = match output.as_mut() {
        Some(output) => packed.unpack(output, &options)?,
        None => packed.verify(&options)?,
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_notes(&name, &summary.notes, global);
    metrics_output = write_metrics(metrics_output, summary.report.as_ref())?;
    commit(output.into_iter().chain(metrics_output))?;
    Ok(summary.sha256)
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
    let packed = open_packed(&args.packed)?;
    let mut stdout = outputs.create(None, Access::Shared)?;
    match packed.cat(range, &mut stdout) {
        Ok(summary) => print_notes(&name, &summary.notes, global),
        Err(seqflow_pack::Error::RangeStart { size }) => bail!(
            "{name}: --range {given} starts past the end of the original, which has {size} bytes"
        ),
        Err(e) => return Err(e.into()),
    }
    stdout.finish()?;
    Ok(ExitCode::SUCCESS)
}
