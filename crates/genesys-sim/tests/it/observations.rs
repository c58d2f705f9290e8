//! The queue observations query over the live org: its shape against the contract, the figures
//! against the live org's own snapshot, truncation, filters, refusals and faults.

use genesys_sim::{LiveClock, ManualClock, MediaType, SimConfig};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::support::{TestSim, live_config, start, test_config};

const ALL_METRICS: [&str; 4] = ["oWaiting", "oInteracting", "oOnQueueUsers", "oAlerting"];

fn by_queues(queues: &[&str]) -> Value {
    let predicates: Vec<Value> = queues
        .iter()
        .map(|q| json!({"type": "dimension", "dimension": "queueId", "operator": "matches", "value": q}))
        .collect();
    json!({"type": "or", "predicates": predicates})
}

fn query(queues: &[&str], details: &[&str]) -> Value {
    json!({"filter": by_queues(queues), "metrics": ALL_METRICS, "detailMetrics": details})
}

async fn observe(t: &TestSim, body: &Value) -> Value {
    t.observations(body)
        .await
        .expect(200, "QueueObservationQueryResponse")
        .clone()
}

fn results(body: &Value) -> &[Value] {
    body["results"].as_array().map_or(&[], Vec::as_slice)
}

/// The group of a queue (and media type), if the response has it.
fn group<'a>(body: &'a Value, queue: &str, media: Option<&str>) -> Option<&'a Value> {
    results(body).iter().find(|r| {
        r["group"]["queueId"] == queue
            && r["group"].get("mediaType").and_then(Value::as_str) == media
    })
}

/// A metric's entry in a group (with a qualifier, for `oOnQueueUsers`).
fn metric<'a>(group: &'a Value, name: &str, qualifier: Option<&str>) -> &'a Value {
    group["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["metric"] == name && d.get("qualifier").and_then(Value::as_str) == qualifier)
        .unwrap_or_else(|| panic!("no {name} {qualifier:?} in {group}"))
}

fn count(entry: &Value) -> u64 {
    entry["stats"]["count"].as_u64().unwrap()
}

fn instant(s: &Value) -> Timestamp {
    s.as_str().unwrap().parse().unwrap()
}

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

