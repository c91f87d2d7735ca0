//! The archive being built: splitters, groups, registration, collection metadata.
//!
//! Per registration unit (one sample, or `pack_cardinality` records with `-c`):
//! 1. every contig is cut at the occurrences of splitters (segments overlap by k);
//! 2. every segment is placed ([`GroupIndex::place`]) against the state fixed at the last
//!    registration — in parallel, in any order;
//! 3. registration: segments for new keys are sorted by (sample, contig name, part) and new
//!    group ids given in that order; raw segments are dealt round-robin over the 16 raw
//!    groups; every group's segments are sorted the same way;
//! 4. groups store their segments (LZ-diff + zstd of full packs) in parallel, each group on
//!    one thread, and the finished parts are written in group-id order.
//!
//! Step 1 of the next unit runs while step 4 stores this one ([`Compressor::add_cut_unit`]).
//! Nothing in steps 2 and 4 depends on which thread did what, so the archive bytes are the
//! same for any number of threads.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use seqflow_pipeline::StageMetrics;

use super::group::{Group, GroupPart, PartCompressor};
use super::input::Contig;
use super::kmer::Kmer;
use super::placement::{GroupIndex, GroupKey, NO_SPLITTER, Placed, RAW_KEY, Target};
use super::splitters::new_splitters;
use crate::payload::Params;

/// Number of raw groups (ids 0..16).
pub const RAW_GROUPS: u32 = 16;

/// Where a segment of a contig is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentPlace {
    /// Group id.
    pub group: u32,
    /// Id inside the group.
    pub in_group: u32,
    /// Stored reverse-complemented.
    pub reverse_complemented: bool,
    /// Stored length.
    pub raw_len: u32,
}

/// One contig of the collection: its header and its segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContigPlaces {
    /// Full header.
    pub name: String,
    /// Segments in contig order.
    pub segments: Vec<SegmentPlace>,
}

/// One sample of the collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplePlaces {
    /// Sample name.
    pub name: String,
    /// Its contigs in input order.
    pub contigs: Vec<ContigPlaces>,
}

/// A finished part of a group stream, ready to be written.
#[derive(Debug)]
pub struct NamedPart {
    /// Group id.
    pub group: u32,
    /// The part.
    pub part: GroupPart,
}

/// One sample as given to [`Compressor::cut_unit`] and [`Compressor::add_cut_unit`]: name and
/// contigs.
pub struct SampleContigs {
    /// Sample name.
    pub name: String,
    /// Contigs in input order.
    pub contigs: Vec<Contig>,
}

/// Time and work of the compressor's steps, summed over the units so far (for `--metrics`).
///
/// `busy_secs` is the wall time of the step (its workers run in parallel), `items` the
/// segments (cut, place, register) or groups (store) it handled, `bytes` their bases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseMetrics {
    /// Step 1: finding splitters and cutting contigs into segments.
    pub cut: StageMetrics,
    /// Step 2: placing segments against the existing groups.
    pub place: StageMetrics,
    /// Step 3: registration of new groups (single-threaded).
    pub register: StageMetrics,
    /// Step 4: LZ-diff and zstd of the groups' segments.
    pub store: StageMetrics,
}

fn account(stage: &mut StageMetrics, started: Instant, items: usize, bytes: u64) {
    stage.busy_secs += started.elapsed().as_secs_f64();
    stage.items += items as u64;
    stage.bytes += bytes;
}

/// One segment placed: whole, or split in two.
type PlacedPair = (Placed, Option<Placed>);

/// A group and the segments it stores in this unit.
type StoreJob<'a> = (u32, &'a mut Group, Vec<Pending>);

/// A segment waiting for registration.
struct Pending {
    /// Sort key: sample as AGC passes it ("" with `-c`), contig name, part number.
    sample_key: String,
    contig_name: String,
    part_no: u32,
    /// Where its descriptor goes: unit sample index, contig index.
    sample: usize,
    contig: usize,
    placed: Placed,
}

