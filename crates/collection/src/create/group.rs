//! One segment group being written: its reference, its open pack, its finished parts.
//!
//! LZ groups (id ≥ 16): member 0 is the reference, stored alone in stream `x<id>r`
//! (2-bit-style tuples + zstd 13, or plain codes + zstd 19 when the sequence is periodic);
//! every later member is LZ-diff encoded against it and collected into packs of
//! `pack_cardinality` deltas, each terminated by `0xFF`, compressed with zstd 17 into one
//! part of `x<id>d`. A delta equal to the reference is not stored (in-group id 0); a delta
//! equal to one in the open pack reuses its id.
//!
//! Raw groups (ids 0..16) hold segments without splitters as plain codes, in packs of the
//! same size; their slot 0 is a dummy `0x7F` so that every raw stream exists.

use super::lz_encoder::LzEncoder;

/// Separator after each item of a pack.
const ITEM_END: u8 = 0xFF;
/// The dummy first item of a raw group.
const RAW_DUMMY: u8 = 0x7F;
/// zstd levels AGC uses.
const LEVEL_PACK: i32 = 17;
const LEVEL_TUPLES: i32 = 13;
const LEVEL_PLAIN: i32 = 19;

/// A finished part of a group stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPart {
    /// True for the reference stream `x<id>r`, false for `x<id>d`.
    pub is_reference: bool,
    /// Stored bytes.
    pub data: Vec<u8>,
    /// Part metadata (raw size, or 0 when stored uncompressed).
    pub metadata: u64,
}

/// Compresses parts: zstd with a context owned by one worker.
pub struct PartCompressor {
    zstd: zstd::bulk::Compressor<'static>,
}

impl Default for PartCompressor {
    fn default() -> Self {
        PartCompressor { zstd: zstd::bulk::Compressor::new(0).expect("zstd context") }
    }
}

impl PartCompressor {
    fn compress(&mut self, data: &[u8], level: i32) -> Vec<u8> {
        self.zstd.set_compression_level(level).expect("valid zstd level");
        self.zstd.compress(data).expect("zstd compression into a growable buffer")
    }

    /// A pack (or plain data): zstd frame + marker 0 when that saves a byte, else as is.
    fn pack_part(&mut self, data: &[u8], level: i32) -> (Vec<u8>, u64) {
        let mut packed = self.compress(data, level);
        if packed.len() + 1 < data.len() {
            packed.push(0);
            (packed, data.len() as u64)
        } else {
            (data.to_vec(), 0)
        }
    }

    /// A group reference: AGC's periodicity test chooses tuples or plain codes.
    fn reference_part(&mut self, codes: &[u8]) -> (Vec<u8>, u64) {
        if is_periodic(codes) {
            return self.pack_part(codes, LEVEL_PLAIN);
        }
        let tuples = bytes_to_tuples(codes);
        let mut packed = self.compress(&tuples, LEVEL_TUPLES);
        if packed.len() + 1 < codes.len() {
            packed.push(1);
            (packed, codes.len() as u64)
        } else {
            (codes.to_vec(), 0)
        }
    }
}

/// AGC's test: some shift p in 4..32 with `s[j] == s[j+p]` for at least half of the ACGT
/// positions.
fn is_periodic(s: &[u8]) -> bool {
    for shift in 4..32usize {
        let mut equal = 0u32;
        let mut counted = 0u32;
        for j in 0..s.len().saturating_sub(shift) {
            equal += u32::from(s[j] == s[j + shift]);
            counted += u32::from(s[j] < 4);
        }
        if counted > 0 && f64::from(equal) / f64::from(counted) >= 0.5 {
            return true;
        }
    }
    false
}

/// Packs codes into tuples: 4 per byte if all < 4, 3 (base 6) if < 6, 2 (base 16) if < 16,
/// else verbatim; then the last partial tuple and a marker `(per_byte << 4) | remainder`.
fn bytes_to_tuples(codes: &[u8]) -> Vec<u8> {
    let max = codes.iter().copied().max().unwrap_or(0);
    let (per_byte, base): (usize, u32) = match max {
        0..=3 => (4, 4),
        4..=5 => (3, 6),
        6..=15 => (2, 16),
        _ => {
            let mut out = codes.to_vec();
            out.push(0x10);
            return out;
        }
    };
    let fold = |chunk: &[u8]| chunk.iter().fold(0u32, |acc, &c| acc * base + u32::from(c)) as u8;
    let mut out = Vec::with_capacity(codes.len() / per_byte + 2);
    let chunks = codes.chunks_exact(per_byte);
    let rest = chunks.remainder();
    out.extend(chunks.map(fold));
    out.push(fold(rest));
    out.push(((per_byte as u8) << 4) | (codes.len() % per_byte) as u8);
    out
}

