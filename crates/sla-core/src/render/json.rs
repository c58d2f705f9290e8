//! JSON: the `sla-report/v1` document, and the pretty printing every JSON output shares.

use serde::Serialize;

/// `value` as pretty-printed JSON ending in a newline.
pub(crate) fn pretty(value: &impl Serialize) -> String {
    // The documents are plain structs of strings, numbers, booleans and options, whose
    // serialization cannot fail.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
