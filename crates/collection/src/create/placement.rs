//! Where a segment goes: AGC's grouping by terminal splitters (`add_segment`).
//!
//! * both splitters: key `(min, max)`; stored reverse-complemented when the front splitter is
//!   the larger, so inside a group all members read in the same direction;
//! * one splitter: the existing two-sided groups ending in that splitter are candidates,
//!   tried in order of reference-length difference; the cheapest estimated LZ-diff wins if
//!   it is at most `len - 16`, else a new one-sided group;
//! * a pair that is no group yet although both splitters end groups: a shared neighbour `m`
//!   (the first splitter both have a group with) may be the splitter this sample lost; the
//!   segment is cut where the summed per-position coding costs against groups `(front, m)` and
//!   `(m, back)` are smallest (the halves overlap by k), or goes whole into one of them;
//! * no splitter: raw groups.
//!
//! Decisions read only the state fixed at the last registration, so segments of one sample
//! can be placed in any order and on any thread.

use std::collections::HashMap;

use super::group::Group;
use super::kmer::{Kmer, reverse_complement};

/// "No splitter" in a group key.
pub const NO_SPLITTER: u64 = u64::MAX;
/// Key of the raw groups.
pub const RAW_KEY: (u64, u64) = (NO_SPLITTER, NO_SPLITTER);

/// Group key: the splitter pair.
pub type GroupKey = (u64, u64);

/// The group a placed segment joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An existing group.
    Known(u32),
    /// A group created at the next registration.
    New(GroupKey),
}

/// A segment ready to be stored: its group, its codes in group orientation, and whether
/// they are the reverse complement of the contig's bases.
#[derive(Debug, Clone)]
pub struct Placed {
    /// Its group.
    pub target: Target,
    /// The codes as stored.
    pub codes: Vec<u8>,
    /// Stored reverse-complemented.
    pub reverse_complemented: bool,
}

/// The grouping state fixed at the last registration.
pub struct GroupIndex<'a> {
    /// Group id of every key.
    pub keys: &'a HashMap<GroupKey, u32>,
    /// For each splitter, the sorted other ends of its two-sided groups.
    pub terminators: &'a HashMap<u64, Vec<u64>>,
    /// The groups (for their references).
    pub groups: &'a [Group],
    /// k-mer length.
    pub k: u32,
    /// `-c`: no segment splitting.
    pub concatenated: bool,
}

fn ordered(a: u64, b: u64) -> GroupKey {
    (a.min(b), a.max(b))
}

