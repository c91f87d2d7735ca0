//! Every file a command writes goes through this module, so that no command can destroy what it
//! does not own. The rules (also in `docs/architecture.md`, "Outputs"):
//!
//! - `-`, no `-o`, and `/dev/stdout` (`/dev/fd/1`, `/proc/self/fd/1`) are standard output.
//! - Anything that is not a regular file is written through, in place, never replaced: character
//!   devices (`/dev/null`, a terminal), FIFOs, sockets, other `/dev/fd/N` and `/proc/…/fd/N`
//!   links. A block device is written through as well, but only with `--force` (it holds data).
//! - A regular file is written to a temporary sibling (`.seqflow-XXXXXX.partial`, created with
//!   mode `0666 & ~umask`, or `0600 & ~umask` for private outputs: secret keys and decrypted
//!   plaintext), synced to disk, and renamed over the final name once the command succeeded.
//! - A symbolic link is followed: the file it points to is replaced (the temporary file is made
//!   in the target's directory) and the link itself stays a link. A dangling link creates its
//!   target.
//! - An existing file is refused unless `--force`; the rename repeats that check atomically,
//!   so a file that appears while the command runs is not overwritten either.
//! - An output that is the same file (device and inode, or the same path still to be created)
//!   as an input or as another output of the same command is refused, with or without `--force`.
//! - The outputs of one command are committed together ([`commit`]): every temporary file is
//!   complete and synced before the first rename, and if a rename fails the outputs already
//!   renamed are removed. A failure before that leaves none of them.
//! - Temporary files are deleted when the command fails or panics (on drop) and when it gets
//!   SIGINT, SIGTERM or SIGHUP (by [`remove_temporary_files_on_signals`], which then exits with
//!   status 128 + the signal number). SIGXFSZ is caught so that a write past `ulimit -f` fails
//!   with "File too large" and the command cleans up instead of being killed. SIGBUS (an
//!   input read through a memory map shrank under the reader: `pack` and the FASTA/FASTQ
//!   reader map regular files) ends the command with one line and status 2, its temporary
//!   files deleted, instead of a crash that leaves them behind.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::{Context, Result, bail};
use tempfile::TempPath;

/// Help text for `seqflow --help`: what happens to each kind of output.
pub(crate) const RULES: &str = "\
Outputs: `-` (or no -o; pack and unpack name theirs after the input, as zstd does, and write \
standard output with -c) and /dev/stdout are standard output. Devices, FIFOs and /dev/fd/N are \
written in place (a block device only with --force). A regular file is written to a temporary \
`.seqflow-*.partial` beside it (mode 0666 minus the umask; 0600 for secret keys and decrypted \
data) and renamed when the command succeeds; a symlink keeps pointing to the file it names, \
which is replaced. Existing files need --force; an output that is also an input, or given \
twice, is refused. A command's outputs appear together or not at all; temporary files are \
removed on failure, Ctrl-C, SIGTERM and SIGHUP.";

/// Buffer size of every output.
const BUFFER: usize = 1 << 20;

/// Symbolic links followed before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Who may read an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Mode `0666 & ~umask`.
    Shared,
    /// Mode `0600 & ~umask`: secret keys and decrypted plaintext.
    Private,
}

impl Access {
    fn mode(self) -> u32 {
        match self {
            Access::Shared => 0o666,
            Access::Private => 0o600,
        }
    }
}

/// The identity of a file for the same-file checks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileKey {
    /// An existing file: device and inode.
    Existing { dev: u64, ino: u64 },
    /// A file still to be created: its directory's device and inode, and its name.
    New { dir_dev: u64, dir_ino: u64, name: OsString },
}

impl FileKey {
    /// The key of an existing file; `None` for character devices (`/dev/null`, terminals) and
    /// sockets, which can be read and written at once without harm.
    fn of(meta: &fs::Metadata) -> Option<FileKey> {
        let kind = meta.file_type();
        (!kind.is_char_device() && !kind.is_socket())
            .then(|| FileKey::Existing { dev: meta.dev(), ino: meta.ino() })
    }

    /// The key of standard input or output (`None` if it is closed or a character device).
    fn of_standard(stream: impl AsFd) -> Option<FileKey> {
        let file = File::from(stream.as_fd().try_clone_to_owned().ok()?);
        FileKey::of(&file.metadata().ok()?)
    }
}