#[tokio::test]
async fn waiting_conversations_come_with_the_instant_they_started_waiting() {
    let clock = ManualClock::starting_now();
    let t = start(live_config(&clock)).await;
    let live = t.sim.live().expect("a live org");
    let queues: Vec<String> = t.sim.org().queues.iter().map(|q| q.id.clone()).collect();
    let (a, b) = (queues[0].as_str(), queues[1].as_str());
    live.set_agents(a, 0).unwrap();
    live.set_agents(b, 2).unwrap();
    let now = live.now();
    let first = live.inject(a, MediaType::Voice, now - secs(45)).unwrap();
    let second = live.inject(a, MediaType::Voice, now - secs(5)).unwrap();
    let chat = live.inject(a, MediaType::Chat, now - secs(21)).unwrap();
    // Queue b has two idle agents: its conversation rings at once.
    live.inject(b, MediaType::Voice, now).unwrap();

    let body = observe(&t, &query(&[a, b], &["oWaiting"])).await;
    let voice = group(&body, a, Some("voice")).unwrap();
    let waiting = metric(voice, "oWaiting", None);
    assert_eq!(count(waiting), 2);
    assert_eq!(waiting["truncated"], false);
    let observations = waiting["observations"].as_array().unwrap();
    let listed: Vec<(&str, Timestamp)> = observations
        .iter()
        .map(|o| {
            (
                o["conversationId"].as_str().unwrap(),
                instant(&o["observationDate"]),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (first.as_str(), now - secs(45)),
            (second.as_str(), now - secs(5))
        ]
    );
    assert!(observations.iter().all(|o| o["sessionId"].is_string()));
    let chat_waiting = metric(group(&body, a, Some("chat")).unwrap(), "oWaiting", None);
    assert_eq!(
        chat_waiting["observations"][0]["conversationId"],
        chat.as_str()
    );
    // No details were asked for the other metrics.
    assert!(
        metric(voice, "oInteracting", None)
            .get("observations")
            .is_none()
    );

    // Every media type of every queue asked for is there, zero counts included.
    for q in [a, b] {
        for m in MediaType::ALL {
            let g = group(&body, q, Some(m.as_str())).unwrap();
            for name in ["oWaiting", "oInteracting", "oAlerting"] {
                metric(g, name, None);
            }
        }
    }
    // Agents come per queue, by routing status.
    let agents_a = group(&body, a, None).unwrap();
    assert_eq!(count(metric(agents_a, "oOnQueueUsers", Some("IDLE"))), 0);
    assert_eq!(
        count(metric(agents_a, "oOnQueueUsers", Some("INTERACTING"))),
        0
    );
    let agents_b = group(&body, b, None).unwrap();
    assert_eq!(count(metric(agents_b, "oOnQueueUsers", Some("IDLE"))), 1);
    assert_eq!(
        count(metric(agents_b, "oOnQueueUsers", Some("INTERACTING"))),
        1
    );
    let b_voice = group(&body, b, Some("voice")).unwrap();
    assert_eq!(count(metric(b_voice, "oAlerting", None)), 1);
    assert_eq!(count(metric(b_voice, "oWaiting", None)), 0);
    assert_eq!(
        results(&body).len(),
        2 * 6,
        "two queues: one agents group and five media groups each"
    );

    // Rung long enough, it is answered: interacting, with its agent in the details.
    clock.advance(std::time::Duration::from_secs(10));
    let later = observe(
        &t,
        &json!({"filter": by_queues(&[b]), "metrics": ["oInteracting"], "detailMetrics": ["oInteracting"]}),
    )
    .await;
    let interacting = metric(
        group(&later, b, Some("voice")).unwrap(),
        "oInteracting",
        None,
    );
    assert_eq!(count(interacting), 1);
    assert!(interacting["observations"][0]["userId"].is_string());
    assert!(group(&later, b, None).is_none(), "no agent metric asked");
}

#[tokio::test]
async fn figures_match_the_live_org_at_the_same_instant() {
    let clock = ManualClock::starting_now();
    let mut config = live_config(&clock);
    config.live.autopilot = true;
    config.live.speed_up = 10.0;
    config.live.agents_per_queue = 3;
    let t = start(config).await;
    let live = t.sim.live().unwrap();
    clock.advance(std::time::Duration::from_secs(90));
    let ids: Vec<&str> = t.sim.org().queues.iter().map(|q| q.id.as_str()).collect();
    let body = observe(&t, &query(&ids, &["oWaiting", "oAlerting"])).await;
    // The clock has not moved since: the snapshot shows the instant the response showed.
    let snapshot = live.snapshot();
    let mut busy = 0;
    for q in &snapshot.queues {
        let agents = group(&body, &q.queue_id, None).unwrap();
        let idle = count(metric(agents, "oOnQueueUsers", Some("IDLE")));
        let interacting = count(metric(agents, "oOnQueueUsers", Some("INTERACTING")));
        assert_eq!(u64::from(q.on_queue_agents), idle + interacting);
        assert_eq!(u64::from(q.idle_agents), idle);
        busy += interacting;
        for m in &q.media {
            let g = group(&body, &q.queue_id, Some(m.media_type.as_str())).unwrap();
            let waiting = metric(g, "oWaiting", None);
            assert_eq!(count(waiting), m.waiting.len() as u64);
            let listed: Vec<(String, Timestamp)> = waiting["observations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| {
                    (
                        o["conversationId"].as_str().unwrap().to_owned(),
                        instant(&o["observationDate"]),
                    )
                })
                .collect();
            let expected: Vec<(String, Timestamp)> = m
                .waiting
                .iter()
                .map(|w| (w.conversation_id.clone(), w.since))
                .collect();
            assert_eq!(listed, expected);
            assert_eq!(
                count(metric(g, "oInteracting", None)),
                u64::from(m.interacting)
            );
            assert_eq!(count(metric(g, "oAlerting", None)), u64::from(m.alerting));
        }
    }
    assert!(busy > 0, "the autopilot keeps agents busy");
}

