//! The alert state machine: one instance per rule and queue (and media type), driven by
//! [`evaluate_alerts`] on each live document, and the listing of the alerts pending or firing.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::alerts::rule::{AlertCondition, AlertRule, LevelBound};
use crate::live_report::{LiveReport, LiveRow, LiveServiceLevel};
use crate::model::{MediaType, names_queue};
use crate::render::wait_text;
use crate::report::{instant, opt_as_str};

/// The `schema` of an alert listing.
pub const ALERTS_SCHEMA: &str = "sla-alerts/v1";

/// Where an alert stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The condition holds, for less than the rule's `for` so far.
    Pending,
    /// The condition has held for the rule's `for`, and has not been clear for its
    /// `resolve_after` since.
    Firing,
    /// A firing alert has been clear for the rule's `resolve_after` (in events only).
    Resolved,
}

/// The unit of an alert's value and bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertUnit {
    /// A percent from 0 to 100.
    Percent,
    /// Milliseconds.
    Ms,
    /// Conversations.
    Count,
}

impl AlertUnit {
    /// A value in this unit as people read it (`72.5 %`, `2m10s`, `3`), or `n/a`.
    #[must_use]
    pub fn text(self, value: Option<f64>) -> String {
        let Some(value) = value else {
            return "n/a".to_owned();
        };
        match self {
            AlertUnit::Percent => format!("{value} %"),
            AlertUnit::Ms => wait_text(Some(whole(value))),
            AlertUnit::Count => whole(value).to_string(),
        }
    }
}

/// One alert as the listing and the webhooks show it (part of `sla-alerts/v1`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    /// The rule's name.
    pub rule: String,
    /// Pending or firing; resolved in a resolution event.
    pub state: AlertStatus,
    /// The rule's condition: `service_level_below`, `longest_wait_above`,
    /// `waiting_over_threshold_above` or `stale_after`.
    pub condition: &'static str,
    /// The objective the condition reads, if any.
    pub objective: Option<String>,
    /// The queue's id; `None` for a stale-data alert, which is about the whole document.
    pub queue_id: Option<String>,
    /// The queue's name, as of the last document that had its row.
    pub queue_name: Option<String>,
    /// The media type, when rows are split by media.
    #[serde(serialize_with = "opt_as_str")]
    pub media_type: Option<MediaType>,
    /// The value last read; `None` when the last document had none (an idle queue's service
    /// level, a row that is gone).
    #[serde(serialize_with = "figure")]
    pub value: Option<f64>,
    /// The bound the value is compared with, last read (a row's target may change).
    #[serde(serialize_with = "figure")]
    pub bound: Option<f64>,
    /// The unit of `value` and `bound`.
    pub unit: AlertUnit,
    /// When the condition began to hold.
    #[serde(serialize_with = "instant")]
    pub since: Timestamp,
    /// When the alert fired.
    #[serde(serialize_with = "opt_as_str")]
    pub firing_since: Option<Timestamp>,
    /// When the alert resolved.
    #[serde(serialize_with = "opt_as_str")]
    pub resolved_at: Option<Timestamp>,
    /// One line for people: what, where, the value and the bound.
    pub summary: String,
}

/// What happened to an alert in one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEventKind {
    /// The alert fired.
    Fired,
    /// The alert resolved.
    Resolved,
}

impl AlertEventKind {
    /// `fired` or `resolved`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEventKind::Fired => "fired",
            AlertEventKind::Resolved => "resolved",
        }
    }
}

/// An alert that fired or resolved, to be sent to the rule's webhooks.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEvent {
    /// Fired or resolved.
    pub kind: AlertEventKind,
    /// The evaluation's `now`.
    pub at: Timestamp,
    /// The alert as it stands after the event.
    pub alert: Alert,
    /// The rule's webhooks.
    pub webhooks: Vec<String>,
}

/// The alerts pending or firing: the JSON of `GET /api/v1/alerts` (`sla-alerts/v1`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertListing {
    /// Always [`ALERTS_SCHEMA`].
    pub schema: &'static str,
    /// When the listing was taken.
    #[serde(serialize_with = "instant")]
    pub as_of: Timestamp,
    /// Firing alerts first, then pending ones; each group by rule, queue name and media type.
    pub alerts: Vec<Alert>,
}

