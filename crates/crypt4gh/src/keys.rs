//! X25519 key pairs and the key-file format of the reference `crypt4gh` tool.
//!
//! Public key file: `-----BEGIN CRYPT4GH PUBLIC KEY-----`, the base64 of the 32 key bytes,
//! `-----END CRYPT4GH PUBLIC KEY-----`.
//!
//! Secret key file: `-----BEGIN CRYPT4GH PRIVATE KEY-----`, then the base64 of
//! `"c4gh-v1" ‖ string(kdf) [‖ string(rounds:u32be ‖ salt)] ‖ string(cipher) ‖ string(data)
//! [‖ string(comment)]`, where `string(x)` is a big-endian `u16` length followed by `x`. With
//! `kdf = "none"` and `cipher = "none"`, `data` is the raw 32-byte key; with `kdf = "scrypt"`
//! (N = 2^14, r = 8, p = 1, 32-byte output) and `cipher = "chacha20_poly1305"`, `data` is a
//! 12-byte nonce followed by the ChaCha20-IETF-Poly1305 encryption of the key.

use std::fmt;
use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead;
use zeroize::{Zeroize, Zeroizing};

use crate::Error;
use crate::random::random_array;

const MAGIC: &[u8] = b"c4gh-v1";
const PUBLIC_BEGIN: &str = "-----BEGIN CRYPT4GH PUBLIC KEY-----";
const PUBLIC_END: &str = "-----END CRYPT4GH PUBLIC KEY-----";
const SECRET_BEGIN: &str = "-----BEGIN CRYPT4GH PRIVATE KEY-----";
const SECRET_END: &str = "-----END CRYPT4GH PRIVATE KEY-----";
const CIPHER_NAME: &[u8] = b"chacha20_poly1305";
/// Key files are a few hundred bytes; refuse to buffer more than this.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// An X25519 secret key; its bytes are wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(x25519_dalek::StaticSecret);

impl SecretKey {
    /// Wraps 32 secret key bytes (clamping happens when the key is used, as in libsodium).
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(x25519_dalek::StaticSecret::from(bytes))
    }

    /// The 32 secret key bytes, as stored in key files.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public key that goes with this secret key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(x25519_dalek::PublicKey::from(&self.0).to_bytes())
    }

    /// X25519 with a peer's public key; `None` for a non-contributory (all-zero) result.
    pub(crate) fn diffie_hellman(&self, peer: &PublicKey) -> Option<Zeroizing<[u8; 32]>> {
        let shared = self.0.diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
        shared.was_contributory().then(|| Zeroizing::new(shared.to_bytes()))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey").field("public_key", &self.public_key()).finish_non_exhaustive()
    }
}

/// An X25519 public key (32 bytes), the identity of a recipient.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Wraps 32 public key bytes.
    ///
    /// # Errors
    /// [`Error::WeakPublicKey`] for a low-order curve point, with which the shared key would
    /// not depend on any secret.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<PublicKey, Error> {
        let key = PublicKey(bytes);
        // A clamped scalar is a multiple of the cofactor, so the product is zero exactly when
        // the point lies in the small-order subgroup, whatever the scalar.
        match SecretKey::from_bytes([1; 32]).diffie_hellman(&key) {
            Some(_) => Ok(key),
            None => Err(Error::WeakPublicKey),
        }
    }

    /// The 32 key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", BASE64.encode(self.0))
    }
}

/// A secret key and its public key.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The secret half; keep it private.
    pub secret: SecretKey,
    /// The public half; give it to whoever encrypts for you.
    pub public: PublicKey,
}

impl KeyPair {
    /// Generates a key pair from the operating system's random number generator.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn generate() -> KeyPair {
        let bytes =
            Zeroizing::new(random_array::<32>().expect("OS random number generator failed"));
        KeyPair::from_secret(SecretKey::from_bytes(*bytes))
    }

    /// The key pair of an existing secret key.
    pub fn from_secret(secret: SecretKey) -> KeyPair {
        let public = secret.public_key();
        KeyPair { secret, public }
    }
}