/// The inputs and outputs of one command: creates the outputs, refusing those that exist
/// (unless `--force`) or that are the same file as an input or another output.
#[derive(Debug)]
pub(crate) struct OutputSet {
    force: bool,
    inputs: Vec<(String, FileKey)>,
    outputs: Vec<(String, FileKey)>,
}

impl OutputSet {
    /// An empty set; `force` allows replacing existing files.
    pub(crate) fn new(force: bool) -> OutputSet {
        OutputSet { force, inputs: Vec::new(), outputs: Vec::new() }
    }

    /// Records an input (`-` is standard input) so that no output can overwrite it. A missing
    /// file is not an error here: opening it reports that.
    pub(crate) fn reads(&mut self, path: &Path) -> &mut Self {
        let key = if path.as_os_str() == "-" {
            FileKey::of_standard(io::stdin())
        } else {
            fs::metadata(path).ok().and_then(|meta| FileKey::of(&meta))
        };
        if let Some(key) = key {
            self.inputs.push((path.display().to_string(), key));
        }
        self
    }

    /// Opens an output: standard output for `None` or `-`, else `path` by the module's rules.
    ///
    /// # Errors
    /// The output exists (without `--force`), is a directory, is an input or another output of
    /// the command, or its temporary file cannot be created.
    pub(crate) fn create(&mut self, path: Option<&Path>, access: Access) -> Result<Output> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            self.claim("standard output", FileKey::of_standard(io::stdout()))?;
            return Ok(Output::stdout());
        };
        let name = path.display().to_string();
        match Destination::of(path)? {
            Destination::Stdout => {
                self.claim(&name, FileKey::of_standard(io::stdout()))?;
                Ok(Output::stdout())
            }
            Destination::InPlace { path: target, block_device, fd_link } => {
                if block_device && !self.force {
                    bail!("{name}: is a block device (use --force to write to it)");
                }
                self.claim(&name, fs::metadata(&target).ok().and_then(|m| FileKey::of(&m)))?;
                let file = OpenOptions::new()
                    .write(true)
                    .append(fd_link)
                    .open(&target)
                    .with_context(|| format!("{name}: cannot open for writing"))?;
                Ok(Output { name, sink: Sink::InPlace(BufWriter::with_capacity(BUFFER, file)) })
            }
            Destination::Replace { path: target, exists } => {
                if exists && !self.force {
                    bail!("{name}: already exists (use --force to overwrite)");
                }
                self.claim(&name, Some(key_of_regular(&target, exists, &name)?))?;
                let temp = TemporaryFile::create(&target, access)?;
                Ok(Output {
                    name,
                    sink: Sink::Replace {
                        file: BufWriter::with_capacity(BUFFER, temp.file),
                        temp: temp.path,
                        target,
                        force: self.force,
                    },
                })
            }
        }
    }

    /// Refuses `key` if an input or an earlier output has it; else remembers it as an output.
    fn claim(&mut self, name: &str, key: Option<FileKey>) -> Result<()> {
        let Some(key) = key else { return Ok(()) };
        if let Some((input, _)) = self.inputs.iter().find(|(_, k)| *k == key) {
            bail!("{name}: is the same file as the input {input}; refusing to overwrite it");
        }
        if let Some((other, _)) = self.outputs.iter().find(|(_, k)| *k == key) {
            bail!("{name}: is the same file as the output {other}; give two different files");
        }
        self.outputs.push((name.to_owned(), key));
        Ok(())
    }
}

/// The identity of the regular file `target` (or of the one it will be, if it does not exist).
fn key_of_regular(target: &Path, exists: bool, name: &str) -> Result<FileKey> {
    if exists {
        let meta = fs::metadata(target).with_context(|| name.to_owned())?;
        return Ok(FileKey::Existing { dev: meta.dev(), ino: meta.ino() });
    }
    let dir = parent_dir(target);
    let meta = fs::metadata(dir)
        .with_context(|| format!("{name}: cannot write into {}", dir.display()))?;
    let file_name = target.file_name().with_context(|| format!("{name}: not a file name"))?;
    Ok(FileKey::New { dir_dev: meta.dev(), dir_ino: meta.ino(), name: file_name.to_owned() })
}

/// The directory holding `path` (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// What an output path turns out to be.
enum Destination {
    /// The process's standard output.
    Stdout,
    /// Not a regular file: opened and written in place.
    InPlace { path: PathBuf, block_device: bool, fd_link: bool },
    /// A regular file (existing or not), after following symbolic links: replaced by rename.
    Replace { path: PathBuf, exists: bool },
}

