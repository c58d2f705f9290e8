//! Tests of the crate, one module per area, sharing the fixtures of `fixtures`.

mod breaches;
mod fixtures;
mod formula;
mod fuzz;
mod kpis;
mod laws;
mod listing;
mod live;
mod query;
mod render;
mod report;
mod rollup;
mod schema;
mod service;
mod tally;
