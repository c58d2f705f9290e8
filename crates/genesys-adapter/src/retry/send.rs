//! The send loop: one attempt after another, each paced by the rate limiter and carrying a
//! fresh token, until the policy says the outcome is final or the budget is spent.

use std::sync::Arc;
use std::time::Duration;

use crate::error::GenesysError;
use crate::metrics::Counters;
use crate::rate_limit::RateLimiter;
use crate::retry::failure::failure;
use crate::retry::policy::{RetryPolicy, Stop, Verdict, classify, schedule};
use crate::seams::{
    AccessToken, Clock, HttpRequest, HttpResponse, Sleep, TokenSource, Transport, TransportError,
    TransportErrorKind,
};

/// Attempts in a row at a login host that cannot be connected to, whatever the retry budget.
const LOGIN_CONNECT_ATTEMPTS: u32 = 2;

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
        // Login attempts in a row that could not connect.
        let mut refused: u32 = 0;
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
                    let unreachable_login = endpoint == Endpoint::Login
                        && matches!(&outcome, Err(e) if e.kind == TransportErrorKind::Connect);
                    refused = if unreachable_login { refused + 1 } else { 0 };
                    let last = failure(request, outcome, endpoint);
                    // A login host that refuses the connection or does not resolve is nearly
                    // always a wrong region or API base: say so after a second try, not after
                    // the whole budget (half a minute of backoff) has been spent on it.
                    if refused >= LOGIN_CONNECT_ATTEMPTS {
                        return Err(GenesysError::RetriesExhausted {
                            attempts,
                            last: Box::new(last),
                        });
                    }
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
