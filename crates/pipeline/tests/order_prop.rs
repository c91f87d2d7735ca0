//! Property: an ordered run writes outputs in source order whatever the completion order.

use std::io;
use std::thread;
use std::time::Duration;

use proptest::prelude::*;
use seqflow_pipeline::{Emitter, Pipeline};

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn ordered_output_equals_input(
        delays in prop::collection::vec(0u64..300, 0..60),
        workers in 1usize..5,
        depth in 1usize..5,
        window in 1usize..10,
    ) {
        let p = Pipeline::builder()
            .workers(workers)
            .channel_depth(depth)
            .reorder_window(window)
            .build();
        let n = delays.len();
        let mut out = Vec::with_capacity(n);
        let outcome = p.run_ordered(
            |emit: &mut Emitter<usize>| -> Result<(), io::Error> {
                for i in 0..n {
                    emit.send(i)?;
                }
                Ok(())
            },
            |_| (),
            |_, i| {
                thread::sleep(Duration::from_micros(delays[i]));
                Ok::<_, io::Error>((i, delays[i]))
            },
            |v| {
                out.push(v);
                Ok(())
            },
        ).unwrap();
        let expected: Vec<_> = delays.iter().copied().enumerate().collect();
        prop_assert_eq!(out, expected);
        prop_assert!(outcome.report.reorder_pending_max <= window);
    }
}
