//! The Crypt4GH header: magic, version and one encrypted packet per recipient.
//!
//! ```text
//! header  = "crypt4gh" ‖ version:u32le (1) ‖ packet_count:u32le ‖ packet*
//! packet  = packet_length:u32le (including itself) ‖ method:u32le (0 = X25519_chacha20_ietf_poly1305)
//!           ‖ writer_public_key[32] ‖ nonce[12] ‖ encrypted payload ‖ MAC[16]
//! payload = 0:u32le ‖ data_method:u32le (0 = chacha20_ietf_poly1305) ‖ session_key[32]
//!         | 1:u32le ‖ count:u32le ‖ lengths:u64le[count]          (edit list)
//! ```
//!
//! The payload key is the first 32 bytes of BLAKE2b-512(X25519(secret, peer) ‖ reader public
//! key ‖ writer public key), libsodium's `crypto_kx` construction.

use std::fmt;
use std::io::Read;

use blake2::{Blake2b512, Digest};
use ring::aead;
use zeroize::{Zeroize, Zeroizing};

use crate::Error;
use crate::keys::{PublicKey, SecretKey};
use crate::random::random_array;

/// The 8 bytes every Crypt4GH file starts with.
pub const MAGIC: &[u8; 8] = b"crypt4gh";
/// The only format version defined so far.
pub const VERSION: u32 = 1;

const PACKET_DATA_ENCRYPTION: u32 = 0;
const PACKET_EDIT_LIST: u32 = 1;
const METHOD_X25519_CHACHA20: u32 = 0;
const DATA_CHACHA20_POLY1305: u32 = 0;
/// Fixed part of an encrypted packet: length, method, writer key, nonce, MAC.
const PACKET_OVERHEAD: usize = 4 + 4 + 32 + 12 + 16;
/// Largest packet we accept: room for an edit list of 131,000 lengths.
const MAX_PACKET_LEN: u32 = 1 << 20;
/// Most packets we accept in one header.
const MAX_PACKETS: u32 = 1 << 16;

/// Builds and reads Crypt4GH headers (a namespace: the header itself is plain bytes).
#[derive(Debug)]
pub struct Header;

impl Header {
    /// The header giving each recipient `session_key`, sealed by `sender`.
    ///
    /// One `data_encryption_parameters` packet per recipient, in order. The sender's public
    /// key is stored in each packet; a throw-away [`KeyPair`](crate::KeyPair) is fine as
    /// sender when provenance does not matter.
    ///
    /// # Panics
    /// If `recipients` is empty, or the operating system's random generator fails.
    pub fn encrypt(
        session_key: &[u8; 32],
        sender: &SecretKey,
        recipients: &[PublicKey],
    ) -> Vec<u8> {
        Header::encrypt_with_edit_list(session_key, sender, recipients, None)
    }

    /// Like [`Header::encrypt`], plus a `data_edit_list` packet for each recipient when
    /// `edit_list` is given (alternating lengths to skip and to keep, starting with a skip).
    ///
    /// # Panics
    /// As [`Header::encrypt`].
    pub fn encrypt_with_edit_list(
        session_key: &[u8; 32],
        sender: &SecretKey,
        recipients: &[PublicKey],
        edit_list: Option<&[u64]>,
    ) -> Vec<u8> {
        assert!(!recipients.is_empty(), "a Crypt4GH header needs at least one recipient");
        let mut params = Zeroizing::new(Vec::with_capacity(40));
        params.extend_from_slice(&PACKET_DATA_ENCRYPTION.to_le_bytes());
        params.extend_from_slice(&DATA_CHACHA20_POLY1305.to_le_bytes());
        params.extend_from_slice(session_key);
        let edits = edit_list.map(|lengths| {
            let count = u32::try_from(lengths.len()).expect("edit list too long");
            let mut packet = Vec::with_capacity(8 + 8 * lengths.len());
            packet.extend_from_slice(&PACKET_EDIT_LIST.to_le_bytes());
            packet.extend_from_slice(&count.to_le_bytes());
            lengths.iter().for_each(|n| packet.extend_from_slice(&n.to_le_bytes()));
            packet
        });

        let per_recipient = 1 + usize::from(edits.is_some());
        let count = u32::try_from(recipients.len() * per_recipient).expect("too many recipients");
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        let writer = sender.public_key();
        for recipient in recipients {
            let key = shared_key(sender, recipient, recipient, &writer)
                .expect("PublicKey::from_bytes rejects low-order points");
            seal_packet(&mut out, &key, &writer, &params);
            if let Some(edits) = &edits {
                seal_packet(&mut out, &key, &writer, edits);
            }
        }
        out
    }

