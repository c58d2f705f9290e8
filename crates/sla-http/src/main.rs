//! sla-http binary.
fn main() {}
