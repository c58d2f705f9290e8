//! A simulated Genesys Cloud org served over real HTTP, for `--demo`, end-to-end tests and benchmarks.
//!
//! [`SimServer::start`] generates an [`Org`] deterministically from [`SimConfig::seed`] and serves
//! it on `127.0.0.1` (port 0 by default) with Genesys's wire format:
//!
//! - `POST /oauth/token`: client credentials in HTTP Basic; tokens expire after `token_ttl_s`.
//! - `GET /api/v2/routing/queues` (and `/{queueId}`): paging, `name` with `*` wildcards, `id`.
//! - `POST /api/v2/analytics/conversations/aggregates/query`: `nOffered`, `tAnswered`, `tAbandon`,
//!   `tFlowOut`, `tShortAbandon`, `tAcd`, `nOverSla`, `oServiceLevel`; `rangeBound` views (at
//!   most 10); filters and `groupBy` on `queueId` and `mediaType`; `granularity` in `timeZone`.
//! - `POST /api/v2/analytics/conversations/details/query` and the details jobs endpoints.
//! - `POST /api/v2/analytics/queues/observations/query`: `oWaiting`, `oInteracting`, `oAlerting`
//!   per queue and media type, `oOnQueueUsers` per queue and routing status, and `detailMetrics`
//!   listing each conversation with its `observationDate`, truncated past 100.
//!
//! The org is live by default ([`LiveConfig`]): the history ends at the latest at the instant the
//! server starts, where the live org begins, and from then on conversations keep arriving, waiting, being answered by the agents on queue
//! and abandoning, optionally sped up, at real wall-clock instants. Live conversations that have
//! ended join the history in the aggregates, the details query and details jobs, so a rolling
//! window moves while the server runs; [`SimServer::live`] is the handle tests and scripted demos
//! steer it with.
//!
//! Choices where Genesys is silent or unverified:
//! - Other known Genesys metrics are accepted and never returned, as metrics without data are;
//!   names Genesys does not know are a 400. Other `groupBy` or filter dimensions are a 400.
//! - Each metric counts in the bucket of its emit instant: `nOffered` at queue entry, the rest at
//!   the outcome (`entered + wait`). Buckets step from the interval start in `timeZone`.
//! - `oServiceLevel`: numerator = answered within the queue's `durationMs` for the media type,
//!   denominator = answered + abandoned (short abandons included, flow-outs excluded); `target` is
//!   the queue's `percentage` when every contributing visit shares it, else absent.
//! - `tShortAbandon` is an abandon with wait < [`SimConfig::short_abandon_ms`]; `nOverSla` an
//!   answer with wait > the queue's `durationMs`.
//! - An aggregates response without data is `{}`; empty groups, buckets and metrics are omitted.
//!   Timer metrics (`t*`) and views fill `count`, `sum`, `min` and `max` in milliseconds.
//! - A live conversation enters the analytics when it ends (answered ones after their handling),
//!   with each metric at its own emit instant, so counts of a recent window can still rise
//!   for instants already past; Genesys posts `nOffered` at once and timers at their event.
//! - Details jobs select conversations with activity in the interval; their first status poll says
//!   `QUEUED`, later ones [`SimConfig::job_final_state`].
//!
//! Faults are opt-in: a per-token rate limit, random 429s and 5xx, latency and short token lifetimes
//! apply to `/api/v2` routes only.

mod aggregate;
mod dataset;
mod details;
mod error;
mod fallback;
mod faults;
mod jobs;
mod live;
mod observations;
mod org;
mod routes;
mod wire;

use std::{
    collections::BTreeMap,
    fmt,
    net::SocketAddr,
    str::FromStr,
    sync::{Arc, PoisonError, atomic::Ordering},
    time::Duration,
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use crate::live::{
    LiveClock, LiveConfig, LiveConversation, LiveError, LiveMedia, LiveOrg, LiveQueue,
    LiveSnapshot, ManualClock,
};
pub use crate::org::{
    Conversation, Division, MediaType, Org, Outcome, Queue, Restatement, ServiceLevel, Visit,
};
use crate::routes::{AppState, OBSERVATIONS_PATH};

/// The state a details job reaches after its first (`QUEUED`) status poll.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JobFinalState {
    /// Results can be fetched.
    #[default]
    Fulfilled,
    /// The job failed; results are refused.
    Failed,
    /// The job expired; results are refused.
    Expired,
    /// The job was cancelled; results are refused.
    Cancelled,
}

