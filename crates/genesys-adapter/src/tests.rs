//! Crate-level unit tests: the client through its ports over a scripted transport, and shared
//! test helpers.

use std::sync::OnceLock;

mod details;
mod fuzz;
mod retry;

/// The vendor schema's `$defs`, read from the repository.
fn schema_defs() -> &'static serde_json::Value {
    static DEFS: OnceLock<serde_json::Value> = OnceLock::new();
    DEFS.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schemas/genesys/contract.schema.json"
        );
        let text = std::fs::read_to_string(path).expect("the vendor schema is in the repository");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
        schema["$defs"].clone()
    })
}

/// Asserts that `instance` is valid against `$defs/<model>` of the vendor schema.
#[track_caller]
pub(crate) fn assert_valid(model: &str, instance: &serde_json::Value) {
    let schema = serde_json::json!({"$defs": schema_defs(), "$ref": format!("#/$defs/{model}")});
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{model}: {errors:#?}\n{instance:#}");
}

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use jiff::{Timestamp, ToSpan};
use secrecy::SecretString;
use serde_json::{Value, json};
use sla_core::ports::{
    OutcomeKind, QueueDirectory, QueueSelector, SourceError, TallyQuery, TallySource, Visit,
    VisitOutcome,
};
use sla_core::{
    BucketPlan, Granularity, MediaType, QueueId, Tallier, TallySet, Threshold, TimeWindow, Zone,
};

use crate::{
    GenesysClient, GenesysConfig, GenesysError, HttpRequest, InstantSleep, ManualClock, Region,
    Reply, ScriptedTransport, Seams,
};

const SECRET: &str = "sup3r-s3cret-value";
const TOKEN_PATH: &str = "/oauth/token";
const AGGREGATES: &str = "/api/v2/analytics/conversations/aggregates/query";
const QUEUES: &str = "/api/v2/routing/queues";

fn client(
    transport: &ScriptedTransport,
    tweak: impl FnOnce(&mut GenesysConfig),
) -> (GenesysClient, ManualClock, InstantSleep) {
    let mut config =
        GenesysConfig::new(Region::default(), "test-client", SecretString::from(SECRET));
    "http://api.genesys.test".clone_into(&mut config.api_base);
    tweak(&mut config);
    let (seams, clock, sleep) = Seams::scripted(transport);
    (
        GenesysClient::with_seams(config, seams).unwrap(),
        clock,
        sleep,
    )
}

fn body_of(request: &HttpRequest) -> Value {
    serde_json::from_str(request.body.as_deref().unwrap()).unwrap()
}

/// An error and its whole `source()` chain on one line, as `{:#}` prints it in the binaries.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        text.push_str(": ");
        text.push_str(&e.to_string());
        next = e.source();
    }
    text
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// An aggregates request as the stand-in below reads it.
struct Emulated {
    plan: BucketPlan,
    metrics: Vec<String>,
    queues: Vec<String>,
    media: Vec<String>,
    views: Vec<(String, String, u64)>,
}

/// Counts per (queue, media), bucket index and metric or view name (with "is a metric").
type Counts = BTreeMap<(String, String), BTreeMap<usize, BTreeMap<String, (bool, u64)>>>;

