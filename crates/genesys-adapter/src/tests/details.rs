//! The details path over a scripted transport: an emulated details query (selection by the UTC
//! day a conversation started, 100-row pages, the 100,000-result cap, the 7-day limit) and
//! emulated jobs; visits read from them against the core's own tally of the same visits.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use serde_json::{Value, json};
use sla_core::ports::{OutcomeKind, Visit, VisitOutcome, VisitQuery, VisitSink, VisitSource};
use sla_core::{Granularity, MediaType, QueueId, TimeWindow};

use super::{assert_valid, body_of, client, expected, tally_query, ts};
use crate::chunking::utc_midnight;
use crate::convert::instant;
use crate::{
    DetailsMode, DetailsProgress, DetailsReader, GenesysError, HttpRequest, Reply,
    ScriptedTransport,
};

const QUERY: &str = "/api/v2/analytics/conversations/details/query";
const JOBS: &str = "/api/v2/analytics/conversations/details/jobs";
const AVAILABILITY: &str = "/api/v2/analytics/conversations/details/jobs/availability";
const TOKEN_PATH: &str = "/oauth/token";

fn uuid(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{i:012x}", i * 7919)
}

fn ms(t: Timestamp) -> String {
    format!("{t:.3}")
}

/// One conversation as the emulated Genesys holds it.
#[derive(Clone, Debug)]
struct Conv {
    start: Timestamp,
    end: Timestamp,
    /// (queue, media) of each visit, for segment filters.
    legs: Vec<(String, MediaType)>,
    json: Value,
}

/// A conversation's details JSON in Genesys's shape: a customer, one `acd` participant per
/// visit, an agent after each answer (whose segments name the queue too, and must not count).
fn render(id: &str, start: Timestamp, end: Timestamp, visits: &[Visit]) -> Conv {
    let media = visits[0].media.as_str();
    let mut participants = vec![json!({
        "participantId": format!("{id}-c"), "participantName": "Customer", "purpose": "customer",
        "sessions": [{"sessionId": format!("{id}-cs"), "mediaType": media, "direction": "inbound",
            "segments": [{"segmentStart": ms(start), "segmentEnd": ms(end), "segmentType": "interact",
                "disconnectType": "endpoint"}]}],
    })];
    for (k, v) in visits.iter().enumerate() {
        let mut metrics = Vec::new();
        if let Some(at) = v.offered_at {
            metrics.push(json!({"name": "nOffered", "value": 1, "emitDate": ms(at)}));
        }
        let segment_end = v.outcome.map_or(end, |o| o.at);
        if let Some(o) = v.outcome {
            let name = match o.kind {
                OutcomeKind::Answered => "tAnswered",
                OutcomeKind::Abandoned => "tAbandon",
                OutcomeKind::FlowOut => "tFlowOut",
            };
            metrics.push(json!({"name": "tAcd", "value": o.wait_ms, "emitDate": ms(o.at)}));
            metrics.push(json!({"name": name, "value": o.wait_ms, "emitDate": ms(o.at)}));
            if o.kind == OutcomeKind::Abandoned && o.wait_ms < 10_000 {
                metrics.push(
                    json!({"name": "tShortAbandon", "value": o.wait_ms, "emitDate": ms(o.at)}),
                );
            }
        }
        participants.push(json!({
            "participantId": format!("{id}-a{k}"), "participantName": v.queue.as_str(), "purpose": "acd",
            "sessions": [{"sessionId": format!("{id}-as{k}"), "mediaType": v.media.as_str(),
                "direction": "inbound", "metrics": metrics,
                "segments": [{"segmentStart": ms(v.entered), "segmentEnd": ms(segment_end),
                    "segmentType": "interact", "queueId": v.queue.as_str(), "disconnectType": "transfer"}]}],
        }));
        if let Some(o) = v.outcome.filter(|o| o.kind == OutcomeKind::Answered) {
            participants.push(json!({
                "participantId": format!("{id}-u{k}"), "participantName": "Agent", "purpose": "agent",
                "userId": "u-1",
                "sessions": [{"sessionId": format!("{id}-us{k}"), "mediaType": v.media.as_str(),
                    "direction": "inbound",
                    "metrics": [{"name": "tTalk", "value": 60_000, "emitDate": ms(end)}],
                    "segments": [{"segmentStart": ms(o.at), "segmentEnd": ms(end),
                        "segmentType": "interact", "queueId": v.queue.as_str(), "disconnectType": "client"}]}],
            }));
        }
    }
    Conv {
        start,
        end,
        legs: visits
            .iter()
            .map(|v| (v.queue.as_str().to_owned(), v.media))
            .collect(),
        json: json!({
            "conversationId": id, "conversationStart": ms(start), "conversationEnd": ms(end),
            "originatingDirection": "inbound", "divisionIds": ["d-1"], "participants": participants,
        }),
    }
}

