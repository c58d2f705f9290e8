//! The client against genesys-sim over real HTTP on 127.0.0.1: fault-free counts agree with the
//! core's own tally of the simulated org, visits from conversation details agree with the
//! aggregates, the live state agrees with the live org's own snapshot, and faults (429 storms,
//! 5xx, short-lived tokens, latency) change nothing but the number of requests.

mod aggregates;
mod details;
mod directory;
mod faults;
mod live;
mod secrecy;
#[path = "../../src/tests/shared.rs"]
mod shared;
mod support;