impl Destination {
    /// Follows symbolic links from `path` to what they name.
    fn of(path: &Path) -> Result<Destination> {
        let name = path.display();
        if ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"].iter().any(|s| path == Path::new(s)) {
            return Ok(Destination::Stdout);
        }
        let mut current = path.to_path_buf();
        for _ in 0..MAX_LINKS {
            let meta = match fs::symlink_metadata(&current) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Ok(Destination::Replace { path: current, exists: false });
                }
                Err(e) => return Err(e).with_context(|| format!("{name}")),
            };
            let kind = meta.file_type();
            if kind.is_symlink() {
                // `/proc/…/fd/N` links name open files, not paths that could be renamed over.
                if current.starts_with("/proc") || current.starts_with("/dev/fd") {
                    return Ok(Destination::InPlace {
                        path: current,
                        block_device: false,
                        fd_link: true,
                    });
                }
                let target = fs::read_link(&current).with_context(|| format!("{name}"))?;
                current = parent_dir(&current).join(target);
            } else if kind.is_file() {
                return Ok(Destination::Replace { path: current, exists: true });
            } else if kind.is_dir() {
                bail!("{name}: is a directory");
            } else {
                let block_device = kind.is_block_device();
                return Ok(Destination::InPlace { path: current, block_device, fd_link: false });
            }
        }
        bail!("{name}: too many levels of symbolic links")
    }
}

/// Temporary files that exist and are not renamed yet: the signal handler deletes them.
static LIVE_TEMPORARY_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live_temporary_files() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE_TEMPORARY_FILES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A temporary file listed in [`LIVE_TEMPORARY_FILES`] until it is renamed or deleted.
struct TemporaryFile {
    file: File,
    path: LiveTemp,
}

impl TemporaryFile {
    /// Creates `.seqflow-XXXXXX.partial` beside `target`, with `access`'s mode (less the umask).
    fn create(target: &Path, access: Access) -> Result<TemporaryFile> {
        let dir = parent_dir(target);
        // Listed under the lock: a signal cannot arrive between creating and listing.
        let mut live = live_temporary_files();
        let temp = tempfile::Builder::new()
            .prefix(".seqflow-")
            .suffix(".partial")
            .permissions(Permissions::from_mode(access.mode()))
            .tempfile_in(dir)
            .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
        let (file, path) = temp.into_parts();
        live.push(path.to_path_buf());
        Ok(TemporaryFile { file, path: LiveTemp(Some(path)) })
    }
}

/// The path of a listed temporary file; deleted and unlisted on drop.
struct LiveTemp(Option<TempPath>);

impl LiveTemp {
    /// Unlists the path (the caller holds the list's lock) and hands it over.
    fn take(&mut self, live: &mut Vec<PathBuf>) -> Option<TempPath> {
        let path = self.0.take()?;
        live.retain(|p| p != &*path);
        Some(path)
    }
}

impl Drop for LiveTemp {
    fn drop(&mut self) {
        let mut live = live_temporary_files();
        drop(self.take(&mut live)); // deletes the file
    }
}

/// A temporary file that is never renamed (a copy of an input that must be read twice): deleted
/// on drop, on failure and on signals like the outputs' temporary files.
pub(crate) struct ScratchFile(TemporaryFile);

impl ScratchFile {
    /// Creates one in the directory `target` would be written to.
    pub(crate) fn beside(target: &Path) -> Result<ScratchFile> {
        Ok(ScratchFile(TemporaryFile::create(target, Access::Private)?))
    }

    /// The open file, for writing.
    pub(crate) fn file(&mut self) -> &mut File {
        &mut self.0.file
    }

    /// Opens the file again, from its start, for reading.
    pub(crate) fn reopen(&self) -> io::Result<File> {
        let path = self.0.path.0.as_deref().ok_or(io::ErrorKind::NotFound)?;
        File::open(path)
    }
}

