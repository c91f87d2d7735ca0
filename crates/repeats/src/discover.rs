//! Family discovery: the most frequent seed first, built in parallel, committed in order.
//!
//! ```text
//!  source: lazy max-queue of seeds ──round of ≤ round_size seeds──▶ workers: build_family
//!     ▲  (counts re-checked against the mask)                          │ (read-only: genome)
//!     └──── requeued seeds, "round done" ◀── committer (sink, seed order): claim the seed
//!                                              copies all-or-nothing, mask the elements
//! ```
//!
//! **Determinism.** The source pops seeds in priority order (count, then k-mer), re-counting each
//! one's unmasked copies; a seed whose count fell goes back into the queue (a lazy max-priority
//! queue, [`SeedQueue`]). A round's seeds are built concurrently, each from the copies that were
//! unmasked when the round began. The committer takes the results in seed order and claims every
//! seed copy of a family in the [`Bitmask`] at once; a claim fails only if a family committed
//! earlier *in the same round* masked one of them, and then the seed goes back to the queue to
//! be re-counted, exactly as a one-at-a-time run would have re-counted it. Extension and
//! re-alignment read only the genome, never the mask, so an accepted family is the family a
//! sequential run builds. The round size is a parameter, not the thread count: any `--threads`
//! gives the same output.
//!
//! **Deferral.** Seeds of one family come out of the queue together (every k-mer of a 2,000-copy
//! family has about 2,000 copies). To keep rounds from building one family sixteen times, a seed
//! whose copies sit at one fixed offset from most copies of a seed already in the round is
//! deferred to the next round, where the mask will have taken its copies. Deferral depends only
//! on the mask and the queue, so it is deterministic too.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use seqflow_genome::{Bitmask, ClaimError, Genome};
use seqflow_pipeline::{Cost, Emitter, Pipeline, Report};
use serde::Serialize;

use crate::error::Error;
use crate::family::{Family, build_family};
use crate::index::{Occurrence, SeedIndex};
use crate::params::Params;
use crate::seed_queue::{SeedQueue, SeedSlot};

/// Fewest copies at one relative placement (and at least a tenth of the seed's copies) that
/// make two seeds one family: 5'-truncated, diverged copies give the k-mers of one family quite
/// different copy sets, so requiring most copies would let one family into a round many times.
const MIN_SHARED_COPIES: usize = 3;
/// Rounds being built at once. Round r is formed against the mask as rounds ..= r − this left
/// it, and round r − this + 1 is committed only once round r is formed; deeper speculation keeps
/// workers busy while one large family is built, at the cost of more rejected seeds.
const ROUNDS_IN_FLIGHT: usize = 2;
/// Seeds a round may defer before it is closed with the seeds it has. The most frequent seeds
/// are mostly k-mers of the few largest families; looking this deep fills a round with seeds of
/// other families that can be built beside them (8 left one worker idle while the other built a
/// large family: 1.5× from 2 threads on the 20 Mb benchmark, 1.7× with 512).
const MAX_DEFERRED_PER_ROUND: usize = 512;
/// Offsets within this many bases count as the same relative placement of two seeds.
const OFFSET_TOLERANCE: i64 = 16;

/// Counters of the discovery phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiscoveryStats {
    /// Seeds discovery starts from: the index's seeds, which exclude those whose copies share
    /// nothing beside them (equal to the index's `distinct_kept`).
    pub viable_seeds: u64,
    /// Rounds run.
    pub rounds: u64,
    /// Seeds built into a family or found too short.
    pub seeds_built: u64,
    /// Families accepted.
    pub families: u64,
    /// Seeds built but rejected because an earlier family of their round took a copy.
    pub conflicts: u64,
    /// Seeds deferred because a seed of the same family was in the round.
    pub deferred: u64,
    /// Seeds re-pushed after their count fell (lazy queue updates).
    pub recounted: u64,
}

/// One accepted family with the seed it grew from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Discovered {
    pub(crate) family: Family,
    /// Genome position of the seed's first unmasked copy.
    pub(crate) first_pos: u64,
}

/// What discovery hands on.
#[derive(Debug)]
pub(crate) struct Discovery {
    pub(crate) families: Vec<Discovered>,
    pub(crate) stats: DiscoveryStats,
    pub(crate) report: Report,
}