/// The writing state of one group.
pub struct Group {
    raw: bool,
    pack_cardinality: usize,
    min_match_len: u32,
    encoder: Option<LzEncoder>,
    /// Members so far (AGC's `no_seqs`).
    members: u32,
    open_pack: Vec<Vec<u8>>,
}

impl Group {
    /// A new empty LZ group.
    pub fn new_lz(pack_cardinality: u32, min_match_len: u32) -> Group {
        Group {
            raw: false,
            pack_cardinality: pack_cardinality as usize,
            min_match_len,
            encoder: None,
            members: 0,
            open_pack: Vec::new(),
        }
    }

    /// A new raw group, holding its dummy first item.
    pub fn new_raw(pack_cardinality: u32) -> Group {
        Group {
            raw: true,
            pack_cardinality: pack_cardinality as usize,
            min_match_len: 0,
            encoder: None,
            members: 1,
            open_pack: vec![vec![RAW_DUMMY]],
        }
    }

    /// The LZ encoder of the reference (None for raw groups and before the first member).
    pub fn encoder(&self) -> Option<&LzEncoder> {
        self.encoder.as_ref()
    }

    /// Adds a segment; returns its in-group id. Finished parts are appended to `parts`.
    pub fn add(&mut self, codes: &[u8], compressor: &mut PartCompressor, parts: &mut Vec<GroupPart>) -> u32 {
        if self.raw {
            if self.open_pack.len() == self.pack_cardinality {
                self.flush(compressor, parts);
            }
            self.members += 1;
            self.open_pack.push(codes.to_vec());
            return self.members - 1;
        }
        if self.members == 0 {
            let (data, metadata) = compressor.reference_part(codes);
            parts.push(GroupPart { is_reference: true, data, metadata });
            self.encoder = Some(LzEncoder::new(codes, self.min_match_len));
            self.members = 1;
            return 0;
        }
        if self.open_pack.len() == self.pack_cardinality {
            self.flush(compressor, parts);
        }
        let mut delta = Vec::new();
        self.encoder.as_ref().expect("reference set").encode(codes, &mut delta);
        if delta.is_empty() {
            return 0;
        }
        if let Some(i) = self.open_pack.iter().position(|d| *d == delta) {
            return self.members - (self.open_pack.len() - i) as u32;
        }
        self.open_pack.push(delta);
        self.members += 1;
        self.members - 1
    }

    /// Compresses the open pack into a part (also at the end of the archive).
    pub fn flush(&mut self, compressor: &mut PartCompressor, parts: &mut Vec<GroupPart>) {
        if self.open_pack.is_empty() {
            return;
        }
        let mut pack = Vec::with_capacity(self.open_pack.iter().map(|d| d.len() + 1).sum());
        for item in self.open_pack.drain(..) {
            pack.extend_from_slice(&item);
            pack.push(ITEM_END);
        }
        let (data, metadata) = compressor.pack_part(&pack, LEVEL_PACK);
        parts.push(GroupPart { is_reference: false, data, metadata });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_follow_agc_layout() {
        assert_eq!(bytes_to_tuples(&[0, 1, 2, 3, 3]), vec![0b00_01_10_11, 3, 0x41]);
        assert_eq!(bytes_to_tuples(&[4, 0, 1, 5]), vec![4 * 36 + 1, 5, 0x31]);
        assert_eq!(bytes_to_tuples(&[15, 1]), vec![0xF1, 0, 0x20]);
    }

    #[test]
    fn periodicity() {
        assert!(is_periodic(&[0, 1, 2, 3].repeat(100)));
        let mut state = 7u64;
        let random: Vec<u8> = (0..1000)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 62) as u8
            })
            .collect();
        assert!(!is_periodic(&random));
    }

    #[test]
    fn members_ids_and_packs() {
        let mut c = PartCompressor::default();
        let mut parts = Vec::new();
        let mut g = Group::new_lz(2, 20);
        let r: Vec<u8> = (0..400).map(|i| ((i * 7 + i / 3) % 4) as u8).collect();
        assert_eq!(g.add(&r, &mut c, &mut parts), 0);
        assert_eq!(parts.len(), 1);
        assert_eq!(g.add(&r, &mut c, &mut parts), 0, "identical to the reference");
        let mut t = r.clone();
        t[100] = (t[100] + 1) % 4;
        assert_eq!(g.add(&t, &mut c, &mut parts), 1);
        assert_eq!(g.add(&t, &mut c, &mut parts), 1, "same delta in the open pack");
        let mut u = r.clone();
        u[200] = (u[200] + 1) % 4;
        assert_eq!(g.add(&u, &mut c, &mut parts), 2);
        let mut v = r.clone();
        v[300] = (v[300] + 1) % 4;
        assert_eq!(g.add(&v, &mut c, &mut parts), 3);
        assert_eq!(parts.len(), 2, "first pack of 2 flushed");
        let mut raw = Group::new_raw(50);
        assert_eq!(raw.add(&[0, 1], &mut c, &mut parts), 1);
    }
}