/// A dataset: the visits (the truth) and their conversations.
struct Dataset {
    visits: Vec<Visit>,
    conversations: Vec<Conv>,
}

/// `n` conversations starting from 36 hours before `from` to a day after `to`; a tenth are
/// transferred to a second queue, and some waits last hours, so that conversations started the
/// day before the window emit metrics inside it.
fn dataset(seed: u64, queues: &[&str], from: Timestamp, to: Timestamp, n: usize) -> Dataset {
    let mut rng = fastrand::Rng::with_seed(seed);
    let first = from - 36.hours();
    let span_ms = (to + 24.hours()).as_millisecond() - first.as_millisecond();
    let mut visits = Vec::new();
    let mut conversations = Vec::new();
    for i in 0..n {
        let id = uuid(i);
        let start = first + rng.i64(0..span_ms).milliseconds();
        let media = [MediaType::Voice, MediaType::Chat, MediaType::Email][rng.usize(0..3)];
        let hops = if rng.u8(0..10) == 0 { 2 } else { 1 };
        let mut entered = start + rng.i64(0..20_000).milliseconds();
        let mut legs = Vec::new();
        for hop in 0..hops {
            let wait_ms = match rng.u8(0..12) {
                0 => 20_000,
                1 => 20_001,
                2 => 5_000,
                3 => 4_999,
                4 => rng.u64(0..4 * 3_600_000),
                _ => rng.u64(0..120_000),
            };
            let kind = if hop + 1 < hops {
                OutcomeKind::FlowOut
            } else {
                [
                    OutcomeKind::Answered,
                    OutcomeKind::Answered,
                    OutcomeKind::Abandoned,
                    OutcomeKind::FlowOut,
                ][rng.usize(0..4)]
            };
            let at = entered + i64::try_from(wait_ms).unwrap().milliseconds();
            legs.push(Visit {
                conversation_id: id.clone(),
                queue: QueueId::new(queues[rng.usize(0..queues.len())]),
                media,
                entered,
                offered_at: Some(entered),
                outcome: Some(VisitOutcome { kind, wait_ms, at }),
            });
            entered = at + 1.second();
        }
        let end = legs.last().unwrap().outcome.unwrap().at + rng.i64(0..600_000).milliseconds();
        conversations.push(render(&id, start, end, &legs));
        visits.extend(legs);
    }
    conversations.sort_by_key(|c| c.start);
    Dataset {
        visits,
        conversations,
    }
}

/// A `totalHits` to report instead of the real one, from the interval's UTC days and the
/// number of queues in the filter.
type Hits = Box<dyn Fn(i64, usize) -> Option<u64> + Send + Sync>;

/// How the emulated query misbehaves.
#[derive(Default)]
struct Quirks {
    /// Each page after the first repeats the previous page's last row, as Genesys's pages can.
    repeat_rows: bool,
    /// Overrides `totalHits`.
    hits: Option<Hits>,
}

fn strings(predicates: &Value) -> Vec<String> {
    predicates
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap().to_owned())
        .collect()
}

fn interval_of(body: &Value) -> (Timestamp, Timestamp) {
    let (start, end) = body["interval"].as_str().unwrap().split_once('/').unwrap();
    (ts(start), ts(end))
}

/// The segment filter's queues and media types.
fn filters_of(body: &Value) -> (Vec<String>, Vec<String>) {
    assert_eq!(
        body["conversationFilters"],
        json!([{"type": "and", "predicates": [
            {"type": "dimension", "dimension": "conversationEnd", "operator": "exists"}]}])
    );
    let clauses = body["segmentFilters"][0]["clauses"].as_array().unwrap();
    let queues = strings(&clauses[0]["predicates"]);
    let media = clauses
        .get(1)
        .map_or_else(Vec::new, |c| strings(&c["predicates"]));
    (queues, media)
}

fn selected(c: &Conv, queues: &[String], media: &[String]) -> bool {
    c.legs.iter().any(|(q, m)| {
        queues.contains(q) && (media.is_empty() || media.iter().any(|x| x == m.as_str()))
    })
}

