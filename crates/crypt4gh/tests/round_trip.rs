//! Encrypt → decrypt round trips, several recipients, random access, and bad input.

use std::io::{self, Read, Write};

use proptest::prelude::*;
use seqflow_crypt4gh::{
    CIPHER_SEGMENT_SIZE, Decryptor, Encryptor, Error, Header, KeyPair, PublicKey, SEGMENT_SIZE,
    SegmentCipher, encrypted_len, segment_offset, segment_range_for,
};

fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn encrypt(plain: &[u8], recipients: &[PublicKey], write_size: usize) -> Vec<u8> {
    let sender = KeyPair::generate();
    let mut enc = Encryptor::new(Vec::new(), &sender.secret, recipients).unwrap();
    for piece in plain.chunks(write_size.max(1)) {
        enc.write_all(piece).unwrap();
    }
    enc.finish().unwrap()
}

fn decrypt(file: &[u8], reader: &KeyPair) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut dec = Decryptor::new(file, &reader.secret)?;
    dec.read_to_end(&mut out).map_err(into_crypt4gh)?;
    Ok(out)
}

/// The crate [`Error`] inside an `io::Error` from [`Decryptor`]'s `Read` impl.
fn into_crypt4gh(err: io::Error) -> Error {
    match err.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
        Some(_) => *err.into_inner().unwrap().downcast::<Error>().unwrap(),
        None => Error::Io(err),
    }
}

#[test]
fn round_trips_at_segment_boundaries() {
    let reader = KeyPair::generate();
    for len in [0, 1, 65535, 65536, 65537, 5 * SEGMENT_SIZE + 123] {
        let plain = sample(len, len as u64);
        let file = encrypt(&plain, &[reader.public], 10_007);
        let header = Header::decrypt(&file[..], &reader.secret).unwrap();
        assert_eq!(file.len() as u64, encrypted_len(header.header_len, len as u64), "{len}");
        assert!(decrypt(&file, &reader).unwrap() == plain, "{len} bytes");
    }
}

#[test]
fn every_recipient_decrypts() {
    let readers: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate()).collect();
    let publics: Vec<PublicKey> = readers.iter().map(|r| r.public).collect();
    let plain = sample(150_000, 1);
    let file = encrypt(&plain, &publics, 65536);
    for reader in &readers {
        assert!(decrypt(&file, reader).unwrap() == plain);
    }
}

#[test]
fn wrong_key_is_reported() {
    let file = encrypt(b"secret", &[KeyPair::generate().public], 6);
    let err = decrypt(&file, &KeyPair::generate()).unwrap_err();
    assert!(matches!(err, Error::NoMatchingKey), "{err}");
    assert_eq!(err.to_string(), "no header packet could be decrypted with this key");
}

#[test]
fn flipped_byte_names_the_segment_and_offset() {
    let reader = KeyPair::generate();
    let file = encrypt(&sample(4 * SEGMENT_SIZE, 2), &[reader.public], 65536);
    let header_len = Header::decrypt(&file[..], &reader.secret).unwrap().header_len;
    let seg2 = segment_offset(header_len, 2);
    for at in [seg2, seg2 + 100, seg2 + CIPHER_SEGMENT_SIZE as u64 - 1] {
        let mut bad = file.clone();
        bad[at as usize] ^= 0x40;
        let err = decrypt(&bad, &reader).unwrap_err();
        assert!(
            matches!(err, Error::Authentication { segment: 2, offset } if offset == seg2),
            "{err}"
        );
        assert_eq!(err.to_string(), format!("segment 2 at byte {seg2}: authentication failed"));
    }
}

#[test]
fn truncated_files_are_errors() {
    let reader = KeyPair::generate();
    let file = encrypt(&sample(3 * SEGMENT_SIZE, 3), &[reader.public], 65536);
    let header_len = Header::decrypt(&file[..], &reader.secret).unwrap().header_len as usize;
    let last = segment_offset(header_len as u64, 2) as usize;

    // Inside the header.
    let err = decrypt(&file[..header_len - 5], &reader).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
    // Inside the last segment: it fails authentication.
    let err = decrypt(&file[..last + 1000], &reader).unwrap_err();
    assert!(matches!(err, Error::Authentication { segment: 2, .. }), "{err}");
    // Less than a nonce and a MAC left.
    let err = decrypt(&file[..last + 20], &reader).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("truncated Crypt4GH file: segment 2 at byte {last} is incomplete")
    );
}

#[test]
fn other_files_are_rejected() {
    let reader = KeyPair::generate();
    for input in [&b""[..], b"@r1\nACGT\n+\nIIII\n", &[0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]] {
        let err = decrypt(input, &reader).unwrap_err();
        assert!(matches!(err, Error::NotCrypt4gh), "{err}");
    }
}

