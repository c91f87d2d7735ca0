//! The crate's one error type.

use std::io;

/// Everything that can go wrong while reading or writing Crypt4GH keys and files.
///
/// Messages name what failed and where: the segment index and its byte offset in the
/// encrypted file, or the offset inside the header.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the underlying stream failed.
    #[error(transparent)]
    Io(#[from] io::Error),

    /// The input does not start with the `crypt4gh` magic bytes.
    #[error("not a Crypt4GH file (expected magic bytes \"crypt4gh\" at byte 0)")]
    NotCrypt4gh,

    /// The header declares a format version other than 1.
    #[error("unsupported Crypt4GH version {0} (only version 1 is supported)")]
    UnsupportedVersion(u32),

    /// A header packet or data section uses a method this crate does not implement.
    #[error("unsupported {what} method {method}")]
    UnsupportedMethod {
        /// Which method: "header packet encryption", "data encryption" or "header packet type".
        what: &'static str,
        /// The method number found in the file.
        method: u32,
    },

    /// None of the header packets could be decrypted with the given secret key.
    #[error("no header packet could be decrypted with this key")]
    NoMatchingKey,

    /// The header is malformed (bad packet length, several edit lists, ...).
    #[error("invalid Crypt4GH header at byte {offset}: {reason}")]
    InvalidHeader {
        /// Byte offset of the offending packet in the file.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The input ends before a complete header or segment could be read.
    #[error("truncated Crypt4GH file: {what} at byte {offset} is incomplete")]
    Truncated {
        /// What was being read: "header", "header packet", "segment 3", ...
        what: String,
        /// Byte offset in the file where the incomplete item starts.
        offset: u64,
    },

    /// A data segment failed its Poly1305 check: corrupted, truncated, or encrypted with a
    /// key this reader does not hold.
    #[error("segment {segment} at byte {offset}: authentication failed")]
    Authentication {
        /// Zero-based index of the segment in the data section.
        segment: u64,
        /// Byte offset of the segment in the encrypted file (relative to the start of the
        /// data section when the header length is unknown).
        offset: u64,
    },

    /// An encrypted segment is longer than 65,564 bytes.
    #[error("segment {segment} at byte {offset}: {len} bytes, more than a segment can hold")]
    OversizedSegment {
        /// Zero-based index of the segment in the data section.
        segment: u64,
        /// Byte offset of the segment in the encrypted file.
        offset: u64,
        /// Its length.
        len: usize,
    },

    /// A key file could not be parsed.
    #[error("invalid Crypt4GH key file: {0}")]
    InvalidKeyFile(&'static str),

    /// A public key is a low-order curve point: any shared key derived from it is public.
    #[error("invalid public key: low-order X25519 point")]
    WeakPublicKey,

    /// The secret key file uses a key derivation function this crate does not implement.
    #[error("unsupported key derivation function {0:?} in the secret key file")]
    UnsupportedKdf(String),

    /// The passphrase did not decrypt the secret key file.
    #[error("wrong passphrase: the secret key could not be decrypted")]
    WrongPassphrase,

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
}

impl From<Error> for io::Error {
    /// Keeps I/O errors as they are; wraps the others as `InvalidData` with the [`Error`] as
    /// source (recover it with `get_ref()` and `downcast_ref`).
    fn from(err: Error) -> io::Error {
        match err {
            Error::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