impl JobFinalState {
    /// The wire name (`FULFILLED`, `FAILED`, `EXPIRED`, `CANCELLED`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobFinalState::Fulfilled => "FULFILLED",
            JobFinalState::Failed => "FAILED",
            JobFinalState::Expired => "EXPIRED",
            JobFinalState::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for JobFinalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobFinalState {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "FULFILLED" => Ok(JobFinalState::Fulfilled),
            "FAILED" => Ok(JobFinalState::Failed),
            "EXPIRED" => Ok(JobFinalState::Expired),
            "CANCELLED" => Ok(JobFinalState::Cancelled),
            _ => Err(SimError::InvalidConfig(format!(
                "unknown job final state {s:?} (FULFILLED, FAILED, EXPIRED, CANCELLED)"
            ))),
        }
    }
}

/// What to simulate and which faults to inject.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of everything generated: queue ids, conversations, random faults.
    pub seed: u64,
    /// Number of queues.
    pub queues: usize,
    /// Number of whole UTC days of data.
    pub days: u32,
    /// Average conversations entering each queue per day (weekdays busier than weekends).
    pub visits_per_day: u32,
    /// The last day of data, inclusive; `None` means today (UTC), so "the last 7 days" has data.
    pub end_date: Option<jiff::civil::Date>,
    /// Requests per minute allowed per access token before a 429.
    pub rate_limit_per_min: Option<u32>,
    /// Share of API requests answered 429 at random (0 to 1).
    pub throttle_rate: f64,
    /// `Retry-After` seconds on the random 429s.
    pub retry_after_s: u64,
    /// Share of API requests answered 503 (sometimes 500) at random (0 to 1).
    pub fail_rate: f64,
    /// Delay before answering each API request.
    pub latency_ms: u64,
    /// Lifetime of access tokens in seconds.
    pub token_ttl_s: u64,
    /// The accepted OAuth client id.
    pub client_id: String,
    /// The accepted OAuth client secret.
    pub client_secret: String,
    /// The state details jobs reach after their first poll.
    pub job_final_state: JobFinalState,
    /// The org's short-abandon threshold in milliseconds (for `tShortAbandon`).
    pub short_abandon_ms: u64,
    /// The live org: on by default, at five times real speed, with an autopilot.
    pub live: LiveConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            queues: 8,
            days: 30,
            visits_per_day: 600,
            end_date: None,
            rate_limit_per_min: None,
            throttle_rate: 0.0,
            retry_after_s: 1,
            fail_rate: 0.0,
            latency_ms: 0,
            token_ttl_s: 86_400,
            client_id: "sim-client".to_owned(),
            client_secret: "sim-secret".to_owned(),
            job_final_state: JobFinalState::Fulfilled,
            short_abandon_ms: 10_000,
            live: LiveConfig::default(),
        }
    }
}

impl SimConfig {
    fn validate(&self) -> Result<(), SimError> {
        let rate = |name: &str, x: f64| {
            if (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(SimError::InvalidConfig(format!(
                    "{name} must be between 0 and 1, got {x}"
                )))
            }
        };
        rate("throttle_rate", self.throttle_rate)?;
        rate("fail_rate", self.fail_rate)?;
        if self.days > 3_660 {
            return Err(SimError::InvalidConfig(format!(
                "days must be at most 3660, got {}",
                self.days
            )));
        }
        if self.queues > 10_000 {
            return Err(SimError::InvalidConfig(format!(
                "queues must be at most 10000, got {}",
                self.queues
            )));
        }
        if self.rate_limit_per_min == Some(0) {
            return Err(SimError::InvalidConfig(
                "rate_limit_per_min must be at least 1".to_owned(),
            ));
        }
        self.live.validate().map_err(SimError::InvalidConfig)
    }
}

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A configuration value is out of range.
    #[error("invalid simulator configuration: {0}")]
    InvalidConfig(String),
    /// A restatement the history cannot take (see [`SimServer::restate`]).
    #[error("cannot restate: {0}")]
    Restate(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
}

/// A running simulator.
///
/// Dropping it stops the server too, but [`SimServer::stop`] waits until it has finished.
#[derive(Debug)]
pub struct SimServer {
    state: Arc<AppState>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    ticker: Option<JoinHandle<()>>,
}

