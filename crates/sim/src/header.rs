//! Illumina (CASAVA 1.8+) read names with advancing lane, tile and cluster coordinates.

use crate::rng::Rng;

/// Instrument ids seen on NovaSeq 6000 runs; one is picked per seed.
const INSTRUMENTS: [&str; 4] = ["A00953", "A01423", "A00187", "A01788"];
/// Largest x and y cluster coordinates before wrapping to the next row or tile.
const MAX_X: u32 = 32_000;
const MAX_Y: u32 = 37_000;
/// Tiles per swath, swaths per surface and surfaces, as on a NovaSeq S2 flow cell.
const TILES_PER_SWATH: u32 = 78;
const SWATHS: u32 = 2;
const SURFACES: u32 = 2;
const LANES: u32 = 4;

/// Writes headers like `@A00953:153:HVJ5VDSXY:2:1101:1234:1000 1:N:0:ACGTACGT+TTGACCAA`.
///
/// Instrument, run number, flow cell and index pair are fixed per seed; clusters advance in x
/// within a row, rows in y, then tiles (`1101..=1178`, `1201..`, `2101..`) and lanes.
#[derive(Debug, Clone)]
pub(crate) struct IlluminaHeader {
    /// `@instrument:run:flowcell:`
    prefix: Vec<u8>,
    /// ` 1:N:0:index1+index2\n`
    suffix: Vec<u8>,
    lane: u32,
    /// Index into the lane's tiles, `0..SURFACES * SWATHS * TILES_PER_SWATH`.
    tile_index: u32,
    x: u32,
    y: u32,
}

impl IlluminaHeader {
    /// A header sequence whose fixed fields are drawn from `rng`.
    pub(crate) fn new(rng: &mut Rng) -> Self {
        const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        let mut prefix = b"@".to_vec();
        prefix.extend_from_slice(
            INSTRUMENTS[rng.below(INSTRUMENTS.len() as u64) as usize].as_bytes(),
        );
        prefix.push(b':');
        push_decimal(&mut prefix, rng.between(1, 999));
        prefix.extend_from_slice(b":H");
        for _ in 0..4 {
            prefix.push(ALNUM[rng.below(ALNUM.len() as u64) as usize]);
        }
        prefix.extend_from_slice(b"DSXY:");

        let mut suffix = b" 1:N:0:".to_vec();
        for half in 0..2 {
            if half == 1 {
                suffix.push(b'+');
            }
            for _ in 0..8 {
                suffix.push(b"ACGT"[rng.below(4) as usize]);
            }
        }
        suffix.push(b'\n');

        Self { prefix, suffix, lane: 1, tile_index: 0, x: 1000, y: 1000 }
    }

    /// Appends the next read's header line (with its newline) to `out`.
    pub(crate) fn write_next(&mut self, rng: &mut Rng, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
        push_decimal(out, u64::from(self.lane));
        out.push(b':');
        push_decimal(out, u64::from(self.tile_number()));
        out.push(b':');
        push_decimal(out, u64::from(self.x));
        out.push(b':');
        push_decimal(out, u64::from(self.y));
        out.extend_from_slice(&self.suffix);
        self.advance(rng);
    }

    /// The tile number in NovaSeq's `surface swath tile` form, e.g. `1101` or `2278`.
    fn tile_number(&self) -> u32 {
        let tile = self.tile_index % TILES_PER_SWATH + 1;
        let swath = self.tile_index / TILES_PER_SWATH % SWATHS + 1;
        let surface = self.tile_index / (TILES_PER_SWATH * SWATHS) + 1;
        surface * 1000 + swath * 100 + tile
    }

    fn advance(&mut self, rng: &mut Rng) {
        self.x += rng.between(1, 300) as u32;
        if self.x <= MAX_X {
            return;
        }
        self.x = 1000 + rng.below(300) as u32;
        self.y += rng.between(1, 40) as u32;
        if self.y <= MAX_Y {
            return;
        }
        self.y = 1000 + rng.below(40) as u32;
        self.tile_index += 1;
        if self.tile_index < SURFACES * SWATHS * TILES_PER_SWATH {
            return;
        }
        self.tile_index = 0;
        self.lane = self.lane % LANES + 1;
    }
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_look_like_casava() {
        let mut rng = Rng::new(9, 0);
        let mut header = IlluminaHeader::new(&mut rng);
        let mut out = Vec::new();
        header.write_next(&mut rng, &mut out);
        let line = std::str::from_utf8(&out).unwrap();
        assert!(line.ends_with('\n'));
        let (name, comment) = line.trim_end().split_once(' ').unwrap();
        let fields: Vec<&str> = name.split(':').collect();
        assert_eq!(fields.len(), 7, "{line}");
        assert!(fields[0].starts_with("@A0"));
        assert_eq!(&fields[3..], ["1", "1101", "1000", "1000"]);
        assert!(comment.starts_with("1:N:0:"));
        assert_eq!(comment.len(), "1:N:0:".len() + 17);
    }

    #[test]
    fn coordinates_advance_through_tiles_and_lanes() {
        let mut rng = Rng::new(9, 0);
        let mut header = IlluminaHeader::new(&mut rng);
        let mut tiles = std::collections::BTreeSet::new();
        for _ in 0..(SURFACES * SWATHS * TILES_PER_SWATH) {
            tiles.insert(header.tile_number());
            header.x = MAX_X;
            header.y = MAX_Y;
            header.advance(&mut rng);
        }
        assert_eq!(header.lane, 2);
        assert_eq!(tiles.len(), 312);
        assert!(tiles.contains(&1101) && tiles.contains(&1278) && tiles.contains(&2178));
    }

    #[test]
    fn decimal() {
        let mut out = Vec::new();
        for n in [0, 7, 10, 1234, u64::MAX] {
            out.clear();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