    /// Reads a header from `input` and decrypts the packets meant for `secret`.
    ///
    /// Consumes exactly the header's bytes, leaving `input` at the first data segment.
    /// Packets for other readers are skipped, as the standard requires.
    ///
    /// # Errors
    /// [`Error::NotCrypt4gh`], [`Error::UnsupportedVersion`], [`Error::Truncated`],
    /// [`Error::InvalidHeader`], [`Error::NoMatchingKey`] when no packet opens with this key,
    /// [`Error::UnsupportedMethod`] for data methods other than `chacha20_ietf_poly1305`,
    /// [`Error::Io`].
    pub fn decrypt(mut input: impl Read, secret: &SecretKey) -> Result<DecryptedHeader, Error> {
        let mut preamble = [0u8; 16];
        let got = read_full(&mut input, &mut preamble)?;
        if got == 0 || preamble[..got.min(8)] != MAGIC[..got.min(8)] {
            return Err(Error::NotCrypt4gh);
        }
        if got < preamble.len() {
            return Err(truncated("header", 0));
        }
        let version = le_u32(&preamble[8..12]);
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let count = le_u32(&preamble[12..16]);
        if count > MAX_PACKETS {
            return Err(Error::InvalidHeader {
                offset: 12,
                reason: "more than 65536 header packets",
            });
        }

        let reader_key = secret.public_key();
        let mut header =
            DecryptedHeader { session_keys: Vec::new(), edit_list: None, header_len: 16 };
        let mut unsupported = None;
        let mut packet = Zeroizing::new(Vec::new());
        for index in 0..count {
            let offset = header.header_len;
            let mut len = [0u8; 4];
            if read_full(&mut input, &mut len)? < 4 {
                return Err(truncated(&format!("header packet {index}"), offset));
            }
            let len = le_u32(&len);
            if !(8..=MAX_PACKET_LEN).contains(&len) {
                return Err(Error::InvalidHeader {
                    offset,
                    reason: "header packet length out of range",
                });
            }
            packet.clear();
            packet.resize(len as usize - 4, 0);
            if read_full(&mut input, &mut packet)? < packet.len() {
                return Err(truncated(&format!("header packet {index}"), offset));
            }
            header.header_len += u64::from(len);

            let method = le_u32(&packet[..4]);
            if method != METHOD_X25519_CHACHA20 {
                unsupported.get_or_insert(method);
                continue;
            }
            let Some(payload) = open_packet(&mut packet, secret, &reader_key) else {
                continue; // for another reader
            };
            header.add_payload(payload, offset)?;
        }
        if header.session_keys.is_empty() {
            return Err(match (header.edit_list.is_some(), unsupported) {
                (true, _) => Error::InvalidHeader {
                    offset: 16,
                    reason: "an edit list but no data encryption parameters for this key",
                },
                (false, Some(method)) => {
                    Error::UnsupportedMethod { what: "header packet encryption", method }
                }
                (false, None) => Error::NoMatchingKey,
            });
        }
        Ok(header)
    }
}

/// What a reader learns from a header: the session keys, the edit list and where data begins.
///
/// The session keys are wiped from memory when this is dropped.
pub struct DecryptedHeader {
    /// The data keys of every `data_encryption_parameters` packet this reader could open;
    /// each segment is encrypted with one of them.
    pub session_keys: Vec<[u8; 32]>,
    /// The edit list, if the header has one: lengths of plain text to skip and keep,
    /// alternately, starting with a skip.
    pub edit_list: Option<Vec<u64>>,
    /// Length of the header in bytes: the data section starts at this offset.
    pub header_len: u64,
}

impl DecryptedHeader {
    fn add_payload(&mut self, payload: &[u8], offset: u64) -> Result<(), Error> {
        let invalid = |reason| Error::InvalidHeader { offset, reason };
        if payload.len() < 8 {
            return Err(invalid("header packet payload too short"));
        }
        match le_u32(&payload[..4]) {
            PACKET_DATA_ENCRYPTION => {
                let method = le_u32(&payload[4..8]);
                if method != DATA_CHACHA20_POLY1305 {
                    return Err(Error::UnsupportedMethod { what: "data encryption", method });
                }
                // The standard allows padding after the key.
                let key = payload
                    .get(8..40)
                    .ok_or_else(|| invalid("data encryption parameters too short"))?;
                self.session_keys.push(key.try_into().expect("32-byte slice"));
            }
            PACKET_EDIT_LIST => {
                if self.edit_list.is_some() {
                    return Err(invalid("more than one edit list"));
                }
                let count = le_u32(&payload[4..8]) as usize;
                let lengths = payload
                    .get(8..)
                    .filter(|rest| rest.len() / 8 >= count)
                    .ok_or_else(|| invalid("edit list shorter than its count"))?;
                let lengths = lengths
                    .chunks_exact(8)
                    .take(count)
                    .map(|n| u64::from_le_bytes(n.try_into().expect("8 bytes")))
                    .collect();
                self.edit_list = Some(lengths);
            }
            other => {
                return Err(Error::UnsupportedMethod { what: "header packet type", method: other });
            }
        }
        Ok(())
    }
}

impl Drop for DecryptedHeader {
    fn drop(&mut self) {
        self.session_keys.zeroize();
    }
}

impl fmt::Debug for DecryptedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedHeader")
            .field("session_keys", &format_args!("[{} redacted]", self.session_keys.len()))
            .field("edit_list", &self.edit_list)
            .field("header_len", &self.header_len)
            .finish()
    }
}

