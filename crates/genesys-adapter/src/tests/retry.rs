//! The send loop over a scripted transport: waits for `Retry-After` and backoffs, the budget of
//! attempts and waiting, token renewal after a refusal, and the errors the loop ends with.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};

use crate::error::GenesysError;
use crate::rate_limit::RateLimiter;
use crate::retry::{Endpoint, RetryPolicy, Sender};
use crate::seams::{
    AccessToken, HttpRequest, HttpResponse, Method, MockTokenSource, TransportErrorKind,
};
use crate::test_util::{InstantSleep, ManualClock, Reply, ScriptedTransport};

/// Four attempts within a minute of waiting, backoffs from 1 s up to 8 s.
pub(crate) fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        max_total_wait: Duration::from_mins(1),
        max_retry_after: Duration::from_mins(3),
        initial_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(8),
    }
}

/// A sender over a scripted transport, with instant time.
pub(crate) struct Harness {
    pub(crate) transport: ScriptedTransport,
    pub(crate) clock: ManualClock,
    pub(crate) sleep: InstantSleep,
    pub(crate) sender: Arc<Sender>,
}

impl Harness {
    /// A sender under `policy` whose backoffs are `jitter` (0 to 1) of their ceiling.
    pub(crate) fn new(policy: RetryPolicy, jitter: f64) -> Self {
        let clock = ManualClock::new();
        let sleep = InstantSleep::new(clock.clone());
        let transport = ScriptedTransport::new();
        let sender = Arc::new(Sender {
            transport: Arc::new(transport.clone()),
            sleep: Arc::new(sleep.clone()),
            clock: Arc::new(clock.clone()),
            policy,
            jitter: Some(jitter),
            limiter: RateLimiter::new(1000, 4, Arc::new(clock.clone()), Arc::new(sleep.clone())),
            counters: Arc::default(),
        });
        Self {
            transport,
            clock,
            sleep,
            sender,
        }
    }

    /// Sends [`request`] to the API host with a token that is never refused.
    async fn send(&self) -> Result<HttpResponse, GenesysError> {
        self.sender
            .send(&request(), Endpoint::Api, Some(&fixed_tokens()))
            .await
    }
}

fn harness(policy: RetryPolicy) -> Harness {
    Harness::new(policy, 0.0)
}

fn request() -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: "http://sim.test/api/v2/routing/queues".parse().unwrap(),
        authorization: None,
        content_type: None,
        body: None,
    }
}

fn token(value: &str, generation: u64) -> AccessToken {
    AccessToken {
        secret: SecretString::from(value),
        generation,
    }
}

fn fixed_tokens() -> MockTokenSource {
    let mut tokens = MockTokenSource::new();
    tokens.expect_token().returning(|| Ok(token("t1", 1)));
    tokens.expect_renew().never();
    tokens
}

/// Hands out token "old" once, and renews it once (when refused) into "new".
fn renewing_tokens() -> MockTokenSource {
    let mut tokens = MockTokenSource::new();
    tokens
        .expect_token()
        .times(1)
        .returning(|| Ok(token("old", 1)));
    tokens
        .expect_renew()
        .times(1)
        .withf(|rejected| rejected.generation == 1)
        .returning(|_| Ok(token("new", 2)));
    tokens
}

const PATH: &str = "/api/v2/routing/queues";

#[tokio::test]
async fn throttling_waits_for_retry_after_then_succeeds() {
    let h = harness(policy());
    h.transport.script(
        PATH,
        [
            Reply::status(429).with_header("Retry-After", "3"),
            Reply::status(503).with_header("Retry-After", "1"),
            Reply::status(502),
            Reply::json(200, &serde_json::json!({"entities": []})),
        ],
    );
    let tokens = fixed_tokens();
    let got = h
        .sender
        .send(&request(), Endpoint::Api, Some(&tokens))
        .await;
    assert_eq!(got.unwrap().status, 200);
    // Retry-After twice, then a backoff with jitter pinned to zero.
    let secs = Duration::from_secs;
    assert_eq!(h.sleep.waits(), [secs(3), secs(1), Duration::ZERO]);
    let stats = h.sender.counters.snapshot();
    assert_eq!(stats.retries, 3);
    assert_eq!(
        stats.requests_by_status.into_iter().collect::<Vec<_>>(),
        [(200, 1), (429, 1), (502, 1), (503, 1)]
    );
    // Every attempt carried the bearer token.
    for sent in h.transport.requests() {
        assert_eq!(sent.authorization.unwrap().expose_secret(), "Bearer t1");
    }
}