/// Every alert instance between evaluations. An instance absent from it is inactive.
#[derive(Clone, Debug, Default)]
pub struct AlertState {
    /// The first evaluation's `now`: with no document yet, data is stale since then.
    first_evaluation: Option<Timestamp>,
    instances: BTreeMap<Key, Instance>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    rule: String,
    queue_id: Option<String>,
    media: Option<MediaType>,
}

#[derive(Clone, Debug)]
struct Instance {
    queue_name: Option<String>,
    since: Timestamp,
    firing_since: Option<Timestamp>,
    /// Since when a firing alert has been clear of its condition by the margin.
    clear_since: Option<Timestamp>,
    reading: Option<Reading>,
}

/// A value and the bound it is compared with, in the condition's unit.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Reading {
    value: f64,
    bound: f64,
}

/// What one evaluation saw for one instance.
struct Observation {
    key: Key,
    queue_name: Option<String>,
    reading: Option<Reading>,
}

impl AlertState {
    /// No alert yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The alerts pending or firing, firing first.
    #[must_use]
    pub fn listing(&self, rules: &[AlertRule], now: Timestamp) -> AlertListing {
        let mut alerts: Vec<Alert> = self
            .instances
            .iter()
            .filter_map(|(key, instance)| {
                let rule = rules.iter().find(|r| r.name == key.rule)?;
                Some(alert_of(rule, key, instance, None))
            })
            .collect();
        alerts.sort_by(|a, b| {
            let firing = |a: &Alert| a.state != AlertStatus::Firing;
            firing(a)
                .cmp(&firing(b))
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| {
                    let name = |a: &Alert| a.queue_name.as_deref().map(str::to_lowercase);
                    name(a).cmp(&name(b))
                })
                .then_with(|| a.queue_id.cmp(&b.queue_id))
                .then_with(|| a.media_type.cmp(&b.media_type))
        });
        AlertListing {
            schema: ALERTS_SCHEMA,
            as_of: now,
            alerts,
        }
    }
}

/// Evaluates every rule on `live` (the latest live document, `None` before the first) at `now`,
/// moves each instance through inactive → pending → firing → resolved, and returns what fired
/// or resolved, in rule order.
///
/// - An instance becomes pending when its condition holds, and fires once it has held for the
///   rule's `for`; a condition that stops holding while pending sends the instance back to
///   inactive, so the next breach waits the whole `for` again.
/// - A firing instance resolves only after being *clear* for the rule's `resolve_after`
///   without a break, where clear means past the bound by the margin (a service level at least
///   bound + margin, a wait or count at most bound − margin). Between the bound and the margin
///   the alert keeps firing and the clear time starts over, so a value hovering at the bound
///   never resolves and fires again: it would have to move by the whole margin and stay there.
/// - A row without a value (no visit in the window, an objective the row lacks) or a row gone
///   from the document counts as not holding and clear: an idle queue misses nothing.
/// - With no document, only stale-data rules are evaluated (the data is stale since the first
///   evaluation); every other instance keeps its state, since nothing new is known.
pub fn evaluate_alerts(
    rules: &[AlertRule],
    live: Option<&LiveReport>,
    now: Timestamp,
    state: &mut AlertState,
) -> Vec<AlertEvent> {
    let first = *state.first_evaluation.get_or_insert(now);
    // Instances of rules no longer configured are forgotten without an event.
    state
        .instances
        .retain(|key, _| rules.iter().any(|r| r.name == key.rule));
    let mut events = Vec::new();
    for rule in rules {
        let observations = match (&rule.condition, live) {
            (AlertCondition::Stale { after, .. }, _) => {
                let age = live.map_or_else(|| elapsed(first, now), |l| elapsed(l.as_of, now));
                vec![Observation {
                    key: Key {
                        rule: rule.name.clone(),
                        queue_id: None,
                        media: None,
                    },
                    queue_name: None,
                    reading: Some(Reading {
                        value: millis(age),
                        bound: millis(*after),
                    }),
                }]
            }
            (_, None) => continue,
            (_, Some(live)) => live
                .queues
                .iter()
                .filter(|row| watches(rule, row))
                .map(|row| Observation {
                    key: Key {
                        rule: rule.name.clone(),
                        queue_id: Some(row.queue_id.clone()),
                        media: row.media_type,
                    },
                    queue_name: Some(row.queue_name.clone()),
                    reading: reading(&rule.condition, row),
                })
                .collect(),
        };
        // Instances whose row is gone are observed without a value.
        let gone: Vec<Observation> = state
            .instances
            .keys()
            .filter(|k| k.rule == rule.name && !observations.iter().any(|o| &o.key == *k))
            .map(|k| Observation {
                key: k.clone(),
                queue_name: None,
                reading: None,
            })
            .collect();
        for observation in observations.into_iter().chain(gone) {
            if let Some(event) = step(rule, observation, now, &mut state.instances) {
                events.push(event);
            }
        }
    }
    events
}