impl Pending {
    fn key(&self) -> (&str, &str, u32) {
        (&self.sample_key, &self.contig_name, self.part_no)
    }
}

/// A raw segment of a contig before placement.
struct Cut {
    sample: usize,
    contig: usize,
    start: usize,
    end: usize,
    front: Option<Kmer>,
    back: Option<Kmer>,
}

/// The archive state between registration units.
pub struct Compressor {
    params: Params,
    concatenated: bool,
    threads: usize,
    splitters: SplitterSet,
    keys: HashMap<GroupKey, u32>,
    terminators: HashMap<u64, Vec<u64>>,
    groups: Vec<Group>,
    /// Adaptive mode (`-a`): every canonical k-mer of the reference, sorted.
    reference_kmers: Option<Vec<u64>>,
    phases: PhaseMetrics,
}

impl Compressor {
    /// A compressor for a new archive with the given splitters.
    pub fn new(
        params: Params,
        splitters: &[u64],
        concatenated: bool,
        threads: usize,
    ) -> Compressor {
        let mut keys = HashMap::new();
        keys.insert(RAW_KEY, 0);
        Compressor {
            params,
            concatenated,
            threads: threads.max(1),
            splitters: SplitterSet::new(splitters),
            keys,
            terminators: HashMap::new(),
            groups: (0..RAW_GROUPS).map(|_| Group::new_raw(params.pack_cardinality)).collect(),
            reference_kmers: None,
            phases: PhaseMetrics::default(),
        }
    }

    /// A compressor continuing an archive: its splitters, group keys and re-opened groups.
    pub fn reopen(
        params: Params,
        splitters: &[u64],
        keys: Vec<(GroupKey, u32)>,
        groups: Vec<Group>,
        concatenated: bool,
        threads: usize,
    ) -> Compressor {
        let mut terminators: HashMap<u64, Vec<u64>> = HashMap::new();
        for &((k1, k2), _) in &keys {
            if k1 != NO_SPLITTER && k2 != NO_SPLITTER {
                terminators.entry(k1).or_default().push(k2);
                if k1 != k2 {
                    terminators.entry(k2).or_default().push(k1);
                }
            }
        }
        for list in terminators.values_mut() {
            list.sort_unstable();
        }
        let mut key_map: HashMap<GroupKey, u32> = keys.into_iter().collect();
        key_map.insert(RAW_KEY, 0);
        Compressor {
            params,
            concatenated,
            threads: threads.max(1),
            splitters: SplitterSet::new(splitters),
            keys: key_map,
            terminators,
            groups,
            reference_kmers: None,
            phases: PhaseMetrics::default(),
        }
    }

    /// Turns on adaptive mode (`-a`) with every canonical k-mer of the reference, sorted.
    pub fn set_adaptive(&mut self, reference_kmers: Vec<u64>) {
        self.reference_kmers = Some(reference_kmers);
    }

    /// The archive parameters.
    pub fn params(&self) -> Params {
        self.params
    }

    /// The splitters, sorted (for the `splitters` stream).
    pub fn sorted_splitters(&self) -> Vec<u64> {
        self.splitters.sorted.clone()
    }

    /// Every group key with its id, sorted (for the `segment-splitters` stream).
    pub fn sorted_keys(&self) -> Vec<(GroupKey, u32)> {
        let mut v: Vec<(GroupKey, u32)> = self.keys.iter().map(|(k, v)| (*k, *v)).collect();
        v.sort_unstable();
        v
    }

    /// Number of groups so far.
    pub fn group_count(&self) -> u32 {
        self.groups.len() as u32
    }

    /// Step 1 of a unit: its segments (in adaptive mode also the new splitters it brings).
    pub fn cut_unit(&mut self, samples: &[SampleContigs]) -> CutUnit {
        self.cutter().cut_unit(samples)
    }