fn read_request(body: &Value) -> Emulated {
    assert_valid("ConversationAggregationQuery", body);
    let (start, end) = body["interval"].as_str().unwrap().split_once('/').unwrap();
    let window = TimeWindow::new(ts(start), ts(end)).unwrap();
    let zone = Zone::get(body["timeZone"].as_str().unwrap()).unwrap();
    let granularity = match body["granularity"].as_str() {
        None => Granularity::Total,
        Some("PT30M") => Granularity::HalfHour,
        Some("PT1H") => Granularity::Hour,
        Some("P1D") => Granularity::Day,
        Some(other) => panic!("unexpected granularity {other}"),
    };
    let metrics = body["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let mut queues = Vec::new();
    let mut media = Vec::new();
    for clause in body["filter"]["clauses"].as_array().unwrap() {
        for p in clause["predicates"].as_array().unwrap() {
            let value = p["value"].as_str().unwrap().to_owned();
            match p["dimension"].as_str().unwrap() {
                "queueId" => queues.push(value),
                "mediaType" => media.push(value),
                other => panic!("unexpected dimension {other}"),
            }
        }
    }
    let views: Vec<(String, String, u64)> = body["views"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| {
                    (
                        v["name"].as_str().unwrap().to_owned(),
                        v["target"].as_str().unwrap().to_owned(),
                        v["range"]["lt"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(views.len() <= 10, "more than 10 views");
    Emulated {
        plan: BucketPlan::new(&window, granularity, &zone),
        metrics,
        queues,
        media,
        views,
    }
}

/// An independent stand-in for Genesys's aggregation over `visits`: each metric counts in the
/// bucket of its emit instant, buckets step from the interval start in the query's zone, views
/// count values below their bound, and empty groups, buckets and metrics are left out.
fn emulate(visits: &[Visit], body: &Value) -> Value {
    let q = read_request(body);
    let asked = |metric: &str| q.metrics.iter().any(|m| m == metric);
    let mut counts: Counts = BTreeMap::new();
    for visit in visits {
        if !q.queues.iter().any(|id| id == visit.queue.as_str())
            || !(q.media.is_empty() || q.media.iter().any(|m| m == visit.media.as_str()))
        {
            continue;
        }
        let key = (
            visit.queue.as_str().to_owned(),
            visit.media.as_str().to_owned(),
        );
        let mut emit = |at: Timestamp, name: &str, is_metric: bool| {
            if let Some(i) = q.plan.index_of(at) {
                let slot = counts
                    .entry(key.clone())
                    .or_default()
                    .entry(i)
                    .or_default()
                    .entry(name.to_owned())
                    .or_insert((is_metric, 0));
                slot.1 += 1;
            }
        };
        if let Some(at) = visit.offered_at
            && asked("nOffered")
        {
            emit(at, "nOffered", true);
        }
        if let Some(outcome) = visit.outcome {
            let metric = match outcome.kind {
                OutcomeKind::Answered => "tAnswered",
                OutcomeKind::Abandoned => "tAbandon",
                OutcomeKind::FlowOut => "tFlowOut",
            };
            if asked(metric) {
                emit(outcome.at, metric, true);
                for (name, target, lt) in &q.views {
                    if target == metric && outcome.wait_ms < *lt {
                        emit(outcome.at, name, false);
                    }
                }
            }
        }
    }
    let response = render_counts(&q.plan, counts);
    assert_valid("ConversationAggregateQueryResponse", &response);
    response
}

fn render_counts(plan: &BucketPlan, counts: Counts) -> Value {
    let bounds: Vec<(Timestamp, Timestamp)> = plan.intervals().collect();
    let results: Vec<Value> = counts
        .into_iter()
        .map(|((queue, media), buckets)| {
            let data: Vec<Value> = buckets
                .into_iter()
                .map(|(i, names)| {
                    let (s, e) = bounds[i];
                    let pick = |want_metric: bool, field: &str| -> Vec<Value> {
                        names
                            .iter()
                            .filter(|(_, (is_metric, _))| *is_metric == want_metric)
                            .map(|(name, (_, n))| json!({field: name, "stats": {"count": n}}))
                            .collect()
                    };
                    let mut bucket = json!({
                        "interval": format!("{s:.3}/{e:.3}"),
                        "metrics": pick(true, "metric"),
                    });
                    let views = pick(false, "name");
                    if !views.is_empty() {
                        bucket["views"] = Value::Array(views);
                    }
                    bucket
                })
                .collect();
            json!({"group": {"queueId": queue, "mediaType": media}, "data": data})
        })
        .collect();
    if results.is_empty() {
        json!({})
    } else {
        json!({"results": results})
    }
}

/// Visits around `[from, to)`, some outside it, with waits on and beside the thresholds.
fn visits(seed: u64, queues: &[&str], from: Timestamp, to: Timestamp, n: usize) -> Vec<Visit> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let first = from - 24.hours();
    let span_ms = (to + 24.hours()).as_millisecond() - first.as_millisecond();
    (0..n)
        .map(|i| {
            let entered = first + rng.i64(0..span_ms).milliseconds();
            let wait_ms = match rng.u8(0..10) {
                0 => 20_000,
                1 => 20_001,
                2 => 5_000,
                3 => 4_999,
                _ => rng.u64(0..120_000),
            };
            let kind = [
                OutcomeKind::Answered,
                OutcomeKind::Answered,
                OutcomeKind::Abandoned,
                OutcomeKind::FlowOut,
            ][rng.usize(0..4)];
            let at = entered + i64::try_from(wait_ms).unwrap().milliseconds();
            Visit {
                conversation_id: format!("c-{i}"),
                queue: QueueId::new(queues[rng.usize(0..queues.len())]),
                media: [MediaType::Voice, MediaType::Chat, MediaType::Email][rng.usize(0..3)],
                entered,
                offered_at: (rng.u8(0..20) != 0).then_some(entered),
                outcome: (rng.u8(0..20) != 0).then_some(VisitOutcome { kind, wait_ms, at }),
            }
        })
        .collect()
}

/// What the core's own tallier counts for `query` over `visits`.
fn expected(query: &TallyQuery, visits: &[Visit]) -> TallySet {
    let plan = BucketPlan::new(&query.window, query.granularity, &query.zone);
    let mut tallier = Tallier::new(plan, &query.thresholds, query.short_abandon);
    for visit in visits {
        if query.queues.contains(&visit.queue)
            && (query.media.is_empty() || query.media.contains(&visit.media))
        {
            tallier.add(visit);
        }
    }
    tallier.finish()
}

fn serve_aggregates(transport: &ScriptedTransport, visits: Arc<Vec<Visit>>) {
    transport.script(TOKEN_PATH, [Reply::token("tok-1", 86_400)]);
    transport.respond(AGGREGATES, move |request| {
        Reply::json(200, &emulate(&visits, &body_of(request)))
    });
}

fn tally_query(
    queues: &[&str],
    zone: &str,
    from: Timestamp,
    to: Timestamp,
    granularity: Granularity,
) -> TallyQuery {
    TallyQuery {
        queues: queues.iter().map(|q| QueueId::new(*q)).collect(),
        media: Vec::new(),
        window: TimeWindow::new(from, to).unwrap(),
        zone: Zone::get(zone).unwrap(),
        granularity,
        thresholds: [10_000, 15_000, 20_000, 30_000, 45_000, 60_000]
            .map(Threshold::from_millis)
            .to_vec(),
        short_abandon: Some(Threshold::from_millis(5_000)),
    }
}

#[track_caller]
fn assert_same(got: &TallySet, want: &TallySet) {
    assert!(!want.is_empty(), "the scenario should count something");
    assert_eq!(got, want);
}

#[tokio::test]
async fn chunks_batches_and_view_parts_merge_into_the_core_tally_across_dst() {
    let queues = ["q-a", "q-b", "q-c"];
    let zone = Zone::get("Europe/London").unwrap();
    let from = jiff::civil::date(2026, 3, 22)
        .to_zoned(zone.tz().clone())
        .unwrap()
        .timestamp();
    let to = jiff::civil::date(2026, 4, 5)
        .to_zoned(zone.tz().clone())
        .unwrap()
        .timestamp();
    let visits = Arc::new(visits(1, &queues, from, to, 3_000));
    let transport = ScriptedTransport::new();
    serve_aggregates(&transport, Arc::clone(&visits));
    let (client, _, sleep) = client(&transport, |c| c.queues_per_request = 2);
    let query = tally_query(&queues, "Europe/London", from, to, Granularity::Hour);
    let got = client.tallies(&query).await.unwrap();
    assert_same(&got, &expected(&query, &visits));
    // 2 weekly chunks × 2 queue batches × 2 view parts (13 views).
    assert_eq!(transport.count(AGGREGATES), 8);
    assert_eq!(transport.count(TOKEN_PATH), 1);
    assert!(sleep.waits().is_empty());
    // The 23-hour day has 23 hourly buckets.
    let dst_day = got
        .iter()
        .filter(|(k, _)| {
            k.bucket >= ts("2026-03-29T00:00:00Z") && k.bucket < ts("2026-03-29T23:00:00Z")
        })
        .map(|(k, _)| k.bucket)
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(dst_day.len(), 23);
}

#[tokio::test]
async fn off_grid_windows_and_media_filters_match_the_core_tally() {
    let queues = ["q-a", "q-b"];
    let from = ts("2024-05-01T10:15:00Z");
    let to = ts("2024-05-04T16:40:00Z");
    let visits = Arc::new(visits(2, &queues, from, to, 2_000));
    for granularity in [
        Granularity::Day,
        Granularity::Hour,
        Granularity::HalfHour,
        Granularity::Total,
    ] {
        let transport = ScriptedTransport::new();
        serve_aggregates(&transport, Arc::clone(&visits));
        let (client, _, _) = client(&transport, |_| {});
        let mut query = tally_query(&queues, "America/New_York", from, to, granularity);
        query.media = vec![MediaType::Voice, MediaType::Chat];
        let got = client.tallies(&query).await.unwrap();
        assert_same(&got, &expected(&query, &visits));
        assert!(got.iter().all(|(k, _)| k.media != MediaType::Email));
        for request in transport
            .requests()
            .iter()
            .filter(|r| r.url.path() == AGGREGATES)
        {
            let body = body_of(request);
            assert_eq!(body["timeZone"], "America/New_York");
            assert_eq!(
                body["filter"]["clauses"][1]["predicates"][1]["value"],
                "chat"
            );
        }
    }
}

#[tokio::test]
async fn the_fall_back_day_has_fifty_half_hours() {
    let queues = ["q-a"];
    let zone = Zone::get("Europe/London").unwrap();
    let from = jiff::civil::date(2026, 10, 25)
        .to_zoned(zone.tz().clone())
        .unwrap()
        .timestamp();
    let to = jiff::civil::date(2026, 10, 26)
        .to_zoned(zone.tz().clone())
        .unwrap()
        .timestamp();
    let visits = Arc::new(visits(3, &queues, from, to, 3_000));
    let transport = ScriptedTransport::new();
    serve_aggregates(&transport, Arc::clone(&visits));
    let (client, _, _) = client(&transport, |_| {});
    let query = tally_query(&queues, "Europe/London", from, to, Granularity::HalfHour);
    let got = client.tallies(&query).await.unwrap();
    assert_same(&got, &expected(&query, &visits));
    let buckets: std::collections::BTreeSet<Timestamp> =
        got.iter().map(|(k, _)| k.bucket).collect();
    assert_eq!(buckets.len(), 50);
}

#[tokio::test]
async fn faults_on_the_way_leave_the_tallies_unchanged() {
    let queues = ["q-a", "q-b"];
    let from = ts("2024-05-01T00:00:00Z");
    let to = ts("2024-05-11T00:00:00Z");
    let visits = Arc::new(visits(4, &queues, from, to, 2_000));
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok-1", 86_400)]);
    let calls = Arc::new(Mutex::new(0_u32));
    let served = Arc::clone(&visits);
    transport.respond(AGGREGATES, move |request| {
        let mut calls = calls.lock().unwrap();
        *calls += 1;
        match *calls % 4 {
            1 => Reply::genesys_error(
                429,
                "too.many.requests.retry.after",
                "Rate limit exceeded",
                "ctx",
            )
            .with_header("Retry-After", "2"),
            2 => Reply::status(502),
            _ => Reply::json(200, &emulate(&served, &body_of(request))),
        }
    });
    let (client, _, sleep) = client(&transport, |_| {});
    let query = tally_query(&queues, "UTC", from, to, Granularity::Total);
    let got = client.tallies(&query).await.unwrap();
    assert_same(&got, &expected(&query, &visits));
    // Every Retry-After was waited for exactly (jitter pinned to zero).
    let waits = sleep.waits();
    assert!(waits.contains(&Duration::from_secs(2)));
    let stats = client.upstream_stats();
    assert_eq!(stats.retries, u64::try_from(waits.len()).unwrap());
    assert!(stats.requests_by_status[&429] >= 1 && stats.requests_by_status[&502] >= 1);
}

#[tokio::test]
async fn missing_groups_and_an_empty_answer_mean_zero() {
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok-1", 86_400)]);
    transport.script(AGGREGATES, [Reply::json(200, &json!({}))]);
    let (client, _, _) = client(&transport, |_| {});
    let query = tally_query(
        &["q-a"],
        "UTC",
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-02T00:00:00Z"),
        Granularity::Hour,
    );
    assert!(client.tallies(&query).await.unwrap().is_empty());
    // No queues, no requests.
    let mut none = query.clone();
    none.queues.clear();
    assert!(client.tallies(&none).await.unwrap().is_empty());
    assert_eq!(transport.count(AGGREGATES), 2);
}

#[tokio::test]
async fn api_errors_reach_the_core_with_genesys_details() {
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok-1", 86_400)]);
    transport.script(
        AGGREGATES,
        [Reply::genesys_error(
            400,
            "bad.request",
            "Views must have distinct names",
            "ctx-77",
        )],
    );
    let (client, _, _) = client(&transport, |_| {});
    let query = tally_query(
        &["q-a"],
        "UTC",
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-02T00:00:00Z"),
        Granularity::Total,
    );
    let err = client.tallies(&query).await.unwrap_err();
    assert!(matches!(err, SourceError::Rejected(_)), "{err:?}");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert_eq!(
        source,
        "genesys cloud answered 400 (bad.request): Views must have distinct names [contextId ctx-77]"
    );
}

/// A queue entity as Genesys lists it.
fn queue_json(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "division": {"id": "d1", "name": "Home"},
           "mediaSettings": {"call": {"serviceLevel": {"percentage": 0.8, "durationMs": 20000}}}})
}

fn query_pairs(request: &HttpRequest) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Serves `names` as queues `q-0`, `q-1`, ... three per page, paging by `pageCount` or, when
/// `page_count` is false, by `nextUri` only.
fn serve_queues(transport: &ScriptedTransport, names: &'static [&'static str], page_count: bool) {
    transport.script(TOKEN_PATH, [Reply::token("tok-1", 86_400)]);
    transport.respond(QUEUES, move |request| {
        let pairs = query_pairs(request);
        assert_eq!(param(&pairs, "pageSize"), ["100"]);
        let page: usize = param(&pairs, "pageNumber")[0].parse().unwrap();
        let ids = param(&pairs, "id");
        let all: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| queue_json(&format!("q-{i}"), n))
            .filter(|q| ids.is_empty() || ids.contains(&q["id"].as_str().unwrap()))
            .collect();
        let pages = all.len().div_ceil(3).max(1);
        let entities: Vec<Value> = all.iter().skip((page - 1) * 3).take(3).cloned().collect();
        let mut listing =
            json!({"entities": entities, "pageSize": 3, "pageNumber": page, "total": all.len()});
        if page_count {
            listing["pageCount"] = json!(pages);
        }
        if page < pages {
            listing["nextUri"] = json!(format!(
                "/api/v2/routing/queues?pageSize=3&pageNumber={}",
                page + 1
            ));
        }
        assert_valid("QueueEntityListing", &listing);
        Reply::json(200, &listing)
    });
}

