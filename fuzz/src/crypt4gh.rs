//! The `crypt4gh_reader` target: seqflow-crypt4gh's header, segment and key-file readers on
//! untrusted bytes, with a fixed reader key.

use std::io::Read;
use std::sync::OnceLock;

use blake2::{Blake2b512, Digest};
use ring::aead;
use seqflow_crypt4gh::{
    CIPHER_SEGMENT_SIZE, Decryptor, Header, MAC_LEN, NONCE_LEN, SEGMENT_SIZE, SecretKey,
    SegmentCipher, read_public_key, read_secret_key, write_public_key, write_secret_key,
};

/// The reader's secret key: seeds are encrypted for its public key.
pub const READER_SECRET: [u8; 32] = *b"seqflow fuzz reader secret key!!";
/// The sender's secret key of the seeds and of the inputs built in structured mode.
pub const WRITER_SECRET: [u8; 32] = *b"seqflow fuzz writer secret key!!";
/// Some other reader: packets sealed for it must be skipped.
const OTHER_SECRET: [u8; 32] = *b"seqflow fuzz other reader key!!!";
/// Passphrase tried on secret key files.
pub const PASSPHRASE: &[u8] = b"fuzz passphrase";

/// Input layout of `crypt4gh_reader`: byte 0 bits 0–1 pick what the rest is.
///
/// * 0: a Crypt4GH file, read with [`READER_SECRET`];
/// * 1: a description of a file that the target builds (see [`build_file`]) with real
///   sealed packets and segments, so that the fuzzer explores payloads, edit lists and
///   segment layouts behind the MACs; then read as in mode 0;
/// * 2: a secret key file, read with [`PASSPHRASE`];
/// * 3: a public key file.
pub fn crypt4gh_reader(data: &[u8]) {
    let Some((&knobs, rest)) = data.split_first() else { return };
    match knobs & 3 {
        0 => check_file(rest, None),
        1 => {
            let built = build_file(rest);
            check_file(&built.file, built.intact.then_some((&built.plain[..], &built.keys[..])));
        }
        2 => {
            let Ok(key) = read_secret_key(rest, PASSPHRASE) else { return };
            let mut again = Vec::new();
            write_secret_key(&key, None, &mut again).expect("writing to a Vec");
            let back = read_secret_key(&again[..], b"").expect("reading a key just written");
            assert_eq!(*back.to_bytes(), *key.to_bytes());
        }
        _ => {
            let Ok(key) = read_public_key(rest) else { return };
            let mut again = Vec::new();
            write_public_key(&key, &mut again).expect("writing to a Vec");
            assert_eq!(read_public_key(&again[..]).expect("reading a key just written"), key);
        }
    }
}

fn reader_secret() -> SecretKey {
    SecretKey::from_bytes(READER_SECRET)
}

/// Reads `file` with the fixed key three ways — `Header::decrypt` then each segment with
/// `decrypt_segment_at`, the whole data section as one segment, and `Decryptor` — and checks
/// that they agree. With `expected` (plain text, and the session key of each segment) the
/// file is known to be intact: when the header gives the reader every key used, the plain
/// text must come back.
fn check_file(file: &[u8], expected: Option<(&[u8], &[[u8; 32]])>) {
    let secret = reader_secret();
    let mut rest = file;
    let header = match Header::decrypt(&mut rest, &secret) {
        Ok(header) => header,
        Err(_) => {
            assert!(Decryptor::new(file, &secret).is_err(), "Decryptor accepts a bad header");
            return;
        }
    };
    assert_eq!(header.header_len, (file.len() - rest.len()) as u64, "header_len");
    assert!(!header.session_keys.is_empty());
    let cipher = SegmentCipher::from_header(&header);

    // Segment by segment, as a parallel reader would.
    let mut plain = Vec::new();
    let mut all_good = true;
    for (i, sealed) in rest.chunks(CIPHER_SEGMENT_SIZE).enumerate() {
        let mut one = Vec::new();
        match cipher.decrypt_segment_at(i as u64, sealed, &mut one) {
            Ok(()) => {
                assert_eq!(one.len(), sealed.len() - NONCE_LEN - MAC_LEN);
                assert!(one.capacity() <= CIPHER_SEGMENT_SIZE, "segment buffer grew too much");
                plain.extend_from_slice(&one);
            }
            Err(_) => {
                assert!(one.is_empty(), "output touched by a failed segment");
                all_good = false;
                break;
            }
        }
    }

    // The whole data section as one segment: fine only when it is one.
    let mut probe = b"keep".to_vec();
    match cipher.decrypt_segment_at(0, rest, &mut probe) {
        Ok(()) => {
            assert!(rest.len() <= CIPHER_SEGMENT_SIZE);
            assert!(all_good && probe[4..] == plain[..], "one segment, two answers");
        }
        Err(_) => {
            assert_eq!(probe, b"keep", "output touched by a failed segment");
            assert!(rest.len() > CIPHER_SEGMENT_SIZE || !all_good || rest.is_empty());
        }
    }

    if let Some((want, keys)) = expected {
        if keys.iter().all(|k| header.session_keys.contains(k)) {
            assert!(all_good, "an intact file with known keys does not decrypt");
            assert!(plain == want, "an intact file decrypts to other plain text");
        }
    }

    // The streaming reader applies the edit list.
    let mut streamed = Vec::new();
    let mut decryptor = Decryptor::new(file, &secret).expect("the header decrypted above");
    let result = decryptor.read_to_end(&mut streamed);
    assert!(streamed.len() <= rest.len());
    if all_good {
        if let Err(e) = &result {
            panic!("Decryptor fails on a file whose segments all decrypt: {e}");
        }
        let want = apply_edit_list(&plain, header.edit_list.as_deref());
        assert!(streamed == want, "Decryptor output differs from the edited segments");
    } else if header.edit_list.is_none() {
        assert!(result.is_err(), "Decryptor accepts a bad segment");
    }
}

