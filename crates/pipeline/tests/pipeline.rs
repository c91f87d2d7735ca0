//! End-to-end tests of the pipeline: delivery, ordering, bounds, metrics, failures.

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seqflow_pipeline::{
    Cancelled, Emitter, Outcome, Pipeline, PipelineError, Pool, PoolGuard, Stage, Weighted,
};

/// Runs `f` on its own thread and fails the test if it takes more than `secs` seconds:
/// "must error, never hang".
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(value) => {
            handle.join().unwrap();
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("pipeline hung for {secs} s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(handle.join().unwrap_err())
        }
    }
}

fn pipeline(workers: usize, depth: usize) -> Pipeline {
    Pipeline::builder().workers(workers).channel_depth(depth).build()
}

/// Source of `n` numbered items.
fn numbers(n: u64) -> impl FnOnce(&mut Emitter<u64>) -> Result<(), io::Error> + Send {
    move |emit| {
        for i in 0..n {
            emit.send(i)?;
        }
        Ok(())
    }
}

/// Every item arrives exactly once, for every worker count, channel depth and mode, with random
/// per-item delays so completion order differs from source order; ordered runs keep source order.
#[test]
fn stress_exactly_once_and_in_order() {
    within(60, || {
        for workers in [1, 2, 8] {
            for depth in [1, 4] {
                for ordered in [false, true] {
                    let seed = (workers * 10 + depth) as u64 + u64::from(ordered) * 100;
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    const N: u64 = 300;
                    let delays: Vec<u64> = (0..N)
                        .map(|_| if rng.random_bool(0.3) { rng.random_range(0..300) } else { 0 })
                        .collect();
                    let p = pipeline(workers, depth);
                    let mut seen = Vec::with_capacity(N as usize);
                    let work = |count: &mut u64, i: u64| -> Result<u64, io::Error> {
                        thread::sleep(Duration::from_micros(delays[i as usize]));
                        *count += 1;
                        Ok(i * 2)
                    };
                    let sink = |v: u64| {
                        seen.push(v / 2);
                        Ok(())
                    };
                    let outcome = if ordered {
                        p.run_ordered(numbers(N), |_| 0u64, work, sink)
                    } else {
                        p.run_unordered(numbers(N), |_| 0u64, work, sink)
                    }
                    .unwrap();
                    let case = format!("workers {workers} depth {depth} ordered {ordered}");
                    assert_eq!(outcome.states.len(), workers, "{case}");
                    assert_eq!(outcome.states.iter().sum::<u64>(), N, "{case}");
                    if ordered {
                        assert_eq!(seen, (0..N).collect::<Vec<_>>(), "{case}");
                        assert!(outcome.report.reorder_pending_max <= p.reorder_window());
                    } else {
                        seen.sort_unstable();
                        assert_eq!(seen, (0..N).collect::<Vec<_>>(), "{case}");
                    }
                    assert_eq!(outcome.report.sink.items, N, "{case}");
                    assert_eq!(outcome.report.work.items, N, "{case}");
                }
            }
        }
    });
}

#[test]
fn pipeline_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pipeline>();
    assert_send_sync::<Pool<Vec<u8>>>();
    assert_send_sync::<seqflow_pipeline::PriorityQueue<Vec<u8>>>();
}