/// The crypto_kx shared key between `secret` and `peer`, for the given reader and writer keys.
fn shared_key(
    secret: &SecretKey,
    peer: &PublicKey,
    reader: &PublicKey,
    writer: &PublicKey,
) -> Option<aead::LessSafeKey> {
    let dh = secret.diffie_hellman(peer)?;
    let mut hash = Blake2b512::new()
        .chain_update(&dh[..])
        .chain_update(reader.as_bytes())
        .chain_update(writer.as_bytes())
        .finalize();
    let key = aead::UnboundKey::new(&aead::CHACHA20_POLY1305, &hash[..32]).expect("32-byte key");
    hash.zeroize();
    Some(aead::LessSafeKey::new(key))
}

/// Appends one encrypted packet carrying `payload`.
fn seal_packet(out: &mut Vec<u8>, key: &aead::LessSafeKey, writer: &PublicKey, payload: &[u8]) {
    let len = u32::try_from(PACKET_OVERHEAD + payload.len()).expect("header packet too long");
    let nonce = random_array::<12>().expect("OS random number generator failed");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&METHOD_X25519_CHACHA20.to_le_bytes());
    out.extend_from_slice(writer.as_bytes());
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(payload);
    let tag = key
        .seal_in_place_separate_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::empty(),
            &mut out[start..],
        )
        .expect("header packets are far below the ChaCha20 limit");
    out.extend_from_slice(tag.as_ref());
}

/// Opens a packet body (method onwards) in place; `None` if it is not for this reader.
fn open_packet<'a>(
    packet: &'a mut [u8],
    secret: &SecretKey,
    reader: &PublicKey,
) -> Option<&'a [u8]> {
    if packet.len() < PACKET_OVERHEAD - 4 {
        return None;
    }
    let writer = PublicKey::from_bytes(packet[4..36].try_into().expect("32 bytes")).ok()?;
    let key = shared_key(secret, &writer, reader, &writer)?;
    let nonce = aead::Nonce::try_assume_unique_for_key(&packet[36..48]).expect("12 bytes");
    key.open_in_place(nonce, aead::Aad::empty(), &mut packet[48..]).ok().map(|plain| &*plain)
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"))
}

fn truncated(what: &str, offset: u64) -> Error {
    Error::Truncated { what: what.to_owned(), offset }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
pub(crate) fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, Error> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyPair;

    #[test]
    fn every_recipient_opens_the_header() {
        let sender = KeyPair::generate();
        let readers: Vec<KeyPair> = (0..3).map(|_| KeyPair::generate()).collect();
        let publics: Vec<PublicKey> = readers.iter().map(|r| r.public).collect();
        let bytes = Header::encrypt(&[7; 32], &sender.secret, &publics);
        for reader in &readers {
            let header = Header::decrypt(&bytes[..], &reader.secret).unwrap();
            assert_eq!(header.session_keys, vec![[7; 32]]);
            assert_eq!(header.header_len, bytes.len() as u64);
            assert_eq!(header.edit_list, None);
        }
        let stranger = KeyPair::generate();
        let err = Header::decrypt(&bytes[..], &stranger.secret).unwrap_err();
        assert!(matches!(err, Error::NoMatchingKey), "{err}");
        assert_eq!(err.to_string(), "no header packet could be decrypted with this key");
    }

    #[test]
    fn edit_list_is_read_back() {
        let (sender, reader) = (KeyPair::generate(), KeyPair::generate());
        let bytes = Header::encrypt_with_edit_list(
            &[1; 32],
            &sender.secret,
            &[reader.public],
            Some(&[10, 20, 5]),
        );
        let header = Header::decrypt(&bytes[..], &reader.secret).unwrap();
        assert_eq!(header.edit_list, Some(vec![10, 20, 5]));
    }

    #[test]
    fn rejects_bad_preambles() {
        let reader = KeyPair::generate();
        let not_ours = Header::decrypt(&b"@read1\nACGT\n+\nIIII\n"[..], &reader.secret);
        assert!(matches!(not_ours, Err(Error::NotCrypt4gh)));
        let short = Header::decrypt(&b"crypt4"[..], &reader.secret);
        assert!(matches!(short, Err(Error::Truncated { .. })));
        let v2 = Header::decrypt(&b"crypt4gh\x02\0\0\0\x01\0\0\0"[..], &reader.secret);
        assert!(matches!(v2, Err(Error::UnsupportedVersion(2))));
    }

    #[test]
    fn truncated_packet_names_its_offset() {
        let (sender, reader) = (KeyPair::generate(), KeyPair::generate());
        let bytes = Header::encrypt(&[1; 32], &sender.secret, &[reader.public]);
        let err = Header::decrypt(&bytes[..bytes.len() - 1], &reader.secret).unwrap_err();
        assert_eq!(
            err.to_string(),
            "truncated Crypt4GH file: header packet 0 at byte 16 is incomplete"
        );
    }
}
