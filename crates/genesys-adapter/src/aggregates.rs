//! Core tally query → aggregates queries: views, filters, groupBy, queue batches and chunks, and
//! fetching them concurrently into one tally set.

use std::sync::Arc;

use futures_util::{StreamExt as _, TryStreamExt as _};
use jiff::Timestamp;
use sla_core::ports::TallyQuery;
use sla_core::{BucketPlan, Granularity, MediaType, QueueId, TallySet, Threshold};

use crate::chunking::{Segment, segments};
use crate::client::Inner;
use crate::convert;
use crate::error::GenesysError;
use crate::wire::{
    AggregateResponse, AggregationQuery, AggregationRange, AggregationView, QueryClause,
    QueryFilter, QueryPredicate,
};

/// Where aggregates queries go.
pub(crate) const PATH: &str = "/api/v2/analytics/conversations/aggregates/query";

/// The metrics every tally needs, asked for once per (segment, queue batch).
pub(crate) const BASE_METRICS: [&str; 4] = ["nOffered", "tAnswered", "tAbandon", "tFlowOut"];

/// Genesys refuses a query with more views than this.
pub(crate) const MAX_VIEWS_PER_QUERY: usize = 10;

/// What a view's count means in a tally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Counted {
    /// `answered_within` for a threshold.
    AnsweredWithin(Threshold),
    /// `abandoned_within` for a threshold.
    AbandonedWithin(Threshold),
    /// `short_abandoned`.
    ShortAbandoned,
}

/// One `rangeBound` view: `target` values below `lt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ViewSpec {
    pub(crate) name: String,
    pub(crate) target: &'static str,
    pub(crate) lt: u64,
    pub(crate) counted: Counted,
}

/// The views a query needs: answered and abandoned within each threshold, and short abandons.
///
/// "Within T" means a wait ≤ T in whole milliseconds, and a view has only an exclusive upper
/// bound, so the bound is `T + 1`. A short abandon is a wait < S, so its bound is `S` itself;
/// with S = 0 nothing can be below it and no view is needed.
pub(crate) fn plan_views(
    thresholds: &[Threshold],
    short_abandon: Option<Threshold>,
) -> Vec<ViewSpec> {
    let mut thresholds = thresholds.to_vec();
    thresholds.sort_unstable();
    thresholds.dedup();
    let mut views = Vec::with_capacity(thresholds.len() * 2 + 1);
    for t in thresholds {
        let ms = t.as_millis();
        views.push(ViewSpec {
            name: format!("tAnsweredLe{ms}"),
            target: "tAnswered",
            lt: ms.saturating_add(1),
            counted: Counted::AnsweredWithin(t),
        });
        views.push(ViewSpec {
            name: format!("tAbandonLe{ms}"),
            target: "tAbandon",
            lt: ms.saturating_add(1),
            counted: Counted::AbandonedWithin(t),
        });
    }
    if let Some(s) = short_abandon.filter(|s| s.as_millis() > 0) {
        views.push(ViewSpec {
            name: format!("tAbandonLt{}", s.as_millis()),
            target: "tAbandon",
            lt: s.as_millis(),
            counted: Counted::ShortAbandoned,
        });
    }
    views
}

/// What one query of a (segment, queue batch) asks for: the base metrics (the first part only)
/// and up to ten views.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) base: bool,
    pub(crate) views: Vec<ViewSpec>,
}

impl Part {
    /// The metrics to ask for. A part without the base metrics still names its views' targets,
    /// which a view needs beside it; their values are then ignored.
    pub(crate) fn metrics(&self) -> Vec<&'static str> {
        if self.base {
            return BASE_METRICS.to_vec();
        }
        let mut metrics: Vec<&'static str> = Vec::new();
        for view in &self.views {
            if !metrics.contains(&view.target) {
                metrics.push(view.target);
            }
        }
        metrics
    }
}

/// Spreads `views` over as few parts as the view limit allows; there is always a first part,
/// which carries the base metrics.
pub(crate) fn plan_parts(views: Vec<ViewSpec>) -> Vec<Part> {
    if views.is_empty() {
        return vec![Part { base: true, views }];
    }
    views
        .chunks(MAX_VIEWS_PER_QUERY)
        .enumerate()
        .map(|(i, chunk)| Part {
            base: i == 0,
            views: chunk.to_vec(),
        })
        .collect()
}

