//! `/metrics`: the watched report, the watched queues' live figures and the service's own
//! counters in the Prometheus text exposition format (version 0.0.4), written by hand since it
//! is a few lines of text.

use std::fmt::Write as _;

use jiff::Timestamp;
use sla_core::{
    LiveReport, LiveRow, LiveServiceLevel, MediaType, QueueRow, ServiceLevel, SlaReport,
};

use crate::state::AppState;

/// The content type of the text exposition format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One metric family: its samples as label sets and values.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, String)>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    /// A family of one unlabelled sample, or of none while there is no `value`.
    fn single(
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        value: Option<impl ToString>,
    ) -> Self {
        let mut family = Self::new(name, kind, help);
        if let Some(value) = value {
            family.sample(Vec::new(), &value);
        }
        family
    }

    fn sample(&mut self, labels: Vec<(&'static str, String)>, value: &impl ToString) {
        self.samples.push((labels, value.to_string()));
    }

    fn write(&self, out: &mut String) {
        // A family with no sample says nothing useful; its absence is the signal.
        if self.samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (labels, value) in &self.samples {
            out.push_str(self.name);
            if !labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {value}");
        }
    }
}

/// Escapes a label value: backslash, double quote and line feed.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Seconds since the Unix epoch, to the millisecond.
fn seconds(t: Timestamp) -> String {
    let millis = t.as_millisecond();
    format!("{}.{:03}", millis.div_euclid(1000), millis.rem_euclid(1000))
}

/// The whole exposition.
pub(crate) fn exposition(state: &AppState) -> String {
    let status = state.watch_status();
    let mut families = Vec::new();
    if let Some(report) = &status.report {
        families.extend(report_families(report));
    }

    families.push(Family::single(
        "sla_last_refresh_timestamp_seconds",
        "gauge",
        "When the watched queues were last refreshed successfully, in seconds since the epoch.",
        status.refreshed_at.map(seconds),
    ));
    families.push(Family::single(
        "sla_last_refresh_success",
        "gauge",
        "1 when the last refresh of the watched queues succeeded, 0 when it failed.",
        status
            .attempted()
            .then(|| u8::from(status.last_error.is_none())),
    ));

    let live = state.live.status();
    if let Some(last) = &live.last {
        families.extend(live_families(&last.report));
    }
    families.push(Family::single(
        "sla_live_last_refresh_timestamp_seconds",
        "gauge",
        "When the live figures were last read successfully (their as_of), in seconds since the epoch.",
        live.last.as_ref().map(|last| seconds(last.report.as_of)),
    ));
    families.push(Family::single(
        "sla_live_last_refresh_success",
        "gauge",
        "1 when the last refresh of the live figures succeeded, 0 when it failed.",
        live.attempted()
            .then(|| u8::from(live.last_error.is_none())),
    ));
    families.push(Family::single(
        "sla_live_subscribers",
        "gauge",
        "Clients following /api/v1/live/stream now.",
        Some(state.live.subscribers()),
    ));

    families.extend(alert_families(state));

    let upstream = state.ports.upstream.stats();
    let mut requests = Family::new(
        "sla_upstream_requests_total",
        "counter",
        "Requests sent to Genesys Cloud, by HTTP status of the response (error: no response).",
    );
    for (status, count) in &upstream.requests_by_status {
        requests.sample(vec![("status", status.clone())], &count);
    }
    families.push(requests);
    families.push(Family::single(
        "sla_upstream_retries_total",
        "counter",
        "Requests to Genesys Cloud repeated after a throttling, server or transport failure.",
        Some(upstream.retries),
    ));
    families.push(Family::single(
        "sla_cache_hits_total",
        "counter",
        "API requests answered from the cache or by joining an identical fetch in flight.",
        Some(state.cache.hits()),
    ));
    families.push(Family::single(
        "sla_cache_misses_total",
        "counter",
        "API requests that started a fetch from Genesys Cloud.",
        Some(state.cache.misses()),
    ));

    let mut out = String::new();
    for family in &families {
        family.write(&mut out);
    }
    out
}

/// The alerts pending and firing per rule (a zero for each rule and state, so that a rule's
/// series exist before its first alert), and the webhook deliveries so far.
fn alert_families(state: &AppState) -> Vec<Family> {
    let mut alerts = Family::new(
        "sla_alerts",
        "gauge",
        "Alerts of each rule of the config file, by state: pending (the condition holds, for less than the rule's `for` so far) or firing.",
    );
    for counts in state.alerts.counts(state.clock.now()) {
        for (label, n) in [("pending", counts.pending), ("firing", counts.firing)] {
            alerts.sample(
                vec![("rule", counts.rule.clone()), ("state", label.to_owned())],
                &n,
            );
        }
    }
    let sent = state.alerts.notifications();
    let mut notifications = Family::new(
        "sla_alert_notifications_total",
        "counter",
        "Alert notifications to webhooks, by outcome: sent (a 2xx answer), failed (refused, or given up after the retries) or dropped (from a full queue, without an attempt).",
    );
    for (outcome, n) in [
        ("sent", sent.sent),
        ("failed", sent.failed),
        ("dropped", sent.dropped),
    ] {
        notifications.sample(vec![("outcome", outcome.to_owned())], &n);
    }
    vec![alerts, notifications]
}

