//! The details path over a scripted transport: visits read from an emulated details query and
//! emulated jobs against the core's own tally of the same visits.

mod emulator;
mod jobs;
mod mode;
mod query;
mod reader;

use std::time::Duration;

use jiff::Timestamp;
use sla_core::ports::{Visit, VisitQuery, VisitSink};
use sla_core::{QueueId, TimeWindow};

use crate::DetailsMode;
use crate::tests::ts;

const QUERY: &str = "/api/v2/analytics/conversations/details/query";
const JOBS: &str = "/api/v2/analytics/conversations/details/jobs";
const AVAILABILITY: &str = "/api/v2/analytics/conversations/details/jobs/availability";

#[derive(Default)]
pub(crate) struct Collect(Vec<Visit>);

impl VisitSink for Collect {
    fn visit(&mut self, visit: Visit) {
        self.0.push(visit);
    }
}

pub(crate) fn visit_query(queues: &[&str], from: &str, to: &str) -> VisitQuery {
    VisitQuery {
        queues: queues.iter().map(|q| QueueId::new(*q)).collect(),
        media: Vec::new(),
        window: TimeWindow::new(ts(from), ts(to)).unwrap(),
    }
}

/// Every visit delivered once: no (conversation, queue, entered) twice.
#[track_caller]
pub(crate) fn assert_each_once(visits: &[Visit]) {
    let mut keys: Vec<(String, String, Timestamp)> = visits
        .iter()
        .map(|v| {
            (
                v.conversation_id.clone(),
                v.queue.as_str().to_owned(),
                v.entered,
            )
        })
        .collect();
    let before = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), before, "a visit was delivered twice");
}

/// The synchronous query, with a one-day lookback so that the pieces asked for stay few enough
/// to list in the tests.
pub(crate) fn query_mode(c: &mut crate::GenesysConfig) {
    c.details_mode = DetailsMode::Query;
    c.details_lookback = Duration::from_hours(24);
}
