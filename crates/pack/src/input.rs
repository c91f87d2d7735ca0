//! [`PackedInput`]: a packed file (or standard input) opened, decrypted if need be, and
//! recognised by its magic bytes, ready for [`unpack`](PackedInput::unpack),
//! [`verify`](PackedInput::verify) or [`cat`](PackedInput::cat).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use seqflow_container::{BgzfReader, GziIndex, SeekableIndex};
use seqflow_crypt4gh::{MAGIC as CRYPT4GH_MAGIC, SecretKey, SeekableDecryptor};

use crate::error::{BoxError, Error, InFile, Result};
use crate::options::{MemoryBound, PipelineOptions};
use crate::pack::read_up_to;

/// What a [`PackedInput`] holds, as told by its magic bytes and its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A zstd seekable file (seqflow's, or another writer's): frames decoded in parallel by
    /// the seek table.
    SeekableZstd,
    /// A BGZF file (seqflow's or bgzip's): blocks inflated in parallel.
    Bgzf,
    /// zstd frames without a seek table, or any zstd stream read from standard input: decoded
    /// front to back, as `zstd -d` does.
    ZstdStream,
    /// gzip members that are not BGZF, or any gzip stream read from standard input: decoded
    /// front to back, as `gzip -d` does.
    GzipStream,
}

/// A packed input, opened and recognised.
pub struct PackedInput {
    /// The name errors give it: the path as given, or `-`.
    pub(crate) name: String,
    /// The file, `None` for standard input.
    pub(crate) path: Option<PathBuf>,
    pub(crate) source: Source,
}

impl std::fmt::Debug for PackedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedInput")
            .field("name", &self.name)
            .field("format", &self.format())
            .field("encrypted", &self.is_encrypted())
            .finish_non_exhaustive()
    }
}

/// A packed input opened for reading: plain, or decrypted segment by segment.
pub(crate) enum Packed {
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

/// A packed input, ready to decode.
pub(crate) enum Source {
    /// A seekable zstd file with its validated seek table.
    Seekable(Packed, SeekableIndex),
    /// A BGZF file.
    Bgzf(Packed),
    /// A stream decoded front to back: standard input, or a file without an index.
    Stream(Box<dyn Read>, StreamKind),
}

/// The format of a stream decoded front to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    /// zstd frames (seekable or not), as `zstd -d` reads them.
    Zstd,
    /// gzip members, as `gzip -d` reads them.
    Gzip,
}

/// What kind of container a packed file holds.
enum Kind {
    Zstd,
    Bgzf,
}

impl PackedInput {
    /// Opens the packed file `path`, decrypting it with `secret_key` if it is Crypt4GH.
    ///
    /// # Errors
    /// [`Error::In`] naming the file around: [`Error::Io`] if it cannot be read,
    /// [`Error::NotPacked`] if it is empty, not seekable or of no known format,
    /// [`Error::SecretKeyNeeded`] for an encrypted file without a key, [`Error::Crypt4gh`] if
    /// the key does not decrypt it, [`Error::Container`] for a damaged seek table.
    pub fn open(path: &Path, secret_key: Option<&SecretKey>) -> Result<PackedInput> {
        let name = path.display().to_string();
        Self::open_with(path, || match secret_key {
            Some(key) => Ok(key.clone()),
            None => Err(Box::new(Error::SecretKeyNeeded.in_file(name.clone()))),
        })
    }

    /// Opens the packed file `path` as [`open`](Self::open) does, calling `load_key` for the
    /// secret key only if the file turns out to be encrypted (a passphrase prompt need not
    /// be shown for plain files). An error of `load_key` is returned as [`Error::Key`].
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(
        path: &Path,
        load_key: impl FnOnce() -> std::result::Result<SecretKey, BoxError>,
    ) -> Result<PackedInput> {
        let name = path.display().to_string();
        let (mut packed, kind) = open_packed(path, load_key)?;
        let source = match kind {
            Kind::Zstd => match SeekableIndex::read(&mut packed) {
                Ok(index) => Source::Seekable(packed, index),
                // No seek table: a plain zstd file (one frame or many), as `zstd` writes.
                Err(seqflow_container::Error::NotSeekable { .. }) => {
                    packed.seek(SeekFrom::Start(0)).in_file(&name)?;
                    Source::Stream(Box::new(packed), StreamKind::Zstd)
                }
                Err(e) => return Err(Error::from(e).in_file(name)),
            },
            Kind::Bgzf => {
                // BGZF members carry the `BC` extra subfield; others are plain gzip.
                let mut head = Vec::new();
                read_up_to(&mut packed, 14, &mut head).in_file(&name)?;
                packed.seek(SeekFrom::Start(0)).in_file(&name)?;
                let bgzf = head.len() == 14 && head[3] & 0x04 != 0 && head[12..14] == *b"BC";
                if bgzf {
                    Source::Bgzf(packed)
                } else {
                    Source::Stream(Box::new(packed), StreamKind::Gzip)
                }
            }
        };
        Ok(PackedInput { name, path: Some(path.to_path_buf()), source })
    }

