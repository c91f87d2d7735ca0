//! Seeded test inputs of arbitrary bytes (xorshift64).

/// `len` pseudo-random bytes that zstd cannot shrink much.
pub(crate) fn incompressible(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len).map(|_| next(&mut state) as u8).collect()
}

/// `len` pseudo-random bytes, every third one of `ACGT\n`: partly compressible.
pub(crate) fn partly_compressible(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|i| {
            let value = next(&mut state);
            if i % 3 == 0 { b"ACGT\n"[(value % 5) as usize] } else { value as u8 }
        })
        .collect()
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
