//! The digest frame: the BLAKE3 digest of every chunk, in order, in one skippable frame
//! between the data frames and the metadata frame (versions 2 and 3), followed in version 3 by
//! the BLAKE3 chaining values of every 1 MiB piece of the chunks longer than 1 MiB.
//!
//! Workers check each decoded frame against its digest in parallel; the metadata records the
//! root, BLAKE3 of the digests, which a reader checks once on open (or at the end of a
//! stream), so the digests are bound to their order and number: swapped, dropped or repeated
//! frames cannot pass even with a seek table rewritten to match.
//!
//! A chunk's pieces are subtrees of its own BLAKE3 tree (BLAKE3 hashes 1 KiB chunks into a
//! binary tree whose left subtrees hold a power of two of them, so every 1 MiB-aligned MiB is
//! one subtree): merged in tree order, their chaining values give the chunk's digest. A reader
//! that needs a few bytes of a long frame therefore decodes the frame only up to them and
//! checks just the pieces that hold them, each against its chaining value, and the chaining
//! values against the digest the root covers (`cat --range` of 1 KB in a 16 MiB frame).

use blake3::hazmat::{
    ChainingValue, HasherExt, Mode, merge_subtrees_non_root, merge_subtrees_root,
};

use super::DIGEST_FRAME_MAGIC;
use crate::error::{Error, Result};

/// Length of one chunk digest (BLAKE3's default output) or piece chaining value.
pub(crate) const DIGEST_LEN: usize = 32;
/// Bytes of a chunk one piece chaining value covers (version 3).
pub const PIECE_LEN: usize = 1 << 20;

/// BLAKE3 of one chunk of the original.
pub(crate) fn chunk_digest(chunk: &[u8]) -> [u8; DIGEST_LEN] {
    *blake3::hash(chunk).as_bytes()
}

/// Number of pieces the digest frame records for a chunk of `len` bytes: none up to
/// [`PIECE_LEN`] (the digest covers it), one per started MiB past that.
pub(crate) fn piece_count(len: u64) -> u64 {
    if len <= PIECE_LEN as u64 { 0 } else { len.div_ceil(PIECE_LEN as u64) }
}

/// BLAKE3 of `chunk`, with the chaining values of its pieces put in `pieces` (emptied first;
/// none for a chunk of at most one piece). One pass over the chunk, as [`chunk_digest`].
pub(crate) fn chunk_digest_and_pieces(chunk: &[u8], pieces: &mut Vec<ChainingValue>) -> [u8; 32] {
    pieces.clear();
    if piece_count(chunk.len() as u64) == 0 {
        return chunk_digest(chunk);
    }
    pieces.extend(chunk.chunks(PIECE_LEN).enumerate().map(|(i, piece)| piece_value(i, piece)));
    digest_of_pieces(pieces)
}

/// The chaining value of piece `index` of a chunk longer than one piece.
pub(crate) fn piece_value(index: usize, piece: &[u8]) -> ChainingValue {
    let mut hasher = blake3::Hasher::new();
    hasher.set_input_offset((index * PIECE_LEN) as u64);
    hasher.update(piece);
    hasher.finalize_non_root()
}

/// The chunk digest (BLAKE3 root) that two or more piece chaining values merge into.
pub(crate) fn digest_of_pieces(pieces: &[ChainingValue]) -> [u8; DIGEST_LEN] {
    debug_assert!(pieces.len() >= 2);
    let (left, right) = pieces.split_at(left_pieces(pieces.len()));
    *merge_subtrees_root(&subtree(left), &subtree(right), Mode::Hash).as_bytes()
}

/// The chaining value of the subtree made of `pieces` (one or more, in order).
fn subtree(pieces: &[ChainingValue]) -> ChainingValue {
    if let [one] = pieces {
        return *one;
    }
    let (left, right) = pieces.split_at(left_pieces(pieces.len()));
    merge_subtrees_non_root(&subtree(left), &subtree(right), Mode::Hash)
}

