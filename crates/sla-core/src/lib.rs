//! Custom contact-centre service levels, computed from counts: pure code with no I/O.
//!
//! `sla-core` turns additive counts of queue visits ([`Tally`]) into service levels for any
//! threshold and formula, per queue, media type and calendar interval, with totals weighted by
//! volume, and renders the result as a table, JSON (`sla-report/v1`), CSV or Markdown. It knows
//! nothing of Genesys or HTTP: counts arrive through the [`ports`], or from a caller that has
//! them already, as here:
//!
//! ```
//! use sla_core::{
//!     build_report, render, AbandonPolicy, Format, Limits, MediaType, QueryContext,
//!     QueryInput, QueueId, QueueInfo, QueueRef, Tally, TallyKey, TallySet, Threshold, Within,
//!     Zone,
//! };
//!
//! // The query, as a user would type it.
//! let input = QueryInput {
//!     queues: vec!["Support".into()],
//!     from: Some("2024-01-01".parse().unwrap()),
//!     to: Some("2024-01-31".parse().unwrap()),
//!     thresholds: vec!["20s".parse().unwrap()],
//!     abandons: AbandonPolicy::Against,
//!     ..QueryInput::default()
//! };
//! let context = QueryContext {
//!     now: "2024-02-01T12:00:00Z".parse().unwrap(),
//!     zone: Zone::utc(),
//!     limits: Limits::CLI,
//!     all_queues_by_default: false,
//! };
//! let request = input.parse(&context).unwrap();
//!
//! // Counts the caller already has: 1000 answered (860 within 20 s), 60 abandoned (20 within).
//! let support = QueueInfo {
//!     queue: QueueRef { id: QueueId::new("q-support"), name: "Support".into() },
//!     division: None,
//!     service_levels: Default::default(),
//! };
//! let mut tally = Tally::default();
//! (tally.offered, tally.answered, tally.abandoned, tally.flow_outs) = (1100, 1000, 60, 40);
//! tally.add_within(Threshold::parse("20s").unwrap(), Within { answered: 860, abandoned: 20 });
//! let mut tallies = TallySet::new();
//! let key = TallyKey { queue: support.queue.id.clone(), media: MediaType::Voice, bucket: request.window.start() };
//! tallies.add(key, &tally);
//!
//! let report = build_report(&request, &[support], &tallies);
//! // Abandons count against: 860 / (1000 + 60).
//! assert_eq!(report.total.service_levels[0].percent, Some(81.13));
//! assert!(render(&report, Format::Table).contains("81.13"));
//! ```
#![warn(clippy::must_use_candidate, missing_docs)]

mod alerts;
mod breaches;
mod config;
mod error;
mod formula;
mod limits;
mod listing;
mod live;
mod live_report;
mod model;
pub mod ports;
mod query;
mod render;
mod report;
mod rollup;
mod service;
mod shortfall;
mod sync;
mod tally;
#[cfg(test)]
mod tests;
mod window;

pub use crate::alerts::{
    ALERTS_SCHEMA, Alert, AlertCondition, AlertEvent, AlertEventKind, AlertListing, AlertRule,
    AlertState, AlertStatus, AlertUnit, DEFAULT_RESOLVE_AFTER, LevelBound, ServiceConfig,
    WebhookFormat, WebhookSpec, WebhookUrl, check_alert_objectives, evaluate_alerts,
    parse_service_config,
};
pub use crate::breaches::{Breach, BreachFinder, missed, render_breaches};
pub use crate::config::parse_config;
pub use crate::error::SlaError;
pub use crate::formula::{Figures, evaluate, percent};
pub use crate::limits::Limits;
pub use crate::listing::{QUEUES_SCHEMA, queues_json, render_queues};
pub use crate::live::{LiveQuery, LiveState, LiveWindow, MediaState};
pub use crate::live_report::{
    LIVE_SCHEMA, LiveFigures, LiveReport, LiveRow, LiveServiceLevel, LiveTotal, build_live,
    live_request,
};
pub use crate::model::{
    AbandonPolicy, CalendarPeriod, FlowOutPolicy, Format, Formula, Granularity, MediaType,
    Objective, ObjectiveThreshold, QueueId, QueueInfo, QueueRef, ServiceLevelTarget, SourceKind,
    Threshold, ThresholdArg, TimeWindow, Zone,
};
pub use crate::query::{
    DEFAULT_THRESHOLD, QueryContext, QueryInput, QueueSelection, ReportRequest,
};
pub use crate::render::{render, render_live, wait_text};
pub use crate::report::{
    Counts, IntervalRow, Kpis, MediaTotal, QueueRow, ReportFormula, ReportStore, ReportWindow,
    SCHEMA, ServiceLevel, SlaReport, TotalRow, build_report, report_cells, thresholds_needed,
};
pub use crate::rollup::{BucketPlan, native_granularity};
pub use crate::service::{
    Counted, Located, ServiceError, Sources, StoreSources, StoredCounts, count, count_stored,
    fetch_live, fetch_report, fetch_stored_report, find_breaches, find_stored_breaches,
    list_queues, locate_queue, observe, resolve, resolve_queues, tally_query, tally_visits,
};
pub use crate::shortfall::{FailBelow, FailScope, Shortfall};
pub use crate::sync::{
    DEFAULT_PIECE_DAYS, DEFAULT_RESTATE, Reconciled, StoredVisit, SyncError, SyncProgress,
    SyncRequest, SyncStep, SyncSummary, plan_sync, reconcile, sync_visits,
};
pub use crate::tally::{Tallier, Tally, TallyKey, TallySet, Within};
pub use crate::window::{Period, TimeArg, resolve_window};
