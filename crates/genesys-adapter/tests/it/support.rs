//! Shared helpers: a simulator, clients pointed at it, tally queries and the core's tally of the
//! simulated org.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use genesys_adapter::{
    GenesysClient, GenesysConfig, HttpRequest, HttpResponse, ManualClock, Method, Region, Seams,
    Sleep, Transport, TransportError, TransportErrorKind,
};
use genesys_sim::{Org, Outcome, SimConfig, SimServer};
use jiff::Timestamp;
use secrecy::SecretString;
use sla_core::ports::{OutcomeKind, TallyQuery, Visit, VisitOutcome};
use sla_core::{BucketPlan, Granularity, MediaType, QueueId, Tallier, TallySet, Zone};

use crate::shared::{assert_valid, tally_query_of};

/// The client secret the simulator accepts in these tests; it must never surface anywhere.
pub(crate) const SECRET: &str = "it-s3cret-9f2c71be";

/// A small org with the 29 March 2026 DST change in Europe/London inside its data.
pub(crate) fn sim_config() -> SimConfig {
    SimConfig {
        seed: 7,
        queues: 5,
        days: 14,
        visits_per_day: 120,
        end_date: Some(jiff::civil::date(2026, 4, 5)),
        client_secret: SECRET.to_owned(),
        ..SimConfig::default()
    }
}

pub(crate) async fn start(config: SimConfig) -> Arc<SimServer> {
    Arc::new(
        SimServer::start(config)
            .await
            .expect("the simulator starts"),
    )
}

/// A configuration pointing at `sim` with its credentials.
pub(crate) fn config_for(sim: &SimServer) -> GenesysConfig {
    let mut config = GenesysConfig::new(
        Region::default(),
        sim.config().client_id.clone(),
        SecretString::from(sim.config().client_secret.clone()),
    );
    config.api_base = sim.base_url();
    config
}

/// A client on real time: every wait is really waited.
pub(crate) fn real_client(
    sim: &SimServer,
    tweak: impl FnOnce(&mut GenesysConfig),
) -> GenesysClient {
    let mut config = config_for(sim);
    tweak(&mut config);
    GenesysClient::new(config).expect("a valid configuration")
}

/// Real HTTP that checks every aggregates, details and observations request the client sends,
/// and every answer, against the vendor schema.
#[derive(Debug)]
pub(crate) struct CheckedHttp {
    http: reqwest::Client,
    /// Aggregates queries checked.
    pub(crate) checked: Mutex<usize>,
    /// Details queries, job submissions and job answers checked.
    pub(crate) details_checked: Mutex<usize>,
    /// Successful observations queries checked, body and answer.
    pub(crate) observations_checked: Mutex<usize>,
}

impl CheckedHttp {
    fn new() -> Self {
        Self {
            http: reqwest::Client::new(),
            checked: Mutex::default(),
            details_checked: Mutex::default(),
            observations_checked: Mutex::default(),
        }
    }
}

/// The vendor model of a details request's body and of its successful answer, by method and
/// path; `None` for requests that are not the details path's.
fn details_models(method: Method, path: &str) -> Option<(Option<&'static str>, &'static str)> {
    const DETAILS: &str = "/api/v2/analytics/conversations/details";
    let rest = path.strip_prefix(DETAILS)?;
    Some(match (method, rest) {
        (Method::Post, "/query") => (
            Some("ConversationQuery"),
            "AnalyticsConversationQueryResponse",
        ),
        (Method::Post, "/jobs") => (Some("AsyncConversationQuery"), "AsyncQueryResponse"),
        (Method::Get, "/jobs/availability") => (None, "DataAvailabilityResponse"),
        (Method::Get, r) if r.ends_with("/results") => {
            (None, "AnalyticsConversationAsyncQueryResponse")
        }
        (Method::Get, r) if r.starts_with("/jobs/") => (None, "AsyncQueryStatus"),
        _ => return None,
    })
}

