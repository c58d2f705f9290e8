//! Router tests: every route, status and error through `app(state).oneshot(..)`, over sla-core's
//! port mocks and a fixed clock, with JSON bodies in insta file snapshots.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine as _;
use genesys_adapter::GenesysError;
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Value, json};
use sla_core::ports::{
    LiveSource, MockQueueDirectory, MockTallySource, MockVisitSource, OutcomeKind, QueueDirectory,
    QueueSelector, SourceError, TallyQuery, TallySource, Visit, VisitOutcome, VisitSource,
};
use sla_core::{
    BucketPlan, Format, Limits, LiveQuery, LiveState, MediaState, MediaType, QueryInput, QueueId,
    QueueInfo, QueueRef, ServiceLevelTarget, Sources, Tally, TallyKey, TallySet, Threshold, Within,
    Zone, fetch_report, render,
};
use tower::ServiceExt as _;

mod alerts;
mod auth;
mod cache;
mod dashboard;
mod exposition;
mod live;
mod live_api;
mod live_metrics;
mod metrics;
mod probes;
mod queues;
mod report;
mod routing;
mod stream;
mod upstream;

use self::exposition::{parse_exposition, value};

use crate::app::app;
use crate::cache::CacheLimits;
use crate::state::{AppState, Clock, Ports, Settings, Upstream, UpstreamCounts};
use crate::watch;

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// 2024-05-15 10:30 UTC, a Wednesday.
const NOW: &str = "2024-05-15T10:30:00Z";

const SUPPORT: &str = "00000000-0000-4000-8000-000000000001";
const SALES: &str = "00000000-0000-4000-8000-000000000002";
const LAB: &str = "00000000-0000-4000-8000-000000000003";

