//! `AppState`: the ports, the clock, the settings, the report cache and the watched snapshot
//! that every handler shares.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::SecretString;
use sla_core::ports::{LiveSource, QueueDirectory, TallySource, VisitSource, VisitStore};
use sla_core::{Limits, LiveWindow, QueryInput, SlaReport, StoreSources, Zone};
use tokio::sync::watch;

use crate::alerts::Alerts;
use crate::cache::{CacheLimits, ReportCache};
use crate::live::LiveHub;
use crate::ready::TokenCheck;

// Handlers and refreshes never read the wall clock themselves, so tests pin it.
pub(crate) use sla_connect::{Clock, SystemClock};

/// What the service knows about its upstream beyond the ports: request counters for
/// `/metrics`, and whether a token can be had for `/readyz`.
#[async_trait]
pub(crate) trait Upstream: Send + Sync {
    /// Counters of the requests sent upstream since start.
    fn stats(&self) -> UpstreamCounts;

    /// Whether an access token can be obtained now; the reason when not.
    async fn check_token(&self) -> Result<(), String>;
}

/// Upstream request counters, as `/metrics` exposes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UpstreamCounts {
    /// Responses by HTTP status; requests that got no response under `error`.
    pub(crate) requests_by_status: BTreeMap<String, u64>,
    /// Attempts repeated after a failure.
    pub(crate) retries: u64,
}

/// Configuration the handlers read.
#[derive(Clone)]
pub(crate) struct Settings {
    /// The zone used when a request names none, and the watched window's zone.
    pub(crate) zone: Zone,
    /// Running against the demo org: a report naming no queue covers them all, as `sla report
    /// --demo` does.
    pub(crate) demo: bool,
    /// When set, `/api/*` wants it as a bearer token and `/` as the Basic password.
    pub(crate) token: Option<SecretString>,
    /// When set, `/metrics` wants it as a bearer token.
    pub(crate) metrics_token: Option<SecretString>,
    /// The watched queues, objectives, formula and window, as `sla report` flags give them.
    pub(crate) watch: QueryInput,
    /// How often the watched report is refreshed.
    pub(crate) refresh_interval: Duration,
    /// How long the dashboard waits for the first refresh before showing an empty board.
    pub(crate) first_refresh_wait: Duration,
    /// How long a request may take before it is answered 504.
    pub(crate) request_timeout: Duration,
    /// Bounds on one API request.
    pub(crate) limits: Limits,
    /// Cache lifetime of results whose window reaches the present or the future.
    pub(crate) open_ttl: Duration,
    /// Cache lifetime of results for windows wholly in the past.
    pub(crate) closed_ttl: Duration,
    /// Bounds on the report cache and on the upstream fetches it starts.
    pub(crate) cache: CacheLimits,
    /// The rolling window of the live figures.
    pub(crate) live_window: LiveWindow,
    /// How often the watched queues' observations are polled.
    pub(crate) live_interval: Duration,
    /// How often the rolling window's counts are read again.
    pub(crate) live_recount_interval: Duration,
    /// How many clients may follow the live stream at once.
    pub(crate) max_live_subscribers: usize,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token stays out of Debug output altogether.
        f.debug_struct("Settings")
            .field("zone", &self.zone.name())
            .field("demo", &self.demo)
            .field("token", &self.token.as_ref().map(|_| "[set]"))
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[set]"),
            )
            .field("watch", &self.watch)
            .field("refresh_interval", &self.refresh_interval)
            .field("limits", &self.limits)
            .field("cache", &self.cache)
            .field("live_window", &self.live_window)
            .field("live_interval", &self.live_interval)
            .field("live_recount_interval", &self.live_recount_interval)
            .field("max_live_subscribers", &self.max_live_subscribers)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            zone: Zone::utc(),
            demo: false,
            token: None,
            metrics_token: None,
            watch: QueryInput::default(),
            refresh_interval: Duration::from_mins(1),
            first_refresh_wait: Duration::from_secs(10),
            request_timeout: Duration::from_mins(1),
            limits: Limits::SERVICE,
            open_ttl: Duration::from_secs(30),
            closed_ttl: Duration::from_hours(1),
            cache: CacheLimits::default(),
            live_window: LiveWindow::default(),
            live_interval: Duration::from_secs(5),
            live_recount_interval: Duration::from_secs(15),
            max_live_subscribers: 500,
        }
    }
}

/// The ports the service reads through.
#[derive(Clone)]
pub(crate) struct Ports {
    pub(crate) directory: Arc<dyn QueueDirectory>,
    pub(crate) tallies: Arc<dyn TallySource>,
    /// Conversation details, for `source=details`; absent when the connection has none.
    pub(crate) visits: Option<Arc<dyn VisitSource>>,
    /// What is happening now in queues: the observations query.
    pub(crate) live: Arc<dyn LiveSource>,
    pub(crate) upstream: Arc<dyn Upstream>,
}