    /// Steps 2–4 of a unit cut by [`Compressor::cut_unit`] or [`UnitCutter::cut_unit`].
    /// While the groups store this unit's segments (step 4), `beside` runs on its own thread
    /// (after the store with one thread) with a [`UnitCutter`], so that the next unit can be
    /// cut meanwhile: cutting reads only
    /// the splitters, which storing does not touch, and the next unit's placement still
    /// waits for this unit's registration. Returns the places of the samples, the finished
    /// group parts in write order, and what `beside` returned.
    pub fn add_cut_unit<R: Send>(
        &mut self,
        samples: &[SampleContigs],
        cut: CutUnit,
        beside: impl FnOnce(&mut UnitCutter<'_>) -> R + Send,
    ) -> (Vec<SamplePlaces>, Vec<NamedPart>, R) {
        let CutUnit { cuts, bases, seconds } = cut;
        self.phases.cut.busy_secs += seconds;
        self.phases.cut.items += cuts.len() as u64;
        self.phases.cut.bytes += bases;
        let started = Instant::now();
        let placed = self.place_all(samples, &cuts);
        account(&mut self.phases.place, started, cuts.len(), bases);
        let started = Instant::now();
        let pending = self.number_parts(samples, cuts, placed);
        let segments = pending.len();
        let work = self.register(pending);
        account(&mut self.phases.register, started, segments, bases);
        let started = Instant::now();
        let groups = work.len();
        let mut places: Vec<SamplePlaces> = samples
            .iter()
            .map(|s| SamplePlaces {
                name: s.name.clone(),
                contigs: s
                    .contigs
                    .iter()
                    .map(|c| ContigPlaces { name: c.name.clone(), segments: Vec::new() })
                    .collect(),
            })
            .collect();
        let threads = self.threads;
        let mut cutter = UnitCutter(Cutter {
            params: self.params,
            threads,
            splitters: &mut self.splitters,
            reference_kmers: self.reference_kmers.as_deref(),
        });
        let groups_state = &mut self.groups;
        let (parts, beside_result) = if threads == 1 {
            // One thread asked for: one thread computes, one step after the other.
            let parts = store(groups_state, threads, work, &mut places);
            (parts, beside(&mut cutter))
        } else {
            std::thread::scope(|scope| {
                let beside = scope.spawn(|| beside(&mut cutter));
                let parts = store(groups_state, threads, work, &mut places);
                (parts, beside.join().expect("thread cutting the next unit panicked"))
            })
        };
        account(&mut self.phases.store, started, groups, bases);
        (places, parts, beside_result)
    }

    /// Heap bytes held by the groups between units: (references, LZ indexes, open packs).
    pub fn group_bytes(&self) -> (u64, u64, u64) {
        self.groups
            .iter()
            .map(Group::heap_bytes)
            .fold((0, 0, 0), |a, b| (a.0 + b.0 as u64, a.1 + b.1 as u64, a.2 + b.2 as u64))
    }

    /// Time and work of each step so far.
    pub fn phase_metrics(&self) -> &PhaseMetrics {
        &self.phases
    }

    fn cutter(&mut self) -> Cutter<'_> {
        Cutter {
            params: self.params,
            threads: self.threads,
            splitters: &mut self.splitters,
            reference_kmers: self.reference_kmers.as_deref(),
        }
    }

