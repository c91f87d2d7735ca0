// Letter counts of one chunk: a histogram of the quality bytes and the counts of G/C, N and
// gap letters among the sequence bytes.
//
// A chunk has two halves: the sequence bytes of a run of records, end to end, from byte 0, and
// their quality bytes from byte `qual_start`, packed four to a word (little-endian). Bytes
// past `seq_len` and `qual_len` in the last word of each half are left over from earlier
// chunks and ignored.
// Every count is a u32 and atomics add integers, so the totals do not depend on the order in
// which invocations run: the result is exact and the same on every device.

struct Params {
    // Sequence bytes, from byte 0.
    seq_len: u32,
    // Where the quality bytes begin (a multiple of 4).
    qual_start: u32,
    // Quality bytes.
    qual_len: u32,
    unused: u32,
}

// Slots of the result: 256 quality byte values, then the three letter classes.
const GC: u32 = 256u;
const N: u32 = 257u;
const GAPS: u32 = 258u;
const SLOTS: u32 = 259u;
const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<storage, read> chunk: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>, 259>;
@group(0) @binding(2) var<uniform> params: Params;

// One histogram per workgroup, merged into `counts` once at the end, so that most atomic
// additions stay in workgroup memory.
var<workgroup> local_counts: array<atomic<u32>, 259>;

fn is_one(condition: bool) -> u32 {
    return select(0u, 1u, condition);
}

@compute @workgroup_size(256)
fn count_letters(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    for (var slot = lane; slot < SLOTS; slot += WORKGROUP) {
        atomicStore(&local_counts[slot], 0u);
    }
    workgroupBarrier();

    var gc = 0u;
    var n = 0u;
    var gaps = 0u;
    let seq_words = (params.seq_len + 3u) / 4u;
    let words = seq_words + (params.qual_len + 3u) / 4u;
    // Grid-stride loop: a fixed number of workgroups covers a chunk of any length.
    let stride = groups.x * WORKGROUP;
    for (var word_index = group.x * WORKGROUP + lane; word_index < words; word_index += stride) {
        if word_index < seq_words {
            let word = chunk[word_index];
            let bytes = min(4u, params.seq_len - word_index * 4u);
            for (var k = 0u; k < bytes; k++) {
                let letter = (word >> (8u * k)) & 0xffu;
                let folded = letter | 0x20u;
                gc += is_one(folded == 0x67u || folded == 0x63u); // g, c
                n += is_one(folded == 0x6eu); // n
                gaps += is_one(letter == 0x2du || letter == 0x2eu || letter == 0x20u); // - . space
            }
        } else {
            let qual_word = word_index - seq_words;
            let word = chunk[params.qual_start / 4u + qual_word];
            let bytes = min(4u, params.qual_len - qual_word * 4u);
            for (var k = 0u; k < bytes; k++) {
                atomicAdd(&local_counts[(word >> (8u * k)) & 0xffu], 1u);
            }
        }
    }
    atomicAdd(&local_counts[GC], gc);
    atomicAdd(&local_counts[N], n);
    atomicAdd(&local_counts[GAPS], gaps);
    workgroupBarrier();

    for (var slot = lane; slot < SLOTS; slot += WORKGROUP) {
        let count = atomicLoad(&local_counts[slot]);
        if count != 0u {
            atomicAdd(&counts[slot], count);
        }
    }
}
