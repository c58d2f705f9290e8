//! The token endpoint and bearer-token checks, including expiry without waiting.

use std::time::Duration;

use genesys_sim::SimConfig;
use serde_json::Value;

use crate::support::{Reply, assert_valid, request_token, start, test_config};

const QUEUES: &str = "/api/v2/routing/queues";

#[tokio::test]
async fn token_is_opaque_and_typed_bearer() {
    let t = start(test_config()).await;
    let reply = request_token(&t.client, &t.sim.base_url(), "sim-client", "sim-secret").await;
    let body = reply.expect(200, "OAuthTokenResponse");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_400);
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 32 && token != t.token);
    assert!(reply.headers.contains_key("inin-correlation-id"));
    assert_eq!(t.sim.token_requests(), 2);
}

#[track_caller]
fn assert_oauth_error(reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status.as_u16(), status, "{:#}", reply.body);
    // The OAuth error is not an ErrorBody, but nothing in it contradicts one either.
    assert_valid("ErrorBody", &reply.body);
    assert_eq!(reply.body["error"], error);
    assert!(reply.body["description"].is_string());
    assert!(reply.body["error_description"].is_string());
}

#[tokio::test]
async fn bad_or_misplaced_credentials_are_invalid_client() {
    let t = start(test_config()).await;
    let base = t.sim.base_url();
    let wrong = request_token(&t.client, &base, "sim-client", "wrong").await;
    assert_oauth_error(&wrong, 401, "invalid_client");

    // Credentials in the form body instead of HTTP Basic are not accepted.
    let in_body = t
        .client
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=sim-client&client_secret=sim-secret")
        .send()
        .await
        .unwrap();
    assert_oauth_error(&Reply::from_response(in_body).await, 401, "invalid_client");

    let wrong_grant = t
        .client
        .post(format!("{base}/oauth/token"))
        .basic_auth("sim-client", Some("sim-secret"))
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    assert_oauth_error(
        &Reply::from_response(wrong_grant).await,
        400,
        "unsupported_grant_type",
    );
}

#[tokio::test]
async fn custom_credentials_and_lifetime_apply() {
    let config = SimConfig {
        client_id: "alice".into(),
        client_secret: "s3cret".into(),
        token_ttl_s: 5,
        ..test_config()
    };
    let sim = genesys_sim::SimServer::start(config).await.unwrap();
    let client = reqwest::Client::new();
    let ok = request_token(&client, &sim.base_url(), "alice", "s3cret").await;
    assert_eq!(ok.expect(200, "OAuthTokenResponse")["expires_in"], 5);
    let old = request_token(&client, &sim.base_url(), "sim-client", "sim-secret").await;
    assert_eq!(old.status.as_u16(), 401);
    sim.stop().await;
}

#[tokio::test]
async fn api_calls_need_a_valid_bearer_token() {
    let t = start(test_config()).await;
    let missing = t.get_as(QUEUES, None).await;
    let body = missing.expect_error(401, "bearer token");
    assert_eq!(body["code"], "authentication.required");

    let unknown = t.get_as(QUEUES, Some("not-a-token")).await;
    assert_eq!(
        unknown.expect_error(401, "credentials")["code"],
        "bad.credentials"
    );

    let basic = t
        .client
        .get(t.url(QUEUES))
        .basic_auth("sim-client", Some("sim-secret"))
        .send()
        .await
        .unwrap();
    Reply::from_response(basic)
        .await
        .expect_error(401, "bearer token");

    assert_eq!(t.get(QUEUES).await.status.as_u16(), 200);
}

#[tokio::test]
async fn tokens_expire_on_the_simulator_clock() {
    let t = start(SimConfig {
        token_ttl_s: 60,
        ..test_config()
    })
    .await;
    assert_eq!(t.get(QUEUES).await.status.as_u16(), 200);
    t.sim.advance_clock(Duration::from_secs(59));
    assert_eq!(t.get(QUEUES).await.status.as_u16(), 200);
    t.sim.advance_clock(Duration::from_secs(1));
    let expired = t.get(QUEUES).await;
    assert_eq!(
        expired.expect_error(401, "credentials")["code"],
        "bad.credentials"
    );
    // A fresh token works again.
    let fresh = request_token(&t.client, &t.sim.base_url(), "sim-client", "sim-secret").await;
    let token: Value = fresh.expect(200, "OAuthTokenResponse")["access_token"].clone();
    let again = t.get_as(QUEUES, token.as_str()).await;
    assert_eq!(again.status.as_u16(), 200);
}

#[tokio::test(start_paused = true)]
async fn tokens_expire_with_paused_tokio_time() {
    let t = start(SimConfig {
        // Generous, so that paused time auto-advancing over idle connection timers cannot
        // expire the token early.
        token_ttl_s: 3_600,
        ..test_config()
    })
    .await;
    assert_eq!(t.get(QUEUES).await.status.as_u16(), 200);
    tokio::time::advance(Duration::from_secs(3_601)).await;
    t.get(QUEUES).await.expect_error(401, "credentials");
}
