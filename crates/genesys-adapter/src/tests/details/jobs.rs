//! Details jobs: polling with backoff, reading to the last cursor, jobs that fail, expire, are
//! cancelled or run past the timeout, and cursors that repeat.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sla_core::Granularity;
use sla_core::ports::{SourceError, VisitSource as _};

use super::emulator::{dataset, requests_to, serve_jobs};
use super::{AVAILABILITY, Collect, JOBS, QUERY, visit_query};
use crate::tests::{body_of, client, expected, tally_query, ts, with_token};
use crate::{DetailsMode, GenesysClient, HttpRequest, Reply};

/// The error reading queue `q-a`'s visits on 1 May 2024 ends in.
async fn first_of_may_fails(client: &GenesysClient) -> SourceError {
    let query = visit_query(&["q-a"], "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z");
    client
        .visits(&query, &mut Collect::default())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn jobs_are_polled_with_backoff_and_read_until_the_cursor_runs_out() {
    let queues = ["q-a", "q-b"];
    let from = ts("2024-05-01T00:00:00Z");
    let to = ts("2024-05-15T00:00:00Z");
    let data = Arc::new(dataset(8, &queues, from, to, 1_500));
    let transport = with_token();
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
        let transport = with_token();
        serve_jobs(
            &transport,
            &data,
            "2024-05-20T00:00:00.000Z",
            &["PENDING", state],
            10,
        );
        let (client, _, _) = client(&transport, |c| c.details_mode = DetailsMode::Jobs);
        let err = first_of_may_fails(&client).await;
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
    let transport = with_token();
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
    let err = first_of_may_fails(&client).await;
    assert_eq!(
        crate::tests::chain(&err),
        "upstream unavailable after 5 attempts: details job job-1 was still QUEUED after 15 s, \
         so it was cancelled"
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
    let transport = with_token();
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
    let err = first_of_may_fails(&client).await;
    assert!(
        crate::tests::chain(&err).ends_with("details job job-1 returned the same cursor twice"),
        "{err}"
    );
    assert_eq!(transport.count(&format!("{JOBS}/job-1/results")), 2);
}