/// Writes a public key file in the format of the reference `crypt4gh` tool.
///
/// # Errors
/// [`Error::Io`] if writing fails.
pub fn write_public_key(key: &PublicKey, mut out: impl Write) -> Result<(), Error> {
    let text = format!("{PUBLIC_BEGIN}\n{}\n{PUBLIC_END}\n", BASE64.encode(key.0));
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Reads a Crypt4GH public key file.
///
/// # Errors
/// [`Error::InvalidKeyFile`] if the text is not a Crypt4GH public key, [`Error::WeakPublicKey`]
/// for a low-order point, [`Error::Io`] if reading fails.
pub fn read_public_key(input: impl Read) -> Result<PublicKey, Error> {
    let body = read_pem(input, PUBLIC_BEGIN, PUBLIC_END)?;
    let bytes: [u8; 32] =
        body[..].try_into().map_err(|_| Error::InvalidKeyFile("a public key must be 32 bytes"))?;
    PublicKey::from_bytes(bytes)
}

/// Writes a secret key file in the format of the reference `crypt4gh` tool.
///
/// With a non-empty passphrase the key is encrypted (scrypt + ChaCha20-Poly1305, as
/// `crypt4gh-keygen` does); with `None` or an empty passphrase it is stored in the clear
/// (`kdf = "none"`). Deriving the key from the passphrase takes 16 MiB and tens of
/// milliseconds, by design.
///
/// # Errors
/// [`Error::Io`] if writing fails, [`Error::Random`] if the OS random generator fails.
pub fn write_secret_key(
    key: &SecretKey,
    passphrase: Option<&[u8]>,
    mut out: impl Write,
) -> Result<(), Error> {
    let mut body = Zeroizing::new(Vec::with_capacity(128));
    body.extend_from_slice(MAGIC);
    let secret = key.to_bytes();
    match passphrase.filter(|p| !p.is_empty()) {
        None => {
            put_string(&mut body, b"none");
            put_string(&mut body, b"none");
            put_string(&mut body, &secret[..]);
        }
        Some(passphrase) => {
            let salt = random_array::<16>().map_err(Error::Random)?;
            let nonce = random_array::<12>().map_err(Error::Random)?;
            let derived = scrypt_key(passphrase, &salt);
            let mut sealed = Zeroizing::new(Vec::with_capacity(12 + 32 + 16));
            sealed.extend_from_slice(&nonce);
            sealed.extend_from_slice(&secret[..]);
            let tag = aead_key(&derived)
                .seal_in_place_separate_tag(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::empty(),
                    &mut sealed[12..],
                )
                .expect("sealing 32 bytes cannot fail");
            sealed.extend_from_slice(tag.as_ref());
            let mut options = [0u8; 4 + 16];
            options[4..].copy_from_slice(&salt);
            put_string(&mut body, b"scrypt");
            put_string(&mut body, &options);
            put_string(&mut body, CIPHER_NAME);
            put_string(&mut body, &sealed);
        }
    }
    let text =
        Zeroizing::new(format!("{SECRET_BEGIN}\n{}\n{SECRET_END}\n", BASE64.encode(&body[..])));
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Reads a Crypt4GH secret key file, decrypting it with `passphrase` if it is encrypted.
///
/// Unencrypted keys (`kdf = "none"`) ignore the passphrase. Only the `scrypt` key derivation
/// is implemented (what `crypt4gh-keygen` writes when Python has `hashlib.scrypt`);
/// `bcrypt` and `pbkdf2_hmac_sha256` keys give [`Error::UnsupportedKdf`].
///
/// # Errors
/// [`Error::WrongPassphrase`], [`Error::InvalidKeyFile`], [`Error::UnsupportedKdf`],
/// [`Error::Io`].
pub fn read_secret_key(input: impl Read, passphrase: &[u8]) -> Result<SecretKey, Error> {
    let body = read_pem(input, SECRET_BEGIN, SECRET_END)?;
    let mut rest =
        body.strip_prefix(MAGIC).ok_or(Error::InvalidKeyFile("missing the c4gh-v1 magic"))?;
    let kdf = take_string(&mut rest)?;
    let options = if kdf == b"none" { None } else { Some(take_string(&mut rest)?) };
    let cipher = take_string(&mut rest)?;
    let data = take_string(&mut rest)?;
    // Anything left is the optional comment, which we do not need.

    if cipher == b"none" {
        let bytes: [u8; 32] =
            data.try_into().map_err(|_| Error::InvalidKeyFile("a secret key must be 32 bytes"))?;
        return Ok(SecretKey::from_bytes(bytes));
    }
    if cipher != CIPHER_NAME {
        return Err(Error::InvalidKeyFile("unsupported cipher for the secret key"));
    }
    if kdf != b"scrypt" {
        return Err(Error::UnsupportedKdf(String::from_utf8_lossy(kdf).into_owned()));
    }
    let options = options.unwrap_or_default();
    if options.len() < 4 {
        return Err(Error::InvalidKeyFile("kdf options too short"));
    }
    let salt = &options[4..];
    if data.len() != 12 + 32 + 16 {
        return Err(Error::InvalidKeyFile("encrypted secret key must be 60 bytes"));
    }
    let derived = scrypt_key(passphrase, salt);
    let nonce = aead::Nonce::try_assume_unique_for_key(&data[..12]).expect("12-byte nonce");
    let mut sealed = Zeroizing::new(data[12..].to_vec());
    let plain = aead_key(&derived)
        .open_in_place(nonce, aead::Aad::empty(), &mut sealed)
        .map_err(|_| Error::WrongPassphrase)?;
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(plain);
    let key = SecretKey::from_bytes(bytes);
    bytes.zeroize();
    Ok(key)
}

/// The passphrase-derived key: scrypt with N = 2^14, r = 8, p = 1, as the Python tool uses.
fn scrypt_key(passphrase: &[u8], salt: &[u8]) -> Zeroizing<[u8; 32]> {
    let params = scrypt::Params::new(14, 8, 1, 32).expect("valid scrypt parameters");
    let mut out = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase, salt, &params, &mut out[..]).expect("32-byte scrypt output");
    out
}

fn aead_key(key: &[u8; 32]) -> aead::LessSafeKey {
    aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::CHACHA20_POLY1305, key).expect("32-byte key"),
    )
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    let len = u16::try_from(s.len()).expect("key file fields are short");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s);
}

