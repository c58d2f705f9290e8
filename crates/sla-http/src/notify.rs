//! Webhook delivery of alert events, off the refresh path: [`Notifier::notify`] puts each
//! (event, webhook) delivery in a bounded queue and returns at once; one background task posts
//! them in order, retrying with exponential backoff, and counts what was sent, what failed and
//! what was dropped.
//!
//! When the queue is full the *oldest* delivery is dropped: the newest events say how things
//! stand now, and a receiver that missed a "fired" but gets its "resolved" is better off than
//! one that got the "fired" and never hears of the "resolved".
//!
//! One task delivers, so a receiver that hangs delays the deliveries behind it by at most
//! `max_attempts` request timeouts plus the backoff between them; the queue bounds the memory
//! meanwhile. At shutdown, [`Notifier::drain`] gives what is queued a grace period to go out,
//! so that a "resolved" decided just before a SIGTERM still reaches its receiver.

mod body;
mod webhook;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::error::Error as _;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use sla_core::AlertEvent;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub(crate) use self::webhook::{SIGNATURE_HEADER, Webhook};

/// How deliveries are queued and retried.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NotifySettings {
    /// Deliveries waiting at most; past it the oldest is dropped.
    pub(crate) capacity: usize,
    /// Attempts per delivery, the first included.
    pub(crate) max_attempts: u32,
    /// The wait before the second attempt; it doubles after each attempt.
    pub(crate) initial_backoff: Duration,
    /// The longest wait between attempts, a receiver's `Retry-After` included.
    pub(crate) max_backoff: Duration,
    /// The longest one request may take, connecting included.
    pub(crate) request_timeout: Duration,
}

