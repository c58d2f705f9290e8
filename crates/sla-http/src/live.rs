//! The watched queues' live figures: one background task polls the observations query every
//! live interval and re-counts the rolling window on its own interval, builds the `sla-live/v1`
//! document, keeps the last good one, and hands each new one to every subscriber of the stream.
//!
//! However many clients follow the stream or read `/api/v1/live`, Genesys sees one observations
//! query per live interval and one aggregates query per re-count: subscribers only ever read
//! what the task published.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use jiff::Timestamp;
use sla_core::{
    Counted, Format, LiveReport, ObjectiveThreshold, QueueInfo, ReportRequest, ServiceLevel,
    SlaReport, build_live, live_request, observe, render_live, resolve, tally_query,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::error::{chain, redact_urls};
use crate::state::AppState;

/// How long resolved queues are reused before the directory is asked again. Resolving costs a
/// request per watched queue name, so it is not repeated on every re-count; a renamed queue or a
/// changed configured target shows within this long.
const RESOLVE_EVERY: Duration = Duration::from_mins(10);

/// One published document, serialised once for every reader.
pub(crate) struct LiveEvent {
    /// The stream's event id: 1 for the first document, one more for each later one.
    pub(crate) id: u64,
    /// The document.
    pub(crate) report: Arc<LiveReport>,
    /// Pretty JSON, as `sla now --format json` prints it: the body of `GET /api/v1/live`.
    pub(crate) pretty: Bytes,
    /// JSON on one line: the `data:` of a stream event.
    pub(crate) compact: String,
}

impl fmt::Debug for LiveEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveEvent")
            .field("id", &self.id)
            .field("as_of", &self.report.as_of)
            .finish_non_exhaustive()
    }
}

/// The last good document and how the last refresh went.
#[derive(Clone, Debug, Default)]
pub(crate) struct LiveStatus {
    /// The last document published; kept, growing older, when later refreshes fail.
    pub(crate) last: Option<Arc<LiveEvent>>,
    /// Why the last refresh failed; `None` after a success.
    pub(crate) last_error: Option<String>,
}

impl LiveStatus {
    /// Whether any refresh has finished, successfully or not: each leaves a document or a
    /// reason.
    pub(crate) fn attempted(&self) -> bool {
        self.last.is_some() || self.last_error.is_some()
    }

    /// Whether the figures are older than they should be: the last refresh failed, or no
    /// refresh has succeeded for [`stale_after`] (the task is stuck behind a slow upstream).
    pub(crate) fn is_stale(&self, now: Timestamp, interval: Duration) -> bool {
        let Some(last) = &self.last else {
            return false;
        };
        let limit = i64::try_from(stale_after(interval).as_millis()).unwrap_or(i64::MAX);
        self.last_error.is_some()
            || now.as_millisecond() - last.report.as_of.as_millisecond() > limit
    }
}

/// How old live figures polled every `interval` may grow before the API, `/metrics` and the
/// wallboard call them stale: three polls, and at least 15 s, so that one slow poll does not
/// flash a warning.
pub(crate) fn stale_after(interval: Duration) -> Duration {
    interval.saturating_mul(3).max(Duration::from_secs(15))
}

/// The live documents of the watched queues and the clients following them.
pub(crate) struct LiveHub {
    /// The status, which readers copy, subscribers follow and the first page waits for.
    status: watch::Sender<LiveStatus>,
    /// One permit per subscriber that may follow the stream at once.
    slots: Arc<Semaphore>,
    max_subscribers: usize,
    /// Set at shutdown, so that open streams end and the server can stop.
    closed: watch::Sender<bool>,
}

impl fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveHub")
            .field("subscribers", &self.subscribers())
            .field("max_subscribers", &self.max_subscribers)
            .finish_non_exhaustive()
    }
}

/// The stream already has as many subscribers as it may.
#[derive(Debug)]
pub(crate) struct Full {
    /// The bound.
    pub(crate) max: usize,
}

/// One client following the stream: the documents to send, and its place under the bound,
/// given back when the client goes.
#[derive(Debug)]
pub(crate) struct Subscription {
    status: watch::Receiver<LiveStatus>,
    /// The id of the last document handed out; 0 before the first.
    sent: u64,
    closed: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
}

impl Subscription {
    /// The next document: the current one first, then each one published after it. `None`
    /// when the service shuts down.
    pub(crate) async fn next(&mut self) -> Option<Arc<LiveEvent>> {
        loop {
            tokio::select! {
                biased;
                _ = self.closed.wait_for(|closed| *closed) => return None,
                changed = self.status.changed() => changed.ok()?,
            }
            // A failed refresh changes the status too, but leaves the document as it was.
            let last = self.status.borrow_and_update().last.clone();
            if let Some(event) = last.filter(|e| e.id > self.sent) {
                self.sent = event.id;
                return Some(event);
            }
        }
    }
}

