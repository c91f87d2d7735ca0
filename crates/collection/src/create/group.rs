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
use crate::payload::{
    LEVEL_PACK, LEVEL_REFERENCE_PLAIN, LEVEL_REFERENCE_TUPLES, encode_pack, encode_reference,
    join_pack,
};

/// The dummy first item of a raw group.
const RAW_DUMMY: u8 = 0x7F;

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

/// The zstd contexts of one worker, one per level AGC uses for group parts.
pub struct PartCompressor {
    pack: zstd::bulk::Compressor<'static>,
    plain: zstd::bulk::Compressor<'static>,
    tuples: zstd::bulk::Compressor<'static>,
}

impl Default for PartCompressor {
    fn default() -> Self {
        let make = |level| zstd::bulk::Compressor::new(level).expect("zstd context");
        PartCompressor {
            pack: make(LEVEL_PACK),
            plain: make(LEVEL_REFERENCE_PLAIN),
            tuples: make(LEVEL_REFERENCE_TUPLES),
        }
    }
}

impl PartCompressor {
    fn pack_part(&mut self, items: &[Vec<u8>]) -> (Vec<u8>, u64) {
        encode_pack(&mut self.pack, &join_pack(items)).expect("zstd compression into memory")
    }

    fn reference_part(&mut self, codes: &[u8]) -> (Vec<u8>, u64) {
        encode_reference(&mut self.plain, &mut self.tuples, codes)
            .expect("zstd compression into memory")
    }
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

    /// An LZ group re-opened from an archive: its reference, its member count and the items
    /// of its last (open) pack.
    pub fn reopen_lz(
        pack_cardinality: u32,
        min_match_len: u32,
        reference: &[u8],
        members: u32,
        open_pack: Vec<Vec<u8>>,
    ) -> Group {
        Group {
            raw: false,
            pack_cardinality: pack_cardinality as usize,
            min_match_len,
            encoder: Some(LzEncoder::new(reference, min_match_len)),
            members,
            open_pack,
        }
    }

    /// A raw group re-opened from an archive.
    pub fn reopen_raw(pack_cardinality: u32, members: u32, open_pack: Vec<Vec<u8>>) -> Group {
        Group {
            raw: true,
            pack_cardinality: pack_cardinality as usize,
            min_match_len: 0,
            encoder: None,
            members,
            open_pack,
        }
    }

    /// An LZ group that has no member yet (its streams exist but are empty).
    pub fn is_empty_lz(&self) -> bool {
        !self.raw && self.members == 0
    }

    /// The LZ encoder of the reference (None for raw groups and before the first member).
    pub fn encoder(&self) -> Option<&LzEncoder> {
        self.encoder.as_ref()
    }

    /// Heap bytes held: (reference, LZ index, open pack).
    pub fn heap_bytes(&self) -> (usize, usize, usize) {
        let (reference, index) = self.encoder.as_ref().map_or((0, 0), LzEncoder::heap_bytes);
        (reference, index, self.open_pack.iter().map(Vec::capacity).sum())
    }

    /// Adds a segment; returns its in-group id. Finished parts are appended to `parts`.
    pub fn add(
        &mut self,
        codes: &[u8],
        compressor: &mut PartCompressor,
        parts: &mut Vec<GroupPart>,
    ) -> u32 {
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
        let (data, metadata) = compressor.pack_part(&self.open_pack);
        self.open_pack.clear();
        parts.push(GroupPart { is_reference: false, data, metadata });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
