//! Planning aggregates queries: metrics, views, filter and grouping in one body, views spread
//! ten to a query, queue batches times chunks, partial buckets without granularity.

use jiff::Timestamp;
use sla_core::ports::TallyQuery;
use sla_core::{Granularity, MediaType, QueueId, Threshold, TimeWindow, Zone};

use crate::aggregates::{BASE_METRICS, Plan, interval, period, plan, plan_parts, plan_views};
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
    let plan = crate::aggregates::plan(&query(&[0], Some(0)), 7, 100);
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
