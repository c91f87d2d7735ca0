// Per-cycle counts of one chunk: for every base, one increment of the counter of its
// (mate, cycle, base class, Phred value) in a table that stays on the device across chunks.
//
// A chunk has three regions of u32 words: the sequence bytes of a run of record pieces, end to
// end, from word 0; their quality bytes at the same offsets from word `qual_start`; and from
// word `pieces_start` two words per piece: where it starts among the sequence bytes (bit 31:
// the mate) and the cycle of its first base. A piece is a whole record, or the part of a long
// one that fitted in the chunk; pieces are never empty, so their starts are strictly increasing.
// Bytes past `bases` in the last word of a region are left over from earlier chunks and ignored.
//
// Every counter is a u32 and atomics add integers, so the table does not depend on the order
// in which invocations run. The host reads the table back and clears it before any counter
// could pass 2^32 - 1 (before more than that many bases have been counted since the last read).

struct Params {
    // Sequence (and quality) bytes in the chunk.
    bases: u32,
    // Word where the quality bytes begin.
    qual_start: u32,
    // Word where the piece entries begin.
    pieces_start: u32,
    // Piece entries.
    pieces: u32,
    // Cycles kept apart; bases at later cycles count in the last one.
    max_cycles: u32,
    // Counters per mate: max_cycles × COUNTERS_PER_CYCLE.
    mate_stride: u32,
    unused0: u32,
    unused1: u32,
}

// Base classes A, C, G, T, other; Phred values 0..=93 (the layout of seqflow-qc's MateStats).
const QUALITY_LEVELS: u32 = 94u;
const COUNTERS_PER_CYCLE: u32 = 470u; // 5 base classes × 94 Phred values
const WORKGROUP: u32 = 256u;
const MATE_BIT: u32 = 0x80000000u;

@group(0) @binding(0) var<storage, read> chunk: array<u32>;
@group(0) @binding(1) var<storage, read_write> table: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

fn piece_start(piece: u32) -> u32 {
    return chunk[params.pieces_start + 2u * piece] & ~MATE_BIT;
}

// The last piece starting at or before byte `at` (binary search; piece 0 starts at byte 0).
fn piece_of(at: u32) -> u32 {
    var low = 0u;
    var high = params.pieces;
    while high - low > 1u {
        let middle = (low + high) / 2u;
        if piece_start(middle) <= at {
            low = middle;
        } else {
            high = middle;
        }
    }
    return low;
}

// 0 A, 1 C, 2 G, 3 T (either case), 4 anything else.
fn base_class(letter: u32) -> u32 {
    switch letter | 0x20u {
        case 0x61u: { return 0u; } // a
        case 0x63u: { return 1u; } // c
        case 0x67u: { return 2u; } // g
        case 0x74u: { return 3u; } // t
        default: { return 4u; }
    }
}

// Phred+33: below `!` counts as 0, above `~` as 93.
fn phred(quality: u32) -> u32 {
    return min(max(quality, 33u) - 33u, QUALITY_LEVELS - 1u);
}

@compute @workgroup_size(256)
fn count_cycles(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let words = (params.bases + 3u) / 4u;
    // Grid-stride loop: a fixed number of workgroups covers a chunk of any length.
    let stride = groups.x * WORKGROUP;
    for (var word_index = group.x * WORKGROUP + lane; word_index < words; word_index += stride) {
        let letters = chunk[word_index];
        let qualities = chunk[params.qual_start + word_index];
        let first = word_index * 4u;
        let bytes = min(4u, params.bases - first);
        var piece = piece_of(first);
        for (var k = 0u; k < bytes; k++) {
            let at = first + k;
            // A word may hold the end of one piece and the start of the next ones.
            while piece + 1u < params.pieces && piece_start(piece + 1u) <= at {
                piece += 1u;
            }
            let entry = params.pieces_start + 2u * piece;
            let mate = chunk[entry] >> 31u;
            let start = chunk[entry] & ~MATE_BIT;
            let cycle = min(chunk[entry + 1u] + (at - start), params.max_cycles - 1u);
            let base = base_class((letters >> (8u * k)) & 0xffu);
            let value = phred((qualities >> (8u * k)) & 0xffu);
            let counter = mate * params.mate_stride + cycle * COUNTERS_PER_CYCLE
                + base * QUALITY_LEVELS + value;
            atomicAdd(&table[counter], 1u);
        }
    }
}