    /// Step 2: every segment placed, in parallel; results in cut order.
    fn place_all(&self, samples: &[SampleContigs], cuts: &[Cut]) -> Vec<(Placed, Option<Placed>)> {
        let index = GroupIndex {
            keys: &self.keys,
            terminators: &self.terminators,
            groups: &self.groups,
            k: self.params.kmer_length,
            concatenated: self.concatenated,
        };
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<PlacedPair>>> =
            Mutex::new((0..cuts.len()).map(|_| None).collect());
        let worker = || {
            let mut local = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= cuts.len() {
                    break;
                }
                let cut = &cuts[i];
                let codes =
                    samples[cut.sample].contigs[cut.contig].codes[cut.start..cut.end].to_vec();
                local.push((i, index.place(codes, cut.front, cut.back)));
            }
            let mut all = results.lock().expect("placement results");
            for (i, r) in local {
                all[i] = Some(r);
            }
        };
        run_workers(self.threads.min(cuts.len().max(1)), &worker);
        results
            .into_inner()
            .expect("placement results")
            .into_iter()
            .map(|r| r.expect("every cut placed"))
            .collect()
    }

    /// Part numbers per contig (a split segment takes two).
    fn number_parts(
        &self,
        samples: &[SampleContigs],
        cuts: Vec<Cut>,
        placed: Vec<(Placed, Option<Placed>)>,
    ) -> Vec<Pending> {
        let mut pending = Vec::with_capacity(placed.len());
        let mut next_part: HashMap<(usize, usize), u32> = HashMap::new();
        for (cut, (first, second)) in cuts.into_iter().zip(placed) {
            let sample = &samples[cut.sample];
            let contig_name = sample.contigs[cut.contig].name.clone();
            let sample_key = if self.concatenated { String::new() } else { sample.name.clone() };
            let part = next_part.entry((cut.sample, cut.contig)).or_insert(0);
            for placed in std::iter::once(first).chain(second) {
                pending.push(Pending {
                    sample_key: sample_key.clone(),
                    contig_name: contig_name.clone(),
                    part_no: *part,
                    sample: cut.sample,
                    contig: cut.contig,
                    placed,
                });
                *part += 1;
            }
        }
        pending
    }

    /// Step 3: new group ids, raw distribution, per-group sorted lists.
    fn register(&mut self, pending: Vec<Pending>) -> Vec<(u32, Option<GroupKey>, Vec<Pending>)> {
        let mut by_group: HashMap<u32, Vec<Pending>> = HashMap::new();
        let mut new_items = Vec::new();
        for p in pending {
            match p.placed.target {
                Target::Known(id) => by_group.entry(id).or_default().push(p),
                Target::New(_) => new_items.push(p),
            }
        }
        for list in by_group.values_mut() {
            list.sort_by(|a, b| a.key().cmp(&b.key()));
        }
        new_items.sort_by(|a, b| a.key().cmp(&b.key()));
        let mut new_keys: Vec<GroupKey> = Vec::new();
        let mut new_ids: HashMap<GroupKey, u32> = HashMap::new();
        let first_new = self.groups.len() as u32;
        for item in new_items {
            let Target::New(key) = item.placed.target else {
                unreachable!("only new targets here")
            };
            let id = *new_ids.entry(key).or_insert_with(|| {
                new_keys.push(key);
                first_new + new_keys.len() as u32 - 1
            });
            by_group.entry(id).or_default().push(item);
        }
        for _ in &new_keys {
            self.groups
                .push(Group::new_lz(self.params.pack_cardinality, self.params.min_match_length));
        }
        // AGC deals group 0's sorted list over groups 0..16: the i-th dealing step with a
        // destination other than 0 takes the list's next item; the items left stay in 0.
        if let Some(raw) = by_group.remove(&0) {
            let n = raw.len();
            let mut items = raw.into_iter();
            for i in 0..n {
                let dest = (i % RAW_GROUPS as usize) as u32;
                if dest != 0 {
                    let item = items.next().expect("fewer takes than items");
                    by_group.entry(dest).or_default().push(item);
                }
            }
            let rest: Vec<Pending> = items.collect();
            if !rest.is_empty() {
                by_group.insert(0, rest);
            }
        }
        let mut work: Vec<(u32, Option<GroupKey>, Vec<Pending>)> = by_group
            .into_iter()
            .map(|(id, list)| {
                let key = id.checked_sub(first_new).map(|i| new_keys[i as usize]);
                (id, key, list)
            })
            .collect();
        work.sort_by_key(|w| w.0);
        for (id, key, _) in &work {
            if let Some(key) = *key {
                self.keys.entry(key).and_modify(|g| *g = (*g).min(*id)).or_insert(*id);
                if key.0 != NO_SPLITTER && key.1 != NO_SPLITTER {
                    insert_sorted(self.terminators.entry(key.0).or_default(), key.1);
                    if key.0 != key.1 {
                        insert_sorted(self.terminators.entry(key.1).or_default(), key.0);
                    }
                }
            }
        }
        work
    }

    /// Flushes every group's open pack (end of the archive); parts in group order.
    pub fn finish(&mut self) -> Vec<NamedPart> {
        let jobs: Vec<(u32, &mut Group)> =
            self.groups.iter_mut().enumerate().map(|(i, g)| (i as u32, g)).collect();
        let results = run_group_jobs(jobs, self.threads, |compressor, (id, group)| {
            let mut parts = Vec::new();
            group.flush(compressor, &mut parts);
            (id, parts)
        });
        results
            .into_iter()
            .flat_map(|(id, parts)| {
                parts.into_iter().map(move |part| NamedPart { group: id, part })
            })
            .collect()
    }
}

