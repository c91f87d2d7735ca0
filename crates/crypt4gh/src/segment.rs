//! Independent 64 KiB segments: `nonce[12] ‖ ChaCha20-IETF ciphertext ‖ Poly1305 MAC[16]`.

use std::fmt;
use std::ops::Range;

use ring::aead;

use crate::Error;
use crate::header::DecryptedHeader;
use crate::random::random_array;

/// Plain-text bytes per segment (the last segment of a file may be shorter).
pub const SEGMENT_SIZE: usize = 65536;
/// Bytes of nonce in front of each encrypted segment.
pub const NONCE_LEN: usize = 12;
/// Bytes of MAC after each encrypted segment.
pub const MAC_LEN: usize = 16;
/// Encrypted bytes per full segment: 65,564.
pub const CIPHER_SEGMENT_SIZE: usize = SEGMENT_SIZE + NONCE_LEN + MAC_LEN;

/// Encrypts and decrypts single segments with the session key(s) of one file.
///
/// Segments do not depend on each other, so each worker of a parallel pipeline can hold its
/// own `SegmentCipher` (it is `Clone`, `Send` and `Sync`, and its methods take `&self`) and
/// process any segment in any order.
#[derive(Clone)]
pub struct SegmentCipher {
    keys: Vec<aead::LessSafeKey>,
    header_len: u64,
}

impl SegmentCipher {
    /// A cipher for one session key (the usual case, and the only one when encrypting).
    ///
    /// Byte offsets in errors are then relative to the start of the data section; see
    /// [`SegmentCipher::with_header_len`].
    pub fn new(session_key: &[u8; 32]) -> SegmentCipher {
        SegmentCipher::with_keys(std::slice::from_ref(session_key))
    }

    /// A cipher that decrypts with whichever of `session_keys` authenticates a segment, and
    /// encrypts with the first.
    ///
    /// # Panics
    /// If `session_keys` is empty.
    pub fn with_keys(session_keys: &[[u8; 32]]) -> SegmentCipher {
        assert!(!session_keys.is_empty(), "a SegmentCipher needs a session key");
        let keys = session_keys
            .iter()
            .map(|k| {
                aead::LessSafeKey::new(
                    aead::UnboundKey::new(&aead::CHACHA20_POLY1305, k).expect("32-byte key"),
                )
            })
            .collect();
        SegmentCipher { keys, header_len: 0 }
    }

    /// A cipher for the session keys of a decrypted header, reporting file offsets in errors.
    ///
    /// # Panics
    /// If the header has no session key ([`Header::decrypt`](crate::Header::decrypt) never
    /// returns such a header).
    pub fn from_header(header: &DecryptedHeader) -> SegmentCipher {
        SegmentCipher::with_keys(&header.session_keys).with_header_len(header.header_len)
    }

    /// Sets the header length used to compute the file offsets named in errors.
    pub fn with_header_len(mut self, header_len: u64) -> SegmentCipher {
        self.header_len = header_len;
        self
    }

    /// Encrypts one segment of plain text, appending `nonce ‖ ciphertext ‖ MAC` to `out`
    /// (`plain.len() + 28` bytes) with a fresh random nonce.
    ///
    /// All segments but the last of a file must be exactly [`SEGMENT_SIZE`] bytes; an empty
    /// file has no segments at all.
    ///
    /// # Panics
    /// If `plain` is longer than [`SEGMENT_SIZE`], or the OS random generator fails.
    pub fn encrypt_segment(&self, plain: &[u8], out: &mut Vec<u8>) {
        assert!(
            plain.len() <= SEGMENT_SIZE,
            "a Crypt4GH segment holds at most 65536 bytes, got {}",
            plain.len()
        );
        let nonce = random_array::<NONCE_LEN>().expect("OS random number generator failed");
        out.reserve(plain.len() + NONCE_LEN + MAC_LEN);
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plain);
        let tag = self.keys[0]
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::empty(),
                &mut out[start..],
            )
            .expect("64 KiB is far below the ChaCha20 limit");
        out.extend_from_slice(tag.as_ref());
    }

    /// Authenticates and decrypts one encrypted segment, appending its plain text to `out`.
    ///
    /// Every session key is tried in turn. On error `out` is left as it was. Errors name
    /// segment 0; use [`SegmentCipher::decrypt_segment_at`] to name the real position.
    ///
    /// # Errors
    /// [`Error::Authentication`] if no key authenticates the segment, [`Error::Truncated`]
    /// if it is shorter than a nonce and a MAC, [`Error::OversizedSegment`] if it is longer
    /// than [`CIPHER_SEGMENT_SIZE`].
    pub fn decrypt_segment(&self, cipher: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.decrypt_segment_at(0, cipher, out)
    }

    /// [`SegmentCipher::decrypt_segment`] for the segment at `index` in the data section, so
    /// that errors name the segment and its byte offset in the file.
    ///
    /// # Errors
    /// As [`SegmentCipher::decrypt_segment`].
    pub fn decrypt_segment_at(
        &self,
        index: u64,
        cipher: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let offset = segment_offset(self.header_len, index);
        if cipher.len() < NONCE_LEN + MAC_LEN {
            return Err(Error::Truncated { what: format!("segment {index}"), offset });
        }
        if cipher.len() > CIPHER_SEGMENT_SIZE {
            return Err(Error::OversizedSegment { segment: index, offset, len: cipher.len() });
        }
        let (nonce, sealed) = cipher.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("12 bytes");
        let start = out.len();
        for key in &self.keys {
            out.truncate(start);
            out.extend_from_slice(sealed);
            let opened = key.open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::empty(),
                &mut out[start..],
            );
            if opened.is_ok() {
                out.truncate(out.len() - MAC_LEN);
                return Ok(());
            }
        }
        out.truncate(start);
        Err(Error::Authentication { segment: index, offset })
    }
}

