//! Tests of the crate, one module per area, sharing the fixtures of `fixtures`.

mod fixtures;
mod formula;
mod fuzz;
mod laws;
mod query;
mod render;
mod report;
mod rollup;
mod schema;
mod service;
mod tally;
