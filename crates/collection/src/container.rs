//! The archive container: named streams of parts, located by a footer at the end of the file.
//!
//! ```text
//! part*  footer  footer_len:u64 LE
//! part   = varint(metadata) data[size]
//! footer = varint(n_streams) { name NUL varint(n_parts) varint(raw_size) { varint(offset) varint(size) }* }*
//! ```
//!
//! Varints here are archive varints ([`crate::varint`]). A part's `offset` points at its
//! metadata varint; its `size` counts the data bytes only; a part of size 0 has metadata 0 and
//! nothing on disk is read for it. Parts of different streams may be interleaved.
//!
//! [`ArchiveReader`] reads the footer once and then reads single parts with positional reads
//! through [`ReadAt`], so a caller touches only the bytes it needs ([`CountingReadAt`] shows
//! it). [`ArchiveWriter`] appends parts to any `Write` and writes the footer at the end.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::varint::{ByteCursor, archive_varint_len, write_archive_varint};
use crate::{Error, Result};

/// Random access to the bytes of an archive: positional reads, no shared cursor, so many
/// threads may read at once.
pub trait ReadAt: Send + Sync {
    /// The length of the archive in bytes.
    fn size(&self) -> u64;

    /// Fills `buf` with the bytes starting at `offset`.
    ///
    /// # Errors
    /// An I/O error, or `UnexpectedEof` when the range passes the end.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

/// An archive file read with `pread` (no memory map, so a file truncated while it is read gives
/// an error instead of a signal).
#[derive(Debug)]
pub struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    /// Wraps an open file; its length is taken now.
    ///
    /// # Errors
    /// When the file's metadata cannot be read.
    pub fn new(file: File) -> io::Result<FileSource> {
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

impl ReadAt for FileSource {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                let n = std::os::windows::fs::FileExt::seek_read(
                    &self.file,
                    &mut buf[done..],
                    offset + done as u64,
                )?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                done += n;
            }
            Ok(())
        }
    }
}

impl ReadAt for Vec<u8> {
    fn size(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.as_slice().read_exact_at(offset, buf)
    }
}

impl ReadAt for &[u8] {
    fn size(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let end = start.checked_add(buf.len()).ok_or(io::ErrorKind::UnexpectedEof)?;
        let src = self.get(start..end).ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// A [`ReadAt`] that counts the calls and bytes read through it (to show that random access
/// reads only what it needs).
#[derive(Debug)]
pub struct CountingReadAt<R> {
    inner: R,
    bytes: AtomicU64,
    reads: AtomicU64,
}

impl<R: ReadAt> CountingReadAt<R> {
    /// Wraps `inner` with zeroed counters.
    pub fn new(inner: R) -> CountingReadAt<R> {
        CountingReadAt { inner, bytes: AtomicU64::new(0), reads: AtomicU64::new(0) }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Read calls so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Sets both counters back to zero.
    pub fn reset(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.reads.store(0, Ordering::Relaxed);
    }
}

impl<R: ReadAt> ReadAt for CountingReadAt<R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.read_exact_at(offset, buf)
    }
}

impl<R: ReadAt + ?Sized> ReadAt for std::sync::Arc<R> {
    fn size(&self) -> u64 {
        (**self).size()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_exact_at(offset, buf)
    }
}

/// Where one part lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLocation {
    /// Offset of the part's metadata varint.
    pub offset: u64,
    /// Number of data bytes after the metadata varint.
    pub size: u64,
}

/// One stream of the footer: its name, declared raw size and parts in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// The stream's name (e.g. `params`, `xGr`).
    pub name: String,
    /// The raw size the writer declared (informative; AGC stores 0 for most streams).
    pub raw_size: u64,
    /// The parts, in the order they were added.
    pub parts: Vec<PartLocation>,
}

/// One part as read: the metadata number and the data bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// The part's metadata (a raw size, a count or a marker, depending on the stream).
    pub metadata: u64,
    /// The data bytes.
    pub data: Vec<u8>,
}

/// Reads parts of an archive through positional reads after parsing its footer.
#[derive(Debug)]
pub struct ArchiveReader<R> {
    source: R,
    streams: Vec<StreamInfo>,
    by_name: HashMap<String, usize>,
    footer_offset: u64,
    footer_bytes: u64,
}

