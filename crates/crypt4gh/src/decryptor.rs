//! Single-threaded streaming decryption from any reader, applying the edit list.

use std::collections::VecDeque;
use std::io::{self, Read};

use zeroize::Zeroizing;

use crate::Error;
use crate::header::{DecryptedHeader, Header, read_full};
use crate::keys::SecretKey;
use crate::segment::{CIPHER_SEGMENT_SIZE, SEGMENT_SIZE, SegmentCipher};

/// Decrypts a Crypt4GH file from `R`, yielding the plain text through [`Read`].
///
/// Every segment is authenticated before any of its bytes are returned; the header's edit
/// list, if any, is applied. Holds one encrypted and one plain segment (about 128 KiB).
/// Read errors that are not I/O errors are [`io::ErrorKind::InvalidData`] wrapping an
/// [`Error`] (`err.get_ref()` then `downcast_ref::<Error>()`).
///
/// A file cut exactly at a segment boundary cannot be detected by this format version
/// (`chacha20_ietf_poly1305` has no end marker); check the length or a checksum of the
/// whole plain text where that matters.
#[derive(Debug)]
pub struct Decryptor<R: Read> {
    inner: R,
    header: DecryptedHeader,
    cipher: SegmentCipher,
    sealed: Vec<u8>,
    plain: Zeroizing<Vec<u8>>,
    pos: usize,
    next_segment: u64,
    edits: VecDeque<u64>,
    edit: Edit,
}

/// Where the reader is in the edit list.
#[derive(Debug, Clone, Copy)]
enum Edit {
    Skip(u64),
    Keep(u64),
    KeepAll,
    Done,
}

impl<R: Read> Decryptor<R> {
    /// Reads and decrypts the header with `secret`, leaving the data to [`Read::read`].
    ///
    /// # Errors
    /// As [`Header::decrypt`].
    pub fn new(mut inner: R, secret: &SecretKey) -> Result<Self, Error> {
        let header = Header::decrypt(&mut inner, secret)?;
        let cipher = SegmentCipher::from_header(&header);
        let mut edits: VecDeque<u64> = header.edit_list.clone().unwrap_or_default().into();
        let edit = match edits.pop_front() {
            Some(skip) => Edit::Skip(skip),
            None => Edit::KeepAll,
        };
        Ok(Decryptor {
            inner,
            header,
            cipher,
            sealed: Vec::with_capacity(CIPHER_SEGMENT_SIZE),
            plain: Zeroizing::new(Vec::with_capacity(SEGMENT_SIZE)),
            pos: 0,
            next_segment: 0,
            edits,
            edit,
        })
    }

    /// The decrypted header (session keys, edit list, header length).
    pub fn header(&self) -> &DecryptedHeader {
        &self.header
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads, authenticates and decrypts the next segment; `false` at the end of the data.
    fn next_plain_segment(&mut self) -> Result<bool, Error> {
        self.sealed.resize(CIPHER_SEGMENT_SIZE, 0);
        let n = read_full(&mut self.inner, &mut self.sealed)?;
        self.plain.clear();
        self.pos = 0;
        if n == 0 {
            return Ok(false);
        }
        let index = self.next_segment;
        self.cipher.decrypt_segment_at(index, &self.sealed[..n], &mut self.plain)?;
        self.next_segment += 1;
        Ok(true)
    }

    /// Moves to the next edit-list entry once the current one is used up.
    fn advance_edit(&mut self) {
        self.edit = match (self.edit, self.edits.pop_front()) {
            (Edit::Skip(_), Some(keep)) => Edit::Keep(keep),
            (Edit::Skip(_), None) => Edit::KeepAll,
            (Edit::Keep(_), Some(skip)) => Edit::Skip(skip),
            (Edit::Keep(_), None) => Edit::Done,
            (other, _) => other,
        };
    }
}

impl<R: Read> Read for Decryptor<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Edit::Done = self.edit {
                return Ok(0);
            }
            if let Edit::Skip(0) | Edit::Keep(0) = self.edit {
                self.advance_edit();
                continue;
            }
            if self.pos == self.plain.len() && !self.next_plain_segment()? {
                return Ok(0);
            }
            let available = (self.plain.len() - self.pos) as u64;
            match self.edit {
                Edit::Skip(n) => {
                    let k = n.min(available);
                    self.pos += k as usize;
                    self.edit = Edit::Skip(n - k);
                }
                Edit::Keep(n) => {
                    let k = n.min(available).min(buf.len() as u64) as usize;
                    buf[..k].copy_from_slice(&self.plain[self.pos..self.pos + k]);
                    self.pos += k;
                    self.edit = Edit::Keep(n - k as u64);
                    return Ok(k);
                }
                Edit::KeepAll => {
                    let k = (available as usize).min(buf.len());
                    buf[..k].copy_from_slice(&self.plain[self.pos..self.pos + k]);
                    self.pos += k;
                    return Ok(k);
                }
                Edit::Done => unreachable!("handled above"),
            }
        }
    }
}
