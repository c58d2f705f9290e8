//! `ApiError`: every failure as a status and a JSON body `{"error": {"code", "message"}}`.
//!
//! Bad input is 400 and says what to fix; an upstream failure is 502 with Genesys's status,
//! message and contextId; anything else is a plain 500 whose cause goes to the log only.

use std::error::Error as StdError;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use genesys_adapter::GenesysError;
use serde::Serialize;
use sla_core::ports::SourceError;
use sla_core::{ServiceError, SlaError};

/// What went wrong, as the client sees it.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    upstream: Option<UpstreamDetail>,
    challenge: Option<&'static str>,
}

/// The upstream's own account of a failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct UpstreamDetail {
    /// The HTTP status Genesys answered with, when it answered.
    status: Option<u16>,
    /// Genesys's message, or what went wrong on the way.
    message: String,
    /// Genesys's `contextId` (or correlation id), for its support.
    context_id: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: BodyError<'a>,
}

#[derive(Serialize)]
struct BodyError<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream: Option<&'a UpstreamDetail>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            upstream: None,
            challenge: None,
        }
    }

    /// A bad query parameter (400).
    pub(crate) fn parameter(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Invalid input, named by sla-core (400).
    pub(crate) fn input(error: &SlaError) -> Self {
        Self::parameter(input_code(error), api_wording(&error.to_string()))
    }

    /// A failing port (502), with Genesys's details when the adapter's error rides along.
    pub(crate) fn source(error: &SourceError) -> Self {
        let message = chain(error);
        tracing::warn!(error = %message, "upstream failure");
        let mut this = Self::new(StatusCode::BAD_GATEWAY, "upstream", message);
        this.upstream = Some(upstream_detail(error));
        this
    }

    /// What `fetch_report` and its parts fail with.
    pub(crate) fn service(error: &ServiceError) -> Self {
        match error {
            ServiceError::Input(e) => Self::input(e),
            ServiceError::Source(e) => Self::source(e),
        }
    }

    /// An unexpected failure (500); the cause goes to the log only.
    pub(crate) fn internal(error: &dyn StdError) -> Self {
        tracing::error!(error = %chain(error), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// An unexpected failure described in words (500); the words go to the log only.
    pub(crate) fn internal_message(what: &str) -> Self {
        tracing::error!(error = what, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// Missing or wrong credentials (401). `challenge` is the `WWW-Authenticate` value.
    pub(crate) fn unauthorized(challenge: &'static str, message: &str) -> Self {
        let mut this = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        this.challenge = Some(challenge);
        this
    }

    /// Any status without a more specific cause: unknown routes, methods, oversized bodies,
    /// timeouts.
    pub(crate) fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body too large"),
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => {
                ("timeout", "the request took too long")
            }
            s if s.is_client_error() => ("bad_request", "bad request"),
            _ => ("internal", "internal error"),
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: BodyError {
                code: self.code,
                message: &self.message,
                upstream: self.upstream.as_ref(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// The machine-readable code of an input error.
fn input_code(error: &SlaError) -> &'static str {
    match error {
        SlaError::InvalidDuration(_) => "invalid_duration",
        SlaError::InvalidThreshold(_) => "invalid_threshold",
        SlaError::InvalidMediaType(_) => "invalid_media_type",
        SlaError::InvalidAbandonPolicy(_) => "invalid_abandons",
        SlaError::InvalidFlowOutPolicy(_) => "invalid_flowouts",
        SlaError::InvalidGranularity(_) => "invalid_granularity",
        SlaError::InvalidSource(_) => "invalid_source",
        SlaError::InvalidPeriod(_) => "invalid_period",
        SlaError::InvalidTime { .. } => "invalid_time",
        SlaError::ConflictingWindow(_) => "conflicting_window",
        SlaError::EmptyWindow { .. } => "empty_window",
        SlaError::WindowTooLong { .. } => "window_too_long",
        SlaError::UnknownTimeZone(_) => "unknown_time_zone",
        SlaError::InvalidPercent(_) => "invalid_percent",
        SlaError::UnknownQueue(_) => "unknown_queue",
        SlaError::NoMatchingQueue(_) => "no_matching_queue",
        SlaError::NoQueues => "no_queues",
        SlaError::TooMany { .. } => "too_many",
        SlaError::DuplicateObjective(_) => "duplicate_objective",
        SlaError::InvalidConfig(_) => "invalid_config",
        _ => "invalid_input",
    }
}

/// sla-core words its messages for the command line; the API names its parameters instead.
fn api_wording(message: &str) -> String {
    const WORDS: [(&str, &str); 9] = [
        ("--queue-name", "queue_name"),
        ("--all-queues", "all_queues=true"),
        ("--queue", "queue"),
        ("--from", "from"),
        ("--to", "to"),
        ("--period", "period"),
        ("--threshold", "threshold"),
        ("--tz", "tz"),
        ("`sla queues`", "/api/v1/queues"),
    ];
    WORDS.iter().fold(message.to_owned(), |text, (cli, api)| {
        text.replace(cli, api)
    })
}

/// The error and its sources on one line, as `{:#}` prints an anyhow chain.
pub(crate) fn chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        text.push_str(": ");
        text.push_str(&e.to_string());
        next = e.source();
    }
    text
}

/// Genesys's status, message and contextId, from the adapter's error in the source chain.
fn upstream_detail(error: &SourceError) -> UpstreamDetail {
    let mut found: Option<&GenesysError> = None;
    let mut next: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(e) = next {
        // The adapter boxes the errors it wraps, and a box is an error of its own type.
        let genesys = e
            .downcast_ref::<GenesysError>()
            .or_else(|| e.downcast_ref::<Box<GenesysError>>().map(AsRef::as_ref));
        if let Some(genesys) = genesys {
            // The innermost API answer is the most specific: a retry wrapper holds the last
            // response Genesys gave.
            let is_answer = matches!(
                genesys,
                GenesysError::Api { .. } | GenesysError::Auth { .. }
            );
            if found.is_none() || is_answer {
                found = Some(genesys);
            }
            if is_answer {
                break;
            }
        }
        next = e.source();
    }
    match found {
        Some(GenesysError::Api {
            status,
            message,
            context_id,
            ..
        }) => UpstreamDetail {
            status: Some(*status),
            message: message.clone(),
            context_id: context_id.clone(),
        },
        Some(GenesysError::Auth { status, message }) => UpstreamDetail {
            status: *status,
            message: message.clone(),
            context_id: None,
        },
        Some(other) => UpstreamDetail {
            status: None,
            message: other.to_string(),
            context_id: None,
        },
        None => UpstreamDetail {
            status: None,
            message: error
                .source()
                .map_or_else(|| error.to_string(), ToString::to_string),
            context_id: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn api(status: u16) -> GenesysError {
        GenesysError::Api {
            status,
            code: Some("service.unavailable".to_owned()),
            message: "Service temporarily unavailable".to_owned(),
            context_id: Some("ctx-42".to_owned()),
        }
    }

    #[track_caller]
    fn check(error: &SourceError, expect: (Option<u16>, &str, Option<&str>)) {
        let detail = upstream_detail(error);
        assert_eq!(
            (
                detail.status,
                detail.message.as_str(),
                detail.context_id.as_deref()
            ),
            expect
        );
    }

    #[test]
    fn upstream_details_come_from_the_innermost_genesys_answer() {
        check(
            &SourceError::Unavailable {
                attempts: 5,
                source: Box::new(GenesysError::RetriesExhausted {
                    attempts: 5,
                    last: Box::new(api(503)),
                }),
            },
            (Some(503), "Service temporarily unavailable", Some("ctx-42")),
        );
        check(
            &SourceError::Unavailable {
                attempts: 1,
                source: Box::new(GenesysError::Throttled {
                    retry_after: Duration::from_mins(10),
                    limit: Duration::from_mins(3),
                    attempts: 1,
                    last: Box::new(api(429)),
                }),
            },
            (Some(429), "Service temporarily unavailable", Some("ctx-42")),
        );
        check(
            &SourceError::Unauthorized(Box::new(GenesysError::Auth {
                status: Some(401),
                message: "invalid_client".to_owned(),
            })),
            (Some(401), "invalid_client", None),
        );
        check(
            &SourceError::Unavailable {
                attempts: 1,
                source: Box::new(GenesysError::Transport {
                    request: "POST /api/v2/analytics/conversations/aggregates/query".to_owned(),
                    reason: "connection refused".to_owned(),
                }),
            },
            (
                None,
                "request POST /api/v2/analytics/conversations/aggregates/query failed: connection refused",
                None,
            ),
        );
        check(
            &SourceError::Other("disk on fire".into()),
            (None, "disk on fire", None),
        );
    }

    #[test]
    fn messages_name_api_parameters_rather_than_flags() {
        let cases = [
            (
                SlaError::NoQueues,
                "no queues selected: name them with queue, queue_name or all_queues=true",
            ),
            (
                SlaError::InvalidTime {
                    field: "--from",
                    value: "yesterday-ish".to_owned(),
                },
                "invalid from 'yesterday-ish': expected a date like 2024-05-01 or an RFC 3339 instant like 2024-05-01T08:00:00Z",
            ),
            (
                SlaError::UnknownQueue("Nope".to_owned()),
                "unknown queue 'Nope': no queue has that name (see /api/v1/queues)",
            ),
        ];
        for (error, expect) in cases {
            assert_eq!(api_wording(&error.to_string()), expect);
        }
    }
}
