//! End-to-end tests: the built binaries against the simulated org over loopback.

mod alerts;
mod cli;
mod details;
mod faults;
mod http;
mod live;
mod load;
mod now;
mod out;
mod prometheus;
mod python_sdk;
mod readme;
mod secrets;
mod store;
mod surprises;

/// Checks `doc` against `schema` (one of those shipped in `schemas/`), naming every place where
/// it breaks it.
#[track_caller]
fn assert_valid(schema: &serde_json::Value, doc: &serde_json::Value) {
    let validator = jsonschema::validator_for(schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{doc:#} breaks {}: {errors:#?}",
        schema["title"]
    );
}
