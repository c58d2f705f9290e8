//! Integration tests of the simulator over real HTTP on 127.0.0.1, every body checked against the vendor schema.

mod aggregates;
mod agreement;
mod auth;
mod binary;
mod details;
mod faults;
mod live;
mod observations;
mod queues;
mod restate;
mod support;