/// A unit cut into segments, ready for [`Compressor::add_cut_unit`].
pub struct CutUnit {
    cuts: Vec<Cut>,
    bases: u64,
    /// Wall time of the cut.
    seconds: f64,
}

/// Cuts units (step 1) with the splitters of a [`Compressor`], on a thread of its own
/// while the compressor stores the previous unit ([`Compressor::add_cut_unit`]).
pub struct UnitCutter<'a>(Cutter<'a>);

impl UnitCutter<'_> {
    /// The segments of a unit (in adaptive mode also its new splitters).
    pub fn cut_unit(&mut self, samples: &[SampleContigs]) -> CutUnit {
        self.0.cut_unit(samples)
    }
}

/// What cutting needs: the splitters (enlarged in adaptive mode), nothing of the groups.
struct Cutter<'a> {
    params: Params,
    threads: usize,
    splitters: &'a mut SplitterSet,
    /// Adaptive mode (`-a`): every canonical k-mer of the reference, sorted.
    reference_kmers: Option<&'a [u64]>,
}

impl Cutter<'_> {
    fn cut_unit(&mut self, samples: &[SampleContigs]) -> CutUnit {
        let bases = samples.iter().flat_map(|s| &s.contigs).map(|c| c.codes.len() as u64).sum();
        let started = Instant::now();
        let mut cuts = self.cut(samples);
        if self.reference_kmers.is_some() {
            cuts = self.adapt(samples, cuts);
        }
        CutUnit { cuts, bases, seconds: started.elapsed().as_secs_f64() }
    }

    /// Step 1: splitter occurrences cut every contig into overlapping segments. Long
    /// contigs are searched in chunks on all workers; a splitter occurrence less than k
    /// bases after the previous one is then dropped, exactly as AGC's restarted k-mer does.
    fn cut(&self, samples: &[SampleContigs]) -> Vec<Cut> {
        const CHUNK: usize = 1 << 20;
        let k = self.params.kmer_length as usize;
        let mut chunks = Vec::new();
        for (si, sample) in samples.iter().enumerate() {
            for (ci, contig) in sample.contigs.iter().enumerate() {
                for start in (0..contig.codes.len()).step_by(CHUNK) {
                    chunks.push((si, ci, start, (start + CHUNK).min(contig.codes.len())));
                }
            }
        }
        let found: Vec<Mutex<Vec<(usize, Kmer)>>> =
            chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
        let next = AtomicUsize::new(0);
        let worker = || {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= chunks.len() {
                    break;
                }
                let (si, ci, start, end) = chunks[i];
                let codes = &samples[si].contigs[ci].codes;
                let mut kmer = Kmer::new(self.params.kmer_length);
                let mut hits = Vec::new();
                for (pos, &c) in
                    codes.iter().enumerate().take(end).skip(start.saturating_sub(k - 1))
                {
                    if c > 3 {
                        kmer.reset();
                        continue;
                    }
                    kmer.push(c);
                    if pos >= start && kmer.is_full() && self.splitters.contains(kmer.canonical()) {
                        hits.push((pos, kmer));
                    }
                }
                *found[i].lock().expect("chunk hits") = hits;
            }
        };
        run_workers(self.threads.min(chunks.len().max(1)), &worker);
        let mut cuts = Vec::new();
        let mut hits = found.into_iter().map(|m| m.into_inner().expect("chunk hits"));
        let mut chunk_iter = chunks.iter().peekable();
        for (si, sample) in samples.iter().enumerate() {
            for (ci, contig) in sample.contigs.iter().enumerate() {
                let mut start = 0usize;
                let mut front: Option<Kmer> = None;
                let mut last_end: Option<usize> = None;
                while let Some(&&(csi, cci, _, _)) = chunk_iter.peek() {
                    if (csi, cci) != (si, ci) {
                        break;
                    }
                    chunk_iter.next();
                    for (pos, kmer) in hits.next().expect("hits per chunk") {
                        if last_end.is_some_and(|last| pos < last + k) {
                            continue;
                        }
                        cuts.push(Cut {
                            sample: si,
                            contig: ci,
                            start,
                            end: pos + 1,
                            front,
                            back: Some(kmer),
                        });
                        start = pos + 1 - k;
                        front = Some(kmer);
                        last_end = Some(pos);
                    }
                }
                if start < contig.codes.len() {
                    cuts.push(Cut {
                        sample: si,
                        contig: ci,
                        start,
                        end: contig.codes.len(),
                        front,
                        back: None,
                    });
                }
            }
        }
        cuts
    }

    /// Adaptive mode, as AGC's `new_splitters` stage: contigs in which no splitter occurs
    /// ("hard" contigs) of at least a segment's length give new splitters (k-mers unique in
    /// the contig and absent from the reference); all of them join the splitter set, and the
    /// hard contigs — only they — are cut again with the enlarged set. Contigs are taken in
    /// input order and the new splitters merged as a set, so the result does not depend on
    /// threads.
    fn adapt(&mut self, samples: &[SampleContigs], cuts: Vec<Cut>) -> Vec<Cut> {
        let reference = self.reference_kmers.expect("adaptive mode");
        let k = self.params.kmer_length;
        let segment_size = u64::from(self.params.segment_size);
        let mut has_splitter: HashSet<(usize, usize)> = HashSet::new();
        for cut in &cuts {
            if cut.back.is_some() {
                has_splitter.insert((cut.sample, cut.contig));
            }
        }
        let mut found = Vec::new();
        for (si, sample) in samples.iter().enumerate() {
            for (ci, contig) in sample.contigs.iter().enumerate() {
                let hard = !has_splitter.contains(&(si, ci));
                if hard && contig.codes.len() as u64 >= segment_size {
                    found.extend(new_splitters(&contig.codes, k, segment_size, reference));
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found.retain(|&s| !self.splitters.contains(s));
        if found.is_empty() {
            return cuts;
        }
        self.splitters.insert(&found);
        let recut = self.cut(samples);
        let (old, new): (Vec<Cut>, Vec<Cut>) = (cuts, recut);
        let mut merged = Vec::with_capacity(old.len().max(new.len()));
        let mut new = new.into_iter().peekable();
        let mut old = old.into_iter().peekable();
        for (si, sample) in samples.iter().enumerate() {
            for ci in 0..sample.contigs.len() {
                let hard = !has_splitter.contains(&(si, ci));
                while let Some(cut) = new.next_if(|c| (c.sample, c.contig) == (si, ci)) {
                    if hard {
                        merged.push(cut);
                    }
                }
                while let Some(cut) = old.next_if(|c| (c.sample, c.contig) == (si, ci)) {
                    if !hard {
                        merged.push(cut);
                    }
                }
            }
        }
        merged
    }
}

/// Step 4: groups store their segments in parallel; parts come back in group order.
fn store(
    groups: &mut [Group],
    threads: usize,
    work: Vec<(u32, Option<GroupKey>, Vec<Pending>)>,
    places: &mut [SamplePlaces],
) -> Vec<NamedPart> {
    let mut jobs: Vec<StoreJob<'_>> = Vec::with_capacity(work.len());
    let mut work_by_id: HashMap<u32, Vec<Pending>> =
        work.into_iter().map(|(id, _, list)| (id, list)).collect();
    for (id, group) in groups.iter_mut().enumerate() {
        if let Some(list) = work_by_id.remove(&(id as u32)) {
            jobs.push((id as u32, group, list));
        }
    }
    let results = run_group_jobs(jobs, threads, |compressor, (id, group, list)| {
        let mut parts = Vec::new();
        let mut descriptors = Vec::with_capacity(list.len());
        for item in list {
            let in_group = group.add(&item.placed.codes, compressor, &mut parts);
            let place = SegmentPlace {
                group: id,
                in_group,
                reverse_complemented: item.placed.reverse_complemented,
                raw_len: item.placed.codes.len() as u32,
            };
            descriptors.push((item.sample, item.contig, item.part_no, place));
        }
        (id, (parts, descriptors))
    });
    let mut named = Vec::new();
    for (id, (parts, descriptors)) in results {
        named.extend(parts.into_iter().map(|part| NamedPart { group: id, part }));
        for (sample, contig, part_no, place) in descriptors {
            let segments = &mut places[sample].contigs[contig].segments;
            let part_no = part_no as usize;
            if segments.len() <= part_no {
                segments.resize(part_no + 1, SegmentPlace::default());
            }
            segments[part_no] = place;
        }
    }
    named
}

/// Runs `job` on every item of `jobs` on up to `threads` workers, each with its own zstd
/// contexts; the results come back sorted by the group id each job returns.
fn run_group_jobs<J: Send, R: Send>(
    jobs: Vec<J>,
    threads: usize,
    job: impl Fn(&mut PartCompressor, J) -> (u32, R) + Sync,
) -> Vec<(u32, R)> {
    let jobs: Vec<Mutex<Option<J>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let results: Mutex<Vec<(u32, R)>> = Mutex::new(Vec::with_capacity(jobs.len()));
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut compressor = PartCompressor::default();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= jobs.len() {
                break;
            }
            let taken = jobs[i].lock().expect("job").take().expect("job taken once");
            let result = job(&mut compressor, taken);
            results.lock().expect("results").push(result);
        }
    };
    run_workers(threads.min(jobs.len()).max(1), &worker);
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|r| r.0);
    results
}

