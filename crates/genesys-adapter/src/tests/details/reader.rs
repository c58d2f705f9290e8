//! Reading pages of conversation details into visits: which sessions count, with which dates,
//! each conversation once, and what a malformed page is.

use serde_json::{Value, json};
use sla_core::ports::{OutcomeKind, Visit, VisitOutcome};
use sla_core::{MediaType, QueueId};

use super::emulator::dataset;
use super::{Collect, visit_query};
use crate::tests::{assert_valid, ts};
use crate::{DetailsReader, GenesysError};

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one realistic conversation and what it yields"
)]
fn visits_come_from_acd_sessions_with_their_emit_dates() {
    let page = json!({"totalHits": 1, "conversations": [{
    "conversationId": "c0c0c0c0-0000-0000-0000-000000000001",
    "conversationStart": "2024-05-01T08:59:50.000Z", "conversationEnd": "2024-05-01T09:10:00.000Z",
    "someFieldFromTheFuture": {"nested": [1, 2, 3]},
    "participants": [
        {"purpose": "customer", "sessions": [{"mediaType": "voice", "segments": [
            {"segmentStart": "2024-05-01T08:59:50.000Z", "segmentType": "interact"}]}]},
        {"purpose": "acd", "participantName": "A", "sessions": [
            {"mediaType": "voice", "metrics": [
                {"name": "nOffered", "value": 1, "emitDate": "2024-05-01T09:00:20.000Z"},
                {"name": "tAcd", "value": 25000, "emitDate": "2024-05-01T09:00:45.000Z"},
                {"name": "tFlowOut", "value": 25000, "emitDate": "2024-05-01T09:00:45.000Z"}],
             "segments": [
                {"segmentStart": "2024-05-01T09:00:19.500Z", "segmentType": "interact", "queueId": "q-a"},
                {"segmentStart": "2024-05-01T09:00:30.000Z", "segmentType": "hold", "queueId": "q-a"}]},
            // A second session of the same participant: a visit of its own.
            {"mediaType": "callback", "metrics": [
                {"name": "nOffered", "value": 1, "emitDate": "2024-05-01T09:01:00.000Z"},
                {"name": "tAbandon", "value": 4999.0, "emitDate": "2024-05-01T09:01:04.999Z"},
                {"name": "tShortAbandon", "value": 4999, "emitDate": "2024-05-01T09:01:04.999Z"}],
             "segments": [{"segmentStart": "2024-05-01T09:01:00.000Z", "queueId": "q-a"}]}]},
        {"purpose": "acd", "sessions": [{"mediaType": "voice", "metrics": [
                {"name": "nOffered", "value": 1, "emitDate": "2024-05-01T09:00:46+00:00"},
                {"name": "tAnswered", "value": 12000, "emitDate": "2024-05-01T10:00:58.000+01:00"}],
             // No segment start: the visit entered when it was offered.
             "segments": [{"queueId": "q-b"}]}]},
        // A queue not asked for, a session without a queue, and an agent on a queue.
        {"purpose": "acd", "sessions": [{"mediaType": "voice", "metrics": [
            {"name": "nOffered", "value": 1, "emitDate": "2024-05-01T09:00:46.000Z"}],
            "segments": [{"segmentStart": "2024-05-01T09:00:46.000Z", "queueId": "q-z"}]}]},
        {"purpose": "acd", "sessions": [{"mediaType": "voice", "metrics": [
            {"name": "nOffered", "value": 1, "emitDate": "2024-05-01T09:00:46.000Z"}]}]},
        {"purpose": "agent", "sessions": [{"mediaType": "voice", "metrics": [
            {"name": "tAnswered", "value": 1, "emitDate": "2024-05-01T09:00:58.000Z"}],
            "segments": [{"segmentStart": "2024-05-01T09:00:58.000Z", "queueId": "q-b"}]}]},
    ]}]});
    let mut reader = DetailsReader::new(&visit_query(
        &["q-a", "q-b"],
        "2024-05-01T00:00:00Z",
        "2024-05-02T00:00:00Z",
    ));
    let mut sink = Collect::default();
    let summary = reader
        .read_page(page.to_string().as_bytes(), &mut sink)
        .unwrap();
    assert_eq!(
        (
            summary.conversations,
            summary.new_conversations,
            summary.visits
        ),
        (1, 1, 3)
    );
    assert_eq!(summary.total_hits, Some(1));
    let id = "c0c0c0c0-0000-0000-0000-000000000001".to_owned();
    let visit = |queue: &str, media, entered: &str, offered: &str, kind, wait_ms, at: &str| Visit {
        conversation_id: id.clone(),
        queue: QueueId::new(queue),
        media,
        entered: ts(entered),
        offered_at: Some(ts(offered)),
        outcome: Some(VisitOutcome {
            kind,
            wait_ms,
            at: ts(at),
        }),
    };
    assert_eq!(
        sink.0,
        [
            visit(
                "q-a",
                MediaType::Voice,
                "2024-05-01T09:00:19.5Z",
                "2024-05-01T09:00:20Z",
                OutcomeKind::FlowOut,
                25_000,
                "2024-05-01T09:00:45Z"
            ),
            visit(
                "q-a",
                MediaType::Callback,
                "2024-05-01T09:01:00Z",
                "2024-05-01T09:01:00Z",
                OutcomeKind::Abandoned,
                4_999,
                "2024-05-01T09:01:04.999Z"
            ),
            visit(
                "q-b",
                MediaType::Voice,
                "2024-05-01T09:00:46Z",
                "2024-05-01T09:00:46Z",
                OutcomeKind::Answered,
                12_000,
                "2024-05-01T09:00:58Z"
            ),
        ]
    );
    // Read again (a repeated row), nothing is delivered twice.
    let again = reader
        .read_page(page.to_string().as_bytes(), &mut sink)
        .unwrap();
    assert_eq!(
        (again.conversations, again.new_conversations, again.visits),
        (1, 0, 0)
    );
    assert_eq!(reader.conversations_seen(), 1);
}

