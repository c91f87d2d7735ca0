//! Pack and unpack through the library API only: bytes round-trip, and damage is an error.

use std::path::Path;

use seqflow_pack::{
    ChunkSize, Container, Error, PackOptions, PackedInput, PipelineOptions, UnpackOptions,
    pack_file, unpack_file, verify_file,
};

/// FASTQ-like text that compresses but does not repeat exactly.
fn data(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b"ACGT\n"[(state % 5) as usize]
        })
        .collect()
}

fn options(container: Container, threads: usize) -> PackOptions {
    PackOptions {
        container,
        chunk_size: ChunkSize::Fixed(100_000),
        pipeline: PipelineOptions { threads, ..PipelineOptions::default() },
        ..PackOptions::default()
    }
}

fn unpack_options(threads: usize) -> UnpackOptions {
    UnpackOptions {
        pipeline: PipelineOptions { threads, ..PipelineOptions::default() },
        ..UnpackOptions::default()
    }
}

/// Flips one byte of `path` at `offset`.
fn flip(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x40;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn zstd_and_bgzf_round_trip_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(1_234_567);
    let input = dir.path().join("in.txt");
    std::fs::write(&input, &original).unwrap();
    for container in [Container::Zstd, Container::Bgzf] {
        for threads in [1, 2] {
            let packed = dir.path().join(format!("in.{container:?}.{threads}"));
            let outcome = pack_file(&input, &packed, &options(container, threads)).unwrap();
            assert_eq!(outcome.original_size, original.len() as u64);
            assert_eq!(outcome.index.is_some(), container == Container::Bgzf);

            let summary = verify_file(&packed, &unpack_options(threads)).unwrap();
            assert_eq!(summary.original_size, original.len() as u64);
            let restored = dir.path().join("restored");
            unpack_file(&packed, &restored, &unpack_options(threads)).unwrap();
            assert!(std::fs::read(&restored).unwrap() == original, "{container:?} -t {threads}");

            let mut range = Vec::new();
            PackedInput::open(&packed, None).unwrap().cat(500_000..500_100, &mut range).unwrap();
            assert_eq!(range, &original[500_000..500_100]);
        }
    }
}

#[test]
fn the_sha256_of_the_original_is_computed_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, b"hello\n").unwrap();
    let packed = dir.path().join("in.txt.zst");
    pack_file(&input, &packed, &PackOptions::default()).unwrap();
    let options = UnpackOptions { sha256: true, ..UnpackOptions::default() };
    let sha256 = verify_file(&packed, &options).unwrap().sha256.unwrap();
    // sha256sum of "hello\n".
    let expected = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    let hex: String = sha256.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, expected);
}

#[test]
fn a_damaged_file_is_an_error_naming_it_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let original = data(800_000);
    let input = dir.path().join("in.txt");
    std::fs::write(&input, &original).unwrap();
    for container in [Container::Zstd, Container::Bgzf] {
        let packed = dir.path().join(format!("in.{container:?}"));
        pack_file(&input, &packed, &options(container, 2)).unwrap();
        let len = std::fs::metadata(&packed).unwrap().len() as usize;
        flip(&packed, len / 3);

        let error = verify_file(&packed, &unpack_options(2)).unwrap_err();
        let message = error_chain(&error);
        assert!(matches!(error, Error::In { .. }), "{message}");
        assert!(message.starts_with(&packed.display().to_string()), "{message}");
        assert!(message.contains("at byte"), "{message}");

        let restored = dir.path().join("restored");
        assert!(unpack_file(&packed, &restored, &unpack_options(2)).is_err());
        assert!(!restored.exists(), "the partial output is removed");
    }
}

#[test]
fn a_missing_key_for_an_encrypted_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, data(10_000)).unwrap();
    let recipient = seqflow_pack::KeyPair::generate();
    let packed = dir.path().join("in.txt.zst.c4gh");
    let options = PackOptions { recipients: vec![recipient.public], ..PackOptions::default() };
    pack_file(&input, &packed, &options).unwrap();
    let error = verify_file(&packed, &UnpackOptions::default()).unwrap_err();
    assert!(error_chain(&error).contains("secret key is needed"), "{}", error_chain(&error));
    let with_key = UnpackOptions { secret_key: Some(recipient.secret), ..UnpackOptions::default() };
    assert!(PackedInput::open(&packed, with_key.secret_key.as_ref()).unwrap().is_encrypted());
    assert_eq!(verify_file(&packed, &with_key).unwrap().original_size, 10_000);
}

/// The error and its sources, as a command line prints them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text += &format!(": {inner}");
        cause = inner.source();
    }
    text
}

#[test]
fn auto_chunk_size_fits_the_memory_limit() {
    let mut options = PackOptions::default();
    assert_eq!(options.chunk_size, ChunkSize::Auto { largest: 16 << 20 });
    let full = seqflow_pack::pack_memory_bound(&options).bytes;
    options.fit_auto_chunk_size(|bytes| bytes < full);
    assert_eq!(options.chunk_size, ChunkSize::Auto { largest: 8 << 20 });
    assert!(seqflow_pack::pack_memory_bound(&options).bytes < full);
    options.fit_auto_chunk_size(|_| false);
    assert_eq!(options.chunk_size, ChunkSize::Auto { largest: 1 << 20 });
    let mut fixed = PackOptions { chunk_size: ChunkSize::Fixed(5), ..PackOptions::default() };
    fixed.fit_auto_chunk_size(|_| false);
    assert_eq!(fixed.chunk_size, ChunkSize::Fixed(5));
}