/// One aggregates query and what is needed to read its answer.
#[derive(Clone, Debug)]
pub(crate) struct PlannedQuery {
    pub(crate) segment: Segment,
    pub(crate) part: Arc<Part>,
    pub(crate) body: AggregationQuery,
}

/// Every query a tally query needs, and the core's bucket plan their answers map into.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) buckets: BucketPlan,
    pub(crate) queries: Vec<PlannedQuery>,
}

/// Genesys's ISO-8601 period for a native granularity. Weeks and months are rolled up from
/// days by the core; asking for days keeps their buckets correct should one arrive here.
fn period(granularity: Granularity) -> Option<&'static str> {
    match granularity {
        Granularity::Total => None,
        Granularity::HalfHour => Some("PT30M"),
        Granularity::Hour => Some("PT1H"),
        Granularity::Day | Granularity::Week | Granularity::Month => Some("P1D"),
    }
}

/// `start/end` in UTC with milliseconds, as Genesys writes intervals.
pub(crate) fn interval(start: Timestamp, end: Timestamp) -> String {
    format!("{start:.3}/{end:.3}")
}

/// Plans the queries for `query`: segments (chunks and partial edge buckets) × queue batches ×
/// view parts.
pub(crate) fn plan(query: &TallyQuery, chunk_days: u32, queues_per_request: usize) -> Plan {
    let buckets = BucketPlan::new(&query.window, query.granularity, &query.zone);
    let parts: Vec<Arc<Part>> = plan_parts(plan_views(&query.thresholds, query.short_abandon))
        .into_iter()
        .map(Arc::new)
        .collect();
    let mut queues: Vec<&QueueId> = Vec::with_capacity(query.queues.len());
    for queue in &query.queues {
        if !queues.contains(&queue) {
            queues.push(queue);
        }
    }
    let mut media: Vec<MediaType> = Vec::with_capacity(query.media.len());
    for m in &query.media {
        if !media.contains(m) {
            media.push(*m);
        }
    }
    let mut queries = Vec::new();
    for segment in segments(&buckets, query.granularity, &query.zone, chunk_days) {
        for batch in queues.chunks(queues_per_request.max(1)) {
            let filter = filter(batch, &media);
            for part in &parts {
                let body = AggregationQuery {
                    interval: interval(segment.start, segment.end),
                    granularity: if segment.bucketed {
                        period(query.granularity)
                    } else {
                        None
                    },
                    time_zone: query.zone.name().to_owned(),
                    group_by: vec!["queueId", "mediaType"],
                    filter: Some(filter.clone()),
                    metrics: part.metrics(),
                    views: part
                        .views
                        .iter()
                        .map(|v| AggregationView {
                            name: v.name.clone(),
                            target: v.target,
                            function: "rangeBound",
                            range: AggregationRange { lt: v.lt },
                        })
                        .collect(),
                };
                queries.push(PlannedQuery {
                    segment,
                    part: Arc::clone(part),
                    body,
                });
            }
        }
    }
    Plan { buckets, queries }
}

/// `queueId in batch and mediaType in media`, each list an `or` clause.
fn filter(queues: &[&QueueId], media: &[MediaType]) -> QueryFilter {
    let mut clauses = vec![QueryClause {
        kind: "or",
        predicates: queues
            .iter()
            .map(|q| QueryPredicate::matches("queueId", q.as_str()))
            .collect(),
    }];
    if !media.is_empty() {
        clauses.push(QueryClause {
            kind: "or",
            predicates: media
                .iter()
                .map(|m| QueryPredicate::matches("mediaType", m.as_str()))
                .collect(),
        });
    }
    QueryFilter {
        kind: "and",
        clauses,
    }
}

/// Runs every planned query, at most `concurrency` at once, and adds up their tallies.
pub(crate) async fn fetch(inner: &Inner, query: &TallyQuery) -> Result<TallySet, GenesysError> {
    if query.queues.is_empty() {
        return Ok(TallySet::new());
    }
    let plan = plan(query, inner.chunk_days, inner.queues_per_request);
    tracing::debug!(
        queries = plan.queries.len(),
        buckets = plan.buckets.len(),
        "fetching aggregates"
    );
    // The futures are made up front: a stream mapping borrowed items through a closure trips
    // the compiler's `Send` inference inside `async_trait` futures.
    let requests: Vec<_> = plan
        .queries
        .iter()
        .map(|planned| fetch_one(inner, &plan.buckets, planned))
        .collect();
    futures_util::stream::iter(requests)
        .buffer_unordered(inner.concurrency)
        .try_fold(TallySet::new(), |mut all, part| async move {
            all.merge(part);
            Ok(all)
        })
        .await
}

