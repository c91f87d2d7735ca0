//! Version 2's digest frame: the BLAKE3 digest of every chunk, in order, in one skippable
//! frame between the data frames and the metadata frame.
//!
//! Workers check each decoded frame against its digest in parallel; the metadata records the
//! root, BLAKE3 of the whole payload, which a reader checks once on open (or at the end of a
//! stream), so the digests are bound to their order and number: swapped, dropped or repeated
//! frames cannot pass even with a seek table rewritten to match.

use super::DIGEST_FRAME_MAGIC;
use crate::error::{Error, Result};

/// Length of one chunk digest (BLAKE3's default output).
pub(crate) const DIGEST_LEN: usize = 32;

/// BLAKE3 of one chunk of the original.
pub(crate) fn chunk_digest(chunk: &[u8]) -> [u8; DIGEST_LEN] {
    *blake3::hash(chunk).as_bytes()
}

/// The root the metadata records: BLAKE3 of the digest frame's payload.
pub(crate) fn digest_root(payload: &[u8]) -> [u8; DIGEST_LEN] {
    *blake3::hash(payload).as_bytes()
}

/// Length of the digest frame of `data_frames` chunks: skippable header and 32 bytes each.
pub(crate) fn frame_len(data_frames: u64) -> u64 {
    8 + data_frames * DIGEST_LEN as u64
}

/// Encodes the header of a digest frame holding `data_frames` digests.
pub(crate) fn frame_header(data_frames: u32) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[0..4].copy_from_slice(&DIGEST_FRAME_MAGIC.to_le_bytes());
    // The writer caps the frame count so that this fits (see `MAX_DATA_FRAMES`).
    h[4..8].copy_from_slice(&((u64::from(data_frames) * DIGEST_LEN as u64) as u32).to_le_bytes());
    h
}

/// Checks a digest frame found at byte `offset` (header and payload) against the number of
/// data frames and the root the metadata records; returns the digests.
///
/// # Errors
/// [`Error::Digests`] naming `offset` when the header is wrong or the payload does not hash
/// to `root`.
pub(crate) fn check_frame(
    frame: &[u8],
    offset: u64,
    data_frames: u32,
    root: &[u8; DIGEST_LEN],
) -> Result<Vec<[u8; DIGEST_LEN]>> {
    let bad = |reason: String| Error::Digests { offset, reason };
    if frame.len() as u64 != frame_len(u64::from(data_frames)) {
        return Err(bad(format!(
            "frame is {} bytes, {data_frames} digests need {}",
            frame.len(),
            frame_len(u64::from(data_frames))
        )));
    }
    let (header, payload) = frame.split_at(8);
    if header != frame_header(data_frames) {
        return Err(bad(format!(
            "header {} is not the digest frame's (magic {DIGEST_FRAME_MAGIC:#010x}, size {})",
            hex(header),
            payload.len()
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

/// Lower-case hexadecimal, as `b3sum` prints digests.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(digests: &[[u8; 32]]) -> (Vec<u8>, [u8; 32]) {
        let mut f = frame_header(digests.len() as u32).to_vec();
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
        assert_eq!(check_frame(&f, 10, 3, &root).unwrap(), digests);
        let (empty, root) = frame(&[]);
        assert_eq!(empty.len(), 8);
        assert!(check_frame(&empty, 10, 0, &root).unwrap().is_empty());
    }

    #[test]
    fn any_flipped_byte_or_swap_or_wrong_count_is_refused() {
        let digests = [[1; 32], [2; 32], [3; 32]];
        let (f, root) = frame(&digests);
        for i in 0..f.len() {
            let mut g = f.clone();
            g[i] ^= 0x04;
            let e = check_frame(&g, 10, 3, &root).unwrap_err().to_string();
            assert!(e.starts_with("digest frame at byte 10: "), "{e}");
        }
        let (swapped, _) = frame(&[[2; 32], [1; 32], [3; 32]]);
        assert!(check_frame(&swapped, 10, 3, &root).is_err());
        assert!(check_frame(&f, 10, 2, &root).is_err());
        assert!(check_frame(&f[..f.len() - 32], 10, 2, &root).is_err());
    }
}
