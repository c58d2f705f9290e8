//! Core tally query → aggregates queries: views, filters, groupBy, queue batches and chunks, and
//! fetching them concurrently into one tally set.

use std::sync::Arc;

use futures_util::{StreamExt as _, TryStreamExt as _};
use jiff::Timestamp;
use sla_core::ports::TallyQuery;
use sla_core::{BucketPlan, Granularity, TallySet, Threshold};

use crate::chunking::{Segment, segments};
use crate::client::Inner;
use crate::convert;
use crate::error::GenesysError;
use crate::selection::{aggregates_filter, distinct};
use crate::wire::{AggregateResponse, AggregationQuery, AggregationRange, AggregationView};

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
pub(crate) fn period(granularity: Granularity) -> Option<&'static str> {
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
    let (queues, media) = distinct(&query.queues, &query.media);
    let mut queries = Vec::new();
    for segment in segments(&buckets, query.granularity, &query.zone, chunk_days) {
        for batch in queues.chunks(queues_per_request.max(1)) {
            let filter = aggregates_filter(batch, &media);
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
