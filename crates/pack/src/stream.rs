//! Streams decoded front to back (plain zstd and gzip files, standard input), and the small
//! writers and readers the pipelines wrap around their outputs and inputs.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use crate::error::{Error, InFile, Result};
use crate::input::StreamKind;

/// zstd's window limit for streams (`zstd -d`'s default, 128 MiB): frames seqflow writes
/// with a larger chunk size must be read from a file.
const STREAM_WINDOW_LOG: u32 = 27;

/// Decodes a stream front to back into `out`, with every check its format allows. Returns the
/// bytes decoded, the SHA-256 of what was decoded when `sha256` asks for it (always for zstd,
/// where a version-1 file may need it), and what could not be checked (one line).
pub(crate) fn decode_streamed(
    name: &str,
    input: Box<dyn Read>,
    kind: StreamKind,
    out: &mut dyn Write,
    sha256: bool,
) -> Result<(u64, Option<[u8; 32]>, Vec<String>)> {
    match kind {
        StreamKind::Zstd => {
            // Whether the stream is version 1, whose SHA-256 is to be compared, shows only at
            // its end: hash all the same (the BLAKE3 digests are checked inside).
            let mut hashing = Hashing { inner: out, hasher: Some(Sha256::new()) };
            let summary = seqflow_container::decode_stream(input, &mut hashing, STREAM_WINDOW_LOG)
                .in_file(name)?;
            let sha256: [u8; 32] = hashing.hasher.expect("a hasher").finalize().into();
            let unchecked = match summary.frames_without_checksum {
                0 => String::new(),
                k => format!("{k} of {} frames carry no checksum; ", summary.data_frames),
            };
            let notes = match (&summary.metadata, summary.seek_table) {
                (Some(meta), _) if meta.sha256().is_some_and(|recorded| recorded != &sha256) => {
                    return Err(Error::Corrupt(
                        "SHA-256 of the decoded data does not match the one recorded when \
                         packing"
                            .into(),
                    )
                    .in_file(name));
                }
                (Some(_), _) => Vec::new(),
                (None, true) => vec![format!(
                    "seekable zstd not written by seqflow: {unchecked}{}no digest of the \
                     original to compare",
                    if summary.seek_table_checksums {
                        ""
                    } else {
                        "its seek table has no checksums; "
                    }
                )],
                (None, false) => vec![format!(
                    "plain zstd ({} frame(s), no seek table): {unchecked}no digest of the \
                     original, and nothing to tell whether the stream was cut between frames",
                    summary.data_frames
                )],
            };
            Ok((summary.decoded, Some(sha256), notes))
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
                        return Err(Error::Corrupt(format!(
                            "{name}: gzip data near byte {} (after {decoded} decoded bytes): {e}",
                            counting.count
                        )));
                    }
                };
                out.write_all(&buf[..n])?;
                decoded += n as u64;
            }
            let note = "gzip: each member's CRC-32 and length checked; no digest of the \
                        original, and nothing to tell whether the stream was cut between members";
            Ok((decoded, out.hasher.map(|h| h.finalize().into()), vec![note.into()]))
        }
    }
}

/// A writer that hashes what goes through it (SHA-256), when it has a hasher.
pub(crate) struct Hashing<'a> {
    pub(crate) inner: &'a mut dyn Write,
    pub(crate) hasher: Option<Sha256>,
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
pub(crate) struct RangeWriter<'a> {
    pub(crate) inner: &'a mut dyn Write,
    pub(crate) range: std::ops::Range<u64>,
    pub(crate) pos: u64,
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
