//! Writes the seed inputs of `container_index` and `crypt4gh_reader` into `fuzz/seeds/`.
//!
//!     cd fuzz && cargo run --release --no-default-features --example gen_seeds
//!
//! Crypt4GH seeds are encrypted for `seqflow_fuzz::READER_SECRET` (so the target gets past
//! the header); nonces, salts and session keys come from the OS, so the bytes differ from run
//! to run, not their structure. Every seed stays below 4 KiB (libFuzzer's default -max_len).

use std::fs;
use std::path::Path;

use seqflow_container::{
    BgzfChunk, BgzfCompressor, BgzfWriter, FrameCompressor, PackMetadata, SeekableWriter,
};
use seqflow_crypt4gh::{Header, SecretKey, SegmentCipher, write_public_key, write_secret_key};
use seqflow_fuzz::{PASSPHRASE, READER_SECRET, WRITER_SECRET, build_file};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    container(&root.join("container_index"));
    crypt4gh(&root.join("crypt4gh_reader"));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    assert!(bytes.len() < 4096, "{name} is {} bytes", bytes.len());
    fs::write(dir.join(name), bytes).unwrap();
    println!("{}: {} bytes", dir.join(name).display(), bytes.len());
}

/// FASTQ-like text.
fn text(records: usize) -> Vec<u8> {
    (0..records)
        .flat_map(|i| {
            format!("@r{i}\nACGT{}\n+\nIIII{}\n", "TG".repeat(i % 7), "#!".repeat(i % 7))
                .into_bytes()
        })
        .collect()
}

/// A seekable file of the current format (version 2: digest frame, metadata, seek table).
fn pack(data: &[u8], chunk: usize) -> Vec<u8> {
    frames(data, chunk).finish(data.len() as u64, chunk as u32).unwrap()
}

/// A seekable file as format version 1 wrote it (no digest frame, a SHA-256 stand-in).
fn pack_version1(data: &[u8], chunk: usize) -> Vec<u8> {
    let meta = PackMetadata::version1(data.len() as u64, [7; 32], chunk as u32);
    frames(data, chunk).finish_version1(&meta).unwrap()
}

fn frames(data: &[u8], chunk: usize) -> SeekableWriter<Vec<u8>> {
    let mut c = FrameCompressor::new(3).unwrap();
    let mut w = SeekableWriter::new(Vec::new());
    let mut frame = Vec::new();
    for piece in data.chunks(chunk) {
        let info = c.compress(piece, &mut frame).unwrap();
        w.write_frame(&frame, info).unwrap();
    }
    w
}

/// A BGZF file of one block per `chunk` bytes, EOF block included, and its `.gzi`.
fn bgzf(data: &[u8], chunk: usize) -> (Vec<u8>, Vec<u8>) {
    let mut c = BgzfCompressor::new(6).unwrap();
    let mut w = BgzfWriter::new(Vec::new());
    let mut blocks = BgzfChunk::new();
    for piece in data.chunks(chunk) {
        c.compress(piece, &mut blocks).unwrap();
        w.write_chunk(&blocks).unwrap();
    }
    let (file, index) = w.finish().unwrap();
    let mut gzi = Vec::new();
    index.write_to(&mut gzi).unwrap();
    (file, gzi)
}

/// `container_index` input: knobs byte, range seed, payload.
fn framed(knobs: u8, seed: u64, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![knobs];
    v.extend_from_slice(&seed.to_le_bytes());
    v.extend_from_slice(payload);
    v
}

fn container(dir: &Path) {
    let data = text(40);
    write(dir, "seekable_one_frame", &framed(0, 1, &pack(&data[..300], 4096)));
    write(dir, "seekable_frames", &framed(0, 2, &pack(&data, 256)));
    write(dir, "seekable_small_frames_repair", &framed(4, 3, &pack(&data[..400], 40)));
    write(dir, "seekable_v1_frames", &framed(0, 2, &pack_version1(&data, 256)));
    write(dir, "seekable_v1_small_frames_repair", &framed(4, 3, &pack_version1(&data[..400], 40)));
    // The checked-in seekable seeds above were written by format version 2 and are kept as
    // such (rerunning this rewrites them as version 3). Version 3: frames longer than 1 MiB
    // carry piece values (here 2 MiB and 1 MiB + 5).
    let long: Vec<u8> = data.iter().copied().cycle().take((3 << 20) + 5).collect();
    write(dir, "seekable_v3_pieces", &framed(0, 8, &pack(&long, 2 << 20)));
    write(dir, "seekable_v3_pieces_repair", &framed(4, 9, &pack(&long, 2 << 20)));
    let (file, gzi) = bgzf(&data, 200);
    write(dir, "gzi", &framed(1, 4, &gzi));
    write(dir, "bgzf_scan", &framed(2, 5, &file));
    write(dir, "bgzf_no_eof_block", &framed(2, 6, &file[..file.len() - 28]));
    let (file, gzi) = bgzf(&data[..900], 150);
    let mut payload = (gzi.len() as u16).to_le_bytes().to_vec();
    payload.extend_from_slice(&gzi);
    payload.extend_from_slice(&file);
    write(dir, "bgzf_with_gzi", &framed(3, 7, &payload));
}

