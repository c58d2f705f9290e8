//! Live conversations that have ended are served like the history: the aggregates, the details
//! query and details jobs see them in a window covering now, and nothing is counted twice.

use std::time::Duration;

use genesys_sim::{ManualClock, MediaType, Outcome};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::support::{TestSim, conversation_ids, live_config, start};

fn fmt(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

fn interval(from: Timestamp, to: Timestamp) -> String {
    format!("{}/{}", fmt(from), fmt(to))
}

/// The stats of one metric of one queue's single bucket, if any.
fn stats<'a>(body: &'a Value, queue: &str, name: &str) -> Option<&'a Value> {
    let result = body["results"]
        .as_array()?
        .iter()
        .find(|r| r["group"]["queueId"] == queue)?;
    let data = result["data"].as_array()?;
    assert_eq!(data.len(), 1);
    data[0]["metrics"]
        .as_array()?
        .iter()
        .find(|m| m["metric"] == name)
        .map(|m| &m["stats"])
}

async fn details_ids(t: &TestSim, interval: &str) -> Vec<String> {
    let reply = t
        .details(&json!({
            "interval": interval,
            "paging": {"pageSize": 100, "pageNumber": 1},
            "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}],
            "segmentFilters": [{"type": "and", "predicates": [{"dimension": "queueId", "value": queue_of(t, 3)}]}],
        }))
        .await;
    conversation_ids(reply.expect(200, "AnalyticsConversationQueryResponse"))
}

/// Every conversation a details job over `window` returns, page by page.
async fn job_conversations(t: &TestSim, window: &str) -> Vec<Value> {
    let job = t
        .post(
            "/api/v2/analytics/conversations/details/jobs",
            &json!({"interval": window}),
        )
        .await;
    let job_id = job.expect(202, "AsyncQueryResponse")["jobId"]
        .as_str()
        .unwrap()
        .to_owned();
    let status_path = format!("/api/v2/analytics/conversations/details/jobs/{job_id}");
    for _ in 0..2 {
        t.get(&status_path).await.expect(200, "AsyncQueryStatus");
    }
    let mut conversations = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = t
            .get(&format!(
                "{status_path}/results?pageSize=1000&cursor={cursor}"
            ))
            .await;
        let body = reply.expect(200, "AnalyticsConversationAsyncQueryResponse");
        conversations.extend(body["conversations"].as_array().unwrap().iter().cloned());
        match body["cursor"].as_str() {
            Some(c) => c.clone_into(&mut cursor),
            None => return conversations,
        }
    }
}

fn queue_of(t: &TestSim, i: usize) -> String {
    t.sim.org().queues[i].id.clone()
}

/// A field of one metric's stats (0 when the metric is absent), or the count of all views.
fn figure(body: &Value, queue: &str, name: &str, field: &str) -> u64 {
    if name == "views" {
        let result = body["results"].as_array().into_iter().flatten();
        return result
            .filter(|r| r["group"]["queueId"] == queue)
            .flat_map(|r| {
                r["data"][0]["views"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|v| v["stats"]["count"].as_u64().unwrap())
            .sum();
    }
    stats(body, queue, name).map_or(0, |s| s[field].as_u64().unwrap())
}

/// A metric of a conversation's `acd` session.
fn acd_metric<'a>(conversation: &'a Value, name: &str) -> &'a Value {
    let participants = conversation["participants"].as_array().unwrap();
    let acd = participants.iter().find(|p| p["purpose"] == "acd").unwrap();
    let metrics = acd["sessions"][0]["metrics"].as_array().unwrap();
    metrics.iter().find(|m| m["name"] == name).unwrap()
}