/// The smallest footer entry for a stream: empty name + NUL, three one-byte varints.
const MIN_STREAM_ENTRY: u64 = 4;
/// The smallest footer entry for a part: two one-byte varints.
const MIN_PART_ENTRY: u64 = 2;

impl<R: ReadAt> ArchiveReader<R> {
    /// Reads the footer (the last 8 bytes give its length) and checks that every part lies
    /// inside the file before the footer.
    ///
    /// # Errors
    /// [`Error::Format`] when the file is too short, the footer length or an entry is out of
    /// range; [`Error::Io`] on read errors.
    pub fn open(source: R) -> Result<ArchiveReader<R>> {
        let file_len = source.size();
        if file_len < 9 {
            return Err(Error::format(format!(
                "not an AGC archive: {file_len} bytes is too short to hold a footer"
            )));
        }
        let mut tail = [0u8; 8];
        source.read_exact_at(file_len - 8, &mut tail)?;
        let footer_len = u64::from_le_bytes(tail);
        if footer_len == 0 || footer_len > file_len - 8 {
            return Err(Error::format(format!(
                "not an AGC archive (or truncated): footer length {footer_len} at byte {} does \
                 not fit in a file of {file_len} bytes",
                file_len - 8
            )));
        }
        let footer_offset = file_len - 8 - footer_len;
        let mut footer = vec![0u8; footer_len as usize];
        source.read_exact_at(footer_offset, &mut footer)?;
        let streams = parse_footer(&footer, footer_offset)?;
        let mut by_name = HashMap::with_capacity(streams.len());
        for (id, stream) in streams.iter().enumerate() {
            by_name.entry(stream.name.clone()).or_insert(id);
        }
        Ok(ArchiveReader { source, streams, by_name, footer_offset, footer_bytes: footer_len + 8 })
    }

    /// The streams in footer order (a stream's id is its index).
    pub fn streams(&self) -> &[StreamInfo] {
        &self.streams
    }