#[derive(Debug)]
struct FixedClock(Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// An option value read as the CLI and the API read it.
#[track_caller]
fn p<T: std::str::FromStr<Err = sla_core::SlaError>>(text: &str) -> T {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[track_caller]
fn ps(texts: &[&str]) -> Vec<sla_core::ThresholdArg> {
    texts.iter().map(|t| p(t)).collect()
}

#[track_caller]
fn media(entries: &[&str]) -> Vec<MediaType> {
    entries.iter().flat_map(|e| e.split(',')).map(p).collect()
}

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn queue(id: &str, name: &str, division: &str, levels: &[(MediaType, u64, f64)]) -> QueueInfo {
    QueueInfo {
        queue: QueueRef {
            id: QueueId::new(id),
            name: name.to_owned(),
        },
        division: Some(division.to_owned()),
        service_levels: levels
            .iter()
            .map(|(media, ms, percent)| {
                (
                    *media,
                    ServiceLevelTarget {
                        threshold: Threshold::from_millis(*ms),
                        target_percent: *percent,
                    },
                )
            })
            .collect(),
    }
}

/// Three queues, one with a name full of markup to prove escaping.
fn fixture_queues() -> Vec<QueueInfo> {
    vec![
        queue(
            SUPPORT,
            "Support",
            "Care",
            &[(MediaType::Voice, 20_000, 80.0)],
        ),
        queue(
            SALES,
            "Sales",
            "Revenue",
            &[
                (MediaType::Voice, 30_000, 90.0),
                (MediaType::Chat, 60_000, 70.0),
            ],
        ),
        queue(LAB, "R&D <\"Lab\">", "Care", &[]),
    ]
}

fn select(queues: &[QueueInfo], selector: &QueueSelector) -> Vec<QueueInfo> {
    queues
        .iter()
        .filter(|q| selector.selects(&q.queue))
        .cloned()
        .collect()
}

fn directory_of(queues: Vec<QueueInfo>) -> MockQueueDirectory {
    let mut mock = MockQueueDirectory::new();
    mock.expect_queues()
        .returning(move |selector| Ok(select(&queues, selector)));
    mock
}

fn directory() -> MockQueueDirectory {
    directory_of(fixture_queues())
}

/// Deterministic counts for every (queue, media, bucket) the query asks for: voice for every
/// queue, chat for Sales.
fn fixture_tallies(query: &TallyQuery) -> TallySet {
    let plan = BucketPlan::new(&query.window, query.granularity, &query.zone);
    let mut set = TallySet::new();
    for queue in &query.queues {
        let seed = u64::from(queue.as_str().bytes().last().unwrap_or(b'0') - b'0');
        for (i, (start, _)) in plan.intervals().enumerate() {
            let i = i as u64;
            for media in [MediaType::Voice, MediaType::Chat] {
                if media == MediaType::Chat && queue.as_str() != SALES {
                    continue;
                }
                if !query.media.is_empty() && !query.media.contains(&media) {
                    continue;
                }
                let offered = 10 + seed * 3 + i % 5 + if media == MediaType::Chat { 4 } else { 0 };
                let mut tally = Tally::default();
                tally.offered = offered;
                tally.answered = offered - 2;
                tally.abandoned = 2;
                tally.flow_outs = u64::from(i.is_multiple_of(3));
                tally.short_abandoned = u64::from(query.short_abandon.is_some());
                for threshold in &query.thresholds {
                    let s = threshold.as_millis() / 1000;
                    let within = Within {
                        answered: tally.answered * s / (s + 5 + seed),
                        abandoned: u64::from(s >= 20),
                    };
                    tally.add_within(*threshold, within);
                }
                let key = TallyKey {
                    queue: queue.clone(),
                    media,
                    bucket: start,
                };
                set.add(key, &tally);
            }
        }
    }
    set
}

/// A tally source that counts its calls and takes `delay` to answer.
#[derive(Debug, Default)]
struct CountingTallies {
    calls: AtomicUsize,
    delay: Duration,
}

impl CountingTallies {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TallySource for CountingTallies {
    async fn tallies(&self, query: &TallyQuery) -> Result<TallySet, SourceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(fixture_tallies(query))
    }
}

/// What is happening now in the fixture queues at [`NOW`]: two waiting in Support (45 s and
/// 5 s), one voice call in Sales for 10 s and one chat for 90 s, and agents on both.
fn fixture_live(query: &LiveQuery) -> LiveState {
    let ago = |secs: i64| now() - jiff::SignedDuration::from_secs(secs);
    let mut state = LiveState::default();
    let mut put = |queue: &str, media, waiting_since: Vec<Timestamp>, interacting| {
        let queue = QueueId::new(queue);
        if query.queues.contains(&queue) && (query.media.is_empty() || query.media.contains(&media))
        {
            let waiting = waiting_since.len() as u64;
            let media_state = MediaState {
                waiting,
                waiting_since,
                truncated: false,
                interacting,
            };
            state.media.insert((queue, media), media_state);
        }
    };
    put(SUPPORT, MediaType::Voice, vec![ago(45), ago(5)], 3);
    put(SALES, MediaType::Voice, vec![ago(10)], 2);
    put(SALES, MediaType::Chat, vec![ago(90)], 1);
    for (queue, agents) in [(SUPPORT, 5), (SALES, 4)] {
        let queue = QueueId::new(queue);
        if query.queues.contains(&queue) {
            state.on_queue_agents.insert(queue, agents);
        }
    }
    state
}

/// A live source over [`fixture_live`] that counts its calls, and fails while told to.
#[derive(Debug, Default)]
struct FixtureLive {
    calls: AtomicUsize,
    failing: std::sync::atomic::AtomicBool,
    /// Conversations added to Support's voice waiting list, waiting since these instants.
    extra: std::sync::Mutex<Vec<Timestamp>>,
}

impl FixtureLive {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn add_waiting(&self, since: Timestamp) {
        self.extra.lock().unwrap().push(since);
    }
}

#[async_trait]
impl LiveSource for FixtureLive {
    async fn observe(&self, query: &LiveQuery) -> Result<LiveState, SourceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(exhausted_503());
        }
        let mut state = fixture_live(query);
        let extra = self.extra.lock().unwrap().clone();
        if let Some(support) = state
            .media
            .get_mut(&(QueueId::new(SUPPORT), MediaType::Voice))
        {
            support.waiting += extra.len() as u64;
            support.waiting_since.extend(extra);
        }
        Ok(state)
    }
}

#[derive(Debug)]
struct StubUpstream {
    token: Result<(), String>,
}

#[async_trait]
impl Upstream for StubUpstream {
    fn stats(&self) -> UpstreamCounts {
        UpstreamCounts {
            requests_by_status: BTreeMap::from([("200".to_owned(), 7), ("429".to_owned(), 2)]),
            retries: 2,
        }
    }

    async fn check_token(&self) -> Result<(), String> {
        self.token.clone()
    }
}

fn tallies_mock() -> MockTallySource {
    let mut mock = MockTallySource::new();
    mock.expect_tallies()
        .returning(|query| Ok(fixture_tallies(query)));
    mock
}

/// A tally source failing every count as Genesys does after its retries.
fn failing_tallies() -> MockTallySource {
    let mut mock = MockTallySource::new();
    mock.expect_tallies().returning(|_| Err(exhausted_503()));
    mock
}

/// A tally source that fails the test if anything asks it for counts.
fn never_tallies() -> MockTallySource {
    let mut mock = MockTallySource::new();
    mock.expect_tallies().never();
    mock
}

/// The watch of the demo defaults: every queue, today by the hour, at 20s and configured.
fn watch_all() -> QueryInput {
    QueryInput {
        all_queues: true,
        period: Some(p("today")),
        granularity: p("hour"),
        thresholds: ps(&["20s", "configured"]),
        ..QueryInput::default()
    }
}

struct Harness {
    state: AppState,
    app: Router,
}