/// A seed scheduled in a round.
#[derive(Debug)]
struct Scheduled {
    round: u64,
    round_len: usize,
    index: usize,
    count: u32,
    /// The seed's position in [`SeedIndex::seeds`]. The seeds are sorted by k-mer, so slots
    /// order seeds as their k-mers do: the queue keys on `(count, slot)` and never has to
    /// look a k-mer up (a binary search over millions of seeds, a cache miss per step, on the
    /// one thread that forms rounds).
    slot: SeedSlot,
    kmer: u64,
    copies: Vec<Occurrence>,
}

impl Cost for Scheduled {
    fn cost(&self) -> usize {
        self.copies.len() * size_of::<Occurrence>()
    }
}

/// The committer's answer at the end of a round.
#[derive(Debug, Default)]
struct RoundDone {
    requeue: Vec<(u32, SeedSlot)>,
    stop: bool,
}

/// Runs discovery over `index`, masking accepted families' elements in `mask`; `on_progress`
/// sees `(families accepted, seeds left, viable seeds)` at the start and after each round.
pub(crate) fn discover(
    genome: &Genome,
    index: &SeedIndex,
    mask: &Bitmask,
    params: &Params,
    on_progress: &mut dyn FnMut(usize, u64, u64),
) -> Result<Discovery, Error> {
    let k = index.k();
    // The queue and the reorder window hold every round in flight: the committer waits for
    // round r + ROUNDS_IN_FLIGHT - 1 to be formed before it takes round r, so smaller queues
    // would stall the source before it gets there (a deadlock). The window has one round to
    // spare so that the source never waits for a credit at all: a source that had to sleep is
    // woken only once half the window is free again (the engine refills in bursts), and with
    // the committer waiting on the source that wake-up may never come. With a window of exactly
    // ROUNDS_IN_FLIGHT rounds, 3 rounds in flight deadlocked on the 20 Mb benchmark.
    let pipeline = Pipeline::builder()
        .workers(params.threads)
        .channel_depth(ROUNDS_IN_FLIGHT * params.round_size)
        .reorder_window((ROUNDS_IN_FLIGHT + 1) * params.round_size)
        .build();
    // Source → committer: "round r is formed", so round r - ROUNDS_IN_FLIGHT + 1 may be committed.
    let (formed_tx, formed_rx) = mpsc::channel::<u64>();
    // Committer → source: round r is committed, with the seeds to re-queue.
    let (done_tx, done_rx) = mpsc::channel::<RoundDone>();
    let mut stats = DiscoveryStats::default();
    let mut source_stats = DiscoveryStats::default();
    let mut families = Vec::new();
    let mut pending = RoundDone::default();
    let mut committable = 0u64; // rounds up to this one may be committed
    let started = std::time::Instant::now();
    // The index holds only seeds that may extend (`SeedIndex::build_filtered`).
    SeedSlot::try_from(index.seeds().len()).expect("fewer than 2^32 seeds");
    let queue = SeedQueue::new(index.seeds().iter().map(|s| s.count));
    stats.viable_seeds = queue.len() as u64;
    // Seeds still in the source's queue, for progress only (the result never reads it).
    let seeds_left = AtomicU64::new(stats.viable_seeds);
    let seeds_left_ref = &seeds_left;
    on_progress(0, stats.viable_seeds, stats.viable_seeds);
    tracing::debug!(seeds = queue.len(), secs = started.elapsed().as_secs_f64(), "viable seeds");
    let source_stats_ref = &mut source_stats;
    let outcome = pipeline.run_ordered(
        move |emit: &mut Emitter<Scheduled>| -> Result<(), Error> {
            let source_stats = source_stats_ref;
            let mut queue = queue;
            // Up to ROUNDS_IN_FLIGHT rounds are built at once: round r is formed against the
            // mask as rounds ..= r - ROUNDS_IN_FLIGHT left it, and the committer starts on the
            // next round only once round r is formed, so the mask read here is always the same.
            let (mut formed, mut committed) = (0u64, 0u64);
            let mut in_flight: VecDeque<(u64, Vec<Vec<Occurrence>>)> = VecDeque::new();
            loop {
                if formed >= committed + ROUNDS_IN_FLIGHT as u64 {
                    match wait_done(&done_rx, emit, &mut queue) {
                        Some(false) => committed += 1,
                        _ => return Ok(()),
                    }
                }
                while in_flight.front().is_some_and(|(round, _)| *round <= committed) {
                    in_flight.pop_front();
                }
                let scheduled: Vec<&Vec<Occurrence>> =
                    in_flight.iter().flat_map(|(_, copies)| copies).collect();
                let round = next_round(&mut queue, index, mask, params, &scheduled, source_stats);
                seeds_left_ref.store(queue.len() as u64, Ordering::Relaxed);
                if round.is_empty() {
                    // Nothing new to build yet: let every round in flight be committed, wait for
                    // all of them, and form again from the fully committed mask (still the same
                    // state on every run).
                    if formed == committed {
                        return Ok(());
                    }
                    if formed_tx.send(formed + ROUNDS_IN_FLIGHT as u64 - 1).is_err() {
                        return Ok(());
                    }
                    while committed < formed {
                        match wait_done(&done_rx, emit, &mut queue) {
                            Some(false) => committed += 1,
                            _ => return Ok(()),
                        }
                    }
                    continue;
                }
                formed += 1;
                if formed_tx.send(formed).is_err() {
                    return Ok(());
                }
                source_stats.rounds += 1;
                let round_len = round.len();
                in_flight.push_back((formed, round.iter().map(|(_, _, c)| c.clone()).collect()));
                for (i, (count, slot, copies)) in round.into_iter().enumerate() {
                    let kmer = index.seeds()[slot as usize].kmer;
                    let item =
                        Scheduled { round: formed, round_len, index: i, count, slot, kmer, copies };
                    if emit.send(item).is_err() {
                        return Ok(());
                    }
                }
            }
        },
        |_| (),
        |_: &mut (), item: Scheduled| -> Result<_, Error> {
            let started = std::time::Instant::now();
            let family = build_family(genome, index, item.kmer, &item.copies, params);
            tracing::debug!(
                seed = item.kmer,
                copies = item.copies.len(),
                consensus = family.as_ref().map_or(0, |f| f.consensus.len()),
                elements = family.as_ref().map_or(0, |f| f.elements.len()),
                micros = started.elapsed().as_micros() as u64,
                "built"
            );
            Ok((item, family))
        },
        |(item, family): (Scheduled, Option<Family>)| -> Result<(), Error> {
            // Round r is committed only once round r + 1 is formed (or the source has ended).
            while committable < item.round {
                match formed_rx.recv() {
                    Ok(formed) => {
                        committable =
                            committable.max(formed.saturating_sub(ROUNDS_IN_FLIGHT as u64 - 1));
                    }
                    Err(_) => committable = u64::MAX,
                }
            }
            if claim_copies(mask, &item.copies, k)? {
                stats.seeds_built += 1;
                if let Some(family) = family {
                    for element in &family.elements {
                        mask.set_range(element.start..element.end);
                    }
                    families.push(Discovered { family, first_pos: item.copies[0].pos() });
                    stats.families += 1;
                }
            } else {
                stats.conflicts += 1;
                pending.requeue.push((item.count, item.slot));
            }
            if item.index + 1 == item.round_len {
                on_progress(families.len(), seeds_left.load(Ordering::Relaxed), stats.viable_seeds);
                let mut done = std::mem::take(&mut pending);
                done.stop = families.len() >= params.max_families;
                // The source may have stopped already (cancelled); nothing then waits.
                let _ = done_tx.send(done);
            }
            Ok(())
        },
    );
    let outcome = outcome.map_err(Error::from_pipeline)?;
    stats.rounds = source_stats.rounds;
    stats.deferred = source_stats.deferred;
    stats.recounted = source_stats.recounted;
    families.truncate(params.max_families);
    Ok(Discovery { families, stats, report: outcome.report })
}