#[tokio::test]
async fn past_a_hundred_the_oldest_and_newest_halves_are_kept() {
    let clock = ManualClock::starting_now();
    let t = start(live_config(&clock)).await;
    let live = t.sim.live().unwrap();
    let queue = t.sim.org().queues[2].id.clone();
    live.set_agents(&queue, 0).unwrap();
    let now = live.now();
    let mut injected = Vec::new();
    for i in 0..130 {
        let id = live
            .inject(&queue, MediaType::Message, now - secs(300 - i))
            .unwrap();
        injected.push(id);
    }
    let body = observe(&t, &query(&[&queue], &["oWaiting"])).await;
    let waiting = metric(
        group(&body, &queue, Some("message")).unwrap(),
        "oWaiting",
        None,
    );
    assert_eq!(count(waiting), 130);
    assert_eq!(waiting["truncated"], true);
    let kept: Vec<&str> = waiting["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["conversationId"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = injected[..50]
        .iter()
        .chain(&injected[80..])
        .map(String::as_str)
        .collect();
    assert_eq!(kept, expected);
    // The longest wait stays exact: the oldest is first.
    assert_eq!(
        instant(&waiting["observations"][0]["observationDate"]),
        now - secs(300)
    );
}

#[tokio::test]
async fn filters_narrow_queues_and_media_types() {
    let clock = ManualClock::starting_now();
    let t = start(live_config(&clock)).await;
    let ids: Vec<String> = t.sim.org().queues.iter().map(|q| q.id.clone()).collect();
    let (a, b) = (ids[0].as_str(), ids[1].as_str());

    let one = observe(&t, &query(&[b], &[])).await;
    assert!(results(&one).iter().all(|r| r["group"]["queueId"] == b));
    assert_eq!(results(&one).len(), 6);

    let voice_of_a = json!({
        "filter": {"type": "and",
            "predicates": [{"dimension": "mediaType", "value": "voice"}],
            "clauses": [{"type": "or", "predicates": [{"dimension": "queueId", "value": a}]}]},
        "metrics": ["oWaiting", "oOnQueueUsers"],
    });
    let body = observe(&t, &voice_of_a).await;
    let groups: Vec<&Value> = results(&body).iter().map(|r| &r["group"]).collect();
    assert_eq!(
        groups,
        [
            &json!({"queueId": a}),
            &json!({"queueId": a, "mediaType": "voice"})
        ]
    );

    let both = observe(
        &t,
        &json!({"filter": by_queues(&[b, a]), "metrics": ["oWaiting"]}),
    )
    .await;
    let queues: Vec<&str> = results(&both)
        .iter()
        .map(|r| r["group"]["queueId"].as_str().unwrap())
        .collect();
    assert_eq!(queues.len(), 10);
    assert_eq!(queues[0], a, "queues come in the org's order");

    // A queue the org does not have matches nothing.
    let none = observe(
        &t,
        &json!({"filter": by_queues(&["00000000-0000-4000-8000-000000000000"]), "metrics": ["oWaiting"]}),
    )
    .await;
    assert!(results(&none).is_empty());

    // Known metrics the simulator does not compute are accepted and omitted.
    let users = observe(
        &t,
        &json!({"filter": by_queues(&[a]), "metrics": ["oActiveUsers", "oOnQueueUsers"]}),
    )
    .await;
    let data = results(&users)[0]["data"].as_array().unwrap();
    assert!(data.iter().all(|d| d["metric"] == "oOnQueueUsers"));
}

#[tokio::test]
async fn refusals_name_the_problem() {
    let t = start(test_config()).await;
    let queue = t.sim.org().queues[0].id.clone();
    let filter = by_queues(&[&queue]);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"filter": filter, "metrics": ["oQueued"]}), "oQueued"),
        (json!({"filter": filter, "metrics": []}), "metric"),
        (json!({"filter": filter}), "metrics"),
        (json!({"metrics": ["oWaiting"]}), "filter"),
        (
            json!({"filter": filter, "metrics": ["oWaiting"], "detailMetrics": ["oInteracting"]}),
            "oInteracting",
        ),
        (
            json!({"filter": filter, "metrics": ["oOnQueueUsers"], "detailMetrics": ["oOnQueueUsers"]}),
            "detailMetrics",
        ),
        (
            json!({"filter": filter, "metrics": ["oWaiting"], "granularity": "PT30M"}),
            "granularity",
        ),
        (
            json!({"filter": {"type": "xor", "predicates": []}, "metrics": ["oWaiting"]}),
            "xor",
        ),
        (
            json!({"filter": {"type": "or", "predicates": [{"dimension": "mediaType", "value": "voice"}]}, "metrics": ["oWaiting"]}),
            "queue",
        ),
        (
            json!({"filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": queue}, {"dimension": "userId", "value": "u"}]}, "metrics": ["oWaiting"]}),
            "userId",
        ),
        (
            json!({"filter": {"type": "or", "predicates": [{"type": "metric", "dimension": "queueId", "value": queue}]}, "metrics": ["oWaiting"]}),
            "metric",
        ),
        (
            json!({"filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": queue, "colour": "red"}]}, "metrics": ["oWaiting"]}),
            "colour",
        ),
    ];
    for (body, needle) in cases {
        let reply = t.observations(&body).await;
        let error = reply.expect_error(400, needle);
        assert_eq!(error["code"], "bad.request", "{body}");
    }
}