/// Deletes the temporary files and exits with status 128 + signal on SIGINT, SIGTERM and
/// SIGHUP; catches SIGXFSZ so that writing past a file-size limit is an ordinary error.
///
/// # Errors
/// The handlers cannot be installed.
pub(crate) fn remove_temporary_files_on_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGXFSZ])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        for signal in signals.forever() {
            if signal == SIGXFSZ {
                continue; // the write that crossed the limit fails with EFBIG instead
            }
            // Holding the lock until exit: no rename or new temporary file can start.
            let live = live_temporary_files();
            for path in live.iter() {
                let _ = fs::remove_file(path);
            }
            if BUS_FAULT.load(std::sync::atomic::Ordering::SeqCst) {
                eprintln!(
                    "seqflow: an input file got shorter while it was being read (through a \
                     memory map): stopped; output files removed"
                );
                signal_hook::low_level::exit(2);
            }
            signal_hook::low_level::exit(128 + signal);
        }
    })?;
    on_bus_fault_terminate()
}

/// Set by the SIGBUS handler before it asks the signal thread to clean up and exit.
static BUS_FAULT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Installs a SIGBUS handler that marks the fault, sends the process SIGTERM (whose thread
/// deletes the temporary files and exits with status 2, see above) and parks the faulting
/// thread: returning would fault again. Only async-signal-safe calls run in the handler.
fn on_bus_fault_terminate() -> io::Result<()> {
    extern "C" fn on_bus_fault(_: libc::c_int) {
        BUS_FAULT.store(true, std::sync::atomic::Ordering::SeqCst);
        // SAFETY: kill, getpid and pause are async-signal-safe.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGTERM);
            loop {
                libc::pause();
            }
        }
    }
    // SAFETY: a zeroed sigaction with an empty mask and a plain handler is valid; the handler
    // only calls async-signal-safe functions.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_bus_fault as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// One output of a command, written through [`Write`]; [`Output::finish`] (or [`commit`] for
/// several) makes it final. Dropped unfinished, it deletes its temporary file.
pub(crate) struct Output {
    name: String,
    sink: Sink,
}

enum Sink {
    Stdout(BufWriter<io::Stdout>),
    InPlace(BufWriter<File>),
    Replace { file: BufWriter<File>, temp: LiveTemp, target: PathBuf, force: bool },
}

impl Output {
    fn stdout() -> Output {
        Output {
            name: "standard output".to_owned(),
            sink: Sink::Stdout(BufWriter::with_capacity(BUFFER, io::stdout())),
        }
    }

    /// Opens one output of a command that reads no files (or none it could overwrite): the
    /// same as an [`OutputSet`] of one, with [`Access::Shared`].
    ///
    /// # Errors
    /// As [`OutputSet::create`].
    pub(crate) fn create(path: Option<&Path>, force: bool) -> Result<Output> {
        OutputSet::new(force).create(path, Access::Shared)
    }

    /// Whether this output replaces a regular file (so that files beside it make sense).
    pub(crate) fn is_regular_file(&self) -> bool {
        matches!(self.sink, Sink::Replace { .. })
    }

    /// The file behind a regular-file output, for positional writes (`pwrite`) from several
    /// threads; `None` for standard output and outputs written in place. Positional writes and
    /// writes through [`Write`] must not be mixed.
    pub(crate) fn positional_file(&self) -> Option<&File> {
        match &self.sink {
            Sink::Replace { file, .. } => Some(file.get_ref()),
            Sink::Stdout(_) | Sink::InPlace(_) => None,
        }
    }

    /// The output's name for messages.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Makes this output final: see [`commit`].
    pub(crate) fn finish(self) -> Result<()> {
        commit([self])
    }

    /// Flushes, and for a regular file syncs it to disk; returns what is left to rename.
    fn complete(self) -> Result<Option<Completed>> {
        let name = self.name;
        match self.sink {
            Sink::Stdout(mut out) => {
                out.flush().map_err(|e| written(&name, e))?;
                Ok(None)
            }
            Sink::InPlace(mut out) => {
                out.flush().map_err(|e| written(&name, e))?;
                Ok(None)
            }
            Sink::Replace { file, temp, target, force } => {
                let file = file.into_inner().map_err(|e| written(&name, e.into_error()))?;
                file.sync_all().with_context(|| format!("{name}: cannot sync to disk"))?;
                Ok(Some(Completed { name, temp, target, force }))
            }
        }
    }

    fn wrap(&self, error: io::Error) -> io::Error {
        written(&self.name, error)
    }
}

/// An output written and synced, waiting for its rename.
struct Completed {
    name: String,
    temp: LiveTemp,
    target: PathBuf,
    force: bool,
}

/// Makes outputs final together: all are flushed (and regular files synced) before the first
/// rename; if a rename fails, the outputs already renamed are removed again, and the temporary
/// files of the others are deleted.
///
/// # Errors
/// A flush, sync or rename fails, or (without `--force`) a file appeared under a final name
/// while the command ran.
pub(crate) fn commit(outputs: impl IntoIterator<Item = Output>) -> Result<()> {
    let mut completed = Vec::new();
    for output in outputs {
        completed.extend(output.complete()?);
    }
    let mut renamed: Vec<PathBuf> = Vec::new();
    let mut live = live_temporary_files();
    for output in &mut completed {
        let Some(temp) = output.temp.take(&mut live) else { continue };
        let result = if output.force {
            temp.persist(&output.target)
        } else {
            temp.persist_noclobber(&output.target)
        };
        if let Err(failure) = result {
            for path in &renamed {
                let _ = fs::remove_file(path);
            }
            drop(live);
            return Err(if failure.error.kind() == io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{}: appeared while seqflow was running (use --force to overwrite)",
                    output.name
                )
            } else {
                anyhow::Error::new(failure.error)
                    .context(format!("{}: cannot rename the temporary file", output.name))
            });
        }
        renamed.push(output.target.clone());
    }
    drop(live);
    // The renames themselves reach the disk with their directory.
    for output in &completed {
        if let Ok(dir) = File::open(parent_dir(&output.target)) {
            dir.sync_all().ok();
        }
    }
    Ok(())
}