struct Built {
    directory: Arc<dyn QueueDirectory>,
    tallies: Arc<dyn TallySource>,
    visits: Option<Arc<dyn VisitSource>>,
    live: Arc<dyn LiveSource>,
    token: Result<(), String>,
    /// Replaces the stub built from `token`.
    upstream: Option<Arc<dyn Upstream>>,
    now: Timestamp,
    settings: Settings,
    alerts: crate::alerts::Alerts,
    /// Replaces the fixed clock at `now`.
    clock: Option<Arc<dyn Clock>>,
}

impl Default for Built {
    fn default() -> Self {
        Self {
            directory: Arc::new(directory()),
            tallies: Arc::new(tallies_mock()),
            visits: None,
            live: Arc::new(FixtureLive::default()),
            token: Ok(()),
            upstream: None,
            now: now(),
            settings: watching(),
            alerts: crate::alerts::Alerts::default(),
            clock: None,
        }
    }
}

impl Built {
    fn build(self) -> Harness {
        let ports = Ports {
            directory: self.directory,
            tallies: self.tallies,
            visits: self.visits,
            live: self.live,
            upstream: self
                .upstream
                .unwrap_or_else(|| Arc::new(StubUpstream { token: self.token })),
        };
        let clock = self.clock.unwrap_or_else(|| Arc::new(FixedClock(self.now)));
        let state = AppState::new(ports, clock, self.settings).with_alerts(self.alerts);
        Harness {
            app: app(state.clone()),
            state,
        }
    }
}

fn harness() -> Harness {
    Built::default().build()
}

/// A harness whose today's and live figures have been refreshed once.
async fn refreshed() -> Harness {
    let h = harness();
    refresh_all(&h.state).await;
    h
}

/// A harness watching nothing.
fn idle() -> Harness {
    Built {
        settings: Settings::default(),
        ..Built::default()
    }
    .build()
}

/// A harness over `tallies`.
fn with_tallies(tallies: MockTallySource) -> Harness {
    Built {
        tallies: Arc::new(tallies),
        ..Built::default()
    }
    .build()
}

/// Refreshes today's figures, then the live ones, as the two background tasks do.
async fn refresh_all(state: &AppState) {
    watch::refresh(state).await;
    crate::live::Poller::default().refresh(state).await;
}

/// A harness over a live source the test holds.
fn with_live(live: &Arc<FixtureLive>, settings: Settings) -> Harness {
    Built {
        live: Arc::clone(live) as Arc<dyn LiveSource>,
        settings,
        ..Built::default()
    }
    .build()
}

/// The settings of the watched demo defaults.
fn watching() -> Settings {
    Settings {
        watch: watch_all(),
        ..Settings::default()
    }
}

fn with_token() -> Harness {
    Built {
        settings: Settings {
            token: Some(SecretString::from("s3cret-token")),
            ..watching()
        },
        ..Built::default()
    }
    .build()
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    /// Asserts an error answer: `status`, with `code` in the body.
    #[track_caller]
    fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.json()["error"]["code"], code);
    }

    /// Asserts a 401 that asks for credentials with `challenge`.
    #[track_caller]
    fn assert_challenge(&self, challenge: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{}", self.body);
        assert_eq!(self.header(header::WWW_AUTHENTICATE), challenge);
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    reply_of(app.clone().oneshot(request).await.unwrap()).await
}

/// A response read whole.
async fn reply_of(response: axum::response::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_with(app: &Router, uri: &str, authorization: &str) -> Reply {
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, authorization)
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

// ---------------------------------------------------------------------------------------------
// /api/v1/report

const DAYS_QUERY: &str = "/api/v1/report?queue=Support&queue=sales&from=2024-05-13&to=2024-05-14\
                          &tz=UTC&granularity=day&threshold=20s&threshold=configured";

fn exhausted_503() -> SourceError {
    SourceError::Unavailable {
        attempts: 5,
        source: Box::new(GenesysError::RetriesExhausted {
            attempts: 5,
            last: Box::new(GenesysError::Api {
                status: 503,
                code: Some("service.unavailable".to_owned()),
                message: "The service is currently unavailable".to_owned(),
                context_id: Some("7c1f6a0e-context".to_owned()),
            }),
        }),
    }
}

fn counting(delay: Duration) -> (Arc<CountingTallies>, Harness) {
    counting_in(delay, Built::default())
}

/// The harness `built` describes, over a tally source that counts its calls and takes `delay`
/// to answer.
fn counting_in(delay: Duration, built: Built) -> (Arc<CountingTallies>, Harness) {
    let tallies = Arc::new(CountingTallies {
        calls: AtomicUsize::new(0),
        delay,
    });
    let h = Built {
        tallies: Arc::clone(&tallies) as Arc<dyn TallySource>,
        ..built
    }
    .build();
    (tallies, h)
}

/// The string `field` of each object in the JSON array `list`.
fn texts<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}
