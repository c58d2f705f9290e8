//! The aggregates query: validation as Genesys does it, and the simulator's own aggregation.
//!
//! This is deliberately written from the visit list alone, without sharing code with `sla-core`'s
//! tallies, so that the client's aggregates path and its per-visit details path check each other.
//! Each metric counts in the bucket holding its emit instant: `nOffered` at queue entry, the timers
//! (`tAnswered`, `tAbandon`, `tFlowOut`, `tShortAbandon`, `tAcd`), `nOverSla` and `oServiceLevel` at
//! the outcome.

use std::collections::{BTreeMap, HashMap};

use jiff::{Span, Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};

use crate::{
    dataset::Dataset,
    error::ApiError,
    org::{MediaType, Org, Outcome, Visit},
    wire::{Filter, NumericRange, Operator, PredicateType, format_interval, is_known_metric},
};

/// More buckets than this in one response is refused rather than built.
const MAX_BUCKETS: usize = 50_000;
/// Genesys's documented cap on views per query.
const MAX_VIEWS: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AggregationQuery {
    interval: String,
    metrics: Vec<String>,
    granularity: Option<String>,
    time_zone: Option<String>,
    group_by: Option<Vec<String>>,
    filter: Option<Filter<AggregatePredicate>>,
    views: Option<Vec<View>>,
    // Metrics already count at the time of their event, so `eventTime` changes nothing here.
    #[expect(dead_code, reason = "accepted for wire compatibility only")]
    alternate_time_dimension: Option<AlternateTimeDimension>,
    #[expect(dead_code, reason = "accepted for wire compatibility only")]
    flatten_multivalued_dimensions: Option<bool>,
    query_type: Option<QueryType>,
    #[expect(dead_code, reason = "accepted for wire compatibility only")]
    sort_metric: Option<serde_json::Value>,
    #[expect(dead_code, reason = "accepted for wire compatibility only")]
    limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
enum AlternateTimeDimension {
    #[serde(rename = "eventTime")]
    EventTime,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
enum QueryType {
    GroupBy,
    TopN,
    BottomN,
}

/// A predicate on dimensions, as the aggregates and the queue observations queries take it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AggregatePredicate {
    #[serde(rename = "type")]
    kind: Option<PredicateType>,
    pub(crate) dimension: Option<String>,
    pub(crate) operator: Option<Operator>,
    pub(crate) value: Option<String>,
    range: Option<NumericRange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct View {
    target: String,
    name: String,
    function: ViewFunction,
    range: Option<ViewRange>,
}

#[derive(Debug, Deserialize)]
enum ViewFunction {
    #[serde(rename = "rangeBound")]
    RangeBound,
}

/// `AggregationRange`: only `gte` and an exclusive `lt`, unlike predicate ranges.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewRange {
    gte: Option<f64>,
    lt: Option<f64>,
}

/// The timers the simulator computes, with their index into an accumulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timer {
    Answered = 0,
    Abandon = 1,
    FlowOut = 2,
    ShortAbandon = 3,
    Acd = 4,
}

