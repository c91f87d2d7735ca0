//! Random access to the plain text of a Crypt4GH file: `Read + Seek`, decrypting only the
//! segments that are read.

use std::io::{self, Read, Seek, SeekFrom};

use crate::header::{DecryptedHeader, Header};
use crate::keys::SecretKey;
use crate::segment::{CIPHER_SEGMENT_SIZE, MAC_LEN, NONCE_LEN, SEGMENT_SIZE, SegmentCipher};
use crate::{Error, segment_offset};

/// The plain text of a Crypt4GH file as a seekable stream.
///
/// Segments are independent, so a read at any offset decrypts just the segment(s) that hold
/// it (one segment is cached). The plain-text length is derived from the file length. Edit
/// lists are not applied here (they select ranges of a stream; use
/// [`Decryptor`](crate::Decryptor) for such files): a file with one is refused.
///
/// ```
/// use std::io::{Cursor, Read, Seek, SeekFrom};
/// use seqflow_crypt4gh::{Encryptor, KeyPair, SeekableDecryptor};
/// use std::io::Write;
///
/// let (sender, reader) = (KeyPair::generate(), KeyPair::generate());
/// let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
/// let mut enc = Encryptor::new(Vec::new(), &sender.secret, &[reader.public])?;
/// enc.write_all(&plain)?;
/// let file = enc.finish()?;
///
/// let mut dec = SeekableDecryptor::new(Cursor::new(file), &reader.secret)?;
/// assert_eq!(dec.plain_len(), plain.len() as u64);
/// dec.seek(SeekFrom::Start(150_000))?;
/// let mut buf = [0u8; 10];
/// dec.read_exact(&mut buf)?;
/// assert_eq!(buf, plain[150_000..150_010]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SeekableDecryptor<R: Read + Seek> {
    inner: R,
    cipher: SegmentCipher,
    header_len: u64,
    plain_len: u64,
    /// Plain-text position of the next read.
    pos: u64,
    /// Index and plain text of the cached segment.
    cached: Option<u64>,
    plain: Vec<u8>,
    encrypted: Vec<u8>,
}

impl<R: Read + Seek> SeekableDecryptor<R> {
    /// Reads the header with `secret` and measures the file.
    ///
    /// # Errors
    /// Not a Crypt4GH file, no packet for this key, an edit list, or a data section whose
    /// length is impossible (a final segment of at most 28 bytes).
    pub fn new(mut inner: R, secret: &SecretKey) -> Result<Self, Error> {
        inner.seek(SeekFrom::Start(0))?;
        let header: DecryptedHeader = Header::decrypt(&mut inner, secret)?;
        if header.edit_list.is_some() {
            return Err(Error::InvalidHeader {
                offset: 0,
                reason: "random access to a file with an edit list is not supported",
            });
        }
        let file_len = inner.seek(SeekFrom::End(0))?;
        let data_len = file_len.saturating_sub(header.header_len);
        let full = data_len / CIPHER_SEGMENT_SIZE as u64;
        let rest = data_len % CIPHER_SEGMENT_SIZE as u64;
        let overhead = (NONCE_LEN + MAC_LEN) as u64;
        if rest != 0 && rest <= overhead {
            return Err(Error::Truncated {
                what: format!("segment {full}"),
                offset: segment_offset(header.header_len, full),
            });
        }
        let plain_len = full * SEGMENT_SIZE as u64 + rest.saturating_sub(overhead);
        Ok(SeekableDecryptor {
            cipher: SegmentCipher::from_header(&header),
            header_len: header.header_len,
            inner,
            plain_len,
            pos: 0,
            cached: None,
            plain: Vec::with_capacity(SEGMENT_SIZE),
            encrypted: Vec::with_capacity(CIPHER_SEGMENT_SIZE),
        })
    }

    /// Length of the plain text.
    pub fn plain_len(&self) -> u64 {
        self.plain_len
    }

    /// Decrypts segment `index` into the cache (authenticating it).
    fn load(&mut self, index: u64) -> Result<(), Error> {
        if self.cached == Some(index) {
            return Ok(());
        }
        self.cached = None;
        let start = index * SEGMENT_SIZE as u64;
        let plain_len = (self.plain_len - start).min(SEGMENT_SIZE as u64) as usize;
        self.encrypted.resize(plain_len + NONCE_LEN + MAC_LEN, 0);
        self.inner.seek(SeekFrom::Start(segment_offset(self.header_len, index)))?;
        self.inner.read_exact(&mut self.encrypted)?;
        self.plain.clear();
        self.cipher.decrypt_segment_at(index, &self.encrypted, &mut self.plain)?;
        self.cached = Some(index);
        Ok(())
    }
}

impl<R: Read + Seek> Read for SeekableDecryptor<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.plain_len || out.is_empty() {
            return Ok(0);
        }
        let index = self.pos / SEGMENT_SIZE as u64;
        self.load(index)?;
        let within = (self.pos - index * SEGMENT_SIZE as u64) as usize;
        let n = out.len().min(self.plain.len() - within);
        out[..n].copy_from_slice(&self.plain[within..within + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for SeekableDecryptor<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.plain_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the plain text")
        })?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;
    use crate::{Encryptor, KeyPair};

    fn encrypted(plain: &[u8], reader: &KeyPair) -> Vec<u8> {
        let sender = KeyPair::generate();
        let mut enc = Encryptor::new(Vec::new(), &sender.secret, &[reader.public]).unwrap();
        enc.write_all(plain).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn any_range_reads_the_plain_text() {
        let reader = KeyPair::generate();
        for len in [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 7] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
            let file = encrypted(&plain, &reader);
            let mut dec = SeekableDecryptor::new(Cursor::new(file), &reader.secret).unwrap();
            assert_eq!(dec.plain_len(), len as u64);
            let mut all = Vec::new();
            dec.read_to_end(&mut all).unwrap();
            assert_eq!(all, plain);
            for (start, n) in [(0, 10), (len / 2, 100_000), (len.saturating_sub(3), 3)] {
                dec.seek(SeekFrom::Start(start as u64)).unwrap();
                let mut got = Vec::new();
                (&mut dec).take(n as u64).read_to_end(&mut got).unwrap();
                assert_eq!(
                    got,
                    plain[start.min(len)..(start + n).min(len)],
                    "len {len} at {start}"
                );
            }
        }
    }

    #[test]
    fn corrupt_or_truncated_segments_are_errors() {
        let reader = KeyPair::generate();
        let plain = vec![5u8; 2 * SEGMENT_SIZE + 100];
        let mut file = encrypted(&plain, &reader);
        let len = file.len();
        file[len - 50] ^= 1; // inside the last segment
        let mut dec = SeekableDecryptor::new(Cursor::new(file.clone()), &reader.secret).unwrap();
        let mut buf = [0u8; 4];
        dec.read_exact(&mut buf).unwrap(); // first segment is intact
        dec.seek(SeekFrom::End(-4)).unwrap();
        let err = dec.read_exact(&mut buf).unwrap_err().to_string();
        assert!(err.contains("segment 2") && err.contains("authentication failed"), "{err}");
        file.truncate(len - 110); // leaves 18 bytes of the last segment: less than nonce + MAC
        assert!(SeekableDecryptor::new(Cursor::new(file), &reader.secret).is_err());
    }
}
