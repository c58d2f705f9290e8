//! The client secret and access tokens never reach logs (captured at trace level), errors or
//! `Debug` output, through renewals, throttling and refusals.

use std::time::Duration;

use base64::Engine as _;
use genesys_sim::SimConfig;
use sla_core::Granularity;
use sla_core::ports::{QueueDirectory, QueueSelector, TallySource};

use crate::shared::capture_logs;
use crate::support::{SECRET, config_for, query, real_client, sim_config, start, ts};

/// Tokens the simulator issues: 43 characters of URL-safe base64.
fn looks_like_a_token(word: &str) -> bool {
    word.len() >= 40
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

// One thread, so every event of the client, reqwest and the simulator's tasks is captured.
#[tokio::test(flavor = "current_thread")]
async fn no_secret_or_token_in_logs_errors_or_debug() {
    let (logs, _guard) = capture_logs("trace,genesys_sim=off");
    let sim = start(SimConfig {
        token_ttl_s: 5,
        throttle_rate: 0.3,
        fail_rate: 0.2,
        retry_after_s: 1,
        ..sim_config()
    })
    .await;
    let client = real_client(&sim, |c| {
        c.max_attempts = 20;
        c.initial_backoff = Duration::from_millis(10);
        c.max_backoff = Duration::from_millis(50);
    });
    let mut seen: Vec<String> = vec![format!("{client:?} {client:#?}")];
    let config = config_for(&sim);
    seen.push(format!("{config:?} {config:#?}"));

    let from = ts("2026-03-30T00:00:00Z");
    let q = query(
        &sim,
        "UTC",
        from,
        ts("2026-03-31T00:00:00Z"),
        Granularity::Hour,
    );
    client.queues(&QueueSelector::All).await.unwrap();
    // An upstream expiry forces a 401 and a renewal.
    sim.advance_clock(Duration::from_secs(10));
    client.tallies(&q).await.unwrap();

    // A refused login and an exhausted budget.
    let refused = real_client(&sim, |c| c.client_secret = format!("{SECRET}-wrong").into());
    let err = refused.queues(&QueueSelector::All).await.unwrap_err();
    seen.push(format!(
        "{err} {err:?} {err:#?} {:?}",
        std::error::Error::source(&err)
    ));
    let err = refused.check_credentials().await.unwrap_err();
    seen.push(format!("{err} {err:?}"));
    let failing = start(SimConfig {
        fail_rate: 1.0,
        ..sim_config()
    })
    .await;
    let exhausted = real_client(&failing, |c| {
        c.max_attempts = 2;
        c.initial_backoff = Duration::from_millis(1);
    });
    let err = exhausted.tallies(&q).await.unwrap_err();
    seen.push(format!("{err} {err:?} {err:#?}"));

    let logs = logs.text();
    assert!(logs.contains("obtained an access token"), "{logs}");
    assert!(logs.contains("token refused, renewing it"), "{logs}");
    assert!(logs.contains("status=401"), "{logs}");
    assert!(logs.contains("correlation_id="), "{logs}");
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{SECRET}", sim.config().client_id));
    for text in seen.iter().chain([&logs]) {
        assert!(!text.contains(SECRET), "the secret leaked into: {text}");
        assert!(
            !text.contains(&basic),
            "the Basic credentials leaked into: {text}"
        );
        assert!(
            !text.contains("Bearer "),
            "a bearer header leaked into: {text}"
        );
        let token = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .find(|w| looks_like_a_token(w));
        assert!(token.is_none(), "a token-like value {token:?} in: {text}");
    }
}