#[test]
fn media_filters_and_the_window_decide_which_visits_count() {
    let conversation = |id: &str, media: &str, offered: &str, answered: Option<&str>| {
        let mut metrics = vec![json!({"name": "nOffered", "value": 1, "emitDate": offered})];
        if let Some(at) = answered {
            metrics.push(json!({"name": "tAnswered", "value": 1000, "emitDate": at}));
        }
        json!({"conversationId": id, "participants": [{"purpose": "acd", "sessions": [
            {"mediaType": media, "metrics": metrics,
             "segments": [{"segmentStart": offered, "queueId": "q-a"}]}]}]})
    };
    let page = json!({"conversations": [
        // Offered before the window, answered inside it: kept, offered_at as it was.
        conversation("c-1", "voice", "2024-05-01T23:59:59.000Z", Some("2024-05-02T00:00:00.000Z")),
        // Offered inside, never answered: kept.
        conversation("c-2", "voice", "2024-05-02T23:59:59.999Z", None),
        // Entirely before or after the window: dropped.
        conversation("c-3", "voice", "2024-05-01T10:00:00.000Z", Some("2024-05-01T23:59:59.999Z")),
        conversation("c-4", "voice", "2024-05-03T00:00:00.000Z", None),
        // A media type not asked for: dropped.
        conversation("c-5", "email", "2024-05-02T10:00:00.000Z", None),
        // A media type the core does not know counts as unknown, which is not asked for either.
        conversation("c-6", "smoke-signal", "2024-05-02T10:00:00.000Z", None),
    ]});
    let mut query = visit_query(&["q-a"], "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z");
    query.media = vec![MediaType::Voice, MediaType::Chat];
    let mut reader = DetailsReader::new(&query);
    let mut sink = Collect::default();
    let summary = reader
        .read_page(page.to_string().as_bytes(), &mut sink)
        .unwrap();
    assert_eq!((summary.conversations, summary.visits), (6, 2));
    let ids: Vec<&str> = sink.0.iter().map(|v| v.conversation_id.as_str()).collect();
    assert_eq!(ids, ["c-1", "c-2"]);
    assert_eq!(sink.0[0].offered_at, Some(ts("2024-05-01T23:59:59Z")));
    assert_eq!(sink.0[1].outcome, None);
    // Without a media filter the unknown media type is kept.
    query.media.clear();
    let mut reader = DetailsReader::new(&query);
    let mut sink = Collect::default();
    reader
        .read_page(page.to_string().as_bytes(), &mut sink)
        .unwrap();
    let media: Vec<MediaType> = sink.0.iter().map(|v| v.media).collect();
    assert_eq!(
        media,
        [
            MediaType::Voice,
            MediaType::Voice,
            MediaType::Email,
            MediaType::Unknown
        ]
    );
}