impl fmt::Debug for SegmentCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegmentCipher")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("header_len", &self.header_len)
            .finish()
    }
}

/// The segments holding the plain-text byte range `plain`: `(first, last)`, both inclusive.
///
/// An empty range yields the segment that would hold its start.
///
/// ```
/// use seqflow_crypt4gh::segment_range_for;
/// assert_eq!(segment_range_for(0..1), (0, 0));
/// assert_eq!(segment_range_for(65535..65537), (0, 1));
/// assert_eq!(segment_range_for(131072..131072 + 65536), (2, 2));
/// ```
pub const fn segment_range_for(plain: Range<u64>) -> (u64, u64) {
    let size = SEGMENT_SIZE as u64;
    let first = plain.start / size;
    let last = if plain.end > plain.start { (plain.end - 1) / size } else { first };
    (first, last)
}

/// Byte offset of encrypted segment `index` in a file whose header is `header_len` bytes:
/// `header_len + index × 65564`.
pub const fn segment_offset(header_len: u64, index: u64) -> u64 {
    header_len + index * CIPHER_SEGMENT_SIZE as u64
}

/// Size of the encrypted file for `plain_len` bytes of plain text: the header plus 28 bytes
/// per segment.
pub const fn encrypted_len(header_len: u64, plain_len: u64) -> u64 {
    let segments = plain_len.div_ceil(SEGMENT_SIZE as u64);
    header_len + plain_len + segments * (NONCE_LEN + MAC_LEN) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_round_trip_appends() {
        let cipher = SegmentCipher::new(&[3; 32]);
        let mut sealed = b"prefix".to_vec();
        cipher.encrypt_segment(b"ACGT", &mut sealed);
        assert_eq!(sealed.len(), 6 + 4 + 28);
        let mut plain = b">".to_vec();
        cipher.decrypt_segment(&sealed[6..], &mut plain).unwrap();
        assert_eq!(plain, b">ACGT");
    }

    #[test]
    fn tries_every_session_key() {
        let mut sealed = Vec::new();
        SegmentCipher::new(&[2; 32]).encrypt_segment(&[9; 100], &mut sealed);
        let both = SegmentCipher::with_keys(&[[1; 32], [2; 32]]);
        let mut plain = Vec::new();
        both.decrypt_segment(&sealed, &mut plain).unwrap();
        assert_eq!(plain, [9; 100]);
    }

    #[test]
    fn flipped_bit_names_segment_and_offset() {
        let cipher = SegmentCipher::new(&[3; 32]).with_header_len(36);
        let mut sealed = Vec::new();
        cipher.encrypt_segment(&[0; 1000], &mut sealed);
        sealed[500] ^= 1;
        let mut plain = vec![1, 2];
        let err = cipher.decrypt_segment_at(12, &sealed, &mut plain).unwrap_err();
        assert_eq!(err.to_string(), "segment 12 at byte 786804: authentication failed");
        assert_eq!(plain, [1, 2], "output untouched on error");
    }

    #[test]
    fn offsets_and_lengths() {
        assert_eq!(segment_offset(124, 0), 124);
        assert_eq!(segment_offset(124, 2), 124 + 2 * 65564);
        assert_eq!(encrypted_len(124, 0), 124);
        assert_eq!(encrypted_len(124, 1), 124 + 29);
        assert_eq!(encrypted_len(124, 65536), 124 + 65564);
        assert_eq!(encrypted_len(124, 65537), 124 + 65564 + 29);
    }
}
