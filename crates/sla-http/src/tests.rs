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
    MockQueueDirectory, MockTallySource, MockVisitSource, OutcomeKind, QueueDirectory,
    QueueSelector, SourceError, TallyQuery, TallySource, Visit, VisitOutcome, VisitSource,
};
use sla_core::{
    BucketPlan, Format, MediaType, QueryInput, QueueId, QueueInfo, QueueRef, ServiceLevelTarget,
    Sources, Tally, TallyKey, TallySet, Threshold, Within, Zone, fetch_report, render,
};
use tower::ServiceExt as _;

mod exposition;

use self::exposition::{parse_exposition, value};

use crate::app::app;
use crate::cache::CacheLimits;
use crate::state::{AppState, Clock, Limits, Ports, Settings, Upstream, UpstreamCounts};
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

/// A name pattern as Genesys reads it: exact ignoring case, with `*` at either end.
fn name_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.to_lowercase(), name.to_lowercase());
    match (p.strip_prefix('*'), p.strip_suffix('*')) {
        (Some(rest), _) if rest.ends_with('*') => n.contains(rest.trim_end_matches('*')),
        (Some(rest), None) => n.ends_with(rest),
        (None, Some(rest)) => n.starts_with(rest),
        _ => n == p,
    }
}

fn select(queues: &[QueueInfo], selector: &QueueSelector) -> Vec<QueueInfo> {
    queues
        .iter()
        .filter(|q| match selector {
            QueueSelector::All => true,
            QueueSelector::Ids(ids) => ids.contains(&q.queue.id),
            QueueSelector::Name(pattern) => name_matches(pattern, &q.queue.name),
        })
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

/// The watch of the demo defaults: every queue, today by the hour, at 20s and configured.
fn watch_all() -> QueryInput {
    QueryInput {
        all_queues: true,
        period: Some("today".into()),
        granularity: Some("hour".into()),
        thresholds: vec!["20s".into(), "configured".into()],
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
    token: Result<(), String>,
    /// Replaces the stub built from `token`.
    upstream: Option<Arc<dyn Upstream>>,
    now: Timestamp,
    settings: Settings,
}

impl Default for Built {
    fn default() -> Self {
        Self {
            directory: Arc::new(directory()),
            tallies: Arc::new(tallies_mock()),
            visits: None,
            token: Ok(()),
            upstream: None,
            now: now(),
            settings: Settings {
                watch: watch_all(),
                ..Settings::default()
            },
        }
    }
}

impl Built {
    fn build(self) -> Harness {
        let ports = Ports {
            directory: self.directory,
            tallies: self.tallies,
            visits: self.visits,
            upstream: self
                .upstream
                .unwrap_or_else(|| Arc::new(StubUpstream { token: self.token })),
        };
        let state = AppState::new(ports, Arc::new(FixedClock(self.now)), self.settings);
        Harness {
            app: app(state.clone()),
            state,
        }
    }
}

fn harness() -> Harness {
    Built::default().build()
}

fn with_token() -> Harness {
    Built {
        settings: Settings {
            token: Some(SecretString::from("s3cret-token")),
            watch: watch_all(),
            ..Settings::default()
        },
        ..Built::default()
    }
    .build()
}

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
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
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

#[tokio::test]
async fn report_answers_the_sla_report_json() {
    let h = harness();
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(reply.json()["schema"], "sla-report/v1");
    insta::assert_snapshot!("report_by_day", reply.body);
}

/// The API and `sla report` build the same `QueryInput` and render through the same sla-core
/// code, so the bodies are byte for byte what the CLI prints.
#[tokio::test]
async fn report_is_what_sla_core_renders_for_the_same_query_input() {
    let h = harness();
    let cases = [
        (
            DAYS_QUERY,
            QueryInput {
                queues: vec!["Support".into(), "sales".into()],
                from: Some("2024-05-13".into()),
                to: Some("2024-05-14".into()),
                tz: Some("UTC".into()),
                granularity: Some("day".into()),
                thresholds: vec!["20s".into(), "configured".into()],
                ..QueryInput::default()
            },
        ),
        (
            "/api/v1/report?queue_name=S*&period=yesterday&tz=Europe/London&by_media=true\
             &abandons=against&short_abandon=5s&flowouts=against&granularity=30m&media=voice,chat",
            QueryInput {
                queue_names: vec!["S*".into()],
                period: Some("yesterday".into()),
                tz: Some("Europe/London".into()),
                by_media: true,
                abandons: Some("against".into()),
                short_abandon: Some("5s".into()),
                flowouts: Some("against".into()),
                granularity: Some("30m".into()),
                media: vec!["voice,chat".into()],
                ..QueryInput::default()
            },
        ),
        (
            &format!(
                "/api/v1/report?queue={SALES}&from=2024-05-01T08:00:00Z&to=2024-05-01T12:00:00Z&granularity=hour&threshold=1m30s"
            ),
            QueryInput {
                queues: vec![SALES.into()],
                from: Some("2024-05-01T08:00:00Z".into()),
                to: Some("2024-05-01T12:00:00Z".into()),
                granularity: Some("hour".into()),
                thresholds: vec!["1m30s".into()],
                ..QueryInput::default()
            },
        ),
    ];
    for (uri, input) in cases {
        let reply = get(&h.app, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
        let request = input.parse(now(), &Zone::utc()).unwrap();
        let (directory, tallies) = (directory(), tallies_mock());
        let sources = Sources {
            directory: &directory,
            tallies: &tallies,
            visits: None,
        };
        let report = fetch_report(&request, sources).await.unwrap();
        assert_eq!(reply.body, render(&report, Format::Json), "{uri}");
    }
}

#[tokio::test]
async fn report_defaults_follow_the_cli() {
    // Without a queue the demo org reports every queue, as `sla report --demo` does; the
    // default window is the last 7 days and the default objective 20s.
    let demo = Built {
        settings: Settings {
            demo: true,
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    let reply = get(&demo.app, "/api/v1/report").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    assert_eq!(report["queues"].as_array().unwrap().len(), 3);
    assert_eq!(report["window"]["start"], "2024-05-08T00:00:00Z");
    assert_eq!(report["window"]["end"], "2024-05-15T00:00:00Z");
    assert_eq!(report["total"]["service_levels"][0]["objective"], "20s");

    // Elsewhere a query must name its queues.
    let reply = get(&harness().app, "/api/v1/report").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], "no_queues");
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_value() {
    let h = harness();
    let many_thresholds: Vec<String> = (1..=21).map(|s| format!("threshold={s}s")).collect();
    let many_queues: Vec<String> = (1..=201).map(|i| format!("queue=Q{i}")).collect();
    let cases: Vec<(&str, String)> = vec![
        ("invalid_threshold", "queue=Support&threshold=soon".into()),
        ("invalid_duration", "queue=Support&short_abandon=5".into()),
        ("invalid_time", "queue=Support&from=yesterday-ish".into()),
        ("invalid_period", "queue=Support&period=fortnight".into()),
        (
            "conflicting_window",
            "queue=Support&period=today&from=2024-05-01".into(),
        ),
        ("conflicting_window", "queue=Support&to=2024-05-01".into()),
        (
            "conflicting_window",
            "queue=Support&from=2024-05-10&to=2024-05-09".into(),
        ),
        (
            "window_too_long",
            "queue=Support&from=2023-01-01&to=2024-05-01".into(),
        ),
        (
            "unknown_time_zone",
            "queue=Support&tz=Mars/Olympus_Mons".into(),
        ),
        (
            "invalid_granularity",
            "queue=Support&granularity=minute".into(),
        ),
        (
            "invalid_abandons",
            "queue=Support&abandons=sometimes".into(),
        ),
        ("invalid_flowouts", "queue=Support&flowouts=maybe".into()),
        ("invalid_media_type", "queue=Support&media=voice,fax".into()),
        ("invalid_source", "queue=Support&source=magic".into()),
        ("unsupported_source", "queue=Support&source=details".into()),
        (
            "duplicate_objective",
            "queue=Support&threshold=20s&threshold=20s".into(),
        ),
        (
            "too_many",
            format!("queue=Support&{}", many_thresholds.join("&")),
        ),
        ("too_many", many_queues.join("&")),
        (
            "too_many",
            format!(
                "queue=Support&from=2023-05-01&to=2024-05-01&granularity=30m&{}",
                many_thresholds[..20].join("&")
            ),
        ),
        ("unknown_queue", "queue=Nobody".into()),
        (
            "unknown_queue",
            "queue=00000000-0000-4000-8000-00000000dead".into(),
        ),
        ("no_matching_queue", "queue_name=Zz*".into()),
        ("unknown_parameter", "queue=Support&queues=Sales".into()),
        (
            "duplicate_parameter",
            "queue=Support&tz=UTC&tz=Europe/Paris".into(),
        ),
        ("invalid_parameter", "all_queues=yes".into()),
        ("no_queues", "period=today".into()),
    ];
    let mut bodies = Vec::new();
    for (code, query) in &cases {
        let reply = get(&h.app, &format!("/api/v1/report?{query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.body
        );
        let body = reply.json();
        assert_eq!(body["error"]["code"], *code, "{query}");
        let shown = if query.len() > 80 {
            format!("{}...", &query[..80])
        } else {
            query.clone()
        };
        bodies.push(json!({ "query": shown, "body": body }));
    }
    insta::assert_json_snapshot!("bad_parameters", bodies);
}

/// `source=details` counts visits streamed from the details port instead of asking for tallies,
/// as `sla report --source details` does.
#[tokio::test]
async fn the_details_source_counts_streamed_visits() {
    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().never();
    let mut visits = MockVisitSource::new();
    visits.expect_visits().times(1).returning(|query, sink| {
        assert_eq!(query.queues, [QueueId::new(SUPPORT)]);
        for (i, wait_ms) in [5_000, 19_999, 20_000, 20_001, 45_000]
            .into_iter()
            .enumerate()
        {
            let entered: Timestamp = "2024-05-14T09:00:00Z".parse().unwrap();
            sink.visit(Visit {
                conversation_id: format!("c{i}"),
                queue: QueueId::new(SUPPORT),
                media: MediaType::Voice,
                entered,
                offered_at: Some(entered),
                outcome: Some(VisitOutcome {
                    kind: OutcomeKind::Answered,
                    wait_ms,
                    at: entered + jiff::SignedDuration::from_millis(wait_ms.cast_signed()),
                }),
            });
        }
        Ok(())
    });
    let h = Built {
        tallies: Arc::new(tallies),
        visits: Some(Arc::new(visits)),
        ..Built::default()
    }
    .build();
    let reply = get(
        &h.app,
        "/api/v1/report?queue=Support&period=yesterday&source=details",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    assert_eq!(report["source"], "details");
    assert_eq!(report["total"]["counts"]["answered"], 5);
    // Met means a wait of at most 20 s, inclusive.
    assert_eq!(report["total"]["service_levels"][0]["answered_within"], 3);
}

#[tokio::test]
async fn a_selection_resolving_to_too_many_queues_is_refused_before_counting() {
    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().never();
    let h = Built {
        tallies: Arc::new(tallies),
        settings: Settings {
            limits: Limits {
                max_queues: 2,
                ..Limits::default()
            },
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    let reply = get(&h.app, "/api/v1/report?all_queues=true").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json()["error"]["message"],
        "too many queues: 3, at most 2 are allowed"
    );
}

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

#[tokio::test]
async fn upstream_failures_are_502_with_genesys_details() {
    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(|_| Err(exhausted_503()));
    let h = Built {
        tallies: Arc::new(tallies),
        ..Built::default()
    }
    .build();
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    insta::assert_json_snapshot!("upstream_unavailable", reply.json());

    let mut directory = MockQueueDirectory::new();
    directory.expect_queues().returning(|_| {
        Err(SourceError::Unauthorized(Box::new(GenesysError::Auth {
            status: Some(401),
            message: "invalid_client: client credentials are wrong".to_owned(),
        })))
    });
    let h = Built {
        directory: Arc::new(directory),
        ..Built::default()
    }
    .build();
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    insta::assert_json_snapshot!("upstream_unauthorized", reply.json());
    let reply = get(&h.app, "/api/v1/queues").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.json()["error"]["upstream"]["status"], 401);
}

// ---------------------------------------------------------------------------------------------
// Single flight and caching.

fn counting(delay: Duration) -> (Arc<CountingTallies>, Harness) {
    let tallies = Arc::new(CountingTallies {
        calls: AtomicUsize::new(0),
        delay,
    });
    let h = Built {
        tallies: Arc::clone(&tallies) as Arc<dyn TallySource>,
        ..Built::default()
    }
    .build();
    (tallies, h)
}

/// Paused time advances only once every task waits, so by the time the slow source answers,
/// all hundred requests have arrived and found its fetch in flight.
#[tokio::test(start_paused = true)]
async fn a_hundred_identical_cold_requests_share_one_upstream_fetch() {
    let (tallies, h) = counting(Duration::from_secs(2));
    let requests: Vec<_> = (0..100)
        .map(|_| {
            let app = h.app.clone();
            tokio::spawn(async move { get(&app, DAYS_QUERY).await })
        })
        .collect();
    let mut bodies = BTreeSet::new();
    for request in requests {
        let reply = request.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        bodies.insert(reply.body);
    }
    assert_eq!(tallies.calls(), 1, "one upstream fetch");
    assert_eq!(bodies.len(), 1, "one answer");
    assert_eq!((h.state.cache.hits(), h.state.cache.misses()), (99, 1));

    // Then the result is served from the cache.
    assert_eq!(get(&h.app, DAYS_QUERY).await.status, StatusCode::OK);
    assert_eq!(tallies.calls(), 1);

    let metrics = parse_exposition(&get(&h.app, "/metrics").await.body);
    assert_eq!(value(&metrics, "sla_cache_hits_total", &[]), Some("100"));
    assert_eq!(value(&metrics, "sla_cache_misses_total", &[]), Some("1"));
}

#[tokio::test(start_paused = true)]
async fn open_windows_are_cached_briefly_and_closed_ones_for_an_hour() {
    let (tallies, h) = counting(Duration::ZERO);
    let open = "/api/v1/report?queue=Support&period=today";
    let closed = "/api/v1/report?queue=Support&period=yesterday";
    for uri in [open, closed] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK);
    }
    assert_eq!(tallies.calls(), 2);

    tokio::time::advance(Duration::from_secs(31)).await;
    for uri in [open, closed] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK);
    }
    assert_eq!(tallies.calls(), 3, "only today's window was fetched again");

    tokio::time::advance(Duration::from_hours(1)).await;
    assert_eq!(get(&h.app, closed).await.status, StatusCode::OK);
    assert_eq!(tallies.calls(), 4, "yesterday's expired after an hour");

    // Spelling one window two ways is one entry: yesterday is 2024-05-14.
    let same = "/api/v1/report?period=yesterday&queue=Support";
    assert_eq!(get(&h.app, same).await.status, StatusCode::OK);
    let dated = "/api/v1/report?queue=Support&from=2024-05-14&to=2024-05-14";
    assert_eq!(get(&h.app, dated).await.status, StatusCode::OK);
    assert_eq!(tallies.calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_slow_upstream_is_cut_off_with_a_504() {
    let (_, h) = counting(Duration::from_mins(10));
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    insta::assert_json_snapshot!("timeout", reply.json());
}

/// The real client against the in-process simulator: a hundred concurrent identical cold
/// requests send upstream exactly what one request sends, as the adapter's counters show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_real_client_concurrent_requests_cost_what_one_costs() {
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let from = today.checked_sub(jiff::Span::new().days(20)).unwrap();
    let to = today.checked_sub(jiff::Span::new().days(2)).unwrap();
    let uri = format!(
        "/api/v1/report?all_queues=true&from={from}&to={to}&tz=UTC&granularity=day&threshold=20s&threshold=configured"
    );
    let mut counts = Vec::new();
    for concurrent in [1, 100] {
        let connection = sla_connect::connect(&sla_connect::ConnectionArgs {
            demo: true,
            max_requests_per_minute: 10_000,
            concurrency: 4,
            ..sla_connect::ConnectionArgs::default()
        })
        .await
        .unwrap();
        let client = Arc::clone(connection.client());
        let ports = Ports {
            directory: connection.directory(),
            tallies: connection.tallies(),
            visits: None,
            upstream: Arc::new(crate::genesys::ClientUpstream(Arc::clone(&client))),
        };
        let state = AppState::new(
            ports,
            Arc::new(crate::state::SystemClock),
            Settings::default(),
        );
        let router = app(state);
        let requests: Vec<_> = (0..concurrent)
            .map(|_| {
                let router = router.clone();
                let uri = uri.clone();
                tokio::spawn(async move { get(&router, &uri).await })
            })
            .collect();
        for request in requests {
            let reply = request.await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        let metrics = parse_exposition(&get(&router, "/metrics").await.body);
        // What /metrics shows is what the adapter counted.
        let exposed: u64 = metrics
            .iter()
            .filter(|s| s.name == "sla_upstream_requests_total")
            .map(|s| s.value.parse::<u64>().unwrap())
            .sum();
        let sent: u64 = client.upstream_stats().requests_by_status.values().sum();
        assert_eq!(exposed, sent);
        counts.push(sent);
        connection.close().await;
    }
    assert!(counts[0] >= 2, "a token and at least one query: {counts:?}");
    assert_eq!(
        counts[0], counts[1],
        "upstream requests for 1 and for 100 requests"
    );
}

// ---------------------------------------------------------------------------------------------
// /api/v1/queues

#[tokio::test]
async fn queues_lists_the_directory() {
    let h = harness();
    let reply = get(&h.app, "/api/v1/queues").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    insta::assert_snapshot!("queues", reply.body);

    let reply = get(&h.app, "/api/v1/queues?name=sa*").await;
    let names: Vec<String> = reply.json()["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Sales"]);

    let reply = get(&h.app, "/api/v1/queues?division=Care").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], "unknown_parameter");
}

// ---------------------------------------------------------------------------------------------
// Access control.

#[tokio::test]
async fn with_a_token_the_api_wants_it_as_a_bearer_token() {
    let h = with_token();
    let missing = get(&h.app, DAYS_QUERY).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.header(header::WWW_AUTHENTICATE),
        "Bearer realm=\"sla\""
    );
    insta::assert_json_snapshot!("unauthorized_missing", missing.json());

    let wrong = get_with(&h.app, DAYS_QUERY, "Bearer s3cret-tokem").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("unauthorized_wrong", wrong.json());
    let wrong_scheme = get_with(&h.app, DAYS_QUERY, &basic("x", "s3cret-token")).await;
    assert_eq!(wrong_scheme.status, StatusCode::UNAUTHORIZED);
    let prefix = get_with(&h.app, DAYS_QUERY, "Bearer s3cret").await;
    assert_eq!(prefix.status, StatusCode::UNAUTHORIZED);

    let right = get_with(&h.app, DAYS_QUERY, "Bearer s3cret-token").await;
    assert_eq!(right.status, StatusCode::OK);
    let scheme_case = get_with(&h.app, "/api/v1/queues", "bearer s3cret-token").await;
    assert_eq!(scheme_case.status, StatusCode::OK);

    // Authentication comes before validation: a stranger learns nothing about parameters.
    let bad = get(&h.app, "/api/v1/report?nonsense=1").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_a_token_the_dashboard_wants_it_as_the_basic_password() {
    let h = with_token();
    watch::refresh(&h.state).await;
    let missing = get(&h.app, "/").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.header(header::WWW_AUTHENTICATE),
        "Basic realm=\"sla\", charset=\"UTF-8\""
    );
    assert_eq!(missing.json()["error"]["code"], "unauthorized");
    let wrong = get_with(&h.app, "/", &basic("wallboard", "guess")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let bearer = get_with(&h.app, "/", "Bearer s3cret-token").await;
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    let garbage = get_with(&h.app, "/", "Basic !!!").await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    for user in ["wallboard", "", "any one"] {
        let right = get_with(&h.app, "/", &basic(user, "s3cret-token")).await;
        assert_eq!(right.status, StatusCode::OK, "user {user:?}");
    }
}

#[tokio::test]
async fn with_a_token_metrics_and_probes_stay_open() {
    let h = with_token();
    watch::refresh(&h.state).await;
    for uri in ["/metrics", "/healthz", "/readyz"] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK, "{uri}");
    }
}