#[async_trait]
impl Transport for CheckedHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        use secrecy::ExposeSecret as _;
        let aggregates = request.url.path().ends_with("/aggregates/query");
        if aggregates {
            let body: serde_json::Value =
                serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
            assert_valid("ConversationAggregationQuery", &body);
            *self.checked.lock().unwrap() += 1;
        }
        let observations = request.url.path().ends_with("/queues/observations/query");
        if observations {
            let body: serde_json::Value =
                serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
            assert_valid("QueueObservationQuery", &body);
        }
        let details = details_models(request.method, request.url.path());
        if let Some((Some(model), _)) = details {
            let body: serde_json::Value =
                serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
            assert_valid(model, &body);
        }
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.http.request(method, request.url);
        if let Some(auth) = &request.authorization {
            builder = builder.header("authorization", auth.expose_secret());
        }
        if let Some(content_type) = request.content_type {
            builder = builder.header("content-type", content_type);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let failed = |e: reqwest::Error| TransportError {
            kind: TransportErrorKind::Other,
            message: e.to_string(),
        };
        let response = builder.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = response.bytes().await.map_err(failed)?.to_vec();
        if aggregates && status == 200 {
            let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_valid("ConversationAggregateQueryResponse", &answer);
        }
        if observations && status == 200 {
            let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_valid("QueueObservationQueryResponse", &answer);
            *self.observations_checked.lock().unwrap() += 1;
        }
        if let Some((_, model)) = details.filter(|_| (200..300).contains(&status)) {
            let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_valid(model, &answer);
            *self.details_checked.lock().unwrap() += 1;
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// A client on real time over [`CheckedHttp`].
pub(crate) fn checked_client(
    sim: &SimServer,
    tweak: impl FnOnce(&mut GenesysConfig),
) -> (GenesysClient, Arc<CheckedHttp>) {
    let mut config = config_for(sim);
    tweak(&mut config);
    let http = Arc::new(CheckedHttp::new());
    let real = Seams::real();
    let seams = Seams {
        transport: Some(http.clone()),
        ..real
    };
    let client = GenesysClient::with_seams(config, seams).expect("a valid configuration");
    (client, http)
}

/// A client over [`CheckedHttp`] whose waits are instant and shared with the simulator.
pub(crate) fn checked_instant_client(
    sim: &Arc<SimServer>,
    tweak: impl FnOnce(&mut GenesysConfig),
) -> (GenesysClient, Arc<CheckedHttp>, Arc<SharedTime>) {
    let mut config = config_for(sim);
    tweak(&mut config);
    let http = Arc::new(CheckedHttp::new());
    let time = Arc::new(SharedTime {
        clock: ManualClock::new(),
        sim: Arc::clone(sim),
        waits: Mutex::default(),
    });
    let seams = Seams {
        transport: Some(http.clone()),
        sleep: time.clone(),
        clock: Arc::new(time.clock.clone()),
        jitter: Some(0.0),
    };
    let client = GenesysClient::with_seams(config, seams).expect("a valid configuration");
    (client, http, time)
}

/// Time shared by the client and the simulator: a requested wait returns at once, after moving
/// the client's clock and the simulator's token and rate-limit clock forward by it. Both sides
/// then see the wait as having passed, and the test does not spend it.
#[derive(Debug)]
pub(crate) struct SharedTime {
    pub(crate) clock: ManualClock,
    sim: Arc<SimServer>,
    waits: Mutex<Vec<Duration>>,
}

impl SharedTime {
    pub(crate) fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }
}

#[async_trait]
impl Sleep for SharedTime {
    async fn sleep(&self, duration: Duration) {
        self.waits.lock().unwrap().push(duration);
        self.clock.advance(duration);
        self.sim.advance_clock(duration);
    }
}

/// A client over real HTTP whose waits are instant and shared with the simulator.
pub(crate) fn instant_client(
    sim: &Arc<SimServer>,
    tweak: impl FnOnce(&mut GenesysConfig),
) -> (GenesysClient, Arc<SharedTime>) {
    let mut config = config_for(sim);
    tweak(&mut config);
    let time = Arc::new(SharedTime {
        clock: ManualClock::new(),
        sim: Arc::clone(sim),
        waits: Mutex::default(),
    });
    let seams = Seams {
        transport: None,
        sleep: time.clone(),
        clock: Arc::new(time.clock.clone()),
        jitter: Some(0.0),
    };
    let client = GenesysClient::with_seams(config, seams).expect("a valid configuration");
    (client, time)
}

pub(crate) fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The midnight that starts the day `(y, m, d)` in London.
pub(crate) fn london_midnight(y: i16, m: i8, d: i8) -> Timestamp {
    let zone = Zone::get("Europe/London").unwrap();
    jiff::civil::date(y, m, d)
        .to_zoned(zone.tz().clone())
        .unwrap()
        .timestamp()
}

/// [`query`] in London from the midnight starting `from` to the one starting `to`, each a
/// `(year, month, day)`.
pub(crate) fn london_days(
    sim: &SimServer,
    from: (i16, i8, i8),
    to: (i16, i8, i8),
    granularity: Granularity,
) -> TallyQuery {
    query(
        sim,
        "Europe/London",
        london_midnight(from.0, from.1, from.2),
        london_midnight(to.0, to.1, to.2),
        granularity,
    )
}

/// Every queue of the org, from `from` to `to` in `zone`, at 20 s, 30 s and 60 s with short
/// abandons below 10 s.
pub(crate) fn query(
    sim: &SimServer,
    zone: &str,
    from: Timestamp,
    to: Timestamp,
    granularity: Granularity,
) -> TallyQuery {
    let queues = sim
        .org()
        .queues
        .iter()
        .map(|q| QueueId::new(q.id.clone()))
        .collect();
    tally_query_of(
        queues,
        zone,
        (from, to),
        granularity,
        &[20_000, 30_000, 60_000],
        10_000,
    )
}

/// The core's own tally of the org's visits for `query`, independent of both the client and
/// the simulator's aggregation.
pub(crate) fn core_tally(org: &Org, query: &TallyQuery) -> TallySet {
    let plan = BucketPlan::new(&query.window, query.granularity, &query.zone);
    let mut tallier = Tallier::new(plan, &query.thresholds, query.short_abandon);
    for visit in &org.visits {
        let media: MediaType = visit.media_type.as_str().parse().unwrap();
        let queue = QueueId::new(visit.queue_id.clone());
        if !query.queues.contains(&queue)
            || !(query.media.is_empty() || query.media.contains(&media))
        {
            continue;
        }
        let kind = match visit.outcome {
            Outcome::Answered => OutcomeKind::Answered,
            Outcome::Abandoned => OutcomeKind::Abandoned,
            Outcome::FlowOut => OutcomeKind::FlowOut,
        };
        tallier.add(&Visit {
            conversation_id: visit.conversation_id.clone(),
            queue,
            media,
            entered: visit.entered,
            offered_at: Some(visit.entered),
            outcome: Some(VisitOutcome {
                kind,
                wait_ms: visit.wait_ms,
                at: visit.outcome_at,
            }),
        });
    }
    tallier.finish()
}

/// Aggregates requests the simulator received.
pub(crate) fn aggregate_requests(sim: &SimServer) -> u64 {
    sim.requests_by_path()
        .get("POST /api/v2/analytics/conversations/aggregates/query")
        .copied()
        .unwrap_or(0)
}

/// The tallies of a fault-free simulator with the same seed, checked against the core's tally.
pub(crate) async fn fault_free(query: &TallyQuery) -> TallySet {
    let sim = start(sim_config()).await;
    let client = real_client(&sim, |_| {});
    let tallies = sla_core::ports::TallySource::tallies(&client, query)
        .await
        .expect("a fault-free run succeeds");
    assert_eq!(tallies, core_tally(sim.org(), query));
    tallies
}
