//! The live path through the client: observations queries per batch of queues, checked against
//! the vendor schema, and recorded answers read into the live state, or refused as invalid.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sla_core::ports::{LiveSource as _, SourceError};
use sla_core::{LiveQuery, LiveState, MediaState, MediaType, QueueId};

use crate::Reply;
use crate::convert::add_observations;
use crate::tests::{TOKEN_PATH, assert_valid, body_of, chain, client, ts, with_token};
use crate::wire::ObservationResponse;

const OBSERVATIONS: &str = "/api/v2/analytics/queues/observations/query";

fn live_query(queues: &[&str], media: &[MediaType]) -> LiveQuery {
    LiveQuery {
        queues: queues.iter().map(|q| QueueId::new(*q)).collect(),
        media: media.to_vec(),
    }
}

/// The queue ids a query body's filter names, in order.
fn named_queues(body: &Value) -> Vec<String> {
    let filter = &body["filter"];
    let predicates = match filter["type"].as_str() {
        Some("or") => filter["predicates"].clone(),
        _ => filter["clauses"][0]["predicates"].clone(),
    };
    predicates
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["dimension"], "queueId");
            p["value"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// An answer for the queues a request names: one waiting voice conversation and two agents on
/// queue each, as Genesys groups them.
fn answer_for(body: &Value) -> Value {
    let results: Vec<Value> = named_queues(body)
        .iter()
        .flat_map(|q| {
            [
                json!({"group": {"queueId": q}, "data": [
                    {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 2}}]}),
                json!({"group": {"queueId": q, "mediaType": "voice"}, "data": [
                    {"metric": "oWaiting", "stats": {"count": 1}, "truncated": false,
                     "observations": [{"observationDate": "2026-06-01T09:59:00.000Z",
                                       "conversationId": format!("c-{q}")}]},
                    {"metric": "oInteracting", "stats": {"count": 0}}]}),
            ]
        })
        .collect();
    let answer = json!({"results": results});
    assert_valid("QueueObservationQueryResponse", &answer);
    answer
}

fn waiting(n: u64, since: &[&str], truncated: bool, interacting: u64) -> MediaState {
    MediaState {
        waiting: n,
        waiting_since: since.iter().map(|s| ts(s)).collect(),
        truncated,
        interacting,
    }
}

