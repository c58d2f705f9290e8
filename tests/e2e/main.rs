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