// ---------------------------------------------------------------------------------------------
// /metrics

#[tokio::test]
async fn metrics_expose_the_watched_queues_from_the_last_refresh() {
    let h = harness();
    let before = get(&h.app, "/metrics").await;
    assert_eq!(before.status, StatusCode::OK);
    let samples = parse_exposition(&before.body);
    assert!(
        samples
            .iter()
            .all(|s| !s.name.starts_with("sla_service_level"))
    );
    assert_eq!(
        value(
            &samples,
            "sla_upstream_requests_total",
            &[("status", "429")]
        ),
        Some("2")
    );

    watch::refresh(&h.state).await;
    let reply = get(&h.app, "/metrics").await;
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let samples = parse_exposition(&reply.body);
    let support = [
        ("queue_id", SUPPORT),
        ("queue", "Support"),
        ("objective", "configured"),
    ];
    assert!(value(&samples, "sla_service_level_percent", &support).is_some());
    assert_eq!(value(&samples, "sla_target_percent", &support), Some("80"));
    assert_eq!(
        value(&samples, "sla_threshold_seconds", &support),
        Some("20")
    );
    // The queue without a configured target has no percent for `configured`: no sample.
    let lab = [
        ("queue_id", LAB),
        ("queue", "R&D <\"Lab\">"),
        ("objective", "configured"),
    ];
    assert_eq!(value(&samples, "sla_service_level_percent", &lab), None);
    assert_eq!(value(&samples, "sla_denominator", &lab), Some("0"));
    assert!(
        reply.body.contains(r#"queue="R&D <\"Lab\">""#),
        "escaped label"
    );
    assert_eq!(
        value(&samples, "sla_last_refresh_timestamp_seconds", &[]),
        Some("1715769000.000")
    );
    assert_eq!(value(&samples, "sla_last_refresh_success", &[]), Some("1"));
    assert_eq!(
        value(&samples, "sla_upstream_retries_total", &[]),
        Some("2")
    );
    insta::assert_snapshot!("metrics", reply.body);
}

#[tokio::test]
async fn metrics_are_not_fetched_per_scrape() {
    let (tallies, h) = counting(Duration::ZERO);
    watch::refresh(&h.state).await;
    for _ in 0..5 {
        assert_eq!(get(&h.app, "/metrics").await.status, StatusCode::OK);
        assert_eq!(get(&h.app, "/").await.status, StatusCode::OK);
    }
    assert_eq!(tallies.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_background_refresh_runs_on_the_interval() {
    let (tallies, h) = counting(Duration::ZERO);
    let task = watch::spawn(h.state.clone());
    h.state.wait_for_first_refresh(Duration::from_secs(1)).await;
    assert_eq!(tallies.calls(), 1, "at start");
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert_eq!(tallies.calls(), 2, "a minute later");
    tokio::time::sleep(Duration::from_mins(1)).await;
    assert_eq!(tallies.calls(), 3);
    task.abort();
}

// ---------------------------------------------------------------------------------------------
// The dashboard.

#[tokio::test]
async fn the_dashboard_shows_every_watched_queue_escaped() {
    let h = harness();
    watch::refresh(&h.state).await;
    let reply = get(&h.app, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let html = &reply.body;
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"60\">"));
    for name in ["Support", "Sales", "R&amp;D &lt;&quot;Lab&quot;&gt;"] {
        assert!(html.contains(&format!(">{name}</h2>")), "{name}");
    }
    assert!(!html.contains("<\"Lab\">"), "a raw queue name in the page");
    let report = h.state.watch_status().report.unwrap();
    for row in &report.queues {
        for level in &row.service_levels {
            if let Some(p) = level.percent {
                assert!(
                    html.contains(&format!("data-percent=\"{p}\">{p:.1}%<")),
                    "{p}"
                );
            }
        }
    }
    // A bar per hour of today for each objective of each queue.
    let objectives: usize = report.queues.iter().map(|q| q.service_levels.len()).sum();
    assert_eq!(html.matches("<div class=\"bar ").count(), objectives * 24);
    // Hours after 10:30 have not happened yet.
    assert_eq!(
        html.matches("<div class=\"bar future\"").count(),
        objectives * 13
    );
    assert!(
        html.contains("class=\"objective met\"") || html.contains("class=\"objective missed\"")
    );
    assert!(
        html.contains("class=\"objective na\""),
        "Lab has no configured target"
    );
}

#[tokio::test]
async fn the_dashboard_says_when_nothing_is_watched_or_refreshed() {
    let idle = Built {
        settings: Settings::default(),
        ..Built::default()
    }
    .build();
    let reply = get(&idle.app, "/").await;
    assert!(reply.body.contains("No queue is watched"), "{}", reply.body);

    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(|_| Err(exhausted_503()));
    let failing = Built {
        tallies: Arc::new(tallies),
        ..Built::default()
    }
    .build();
    watch::refresh(&failing.state).await;
    let reply = get(&failing.app, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.body.contains("The last refresh failed"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("[contextId 7c1f6a0e-context]"));
}

#[tokio::test(start_paused = true)]
async fn the_first_page_waits_for_the_first_refresh() {
    let (_, h) = counting(Duration::from_secs(2));
    let task = watch::spawn(h.state.clone());
    let reply = get(&h.app, "/").await;
    assert!(reply.body.contains(">Support</h2>"), "{}", reply.body);
    task.abort();

    // Not forever: with nothing arriving, the page says it is waiting.
    let (_, slow) = counting(Duration::from_hours(1));
    let task = watch::spawn(slow.state.clone());
    let reply = get(&slow.app, "/").await;
    assert!(
        reply.body.contains("Waiting for the first refresh"),
        "{}",
        reply.body
    );
    task.abort();
}

// ---------------------------------------------------------------------------------------------
// Probes and the rest.

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(|_| Err(exhausted_503()));
    let h = Built {
        tallies: Arc::new(tallies),
        token: Err("login refused".to_owned()),
        ..Built::default()
    }
    .build();
    let reply = get(&h.app, "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "status": "ok" }));
}

#[tokio::test]
async fn readyz_wants_a_token_and_a_successful_refresh() {
    let h = harness();
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    insta::assert_json_snapshot!("not_ready_before_refresh", reply.json());
    watch::refresh(&h.state).await;
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "status": "ready" }));

    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(|_| Err(exhausted_503()));
    let h = Built {
        tallies: Arc::new(tallies),
        token: Err("authentication failed with status 401: invalid_client".to_owned()),
        ..Built::default()
    }
    .build();
    watch::refresh(&h.state).await;
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    insta::assert_json_snapshot!("not_ready_after_failures", reply.json());

    // With nothing watched, a token is enough.
    let idle = Built {
        settings: Settings::default(),
        ..Built::default()
    }
    .build();
    assert_eq!(get(&idle.app, "/readyz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_routes_methods_and_bodies_get_json_errors() {
    let h = harness();
    let reply = get(&h.app, "/api/v2/report").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"]["code"], "not_found");

    let post = Request::post("/api/v1/report").body(Body::empty()).unwrap();
    let reply = send(&h.app, post).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json()["error"]["code"], "method_not_allowed");
    assert!(reply.header(header::ALLOW).contains("GET"));

    let big = Request::get("/healthz")
        .header(header::CONTENT_LENGTH, 1_000_000)
        .body(Body::from(vec![b'x'; 1_000_000]))
        .unwrap();
    let reply = send(&h.app, big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["error"]["code"], "payload_too_large");
}

// ---------------------------------------------------------------------------------------------
// Bounds on memory and on upstream work.

#[tokio::test]
async fn by_media_rows_count_toward_the_cell_bound() {
    let mut tallies = MockTallySource::new();
    tallies
        .expect_tallies()
        .returning(|query| Ok(fixture_tallies(query)));
    // Two queues × two days × two objectives: eight cells, or eight per media type by media.
    let h = Built {
        tallies: Arc::new(tallies),
        settings: Settings {
            limits: Limits {
                max_cells: 10,
                ..Limits::default()
            },
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    let cases = [
        ("", StatusCode::OK),
        ("&by_media=true&media=voice", StatusCode::OK),
        ("&by_media=true&media=voice,chat", StatusCode::BAD_REQUEST),
        // Without a filter every analytics media type may have a row.
        ("&by_media=true", StatusCode::BAD_REQUEST),
        ("&by_media=false", StatusCode::OK),
    ];
    for (extra, status) in cases {
        let reply = get(&h.app, &format!("{DAYS_QUERY}{extra}")).await;
        assert_eq!(reply.status, status, "{extra}: {}", reply.body);
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(reply.json()["error"]["code"], "too_many", "{extra}");
        }
    }
    let reply = get(&h.app, &format!("{DAYS_QUERY}&by_media=true")).await;
    assert_eq!(
        reply.json()["error"]["message"],
        "too many report cells (queues × media types × intervals × objectives): 88, at most 10 are allowed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_that_finds_no_fetch_slot_is_told_busy() {
    let tallies = Arc::new(CountingTallies {
        calls: AtomicUsize::new(0),
        delay: Duration::from_secs(40),
    });
    let h = Built {
        tallies: Arc::clone(&tallies) as Arc<dyn TallySource>,
        settings: Settings {
            cache: CacheLimits {
                fetches: 1,
                ..CacheLimits::default()
            },
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    let app = h.app.clone();
    let first = tokio::spawn(async move { get(&app, DAYS_QUERY).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = tokio::time::Instant::now();
    let reply = get(&h.app, "/api/v1/report?queue=Support&period=yesterday").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(started.elapsed(), Duration::from_secs(10), "the slot wait");
    assert_eq!(reply.header(header::RETRY_AFTER), "2");
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(reply.json()["error"]["code"], "busy");
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
    assert_eq!(tallies.calls(), 1, "the refused request fetched nothing");
    // With the slot free again, the same request goes through.
    let reply = get(&h.app, "/api/v1/report?queue=Support&period=yesterday").await;
    assert_eq!(reply.status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Readiness under an unreachable login host.

/// A login host that takes `first_delay` to fail the first time and fails at once afterwards.
#[derive(Debug)]
struct UnreachableLogin {
    calls: AtomicUsize,
    first_delay: Duration,
}

const UNREACHABLE: &str = "gave up after 8 attempts: request POST /oauth/token failed: error sending request for url \
     (https://login.internal.example/oauth/token): client error (Connect): tcp connect error: Connection refused";

#[async_trait]
impl Upstream for UnreachableLogin {
    fn stats(&self) -> UpstreamCounts {
        UpstreamCounts::default()
    }

    async fn check_token(&self) -> Result<(), String> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            tokio::time::sleep(self.first_delay).await;
        }
        Err(UNREACHABLE.to_owned())
    }
}

/// Everything logged while it is alive, on this thread (the tests' runtime runs every task
/// on one thread).
struct CapturedLog {
    text: Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

struct LogWriter(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn start() -> Self {
        let text = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = Arc::clone(&text);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(Arc::clone(&writer)))
            .finish();
        Self {
            text,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    fn text(&self) -> String {
        String::from_utf8(self.text.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test(start_paused = true)]
async fn readyz_answers_within_its_deadline_and_probes_share_one_token_check() {
    let login = Arc::new(UnreachableLogin {
        calls: AtomicUsize::new(0),
        // The client's whole retry policy against an unreachable host.
        first_delay: Duration::from_secs(50),
    });
    let h = Built {
        upstream: Some(Arc::clone(&login) as Arc<dyn Upstream>),
        settings: Settings {
            request_timeout: Duration::from_secs(10),
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    let log = CapturedLog::start();

    let started = tokio::time::Instant::now();
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(started.elapsed(), crate::ready::DEADLINE);
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(
        reply.json(),
        json!({
            "status": "not_ready",
            "reasons": ["no access token: the token check has not finished after 2 s"],
        })
    );
    // Probes every few seconds join the check in flight rather than starting their own.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            get(&h.app, "/readyz").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(login.calls.load(Ordering::SeqCst), 1);

    // Once checks finish, a probe gets the reason, without the address; a probe soon after
    // reuses it.
    tokio::time::sleep(Duration::from_mins(1)).await;
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json()["reasons"][0],
        "no access token: gave up after 8 attempts: request POST /oauth/token failed: \
         error sending request: client error (Connect): tcp connect error: Connection refused"
    );
    assert_eq!(login.calls.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_secs(1)).await;
    get(&h.app, "/readyz").await;
    assert_eq!(login.calls.load(Ordering::SeqCst), 2, "reused");

    // The log has the address, and not being ready is a warning, not an error.
    let text = log.text();
    assert!(text.contains("login.internal.example"), "{text}");
    assert!(text.contains(" WARN "), "{text}");
    assert!(!text.contains("ERROR"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Cache lifetimes at the edge of the present.

#[tokio::test(start_paused = true)]
async fn a_window_ending_at_now_is_cached_briefly() {
    let tallies = Arc::new(CountingTallies::default());
    // Half a second past the minute: an open window's end may be `now` or `now` rounded down.
    let h = Built {
        tallies: Arc::clone(&tallies) as Arc<dyn TallySource>,
        now: "2024-05-15T10:30:00.5Z".parse().unwrap(),
        ..Built::default()
    }
    .build();
    let open = "/api/v1/report?queue=Support&from=2024-05-15T08:00:00Z";
    let to_the_second =
        "/api/v1/report?queue=Support&from=2024-05-15T09:00:00Z&to=2024-05-15T10:30:00Z";
    let closed = "/api/v1/report?queue=Support&from=2024-05-15T08:00:00Z&to=2024-05-15T10:00:00Z";
    for uri in [open, to_the_second, closed] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK, "{uri}");
    }
    let fetched = tallies.calls();
    assert_eq!(fetched, 3);
    tokio::time::advance(Duration::from_secs(31)).await;
    for uri in [open, to_the_second, closed] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK, "{uri}");
    }
    assert_eq!(
        tallies.calls(),
        fetched + 2,
        "the two windows reaching the present were fetched again, the closed one was not"
    );
}

// ---------------------------------------------------------------------------------------------
// Smaller edges.

#[tokio::test]
async fn a_network_failure_after_retries_is_a_502_naming_the_transport_error() {
    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(|_| {
        Err(SourceError::Unavailable {
            attempts: 8,
            source: Box::new(GenesysError::RetriesExhausted {
                attempts: 8,
                last: Box::new(GenesysError::Transport {
                    request: "POST /api/v2/analytics/conversations/aggregates/query".to_owned(),
                    reason: "error sending request for url (https://api.internal.example/api/v2/analytics/conversations/aggregates/query): \
                             client error (Connect): tcp connect error: Connection refused (os error 111)"
                        .to_owned(),
                }),
            }),
        })
    });
    let h = Built {
        tallies: Arc::new(tallies),
        ..Built::default()
    }
    .build();
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(!reply.body.contains("internal.example"), "{}", reply.body);
    assert_eq!(
        reply.json()["error"]["upstream"],
        json!({
            "status": null,
            "message": "request POST /api/v2/analytics/conversations/aggregates/query failed: error sending request: \
                        client error (Connect): tcp connect error: Connection refused (os error 111)",
            "context_id": null,
        })
    );
}

#[tokio::test]
async fn with_a_token_unknown_api_paths_and_methods_are_401_too() {
    let h = with_token();
    let post = || Request::post("/api/v1/report").body(Body::empty()).unwrap();
    for uri in ["/api/v2/report", "/api/v1/report/extra", "/api/", "/api"] {
        let reply = get(&h.app, uri).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(
            reply.header(header::WWW_AUTHENTICATE),
            "Bearer realm=\"sla\""
        );
    }
    assert_eq!(send(&h.app, post()).await.status, StatusCode::UNAUTHORIZED);

    // With the token, they are what they are.
    let reply = get_with(&h.app, "/api/v2/report", "Bearer s3cret-token").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"]["code"], "not_found");
    let mut request = post();
    request.headers_mut().insert(
        header::AUTHORIZATION,
        "Bearer s3cret-token".parse().unwrap(),
    );
    let reply = send(&h.app, request).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json()["error"]["code"], "method_not_allowed");
    // Outside /api nothing changes.
    assert_eq!(get(&h.app, "/nowhere").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn long_values_are_cut_short_in_400_messages() {
    let h = harness();
    let long = "x".repeat(5_000);
    for query in [
        format!("queue=Support&from={long}"),
        format!("queue=Support&{long}=1"),
        format!("queue=Support&all_queues={long}"),
    ] {
        let reply = get(&h.app, &format!("/api/v1/report?{query}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains(&format!("'{}…'", "x".repeat(200))),
            "{message}"
        );
        assert!(message.len() < 600, "{message}");
    }
}

#[tokio::test]
async fn daily_bars_on_the_dashboard_are_labelled_with_their_day() {
    let h = Built {
        settings: Settings {
            watch: QueryInput {
                period: Some("this-week".into()),
                granularity: Some("day".into()),
                ..watch_all()
            },
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    watch::refresh(&h.state).await;
    let html = get(&h.app, "/").await.body;
    assert!(html.contains("title=\"Mon 13 May "), "{html}");
    assert!(html.contains("title=\"Sun 19 May "), "{html}");
    assert!(!html.contains("00:00–00:00"), "{html}");
}