/// A write error that names the output.
#[derive(Debug)]
struct WriteError {
    name: String,
    source: io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "writing {}", self.name)
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// `error` from writing `name`, naming it, with its kind kept (a broken pipe stays one).
fn written(name: &str, error: io::Error) -> io::Error {
    if error.get_ref().is_some_and(|inner| inner.is::<WriteError>()) {
        return error;
    }
    io::Error::new(error.kind(), WriteError { name: name.to_owned(), source: error })
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = match &mut self.sink {
            Sink::Stdout(out) => out.write(buf),
            Sink::InPlace(out) => out.write(buf),
            Sink::Replace { file, .. } => file.write(buf),
        };
        result.map_err(|e| self.wrap(e))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let result = match &mut self.sink {
            Sink::Stdout(out) => out.write_all(buf),
            Sink::InPlace(out) => out.write_all(buf),
            Sink::Replace { file, .. } => file.write_all(buf),
        };
        result.map_err(|e| self.wrap(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = match &mut self.sink {
            Sink::Stdout(out) => out.flush(),
            Sink::InPlace(out) => out.flush(),
            Sink::Replace { file, .. } => file.flush(),
        };
        result.map_err(|e| self.wrap(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_files(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
    }

    #[test]
    fn a_panic_while_writing_deletes_the_temporary_file_and_unlists_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let writer = std::thread::spawn({
            let target = target.clone();
            move || {
                let mut output =
                    OutputSet::new(false).create(Some(&target), Access::Shared).unwrap();
                output.write_all(b"half of it").unwrap();
                output.flush().unwrap();
                assert_eq!(temporary_files(target.parent().unwrap()).len(), 1);
                panic!("a bug while writing");
            }
        });
        assert!(writer.join().is_err());
        assert!(temporary_files(dir.path()).is_empty(), "temporary file left after a panic");
        let live = live_temporary_files();
        assert!(!live.iter().any(|p| p.starts_with(dir.path())), "still listed: {live:?}");
    }

    #[test]
    fn outputs_are_committed_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        let mut outputs = OutputSet::new(false);
        let mut a = outputs.create(Some(&first), Access::Shared).unwrap();
        let mut b = outputs.create(Some(&second), Access::Private).unwrap();
        a.write_all(b"a").unwrap();
        b.write_all(b"b").unwrap();
        // Someone creates the second file meanwhile: without --force, nothing is replaced and
        // the first output, already renamed, is taken back.
        fs::write(&second, b"theirs").unwrap();
        let error = commit([a, b]).unwrap_err();
        assert!(format!("{error:#}").contains("appeared while seqflow was running"), "{error:#}");
        assert!(!first.exists());
        assert_eq!(fs::read(&second).unwrap(), b"theirs");
        assert_eq!(temporary_files(dir.path()), [second]);
    }

    #[test]
    fn a_loop_of_links_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", &b).unwrap();
        let error = OutputSet::new(true).create(Some(&a), Access::Shared).err().unwrap();
        assert!(error.to_string().contains("too many levels of symbolic links"), "{error}");
    }
}
