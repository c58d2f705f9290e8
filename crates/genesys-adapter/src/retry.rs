//! Retries: the pure classification of an outcome, `Retry-After` parsing, backoff and
//! scheduling, plus the short send loop around them.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::config::GenesysConfig;
use crate::error::GenesysError;
use crate::metrics::Counters;
use crate::rate_limit::RateLimiter;
use crate::seams::{
    AccessToken, Clock, HttpRequest, HttpResponse, Sleep, TokenSource, Transport, TransportError,
    TransportErrorKind,
};

/// What to do after one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A 2xx response: done.
    Success,
    /// The API refused the token: renew it once and try again.
    RenewToken,
    /// A failure worth repeating.
    Retry {
        /// Why.
        kind: RetryKind,
        /// The server's `Retry-After`, when it sent a readable one.
        retry_after: Option<Duration>,
    },
    /// A failure that repeating would not fix.
    Fail,
}

/// Why an attempt is worth repeating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryKind {
    /// 429: over a rate limit.
    Throttling,
    /// 5xx: the server failed or is unavailable.
    ServerError,
    /// No response: timeout, refused or broken connection.
    Transient,
}

/// Classifies one attempt's outcome. Pure: the loop decides what to do with the verdict.
pub(crate) fn classify(outcome: &Result<HttpResponse, TransportError>) -> Verdict {
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            return match error.kind {
                TransportErrorKind::Timeout
                | TransportErrorKind::Connect
                | TransportErrorKind::Interrupted => Verdict::Retry {
                    kind: RetryKind::Transient,
                    retry_after: None,
                },
                TransportErrorKind::Other => Verdict::Fail,
            };
        }
    };
    let retry_after = || response.header("retry-after").and_then(parse_retry_after);
    match response.status {
        200..=299 => Verdict::Success,
        401 => Verdict::RenewToken,
        429 => Verdict::Retry {
            kind: RetryKind::Throttling,
            retry_after: retry_after(),
        },
        503 => Verdict::Retry {
            kind: RetryKind::ServerError,
            retry_after: retry_after(),
        },
        // 501 says the server will never do it; the other 5xx may pass on a later attempt.
        501 => Verdict::Fail,
        500..=599 => Verdict::Retry {
            kind: RetryKind::ServerError,
            retry_after: None,
        },
        _ => Verdict::Fail,
    }
}

/// Reads `Retry-After` as a number of seconds, as Genesys sends it. An HTTP date would need the
/// wall clock and Genesys does not send one, so it reads as absent and the loop backs off.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let secs = value.parse::<f64>().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// The wait before retry number `retry` (0 for the first): "full jitter" over an exponential
/// ceiling, `jitter × min(max, initial × 2^retry)`, with `jitter` in `[0, 1]`.
pub(crate) fn backoff(retry: u32, initial: Duration, max: Duration, jitter: f64) -> Duration {
    let factor = 2u32.saturating_pow(retry.min(31));
    let ceiling = initial.saturating_mul(factor).min(max);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

/// The retry budget and waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) max_total_wait: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

impl RetryPolicy {
    pub(crate) fn from_config(config: &GenesysConfig) -> Self {
        Self {
            max_attempts: config.max_attempts,
            max_total_wait: config.max_retry_wait,
            max_retry_after: config.max_retry_after,
            initial_backoff: config.initial_backoff,
            max_backoff: config.max_backoff,
        }
    }
}

/// Why the loop stops retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The server's `Retry-After` is above the ceiling.
    Throttled(Duration),
    /// No attempts or waiting time left.
    Exhausted,
}

