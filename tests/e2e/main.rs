//! End-to-end tests: the built binaries against the simulated org over loopback.

mod cli;
mod details;
mod faults;
mod http;
mod live;
mod load;
mod out;
mod python_sdk;
mod secrets;
mod surprises;