impl LiveHub {
    /// A hub with nothing published yet, taking at most `max_subscribers` stream clients.
    pub(crate) fn new(max_subscribers: usize) -> Self {
        Self {
            status: watch::Sender::new(LiveStatus::default()),
            slots: Arc::new(Semaphore::new(max_subscribers)),
            max_subscribers,
            closed: watch::Sender::new(false),
        }
    }

    /// A copy of the status.
    pub(crate) fn status(&self) -> LiveStatus {
        self.status.borrow().clone()
    }

    /// Records a new document and hands it to every subscriber.
    pub(crate) fn publish(&self, report: LiveReport) {
        let pretty = Bytes::from(render_live(&report, Format::Json));
        let compact = serde_json::to_string(&report).unwrap_or_default();
        let report = Arc::new(report);
        self.status.send_modify(|status| {
            // One more than the last document's id, decided under the channel's lock.
            let id = status.last.as_ref().map_or(1, |last| last.id + 1);
            status.last = Some(Arc::new(LiveEvent {
                id,
                report,
                pretty,
                compact,
            }));
            status.last_error = None;
        });
    }

    /// Records a failed refresh: the last document stays, and subscribers are sent nothing, so
    /// the document they hold grows older, as its `as_of` says.
    pub(crate) fn fail(&self, reason: String) {
        self.status
            .send_modify(|status| status.last_error = Some(reason));
    }

    /// A place among the stream's subscribers, unless all are taken.
    pub(crate) fn subscribe(&self) -> Result<Subscription, Full> {
        let slot = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| Full {
                max: self.max_subscribers,
            })?;
        let mut status = self.status.subscribe();
        // The current document, if there is one, is the subscriber's first event.
        status.mark_changed();
        Ok(Subscription {
            status,
            sent: 0,
            closed: self.closed.subscribe(),
            _slot: slot,
        })
    }

    /// Clients following the stream now.
    pub(crate) fn subscribers(&self) -> usize {
        self.max_subscribers - self.slots.available_permits()
    }

    /// Ends every open stream: the server waits for open responses before it stops.
    pub(crate) fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Waits until some refresh has finished, at most `limit`.
    pub(crate) async fn wait_for_first(&self, limit: Duration) {
        let mut status = self.status.subscribe();
        let _ = tokio::time::timeout(limit, status.wait_for(LiveStatus::attempted)).await;
    }
}

/// The rolling window's counts and the request they answer.
struct Window {
    request: ReportRequest,
    counted: Counted,
    /// When the count started.
    at: Instant,
}

/// The background task's memory between refreshes.
#[derive(Default)]
pub(crate) struct Poller {
    window: Option<Window>,
    queues: Option<(Vec<QueueInfo>, Instant)>,
}

impl Poller {
    /// One refresh: re-counts the rolling window when due, observes the queues, and publishes
    /// the document; or records why it could not. Either way the alert rules are evaluated
    /// then, on the last good document.
    pub(crate) async fn refresh(&mut self, state: &AppState) {
        let now = state.clock.now();
        match self.document(state, now).await {
            Ok(report) => {
                tracing::debug!("live figures refreshed");
                state.live.publish(report);
            }
            Err(reason) => state.live.fail(reason),
        }
        crate::alerts::evaluate(state);
    }

    async fn document(&mut self, state: &AppState, now: Timestamp) -> Result<LiveReport, String> {
        let settings = &state.settings;
        // A re-count is due when the next poll would come after its time: ticks and counts do
        // not land on exactly the same instant in real time.
        let due = self.window.as_ref().is_none_or(|w| {
            w.at.elapsed() + settings.live_interval / 2 >= settings.live_recount_interval
        });
        if due {
            self.recount(state, now).await?;
        }
        let Some(window) = &self.window else {
            return Err("the rolling window has not been counted".to_owned());
        };
        let observed = observe(
            &window.request,
            &window.counted.queues,
            state.ports.live.as_ref(),
        )
        .await
        .map_err(|e| failure("observing the watched queues", &e))?;
        // Observations carry no time of their own: they are the state when the answer came,
        // to the millisecond like every instant Genesys writes.
        let now = state.clock.now();
        let as_of = Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now);
        let today = state.watch_status();
        Ok(compose(
            &window.request,
            &window.counted,
            &observed,
            as_of,
            Today {
                report: today.report.as_deref(),
                by_media: today.by_media.as_deref(),
            },
        ))
    }

    async fn recount(&mut self, state: &AppState, now: Timestamp) -> Result<(), String> {
        let at = Instant::now();
        let input = state
            .settings
            .watch
            .clone()
            .over_live_window(state.settings.live_window);
        let request = live_request(
            &state
                .request(&input, now, crate::watch::WATCH_LIMITS)
                .map_err(|e| e.to_string())?,
        );
        let queues = match &self.queues {
            Some((queues, resolved)) if resolved.elapsed() < RESOLVE_EVERY => queues.clone(),
            _ => {
                let queues = resolve(&request, state.ports.directory.as_ref())
                    .await
                    .map_err(|e| failure("resolving the watched queues", &e))?;
                self.queues = Some((queues.clone(), at));
                queues
            }
        };
        let tallies = state
            .ports
            .tallies
            .tallies(&tally_query(&request, &queues))
            .await
            .map_err(|e| failure("counting the rolling window", &e))?;
        self.window = Some(Window {
            request,
            counted: Counted { queues, tallies },
            at,
        });
        Ok(())
    }
}