    /// Standard input, decoded as it arrives (zstd or gzip; Crypt4GH needs a file).
    ///
    /// # Errors
    /// [`Error::NotPacked`] for empty, encrypted or unknown input; [`Error::In`] around
    /// [`Error::Io`] if it cannot be read.
    pub fn stdin() -> Result<PackedInput> {
        let mut stdin = io::stdin();
        let mut head = Vec::new();
        read_up_to(&mut stdin, CRYPT4GH_MAGIC.len(), &mut head).in_file("standard input")?;
        let not_packed = |message: &str| Err(Error::NotPacked(message.to_string()));
        let kind = match &head[..] {
            [] => return not_packed("standard input is empty (0 bytes), not a packed file"),
            [0x1f, 0x8b, ..] => StreamKind::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] | [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => StreamKind::Zstd,
            _ if head == CRYPT4GH_MAGIC[..] => {
                return not_packed(
                    "standard input is Crypt4GH-encrypted: decrypting needs a file (its \
                     segments are read by the seek table), not a pipe",
                );
            }
            _ => {
                return not_packed(
                    "standard input is not a packed file: it starts with none of the zstd or \
                     gzip magic bytes",
                );
            }
        };
        let stream = Box::new(io::Cursor::new(head).chain(stdin));
        Ok(PackedInput { name: "-".into(), path: None, source: Source::Stream(stream, kind) })
    }

    /// The name errors give the input: its path as given, or `-` for standard input.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the input holds.
    pub fn format(&self) -> Format {
        match &self.source {
            Source::Seekable(..) => Format::SeekableZstd,
            Source::Bgzf(_) => Format::Bgzf,
            Source::Stream(_, StreamKind::Zstd) => Format::ZstdStream,
            Source::Stream(_, StreamKind::Gzip) => Format::GzipStream,
        }
    }

    /// Whether the file is Crypt4GH-encrypted (its plaintext is as private as a secret key).
    pub fn is_encrypted(&self) -> bool {
        matches!(
            &self.source,
            Source::Seekable(Packed::Decrypted(_), _) | Source::Bgzf(Packed::Decrypted(_))
        )
    }

    /// Whether [`unpack`](Self::unpack) runs the parallel pipeline (and so has metrics and
    /// a memory bound), as it does for seekable zstd and BGZF files.
    pub fn is_parallel(&self) -> bool {
        matches!(self.source, Source::Seekable(..) | Source::Bgzf(_))
    }

    /// The compressed bytes [`unpack`](Self::unpack) reports progress against, when known.
    pub fn compressed_size(&self) -> Option<u64> {
        match &self.source {
            Source::Seekable(_, index) => Some(index.seek_table_offset()),
            Source::Bgzf(_) => {
                self.path.as_deref().and_then(|p| p.metadata().ok()).map(|m| m.len())
            }
            Source::Stream(..) => None,
        }
    }

    /// What a seekable file not written by seqflow lets nobody check, said before decoding
    /// (streams say theirs in [`UnpackSummary::notes`](crate::UnpackSummary::notes)).
    pub fn unchecked_note(&self) -> Option<String> {
        match &self.source {
            Source::Seekable(_, index) if index.metadata().is_none() => Some(format!(
                "seekable zstd not written by seqflow: {}no digest of the original to compare",
                if index.has_checksums() { "" } else { "its seek table has no checksums; " }
            )),
            _ => None,
        }
    }

    /// The peak-memory bound of [`unpack`](Self::unpack) and [`verify`](Self::verify) with
    /// `pipeline`, for the inputs decoded in parallel (see the `unpack` module docs).
    pub fn memory_bound(&self, pipeline: &PipelineOptions) -> Option<MemoryBound> {
        match &self.source {
            Source::Seekable(_, index) => {
                Some(crate::unpack::UnpackPlan::new(index, pipeline).memory_bound())
            }
            Source::Bgzf(_) => Some(crate::bgzf::memory_bound(pipeline)),
            Source::Stream(..) => None,
        }
    }
}