/// A gauge of one `T` (a row, or one objective of a row): name, help, and its value when it
/// has one.
type Gauge<T> = (&'static str, &'static str, fn(&T) -> Option<String>);

/// The per-queue gauges of the watched window.
const QUEUE_GAUGES: &[Gauge<QueueRow>] = &[
    (
        "sla_offered",
        "Visits offered in the watched window.",
        |r| Some(r.counts.offered.to_string()),
    ),
    (
        "sla_answered",
        "Visits answered in the watched window.",
        |r| Some(r.counts.answered.to_string()),
    ),
    (
        "sla_abandoned",
        "Visits abandoned in the watched window, short abandons included.",
        |r| Some(r.counts.abandoned.to_string()),
    ),
    (
        "sla_flow_outs",
        "Visits that left the queue unanswered by other means in the watched window.",
        |r| Some(r.counts.flow_outs.to_string()),
    ),
    (
        "sla_asa_seconds",
        "Average speed of answer in the watched window, in seconds; absent when nothing was answered.",
        |r| r.kpis.asa_ms.map(seconds_of_millis),
    ),
    (
        "sla_longest_answer_wait_seconds",
        "The longest wait of an answered visit in the watched window, in seconds.",
        |r| r.kpis.longest_answer_wait_ms.map(seconds_of_millis),
    ),
    (
        "sla_abandon_percent",
        "Abandoned as a percent of offered in the watched window; absent when nothing was offered.",
        |r| r.kpis.abandon_percent.map(|p| p.to_string()),
    ),
];

/// The per-objective gauges of the watched window.
const LEVEL_GAUGES: &[Gauge<ServiceLevel>] = &[
    (
        "sla_service_level_percent",
        "Service level in percent over the watched window; absent when nothing was measured.",
        |l| l.percent.map(|p| p.to_string()),
    ),
    (
        "sla_numerator",
        "Visits that met the objective, as the formula counts them.",
        |l| Some(l.numerator.to_string()),
    ),
    (
        "sla_denominator",
        "Visits the objective is measured over, as the formula counts them.",
        |l| Some(l.denominator.to_string()),
    ),
    (
        "sla_target_percent",
        "The objective's target in percent, when it has one.",
        |l| l.target_percent.map(|t| t.to_string()),
    ),
    (
        "sla_threshold_seconds",
        "The objective's wait threshold in seconds, when the queue's visits share one.",
        |l| l.threshold_ms.map(seconds_of_millis),
    ),
];

/// The labels of a queue row: id, name and, for rows split by media, the media type.
fn queue_labels(row: &QueueRow) -> Vec<(&'static str, String)> {
    labels_of(&row.queue_id, &row.queue_name, row.media_type)
}

fn labels_of(id: &str, name: &str, media: Option<MediaType>) -> Vec<(&'static str, String)> {
    let mut labels = vec![("queue_id", id.to_owned()), ("queue", name.to_owned())];
    if let Some(media) = media {
        labels.push(("media_type", media.as_str().to_owned()));
    }
    labels
}

/// The per-row gauges of the live figures: now, then the rolling window's KPIs.
const LIVE_GAUGES: &[Gauge<LiveRow>] = &[
    (
        "sla_waiting",
        "Conversations waiting in the queue now.",
        |r| Some(r.live.waiting.to_string()),
    ),
    (
        "sla_longest_waiting_seconds",
        "How long the longest-waiting conversation has waited now, in seconds; 0 when none waits.",
        |r| Some(seconds_of_millis(r.live.longest_waiting_ms)),
    ),
    (
        "sla_interacting",
        "Conversations being handled by an agent now.",
        |r| Some(r.live.interacting.to_string()),
    ),
    (
        "sla_on_queue_agents",
        "Agents on queue now, in any routing status.",
        |r| Some(r.live.on_queue_agents.to_string()),
    ),
    (
        "sla_rolling_offered",
        "Visits offered in the rolling window.",
        |r| Some(r.counts.offered.to_string()),
    ),
    (
        "sla_rolling_asa_seconds",
        "Average speed of answer in the rolling window, in seconds; absent when nothing was answered.",
        |r| r.kpis.asa_ms.map(seconds_of_millis),
    ),
    (
        "sla_rolling_abandon_percent",
        "Abandoned as a percent of offered in the rolling window; absent when nothing was offered.",
        |r| r.kpis.abandon_percent.map(|p| p.to_string()),
    ),
];

