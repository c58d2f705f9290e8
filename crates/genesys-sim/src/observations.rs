//! The queue observations query: what waits, rings and is being handled in each queue now, and
//! the agents on queue, read from the live org at the instant of the request.
//!
//! Choices where Genesys is silent or unverified (API notes §9):
//! - Conversation metrics (`oWaiting`, `oInteracting`, `oAlerting`) come per queue and media
//!   type, one group for each media type the filter lets through, zero counts included, since
//!   "nothing waits" is an observation too. `oOnQueueUsers` comes per queue (a group with
//!   `queueId` only), once per routing status (`IDLE`, `INTERACTING`), zero counts included.
//! - Other metrics of the SDK's list are accepted and never returned; other names are a 400.
//! - `detailMetrics` takes conversation metrics that are also in `metrics`; each conversation is
//!   one observation whose `observationDate` is when it started waiting, ringing or being
//!   handled. Past [`OBSERVATION_CAP`] observations the list keeps the oldest half and the
//!   newest half and says `truncated: true`.
//! - The filter must name at least one queue (`queueId` `matches`); it may narrow media types.
//!   Queues are answered in the org's order. No cap on the number of queues is documented, so
//!   none is applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    aggregate::{self, AggregatePredicate},
    details::derived_id,
    error::ApiError,
    live::{LiveOrg, Obs, QueueView},
    org::{MediaType, Org},
    wire::{Filter, Operator, format_ms},
};

/// The most observations one metric lists before it is truncated.
pub(crate) const OBSERVATION_CAP: usize = 100;

