//! Output destinations: standard output, or a file that appears under its final name only
//! once it is complete (written to a temporary file beside it, then renamed).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Where a command writes its main output.
pub(crate) enum Output {
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
    /// A temporary file renamed to `path` by [`Output::finish`].
    File { file: BufWriter<tempfile::NamedTempFile>, path: PathBuf },
}

impl Output {
    /// Opens `path` (`-` or `None` for standard output). An existing file is refused unless
    /// `force` is set.
    pub(crate) fn create(path: Option<&Path>, force: bool) -> Result<Output> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            return Ok(Output::Stdout(BufWriter::with_capacity(1 << 16, io::stdout())));
        };
        if path.exists() && !force {
            bail!("{}: already exists (use --force to overwrite)", path.display());
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".seqflow-")
            .suffix(".partial")
            .tempfile_in(dir)
            .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
        Ok(Output::File { file: BufWriter::with_capacity(1 << 20, temp), path: path.to_owned() })
    }

    /// Flushes, and for a file renames it to its final name. Dropping an unfinished output
    /// deletes the temporary file, so a failed run leaves nothing that looks complete.
    pub(crate) fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut out) => out.flush().context("writing to standard output"),
            Output::File { file, path } => {
                let temp = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                temp.as_file().sync_all().ok();
                temp.persist(&path)
                    .with_context(|| format!("{}: cannot rename", path.display()))?;
                // Temporary files are created 0600; give the output ordinary permissions.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = fs::set_permissions(&path, fs::Permissions::from_mode(0o644));
                }
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(buf),
            Output::File { file, .. } => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::File { file, .. } => file.flush(),
        }
    }
}