/// Answers the details query as Genesys does: conversations that started on a UTC day the
/// interval touches and have a segment matching the filter, in the asked order, 100 a page,
/// no `conversations` key past the end.
fn serve_query(transport: &ScriptedTransport, data: &Arc<Dataset>, quirks: Quirks) {
    let data = Arc::clone(data);
    transport.respond(QUERY, move |request| {
        let body = body_of(request);
        assert_valid("ConversationQuery", &body);
        let (start, end) = interval_of(&body);
        assert!(end.duration_since(start).as_hours() <= 7 * 24, "{body}");
        let (queues, media) = filters_of(&body);
        let size = body["paging"]["pageSize"].as_u64().unwrap();
        let number = body["paging"]["pageNumber"].as_u64().unwrap();
        assert_eq!(size, 100);
        if number * size > 100_000 {
            return Reply::genesys_error(
                400,
                "bad.request",
                "Pagination may not exceed 100000 results.",
                "x",
            );
        }
        let first_day = utc_midnight(start);
        let last_day = utc_midnight(end - 1.nanosecond()) + 24.hours();
        let mut hits: Vec<&Conv> = data
            .conversations
            .iter()
            .filter(|c| c.start >= first_day && c.start < last_day && selected(c, &queues, &media))
            .collect();
        match (body["order"].as_str(), body["orderBy"].as_str()) {
            (Some("desc"), Some("conversationEnd")) => {
                hits.sort_by_key(|c| std::cmp::Reverse(c.end));
            }
            (Some("asc"), Some("conversationStart")) => hits.sort_by_key(|c| c.start),
            other => panic!("unexpected order {other:?}"),
        }
        let days = last_day.duration_since(first_day).as_hours() / 24;
        let total = quirks
            .hits
            .as_ref()
            .and_then(|f| f(days, queues.len()))
            .unwrap_or(hits.len() as u64);
        let from = usize::try_from((number - 1) * size).unwrap();
        let mut rows: Vec<Value> = hits
            .iter()
            .skip(from)
            .take(100)
            .map(|c| c.json.clone())
            .collect();
        if quirks.repeat_rows && from > 0 && !rows.is_empty() {
            rows.insert(0, hits[from - 1].json.clone());
        }
        let page = if rows.is_empty() {
            json!({"totalHits": total})
        } else {
            json!({"totalHits": total, "conversations": rows})
        };
        Reply::json(200, &page)
    });
}

fn requests_to(transport: &ScriptedTransport, path: &str) -> Vec<HttpRequest> {
    transport
        .requests()
        .into_iter()
        .filter(|r| r.url.path() == path)
        .collect()
}

/// The distinct intervals of the query's requests, with their order and queue count.
fn pieces(transport: &ScriptedTransport) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for request in requests_to(transport, QUERY) {
        let body = body_of(&request);
        let (start, end) = interval_of(&body);
        let piece = format!(
            "{}..{} {} {}q",
            start.strftime("%m-%d %H:%M"),
            end.strftime("%m-%d %H:%M"),
            body["order"].as_str().unwrap(),
            filters_of(&body).0.len()
        );
        if !seen.contains(&piece) {
            seen.push(piece);
        }
    }
    seen
}

fn page_numbers(transport: &ScriptedTransport) -> Vec<u64> {
    requests_to(transport, QUERY)
        .iter()
        .map(|r| body_of(r)["paging"]["pageNumber"].as_u64().unwrap())
        .collect()
}

#[derive(Default)]
struct Collect(Vec<Visit>);

impl VisitSink for Collect {
    fn visit(&mut self, visit: Visit) {
        self.0.push(visit);
    }
}

fn visit_query(queues: &[&str], from: &str, to: &str) -> VisitQuery {
    VisitQuery {
        queues: queues.iter().map(|q| QueueId::new(*q)).collect(),
        media: Vec::new(),
        window: TimeWindow::new(ts(from), ts(to)).unwrap(),
    }
}

/// Every visit delivered once: no (conversation, queue, entered) twice.
#[track_caller]
fn assert_each_once(visits: &[Visit]) {
    let mut keys: Vec<(String, String, Timestamp)> = visits
        .iter()
        .map(|v| {
            (
                v.conversation_id.clone(),
                v.queue.as_str().to_owned(),
                v.entered,
            )
        })
        .collect();
    let before = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), before, "a visit was delivered twice");
}

/// The synchronous query, with a one-day lookback so that the pieces asked for stay few enough
/// to list in the tests.
fn query_mode(c: &mut crate::GenesysConfig) {
    c.details_mode = DetailsMode::Query;
    c.details_lookback = Duration::from_hours(24);
}

// --- Reading pages -------------------------------------------------------------------------

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