/// `crypt4gh_reader` structured-mode description (see `seqflow_fuzz::build_file`).
struct Describe(Vec<u8>);

impl Describe {
    fn new() -> Self {
        Describe(vec![1, 0])
    }
    fn packet(mut self, kind: u8, payload: &[u8]) -> Self {
        assert_ne!(kind & 3, 2, "use packet_method");
        self.0[1] += 1;
        self.0.push(kind);
        self.0.push(payload.len() as u8);
        self.0.extend_from_slice(payload);
        self
    }
    /// A packet sealed for the reader with header-packet encryption method `method`.
    fn packet_method(mut self, method: u32, payload: &[u8]) -> Self {
        self.0[1] += 1;
        self.0.push(2);
        self.0.push(payload.len() as u8);
        self.0.extend_from_slice(&method.to_le_bytes());
        self.0.extend_from_slice(payload);
        self
    }
    fn finish(mut self, plain_len: u32, key_choice: u8) -> Vec<u8> {
        self.0.push(0); // flags
        self.0.extend_from_slice(&plain_len.to_le_bytes());
        self.0.push(key_choice);
        self.0.push(0); // no corruption
        self.0
    }
}

fn session(key: u8) -> Vec<u8> {
    let mut p = vec![0; 8];
    p.extend_from_slice(&[key; 32]);
    p
}

fn edit_list(lengths: &[u64]) -> Vec<u8> {
    let mut p = 1u32.to_le_bytes().to_vec();
    p.extend_from_slice(&(lengths.len() as u32).to_le_bytes());
    lengths.iter().for_each(|n| p.extend_from_slice(&n.to_le_bytes()));
    p
}

fn crypt4gh(dir: &Path) {
    let reader = SecretKey::from_bytes(READER_SECRET);
    let writer = SecretKey::from_bytes(WRITER_SECRET);
    let other = SecretKey::from_bytes([9; 32]).public_key();
    let plain = text(12);

    let file = |recipients: &[_], edits: Option<&[u64]>, plain: &[u8]| {
        let session_key = [0x33; 32];
        let mut file = vec![0u8];
        file.extend(Header::encrypt_with_edit_list(&session_key, &writer, recipients, edits));
        let cipher = SegmentCipher::new(&session_key);
        for piece in plain.chunks(65536) {
            cipher.encrypt_segment(piece, &mut file);
        }
        file
    };
    write(dir, "file", &file(&[reader.public_key()], None, &plain));
    write(dir, "file_empty", &file(&[reader.public_key()], None, b""));
    write(dir, "file_edit_list", &file(&[reader.public_key()], Some(&[3, 40, 10]), &plain));
    write(dir, "file_two_recipients", &file(&[other, reader.public_key()], Some(&[0, 5]), &plain));

    let built = |name: &str, description: Vec<u8>| {
        let b = build_file(&description[1..]);
        assert!(b.intact, "{name}");
        write(dir, name, &description);
    };
    built("built_one_key", Describe::new().packet(0, &session(1)).finish(500, 0));
    built(
        "built_edit_list",
        Describe::new().packet(0, &session(2)).packet(0, &edit_list(&[7, 100, 30])).finish(400, 0),
    );
    built(
        "built_three_segments_two_keys",
        Describe::new()
            .packet(1, &session(5))
            .packet(0, &session(3))
            .packet(0, &session(4))
            .packet(0, &edit_list(&[65530, 70000]))
            .finish(3 * 65536 + 17, 1),
    );
    built(
        "built_odd_packets",
        Describe::new()
            .packet_method(7, &session(6))
            .packet(3, b"raw bytes")
            .packet(0, &session(8))
            .finish(10, 0),
    );

    let mut key = vec![2u8];
    write_secret_key(&reader, None, &mut key).unwrap();
    write(dir, "secret_key", &key);
    let mut key = vec![2u8];
    write_secret_key(&reader, Some(PASSPHRASE), &mut key).unwrap();
    write(dir, "secret_key_scrypt", &key);
    let mut key = vec![3u8];
    write_public_key(&reader.public_key(), &mut key).unwrap();
    write(dir, "public_key", &key);
}
