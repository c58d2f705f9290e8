//! Tally benchmark.
fn main() {}
