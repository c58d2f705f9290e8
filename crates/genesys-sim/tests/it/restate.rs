//! The controls end-to-end tests steer the org with: restating a visit of the history, which
//! every analytics endpoint then answers, and an org that stops answering midway.

use genesys_sim::{Outcome, Restatement, SimError};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::support::{TestSim, request_token, start, test_config};

const DAY: &str = "2026-03-10T00:00:00.000Z/2026-03-11T00:00:00.000Z";

fn ms(s: &str) -> i64 {
    s.parse::<Timestamp>().unwrap().as_millisecond()
}

/// Answered, abandoned and flow-out counts and the answered waits' sum of `queue` on [`DAY`].
async fn day_counts(t: &TestSim, queue: &str) -> [u64; 4] {
    let query = json!({
        "interval": DAY,
        "metrics": ["tAnswered", "tAbandon", "tFlowOut"],
        "filter": {"type": "and", "predicates": [{"dimension": "queueId", "value": queue}]},
    });
    let body = t
        .aggregates(&query)
        .await
        .expect(200, "ConversationAggregateQueryResponse")
        .clone();
    let metrics = body["results"][0]["data"][0]["metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let stat = |name: &str, key: &str| {
        metrics
            .iter()
            .find(|m| m["metric"] == name)
            .and_then(|m| m["stats"][key].as_u64())
            .unwrap_or(0)
    };
    [
        stat("tAnswered", "count"),
        stat("tAbandon", "count"),
        stat("tFlowOut", "count"),
        stat("tAnswered", "sum"),
    ]
}

/// The acd sessions' outcome metrics (name, value, emit instant in ms) of `conversation`.
fn outcome_metrics(conversation: &Value) -> Vec<(String, u64, i64)> {
    conversation["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["purpose"] == "acd")
        .flat_map(|p| p["sessions"][0]["metrics"].as_array().unwrap().clone())
        .filter(|m| ["tAnswered", "tAbandon", "tFlowOut"].contains(&m["name"].as_str().unwrap()))
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["value"].as_u64().unwrap(),
                ms(m["emitDate"].as_str().unwrap()),
            )
        })
        .collect()
}

/// `conversation` as the details query gives it, reading [`DAY`] page by page.
async fn from_details(t: &TestSim, conversation: &str) -> Value {
    for number in 1.. {
        let query = json!({
            "interval": DAY,
            "order": "asc",
            "orderBy": "conversationStart",
            "paging": {"pageSize": 100, "pageNumber": number},
        });
        let body = t
            .details(&query)
            .await
            .expect(200, "AnalyticsConversationQueryResponse")
            .clone();
        let Some(page) = body["conversations"].as_array() else {
            break;
        };
        if let Some(found) = page.iter().find(|c| c["conversationId"] == conversation) {
            return found.clone();
        }
    }
    panic!("the details query does not list {conversation}");
}

/// `conversation` from the results of details job `job`.
async fn from_job(t: &TestSim, job: &str, conversation: &str) -> Value {
    let mut cursor: Option<String> = None;
    loop {
        let mut path =
            format!("/api/v2/analytics/conversations/details/jobs/{job}/results?pageSize=500");
        if let Some(c) = &cursor {
            path = format!("{path}&cursor={c}");
        }
        let body = t
            .get(&path)
            .await
            .expect(200, "AnalyticsConversationAsyncQueryResponse")
            .clone();
        if let Some(found) = body["conversations"]
            .as_array()
            .and_then(|page| page.iter().find(|c| c["conversationId"] == conversation))
        {
            return found.clone();
        }
        match body["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => panic!("job {job} does not list {conversation}"),
        }
    }
}