    /// The id of the stream called `name`.
    pub fn stream_id(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The stream called `name`.
    pub fn stream(&self, name: &str) -> Option<&StreamInfo> {
        self.stream_id(name).map(|id| &self.streams[id])
    }

    /// Bytes taken by the footer and its length field.
    pub fn footer_bytes(&self) -> u64 {
        self.footer_bytes
    }

    /// The underlying source.
    pub fn source(&self) -> &R {
        &self.source
    }

    /// Reads part `index` of stream `stream_id` with one positional read.
    ///
    /// # Errors
    /// [`Error::Format`] when the stream or part does not exist or the metadata varint is
    /// malformed; [`Error::Io`] on read errors.
    pub fn read_part(&self, stream_id: usize, index: usize) -> Result<Part> {
        let stream = self
            .streams
            .get(stream_id)
            .ok_or_else(|| Error::format(format!("no stream with id {stream_id}")))?;
        let location = *stream.parts.get(index).ok_or_else(|| {
            Error::format(format!(
                "stream {}: no part {index} (it has {})",
                stream.name,
                stream.parts.len()
            ))
        })?;
        if location.size == 0 {
            return Ok(Part::default());
        }
        // Metadata varint (1..=9 bytes) and data in one read; the footer check guarantees the
        // data fits before the footer, the varint's extra bytes are clipped to it.
        let wanted = (location.size + 9).min(self.footer_offset - location.offset);
        let mut buf = vec![0u8; wanted as usize];
        self.source.read_exact_at(location.offset, &mut buf)?;
        let what = "part metadata";
        let mut cursor = ByteCursor::new(&buf, what);
        let metadata = cursor.archive_varint().map_err(|e| {
            Error::format(format!(
                "stream {} part {index} at byte {}: {e}",
                stream.name, location.offset
            ))
        })?;
        let header = cursor.position();
        if (buf.len() - header) < location.size as usize {
            return Err(Error::format(format!(
                "stream {} part {index} at byte {}: data runs into the footer",
                stream.name, location.offset
            )));
        }
        buf.truncate(header + location.size as usize);
        buf.drain(..header);
        Ok(Part { metadata, data: buf })
    }

    /// Reads part `index` of the stream called `name`.
    ///
    /// # Errors
    /// As [`ArchiveReader::read_part`], and when there is no such stream.
    pub fn read_named_part(&self, name: &str, index: usize) -> Result<Part> {
        let id =
            self.stream_id(name).ok_or_else(|| Error::format(format!("no stream {name:?}")))?;
        self.read_part(id, index)
    }
}

fn parse_footer(footer: &[u8], footer_offset: u64) -> Result<Vec<StreamInfo>> {
    let mut cursor = ByteCursor::new(footer, "footer");
    let footer_len = footer.len() as u64;
    let n_streams = cursor.archive_varint()?;
    if n_streams > footer_len / MIN_STREAM_ENTRY {
        return Err(cursor.error(format_args!(
            "{n_streams} streams cannot fit in a footer of {footer_len} bytes"
        )));
    }
    let mut streams = Vec::with_capacity(n_streams as usize);
    for _ in 0..n_streams {
        let name = cursor.c_string()?;
        let name = String::from_utf8(name.to_vec())
            .map_err(|_| cursor.error("stream name is not UTF-8"))?;
        let n_parts = cursor.archive_varint()?;
        let raw_size = cursor.archive_varint()?;
        if n_parts > cursor.remaining().len() as u64 / MIN_PART_ENTRY {
            return Err(cursor.error(format_args!(
                "stream {name}: {n_parts} parts cannot fit in the rest of the footer"
            )));
        }
        let mut parts = Vec::with_capacity(n_parts as usize);
        for index in 0..n_parts {
            let offset = cursor.archive_varint()?;
            let size = cursor.archive_varint()?;
            let end =
                offset.checked_add(if size == 0 { 0 } else { 1 }).and_then(|o| o.checked_add(size));
            if end.is_none_or(|end| end > footer_offset) {
                return Err(cursor.error(format_args!(
                    "stream {name} part {index}: {size} bytes at offset {offset} pass the start \
                     of the footer (byte {footer_offset})"
                )));
            }
            parts.push(PartLocation { offset, size });
        }
        streams.push(StreamInfo { name, raw_size, parts });
    }
    if !cursor.is_empty() {
        return Err(cursor.error("unexpected bytes after the last stream"));
    }
    Ok(streams)
}

/// Writes an archive: parts are appended as they come, the footer by [`ArchiveWriter::finish`].
#[derive(Debug)]
pub struct ArchiveWriter<W> {
    out: W,
    offset: u64,
    streams: Vec<StreamInfo>,
    by_name: HashMap<String, usize>,
    scratch: Vec<u8>,
}

impl<W: Write> ArchiveWriter<W> {
    /// A writer that starts at byte 0 of `out`.
    pub fn new(out: W) -> ArchiveWriter<W> {
        ArchiveWriter {
            out,
            offset: 0,
            streams: Vec::new(),
            by_name: HashMap::new(),
            scratch: Vec::new(),
        }
    }

    /// The id of the stream `name`, registering it (at the end of the footer) if new.
    pub fn register_stream(&mut self, name: &str) -> usize {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = self.streams.len();
        self.streams.push(StreamInfo { name: name.to_owned(), raw_size: 0, parts: Vec::new() });
        self.by_name.insert(name.to_owned(), id);
        id
    }