/// The names of the vendor SDK's `QueueObservationQuery` metrics enum, plus the two longest-time
/// metrics public clients ask for.
const KNOWN_METRICS: [&str; 11] = [
    "oActiveUsers", "oAlerting", "oInteracting", "oLongestInteracting", "oLongestWaiting",
    "oMemberUsers", "oOffQueueUsers", "oOnQueueUsers", "oUserPresences", "oUserRoutingStatuses",
    "oWaiting",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ObservationQuery {
    filter: Filter<AggregatePredicate>,
    metrics: Vec<String>,
    detail_metrics: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Metric {
    Waiting,
    Alerting,
    Interacting,
    OnQueueUsers,
}

impl Metric {
    fn from_name(name: &str) -> Option<Metric> {
        Some(match name {
            "oWaiting" => Metric::Waiting,
            "oAlerting" => Metric::Alerting,
            "oInteracting" => Metric::Interacting,
            "oOnQueueUsers" => Metric::OnQueueUsers,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Metric::Waiting => "oWaiting",
            Metric::Alerting => "oAlerting",
            Metric::Interacting => "oInteracting",
            Metric::OnQueueUsers => "oOnQueueUsers",
        }
    }

    fn per_conversation(self) -> bool {
        self != Metric::OnQueueUsers
    }
}

#[derive(Serialize)]
pub(crate) struct ObservationResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    results: Vec<Container>,
}

#[derive(Serialize)]
struct Container {
    group: BTreeMap<&'static str, String>,
    data: Vec<MetricData>,
}

#[derive(Serialize)]
struct MetricData {
    metric: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    qualifier: Option<&'static str>,
    stats: Count,
    #[serde(skip_serializing_if = "Option::is_none")]
    truncated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observations: Option<Vec<ObservationOut>>,
}

#[derive(Serialize)]
struct Count {
    count: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObservationOut {
    observation_date: String,
    conversation_id: String,
    session_id: String,
    routing_priority: i64,
    direction: &'static str,
    requested_routings: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    used_routing: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
}

/// A validated query.
struct Plan {
    metrics: Vec<Metric>,
    details: Vec<Metric>,
    /// Queues with at least one media type let through, and which.
    queues: Vec<(usize, [bool; 5])>,
}

/// Validates and answers an observations query; `live` is `None` when the org does not run live,
/// which looks like an org with nobody and nothing in queue.
pub(crate) fn run(
    org: &Org,
    live: Option<&LiveOrg>,
    query: &ObservationQuery,
) -> Result<ObservationResponse, ApiError> {
    let plan = plan(org, query)?;
    let indices: Vec<usize> = plan.queues.iter().map(|(q, _)| *q).collect();
    let views = match live {
        Some(live) => live.engine().views(&indices),
        None => vec![QueueView::default(); indices.len()],
    };
    let mut results = Vec::new();
    for ((q, media), view) in plan.queues.iter().zip(&views) {
        let queue_id = &org.queues[*q].id;
        if plan.metrics.contains(&Metric::OnQueueUsers) {
            let data = [("IDLE", view.idle), ("INTERACTING", view.busy)]
                .into_iter()
                .map(|(status, n)| MetricData {
                    metric: Metric::OnQueueUsers.name(),
                    qualifier: Some(status),
                    stats: Count {
                        count: u64::from(n),
                    },
                    truncated: None,
                    observations: None,
                })
                .collect();
            results.push(Container {
                group: BTreeMap::from([("queueId", queue_id.clone())]),
                data,
            });
        }
        if !plan.metrics.iter().any(|m| m.per_conversation()) {
            continue;
        }
        for m in MediaType::ALL.into_iter().filter(|m| media[m.index()]) {
            let lists = &view.media[m.index()];
            let data = plan
                .metrics
                .iter()
                .filter(|metric| metric.per_conversation())
                .map(|metric| {
                    let list = match metric {
                        Metric::Waiting => &lists.waiting,
                        Metric::Alerting => &lists.alerting,
                        Metric::Interacting | Metric::OnQueueUsers => &lists.interacting,
                    };
                    metric_data(org, *metric, list, plan.details.contains(metric))
                })
                .collect();
            results.push(Container {
                group: BTreeMap::from([
                    ("queueId", queue_id.clone()),
                    ("mediaType", m.as_str().to_owned()),
                ]),
                data,
            });
        }
    }
    Ok(ObservationResponse { results })
}

fn metric_data(org: &Org, metric: Metric, list: &[Obs], detailed: bool) -> MetricData {
    let (observations, truncated) = if detailed {
        let (kept, truncated) = keep_ends(list, OBSERVATION_CAP);
        let out = kept
            .into_iter()
            .map(|o| ObservationOut {
                observation_date: format_ms(o.since),
                conversation_id: o.conversation_id.clone(),
                // The acd session, numbered as in the conversation's details.
                session_id: derived_id(o.bits, 4),
                routing_priority: 0,
                direction: "inbound",
                requested_routings: ["Standard"],
                used_routing: (metric != Metric::Waiting).then_some("Standard"),
                user_id: o.agent.map(|a| org.agents[a % org.agents.len()].0.clone()),
            })
            .collect();
        (Some(out), Some(truncated))
    } else {
        (None, None)
    };
    MetricData {
        metric: metric.name(),
        qualifier: None,
        stats: Count {
            count: u64::try_from(list.len()).unwrap_or(u64::MAX),
        },
        truncated,
        observations,
    }
}

/// The whole list when it fits in `cap`; else its first and last halves, and `true`.
pub(crate) fn keep_ends<T>(list: &[T], cap: usize) -> (Vec<&T>, bool) {
    if list.len() <= cap {
        return (list.iter().collect(), false);
    }
    let head = cap / 2;
    let tail = cap - head;
    let kept = list[..head]
        .iter()
        .chain(&list[list.len() - tail..])
        .collect();
    (kept, true)
}

fn plan(org: &Org, query: &ObservationQuery) -> Result<Plan, ApiError> {
    if query.metrics.is_empty() {
        return Err(ApiError::bad_request("At least one metric is required"));
    }
    let mut metrics = Vec::new();
    for name in &query.metrics {
        if !KNOWN_METRICS.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Invalid metric '{name}' in metrics"
            )));
        }
        if let Some(metric) = Metric::from_name(name)
            && !metrics.contains(&metric)
        {
            metrics.push(metric);
        }
    }
    let mut details = Vec::new();
    for name in query.detail_metrics.iter().flatten() {
        let metric = Metric::from_name(name)
            .filter(|m| m.per_conversation())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid metric '{name}' in detailMetrics: details are kept for oWaiting, oInteracting and oAlerting"
                ))
            })?;
        if !query.metrics.iter().any(|m| m == name) {
            return Err(ApiError::bad_request(format!(
                "Detail metric '{name}' must also be one of the query's metrics"
            )));
        }
        if !details.contains(&metric) {
            details.push(metric);
        }
    }
    if !names_a_queue(&query.filter) {
        return Err(ApiError::bad_request(
            "The filter must name at least one queue: a queueId predicate with a value",
        ));
    }
    let allowed = aggregate::allowed_pairs(org, Some(&query.filter))?;
    let queues = allowed
        .into_iter()
        .enumerate()
        .filter(|(_, media)| media.iter().any(|m| *m))
        .collect();
    Ok(Plan {
        metrics,
        details,
        queues,
    })
}

