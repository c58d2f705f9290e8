//! Fuzzing with proptest: whatever Genesys answers (arbitrary bytes, arbitrary JSON, valid
//! bodies with bytes flipped, dropped or added), the client returns a value or an error and never
//! panics. `PROPTEST_CASES=100000 cargo test -p genesys-adapter fuzz` runs a longer session.

use proptest::prelude::*;
use serde_json::{Value, json};
use sla_core::ports::{QueueDirectory, QueueSelector, TallySource, VisitQuery, VisitSink};
use sla_core::{Granularity, QueueId, TimeWindow};

use super::{AGGREGATES, QUEUES, TOKEN_PATH, client, tally_query, ts, with_token};
use crate::{DetailsReader, Reply, ScriptedTransport};

const QUEUE: &str = "11111111-1111-1111-1111-111111111111";

fn aggregates_body() -> String {
    json!({"results": [{"group": {"queueId": QUEUE, "mediaType": "voice"}, "data": [{
        "interval": "2026-03-28T00:00:00.000Z/2026-03-29T00:00:00.000Z",
        "metrics": [
            {"metric": "nOffered", "stats": {"count": 12}},
            {"metric": "tAnswered", "stats": {"count": 10, "sum": 152_000, "min": 1200, "max": 61_000}},
            {"metric": "tAbandon", "stats": {"count": 2, "sum": 48_000}},
            {"metric": "tFlowOut", "stats": {"count": 1}}],
        "views": [{"name": "tAnsweredLe20000", "stats": {"count": 8}}, {"name": "tAbandonLt5000", "stats": {"count": 1}}]}]}]})
    .to_string()
}

fn details_page() -> String {
    json!({"totalHits": 1, "conversations": [{
        "conversationId": "c0c0c0c0-0000-0000-0000-000000000001",
        "conversationStart": "2026-03-28T09:00:00.000Z", "conversationEnd": "2026-03-28T09:06:10.000Z",
        "participants": [{"purpose": "acd", "sessions": [{"mediaType": "voice",
            "metrics": [{"name": "nOffered", "value": 1, "emitDate": "2026-03-28T09:00:20.000Z"},
                        {"name": "tAnswered", "value": 25_000, "emitDate": "2026-03-28T09:00:45.000Z"}],
            "segments": [{"segmentType": "interact", "queueId": QUEUE,
                "segmentStart": "2026-03-28T09:00:20.000Z", "segmentEnd": "2026-03-28T09:00:45.000Z"}]}]}]}]})
    .to_string()
}

fn queues_body() -> String {
    json!({"entities": [{"id": QUEUE, "name": "Support", "division": {"id": "d1", "name": "Home"},
        "mediaSettings": {"call": {"serviceLevel": {"percentage": 0.8, "durationMs": 20_000}}}}],
        "pageSize": 100, "pageNumber": 1, "total": 1, "pageCount": 1})
    .to_string()
}

/// Byte-level mutations of a valid body.
fn mutated(base: fn() -> String) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3_u8), 1..12).prop_map(
        move |edits| {
            let mut bytes = base().into_bytes();
            for (at, byte, kind) in edits {
                let len = bytes.len();
                let i = at.index(len.max(1));
                match kind {
                    0 if len > 0 => bytes[i.min(len - 1)] = byte,
                    1 if len > 0 => {
                        bytes.remove(i.min(len - 1));
                    }
                    _ => bytes.insert(i.min(len), byte),
                }
            }
            bytes
        },
    )
}

