//! The watched report behind `/metrics` and the dashboard: refreshed in the background on an
//! interval, never per scrape or page view.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use jiff::Timestamp;
use sla_core::{Limits, ReportRequest, SlaError, count};

use crate::error::{chain, redact_urls};
use crate::state::{AppState, Refreshed};

/// The watched queues are the operator's own choice, so the CLI's limits apply to them rather
/// than those of one API request.
pub(crate) const WATCH_LIMITS: Limits = Limits::CLI;

/// The watched report's request at `now`.
pub(crate) fn watched(state: &AppState, now: Timestamp) -> Result<ReportRequest, SlaError> {
    state.request(&state.settings.watch, now, WATCH_LIMITS)
}

/// Computes the watched report once and records the outcome.
pub(crate) async fn refresh(state: &AppState) {
    let now = state.clock.now();
    let outcome = match watched(state, now) {
        Ok(request) if request.queues.is_empty() => return,
        Ok(request) => match count(&request, state.sources()).await {
            // The split is built from the same counts, for the wallboard's rows of queues whose
            // media types have different configured targets; it costs no request.
            Ok(counted) => Ok(Refreshed {
                report: counted.report(&request),
                by_media: (!request.by_media).then(|| {
                    counted.report(&ReportRequest {
                        by_media: true,
                        ..request.clone()
                    })
                }),
            }),
            Err(e) => {
                let reason = chain(&e);
                tracing::warn!(error = %reason, "refreshing the watched queues failed");
                // Shown on the dashboard and by /readyz; the upstream's addresses stay in the
                // log.
                Err(redact_urls(&reason))
            }
        },
        Err(e) => Err(e.to_string()),
    };
    if outcome.is_ok() {
        tracing::debug!("watched queues refreshed");
    }
    state.record_refresh(outcome.map(|report| (report, now)));
}

/// Refreshes now, then every `refresh_interval`, until the task is aborted.
pub(crate) fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = state.settings.refresh_interval.max(Duration::from_secs(1));
        let mut ticks = tokio::time::interval(period);
        // A slow refresh pushes the next one back rather than starting a burst to catch up.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            refresh(&state).await;
        }
    })
}