/// Waits for the committer to finish a round and re-queues its rejected seeds; `Some(stop)`,
/// or `None` if the pipeline was cancelled.
fn wait_done(
    done: &mpsc::Receiver<RoundDone>,
    emit: &Emitter<Scheduled>,
    queue: &mut SeedQueue,
) -> Option<bool> {
    let round = loop {
        match done.recv_timeout(Duration::from_millis(50)) {
            Ok(round) => break round,
            Err(mpsc::RecvTimeoutError::Timeout) if !emit.is_cancelled() => continue,
            Err(_) => return None,
        }
    };
    queue.extend(round.requeue);
    Some(round.stop)
}

/// Pops the next round: up to `round_size` seeds whose current count (unmasked copies) equals
/// their queue key and which do not belong to a family already in the round or in the round
/// still being built (`in_flight`).
fn next_round(
    queue: &mut SeedQueue,
    index: &SeedIndex,
    mask: &Bitmask,
    params: &Params,
    in_flight: &[&Vec<Occurrence>],
    stats: &mut DiscoveryStats,
) -> Vec<(u32, SeedSlot, Vec<Occurrence>)> {
    let k = index.k() as u64;
    let mut round: Vec<(u32, SeedSlot, Vec<Occurrence>)> = Vec::new();
    let mut deferred = Vec::new();
    while round.len() < params.round_size {
        let Some((count, slot)) = queue.pop() else { break };
        let seed = &index.seeds()[slot as usize];
        let copies: Vec<Occurrence> = index
            .occurrences(seed)
            .iter()
            .copied()
            .filter(|o| mask.is_range_free(o.pos()..o.pos() + k))
            .collect();
        let now = copies.len() as u32;
        if now < params.min_freq {
            continue;
        }
        if now < count {
            stats.recounted += 1;
            queue.push(now, slot);
            continue;
        }
        let window = params.max_extend as i64;
        let scheduled = round.iter().map(|(_, _, copies)| copies).chain(in_flight.iter().copied());
        if scheduled.into_iter().any(|other| same_family(&copies, other, window)) {
            stats.deferred += 1;
            deferred.push((now, slot));
            // The seeds next in line all belong to families in flight: build what we have
            // rather than digging deeper (each deferral costs a comparison with the round).
            if deferred.len() >= MAX_DEFERRED_PER_ROUND {
                break;
            }
            continue;
        }
        round.push((now, slot, copies));
    }
    queue.extend(deferred);
    round
}