/// Arbitrary JSON, nested a few levels, with the field names Genesys uses mixed in.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("results".to_owned()),
        Just("group".to_owned()),
        Just("data".to_owned()),
        Just("metrics".to_owned()),
        Just("views".to_owned()),
        Just("stats".to_owned()),
        Just("count".to_owned()),
        Just("interval".to_owned()),
        Just("metric".to_owned()),
        Just("name".to_owned()),
        Just("entities".to_owned()),
        Just("pageCount".to_owned()),
        Just("conversations".to_owned()),
        Just("participants".to_owned()),
        Just("sessions".to_owned()),
        "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just(QUEUE.to_owned()),
            Just("voice".to_owned()),
            Just("2026-03-28T00:00:00.000Z/2026-03-29T00:00:00.000Z".to_owned()),
            any::<String>()
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        mutated(aggregates_body),
        mutated(details_page),
        mutated(queues_body),
    ]
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(future)
}

struct Ignore;

impl VisitSink for Ignore {
    fn visit(&mut self, _visit: sla_core::ports::Visit) {}
}

/// The cases per property: 2048 by default, so that a CI run stays within seconds;
/// `PROPTEST_CASES` sets more for a longer session.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn aggregates_answers_never_panic(body in body(), status in prop::sample::select(vec![200_u16, 400, 429, 500])) {
        let transport = with_token();
        let text = String::from_utf8_lossy(&body).into_owned();
        transport.respond(AGGREGATES, move |_| Reply::text(status, &text));
        let (client, _, _) = client(&transport, |c| c.max_attempts = 2);
        let query = tally_query(&[QUEUE], "Europe/London", ts("2026-03-28T00:00:00Z"), ts("2026-03-30T00:00:00Z"), Granularity::Day);
        let _ = run(client.tallies(&query));
    }

    #[test]
    fn queue_listings_never_panic(body in body()) {
        let transport = with_token();
        let text = String::from_utf8_lossy(&body).into_owned();
        transport.respond(QUEUES, move |_| Reply::text(200, &text));
        let (client, _, _) = client(&transport, |c| c.max_attempts = 2);
        let _ = run(client.queues(&QueueSelector::All));
    }

    #[test]
    fn token_answers_never_panic(body in body(), status in prop::sample::select(vec![200_u16, 400, 401, 500])) {
        let transport = ScriptedTransport::new();
        let text = String::from_utf8_lossy(&body).into_owned();
        transport.respond(TOKEN_PATH, move |_| Reply::text(status, &text));
        let (client, _, _) = client(&transport, |c| c.max_attempts = 2);
        let _ = run(client.queues(&QueueSelector::All));
    }

    #[test]
    fn details_pages_never_panic(body in body()) {
        let query = VisitQuery {
            queues: vec![QueueId::new(QUEUE)],
            media: Vec::new(),
            window: TimeWindow::new(ts("2026-03-28T00:00:00Z"), ts("2026-03-29T00:00:00Z")).unwrap(),
        };
        let mut reader = DetailsReader::new(&query);
        let _ = reader.read_page(&body, &mut Ignore);
    }
}

#[test]
fn the_valid_bodies_are_read() {
    let transport = with_token();
    transport.respond(AGGREGATES, |_| Reply::text(200, &aggregates_body()));
    transport.respond(QUEUES, |_| Reply::text(200, &queues_body()));
    let (client, _, _) = client(&transport, |_| {});
    let query = tally_query(
        &[QUEUE],
        "UTC",
        ts("2026-03-28T00:00:00Z"),
        ts("2026-03-29T00:00:00Z"),
        Granularity::Total,
    );
    let tallies = run(client.tallies(&query)).unwrap();
    assert_eq!(tallies.iter().map(|(_, t)| t.answered).sum::<u64>(), 10);
    assert_eq!(run(client.queues(&QueueSelector::All)).unwrap().len(), 1);
    let visit_query = VisitQuery {
        queues: vec![QueueId::new(QUEUE)],
        media: Vec::new(),
        window: TimeWindow::new(ts("2026-03-28T00:00:00Z"), ts("2026-03-29T00:00:00Z")).unwrap(),
    };
    let summary = DetailsReader::new(&visit_query)
        .read_page(details_page().as_bytes(), &mut Ignore)
        .unwrap();
    assert_eq!(summary.visits, 1);
}
