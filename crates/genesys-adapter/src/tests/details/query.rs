//! The synchronous details query: paging, pieces of at most a week, the lookback, splitting
//! past the result cap, repeated rows and the segment filter.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use sla_core::ports::VisitSource as _;
use sla_core::{Granularity, MediaType};

use super::emulator::{
    Quirks, dataset, filters_of, interval_of, page_numbers, pieces, requests_to, serve_query,
};
use super::{Collect, QUERY, assert_each_once, query_mode, visit_query};
use crate::tests::with_token;
use crate::tests::{body_of, client, expected, tally_query, ts};
use crate::{DetailsMode, DetailsProgress, ScriptedTransport};

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
    let transport = with_token();
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
    let transport = with_token();
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
        let transport = with_token();
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
    let transport = with_token();
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
    let transport = with_token();
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
    let transport = with_token();
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
    let transport = with_token();
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