/// Whether enough of `copies` sit at one fixed offset and relative strand from copies of
/// `other` (both sorted by position), within `window` bases: then they are k-mers of one family.
fn same_family(copies: &[Occurrence], other: &[Occurrence], window: i64) -> bool {
    let mut placements: Vec<(bool, i64)> = Vec::new();
    for copy in copies {
        let pos = copy.pos() as i64;
        let from = other.partition_point(|o| (o.pos() as i64) < pos - window);
        for o in other[from..].iter().take_while(|o| (o.pos() as i64) <= pos + window) {
            let offset = pos - o.pos() as i64;
            // On the reverse strand the offset in the family's frame changes sign.
            let flipped = copy.is_reverse() != o.is_reverse();
            let offset = if o.is_reverse() { -offset } else { offset };
            placements.push((flipped, offset));
        }
    }
    placements.sort_unstable();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..placements.len() {
        while placements[lo].0 != placements[hi].0
            || placements[hi].1 - placements[lo].1 > OFFSET_TOLERANCE
        {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best >= MIN_SHARED_COPIES && best * 10 >= copies.len()
}

/// Claims the k-mer range of every copy at once (overlapping copies merged); `false` and
/// nothing claimed if any base is taken.
fn claim_copies(mask: &Bitmask, copies: &[Occurrence], k: usize) -> Result<bool, Error> {
    let mut ranges: Vec<std::ops::Range<u64>> = Vec::with_capacity(copies.len());
    for copy in copies {
        let range = copy.pos()..copy.pos() + k as u64;
        match ranges.last_mut() {
            Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
            _ => ranges.push(range),
        }
    }
    let mut guards = Vec::with_capacity(ranges.len());
    for range in ranges {
        match mask.claim_range_spanning(range) {
            Ok(guard) => guards.push(guard),
            Err(ClaimError::Conflict { .. }) => return Ok(false), // guards roll back on drop
            Err(other) => return Err(Error::Internal(other.to_string())),
        }
    }
    guards.into_iter().for_each(|g| g.keep());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_at_a_fixed_offset_on_both_strands_are_one_family() {
        let a: Vec<Occurrence> = [(1000, false), (5000, true), (9000, false)]
            .map(|(p, r)| Occurrence::new(p, r))
            .to_vec();
        // 30 bases to the right in the family frame: +30 forward, -30 on the reverse copy.
        let b: Vec<Occurrence> = [(1030, false), (4970, true), (9030, false)]
            .map(|(p, r)| Occurrence::new(p, r))
            .to_vec();
        assert!(same_family(&b, &a, 10_000));
        let unrelated: Vec<Occurrence> = [(1300, false), (5600, true), (9010, true)]
            .map(|(p, r)| Occurrence::new(p, r))
            .to_vec();
        assert!(!same_family(&unrelated, &a, 10_000));
    }

    #[test]
    fn claims_are_all_or_nothing() {
        let mask = Bitmask::new(1000);
        mask.set_range(500..510);
        let copies =
            [Occurrence::new(10, false), Occurrence::new(12, true), Occurrence::new(505, false)];
        assert!(!claim_copies(&mask, &copies, 14).unwrap());
        assert!(mask.is_range_free(0..500), "a failed claim leaves nothing behind");
        assert!(claim_copies(&mask, &copies[..2], 14).unwrap());
        assert!(!mask.is_range_free(10..26));
    }
}
