//! Access control when `SLA_HTTP_TOKEN` is set: a bearer token for `/api/*`, the same token as
//! the HTTP Basic password for the dashboard (so a browser on a wallboard can log in), and when
//! `SLA_HTTP_METRICS_TOKEN` is set, that one as a bearer token for `/metrics`; every token is
//! compared in constant time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;

use crate::error::ApiError;
use crate::state::AppState;

const BEARER_CHALLENGE: &str = "Bearer realm=\"sla\"";
const BASIC_CHALLENGE: &str = "Basic realm=\"sla\", charset=\"UTF-8\"";
/// Both challenges, Bearer first, for the API paths the wallboard's script reads.
const WALLBOARD_CHALLENGE: &str = "Bearer realm=\"sla\", Basic realm=\"sla\", charset=\"UTF-8\"";

/// Whether `path` is under `/api`, where the bearer token is wanted.
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The API paths the wallboard's own script reads. A browser cannot add a bearer token to an
/// `EventSource`, but it does send the Basic login of the page with it, so these accept that too.
const WALLBOARD_API: &[&str] = &["/api/v1/live/stream"];

/// Lets a request through when it is outside `/api`, no token is configured, or it carries
/// `Authorization: Bearer` with the token (or, on the wallboard's stream, the dashboard's Basic
/// login).
pub(crate) async fn bearer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &state.settings.token else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    if !is_api(path) {
        return next.run(request).await;
    }
    if WALLBOARD_API.contains(&path)
        && basic_password(&request)
            .is_some_and(|given| same(given.as_bytes(), token.expose_secret().as_bytes()))
    {
        return next.run(request).await;
    }
    // The wallboard's stream offers Basic too, in the dashboard's realm: a browser answers that
    // challenge with the login it holds for the page, where it would give up on Bearer alone.
    let challenge = if WALLBOARD_API.contains(&path) {
        WALLBOARD_CHALLENGE
    } else {
        BEARER_CHALLENGE
    };
    let verdict = verify(
        credential(&request, "Bearer"),
        Some(token),
        challenge,
        "invalid bearer token",
        "missing bearer token: send Authorization: Bearer <token>",
    );
    admit(verdict, request, next).await
}

/// Lets a request through when no token is configured or it carries HTTP Basic credentials
/// whose password is the token (any user name).
pub(crate) async fn basic(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let verdict = verify(
        basic_password(&request).as_deref(),
        state.settings.token.as_ref(),
        BASIC_CHALLENGE,
        "invalid password",
        "missing credentials: log in with the service's token as the password",
    );
    admit(verdict, request, next).await
}

/// Lets a request to `/metrics` through when no metrics token is configured or it carries
/// `Authorization: Bearer` with the metrics token, as Prometheus sends it.
pub(crate) async fn metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let verdict = verify(
        credential(&request, "Bearer"),
        state.settings.metrics_token.as_ref(),
        BEARER_CHALLENGE,
        "invalid bearer token",
        "missing bearer token: send Authorization: Bearer <metrics token>",
    );
    admit(verdict, request, next).await
}

/// Whether the credential `given` opens what `token` guards (anything does when no token is
/// configured): if not, the 401 to answer, with `challenge` and `invalid` for a wrong
/// credential or `missing` for none. Every guard decides the same way; only their schemes and
/// words differ.
fn verify(
    given: Option<&str>,
    token: Option<&SecretString>,
    challenge: &'static str,
    invalid: &str,
    missing: &str,
) -> Result<(), ApiError> {
    let Some(token) = token else {
        return Ok(());
    };
    match given {
        Some(given) if same(given.as_bytes(), token.expose_secret().as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::unauthorized(challenge, invalid)),
        None => Err(ApiError::unauthorized(challenge, missing)),
    }
}

/// Runs the request when `verdict` let it through, else answers the refusal.
async fn admit(verdict: Result<(), ApiError>, request: Request, next: Next) -> Response {
    match verdict {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// The password of HTTP Basic credentials (any user name).
fn basic_password(request: &Request) -> Option<String> {
    let encoded = credential(request, "Basic")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':')
        .map(|(_, password)| password.to_owned())
}

/// The credentials after `scheme` in the `Authorization` header; the scheme is matched
/// ignoring case, as RFC 9110 says.
fn credential<'a>(request: &'a Request, scheme: &str) -> Option<&'a str> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// Compares `given` with `expected` in time that depends only on the length of `expected`, so
/// response times reveal neither how much of a guess was right nor whether its length was:
/// every byte of `expected` is compared, with `subtle`'s constant-time equality.
fn same(given: &[u8], expected: &[u8]) -> bool {
    let mut equal = given.len().ct_eq(&expected.len());
    for (i, e) in expected.iter().enumerate() {
        equal &= given.get(i).copied().unwrap_or(0).ct_eq(e);
    }
    equal.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_is_everything_under_slash_api() {
        for path in ["/api", "/api/", "/api/v1/report", "/api/v9/anything"] {
            assert!(is_api(path), "{path}");
        }
        for path in ["/", "/apis", "/api-docs", "/metrics", "/readyz"] {
            assert!(!is_api(path), "{path}");
        }
    }

    #[test]
    fn comparison_needs_every_byte_and_the_length() {
        assert!(same(b"s3cret", b"s3cret"));
        assert!(!same(b"s3cres", b"s3cret"));
        assert!(!same(b"s3cre", b"s3cret"));
        assert!(!same(b"s3cret!", b"s3cret"));
        assert!(!same(b"", b"s3cret"));
        assert!(same(b"", b""));
    }
}
