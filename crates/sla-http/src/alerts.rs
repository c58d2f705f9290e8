//! The service's alerts: the rules of its config file evaluated on the watched queues' live
//! figures after every live refresh (and by a watchdog when refreshes stop coming), what fired
//! or resolved logged and handed to the webhooks, and the alerts pending or firing for
//! `GET /api/v1/alerts` and `/metrics`.
//!
//! Evaluation is pure and quick (sla-core's `evaluate_alerts`) and sending only queues, so it
//! runs on the refresh task without holding it up; the state sits behind a plain mutex that is
//! never held across an await. No request ever evaluates: readers take the listing as the last
//! evaluation left it.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use sla_core::ports::QueueDirectory;
use sla_core::{
    AlertEvent, AlertListing, AlertRule, AlertState, AlertStatus, LiveReport, Located, QueueInfo,
    ServiceError, SlaError, evaluate_alerts, locate_queue,
};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::notify::{Notifier, NotifyCounts};
use crate::state::AppState;

/// The rules, their state, and where their events go.
#[derive(Debug, Default)]
pub(crate) struct Alerts {
    rules: Vec<AlertRule>,
    notifier: Option<Notifier>,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: AlertState,
    /// When the last evaluation ran, for the watchdog.
    last: Option<Instant>,
}

/// How many alerts of one rule are pending and firing, for `sla_alerts`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RuleCounts {
    pub(crate) rule: String,
    pub(crate) pending: usize,
    pub(crate) firing: usize,
}

impl Alerts {
    /// Rules whose events go to `notifier` (or nowhere, when the rules name no webhook).
    pub(crate) fn new(rules: Vec<AlertRule>, notifier: Option<Notifier>) -> Self {
        Self {
            rules,
            notifier,
            inner: Mutex::default(),
        }
    }

    /// Whether any rule is configured.
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Evaluates every rule on `live` (the last good document, if any) at the instant `now`
    /// gives, logs what fired or resolved and queues it for the webhooks. `now` is read under
    /// the lock, so evaluations never go back in time, and events are queued in the order they
    /// happened.
    pub(crate) fn evaluate(
        &self,
        live: Option<&LiveReport>,
        now: impl FnOnce() -> Timestamp,
    ) -> Vec<AlertEvent> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let mut inner = self.inner();
        inner.last = Some(Instant::now());
        let events = evaluate_alerts(&self.rules, live, now(), &mut inner.state);
        for event in &events {
            log(event);
        }
        if let Some(notifier) = &self.notifier
            && !events.is_empty()
        {
            // Only queues: the delivery task posts, so a slow receiver never holds this lock.
            notifier.notify(&events);
        }
        events
    }

    /// How long ago the last evaluation ran; `None` before the first.
    fn since_last(&self) -> Option<Duration> {
        self.inner().last.map(|at| at.elapsed())
    }

    /// The alerts pending or firing, as `GET /api/v1/alerts` lists them.
    pub(crate) fn listing(&self, now: Timestamp) -> AlertListing {
        self.inner().state.listing(&self.rules, now)
    }

    /// Per rule, in file order, how many alerts are pending and firing.
    pub(crate) fn counts(&self, now: Timestamp) -> Vec<RuleCounts> {
        let listing = self.listing(now);
        self.rules
            .iter()
            .map(|rule| {
                let of = |status| {
                    listing
                        .alerts
                        .iter()
                        .filter(|a| a.rule == rule.name && a.state == status)
                        .count()
                };
                RuleCounts {
                    rule: rule.name.clone(),
                    pending: of(AlertStatus::Pending),
                    firing: of(AlertStatus::Firing),
                }
            })
            .collect()
    }

    /// Webhook deliveries so far: sent, failed and dropped.
    pub(crate) fn notifications(&self) -> NotifyCounts {
        self.notifier
            .as_ref()
            .map(Notifier::counts)
            .unwrap_or_default()
    }
}

/// One line at info per alert that fired or resolved: the webhooks get the details.
fn log(event: &AlertEvent) {
    let alert = &event.alert;
    let queue = alert.queue_name.as_deref().unwrap_or("");
    let media = alert.media_type.map_or("", |m| m.as_str());
    tracing::info!(
        rule = %alert.rule,
        queue,
        media,
        summary = %alert.summary,
        "alert {}",
        event.kind.as_str()
    );
}

/// Evaluates the rules on the last good live document at the service's now.
pub(crate) fn evaluate(state: &AppState) -> Vec<AlertEvent> {
    if state.alerts.is_empty() {
        return Vec::new();
    }
    let last = state.live.status().last;
    state
        .alerts
        .evaluate(last.as_deref().map(|e| e.report.as_ref()), || {
            state.clock.now()
        })
}

/// The watchdog: every live interval, evaluates unless a refresh has done so within it, so that
/// a refresh stuck behind a slow upstream still trips a `stale_after` rule on time.
pub(crate) fn spawn_watchdog(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = state.settings.live_interval;
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if state.alerts.since_last().is_none_or(|ago| ago >= every) {
                evaluate(&state);
            }
        }
    })
}

/// Checks the queues the rules name, as the objectives' queues are checked: a name among the
/// watched queues is fine; any other must exist, or the service refuses to start, since a
/// misspelt queue would make a rule that never fires. A queue that exists but is not watched
/// is only warned about: the rule has no figures for it until it is watched.
pub(crate) async fn check_queues(
    rules: &[AlertRule],
    watched: &[QueueInfo],
    directory: &dyn QueueDirectory,
) -> Result<(), ServiceError> {
    for rule in rules {
        for name in rule.queues.iter().flatten() {
            match locate_queue(name, watched, directory).await? {
                Located::Among => {}
                Located::Elsewhere => tracing::warn!(
                    rule = %rule.name,
                    queue = %name,
                    "an alert rule names a queue that is not watched: it has no live figures \
                     there (add it with --queue)"
                ),
                Located::Nowhere => {
                    return Err(SlaError::InvalidConfig(format!(
                        "alert '{}' names queue '{name}', which does not exist (see `sla queues`)",
                        rule.name
                    ))
                    .into());
                }
            }
        }
    }
    Ok(())
}