/// The splitters with a one-bit-per-slot filter in front of the hash set: almost every
/// k-mer of a contig is rejected by one bit test.
struct SplitterSet {
    filter: Vec<u64>,
    set: HashSet<u64>,
    sorted: Vec<u64>,
}

impl SplitterSet {
    const FILTER_BITS: u32 = 22;

    fn slot(value: u64) -> usize {
        (value.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::FILTER_BITS)) as usize
    }

    fn new(splitters: &[u64]) -> SplitterSet {
        let mut filter = vec![0u64; (1 << Self::FILTER_BITS) / 64];
        for &s in splitters {
            let slot = Self::slot(s);
            filter[slot / 64] |= 1 << (slot % 64);
        }
        let mut sorted = splitters.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        SplitterSet { filter, set: splitters.iter().copied().collect(), sorted }
    }

    /// Adds `values` (none of them already in the set).
    fn insert(&mut self, values: &[u64]) {
        for &s in values {
            let slot = Self::slot(s);
            self.filter[slot / 64] |= 1 << (slot % 64);
            self.set.insert(s);
        }
        self.sorted.extend_from_slice(values);
        self.sorted.sort_unstable();
    }

    fn contains(&self, value: u64) -> bool {
        let slot = Self::slot(value);
        self.filter[slot / 64] >> (slot % 64) & 1 == 1 && self.set.contains(&value)
    }
}

fn insert_sorted(list: &mut Vec<u64>, value: u64) {
    let at = list.partition_point(|&x| x < value);
    list.insert(at, value);
}

/// Runs `worker` on `threads` threads (the calling thread is one of them).
fn run_workers(threads: usize, worker: &(dyn Fn() + Sync)) {
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(worker);
        }
        worker();
    });
}
