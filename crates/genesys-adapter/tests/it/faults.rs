//! Faults change nothing but the number of requests: 429 storms, 5xx, expiring tokens and
//! latency give the tallies of a fault-free run, and budgets end in clear errors.

use std::time::Duration;

use genesys_sim::SimConfig;
use jiff::ToSpan;
use sla_core::ports::{SourceError, TallySource};
use sla_core::{Granularity, Threshold};

use crate::shared::chain;
use crate::support::{fault_free, instant_client, query, real_client, sim_config, start, ts};

fn window() -> (jiff::Timestamp, jiff::Timestamp) {
    let from = ts("2026-03-25T00:00:00Z");
    (from, from + (5 * 24).hours())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_gives_the_fault_free_tallies() {
    // The simulator allows three requests a minute per token and throttles a third of the rest
    // at random; the client would send 240 a minute.
    let sim = start(SimConfig {
        rate_limit_per_min: Some(3),
        throttle_rate: 0.3,
        retry_after_s: 2,
        ..sim_config()
    })
    .await;
    let (client, time) = instant_client(&sim, |c| {
        c.chunk_days = 1;
        c.max_attempts = 30;
        c.max_retry_wait = Duration::from_hours(1);
    });
    let (from, to) = window();
    let q = query(&sim, "UTC", from, to, Granularity::Hour);
    let got = client.tallies(&q).await.unwrap();
    assert_eq!(got, fault_free(&q).await);
    let stats = client.upstream_stats();
    // At least the two chunks over the first minute's budget were refused.
    assert!(stats.requests_by_status[&429] >= 2, "{stats:?}");
    assert_eq!(
        stats.requests_by_status[&200],
        5 + 1,
        "five chunks and a token"
    );
    // Every wait was a Retry-After: the random 2 s, or the rest of the simulator's minute.
    let waits = time.waits();
    assert!(waits.contains(&Duration::from_secs(2)), "{waits:?}");
    assert!(
        waits.iter().any(|w| *w > Duration::from_secs(2)),
        "{waits:?}"
    );
    assert!(
        waits.iter().all(|w| *w <= Duration::from_mins(1)),
        "{waits:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_into_the_fault_free_tallies() {
    let sim = start(SimConfig {
        fail_rate: 0.4,
        ..sim_config()
    })
    .await;
    let (client, time) = instant_client(&sim, |c| {
        c.chunk_days = 1;
        c.max_attempts = 20;
    });
    let (from, to) = window();
    let q = query(&sim, "Europe/London", from, to, Granularity::Day);
    let got = client.tallies(&q).await.unwrap();
    assert_eq!(got, fault_free(&q).await);
    let stats = client.upstream_stats();
    let failures: u64 = [500, 503]
        .iter()
        .filter_map(|s| stats.requests_by_status.get(s))
        .sum();
    assert!(failures > 0, "{stats:?}");
    assert_eq!(stats.retries, failures);
    assert_eq!(time.waits().len(), usize::try_from(failures).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expired_upstream_is_renewed_after_one_401() {
    let sim = start(SimConfig {
        token_ttl_s: 5,
        ..sim_config()
    })
    .await;
    let (client, _) = instant_client(&sim, |_| {});
    let (from, to) = window();
    let q = query(&sim, "UTC", from, to, Granularity::Total);
    let first = client.tallies(&q).await.unwrap();
    assert_eq!(sim.token_requests(), 1);
    // The simulator's clock moves on and the token expires there; the client's clock does not,
    // so it presents the old token, is refused, renews once and repeats the request.
    sim.advance_clock(Duration::from_secs(10));
    let second = client.tallies(&q).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(sim.token_requests(), 2);
    let stats = client.upstream_stats();
    assert_eq!(stats.requests_by_status[&401], 1);
    assert_eq!(stats.token_requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_tokens_latency_throttling_and_failures_in_real_time() {
    // Real waits, kept small: Retry-After 1 s, backoffs under 200 ms, tokens living 2 s (renewed
    // after 1 s), 20 ms of latency per request.
    let sim = start(SimConfig {
        token_ttl_s: 2,
        latency_ms: 20,
        throttle_rate: 0.1,
        retry_after_s: 1,
        fail_rate: 0.15,
        ..sim_config()
    })
    .await;
    let client = real_client(&sim, |c| {
        c.chunk_days = 1;
        c.max_attempts = 20;
        c.initial_backoff = Duration::from_millis(50);
        c.max_backoff = Duration::from_millis(200);
    });
    let from = ts("2026-03-25T00:00:00Z");
    let mut q = query(
        &sim,
        "Europe/London",
        from,
        from + (7 * 24).hours(),
        Granularity::HalfHour,
    );
    // Six thresholds and a short abandon: two queries per day.
    q.thresholds = [10_000, 15_000, 20_000, 30_000, 45_000, 60_000]
        .map(Threshold::from_millis)
        .to_vec();
    let got = client.tallies(&q).await.unwrap();
    assert_eq!(got, fault_free(&q).await);
    let stats = client.upstream_stats();
    // Seven UTC days end at 01:00 in London (BST from 29 March): eight local-day chunks, each
    // asked in two queries.
    assert_eq!(stats.requests_by_status[&200] - stats.token_requests, 8 * 2);
    assert!(stats.retries > 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_above_the_ceiling_fails_at_once() {
    let sim = start(SimConfig {
        throttle_rate: 1.0,
        retry_after_s: 600,
        ..sim_config()
    })
    .await;
    let (client, time) = instant_client(&sim, |_| {});
    let (from, to) = window();
    let q = query(&sim, "UTC", from, to, Granularity::Total);
    let err = client.tallies(&q).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Unavailable { attempts: 1, .. }),
        "{err:?}"
    );
    let chain = chain(&err);
    assert!(
        chain.starts_with("upstream unavailable after 1 attempt: throttled: genesys asked to retry after 600 s, more than the 180 s the client waits: genesys cloud answered 429 (too.many.requests.retry.after)"),
        "{chain}"
    );
    assert!(chain.contains("[contextId "), "{chain}");
    assert!(time.waits().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_says_how_many_attempts_were_made() {
    let sim = start(SimConfig {
        fail_rate: 1.0,
        ..sim_config()
    })
    .await;
    let (client, time) = instant_client(&sim, |c| c.max_attempts = 3);
    let (from, to) = window();
    let q = query(&sim, "UTC", from, to, Granularity::Total);
    let err = client.tallies(&q).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Unavailable { attempts: 3, .. }),
        "{err:?}"
    );
    let chain = chain(&err);
    assert!(
        chain.starts_with("upstream unavailable after 3 attempts: genesys cloud answered 50"),
        "{chain}"
    );
    assert_eq!(time.waits().len(), 2);
}