const NAMES: &[&str] = &[
    "Billing",
    "Sales",
    "Support",
    "support",
    "Support Tier 2",
    "Claims",
    "Returns",
];

#[tokio::test]
async fn every_queue_is_listed_across_pages() {
    for by_page_count in [true, false] {
        let transport = ScriptedTransport::new();
        serve_queues(&transport, NAMES, by_page_count);
        let (client, _, _) = client(&transport, |_| {});
        let got = client.queues(&QueueSelector::All).await.unwrap();
        let names: Vec<&str> = got.iter().map(|q| q.queue.name.as_str()).collect();
        assert_eq!(names, NAMES);
        assert_eq!(transport.count(QUEUES), 3);
        let first = &got[0];
        assert_eq!(first.division.as_deref(), Some("Home"));
        assert_eq!(
            first.service_levels[&MediaType::Voice].threshold,
            Threshold::from_millis(20_000)
        );
        assert!(
            (first.service_levels[&MediaType::Voice].target_percent - 80.0).abs() < f64::EPSILON
        );
    }
}

#[tokio::test]
async fn names_are_sent_to_genesys_and_exact_names_kept_exact() {
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok-1", 86_400)]);
    // Whatever Genesys matched for the name, only exact (case-insensitive) names are kept.
    transport.respond(QUEUES, |request| {
        let pairs = query_pairs(request);
        let name = param(&pairs, "name")[0].to_owned();
        let entities: Vec<Value> = NAMES
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.to_lowercase()
                    .starts_with(&name.trim_end_matches('*').to_lowercase())
            })
            .map(|(i, n)| queue_json(&format!("q-{i}"), n))
            .collect();
        Reply::json(
            200,
            &json!({"entities": entities, "pageNumber": 1, "pageCount": 1}),
        )
    });
    let (client, _, _) = client(&transport, |_| {});
    let exact = client
        .queues(&QueueSelector::Name("SUPPORT".to_owned()))
        .await
        .unwrap();
    let names: Vec<&str> = exact.iter().map(|q| q.queue.name.as_str()).collect();
    assert_eq!(names, ["Support", "support"]);
    let wildcard = client
        .queues(&QueueSelector::Name("Sup*".to_owned()))
        .await
        .unwrap();
    assert_eq!(wildcard.len(), 3);
    let sent: Vec<Vec<(String, String)>> = transport
        .requests()
        .iter()
        .filter(|r| r.url.path() == QUEUES)
        .map(query_pairs)
        .collect();
    assert_eq!(param(&sent[0], "name"), ["SUPPORT"]);
    assert_eq!(param(&sent[1], "name"), ["Sup*"]);
}

