//! Tokens and the guard in front of every `/api/v2` route: latency, bearer-token checks, a per-token
//! rate limit, and random 429s and 5xx on demand.
//!
//! Token expiry and rate-limit windows read [`Clock`], which is tokio's clock (so paused-time tests
//! control it) plus an offset that [`crate::SimServer::advance_clock`] moves, so tests can expire
//! tokens or close a window without sleeping.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use tokio::time::Instant;

use crate::{error::ApiError, routes::AppState};

const RATE_WINDOW: Duration = Duration::from_mins(1);

/// The simulator's notion of "now" for tokens and rate limits.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_ms: AtomicU64,
}

impl Clock {
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct TokenState {
    expires: Instant,
    window_start: Instant,
    window_count: u32,
}

/// Issued access tokens with their expiry and rate-limit window.
#[derive(Debug)]
pub(crate) struct Tokens {
    live: Mutex<HashMap<String, TokenState>>,
    /// Every token ever issued, expired ones included, so tests can look for leaks.
    issued: Mutex<Vec<String>>,
    rng: Mutex<fastrand::Rng>,
}

impl Tokens {
    pub(crate) fn new() -> Self {
        Tokens {
            live: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
            // Tokens are not derived from the seed: a restarted simulator must not honour
            // tokens a client cached from an earlier run.
            rng: Mutex::new(fastrand::Rng::new()),
        }
    }

    pub(crate) fn issue(&self, now: Instant, ttl: Duration) -> String {
        let mut bytes = [0_u8; 32];
        self.rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let state = TokenState {
            expires: now + ttl,
            window_start: now,
            window_count: 0,
        };
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.clone(), state);
        self.issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(token.clone());
        token
    }

    /// Every token issued so far.
    pub(crate) fn issued(&self) -> Vec<String> {
        self.issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Checks a bearer token and counts the request against its per-minute limit.
    fn admit(&self, token: &str, now: Instant, limit: Option<u32>) -> Result<(), ApiError> {
        let mut tokens = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(state) = tokens.get_mut(token) else {
            return Err(bad_credentials());
        };
        if now >= state.expires {
            tokens.remove(token);
            return Err(bad_credentials());
        }
        let Some(limit) = limit else {
            return Ok(());
        };
        if now.duration_since(state.window_start) >= RATE_WINDOW {
            state.window_start = now;
            state.window_count = 0;
        }
        if state.window_count >= limit {
            // Retry-After is the real time left in the window, rounded up, never 0.
            let left = (state.window_start + RATE_WINDOW).duration_since(now);
            let seconds = left.as_millis().div_ceil(1000).max(1);
            return Err(ApiError::too_many_requests(
                u64::try_from(seconds).unwrap_or(60),
            ));
        }
        state.window_count += 1;
        Ok(())
    }
}

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad.credentials",
        "Invalid login credentials.",
    )
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The guard in front of `/api/v2` routes, in the order Genesys would apply them: latency,
/// authentication, the token's rate limit, then random throttling and failures.
pub(crate) async fn guard(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let config = &state.config;
    if config.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(config.latency_ms)).await;
    }
    let Some(token) = bearer(&request) else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication.required",
            "No authentication bearer token specified in authorization header.",
        )
        .into_response();
    };
    if let Err(e) = state
        .tokens
        .admit(token, state.clock.now(), config.rate_limit_per_min)
    {
        return e.into_response();
    }
    if let Some(fault) = random_fault(&state) {
        return fault.into_response();
    }
    next.run(request).await
}

/// Draws the random throttling and failures; the draws come from a seeded stream, so a given
/// sequence of requests meets the same faults on every run.
fn random_fault(state: &AppState) -> Option<ApiError> {
    let config = &state.config;
    if config.throttle_rate <= 0.0 && config.fail_rate <= 0.0 {
        return None;
    }
    let mut rng = state
        .fault_rng
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if config.throttle_rate > 0.0 && rng.f64() < config.throttle_rate {
        return Some(ApiError::too_many_requests(config.retry_after_s));
    }
    if config.fail_rate > 0.0 && rng.f64() < config.fail_rate {
        // Mostly 503 (overloaded), sometimes a bare 500, as a struggling upstream would answer.
        return Some(if rng.u8(..4) == 0 {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal.server.error",
                "The server encountered an unexpected condition.",
            )
        } else {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service.unavailable",
                "Service temporarily unavailable, please retry.",
            )
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tokens_expire_and_windows_reset() {
        let tokens = Tokens::new();
        let t0 = Instant::now();
        let token = tokens.issue(t0, Duration::from_mins(2));
        assert!(tokens.admit(&token, t0, Some(2)).is_ok());
        assert!(tokens.admit(&token, t0, Some(2)).is_ok());
        let limited = tokens
            .admit(&token, t0 + Duration::from_millis(100), Some(2))
            .unwrap_err();
        assert_eq!(limited.retry_after_s, Some(60));
        let later = t0 + Duration::from_millis(59_500);
        assert_eq!(
            tokens
                .admit(&token, later, Some(2))
                .unwrap_err()
                .retry_after_s,
            Some(1)
        );
        assert!(tokens.admit(&token, t0 + RATE_WINDOW, Some(2)).is_ok());
        let expired = tokens.admit(&token, t0 + Duration::from_mins(2), None);
        assert_eq!(expired.unwrap_err().code, "bad.credentials");
        assert_eq!(tokens.admit("nope", t0, None).unwrap_err().status, 401);
    }
}