/// The edit list's meaning: alternately skip and keep the given lengths, starting with a
/// skip; after the list, keep the rest if it ended with a skip (or is empty), else drop it.
fn apply_edit_list(plain: &[u8], edits: Option<&[u64]>) -> Vec<u8> {
    let Some(edits) = edits else { return plain.to_vec() };
    let mut out = Vec::new();
    let mut pos = 0usize;
    for (i, &n) in edits.iter().enumerate() {
        let take = usize::try_from(n).unwrap_or(usize::MAX).min(plain.len() - pos);
        if i % 2 == 1 {
            out.extend_from_slice(&plain[pos..pos + take]);
        }
        pos += take;
    }
    if edits.len() % 2 == 1 || edits.is_empty() {
        out.extend_from_slice(&plain[pos..]);
    }
    out
}

/// A file built from a description, with what it should decrypt to.
pub struct Built {
    /// The Crypt4GH file.
    pub file: Vec<u8>,
    /// Its plain text.
    pub plain: Vec<u8>,
    /// The session key each segment is encrypted with.
    pub keys: Vec<[u8; 32]>,
    /// No corruption was applied after building.
    pub intact: bool,
}

/// Reads fields off the front of the description; past its end everything is zero.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }
    fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }
    fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | u16::from(self.u8()) << 8
    }
    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | u32::from(self.u16()) << 16
    }
}