#[test]
fn genesys_instants_read_as_jiff_reads_them() {
    for text in [
        "2024-05-01T09:00:20.000Z",
        "2024-02-29T23:59:59.999Z",
        "2024-05-01T09:00:20Z",
        "1970-01-01T00:00:00.000Z",
        "2024-05-01T10:00:20.000+01:00",
        "2024-05-01T09:00:20.123456Z",
        "2024-05-01t09:00:20.000z",
    ] {
        assert_eq!(
            instant(text).unwrap(),
            text.parse::<Timestamp>().unwrap(),
            "{text}"
        );
    }
    for bad in [
        "2023-02-29T00:00:00.000Z",
        "2024-13-01T00:00:00.000Z",
        "2024-05-01T24:00:00.000Z",
        "",
        "x",
    ] {
        assert!(instant(bad).is_err(), "{bad}");
    }
}

proptest! {
    #[test]
    fn the_fast_instant_path_agrees_with_jiff(millis in -2_000_000_000_000i64..8_000_000_000_000) {
        let t = Timestamp::from_millisecond(millis).unwrap();
        for text in [format!("{t:.3}"), format!("{t:.0}")] {
            prop_assert_eq!(instant(&text).unwrap(), text.parse::<Timestamp>().unwrap());
        }
    }
}

// --- The synchronous query ----------------------------------------------------------------

#[tokio::test]
async fn paging_ends_at_the_page_without_conversations() {
    let queues = ["q-a"];
    let from = ts("2024-05-02T00:00:00Z");
    let to = ts("2024-05-03T00:00:00Z");
    // 150 conversations started on the window's day, none on the day before.
    let mut data = dataset(1, &queues, from, to, 400);
    data.conversations
        .retain(|c| c.start >= from && c.start < to);
    data.conversations.truncate(150);
    let kept: Vec<String> = data
        .conversations
        .iter()
        .map(|c| c.json["conversationId"].as_str().unwrap().to_owned())
        .collect();
    data.visits.retain(|v| kept.contains(&v.conversation_id));
    let data = Arc::new(data);
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    serve_query(&transport, &data, Quirks::default());
    let (client, _, _) = client(&transport, |c| {
        query_mode(c);
        c.details_lookback = Duration::ZERO;
    });
    let query = tally_query(&queues, "UTC", from, to, Granularity::Hour);
    let got = sla_core::tally_visits(&query, &client).await.unwrap();
    assert_eq!(got, expected(&query, &data.visits));
    // Page 1 says 150 hits; pages 2 and 3 are asked for together, and page 3 (no
    // `conversations` key) ends it.
    assert_eq!(page_numbers(&transport), [1, 2, 3]);
    assert_eq!(pieces(&transport), ["05-02 00:00..05-03 00:00 asc 1q"]);
}

#[tokio::test]
async fn long_windows_are_read_in_pieces_of_at_most_a_week_with_a_lookback() {
    let queues = ["q-a", "q-b", "q-c"];
    let from = ts("2024-05-01T06:00:00Z");
    let to = ts("2024-05-11T00:00:00Z");
    let data = Arc::new(dataset(2, &queues, from, to, 3_000));
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    serve_query(&transport, &data, Quirks::default());
    let (client, _, _) = client(&transport, query_mode);
    for granularity in [Granularity::Total, Granularity::HalfHour, Granularity::Day] {
        let query = tally_query(&queues, "Europe/London", from, to, granularity);
        let got = sla_core::tally_visits(&query, &client).await.unwrap();
        let want = expected(&query, &data.visits);
        assert!(!want.is_empty());
        assert_eq!(got, want, "{granularity}");
    }
    assert_eq!(
        pieces(&transport),
        [
            // The day before the window, newest end first, for conversations still running at
            // its start; then weeks of UTC days.
            "04-30 06:00..05-01 00:00 desc 3q",
            "05-01 06:00..05-08 00:00 asc 3q",
            "05-08 00:00..05-11 00:00 asc 3q",
        ]
    );
    // The lookback piece stopped at its first page, which reached conversations that ended
    // before the window.
    let lookback_pages = requests_to(&transport, QUERY)
        .iter()
        .filter(|r| body_of(r)["order"] == "desc")
        .count();
    assert_eq!(lookback_pages, 3);
}

#[tokio::test]
async fn conversations_from_before_the_window_are_missed_without_a_lookback() {
    let queues = ["q-a"];
    let from = ts("2024-05-02T00:00:00Z");
    let to = ts("2024-05-03T00:00:00Z");
    let data = Arc::new(dataset(3, &queues, from, to, 2_000));
    let query = tally_query(&queues, "UTC", from, to, Granularity::Total);
    let mut totals = Vec::new();
    for lookback in [Duration::ZERO, Duration::from_hours(24)] {
        let transport = ScriptedTransport::new();
        transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
        serve_query(&transport, &data, Quirks::default());
        let (client, _, _) = client(&transport, |c| {
            query_mode(c);
            c.details_lookback = lookback;
        });
        let got = sla_core::tally_visits(&query, &client).await.unwrap();
        totals.push(got.iter().map(|(_, t)| t.answered).sum::<u64>());
        if lookback > Duration::ZERO {
            assert_eq!(got, expected(&query, &data.visits));
        }
    }
    // Without a lookback, visits answered after midnight in conversations that started the
    // day before are lost: this is why the lookback exists.
    assert!(totals[0] < totals[1], "{totals:?}");
}