/// The wait before the next attempt, after `attempts` attempts and `waited` spent waiting.
///
/// A `Retry-After` is honoured, plus up to a tenth of it (at most a second) of jitter so that
/// requests throttled together do not return together; without one the wait is a backoff.
pub(crate) fn schedule(
    policy: &RetryPolicy,
    retry_after: Option<Duration>,
    attempts: u32,
    waited: Duration,
    jitter: f64,
) -> Result<Duration, Stop> {
    if let Some(retry_after) = retry_after
        && retry_after > policy.max_retry_after
    {
        return Err(Stop::Throttled(retry_after));
    }
    if attempts >= policy.max_attempts {
        return Err(Stop::Exhausted);
    }
    let wait = match retry_after {
        Some(retry_after) => {
            retry_after
                + (retry_after / 10)
                    .min(Duration::from_secs(1))
                    .mul_f64(jitter.clamp(0.0, 1.0))
        }
        None => backoff(
            attempts.saturating_sub(1),
            policy.initial_backoff,
            policy.max_backoff,
            jitter,
        ),
    };
    if waited + wait > policy.max_total_wait {
        return Err(Stop::Exhausted);
    }
    Ok(wait)
}

/// Which host a request goes to: the two answer errors in different shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `api.<domain>`: bearer tokens, the client-side rate limit, `ErrorBody` errors.
    Api,
    /// `login.<domain>`: HTTP Basic, OAuth error bodies.
    Login,
}

/// Sends requests with retries, pacing API requests through the rate limiter.
#[derive(Debug)]
pub(crate) struct Sender {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) sleep: Arc<dyn Sleep>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: RetryPolicy,
    pub(crate) jitter: Option<f64>,
    pub(crate) limiter: RateLimiter,
    pub(crate) counters: Arc<Counters>,
}

impl Sender {
    fn jitter(&self) -> f64 {
        self.jitter.unwrap_or_else(fastrand::f64)
    }

    /// Sends `request` until it succeeds, fails for good, or the budget runs out. API requests
    /// carry a token from `tokens`; a 401 renews it once and tries again.
    pub(crate) async fn send(
        &self,
        request: &HttpRequest,
        endpoint: Endpoint,
        tokens: Option<&dyn TokenSource>,
    ) -> Result<HttpResponse, GenesysError> {
        let mut attempts: u32 = 0;
        let mut waited = Duration::ZERO;
        let mut renewed = false;
        let mut next_token: Option<AccessToken> = None;
        loop {
            let mut attempt = request.clone();
            let token = match tokens {
                Some(tokens) => {
                    let token = match next_token.take() {
                        Some(token) => token,
                        None => tokens.token().await?,
                    };
                    attempt.authorization = Some(token.bearer());
                    Some(token)
                }
                None => None,
            };
            let permit = match endpoint {
                Endpoint::Api => self.limiter.acquire().await,
                Endpoint::Login => None,
            };
            attempts += 1;
            let started = self.clock.now();
            let outcome = self.transport.send(attempt).await;
            drop(permit);
            let elapsed = self.clock.now().saturating_duration_since(started);
            self.record(request, &outcome, attempts, elapsed);

            let verdict = classify(&outcome);
            let outcome = match (verdict, outcome) {
                (Verdict::Success, Ok(response)) => return Ok(response),
                (_, outcome) => outcome,
            };
            match (verdict, tokens, token) {
                (Verdict::RenewToken, Some(tokens), Some(token)) if !renewed => {
                    renewed = true;
                    self.counters.retry();
                    tracing::info!(
                        request = %request.describe(),
                        attempt = attempts,
                        "token refused, renewing it and trying again"
                    );
                    next_token = Some(tokens.renew(&token).await?);
                    continue;
                }
                (Verdict::Retry { kind, retry_after }, _, _) => {
                    let last = failure(request, outcome, endpoint);
                    match schedule(&self.policy, retry_after, attempts, waited, self.jitter()) {
                        Ok(wait) => {
                            self.counters.retry();
                            tracing::warn!(
                                request = %request.describe(),
                                attempt = attempts,
                                ?kind,
                                wait_ms = millis(wait),
                                error = %last,
                                "retrying"
                            );
                            self.sleep.sleep(wait).await;
                            waited += wait;
                            continue;
                        }
                        Err(Stop::Throttled(retry_after)) => {
                            return Err(GenesysError::Throttled {
                                retry_after,
                                limit: self.policy.max_retry_after,
                                attempts,
                                last: Box::new(last),
                            });
                        }
                        Err(Stop::Exhausted) => {
                            return Err(GenesysError::RetriesExhausted {
                                attempts,
                                last: Box::new(last),
                            });
                        }
                    }
                }
                _ => {}
            }
            return Err(failure(request, outcome, endpoint));
        }
    }

