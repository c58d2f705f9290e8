//! Test helpers shared by the unit tests and the integration binary (`tests/it`, which includes
//! this file by path): the vendor-schema check, tally queries, an error's whole chain on one
//! line, and logs captured at trace level.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use jiff::Timestamp;
use sla_core::ports::TallyQuery;
use sla_core::{Granularity, QueueId, Threshold, TimeWindow, Zone};

/// The vendor schema's `$defs`, read from the repository.
fn schema_defs() -> &'static serde_json::Value {
    static DEFS: OnceLock<serde_json::Value> = OnceLock::new();
    DEFS.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schemas/genesys/contract.schema.json"
        );
        let text = std::fs::read_to_string(path).expect("the vendor schema is in the repository");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
        schema["$defs"].clone()
    })
}

/// Asserts that `instance` is valid against `$defs/<model>` of the vendor schema.
#[track_caller]
pub(crate) fn assert_valid(model: &str, instance: &serde_json::Value) {
    let schema = serde_json::json!({"$defs": schema_defs(), "$ref": format!("#/$defs/{model}")});
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{model}: {errors:#?}\n{instance:#}");
}

/// `queues`, all media, from `from` to `to` in `zone`, answered within each of `thresholds_ms`,
/// with abandons shorter than `short_abandon_ms` counted apart.
pub(crate) fn tally_query_of(
    queues: Vec<QueueId>,
    zone: &str,
    (from, to): (Timestamp, Timestamp),
    granularity: Granularity,
    thresholds_ms: &[u64],
    short_abandon_ms: u64,
) -> TallyQuery {
    TallyQuery {
        queues,
        media: Vec::new(),
        window: TimeWindow::new(from, to).unwrap(),
        zone: Zone::get(zone).unwrap(),
        granularity,
        thresholds: thresholds_ms
            .iter()
            .map(|ms| Threshold::from_millis(*ms))
            .collect(),
        short_abandon: Some(Threshold::from_millis(short_abandon_ms)),
    }
}

/// An error and its whole `source()` chain on one line, as `{:#}` prints it in the binaries.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        text.push_str(": ");
        text.push_str(&e.to_string());
        next = e.source();
    }
    text
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Captures the events `filter` (an `EnvFilter` directive such as `trace`) lets through on this
/// thread until the guard drops.
pub(crate) fn capture_logs(filter: &str) -> (Captured, tracing::subscriber::DefaultGuard) {
    // With a single dispatcher registered, tracing asks only the registering thread's default
    // whether a new callsite is of interest, so a callsite first hit by a parallel test would
    // stay disabled for good. A second, idle dispatcher makes it ask every live one.
    static IDLE: OnceLock<tracing::Dispatch> = OnceLock::new();
    IDLE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}