/// Builds a Crypt4GH file from a description (all integers little-endian):
///
/// * `u8` packet count (mod 6); then per packet: `u8` kind, `u8` payload length, payload.
///   Kind bits 0–1: 0 sealed for the reader, 1 sealed for another reader, 2 sealed for the
///   reader with header-packet method `u32` (read next), 3 raw payload bytes, not sealed.
///   Kind bits 4–7, if not 0, are added to the packet's length field (a lie).
///   The payload is the packet's plain text: `0u32 ‖ 0u32 ‖ key[32]` carries a session key,
///   `1u32 ‖ count:u32 ‖ lengths:u64*` an edit list;
/// * `u8` flags: bit 0 write the `u32` that follows as the packet count instead;
/// * `u32` plain text length (mod 4 × 65536 + 100) — the text itself is generated;
/// * `u8` key choice: bit 0 set — segment i uses session key (i + bits 1–7) mod k;
/// * `u8` corruption: bit 0 flip bit (`u32` position), bit 1 cut (`u32` bytes) off the end,
///   bit 2 append the rest of the description.
///
/// The file is `intact` without corruption, length lies or a wrong packet count.
///
/// Nonces are fixed, so the same description gives the same file.
pub fn build_file(description: &[u8]) -> Built {
    let mut f = Fields(description);
    let keys = packet_keys();
    let mut header = Vec::new();
    let mut session_keys = Vec::new();
    let mut intact = true;
    let packets = f.u8() % 6;
    for p in 0..packets {
        let kind = f.u8();
        let len = usize::from(f.u8());
        let method = if kind & 3 == 2 { f.u32() } else { 0 };
        let payload = f.take(len).to_vec();
        let lie = u32::from(kind >> 4);
        intact &= lie == 0;
        if kind & 3 == 3 {
            let declared = (payload.len() as u32 + 4).wrapping_add(lie);
            header.extend_from_slice(&declared.to_le_bytes());
            header.extend_from_slice(&payload);
            continue;
        }
        if kind & 3 != 1 && method == 0 && payload.len() >= 40 && payload[..8] == [0; 8] {
            session_keys.push(<[u8; 32]>::try_from(&payload[8..40]).unwrap());
        }
        let key = if kind & 3 == 1 { &keys.other } else { &keys.reader };
        let declared = (4 + 4 + 32 + 12 + payload.len() as u32 + 16).wrapping_add(lie);
        header.extend_from_slice(&declared.to_le_bytes());
        header.extend_from_slice(&method.to_le_bytes());
        header.extend_from_slice(&keys.writer_public);
        let nonce = [p; 12];
        header.extend_from_slice(&nonce);
        header.extend_from_slice(&seal(key, nonce, &payload));
    }
    let flags = f.u8();
    let count = if flags & 1 != 0 { f.u32() } else { u32::from(packets) };
    intact &= count == u32::from(packets);

    let mut file = b"crypt4gh".to_vec();
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&count.to_le_bytes());
    file.extend_from_slice(&header);

    let plain_len = f.u32() as usize % (4 * SEGMENT_SIZE + 100);
    let plain: Vec<u8> =
        (0..plain_len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3]).collect();
    let choice = f.u8();
    if session_keys.is_empty() {
        session_keys.push([0; 32]);
    }
    let mut used = Vec::new();
    for (i, segment) in plain.chunks(SEGMENT_SIZE).enumerate() {
        let k =
            if choice & 1 != 0 { (i + usize::from(choice >> 1)) % session_keys.len() } else { 0 };
        let key = aead::LessSafeKey::new(
            aead::UnboundKey::new(&aead::CHACHA20_POLY1305, &session_keys[k]).unwrap(),
        );
        let nonce = [0xa0 ^ i as u8; 12];
        file.extend_from_slice(&nonce);
        file.extend_from_slice(&seal(&key, nonce, segment));
        used.push(session_keys[k]);
    }

    let corruption = f.u8();
    if corruption & 1 != 0 && !file.is_empty() {
        let bit = f.u32() as usize % (file.len() * 8);
        file[bit / 8] ^= 1 << (bit % 8);
        intact = false;
    }
    if corruption & 2 != 0 {
        let cut = f.u32() as usize % (file.len() + 1);
        file.truncate(file.len() - cut);
        intact &= cut == 0;
    }
    if corruption & 4 != 0 {
        let rest = f.take(usize::MAX);
        file.extend_from_slice(rest);
        intact &= rest.is_empty();
    }
    Built { file, plain, keys: used, intact }
}

struct PacketKeys {
    writer_public: [u8; 32],
    reader: aead::LessSafeKey,
    other: aead::LessSafeKey,
}

/// The header-packet keys (libsodium `crypto_kx`: BLAKE2b-512 of the X25519 product, the
/// reader's and the writer's public keys, first 32 bytes) from the fixed writer to the fixed
/// reader and to another reader.
fn packet_keys() -> &'static PacketKeys {
    static KEYS: OnceLock<PacketKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let writer_public = SecretKey::from_bytes(WRITER_SECRET).public_key();
        let key = |reader: [u8; 32]| {
            let reader_public = SecretKey::from_bytes(reader).public_key();
            let dh = x25519_dalek::x25519(WRITER_SECRET, *reader_public.as_bytes());
            let hash = Blake2b512::new()
                .chain_update(dh)
                .chain_update(reader_public.as_bytes())
                .chain_update(writer_public.as_bytes())
                .finalize();
            aead::LessSafeKey::new(
                aead::UnboundKey::new(&aead::CHACHA20_POLY1305, &hash[..32]).unwrap(),
            )
        };
        PacketKeys {
            writer_public: *writer_public.as_bytes(),
            reader: key(READER_SECRET),
            other: key(OTHER_SECRET),
        }
    })
}

/// ChaCha20-IETF-Poly1305: `ciphertext ‖ MAC` of `plain`.
fn seal(key: &aead::LessSafeKey, nonce: [u8; 12], plain: &[u8]) -> Vec<u8> {
    let mut buf = plain.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::empty(),
            &mut buf,
        )
        .expect("sealing");
    buf.extend_from_slice(tag.as_ref());
    buf
}
