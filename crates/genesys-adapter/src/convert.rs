//! Wire → sla-core types: aggregates into tallies, queues into queue infos, and conversation
//! details into visits. The only file where both vocabularies meet.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use jiff::{Timestamp, ToSpan};
use sla_core::ports::{OutcomeKind, Visit, VisitOutcome, VisitQuery};
use sla_core::{
    BucketPlan, MediaType, QueueId, QueueInfo, QueueRef, ServiceLevelTarget, Tally, TallyKey,
    TallySet, Threshold, TimeWindow, Within,
};

use crate::aggregates::{Counted, PATH, PlannedQuery};
use crate::error::GenesysError;
use crate::wire::{AggregateResponse, DetailConversation, MediaSettings, Queue, Stats, Text};

fn decode(reason: String) -> GenesysError {
    GenesysError::Decode {
        request: format!("POST {PATH}"),
        reason,
    }
}

/// A count as a whole, non-negative number.
fn count(stats: Option<&Stats>) -> Result<u64, GenesysError> {
    let Some(number) = stats.and_then(|s| s.count.as_ref()) else {
        return Ok(0);
    };
    if let Some(n) = number.as_u64() {
        return Ok(n);
    }
    match number.as_f64() {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked to be a whole, non-negative number that fits"
        )]
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(f as u64),
        _ => Err(decode(format!("a count of {number} is not a whole number"))),
    }
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
                    let slot = match metric.metric.as_deref() {
                        Some("nOffered") => &mut tally.offered,
                        Some("tAnswered") => &mut tally.answered,
                        Some("tAbandon") => &mut tally.abandoned,
                        Some("tFlowOut") => &mut tally.flow_outs,
                        _ => continue,
                    };
                    *slot += count(metric.stats.as_ref())?;
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

/// A queue as the core sees it; `None` for an entry without an id.
pub(crate) fn queue_info(queue: Queue) -> Option<QueueInfo> {
    let id = queue.id.filter(|id| !id.is_empty())?;
    let mut service_levels = BTreeMap::new();
    if let Some(settings) = queue.media_settings {
        // Queue settings call voice `call`; the other keys match analytics media types.
        let per_media = [
            (MediaType::Voice, settings.call),
            (MediaType::Callback, settings.callback),
            (MediaType::Chat, settings.chat),
            (MediaType::Email, settings.email),
            (MediaType::Message, settings.message),
        ];
        for (media, setting) in per_media {
            if let Some(target) = setting.as_ref().and_then(service_level) {
                service_levels.insert(media, target);
            }
        }
    }
    Some(QueueInfo {
        queue: QueueRef {
            id: QueueId::new(id),
            name: queue.name.unwrap_or_default(),
        },
        division: queue.division.and_then(|d| d.name),
        service_levels,
    })
}

/// A configured target, when both halves are present and sensible.
fn service_level(settings: &MediaSettings) -> Option<ServiceLevelTarget> {
    let level = settings.service_level.as_ref()?;
    let fraction = level.percentage.filter(|p| p.is_finite() && *p >= 0.0)?;
    let duration = u64::try_from(level.duration_ms?).ok()?;
    // 0.8 × 100 is 80.00000000000001 in binary floating point; round to a millionth of a
    // percent so reports show the 80 that was configured.
    let target_percent = (fraction * 100.0 * 1e6).round() / 1e6;
    Some(ServiceLevelTarget {
        threshold: Threshold::from_millis(duration),
        target_percent,
    })
}

/// Which visits a details read keeps: those to the query's queues, of its media types, with a
/// metric emitted inside its window.
#[derive(Debug)]
pub(crate) struct VisitFilter {
    /// The queue ids as Genesys writes them, each with the core's id to hand out.
    queues: HashMap<Box<str>, QueueId>,
    media: Vec<MediaType>,
    window: TimeWindow,
}

impl VisitFilter {
    pub(crate) fn new(query: &VisitQuery) -> Self {
        Self {
            queues: query
                .queues
                .iter()
                .map(|q| (Box::from(q.as_str()), q.clone()))
                .collect(),
            media: query.media.clone(),
            window: query.window,
        }
    }

    pub(crate) fn window(&self) -> TimeWindow {
        self.window
    }
}

