//! Custom contact-centre service levels, computed from counts: pure code with no I/O.
#![warn(clippy::must_use_candidate, missing_docs)]

mod error;
mod model;
pub mod ports;
mod rollup;
mod tally;

pub use crate::error::SlaError;
pub use crate::model::{
    AbandonPolicy, FlowOutPolicy, Formula, Granularity, MediaType, Objective, ObjectiveThreshold,
    QueueId, QueueInfo, QueueRef, ServiceLevelTarget, SourceKind, Threshold, TimeWindow, Zone,
};
pub use crate::rollup::{BucketPlan, native_granularity};
pub use crate::tally::{Tallier, Tally, TallyKey, TallySet, Within};