#[tokio::test]
async fn ended_live_conversations_join_aggregates_details_and_jobs() {
    let clock = ManualClock::starting_now();
    let t = start(live_config(&clock)).await;
    let live = t.sim.live().unwrap();
    let queue = queue_of(&t, 3);
    live.set_agents(&queue, 0).unwrap();
    let begin = live.now();
    let history_end = t.sim.org().conversations.iter().map(|c| c.end).max();
    assert!(history_end.is_some_and(|end| end <= begin));
    // A rolling half hour that covers now, chosen before anything happens.
    let window = interval(begin - secs(1_800), begin + secs(600));
    let query = json!({
        "interval": window,
        "groupBy": ["queueId"],
        "metrics": ["nOffered", "tAnswered", "tAbandon"],
        "views": [{"name": "answeredLe20s", "target": "tAnswered", "function": "rangeBound", "range": {"lt": 20001}}],
    });
    let aggregates = async || {
        let reply = t.aggregates(&query).await;
        reply
            .expect(200, "ConversationAggregateQueryResponse")
            .clone()
    };
    let before = aggregates().await;
    let grew = |body: &Value, name: &str, field: &str| {
        figure(body, &queue, name, field) - figure(&before, &queue, name, field)
    };

    let gone = live
        .inject(&queue, MediaType::Voice, begin - secs(30))
        .unwrap();
    let kept = live
        .inject(&queue, MediaType::Voice, begin - secs(12))
        .unwrap();
    clock.advance(Duration::from_secs(10));
    live.abandon(&gone).unwrap();
    live.answer(&kept).unwrap();

    // Waiting and talking conversations are not in the analytics yet; the abandon is.
    let during = aggregates().await;
    assert_eq!(grew(&during, "nOffered", "count"), 1);
    assert_eq!(grew(&during, "tAbandon", "count"), 1);
    assert_eq!(grew(&during, "tAnswered", "count"), 0);
    assert!(figure(&during, &queue, "tAbandon", "max") >= 40_000);
    assert!(figure(&during, &queue, "tAbandon", "min") <= 40_000);

    // Once handled, the answered conversation counts too, its wait at the answer.
    clock.advance(Duration::from_mins(10));
    let after = aggregates().await;
    assert_eq!(grew(&after, "nOffered", "count"), 2);
    assert_eq!(grew(&after, "tAnswered", "count"), 1);
    assert_eq!(grew(&after, "tAnswered", "sum"), 22_000);
    assert_eq!(grew(&after, "views", ""), 0, "22 s is not within 20 s");
    let snapshot = live.snapshot();
    let answered = snapshot.visits.iter().find(|v| v.conversation_id == kept);
    assert_eq!(
        answered.map(|v| (v.outcome, v.wait_ms)),
        Some((Outcome::Answered, 22_000))
    );

    // The details query over the days around now, and a details job over the window, list both.
    let days = interval(begin - secs(86_400), begin + secs(86_400));
    let listed = details_ids(&t, &days).await;
    assert!(
        listed.contains(&gone) && listed.contains(&kept),
        "{listed:?}"
    );

    let conversations = job_conversations(&t, &window).await;
    let mut found: Vec<&str> = conversations
        .iter()
        .map(|c| c["conversationId"].as_str().unwrap())
        .collect();
    assert!(found.contains(&gone.as_str()) && found.contains(&kept.as_str()));
    let answered = conversations
        .iter()
        .find(|c| c["conversationId"] == kept.as_str())
        .unwrap();
    let t_answered = acd_metric(answered, "tAnswered");
    assert_eq!(t_answered["value"], 22_000);
    let emitted: Timestamp = t_answered["emitDate"].as_str().unwrap().parse().unwrap();
    assert_eq!(emitted, begin + secs(10), "emitted at the answer");
    let total = found.len();
    found.sort_unstable();
    found.dedup();
    assert_eq!(found.len(), total, "no conversation twice");
}

#[tokio::test]
async fn a_live_window_adds_up_from_history_and_live_visits() {
    let clock = ManualClock::starting_now();
    let mut config = live_config(&clock);
    config.live.autopilot = true;
    config.live.speed_up = 10.0;
    let t = start(config).await;
    let live = t.sim.live().unwrap();
    let begin = live.now();
    clock.advance(Duration::from_mins(20));
    let snapshot = live.snapshot();
    let (from, to) = (begin - secs(1_800), snapshot.as_of + secs(1));
    let body = t
        .aggregates(&json!({
            "interval": interval(from, to),
            "metrics": ["nOffered", "tAnswered", "tAbandon", "tFlowOut"],
        }))
        .await
        .expect(200, "ConversationAggregateQueryResponse")
        .clone();
    let inside = |ts: Timestamp| from <= ts && ts < to;
    let visits: Vec<&genesys_sim::Visit> =
        t.sim.org().visits.iter().chain(&snapshot.visits).collect();
    let metrics = body["results"][0]["data"][0]["metrics"].as_array().unwrap();
    let get = |name: &str| &metrics.iter().find(|m| m["metric"] == name).unwrap()["stats"];
    let offered = visits.iter().filter(|v| inside(v.entered)).count() as u64;
    assert_eq!(get("nOffered")["count"], offered);
    for (name, outcome) in [
        ("tAnswered", Outcome::Answered),
        ("tAbandon", Outcome::Abandoned),
        ("tFlowOut", Outcome::FlowOut),
    ] {
        let waits: Vec<u64> = visits
            .iter()
            .filter(|v| v.outcome == outcome && inside(v.outcome_at))
            .map(|v| v.wait_ms)
            .collect();
        if waits.is_empty() {
            assert!(metrics.iter().all(|m| m["metric"] != name));
            continue;
        }
        let s = get(name);
        assert_eq!(s["count"], waits.len() as u64, "{name}");
        assert_eq!(s["sum"], waits.iter().sum::<u64>(), "{name}");
        assert_eq!(s["min"], *waits.iter().min().unwrap(), "{name}");
        assert_eq!(s["max"], *waits.iter().max().unwrap(), "{name}");
    }
    let live_in_window = snapshot
        .visits
        .iter()
        .filter(|v| inside(v.outcome_at))
        .count();
    assert!(live_in_window > 50, "{live_in_window}");
}