impl Timer {
    fn from_name(name: &str) -> Option<Timer> {
        Some(match name {
            "tAnswered" => Timer::Answered,
            "tAbandon" => Timer::Abandon,
            "tFlowOut" => Timer::FlowOut,
            "tShortAbandon" => Timer::ShortAbandon,
            "tAcd" => Timer::Acd,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Metric {
    Offered,
    Timer(Timer),
    OverSla,
    ServiceLevel,
}

impl Metric {
    fn from_name(name: &str) -> Option<Metric> {
        match name {
            "nOffered" => Some(Metric::Offered),
            "nOverSla" => Some(Metric::OverSla),
            "oServiceLevel" => Some(Metric::ServiceLevel),
            other => Timer::from_name(other).map(Metric::Timer),
        }
    }
}

#[derive(Clone, Copy)]
enum CompiledPredicate {
    Queue(Option<usize>),
    Media(Option<MediaType>),
    Constant(bool),
}

struct CompiledView {
    name: String,
    timer: Option<Timer>,
    gte: f64,
    lt: f64,
}

/// Count, sum, min and max of whole-millisecond values.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    count: u64,
    sum: u64,
    min: u64,
    max: u64,
}

impl Stats {
    fn add(&mut self, x: u64) {
        if self.count == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.count += 1;
        self.sum += x;
    }
}

/// The queue target (`percentage`) behind an `oServiceLevel`, kept only while it is the same for all.
#[derive(Clone, Copy, Debug, Default)]
enum Target {
    #[default]
    None,
    One(f64),
    Mixed,
}

impl Target {
    fn add(&mut self, pct: f64) {
        *self = match *self {
            Target::None => Target::One(pct),
            Target::One(p) if (p - pct).abs() < f64::EPSILON => Target::One(p),
            _ => Target::Mixed,
        };
    }
}

#[derive(Clone, Debug, Default)]
struct Acc {
    offered: u64,
    timers: [Stats; 5],
    over_sla: u64,
    sl_numerator: u64,
    sl_denominator: u64,
    sl_target: Target,
    views: Vec<Stats>,
}

type GroupKey = (Option<usize>, Option<MediaType>);

#[derive(Serialize)]
pub(crate) struct AggregateResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    results: Vec<ResultOut>,
}

#[derive(Serialize)]
struct ResultOut {
    group: BTreeMap<&'static str, String>,
    data: Vec<DataOut>,
}

#[derive(Serialize)]
struct DataOut {
    interval: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    metrics: Vec<MetricOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    views: Vec<ViewOut>,
}

#[derive(Serialize)]
struct MetricOut {
    metric: &'static str,
    stats: StatsOut,
}

#[derive(Serialize)]
struct ViewOut {
    name: String,
    stats: StatsOut,
}

#[derive(Serialize, Default)]
struct StatsOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sum: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    numerator: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    denominator: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<f64>,
}

impl StatsOut {
    fn timer(s: &Stats) -> StatsOut {
        StatsOut {
            max: Some(s.max),
            min: Some(s.min),
            count: Some(s.count),
            sum: Some(s.sum),
            ..StatsOut::default()
        }
    }

