//! Alerts on the live document: rules from the service's config file, and a pure state machine
//! that moves each (rule, queue, media type) through inactive → pending → firing → resolved.
//!
//! The service calls [`evaluate_alerts`] on every live refresh with the latest `sla-live/v1` document
//! and the refresh's `now`, sends the [`AlertEvent`]s it returns to the rules' webhooks, and
//! answers `GET /api/v1/alerts` with [`AlertState::listing`]. Time is always an argument.
//!
//! Hysteresis: a rule fires once its condition has held for `for`, and resolves once the value
//! has been past the bound by `resolve_margin` for `resolve_after` without a break. A value
//! hovering at the bound therefore neither fires (each dip below it restarts `for`) nor, once
//! firing, resolves and fires again (each return inside the margin restarts `resolve_after`).
//! A rule with neither a margin nor a `resolve_after` is refused.

mod rule;
mod state;
#[cfg(test)]
mod tests;

pub use crate::alerts::rule::{
    AlertCondition, AlertRule, DEFAULT_RESOLVE_AFTER, LevelBound, ServiceConfig, WebhookFormat,
    WebhookSpec, WebhookUrl, check_alert_objectives, parse_service_config,
};
pub use crate::alerts::state::{
    ALERTS_SCHEMA, Alert, AlertEvent, AlertEventKind, AlertListing, AlertState, AlertStatus,
    AlertUnit, evaluate_alerts,
};
