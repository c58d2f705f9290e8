//! The error a failed attempt stands for: Genesys's error body on the API host, the OAuth error
//! on the login host, a request that could not be built, or the transport's failure.

use std::fmt::Write as _;

use serde::Deserialize;

use crate::error::{GenesysError, shorten};
use crate::retry::policy::{Verdict, classify};
use crate::retry::send::Endpoint;
use crate::seams::{HttpRequest, HttpResponse, TransportError, TransportErrorKind};

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
        Err(error) if error.kind == TransportErrorKind::Invalid => {
            return GenesysError::InvalidRequest {
                request: request.describe(),
                reason: error.message,
            };
        }
        Err(error) => {
            // A login host that cannot be reached is the first thing a wrong region or API
            // base runs into: say it is the login that failed, and where it was tried.
            let reason = if endpoint == Endpoint::Login {
                format!("cannot reach the login host: {}", error.message)
            } else {
                error.message
            };
            return GenesysError::Transport {
                request: request.describe(),
                reason,
            };
        }
    };
    let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
    let retryable = matches!(classify(&Ok(response.clone())), Verdict::Retry { .. });
    if endpoint == Endpoint::Login && !retryable {
        return login_refusal(&response, body);
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

/// The login host's refusal. It speaks OAuth, so `error_description` is the useful part. When
/// it says the credentials are wrong, the message says where they come from; and it names
/// Genesys's correlation id, which Genesys support asks for.
fn login_refusal(response: &HttpResponse, body: ErrorBody) -> GenesysError {
    let credentials_refused = response.status == 401
        || matches!(
            body.error.as_deref(),
            Some("invalid_client" | "unauthorized_client")
        );
    let mut message = [
        body.error_description, body.description, body.message, body.error,
    ]
    .into_iter()
    .flatten()
    .find(|m| !m.trim().is_empty())
    .unwrap_or_else(|| "the login host refused the client credentials".to_owned());
    if credentials_refused {
        message.push_str(CHECK_CREDENTIALS);
    }
    if let Some(id) = response.header("inin-correlation-id") {
        let _ = write!(message, " [correlationId {id}]");
    }
    GenesysError::Auth {
        status: Some(response.status),
        message,
    }
}

/// Where refused credentials come from: the variables the binaries (and Genesys's own SDKs)
/// read them from.
const CHECK_CREDENTIALS: &str =
    "; check GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET";

/// The start of a body that is not Genesys's JSON (a proxy's HTML page, say), on one line.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    shorten(&line, 200).into_owned()
}