#[tokio::test]
async fn a_piece_past_the_result_cap_is_split_by_days_then_by_queues() {
    let queues = ["q-a", "q-b", "q-c"];
    let from = ts("2024-05-01T00:00:00Z");
    let to = ts("2024-05-08T00:00:00Z");
    let data = Arc::new(dataset(4, &queues, from, to, 2_000));
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    // Genesys says a piece touching three days or more, or one day of the 4th and 5th of May
    // with more than one queue, holds more than 100,000 conversations.
    serve_query(
        &transport,
        &data,
        Quirks {
            hits: Some(Box::new(|days, queues| {
                (days >= 3 || (days == 1 && queues > 1)).then_some(150_000)
            })),
            ..Quirks::default()
        },
    );
    let (client, _, _) = client(&transport, query_mode);
    let query = tally_query(&queues, "UTC", from, to, Granularity::HalfHour);
    let mut reports = Vec::new();
    let observed = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&observed);
    let client = client.with_progress(move |p: &DetailsProgress| sink.lock().unwrap().push(*p));
    let got = sla_core::tally_visits(&query, &client).await.unwrap();
    assert_eq!(got, expected(&query, &data.visits));
    // Distinct pieces in the order first asked for (two one-queue pieces of a day look alike).
    // The lookback day and the first of May are split by queues (3 → 1 + 2 → 1 + 1 + 1); the
    // week by days (7 → 3 + 4 → (1 + 2) + (2 + 2)); two-day pieces are within the cap.
    assert_eq!(
        pieces(&transport),
        [
            "04-30 00:00..05-01 00:00 desc 3q",
            "04-30 00:00..05-01 00:00 desc 1q",
            "04-30 00:00..05-01 00:00 desc 2q",
            "05-01 00:00..05-08 00:00 asc 3q",
            "05-01 00:00..05-04 00:00 asc 3q",
            "05-01 00:00..05-02 00:00 asc 3q",
            "05-01 00:00..05-02 00:00 asc 1q",
            "05-01 00:00..05-02 00:00 asc 2q",
            "05-02 00:00..05-04 00:00 asc 3q",
            "05-04 00:00..05-08 00:00 asc 3q",
            "05-04 00:00..05-06 00:00 asc 3q",
            "05-06 00:00..05-08 00:00 asc 3q",
        ]
    );
    // Every split piece was dropped after its first page, without paging further.
    for request in requests_to(&transport, QUERY) {
        let body = body_of(&request);
        let (start, end) = interval_of(&body);
        let days = end.duration_since(start).as_hours() / 24;
        if days >= 3 || (days == 1 && filters_of(&body).0.len() > 1) {
            assert_eq!(body["paging"]["pageNumber"], 1, "{body}");
        }
    }
    reports.extend(observed.lock().unwrap().iter().copied());
    let last = reports.last().unwrap();
    assert_eq!(last.pieces_done, last.pieces_total);
    // The lookback day and the week planned, then seven splits: two of the lookback day, and
    // 7 → 3 + 4, 3 → 1 + 2, then the first of May twice, and 4 → 2 + 2.
    assert_eq!(last.pieces_total, 2 + 7);
    assert_eq!(last.mode, DetailsMode::Query);
    assert!(reports.windows(2).all(|w| w[0].pages <= w[1].pages));
}

#[tokio::test]
async fn one_queue_on_one_day_past_the_cap_is_a_clear_error() {
    let queues = ["q-a"];
    let from = ts("2024-05-01T08:00:00Z");
    let to = ts("2024-05-01T09:00:00Z");
    let data = Arc::new(dataset(5, &queues, from, to, 100));
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    serve_query(
        &transport,
        &data,
        Quirks {
            hits: Some(Box::new(|_, _| Some(100_001))),
            ..Quirks::default()
        },
    );
    let (client, _, _) = client(&transport, |c| {
        query_mode(c);
        c.details_lookback = Duration::ZERO;
    });
    let err = client
        .visits(
            &visit_query(&queues, "2024-05-01T08:00:00Z", "2024-05-01T09:00:00Z"),
            &mut Collect::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        crate::tests::chain(&err),
        "request rejected: the details query for queue q-a on 2024-05-01 matches 100001 \
         conversations, more than the 100000 genesys pages through; use details jobs for this window"
    );
    assert_eq!(page_numbers(&transport), [1]);
}

