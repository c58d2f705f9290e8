//! The details query (pages, filters, limits) and details jobs (submit, poll, cursor, cancel).

use std::collections::BTreeMap;

use genesys_sim::{JobFinalState, Org, Outcome, SimConfig};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::support::{TestSim, conversation_ids, start, test_config};

const DAY: &str = "2026-03-10T00:00:00.000Z/2026-03-11T00:00:00.000Z";

fn ms(s: &str) -> i64 {
    s.parse::<Timestamp>().unwrap().as_millisecond()
}

fn page(interval: &str, size: u32, number: u32) -> Value {
    json!({
        "interval": interval,
        "order": "asc",
        "orderBy": "conversationStart",
        "paging": {"pageSize": size, "pageNumber": number},
        "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}],
    })
}

/// Conversations that started on the UTC days from `from` (inclusive) to `to` (exclusive).
fn started_between(org: &Org, from: &str, to: &str) -> Vec<String> {
    let (from, to) = (ms(from), ms(to));
    org.conversations
        .iter()
        .filter(|c| (from..to).contains(&c.start.as_millisecond()))
        .map(|c| c.id.clone())
        .collect()
}

/// Every page of a sync query, validating each.
async fn all_pages(t: &TestSim, mut query: Value) -> (Vec<String>, Vec<Value>) {
    let mut seen = Vec::new();
    let mut conversations = Vec::new();
    for number in 1.. {
        query["paging"]["pageNumber"] = json!(number);
        let reply = t.details(&query).await;
        let body = reply.expect(200, "AnalyticsConversationQueryResponse");
        if body.get("conversations").is_none() {
            assert_eq!(body["totalHits"], seen.len());
            break;
        }
        seen.extend(conversation_ids(body));
        conversations.extend(body["conversations"].as_array().unwrap().iter().cloned());
    }
    (seen, conversations)
}

#[tokio::test]
async fn pages_cover_the_conversations_started_that_day() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    let expected = started_between(org, "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z");
    let first = t.details(&page(DAY, 100, 1)).await;
    let body = first.expect(200, "AnalyticsConversationQueryResponse");
    assert_eq!(body["totalHits"], expected.len());
    assert_eq!(conversation_ids(body).len(), 100);

    let (seen, conversations) = all_pages(&t, page(DAY, 100, 1)).await;
    assert_eq!(seen, expected, "ordered by conversationStart");

    // The page past the end has no `conversations` key at all.
    let past = t
        .details(&page(
            DAY,
            100,
            u32::try_from(expected.len() / 100 + 2).unwrap(),
        ))
        .await;
    let body = past.expect(200, "AnalyticsConversationQueryResponse");
    assert!(body.get("conversations").is_none());
    assert_eq!(body["totalHits"], expected.len());

    // Every acd session carries its visit's metrics, each with its emit date.
    let by_id: BTreeMap<&str, &Value> = conversations
        .iter()
        .map(|c| (c["conversationId"].as_str().unwrap(), c))
        .collect();
    let mut checked = 0;
    for conv in org
        .conversations
        .iter()
        .filter(|c| by_id.contains_key(c.id.as_str()))
    {
        let json = by_id[conv.id.as_str()];
        let acd: Vec<&Value> = json["participants"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["purpose"] == "acd")
            .collect();
        let visits = &org.visits[conv.visits.clone()];
        assert_eq!(acd.len(), visits.len());
        for (p, v) in acd.iter().zip(visits) {
            let session = &p["sessions"][0];
            assert_eq!(session["mediaType"], v.media_type.as_str());
            assert_eq!(session["segments"][0]["queueId"], v.queue_id.as_str());
            let metrics = session["metrics"].as_array().unwrap();
            let find = |name: &str| metrics.iter().find(|m| m["name"] == name);
            let outcome = match v.outcome {
                Outcome::Answered => "tAnswered",
                Outcome::Abandoned => "tAbandon",
                Outcome::FlowOut => "tFlowOut",
            };
            assert_eq!(find(outcome).unwrap()["value"], v.wait_ms);
            assert_eq!(
                ms(find(outcome).unwrap()["emitDate"].as_str().unwrap()),
                v.outcome_at.as_millisecond()
            );
            assert_eq!(
                ms(find("nOffered").unwrap()["emitDate"].as_str().unwrap()),
                v.entered.as_millisecond()
            );
            let agents = json["participants"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["purpose"] == "agent")
                .count();
            if v.outcome == Outcome::Answered {
                assert!(agents > 0);
            }
            checked += 1;
        }
    }
    assert!(checked >= expected.len());
    assert!(
        conversations.iter().any(|c| c["participants"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["purpose"] == "acd")
            .count()
            == 2),
        "transfers show two acd participants"
    );
}

#[tokio::test]
async fn intervals_select_whole_utc_days_and_filters_narrow() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    // Two hours across midnight touch two UTC days.
    let across = t
        .details(&page("2026-03-10T23:00:00Z/2026-03-11T01:00:00Z", 10, 1))
        .await;
    let expected = started_between(org, "2026-03-10T00:00:00Z", "2026-03-12T00:00:00Z");
    assert_eq!(
        across.expect(200, "AnalyticsConversationQueryResponse")["totalHits"],
        expected.len()
    );

    let queue = &org.queues[1];
    let mut query = page(DAY, 100, 1);
    query["segmentFilters"] = json!([{"type": "and", "predicates": [
        {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": queue.id},
        {"dimension": "mediaType", "value": "voice"}]}]);
    let (seen, _) = all_pages(&t, query).await;
    let expected: Vec<String> = org
        .conversations
        .iter()
        .filter(|c| {
            (ms("2026-03-10T00:00:00Z")..ms("2026-03-11T00:00:00Z"))
                .contains(&c.start.as_millisecond())
        })
        .filter(|c| {
            org.visits[c.visits.clone()]
                .iter()
                .any(|v| v.queue_id == queue.id && v.media_type.as_str() == "voice")
        })
        .map(|c| c.id.clone())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(seen, expected);

    let mut desc = page(DAY, 5, 1);
    desc["order"] = json!("desc");
    let reply = t.details(&desc).await;
    let last = started_between(org, "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z");
    assert_eq!(
        conversation_ids(reply.expect(200, "AnalyticsConversationQueryResponse"))[0],
        *last.last().unwrap()
    );
}

