//! Input compression, detected from magic bytes (never from the file name).

use std::io::{self, BufRead, BufReader, Read};

/// Compression of an input stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip, possibly several members concatenated.
    Gzip,
    /// BGZF: gzip members of at most 64 KiB carrying a `BC` extra field (samtools, htslib).
    Bgzf,
    /// zstd, possibly several frames.
    Zstd,
    /// bzip2 (recognised so that the error is clear; not decoded).
    Bzip2,
    /// xz (recognised so that the error is clear; not decoded).
    Xz,
}

impl Compression {
    /// Detects the compression from the first bytes of a stream.
    ///
    /// ```
    /// use seqflow_seqio::Compression;
    /// assert_eq!(Compression::detect(b"@read1\nACGT\n"), Compression::None);
    /// assert_eq!(Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Compression::Zstd);
    /// ```
    pub fn detect(magic: &[u8]) -> Compression {
        match magic {
            [0x1f, 0x8b, 0x08, flags, ..] if flags & 0x04 != 0 && is_bgzf_extra(magic) => {
                Compression::Bgzf
            }
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [b'B', b'Z', b'h', ..] => Compression::Bzip2,
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
            _ => Compression::None,
        }
    }

    /// A short lowercase name (`none`, `gzip`, `bgzf`, `zstd`, …).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bgzf => "bgzf",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }
}

/// True when a gzip header carries the BGZF `BC` subfield as its first extra subfield.
fn is_bgzf_extra(header: &[u8]) -> bool {
    // Bytes 10-11: XLEN; 12-13: subfield id 'B','C'; 14-15: subfield length 2.
    header.len() >= 16 && header[12] == b'B' && header[13] == b'C' && header[14] == 2
}

/// Number of bytes [`Compression::detect`] wants to see.
pub(crate) const MAGIC_LEN: usize = 16;

/// Wraps `inner` in the decoder for `compression`.
///
/// BGZF is decoded here as ordinary multi-member gzip; [`crate::bgzf`] offers the parallel
/// decoder that the [`crate::Reader`] uses when it is given threads.
pub(crate) fn decoder<'a, R: BufRead + Send + 'a>(
    inner: R,
    compression: Compression,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(inner),
        Compression::Gzip | Compression::Bgzf => {
            Box::new(flate2::bufread::MultiGzDecoder::new(inner))
        }
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(inner)?),
        Compression::Bzip2 | Compression::Xz => {
            return Err(io::Error::new(io::ErrorKind::Unsupported, compression.name()));
        }
    })
}

/// Buffer size used below a decoder: large reads amortise system calls.
pub(crate) const RAW_BUFFER: usize = 1 << 20;

/// A `BufReader` sized for genome-scale streams.
pub(crate) fn buffered<R: Read>(inner: R) -> BufReader<R> {
    BufReader::with_capacity(RAW_BUFFER, inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn detects_gzip_and_bgzf_apart() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b">a\nACGT\n").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(Compression::detect(&gz), Compression::Gzip);

        // A BGZF EOF block is a complete, valid BGZF member.
        let bgzf_eof: [u8; 28] = [
            0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 0x42, 0x43, 0x02, 0, 0x1b, 0,
            0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(Compression::detect(&bgzf_eof), Compression::Bgzf);
    }

    #[test]
    fn detects_others() {
        assert_eq!(Compression::detect(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::detect(&[0xfd, b'7', b'z', b'X', b'Z', 0]), Compression::Xz);
        assert_eq!(Compression::detect(b""), Compression::None);
        assert_eq!(Compression::detect(b">"), Compression::None);
    }
}
