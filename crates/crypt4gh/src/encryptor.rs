//! Single-threaded streaming encryption into any writer.

use std::io::{self, Write};

use zeroize::Zeroizing;

use crate::Error;
use crate::header::Header;
use crate::keys::{PublicKey, SecretKey};
use crate::random::random_array;
use crate::segment::{CIPHER_SEGMENT_SIZE, SEGMENT_SIZE, SegmentCipher};

/// Encrypts everything written to it into a Crypt4GH file on `W`.
///
/// Holds one plain segment and one encrypted segment (about 128 KiB) whatever the input size.
/// Call [`Encryptor::finish`] to write the last segment and get errors; dropping an
/// unfinished `Encryptor` writes it too but ignores errors. [`Write::flush`] flushes `W` but
/// cannot emit a partial segment (only the last segment of a file may be short).
///
/// For parallel encryption use [`Header::encrypt`] and one [`SegmentCipher`] per worker.
#[derive(Debug)]
pub struct Encryptor<W: Write> {
    inner: Option<W>,
    cipher: SegmentCipher,
    plain: Zeroizing<Vec<u8>>,
    sealed: Vec<u8>,
}

impl<W: Write> Encryptor<W> {
    /// Writes a header for `recipients` (sealed by `sender`) with a fresh random session key.
    ///
    /// # Errors
    /// [`Error::Io`] if writing the header fails, [`Error::Random`] if the OS random
    /// generator fails.
    ///
    /// # Panics
    /// If `recipients` is empty.
    pub fn new(mut inner: W, sender: &SecretKey, recipients: &[PublicKey]) -> Result<Self, Error> {
        let session_key = Zeroizing::new(random_array::<32>().map_err(Error::Random)?);
        inner.write_all(&Header::encrypt(&session_key, sender, recipients))?;
        Ok(Encryptor {
            inner: Some(inner),
            cipher: SegmentCipher::new(&session_key),
            plain: Zeroizing::new(Vec::with_capacity(SEGMENT_SIZE)),
            sealed: Vec::with_capacity(CIPHER_SEGMENT_SIZE),
        })
    }

    /// Encrypts and writes the buffered last segment, flushes, and returns the writer.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn finish(mut self) -> Result<W, Error> {
        self.write_segment()?;
        let mut inner = self.inner.take().expect("finish runs once");
        inner.flush()?;
        Ok(inner)
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        self.inner.as_ref().expect("present until finish")
    }

    fn write_segment(&mut self) -> io::Result<()> {
        if self.plain.is_empty() {
            return Ok(());
        }
        self.sealed.clear();
        self.cipher.encrypt_segment(&self.plain, &mut self.sealed);
        self.plain.clear();
        self.inner.as_mut().expect("present until finish").write_all(&self.sealed)
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.plain.len() == SEGMENT_SIZE {
            self.write_segment()?;
        }
        let n = buf.len().min(SEGMENT_SIZE - self.plain.len());
        self.plain.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.plain.len() == SEGMENT_SIZE {
            self.write_segment()?;
        }
        self.inner.as_mut().expect("present until finish").flush()
    }
}

impl<W: Write> Drop for Encryptor<W> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            let _ = self.write_segment();
        }
    }
}