/// Opens a packed file, decrypting if it is Crypt4GH, and tells its container kind.
fn open_packed(
    path: &Path,
    load_key: impl FnOnce() -> std::result::Result<SecretKey, BoxError>,
) -> Result<(Packed, Kind)> {
    let name = path.display().to_string();
    let not_packed = |message: String| Err(Error::NotPacked(message).in_file(name.clone()));
    let mut file = File::open(path).in_file(&name)?;
    let len = match file.seek(SeekFrom::End(0)) {
        Ok(len) => len,
        Err(e) if e.raw_os_error() == Some(29) || e.kind() == io::ErrorKind::NotSeekable => {
            return not_packed(
                "not a seekable file (a pipe?): unpack, cat and verify read the seek table at \
                 the end of a regular file"
                    .into(),
            );
        }
        Err(e) => return Err(Error::Io(e).in_file(name)),
    };
    if len == 0 {
        return not_packed("empty file (0 bytes), not a packed file".into());
    }
    file.seek(SeekFrom::Start(0)).in_file(&name)?;
    let mut file = BufReader::new(file);
    let mut magic = Vec::new();
    read_up_to(&mut file, CRYPT4GH_MAGIC.len(), &mut magic).in_file(&name)?;
    file.seek(SeekFrom::Start(0)).in_file(&name)?;
    let mut packed = if magic == CRYPT4GH_MAGIC[..] {
        let secret = load_key().map_err(Error::Key)?;
        let decryptor = SeekableDecryptor::new(file, &secret).in_file(&name)?;
        Packed::Decrypted(Box::new(decryptor))
    } else if looks_like_damaged_crypt4gh(&magic) {
        return not_packed(format!(
            "damaged Crypt4GH magic: starts with \"{}\", expected \"crypt4gh\"",
            magic.escape_ascii()
        ));
    } else {
        Packed::Plain(file)
    };
    // Decrypting segment 0 happens here: its failure must name the file too.
    let mut head = Vec::new();
    read_up_to(&mut packed, 4, &mut head).in_file(&name)?;
    packed.seek(SeekFrom::Start(0)).in_file(&name)?;
    let kind = match &head[..] {
        [0x1f, 0x8b, ..] => Kind::Bgzf,
        // A zstd frame, or a skippable frame (an empty original has only seqflow's metadata).
        [0x28, 0xb5, 0x2f, 0xfd] | [0x50..=0x5f, 0x2a, 0x4d, 0x18] => Kind::Zstd,
        _ => {
            return not_packed(
                "not a packed file: it starts with none of the zstd, BGZF (gzip) or Crypt4GH \
                 magic bytes"
                    .into(),
            );
        }
    };
    Ok((packed, kind))
}

/// Eight bytes that differ from `crypt4gh` in one or two places: a flipped bit or byte in an
/// encrypted file's magic, not some other format.
fn looks_like_damaged_crypt4gh(magic: &[u8]) -> bool {
    magic.len() == CRYPT4GH_MAGIC.len()
        && magic.iter().zip(CRYPT4GH_MAGIC.iter()).filter(|(a, b)| a != b).count() <= 2
}

/// The `.gzi` index beside a BGZF file: `FILE.gz` → `FILE.gz.gzi`.
pub fn gzi_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gzi");
    PathBuf::from(name)
}

/// Reads the `.gzi` beside a BGZF file and checks every entry against the blocks it points
/// to (walking the block headers, without inflating): an entry that is off by a byte would
/// otherwise make `cat` return shifted bytes. Returns the checked index, or `None` without a
/// `.gzi`.
pub(crate) fn checked_gzi<R: Read + Seek>(packed: &mut R, path: &Path) -> Result<Option<GziIndex>> {
    let gzi = gzi_path(path);
    let gzi_name = gzi.display().to_string();
    let file = match File::open(&gzi) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Io(e).in_file(gzi_name)),
    };
    let given = GziIndex::read(BufReader::new(file)).in_file(&gzi_name)?;
    let blocks = BgzfReader::scan(&mut *packed).in_file(&path.display().to_string())?;
    let starts = blocks.index().entries();
    for (i, &(compressed, original)) in given.entries().iter().enumerate() {
        let fault = match starts.binary_search_by_key(&compressed, |&(c, _)| c) {
            Ok(j) if starts[j].1 == original => continue,
            Ok(j) => format!(
                "entry {i} says the block at byte {compressed} of {} starts at original byte \
                 {original}, but the blocks before it hold {} bytes",
                path.display(),
                starts[j].1
            ),
            Err(_) => format!(
                "entry {i} points to byte {compressed} of {}, which is not the start of a BGZF \
                 block",
                path.display()
            ),
        };
        return Err(Error::Corrupt(fault).in_file(gzi_name));
    }
    Ok(Some(given))
}