/// A history store filled by `sla sync`, for `source=store`: its queues, its visits and how far
/// it is complete.
#[derive(Clone)]
pub(crate) struct StorePorts {
    pub(crate) directory: Arc<dyn QueueDirectory>,
    pub(crate) visits: Arc<dyn VisitSource>,
    pub(crate) store: Arc<dyn VisitStore>,
}

impl StorePorts {
    /// The store as sla-core's orchestration takes it.
    pub(crate) fn sources(&self) -> StoreSources<'_> {
        StoreSources {
            directory: self.directory.as_ref(),
            visits: self.visits.as_ref(),
            store: self.store.as_ref(),
        }
    }
}

/// The watched report and how its last refresh went.
#[derive(Clone, Debug, Default)]
pub(crate) struct WatchStatus {
    /// The last report computed, kept when a later refresh fails.
    pub(crate) report: Option<Arc<SlaReport>>,
    /// The same counts split by media type, for the wallboard's rows of queues whose media
    /// types have different configured targets.
    pub(crate) by_media: Option<Arc<SlaReport>>,
    /// When `report` was computed.
    pub(crate) refreshed_at: Option<Timestamp>,
    /// Why the last refresh failed; `None` after a success.
    pub(crate) last_error: Option<String>,
}

impl WatchStatus {
    /// Whether any refresh has finished, successfully or not: each leaves a report or a
    /// reason.
    pub(crate) fn attempted(&self) -> bool {
        self.report.is_some() || self.last_error.is_some()
    }
}

/// What a successful refresh of the watched queues computed.
#[derive(Debug)]
pub(crate) struct Refreshed {
    /// The watched report, as the flags ask.
    pub(crate) report: SlaReport,
    /// The same counts split by media type, unless the report already is.
    pub(crate) by_media: Option<SlaReport>,
}

/// Everything handlers share; cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) ports: Ports,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) cache: Arc<ReportCache>,
    /// The token half of `/readyz`.
    pub(crate) token_check: Arc<TokenCheck>,
    /// The watched queues' live documents and their subscribers.
    pub(crate) live: Arc<LiveHub>,
    /// The history store of `source=store`, when `--store` names one.
    pub(crate) store: Option<StorePorts>,
    /// The alert rules of the config file, their state and their webhooks.
    pub(crate) alerts: Arc<Alerts>,
    /// The watched status, which the dashboard's first page waits for.
    watch: Arc<watch::Sender<WatchStatus>>,
    /// Whether the settings name any queue to watch.
    watching: bool,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// A state with an empty cache and no watched report yet.
    pub(crate) fn new(ports: Ports, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        // A request waiting for a fetch slot is told `busy` well before the request timeout
        // would answer it 504, so that it knows to come back.
        let cache = CacheLimits {
            slot_wait: settings.cache.slot_wait.min(settings.request_timeout / 2),
            ..settings.cache
        };
        let live = Arc::new(LiveHub::new(settings.max_live_subscribers));
        let mut state = Self {
            ports,
            clock,
            settings: Arc::new(settings),
            cache: Arc::new(ReportCache::new(cache)),
            token_check: Arc::default(),
            live,
            store: None,
            alerts: Arc::default(),
            watch: Arc::new(watch::Sender::new(WatchStatus::default())),
            watching: false,
        };
        // It follows from the settings alone, so it is read once here rather than on every
        // request that asks.
        state.watching = crate::watch::watched(&state, state.clock.now())
            .is_ok_and(|request| !request.queues.is_empty());
        state
    }

    /// Whether the settings name anything to watch: then the watched report and the live
    /// figures are refreshed in the background.
    pub(crate) fn is_watching(&self) -> bool {
        self.watching
    }

    /// The same state, answering `source=store` from `store`.
    pub(crate) fn with_store(self, store: StorePorts) -> Self {
        Self {
            store: Some(store),
            ..self
        }
    }

    /// The same state with these alert rules and webhooks; before the state is shared.
    #[must_use]
    pub(crate) fn with_alerts(self, alerts: Alerts) -> Self {
        Self {
            alerts: Arc::new(alerts),
            ..self
        }
    }

    /// A copy of the watched status.
    pub(crate) fn watch_status(&self) -> WatchStatus {
        self.watch.borrow().clone()
    }

    /// Records the outcome of a refresh.
    pub(crate) fn record_refresh(&self, outcome: Result<(Refreshed, Timestamp), String>) {
        self.watch.send_modify(|status| match outcome {
            Ok((refreshed, at)) => {
                status.report = Some(Arc::new(refreshed.report));
                status.by_media = refreshed.by_media.map(Arc::new);
                status.refreshed_at = Some(at);
                status.last_error = None;
            }
            Err(reason) => status.last_error = Some(reason),
        });
    }

    /// Waits until some refresh has finished, at most `limit`.
    pub(crate) async fn wait_for_first_refresh(&self, limit: Duration) {
        let mut status = self.watch.subscribe();
        let _ = tokio::time::timeout(limit, status.wait_for(WatchStatus::attempted)).await;
    }
}