impl Default for NotifySettings {
    /// 256 deliveries, 4 attempts 1 s, 2 s and 4 s apart, 10 s per request: a receiver down
    /// for good costs a delivery about 47 s.
    fn default() -> Self {
        Self {
            capacity: 256,
            max_attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Deliveries so far, for `sla_alert_notifications_total{outcome}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NotifyCounts {
    /// Accepted by the receiver (a 2xx answer).
    pub(crate) sent: u64,
    /// Given up after the attempts, or refused by the receiver (a 4xx answer).
    pub(crate) failed: u64,
    /// Dropped from a full queue without an attempt.
    pub(crate) dropped: u64,
}

/// The sending end: cheap to clone, never blocks.
#[derive(Clone, Debug)]
pub(crate) struct Notifier {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<VecDeque<Delivery>>,
    wake: Notify,
    counts: watch::Sender<NotifyCounts>,
    /// Deliveries queued or in flight.
    outstanding: watch::Sender<usize>,
    webhooks: Vec<Arc<Webhook>>,
    settings: NotifySettings,
}

#[derive(Debug)]
struct Delivery {
    webhook: Arc<Webhook>,
    event: AlertEvent,
}

impl Notifier {
    /// Starts the delivery task on the current runtime; abort the handle to stop it.
    pub(crate) fn start(
        webhooks: Vec<Webhook>,
        settings: NotifySettings,
    ) -> Result<(Notifier, JoinHandle<()>), reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("sla-http/", env!("CARGO_PKG_VERSION")))
            // A signed body must reach the URL configured, not wherever a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            counts: watch::Sender::new(NotifyCounts::default()),
            outstanding: watch::Sender::new(0),
            webhooks: webhooks.into_iter().map(Arc::new).collect(),
            settings,
        });
        let task = tokio::spawn(run(Arc::clone(&shared), client));
        Ok((Notifier { shared }, task))
    }

    /// Queues one delivery per webhook of each event and returns at once.
    pub(crate) fn notify(&self, events: &[AlertEvent]) {
        let shared = &self.shared;
        let mut dropped = Vec::new();
        let mut queued = 0;
        {
            let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            for event in events {
                for name in &event.webhooks {
                    let Some(webhook) = shared.webhooks.iter().find(|w| &w.name == name) else {
                        tracing::warn!(webhook = %name, rule = %event.alert.rule, "no such webhook");
                        continue;
                    };
                    queue.push_back(Delivery {
                        webhook: Arc::clone(webhook),
                        event: event.clone(),
                    });
                    queued += 1;
                    while queue.len() > shared.settings.capacity {
                        dropped.extend(queue.pop_front());
                    }
                }
            }
            // Counted before the lock is released, so the sender can never finish (and count
            // off) a delivery that was not yet counted on.
            shared
                .outstanding
                .send_modify(|n| *n = (*n + queued).saturating_sub(dropped.len()));
        }
        for delivery in &dropped {
            tracing::warn!(
                webhook = %delivery.webhook.name,
                rule = %delivery.event.alert.rule,
                event = delivery.event.kind.as_str(),
                "alert notification dropped: the queue is full"
            );
        }
        if !dropped.is_empty() {
            let n = u64::try_from(dropped.len()).unwrap_or(u64::MAX);
            shared
                .counts
                .send_modify(|c| c.dropped = c.dropped.saturating_add(n));
        }
        shared.wake.notify_one();
    }

    /// Waits until every queued delivery has been sent or given up, for at most `grace`, and
    /// gives how many were still outstanding then. Call it once nothing notifies any more.
    pub(crate) async fn drain(&self, grace: Duration) -> usize {
        let mut outstanding = self.shared.outstanding.subscribe();
        let drained = tokio::time::timeout(grace, outstanding.wait_for(|n| *n == 0))
            .await
            .is_ok();
        if drained { 0 } else { *outstanding.borrow() }
    }

    /// Deliveries so far.
    pub(crate) fn counts(&self) -> NotifyCounts {
        *self.shared.counts.borrow()
    }

    /// Follows the counts as they change.
    #[cfg(test)]
    pub(crate) fn watch_counts(&self) -> watch::Receiver<NotifyCounts> {
        self.shared.counts.subscribe()
    }

    /// Deliveries waiting, the one in flight not included.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The delivery task: takes deliveries one at a time, oldest first.
async fn run(shared: Arc<Shared>, client: reqwest::Client) {
    loop {
        let next = shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        let Some(delivery) = next else {
            // A permit stored by a `notify` since the queue was found empty wakes this at once.
            shared.wake.notified().await;
            continue;
        };
        let (webhook, event) = (&delivery.webhook.name, &delivery.event);
        match deliver(&client, &shared.settings, &delivery).await {
            Ok(attempts) => {
                tracing::info!(webhook = %webhook, rule = %event.alert.rule, event = event.kind.as_str(), attempts, "alert notification sent");
                shared
                    .counts
                    .send_modify(|c| c.sent = c.sent.saturating_add(1));
            }
            Err(failure) => {
                tracing::warn!(webhook = %webhook, rule = %event.alert.rule, event = event.kind.as_str(), attempts = failure.attempts, reason = %failure.reason, "alert notification failed");
                shared
                    .counts
                    .send_modify(|c| c.failed = c.failed.saturating_add(1));
            }
        }
        shared.outstanding.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Why a delivery failed, for the log: never the URL, which may hold a credential.
#[derive(Debug)]
struct Failure {
    attempts: u32,
    reason: String,
}

/// What one attempt's outcome says about the next.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Sent,
    /// Worth another attempt, no sooner than the receiver's `Retry-After` if it gave one.
    Retry(Option<Duration>),
    GiveUp,
}

/// Sent on a 2xx; retried on 408, 425, 429 and 5xx, which pass; given up on any other status,
/// since a 4xx will not change by itself.
fn verdict(status: StatusCode, headers: &HeaderMap) -> Verdict {
    if status.is_success() {
        return Verdict::Sent;
    }
    let transient = status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429);
    if !transient {
        return Verdict::GiveUp;
    }
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Verdict::Retry(retry_after)
}

/// The wait after attempt `attempt` (1-based): `initial × 2^(attempt − 1)`, at most `max`.
fn backoff(settings: &NotifySettings, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    settings
        .initial_backoff
        .saturating_mul(factor)
        .min(settings.max_backoff)
}

/// Posts one delivery until it is accepted, refused, or out of attempts.
async fn deliver(
    client: &reqwest::Client,
    settings: &NotifySettings,
    delivery: &Delivery,
) -> Result<u32, Failure> {
    let webhook = &delivery.webhook;
    let body = body::body(webhook.format, &delivery.event);
    let signature = webhook.signature(&body);
    let attempts = settings.max_attempts.max(1);
    let mut reason = String::new();
    for attempt in 1..=attempts {
        let mut request = client
            .post(webhook.url.clone())
            .timeout(settings.request_timeout)
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(signature) = &signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let hint = match request.send().await {
            Ok(response) => {
                reason = format!("the receiver answered {}", response.status());
                match verdict(response.status(), response.headers()) {
                    Verdict::Sent => return Ok(attempt),
                    Verdict::GiveUp => {
                        return Err(Failure {
                            attempts: attempt,
                            reason,
                        });
                    }
                    Verdict::Retry(hint) => hint,
                }
            }
            Err(e) => {
                // reqwest names the URL in its message; a chat webhook's URL is its credential.
                let e = e.without_url();
                reason = error_text(&e);
                if e.is_builder() {
                    return Err(Failure {
                        attempts: attempt,
                        reason,
                    });
                }
                None
            }
        };
        if attempt < attempts {
            let wait = backoff(settings, attempt).max(hint.unwrap_or_default());
            tokio::time::sleep(wait.min(settings.max_backoff)).await;
        }
    }
    Err(Failure { attempts, reason })
}

/// A request error and its causes on one line, without the URL.
fn error_text(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "the request timed out".to_owned()
    } else {
        e.to_string()
    };
    let mut source = e.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}