#[tokio::test]
async fn faults_and_counters_apply_as_on_every_route() {
    let t = start(SimConfig {
        throttle_rate: 1.0,
        retry_after_s: 3,
        ..test_config()
    })
    .await;
    let queue = t.sim.org().queues[0].id.clone();
    let body = json!({"filter": by_queues(&[&queue]), "metrics": ["oWaiting"]});
    let throttled = t.observations(&body).await;
    throttled.expect_error(429, "Rate limit exceeded");
    assert_eq!(throttled.headers["retry-after"], "3");
    let anonymous = t
        .client
        .post(t.url("/api/v2/analytics/queues/observations/query"))
        .json(&body)
        .send()
        .await
        .unwrap();
    crate::support::Reply::from_response(anonymous)
        .await
        .expect_error(401, "No authentication bearer token");
    assert_eq!(t.sim.observation_requests(), 2);

    let t = start(test_config()).await;
    for n in 1..=3 {
        observe(&t, &body).await;
        assert_eq!(t.sim.observation_requests(), n);
    }
    assert_eq!(t.sim.api_requests(), 3);
}

#[tokio::test]
async fn without_a_live_org_queues_look_idle() {
    let mut config = test_config();
    config.live.enabled = false;
    let t = start(config).await;
    assert!(t.sim.live().is_none());
    let queue = t.sim.org().queues[0].id.clone();
    let body = observe(&t, &query(&[&queue], &["oWaiting"])).await;
    assert_eq!(results(&body).len(), 6);
    for r in results(&body) {
        for d in r["data"].as_array().unwrap() {
            assert_eq!(count(d), 0, "{d}");
        }
    }
}

#[tokio::test]
async fn the_demo_org_is_busy_from_its_first_instant() {
    // The default live org, on the system clock: its warm-up has filled the queues already.
    let t = start(SimConfig {
        end_date: None,
        ..test_config()
    })
    .await;
    let live = t.sim.live().unwrap();
    assert!(matches!(t.sim.config().live.clock, LiveClock::System));
    let ids: Vec<&str> = t.sim.org().queues.iter().map(|q| q.id.as_str()).collect();
    let body = observe(&t, &query(&ids, &["oWaiting"])).await;
    let busy: u64 = ids
        .iter()
        .map(|q| {
            count(metric(
                group(&body, q, None).unwrap(),
                "oOnQueueUsers",
                Some("INTERACTING"),
            ))
        })
        .sum();
    assert!(busy > 0, "{body}");
    let started = live.started_at();
    assert!(t.sim.org().conversations.iter().all(|c| c.end <= started));
    for r in results(&body) {
        for d in r["data"].as_array().unwrap() {
            for o in d["observations"].as_array().into_iter().flatten() {
                // Real instants: close to the wall clock, never ahead of it.
                let date = instant(&o["observationDate"]);
                assert!(date <= Timestamp::now() && date > started - secs(3_600));
            }
        }
    }
}