    fn record(
        &self,
        request: &HttpRequest,
        outcome: &Result<HttpResponse, TransportError>,
        attempt: u32,
        elapsed: Duration,
    ) {
        let method = request.method.as_str();
        let path = request.url.path();
        match outcome {
            Ok(response) => {
                self.counters.response(response.status);
                tracing::debug!(
                    method,
                    path,
                    status = response.status,
                    attempt,
                    duration_ms = millis(elapsed),
                    correlation_id = response.header("inin-correlation-id").unwrap_or(""),
                    "genesys request"
                );
            }
            Err(error) => {
                self.counters.transport_error();
                tracing::debug!(
                    method,
                    path,
                    attempt,
                    duration_ms = millis(elapsed),
                    error = %error,
                    "genesys request got no response"
                );
            }
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Genesys's error body; everything optional, unknown fields ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    message: Option<String>,
    code: Option<String>,
    context_id: Option<String>,
    // The OAuth endpoint's shape.
    error: Option<String>,
    description: Option<String>,
    #[serde(rename = "error_description")]
    error_description: Option<String>,
}

/// The error a failed attempt stands for.
pub(crate) fn failure(
    request: &HttpRequest,
    outcome: Result<HttpResponse, TransportError>,
    endpoint: Endpoint,
) -> GenesysError {
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            return GenesysError::Transport {
                request: request.describe(),
                reason: error.message,
            };
        }
    };
    let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
    let retryable = matches!(classify(&Ok(response.clone())), Verdict::Retry { .. });
    if endpoint == Endpoint::Login && !retryable {
        // The login host speaks OAuth: `error_description` is the useful part.
        let message = [
            body.error_description,
            body.description,
            body.message,
            body.error,
        ]
        .into_iter()
        .flatten()
        .find(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "the login host refused the client credentials".to_owned());
        return GenesysError::Auth {
            status: Some(response.status),
            message,
        };
    }
    let message = body
        .message
        .or(body.error_description)
        .unwrap_or_else(|| body_excerpt(&response.body));
    GenesysError::Api {
        status: response.status,
        code: body.code.or(body.error),
        message,
        context_id: body
            .context_id
            .or_else(|| response.header("inin-correlation-id").map(str::to_owned)),
    }
}