#[tokio::test]
async fn retry_after_above_the_ceiling_is_not_waited_for() {
    let h = harness(policy());
    h.transport.script(
        PATH,
        [Reply::genesys_error(
            429,
            "too.many.requests.retry.after",
            "Rate limit exceeded",
            "ctx-9",
        )
        .with_header("Retry-After", "3600")],
    );
    let err = h.send().await.unwrap_err();
    assert!(h.sleep.waits().is_empty());
    assert!(
        matches!(err, GenesysError::Throttled { attempts: 1, retry_after, .. } if retry_after == Duration::from_hours(1)),
        "{err:?}"
    );
    let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert_eq!(
        chain,
        "throttled: genesys asked to retry after 3600 s, more than the 180 s the client waits: genesys cloud answered 429 (too.many.requests.retry.after): Rate limit exceeded [contextId ctx-9]"
    );
}

#[tokio::test]
async fn exhausted_budget_reports_the_attempts_and_the_last_error() {
    let h = harness(policy());
    h.transport.script(
        PATH,
        [
            Reply::error(TransportErrorKind::Connect),
            Reply::status(500),
        ],
    );
    let err = h.send().await.unwrap_err();
    assert_eq!(h.transport.count(PATH), 4);
    assert_eq!(h.sleep.waits().len(), 3);
    assert_eq!(err.to_string(), "the last of 4 attempts failed");
    let GenesysError::RetriesExhausted { attempts: 4, last } = err else {
        panic!("{err:?}");
    };
    assert!(
        matches!(*last, GenesysError::Api { status: 500, .. }),
        "{last:?}"
    );
    let stats = h.sender.counters.snapshot();
    assert_eq!((stats.transport_errors, stats.retries), (1, 3));
}