#[test]
fn random_access_decrypts_only_the_needed_segments() {
    let reader = KeyPair::generate();
    let plain = sample(10 * SEGMENT_SIZE + 777, 4);
    let file = encrypt(&plain, &[reader.public], 65536);
    let header = Header::decrypt(&file[..], &reader.secret).unwrap();
    let cipher = SegmentCipher::from_header(&header);
    for range in [0..1, 65_000..200_000, 3 * 65536..4 * 65536, 600_000..plain.len() as u64] {
        let (first, last) = segment_range_for(range.clone());
        let mut out = Vec::new();
        for i in first..=last {
            let start = segment_offset(header.header_len, i) as usize;
            let end = (start + CIPHER_SEGMENT_SIZE).min(file.len());
            cipher.decrypt_segment_at(i, &file[start..end], &mut out).unwrap();
        }
        let skip = (range.start - first * SEGMENT_SIZE as u64) as usize;
        let len = (range.end - range.start) as usize;
        assert!(out[skip..skip + len] == plain[range.start as usize..range.end as usize]);
    }
}

#[test]
fn parallel_style_encryption_matches_the_stream_format() {
    // Workers encrypt segments independently; the result is an ordinary Crypt4GH file.
    let (sender, reader) = (KeyPair::generate(), KeyPair::generate());
    let plain = sample(7 * SEGMENT_SIZE + 5, 5);
    let key = [9u8; 32];
    let sealed: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = plain
            .chunks(SEGMENT_SIZE)
            .map(|chunk| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    SegmentCipher::new(&key).encrypt_segment(chunk, &mut out);
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut file = Header::encrypt(&key, &sender.secret, &[reader.public]);
    sealed.iter().for_each(|s| file.extend_from_slice(s));
    assert!(decrypt(&file, &reader).unwrap() == plain);
}

/// The standard's ApplyEditList: alternately discard and keep; keep the rest after a final
/// discard, stop after a final keep.
fn apply_edit_list(edits: &[u64], input: &[u8]) -> Vec<u8> {
    let (mut out, mut pos) = (Vec::new(), 0usize);
    for (i, &n) in edits.iter().enumerate() {
        let n = n as usize;
        if i % 2 == 0 {
            pos = (pos + n).min(input.len());
            if i == edits.len() - 1 {
                out.extend_from_slice(&input[pos..]);
            }
        } else {
            let end = (pos + n).min(input.len());
            out.extend_from_slice(&input[pos..end]);
            pos = end;
        }
    }
    out
}

fn with_edit_list(plain: &[u8], edits: &[u64], reader: &KeyPair) -> Vec<u8> {
    let key = [5u8; 32];
    let sender = KeyPair::generate();
    let mut file =
        Header::encrypt_with_edit_list(&key, &sender.secret, &[reader.public], Some(edits));
    let cipher = SegmentCipher::new(&key);
    plain.chunks(SEGMENT_SIZE).for_each(|c| cipher.encrypt_segment(c, &mut file));
    file
}

#[test]
fn edit_list_is_applied() {
    let reader = KeyPair::generate();
    let plain = sample(3 * SEGMENT_SIZE + 10, 6);
    let cases: &[&[u64]] = &[
        &[0],
        &[10],
        &[10, 20],
        &[70_000, 65_536, 1, 5],
        &[100, 70_000, 5_000],
        &[0, 0, 3],
        &[1_000_000],
        &[5, 1_000_000],
    ];
    for edits in cases {
        let file = with_edit_list(&plain, edits, &reader);
        let out = decrypt(&file, &reader).unwrap();
        assert!(out == apply_edit_list(edits, &plain), "edit list {edits:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_size_and_write_pattern_round_trips(
        len in prop_oneof![0usize..300, 65_400usize..65_700, 0usize..400_000],
        write_size in 1usize..100_000,
        read_size in 1usize..100_000,
        seed in any::<u64>(),
    ) {
        let reader = KeyPair::generate();
        let plain = sample(len, seed);
        let file = encrypt(&plain, &[reader.public], write_size);
        let mut dec = Decryptor::new(&file[..], &reader.secret).unwrap();
        let (mut out, mut buf) = (Vec::new(), vec![0u8; read_size]);
        loop {
            let n = dec.read(&mut buf).unwrap();
            if n == 0 { break; }
            out.extend_from_slice(&buf[..n]);
        }
        prop_assert!(out == plain);
    }

    #[test]
    fn any_edit_list_matches_the_standard(
        len in 0usize..300_000,
        edits in proptest::collection::vec(0u64..150_000, 1..6),
        seed in any::<u64>(),
    ) {
        let reader = KeyPair::generate();
        let plain = sample(len, seed);
        let file = with_edit_list(&plain, &edits, &reader);
        prop_assert!(decrypt(&file, &reader).unwrap() == apply_edit_list(&edits, &plain));
    }
}