#[tokio::test]
async fn a_restated_visit_is_the_new_truth_of_aggregates_details_and_jobs() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    // A one-visit conversation answered around noon on 10 March, well inside the day.
    let (conversation, visit) = org
        .conversations
        .iter()
        .filter(|c| c.visits.len() == 1)
        .map(|c| (c, &org.visits[c.visits.start]))
        .find(|(c, v)| {
            v.outcome == Outcome::Answered
                && c.start.as_millisecond() > ms("2026-03-10T11:00:00Z")
                && c.end.as_millisecond() < ms("2026-03-10T20:00:00Z")
        })
        .expect("an answered conversation on 10 March");
    let queue = visit.queue_id.clone();
    let before = day_counts(&t, &queue).await;
    // A job submitted before the restatement gives its results after it.
    let job = t
        .post(
            "/api/v2/analytics/conversations/details/jobs",
            &json!({"interval": DAY}),
        )
        .await
        .expect(202, "AsyncQueryResponse")["jobId"]
        .as_str()
        .unwrap()
        .to_owned();

    let restated = t
        .sim
        .restate(
            &conversation.id,
            Restatement {
                outcome: Outcome::Abandoned,
                wait_ms: 45_000,
            },
        )
        .unwrap();
    let abandoned_at = visit.entered.as_millisecond() + 45_000;
    assert_eq!(restated.outcome, Outcome::Abandoned);
    assert_eq!(restated.wait_ms, 45_000);
    assert_eq!(restated.outcome_at.as_millisecond(), abandoned_at);

    let after = day_counts(&t, &queue).await;
    assert_eq!(after[0], before[0] - 1, "answered");
    assert_eq!(after[1], before[1] + 1, "abandoned");
    assert_eq!(after[2], before[2], "flow-outs");
    assert_eq!(after[3], before[3] - visit.wait_ms, "answered waits");
    let expected = vec![("tAbandon".to_owned(), 45_000, abandoned_at)];
    let details = from_details(&t, &conversation.id).await;
    assert_eq!(outcome_metrics(&details), expected);
    // An abandoned conversation ends when the customer leaves.
    assert_eq!(
        ms(details["conversationEnd"].as_str().unwrap()),
        abandoned_at
    );
    let polled = t
        .get(&format!(
            "/api/v2/analytics/conversations/details/jobs/{job}"
        ))
        .await;
    assert_eq!(polled.body["state"], "QUEUED");
    t.get(&format!(
        "/api/v2/analytics/conversations/details/jobs/{job}"
    ))
    .await;
    assert_eq!(
        outcome_metrics(&from_job(&t, &job, &conversation.id).await),
        expected
    );

    // The history served holds the restatement; the history as generated does not.
    let history = t.sim.history();
    let now = &history.visits[conversation.visits.start];
    assert_eq!((now.outcome, now.wait_ms), (Outcome::Abandoned, 45_000));
    assert_eq!(
        org.visits[conversation.visits.start].outcome,
        Outcome::Answered
    );

    // Restated back to answered, with another wait: answered again, the waits moved by 1 s.
    t.sim
        .restate(
            &conversation.id,
            Restatement {
                outcome: Outcome::Answered,
                wait_ms: visit.wait_ms + 1_000,
            },
        )
        .unwrap();
    let back = day_counts(&t, &queue).await;
    assert_eq!(back, [before[0], before[1], before[2], before[3] + 1_000]);
    let details = from_details(&t, &conversation.id).await;
    assert_eq!(
        outcome_metrics(&details),
        [(
            "tAnswered".to_owned(),
            visit.wait_ms + 1_000,
            visit.entered.as_millisecond() + i64::try_from(visit.wait_ms).unwrap() + 1_000
        )]
    );
    assert!(
        details["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["purpose"] == "agent"),
        "an answered visit has an agent: {details:#}"
    );
}

#[tokio::test]
async fn restatements_the_history_cannot_take_are_refused_and_change_nothing() {
    let t = start(test_config()).await;
    let unknown = t.sim.restate(
        "00000000-0000-4000-8000-000000000000",
        Restatement {
            outcome: Outcome::Abandoned,
            wait_ms: 1_000,
        },
    );
    match unknown {
        Err(e @ SimError::Restate(_)) => assert_eq!(
            e.to_string(),
            "cannot restate: there is no conversation 00000000-0000-4000-8000-000000000000 in the history"
        ),
        other => panic!("{other:?}"),
    }
    // The history's last conversation cannot be made to end after the history does.
    let org = t.sim.org();
    let last = org.conversations.last().unwrap();
    let too_long = t.sim.restate(
        &last.id,
        Restatement {
            outcome: Outcome::Abandoned,
            wait_ms: 2 * 86_400_000,
        },
    );
    match too_long {
        Err(SimError::Restate(reason)) => {
            assert!(reason.contains("after the history's end"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let history = t.sim.history();
    assert_eq!(
        history.visits[last.visits.start].wait_ms,
        org.visits[last.visits.start].wait_ms
    );
}

#[tokio::test]
async fn an_org_told_to_stop_answers_so_many_requests_then_refuses_every_one() {
    let t = start(test_config()).await;
    t.sim.stop_answering_after(2);
    let path = "/api/v2/routing/queues";
    assert_eq!(t.get(path).await.status.as_u16(), 200);
    assert_eq!(t.get(path).await.status.as_u16(), 200);
    for _ in 0..3 {
        t.get(path)
            .await
            .expect_error(503, "The service is unavailable");
    }
    // The token endpoint has stopped too.
    let token = request_token(&t.client, &t.sim.base_url(), "sim-client", "sim-secret").await;
    assert_eq!(token.status.as_u16(), 503);
    // Told again, it counts from then.
    t.sim.stop_answering_after(1);
    assert_eq!(t.get(path).await.status.as_u16(), 200);
    assert_eq!(t.get(path).await.status.as_u16(), 503);
}