#[tokio::test]
async fn repeated_rows_across_pages_pieces_and_queue_batches_count_once() {
    let queues = ["q-a", "q-b", "q-c"];
    let from = ts("2024-05-01T00:00:00Z");
    let to = ts("2024-05-03T00:00:00Z");
    let data = Arc::new(dataset(6, &queues, from, to, 2_500));
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    serve_query(
        &transport,
        &data,
        Quirks {
            repeat_rows: true,
            ..Quirks::default()
        },
    );
    // One queue per request: a transferred conversation comes back from both queues' queries.
    let (client, _, _) = client(&transport, |c| {
        query_mode(c);
        c.queues_per_request = 1;
    });
    let query = visit_query(&queues, "2024-05-01T00:00:00Z", "2024-05-03T00:00:00Z");
    let mut sink = Collect::default();
    client.visits(&query, &mut sink).await.unwrap();
    assert_each_once(&sink.0);
    let tq = tally_query(&queues, "UTC", from, to, Granularity::Hour);
    assert_eq!(
        sla_core::tally_visits(&tq, &client).await.unwrap(),
        expected(&tq, &data.visits)
    );
    let transferred = sink
        .0
        .iter()
        .filter(|v| {
            sink.0
                .iter()
                .any(|w| w.conversation_id == v.conversation_id && w.queue != v.queue)
        })
        .count();
    assert!(
        transferred > 0,
        "the dataset should hold transfers between queues"
    );
}

