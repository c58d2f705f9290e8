//! sla binary.
fn main() {}
