//! Helpers shared by the integration tests.

/// A minimal BGZF writer for tests: blocks of `block` input bytes (≤ 65,280) with the `BC`
/// field, then the EOF block.
pub(crate) fn bgzf(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut compressor = libdeflater::Compressor::new(libdeflater::CompressionLvl::fastest());
    for chunk in data.chunks(block).chain(std::iter::once(&[][..])) {
        let mut deflated = vec![0; compressor.deflate_compress_bound(chunk.len())];
        let n = compressor.deflate_compress(chunk, &mut deflated).unwrap();
        let block_size = 18 + n + 8;
        out.extend_from_slice(&[0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0]);
        out.extend_from_slice(&((block_size - 1) as u16).to_le_bytes());
        out.extend_from_slice(&deflated[..n]);
        out.extend_from_slice(&libdeflater::crc32(chunk).to_le_bytes());
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
    }
    out
}
