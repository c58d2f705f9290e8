//! An independent stand-in for Genesys's aggregation, answering aggregates queries over a set of
//! visits, and random visits for it to count.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};
use sla_core::ports::{OutcomeKind, Visit, VisitOutcome};
use sla_core::{BucketPlan, Granularity, MediaType, QueueId, TimeWindow, Zone};

use crate::tests::{AGGREGATES, assert_valid, body_of, ts, with_token};
use crate::{Reply, ScriptedTransport};

/// An aggregates request as the stand-in below reads it.
struct Emulated {
    plan: BucketPlan,
    metrics: Vec<String>,
    queues: Vec<String>,
    media: Vec<String>,
    views: Vec<(String, String, u64)>,
}

/// Counts per (queue, media), bucket index and metric or view name (with "is a metric").
/// What one metric or view counted in one bucket.
#[derive(Clone, Copy, Default)]
struct Stat {
    is_metric: bool,
    count: u64,
    /// The sum and the maximum of a timer metric's values.
    timer: Option<(u64, u64)>,
}

type Counts = BTreeMap<(String, String), BTreeMap<usize, BTreeMap<String, Stat>>>;

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
pub(crate) fn emulate(visits: &[Visit], body: &Value) -> Value {
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
        // A timer metric's stats hold the sum and the maximum of its values too.
        let mut emit = |at: Timestamp, name: &str, is_metric: bool, value: Option<u64>| {
            if let Some(i) = q.plan.index_of(at) {
                let slot = counts
                    .entry(key.clone())
                    .or_default()
                    .entry(i)
                    .or_default()
                    .entry(name.to_owned())
                    .or_insert(Stat {
                        is_metric,
                        ..Stat::default()
                    });
                slot.count += 1;
                if let Some(value) = value {
                    let (sum, max) = slot.timer.unwrap_or_default();
                    slot.timer = Some((sum + value, max.max(value)));
                }
            }
        };
        if let Some(at) = visit.offered_at
            && asked("nOffered")
        {
            emit(at, "nOffered", true, None);
        }
        if let Some(outcome) = visit.outcome {
            let metric = match outcome.kind {
                OutcomeKind::Answered => "tAnswered",
                OutcomeKind::Abandoned => "tAbandon",
                OutcomeKind::FlowOut => "tFlowOut",
            };
            if asked(metric) {
                emit(outcome.at, metric, true, Some(outcome.wait_ms));
                for (name, target, lt) in &q.views {
                    if target == metric && outcome.wait_ms < *lt {
                        emit(outcome.at, name, false, None);
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
                            .filter(|(_, stat)| stat.is_metric == want_metric)
                            .map(|(name, stat)| {
                                let mut stats = json!({"count": stat.count});
                                if let Some((sum, max)) = stat.timer {
                                    stats["sum"] = json!(sum);
                                    stats["max"] = json!(max);
                                }
                                json!({field: name, "stats": stats})
                            })
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
pub(crate) fn visits(
    seed: u64,
    queues: &[&str],
    from: Timestamp,
    to: Timestamp,
    n: usize,
) -> Vec<Visit> {
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

/// A scripted transport with a token that answers aggregates queries over `visits`.
pub(crate) fn serving(visits: &Arc<Vec<Visit>>) -> ScriptedTransport {
    let transport = with_token();
    let visits = Arc::clone(visits);
    transport.respond(AGGREGATES, move |request| {
        Reply::json(200, &emulate(&visits, &body_of(request)))
    });
    transport
}