#[tokio::test]
async fn ids_are_batched_as_repeated_parameters() {
    let transport = ScriptedTransport::new();
    serve_queues(&transport, NAMES, true);
    let (client, _, _) = client(&transport, |c| c.queues_per_request = 2);
    let ids: Vec<QueueId> = ["q-0", "q-2", "q-4", "q-6", "q-2", "q-missing"]
        .into_iter()
        .map(QueueId::new)
        .collect();
    let got = client.queues(&QueueSelector::Ids(ids)).await.unwrap();
    let found: Vec<&str> = got.iter().map(|q| q.queue.id.as_str()).collect();
    assert_eq!(found, ["q-0", "q-2", "q-4", "q-6"]);
    let batches: Vec<Vec<String>> = transport
        .requests()
        .iter()
        .filter(|r| r.url.path() == QUEUES)
        .map(|r| {
            param(&query_pairs(r), "id")
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    assert_eq!(
        batches,
        [
            vec!["q-0", "q-2"],
            vec!["q-4", "q-6"],
            vec!["q-2", "q-missing"]
        ]
    );
    // No ids, no request.
    assert!(
        client
            .queues(&QueueSelector::Ids(Vec::new()))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(transport.count(QUEUES), 3);
}

fn bearer(request: &HttpRequest) -> String {
    use secrecy::ExposeSecret as _;
    request
        .authorization
        .as_ref()
        .map(|a| a.expose_secret().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn tokens_are_renewed_ahead_of_expiry_and_after_a_refusal() {
    let transport = ScriptedTransport::new();
    transport.script(
        TOKEN_PATH,
        [
            Reply::token("tok-1", 600),
            Reply::token("tok-2", 600),
            Reply::token("tok-3", 600),
        ],
    );
    // The API refuses tok-2, as if it had been revoked.
    transport.respond(QUEUES, |request| {
        if bearer(request) == "Bearer tok-2" {
            Reply::genesys_error(401, "bad.credentials", "Invalid login credentials.", "ctx")
        } else {
            Reply::json(200, &json!({"entities": [], "pageCount": 1}))
        }
    });
    let (client, clock, _) = client(&transport, |_| {});
    client.queues(&QueueSelector::All).await.unwrap();
    clock.advance(Duration::from_secs(539));
    client.queues(&QueueSelector::All).await.unwrap();
    assert_eq!(transport.count(TOKEN_PATH), 1);
    // A minute before expiry tok-2 is fetched; the API refuses it, tok-3 is fetched, and the
    // request is repeated once.
    clock.advance(Duration::from_secs(1));
    client.queues(&QueueSelector::All).await.unwrap();
    let sent: Vec<String> = transport
        .requests()
        .iter()
        .filter(|r| r.url.path() == QUEUES)
        .map(bearer)
        .collect();
    assert_eq!(
        sent,
        [
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-2",
            "Bearer tok-3"
        ]
    );
    assert_eq!(transport.count(TOKEN_PATH), 3);
    assert!(client.check_credentials().await.is_ok());
    assert_eq!(transport.count(TOKEN_PATH), 3);
}

#[tokio::test]
async fn concurrent_refusals_share_one_renewal() {
    let transport = ScriptedTransport::new();
    transport.script(
        TOKEN_PATH,
        [
            Reply::token("tok-1", 86_400),
            Reply::token("tok-2", 86_400),
            Reply::token("tok-3", 86_400),
        ],
    );
    transport.respond(AGGREGATES, |request| {
        if bearer(request) == "Bearer tok-1" {
            Reply::status(401)
        } else {
            Reply::json(200, &json!({}))
        }
    });
    let (client, _, _) = client(&transport, |c| {
        c.chunk_days = 1;
        c.concurrency = 8;
    });
    let mut query = tally_query(
        &["q-a"],
        "UTC",
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-09T00:00:00Z"),
        Granularity::Total,
    );
    query.thresholds.clear();
    query.short_abandon = None;
    client.tallies(&query).await.unwrap();
    // Eight daily chunks in flight together, all refused with tok-1, then all repeated with tok-2.
    let sent: Vec<String> = transport
        .requests()
        .iter()
        .filter(|r| r.url.path() == AGGREGATES)
        .map(bearer)
        .collect();
    assert_eq!(sent.len(), 16);
    assert!(sent[..8].iter().all(|b| b == "Bearer tok-1"), "{sent:?}");
    assert!(sent[8..].iter().all(|b| b == "Bearer tok-2"), "{sent:?}");
    assert_eq!(transport.count(TOKEN_PATH), 2);
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Captures every event at trace level on this thread until the guard drops.
fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    // With a single dispatcher registered, tracing asks only the registering thread's default
    // whether a new callsite is of interest, so a callsite first hit by a parallel test would
    // stay disabled for good. A second, idle dispatcher makes it ask every live one.
    static IDLE: OnceLock<tracing::Dispatch> = OnceLock::new();
    IDLE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn secrets_and_tokens_stay_out_of_logs_errors_and_debug() {
    let (logs, _guard) = capture_logs();

    let transport = ScriptedTransport::new();
    transport.script(
        TOKEN_PATH,
        [
            Reply::token("tok-first-0001", 86_400),
            Reply::token("tok-second-0002", 86_400),
        ],
    );
    transport.script(
        QUEUES,
        [
            Reply::status(401),
            Reply::genesys_error(429, "too.many.requests", "Rate limit exceeded", "ctx-1")
                .with_header("Retry-After", "1"),
            Reply::json(200, &json!({"entities": [], "pageCount": 1}))
                .with_header("ININ-Correlation-Id", "corr-123"),
            Reply::genesys_error(400, "bad.request", "nope", "ctx-2"),
        ],
    );
    let (good_client, _, _) = client(&transport, |_| {});
    good_client.queues(&QueueSelector::All).await.unwrap();
    let mut errors: Vec<String> = Vec::new();
    let rejected = good_client.queues(&QueueSelector::All).await.unwrap_err();
    errors.push(format!("{rejected} {rejected:?} {rejected:#?}"));

    // A refused login.
    let refusing = ScriptedTransport::new();
    refusing.script(TOKEN_PATH, [Reply::json(401, &json!({"error": "invalid_client", "error_description": "client authentication failed"}))]);
    let (bad_client, _, _) = client(&refusing, |_| {});
    let unauthorized = bad_client.queues(&QueueSelector::All).await.unwrap_err();
    assert!(matches!(unauthorized, SourceError::Unauthorized(_)));
    errors.push(format!(
        "{unauthorized} {unauthorized:?} {:?}",
        std::error::Error::source(&unauthorized)
    ));
    let direct: GenesysError = bad_client.check_credentials().await.unwrap_err();
    errors.push(format!("{direct} {direct:?}"));
    errors.push(format!("{good_client:?} {good_client:#?}"));
    let config = GenesysConfig::new(Region::default(), "test-client", SecretString::from(SECRET));
    errors.push(format!("{config:?} {config:#?}"));
    for request in transport.requests() {
        errors.push(format!("{request:?}"));
    }

    let logs = logs.text();
    assert!(logs.contains("status=429"), "{logs}");
    assert!(logs.contains("correlation_id=\"corr-123\""), "{logs}");
    assert!(logs.contains("attempt=2"), "{logs}");
    assert!(logs.contains("token refused"), "{logs}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("test-client:{SECRET}"));
    for text in errors.iter().chain([&logs]) {
        for secret in [SECRET, "tok-first-0001", "tok-second-0002", basic.as_str()] {
            assert!(!text.contains(secret), "{secret} leaked into: {text}");
        }
    }
}

#[test]
fn the_client_is_usable_as_shared_ports() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<GenesysClient>();
    let transport = ScriptedTransport::new();
    let (client, _, _) = client(&transport, |_| {});
    let _tallies: Arc<dyn TallySource> = Arc::new(client.clone());
    let _visits: Arc<dyn sla_core::ports::VisitSource> = Arc::new(client.clone());
    let _queues: Arc<dyn QueueDirectory> = Arc::new(client);
}

#[test]
fn bad_configuration_is_refused_at_construction() {
    let mut config = GenesysConfig::new(Region::default(), "id", SecretString::from(SECRET));
    config.max_requests_per_minute = 0;
    let err = GenesysClient::new(config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: max requests per minute must be above zero"
    );
    let config = GenesysConfig::new(
        "eu-west-1".parse().unwrap(),
        "id",
        SecretString::from(SECRET),
    );
    assert!(
        format!("{:?}", GenesysClient::new(config).unwrap())
            .contains("https://login.mypurecloud.ie/")
    );
}