/// What a failed step says: the whole chain to the log, without addresses to readers.
fn failure(what: &str, error: &dyn std::error::Error) -> String {
    let reason = format!("{what} failed: {}", chain(error));
    tracing::warn!(error = %reason, "live refresh failed");
    redact_urls(&reason)
}

/// Refreshes now, then every live interval, until the task is aborted.
pub(crate) fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut poller = Poller::default();
        let mut ticks = tokio::time::interval(state.settings.live_interval);
        // A slow refresh pushes the next one back rather than starting a burst to catch up.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            poller.refresh(&state).await;
        }
    })
}

/// The watched report of today, as the last refresh left it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Today<'a> {
    /// As the flags ask.
    pub(crate) report: Option<&'a SlaReport>,
    /// Split by media type.
    pub(crate) by_media: Option<&'a SlaReport>,
}

/// The watched queues' document: a row per queue, except that a queue whose media types have
/// different configured targets gets a row per media type, as `by_media` gives it, so that a
/// `configured` objective is measured against a target rather than "targets differ". Whether
/// they differ is read from the rolling window and from today's report, so a queue does not
/// flip between one row and several as visits come and go; of its media types, those with
/// nothing today, in the window or now are left out. The total is the same either way.
pub(crate) fn compose(
    request: &ReportRequest,
    counted: &Counted,
    observed: &sla_core::LiveState,
    now: Timestamp,
    today: Today<'_>,
) -> LiveReport {
    let mut plain = build_live(request, counted, observed, now);
    if request.by_media {
        return plain;
    }
    let configured: Vec<&str> = request
        .objectives
        .iter()
        .filter(|o| o.threshold == ObjectiveThreshold::Configured)
        .map(|o| o.name.as_str())
        .collect();
    let differs = |level: &ServiceLevel| {
        configured.contains(&level.objective.as_str())
            && level.denominator > 0
            && (level.threshold_ms.is_none() || level.target_percent.is_none())
    };
    let mut split: BTreeSet<&str> = plain
        .queues
        .iter()
        .filter(|row| row.service_levels.iter().any(|l| differs(&l.level)))
        .map(|row| row.queue_id.as_str())
        .collect();
    if let Some(today) = today.report {
        split.extend(
            today
                .queues
                .iter()
                .filter(|row| row.service_levels.iter().any(differs))
                .map(|row| row.queue_id.as_str()),
        );
    }
    if split.is_empty() {
        return plain;
    }
    let split: BTreeSet<String> = split.into_iter().map(str::to_owned).collect();
    let by_media = ReportRequest {
        by_media: true,
        ..request.clone()
    };
    let active_today = |queue_id: &str, media| {
        today.by_media.is_some_and(|report| {
            report
                .queues
                .iter()
                .any(|r| r.queue_id == queue_id && r.media_type == media && r.counts.offered > 0)
        })
    };
    let mut media_rows = build_live(&by_media, counted, observed, now).queues;
    media_rows.retain(|r| {
        r.counts.offered > 0
            || r.counts.answered > 0
            || r.counts.abandoned > 0
            || r.live.waiting > 0
            || r.live.interacting > 0
            || active_today(&r.queue_id, r.media_type)
    });
    let rows = std::mem::take(&mut plain.queues);
    for row in rows {
        let mut split_rows: Vec<_> = if split.contains(&row.queue_id) {
            media_rows
                .extract_if(.., |r| r.queue_id == row.queue_id)
                .collect()
        } else {
            Vec::new()
        };
        if split_rows.is_empty() {
            plain.queues.push(row);
        } else {
            plain.queues.append(&mut split_rows);
        }
    }
    plain
}