fn take_string<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    const SHORT: Error = Error::InvalidKeyFile("secret key data ends early");
    let (len, tail) = rest.split_first_chunk::<2>().ok_or(SHORT)?;
    let len = usize::from(u16::from_be_bytes(*len));
    if tail.len() < len {
        return Err(SHORT);
    }
    let (s, tail) = tail.split_at(len);
    *rest = tail;
    Ok(s)
}

/// Reads a PEM-like block: `begin` line, base64 lines, `end` line (blank lines ignored).
fn read_pem(input: impl Read, begin: &str, end: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut text = Zeroizing::new(Vec::new());
    input.take(MAX_KEY_FILE + 1).read_to_end(&mut text)?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(Error::InvalidKeyFile("larger than 64 KiB"));
    }
    let text = std::str::from_utf8(&text).map_err(|_| Error::InvalidKeyFile("not text"))?;
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match (lines.first(), lines.last()) {
        (Some(first), Some(last)) if *first == begin && *last == end && lines.len() >= 3 => {}
        _ => {
            return Err(Error::InvalidKeyFile(if begin == PUBLIC_BEGIN {
                "expected a CRYPT4GH PUBLIC KEY block"
            } else {
                "expected a CRYPT4GH PRIVATE KEY block"
            }));
        }
    }
    let b64 = Zeroizing::new(lines[1..lines.len() - 1].concat());
    let decoded =
        BASE64.decode(b64.as_bytes()).map_err(|_| Error::InvalidKeyFile("invalid base64"))?;
    Ok(Zeroizing::new(decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_file_round_trip() {
        let pair = KeyPair::generate();
        let mut file = Vec::new();
        write_public_key(&pair.public, &mut file).unwrap();
        assert!(file.starts_with(PUBLIC_BEGIN.as_bytes()));
        assert_eq!(read_public_key(&file[..]).unwrap(), pair.public);
    }

    #[test]
    fn secret_key_file_round_trip_without_passphrase() {
        let pair = KeyPair::generate();
        for passphrase in [None, Some(&b""[..])] {
            let mut file = Vec::new();
            write_secret_key(&pair.secret, passphrase, &mut file).unwrap();
            let back = read_secret_key(&file[..], b"ignored").unwrap();
            assert_eq!(*back.to_bytes(), *pair.secret.to_bytes());
        }
    }

    #[test]
    fn secret_key_file_round_trip_with_passphrase() {
        let pair = KeyPair::generate();
        let mut file = Vec::new();
        write_secret_key(&pair.secret, Some(b"correct horse"), &mut file).unwrap();
        let back = read_secret_key(&file[..], b"correct horse").unwrap();
        assert_eq!(back.public_key(), pair.public);
    }

    /// Written by `crypt4gh.keys.c4gh.generate` (Python crypt4gh 1.8.6): scrypt, a comment.
    const PYTHON_SECRET: &str = "-----BEGIN CRYPT4GH PRIVATE KEY-----
YzRnaC12MQAGc2NyeXB0ABQAAAAAAaPN7eQ1ksjobXIFtsm/DgARY2hhY2hhMjBfcG9seTEzMDUAPEevqRY2v8tFJaB1g05G4sDWP4+oqAOVj2g3XoBkuvSSXHmhdDdJH+yzLbNo9dhbuNZAm1KdVKP1nLLdkgAUc2VxZmxvdyB0ZXN0IGZpeHR1cmU=
-----END CRYPT4GH PRIVATE KEY-----
";
    const PYTHON_PUBLIC: &str = "-----BEGIN CRYPT4GH PUBLIC KEY-----
lngDdATrKBbh05bTek+vjlyevaRWOUbenWkSYsYhw2k=
-----END CRYPT4GH PUBLIC KEY-----
";

    #[test]
    fn reads_python_secret_key_with_passphrase() {
        let key = read_secret_key(PYTHON_SECRET.as_bytes(), b"fixture passphrase").unwrap();
        let hex: String = key.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "70bce86bd773d73e2a67170d4ac9b11a8c3a73148bd7236b110760e270cfb394");
        let public = read_public_key(PYTHON_PUBLIC.as_bytes()).unwrap();
        assert_eq!(key.public_key(), public);
    }

    #[test]
    fn wrong_passphrase_is_reported() {
        let err = read_secret_key(PYTHON_SECRET.as_bytes(), b"wrong horse").unwrap_err();
        assert!(matches!(err, Error::WrongPassphrase), "{err}");
    }

    #[test]
    fn rejects_other_files() {
        let err = read_public_key(&b"hello\nworld\n"[..]).unwrap_err();
        assert!(matches!(err, Error::InvalidKeyFile(_)), "{err}");
        let pair = KeyPair::generate();
        let mut public = Vec::new();
        write_public_key(&pair.public, &mut public).unwrap();
        let err = read_secret_key(&public[..], b"").unwrap_err();
        assert!(matches!(err, Error::InvalidKeyFile(_)), "{err}");
    }

    #[test]
    fn rejects_low_order_public_keys() {
        assert!(matches!(PublicKey::from_bytes([0; 32]), Err(Error::WeakPublicKey)));
        let mut one = [0; 32];
        one[0] = 1;
        assert!(matches!(PublicKey::from_bytes(one), Err(Error::WeakPublicKey)));
    }
}