/// The visits `filter` keeps among one conversation's, one per session of an `acd` participant,
/// handed to `emit`; returns how many there were. `Err` holds what was wrong with the JSON.
///
/// A visit's queue is the first `queueId` on its segments and its media type the session's; it
/// entered at its first segment's start (else when it was offered); `nOffered` says when it was
/// offered, and the first of `tAnswered`, `tAbandon` and `tFlowOut` how it ended, after what
/// wait (the metric's value in ms) and when (the metric's emit date). Only the emit dates of
/// these metrics are read.
pub(crate) fn visits(
    conversation_id: &str,
    conversation: &DetailConversation<'_>,
    filter: &VisitFilter,
    mut emit: impl FnMut(Visit),
) -> Result<usize, String> {
    let mut kept = 0;
    let participants = conversation.participants.as_deref().unwrap_or_default();
    for participant in participants {
        if participant.purpose.as_ref().map(Text::as_str) != Some("acd") {
            continue;
        }
        for session in participant.sessions.as_deref().unwrap_or_default() {
            let segments = session.segments.as_deref().unwrap_or_default();
            let Some(queue) = segments
                .iter()
                .find_map(|s| s.queue_id.as_ref())
                .and_then(|id| filter.queues.get(id.as_str()))
            else {
                continue;
            };
            let media = media_type(session.media_type.as_ref());
            if !filter.media.is_empty() && !filter.media.contains(&media) {
                continue;
            }
            let mut offered_at = None;
            let mut outcome = None;
            for metric in session.metrics.as_deref().unwrap_or_default() {
                let Some(name) = &metric.name else { continue };
                let kind = match name.as_str() {
                    "nOffered" => {
                        if offered_at.is_none() {
                            offered_at = Some(emitted(name, metric.emit_date.as_ref())?);
                        }
                        continue;
                    }
                    "tAnswered" => OutcomeKind::Answered,
                    "tAbandon" => OutcomeKind::Abandoned,
                    "tFlowOut" => OutcomeKind::FlowOut,
                    _ => continue,
                };
                if outcome.is_none() {
                    let value = metric
                        .value
                        .as_ref()
                        .ok_or_else(|| format!("metric {} has no value", name.as_str()))?;
                    outcome = Some(VisitOutcome {
                        kind,
                        wait_ms: wait_ms(name.as_str(), value)?,
                        at: emitted(name, metric.emit_date.as_ref())?,
                    });
                }
            }
            let window = filter.window;
            if !(offered_at.is_some_and(|t| window.contains(t))
                || outcome.is_some_and(|o: VisitOutcome| window.contains(o.at)))
            {
                continue;
            }
            let entered = match segments.first().and_then(|s| s.segment_start.as_ref()) {
                Some(start) => instant(start.as_str())?,
                None => match offered_at.or(outcome.map(|o| o.at)) {
                    Some(t) => t,
                    None => continue,
                },
            };
            emit(Visit {
                conversation_id: conversation_id.to_owned(),
                queue: queue.clone(),
                media,
                entered,
                offered_at,
                outcome,
            });
            kept += 1;
        }
    }
    Ok(kept)
}

/// A session's media type; one the core does not know counts as unknown.
fn media_type(text: Option<&Text<'_>>) -> MediaType {
    let Some(text) = text else {
        return MediaType::Unknown;
    };
    // An exact match first: the core's parser lower-cases into a new string.
    MediaType::ALL
        .iter()
        .copied()
        .find(|m| m.as_str() == text.as_str())
        .or_else(|| text.as_str().parse().ok())
        .unwrap_or_else(|| {
            tracing::debug!(
                media_type = text.as_str(),
                "unknown media type, counted as unknown"
            );
            MediaType::Unknown
        })
}

fn emitted(name: &Text<'_>, emit_date: Option<&Text<'_>>) -> Result<Timestamp, String> {
    let date = emit_date.ok_or_else(|| format!("metric {} has no emitDate", name.as_str()))?;
    instant(date.as_str())
}

/// A wait in whole, non-negative milliseconds.
fn wait_ms(name: &str, value: &serde_json::Number) -> Result<u64, String> {
    if let Some(n) = value.as_u64() {
        return Ok(n);
    }
    match value.as_f64() {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked to be a whole, non-negative number that fits"
        )]
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(f as u64),
        _ => Err(format!(
            "metric {name} has a value of {value}, not a whole number of milliseconds"
        )),
    }
}

/// An RFC 3339 instant. Genesys writes `2024-05-01T09:00:20.000Z`; that shape is read directly,
/// which is several times faster than a general parser, and anything else goes through jiff.
pub(crate) fn instant(text: &str) -> Result<Timestamp, String> {
    if let Some(t) = utc_millis(text.as_bytes()) {
        return Ok(t);
    }
    text.parse::<Timestamp>()
        .map_err(|e| format!("bad instant '{text}': {e}"))
}

/// `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ`, when it is a valid instant.
fn utc_millis(b: &[u8]) -> Option<Timestamp> {
    let millis = match b.len() {
        20 => 0,
        24 if b[19] == b'.' => digits(&b[20..23])?,
        _ => return None,
    };
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b[b.len() - 1] != b'Z' || seps.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let ms = (((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + millis;
    Timestamp::from_millisecond(ms).ok()
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
                    tally(12, 10, 2, 0, 1, (8, 1)),
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

    #[test]
    fn queues_map_with_their_service_levels() {
        let listing = json!({"entities": [
            {"id": "q-1", "name": "Support", "division": {"id": "d1", "name": "Home"},
             "mediaSettings": {
                "call": {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}},
                "email": {"alertingTimeoutSeconds": 300, "serviceLevel": {"percentage": 0.8, "durationMs": 86_400_000}},
                "chat": {"serviceLevel": {"percentage": 0.7}},
                "message": {"serviceLevel": {"percentage": 0.95, "durationMs": 60000}},
                "callback": {"serviceLevel": {"percentage": 0.5, "durationMs": -1}}}},
            {"id": "q-2", "name": "Sales"},
            {"name": "no id"},
        ], "pageSize": 25, "pageNumber": 1, "total": 3, "pageCount": 1});
        assert_valid("QueueEntityListing", &listing);
        let parsed: crate::wire::QueueListing = serde_json::from_value(listing).unwrap();
        let got: Vec<QueueInfo> = parsed
            .entities
            .unwrap()
            .into_iter()
            .filter_map(queue_info)
            .collect();
        assert_eq!(got.len(), 2);
        let support = &got[0];
        assert_eq!(support.queue.name, "Support");
        assert_eq!(support.division.as_deref(), Some("Home"));
        let levels: Vec<(MediaType, u64, f64)> = support
            .service_levels
            .iter()
            .map(|(m, t)| (*m, t.threshold.as_millis(), t.target_percent))
            .collect();
        assert_eq!(
            levels,
            [
                (MediaType::Voice, 20_000, 80.0),
                (MediaType::Email, 86_400_000, 80.0),
                (MediaType::Message, 60_000, 95.0),
            ]
        );
        assert_eq!(got[1].queue.id.as_str(), "q-2");
        assert!(got[1].division.is_none() && got[1].service_levels.is_empty());
    }
}