    /// The id of a registered stream.
    pub fn stream_id(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Sets the raw size the footer declares for a stream.
    ///
    /// # Panics
    /// If `stream_id` was not returned by [`ArchiveWriter::register_stream`].
    pub fn set_raw_size(&mut self, stream_id: usize, raw_size: u64) {
        self.streams[stream_id].raw_size = raw_size;
    }

    /// Appends a part to stream `stream_id` and returns its index in the stream.
    ///
    /// # Errors
    /// Write errors.
    ///
    /// # Panics
    /// If `stream_id` was not returned by [`ArchiveWriter::register_stream`].
    pub fn add_part(&mut self, stream_id: usize, data: &[u8], metadata: u64) -> io::Result<usize> {
        let location = PartLocation { offset: self.offset, size: data.len() as u64 };
        self.scratch.clear();
        write_archive_varint(&mut self.scratch, metadata);
        self.out.write_all(&self.scratch)?;
        self.out.write_all(data)?;
        self.offset += (archive_varint_len(metadata) + data.len()) as u64;
        let parts = &mut self.streams[stream_id].parts;
        parts.push(location);
        Ok(parts.len() - 1)
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Writes the footer and its length and returns the output.
    ///
    /// # Errors
    /// Write errors.
    pub fn finish(mut self) -> io::Result<W> {
        let mut footer = Vec::new();
        write_archive_varint(&mut footer, self.streams.len() as u64);
        for stream in &self.streams {
            footer.extend_from_slice(stream.name.as_bytes());
            footer.push(0);
            write_archive_varint(&mut footer, stream.parts.len() as u64);
            write_archive_varint(&mut footer, stream.raw_size);
            for part in &stream.parts {
                write_archive_varint(&mut footer, part.offset);
                write_archive_varint(&mut footer, part.size);
            }
        }
        self.out.write_all(&footer)?;
        self.out.write_all(&(footer.len() as u64).to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Parts of one test stream: `(data, metadata)`.
    type TestParts = Vec<(Vec<u8>, u64)>;

    fn build(streams: &[(&str, TestParts)]) -> Vec<u8> {
        let mut writer = ArchiveWriter::new(Vec::new());
        let ids: Vec<usize> =
            streams.iter().map(|(name, _)| writer.register_stream(name)).collect();
        // Interleave: part i of every stream, then part i+1.
        let max = streams.iter().map(|(_, parts)| parts.len()).max().unwrap_or(0);
        for i in 0..max {
            for (s, (_, parts)) in streams.iter().enumerate() {
                if let Some((data, meta)) = parts.get(i) {
                    writer.add_part(ids[s], data, *meta).unwrap();
                }
            }
        }
        writer.finish().unwrap()
    }

    #[test]
    fn too_short_and_bad_footer_length_are_errors() {
        assert!(ArchiveReader::open(b"short".as_slice()).is_err());
        let mut file = b"0123456789".to_vec();
        file.extend_from_slice(&1000u64.to_le_bytes());
        let err = ArchiveReader::open(file).unwrap_err().to_string();
        assert!(err.contains("footer length 1000"), "{err}");
    }

    #[test]
    fn part_offsets_past_the_footer_are_refused() {
        let mut footer = Vec::new();
        write_archive_varint(&mut footer, 1);
        footer.extend_from_slice(b"s\0");
        write_archive_varint(&mut footer, 1);
        write_archive_varint(&mut footer, 0);
        write_archive_varint(&mut footer, 0);
        write_archive_varint(&mut footer, 100);
        let mut file = vec![0u8; 10];
        let len = footer.len() as u64;
        file.extend_from_slice(&footer);
        file.extend_from_slice(&len.to_le_bytes());
        let err = ArchiveReader::open(file).unwrap_err().to_string();
        assert!(err.contains("pass the start of the footer"), "{err}");
    }

    proptest! {
        #[test]
        fn written_parts_read_back(streams in proptest::collection::vec(
            ("[a-z]{1,6}", proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..40), any::<u64>()), 0..5)),
            0..5)) {
            // Stream names must be unique.
            let mut seen = std::collections::HashSet::new();
            let streams: Vec<(String, TestParts)> =
                streams.into_iter().filter(|(n, _)| seen.insert(n.clone())).collect();
            let borrowed: Vec<(&str, TestParts)> =
                streams.iter().map(|(n, p)| (n.as_str(), p.clone())).collect();
            let file = build(&borrowed);
            let reader = ArchiveReader::open(file).unwrap();
            prop_assert_eq!(reader.streams().len(), streams.len());
            for (name, parts) in &streams {
                let id = reader.stream_id(name).unwrap();
                for (i, (data, meta)) in parts.iter().enumerate() {
                    let part = reader.read_part(id, i).unwrap();
                    prop_assert_eq!(&part.data, data);
                    // A part without data reads as metadata 0, as in AGC.
                    prop_assert_eq!(part.metadata, if data.is_empty() { 0 } else { *meta });
                }
                prop_assert!(reader.read_part(id, parts.len()).is_err());
            }
        }

        #[test]
        fn truncated_or_garbled_files_never_panic(cut in 0usize..200, flip in 0usize..200) {
            let file = build(&[("params", vec![(vec![1, 2, 3], 7)]), ("x", vec![(vec![9; 50], 3)])]);
            let mut bad = file.clone();
            let flip = flip % bad.len();
            bad[flip] ^= 0x5A;
            if let Ok(reader) = ArchiveReader::open(bad) {
                for id in 0..reader.streams().len() {
                    let _ = reader.read_part(id, 0);
                }
            }
            let cut = cut.min(file.len());
            let _ = ArchiveReader::open(file[..cut].to_vec());
        }
    }
}