/// Pieces in the left subtree of `n` ≥ 2: the largest power of two below `n`, as BLAKE3 splits.
fn left_pieces(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The root the metadata records: BLAKE3 of the digests (the digest frame's payload up to the
/// pieces).
pub(crate) fn digest_root(digests: &[u8]) -> [u8; DIGEST_LEN] {
    *blake3::hash(digests).as_bytes()
}

/// Length of the digest frame of `data_frames` chunks with `pieces` piece chaining values in
/// all: skippable header and 32 bytes each.
pub(crate) fn frame_len(data_frames: u64, pieces: u64) -> u64 {
    8 + (data_frames + pieces) * DIGEST_LEN as u64
}

/// Encodes the header of a digest frame holding `data_frames` digests and `pieces` chaining
/// values.
pub(crate) fn frame_header(data_frames: u64, pieces: u64) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[0..4].copy_from_slice(&DIGEST_FRAME_MAGIC.to_le_bytes());
    // The writer caps frames and pieces so that this fits (see `SeekableWriter::write_frame`).
    let size = (data_frames + pieces) * DIGEST_LEN as u64;
    h[4..8].copy_from_slice(&(size as u32).to_le_bytes());
    h
}

/// Checks the start of a digest frame found at byte `offset`, its header and the
/// `data_frames` digests (`head`; the `pieces` chaining values that follow in version 3 are
/// checked with [`check_pieces`]), against the root the metadata records; returns the digests.
///
/// # Errors
/// [`Error::Digests`] naming `offset` when the header is wrong or the digests do not hash to
/// `root`.
pub(crate) fn check_frame(
    head: &[u8],
    offset: u64,
    data_frames: u32,
    pieces: u64,
    root: &[u8; DIGEST_LEN],
) -> Result<Vec<[u8; DIGEST_LEN]>> {
    let bad = |reason: String| Error::Digests { offset, reason };
    let head_len = frame_len(u64::from(data_frames), 0);
    if head.len() as u64 != head_len {
        return Err(bad(format!(
            "frame starts with {} bytes, {data_frames} digests need {head_len}",
            head.len()
        )));
    }
    let (header, payload) = head.split_at(8);
    let expected = frame_header(u64::from(data_frames), pieces);
    if header != expected {
        return Err(bad(format!(
            "header {} is not the digest frame's of {data_frames} digests and {pieces} piece              values ({})",
            hex(header),
            hex(&expected),
        )));
    }
    let actual = digest_root(payload);
    if &actual != root {
        return Err(bad(format!(
            "BLAKE3 of the digests is {}, the metadata records {}",
            hex(&actual),
            hex(root)
        )));
    }
    Ok(payload.chunks_exact(DIGEST_LEN).map(|d| d.try_into().expect("32 bytes")).collect())
}

/// Checks that the piece chaining values `values` recorded for data frame `frame` (found at
/// byte `offset` of the digest frame) merge into its digest.
///
/// # Errors
/// [`Error::Digests`] naming `offset` and the frame.
pub(crate) fn check_pieces(
    values: &[u8],
    digest: &[u8; DIGEST_LEN],
    frame: usize,
    offset: u64,
) -> Result<Vec<ChainingValue>> {
    let values: Vec<ChainingValue> =
        values.chunks_exact(DIGEST_LEN).map(|d| d.try_into().expect("32 bytes")).collect();
    if values.len() < 2 || &digest_of_pieces(&values) != digest {
        return Err(Error::Digests {
            offset,
            reason: format!(
                "the {} piece values recorded for frame {frame} do not merge into its digest",
                values.len()
            ),
        });
    }
    Ok(values)
}

/// Lower-case hexadecimal, as `b3sum` prints digests.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(digests: &[[u8; 32]]) -> (Vec<u8>, [u8; 32]) {
        let mut f = frame_header(digests.len() as u64, 0).to_vec();
        digests.iter().for_each(|d| f.extend_from_slice(d));
        let root = digest_root(&f[8..]);
        (f, root)
    }

    #[test]
    fn a_chunk_digest_is_plain_blake3_as_b3sum_prints_it() {
        // The BLAKE3 test vector of no bytes.
        assert_eq!(
            hex(&chunk_digest(b"")),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn a_good_frame_gives_back_its_digests() {
        let digests = [[1; 32], [2; 32], [3; 32]];
        let (f, root) = frame(&digests);
        assert_eq!(check_frame(&f, 10, 3, 0, &root).unwrap(), digests);
        let (empty, root) = frame(&[]);
        assert_eq!(empty.len(), 8);
        assert!(check_frame(&empty, 10, 0, 0, &root).unwrap().is_empty());
    }

    #[test]
    fn any_flipped_byte_or_swap_or_wrong_count_is_refused() {
        let digests = [[1; 32], [2; 32], [3; 32]];
        let (f, root) = frame(&digests);
        for i in 0..f.len() {
            let mut g = f.clone();
            g[i] ^= 0x04;
            let e = check_frame(&g, 10, 3, 0, &root).unwrap_err().to_string();
            assert!(e.starts_with("digest frame at byte 10: "), "{e}");
        }
        let (swapped, _) = frame(&[[2; 32], [1; 32], [3; 32]]);
        assert!(check_frame(&swapped, 10, 3, 0, &root).is_err());
        assert!(check_frame(&f, 10, 2, 0, &root).is_err());
        assert!(check_frame(&f[..f.len() - 32], 10, 2, 0, &root).is_err());
    }

    #[test]
    fn pieces_merge_into_plain_blake3_for_every_length() {
        // Lengths around piece and power-of-two boundaries, as BLAKE3's own tree splits them.
        let data: Vec<u8> = (0..(5 * PIECE_LEN + 1000) as u32).map(|i| (i % 251) as u8).collect();
        let m = PIECE_LEN;
        for len in
            [0, 1, m - 1, m, m + 1, 2 * m, 2 * m + 1, 3 * m - 7, 4 * m, 4 * m + 1, 5 * m + 1000]
        {
            let chunk = &data[..len];
            let mut pieces = Vec::new();
            let digest = chunk_digest_and_pieces(chunk, &mut pieces);
            assert_eq!(&digest, blake3::hash(chunk).as_bytes(), "length {len}");
            assert_eq!(pieces.len() as u64, piece_count(len as u64), "length {len}");
            if !pieces.is_empty() {
                let flat: Vec<u8> = pieces.concat();
                assert_eq!(check_pieces(&flat, &digest, 0, 0).unwrap(), pieces);
                // Each piece value is what hashing that MiB alone at its offset gives.
                for (i, piece) in chunk.chunks(PIECE_LEN).enumerate() {
                    assert_eq!(piece_value(i, piece), pieces[i]);
                }
            }
        }
    }

    #[test]
    fn piece_values_that_do_not_merge_into_the_digest_are_refused() {
        let data = vec![7u8; 3 * PIECE_LEN];
        let mut pieces = Vec::new();
        let digest = chunk_digest_and_pieces(&data, &mut pieces);
        let flat: Vec<u8> = pieces.concat();
        for i in [0, 31, 32, 95] {
            let mut bad = flat.clone();
            bad[i] ^= 1;
            let e = check_pieces(&bad, &digest, 4, 99).unwrap_err().to_string();
            assert!(e.starts_with("digest frame at byte 99: ") && e.contains("frame 4"), "{e}");
        }
        let swapped: Vec<u8> = [pieces[1], pieces[0], pieces[2]].concat();
        assert!(check_pieces(&swapped, &digest, 0, 0).is_err());
        assert!(check_pieces(&flat[..64], &digest, 0, 0).is_err());
    }
}
