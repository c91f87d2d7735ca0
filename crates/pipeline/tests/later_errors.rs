//! Errors after the first one are not lost: they are logged at debug level.
//!
//! Its own test binary, because it installs a global `tracing` subscriber (the errors are raised
//! on pipeline threads, which a thread-local default would not see).

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use seqflow_pipeline::{Emitter, Pipeline, PipelineError};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

static DEBUG_EVENTS: AtomicUsize = AtomicUsize::new(0);
static MESSAGES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Counts debug events and keeps their fields.
struct Recorder;

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() == Level::DEBUG {
            DEBUG_EVENTS.fetch_add(1, Ordering::SeqCst);
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            MESSAGES.lock().unwrap().push(fields.0);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn later_errors_are_logged_at_debug() {
    tracing::subscriber::set_global_default(Recorder).unwrap();
    let p = Pipeline::builder().workers(2).channel_depth(2).build();
    // The sink fails first; the endless source then gets `Cancelled` and returns it as its own
    // error, which must be logged, not returned and not silently dropped.
    let err = p
        .run_ordered(
            |emit: &mut Emitter<u64>| -> Result<(), io::Error> {
                for i in 0.. {
                    emit.send(i)?;
                }
                Ok(())
            },
            |_| (),
            |_, i| Ok::<_, io::Error>(i),
            |i| {
                if i == 10 { Err(io::Error::other("sink failed first")) } else { Ok(()) }
            },
        )
        .unwrap_err();
    assert!(matches!(err, PipelineError::Sink(_)), "{err:?}");
    assert!(DEBUG_EVENTS.load(Ordering::SeqCst) >= 1);
    let messages = MESSAGES.lock().unwrap();
    assert!(
        messages.iter().any(|m| m.contains("Source") && m.contains("Interrupted")),
        "{messages:?}"
    );
}