#[tokio::test]
async fn one_queue_is_one_query_for_waiting_interacting_and_agents() {
    let transport = with_token();
    transport.respond(OBSERVATIONS, |request| {
        Reply::json(200, &answer_for(&body_of(request)))
    });
    let (client, _, _) = client(&transport, |_| {});
    let state = client.observe(&live_query(&["q-1"], &[])).await.unwrap();

    let requests = transport.requests();
    let sent: Vec<&crate::HttpRequest> = requests
        .iter()
        .filter(|r| r.url.path() == OBSERVATIONS)
        .collect();
    assert_eq!(sent.len(), 1);
    let body = body_of(sent[0]);
    assert_valid("QueueObservationQuery", &body);
    assert_eq!(
        body,
        json!({
            "filter": {"type": "or", "predicates": [
                {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": "q-1"}]},
            "metrics": ["oWaiting", "oInteracting", "oOnQueueUsers"],
            "detailMetrics": ["oWaiting"],
        })
    );
    assert_eq!(
        state,
        LiveState {
            media: BTreeMap::from([(
                (QueueId::new("q-1"), MediaType::Voice),
                waiting(1, &["2026-06-01T09:59:00Z"], false, 0)
            )]),
            on_queue_agents: BTreeMap::from([(QueueId::new("q-1"), 2)]),
        }
    );
}

#[tokio::test]
async fn many_queues_are_asked_in_batches_and_merged() {
    let transport = with_token();
    transport.respond(OBSERVATIONS, |request| {
        Reply::json(200, &answer_for(&body_of(request)))
    });
    let (client, _, _) = client(&transport, |c| c.queues_per_request = 2);
    let queues = ["q-1", "q-2", "q-3", "q-2", "q-4", "q-5"];
    let state = client.observe(&live_query(&queues, &[])).await.unwrap();

    let mut batches: Vec<Vec<String>> = transport
        .requests()
        .iter()
        .filter(|r| r.url.path() == OBSERVATIONS)
        .map(|r| {
            let body = body_of(r);
            assert_valid("QueueObservationQuery", &body);
            assert_eq!(body["detailMetrics"], json!(["oWaiting"]));
            named_queues(&body)
        })
        .collect();
    batches.sort();
    // Five distinct queues, two to a query, each asked once.
    assert_eq!(
        batches,
        [vec!["q-1", "q-2"], vec!["q-3", "q-4"], vec!["q-5"]]
    );
    assert_eq!(transport.count(TOKEN_PATH), 1);
    let all = ["q-1", "q-2", "q-3", "q-4", "q-5"];
    assert_eq!(
        state.on_queue_agents,
        all.iter().map(|q| (QueueId::new(*q), 2)).collect()
    );
    assert_eq!(
        state.media.keys().cloned().collect::<Vec<_>>(),
        all.iter()
            .map(|q| (QueueId::new(*q), MediaType::Voice))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_media_filter_names_the_media_types_beside_the_queues() {
    let transport = with_token();
    transport.script(OBSERVATIONS, [Reply::json(200, &json!({}))]);
    let (client, _, _) = client(&transport, |_| {});
    let query = live_query(
        &["q-1", "q-2"],
        &[MediaType::Voice, MediaType::Chat, MediaType::Voice],
    );
    let state = client.observe(&query).await.unwrap();
    assert_eq!(state, LiveState::default());
    let requests = transport.requests();
    let request = requests
        .iter()
        .find(|r| r.url.path() == OBSERVATIONS)
        .unwrap();
    let body = body_of(request);
    assert_valid("QueueObservationQuery", &body);
    let matches = |dimension: &str, value: &str| json!({"type": "dimension", "dimension": dimension, "operator": "matches", "value": value});
    assert_eq!(
        body["filter"],
        json!({"type": "and", "clauses": [
            {"type": "or", "predicates": [matches("queueId", "q-1"), matches("queueId", "q-2")]},
            {"type": "or", "predicates": [matches("mediaType", "voice"), matches("mediaType", "chat")]},
        ]})
    );
}

#[tokio::test]
async fn no_queues_ask_nothing() {
    let transport = with_token();
    let (client, _, _) = client(&transport, |_| {});
    let state = client.observe(&live_query(&[], &[])).await.unwrap();
    assert_eq!(state, LiveState::default());
    assert!(transport.requests().is_empty());
}

/// `answer` (checked against the vendor schema) read into a live state.
#[track_caller]
fn read(answer: &Value) -> LiveState {
    assert_valid("QueueObservationQueryResponse", answer);
    let response: ObservationResponse = serde_json::from_value(answer.clone()).unwrap();
    let mut state = LiveState::default();
    add_observations(&mut state, response).unwrap();
    state
}

#[test]
fn empty_answers_observe_nothing() {
    for answer in [
        json!({}),
        json!({"results": []}),
        json!({"results": [{"group": {"queueId": "q-1", "mediaType": "voice"}}]}),
        json!({"results": [{"group": {"queueId": "q-1"}, "data": []}]}),
        json!({"results": [{"group": {"queueId": "q-1", "mediaType": "voice"},
                            "data": [{"metric": "oAlerting", "stats": {"count": 3}}]}]}),
    ] {
        assert_eq!(read(&answer), LiveState::default(), "{answer}");
    }
}

#[test]
fn media_types_and_routing_statuses_map_into_the_state() {
    // As Genesys answers: agents per queue by routing status, conversations per queue and media
    // type, zero rows included, and fields and metrics the client does not read.
    let answer = json!({
        "systemToOrganizationMappings": {"voice": ["org-1"]},
        "results": [
            {"group": {"queueId": "q-1"}, "data": [
                {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 3}},
                {"metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": {"count": 4}},
                {"metric": "oOnQueueUsers", "qualifier": "NOT_RESPONDING", "stats": {"count": 1}},
                {"metric": "oOffQueueUsers", "qualifier": "AWAY", "stats": {"count": 9}},
            ]},
            {"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
                {"metric": "oWaiting", "stats": {"count": 2}, "truncated": false, "observations": [
                    {"observationDate": "2026-06-01T09:59:30.000Z", "conversationId": "c-2",
                     "sessionId": "s-2", "routingPriority": 0, "direction": "inbound",
                     "requestedRoutings": ["Standard"], "newFieldFromTheFuture": {"x": 1}},
                    {"observationDate": "2026-06-01T09:58:10.250Z", "conversationId": "c-1",
                     "sessionId": "s-1", "routingPriority": 5, "direction": "inbound"},
                ]},
                {"metric": "oInteracting", "stats": {"count": 4}},
                {"metric": "oAlerting", "stats": {"count": 1}},
                {"metric": "oLongestWaiting", "stats": {"max": 80_000, "count": 1}},
            ]},
            {"group": {"queueId": "q-1", "mediaType": "chat"}, "data": [
                {"metric": "oWaiting", "stats": {"count": 0}, "truncated": false, "observations": []},
                {"metric": "oInteracting", "stats": {"count": 1.0}},
            ]},
            {"group": {"queueId": "q-2"}, "data": [
                {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 0}},
            ]},
            {"group": {"queueId": "q-2", "mediaType": "email"}, "data": [
                {"metric": "oWaiting", "stats": {"count": 1}, "truncated": false, "observations": [
                    {"observationDate": "2026-05-31T16:00:00Z"}]},
            ]},
            // A media type the core does not know is observed as unknown.
            {"group": {"queueId": "q-2", "mediaType": "hologram"}, "data": [
                {"metric": "oInteracting", "stats": {"count": 2}},
            ]},
        ]
    });
    let q1 = || QueueId::new("q-1");
    let q2 = || QueueId::new("q-2");
    assert_eq!(
        read(&answer),
        LiveState {
            media: BTreeMap::from([
                (
                    (q1(), MediaType::Voice),
                    waiting(
                        2,
                        &["2026-06-01T09:58:10.250Z", "2026-06-01T09:59:30Z"],
                        false,
                        4
                    )
                ),
                ((q1(), MediaType::Chat), waiting(0, &[], false, 1)),
                (
                    (q2(), MediaType::Email),
                    waiting(1, &["2026-05-31T16:00:00Z"], false, 0)
                ),
                ((q2(), MediaType::Unknown), waiting(0, &[], false, 2)),
            ]),
            on_queue_agents: BTreeMap::from([(q1(), 8), (q2(), 0)]),
        }
    );
}

#[test]
fn a_truncated_list_keeps_every_listed_date_and_the_full_count() {
    // 250 waiting, 100 listed: the 50 oldest (from 08:00, a minute apart) and the 50 newest
    // (from 12:00), newest first as a client cannot count on any order.
    let oldest = ts("2026-06-01T08:00:00Z");
    let newest = ts("2026-06-01T12:00:00Z");
    let minutes = |from: jiff::Timestamp| {
        (0..50)
            .map(move |i| from + jiff::SignedDuration::from_mins(i))
            .collect::<Vec<_>>()
    };
    let listed: Vec<jiff::Timestamp> = minutes(newest)
        .into_iter()
        .rev()
        .chain(minutes(oldest))
        .collect();
    let observations: Vec<Value> = listed
        .iter()
        .map(|t| json!({"observationDate": format!("{t:.3}")}))
        .collect();
    let answer = json!({"results": [{"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
        {"metric": "oWaiting", "stats": {"count": 250}, "truncated": true, "observations": observations}]}]});
    let state = read(&answer);
    let voice = &state.media[&(QueueId::new("q-1"), MediaType::Voice)];
    assert_eq!((voice.waiting, voice.truncated), (250, true));
    let mut expected = listed;
    expected.sort_unstable();
    assert_eq!(voice.waiting_since, expected);
    assert_eq!(voice.waiting_since.first(), Some(&oldest));
}

#[test]
fn answers_of_disjoint_batches_merge_and_a_missing_count_is_the_listed_one() {
    let mut state = LiveState::default();
    for answer in [
        json!({"results": [{"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
            {"metric": "oWaiting", "observations": [{"observationDate": "2026-06-01T09:00:00Z"}]}]}]}),
        json!({"results": [{"group": {"queueId": "q-2"}, "data": [
            {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 1}},
            {"metric": "oOnQueueUsers", "qualifier": "INTERACTING", "stats": {"count": 2}}]}]}),
    ] {
        assert_valid("QueueObservationQueryResponse", &answer);
        add_observations(&mut state, serde_json::from_value(answer).unwrap()).unwrap();
    }
    assert_eq!(
        state,
        LiveState {
            media: BTreeMap::from([(
                (QueueId::new("q-1"), MediaType::Voice),
                waiting(1, &["2026-06-01T09:00:00Z"], false, 0)
            )]),
            on_queue_agents: BTreeMap::from([(QueueId::new("q-2"), 3)]),
        }
    );
}