impl SimServer {
    /// Generates the org and serves it on `127.0.0.1` on a free port; returns once listening.
    pub async fn start(config: SimConfig) -> Result<SimServer, SimError> {
        SimServer::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Like [`SimServer::start`], on a chosen address.
    pub async fn start_on(config: SimConfig, addr: SocketAddr) -> Result<SimServer, SimError> {
        config.validate()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        // The history ends, and the live org begins, at this one instant, in whole milliseconds
        // like every instant of the org.
        let now = config.live.clock.now().as_millisecond();
        let start = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let generated = config.clone();
        // Generation is CPU work; keep it off the async workers.
        let (org, live) = tokio::task::spawn_blocking(move || generate(&generated, start))
            .await
            .unwrap_or_else(|_| generate(&config, start));
        let ticker = live
            .as_ref()
            .and_then(|live| Some((live.clone(), live.ticks_in_background()?)))
            .map(|(live, every)| {
                tokio::spawn(async move {
                    let mut interval = tokio::time::interval(every);
                    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        interval.tick().await;
                        live.tick();
                    }
                })
            });
        let state = Arc::new(AppState::new(config, org, live));
        let app = routes::app(Arc::clone(&state));
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    // A dropped sender means the `SimServer` is gone: stop as well.
                    let _ = signal.await;
                })
                .await
        });
        tracing::debug!(%local, "genesys-sim listening");
        Ok(SimServer {
            state,
            addr: local,
            shutdown: Some(shutdown),
            task: Some(task),
            ticker,
        })
    }

    /// The base URL for both the API and the login host, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// The history as generated; live conversations are in [`SimServer::live`], and the
    /// history as served after a [`SimServer::restate`] is [`SimServer::history`].
    pub fn org(&self) -> &Org {
        &self.state.org
    }

    /// The history behind every analytics response now: [`SimServer::org`] with the
    /// restatements made so far.
    pub fn history(&self) -> Arc<Org> {
        self.state.history()
    }

    /// Restates the last queue visit of a conversation of the history, as Genesys rewrites
    /// conversation data after the fact: from this call on, the aggregates query, the details
    /// query and details jobs (results of jobs submitted earlier included) all answer with the
    /// corrected outcome and wait, and the conversation ends accordingly. Gives the visit as
    /// corrected.
    ///
    /// Refused with [`SimError::Restate`] for a conversation the history does not hold, or a
    /// correction that would end the conversation after the history's end.
    pub fn restate(
        &self,
        conversation_id: &str,
        restatement: Restatement,
    ) -> Result<Visit, SimError> {
        self.state
            .restate(|history| history.restate(conversation_id, restatement))
            .map_err(SimError::Restate)
    }

    /// Makes the simulated org die midway through a client's work: it answers the next `n`
    /// requests (any route, the token endpoint included) as usual, then every later request
    /// with a 503 in Genesys's error shape, for as long as it runs. Calling it again counts
    /// from that call.
    pub fn stop_answering_after(&self, n: u64) {
        *self
            .state
            .answers_left
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(n);
    }

    /// The live org's handle, unless [`LiveConfig::enabled`] is off.
    pub fn live(&self) -> Option<&LiveOrg> {
        self.state.live.as_ref()
    }

    /// Requests received at `POST /api/v2/analytics/queues/observations/query`, whatever their
    /// outcome.
    pub fn observation_requests(&self) -> u64 {
        self.requests_by_path()
            .get(&format!("POST {OBSERVATIONS_PATH}"))
            .copied()
            .unwrap_or(0)
    }

    /// Requests received under `/api/v2/`, whatever their outcome (faults and 404s included).
    pub fn api_requests(&self) -> u64 {
        self.state.counters.api.load(Ordering::Relaxed)
    }

    /// Requests received at `/oauth/token`.
    pub fn token_requests(&self) -> u64 {
        self.state.counters.token.load(Ordering::Relaxed)
    }

    /// Every access token issued so far, expired ones included, so that tests can show no
    /// token ever appears in a client's output.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.tokens.issued()
    }

    /// Requests received per `"METHOD /path"` (job ids included in the path).
    pub fn requests_by_path(&self) -> BTreeMap<String, u64> {
        self.state
            .counters
            .by_path
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Responses sent per HTTP status code.
    pub fn responses_by_status(&self) -> BTreeMap<u16, u64> {
        self.state
            .counters
            .by_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Moves the simulator's clock forward, for token expiry and rate-limit windows only, so tests
    /// can expire tokens without waiting. The data and wall-clock dates are unaffected.
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// Stops accepting connections and waits (at most 5 s) for open requests to finish.
    pub async fn stop(mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The history as of `start` and, when enabled, the live org beginning there.
fn generate(config: &SimConfig, start: jiff::Timestamp) -> (Org, Option<LiveOrg>) {
    let org = Org::generate_until(config, start);
    let live = config
        .live
        .enabled
        .then(|| LiveOrg::new(&org, config.seed, &config.live, start));
    (org, live)
}