async fn fetch_one(
    inner: &Inner,
    buckets: &BucketPlan,
    planned: &PlannedQuery,
) -> Result<TallySet, GenesysError> {
    let response: AggregateResponse = inner.post_json(PATH, &planned.body).await?;
    convert::tallies(buckets, planned, response)
}

#[cfg(test)]
mod tests {
    use sla_core::{TimeWindow, Zone};

    use super::*;
    use crate::tests::assert_valid;

    fn query(thresholds: &[u64], short: Option<u64>) -> TallyQuery {
        TallyQuery {
            queues: vec![QueueId::new("q-1"), QueueId::new("q-2")],
            media: Vec::new(),
            window: TimeWindow::new(
                "2024-05-01T00:00:00Z".parse().unwrap(),
                "2024-05-02T00:00:00Z".parse().unwrap(),
            )
            .unwrap(),
            zone: Zone::utc(),
            granularity: Granularity::Total,
            thresholds: thresholds
                .iter()
                .copied()
                .map(Threshold::from_millis)
                .collect(),
            short_abandon: short.map(Threshold::from_millis),
        }
    }

    fn bodies(plan: &Plan) -> Vec<serde_json::Value> {
        plan.queries
            .iter()
            .map(|q| {
                let body = serde_json::to_value(&q.body).unwrap();
                assert_valid("ConversationAggregationQuery", &body);
                body
            })
            .collect()
    }