/// Moves one instance on by one observation.
fn step(
    rule: &AlertRule,
    observation: Observation,
    now: Timestamp,
    instances: &mut BTreeMap<Key, Instance>,
) -> Option<AlertEvent> {
    let Observation {
        key,
        queue_name,
        reading,
    } = observation;
    let holds = reading.is_some_and(|r| breaches(&rule.condition, r));
    let clear = reading.is_none_or(|r| clears(&rule.condition, r));
    let Some(instance) = instances.get_mut(&key) else {
        if !holds {
            return None;
        }
        let instance = Instance {
            queue_name,
            since: now,
            firing_since: None,
            clear_since: None,
            reading,
        };
        let instance = instances.entry(key.clone()).or_insert(instance);
        return fire_if_due(rule, &key, instance, now);
    };
    if queue_name.is_some() {
        instance.queue_name = queue_name;
    }
    instance.reading = reading;
    if instance.firing_since.is_none() {
        if !holds {
            // The condition cleared before `for` was up: the next breach starts over.
            instances.remove(&key);
            return None;
        }
        return fire_if_due(rule, &key, instance, now);
    }
    if !clear {
        instance.clear_since = None;
        return None;
    }
    let clear_since = *instance.clear_since.get_or_insert(now);
    if elapsed(clear_since, now) < rule.resolve_after {
        return None;
    }
    let instance = instances.remove(&key)?;
    Some(AlertEvent {
        kind: AlertEventKind::Resolved,
        at: now,
        alert: alert_of(rule, &key, &instance, Some(now)),
        webhooks: rule.webhooks.clone(),
    })
}

/// Fires a pending instance whose condition has held for the rule's `for`.
fn fire_if_due(
    rule: &AlertRule,
    key: &Key,
    instance: &mut Instance,
    now: Timestamp,
) -> Option<AlertEvent> {
    if elapsed(instance.since, now) < rule.pending_for {
        return None;
    }
    instance.firing_since = Some(now);
    Some(AlertEvent {
        kind: AlertEventKind::Fired,
        at: now,
        alert: alert_of(rule, key, instance, None),
        webhooks: rule.webhooks.clone(),
    })
}

/// Whether the rule watches a row: every row, or those of the queues it names (by id, or by
/// name ignoring case, as objectives name queues).
fn watches(rule: &AlertRule, row: &LiveRow) -> bool {
    rule.queues
        .as_deref()
        .is_none_or(|list| names_queue(list, &row.queue_id, &row.queue_name))
}

fn level<'a>(row: &'a LiveRow, objective: &str) -> Option<&'a LiveServiceLevel> {
    row.service_levels
        .iter()
        .find(|l| l.level.objective == objective)
}

/// A row's value for a per-queue condition, with its bound.
fn reading(condition: &AlertCondition, row: &LiveRow) -> Option<Reading> {
    match condition {
        AlertCondition::ServiceLevelBelow {
            objective, bound, ..
        } => {
            let level = &level(row, objective)?.level;
            let bound = match bound {
                LevelBound::Target => level.target_percent?,
                LevelBound::Percent(p) => *p,
            };
            Some(Reading {
                value: level.percent?,
                bound,
            })
        }
        AlertCondition::LongestWaitAbove { above, .. } => Some(Reading {
            value: count(row.live.longest_waiting_ms),
            bound: millis(*above),
        }),
        AlertCondition::WaitingOverThresholdAbove {
            objective, above, ..
        } => Some(Reading {
            value: count(level(row, objective)?.waiting_over_threshold),
            bound: count(*above),
        }),
        AlertCondition::Stale { .. } => None,
    }
}