#[tokio::test]
async fn the_media_filter_goes_into_the_segment_filter() {
    let queues = ["q-a", "q-b"];
    let from = ts("2024-05-01T00:00:00Z");
    let to = ts("2024-05-02T00:00:00Z");
    let data = Arc::new(dataset(7, &queues, from, to, 1_000));
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    serve_query(&transport, &data, Quirks::default());
    let (client, _, _) = client(&transport, query_mode);
    let mut query = tally_query(&queues, "UTC", from, to, Granularity::Hour);
    query.media = vec![MediaType::Chat, MediaType::Email, MediaType::Chat];
    let got = sla_core::tally_visits(&query, &client).await.unwrap();
    assert_eq!(got, expected(&query, &data.visits));
    assert!(got.iter().all(|(k, _)| k.media != MediaType::Voice));
    let body = body_of(&requests_to(&transport, QUERY)[0]);
    assert_eq!(
        body["segmentFilters"],
        json!([{"type": "and", "clauses": [
            {"type": "or", "predicates": [
                {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": "q-a"},
                {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": "q-b"}]},
            {"type": "or", "predicates": [
                {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "chat"},
                {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "email"}]}]}])
    );
}

#[tokio::test]
async fn no_queues_means_no_requests() {
    let transport = ScriptedTransport::new();
    let (client, _, _) = client(&transport, |_| {});
    let mut query = visit_query(&["q-a"], "2024-05-01T00:00:00Z", "2024-06-01T00:00:00Z");
    query.queues.clear();
    client
        .visits(&query, &mut Collect::default())
        .await
        .unwrap();
    assert!(transport.requests().is_empty());
}

// --- Jobs ----------------------------------------------------------------------------------

/// Answers availability, job submission, status (`states` in turn) and results (cursor pages
/// of `per_page`, selected by activity in the interval) for job `job-1`.
fn serve_jobs(
    transport: &ScriptedTransport,
    data: &Arc<Dataset>,
    available_until: &str,
    states: &[&str],
    per_page: usize,
) {
    transport.script(
        AVAILABILITY,
        [Reply::json(
            200,
            &json!({"dataAvailabilityDate": available_until}),
        )],
    );
    let selection: Arc<Mutex<Vec<Value>>> = Arc::default();
    let chosen = Arc::clone(&selection);
    let all = Arc::clone(data);
    transport.respond(JOBS, move |request| {
        let body = body_of(request);
        assert_valid("AsyncConversationQuery", &body);
        let (start, end) = interval_of(&body);
        let (queues, media) = filters_of(&body);
        *chosen.lock().unwrap() = all
            .conversations
            .iter()
            .filter(|c| c.start < end && c.end >= start && selected(c, &queues, &media))
            .map(|c| c.json.clone())
            .collect();
        Reply::json(202, &json!({"jobId": "job-1"}))
    });
    let polls: Vec<Reply> = states
        .iter()
        .map(|state| {
            let mut body = json!({"state": state, "submissionDate": "2030-01-01T00:00:00.000Z"});
            if *state == "FAILED" {
                body["errorMessage"] = json!("The query timed out");
            }
            assert_valid("AsyncQueryStatus", &body);
            Reply::json(200, &body)
        })
        .collect();
    transport.script(&format!("{JOBS}/job-1"), polls);
    transport.respond(&format!("{JOBS}/job-1/results"), move |request| {
        let offset: usize = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map_or(0, |(_, v)| v.trim_start_matches('o').parse().unwrap());
        let rows = selection.lock().unwrap();
        let end = (offset + per_page).min(rows.len());
        let mut page = json!({"conversations": rows[offset..end], "dataAvailabilityDate": "2030-01-01T00:00:00.000Z"});
        if end < rows.len() {
            page["cursor"] = json!(format!("o{end}"));
        }
        assert_valid("AnalyticsConversationAsyncQueryResponse", &page);
        Reply::json(200, &page)
    });
}

#[tokio::test]
async fn jobs_are_polled_with_backoff_and_read_until_the_cursor_runs_out() {
    let queues = ["q-a", "q-b"];
    let from = ts("2024-05-01T00:00:00Z");
    let to = ts("2024-05-15T00:00:00Z");
    let data = Arc::new(dataset(8, &queues, from, to, 1_500));
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    serve_jobs(
        &transport,
        &data,
        "2024-05-20T00:00:00.000Z",
        &["QUEUED", "PENDING", "FULFILLED"],
        400,
    );
    let (client, _, sleep) = client(&transport, |_| {});
    let query = tally_query(&queues, "Europe/London", from, to, Granularity::Day);
    let got = sla_core::tally_visits(&query, &client).await.unwrap();
    assert_eq!(got, expected(&query, &data.visits));
    assert_eq!(
        sleep.waits(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(transport.count(&format!("{JOBS}/job-1")), 3);
    let results = requests_to(&transport, &format!("{JOBS}/job-1/results"));
    let cursors: Vec<Option<String>> = results
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "cursor")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    let rows = data
        .conversations
        .iter()
        .filter(|c| c.start < to && c.end >= from)
        .count();
    assert_eq!(cursors.len(), rows.div_ceil(400));
    assert_eq!(cursors[0], None);
    assert_eq!(cursors[1].as_deref(), Some("o400"));
    assert_eq!(transport.count(QUERY), 0);
    let submitted = body_of(&requests_to(&transport, JOBS)[0]);
    assert_eq!(
        submitted["interval"],
        "2024-05-01T00:00:00.000Z/2024-05-15T00:00:00.000Z"
    );
}

#[tokio::test]
async fn failed_expired_and_cancelled_jobs_are_clear_errors() {
    let data = Arc::new(dataset(
        8,
        &["q-a"],
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-02T00:00:00Z"),
        10,
    ));
    for (state, expect) in [
        (
            "FAILED",
            "source failed: details job job-1 ended FAILED: The query timed out",
        ),
        (
            "EXPIRED",
            "source failed: details job job-1 ended EXPIRED, its results are no longer available",
        ),
        (
            "CANCELLED",
            "source failed: details job job-1 ended CANCELLED, it was cancelled before it finished",
        ),
    ] {
        let transport = ScriptedTransport::new();
        transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
        serve_jobs(
            &transport,
            &data,
            "2024-05-20T00:00:00.000Z",
            &["PENDING", state],
            10,
        );
        let (client, _, _) = client(&transport, |c| c.details_mode = DetailsMode::Jobs);
        let query = visit_query(&["q-a"], "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z");
        let err = client
            .visits(&query, &mut Collect::default())
            .await
            .unwrap_err();
        assert_eq!(crate::tests::chain(&err), expect);
        assert_eq!(transport.count(&format!("{JOBS}/job-1/results")), 0);
    }
}

#[tokio::test]
async fn a_job_still_running_at_the_timeout_is_cancelled() {
    let data = Arc::new(dataset(
        8,
        &["q-a"],
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-02T00:00:00Z"),
        10,
    ));
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    serve_jobs(
        &transport,
        &data,
        "2024-05-20T00:00:00.000Z",
        &["QUEUED"],
        10,
    );
    let (client, _, sleep) = client(&transport, |c| {
        c.details_mode = DetailsMode::Jobs;
        c.job_timeout = Duration::from_secs(20);
    });
    let query = visit_query(&["q-a"], "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z");
    let err = client
        .visits(&query, &mut Collect::default())
        .await
        .unwrap_err();
    assert_eq!(
        crate::tests::chain(&err),
        "upstream unavailable after 5 attempts: details job job-1 was still QUEUED after 15 s, \
         so it was cancelled (after 5 status checks)"
    );
    assert_eq!(sleep.waits(), [1, 2, 4, 8].map(Duration::from_secs));
    let cancels: Vec<HttpRequest> = transport
        .requests()
        .into_iter()
        .filter(|r| r.method == crate::Method::Delete)
        .collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].url.path(), format!("{JOBS}/job-1"));
}

#[tokio::test]
async fn a_repeated_cursor_is_an_error_rather_than_a_loop() {
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    transport.script(
        AVAILABILITY,
        [Reply::json(
            200,
            &json!({"dataAvailabilityDate": "2030-01-01T00:00:00Z"}),
        )],
    );
    transport.script(JOBS, [Reply::json(202, &json!({"jobId": "job-1"}))]);
    transport.script(
        &format!("{JOBS}/job-1"),
        [Reply::json(200, &json!({"state": "FULFILLED"}))],
    );
    transport.script(
        &format!("{JOBS}/job-1/results"),
        [Reply::json(
            200,
            &json!({"conversations": [], "cursor": "same"}),
        )],
    );
    let (client, _, _) = client(&transport, |c| c.details_mode = DetailsMode::Jobs);
    let query = visit_query(&["q-a"], "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z");
    let err = client
        .visits(&query, &mut Collect::default())
        .await
        .unwrap_err();
    assert!(
        crate::tests::chain(&err).ends_with("details job job-1 returned the same cursor twice"),
        "{err}"
    );
    assert_eq!(transport.count(&format!("{JOBS}/job-1/results")), 2);
}

#[tokio::test]
async fn the_mode_picks_jobs_only_for_windows_the_data_lake_holds() {
    let queues = ["q-a"];
    let data = Arc::new(dataset(
        10,
        &queues,
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-20T00:00:00Z"),
        300,
    ));
    // (mode, window, availability) -> (availability asked, jobs used)
    let table = [
        (
            DetailsMode::Auto,
            ("2024-05-10T00:00:00Z", "2024-05-12T00:00:00Z"),
            "2024-06-01T00:00:00.000Z",
            (false, false),
        ),
        (
            DetailsMode::Auto,
            ("2024-05-01T00:00:00Z", "2024-05-08T00:00:00Z"),
            "2024-06-01T00:00:00.000Z",
            (false, false),
        ),
        (
            DetailsMode::Auto,
            ("2024-05-01T00:00:00Z", "2024-05-08T00:00:01Z"),
            "2024-06-01T00:00:00.000Z",
            (true, true),
        ),
        (
            DetailsMode::Auto,
            ("2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
            "2024-05-20T00:00:00.000Z",
            (true, true),
        ),
        (
            DetailsMode::Auto,
            ("2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
            "2024-05-19T23:59:59.999Z",
            (true, false),
        ),
        (
            DetailsMode::Jobs,
            ("2024-05-10T00:00:00Z", "2024-05-12T00:00:00Z"),
            "2024-06-01T00:00:00.000Z",
            (true, true),
        ),
        (
            DetailsMode::Jobs,
            ("2024-05-10T00:00:00Z", "2024-05-12T00:00:00Z"),
            "2024-05-11T00:00:00.000Z",
            (true, false),
        ),
        (
            DetailsMode::Query,
            ("2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
            "2024-06-01T00:00:00.000Z",
            (false, false),
        ),
    ];
    for (mode, (from, to), available, (asked, jobs)) in table {
        let transport = ScriptedTransport::new();
        transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
        serve_query(&transport, &data, Quirks::default());
        serve_jobs(&transport, &data, available, &["FULFILLED"], 100);
        let (client, _, _) = client(&transport, |c| c.details_mode = mode);
        let query = tally_query(&queues, "UTC", ts(from), ts(to), Granularity::Day);
        let got = sla_core::tally_visits(&query, &client).await.unwrap();
        assert_eq!(got, expected(&query, &data.visits), "{mode} {from} {to}");
        let row = format!("{mode} {from}..{to} available until {available}");
        assert_eq!(transport.count(AVAILABILITY) == 1, asked, "{row}");
        assert_eq!(transport.count(JOBS) == 1, jobs, "{row}");
        assert_eq!(transport.count(QUERY) > 0, !jobs, "{row}");
    }
}

#[test]
fn details_modes_parse_and_print() {
    for mode in [DetailsMode::Auto, DetailsMode::Query, DetailsMode::Jobs] {
        assert_eq!(mode.to_string().parse::<DetailsMode>().unwrap(), mode);
    }
    assert_eq!(" JOBS ".parse::<DetailsMode>().unwrap(), DetailsMode::Jobs);
    assert_eq!(
        "sometimes".parse::<DetailsMode>().unwrap_err().to_string(),
        "invalid configuration: unknown details mode 'sometimes': expected auto, query or jobs"
    );
}
