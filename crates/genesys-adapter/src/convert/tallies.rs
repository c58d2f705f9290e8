//! Aggregates answers into tallies, keyed by the core's buckets.

use std::str::FromStr;

use jiff::{Timestamp, ToSpan};
use sla_core::{BucketPlan, MediaType, QueueId, Tally, TallyKey, TallySet, Threshold, Within};

use crate::aggregates::{Counted, PATH, PlannedQuery};
use crate::convert::whole;
use crate::error::GenesysError;
use crate::wire::{AggregateResponse, Stats};

fn decode(reason: String) -> GenesysError {
    GenesysError::Decode {
        request: format!("POST {PATH}"),
        reason,
    }
}

/// A count as a whole, non-negative number.
fn count(stats: Option<&Stats>) -> Result<u64, GenesysError> {
    number(stats.and_then(|s| s.count.as_ref()), "count")
}

/// A statistic (`count`, `sum`, `max`) as a whole, non-negative number; 0 when absent.
fn number(value: Option<&serde_json::Number>, what: &str) -> Result<u64, GenesysError> {
    let Some(number) = value else {
        return Ok(0);
    };
    whole(number).ok_or_else(|| decode(format!("a {what} of {number} is not a whole number")))
}

/// The tallies in one aggregates answer, keyed by the core's buckets.
///
/// Genesys leaves out empty groups, buckets, metrics and views; whatever is missing counts 0.
/// Each Genesys bucket lies inside one core bucket (the chunking sees to that), found from its
/// start; a start before the query's interval (a bucket labelled by its grid start) is read as
/// the interval's start.
pub(crate) fn tallies(
    buckets: &BucketPlan,
    query: &PlannedQuery,
    response: AggregateResponse,
) -> Result<TallySet, GenesysError> {
    let mut set = TallySet::new();
    let segment = query.segment;
    for group in response.results.unwrap_or_default() {
        let dims = group.group.unwrap_or_default();
        let Some(queue) = dims.get("queueId") else {
            tracing::warn!(?dims, "aggregates group without a queueId, skipped");
            continue;
        };
        let media = match dims.get("mediaType") {
            Some(name) => MediaType::from_str(name).unwrap_or_else(|_| {
                tracing::warn!(media_type = %name, "unknown media type, counted as unknown");
                MediaType::Unknown
            }),
            None => MediaType::Unknown,
        };
        for bucket in group.data.unwrap_or_default() {
            let start = bucket_start(bucket.interval.as_deref())?;
            let last_instant = segment.end - 1.nanosecond();
            let start = start.clamp(segment.start, last_instant);
            let Some(index) = buckets.index_of(start) else {
                continue;
            };
            let mut tally = Tally::default();
            if query.part.base {
                for metric in bucket.metrics.as_deref().unwrap_or_default() {
                    let stats = metric.stats.as_ref();
                    let slot = match metric.metric.as_deref() {
                        Some("nOffered") => &mut tally.offered,
                        Some("tAnswered") => {
                            let sum = number(stats.and_then(|s| s.sum.as_ref()), "sum")?;
                            tally.answer_wait_ms_sum = tally.answer_wait_ms_sum.saturating_add(sum);
                            let max = number(stats.and_then(|s| s.max.as_ref()), "max")?;
                            tally.answer_wait_ms_max = tally.answer_wait_ms_max.max(max);
                            &mut tally.answered
                        }
                        Some("tAbandon") => {
                            let sum = number(stats.and_then(|s| s.sum.as_ref()), "sum")?;
                            tally.abandon_wait_ms_sum =
                                tally.abandon_wait_ms_sum.saturating_add(sum);
                            &mut tally.abandoned
                        }
                        Some("tFlowOut") => &mut tally.flow_outs,
                        _ => continue,
                    };
                    *slot = slot.saturating_add(count(stats)?);
                }
            }
            for view in bucket.views.as_deref().unwrap_or_default() {
                let Some(spec) = query
                    .part
                    .views
                    .iter()
                    .find(|v| Some(v.name.as_str()) == view.name.as_deref())
                else {
                    continue;
                };
                let n = count(view.stats.as_ref())?;
                match spec.counted {
                    Counted::AnsweredWithin(t) => add_within(&mut tally, t, n, 0),
                    Counted::AbandonedWithin(t) => add_within(&mut tally, t, 0, n),
                    Counted::ShortAbandoned => tally.short_abandoned += n,
                }
            }
            if tally == Tally::default() {
                continue;
            }
            let key = TallyKey {
                queue: QueueId::new(queue.clone()),
                media,
                bucket: buckets.starts()[index],
            };
            set.add(key, &tally);
        }
    }
    Ok(set)
}

fn add_within(tally: &mut Tally, threshold: Threshold, answered: u64, abandoned: u64) {
    tally.add_within(
        threshold,
        Within {
            answered,
            abandoned,
        },
    );
}