impl GroupIndex<'_> {
    fn encoder_of(&self, key: GroupKey) -> Option<&super::lz_encoder::LzEncoder> {
        let id = *self.keys.get(&key)?;
        self.groups[id as usize].encoder()
    }

    /// Places one segment of a contig; returns one or (when split) two placed segments.
    pub fn place(
        &self,
        segment: Vec<u8>,
        front: Option<Kmer>,
        back: Option<Kmer>,
    ) -> (Placed, Option<Placed>) {
        let mut segment = segment;
        let mut segment_rc: Option<Vec<u8>> = None;
        let (mut key, mut rc) = match (front, back) {
            (None, None) => (RAW_KEY, false),
            (Some(f), Some(b)) => {
                if f.canonical() < b.canonical() {
                    ((f.canonical(), b.canonical()), false)
                } else {
                    ((b.canonical(), f.canonical()), true)
                }
            }
            (Some(f), None) => {
                let seg_rc = reverse_complement(&segment);
                let found = self.with_one_splitter(f, &segment, &seg_rc);
                segment_rc = Some(seg_rc);
                found
            }
            (None, Some(b)) => {
                let seg_rc = reverse_complement(&segment);
                let (key, forward) = self.with_one_splitter(b.swapped(), &seg_rc, &segment);
                segment_rc = Some(seg_rc);
                (key, !forward)
            }
        };
        let mut known = self.keys.get(&key).copied();
        let mut second: Option<Placed> = None;
        if !self.concatenated
            && known.is_none()
            && key.0 != NO_SPLITTER
            && key.1 != NO_SPLITTER
            && self.terminators.contains_key(&key.0)
            && self.terminators.contains_key(&key.1)
            && let (Some(f), Some(b)) = (front, back)
        {
            let seg_rc = segment_rc.take().unwrap_or_else(|| reverse_complement(&segment));
            if f.canonical() == b.canonical() {
                if !f.is_forward_oriented() {
                    rc = true;
                }
                segment_rc = Some(seg_rc);
            } else {
                let (k1, k2, use_rc) = if f.canonical() > b.canonical() {
                    (b.canonical(), f.canonical(), true)
                } else {
                    (f.canonical(), b.canonical(), false)
                };
                let (dir, rev) = if use_rc { (&seg_rc, &segment) } else { (&segment, &seg_rc) };
                match self.missing_middle(k1, k2, dir, rev) {
                    None => segment_rc = Some(seg_rc),
                    Some((middle, best)) => {
                        let mut left = best;
                        let mut right = segment.len() - best;
                        if left == 0 {
                            rc = if middle < k2 { use_rc } else { !use_rc };
                            key = ordered(middle, k2);
                            segment_rc = Some(seg_rc);
                        } else if right == 0 {
                            rc = if k1 < middle { use_rc } else { !use_rc };
                            key = ordered(k1, middle);
                            segment_rc = Some(seg_rc);
                        } else {
                            if use_rc {
                                std::mem::swap(&mut left, &mut right);
                            }
                            let start2 = left - self.k as usize / 2;
                            let segment2 = segment[start2..].to_vec();
                            segment.truncate(start2 + self.k as usize);
                            let fv = f.canonical();
                            if fv < middle {
                                rc = false;
                                key = (fv, middle);
                            } else {
                                rc = true;
                                segment_rc = Some(reverse_complement(&segment));
                                key = (middle, fv);
                            }
                            let bv = b.canonical();
                            let (key2, rc2) = if middle < bv {
                                ((middle, bv), false)
                            } else {
                                ((bv, middle), true)
                            };
                            let id2 = self.keys[&key2];
                            let codes2 = if rc2 { reverse_complement(&segment2) } else { segment2 };
                            second = Some(Placed {
                                target: Target::Known(id2),
                                codes: codes2,
                                reverse_complemented: rc2,
                            });
                        }
                    }
                }
            }
            known = self.keys.get(&key).copied();
        }
        let codes =
            if rc { segment_rc.unwrap_or_else(|| reverse_complement(&segment)) } else { segment };
        let target = match known {
            Some(id) => Target::Known(id),
            None => Target::New(key),
        };
        (Placed { target, codes, reverse_complemented: rc }, second)
    }

    /// AGC's `find_cand_segment_with_one_splitter`: `kmer` read at the start of `forward`.
    /// Returns the key and whether the segment is stored as `reverse` (true) or `forward`.
    fn with_one_splitter(&self, kmer: Kmer, forward: &[u8], reverse: &[u8]) -> (GroupKey, bool) {
        let value = kmer.canonical();
        let one_sided = || {
            if kmer.is_forward_oriented() {
                ((value, NO_SPLITTER), false)
            } else {
                ((NO_SPLITTER, value), true)
            }
        };
        let Some(others) = self.terminators.get(&value) else {
            return one_sided();
        };
        let seg_len = forward.len() as i64;
        let mut candidates: Vec<(GroupKey, bool, &super::lz_encoder::LzEncoder)> = others
            .iter()
            .filter_map(|&other| {
                let (key, use_rc) =
                    if other < value { ((other, value), true) } else { ((value, other), false) };
                self.encoder_of(key).map(|e| (key, use_rc, e))
            })
            .collect();
        candidates.sort_by_key(|(_, _, e)| {
            let ref_size = e.reference_len() as i64 + 1;
            ((seg_len - ref_size).abs(), ref_size)
        });
        let mut best_key = RAW_KEY;
        let mut best_cost =
            if forward.len() < 16 { forward.len() as u64 } else { forward.len() as u64 - 16 };
        let mut best_rc = false;
        for (key, use_rc, encoder) in candidates {
            let text = if use_rc { reverse } else { forward };
            let cost = u64::from(encoder.estimate(text, best_cost as u32));
            if cost < best_cost
                || (cost == best_cost && key < best_key)
                || (cost == best_cost && key == best_key && !use_rc)
            {
                best_cost = cost;
                best_key = key;
                best_rc = use_rc;
            }
        }
        if best_key == RAW_KEY { one_sided() } else { (best_key, best_rc) }
    }

    /// AGC's `find_cand_segment_with_missing_middle_splitter`: the shared neighbour and the
    /// best cut position (0 or the length mean "whole segment into one group").
    fn missing_middle(
        &self,
        front: u64,
        back: u64,
        forward: &[u8],
        reverse: &[u8],
    ) -> Option<(u64, usize)> {
        let a = self.terminators.get(&front)?;
        let b = self.terminators.get(&back)?;
        let middle = first_shared(a, b)?;
        let enc1 = self.encoder_of(ordered(front, middle))?;
        let enc2 = self.encoder_of(ordered(middle, back))?;
        let mut costs1 = if front < middle {
            enc1.coding_costs(forward, true)
        } else {
            let mut c = enc1.coding_costs(reverse, false);
            c.reverse();
            c
        };
        let mut running = 0u32;
        for c in &mut costs1 {
            running = running.wrapping_add(*c);
            *c = running;
        }
        let costs2 = if middle < back {
            let mut c = enc2.coding_costs(forward, false);
            let mut running = 0u32;
            for x in c.iter_mut().rev() {
                running = running.wrapping_add(*x);
                *x = running;
            }
            c
        } else {
            let mut c = enc2.coding_costs(reverse, true);
            let mut running = 0u32;
            for x in &mut c {
                running = running.wrapping_add(*x);
                *x = running;
            }
            c.reverse();
            c
        };
        if costs1.len() != costs2.len() {
            return None;
        }
        let mut best_sum = u32::MAX;
        let mut best = 0usize;
        for (i, (x, y)) in costs1.iter().zip(&costs2).enumerate() {
            let sum = x.wrapping_add(*y);
            if sum < best_sum {
                best_sum = sum;
                best = i;
            }
        }
        let k = self.k as usize;
        if best < k + 1 {
            best = 0;
        }
        if best + k + 1 > costs1.len() {
            best = costs1.len();
        }
        Some((middle, best))
    }
}

/// The smallest value in both sorted lists (other than "no splitter").
fn first_shared(a: &[u64], b: &[u64]) -> Option<u64> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                if a[i] != NO_SPLITTER {
                    return Some(a[i]);
                }
                i += 1;
                j += 1;
            }
        }
    }
    None
}