#[test]
fn a_list_shorter_than_its_count_is_truncated_even_unmarked() {
    let answer = json!({"results": [
        {"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [
            {"metric": "oWaiting", "stats": {"count": 3}, "truncated": false,
             "observations": [{"observationDate": "2026-06-01T09:00:00Z"}]}]},
        {"group": {"queueId": "q-1", "mediaType": "chat"}, "data": [
            {"metric": "oWaiting", "stats": {"count": 2}}]},
    ]});
    let state = read(&answer);
    let q1 = || QueueId::new("q-1");
    assert_eq!(
        state.media,
        BTreeMap::from([
            (
                (q1(), MediaType::Voice),
                waiting(3, &["2026-06-01T09:00:00Z"], true, 0)
            ),
            ((q1(), MediaType::Chat), waiting(2, &[], true, 0)),
        ])
    );
}

#[tokio::test]
async fn malformed_answers_are_invalid_responses_naming_the_problem() {
    let group = |data: Value| json!({"results": [{"group": {"queueId": "q-1", "mediaType": "voice"}, "data": [data]}]});
    let cases: [(Reply, &str); 9] = [
        (Reply::text(200, "<html>oops</html>"), "expected value"),
        (
            Reply::json(200, &json!({"results": {"queueId": "q-1"}})),
            "invalid type: map, expected a sequence",
        ),
        (
            Reply::json(
                200,
                &group(json!({"metric": "oWaiting", "stats": {"count": -1}})),
            ),
            "oWaiting of queue q-1 counts -1, not a whole number",
        ),
        (
            Reply::json(
                200,
                &group(json!({"metric": "oInteracting", "stats": {"count": 1.5}})),
            ),
            "oInteracting of queue q-1 counts 1.5, not a whole number",
        ),
        (
            Reply::json(
                200,
                &json!({"results": [{"group": {"queueId": "q-1"}, "data": [
                    {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": "two"}}]}]}),
            ),
            "invalid type: string \"two\"",
        ),
        (
            Reply::json(
                200,
                &group(json!({"metric": "oWaiting", "stats": {"count": 1},
                              "observations": [{"observationDate": "yesterday"}]})),
            ),
            "a waiting conversation of queue q-1 has a bad instant 'yesterday'",
        ),
        (
            Reply::json(
                200,
                &group(json!({"metric": "oWaiting", "stats": {"count": 1},
                              "observations": [{"conversationId": "c-1"}]})),
            ),
            "a waiting conversation of queue q-1 has no observationDate",
        ),
        (
            Reply::json(
                200,
                &json!({"results": [{"group": {"mediaType": "voice"}, "data": [
                    {"metric": "oWaiting", "stats": {"count": 1}}]}]}),
            ),
            "a result group has no queueId: {mediaType: voice}",
        ),
        (
            Reply::json(
                200,
                &json!({"results": [{"group": {"queueId": 7}, "data": []}]}),
            ),
            "invalid type: integer `7`, expected a string",
        ),
    ];
    for (reply, expect) in cases {
        let transport = with_token();
        transport.script(OBSERVATIONS, [reply]);
        let (client, _, sleep) = client(&transport, |_| {});
        let err = client
            .observe(&live_query(&["q-1"], &[]))
            .await
            .unwrap_err();
        let chain = chain(&err);
        assert!(
            matches!(err, SourceError::InvalidResponse(_)),
            "{expect}: {chain}"
        );
        assert!(
            chain.starts_with(
                "invalid response: could not read the response to POST /api/v2/analytics/queues/observations/query: "
            ),
            "{chain}"
        );
        assert!(chain.contains(expect), "{expect}: {chain}");
        // A response that cannot be read is not retried: it would read no better.
        assert_eq!(transport.count(OBSERVATIONS), 1);
        assert!(sleep.waits().is_empty());
    }
}

#[tokio::test]
async fn throttled_and_failing_queries_are_retried_like_any_other() {
    let transport = with_token();
    let ok = answer_for(&json!({"filter": {"type": "or", "predicates": [
        {"dimension": "queueId", "value": "q-1"}]}}));
    transport.script(
        OBSERVATIONS,
        [
            Reply::genesys_error(429, "too.many.requests", "Rate limit exceeded", "ctx-1")
                .with_header("retry-after", "3"),
            Reply::genesys_error(503, "service.unavailable", "Try again", "ctx-2"),
            Reply::json(200, &ok),
        ],
    );
    let (client, _, sleep) = client(&transport, |c| c.max_attempts = 3);
    let state = client.observe(&live_query(&["q-1"], &[])).await.unwrap();
    assert_eq!(state.on_queue_agents[&QueueId::new("q-1")], 2);
    assert_eq!(transport.count(OBSERVATIONS), 3);
    let upstream = client.upstream_stats();
    assert_eq!(upstream.retries, 2);
    assert_eq!(
        (
            upstream.requests_by_status[&429],
            upstream.requests_by_status[&503]
        ),
        (1, 1)
    );
    // The first wait is Genesys's Retry-After.
    assert_eq!(sleep.waits()[0], std::time::Duration::from_secs(3));
    assert_eq!(sleep.waits().len(), 2);
}
