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
    /// Boxed: it is rare, and errors travel in `Result`s that should stay small.
    upstream: Option<Box<UpstreamDetail>>,
    challenge: Option<&'static str>,
    /// Seconds for a `Retry-After` header.
    retry_after: Option<u32>,
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
            retry_after: None,
        }
    }

    /// A bad query parameter (400). Values the client sent are echoed in quotes; long ones are
    /// cut short, so an error never repeats a huge query back.
    pub(crate) fn parameter(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            code,
            shorten_quoted(&message.into()),
        )
    }

    /// Invalid input, named by sla-core (400).
    pub(crate) fn input(error: &SlaError) -> Self {
        Self::parameter(input_code(error), api_wording(&error.to_string()))
    }

    /// 400 for a bad value of the query parameter `name`, naming it.
    pub(crate) fn parameter_value(name: &str, error: &SlaError) -> Self {
        Self::parameter(
            input_code(error),
            format!("parameter '{name}': {}", api_wording(&error.to_string())),
        )
    }

    /// A failing port (502), with Genesys's details when the adapter's error rides along.
    pub(crate) fn source(error: &SourceError) -> Self {
        let message = chain(error);
        tracing::warn!(error = %message, "upstream failure");
        // The upstream's addresses stay in the log: the client needs what went wrong, not
        // where the service connects.
        let mut this = Self::new(StatusCode::BAD_GATEWAY, "upstream", redact_urls(&message));
        this.upstream = Some(Box::new(upstream_detail(error)));
        this
    }

    /// Too many reports are being fetched at once to start another (503); the client may
    /// retry shortly.
    pub(crate) fn busy() -> Self {
        let mut this = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too many reports are being fetched at once: try again shortly",
        );
        this.retry_after = Some(BUSY_RETRY_AFTER_SECS);
        this
    }

    /// The live stream has as many subscribers as it may take (503); the client may retry later.
    pub(crate) fn too_many_subscribers(max: usize) -> Self {
        let mut this = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_subscribers",
            format!(
                "the live stream has {max} subscribers, as many as it takes: try again later, \
                 or raise --max-live-subscribers"
            ),
        );
        this.retry_after = Some(SUBSCRIBERS_RETRY_AFTER_SECS);
        this
    }

    /// The service watches no queue, so it has no live figures of its own (400).
    pub(crate) fn not_watching() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "no_queues",
            "no queues are watched: start sla-http with --queue, --queue-name or --all-queues, \
             or name queues with the queue parameter",
        )
    }

    /// The live figures have not been read yet (503); the client may retry shortly.
    pub(crate) fn live_not_ready(reason: Option<&str>) -> Self {
        let message = match reason {
            Some(reason) => format!("no live figures yet: {reason}"),
            None => "no live figures yet: the first refresh has not finished".to_owned(),
        };
        let mut this = Self::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message);
        this.retry_after = Some(BUSY_RETRY_AFTER_SECS);
        this
    }

    /// The machine-readable code.
    #[cfg(test)]
    pub(crate) fn code(&self) -> &'static str {
        self.code
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
                upstream: self.upstream.as_deref(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// How long a client answered `busy` is asked to wait.
const BUSY_RETRY_AFTER_SECS: u32 = 2;

/// How long a client turned away from the full live stream is asked to wait.
const SUBSCRIBERS_RETRY_AFTER_SECS: u32 = 30;

/// The longest echoed value, in characters.
const MAX_ECHOED_CHARS: usize = 200;

/// Cuts every single-quoted part of `message` (where sla-core and the parameter reader echo
/// the value they refuse) to [`MAX_ECHOED_CHARS`] characters, marking the cut with `…`.
fn shorten_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut parts = message.split('\'');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        out.push('\'');
        // Odd-numbered parts sit between quotes.
        if i % 2 == 0 && part.chars().count() > MAX_ECHOED_CHARS {
            out.extend(part.chars().take(MAX_ECHOED_CHARS));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

/// `text` with every `http://` or `https://` address removed, and reqwest's "for url (...)"
/// phrase with it: what the client is told about a failure, whose full text goes to the log.
pub(crate) fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let before = &rest[..at];
        let after = &rest[at..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ']'))
            .unwrap_or(after.len());
        let tail = &after[end..];
        if let (Some(phrase), Some(closed)) =
            (before.strip_suffix(" for url ("), tail.strip_prefix(')'))
        {
            out.push_str(phrase);
            rest = closed;
        } else {
            out.push_str(before);
            out.push_str("[address]");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
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
        SlaError::InvalidTime(_) => "invalid_time",
        SlaError::ConflictingWindow(_) => "conflicting_window",
        SlaError::EmptyWindow { .. } => "empty_window",
        SlaError::WindowTooLong { .. } => "window_too_long",
        SlaError::UnknownTimeZone(_) => "unknown_time_zone",
        SlaError::InvalidPercent(_) => "invalid_percent",
        SlaError::InvalidLiveWindow(_) => "invalid_window",
        SlaError::UnknownQueue(_)
        | SlaError::UnknownQueueId(_)
        | SlaError::UnknownObjectiveQueue { .. } => "unknown_queue",
        SlaError::NoMatchingQueue(_) => "no_matching_queue",
        SlaError::NoQueues => "no_queues",
        SlaError::QueueNameTooLong { .. } => "queue_name_too_long",
        SlaError::TooMany { .. } => "too_many",
        SlaError::ReportTooLarge { .. } => "report_too_large",
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
///
/// The whole chain is walked and the innermost adapter error wins: a retry wrapper only says
/// how many attempts were made, while the error it holds is Genesys's last answer (status,
/// message, contextId) or the transport failure (connection refused, timeout, ...). Without
/// an adapter error, the innermost cause speaks.
fn upstream_detail(error: &SourceError) -> UpstreamDetail {
    let mut innermost: &(dyn StdError + 'static) = error;
    let mut genesys: Option<&GenesysError> = None;
    let mut next: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(e) = next {
        innermost = e;
        // The adapter boxes the errors it wraps, and a box is an error of its own type.
        if let Some(found) = e
            .downcast_ref::<GenesysError>()
            .or_else(|| e.downcast_ref::<Box<GenesysError>>().map(AsRef::as_ref))
        {
            genesys = Some(found);
        }
        next = e.source();
    }
    match genesys {
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
            message: redact_urls(&other.to_string()),
            context_id: None,
        },
        None => UpstreamDetail {
            status: None,
            message: redact_urls(&innermost.to_string()),
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
            &exhausted(5, api(503)),
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

    /// What the client gives after `attempts` attempts that all failed, the last with `last`.
    fn exhausted(attempts: u32, last: GenesysError) -> SourceError {
        SourceError::Unavailable {
            attempts,
            source: Box::new(GenesysError::RetriesExhausted {
                attempts,
                last: Box::new(last),
            }),
        }
    }

    fn transport(reason: &str) -> GenesysError {
        GenesysError::Transport {
            request: "POST /api/v2/analytics/conversations/aggregates/query".to_owned(),
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn upstream_details_look_through_the_retry_wrapper() {
        // Unreachable until the budget ran out: the transport's words, not the attempt count.
        check(
            &exhausted(8, transport("connection refused (os error 111)")),
            (
                None,
                "request POST /api/v2/analytics/conversations/aggregates/query failed: connection refused (os error 111)",
                None,
            ),
        );
        // Failing until the budget ran out: Genesys's last answer, status and contextId kept.
        check(
            &exhausted(8, api(502)),
            (Some(502), "Service temporarily unavailable", Some("ctx-42")),
        );
        // The address the client failed to reach stays in the log.
        let error = exhausted(
            8,
            transport(
                "error sending request for url (https://api.example.test/api/v2/analytics/conversations/aggregates/query): \
                     client error (Connect): tcp connect error: Connection refused (os error 111)",
            ),
        );
        check(
            &error,
            (
                None,
                "request POST /api/v2/analytics/conversations/aggregates/query failed: error sending request: \
                 client error (Connect): tcp connect error: Connection refused (os error 111)",
                None,
            ),
        );
        let body = ApiError::source(&error);
        assert!(!body.message.contains("example.test"), "{}", body.message);
        assert!(
            body.message.contains("Connection refused"),
            "{}",
            body.message
        );
    }

    #[test]
    fn addresses_are_removed_from_public_messages() {
        let cases = [
            (
                "error sending request for url (http://127.0.0.1:9/oauth/token): connection refused",
                "error sending request: connection refused",
            ),
            (
                "see https://login.example.test/x and http://a.test",
                "see [address] and [address]",
            ),
            ("no address here", "no address here"),
        ];
        for (text, expect) in cases {
            assert_eq!(redact_urls(text), expect);
        }
    }

    #[test]
    fn echoed_values_are_cut_to_two_hundred_characters() {
        let long = "x".repeat(5_000);
        let message = format!("invalid from '{long}': expected a date, not '{long}'");
        let short = ApiError::parameter("invalid_time", message).message;
        let cut = format!("'{}…'", "x".repeat(200));
        assert_eq!(
            short,
            format!("invalid from {cut}: expected a date, not {cut}")
        );
        let kept = "unknown queue 'Nope': no queue has that name";
        assert_eq!(ApiError::parameter("unknown_queue", kept).message, kept);
    }

    #[test]
    fn messages_name_api_parameters_rather_than_flags() {
        let cases = [
            (
                SlaError::NoQueues,
                "no queues selected: name them with queue, queue_name or all_queues=true",
            ),
            (
                SlaError::InvalidTime("yesterday-ish".to_owned()),
                "invalid date or instant 'yesterday-ish': expected a date like 2024-05-01 or an RFC 3339 instant like 2024-05-01T08:00:00Z",
            ),
            (
                SlaError::ConflictingWindow("--to needs --from".to_owned()),
                "to needs from",
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