#[tokio::test]
async fn total_wait_budget_stops_the_loop_before_sleeping_past_it() {
    let h = harness(RetryPolicy {
        max_total_wait: Duration::from_secs(10),
        max_attempts: 100,
        ..policy()
    });
    h.transport
        .script(PATH, [Reply::status(429).with_header("Retry-After", "4")]);
    let err = h.send().await.unwrap_err();
    // 4 + 4 = 8 s waited; a third wait would make 12 s.
    assert_eq!(h.sleep.total(), Duration::from_secs(8));
    assert!(
        matches!(err, GenesysError::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn other_client_errors_fail_at_once_with_genesys_details() {
    let h = harness(policy());
    h.transport.script(
        PATH,
        [
            Reply::genesys_error(400, "bad.request", "Invalid interval", "ctx-1")
                .with_header("ININ-Correlation-Id", "corr-1"),
        ],
    );
    let err = h.send().await.unwrap_err();
    assert_eq!(h.transport.count(PATH), 1);
    assert!(h.sleep.waits().is_empty());
    assert_eq!(
        err.to_string(),
        "genesys cloud answered 400 (bad.request): Invalid interval [contextId ctx-1]"
    );
}

#[tokio::test]
async fn correlation_header_stands_in_for_a_missing_context_id() {
    let h = harness(policy());
    h.transport.script(
        PATH,
        [
            Reply::text(404, "<html>Not   Found</html>")
                .with_header("ININ-Correlation-Id", "corr-2"),
        ],
    );
    let err = h.send().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "genesys cloud answered 404: <html>Not Found</html> [contextId corr-2]"
    );
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_request_repeated() {
    let h = harness(policy());
    h.transport.script(
        PATH,
        [Reply::status(401), Reply::json(200, &serde_json::json!({}))],
    );
    let tokens = renewing_tokens();
    let got = h
        .sender
        .send(&request(), Endpoint::Api, Some(&tokens))
        .await;
    assert_eq!(got.unwrap().status, 200);
    let sent: Vec<String> = h
        .transport
        .requests()
        .into_iter()
        .map(|r| r.authorization.unwrap().expose_secret().to_owned())
        .collect();
    assert_eq!(sent, ["Bearer old", "Bearer new"]);
    assert!(h.sleep.waits().is_empty());
}

#[tokio::test]
async fn a_second_refusal_fails_as_unauthorized() {
    let h = harness(policy());
    h.transport.script(
        PATH,
        [Reply::genesys_error(
            401,
            "bad.credentials",
            "Invalid login credentials.",
            "ctx-4",
        )],
    );
    let tokens = renewing_tokens();
    let err = h
        .sender
        .send(&request(), Endpoint::Api, Some(&tokens))
        .await
        .unwrap_err();
    assert_eq!(h.transport.count(PATH), 2);
    assert!(
        matches!(err, GenesysError::Api { status: 401, .. }),
        "{err:?}"
    );
    let source: sla_core::ports::SourceError = err.into();
    assert!(matches!(
        source,
        sla_core::ports::SourceError::Unauthorized(_)
    ));
}

#[tokio::test]
async fn login_errors_become_auth_errors_with_the_oauth_description() {
    let h = harness(policy());
    h.transport.script(
            "/oauth/token",
            [Reply::json(
                401,
                &serde_json::json!({"error": "invalid_client", "description": "client not found", "error_description": "client not found"}),
            )],
        );
    let mut req = request();
    req.url = "http://sim.test/oauth/token".parse().unwrap();
    let err = h
        .sender
        .send(&req, Endpoint::Login, None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "authentication failed with status 401: client not found; check \
         GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET"
    );
    assert_eq!(h.transport.count("/oauth/token"), 1);
}

#[tokio::test]
async fn a_login_host_that_cannot_be_reached_is_named_as_the_login() {
    let transport = ScriptedTransport::new();
    transport.script(
        crate::tests::TOKEN_PATH,
        [Reply::error(TransportErrorKind::Connect)],
    );
    let (client, _, _) = crate::tests::client(&transport, |c| c.max_attempts = 2);
    let err = client.check_credentials().await.unwrap_err();
    let chain = crate::tests::shared::chain(&err);
    assert!(
        chain.contains("request POST /oauth/token failed: cannot reach the login host: "),
        "{chain}"
    );
    assert_eq!(transport.count(crate::tests::TOKEN_PATH), 2);
}

#[tokio::test]
async fn a_login_host_that_refuses_connections_is_given_up_after_two_attempts() {
    // A wrong region or API base: the whole retry budget would only delay the message.
    let transport = ScriptedTransport::new();
    transport.script(
        crate::tests::TOKEN_PATH,
        [Reply::error(TransportErrorKind::Connect)],
    );
    let (client, _, _) = crate::tests::client(&transport, |c| c.max_attempts = 8);
    let err = client.check_credentials().await.unwrap_err();
    assert_eq!(err.to_string(), "the last of 2 attempts failed");
    assert_eq!(transport.count(crate::tests::TOKEN_PATH), 2);

    // Only refusals in a row count: a host that was busy, then refused one connection while
    // it restarted, is tried again and answers.
    let transport = ScriptedTransport::new();
    transport.script(
        crate::tests::TOKEN_PATH,
        [
            Reply::status(503),
            Reply::status(503),
            Reply::error(TransportErrorKind::Connect),
            Reply::token("tok", 86_400),
        ],
    );
    let (client, _, _) = crate::tests::client(&transport, |c| c.max_attempts = 8);
    client.check_credentials().await.unwrap();
    assert_eq!(transport.count(crate::tests::TOKEN_PATH), 4);

    // A login host that answers 503 is up but busy: it keeps the whole budget.
    let transport = ScriptedTransport::new();
    transport.script(crate::tests::TOKEN_PATH, [Reply::status(503)]);
    let (client, _, _) = crate::tests::client(&transport, |c| c.max_attempts = 4);
    client.check_credentials().await.unwrap_err();
    assert_eq!(transport.count(crate::tests::TOKEN_PATH), 4);
}