#[test]
fn pages_without_conversations_or_with_sparse_fields_read_as_empty() {
    let query = visit_query(&["q-a"], "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z");
    let mut reader = DetailsReader::new(&query);
    let mut sink = Collect::default();
    for page in [
        json!({}),
        json!({"totalHits": 0}),
        json!({"conversations": []}),
        json!({"conversations": null, "cursor": null}),
        json!({"conversations": [{}, {"conversationId": "c-1"}, {"conversationId": "c-2", "participants": null},
            {"conversationId": "c-3", "participants": [{"purpose": "acd"}, {"purpose": "acd", "sessions": [{}]}]}]}),
    ] {
        let summary = reader
            .read_page(page.to_string().as_bytes(), &mut sink)
            .unwrap();
        assert_eq!(summary.visits, 0, "{page}");
    }
    assert!(sink.0.is_empty());
    let summary = reader
        .read_page(br#"{"conversations": [], "cursor": "abc"}"#, &mut sink)
        .unwrap();
    assert_eq!(summary.cursor.as_deref(), Some("abc"));
}

#[test]
fn malformed_pages_are_decode_errors() {
    let query = visit_query(&["q-a"], "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z");
    let acd = |metric: Value| {
        json!({"conversations": [{"conversationId": "c-1", "participants": [{"purpose": "acd",
            "sessions": [{"mediaType": "voice", "metrics": [metric],
                "segments": [{"queueId": "q-a", "segmentStart": "2024-05-02T10:00:00.000Z"}]}]}]}]})
        .to_string()
    };
    let table = [
        (
            "not json".to_owned(),
            "could not read the response to details page: expected",
        ),
        (
            r#"{"conversations": {}}"#.to_owned(),
            "invalid type: map, expected a sequence",
        ),
        (
            acd(json!({"name": "nOffered", "value": 1, "emitDate": "yesterday"})),
            "conversation c-1: bad instant 'yesterday'",
        ),
        (
            acd(json!({"name": "nOffered", "value": 1})),
            "conversation c-1: metric nOffered has no emitDate",
        ),
        (
            acd(json!({"name": "tAnswered", "value": -5, "emitDate": "2024-05-02T10:00:01.000Z"})),
            "metric tAnswered has a value of -5, not a whole number of milliseconds",
        ),
        (
            acd(json!({"name": "tAbandon", "value": 1.5, "emitDate": "2024-05-02T10:00:01.000Z"})),
            "not a whole number",
        ),
        (
            acd(json!({"name": "tFlowOut", "emitDate": "2024-05-02T10:00:01.000Z"})),
            "metric tFlowOut has no value",
        ),
    ];
    let err = DetailsReader::new(&query)
        .read_page(b"{\"conversations\": [\"\xff\"]}", &mut Collect::default())
        .unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    for (page, fragment) in table {
        let mut reader = DetailsReader::new(&query);
        let err = reader
            .read_page(page.as_bytes(), &mut Collect::default())
            .unwrap_err();
        assert!(matches!(err, GenesysError::Decode { .. }), "{err:?}");
        assert!(err.to_string().contains(fragment), "{err}");
    }
}

#[test]
fn rendered_test_pages_are_valid_genesys_responses() {
    let data = dataset(
        9,
        &["q-a", "q-b"],
        ts("2024-05-02T00:00:00Z"),
        ts("2024-05-03T00:00:00Z"),
        50,
    );
    let rows: Vec<Value> = data.conversations.iter().map(|c| c.json.clone()).collect();
    assert_valid(
        "AnalyticsConversationQueryResponse",
        &json!({"totalHits": rows.len(), "conversations": rows}),
    );
    assert_valid(
        "AnalyticsConversationAsyncQueryResponse",
        &json!({"conversations": rows, "cursor": "c", "dataAvailabilityDate": "2024-05-04T00:00:00.000Z"}),
    );
}
