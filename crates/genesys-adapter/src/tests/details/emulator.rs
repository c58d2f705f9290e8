//! An emulated Genesys details API over a scripted transport: a dataset of conversations in
//! Genesys's JSON, the synchronous query (selection by the UTC day a conversation started,
//! 100-row pages, the 100,000-result cap, the 7-day limit) and details jobs.

use std::sync::{Arc, Mutex};

use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};
use sla_core::ports::{OutcomeKind, Visit, VisitOutcome};
use sla_core::{MediaType, QueueId};

use super::{AVAILABILITY, JOBS, QUERY};
use crate::details::pieces::utc_midnight;
use crate::tests::{assert_valid, body_of, ts};
use crate::{HttpRequest, Reply, ScriptedTransport};

pub(crate) fn uuid(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{i:012x}", i * 7919)
}

pub(crate) fn ms(t: Timestamp) -> String {
    format!("{t:.3}")
}

/// One conversation as the emulated Genesys holds it.
#[derive(Clone, Debug)]
pub(crate) struct Conv {
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    /// (queue, media) of each visit, for segment filters.
    pub(crate) legs: Vec<(String, MediaType)>,
    pub(crate) json: Value,
}

/// A conversation's details JSON in Genesys's shape: a customer, one `acd` participant per
/// visit, an agent after each answer (whose segments name the queue too, and must not count).
pub(crate) fn render(id: &str, start: Timestamp, end: Timestamp, visits: &[Visit]) -> Conv {
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
pub(crate) struct Dataset {
    pub(crate) visits: Vec<Visit>,
    pub(crate) conversations: Vec<Conv>,
}

/// `n` conversations starting from 36 hours before `from` to a day after `to`; a tenth are
/// transferred to a second queue, and some waits last hours, so that conversations started the
/// day before the window emit metrics inside it.
pub(crate) fn dataset(
    seed: u64,
    queues: &[&str],
    from: Timestamp,
    to: Timestamp,
    n: usize,
) -> Dataset {
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
pub(crate) type Hits = Box<dyn Fn(i64, usize) -> Option<u64> + Send + Sync>;

/// How the emulated query misbehaves.
#[derive(Default)]
pub(crate) struct Quirks {
    /// Each page after the first repeats the previous page's last row, as Genesys's pages can.
    pub(crate) repeat_rows: bool,
    /// Overrides `totalHits`.
    pub(crate) hits: Option<Hits>,
}

pub(crate) fn strings(predicates: &Value) -> Vec<String> {
    predicates
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn interval_of(body: &Value) -> (Timestamp, Timestamp) {
    let (start, end) = body["interval"].as_str().unwrap().split_once('/').unwrap();
    (ts(start), ts(end))
}

/// The segment filter's queues and media types.
pub(crate) fn filters_of(body: &Value) -> (Vec<String>, Vec<String>) {
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

pub(crate) fn selected(c: &Conv, queues: &[String], media: &[String]) -> bool {
    c.legs.iter().any(|(q, m)| {
        queues.contains(q) && (media.is_empty() || media.iter().any(|x| x == m.as_str()))
    })
}

/// Answers the details query as Genesys does: conversations that started on a UTC day the
/// interval touches and have a segment matching the filter, in the asked order, 100 a page,
/// no `conversations` key past the end.
pub(crate) fn serve_query(transport: &ScriptedTransport, data: &Arc<Dataset>, quirks: Quirks) {
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

pub(crate) fn requests_to(transport: &ScriptedTransport, path: &str) -> Vec<HttpRequest> {
    transport
        .requests()
        .into_iter()
        .filter(|r| r.url.path() == path)
        .collect()
}

/// The distinct intervals of the query's requests, with their order and queue count.
pub(crate) fn pieces(transport: &ScriptedTransport) -> Vec<String> {
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

pub(crate) fn page_numbers(transport: &ScriptedTransport) -> Vec<u64> {
    requests_to(transport, QUERY)
        .iter()
        .map(|r| body_of(r)["paging"]["pageNumber"].as_u64().unwrap())
        .collect()
}

/// Answers availability, job submission, status (`states` in turn) and results (cursor pages
/// of `per_page`, selected by activity in the interval) for job `job-1`.
pub(crate) fn serve_jobs(
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