#[tokio::test]
async fn details_refusals() {
    let t = start(test_config()).await;
    let eight_days = "2026-03-01T00:00:00Z/2026-03-09T00:00:00Z";
    let seven_days = "2026-03-01T00:00:00Z/2026-03-08T00:00:00Z";
    t.details(&page(seven_days, 100, 1))
        .await
        .expect(200, "AnalyticsConversationQueryResponse");
    let cases = [
        (page(eight_days, 100, 1), "7 days"),
        (page(DAY, 101, 1), "pageSize"),
        (page(DAY, 0, 1), "pageSize"),
        (page(DAY, 100, 0), "pageNumber"),
        (
            page(DAY, 100, 1001),
            "Pagination may not exceed 100000 results.",
        ),
        (
            page("2026-03-11T00:00:00Z/2026-03-10T00:00:00Z", 10, 1),
            "interval",
        ),
        (
            json!({"interval": DAY, "paging": {"pageSize": 10, "pageNumber": 1}, "cursor": "x"}),
            "cursor",
        ),
        (json!({"interval": DAY, "order": "sideways"}), "sideways"),
        (
            json!({"interval": DAY, "segmentFilters": [{"type": "and", "predicates": [{"dimension": "queueName", "value": "x"}]}]}),
            "queueName",
        ),
        (
            json!({"paging": {"pageSize": 10, "pageNumber": 1}}),
            "interval",
        ),
    ];
    for (body, needle) in cases {
        t.details(&body).await.expect_error(400, needle);
    }
}

async fn submit(t: &TestSim, body: &Value) -> String {
    let reply = t
        .post("/api/v2/analytics/conversations/details/jobs", body)
        .await;
    reply.expect(202, "AsyncQueryResponse")["jobId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn state(t: &TestSim, job: &str) -> Value {
    let reply = t
        .get(&format!(
            "/api/v2/analytics/conversations/details/jobs/{job}"
        ))
        .await;
    reply.expect(200, "AsyncQueryStatus").clone()
}

#[tokio::test]
async fn jobs_queue_then_fulfil_and_page_by_cursor() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    let availability = t
        .get("/api/v2/analytics/conversations/details/jobs/availability")
        .await;
    let body = availability.expect(200, "DataAvailabilityResponse");
    assert_eq!(
        ms(body["dataAvailabilityDate"].as_str().unwrap()),
        org.end.as_millisecond()
    );

    let interval = "2026-03-10T06:00:00Z/2026-03-12T06:00:00Z";
    let job = submit(&t, &json!({"interval": interval, "order": "asc"})).await;
    assert_eq!(state(&t, &job).await["state"], "QUEUED");
    let done = state(&t, &job).await;
    assert_eq!(done["state"], "FULFILLED");
    assert!(done["completionDate"].is_string());

    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let mut path =
            format!("/api/v2/analytics/conversations/details/jobs/{job}/results?pageSize=500");
        if let Some(c) = &cursor {
            path = format!("{path}&cursor={c}");
        }
        let reply = t.get(&path).await;
        let body = reply.expect(200, "AnalyticsConversationAsyncQueryResponse");
        pages += 1;
        seen.extend(conversation_ids(body));
        match body["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let (from, to) = (ms("2026-03-10T06:00:00Z"), ms("2026-03-12T06:00:00Z"));
    let expected: Vec<String> = org
        .conversations
        .iter()
        .filter(|c| c.start.as_millisecond() < to && c.end.as_millisecond() >= from)
        .map(|c| c.id.clone())
        .collect();
    assert!(pages > 1);
    assert_eq!(seen, expected);

    t.get(&format!(
        "/api/v2/analytics/conversations/details/jobs/{job}/results?cursor=bogus"
    ))
    .await
    .expect_error(400, "cursor");
    t.get("/api/v2/analytics/conversations/details/jobs/nope")
        .await
        .expect_error(404, "nope");
}

#[tokio::test]
async fn jobs_can_be_cancelled_or_fail() {
    let t = start(test_config()).await;
    let job = submit(&t, &json!({"interval": DAY})).await;
    let path = format!("/api/v2/analytics/conversations/details/jobs/{job}");
    assert_eq!(t.delete(&path).await.status.as_u16(), 202);
    assert_eq!(state(&t, &job).await["state"], "CANCELLED");
    t.get(&format!("{path}/results"))
        .await
        .expect_error(400, "CANCELLED");

    let t = start(SimConfig {
        job_final_state: JobFinalState::Failed,
        ..test_config()
    })
    .await;
    let job = submit(&t, &json!({"interval": DAY})).await;
    assert_eq!(state(&t, &job).await["state"], "QUEUED");
    let failed = state(&t, &job).await;
    assert_eq!(failed["state"], "FAILED");
    assert!(failed["errorMessage"].is_string());

    t.post(
        "/api/v2/analytics/conversations/details/jobs",
        &json!({"interval": DAY, "paging": {"pageSize": 1, "pageNumber": 1}}),
    )
    .await
    .expect_error(400, "paging");
}