/// The per-objective gauges of the live figures.
const LIVE_LEVEL_GAUGES: &[Gauge<LiveServiceLevel>] = &[
    (
        "sla_waiting_over_threshold",
        "Conversations waiting now for longer than the objective's threshold: each is already a miss. A lower bound when the waiting list was cut short.",
        |l| Some(l.waiting_over_threshold.to_string()),
    ),
    (
        "sla_rolling_service_level_percent",
        "Service level in percent over the rolling window; absent when nothing was measured.",
        |l| l.level.percent.map(|p| p.to_string()),
    ),
    (
        "sla_rolling_projected_percent",
        "The rolling service level if every conversation waiting past the threshold now is counted as a miss.",
        |l| l.projected_percent.map(|p| p.to_string()),
    ),
    (
        "sla_rolling_target_percent",
        "The objective's target in percent for the row, when it has one, labelled as the rolling service level is.",
        |l| l.level.target_percent.map(|t| t.to_string()),
    ),
];

/// Labels and the item they label: one gauge sample each, when the gauge has a value for it.
type Labelled<'a, T> = Vec<(Vec<(&'static str, String)>, &'a T)>;

/// A family per gauge, with a sample for each item the gauge has a value for, in order.
fn gauge_families<T>(gauges: &[Gauge<T>], items: &Labelled<'_, T>) -> Vec<Family> {
    gauges
        .iter()
        .map(|(name, help, value)| {
            let mut family = Family::new(name, "gauge", help);
            for (labels, item) in items {
                if let Some(v) = value(item) {
                    family.sample(labels.clone(), &v);
                }
            }
            family
        })
        .collect()
}

/// The labels of an objective: its row's, then `objective`.
fn with_objective(
    mut labels: Vec<(&'static str, String)>,
    objective: &str,
) -> Vec<(&'static str, String)> {
    labels.push(("objective", objective.to_owned()));
    labels
}

/// The gauges of the live document: per row, then per row and objective.
fn live_families(report: &LiveReport) -> Vec<Family> {
    let rows: Labelled<'_, LiveRow> = report
        .queues
        .iter()
        .map(|row| {
            (
                labels_of(&row.queue_id, &row.queue_name, row.media_type),
                row,
            )
        })
        .collect();
    let levels: Labelled<'_, LiveServiceLevel> = rows
        .iter()
        .flat_map(|(labels, row)| {
            row.service_levels.iter().map(|level| {
                (
                    with_objective(labels.clone(), &level.level.objective),
                    level,
                )
            })
        })
        .collect();
    let mut families = gauge_families(LIVE_GAUGES, &rows);
    families.extend(gauge_families(LIVE_LEVEL_GAUGES, &levels));
    let length = report.window.end.duration_since(report.window.start);
    families.push(Family::single(
        "sla_rolling_window_seconds",
        "gauge",
        "Length of the rolling window of the live service levels, in seconds.",
        Some(seconds_of_millis(
            u64::try_from(length.as_millis()).unwrap_or(0),
        )),
    ));
    families
}

/// The gauges of the watched report: service levels per queue and objective, then counts and
/// KPIs per queue.
fn report_families(report: &SlaReport) -> Vec<Family> {
    let rows: Labelled<'_, QueueRow> = report
        .queues
        .iter()
        .map(|row| (queue_labels(row), row))
        .collect();
    let levels: Labelled<'_, ServiceLevel> = rows
        .iter()
        .flat_map(|(labels, row)| {
            row.service_levels
                .iter()
                .map(|level| (with_objective(labels.clone(), &level.objective), level))
        })
        .collect();
    let mut families = gauge_families(LEVEL_GAUGES, &levels);
    families.extend(gauge_families(QUEUE_GAUGES, &rows));
    families.push(Family::single(
        "sla_window_start_timestamp_seconds",
        "gauge",
        "Start of the watched window, in seconds since the epoch.",
        Some(seconds(report.window.start)),
    ));
    families
}

fn seconds_of_millis(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"Sales "EU" \ 2"#), r#"Sales \"EU\" \\ 2"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
    }

    #[test]
    fn instants_and_thresholds_print_as_seconds() {
        let t: Timestamp = "2024-05-01T08:00:00.250Z".parse().unwrap();
        assert_eq!(seconds(t), "1714550400.250");
        assert_eq!(seconds_of_millis(20_000), "20");
        assert_eq!(seconds_of_millis(1_500), "1.500");
    }
}
