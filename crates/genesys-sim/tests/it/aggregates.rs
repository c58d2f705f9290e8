//! The aggregates query's response shapes and the requests it refuses, as Genesys does.

use serde_json::{Value, json};

use crate::support::{TestSim, start, test_config};

const WEEK: &str = "2026-03-23T00:00:00.000Z/2026-03-30T00:00:00.000Z";

fn query(extra: &Value) -> Value {
    let mut q = json!({
        "interval": WEEK,
        "metrics": ["nOffered", "tAnswered", "tAbandon", "tShortAbandon", "tFlowOut", "nOverSla", "oServiceLevel"],
    });
    for (k, v) in extra.as_object().unwrap() {
        q[k] = v.clone();
    }
    q
}

async fn ok(t: &TestSim, q: &Value) -> Value {
    t.aggregates(q)
        .await
        .expect(200, "ConversationAggregateQueryResponse")
        .clone()
}

#[tokio::test]
async fn shapes_with_and_without_granularity_groups_and_views() {
    let t = start(test_config()).await;

    // No groupBy, no granularity: one result, one bucket spanning the interval.
    let body = ok(&t, &query(&json!({}))).await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["group"], json!({}));
    assert_eq!(results[0]["data"].as_array().unwrap().len(), 1);
    assert_eq!(results[0]["data"][0]["interval"], WEEK);
    let metrics = results[0]["data"][0]["metrics"].as_array().unwrap();
    let by_name = |name: &str| metrics.iter().find(|m| m["metric"] == name).unwrap();
    let answered = &by_name("tAnswered")["stats"];
    for key in ["count", "sum", "min", "max"] {
        assert!(answered[key].is_number(), "{key}");
    }
    assert_eq!(by_name("nOffered")["stats"].as_object().unwrap().len(), 1);
    let sl = &by_name("oServiceLevel")["stats"];
    for key in ["ratio", "numerator", "denominator"] {
        assert!(sl[key].is_number(), "{key}");
    }
    // Metrics come back in the order asked.
    let order: Vec<&str> = metrics
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert_eq!(order[0], "nOffered");

    // groupBy both dimensions, hourly, with views.
    let body = ok(
        &t,
        &query(&json!({
            "granularity": "PT1H",
            "groupBy": ["queueId", "mediaType"],
            "views": [
                {"name": "tAnsweredLe20s", "target": "tAnswered", "function": "rangeBound", "range": {"lt": 20001}},
                {"name": "tAbandonShort", "target": "tAbandon", "function": "rangeBound", "range": {"gte": 0, "lt": 10000}}
            ]
        })),
    )
    .await;
    let results = body["results"].as_array().unwrap();
    assert!(results.len() > 4);
    for r in results {
        assert!(r["group"]["queueId"].is_string() && r["group"]["mediaType"].is_string());
        for d in r["data"].as_array().unwrap() {
            let has_metrics = d
                .get("metrics")
                .is_some_and(|m| !m.as_array().unwrap().is_empty());
            let has_views = d
                .get("views")
                .is_some_and(|v| !v.as_array().unwrap().is_empty());
            assert!(has_metrics || has_views, "empty buckets are omitted");
            for m in d["metrics"].as_array().into_iter().flatten() {
                assert_ne!(m["stats"]["count"], 0, "zero metrics are omitted");
            }
        }
    }
    let with_views = results
        .iter()
        .flat_map(|r| r["data"].as_array().unwrap())
        .filter(|d| d.get("views").is_some())
        .count();
    assert!(with_views > 0);

    // An interval without data: no results at all.
    let empty = ok(
        &t,
        &query(&json!({"interval": "2020-01-01T00:00:00Z/2020-01-02T00:00:00Z"})),
    )
    .await;
    assert!(empty.get("results").is_none(), "{empty}");

    // Known metrics the simulator does not compute are accepted and omitted.
    let talk = ok(&t, &json!({"interval": WEEK, "metrics": ["tTalk"]})).await;
    assert!(talk.get("results").is_none());

    // A day in a zone, with a filter: still valid.
    ok(
        &t,
        &query(&json!({
            "granularity": "P1D", "timeZone": "America/New_York",
            "alternateTimeDimension": "eventTime",
            "filter": {"type": "or", "clauses": [{"type": "and", "predicates": [
                {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "chat"}]}]}
        })),
    )
    .await;
}

#[tokio::test]
async fn refusals_name_the_problem() {
    let t = start(test_config()).await;
    let view = |i: usize| json!({"name": format!("v{i}"), "target": "tAnswered", "function": "rangeBound", "range": {"lt": 20001 + i}});
    let cases: Vec<(Value, &str)> = vec![
        (query(&json!({"pageSize": 10})), "pageSize"),
        (
            query(&json!({"filter": {"type": "xor", "predicates": []}})),
            "xor",
        ),
        (
            query(
                &json!({"filter": {"type": "and", "predicates": [{"dimension": "queueId", "value": "x", "colour": "red"}]}}),
            ),
            "colour",
        ),
        (
            json!({"interval": WEEK, "metrics": ["conversation.answered"]}),
            "conversation.answered",
        ),
        (query(&json!({"groupBy": ["queue"]})), "queue"),
        (
            query(&json!({"views": (0..11).map(view).collect::<Vec<_>>()})),
            "10 views",
        ),
        (
            query(
                &json!({"views": [{"name": "x", "target": "tAnswered", "function": "rangeBounds", "range": {"lt": 1}}]}),
            ),
            "rangeBounds",
        ),
        (
            query(
                &json!({"views": [{"name": "x", "target": "tAnswered", "function": "rangeBound", "range": {"lte": 1}}]}),
            ),
            "lte",
        ),
        (
            query(
                &json!({"views": [{"name": "x", "target": "tAnswered", "function": "rangeBound"}]}),
            ),
            "range",
        ),
        (
            query(
                &json!({"views": [{"name": "nOffered", "target": "tAnswered", "function": "rangeBound", "range": {"lt": 1}}]}),
            ),
            "nOffered",
        ),
        (query(&json!({"views": [view(1), view(1)]})), "distinct"),
        (
            query(
                &json!({"views": [{"name": "x", "target": "nOffered", "function": "rangeBound", "range": {"lt": 1}}]}),
            ),
            "timer",
        ),
        (
            query(&json!({"interval": "2026-03-23/2026-03-30"})),
            "interval",
        ),
        (
            query(&json!({"interval": "2026-03-30T00:00:00Z/2026-03-23T00:00:00Z"})),
            "interval",
        ),
        (query(&json!({"interval": "last week"})), "interval"),
        (query(&json!({"granularity": "hourly"})), "granularity"),
        (query(&json!({"timeZone": "Mars/Olympus"})), "timeZone"),
        (query(&json!({"queryType": "topN"})), "topN"),
        (query(&json!({"queryType": "sideways"})), "sideways"),
        (json!({"interval": WEEK}), "metrics"),
    ];
    for (body, needle) in cases {
        let reply = t.aggregates(&body).await;
        let error = reply.expect_error(400, needle);
        assert_eq!(error["code"], "bad.request", "{body}");
    }

    // A body that is not JSON at all.
    let raw = t
        .client
        .post(t.url("/api/v2/analytics/conversations/aggregates/query"))
        .bearer_auth(&t.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    crate::support::Reply::from_response(raw)
        .await
        .expect_error(400, "");
}
