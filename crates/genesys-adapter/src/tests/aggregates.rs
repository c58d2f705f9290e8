//! The aggregates path through the client: chunks, queue batches and view parts add up to the
//! core's own tally of the same visits, across DST, off-grid windows, media filters and faults.

mod emulator;
mod plan;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;
use sla_core::ports::{SourceError, TallySource as _};
use sla_core::{Granularity, MediaType, TallySet, Zone};

use crate::Reply;
use crate::tests::aggregates::emulator::{emulate, serving, visits};
use crate::tests::{
    AGGREGATES, TOKEN_PATH, body_of, client, expected, tally_query, ts, with_token,
};

#[track_caller]
fn assert_same(got: &TallySet, want: &TallySet) {
    assert!(!want.is_empty(), "the scenario should count something");
    assert_eq!(got, want);
}

/// The distinct buckets `got` counts in.
fn buckets(got: &TallySet) -> BTreeSet<Timestamp> {
    got.iter().map(|(k, _)| k.bucket).collect()
}

/// The midnight that starts `date` in London.
fn london_midnight(date: jiff::civil::Date) -> Timestamp {
    let london = Zone::get("Europe/London").unwrap();
    date.to_zoned(london.tz().clone()).unwrap().timestamp()
}

#[tokio::test]
async fn chunks_batches_and_view_parts_merge_into_the_core_tally_across_dst() {
    let queues = ["q-a", "q-b", "q-c"];
    let from = london_midnight(jiff::civil::date(2026, 3, 22));
    let to = london_midnight(jiff::civil::date(2026, 4, 5));
    let visits = Arc::new(visits(1, &queues, from, to, 3_000));
    let transport = serving(&visits);
    let (client, _, sleep) = client(&transport, |c| c.queues_per_request = 2);
    let query = tally_query(&queues, "Europe/London", from, to, Granularity::Hour);
    let got = client.tallies(&query).await.unwrap();
    assert_same(&got, &expected(&query, &visits));
    // 2 weekly chunks × 2 queue batches × 2 view parts (13 views).
    assert_eq!(transport.count(AGGREGATES), 8);
    assert_eq!(transport.count(TOKEN_PATH), 1);
    assert!(sleep.waits().is_empty());
    // The 23-hour day has 23 hourly buckets.
    let dst_day = buckets(&got)
        .range(ts("2026-03-29T00:00:00Z")..ts("2026-03-29T23:00:00Z"))
        .count();
    assert_eq!(dst_day, 23);
}

#[tokio::test]
async fn off_grid_windows_and_media_filters_match_the_core_tally() {
    let queues = ["q-a", "q-b"];
    let from = ts("2024-05-01T10:15:00Z");
    let to = ts("2024-05-04T16:40:00Z");
    let visits = Arc::new(visits(2, &queues, from, to, 2_000));
    for granularity in [
        Granularity::Day,
        Granularity::Hour,
        Granularity::HalfHour,
        Granularity::Total,
    ] {
        let transport = serving(&visits);
        let (client, _, _) = client(&transport, |_| {});
        let mut query = tally_query(&queues, "America/New_York", from, to, granularity);
        query.media = vec![MediaType::Voice, MediaType::Chat];
        let got = client.tallies(&query).await.unwrap();
        assert_same(&got, &expected(&query, &visits));
        assert!(got.iter().all(|(k, _)| k.media != MediaType::Email));
        for request in transport
            .requests()
            .iter()
            .filter(|r| r.url.path() == AGGREGATES)
        {
            let body = body_of(request);
            assert_eq!(body["timeZone"], "America/New_York");
            assert_eq!(
                body["filter"]["clauses"][1]["predicates"][1]["value"],
                "chat"
            );
        }
    }
}

#[tokio::test]
async fn the_fall_back_day_has_fifty_half_hours() {
    let queues = ["q-a"];
    let from = london_midnight(jiff::civil::date(2026, 10, 25));
    let to = london_midnight(jiff::civil::date(2026, 10, 26));
    let visits = Arc::new(visits(3, &queues, from, to, 3_000));
    let transport = serving(&visits);
    let (client, _, _) = client(&transport, |_| {});
    let query = tally_query(&queues, "Europe/London", from, to, Granularity::HalfHour);
    let got = client.tallies(&query).await.unwrap();
    assert_same(&got, &expected(&query, &visits));
    assert_eq!(buckets(&got).len(), 50);
}

#[tokio::test]
async fn faults_on_the_way_leave_the_tallies_unchanged() {
    let queues = ["q-a", "q-b"];
    let from = ts("2024-05-01T00:00:00Z");
    let to = ts("2024-05-11T00:00:00Z");
    let visits = Arc::new(visits(4, &queues, from, to, 2_000));
    let transport = with_token();
    let calls = Arc::new(Mutex::new(0_u32));
    let served = Arc::clone(&visits);
    transport.respond(AGGREGATES, move |request| {
        let mut calls = calls.lock().unwrap();
        *calls += 1;
        match *calls % 4 {
            1 => Reply::genesys_error(
                429,
                "too.many.requests.retry.after",
                "Rate limit exceeded",
                "ctx",
            )
            .with_header("Retry-After", "2"),
            2 => Reply::status(502),
            _ => Reply::json(200, &emulate(&served, &body_of(request))),
        }
    });
    let (client, _, sleep) = client(&transport, |_| {});
    let query = tally_query(&queues, "UTC", from, to, Granularity::Total);
    let got = client.tallies(&query).await.unwrap();
    assert_same(&got, &expected(&query, &visits));
    // Every Retry-After was waited for exactly (jitter pinned to zero).
    let waits = sleep.waits();
    assert!(waits.contains(&Duration::from_secs(2)));
    let stats = client.upstream_stats();
    assert_eq!(stats.retries, u64::try_from(waits.len()).unwrap());
    assert!(stats.requests_by_status[&429] >= 1 && stats.requests_by_status[&502] >= 1);
}

#[tokio::test]
async fn missing_groups_and_an_empty_answer_mean_zero() {
    let transport = with_token();
    transport.script(AGGREGATES, [Reply::json(200, &json!({}))]);
    let (client, _, _) = client(&transport, |_| {});
    let query = tally_query(
        &["q-a"],
        "UTC",
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-02T00:00:00Z"),
        Granularity::Hour,
    );
    assert!(client.tallies(&query).await.unwrap().is_empty());
    // No queues, no requests.
    let mut none = query.clone();
    none.queues.clear();
    assert!(client.tallies(&none).await.unwrap().is_empty());
    assert_eq!(transport.count(AGGREGATES), 2);
}

#[tokio::test]
async fn api_errors_reach_the_core_with_genesys_details() {
    let transport = with_token();
    transport.script(
        AGGREGATES,
        [Reply::genesys_error(
            400,
            "bad.request",
            "Views must have distinct names",
            "ctx-77",
        )],
    );
    let (client, _, _) = client(&transport, |_| {});
    let query = tally_query(
        &["q-a"],
        "UTC",
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-02T00:00:00Z"),
        Granularity::Total,
    );
    let err = client.tallies(&query).await.unwrap_err();
    assert!(matches!(err, SourceError::Rejected(_)), "{err:?}");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert_eq!(
        source,
        "genesys cloud answered 400 (bad.request): Views must have distinct names [contextId ctx-77]"
    );
}
