//! The current instant as a port: both binaries read the wall clock through it, so tests pin it.

use std::fmt;

use jiff::Timestamp;

/// Where the current instant comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