/// Whether a reading breaches the condition: strictly past the bound, so a service level
/// exactly at its target meets it, as `met_target` says.
fn breaches(condition: &AlertCondition, r: Reading) -> bool {
    match condition {
        AlertCondition::ServiceLevelBelow { .. } => r.value < r.bound,
        _ => r.value > r.bound,
    }
}

/// Whether a reading is clear of the condition by its margin.
fn clears(condition: &AlertCondition, r: Reading) -> bool {
    match condition {
        // A bound near 100 cannot take the whole margin: 100 % is as clear as it gets.
        AlertCondition::ServiceLevelBelow { margin, .. } => {
            r.value >= (r.bound + margin).min(100.0)
        }
        AlertCondition::LongestWaitAbove { margin, .. } | AlertCondition::Stale { margin, .. } => {
            r.value <= r.bound - millis(*margin)
        }
        AlertCondition::WaitingOverThresholdAbove { margin, .. } => {
            r.value <= r.bound - count(*margin)
        }
    }
}

fn alert_of(
    rule: &AlertRule,
    key: &Key,
    instance: &Instance,
    resolved_at: Option<Timestamp>,
) -> Alert {
    let state = match (resolved_at, instance.firing_since) {
        (Some(_), _) => AlertStatus::Resolved,
        (None, Some(_)) => AlertStatus::Firing,
        (None, None) => AlertStatus::Pending,
    };
    let unit = match rule.condition {
        AlertCondition::ServiceLevelBelow { .. } => AlertUnit::Percent,
        AlertCondition::LongestWaitAbove { .. } | AlertCondition::Stale { .. } => AlertUnit::Ms,
        AlertCondition::WaitingOverThresholdAbove { .. } => AlertUnit::Count,
    };
    let value = instance.reading.map(|r| r.value);
    let bound = instance.reading.map(|r| r.bound);
    Alert {
        rule: rule.name.clone(),
        state,
        condition: rule.condition.kind(),
        objective: rule.condition.objective().map(str::to_owned),
        queue_id: key.queue_id.clone(),
        queue_name: instance.queue_name.clone(),
        media_type: key.media,
        value,
        bound,
        unit,
        since: instance.since,
        firing_since: instance.firing_since,
        resolved_at,
        summary: summary(rule, instance, key.media, unit),
    }
}

/// `Support (voice): rolling service level 72.5 % (objective contract), bound 80 %`.
fn summary(
    rule: &AlertRule,
    instance: &Instance,
    media: Option<MediaType>,
    unit: AlertUnit,
) -> String {
    let place = match (&instance.queue_name, media) {
        (Some(name), Some(media)) => format!("{name} ({media}): "),
        (Some(name), None) => format!("{name}: "),
        (None, _) => String::new(),
    };
    let value = unit.text(instance.reading.map(|r| r.value));
    let bound = unit.text(instance.reading.map(|r| r.bound));
    let what = match &rule.condition {
        AlertCondition::ServiceLevelBelow { objective, .. } => {
            format!("rolling service level {value} (objective {objective}), bound {bound}")
        }
        AlertCondition::LongestWaitAbove { .. } => format!("longest wait {value}, bound {bound}"),
        AlertCondition::WaitingOverThresholdAbove { objective, .. } => {
            format!("{value} waiting past the threshold of objective {objective}, bound {bound}")
        }
        AlertCondition::Stale { .. } => format!("live data {value} old, bound {bound}"),
    };
    format!("{place}{what}")
}

/// The time from `since` to `now`; zero when the clock went back.
fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO)
}

#[expect(
    clippy::cast_precision_loss,
    reason = "waits and ages stay far below 2^53 ms"
)]
fn millis(d: Duration) -> f64 {
    d.as_millis() as f64
}

#[expect(
    clippy::cast_precision_loss,
    reason = "counts and waits stay far below 2^53"
)]
fn count(n: u64) -> f64 {
    n as f64
}

/// A whole, non-negative value back from its reading.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "readings of waits and counts are whole and non-negative"
)]
fn whole(value: f64) -> u64 {
    value.max(0.0).round() as u64
}

/// A number as JSON: whole numbers without a fraction (`120000`, not `120000.0`).
#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference"
)]
fn figure<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) if v.fract() == 0.0 && *v >= 0.0 && *v < 9.0e15 => s.serialize_u64(whole(*v)),
        Some(v) => s.serialize_f64(*v),
        None => s.serialize_none(),
    }
}
