//! End-to-end tests: the built binaries against the simulated org over loopback.

mod cli;
mod python_sdk;
