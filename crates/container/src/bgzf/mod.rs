//! BGZF (SAM/BAM specification, section 4.1): gzip members of at most 64 KiB with a `BC` extra
//! subfield holding the member's size, ending with a fixed empty EOF member; and the `.gzi`
//! index that `bgzip -i`/`bgzip -r` write for random access.

mod blocks;
mod compressor;
mod gzi;
mod reader;
mod writer;

pub use blocks::{BgzfBlockReader, BgzfInflater};
pub use compressor::{BgzfChunk, BgzfCompressor, BlockInfo};
pub use gzi::GziIndex;
pub use reader::BgzfReader;
pub use writer::BgzfWriter;

/// Most input bytes per block, as bgzip uses: even stored (incompressible) deflate output plus
/// the header and trailer stays below 64 KiB.
pub const MAX_BLOCK_INPUT: usize = 0xff00;
/// Largest BGZF block, header and trailer included.
pub const MAX_BLOCK_SIZE: usize = 0x10000;
/// The 28-byte empty block that marks the end of a BGZF file.
pub const EOF_BLOCK: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
    0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// Length of a BGZF block header (gzip header with the 6-byte `BC` extra field).
pub(crate) const HEADER_LEN: usize = 18;
/// Length of the gzip trailer (CRC32, ISIZE).
pub(crate) const TRAILER_LEN: usize = 8;