/// The start of a body that is not Genesys's JSON (a proxy's HTML page, say), on one line.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seams::{Method, MockTokenSource};
    use crate::test_util::{InstantSleep, ManualClock, Reply, ScriptedTransport};
    use secrecy::{ExposeSecret as _, SecretString};

    #[expect(clippy::unnecessary_wraps, reason = "rows of a table of outcomes")]
    fn response(status: u16, headers: &[(&str, &str)]) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        })
    }

    fn transport(kind: TransportErrorKind) -> Result<HttpResponse, TransportError> {
        Err(TransportError {
            kind,
            message: "x".to_owned(),
        })
    }

    fn retry(kind: RetryKind, secs: Option<u64>) -> Verdict {
        Verdict::Retry {
            kind,
            retry_after: secs.map(Duration::from_secs),
        }
    }

    #[test]
    fn classification_table() {
        use RetryKind::{ServerError, Throttling, Transient};
        let table = [
            (response(200, &[]), Verdict::Success),
            (response(204, &[]), Verdict::Success),
            (response(401, &[]), Verdict::RenewToken),
            (
                response(429, &[("Retry-After", "7")]),
                retry(Throttling, Some(7)),
            ),
            (response(429, &[]), retry(Throttling, None)),
            (
                response(429, &[("retry-after", "soon")]),
                retry(Throttling, None),
            ),
            (
                response(503, &[("retry-after", "2")]),
                retry(ServerError, Some(2)),
            ),
            (response(503, &[]), retry(ServerError, None)),
            (response(500, &[]), retry(ServerError, None)),
            (response(502, &[]), retry(ServerError, None)),
            // Retry-After is only honoured on 429 and 503.
            (
                response(504, &[("retry-after", "9")]),
                retry(ServerError, None),
            ),
            (response(501, &[]), Verdict::Fail),
            (response(400, &[]), Verdict::Fail),
            (response(403, &[]), Verdict::Fail),
            (response(404, &[]), Verdict::Fail),
            (response(408, &[]), Verdict::Fail),
            (response(302, &[]), Verdict::Fail),
            (
                transport(TransportErrorKind::Timeout),
                retry(Transient, None),
            ),
            (
                transport(TransportErrorKind::Connect),
                retry(Transient, None),
            ),
            (
                transport(TransportErrorKind::Interrupted),
                retry(Transient, None),
            ),
            (transport(TransportErrorKind::Other), Verdict::Fail),
        ];
        for (outcome, expect) in table {
            assert_eq!(classify(&outcome), expect, "{outcome:?}");
        }
    }

    #[test]
    fn retry_after_parsing() {
        let table = [
            ("0", Some(Duration::ZERO)),
            ("1", Some(Duration::from_secs(1))),
            (" 42 ", Some(Duration::from_secs(42))),
            ("181", Some(Duration::from_secs(181))),
            ("1.5", Some(Duration::from_millis(1500))),
            ("-1", None),
            ("", None),
            ("NaN", None),
            ("inf", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ];
        for (text, expect) in table {
            assert_eq!(parse_retry_after(text), expect, "{text:?}");
        }
    }

    #[test]
    fn backoff_stays_within_its_exponential_ceiling() {
        let initial = Duration::from_millis(500);
        let max = Duration::from_secs(30);
        let ceilings = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];
        for (retry, ceiling) in ceilings.iter().enumerate() {
            let retry = u32::try_from(retry).unwrap();
            let ceiling = Duration::from_millis(*ceiling);
            assert_eq!(backoff(retry, initial, max, 1.0), ceiling);
            assert_eq!(backoff(retry, initial, max, 0.0), Duration::ZERO);
            assert_eq!(backoff(retry, initial, max, 0.5), ceiling / 2);
            for _ in 0..100 {
                assert!(backoff(retry, initial, max, fastrand::f64()) <= ceiling);
            }
        }
        // Out-of-range factors and huge retry counts neither overflow nor exceed the cap.
        assert_eq!(backoff(u32::MAX, initial, max, 7.0), max);
        assert_eq!(backoff(3, initial, max, -1.0), Duration::ZERO);
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            max_total_wait: Duration::from_mins(1),
            max_retry_after: Duration::from_mins(3),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
        }
    }

    #[test]
    fn scheduling_honours_retry_after_and_the_budget() {
        let p = policy();
        let secs = Duration::from_secs;
        // Retry-After wins over backoff, and jitter adds at most a tenth (capped at 1 s).
        assert_eq!(schedule(&p, Some(secs(5)), 1, secs(0), 0.0), Ok(secs(5)));
        assert_eq!(
            schedule(&p, Some(secs(5)), 1, secs(0), 1.0),
            Ok(Duration::from_millis(5500))
        );
        assert_eq!(schedule(&p, Some(secs(30)), 1, secs(0), 1.0), Ok(secs(31)));
        // Exactly the ceiling is still waited for; above it is refused at once.
        assert_eq!(
            schedule(&p, Some(secs(180)), 1, secs(0), 0.0),
            Err(Stop::Exhausted),
            "180 s is within the ceiling but beyond this policy's 60 s of waiting"
        );
        let generous = RetryPolicy {
            max_total_wait: secs(600),
            ..p
        };
        assert_eq!(
            schedule(&generous, Some(secs(180)), 1, secs(0), 0.0),
            Ok(secs(180))
        );
        assert_eq!(
            schedule(&generous, Some(secs(181)), 1, secs(0), 0.0),
            Err(Stop::Throttled(secs(181)))
        );
        // The ceiling check comes first, even with no attempts left.
        assert_eq!(
            schedule(&p, Some(secs(3600)), 4, secs(0), 0.0),
            Err(Stop::Throttled(secs(3600)))
        );
        // Backoff without Retry-After: initial × 2^(attempts − 1).
        assert_eq!(schedule(&p, None, 1, secs(0), 1.0), Ok(secs(1)));
        assert_eq!(schedule(&p, None, 2, secs(0), 1.0), Ok(secs(2)));
        assert_eq!(schedule(&p, None, 3, secs(0), 1.0), Ok(secs(4)));
        // Out of attempts, or the wait would overrun the total.
        assert_eq!(schedule(&p, None, 4, secs(0), 1.0), Err(Stop::Exhausted));
        assert_eq!(
            schedule(&p, Some(secs(10)), 2, secs(55), 0.0),
            Err(Stop::Exhausted)
        );
        assert_eq!(schedule(&p, Some(secs(5)), 2, secs(55), 0.0), Ok(secs(5)));
    }

    struct Harness {
        transport: ScriptedTransport,
        sleep: InstantSleep,
        sender: Sender,
    }

    fn harness(policy: RetryPolicy) -> Harness {
        let clock = ManualClock::new();
        let sleep = InstantSleep::new(clock.clone());
        let transport = ScriptedTransport::new();
        let sender = Sender {
            transport: Arc::new(transport.clone()),
            sleep: Arc::new(sleep.clone()),
            clock: Arc::new(clock.clone()),
            policy,
            jitter: Some(0.0),
            limiter: RateLimiter::new(1000, 4, Arc::new(clock), Arc::new(sleep.clone())),
            counters: Arc::default(),
        };
        Harness {
            transport,
            sleep,
            sender,
        }
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
        let err = h
            .sender
            .send(&request(), Endpoint::Api, Some(&fixed_tokens()))
            .await
            .unwrap_err();
        assert!(h.sleep.waits().is_empty());
        assert!(
            matches!(err, GenesysError::Throttled { attempts: 1, retry_after, .. } if retry_after == Duration::from_hours(1)),
            "{err:?}"
        );
        let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert_eq!(
            chain,
            "throttled: genesys asked to retry after 3600 s, more than the 180 s the client waits (after 1 attempt): genesys cloud answered 429 (too.many.requests.retry.after): Rate limit exceeded [contextId ctx-9]"
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
        let err = h
            .sender
            .send(&request(), Endpoint::Api, Some(&fixed_tokens()))
            .await
            .unwrap_err();
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
        let err = h
            .sender
            .send(&request(), Endpoint::Api, Some(&fixed_tokens()))
            .await
            .unwrap_err();
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
        let err = h
            .sender
            .send(&request(), Endpoint::Api, Some(&fixed_tokens()))
            .await
            .unwrap_err();
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
            [Reply::text(404, "<html>Not   Found</html>")
                .with_header("ININ-Correlation-Id", "corr-2")],
        );
        let err = h
            .sender
            .send(&request(), Endpoint::Api, Some(&fixed_tokens()))
            .await
            .unwrap_err();
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
        let mut tokens = MockTokenSource::new();
        tokens
            .expect_token()
            .times(1)
            .returning(|| Ok(token("old", 1)));
        tokens
            .expect_renew()
            .times(1)
            .returning(|_| Ok(token("new", 2)));
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
            "authentication failed with status 401: client not found"
        );
        assert_eq!(h.transport.count("/oauth/token"), 1);
    }
}
