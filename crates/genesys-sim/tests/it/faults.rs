//! Faults on demand (rate limit, throttling, failures, latency), unknown routes, gzip and counters.

use std::time::Duration;

use genesys_sim::SimConfig;
use serde_json::json;

use crate::support::{Reply, request_token, start, test_config};

const QUEUES: &str = "/api/v2/routing/queues";

fn retry_after(reply: &Reply) -> u64 {
    reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[track_caller]
fn assert_429(reply: &Reply) -> u64 {
    let body = reply.expect_error(429, "Rate limit exceeded the maximum");
    assert_eq!(body["code"], "too.many.requests.retry.after");
    assert_eq!(body["details"], json!([]));
    assert_eq!(body["errors"], json!([]));
    let seconds = retry_after(reply);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with(&format!("Retry the request in [{seconds}] seconds"))
    );
    seconds
}

#[tokio::test]
async fn the_per_token_limit_answers_429_until_the_window_ends() {
    let t = start(SimConfig {
        rate_limit_per_min: Some(3),
        ..test_config()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(t.get(QUEUES).await.status.as_u16(), 200);
    }
    let seconds = assert_429(&t.get(QUEUES).await);
    assert!((1..=60).contains(&seconds), "{seconds}");

    // Another token has its own budget, and the token endpoint is never limited.
    let other = request_token(&t.client, &t.sim.base_url(), "sim-client", "sim-secret").await;
    let other = other.expect(200, "OAuthTokenResponse")["access_token"].clone();
    assert_eq!(t.get_as(QUEUES, other.as_str()).await.status.as_u16(), 200);

    t.sim.advance_clock(Duration::from_secs(59));
    assert_eq!(assert_429(&t.get(QUEUES).await), 1);
    t.sim.advance_clock(Duration::from_secs(1));
    assert_eq!(t.get(QUEUES).await.status.as_u16(), 200);
}

#[tokio::test]
async fn throttling_uses_the_configured_retry_after() {
    let t = start(SimConfig {
        throttle_rate: 1.0,
        retry_after_s: 7,
        ..test_config()
    })
    .await;
    assert_eq!(assert_429(&t.get(QUEUES).await), 7);
    let query =
        json!({"interval": "2026-03-10T00:00:00Z/2026-03-11T00:00:00Z", "metrics": ["nOffered"]});
    assert_eq!(assert_429(&t.aggregates(&query).await), 7);
}

#[tokio::test]
async fn random_faults_are_deterministic_from_the_seed() {
    let config = SimConfig {
        throttle_rate: 0.2,
        fail_rate: 0.2,
        ..test_config()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let t = start(config.clone()).await;
        let mut statuses = Vec::new();
        for _ in 0..40 {
            let reply = t.get(QUEUES).await;
            match reply.status.as_u16() {
                200 => {}
                429 => {
                    assert_429(&reply);
                }
                status => {
                    reply.expect_error(status, "");
                }
            }
            statuses.push(reply.status.as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    for status in [200, 429, 503] {
        assert!(runs[0].contains(&status), "{status} in {:?}", runs[0]);
    }
}

#[tokio::test]
async fn failures_are_503_or_500_error_bodies() {
    let t = start(SimConfig {
        fail_rate: 1.0,
        ..test_config()
    })
    .await;
    let mut seen = Vec::new();
    for _ in 0..20 {
        let reply = t.get(QUEUES).await;
        let status = reply.status.as_u16();
        assert!(status == 503 || status == 500, "{status}");
        reply.expect_error(status, "");
        seen.push(status);
    }
    assert!(seen.contains(&503));
    // Tokens are still issued.
    let token = request_token(&t.client, &t.sim.base_url(), "sim-client", "sim-secret").await;
    token.expect(200, "OAuthTokenResponse");
}

#[tokio::test(start_paused = true)]
async fn latency_delays_api_answers_only() {
    let t = start(SimConfig {
        latency_ms: 1_500,
        ..test_config()
    })
    .await;
    let before = tokio::time::Instant::now();
    assert_eq!(t.get(QUEUES).await.status.as_u16(), 200);
    assert!(before.elapsed() >= Duration::from_millis(1_500));
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let t = start(test_config()).await;
    let invented = "/api/v2/analytics/queues/summary/query";
    let reply = t.post(invented, &json!({"interval": "x"})).await;
    reply.expect_error(404, &format!("POST {invented}"));
    // No token needed to learn that a path does not exist.
    t.get_as("/api/v2/nothing/here", None)
        .await
        .expect_error(404, "GET /api/v2/nothing/here");
    t.get("/api/v2/analytics/conversations/aggregates/query")
        .await
        .expect_error(405, "GET");
}

#[tokio::test]
async fn gzip_when_asked_and_counters() {
    let t = start(test_config()).await;
    let query = json!({
        "interval": "2026-03-10T00:00:00Z/2026-03-11T00:00:00Z",
        "paging": {"pageSize": 100, "pageNumber": 1},
    });
    let raw = t
        .client
        .post(t.url("/api/v2/analytics/conversations/details/query"))
        .bearer_auth(&t.token)
        .header("accept-encoding", "gzip")
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-encoding"], "gzip");
    assert!(raw.headers().contains_key("inin-correlation-id"));

    // A client that decompresses gets the same JSON.
    let gzip_client = reqwest::Client::new();
    let reply = gzip_client
        .post(t.url("/api/v2/analytics/conversations/details/query"))
        .bearer_auth(&t.token)
        .json(&query)
        .send()
        .await
        .unwrap();
    Reply::from_response(reply)
        .await
        .expect(200, "AnalyticsConversationQueryResponse");

    assert_eq!(t.sim.api_requests(), 2);
    assert_eq!(t.sim.token_requests(), 1);
    let paths = t.sim.requests_by_path();
    assert_eq!(
        paths.get("POST /api/v2/analytics/conversations/details/query"),
        Some(&2)
    );
    assert_eq!(t.sim.responses_by_status().get(&200), Some(&3));
}