/// The start of a bucket's `start/end` interval.
fn bucket_start(interval: Option<&str>) -> Result<Timestamp, GenesysError> {
    let interval = interval.ok_or_else(|| decode("a bucket has no interval".to_owned()))?;
    let start = interval.split('/').next().unwrap_or_default();
    start
        .parse::<Timestamp>()
        .map_err(|e| decode(format!("bad bucket interval '{interval}': {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use sla_core::{Granularity, TimeWindow, Zone};

    use super::*;
    use crate::aggregates::{Part, plan_parts, plan_views};
    use crate::chunking::Segment;
    use crate::tests::assert_valid;
    use crate::wire::AggregationQuery;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn planned(part: Part, segment: Segment) -> PlannedQuery {
        PlannedQuery {
            segment,
            part: Arc::new(part),
            body: AggregationQuery {
                interval: String::new(),
                granularity: None,
                time_zone: String::new(),
                group_by: Vec::new(),
                filter: None,
                metrics: Vec::new(),
                views: Vec::new(),
            },
        }
    }

    fn thresholds() -> Vec<Part> {
        plan_parts(plan_views(
            &[Threshold::from_millis(20_000)],
            Some(Threshold::from_millis(5_000)),
        ))
    }

    fn hourly() -> BucketPlan {
        let window =
            TimeWindow::new(ts("2024-05-01T08:00:00Z"), ts("2024-05-01T11:00:00Z")).unwrap();
        BucketPlan::new(&window, Granularity::Hour, &Zone::utc())
    }

    fn segment(start: &str, end: &str, bucketed: bool) -> Segment {
        Segment {
            start: ts(start),
            end: ts(end),
            bucketed,
        }
    }

    #[track_caller]
    fn check(
        part: Part,
        segment: Segment,
        response: &serde_json::Value,
        expect: &[(&str, &str, &str, Tally)],
    ) {
        assert_valid("ConversationAggregateQueryResponse", response);
        let parsed: AggregateResponse = serde_json::from_value(response.clone()).unwrap();
        let got = tallies(&hourly(), &planned(part, segment), parsed).unwrap();
        let expect: TallySet = expect
            .iter()
            .map(|(queue, media, bucket, tally)| {
                (
                    TallyKey {
                        queue: QueueId::new(*queue),
                        media: media.parse().unwrap(),
                        bucket: ts(bucket),
                    },
                    tally.clone(),
                )
            })
            .collect();
        assert_eq!(got, expect);
    }

    fn tally(
        offered: u64,
        answered: u64,
        abandoned: u64,
        flow_outs: u64,
        short: u64,
        within: (u64, u64),
    ) -> Tally {
        let mut t = Tally::default();
        t.offered = offered;
        t.answered = answered;
        t.abandoned = abandoned;
        t.flow_outs = flow_outs;
        t.short_abandoned = short;
        add_within(&mut t, Threshold::from_millis(20_000), within.0, within.1);
        t
    }

    #[test]
    fn metrics_and_views_map_into_tallies() {
        let response = json!({"results": [
            {"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
                {"interval": "2024-05-01T08:00:00.000Z/2024-05-01T09:00:00.000Z",
                 "metrics": [
                    {"metric": "nOffered", "stats": {"count": 12}},
                    {"metric": "tAnswered", "stats": {"count": 10, "sum": 152_000, "max": 61_000, "min": 1_200}},
                    {"metric": "tAbandon", "stats": {"count": 2, "sum": 48000}},
                    {"metric": "nOverSla", "stats": {"count": 2}},
                 ],
                 "views": [
                    {"name": "tAnsweredLe20000", "stats": {"count": 8}},
                    {"name": "tAbandonLe20000", "stats": {"count": 1}},
                    {"name": "tAbandonLt5000", "stats": {"count": 1}},
                    {"name": "someoneElsesView", "stats": {"count": 99}},
                 ]},
                {"interval": "2024-05-01T10:00:00.000Z/2024-05-01T11:00:00.000Z",
                 "metrics": [{"metric": "tFlowOut", "stats": {"count": 3}}]},
            ]},
            {"group": {"queueId": "q-1", "mediaType": "call"}, "data": [
                {"interval": "2024-05-01T09:00:00.000Z/2024-05-01T10:00:00.000Z",
                 "metrics": [{"metric": "nOffered", "stats": {"count": 1.0}}]},
            ]},
            {"group": {"queueId": "q-2", "mediaType": "chat"}, "data": []},
            {"group": {"queueId": "q-3", "mediaType": "email"}},
        ]});
        check(
            thresholds().remove(0),
            segment("2024-05-01T08:00:00Z", "2024-05-01T11:00:00Z", true),
            &response,
            &[
                (
                    "q-1",
                    "voice",
                    "2024-05-01T08:00:00Z",
                    // The timers' sum and maximum are the waits the companion KPIs need.
                    {
                        let mut t = tally(12, 10, 2, 0, 1, (8, 1));
                        t.answer_wait_ms_sum = 152_000;
                        t.answer_wait_ms_max = 61_000;
                        t.abandon_wait_ms_sum = 48_000;
                        t
                    },
                ),
                (
                    "q-1",
                    "voice",
                    "2024-05-01T09:00:00Z",
                    tally(1, 0, 0, 0, 0, (0, 0)),
                ),
                (
                    "q-1",
                    "voice",
                    "2024-05-01T10:00:00Z",
                    tally(0, 0, 0, 3, 0, (0, 0)),
                ),
            ],
        );
    }

    #[test]
    fn missing_pieces_count_zero() {
        check(
            thresholds().remove(0),
            segment("2024-05-01T08:00:00Z", "2024-05-01T11:00:00Z", true),
            &json!({}),
            &[],
        );
        check(
            thresholds().remove(0),
            segment("2024-05-01T08:00:00Z", "2024-05-01T11:00:00Z", true),
            &json!({"results": [{"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
                {"interval": "2024-05-01T08:00:00.000Z/2024-05-01T09:00:00.000Z",
                 "metrics": [{"metric": "nOffered", "stats": {}}, {"metric": "tAnswered"}],
                 "views": [{"name": "tAnsweredLe20000", "stats": {"count": 0}}]},
            ]}]}),
            &[],
        );
    }

    #[test]
    fn only_the_base_part_contributes_base_metrics() {
        let mut part = thresholds().remove(0);
        part.base = false;
        check(
            part,
            segment("2024-05-01T08:00:00Z", "2024-05-01T11:00:00Z", true),
            &json!({"results": [{"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
                {"interval": "2024-05-01T08:00:00.000Z/2024-05-01T09:00:00.000Z",
                 "metrics": [{"metric": "tAnswered", "stats": {"count": 10}}],
                 "views": [{"name": "tAnsweredLe20000", "stats": {"count": 8}}]},
            ]}]}),
            &[(
                "q-1",
                "voice",
                "2024-05-01T08:00:00Z",
                tally(0, 0, 0, 0, 0, (8, 0)),
            )],
        );
    }

    #[test]
    fn buckets_are_keyed_by_the_core_bucket_holding_them() {
        // A partial first bucket asked for alone: Genesys may label it with its interval start
        // or its grid start; both land in the core's first bucket.
        for label in ["2024-05-01T08:15:00.000Z", "2024-05-01T08:00:00.000Z"] {
            let window =
                TimeWindow::new(ts("2024-05-01T08:15:00Z"), ts("2024-05-01T10:00:00Z")).unwrap();
            let plan = BucketPlan::new(&window, Granularity::Hour, &Zone::utc());
            let response: AggregateResponse = serde_json::from_value(json!({"results": [
                {"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
                    {"interval": format!("{label}/2024-05-01T09:00:00.000Z"),
                     "metrics": [{"metric": "nOffered", "stats": {"count": 4}}]}]}]}))
            .unwrap();
            let q = planned(
                thresholds().remove(0),
                segment("2024-05-01T08:15:00Z", "2024-05-01T09:00:00Z", false),
            );
            let got = tallies(&plan, &q, response).unwrap();
            let keys: Vec<Timestamp> = got.iter().map(|(k, _)| k.bucket).collect();
            assert_eq!(keys, [ts("2024-05-01T08:15:00Z")]);
        }
        // Offsets other than Z are read too.
        check(
            thresholds().remove(0),
            segment("2024-05-01T08:00:00Z", "2024-05-01T11:00:00Z", true),
            &json!({"results": [{"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
                {"interval": "2024-05-01T10:00:00.000+01:00/2024-05-01T11:00:00.000+01:00",
                 "metrics": [{"metric": "nOffered", "stats": {"count": 2}}]}]}]}),
            &[(
                "q-1",
                "voice",
                "2024-05-01T09:00:00Z",
                tally(2, 0, 0, 0, 0, (0, 0)),
            )],
        );
    }

    #[test]
    fn malformed_answers_are_decode_errors() {
        let bad = [
            json!({"results": [{"group": {"queueId": "q"}, "data": [{"metrics": []}]}]}),
            json!({"results": [{"group": {"queueId": "q"}, "data": [{"interval": "yesterday"}]}]}),
            json!({"results": [{"group": {"queueId": "q"}, "data": [{"interval": "2024-05-01T08:00:00Z/2024-05-01T09:00:00Z",
                "metrics": [{"metric": "nOffered", "stats": {"count": -1}}]}]}]}),
            json!({"results": [{"group": {"queueId": "q"}, "data": [{"interval": "2024-05-01T08:00:00Z/2024-05-01T09:00:00Z",
                "metrics": [{"metric": "nOffered", "stats": {"count": 1.5}}]}]}]}),
        ];
        for response in bad {
            let parsed: AggregateResponse = serde_json::from_value(response.clone()).unwrap();
            let q = planned(
                thresholds().remove(0),
                segment("2024-05-01T08:00:00Z", "2024-05-01T11:00:00Z", true),
            );
            let err = tallies(&hourly(), &q, parsed).unwrap_err();
            assert!(
                matches!(err, GenesysError::Decode { .. }),
                "{response}: {err:?}"
            );
        }
    }
}
