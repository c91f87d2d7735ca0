//! GA4GH Crypt4GH v1 file encryption: X25519 keys, per-recipient header packets and
//! independent 64 KiB ChaCha20-IETF-Poly1305 segments.
//!
//! A Crypt4GH file is a [`Header`] followed by segments. The header gives each recipient the
//! random session key, sealed with a key derived from X25519 between the sender's secret key
//! and the recipient's public key. Each segment is at most [`SEGMENT_SIZE`] bytes of plain
//! text, encrypted with the session key and a fresh nonce into `nonce ‖ ciphertext ‖ MAC`.
//! Segments are independent, so:
//!
//! - a parallel pipeline encrypts or decrypts them on any worker, each holding its own
//!   [`SegmentCipher`], and only needs to write them in order;
//! - a reader seeks to segment `i` at [`segment_offset`]`(header_len, i)` and decrypts only the
//!   segments [`segment_range_for`] a plain-text range.
//!
//! Files and key files are compatible with the reference Python tool (`pip install crypt4gh`):
//! [`write_public_key`], [`read_public_key`], [`write_secret_key`] and [`read_secret_key`]
//! use its key-file format (scrypt-protected secret keys included). [`Encryptor`] and
//! [`Decryptor`] are single-threaded streaming wrappers for small jobs and tests.
//!
//! ```
//! use std::io::{Read, Write};
//! use seqflow_crypt4gh::{Decryptor, Encryptor, KeyPair};
//!
//! let (alice, bob) = (KeyPair::generate(), KeyPair::generate());
//! let mut encryptor = Encryptor::new(Vec::new(), &alice.secret, &[bob.public])?;
//! encryptor.write_all(b"@read1\nACGT\n+\nIIII\n")?;
//! let file = encryptor.finish()?;
//!
//! let mut plain = Vec::new();
//! Decryptor::new(&file[..], &bob.secret)?.read_to_end(&mut plain)?;
//! assert_eq!(plain, b"@read1\nACGT\n+\nIIII\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same with the parts a parallel pipeline uses:
//!
//! ```
//! use seqflow_crypt4gh::{Header, KeyPair, SegmentCipher, CIPHER_SEGMENT_SIZE};
//!
//! let (alice, bob) = (KeyPair::generate(), KeyPair::generate());
//! let session_key = [42u8; 32]; // use random bytes in real code
//! let mut file = Header::encrypt(&session_key, &alice.secret, &[bob.public]);
//! let worker = SegmentCipher::new(&session_key);
//! for chunk in vec![7u8; 100_000].chunks(65536) {
//!     worker.encrypt_segment(chunk, &mut file);
//! }
//!
//! let header = Header::decrypt(&file[..], &bob.secret)?;
//! let reader = SegmentCipher::from_header(&header);
//! let data = &file[header.header_len as usize..];
//! let mut plain = Vec::new();
//! for (i, segment) in data.chunks(CIPHER_SEGMENT_SIZE).enumerate() {
//!     reader.decrypt_segment_at(i as u64, segment, &mut plain)?;
//! }
//! assert_eq!(plain, vec![7u8; 100_000]);
//! # Ok::<(), seqflow_crypt4gh::Error>(())
//! ```
//!
//! Not implemented: the `chacha20_ietf_poly1305_with_AEAD` data method, `bcrypt` and
//! `pbkdf2` secret-key files, and OpenSSH keys.

#![deny(missing_docs)]

mod decryptor;
mod encryptor;
mod error;
mod header;
mod keys;
mod random;
mod seekable;
mod segment;

pub use decryptor::Decryptor;
pub use encryptor::Encryptor;
pub use error::Error;
pub use header::{DecryptedHeader, Header, MAGIC, VERSION};
pub use keys::{
    KeyPair, PublicKey, SecretKey, read_public_key, read_secret_key, write_public_key,
    write_secret_key,
};
pub use seekable::SeekableDecryptor;
pub use segment::{
    CIPHER_SEGMENT_SIZE, MAC_LEN, NONCE_LEN, SEGMENT_SIZE, SegmentCipher, encrypted_len,
    segment_offset, segment_range_for,
};