/// Unordered output really is in completion order: a slow first item comes out last.
#[test]
fn unordered_does_not_wait_for_slow_items() {
    let p = pipeline(2, 4);
    let mut seen = Vec::new();
    p.run_unordered(
        numbers(20),
        |_| (),
        |_, i| {
            if i == 0 {
                thread::sleep(Duration::from_millis(100));
            }
            Ok::<_, io::Error>(i)
        },
        |i| {
            seen.push(i);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen.len(), 20);
    assert_eq!(*seen.last().unwrap(), 0);
}

/// Worker states are built once per worker, by index, reused, and returned in index order.
#[test]
fn states_built_once_and_returned_by_index() {
    let inits = AtomicUsize::new(0);
    let p = pipeline(4, 2);
    let Outcome { states, report } = p
        .run_ordered(
            numbers(100),
            |index| {
                inits.fetch_add(1, Ordering::SeqCst);
                (index, 0u64)
            },
            |state: &mut (usize, u64), i| {
                state.1 += 1;
                Ok::<_, io::Error>(i)
            },
            |_| Ok(()),
        )
        .unwrap();
    assert_eq!(inits.load(Ordering::SeqCst), 4);
    assert_eq!(states.iter().map(|s| s.0).collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(states.iter().map(|s| s.1).sum::<u64>(), 100);
    let per_worker: Vec<u64> = report.per_worker.iter().map(|m| m.items).collect();
    assert_eq!(per_worker, states.iter().map(|s| s.1).collect::<Vec<_>>());
}

/// The credit window: the source is never more than `window` items ahead of the sink, even
/// when the first item is very slow, and the run completes.
#[test]
fn reorder_window_stalls_source_behind_slow_item() {
    within(20, || {
        const WINDOW: usize = 3;
        let p = Pipeline::builder().workers(4).channel_depth(8).reorder_window(WINDOW).build();
        let written = AtomicU64::new(0);
        let max_ahead = AtomicU64::new(0);
        let outcome = p
            .run_ordered(
                |emit: &mut Emitter<u64>| -> Result<(), io::Error> {
                    for i in 0..50 {
                        emit.send(i)?;
                        let ahead = emit.items_sent() - written.load(Ordering::SeqCst);
                        max_ahead.fetch_max(ahead, Ordering::SeqCst);
                    }
                    Ok(())
                },
                |_| (),
                |_, i| {
                    if i % 10 == 0 {
                        thread::sleep(Duration::from_millis(20));
                    }
                    Ok::<_, io::Error>(i)
                },
                |_| {
                    written.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                },
            )
            .unwrap();
        let ahead = max_ahead.load(Ordering::SeqCst);
        assert!(ahead <= WINDOW as u64, "source {ahead} items ahead, window {WINDOW}");
        assert_eq!(ahead, WINDOW as u64, "the slow item should have filled the window");
        assert!(outcome.report.reorder_pending_max <= WINDOW);
        assert!(outcome.report.source.blocked_send_secs > 0.0);
    });
}

/// Queued bytes never exceed the budget; slow workers keep the queue full so the bound is hit.
#[test]
fn queued_bytes_stay_within_budget() {
    const BUDGET: usize = 1000;
    let p = Pipeline::builder().workers(2).channel_depth(64).max_queued_bytes(BUDGET).build();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let costs: Vec<usize> = (0..200).map(|_| rng.random_range(1..=BUDGET / 3)).collect();
    let total: usize = costs.iter().sum();
    let outcome = p
        .run_unordered(
            |emit: &mut Emitter<Weighted<usize>>| -> Result<(), io::Error> {
                for &c in &costs {
                    emit.send(Weighted::new(c, c))?;
                }
                Ok(())
            },
            |_| (),
            |_, w| {
                thread::sleep(Duration::from_micros(50));
                Ok::<_, io::Error>(w.value)
            },
            |_| Ok(()),
        )
        .unwrap();
    let r = &outcome.report;
    assert!(r.queued_bytes_peak as usize <= BUDGET, "peak {} > {BUDGET}", r.queued_bytes_peak);
    assert!(
        r.queued_bytes_peak as usize > BUDGET / 2,
        "queue never filled: {}",
        r.queued_bytes_peak
    );
    assert_eq!(r.source.bytes as usize, total);
    assert_eq!(r.sink.bytes as usize, total);
    assert!(r.source.blocked_send_secs > 0.0, "source never blocked on the byte budget");
    // The channel (64 items) is not what bounded the queue.
    assert!(r.work.queue_depth_max < 64);
}

/// An item larger than the whole budget goes through alone instead of deadlocking.
#[test]
fn oversize_item_is_admitted_alone() {
    within(10, || {
        const BUDGET: usize = 100;
        let p = Pipeline::builder().workers(1).channel_depth(16).max_queued_bytes(BUDGET).build();
        let costs = [10, 20, 5000, 30, 40, 7000, 10];
        let mut seen = Vec::new();
        let outcome = p
            .run_ordered(
                |emit: &mut Emitter<Weighted<usize>>| -> Result<(), io::Error> {
                    for c in costs {
                        emit.send(Weighted::new(c, c))?;
                    }
                    Ok(())
                },
                |_| (),
                |_, w| {
                    thread::sleep(Duration::from_millis(2));
                    Ok::<_, io::Error>(w.value)
                },
                |c| {
                    seen.push(c);
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(seen, costs);
        // The peak is exactly the biggest item: it was never queued with anything else.
        assert_eq!(outcome.report.queued_bytes_peak, 7000);
    });
}

/// Metrics and progress: counters add up, the report serializes, the callback sees progress.
#[test]
fn report_and_progress() {
    let calls = std::sync::Arc::new(Mutex::new(Vec::new()));
    let p = {
        let calls = calls.clone();
        Pipeline::builder()
            .workers(2)
            .channel_depth(2)
            .on_progress(move |prog| calls.lock().unwrap().push(*prog))
            .build()
    };
    let outcome = p
        .run_ordered(
            |emit: &mut Emitter<Vec<u8>>| -> Result<(), io::Error> {
                for _ in 0..10 {
                    emit.send(Vec::with_capacity(100))?;
                    emit.progress(100);
                }
                Ok(())
            },
            |_| (),
            |_, v| {
                thread::sleep(Duration::from_millis(1));
                Ok::<_, io::Error>(v.capacity())
            },
            |_| Ok(()),
        )
        .unwrap();
    let r = &outcome.report;
    assert_eq!(r.input_bytes, 1000);
    assert_eq!((r.source.items, r.source.bytes), (10, 1000));
    assert_eq!((r.work.items, r.work.bytes), (10, 1000));
    assert_eq!((r.sink.items, r.sink.bytes), (10, 1000));
    assert!(r.work.busy_secs >= 0.009, "busy {}", r.work.busy_secs);
    assert!(r.wall_secs > 0.0);
    assert_eq!(r.per_worker.len(), 2);
    assert_eq!(r.reorder_window, Some(p.reorder_window()));
    let json = serde_json::to_string(r).unwrap();
    assert!(json.contains("\"blocked_recv_secs\""), "{json}");
    assert!(json.contains("\"queue_depth_mean\""), "{json}");
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 10);
    assert_eq!(calls.last().unwrap().input_bytes, 1000);
    assert_eq!(calls.last().unwrap().items_sent, 10);
    assert!(calls.windows(2).all(|w| w[0].input_bytes < w[1].input_bytes));
}

/// Pooled buffers as items: never more than the pool size alive, all returned at the end.
#[test]
fn pooled_buffers_bound_memory() {
    within(10, || {
        let pool = Pool::from_fn(3, || Vec::<u8>::with_capacity(64));
        let live = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let p = pipeline(2, 4);
        let mut total = 0usize;
        p.run_ordered(
            |emit: &mut Emitter<PoolGuard<Vec<u8>>>| -> Result<(), io::Error> {
                for i in 0..100u8 {
                    let mut buf = pool.take().map_err(io::Error::other)?;
                    let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    buf.clear();
                    buf.push(i);
                    emit.send(buf)?;
                }
                Ok(())
            },
            |_| (),
            |_, buf| {
                let v = buf[0];
                live.fetch_sub(1, Ordering::SeqCst);
                drop(buf);
                Ok::<_, io::Error>(v)
            },
            |v| {
                total += usize::from(v);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(total, (0..100).sum::<usize>());
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!(pool.available(), 3);
    });
}

// ---- failures: each must return the right error, promptly, never hang ----

fn expect_err<S: std::fmt::Debug>(
    r: Result<Outcome<S>, PipelineError<io::Error>>,
) -> PipelineError<io::Error> {
    match r {
        Ok(o) => panic!("expected an error, got {o:?}"),
        Err(e) => e,
    }
}

/// An endless source: only cancellation can stop it.
fn endless(emit: &mut Emitter<u64>) -> Result<(), io::Error> {
    for i in 0.. {
        emit.send(i)?;
    }
    Ok(())
}

#[test]
fn worker_error_cancels_endless_source() {
    for ordered in [false, true] {
        let err = within(10, move || {
            let p = pipeline(3, 2);
            let work = |_: &mut (), i: u64| {
                if i == 57 { Err(io::Error::other("bad item 57")) } else { Ok(i) }
            };
            let r = if ordered {
                p.run_ordered(endless, |_| (), work, |_| Ok(()))
            } else {
                p.run_unordered(endless, |_| (), work, |_| Ok(()))
            };
            expect_err(r)
        });
        let PipelineError::Worker { index, error } = &err else { panic!("wrong error {err:?}") };
        assert!(*index < 3);
        assert_eq!(error.to_string(), "bad item 57");
        assert!(err.to_string().starts_with(&format!("pipeline worker {index} failed")));
    }
}

#[test]
fn worker_panic_is_caught_and_reported() {
    for ordered in [false, true] {
        let err = within(10, move || {
            let p = pipeline(2, 1);
            let work = |_: &mut (), i: u64| -> Result<u64, io::Error> {
                assert!(i != 5, "worker exploded on {i}");
                Ok(i)
            };
            let r = if ordered {
                p.run_ordered(endless, |_| (), work, |_| Ok(()))
            } else {
                p.run_unordered(endless, |_| (), work, |_| Ok(()))
            };
            expect_err(r)
        });
        let PipelineError::Panic { stage: Stage::Worker(_), message } = &err else {
            panic!("wrong error {err:?}")
        };
        assert!(message.contains("worker exploded on 5"), "{message}");
    }
}

#[test]
fn init_panic_is_caught() {
    let err = within(10, || {
        expect_err(pipeline(3, 1).run_ordered(
            endless,
            |index| assert_ne!(index, 2, "no state for worker 2"),
            |_, i| Ok::<_, io::Error>(i),
            |_| Ok(()),
        ))
    });
    assert!(
        matches!(&err, PipelineError::Panic { stage: Stage::Worker(2), message } if message.contains("no state")),
        "{err:?}"
    );
}

#[test]
fn sink_error_stops_endless_source() {
    let err = within(10, || {
        let mut n = 0;
        expect_err(pipeline(2, 2).run_ordered(
            endless,
            |_| (),
            |_, i| Ok::<_, io::Error>(i),
            move |_| {
                n += 1;
                if n == 100 {
                    Err(io::Error::new(io::ErrorKind::BrokenPipe, "reader went away"))
                } else {
                    Ok(())
                }
            },
        ))
    });
    assert!(
        matches!(&err, PipelineError::Sink(e) if e.kind() == io::ErrorKind::BrokenPipe),
        "{err:?}"
    );
    assert_eq!(err.stage(), Some(Stage::Sink));
}

#[test]
fn sink_panic_is_caught() {
    let err = within(10, || {
        expect_err(pipeline(2, 2).run_unordered(
            endless,
            |_| (),
            |_, i| Ok::<_, io::Error>(i),
            |i| {
                assert!(i < 10, "sink gave up");
                Ok(())
            },
        ))
    });
    assert!(matches!(&err, PipelineError::Panic { stage: Stage::Sink, .. }), "{err:?}");
}

/// The consumer stopping early while the workers are blocked on a full output channel and the
/// source on a full work queue and an exhausted window: everything unwinds.
#[test]
fn consumer_stops_early_with_everything_blocked() {
    let err = within(10, || {
        let p = Pipeline::builder().workers(4).channel_depth(1).reorder_window(2).build();
        expect_err(p.run_ordered(
            endless,
            |_| (),
            |_, i| Ok::<_, io::Error>(i),
            |i| {
                if i == 3 {
                    thread::sleep(Duration::from_millis(50)); // let everything fill up and block
                    return Err(io::Error::other("consumer closed"));
                }
                Ok(())
            },
        ))
    });
    assert!(matches!(err, PipelineError::Sink(_)), "{err:?}");
}

#[test]
fn source_error_is_returned_after_drain() {
    let (err, seen) = within(10, || {
        let mut seen = 0;
        let r = pipeline(2, 2).run_ordered(
            |emit: &mut Emitter<u64>| {
                for i in 0..10 {
                    emit.send(i)?;
                }
                Err(io::Error::new(io::ErrorKind::InvalidData, "truncated input"))
            },
            |_| (),
            |_, i| Ok::<_, io::Error>(i),
            |_| {
                seen += 1;
                Ok(())
            },
        );
        (expect_err(r), seen)
    });
    assert!(matches!(&err, PipelineError::Source(e) if e.kind() == io::ErrorKind::InvalidData));
    assert_eq!(err.to_string(), "pipeline source failed: truncated input");
    assert!(seen <= 10);
}

#[test]
fn source_panic_is_caught() {
    let err = within(10, || {
        expect_err(pipeline(2, 2).run_unordered(
            |emit: &mut Emitter<u64>| -> Result<(), io::Error> {
                emit.send(1)?;
                panic!("source exploded")
            },
            |_| (),
            |_, i| Ok::<_, io::Error>(i),
            |_| Ok(()),
        ))
    });
    assert!(
        matches!(&err, PipelineError::Panic { stage: Stage::Source, message } if message == "source exploded")
    );
}

/// After a failure, `send` reports `Cancelled` to the source, and the source's own error
/// (converted from it) does not replace the original one.
#[test]
fn source_sees_cancelled_and_first_error_wins() {
    let saw_cancelled = AtomicUsize::new(0);
    let err = within(10, {
        let saw = std::sync::Arc::new(saw_cancelled);
        let saw2 = saw.clone();
        move || {
            let r = pipeline(2, 1).run_unordered(
                |emit: &mut Emitter<u64>| -> Result<(), io::Error> {
                    for i in 0.. {
                        if let Err(Cancelled) = emit.send(i) {
                            saw2.fetch_add(1, Ordering::SeqCst);
                            assert!(emit.is_cancelled());
                            return Err(Cancelled.into());
                        }
                    }
                    Ok(())
                },
                |_| (),
                |_, i| if i == 20 { Err(io::Error::other("first")) } else { Ok(i) },
                |_| Ok(()),
            );
            assert_eq!(saw.load(Ordering::SeqCst), 1);
            expect_err(r)
        }
    });
    assert!(
        matches!(&err, PipelineError::Worker { error, .. } if error.to_string() == "first"),
        "{err:?}"
    );
}

/// A source blocked in `Pool::take` while every buffer sits in the pipeline is released when a
/// worker fails: the queued items (and their buffers) are dropped.
#[test]
fn source_blocked_on_pool_is_released_on_failure() {
    let err = within(10, || {
        let pool = Pool::from_fn(2, Vec::<u8>::new);
        let r = pipeline(1, 4).run_unordered(
            |emit: &mut Emitter<PoolGuard<Vec<u8>>>| -> Result<(), io::Error> {
                loop {
                    let buf = pool.take().map_err(io::Error::other)?;
                    emit.send(buf)?;
                }
            },
            |_| (),
            |_, _buf| -> Result<(), io::Error> {
                thread::sleep(Duration::from_millis(20));
                Err(io::Error::other("decode failed"))
            },
            |_| Ok(()),
        );
        assert_eq!(pool.available(), 2, "buffers leaked");
        expect_err(r)
    });
    assert!(matches!(err, PipelineError::Worker { index: 0, .. }), "{err:?}");
}

/// Pooled buffers passed through as outputs are queued or held when the sink fails while the
/// source is blocked on the empty pool: the run ends and every buffer comes back.
#[test]
fn pooled_outputs_are_returned_when_the_sink_fails() {
    let err = within(10, || {
        let pool = Pool::from_fn(2, Vec::<u8>::new);
        let mut first = true;
        let r = pipeline(2, 4).run_unordered(
            |emit: &mut Emitter<PoolGuard<Vec<u8>>>| -> Result<(), io::Error> {
                loop {
                    let buf = pool.take().map_err(io::Error::other)?;
                    emit.send(buf)?;
                }
            },
            |_| (),
            |_, buf| Ok::<_, io::Error>(buf),
            |_buf| {
                if first {
                    first = false;
                    thread::sleep(Duration::from_millis(50)); // the second buffer queues up
                    return Err(io::Error::other("disk full"));
                }
                Ok(())
            },
        );
        assert_eq!(pool.available(), 2, "buffers leaked");
        expect_err(r)
    });
    assert!(matches!(err, PipelineError::Sink(_)), "{err:?}");
}