    #[test]
    fn one_query_holds_metrics_views_filter_and_grouping() {
        let mut q = query(&[20_000], Some(5_000));
        q.media = vec![MediaType::Voice, MediaType::Chat, MediaType::Voice];
        q.zone = Zone::get("Europe/London").unwrap();
        q.granularity = Granularity::HalfHour;
        q.window = TimeWindow::new(
            "2024-04-30T23:00:00Z".parse().unwrap(),
            "2024-05-01T23:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let plan = plan(&q, 7, 100);
        let got = bodies(&plan);
        assert_eq!(plan.buckets.len(), 48);
        assert_eq!(
            got,
            [serde_json::json!({
                "interval": "2024-04-30T23:00:00.000Z/2024-05-01T23:00:00.000Z",
                "granularity": "PT30M",
                "timeZone": "Europe/London",
                "groupBy": ["queueId", "mediaType"],
                "filter": {"type": "and", "clauses": [
                    {"type": "or", "predicates": [
                        {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": "q-1"},
                        {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": "q-2"},
                    ]},
                    {"type": "or", "predicates": [
                        {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "voice"},
                        {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "chat"},
                    ]},
                ]},
                "metrics": ["nOffered", "tAnswered", "tAbandon", "tFlowOut"],
                "views": [
                    {"name": "tAnsweredLe20000", "target": "tAnswered", "function": "rangeBound", "range": {"lt": 20001}},
                    {"name": "tAbandonLe20000", "target": "tAbandon", "function": "rangeBound", "range": {"lt": 20001}},
                    {"name": "tAbandonLt5000", "target": "tAbandon", "function": "rangeBound", "range": {"lt": 5000}},
                ],
            })]
        );
    }

    #[test]
    fn without_thresholds_only_base_metrics_are_asked() {
        let plan = plan(&query(&[], None), 7, 100);
        let got = bodies(&plan);
        assert_eq!(got.len(), 1);
        assert!(got[0].get("views").is_none());
        assert!(got[0].get("granularity").is_none());
        assert_eq!(got[0]["timeZone"], "UTC");
        // A zero short-abandon bound counts nothing, so it needs no view.
        let plan = super::plan(&query(&[0], Some(0)), 7, 100);
        let views: Vec<&str> = plan.queries[0]
            .part
            .views
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(views, ["tAnsweredLe0", "tAbandonLe0"]);
        assert_eq!(plan.queries[0].part.views[0].lt, 1);
    }

    #[test]
    fn views_beyond_ten_are_spread_over_more_queries() {
        // Six thresholds and a short abandon: 13 views, so two queries per batch.
        let thresholds = [10_000, 20_000, 30_000, 45_000, 60_000, 90_000];
        let plan = plan(&query(&thresholds, Some(5_000)), 7, 100);
        let got = bodies(&plan);
        assert_eq!(got.len(), 2);
        let names = |body: &serde_json::Value| -> Vec<String> {
            body["views"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&got[0]).len(), 10);
        assert_eq!(
            names(&got[1]),
            ["tAnsweredLe90000", "tAbandonLe90000", "tAbandonLt5000"]
        );
        assert_eq!(
            got[0]["metrics"],
            serde_json::json!(["nOffered", "tAnswered", "tAbandon", "tFlowOut"])
        );
        // The second query asks only for its views' targets.
        assert_eq!(
            got[1]["metrics"],
            serde_json::json!(["tAnswered", "tAbandon"])
        );
        assert!(plan.queries[0].part.base && !plan.queries[1].part.base);
        // Every view name is distinct and none is a metric name.
        let mut all: Vec<String> = got.iter().flat_map(names).collect();
        assert_eq!(all.len(), 13);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 13);
        assert!(all.iter().all(|n| !BASE_METRICS.contains(&n.as_str())));
        // Exactly ten views fit one query; eleven do not.
        assert_eq!(
            plan_parts(plan_views(
                &[1, 2, 3, 4, 5].map(Threshold::from_millis),
                None
            ))
            .len(),
            1
        );
        assert_eq!(
            plan_parts(plan_views(
                &[1, 2, 3, 4, 5].map(Threshold::from_millis),
                Some(Threshold::from_millis(9))
            ))
            .len(),
            2
        );
    }

    #[test]
    fn queues_are_batched_and_chunks_multiply_queries() {
        let mut q = query(&[20_000], None);
        q.queues = (0..250).map(|i| QueueId::new(format!("q-{i}"))).collect();
        q.queues.push(QueueId::new("q-0"));
        q.window = TimeWindow::new(
            "2024-05-01T00:00:00Z".parse().unwrap(),
            "2024-05-15T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        q.granularity = Granularity::Day;
        let plan = plan(&q, 7, 100);
        let got = bodies(&plan);
        // Two chunks × three batches (100, 100, 50; the duplicate id is dropped).
        assert_eq!(got.len(), 6);
        let sizes: Vec<usize> = got
            .iter()
            .map(|b| {
                b["filter"]["clauses"][0]["predicates"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .collect();
        assert_eq!(sizes, [100, 100, 50, 100, 100, 50]);
        let intervals: Vec<&str> = got
            .iter()
            .map(|b| b["interval"].as_str().unwrap())
            .collect();
        assert_eq!(
            intervals,
            [
                "2024-05-01T00:00:00.000Z/2024-05-08T00:00:00.000Z",
                "2024-05-01T00:00:00.000Z/2024-05-08T00:00:00.000Z",
                "2024-05-01T00:00:00.000Z/2024-05-08T00:00:00.000Z",
                "2024-05-08T00:00:00.000Z/2024-05-15T00:00:00.000Z",
                "2024-05-08T00:00:00.000Z/2024-05-15T00:00:00.000Z",
                "2024-05-08T00:00:00.000Z/2024-05-15T00:00:00.000Z",
            ]
        );
        assert!(got.iter().all(|b| b["granularity"] == "P1D"));
    }

    #[test]
    fn partial_first_bucket_is_asked_without_granularity() {
        let mut q = query(&[20_000], None);
        q.granularity = Granularity::Hour;
        q.window = TimeWindow::new(
            "2024-05-01T10:15:00Z".parse().unwrap(),
            "2024-05-01T13:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let got = bodies(&plan(&q, 7, 100));
        let shapes: Vec<(&str, Option<&str>)> = got
            .iter()
            .map(|b| (b["interval"].as_str().unwrap(), b["granularity"].as_str()))
            .collect();
        assert_eq!(
            shapes,
            [
                ("2024-05-01T10:15:00.000Z/2024-05-01T11:00:00.000Z", None),
                (
                    "2024-05-01T11:00:00.000Z/2024-05-01T13:00:00.000Z",
                    Some("PT1H")
                ),
            ]
        );
    }

    #[test]
    fn granularity_periods() {
        assert_eq!(period(Granularity::Total), None);
        assert_eq!(period(Granularity::HalfHour), Some("PT30M"));
        assert_eq!(period(Granularity::Hour), Some("PT1H"));
        assert_eq!(period(Granularity::Day), Some("P1D"));
        let t: Timestamp = "2024-05-01T08:30:00.123456Z".parse().unwrap();
        assert_eq!(
            interval(t, "2024-05-02T00:00:00Z".parse().unwrap()),
            "2024-05-01T08:30:00.123Z/2024-05-02T00:00:00.000Z"
        );
    }
}