    fn count(n: u64) -> StatsOut {
        StatsOut {
            count: Some(n),
            ..StatsOut::default()
        }
    }
}

/// A validated query, ready to run over the org.
struct Plan {
    buckets: Vec<i64>,
    metrics: Vec<(&'static str, Metric)>,
    group_queue: bool,
    group_media: bool,
    /// `allowed[queue][media]`, from [`allowed_pairs`].
    allowed: Vec<[bool; 5]>,
    views: Vec<CompiledView>,
}

/// Validates and runs an aggregates query over the history and the finished live conversations.
pub(crate) fn run(
    data: &Dataset,
    query: &AggregationQuery,
    short_abandon_ms: u64,
) -> Result<AggregateResponse, ApiError> {
    let org = &*data.org;
    let plan = plan(org, query)?;
    let mut accs: HashMap<(GroupKey, usize), Acc> = HashMap::new();
    let n_views = plan.views.len();
    for visit in data.visits() {
        if !plan.allowed[visit.queue_idx][visit.media_type.index()] {
            continue;
        }
        let key = (
            plan.group_queue.then_some(visit.queue_idx),
            plan.group_media.then_some(visit.media_type),
        );
        let new_acc = || Acc {
            views: vec![Stats::default(); n_views],
            ..Acc::default()
        };
        if let Some(b) = bucket_of(&plan.buckets, visit.entered_ms()) {
            accs.entry((key, b)).or_insert_with(new_acc).offered += 1;
        }
        if let Some(b) = bucket_of(&plan.buckets, visit.outcome_ms()) {
            let acc = accs.entry((key, b)).or_insert_with(new_acc);
            emit_outcome(org, &plan, visit, short_abandon_ms, acc);
        }
    }
    Ok(render(org, &plan, accs))
}

fn emit_outcome(org: &Org, plan: &Plan, visit: &Visit, short_abandon_ms: u64, acc: &mut Acc) {
    let wait = visit.wait_ms;
    let level = org.queues[visit.queue_idx].service_level(visit.media_type);
    let mut timers = [None; 3];
    timers[0] = Some(Timer::Acd);
    match visit.outcome {
        Outcome::Answered => {
            timers[1] = Some(Timer::Answered);
            if wait > level.duration_ms {
                acc.over_sla += 1;
            } else {
                acc.sl_numerator += 1;
            }
            acc.sl_denominator += 1;
            acc.sl_target.add(level.percentage);
        }
        Outcome::Abandoned => {
            timers[1] = Some(Timer::Abandon);
            if wait < short_abandon_ms {
                timers[2] = Some(Timer::ShortAbandon);
            }
            acc.sl_denominator += 1;
            acc.sl_target.add(level.percentage);
        }
        Outcome::FlowOut => timers[1] = Some(Timer::FlowOut),
    }
    #[expect(clippy::cast_precision_loss, reason = "waits are far below 2^52 ms")]
    let value = wait as f64;
    for timer in timers.into_iter().flatten() {
        acc.timers[timer as usize].add(wait);
        for (view, stats) in plan.views.iter().zip(acc.views.iter_mut()) {
            if view.timer == Some(timer) && value >= view.gte && value < view.lt {
                stats.add(wait);
            }
        }
    }
}

fn bucket_of(bounds: &[i64], t: i64) -> Option<usize> {
    let (first, last) = (*bounds.first()?, *bounds.last()?);
    if t < first || t >= last {
        return None;
    }
    Some(bounds.partition_point(|b| *b <= t) - 1)
}

fn render(org: &Org, plan: &Plan, accs: HashMap<(GroupKey, usize), Acc>) -> AggregateResponse {
    let mut groups: BTreeMap<GroupKey, Vec<(usize, Acc)>> = BTreeMap::new();
    for ((key, bucket), acc) in accs {
        groups.entry(key).or_default().push((bucket, acc));
    }
    let mut results = Vec::new();
    for ((queue, media), mut buckets) in groups {
        buckets.sort_by_key(|(b, _)| *b);
        let data: Vec<DataOut> = buckets
            .iter()
            .filter_map(|(b, acc)| data_out(plan, *b, acc))
            .collect();
        if data.is_empty() {
            continue;
        }
        let mut group = BTreeMap::new();
        if let Some(q) = queue {
            group.insert("queueId", org.queues[q].id.clone());
        }
        if let Some(m) = media {
            group.insert("mediaType", m.as_str().to_owned());
        }
        results.push(ResultOut { group, data });
    }
    AggregateResponse { results }
}

/// One bucket's output, or `None` when every requested metric and view is empty there.
fn data_out(plan: &Plan, bucket: usize, acc: &Acc) -> Option<DataOut> {
    let mut metrics = Vec::new();
    for (name, metric) in &plan.metrics {
        let stats = match metric {
            Metric::Offered if acc.offered > 0 => StatsOut::count(acc.offered),
            Metric::OverSla if acc.over_sla > 0 => StatsOut::count(acc.over_sla),
            Metric::Timer(t) if acc.timers[*t as usize].count > 0 => {
                StatsOut::timer(&acc.timers[*t as usize])
            }
            Metric::ServiceLevel if acc.sl_denominator > 0 => {
                #[expect(clippy::cast_precision_loss, reason = "counts are small")]
                let ratio = acc.sl_numerator as f64 / acc.sl_denominator as f64;
                StatsOut {
                    ratio: Some(ratio),
                    numerator: Some(acc.sl_numerator),
                    denominator: Some(acc.sl_denominator),
                    target: match acc.sl_target {
                        Target::One(p) => Some(p),
                        Target::None | Target::Mixed => None,
                    },
                    ..StatsOut::default()
                }
            }
            _ => continue,
        };
        metrics.push(MetricOut {
            metric: name,
            stats,
        });
    }
    let views: Vec<ViewOut> = plan
        .views
        .iter()
        .zip(&acc.views)
        .filter(|(_, s)| s.count > 0)
        .map(|(v, s)| ViewOut {
            name: v.name.clone(),
            stats: StatsOut::timer(s),
        })
        .collect();
    if metrics.is_empty() && views.is_empty() {
        return None;
    }
    Some(DataOut {
        interval: format_interval(plan.buckets[bucket], plan.buckets[bucket + 1]),
        metrics,
        views,
    })
}

fn plan(org: &Org, query: &AggregationQuery) -> Result<Plan, ApiError> {
    let (start, end) = crate::wire::parse_interval(&query.interval)?;
    let tz = match query.time_zone.as_deref() {
        None => TimeZone::UTC,
        Some(name) => TimeZone::get(name)
            .map_err(|_| ApiError::bad_request(format!("Invalid timeZone '{name}'")))?,
    };
    let buckets = bucket_bounds(start, end, query.granularity.as_deref(), &tz)?;
    if matches!(query.query_type, Some(QueryType::TopN | QueryType::BottomN)) {
        return Err(ApiError::bad_request(
            "queryType topN and bottomN are not supported by the simulator",
        ));
    }
    if query.metrics.is_empty() {
        return Err(ApiError::bad_request("At least one metric is required"));
    }
    let mut metrics = Vec::new();
    for name in &query.metrics {
        let known = crate::wire::METRICS
            .iter()
            .find(|m| *m == name)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid metric '{name}' in metrics")))?;
        // Known Genesys metrics the simulator does not compute are accepted and never returned,
        // which is how Genesys treats metrics that have no data.
        if let Some(metric) = Metric::from_name(known)
            && !metrics.iter().any(|(n, _)| n == known)
        {
            metrics.push((*known, metric));
        }
    }
    let (mut group_queue, mut group_media) = (false, false);
    for dim in query.group_by.iter().flatten() {
        match dim.as_str() {
            "queueId" => group_queue = true,
            "mediaType" => group_media = true,
            other => {
                return Err(ApiError::bad_request(format!(
                    "groupBy dimension '{other}' is not supported by the simulator (queueId, mediaType)"
                )));
            }
        }
    }
    let allowed = allowed_pairs(org, query.filter.as_ref())?;
    let views = compile_views(query.views.as_deref().unwrap_or_default())?;
    Ok(Plan {
        buckets,
        metrics,
        group_queue,
        group_media,
        allowed,
        views,
    })
}

/// `allowed[queue][media]`: which (queue, media type) pairs the filter lets through. The filter
/// only looks at those two dimensions, so it is decided once per pair instead of once per visit.
pub(crate) fn allowed_pairs(
    org: &Org,
    filter: Option<&Filter<AggregatePredicate>>,
) -> Result<Vec<[bool; 5]>, ApiError> {
    let Some(filter) = filter else {
        return Ok(vec![[true; 5]; org.queues.len()]);
    };
    let compiled = filter.try_map(|p| compile_predicate(org, p))?;
    Ok((0..org.queues.len())
        .map(|q| {
            MediaType::ALL.map(|m| {
                compiled.eval(&|p: &CompiledPredicate| match *p {
                    CompiledPredicate::Queue(target) => target == Some(q),
                    CompiledPredicate::Media(target) => target == Some(m),
                    CompiledPredicate::Constant(b) => b,
                })
            })
        })
        .collect())
}

fn compile_predicate(org: &Org, p: &AggregatePredicate) -> Result<CompiledPredicate, ApiError> {
    if matches!(
        p.kind,
        Some(PredicateType::Metric | PredicateType::Property)
    ) {
        return Err(ApiError::bad_request(format!(
            "Predicates of type {} are not supported here: this query filters on dimensions only",
            if p.kind == Some(PredicateType::Metric) {
                "metric"
            } else {
                "property"
            }
        )));
    }
    let dimension = p
        .dimension
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("A dimension predicate requires a dimension"))?;
    if p.range.is_some() {
        return Err(ApiError::bad_request(format!(
            "range is not supported on dimension '{dimension}'"
        )));
    }
    if !matches!(dimension, "queueId" | "mediaType") {
        return Err(ApiError::bad_request(format!(
            "Filter dimension '{dimension}' is not supported by the simulator (queueId, mediaType)"
        )));
    }
    match p.operator.unwrap_or_default() {
        // Every visit has a queue and a media type.
        Operator::Exists => Ok(CompiledPredicate::Constant(true)),
        Operator::NotExists => Ok(CompiledPredicate::Constant(false)),
        Operator::Matches => {
            let value = p.value.as_deref().ok_or_else(|| {
                ApiError::bad_request(format!(
                    "A matches predicate on '{dimension}' requires a value"
                ))
            })?;
            Ok(if dimension == "queueId" {
                CompiledPredicate::Queue(org.queues.iter().position(|q| q.id == value))
            } else {
                CompiledPredicate::Media(MediaType::from_analytics(value))
            })
        }
    }
}

fn compile_views(views: &[View]) -> Result<Vec<CompiledView>, ApiError> {
    if views.len() > MAX_VIEWS {
        return Err(ApiError::bad_request(format!(
            "A query may have at most {MAX_VIEWS} views, got {}",
            views.len()
        )));
    }
    let mut out: Vec<CompiledView> = Vec::with_capacity(views.len());
    for view in views {
        let ViewFunction::RangeBound = view.function;
        let name = view.name.trim();
        if name.is_empty() {
            return Err(ApiError::bad_request("A view requires a name"));
        }
        if is_known_metric(name) {
            return Err(ApiError::bad_request(format!(
                "View name '{name}' must be distinct from built-in metric names"
            )));
        }
        if out.iter().any(|v| v.name == name) {
            return Err(ApiError::bad_request(format!(
                "View name '{name}' must be distinct from other views"
            )));
        }
        if !is_known_metric(&view.target) {
            return Err(ApiError::bad_request(format!(
                "Invalid view target '{}'",
                view.target
            )));
        }
        if !view.target.starts_with('t') {
            return Err(ApiError::bad_request(format!(
                "View '{name}' targets '{}', but views apply to timer (t*) metrics only",
                view.target
            )));
        }
        let range = view.range.as_ref();
        let (gte, lt) = (range.and_then(|r| r.gte), range.and_then(|r| r.lt));
        if gte.is_none() && lt.is_none() {
            return Err(ApiError::bad_request(format!(
                "View '{name}' needs a range with gte, lt or both"
            )));
        }
        out.push(CompiledView {
            name: name.to_owned(),
            timer: Timer::from_name(&view.target),
            gte: gte.unwrap_or(f64::NEG_INFINITY),
            lt: lt.unwrap_or(f64::INFINITY),
        });
    }
    Ok(out)
}

/// Bucket boundaries from the interval start, stepping by the granularity in `tz`.
///
/// Steps are added to the zoned start, so calendar units (`P1D`, `P7D`, `P1M`) land on the same
/// local wall-clock time across DST changes (23- and 25-hour days), while time units (`PT30M`,
/// `PT1H`) are exact durations. The last bucket is cut at the interval end.
fn bucket_bounds(
    start: i64,
    end: i64,
    granularity: Option<&str>,
    tz: &TimeZone,
) -> Result<Vec<i64>, ApiError> {
    let Some(granularity) = granularity else {
        return Ok(vec![start, end]);
    };
    let bad = || ApiError::bad_request(format!("Invalid granularity '{granularity}'"));
    if !granularity.starts_with('P') {
        return Err(bad());
    }
    let span: Span = granularity.parse().map_err(|_| bad())?;
    if span.is_zero() || span.is_negative() {
        return Err(bad());
    }
    let origin = Timestamp::from_millisecond(start)
        .map_err(|_| bad())?
        .to_zoned(tz.clone());
    let mut bounds = vec![start];
    for i in 1_i64.. {
        let step = span.checked_mul(i).map_err(|_| bad())?;
        let next = origin
            .checked_add(step)
            .map_err(|_| bad())?
            .timestamp()
            .as_millisecond();
        if next >= end {
            bounds.push(end);
            break;
        }
        bounds.push(next);
        if bounds.len() > MAX_BUCKETS {
            return Err(ApiError::bad_request(format!(
                "Granularity '{granularity}' gives more than {MAX_BUCKETS} buckets over the interval"
            )));
        }
    }
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(interval: &str, granularity: &str, tz: &str) -> Vec<String> {
        let (start, end) = crate::wire::parse_interval(interval).unwrap();
        let tz = TimeZone::get(tz).unwrap();
        let b = bucket_bounds(start, end, Some(granularity), &tz).unwrap();
        b.windows(2)
            .map(|w| format!("{}h", (w[1] - w[0]) / 3_600_000))
            .collect()
    }

    #[test]
    fn days_follow_local_midnight_across_dst() {
        let spring = bounds(
            "2026-03-28T00:00:00Z/2026-03-30T23:00:00Z",
            "P1D",
            "Europe/London",
        );
        assert_eq!(spring, ["24h", "23h", "24h"]);
        let autumn = bounds(
            "2026-10-23T23:00:00Z/2026-10-27T00:00:00Z",
            "P1D",
            "Europe/London",
        );
        assert_eq!(autumn, ["24h", "25h", "24h"]);
    }

    #[test]
    fn fixed_steps_and_a_cut_last_bucket() {
        let b = bounds("2026-03-29T00:00:00Z/2026-03-29T03:30:00Z", "PT1H", "UTC");
        assert_eq!(b, ["1h", "1h", "1h", "0h"]);
        let weeks = bounds("2026-03-02T00:00:00Z/2026-03-20T00:00:00Z", "P7D", "UTC");
        assert_eq!(weeks, ["168h", "168h", "96h"]);
    }

    #[test]
    fn bad_granularities_are_rejected() {
        let tz = TimeZone::UTC;
        for g in ["30m", "PT0M", "-PT1H", "P", "PT1S"] {
            let r = bucket_bounds(0, 365 * 86_400_000, Some(g), &tz);
            assert!(r.is_err(), "{g}");
        }
    }

    #[test]
    fn buckets_are_found_by_start() {
        let b = [0, 10, 20];
        assert_eq!(bucket_of(&b, -1), None);
        assert_eq!(bucket_of(&b, 0), Some(0));
        assert_eq!(bucket_of(&b, 10), Some(1));
        assert_eq!(bucket_of(&b, 19), Some(1));
        assert_eq!(bucket_of(&b, 20), None);
    }
}