fn names_a_queue(filter: &Filter<AggregatePredicate>) -> bool {
    let names = |p: &AggregatePredicate| {
        p.dimension.as_deref() == Some("queueId")
            && p.operator.unwrap_or_default() == Operator::Matches
            && p.value.is_some()
    };
    filter.predicates.iter().any(names)
        || filter
            .clauses
            .iter()
            .any(|c| c.predicates.iter().any(names))
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use serde_json::{Value, json};

    use super::*;
    use crate::{LiveClock, ManualClock, SimConfig};

    /// A quiet live org of three queues on a manual clock, with nobody on queue in the first.
    fn org_and_live() -> (Org, LiveOrg) {
        let start: Timestamp = "2026-06-01T10:00:00Z".parse().unwrap();
        let mut config = SimConfig {
            queues: 3,
            days: 1,
            visits_per_day: 10,
            end_date: Some(jiff::civil::date(2026, 5, 31)),
            ..SimConfig::default()
        };
        config.live.clock = LiveClock::Manual(ManualClock::new(start));
        config.live.autopilot = false;
        let org = Org::generate_until(&config, start);
        let live = LiveOrg::new(&org, config.seed, &config.live, start);
        live.set_agents(&org.queues[0].id, 0).unwrap();
        (org, live)
    }

    fn answer(org: &Org, live: &LiveOrg, body: &Value) -> Result<Value, ApiError> {
        let query: ObservationQuery = serde_json::from_value(body.clone()).unwrap();
        run(org, Some(live), &query).map(|r| serde_json::to_value(r).unwrap())
    }

    #[test]
    fn filters_pick_queues_and_media_types() {
        let (org, live) = org_and_live();
        let (a, b) = (&org.queues[0].id, &org.queues[1].id);
        let now = live.now();
        for i in 0..3 {
            live.inject(a, MediaType::Chat, now - SignedDuration::from_secs(i))
                .unwrap();
        }
        live.inject(a, MediaType::Voice, now).unwrap();
        let body = json!({
            "filter": {"type": "and", "predicates": [
                {"dimension": "queueId", "value": a},
                {"dimension": "mediaType", "value": "chat"}]},
            "metrics": ["oWaiting", "oOnQueueUsers"],
        });
        let out = answer(&org, &live, &body).unwrap();
        let groups: Vec<&Value> = out["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["group"])
            .collect();
        assert_eq!(
            groups,
            [
                &json!({"queueId": a}),
                &json!({"queueId": a, "mediaType": "chat"})
            ]
        );
        assert_eq!(out["results"][1]["data"][0]["stats"]["count"], 3);

        let other = json!({"filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": b}]}, "metrics": ["oWaiting"]});
        let out = answer(&org, &live, &other).unwrap();
        let results = out["results"].as_array().unwrap();
        assert_eq!(results.len(), 5);
        assert!(results.iter().all(|r| r["group"]["queueId"] == b.as_str()));
        assert!(results.iter().all(|r| r["data"][0]["stats"]["count"] == 0));
    }

    #[test]
    fn a_long_queue_lists_its_oldest_and_newest_fifty() {
        let (org, live) = org_and_live();
        let queue = &org.queues[0].id;
        let now = live.now();
        let ids: Vec<String> = (0..101)
            .map(|i| {
                let since = now - SignedDuration::from_secs(1_000 - i);
                live.inject(queue, MediaType::Voice, since).unwrap()
            })
            .collect();
        let body = json!({
            "filter": {"type": "and", "predicates": [{"dimension": "queueId", "value": queue}, {"dimension": "mediaType", "value": "voice"}]},
            "metrics": ["oWaiting"],
            "detailMetrics": ["oWaiting"],
        });
        let out = answer(&org, &live, &body).unwrap();
        let results = out["results"].as_array().unwrap();
        assert_eq!(results.len(), 1);
        let data = &results[0]["data"][0];
        assert_eq!(
            (data["stats"]["count"].as_u64(), data["truncated"].as_bool()),
            (Some(101), Some(true))
        );
        let listed: Vec<&str> = data["observations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["conversationId"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = ids[..50]
            .iter()
            .chain(&ids[51..])
            .map(String::as_str)
            .collect();
        assert_eq!(listed, expected, "only the middle one is left out");
    }

    #[test]
    fn truncation_keeps_the_oldest_and_newest_halves() {
        let list: Vec<u32> = (0..250).collect();
        let (kept, truncated) = keep_ends(&list, 100);
        assert!(truncated);
        let kept: Vec<u32> = kept.into_iter().copied().collect();
        assert_eq!(kept.len(), 100);
        assert_eq!(kept[..50], (0..50).collect::<Vec<_>>()[..]);
        assert_eq!(kept[50..], (200..250).collect::<Vec<_>>()[..]);

        let (all, truncated) = keep_ends(&list[..100], 100);
        assert!(!truncated);
        assert_eq!(all.len(), 100);
        let (odd, _) = keep_ends(&list[..102], 5);
        assert_eq!(
            odd.into_iter().copied().collect::<Vec<_>>(),
            [0, 1, 99, 100, 101]
        );
    }
}
